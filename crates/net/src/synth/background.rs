//! Bulk background traffic for benchmarks: many ordinary flows (TLS, HTTP, DNS, SSH, opaque
//! UDP) with a few mining sessions mixed in, written straight to a file so the size is not
//! bounded by memory.

use super::frames;
use super::sessions::{T0, corpus};
use super::writer::CaptureWriter;
use crate::decode::linktype;
use std::io::Write;

use minewatch_model::rng::Rng;

const HTTP_REQ: &[u8] = b"GET /static/app.js HTTP/1.1\r\nHost: cdn.example.com\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64)\r\nAccept: */*\r\nAccept-Encoding: gzip\r\n\r\n";

/// Writes about `target_bytes` of capture to `out` (classic pcap, Ethernet) and returns the
/// number of packets written. The mining scenarios of [`corpus`] are mixed in once.
pub fn write_background(out: &mut dyn Write, target_bytes: u64, seed: u64) -> std::io::Result<u64> {
    let mut rng = Rng::new(seed | 1);
    let mut w = CaptureWriter::ethernet_pcap();
    let mut written = 0u64;
    let mut packets = 0u64;
    let mut t = T0;
    // Mining sessions first, interleaved in time with the rest by their own timestamps: they
    // start at T0 and last minutes, the background runs on from T0 too.
    let mut mining: Vec<(i64, Vec<u8>)> = corpus()
        .into_iter()
        .filter(|s| s.truth.mining && s.linktype == linktype::ETHERNET)
        .flat_map(|s| s.frames)
        .collect();
    mining.sort_by_key(|f| f.0);
    let mut mi = 0;
    let payload_pool: Vec<u8> = (0..4096).map(|_| rng.next_u64() as u8).collect();
    let mut flow_id: u32 = 0;
    while written < target_bytes {
        flow_id = flow_id.wrapping_add(1);
        let client = [
            10,
            (flow_id >> 16) as u8,
            (flow_id >> 8) as u8,
            flow_id as u8,
        ];
        let server = [198, 51, (rng.below(100)) as u8, (rng.below(250) + 1) as u8];
        let cport = 1024 + (rng.below(60_000)) as u16;
        let kind = rng.below(100);
        let mut frames_out: Vec<Vec<u8>> = Vec::new();
        match kind {
            // DNS query and answer.
            0..=14 => {
                let q = &payload_pool[..40 + rng.below(30) as usize];
                frames_out.push(frames::ethernet(&frames::ipv4_udp(
                    client,
                    [192, 0, 2, 53],
                    cport,
                    53,
                    q,
                )));
                let a = &payload_pool[100..200 + rng.below(200) as usize];
                frames_out.push(frames::ethernet(&frames::ipv4_udp(
                    [192, 0, 2, 53],
                    client,
                    53,
                    cport,
                    a,
                )));
            }
            // QUIC-like opaque UDP burst.
            15..=29 => {
                for k in 0..(10 + rng.below(40)) {
                    let len = 60 + rng.below(1200) as usize;
                    let p = &payload_pool[(k as usize * 7) % 2000..][..len];
                    let (s, d, sp, dp) = if k % 3 == 0 {
                        (client, server, cport, 443)
                    } else {
                        (server, client, 443, cport)
                    };
                    frames_out.push(frames::ethernet(&frames::ipv4_udp(s, d, sp, dp, p)));
                }
            }
            // TCP: TLS mostly, some HTTP and SSH.
            _ => {
                let (dport, first_up, first_down): (u16, Vec<u8>, Vec<u8>) = match kind {
                    30..=79 => {
                        let mut hello = vec![0x16, 0x03, 0x01, 0x01, 0xfc, 0x01, 0x00, 0x01, 0xf8, 0x03, 0x03];
                        hello.extend_from_slice(&payload_pool[..500]);
                        (443, hello, vec![0x16, 0x03, 0x03, 0x00, 0x5a, 0x02])
                    }
                    80..=94 => (80, HTTP_REQ.to_vec(), b"HTTP/1.1 200 OK\r\nContent-Type: application/javascript\r\nContent-Length: 90000\r\n\r\n".to_vec()),
                    _ => (22, b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n".to_vec(), b"SSH-2.0-OpenSSH_8.4p1\r\n".to_vec()),
                };
                let mut cs = rng.next_u64() as u32;
                let mut ss = rng.next_u64() as u32;
                frames_out.push(frames::eth_ipv4_tcp(
                    client, server, cport, dport, cs, 0x02, b"",
                ));
                frames_out.push(frames::eth_ipv4_tcp(
                    server, client, dport, cport, ss, 0x12, b"",
                ));
                cs = cs.wrapping_add(1);
                ss = ss.wrapping_add(1);
                frames_out.push(frames::ethernet(&frames::ipv4_tcp_ack(
                    client, server, cport, dport, cs, ss, 0x10, b"",
                )));
                frames_out.push(frames::ethernet(&frames::ipv4_tcp_ack(
                    client, server, cport, dport, cs, ss, 0x18, &first_up,
                )));
                cs = cs.wrapping_add(first_up.len() as u32);
                frames_out.push(frames::ethernet(&frames::ipv4_tcp_ack(
                    server,
                    client,
                    dport,
                    cport,
                    ss,
                    cs,
                    0x18,
                    &first_down,
                )));
                ss = ss.wrapping_add(first_down.len() as u32);
                for _ in 0..(5 + rng.below(60)) {
                    let len = 1400 - rng.below(200) as usize;
                    let p = &payload_pool[rng.below(2000) as usize..][..len];
                    frames_out.push(frames::ethernet(&frames::ipv4_tcp_ack(
                        server, client, dport, cport, ss, cs, 0x10, p,
                    )));
                    ss = ss.wrapping_add(len as u32);
                    if rng.below(4) == 0 {
                        frames_out.push(frames::ethernet(&frames::ipv4_tcp_ack(
                            client, server, cport, dport, cs, ss, 0x10, b"",
                        )));
                    }
                }
                frames_out.push(frames::ethernet(&frames::ipv4_tcp_ack(
                    client, server, cport, dport, cs, ss, 0x11, b"",
                )));
                frames_out.push(frames::ethernet(&frames::ipv4_tcp_ack(
                    server,
                    client,
                    dport,
                    cport,
                    ss,
                    cs.wrapping_add(1),
                    0x11,
                    b"",
                )));
            }
        }
        for f in frames_out {
            while mi < mining.len() && mining[mi].0 <= t {
                w.packet(mining[mi].0, 0, &mining[mi].1);
                mi += 1;
                packets += 1;
            }
            t += 20_000 + rng.below(200_000) as i64;
            w.packet(t, 0, &f);
            packets += 1;
        }
        let chunk = w.drain();
        written += chunk.len() as u64;
        out.write_all(&chunk)?;
    }
    for (ts, f) in &mining[mi..] {
        w.packet(*ts, 0, f);
        packets += 1;
    }
    out.write_all(&w.drain())?;
    Ok(packets)
}
