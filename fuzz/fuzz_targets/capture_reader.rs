//! Any bytes as a capture file: the reader returns packets, a report or an error, never panics.
#![no_main]
use libfuzzer_sys::fuzz_target;
use minewatch_net::decode::decode;
use minewatch_net::source::read_packets;

fuzz_target!(|data: &[u8]| {
    let _ = read_packets(std::path::Path::new("fuzz.pcap"), data, |p| {
        let _ = decode(p.linktype, p.data);
    });
});
