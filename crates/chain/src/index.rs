//! The chain in an embedded SQLite store: blocks, transactions, outputs with their addresses,
//! and which transaction spent each output. Built incrementally: blocks are committed in
//! batches of whole blocks ([`BATCH_BLOCKS`]), blocks already in the store are skipped, so a run
//! killed halfway continues after the last batch it committed.

use crate::blocks::{BlockInfo, BlockOptions, BlocksReport, read_blocks};
use crate::pools::Pools;
use crate::read::ReadError;
use bitcoin::{Block, Network};
use rusqlite::{Connection, OptionalExtension, params};
use std::path::{Path, PathBuf};
use thiserror::Error;

/// Store failures.
#[derive(Debug, Error)]
pub enum IndexError {
    /// SQLite said no.
    #[error("{0}")]
    Sql(#[from] rusqlite::Error),
    /// No index at the path (clustering and tracing need one made first).
    #[error("no index here; make one with `minewatch chain index BLOCKS --db {0}`")]
    Missing(String),
}

/// Why adding block files to an index stopped.
#[derive(Debug, Error)]
pub enum AddError {
    /// The block files could not be listed or read.
    #[error("reading blocks: {0}")]
    Read(#[from] ReadError),
    /// A block could not be written.
    #[error("block {hash}: {source}")]
    Block {
        /// The block's hash.
        hash: String,
        /// What the store said.
        source: IndexError,
    },
    /// The last batch could not be committed.
    #[error("{0}")]
    Commit(#[from] IndexError),
}

/// The network of a block's `network` name ([`BlockInfo::network`]).
fn network(name: &str) -> Network {
    match name {
        "testnet3" => Network::Testnet,
        "testnet4" => Network::Testnet4,
        "signet" => Network::Signet,
        "regtest" => Network::Regtest,
        _ => Network::Bitcoin,
    }
}

const SCHEMA: &str = "
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
PRAGMA cache_size = -262144;
PRAGMA temp_store = MEMORY;
CREATE TABLE IF NOT EXISTS blocks (
    hash TEXT PRIMARY KEY, height INTEGER, time INTEGER NOT NULL, pool TEXT, reward INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS txs (
    id INTEGER PRIMARY KEY, txid TEXT NOT NULL UNIQUE, block TEXT NOT NULL, height INTEGER,
    time INTEGER NOT NULL, coinbase INTEGER NOT NULL, n_in INTEGER NOT NULL, n_out INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS outputs (
    tx INTEGER NOT NULL, vout INTEGER NOT NULL, value INTEGER NOT NULL, address TEXT,
    spent_by INTEGER, PRIMARY KEY (tx, vout)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS outputs_address ON outputs(address);
CREATE INDEX IF NOT EXISTS outputs_spent_by ON outputs(spent_by);
";

/// Blocks written per database transaction: a commit per block spent most of the indexing
/// time in the journal (docs/PERFORMANCE.md "`minewatch chain index`").
pub const BATCH_BLOCKS: u32 = 100;

/// An open index.
pub struct Index {
    db: Connection,
    /// Blocks written in the open transaction.
    pending: u32,
}

/// What an indexing run did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IndexReport {
    /// Blocks added.
    pub added: u64,
    /// Blocks already in the store.
    pub skipped: u64,
    /// Inputs whose spent output is not in the store (the run did not start at genesis).
    pub unknown_prevouts: u64,
}

impl Index {
    /// Opens (creating if needed) the store at `path`.
    pub fn open(path: &Path) -> Result<Index, IndexError> {
        let db = Connection::open(path)?;
        db.execute_batch(SCHEMA)?;
        Ok(Index { db, pending: 0 })
    }

    /// Opens the index at `path`, which must exist.
    pub fn open_existing(path: &Path) -> Result<Index, IndexError> {
        if !path.exists() {
            return Err(IndexError::Missing(path.display().to_string()));
        }
        Index::open(path)
    }

    /// Commits the blocks written since the last commit.
    pub fn flush(&mut self) -> Result<(), IndexError> {
        if self.pending > 0 {
            self.pending = 0;
            self.db.execute_batch("COMMIT")?;
        }
        Ok(())
    }

    /// Adds one best-chain block (skipped when already present).
    pub fn add(
        &mut self,
        info: &BlockInfo,
        block: &Block,
        network: Network,
        report: &mut IndexReport,
    ) -> Result<(), IndexError> {
        let known: Option<i64> = self
            .db
            .query_row(
                "SELECT 1 FROM blocks WHERE hash = ?1",
                params![info.hash],
                |r| r.get(0),
            )
            .optional()?;
        if known.is_some() {
            report.skipped += 1;
            return Ok(());
        }
        let time = i64::from(block.header.time);
        if self.pending == 0 {
            self.db.execute_batch("BEGIN IMMEDIATE")?;
        }
        match self.write(info, block, network, time, report) {
            Ok(()) => {
                self.pending += 1;
                report.added += 1;
                if self.pending >= BATCH_BLOCKS {
                    self.flush()?;
                }
                Ok(())
            }
            Err(e) => {
                // The batch goes as a whole; its blocks are not in the store and a rerun adds
                // them again.
                report.added -= u64::from(self.pending);
                self.pending = 0;
                let _ = self.db.execute_batch("ROLLBACK");
                Err(e)
            }
        }
    }

    fn write(
        &mut self,
        info: &BlockInfo,
        block: &Block,
        network: Network,
        time: i64,
        report: &mut IndexReport,
    ) -> Result<(), IndexError> {
        let tx = &self.db;
        {
            let mut ins_tx = tx.prepare_cached("INSERT OR IGNORE INTO txs (txid, block, height, time, coinbase, n_in, n_out) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")?;
            let mut tx_id = tx.prepare_cached("SELECT id FROM txs WHERE txid = ?1")?;
            let mut ins_out = tx.prepare_cached(
                "INSERT OR IGNORE INTO outputs (tx, vout, value, address) VALUES (?1, ?2, ?3, ?4)",
            )?;
            let mut spend = tx.prepare_cached("UPDATE outputs SET spent_by = ?1 WHERE tx = (SELECT id FROM txs WHERE txid = ?2) AND vout = ?3")?;
            for t in &block.txdata {
                let txid = t.compute_txid().to_string();
                let added = ins_tx.execute(params![
                    txid,
                    info.hash,
                    info.height.map(|h| h as i64),
                    time,
                    t.is_coinbase(),
                    t.input.len() as i64,
                    t.output.len() as i64
                ])?;
                // A new row's id is at hand; a txid seen before (the duplicate coinbases of
                // BIP 30) is looked up.
                let id: i64 = if added == 1 {
                    tx.last_insert_rowid()
                } else {
                    tx_id.query_row(params![txid], |r| r.get(0))?
                };
                for (v, o) in t.output.iter().enumerate() {
                    let addr = crate::blocks::address_of(&o.script_pubkey, network);
                    ins_out.execute(params![id, v as i64, o.value.to_sat() as i64, addr])?;
                }
                if !t.is_coinbase() {
                    for i in &t.input {
                        let n = spend.execute(params![
                            id,
                            i.previous_output.txid.to_string(),
                            i.previous_output.vout as i64
                        ])?;
                        if n == 0 {
                            report.unknown_prevouts += 1;
                        }
                    }
                }
            }
        }
        tx.execute(
            "INSERT INTO blocks (hash, height, time, pool, reward) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                info.hash,
                info.height.map(|h| h as i64),
                time,
                info.pool,
                info.reward_sat as i64
            ],
        )?;
        Ok(())
    }

    /// Reads the block files of `paths` and adds their best-chain blocks, then commits. The
    /// first block that cannot be written stops the adding (the blocks before it are kept).
    pub fn add_blocks(
        &mut self,
        paths: &[PathBuf],
        pools: &Pools,
    ) -> Result<(IndexReport, BlocksReport), AddError> {
        let mut rep = IndexReport::default();
        let mut failed: Option<AddError> = None;
        let read = read_blocks(paths, pools, &BlockOptions::default(), &mut |info, b| {
            if failed.is_none()
                && info.best_chain
                && let Err(source) = self.add(&info, b, network(&info.network), &mut rep)
            {
                failed = Some(AddError::Block {
                    hash: info.hash.clone(),
                    source,
                });
            }
        })?;
        if let Some(e) = failed {
            return Err(e);
        }
        self.flush()?;
        Ok((rep, read))
    }

    /// The highest block height indexed, if any.
    pub fn tip_height(&self) -> Result<Option<u64>, IndexError> {
        let h: Option<i64> = self
            .db
            .query_row("SELECT MAX(height) FROM blocks", [], |r| r.get(0))?;
        Ok(h.and_then(|h| u64::try_from(h).ok()))
    }

    /// The connection, for the queries of clustering and tracing.
    pub fn db(&self) -> &Connection {
        &self.db
    }

    /// Blocks in the store.
    pub fn blocks(&self) -> Result<u64, IndexError> {
        Ok(self
            .db
            .query_row("SELECT COUNT(*) FROM blocks", [], |r| r.get::<_, i64>(0))?
            as u64)
    }
}

impl Drop for Index {
    fn drop(&mut self) {
        // Whole blocks written and not yet committed are kept.
        let _ = self.flush();
    }
}
