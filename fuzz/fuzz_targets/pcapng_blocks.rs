//! pcapng files built from blocks: section headers in either byte order with any section
//! length, interface descriptions with link types and `if_tsresol` options, enhanced, simple
//! and obsolete packet blocks whose captured lengths and block lengths are true or at the
//! edges of 32 bits, and unknown blocks. Every packet read is decoded and scanned.
#![no_main]
#[path = "common.rs"]
mod common;
use arbitrary::Arbitrary;
use common::Len;
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
enum Block {
    Interface { linktype: u16, snaplen: u32, tsresol: Option<u8>, opt_len: Len },
    Enhanced { iface: u32, ts: u64, caplen: Len, origlen: u32, data: Vec<u8>, total: Len },
    Simple { origlen: Len, data: Vec<u8>, total: Len },
    Obsolete { iface: u16, caplen: Len, data: Vec<u8> },
    Unknown { kind: u32, body: Vec<u8>, total: Len },
}

#[derive(Arbitrary, Debug)]
struct File {
    big_endian: bool,
    section_len: Len,
    blocks: Vec<Block>,
}

struct W {
    be: bool,
    out: Vec<u8>,
}

impl W {
    fn u32(&mut self, v: u32) {
        let b = if self.be { v.to_be_bytes() } else { v.to_le_bytes() };
        self.out.extend_from_slice(&b);
    }
    fn block(&mut self, kind: u32, body: &[u8], total: Len) {
        let pad = (4 - body.len() % 4) % 4;
        let t = total.value(12 + body.len() + pad, 32) as u32;
        self.u32(kind);
        self.u32(t);
        self.out.extend_from_slice(body);
        self.out.extend(std::iter::repeat_n(0, pad));
        self.u32(t);
    }
}

fn enc(be: bool, v: u32) -> [u8; 4] {
    if be { v.to_be_bytes() } else { v.to_le_bytes() }
}

fuzz_target!(|f: File| {
    let be = f.big_endian;
    let mut w = W { be, out: Vec::new() };
    let mut shb = enc(be, 0x1a2b_3c4d).to_vec();
    let v = |x: u16| if be { x.to_be_bytes() } else { x.to_le_bytes() };
    shb.extend_from_slice(&v(1));
    shb.extend_from_slice(&v(0));
    let sl = f.section_len.value(0, 64);
    shb.extend_from_slice(&if be { sl.to_be_bytes() } else { sl.to_le_bytes() });
    w.block(0x0a0d_0d0a, &shb, Len::True);
    for b in &f.blocks {
        match b {
            Block::Interface { linktype, snaplen, tsresol, opt_len } => {
                let mut body = Vec::new();
                body.extend_from_slice(&v(*linktype % 300));
                body.extend_from_slice(&v(0));
                body.extend_from_slice(&enc(be, *snaplen));
                if let Some(r) = tsresol {
                    body.extend_from_slice(&v(9));
                    body.extend_from_slice(&v(opt_len.value(1, 16) as u16));
                    body.extend_from_slice(&[*r, 0, 0, 0]);
                    body.extend_from_slice(&[0; 4]);
                }
                w.block(1, &body, Len::True);
            }
            Block::Enhanced { iface, ts, caplen, origlen, data, total } => {
                let mut body = Vec::new();
                body.extend_from_slice(&enc(be, *iface % 4));
                body.extend_from_slice(&enc(be, (ts >> 32) as u32));
                body.extend_from_slice(&enc(be, *ts as u32));
                body.extend_from_slice(&enc(be, caplen.value(data.len(), 32) as u32));
                body.extend_from_slice(&enc(be, *origlen));
                body.extend_from_slice(data);
                w.block(6, &body, *total);
            }
            Block::Simple { origlen, data, total } => {
                let mut body = enc(be, origlen.value(data.len(), 32) as u32).to_vec();
                body.extend_from_slice(data);
                w.block(3, &body, *total);
            }
            Block::Obsolete { iface, caplen, data } => {
                let mut body = Vec::new();
                body.extend_from_slice(&v(*iface % 4));
                body.extend_from_slice(&v(0));
                body.extend_from_slice(&[0; 8]);
                body.extend_from_slice(&enc(be, caplen.value(data.len(), 32) as u32));
                body.extend_from_slice(&enc(be, data.len() as u32));
                body.extend_from_slice(data);
                w.block(2, &body, Len::True);
            }
            Block::Unknown { kind, body, total } => w.block(*kind, body, *total),
        }
    }
    static CONFIG: std::sync::OnceLock<minewatch_net::ScanConfig> = std::sync::OnceLock::new();
    let cfg = CONFIG.get_or_init(|| minewatch_net::ScanConfig {
        max_flows: 256,
        ..minewatch_net::ScanConfig::default()
    });
    let mut scanner = minewatch_net::Scanner::new(cfg);
    let _ = minewatch_net::source::read_packets(std::path::Path::new("fuzz.pcapng"), &w.out, |p| {
        scanner.frame(p.linktype, p.data, p.ts_ns, p.number, 0);
    });
    let _ = scanner.finish();
});
