//! Block files built from records: real blocks (a chain of coinbases with tags and payouts,
//! spends of earlier outputs) and damaged ones, under any network magic, with record sizes
//! true or at the edges of 32 bits, cut short, padded with zeros, obfuscated with an xor key or
//! not; read by `chain::blocks::read_blocks` (headers, best chain, fees) from a folder.
#![no_main]
#[path = "common.rs"]
mod common;
use arbitrary::Arbitrary;
use common::Len;
use libfuzzer_sys::fuzz_target;
use bitcoin::hashes::Hash as _;
use minewatch_chain::synth;

#[derive(Arbitrary, Debug)]
enum Record {
    Block { tag: String, value: u64, spend: Option<u8>, prev: Option<u8>, time: u32 },
    Damaged { magic: u8, size: Len, body: Vec<u8> },
    Truncate(u16),
    Zeros(u8),
}

#[derive(Arbitrary, Debug)]
struct Input {
    magic: u8,
    key: Option<[u8; 8]>,
    records: Vec<Record>,
}

const MAGICS: [[u8; 4]; 6] = [
    [0xf9, 0xbe, 0xb4, 0xd9],
    [0x0b, 0x11, 0x09, 0x07],
    [0x1c, 0x16, 0x3f, 0x28],
    [0x0a, 0x03, 0xcf, 0x40],
    [0xfa, 0xbf, 0xb5, 0xda],
    [0, 0, 0, 0],
];

fuzz_target!(|input: Input| {
    if input.records.len() > 64 {
        return;
    }
    let magic = MAGICS[usize::from(input.magic) % 5];
    let mut bytes = Vec::new();
    let mut blocks: Vec<bitcoin::Block> = Vec::new();
    for r in &input.records {
        match r {
            Record::Block { tag, value, spend, prev, time } => {
                let height = blocks.len() as u64;
                let mut txs = vec![synth::coinbase(height, tag, synth::p2pkh(height as u8), *value)];
                if let Some(s) = spend
                    && let Some(b) = blocks.get(usize::from(*s) % (blocks.len() + 1))
                {
                    let out = bitcoin::OutPoint { txid: synth::txid(&b.txdata[0]), vout: 0 };
                    txs.push(synth::spend(&[out], &[(value / 2, synth::p2pkh(7))]));
                }
                let prev = prev
                    .and_then(|p| blocks.get(usize::from(p) % (blocks.len() + 1)))
                    .or(blocks.last())
                    .map(|b| b.block_hash())
                    .unwrap_or(bitcoin::BlockHash::all_zeros());
                let b = synth::block(prev, *time, txs);
                bytes.extend_from_slice(&synth::blk_file(&[&b], magic, [0; 8]));
                blocks.push(b);
            }
            Record::Damaged { magic: m, size, body } => {
                bytes.extend_from_slice(&MAGICS[usize::from(*m) % MAGICS.len()]);
                bytes.extend_from_slice(&(size.value(body.len(), 32) as u32).to_le_bytes());
                bytes.extend_from_slice(body);
            }
            Record::Truncate(n) => bytes.truncate(bytes.len().saturating_sub(usize::from(*n))),
            Record::Zeros(n) => bytes.extend(std::iter::repeat_n(0, usize::from(*n))),
        }
    }
    let Ok(dir) = tempfile::tempdir() else { return };
    if let Some(key) = input.key {
        for (i, b) in bytes.iter_mut().enumerate() {
            *b ^= key[i % 8];
        }
        let _ = std::fs::write(dir.path().join("xor.dat"), key);
    }
    let _ = std::fs::write(dir.path().join("blk00000.dat"), &bytes);
    let pools = minewatch_chain::pools::Pools::built_in();
    let opts = minewatch_chain::blocks::BlockOptions::default();
    let _ = minewatch_chain::blocks::read_blocks(&[dir.path().to_path_buf()], &pools, &opts, &mut |_, _| {});
});
