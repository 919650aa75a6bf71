//! Synthetic blocks for tests and fixtures: coinbases with pool tags and payout addresses,
//! spends of earlier outputs with known fees, forks, and Core-style block files (xor included).
//! Proof of work is not checked by minewatch (it reads chains others validated), so the
//! headers carry an easy target and no real work.

use bitcoin::absolute::LockTime;
use bitcoin::block::{Header, Version};
use bitcoin::hashes::Hash;
use bitcoin::pow::CompactTarget;
use bitcoin::script::{Builder, PushBytesBuf};
use bitcoin::transaction::Version as TxVersion;
use bitcoin::{
    Amount, Block, BlockHash, OutPoint, ScriptBuf, Sequence, Transaction, TxIn, TxMerkleNode,
    TxOut, Txid, Witness,
};

/// A P2PKH script paying to a 20-byte hash made from `n`.
pub fn p2pkh(n: u8) -> ScriptBuf {
    let h = bitcoin::PubkeyHash::from_byte_array([n; 20]);
    ScriptBuf::new_p2pkh(&h)
}

/// A coinbase for `height` with a tag in its scriptSig, paying `value` to `script`.
pub fn coinbase(height: u64, tag: &str, script: ScriptBuf, value: u64) -> Transaction {
    let mut tag_bytes = PushBytesBuf::new();
    let _ = tag_bytes.extend_from_slice(tag.as_bytes());
    let sig = Builder::new()
        .push_int(height as i64)
        .push_slice(tag_bytes)
        .into_script();
    Transaction {
        version: TxVersion::ONE,
        lock_time: LockTime::ZERO,
        input: vec![TxIn {
            previous_output: OutPoint::null(),
            script_sig: sig,
            sequence: Sequence::MAX,
            witness: Witness::new(),
        }],
        output: vec![TxOut {
            value: Amount::from_sat(value),
            script_pubkey: script,
        }],
    }
}

/// A transaction spending `inputs` into outputs of the given values.
pub fn spend(inputs: &[OutPoint], outputs: &[(u64, ScriptBuf)]) -> Transaction {
    Transaction {
        version: TxVersion::TWO,
        lock_time: LockTime::ZERO,
        input: inputs
            .iter()
            .map(|o| TxIn {
                previous_output: *o,
                script_sig: ScriptBuf::new(),
                sequence: Sequence::MAX,
                witness: Witness::new(),
            })
            .collect(),
        output: outputs
            .iter()
            .map(|(v, s)| TxOut {
                value: Amount::from_sat(*v),
                script_pubkey: s.clone(),
            })
            .collect(),
    }
}

/// A block on `prev` holding `txs` (coinbase first), merkle root computed.
pub fn block(prev: BlockHash, time: u32, txs: Vec<Transaction>) -> Block {
    let mut b = Block {
        header: Header {
            version: Version::from_consensus(0x2000_0000),
            prev_blockhash: prev,
            merkle_root: TxMerkleNode::all_zeros(),
            time,
            bits: CompactTarget::from_consensus(0x207f_ffff),
            nonce: 0,
        },
        txdata: txs,
    };
    b.header.merkle_root = b
        .compute_merkle_root()
        .unwrap_or_else(TxMerkleNode::all_zeros);
    b
}

/// Core block-file records of `blocks` with `magic`, XORed with `key` by file offset.
pub fn blk_file(blocks: &[&Block], magic: [u8; 4], key: [u8; 8]) -> Vec<u8> {
    let mut out = Vec::new();
    for b in blocks {
        let bytes = bitcoin::consensus::serialize(*b);
        // Writing to a Vec fails only for a block past 4 GiB, which a test never builds.
        let _ = crate::write::write_record(&mut out, magic, &bytes);
    }
    // Core pre-allocates: a file ends in zero padding.
    out.extend(std::iter::repeat_n(0u8, 64));
    for (x, k) in out.iter_mut().zip(key.iter().cycle()) {
        *x ^= k;
    }
    out
}

/// The txid of a transaction.
pub fn txid(tx: &Transaction) -> Txid {
    tx.compute_txid()
}

/// The mainnet address of [`p2pkh`]`(n)`.
pub fn address(n: u8) -> String {
    bitcoin::Address::from_script(&p2pkh(n), bitcoin::Network::Bitcoin)
        .map(|a| a.to_string())
        .unwrap_or_default()
}

/// Three blocks where money can be followed, with known answers: pool "PoolX" (coinbase tag
/// `/poolx/`, address 1) mines blocks 0 and 2 and pays miners 11..=17 seven BTC each in one
/// batch; miner 11 spends addresses 11 and 17 together to address 30 (one owner, 14 BTC less
/// 2000 sat); addresses 12, 13 and 14 join a CoinJoin (equal outputs 41..=43) that must not
/// merge them.
pub fn payout_chain() -> Vec<Block> {
    const COIN: u64 = 100_000_000;
    let cb0 = coinbase(0, "/poolx/", p2pkh(1), 50 * COIN);
    let b0 = block(BlockHash::all_zeros(), 1_700_000_000, vec![cb0.clone()]);
    // Payout batch: the pool pays seven miners 7 BTC each, keeps the rest.
    let mut outs: Vec<(u64, ScriptBuf)> = (11..=17).map(|n| (7 * COIN, p2pkh(n))).collect();
    outs.push((COIN - 1000, p2pkh(1)));
    let pay = spend(&[OutPoint::new(txid(&cb0), 0)], &outs);
    let b1 = block(
        b0.block_hash(),
        1_700_000_600,
        vec![
            coinbase(1, "/other/", p2pkh(2), 50 * COIN + 1000),
            pay.clone(),
        ],
    );
    // Miner 11 spends its address 11 and 17 together to an exchange (30).
    let consolidate = spend(
        &[OutPoint::new(txid(&pay), 0), OutPoint::new(txid(&pay), 6)],
        &[(14 * COIN - 2000, p2pkh(30))],
    );
    // A CoinJoin of 12, 13, 14: three equal outputs.
    let cj = spend(
        &[
            OutPoint::new(txid(&pay), 1),
            OutPoint::new(txid(&pay), 2),
            OutPoint::new(txid(&pay), 3),
        ],
        &[
            (6 * COIN, p2pkh(41)),
            (6 * COIN, p2pkh(42)),
            (6 * COIN, p2pkh(43)),
            (3 * COIN - 3000, p2pkh(44)),
        ],
    );
    let b2 = block(
        b1.block_hash(),
        1_700_001_200,
        vec![
            coinbase(2, "/poolx/", p2pkh(1), 50 * COIN + 5000),
            consolidate,
            cj,
        ],
    );
    vec![b0, b1, b2]
}
