//! The rows chain records are written as: CSV columns and cells, table columns and cells, the
//! summaries a run ends with, and the trace as a Graphviz graph.
//!
//! The records are serialised whole for JSON lines; a CSV row carries every field a
//! spreadsheet needs, a table row what a person reads at a terminal (amounts in BTC, hashes
//! shortened). Kept beside the records, not in the binary, so a server or a report writes the
//! same rows.

use crate::blocks::{BlockInfo, BlocksReport, PoolShare};
use crate::graph::{AllClusters, Cluster, Edge, Payout, Trace};
use crate::index::IndexReport;
use serde::Serialize;

/// Satoshi as BTC with eight decimals.
fn btc(sat: f64) -> String {
    format!("{:.8}", sat / 1e8)
}

fn or_empty<T: ToString>(v: Option<T>) -> String {
    v.map(|x| x.to_string()).unwrap_or_default()
}

/// The CSV columns of [`BlockInfo::csv_cells`].
pub const BLOCK_COLUMNS: [&str; 13] = [
    "height",
    "hash",
    "time",
    "best_chain",
    "txs",
    "size",
    "pool",
    "pool_matched_by",
    "reward_sat",
    "subsidy_sat",
    "fees_sat",
    "fees_claimed_sat",
    "coinbase_text",
];

/// The table columns of [`BlockInfo::table_cells`].
pub const BLOCK_TABLE: [&str; 8] = [
    "height",
    "hash",
    "time",
    "txs",
    "pool",
    "by",
    "reward BTC",
    "fees BTC",
];

impl BlockInfo {
    fn matched_by(&self) -> String {
        self.pool_matched_by
            .map(|m| format!("{m:?}").to_lowercase())
            .unwrap_or_default()
    }

    /// The cells of this block under [`BLOCK_COLUMNS`].
    pub fn csv_cells(&self) -> Vec<String> {
        vec![
            or_empty(self.height),
            self.hash.clone(),
            self.time.clone(),
            self.best_chain.to_string(),
            self.txs.to_string(),
            self.size.to_string(),
            self.pool.clone().unwrap_or_default(),
            self.matched_by(),
            self.reward_sat.to_string(),
            or_empty(self.subsidy_sat),
            or_empty(self.fees_sat),
            or_empty(self.fees_claimed_sat),
            self.coinbase_text.clone(),
        ]
    }

    /// The cells of this block under [`BLOCK_TABLE`]: the hash shortened, the time to the
    /// second, stale blocks marked, fees from the spent outputs or else the coinbase's claim.
    pub fn table_cells(&self) -> Vec<String> {
        let height = self.height.map_or_else(|| "?".into(), |h| h.to_string());
        let time = self.time.get(..19).unwrap_or(&self.time);
        vec![
            height + if self.best_chain { "" } else { " (stale)" },
            format!("{}…", self.hash.get(..16).unwrap_or(&self.hash)),
            time.replace('T', " "),
            self.txs.to_string(),
            self.pool.clone().unwrap_or_default(),
            self.matched_by(),
            btc(self.reward_sat as f64),
            self.fees_sat
                .or(self.fees_claimed_sat.map(|f| f.max(0) as u64))
                .map(|f| btc(f as f64))
                .unwrap_or_default(),
        ]
    }
}

/// The CSV columns of [`PoolShare::csv_cells`].
pub const POOL_COLUMNS: [&str; 4] = ["pool", "blocks", "share", "reward_sat"];

/// The table columns of [`PoolShare::table_cells`].
pub const POOL_TABLE: [&str; 4] = ["pool", "blocks", "share", "reward BTC"];

impl PoolShare {
    /// The cells of this share under [`POOL_COLUMNS`].
    pub fn csv_cells(&self) -> Vec<String> {
        vec![
            self.pool.replace(',', " "),
            self.blocks.to_string(),
            format!("{:.4}", self.share),
            self.reward_sat.to_string(),
        ]
    }

    /// The cells of this share under [`POOL_TABLE`].
    pub fn table_cells(&self) -> Vec<String> {
        vec![
            self.pool.clone(),
            self.blocks.to_string(),
            format!("{:.1}%", self.share * 100.0),
            btc(self.reward_sat as f64),
        ]
    }
}

/// The CSV columns of [`Edge::csv_cells`].
pub const EDGE_COLUMNS: [&str; 9] = [
    "hop",
    "from",
    "to",
    "txid",
    "value_sat",
    "time",
    "pool",
    "to_label",
    "to_category",
];

/// The table columns of [`Edge::table_cells`].
pub const EDGE_TABLE: [&str; 5] = ["hop", "from", "to", "BTC", "tag"];

impl Edge {
    /// The cells of this step under [`EDGE_COLUMNS`].
    pub fn csv_cells(&self) -> Vec<String> {
        vec![
            self.hop.to_string(),
            self.from.clone(),
            self.to.clone(),
            self.txid.clone(),
            self.value_sat.to_string(),
            self.time.to_string(),
            self.pool.clone().unwrap_or_default(),
            self.to_label.clone().unwrap_or_default(),
            self.to_category.clone().unwrap_or_default(),
        ]
    }

    /// The cells of this step under [`EDGE_TABLE`].
    pub fn table_cells(&self) -> Vec<String> {
        vec![
            self.hop.to_string(),
            self.from.clone(),
            self.to.clone(),
            btc(self.value_sat as f64),
            self.to_label
                .clone()
                .or(self.pool.clone())
                .unwrap_or_default(),
        ]
    }
}

/// A step of a trace as a JSON line: it names the traced address, so `minewatch ingest` can
/// keep the trace as evidence on the case of the site behind that wallet.
#[derive(Serialize)]
pub struct TraceLine<'a> {
    /// The traced address.
    pub traced: &'a str,
    /// The step.
    #[serde(flatten)]
    pub edge: &'a Edge,
}

impl Trace {
    /// Its steps as JSON-line records.
    pub fn lines(&self) -> Vec<TraceLine<'_>> {
        self.edges
            .iter()
            .map(|edge| TraceLine {
                traced: &self.address,
                edge,
            })
            .collect()
    }

    /// The trace as a Graphviz digraph: the traced address doubly circled, tagged receivers
    /// boxed with their label, each step an arrow with its amount.
    pub fn dot(&self) -> String {
        use std::fmt::Write as _;
        let mut s = format!(
            "digraph trace {{\n  rankdir=LR;\n  \"{}\" [shape=doublecircle];\n",
            self.address
        );
        for e in &self.edges {
            if let Some(l) = &e.to_label {
                let _ = writeln!(
                    s,
                    "  \"{}\" [shape=box, label=\"{}\\n{}\"];",
                    e.to,
                    l.replace('"', "'"),
                    e.to
                );
            }
            let _ = writeln!(
                s,
                "  \"{}\" -> \"{}\" [label=\"{} BTC\"];",
                e.from,
                e.to,
                btc(e.value_sat as f64)
            );
        }
        s.push_str("}\n");
        s
    }

    /// One line of what the trace came to.
    pub fn summary(&self) -> String {
        let reached = if self.reached.is_empty() {
            "no tagged entity".to_string()
        } else {
            self.reached
                .iter()
                .map(|(l, c, v)| format!("{l} ({c}) {} BTC", btc(*v as f64)))
                .collect::<Vec<_>>()
                .join(", ")
        };
        format!(
            "{} steps; mined income {} BTC; reached: {reached}{}",
            self.edges.len(),
            btc(self.mined_sat as f64),
            if self.truncated {
                "; stopped at --max-edges"
            } else {
                ""
            }
        )
    }
}

/// The CSV and table columns of [`Payout::cells`].
pub const PAYOUT_COLUMNS: [&str; 6] = ["pool", "address", "payments", "total_sat", "first", "last"];

impl Payout {
    /// The cells of this payout under [`PAYOUT_COLUMNS`].
    pub fn cells(&self) -> Vec<String> {
        vec![
            self.pool.replace(',', " "),
            self.address.clone(),
            self.payments.to_string(),
            self.total_sat.to_string(),
            self.first.to_string(),
            self.last.to_string(),
        ]
    }
}

/// An address and the cluster it belongs to, as a record.
#[derive(Clone, Debug, Serialize)]
pub struct Member<'a> {
    /// The address.
    pub address: &'a str,
    /// Its cluster (the cluster's smallest address).
    pub cluster: &'a str,
}

/// The CSV and table columns of [`Member::cells`].
pub const MEMBER_COLUMNS: [&str; 2] = ["address", "cluster"];

impl Member<'_> {
    /// The cells of this member under [`MEMBER_COLUMNS`].
    pub fn cells(&self) -> Vec<String> {
        vec![self.address.to_string(), self.cluster.to_string()]
    }
}

impl AllClusters {
    /// Every address with its cluster, as records.
    pub fn rows(&self) -> Vec<Member<'_>> {
        self.members
            .iter()
            .map(|(address, cluster)| Member { address, cluster })
            .collect()
    }

    /// One line of what the clustering came to.
    pub fn summary(&self) -> String {
        let distinct: std::collections::HashSet<&String> =
            self.members.iter().map(|m| &m.1).collect();
        format!(
            "{} addresses in {} clusters; {} transactions joined inputs, {} change outputs joined, {} CoinJoin-shaped passed over",
            self.members.len(),
            distinct.len(),
            self.joining_txs,
            self.change_joins,
            self.coinjoins_skipped
        )
    }
}

/// An address of one cluster, as a record.
#[derive(Clone, Debug, Serialize)]
pub struct Joined<'a> {
    /// The address.
    pub address: &'a str,
    /// The address the cluster was asked for.
    pub cluster_of: &'a str,
}

/// The CSV and table columns of [`Joined::cells`].
pub const JOINED_COLUMNS: [&str; 2] = ["address", "cluster_of"];

impl Joined<'_> {
    /// The cells of this address under [`JOINED_COLUMNS`].
    pub fn cells(&self) -> Vec<String> {
        vec![self.address.to_string(), self.cluster_of.to_string()]
    }
}

impl Cluster {
    /// The cluster's addresses as records naming the address asked for.
    pub fn rows<'a>(&'a self, of: &'a str) -> Vec<Joined<'a>> {
        self.addresses
            .iter()
            .map(|address| Joined {
                address,
                cluster_of: of,
            })
            .collect()
    }

    /// One line of what the walk came to.
    pub fn summary(&self) -> String {
        format!(
            "{} addresses joined by {} transactions; {} CoinJoin-shaped transactions passed over{}",
            self.addresses.len(),
            self.joining_txs,
            self.coinjoins_skipped,
            if self.truncated {
                "; stopped at --max"
            } else {
                ""
            }
        )
    }
}

impl BlocksReport {
    /// Whether a file or a block could not be read.
    pub fn has_problems(&self) -> bool {
        !self.read.errors.is_empty() || !self.bad_blocks.is_empty()
    }

    /// The warnings (files ending inside a record) and errors (unreadable files, bad blocks)
    /// of the read, a line each, each prefixed with its kind.
    pub fn problems(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .read
            .truncated
            .iter()
            .map(|(f, off, declared, present)| {
                format!(
                    "warning: {}: file ends inside the record at byte offset {off} ({present} of {declared} bytes); read up to there",
                    f.display()
                )
            })
            .collect();
        out.extend(self.read.errors.iter().map(|e| format!("error: {e}")));
        out.extend(self.bad_blocks.iter().map(|b| format!("error: {b}")));
        out
    }

    /// One line of what the read came to, `reported` being the blocks handed on.
    pub fn summary(&self, reported: usize) -> String {
        format!(
            "{} blocks read, {reported} reported ({} stale){}",
            self.read.blocks,
            self.stale,
            if self.utxo_cap_reached {
                "; output map full: later fees from the coinbase only"
            } else {
                ""
            }
        )
    }
}

impl IndexReport {
    /// One line of what indexing did: the read's stale blocks left out, `total` blocks in the
    /// index at `db` after it.
    pub fn summary(&self, read: &BlocksReport, total: u64, db: &std::path::Path) -> String {
        format!(
            "{} blocks added, {} already indexed, {} stale left out; {} inputs spend outputs not in the index; {total} blocks in {}",
            self.added,
            self.skipped,
            read.stale,
            self.unknown_prevouts,
            db.display()
        )
    }
}
