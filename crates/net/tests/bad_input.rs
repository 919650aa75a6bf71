//! Damaged captures and hostile traffic: a clear error or a counted skip, never a panic, and
//! memory that stays within its caps.

use minewatch_net::decode::{Decoded, Encap, Transport};
use minewatch_net::synth::sessions::{Scenario, corpus, write_pcap, write_pcapng};
use minewatch_net::{ScanConfig, Scanner, scan_files};
use std::net::{IpAddr, Ipv4Addr};

fn scan(bytes: &[u8], name: &str) -> minewatch_net::ScanOutput {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join(name);
    std::fs::write(&p, bytes).unwrap();
    scan_files(&[p], &ScanConfig::default(), &|_| {})
}

use minewatch_model::rng::Rng;

#[test]
fn a_truncated_capture_keeps_what_it_has_and_says_where_it_ends() {
    let c = corpus();
    let bytes = write_pcap(&c[0], false, false);
    let out = scan(&bytes[..bytes.len() - 7], "cut.pcap");
    let rep = out.files[0].1.as_ref().unwrap();
    let (offset, packet) = rep.truncated_at.unwrap();
    assert!(offset > 24 && packet > 1);
    assert_eq!(
        out.detections.len(),
        1,
        "the session before the cut is still found"
    );
}

#[test]
fn wrong_magic_is_an_error_naming_the_file() {
    let out = scan(b"\x89PNG\r\n\x1a\n0000000000000000", "image.pcap");
    let err = out.files[0].1.as_ref().unwrap_err().to_string();
    assert!(
        err.contains("image.pcap") && err.contains("not a pcap"),
        "{err}"
    );
}

#[test]
fn flipped_bytes_never_panic() {
    let c = corpus();
    let refs: Vec<&Scenario> = c.iter().take(6).collect();
    let clean = write_pcapng(&refs);
    let clean_pcap = write_pcap(&c[6], true, true);
    let mut rng = Rng::new(0x9e37_79b9_7f4a_7c15);
    for round in 0..300 {
        let mut b = if round % 2 == 0 {
            clean.clone()
        } else {
            clean_pcap.clone()
        };
        for _ in 0..(1 + rng.next_u64() % 16) {
            let i = (rng.next_u64() as usize) % b.len();
            b[i] = rng.next_u64() as u8;
        }
        let out = scan(&b, "flipped.pcapng");
        // Either it read (perhaps with skips) or it said where it stopped.
        if let Err(e) = &out.files[0].1 {
            assert!(e.to_string().contains("flipped.pcapng"), "{e}");
        }
    }
}

#[test]
fn junk_payloads_never_panic_and_are_not_mining() {
    let mut rng = Rng::new(42);
    let mut s = Scanner::new(&ScanConfig::default());
    let file = s.add_file("junk".into());
    let starts: [&[u8]; 6] = [
        b"{",
        b"[",
        b"POST / HTTP/1.1\r\n",
        b"HTTP/1.1 200 OK\r\n",
        b"{\"method\":\"mining.",
        b"\n{",
    ];
    for i in 0..20_000u32 {
        let mut payload = starts[(i % 6) as usize].to_vec();
        for _ in 0..(rng.next_u64() % 200) {
            payload.push(rng.next_u64() as u8);
        }
        let d = Decoded {
            src: IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + (i % 500))),
            dst: IpAddr::V4(Ipv4Addr::new(203, 0, 113, 1)),
            sport: 40000,
            dport: 3333,
            transport: Transport::Tcp {
                seq: (rng.next_u64() % 100_000) as u32,
                ack: 0,
                flags: 0x18,
            },
            payload: &payload,
            ip_len: 40 + payload.len() as u32,
            encap: Encap::default(),
        };
        s.packet(
            &d,
            i64::from(i) * 1_000_000,
            u64::from(i) + 1,
            file,
            payload.len(),
        );
    }
    let (det, stats) = s.finish();
    assert!(det.is_empty(), "{det:#?}");
    assert_eq!(stats.packets, 20_000);
}

#[test]
fn a_flood_of_distinct_flows_stays_within_the_cap() {
    let cfg = ScanConfig {
        max_flows: 10_000,
        ..ScanConfig::default()
    };
    let mut s = Scanner::new(&cfg);
    let file = s.add_file("flood".into());
    let n = 1_000_000u32;
    for i in 0..n {
        let d = Decoded {
            src: IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + i)),
            dst: IpAddr::V4(Ipv4Addr::new(203, 0, 113, 1)),
            sport: (i % 60_000) as u16 + 1024,
            dport: 443,
            transport: Transport::Tcp {
                seq: i,
                ack: 0,
                flags: 0x02,
            },
            payload: &[],
            ip_len: 40,
            encap: Encap::default(),
        };
        // All within one second of capture time: no idle expiry can help, only the cap.
        s.packet(&d, 1_000 + i64::from(i), u64::from(i) + 1, file, 54);
        assert!(s.flows_held() <= 10_000);
    }
    let (_, stats) = s.finish();
    assert_eq!(stats.flows, u64::from(n));
    assert_eq!(stats.evicted_capacity, u64::from(n) - 10_000);
}
