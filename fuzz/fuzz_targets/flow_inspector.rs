//! Any sequence of segments into one flow's inspection (reassembly, line and HTTP framing,
//! sessions): no panic, and the verdict is always one of the two.
#![no_main]
use libfuzzer_sys::fuzz_target;
use minewatch_net::inspect::Inspector;

fuzz_target!(|data: &[u8]| {
    let mut ins = Inspector::default();
    let mut rest = data;
    let mut ts = 0i64;
    // Each segment: side (1 bit) + syn (1 bit) | seq (u16, so segments overlap) | len (u8) | bytes.
    while rest.len() >= 4 {
        let side = usize::from(rest[0] & 1);
        let syn = rest[0] & 2 != 0;
        let seq = u32::from(u16::from_le_bytes([rest[1], rest[2]]));
        let len = usize::from(rest[3]).min(rest.len() - 4);
        let payload = &rest[4..4 + len];
        ts += 1_000_000;
        let ack = (rest[0] & 4 != 0).then_some(seq.wrapping_add(100));
        let _ = ins.segment(side, seq, ack, syn, payload, ts);
        rest = &rest[4 + len..];
    }
    ins.finish(ts);
});
