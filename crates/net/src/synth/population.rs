//! A capture shaped like a link's population, for the speed benchmark (issue 15): most flows a
//! few packets, a few elephants, all overlapping in time; DNS, scans, lone datagrams and IP
//! fragments; thousands of mining sessions, most of them probes that connect, subscribe and
//! leave. [`super::background`] wrote long flows one after another with a dozen miners, which
//! the scan decides about after their first bytes: 7.9× ndpiReader there, 0.71× measured from
//! outside on real traffic.
//!
//! Where each proportion comes from:
//! - **Flow lengths**, packets in one direction: the empirical distribution of 4.0 billion
//!   NetFlow records at the Internet-facing interface of AGH University's campus network (30
//!   days, June 2015; Jurkiewicz, Rzym and Boryło, "Flow length and size distributions in
//!   campus Internet traffic", Computer Communications 167, 2021, arXiv:1809.03486; the table
//!   of the `agh_201506` model in their flow-models repository): 47.8 % of flows are one
//!   packet, 74.9 % at most four, 97.3 % at most a hundred, 0.55 % over a thousand. Drawn from
//!   that table, log-linear between its points ([`LENGTHS`]), cut at [`LONGEST`] packets: the
//!   0.55 % of flows past it carry 86 % of the campus's packets, and a capture of a few hundred
//!   megabytes would be a few dozen of them (past its first bytes the scan costs such a flow a
//!   table lookup a packet; it is the many short flows that cost). So the capture holds the
//!   campus's flows, and fewer of its bytes than the campus did in elephants: a flow of more
//!   than one packet has 37 on average (`flow_lengths_follow_the_campus_table` holds it), where
//!   the campus's records averaged 79 packets a flow.
//! - **Packet sizes**: full segments (1,400 bytes of payload) inside a transfer, the last one
//!   short; requests and one-packet flows small. The campus table's mean packet is 871 bytes;
//!   this capture's, cut as above, about 1,000 (430,144,238 bytes in 421,317 records at 400
//!   MB, docs/PERFORMANCE.md).
//! - **One-packet flows**: a DNS lookup (question and answer, two one-packet flows), a probe of
//!   a closed port (SYN, answered by RST) or a lone datagram (time, discovery), in equal parts:
//!   no published split was found; the three are what a border sees of them.
//! - **TCP and UDP**: of the longer flows, three in four TCP and one in four UDP on port 443
//!   (QUIC); an assumption, stated as one.
//! - **Mining**: as measured from outside on a capture built from real ones (issue 15: 1.74 M
//!   packets, 168,000 TCP flows, 49,500 mining sessions holding a quarter of the packets,
//!   20,000 IP fragments): about three in ten TCP connections are mining sessions, nine in ten
//!   of them probes (connect, `mining.subscribe`, the answer, close: the measured sessions held
//!   nine packets each on average) and a tenth full sessions
//!   ([`super::sessions::site_session`]: Bitcoin ASICs, Litecoin rigs, XMRig), their minutes
//!   compressed into seconds; about 1.2 % of the packets are fragments of large UDP datagrams.

use super::frames;
use super::sessions::{SiteSession, T0, site_session};
use super::tcp::{Conversation, Dir, Shape};
use super::writer::CaptureWriter;
use minewatch_model::rng::Rng;
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr};

/// Flow length in packets (one direction) and the share of flows at most that long: AGH
/// campus, June 2015 (module docs).
pub const LENGTHS: [(f64, f64); 10] = [
    (1.0, 0.478_326),
    (2.0, 0.653_421),
    (4.0, 0.748_933),
    (8.0, 0.841_319),
    (10.0, 0.865_086),
    (100.0, 0.973_478),
    (1_000.0, 0.994_544),
    (10_000.0, 0.998_922),
    (100_000.0, 0.999_896),
    (1_000_000.0, 0.999_998),
];

/// The longest flow written, packets.
pub const LONGEST: u64 = 1_000;

/// Share of TCP connections that are mining sessions (module docs: 49,500 of 168,000).
const MINING_SHARE: f64 = 0.29;
/// Of those, the share that are probes: connect, subscribe, leave.
const PROBE_SHARE: f64 = 0.9;
/// Share of UDP datagrams of a longer UDP flow that are too large for the path and fragmented.
const FRAGMENTED_SHARE: f64 = 0.02;

/// Bytes of capture gathered before they are sorted by time and written.
const EPOCH_BYTES: u64 = 16 << 20;
/// Flows of one epoch start within this span, ns.
const EPOCH_SPAN_NS: i64 = 1_000_000_000;
/// Hosts on the inside of the link.
const HOSTS: u64 = 20_000;

/// What was written.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Population {
    /// Packets (frames) written.
    pub packets: u64,
    /// Bytes of capture written.
    pub bytes: u64,
    /// TCP connections that are not mining.
    pub tcp_connections: u64,
    /// UDP flows of more than one packet each way (QUIC-like).
    pub udp_flows: u64,
    /// DNS lookups (a question and its answer).
    pub dns_lookups: u64,
    /// Probes of a closed port (SYN, RST).
    pub port_probes: u64,
    /// Lone datagrams without an answer.
    pub lone_datagrams: u64,
    /// Mining probes: connect, subscribe, the answer, close.
    pub mining_probes: u64,
    /// Full mining sessions.
    pub mining_sessions: u64,
    /// Packets inside mining probes and sessions.
    pub mining_packets: u64,
    /// IP fragments.
    pub fragments: u64,
}

/// A flow length drawn from [`LENGTHS`], log-linear between its points, at most [`LONGEST`].
pub fn flow_length(rng: &mut Rng) -> u64 {
    let u = rng.unit();
    let mut prev = (1.0f64, 0.0f64);
    for &(len, share) in &LENGTHS {
        if u <= share {
            if len <= 1.0 {
                return 1;
            }
            let f = (u - prev.1) / (share - prev.1);
            let l = (prev.0.ln() + f * (len.ln() - prev.0.ln())).exp();
            return (l.ceil() as u64).clamp(1, LONGEST);
        }
        prev = (len, share);
    }
    LONGEST
}

/// One epoch's frames, kept with their times until written in order.
struct Epoch {
    frames: Vec<(i64, Vec<u8>)>,
    bytes: u64,
}

impl Epoch {
    fn push(&mut self, t: i64, f: Vec<u8>) {
        self.bytes += f.len() as u64 + 16;
        self.frames.push((t, f));
    }
}

fn v4(a: IpAddr) -> [u8; 4] {
    match a {
        IpAddr::V4(a) => a.octets(),
        IpAddr::V6(_) => [0; 4],
    }
}

/// The inside host `n`, 10.0.0.0/8.
fn host(n: u64) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(10, (n >> 16) as u8, (n >> 8) as u8, n as u8))
}

/// A server on the outside, 198.18.0.0/15 (RFC 2544's benchmarking range).
fn server(rng: &mut Rng) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(
        198,
        18 + rng.below(2) as u8,
        rng.below(256) as u8,
        1 + rng.below(254) as u8,
    ))
}

const RESOLVER: [u8; 4] = [192, 0, 2, 53];

/// Writes about `target_bytes` of capture (classic pcap, Ethernet, microseconds) to `out`.
pub fn write_population(
    out: &mut dyn Write,
    target_bytes: u64,
    seed: u64,
) -> std::io::Result<Population> {
    let mut rng = Rng::new(seed | 1);
    let mut w = CaptureWriter::ethernet_pcap();
    let payload: Vec<u8> = (0..4096).map(|_| rng.next_u64() as u8).collect();
    let mut p = Population::default();
    let mut t0 = T0;
    // Frames of earlier epochs later than the current one's end, written when their time comes.
    let mut pending: Vec<(i64, Vec<u8>)> = Vec::new();
    let mut written = 0u64;
    while written < target_bytes {
        let mut e = Epoch {
            frames: std::mem::take(&mut pending),
            bytes: 0,
        };
        while e.bytes < EPOCH_BYTES {
            let start = t0 + rng.below(EPOCH_SPAN_NS as u64) as i64;
            conversation(&mut rng, &payload, start, &mut e, &mut p);
        }
        e.frames.sort_by_key(|f| f.0);
        t0 += EPOCH_SPAN_NS;
        let cut = e.frames.partition_point(|f| f.0 < t0);
        pending = e.frames.split_off(cut);
        for (t, f) in &e.frames {
            w.packet(*t, 0, f);
            p.packets += 1;
        }
        let chunk = w.drain();
        written += chunk.len() as u64;
        out.write_all(&chunk)?;
    }
    for (t, f) in &pending {
        w.packet(*t, 0, f);
        p.packets += 1;
    }
    let chunk = w.finish();
    written += chunk.len() as u64;
    out.write_all(&chunk)?;
    p.bytes = written;
    Ok(p)
}

/// Where and when a flow starts, and its length in packets one way.
#[derive(Clone, Copy)]
struct Start {
    client: IpAddr,
    cport: u16,
    len: u64,
    at: i64,
}

/// One conversation starting at `start`, its frames into `e`.
fn conversation(rng: &mut Rng, payload: &[u8], start: i64, e: &mut Epoch, p: &mut Population) {
    let client = host(rng.below(HOSTS));
    let cport = 1024 + rng.below(64_000) as u16;
    let len = flow_length(rng);
    let flow = Start {
        client,
        cport,
        len,
        at: start,
    };
    if len == 1 {
        match rng.below(3) {
            0 => dns_lookup(rng, flow, e, p),
            1 => {
                // A probe of a closed port: SYN, RST.
                let (s, c) = (v4(server(rng)), v4(client));
                let port = [23, 445, 3389, 8080][rng.below(4) as usize];
                let seq = rng.next_u64() as u32;
                e.push(
                    start,
                    frames::eth_ipv4_tcp(c, s, cport, port, seq, 0x02, b""),
                );
                e.push(
                    start + 30_000_000,
                    frames::eth_ipv4_tcp(s, c, port, cport, 0, 0x14, b""),
                );
                p.port_probes += 1;
            }
            _ => {
                let (s, c) = (v4(server(rng)), v4(client));
                let n = 48 + rng.below(150) as usize;
                let port = [123, 1900, 5353, 137][rng.below(4) as usize];
                e.push(
                    start,
                    frames::ethernet(&frames::ipv4_udp(c, s, cport, port, &payload[..n])),
                );
                p.lone_datagrams += 1;
            }
        }
        return;
    }
    if rng.unit() < 0.25 {
        return udp_flow(rng, payload, flow, e, p);
    }
    if rng.unit() < MINING_SHARE {
        return mining(rng, flow, e, p);
    }
    tcp_connection(rng, payload, flow, e);
    p.tcp_connections += 1;
}

/// A DNS question and its answer (two one-packet flows).
fn dns_lookup(rng: &mut Rng, flow: Start, e: &mut Epoch, p: &mut Population) {
    let (client, cport, start) = (flow.client, flow.cport, flow.at);
    let names = [
        "www.example.com",
        "cdn.example.net",
        "api.example.org",
        "mail.example.com",
        "img.example.net",
    ];
    let name = names[rng.below(names.len() as u64) as usize];
    let id = rng.next_u64() as u16;
    let c = v4(client);
    let q = super::dns::query(id, name);
    let a = super::dns::response(id, name, None, &[server(rng)]);
    e.push(
        start,
        frames::ethernet(&frames::ipv4_udp(c, RESOLVER, cport, 53, &q)),
    );
    e.push(
        start + 2_000_000 + rng.below(20_000_000) as i64,
        frames::ethernet(&frames::ipv4_udp(RESOLVER, c, 53, cport, &a)),
    );
    p.dns_lookups += 1;
}

/// A UDP conversation on port 443 (QUIC-like): `len` datagrams down, a third as many up; now
/// and then one too large for the path, cut into fragments.
fn udp_flow(rng: &mut Rng, payload: &[u8], flow: Start, e: &mut Epoch, p: &mut Population) {
    let (client, cport, len, start) = (flow.client, flow.cport, flow.len, flow.at);
    let (c, s) = (v4(client), v4(server(rng)));
    let gap = 200_000 + rng.below(3_000_000) as i64;
    let mut t = start;
    for k in 0..len + len / 3 {
        let up = k % 4 == 3;
        let big = !up && rng.unit() < FRAGMENTED_SHARE;
        let n = if big {
            2_000 + rng.below(2_000) as usize
        } else if up {
            40 + rng.below(60) as usize
        } else {
            1_200 + rng.below(150) as usize
        };
        let body: Vec<u8> = payload
            .iter()
            .cycle()
            .skip(k as usize % 512)
            .take(n)
            .copied()
            .collect();
        let ip = if up {
            frames::ipv4_udp(c, s, cport, 443, &body)
        } else {
            frames::ipv4_udp(s, c, 443, cport, &body)
        };
        if big {
            for f in frames::fragment_ipv4(&ip, 1_480, rng.next_u64() as u16, false) {
                e.push(t, frames::ethernet(&f));
                p.fragments += 1;
            }
        } else {
            e.push(t, frames::ethernet(&ip));
        }
        t += gap;
    }
    p.udp_flows += 1;
}

/// A TCP connection: handshake, the client's first bytes (TLS, HTTP or SSH), `len` segments
/// down with an ACK for every second (delayed ACKs, RFC 1122 §4.2.3.2), the closing FINs.
fn tcp_connection(rng: &mut Rng, payload: &[u8], flow: Start, e: &mut Epoch) {
    let (client, cport, len, start) = (flow.client, flow.cport, flow.len, flow.at);
    let (first, port): (Vec<u8>, u16) = match rng.below(10) {
        0..=6 => {
            let mut hello = vec![
                0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03,
            ];
            hello.extend_from_slice(&payload[..400 + rng.below(100) as usize]);
            (hello, 443)
        }
        7..=8 => (
            b"GET /index.html HTTP/1.1\r\nHost: www.example.com\r\nAccept: */*\r\n\r\n".to_vec(),
            80,
        ),
        _ => (b"SSH-2.0-OpenSSH_9.6\r\n".to_vec(), 22),
    };
    let mut c = Conversation::new((client, cport), (server(rng), port), Shape::default());
    c.open(start);
    let gap = 100_000 + rng.below(2_000_000) as i64;
    let mut t = start + 60_000_000;
    c.send(t, Dir::Up, &[first]);
    // `len` segments down: the first few answer the request (a few hundred bytes each), the
    // rest of a long transfer full.
    let mut down = Vec::with_capacity(len as usize);
    for k in 0..len.saturating_sub(1) {
        let n = if k < 3 {
            200 + rng.below(1_000) as usize
        } else {
            1_400
        };
        down.push(
            payload
                .iter()
                .cycle()
                .skip(k as usize % 1024)
                .take(n)
                .copied()
                .collect::<Vec<u8>>(),
        );
    }
    for (k, seg) in down.chunks(2).enumerate() {
        t += gap;
        c.send(t, Dir::Down, seg);
        if k % 8 == 7 {
            // A client's own bytes now and then (a further request).
            c.send(t + gap / 2, Dir::Up, &[payload[..60].to_vec()]);
        }
    }
    c.close(t + gap);
    for (t, f) in c.frames {
        e.push(t, f);
    }
}

/// A mining session: a probe (connect, subscribe, the pool's answer, close) or a full session.
fn mining(rng: &mut Rng, flow: Start, e: &mut Epoch, p: &mut Population) {
    let (client, cport, start) = (flow.client, flow.cport, flow.at);
    let pool = IpAddr::V4(Ipv4Addr::new(203, 0, 113, 1 + rng.below(60) as u8));
    let port = [3333, 4444, 14444, 8008][rng.below(4) as usize];
    let before = e.frames.len();
    if rng.unit() < PROBE_SHARE {
        let mut c = Conversation::new((client, cport), (pool, port), Shape::default());
        c.open(start);
        let agents = [
            "cpuminer/2.5.1",
            "cgminer/4.11.1",
            "bmminer/2.0.0",
            "NiceHash/1.0.0",
        ];
        let agent = agents[rng.below(agents.len() as u64) as usize];
        let sub = format!(r#"{{"id":1,"method":"mining.subscribe","params":["{agent}"]}}"#);
        let reply = format!(
            r#"{{"id":1,"result":[[["mining.set_difficulty","{0:016x}"],["mining.notify","{0:016x}"]],"{1:08x}",4],"error":null}}"#,
            rng.next_u64(),
            rng.next_u64() as u32
        );
        c.send(
            start + 60_000_000,
            Dir::Up,
            &[format!("{sub}\n").into_bytes()],
        );
        c.send(
            start + 90_000_000,
            Dir::Down,
            &[format!("{reply}\n").into_bytes()],
        );
        c.close(start + 150_000_000);
        for (t, f) in c.frames {
            e.push(t, f);
        }
        p.mining_probes += 1;
    } else {
        let kind = [
            SiteSession::BitcoinAsic,
            SiteSession::LitecoinRig,
            SiteSession::Xmrig,
        ][rng.below(3) as usize];
        let worker = format!("rig{}", rng.below(1_000));
        let s = site_session(kind, (client, cport), (pool, port), start, &worker);
        // Minutes into seconds: the session's messages in the epoch's span.
        for (t, f) in s.frames {
            e.push(start + (t - start) / 60, f);
        }
        p.mining_sessions += 1;
    }
    p.mining_packets += (e.frames.len() - before) as u64;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flow_lengths_follow_the_campus_table() {
        let mut rng = Rng::new(7);
        let n = 200_000;
        let lens: Vec<u64> = (0..n).map(|_| flow_length(&mut rng)).collect();
        let share = |max: u64| lens.iter().filter(|l| **l <= max).count() as f64 / n as f64;
        for (max, want) in [
            (1, 0.478),
            (2, 0.653),
            (4, 0.749),
            (10, 0.865),
            (100, 0.973),
        ] {
            assert!(
                (share(max) - want).abs() < 0.01,
                "{max}: {} vs {want}",
                share(max)
            );
        }
        assert!(lens.iter().all(|l| (1..=LONGEST).contains(l)));
        // The mean of the flows of more than one packet, as the module docs give it.
        let long: Vec<u64> = lens.iter().copied().filter(|l| *l > 1).collect();
        let mean = long.iter().sum::<u64>() as f64 / long.len() as f64;
        assert!((33.0..42.0).contains(&mean), "{mean}");
    }

    #[test]
    fn a_population_holds_short_flows_mining_probes_and_fragments() {
        let mut out = Vec::new();
        let p = write_population(&mut out, 40 << 20, 3).unwrap();
        assert_eq!(p.bytes, out.len() as u64);
        assert!(
            p.mining_probes > 5 * p.mining_sessions && p.mining_sessions > 10,
            "{p:?}"
        );
        assert!(
            p.dns_lookups > 300 && p.port_probes > 300 && p.fragments > 100,
            "{p:?}"
        );
        let share = p.mining_packets as f64 / p.packets as f64;
        assert!((0.03..0.4).contains(&share), "{share} {p:?}");
        // Written in time order.
        let mut times = Vec::new();
        crate::source::read_packets(std::path::Path::new("population.pcap"), &out, |pkt| {
            times.push(pkt.ts_ns)
        })
        .unwrap();
        assert_eq!(times.len() as u64, p.packets);
        assert!(times.windows(2).all(|w| w[0] <= w[1]));
    }
}
