//! Blocks in chain order with what a regulator asks of each: height, time, pool, reward, fees.
//!
//! Two passes. The first reads only headers (hash, previous hash, target) from every input and
//! orders them into trees by their previous-block hashes; in each tree the best chain is the path
//! to the tip with the most work, other blocks are stale (docs/FACTS.md §C1: files hold blocks in
//! arrival order, forks included). The second pass decodes the blocks in that order, checks each
//! merkle root, attributes the coinbase to a pool and computes fees from the outputs the earlier
//! blocks created (when every spent output is known), and always from the coinbase
//! (reward − subsidy).

use crate::pools::{MatchedBy, Pools};
use crate::read::{
    BlockFile, FileKind, Net, ReadError, ReadReport, blk_files, read_deobfuscated, records, sniff,
    xor_key,
};
use bitcoin::hashes::Hash;
use bitcoin::{Address, Block, BlockHash, Work};
use serde::Serialize;
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// One pool's part of a set of blocks.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PoolShare {
    /// The pool (`unknown` where neither tag nor address named one).
    pub pool: String,
    /// Blocks it found.
    pub blocks: u64,
    /// Its share of the blocks, 0..1.
    pub share: f64,
    /// Subsidy and fees it earned, satoshi.
    pub reward_sat: u64,
}

/// Each pool's blocks, share and reward over `blocks`, most blocks first (then by name).
pub fn pool_shares(blocks: &[&BlockInfo]) -> Vec<PoolShare> {
    let mut by: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for b in blocks {
        let e = by
            .entry(b.pool.clone().unwrap_or_else(|| "unknown".into()))
            .or_default();
        e.0 += 1;
        e.1 += b.reward_sat;
    }
    let total = blocks.len().max(1) as f64;
    let mut rows: Vec<PoolShare> = by
        .into_iter()
        .map(|(pool, (n, r))| PoolShare {
            pool,
            blocks: n,
            share: n as f64 / total,
            reward_sat: r,
        })
        .collect();
    rows.sort_by(|x, y| y.blocks.cmp(&x.blocks).then(x.pool.cmp(&y.pool)));
    rows
}

/// One block as reported.
#[derive(Clone, Debug, Serialize)]
pub struct BlockInfo {
    /// Block hash (display order).
    pub hash: String,
    /// Height, when the chain or BIP 34 tells it.
    pub height: Option<u64>,
    /// Previous block's hash.
    pub prev: String,
    /// Header time, RFC 3339.
    pub time: String,
    /// Network.
    pub network: String,
    /// On the best chain of its tree (false: a stale block).
    pub best_chain: bool,
    /// Transactions.
    pub txs: usize,
    /// Serialized size, bytes.
    pub size: usize,
    /// Weight units.
    pub weight: u64,
    /// The mining pool, when a list knows it.
    pub pool: Option<String>,
    /// `address` or `tag`.
    pub pool_matched_by: Option<MatchedBy>,
    /// The address or tag that matched.
    pub pool_evidence: Option<String>,
    /// Printable text of the coinbase scriptSig.
    pub coinbase_text: String,
    /// Addresses the coinbase pays.
    pub payout_addresses: Vec<String>,
    /// Coinbase outputs, satoshi.
    pub reward_sat: u64,
    /// New coins allowed at this height, satoshi.
    pub subsidy_sat: Option<u64>,
    /// Fees from the spent outputs (Σ inputs − Σ outputs), when all were known.
    pub fees_sat: Option<u64>,
    /// Fees as the coinbase claims them (reward − subsidy).
    pub fees_claimed_sat: Option<i64>,
    /// Where the block was read.
    pub file: String,
    /// Byte offset (or line, for hex files) in that file.
    pub offset: u64,
}

/// Options of a block read.
#[derive(Clone, Debug)]
pub struct BlockOptions {
    /// Outputs remembered for fee computation at most; beyond it fees come from the coinbase only.
    pub max_utxos: usize,
}

impl Default for BlockOptions {
    fn default() -> Self {
        BlockOptions {
            max_utxos: 20_000_000,
        }
    }
}

/// What a read came to.
#[derive(Debug, Default)]
pub struct BlocksReport {
    /// What the file readers found.
    pub read: ReadReport,
    /// Blocks that did not decode or whose merkle root did not match, with where and why.
    pub bad_blocks: Vec<String>,
    /// Blocks off the best chain.
    pub stale: u64,
    /// The output map reached its cap; fees after that point come from the coinbase only.
    pub utxo_cap_reached: bool,
}

#[derive(Clone)]
enum Src {
    Blk { file: usize, offset: u64 },
    Bytes { file: usize, index: usize },
}

struct Head {
    hash: BlockHash,
    prev: BlockHash,
    work: Work,
    net: Net,
    src: Src,
}

/// The address an output pays: its standard address, or for a bare public key (the P2PK outputs
/// of early blocks) the P2PKH address of that key, as block explorers show them.
pub fn address_of(script: &bitcoin::Script, network: bitcoin::Network) -> Option<String> {
    if let Ok(a) = Address::from_script(script, network) {
        return Some(a.to_string());
    }
    script
        .p2pk_public_key()
        .map(|pk| Address::p2pkh(pk, network).to_string())
}

/// Subsidy at a height (docs/FACTS.md §C2): 50 BTC halving every 210,000 blocks (150 on regtest).
pub fn subsidy(height: u64, net: Net) -> u64 {
    let interval = if net == Net::Regtest { 150 } else { 210_000 };
    let halvings = height / interval;
    if halvings >= 64 {
        0
    } else {
        (50 * 100_000_000u64) >> halvings
    }
}

fn printable(b: &[u8]) -> String {
    String::from_utf8_lossy(b)
        .chars()
        .map(|c| {
            if c.is_control() || c == '\u{fffd}' {
                '.'
            } else {
                c
            }
        })
        .collect()
}

/// Every input path as the list of files it names, with the block directory's xor key.
fn inputs(paths: &[PathBuf]) -> Result<Vec<(PathBuf, [u8; 8], bool)>, ReadError> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let key = xor_key(p)?;
            match blk_files(p) {
                Ok(files) => out.extend(files.into_iter().map(|f| (f, key, true))),
                // Not a Core directory: every block file in it, in name order.
                Err(ReadError::Empty { .. }) => {
                    let mut v: Vec<PathBuf> = std::fs::read_dir(p)
                        .map_err(|source| ReadError::Io {
                            path: p.clone(),
                            source,
                        })?
                        .filter_map(|e| e.ok().map(|e| e.path()))
                        .filter(|f| {
                            let n = f.to_string_lossy();
                            [
                                ".dat",
                                ".raw",
                                ".hex",
                                ".blk",
                                ".blkrecord",
                                ".blkrecords",
                                ".hex.txt",
                            ]
                            .iter()
                            .any(|e| n.ends_with(e))
                                && !n.ends_with("xor.dat")
                        })
                        .collect();
                    v.sort();
                    if v.is_empty() {
                        return Err(ReadError::Empty { path: p.clone() });
                    }
                    out.extend(v.into_iter().map(|f| (f, key, false)));
                }
                Err(e) => return Err(e),
            }
        } else {
            out.push((p.clone(), [0; 8], false));
        }
    }
    Ok(out)
}

/// A block read from a small file: its network when the file says, its offset or line, its bytes.
type Held = (Option<Net>, u64, Vec<u8>);

/// Blocks of one non-directory file, as byte vectors (hex decoded).
fn file_blocks(
    path: &Path,
    bytes: &[u8],
    report: &mut ReadReport,
    out: &mut Vec<(Option<Net>, u64, Vec<u8>)>,
) {
    match sniff(bytes) {
        FileKind::Records => records(path, bytes, report, &mut |n, off, b| {
            out.push((Some(n), off, b.to_vec()))
        }),
        FileKind::Hex => {
            for (i, line) in String::from_utf8_lossy(bytes).lines().enumerate() {
                let l = line.trim();
                if l.is_empty() {
                    continue;
                }
                match hex::decode(l) {
                    Ok(b) => {
                        report.blocks += 1;
                        out.push((None, i as u64 + 1, b));
                    }
                    Err(e) => report.errors.push(ReadError::Corrupt {
                        path: path.to_path_buf(),
                        offset: i as u64 + 1,
                        what: format!("line {} is not hex: {e}", i + 1),
                    }),
                }
            }
        }
        FileKind::Raw => {
            report.blocks += 1;
            out.push((None, 0, bytes.to_vec()));
        }
    }
}

/// An unspent output's place, as the map of unspent outputs keys it: the first 128 bits of its
/// txid and its index, 24 bytes instead of the 36 of an `OutPoint` (the map holds millions and
/// its lookups are cache misses, a third of the reading time). A txid is a double SHA-256:
/// finding two that share 128 bits takes about 2^64 hashes, out of anyone's reach.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Unspent {
    head: u64,
    tail: u64,
    vout: u32,
}

impl Unspent {
    fn of(txid: &bitcoin::Txid, vout: u32) -> Unspent {
        let b = txid.as_byte_array();
        let word = |k: usize| {
            let w: [u8; 8] = b
                .get(k..k + 8)
                .and_then(|s| s.try_into().ok())
                .unwrap_or_default();
            u64::from_le_bytes(w)
        };
        Unspent {
            head: word(0),
            tail: word(8),
            vout,
        }
    }
}

impl std::hash::Hash for Unspent {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        // The txid's bytes are already evenly spread: eight of them and the index suffice.
        h.write_u64(self.head ^ u64::from(self.vout).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    }
}

/// Builds [`SeededHash`]es with a seed random per process: a block author who grinds txids
/// sharing their first bytes can slow the map down, never make it answer wrongly.
#[derive(Clone)]
struct Seeded(u64);

impl Seeded {
    fn new() -> Seeded {
        use std::hash::BuildHasher;
        Seeded(foldhash::fast::RandomState::default().hash_one(0u8))
    }
}

impl std::hash::BuildHasher for Seeded {
    type Hasher = SeededHash;
    fn build_hasher(&self) -> SeededHash {
        SeededHash(self.0)
    }
}

/// The hasher of the map of unspent outputs.
struct SeededHash(u64);

impl std::hash::Hasher for SeededHash {
    fn write(&mut self, bytes: &[u8]) {
        // Not used by `Unspent`; folded in whole for anything else.
        for chunk in bytes.chunks(8) {
            let mut b = [0u8; 8];
            for (d, s) in b.iter_mut().zip(chunk) {
                *d = *s;
            }
            self.0 = (self.0 ^ u64::from_le_bytes(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 ^= v;
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

/// Every block of `paths` with the default options, in chain order, and what the read came to.
pub fn collect(
    paths: &[PathBuf],
    pools: &Pools,
) -> Result<(Vec<BlockInfo>, BlocksReport), ReadError> {
    let mut out = Vec::new();
    let rep = read_blocks(paths, pools, &BlockOptions::default(), &mut |b, _| {
        out.push(b)
    })?;
    Ok((out, rep))
}

/// Reads blocks from block directories and files, in chain order, handing each to `f`: the
/// headers first ([`read_heads`]), then the trees they make and their best chains
/// ([`Trees::of`]), then each block decoded in that order.
pub fn read_blocks(
    paths: &[PathBuf],
    pools: &Pools,
    opts: &BlockOptions,
    f: &mut dyn FnMut(BlockInfo, &Block),
) -> Result<BlocksReport, ReadError> {
    let files = inputs(paths)?;
    let mut report = BlocksReport::default();
    let (heads, held) = read_heads(&files, &mut report)?;
    let trees = Trees::of(&heads);
    report.stale = trees.stale();
    decode_in_order(&files, &heads, &held, &trees, pools, opts, &mut report, f)?;
    Ok(report)
}

/// Pass 1: every block's header, where to find the block, and (for single files, which are
/// small) the blocks themselves, by file number.
type HeadsRead = (Vec<Head>, HashMap<usize, Vec<Held>>);

fn read_heads(
    files: &[(PathBuf, [u8; 8], bool)],
    report: &mut BlocksReport,
) -> Result<HeadsRead, ReadError> {
    let mut heads: Vec<Head> = Vec::new();
    let mut held: HashMap<usize, Vec<Held>> = HashMap::new();
    for (fi, (path, key, is_blk)) in files.iter().enumerate() {
        let mut push = |net: Option<Net>, src: Src, b: &[u8], report: &mut BlocksReport| {
            let Some(h) = b
                .get(..80)
                .and_then(|h| bitcoin::consensus::deserialize::<bitcoin::block::Header>(h).ok())
            else {
                report.bad_blocks.push(format!(
                    "{}: block at {}: header does not decode",
                    path.display(),
                    match &src {
                        Src::Blk { offset, .. } => *offset,
                        Src::Bytes { index, .. } => *index as u64,
                    }
                ));
                return;
            };
            heads.push(Head {
                hash: h.block_hash(),
                prev: h.prev_blockhash,
                work: h.work(),
                net: net.unwrap_or(Net::Main),
                src,
            });
        };
        if *is_blk {
            // Headers only: the map's other pages are not touched in this pass.
            let file = BlockFile::open(path, *key)?;
            let mut found = Vec::new();
            file.records(path, &mut report.read, &mut |n, off, _| {
                let header = file
                    .slice(off as usize + 8, 80)
                    .map(|h| h.into_owned())
                    .unwrap_or_default();
                found.push((n, off, header))
            });
            for (n, off, b) in found {
                push(
                    Some(n),
                    Src::Blk {
                        file: fi,
                        offset: off,
                    },
                    &b,
                    report,
                );
            }
        } else {
            let bytes = read_deobfuscated(path, key)?;
            let mut v = Vec::new();
            file_blocks(path, &bytes, &mut report.read, &mut v);
            for (i, (n, _, b)) in v.iter().enumerate() {
                push(*n, Src::Bytes { file: fi, index: i }, b, report);
            }
            held.insert(fi, v);
        }
    }
    Ok((heads, held))
}

/// The trees the headers make: each head's depth below its root, the root, whether it is on
/// its tree's best chain (most work), and the order blocks are decoded in (trees by first
/// appearance, within a tree by depth, the best chain before stale branches).
struct Trees {
    depth: Vec<u64>,
    root: Vec<usize>,
    on_best: Vec<bool>,
    order: Vec<usize>,
}

#[allow(
    clippy::indexing_slicing,
    reason = "depth, total, root and on_best are made with one entry per head and indexed by head number"
)]
impl Trees {
    /// Blocks off their tree's best chain.
    fn stale(&self) -> u64 {
        self.order.iter().filter(|&&i| !self.on_best[i]).count() as u64
    }

    fn of(heads: &[Head]) -> Trees {
        let mut by_hash: HashMap<BlockHash, usize> = HashMap::new();
        for (i, h) in heads.iter().enumerate() {
            by_hash.entry(h.hash).or_insert(i);
        }
        let n = heads.len();
        let mut depth = vec![u64::MAX; n];
        let mut total: Vec<Option<Work>> = vec![None; n];
        let mut root = vec![usize::MAX; n];
        for i in 0..n {
            // Walk up to a resolved ancestor or a root, then fill back down.
            let mut path = Vec::new();
            let mut j = i;
            while depth[j] == u64::MAX {
                path.push(j);
                match by_hash.get(&heads[j].prev) {
                    Some(&p) if !path.contains(&p) => j = p,
                    _ => break,
                }
            }
            for &k in path.iter().rev() {
                match by_hash
                    .get(&heads[k].prev)
                    .copied()
                    .filter(|p| depth[*p] != u64::MAX)
                {
                    Some(p) => {
                        depth[k] = depth[p] + 1;
                        total[k] = total[p].map(|w| w + heads[k].work);
                        root[k] = root[p];
                    }
                    None => {
                        depth[k] = 0;
                        total[k] = Some(heads[k].work);
                        root[k] = k;
                    }
                }
            }
        }
        let mut best_tip: HashMap<usize, usize> = HashMap::new();
        for i in 0..n {
            let e = best_tip.entry(root[i]).or_insert(i);
            if total[i] > total[*e] {
                *e = i;
            }
        }
        let mut on_best = vec![false; n];
        for &tip in best_tip.values() {
            let mut j = tip;
            loop {
                on_best[j] = true;
                if root[j] == j {
                    break;
                }
                match by_hash.get(&heads[j].prev) {
                    Some(&p) => j = p,
                    None => break,
                }
            }
        }
        // Order: trees by first appearance, within a tree by depth, best chain before stale.
        let mut order: Vec<usize> = (0..n)
            .filter(|&i| by_hash.get(&heads[i].hash) == Some(&i))
            .collect();
        let mut first_seen: HashMap<usize, usize> = HashMap::new();
        for (i, &r) in root.iter().enumerate() {
            first_seen.entry(r).or_insert(i);
        }
        order.sort_by_key(|&i| (first_seen[&root[i]], depth[i], !on_best[i], i));
        Trees {
            depth,
            root,
            on_best,
            order,
        }
    }
}

/// Pass 2: each block decoded in the trees' order, checked (merkle root), attributed to its
/// pool, its fees worked out from the outputs it spends, and handed to `f`.
#[allow(
    clippy::indexing_slicing,
    reason = "trees are indexed by head number; files by the file numbers the heads were read with"
)]
#[allow(clippy::too_many_arguments)]
fn decode_in_order(
    files: &[(PathBuf, [u8; 8], bool)],
    heads: &[Head],
    held: &HashMap<usize, Vec<Held>>,
    trees: &Trees,
    pools: &Pools,
    opts: &BlockOptions,
    report: &mut BlocksReport,
    f: &mut dyn FnMut(BlockInfo, &Block),
) -> Result<(), ReadError> {
    let Trees {
        depth,
        root,
        on_best,
        order,
    } = trees;
    let mut cache: Option<(usize, BlockFile)> = None;
    let mut utxo: HashMap<Unspent, u64, Seeded> = HashMap::with_hasher(Seeded::new());
    let mut base_height: HashMap<usize, Option<u64>> = HashMap::new();
    for &i in order {
        let h = &heads[i];
        let (path, bytes): (&PathBuf, Cow<[u8]>) = match &h.src {
            Src::Blk { file, offset } => {
                if cache.as_ref().is_none_or(|(f, _)| f != file) {
                    cache = Some((*file, BlockFile::open(&files[*file].0, files[*file].1)?));
                }
                let Some((_, map)) = &cache else { continue };
                let o = *offset as usize;
                // The walk of pass 1 checked the record lies within the file.
                let size = map
                    .slice(o + 4, 4)
                    .and_then(|b| <[u8; 4]>::try_from(&b[..]).ok())
                    .map_or(0, |b| u32::from_le_bytes(b) as usize);
                (
                    &files[*file].0,
                    map.slice(o + 8, size).unwrap_or(Cow::Borrowed(&[])),
                )
            }
            Src::Bytes { file, index } => (
                &files[*file].0,
                held.get(file)
                    .and_then(|v| v.get(*index))
                    .map(|x| Cow::Borrowed(x.2.as_slice()))
                    .unwrap_or(Cow::Borrowed(&[])),
            ),
        };
        let offset = match &h.src {
            Src::Blk { offset, .. } => *offset,
            Src::Bytes { file, index } => held
                .get(file)
                .and_then(|v| v.get(*index))
                .map_or(0, |x| x.1),
        };
        let block: Block = match bitcoin::consensus::deserialize(&bytes) {
            Ok(b) => b,
            Err(e) => {
                report.bad_blocks.push(format!(
                    "{}: block at {offset}: does not decode: {e}",
                    path.display()
                ));
                continue;
            }
        };
        // Txids once: for the merkle check and for the outputs remembered below (hashing is
        // most of the decoding time).
        let txids: Vec<bitcoin::Txid> = block.txdata.iter().map(|t| t.compute_txid()).collect();
        let merkle = bitcoin::merkle_tree::calculate_root(txids.iter().map(|t| t.to_raw_hash()))
            .map(bitcoin::TxMerkleNode::from_raw_hash);
        if merkle != Some(block.header.merkle_root) {
            report.bad_blocks.push(format!(
                "{}: block at {offset}: merkle root does not match its transactions",
                path.display()
            ));
            continue;
        }
        let r = root[i];
        let base = *base_height.entry(r).or_insert_with(|| {
            if heads[r].prev == BlockHash::all_zeros() {
                Some(0)
            } else if r == i {
                block.bip34_block_height().ok()
            } else {
                None
            }
        });
        let height = base.map(|b| b + depth[i]);
        let Some(coinbase) = block.txdata.first() else {
            continue;
        };
        let network = h.net.network();
        let payout_addresses: Vec<String> = coinbase
            .output
            .iter()
            .filter_map(|o| address_of(&o.script_pubkey, network))
            .collect();
        let script_sig = coinbase
            .input
            .first()
            .map(|i| i.script_sig.as_bytes().to_vec())
            .unwrap_or_default();
        let pool = pools.attribute(&payout_addresses, &script_sig);
        let reward: u64 = coinbase.output.iter().map(|o| o.value.to_sat()).sum();
        let subsidy_sat = height.map(|h2| subsidy(h2, h.net));
        let fees = fees_and_spends(&block, &txids, on_best[i], &mut utxo, opts, report);
        let info = BlockInfo {
            hash: h.hash.to_string(),
            height,
            prev: h.prev.to_string(),
            time: minewatch_model::detection::Timestamp(
                i64::from(block.header.time) * 1_000_000_000,
            )
            .to_rfc3339(),
            network: format!("{:?}", h.net).to_lowercase(),
            best_chain: on_best[i],
            txs: block.txdata.len(),
            size: bytes.len(),
            weight: block.weight().to_wu(),
            pool: pool.as_ref().map(|p| p.name.clone()),
            pool_matched_by: pool.as_ref().map(|p| p.by),
            pool_evidence: pool.as_ref().map(|p| p.evidence.clone()),
            coinbase_text: printable(&script_sig),
            payout_addresses,
            reward_sat: reward,
            subsidy_sat,
            fees_sat: fees,
            fees_claimed_sat: subsidy_sat.map(|s| reward as i64 - s as i64),
            file: path.display().to_string(),
            offset,
        };
        f(info, &block);
    }
    Ok(())
}

/// The fees of a block from the outputs it spends, transaction by transaction so that a
/// transaction may spend an output of an earlier one in the same block; `None` when an output
/// spent is unknown. On the best chain spent outputs leave the map as they are found (one
/// lookup each) and the block's outputs join it; a stale block's spends are not ours, so there
/// they are only looked up.
fn fees_and_spends(
    block: &Block,
    txids: &[bitcoin::Txid],
    best: bool,
    utxo: &mut HashMap<Unspent, u64, Seeded>,
    opts: &BlockOptions,
    report: &mut BlocksReport,
) -> Option<u64> {
    let mut fees: Option<u64> = Some(0);
    for (k, (tx, txid)) in block.txdata.iter().zip(txids).enumerate() {
        if k > 0 {
            let mut ins = 0u64;
            for inp in &tx.input {
                let key = Unspent::of(&inp.previous_output.txid, inp.previous_output.vout);
                let found = if best {
                    utxo.remove(&key)
                } else {
                    utxo.get(&key).copied()
                };
                match found {
                    Some(v) => ins = ins.saturating_add(v),
                    None => fees = None,
                }
            }
            // Checked: an invalid transaction (outputs beyond the money supply, or more
            // out than in) must not turn into a plausible fee.
            let outs = tx
                .output
                .iter()
                .try_fold(0u64, |a, o| a.checked_add(o.value.to_sat()));
            fees = match (fees, outs) {
                (Some(f), Some(outs)) if ins >= outs => Some(f + (ins - outs)),
                _ => None,
            };
        }
        if best {
            if utxo.len() < opts.max_utxos {
                for (v, o) in tx.output.iter().enumerate() {
                    utxo.insert(Unspent::of(txid, v as u32), o.value.to_sat());
                }
            } else {
                report.utxo_cap_reached = true;
            }
        }
    }
    if block.txdata.len() == 1 {
        fees = Some(0);
    }
    fees
}
