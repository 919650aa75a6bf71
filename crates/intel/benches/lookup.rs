//! Intel lookups per second: host names (label suffixes) and addresses (longest prefix).
//!
//! `cargo bench -p minewatch-intel --bench lookup -- [OUT_DIR]` prints lookups per second and,
//! with OUT_DIR, writes the names looked up (`names.txt`) and the listed domains
//! (`domains.txt`) so `bench/intel_lookup.py` can time the peer approach on the same input.
//! A plain timing loop (median of 7 rounds) rather than criterion: one number per kind is all
//! docs/PERFORMANCE.md quotes, and the peer is timed by a script anyway.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use minewatch_intel::hosts::Intel;
use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Instant;

const N: usize = 1_000_000;

fn median_rate(mut f: impl FnMut() -> usize) -> (f64, usize) {
    let mut rates = Vec::new();
    let mut hits = 0;
    for _ in 0..7 {
        let t = Instant::now();
        hits = f();
        rates.push(N as f64 / t.elapsed().as_secs_f64());
    }
    rates.sort_by(f64::total_cmp);
    (rates[rates.len() / 2], hits)
}

fn main() {
    let out = std::env::args().skip(1).find(|a| !a.starts_with("--"));
    let intel = Intel::built_in();
    let mut listed: Vec<&str> = intel.domains().collect();
    listed.sort_unstable();
    // One name in ten is a subdomain of a listed one; one in ten ends like a listed one
    // without being it (`notpool.com`); the rest are ordinary names of several depths.
    let names: Vec<String> = (0..N)
        .map(|i| match i % 10 {
            0 => format!("w{i}.{}", listed[i % listed.len()]),
            1 => format!("not{}", listed[(i * 7) % listed.len()]),
            2 | 3 => format!("cdn{}.img.site{}.example.com", i % 97, i % 9973),
            _ => format!("www.site{}.example.org", i % 50_021),
        })
        .collect();
    let (rate, hits) = median_rate(|| {
        names
            .iter()
            .filter(|n| black_box(intel.domain(n)).is_some())
            .count()
    });
    println!("domain lookups: {rate:.0}/s ({hits} of {N} listed)");
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let ips: Vec<IpAddr> = (0..N)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            IpAddr::V4(Ipv4Addr::from((x >> 32) as u32))
        })
        .collect();
    let (rate, hits) = median_rate(|| {
        ips.iter()
            .filter(|ip| black_box(intel.ip(**ip, 3333)).is_some())
            .count()
    });
    println!("address lookups: {rate:.0}/s ({hits} of {N} listed)");
    if let Some(dir) = out {
        let dir = std::path::Path::new(&dir);
        let _ = std::fs::create_dir_all(dir);
        let write = |name: &str, lines: &mut dyn Iterator<Item = &str>| {
            let text: String = lines.map(|l| format!("{l}\n")).collect();
            if let Err(e) = std::fs::write(dir.join(name), text) {
                eprintln!("{}: {e}", dir.join(name).display());
            }
        };
        write("names.txt", &mut names.iter().map(String::as_str));
        write("domains.txt", &mut listed.iter().copied());
    }
}
