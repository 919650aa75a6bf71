//! Blocks end to end: the project's own block files (always), and the real blocks of
//! `../shared/data/chain/blocks` when present.

use bitcoin::OutPoint;
use bitcoin::hashes::Hash;
use minewatch_chain::blocks::{BlockInfo, BlockOptions, read_blocks};
use minewatch_chain::pools::{MatchedBy, Pools};
use minewatch_chain::synth::{blk_file, block, coinbase, p2pkh, spend, txid};
use std::path::{Path, PathBuf};

const MAIN: [u8; 4] = [0xf9, 0xbe, 0xb4, 0xd9];

fn read(
    paths: &[PathBuf],
    pools: &Pools,
) -> (Vec<BlockInfo>, minewatch_chain::blocks::BlocksReport) {
    let mut v = Vec::new();
    let r = read_blocks(paths, pools, &BlockOptions::default(), &mut |b, _| {
        v.push(b)
    })
    .unwrap();
    (v, r)
}

#[test]
fn own_chain_with_fork_fees_pools_and_xor() {
    let pools = Pools::from_json(r#"[{"id":1,"name":"TagPool","addresses":[],"tags":["/tagpool/"]},{"id":2,"name":"AddrPool","addresses":["1Ca2vwgi3CrnyrQtFXfznEekNDY2Ax56Lr"],"tags":[]}]"#).unwrap();
    let genesis_prev = bitcoin::BlockHash::all_zeros();
    let cb0 = coinbase(0, "/tagpool/", p2pkh(1), 50_0000_0000);
    let b0 = block(genesis_prev, 1_700_000_000, vec![cb0.clone()]);
    // Block 1 spends block 0's coinbase: 1,000 sat fee.
    let s1 = spend(
        &[OutPoint::new(txid(&cb0), 0)],
        &[(30_0000_0000, p2pkh(2)), (19_9999_9000, p2pkh(3))],
    );
    let cb1 = coinbase(1, "/other/", p2pkh(9), 50_0000_1000);
    let b1 = block(b0.block_hash(), 1_700_000_600, vec![cb1, s1.clone()]);
    // A fork at height 1 (stale) and a longer branch on b1.
    let b1x = block(
        b0.block_hash(),
        1_700_000_601,
        vec![coinbase(1, "/fork/", p2pkh(7), 50_0000_0000)],
    );
    let s2 = spend(
        &[OutPoint::new(txid(&s1), 0), OutPoint::new(txid(&s1), 1)],
        &[(49_9999_0000, p2pkh(4))],
    );
    let cb2 = coinbase(2, "", p2pkh(9), 50_0000_9000);
    let b2 = block(b1.block_hash(), 1_700_001_200, vec![cb2, s2.clone()]);
    // Block 3 chains two transactions: s4 spends s3's output in the same block (10,000 sat of
    // fee each).
    let s3 = spend(&[OutPoint::new(txid(&s2), 0)], &[(49_9998_0000, p2pkh(5))]);
    let s4 = spend(&[OutPoint::new(txid(&s3), 0)], &[(49_9997_0000, p2pkh(6))]);
    let cb3 = coinbase(3, "", p2pkh(9), 50_0002_0000);
    let b3 = block(b2.block_hash(), 1_700_001_800, vec![cb3, s3, s4]);
    let d = tempfile::tempdir().unwrap();
    let key = [0xea, 0x8f, 0x28, 0x7a, 0xce, 0x2a, 0xf8, 0xa5];
    // Arrival order: the fork and block 2 before block 1.
    std::fs::write(
        d.path().join("blk00000.dat"),
        blk_file(&[&b0, &b1x, &b2], MAIN, key),
    )
    .unwrap();
    std::fs::write(
        d.path().join("blk00001.dat"),
        blk_file(&[&b1, &b3], MAIN, key),
    )
    .unwrap();
    std::fs::write(d.path().join("xor.dat"), key).unwrap();
    let (v, r) = read(&[d.path().to_path_buf()], &pools);
    assert_eq!(r.read.blocks, 5);
    assert!(
        r.bad_blocks.is_empty() && r.read.errors.is_empty(),
        "{:?}",
        r.bad_blocks
    );
    assert_eq!(r.stale, 1);
    let best: Vec<(Option<u64>, Option<u64>)> = v
        .iter()
        .filter(|b| b.best_chain)
        .map(|b| (b.height, b.fees_sat))
        .collect();
    assert_eq!(
        best,
        vec![
            (Some(0), Some(0)),
            (Some(1), Some(1000)),
            (Some(2), Some(9000)),
            (Some(3), Some(20_000))
        ]
    );
    assert_eq!(v[0].pool.as_deref(), Some("TagPool"));
    assert_eq!(v[0].pool_matched_by, Some(MatchedBy::Tag));
    // p2pkh(9) is the address 1Ca2vwgi3CrnyrQtFXfznEekNDY2Ax56Lr? Whatever its text, it is reported.
    assert!(!v[1].payout_addresses.is_empty());
    assert_eq!(v[1].fees_claimed_sat, Some(1000));
    assert!(
        v.iter()
            .any(|b| !b.best_chain && b.coinbase_text.contains("/fork/"))
    );

    // A wrong key reads as garbage, said with file and offset.
    std::fs::write(d.path().join("xor.dat"), [1u8; 8]).unwrap();
    let mut n = 0;
    let r = read_blocks(
        &[d.path().to_path_buf()],
        &pools,
        &BlockOptions::default(),
        &mut |_, _| n += 1,
    )
    .unwrap();
    assert_eq!(n, 0);
    assert!(
        r.read.errors[0]
            .to_string()
            .contains("blk00000.dat: byte offset 0"),
        "{}",
        r.read.errors[0]
    );
}

#[test]
fn corrupt_blocks_are_named_and_skipped() {
    let cb = coinbase(5, "x", p2pkh(1), 1);
    let mut b = block(bitcoin::BlockHash::all_zeros(), 1, vec![cb]);
    b.header.merkle_root = bitcoin::TxMerkleNode::all_zeros();
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("bad.blk");
    std::fs::write(&f, blk_file(&[&b], MAIN, [0; 8])).unwrap();
    let (v, r) = read(&[f], &Pools::default());
    assert!(v.is_empty());
    assert!(
        r.bad_blocks[0].contains("bad.blk: block at 0: merkle root"),
        "{:?}",
        r.bad_blocks
    );
}

fn shared() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/chain/blocks");
    if p.is_dir() {
        Some(p)
    } else {
        minewatch_model::skip::skipped(&format!(
            "{} not present; shared-data block tests skipped",
            p.display()
        ));
        None
    }
}

#[test]
fn real_blocks_pools_heights_and_fees() {
    let Some(s) = shared() else { return };
    let m = s.join("mainnet");
    let files: Vec<PathBuf> = [
        "block_252860.raw",
        "block_277647.blkrecord",
        "block_413567.raw",
        "block_540107.raw",
        "block_574200.raw",
        "block_702861.raw",
        "block_100002.hex",
    ]
    .iter()
    .map(|f| m.join(f))
    .collect();
    let (v, r) = read(&files, &Pools::built_in());
    assert!(r.bad_blocks.is_empty(), "{:?}", r.bad_blocks);
    let got: Vec<(Option<u64>, Option<&str>, usize)> = v
        .iter()
        .map(|b| (b.height, b.pool.as_deref(), b.txs))
        .collect();
    assert_eq!(
        got,
        vec![
            (Some(252_860), Some("EclipseMC"), 615),
            (Some(277_647), Some("BTC Guild"), 213),
            (Some(413_567), Some("F2Pool"), 1557),
            (Some(540_107), Some("BTC.com"), 230),
            (Some(574_200), Some("BTC.com"), 3315),
            (Some(702_861), Some("Binance Pool"), 2500),
            (None, None, 9),
        ]
    );
    // MANIFEST: block 277647's coinbase pays 25 BTC + 4,737,355 sat of fees, exactly.
    assert_eq!(v[1].fees_claimed_sat, Some(4_737_355));
    assert_eq!(
        v[1].hash,
        "0000000000000000054a714e580b16c583701712ab91060e92dbde6eb1e052a8"
    );
    assert_eq!(
        v[5].hash,
        "000000000000000000000c835b2adcaedc20fdf6ee440009c249452c726dafae"
    );
}

#[test]
fn real_block_directories_plain_xor_truncated_and_reorg() {
    let Some(s) = shared() else { return };
    let (plain, _) = read(&[s.join("blkdir-mainnet-0-255")], &Pools::built_in());
    let (xor, _) = read(&[s.join("blkdir-mainnet-0-255-xor")], &Pools::built_in());
    assert_eq!(plain.len(), 256);
    assert_eq!(
        plain.last().unwrap().hash,
        "00000000d0a75c861fabf9ff7b92022f60e4afeed9331fe5aa073d8e4706fe3c"
    );
    assert_eq!(
        plain.iter().map(|b| b.hash.clone()).collect::<Vec<_>>(),
        xor.iter().map(|b| b.hash.clone()).collect::<Vec<_>>()
    );
    // Total coinbase 12,800 BTC; block 170 spends block 9's coinbase without a fee.
    assert_eq!(
        plain.iter().map(|b| b.reward_sat).sum::<u64>(),
        12_800 * 100_000_000
    );
    assert_eq!(plain[170].fees_sat, Some(0));
    let (t, r) = read(
        &[s.join("testnet3/blk-testnet3-0-400-truncated.dat")],
        &Pools::built_in(),
    );
    assert_eq!(t.len(), 401);
    assert_eq!(r.read.truncated[0].1, 95_027);
    let (g, r) = read(&[s.join("synthetic-reorg")], &Pools::built_in());
    assert_eq!(r.stale, 2);
    assert_eq!(
        g.iter().filter(|b| b.best_chain).map(|b| b.height).max(),
        Some(Some(5))
    );
    let (rt, _) = read(&[s.join("blkdir-regtest-0-206")], &Pools::built_in());
    assert_eq!(rt.len(), 207);
    assert_eq!(rt.last().unwrap().height, Some(206));
}
