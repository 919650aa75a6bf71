//! Stratum V2 frames built from fields: message types of the mining protocol, the 24-bit
//! length true or at its edges, payloads of fixed fields and STR0_255/B0_32 strings whose own
//! lengths lie. Parsed alone and as a flow in both directions.
#![no_main]
#[path = "common.rs"]
mod common;
use arbitrary::Arbitrary;
use common::{Len, inspect, segments};
use libfuzzer_sys::fuzz_target;
use minewatch_net::proto::sv2;

#[derive(Arbitrary, Debug)]
enum Field {
    U8(u8),
    U16(u16),
    U32(u32),
    U64(u64),
    Str(Len, Vec<u8>),
    Raw(Vec<u8>),
}

#[derive(Arbitrary, Debug)]
struct Frame {
    extension: u16,
    channel: bool,
    msg_type: u8,
    len: Len,
    fields: Vec<Field>,
}

const TYPES: [u8; 16] = [
    0x00, 0x01, 0x02, 0x10, 0x11, 0x13, 0x14, 0x15, 0x1a, 0x1b, 0x1c, 0x1d, 0x1f, 0x20, 0x21, 0x03,
];

fn frame(f: &Frame) -> Vec<u8> {
    let mut p = Vec::new();
    for x in &f.fields {
        match x {
            Field::U8(v) => p.push(*v),
            Field::U16(v) => p.extend_from_slice(&v.to_le_bytes()),
            Field::U32(v) => p.extend_from_slice(&v.to_le_bytes()),
            Field::U64(v) => p.extend_from_slice(&v.to_le_bytes()),
            Field::Str(l, s) => {
                let s = &s[..s.len().min(255)];
                p.push(l.value(s.len(), 8) as u8);
                p.extend_from_slice(s);
            }
            Field::Raw(b) => p.extend_from_slice(b),
        }
    }
    let ext = (f.extension & 0x7fff) | if f.channel { 0x8000 } else { 0 };
    let mut out = ext.to_le_bytes().to_vec();
    out.push(TYPES[usize::from(f.msg_type) % TYPES.len()]);
    out.extend_from_slice(&(f.len.value(p.len(), 24) as u32).to_le_bytes()[..3]);
    out.extend_from_slice(&p);
    out
}

fuzz_target!(|input: (Vec<Frame>, Vec<u16>, Vec<Frame>, Vec<u16>)| {
    let (up, cu, down, cd) = input;
    let up: Vec<u8> = up.iter().flat_map(frame).collect();
    let down: Vec<u8> = down.iter().flat_map(frame).collect();
    let mut rest = &up[..];
    while let Ok((f, used)) = sv2::frame(rest) {
        let _ = sv2::classify(&f);
        rest = &rest[used..];
    }
    inspect(&segments(&up, &cu), &segments(&down, &cd));
});
