//! A synthetic economy on a synthetic chain, with the truth of who owns what: pools mining and
//! paying miners in batches, users paying each other with change, consolidating, joining
//! CoinJoins. It is what clustering is measured against (no real chain says who owns what) and
//! what the reading benchmarks run on at volume.
//!
//! Users come in two habits, as wallets do: most send change to a fresh address of their own;
//! a share (`reuse_change`) sends it back to the address they paid from, which is what fools
//! the change heuristic.

use bitcoin::hashes::Hash;
use bitcoin::{Block, OutPoint, ScriptBuf};
use std::path::Path;

use crate::synth::{block, coinbase, spend};

/// How the economy is drawn.
#[derive(Clone, Debug)]
pub struct EconomyOptions {
    /// Seed.
    pub seed: u64,
    /// Blocks after the genesis block.
    pub blocks: u64,
    /// Transactions per block besides the coinbase and the payout batch.
    pub txs_per_block: usize,
    /// Users.
    pub users: u32,
    /// Pools.
    pub pools: u32,
    /// Share of users who send change back to the address they paid from.
    pub reuse_change: f64,
}

impl Default for EconomyOptions {
    fn default() -> Self {
        EconomyOptions {
            seed: 1,
            blocks: 200,
            txs_per_block: 50,
            users: 2000,
            pools: 5,
            reuse_change: 0.2,
        }
    }
}

/// Who owns an address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Owner {
    /// The address.
    pub address: String,
    /// The owner's number (pools first).
    pub owner: u32,
    /// `pool` or `user`.
    pub kind: &'static str,
}

use minewatch_model::rng::Rng;

/// A line of an owners file that cannot be read.
#[derive(Debug, thiserror::Error)]
#[error("line {line}: {what}")]
pub struct OwnersError {
    /// 1-based line.
    pub line: usize,
    /// What is wrong.
    pub what: String,
}

/// The owners as `address,owner,kind` lines with a header (what `chain generate` writes
/// beside its blocks, the truth the clustering is scored against).
pub fn owners_csv(owners: &[Owner]) -> String {
    let mut text = String::from("address,owner,kind\n");
    for o in owners {
        text.push_str(&format!("{},{},{}\n", o.address, o.owner, o.kind));
    }
    text
}

/// An owners file that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum OwnersFileError {
    /// The file could not be read.
    #[error("reading {}: {source}", path.display())]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// A line is not `address,owner,kind`.
    #[error("{}: {source}", path.display())]
    Line {
        /// The file.
        path: std::path::PathBuf,
        /// The line and what is wrong.
        source: OwnersError,
    },
}

/// Reads an owners file (`address,owner,kind`, as [`owners_csv`] writes it).
pub fn read_owners(path: &Path) -> Result<Vec<Owner>, OwnersFileError> {
    let path_buf = || path.to_path_buf();
    let text = std::fs::read_to_string(path).map_err(|source| OwnersFileError::Io {
        path: path_buf(),
        source,
    })?;
    parse_owners(&text).map_err(|source| OwnersFileError::Line {
        path: path_buf(),
        source,
    })
}

/// Reads [`owners_csv`]'s text back; the header line is skipped.
pub fn parse_owners(text: &str) -> Result<Vec<Owner>, OwnersError> {
    let mut out = Vec::new();
    for (n, l) in text.lines().enumerate().skip(1) {
        let f: Vec<&str> = l.split(',').collect();
        let (Some(a), Some(o)) = (
            f.first(),
            f.get(1).and_then(|o| o.trim().parse::<u32>().ok()),
        ) else {
            return Err(OwnersError {
                line: n + 1,
                what: "need address,owner".into(),
            });
        };
        out.push(Owner {
            address: a.trim().to_string(),
            owner: o,
            kind: if f.get(2).is_some_and(|k| k.trim() == "pool") {
                "pool"
            } else {
                "user"
            },
        });
    }
    Ok(out)
}

/// A P2PKH script for address number `id` (distinct for every id).
pub fn script_of(id: u64) -> ScriptBuf {
    let mut h = [0x5au8; 20];
    h[..8].copy_from_slice(&id.to_le_bytes());
    ScriptBuf::new_p2pkh(&bitcoin::PubkeyHash::from_byte_array(h))
}

fn address_of(id: u64) -> String {
    bitcoin::Address::from_script(&script_of(id), bitcoin::Network::Bitcoin)
        .map(|a| a.to_string())
        .unwrap_or_default()
}

#[derive(Clone, Copy)]
struct Coin {
    at: OutPoint,
    value: u64,
    address: u64,
}

struct State {
    rng: Rng,
    owner_of: Vec<u32>,
    addresses: Vec<Vec<u64>>,
    coins: Vec<Vec<Coin>>,
}

#[allow(
    clippy::indexing_slicing,
    reason = "owner and pool numbers are made by this generator, one entry each"
)]
impl State {
    fn fresh(&mut self, owner: u32) -> u64 {
        let id = self.owner_of.len() as u64;
        self.owner_of.push(owner);
        self.addresses[owner as usize].push(id);
        id
    }
    /// An address of `owner` to receive on: a fresh one, or one it has used.
    fn receive(&mut self, owner: u32, reuse: f64) -> u64 {
        let have = &self.addresses[owner as usize];
        if !have.is_empty() && self.rng.unit() < reuse {
            let i = self.rng.below(have.len() as u64) as usize;
            return self.addresses[owner as usize][i];
        }
        self.fresh(owner)
    }
}

const FEE: u64 = 1_000;

/// Generates the economy into `dir` as mainnet block files, with `owners.csv` (the truth)
/// beside them; returns the block files written and the owners.
pub fn write_to(opts: &EconomyOptions, dir: &Path) -> std::io::Result<(u32, Vec<Owner>)> {
    std::fs::create_dir_all(dir)?;
    let mut files = crate::write::BlockDir::new(dir, [0xf9, 0xbe, 0xb4, 0xd9]);
    let mut err: Option<std::io::Error> = None;
    let owners = generate(opts, &mut |b| {
        if err.is_none()
            && let Err(e) = files.push(&bitcoin::consensus::serialize(b))
        {
            err = Some(e);
        }
    });
    if let Some(e) = err {
        return Err(e);
    }
    let file_no = files.finish()?;
    std::fs::write(dir.join("owners.csv"), owners_csv(&owners))?;
    Ok((file_no, owners))
}

/// Generates the economy block by block into `f`; returns who owns each address.
#[allow(
    clippy::indexing_slicing,
    reason = "owner and pool numbers are made by this generator, one entry each"
)]
pub fn generate(opts: &EconomyOptions, f: &mut dyn FnMut(&Block)) -> Vec<Owner> {
    let owners = opts.pools + opts.users;
    let mut st = State {
        rng: Rng::new(opts.seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1),
        owner_of: Vec::new(),
        addresses: vec![Vec::new(); owners as usize],
        coins: vec![Vec::new(); owners as usize],
    };
    let pool_addr: Vec<u64> = (0..opts.pools).map(|p| st.fresh(p)).collect();
    let reusers = (f64::from(opts.users) * opts.reuse_change) as u32;
    // The chain starts from Bitcoin's real genesis block, so tools that follow the chain from
    // the network's genesis (blocks_iterator in the benchmarks) read it too.
    let genesis = bitcoin::blockdata::constants::genesis_block(bitcoin::Network::Bitcoin);
    f(&genesis);
    let mut prev = genesis.block_hash();
    for h in 1..=opts.blocks {
        let pool = (st.rng.below(u64::from(opts.pools))) as u32;
        let mut txs = Vec::new();
        let mut created: Vec<(u32, Coin)> = Vec::new();
        let mut fees = 0;
        // The pool pays out its oldest coin that covers every share and the fee (its change
        // shrinks each time) to 10–30 miners.
        let n = 10 + st.rng.below(21) as usize;
        let payable = st.coins[pool as usize]
            .iter()
            .position(|c| c.value >= (n as u64 + 2) * 100 * FEE);
        if let Some(c) = payable.map(|i| st.coins[pool as usize].remove(i)) {
            let share = c.value / (n as u64 + 2);
            let mut outs = Vec::new();
            let mut who = Vec::new();
            for _ in 0..n {
                let u = opts.pools + st.rng.below(u64::from(opts.users)) as u32;
                let a = st.receive(u, 0.3);
                outs.push((share, script_of(a)));
                who.push((u, a, share));
            }
            let rest = c.value - share * n as u64 - FEE;
            outs.push((rest, script_of(c.address)));
            who.push((pool, c.address, rest));
            let tx = spend(&[c.at], &outs);
            let id = tx.compute_txid();
            for (i, (o, a, v)) in who.into_iter().enumerate() {
                let at = OutPoint::new(id, i as u32);
                created.push((
                    o,
                    Coin {
                        at,
                        value: v,
                        address: a,
                    },
                ));
            }
            fees += FEE;
            txs.push(tx);
        }
        for _ in 0..opts.txs_per_block {
            let u = opts.pools + st.rng.below(u64::from(opts.users)) as u32;
            let have = st.coins[u as usize].len();
            if have == 0 {
                continue;
            }
            let roll = st.rng.unit();
            if roll < 0.05 {
                // A CoinJoin of 3–5 users, one coin each, equal outputs.
                let k = 3 + st.rng.below(3) as usize;
                let mut parts = vec![(u, st.coins[u as usize].remove(0))];
                for _ in 0..k * 4 {
                    if parts.len() == k {
                        break;
                    }
                    let v = opts.pools + st.rng.below(u64::from(opts.users)) as u32;
                    if parts.iter().any(|p| p.0 == v) || st.coins[v as usize].is_empty() {
                        continue;
                    }
                    parts.push((v, st.coins[v as usize].remove(0)));
                }
                let d = parts.iter().map(|p| p.1.value).min().unwrap_or(0) / 2;
                if parts.len() < 3 || d < 10 * FEE {
                    for (o, c) in parts {
                        st.coins[o as usize].push(c);
                    }
                    continue;
                }
                let mut outs = Vec::new();
                let mut who = Vec::new();
                for (o, _) in &parts {
                    let a = st.fresh(*o);
                    outs.push((d, script_of(a)));
                    who.push((*o, a, d));
                }
                for (o, c) in &parts {
                    let a = st.fresh(*o);
                    let v = c.value - d - FEE;
                    outs.push((v, script_of(a)));
                    who.push((*o, a, v));
                }
                let ins: Vec<OutPoint> = parts.iter().map(|p| p.1.at).collect();
                let tx = spend(&ins, &outs);
                let id = tx.compute_txid();
                for (i, (o, a, v)) in who.into_iter().enumerate() {
                    created.push((
                        o,
                        Coin {
                            at: OutPoint::new(id, i as u32),
                            value: v,
                            address: a,
                        },
                    ));
                }
                fees += FEE * parts.len() as u64;
                txs.push(tx);
            } else if roll < 0.2 && have >= 3 {
                // Consolidation of up to six coins into a fresh address.
                let k = have.min(6);
                let coins: Vec<Coin> = st.coins[u as usize].drain(..k).collect();
                let total: u64 = coins.iter().map(|c| c.value).sum();
                let a = st.fresh(u);
                let ins: Vec<OutPoint> = coins.iter().map(|c| c.at).collect();
                let tx = spend(&ins, &[(total - FEE, script_of(a))]);
                created.push((
                    u,
                    Coin {
                        at: OutPoint::new(tx.compute_txid(), 0),
                        value: total - FEE,
                        address: a,
                    },
                ));
                fees += FEE;
                txs.push(tx);
            } else {
                // A payment from one to three coins, with change.
                let k = (1 + st.rng.below(3) as usize).min(have);
                let coins: Vec<Coin> = st.coins[u as usize].drain(..k).collect();
                let total: u64 = coins.iter().map(|c| c.value).sum();
                if total < 10 * FEE {
                    st.coins[u as usize].extend(coins);
                    continue;
                }
                let pay = total / 100 * (30 + st.rng.below(41));
                let to = opts.pools + st.rng.below(u64::from(opts.users)) as u32;
                let dest = st.receive(to, 0.5);
                let change = if u - opts.pools < reusers {
                    coins[0].address
                } else {
                    st.fresh(u)
                };
                let ins: Vec<OutPoint> = coins.iter().map(|c| c.at).collect();
                let back = total - pay - FEE;
                let tx = spend(&ins, &[(pay, script_of(dest)), (back, script_of(change))]);
                let id = tx.compute_txid();
                created.push((
                    to,
                    Coin {
                        at: OutPoint::new(id, 0),
                        value: pay,
                        address: dest,
                    },
                ));
                created.push((
                    u,
                    Coin {
                        at: OutPoint::new(id, 1),
                        value: back,
                        address: change,
                    },
                ));
                fees += FEE;
                txs.push(tx);
            }
        }
        let reward = 50 * 100_000_000 + fees;
        let cb = coinbase(
            h,
            &format!("/pool{pool}/"),
            script_of(pool_addr[pool as usize]),
            reward,
        );
        let cb_at = OutPoint::new(cb.compute_txid(), 0);
        txs.insert(0, cb);
        let b = block(prev, 1_700_000_000 + (h as u32) * 600, txs);
        prev = b.block_hash();
        f(&b);
        // Coins become spendable in the next block.
        st.coins[pool as usize].push(Coin {
            at: cb_at,
            value: reward,
            address: pool_addr[pool as usize],
        });
        for (o, c) in created {
            st.coins[o as usize].push(c);
        }
    }
    st.owner_of
        .iter()
        .enumerate()
        .map(|(id, &o)| Owner {
            address: address_of(id as u64),
            owner: o,
            kind: if o < opts.pools { "pool" } else { "user" },
        })
        .collect()
}

/// Pairwise precision and recall of a clustering against the owners: of the address pairs put
/// in one cluster, the share with one owner; of the pairs with one owner, the share put in one
/// cluster. Addresses missing from either side are left out.
pub fn pair_scores(members: &[(String, String)], owners: &[Owner]) -> (f64, f64) {
    use std::collections::HashMap;
    let owner: HashMap<&str, u32> = owners
        .iter()
        .map(|o| (o.address.as_str(), o.owner))
        .collect();
    let mut cell: HashMap<(&str, u32), u64> = HashMap::new();
    let mut by_cluster: HashMap<&str, u64> = HashMap::new();
    let mut by_owner: HashMap<u32, u64> = HashMap::new();
    for (a, c) in members {
        let Some(&o) = owner.get(a.as_str()) else {
            continue;
        };
        *cell.entry((c.as_str(), o)).or_default() += 1;
        *by_cluster.entry(c.as_str()).or_default() += 1;
        *by_owner.entry(o).or_default() += 1;
    }
    let pairs = |n: u64| (n * n.saturating_sub(1) / 2) as f64;
    let tp: f64 = cell.values().map(|&n| pairs(n)).sum();
    let predicted: f64 = by_cluster.values().map(|&n| pairs(n)).sum();
    let actual: f64 = by_owner.values().map(|&n| pairs(n)).sum();
    (
        if predicted > 0.0 { tp / predicted } else { 1.0 },
        if actual > 0.0 { tp / actual } else { 1.0 },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owners_round_trip_and_a_bad_line_is_named() {
        let owners = vec![
            Owner {
                address: "bc1qexample".into(),
                owner: 0,
                kind: "pool",
            },
            Owner {
                address: "1Example".into(),
                owner: 7,
                kind: "user",
            },
        ];
        let back = parse_owners(&owners_csv(&owners)).unwrap();
        assert_eq!(back.len(), 2);
        assert_eq!((back[0].owner, back[0].kind), (0, "pool"));
        assert_eq!(
            (back[1].address.as_str(), back[1].kind),
            ("1Example", "user")
        );
        let e = parse_owners("address,owner,kind\nx,1,user\ny,not-a-number,user\n").unwrap_err();
        assert_eq!(e.to_string(), "line 3: need address,owner");
    }
}
