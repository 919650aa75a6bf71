//! Any line as JSON-RPC, and any HTTP head: parsed and classified or refused, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use minewatch_net::proto::http;
use minewatch_net::proto::stratum::{Bump, classify, parse_line};

fuzz_target!(|data: &[u8]| {
    let arena = Bump::new();
    if let Ok(msgs) = parse_line(data, &arena) {
        for m in &msgs {
            let _ = classify(m);
        }
    }
    let _ = http::parse_head(data);
    let _ = http::dechunk(data, 1 << 16);
});
