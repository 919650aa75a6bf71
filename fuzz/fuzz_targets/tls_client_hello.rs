//! TLS ClientHellos built from fields: record, handshake, session id, cipher, compression and
//! extension lengths each true or at an edge; server name, ALPN, groups, signature algorithms
//! and versions with their inner lengths too. Parsed alone and as a flow's first bytes.
#![no_main]
#[path = "common.rs"]
mod common;
use arbitrary::Arbitrary;
use common::{Len, inspect, segments};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Ext {
    kind: u8,
    inner: Len,
    items: Vec<Vec<u8>>,
    len: Len,
}

#[derive(Arbitrary, Debug)]
struct Hello {
    record_len: Len,
    handshake_len: Len,
    version: u16,
    session: (Len, Vec<u8>),
    ciphers: (Len, Vec<u16>),
    compression: (Len, Vec<u8>),
    extensions_len: Len,
    extensions: Vec<Ext>,
    cuts: Vec<u16>,
}

const KINDS: [u16; 8] = [0, 16, 10, 11, 13, 43, 0x0a0a, 51];

fn with_len(out: &mut Vec<u8>, len: Len, bits: u32, body: &[u8]) {
    let v = len.value(body.len(), bits);
    let bytes = v.to_be_bytes();
    out.extend_from_slice(&bytes[8 - (bits / 8) as usize..]);
    out.extend_from_slice(body);
}

fn ext_body(e: &Ext) -> Vec<u8> {
    let kind = KINDS[usize::from(e.kind) % KINDS.len()];
    let mut inner = Vec::new();
    for it in &e.items {
        match kind {
            0 => {
                inner.push(0);
                with_len(&mut inner, Len::True, 16, it);
            }
            16 => with_len(&mut inner, Len::True, 8, &it[..it.len().min(255)]),
            _ => inner.extend_from_slice(it),
        }
    }
    let mut body = Vec::new();
    let bits = if kind == 43 || kind == 11 { 8 } else { 16 };
    with_len(&mut body, e.inner, bits, &inner);
    body
}

fuzz_target!(|h: Hello| {
    let mut exts = Vec::new();
    for e in &h.extensions {
        let kind = KINDS[usize::from(e.kind) % KINDS.len()];
        exts.extend_from_slice(&kind.to_be_bytes());
        with_len(&mut exts, e.len, 16, &ext_body(e));
    }
    let mut body = Vec::new();
    body.extend_from_slice(&h.version.to_be_bytes());
    body.extend_from_slice(&[7u8; 32]);
    with_len(&mut body, h.session.0, 8, &h.session.1[..h.session.1.len().min(255)]);
    let ciphers: Vec<u8> = h.ciphers.1.iter().flat_map(|c| c.to_be_bytes()).collect();
    with_len(&mut body, h.ciphers.0, 16, &ciphers);
    with_len(&mut body, h.compression.0, 8, &h.compression.1[..h.compression.1.len().min(255)]);
    with_len(&mut body, h.extensions_len, 16, &exts);
    let mut hs = vec![1u8];
    with_len(&mut hs, h.handshake_len, 24, &body);
    let mut rec = vec![0x16, 3, 1];
    with_len(&mut rec, h.record_len, 16, &hs);
    let _ = minewatch_net::proto::tls::client_hello(&rec);
    let _ = minewatch_net::proto::tls::looks_like_tls(&rec);
    inspect(&segments(&rec, &h.cuts), &[]);
});
