//! Following the money through the index: clusters of addresses by common input ownership,
//! traces from an address forward to tagged entities, and pool payouts to miners.
//!
//! Clustering is the multi-input heuristic (all inputs of a transaction belong to one owner)
//! over union of transactions, CoinJoin-shaped transactions excluded: at least three inputs and
//! at least three outputs of one equal value (docs/FACTS.md §C4). Change heuristics are left out: they
//! are known to collapse clusters. Walks are bounded and report when a bound cut them.

use crate::index::IndexError;
use crate::tags::Tags;
use rusqlite::{Connection, params};
use serde::Serialize;
use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};

/// Looks like a CoinJoin: ≥ 3 inputs and ≥ 3 outputs of one equal value.
pub fn coinjoin_shaped(db: &Connection, tx: i64) -> Result<bool, IndexError> {
    let n_in: i64 = db.query_row("SELECT n_in FROM txs WHERE id = ?1", params![tx], |r| {
        r.get(0)
    })?;
    if n_in < 3 {
        return Ok(false);
    }
    let equal: i64 = db.query_row(
        "SELECT COALESCE(MAX(c), 0) FROM (SELECT COUNT(*) AS c FROM outputs WHERE tx = ?1 GROUP BY value)",
        params![tx],
        |r| r.get(0),
    )?;
    Ok(equal >= 3)
}

/// A cluster around an address.
#[derive(Clone, Debug, Serialize)]
pub struct Cluster {
    /// Addresses, sorted.
    pub addresses: Vec<String>,
    /// Transactions that joined them.
    pub joining_txs: usize,
    /// CoinJoin-shaped transactions passed over.
    pub coinjoins_skipped: usize,
    /// The bound stopped the walk.
    pub truncated: bool,
}

/// The multi-input cluster of `address`, at most `max` addresses.
pub fn cluster(db: &Connection, address: &str, max: usize) -> Result<Cluster, IndexError> {
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut txs_seen: HashSet<i64> = HashSet::new();
    let mut queue = VecDeque::from([address.to_string()]);
    seen.insert(address.to_string());
    let mut joining = 0;
    let mut skipped = 0;
    let mut spends = db.prepare_cached(
        "SELECT DISTINCT spent_by FROM outputs WHERE address = ?1 AND spent_by IS NOT NULL",
    )?;
    let mut inputs = db.prepare_cached(
        "SELECT DISTINCT address FROM outputs WHERE spent_by = ?1 AND address IS NOT NULL",
    )?;
    let mut truncated = false;
    while let Some(a) = queue.pop_front() {
        let txs: Vec<i64> = spends
            .query_map(params![a], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        for t in txs {
            if !txs_seen.insert(t) {
                continue;
            }
            if coinjoin_shaped(db, t)? {
                skipped += 1;
                continue;
            }
            let addrs: Vec<String> = inputs
                .query_map(params![t], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            if addrs.len() > 1 {
                joining += 1;
            }
            for x in addrs {
                if seen.len() >= max {
                    truncated = true;
                    break;
                }
                if seen.insert(x.clone()) {
                    queue.push_back(x);
                }
            }
        }
    }
    Ok(Cluster {
        addresses: seen.into_iter().collect(),
        joining_txs: joining,
        coinjoins_skipped: skipped,
        truncated,
    })
}

/// One step of money moving.
#[derive(Clone, Debug, Serialize)]
pub struct Edge {
    /// Hops from the traced address (negative: inflows).
    pub hop: i32,
    /// Paying address (`coinbase` for newly mined coins).
    pub from: String,
    /// Receiving address.
    pub to: String,
    /// The transaction.
    pub txid: String,
    /// Amount, satoshi.
    pub value_sat: i64,
    /// Block time, seconds since the epoch.
    pub time: i64,
    /// The pool that mined the block, for coinbase inflows.
    pub pool: Option<String>,
    /// The receiver's tag, when tagged.
    pub to_label: Option<String>,
    /// The receiver tag's category.
    pub to_category: Option<String>,
}

/// A trace: inflows one hop back, outflows up to `hops` forward, stopping at tagged addresses.
#[derive(Clone, Debug, Serialize)]
pub struct Trace {
    /// The traced address.
    pub address: String,
    /// The money's steps.
    pub edges: Vec<Edge>,
    /// Newly mined coins received (coinbase inflows), satoshi.
    pub mined_sat: i64,
    /// Tagged entities reached, label → satoshi.
    pub reached: Vec<(String, String, i64)>,
    /// The bound stopped the walk.
    pub truncated: bool,
}

/// Traces `address` through the index.
pub fn trace(
    db: &Connection,
    address: &str,
    hops: u32,
    tags: &Tags,
    max_edges: usize,
) -> Result<Trace, IndexError> {
    let mut edges = Vec::new();
    let mut mined = 0i64;
    // Inflows: outputs paying the address, and who paid them.
    let mut inflows = db.prepare_cached(
        "SELECT t.id, t.txid, t.time, t.coinbase, o.value, b.pool FROM outputs o JOIN txs t ON t.id = o.tx JOIN blocks b ON b.hash = t.block WHERE o.address = ?1",
    )?;
    let rows: Vec<(i64, String, i64, bool, i64, Option<String>)> = inflows
        .query_map(params![address], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        })?
        .collect::<Result<_, _>>()?;
    let mut payers = db.prepare_cached(
        "SELECT DISTINCT address FROM outputs WHERE spent_by = ?1 AND address IS NOT NULL",
    )?;
    for (tx, txid, time, coinbase, value, pool) in rows {
        if coinbase {
            mined += value;
            edges.push(Edge {
                hop: -1,
                from: "coinbase".into(),
                to: address.into(),
                txid,
                value_sat: value,
                time,
                pool,
                to_label: None,
                to_category: None,
            });
            continue;
        }
        let from: Vec<String> = payers
            .query_map(params![tx], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        let from = if from.is_empty() {
            "unknown".to_string()
        } else {
            from.join("+")
        };
        edges.push(Edge {
            hop: -1,
            from,
            to: address.into(),
            txid,
            value_sat: value,
            time,
            pool: None,
            to_label: None,
            to_category: None,
        });
    }
    // Outflows, breadth first.
    let mut spent = db.prepare_cached(
        "SELECT DISTINCT spent_by FROM outputs WHERE address = ?1 AND spent_by IS NOT NULL",
    )?;
    let mut outs = db.prepare_cached("SELECT o.address, o.value, t.txid, t.time FROM outputs o JOIN txs t ON t.id = o.tx WHERE o.tx = ?1 AND o.address IS NOT NULL")?;
    let mut reached: HashMap<(String, String), i64> = HashMap::new();
    let mut visited: HashSet<String> = HashSet::from([address.to_string()]);
    let mut frontier = vec![address.to_string()];
    let mut truncated = false;
    'walk: for hop in 1..=hops as i32 {
        let mut next = Vec::new();
        for a in &frontier {
            let txs: Vec<i64> = spent
                .query_map(params![a], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            for t in txs {
                let rows: Vec<(String, i64, String, i64)> = outs
                    .query_map(params![t], |r| {
                        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
                    })?
                    .collect::<Result<_, _>>()?;
                for (to, value, txid, time) in rows {
                    if edges.len() >= max_edges {
                        truncated = true;
                        break 'walk;
                    }
                    let tag = tags.get(&to);
                    edges.push(Edge {
                        hop,
                        from: a.clone(),
                        to: to.clone(),
                        txid,
                        value_sat: value,
                        time,
                        pool: None,
                        to_label: tag.map(|t| t.label.clone()),
                        to_category: tag.map(|t| t.category.clone()),
                    });
                    match tag {
                        // A tagged entity ends the path: the money reached someone known.
                        Some(tg) => {
                            *reached
                                .entry((tg.label.clone(), tg.category.clone()))
                                .or_default() += value
                        }
                        None => {
                            if visited.insert(to.clone()) {
                                next.push(to);
                            }
                        }
                    }
                }
            }
        }
        frontier = next;
    }
    let mut reached: Vec<(String, String, i64)> =
        reached.into_iter().map(|((l, c), v)| (l, c, v)).collect();
    reached.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(&b.0)));
    Ok(Trace {
        address: address.into(),
        edges,
        mined_sat: mined,
        reached,
        truncated,
    })
}

/// What a pool paid one miner address.
#[derive(Clone, Debug, Serialize)]
pub struct Payout {
    /// The pool.
    pub pool: String,
    /// The miner's address.
    pub address: String,
    /// Payments.
    pub payments: u64,
    /// Total, satoshi.
    pub total_sat: i64,
    /// First payment, seconds since the epoch.
    pub first: i64,
    /// Last payment.
    pub last: i64,
}

/// Follows the coinbase outputs of `pool`'s blocks into the transactions that spend them; a
/// spending transaction with at least `min_outputs` outputs is a payout batch and its outputs
/// are the pool's miners (Romiti et al., WEIS 2019).
pub fn payouts(db: &Connection, pool: &str, min_outputs: i64) -> Result<Vec<Payout>, IndexError> {
    let mut q = db.prepare(
        "SELECT p.address, p.value, pt.time, pt.id FROM blocks b
           JOIN txs c ON c.block = b.hash AND c.coinbase = 1
           JOIN outputs co ON co.tx = c.id
           JOIN txs pt ON pt.id = co.spent_by
           JOIN outputs p ON p.tx = pt.id
         WHERE b.pool = ?1 AND pt.n_out >= ?2 AND p.address IS NOT NULL",
    )?;
    let mut by: HashMap<String, Payout> = HashMap::new();
    let mut seen: HashSet<(i64, String)> = HashSet::new();
    for row in q.query_map(params![pool, min_outputs], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, i64>(2)?,
            r.get::<_, i64>(3)?,
        ))
    })? {
        let (addr, value, time, tx) = row?;
        // A batch spending several coinbases appears once per coinbase: count it once.
        if !seen.insert((tx, addr.clone())) {
            continue;
        }
        let e = by.entry(addr.clone()).or_insert(Payout {
            pool: pool.into(),
            address: addr,
            payments: 0,
            total_sat: 0,
            first: time,
            last: time,
        });
        e.payments += 1;
        e.total_sat += value;
        e.first = e.first.min(time);
        e.last = e.last.max(time);
    }
    let mut v: Vec<Payout> = by.into_values().collect();
    v.sort_by(|a, b| {
        b.total_sat
            .cmp(&a.total_sat)
            .then(a.address.cmp(&b.address))
    });
    Ok(v)
}

/// Options of [`all_clusters`].
#[derive(Clone, Copy, Debug, Default)]
pub struct ClusterOptions {
    /// Also join the change output to the inputs: in a two-output transaction, the one output
    /// whose address first appears there (the other was seen before). Off by default: it is
    /// wrong whenever a payer reuses its own address for change, and one wrong join merges two
    /// whole clusters.
    pub change: bool,
}

/// Every address of the index with its cluster (the cluster's smallest address, so results
/// are the same on every run).
#[derive(Clone, Debug, Default)]
pub struct AllClusters {
    /// (address, cluster), sorted by address.
    pub members: Vec<(String, String)>,
    /// Transactions whose inputs were joined.
    pub joining_txs: u64,
    /// CoinJoin-shaped transactions passed over.
    pub coinjoins_skipped: u64,
    /// Change outputs joined (with [`ClusterOptions::change`]).
    pub change_joins: u64,
}

/// Union-find over address numbers, with path halving and union by size.
struct Dsu {
    parent: Vec<u32>,
    size: Vec<u32>,
}

#[allow(
    clippy::indexing_slicing,
    reason = "element numbers are below the size the sets were made with"
)]
impl Dsu {
    fn find(&mut self, mut x: u32) -> u32 {
        while self.parent[x as usize] != x {
            let p = self.parent[x as usize];
            self.parent[x as usize] = self.parent[p as usize];
            x = p;
        }
        x
    }
    fn union(&mut self, a: u32, b: u32) {
        let (mut a, mut b) = (self.find(a), self.find(b));
        if a == b {
            return;
        }
        if self.size[a as usize] < self.size[b as usize] {
            std::mem::swap(&mut a, &mut b);
        }
        self.parent[b as usize] = a;
        self.size[a as usize] += self.size[b as usize];
    }
}

/// Clusters every address of the index at once: the multi-input heuristic with union-find,
/// CoinJoin-shaped transactions excluded, and the change heuristic when asked.
pub fn all_clusters(db: &Connection, opts: ClusterOptions) -> Result<AllClusters, IndexError> {
    let mut ids: HashMap<String, u32> = HashMap::new();
    let mut names: Vec<String> = Vec::new();
    // First transaction each address received in: "fresh" for the change heuristic.
    let mut first_tx: Vec<i64> = Vec::new();
    {
        let mut q = db.prepare(
            "SELECT address, MIN(tx) FROM outputs WHERE address IS NOT NULL GROUP BY address ORDER BY address",
        )?;
        let rows = q.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
        for row in rows {
            let (a, t) = row?;
            ids.insert(a.clone(), names.len() as u32);
            names.push(a);
            first_tx.push(t);
        }
    }
    let n = names.len();
    let mut dsu = Dsu {
        parent: (0..n as u32).collect(),
        size: vec![1; n],
    };
    let mut out = AllClusters::default();
    // Inputs of every spending transaction, grouped by transaction.
    let mut q = db.prepare(
        "SELECT o.spent_by, o.address FROM outputs o WHERE o.spent_by IS NOT NULL AND o.address IS NOT NULL ORDER BY o.spent_by",
    )?;
    let mut groups: Vec<(i64, Vec<u32>)> = Vec::new();
    for row in q.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))? {
        let (tx, a) = row?;
        let Some(&id) = ids.get(&a) else { continue };
        match groups.last_mut() {
            Some((t, v)) if *t == tx => v.push(id),
            _ => groups.push((tx, vec![id])),
        }
    }
    let mut outs_q =
        db.prepare_cached("SELECT address FROM outputs WHERE tx = ?1 AND address IS NOT NULL")?;
    for (tx, mut inputs) in groups {
        inputs.sort_unstable();
        inputs.dedup();
        if coinjoin_shaped(db, tx)? {
            out.coinjoins_skipped += 1;
            continue;
        }
        if inputs.len() > 1 {
            out.joining_txs += 1;
            for w in inputs.windows(2) {
                if let [a, b] = *w {
                    dsu.union(a, b);
                }
            }
        }
        if opts.change {
            let outs: Vec<String> = outs_q
                .query_map(params![tx], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            if outs.len() == 2 {
                let fresh: Vec<u32> = outs
                    .iter()
                    .filter_map(|a| ids.get(a).copied())
                    .filter(|&id| first_tx.get(id as usize) == Some(&tx) && !inputs.contains(&id))
                    .collect();
                if let ([change], Some(&input)) = (&fresh[..], inputs.first()) {
                    out.change_joins += 1;
                    dsu.union(*change, input);
                }
            }
        }
    }
    // Name each cluster by its smallest address: names are sorted, so the smallest id.
    let mut label: HashMap<u32, u32> = HashMap::new();
    for i in 0..n as u32 {
        let r = dsu.find(i);
        label.entry(r).or_insert(i);
    }
    out.members = names
        .iter()
        .zip(0..n as u32)
        .map(|(name, i)| {
            let r = dsu.find(i);
            let first = label.get(&r).and_then(|&l| names.get(l as usize));
            (name.clone(), first.unwrap_or(name).clone())
        })
        .collect();
    Ok(out)
}
