//! Shared pieces of the structure-aware targets: lengths that the fuzzer picks from the edges
//! that break arithmetic (0, 1, max-1, max, max+1 of each field's width) or from the true
//! length, and a way to cut bytes into TCP segments.
#![allow(dead_code)]

use arbitrary::Arbitrary;

/// A length field's value: the true length, an edge of its width, or anything.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Len {
    /// The length of what follows.
    True,
    /// The true length plus or minus a little.
    Near(i8),
    /// 0, 1, max-1, max or max+1 (wrapped to the field's width) of the field.
    Edge(u8),
    /// Any value.
    Any(u64),
}

impl Len {
    /// The value to write for a field `bits` wide, when what follows is `actual` long.
    pub fn value(self, actual: usize, bits: u32) -> u64 {
        let max = if bits >= 64 { u64::MAX } else { (1u64 << bits) - 1 };
        let v = match self {
            Len::True => actual as u64,
            Len::Near(d) => (actual as i64).wrapping_add(i64::from(d)) as u64,
            Len::Edge(e) => match e % 5 {
                0 => 0,
                1 => 1,
                2 => max - 1,
                3 => max,
                _ => max.wrapping_add(1),
            },
            Len::Any(v) => v,
        };
        v & max
    }
}

/// Cuts `bytes` into segments at the given cut points (taken modulo the length).
pub fn segments<'a>(bytes: &'a [u8], cuts: &[u16]) -> Vec<&'a [u8]> {
    let mut at: Vec<usize> = cuts
        .iter()
        .map(|c| usize::from(*c) % (bytes.len() + 1))
        .collect();
    at.push(0);
    at.push(bytes.len());
    at.sort_unstable();
    at.dedup();
    at.windows(2).map(|w| &bytes[w[0]..w[1]]).collect()
}

/// Feeds client bytes and server bytes to one flow's inspector, segment by segment, with
/// acknowledgements, then finishes it.
pub fn inspect(client: &[&[u8]], server: &[&[u8]]) {
    let mut ins = minewatch_net::inspect::Inspector::default();
    let mut seq = [1000u32, 9000u32];
    let mut ts = 0;
    let longest = client.len().max(server.len());
    for i in 0..longest {
        for (side, segs) in [(0usize, client), (1, server)] {
            if let Some(s) = segs.get(i) {
                ts += 1_000_000;
                let ack = Some(seq[1 - side]);
                let _ = ins.segment(side, seq[side], ack, false, s, ts);
                seq[side] = seq[side].wrapping_add(s.len() as u32);
            }
        }
    }
    ins.finish(ts);
}
