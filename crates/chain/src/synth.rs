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
        out.extend_from_slice(&magic);
        out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
        out.extend_from_slice(&bytes);
    }
    // Core pre-allocates: a file ends in zero padding.
    out.extend(std::iter::repeat_n(0u8, 64));
    for (i, x) in out.iter_mut().enumerate() {
        *x ^= key[i % 8];
    }
    out
}

/// The txid of a transaction.
pub fn txid(tx: &Transaction) -> Txid {
    tx.compute_txid()
}
