//! Any frame under any link type: decoded or skipped with a reason, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use minewatch_net::decode::decode;

const LINKS: [u32; 13] = [0, 1, 9, 12, 14, 50, 51, 101, 108, 113, 228, 229, 276];

fuzz_target!(|data: &[u8]| {
    if let Some((&sel, frame)) = data.split_first() {
        let _ = decode(LINKS[sel as usize % LINKS.len()], frame);
    }
});
