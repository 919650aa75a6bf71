//! Reads evidence files, stores each observation and attributes it to a site.
//!
//! Work is done a batch at a time and set-wise, so that a server engine costs a few round trips
//! per thousand lines rather than several per line: a batch goes into a temporary staging table
//! (multi-row `INSERT`s), rows the store already has are dropped there, a handful of `UPDATE`s
//! tie the rest to sites through the registry, and one `INSERT … SELECT … ON CONFLICT DO
//! NOTHING` moves them into `evidence`, written once and already attributed. `attributed_by`
//! records how: `''` when nothing matched, otherwise the registry entry that did (NULL only
//! while a re-attribution is under way). A batch is one transaction, so an import killed
//! halfway loses only its open batch and, run again, skips what it had stored; rows not yet
//! in a case are folded by the next [`crate::cases::fuse`].

use std::io::{BufRead, BufReader};
use std::path::Path;

use serde::Serialize;

use crate::StoreError;
use crate::db::{Conn, Value};
use crate::evidence::{Evidence, Parsed, Subject, parse_value};
use crate::registry::{BAD_ROWS_KEPT, BadRow};
use crate::time;

/// Who an import is for, and what it may do.
#[derive(Clone, Copy, Default)]
pub struct Rules<'a> {
    /// The department recorded on the evidence (default: the stream's own).
    pub department: Option<&'a str>,
    /// The GB/T 2260 prefix of the regions the import may touch ("" for everywhere): a line
    /// tied to a site outside it is refused, before and after the wallet retry.
    pub region: &'a str,
    /// Recomputes a line's confidence from the facts it carries, for lines from outside the
    /// process (uploads): given the evidence as parsed and the line as JSON, the confidence to
    /// store. None keeps the line's own (the operator's `minewatch ingest`).
    pub confidence: Option<&'a Recompute>,
}

/// A confidence recomputation: (evidence as parsed, the line) to the confidence to store.
pub type Recompute = dyn Fn(&Evidence, &serde_json::Value) -> f64 + Sync;

/// Lines per transaction.
pub const BATCH: usize = 2000;

/// Rows per `INSERT` statement (27 values each, within every engine's parameter limit).
const ROWS_PER_INSERT: usize = 100;

/// What an ingest did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct IngestReport {
    /// Files read.
    pub files: u64,
    /// Non-empty lines read.
    pub lines: u64,
    /// Evidence rows new to the store.
    pub new: u64,
    /// Evidence rows the store had already.
    pub known: u64,
    /// Power rows below the suspicion threshold (not evidence).
    pub below_threshold: u64,
    /// Trace steps that say nothing about mining (not evidence).
    pub context: u64,
    /// New rows tied to a site.
    pub attributed: u64,
    /// New rows no registry entry explains (kept, listed by `cases unattributed`).
    pub unattributed: u64,
    /// Lines refused because the site they name lies outside the importer's region (also
    /// counted in `bad_count`).
    pub outside_region: u64,
    /// Lines whose confidence was recomputed lower than the line claimed.
    pub confidence_lowered: u64,
    /// Lines refused.
    pub bad_count: u64,
    /// The first refused lines with file, line and reason.
    pub bad: Vec<BadRow>,
}

const COLUMNS: &str = "id, stream, department, detector, subject_kind, subject, subject_port, \
     observed_from, observed_to, coin, pool, worker, wallet, hashrate_hs, power_w, power_w_low, \
     power_w_high, confidence, summary, source_file, source_line, tool, ingested_at, detail";
const PER_ROW: usize = 24;

/// The lease that held an address at the session's time (and port, behind carrier-grade NAT),
/// for a row of table `{T}`.
const LEASE: &str = "FROM ip_assignments a JOIN subscribers s ON s.subscriber_id = a.subscriber_id \
     WHERE a.ip = {T}.subject AND a.valid_from <= {T}.observed_from \
     AND a.valid_to > {T}.observed_from \
     AND a.port_from <= COALESCE({T}.subject_port, 0) \
     AND a.port_to >= COALESCE({T}.subject_port, 0)";

/// The staging table a batch is attributed in before it joins `evidence`: rows are written to
/// the big table once, already attributed, instead of inserted and then rewritten.
const STAGING: &str = "evidence_staging";

/// The statements that attribute every untried row of `table`, in order of preference: an
/// address through its lease at the time, a meter, a registered wallet (the session's payout
/// address or a wallet subject), a wallet that an attributed session paid to, and last the
/// mark for rows nothing explains. Each returns the rows it tied.
fn attribution_statements(table: &str) -> [String; 5] {
    let lease = LEASE.replace("{T}", table);
    [
        format!(
            "UPDATE {table} SET \
             site_id = (SELECT s.site_id {lease} ORDER BY a.valid_from DESC LIMIT 1), \
             attributed_by = (SELECT 'ip-assignment:' || a.subscriber_id {lease} \
                              ORDER BY a.valid_from DESC LIMIT 1) \
             WHERE attributed_by IS NULL AND subject_kind = 'ip' AND EXISTS (SELECT 1 {lease})"
        ),
        format!(
            "UPDATE {table} SET \
             site_id = (SELECT m.site_id FROM meters m WHERE m.meter_id = {table}.subject), \
             attributed_by = 'meter' \
             WHERE attributed_by IS NULL AND subject_kind = 'meter' \
             AND EXISTS (SELECT 1 FROM meters m WHERE m.meter_id = {table}.subject)"
        ),
        format!(
            "UPDATE {table} SET \
             site_id = (SELECT w.site_id FROM wallets w WHERE w.address = {table}.wallet), \
             attributed_by = 'wallet' \
             WHERE attributed_by IS NULL AND wallet IS NOT NULL \
             AND EXISTS (SELECT 1 FROM wallets w WHERE w.address = {table}.wallet)"
        ),
        // A wallet no registry lists, but which a session already tied to a site paid to:
        // the trace belongs to that site's case.
        format!(
            "UPDATE {table} SET \
             site_id = (SELECT n.site_id FROM evidence n WHERE n.wallet = {table}.wallet \
                        AND n.stream = 'network' AND n.site_id IS NOT NULL \
                        ORDER BY n.observed_from DESC LIMIT 1), \
             attributed_by = 'wallet-in-session' \
             WHERE attributed_by IS NULL AND subject_kind = 'wallet' \
             AND EXISTS (SELECT 1 FROM evidence n WHERE n.wallet = {table}.wallet \
                         AND n.stream = 'network' AND n.site_id IS NOT NULL)"
        ),
        format!("UPDATE {table} SET attributed_by = '' WHERE attributed_by IS NULL"),
    ]
}

/// Ties every row of `table` not yet tried to a site; returns (tied, not tied).
fn attribute_pending(conn: &mut Conn, table: &str) -> Result<(u64, u64), StoreError> {
    let [ip, meter, wallet, in_session, none] = attribution_statements(table);
    let mut tied = 0;
    for sql in [&ip, &meter, &wallet, &in_session] {
        tied += conn.execute(sql, &[])?;
    }
    let untied = conn.execute(&none, &[])?;
    Ok((tied, untied))
}

fn row_values(e: &Evidence, now: i64, out: &mut Vec<Value>) {
    let (port, wallet) = match &e.subject {
        Subject::Ip { port, .. } => (port.map(i64::from), e.wallet.clone()),
        Subject::Wallet { address } => (None, Some(address.clone())),
        Subject::Meter { .. } => (None, e.wallet.clone()),
    };
    out.extend([
        e.id.as_str().into(),
        e.stream.name().into(),
        e.department.as_str().into(),
        e.detector.as_str().into(),
        e.subject.kind().into(),
        e.subject.value().into(),
        port.into(),
        e.observed_from.into(),
        e.observed_to.into(),
        e.coin.clone().into(),
        e.pool.clone().into(),
        e.worker.clone().into(),
        wallet.into(),
        e.hashrate_hs.into(),
        e.power_w.into(),
        e.power_w_low.into(),
        e.power_w_high.into(),
        e.confidence.into(),
        e.summary.as_str().into(),
        e.source_file.as_str().into(),
        (e.source_line as i64).into(),
        e.tool.as_str().into(),
        now.into(),
        e.detail.as_str().into(),
    ]);
}

fn insert_sql(rows: usize) -> String {
    let one = format!("({})", vec!["?"; PER_ROW].join(", "));
    format!(
        "INSERT INTO {STAGING} ({COLUMNS}) VALUES {}",
        vec![one; rows].join(", ")
    )
}

/// The condition on a row's `site_id` for a site outside the region prefix bound twice.
const OUTSIDE: &str = "site_id NOT IN (SELECT site_id FROM sites \
     WHERE substr(region_code, 1, length(?)) = ?)";

fn store(
    conn: &mut Conn,
    batch: &mut Vec<Evidence>,
    file: &str,
    rules: &Rules<'_>,
    report: &mut IngestReport,
) -> Result<(), StoreError> {
    if batch.is_empty() {
        return Ok(());
    }
    let read = batch.len() as u64;
    // The same observation twice in one batch is one row.
    let mut ids = std::collections::HashSet::with_capacity(batch.len());
    batch.retain(|e| ids.insert(e.id.clone()));
    let now = time::now();
    let (new, tied, untied, outside) = conn.transaction(|c| {
        c.batch(&format!(
            "CREATE TEMP TABLE IF NOT EXISTS {STAGING} AS SELECT * FROM evidence WHERE 1 = 0"
        ))?;
        let mut values = Vec::with_capacity(ROWS_PER_INSERT * PER_ROW);
        // Every chunk but the last has the full width: build that statement's text once.
        let full = insert_sql(ROWS_PER_INSERT);
        for chunk in batch.chunks(ROWS_PER_INSERT) {
            values.clear();
            for e in chunk {
                row_values(e, now, &mut values);
            }
            if chunk.len() == ROWS_PER_INSERT {
                c.execute(&full, &values)?;
            } else {
                c.execute(&insert_sql(chunk.len()), &values)?;
            }
        }
        c.execute(
            &format!("DELETE FROM {STAGING} WHERE id IN (SELECT id FROM evidence)"),
            &[],
        )?;
        let (mut tied, untied) = attribute_pending(c, STAGING)?;
        // Lines tied to a site outside the importer's region: their line numbers, then gone.
        let mut outside = Vec::new();
        if !rules.region.is_empty() {
            outside = c
                .query(
                    &format!(
                        "SELECT source_line FROM {STAGING} WHERE site_id IS NOT NULL \
                         AND {OUTSIDE} ORDER BY source_line"
                    ),
                    &[rules.region.into(), rules.region.into()],
                )?
                .iter()
                .map(|r| r.int(0) as u64)
                .collect();
            tied -= c.execute(
                &format!("DELETE FROM {STAGING} WHERE site_id IS NOT NULL AND {OUTSIDE}"),
                &[rules.region.into(), rules.region.into()],
            )?;
        }
        let new = c.execute(
            &format!(
                "INSERT INTO evidence SELECT * FROM {STAGING} WHERE 1 = 1 \
                 ON CONFLICT (id) DO NOTHING"
            ),
            &[],
        )?;
        // PostgreSQL never vacuums temporary tables: deleted rows would pile up and every
        // later batch would scan them. TRUNCATE gives the space back; SQLite's unqualified
        // DELETE does the same.
        match c.dialect() {
            crate::db::Dialect::Postgres => c.batch(&format!("TRUNCATE {STAGING}"))?,
            crate::db::Dialect::Sqlite => {
                c.execute(&format!("DELETE FROM {STAGING}"), &[])?;
            }
        }
        Ok((new, tied, untied, outside))
    })?;
    for line in &outside {
        let why = format!(
            "the site this line is tied to lies outside your region {}",
            rules.region
        );
        refuse(report, file, *line, why);
    }
    report.outside_region += outside.len() as u64;
    report.new += new;
    report.known += read - new - outside.len() as u64;
    report.attributed += tied;
    report.unattributed += untied;
    batch.clear();
    Ok(())
}

/// Reads one file of JSON lines into the store (without folding into cases).
pub fn ingest_file(
    conn: &mut Conn,
    path: &Path,
    rules: &Rules<'_>,
    report: &mut IngestReport,
) -> Result<(), StoreError> {
    let file = path.display().to_string();
    let io = |source| StoreError::Io {
        path: file.clone(),
        source,
    };
    let reader = BufReader::new(std::fs::File::open(path).map_err(io)?);
    ingest_reader(conn, reader, &file, rules, report)
}

/// Reads JSON lines from any reader (an upload, a pipe) into the store; `file` names the
/// source in provenance and in messages.
pub fn ingest_reader(
    conn: &mut Conn,
    reader: impl BufRead,
    file: &str,
    rules: &Rules<'_>,
    report: &mut IngestReport,
) -> Result<(), StoreError> {
    let department = rules.department;
    let file = file.to_string();
    report.files += 1;
    let mut batch = Vec::with_capacity(BATCH);
    for (i, line) in reader.lines().enumerate() {
        let line_no = i as u64 + 1;
        let line = match line {
            Ok(l) => l,
            Err(e) => {
                refuse(report, &file, line_no, format!("unreadable: {e}"));
                break;
            }
        };
        if line.trim().is_empty() {
            continue;
        }
        report.lines += 1;
        // Read as JSON once: the evidence and a recomputed confidence both look at it.
        let parsed = serde_json::from_str::<serde_json::Value>(&line)
            .map_err(|e| format!("not JSON: {e}"))
            .and_then(|v| parse_value(&v, &line, &file, line_no, department).map(|p| (p, v)));
        match parsed {
            Ok((Parsed::Evidence(mut e), v)) => {
                if let Some(recompute) = rules.confidence {
                    let c = recompute(&e, &v).clamp(0.0, 1.0);
                    if c < e.confidence {
                        report.confidence_lowered += 1;
                    }
                    e.confidence = c;
                }
                batch.push(*e)
            }
            Ok((Parsed::BelowThreshold, _)) => report.below_threshold += 1,
            Ok((Parsed::Context, _)) => report.context += 1,
            Err(msg) => refuse(report, &file, line_no, msg),
        }
        if batch.len() >= BATCH {
            store(conn, &mut batch, &file, rules, report)?;
        }
    }
    store(conn, &mut batch, &file, rules, report)
}

fn refuse(report: &mut IngestReport, file: &str, line: u64, message: String) {
    report.bad_count += 1;
    if report.bad.len() < BAD_ROWS_KEPT {
        report.bad.push(BadRow {
            file: file.to_string(),
            line,
            message,
        });
    }
}

/// Tries again the rows with no site that `which` selects (a SQL condition on `evidence`);
/// returns how many found one.
fn retry(conn: &mut Conn, which: &str) -> Result<u64, StoreError> {
    conn.transaction(|c| {
        c.execute(
            &format!("UPDATE evidence SET attributed_by = NULL WHERE site_id IS NULL AND {which}"),
            &[],
        )?;
        Ok(attribute_pending(c, "evidence")?.0)
    })
}

/// Tries the wallet evidence (chain traces) that had no site again: a session naming the
/// wallet may have arrived since. Run once per ingest, after its files.
pub fn retry_wallets(conn: &mut Conn) -> Result<u64, StoreError> {
    retry(conn, "subject_kind = 'wallet'")
}

/// What importing registry files came to.
#[derive(Clone, Debug, Default, Serialize)]
pub struct FilesImport {
    /// Each file's import.
    pub files: Vec<crate::registry::ImportReport>,
    /// Stored evidence that now has a site (the registry grew).
    pub reattributed: u64,
    /// What folding that evidence into cases did (when any found a site).
    pub fused: Option<crate::cases::FuseReport>,
}

impl FilesImport {
    /// Rows refused in all.
    pub fn refused(&self) -> u64 {
        self.files.iter().map(|f| f.bad_count).sum()
    }
}

/// Imports registry files one after another (`kind` overrides what each header says), then
/// ties the stored evidence that had no site and now has one, and folds it into cases.
pub fn import_registry(
    conn: &mut Conn,
    files: &[std::path::PathBuf],
    kind: Option<crate::registry::Kind>,
) -> Result<FilesImport, StoreError> {
    let mut out = FilesImport::default();
    for f in files {
        out.files.push(crate::registry::import(conn, f, kind)?);
    }
    out.reattributed = reattribute(conn)?;
    if out.reattributed > 0 {
        out.fused = Some(crate::cases::fuse(conn)?);
    }
    Ok(out)
}

/// Tries again to attribute the evidence that had no site (run after the registry grew);
/// returns how many rows found one.
pub fn reattribute(conn: &mut Conn) -> Result<u64, StoreError> {
    retry(conn, "1 = 1")
}

/// Where an import's lines come from.
pub enum Source<'a> {
    /// A file of JSON lines.
    File(&'a Path),
    /// Lines from a reader (an upload, a pipe), with the name they go by in provenance.
    Reader(String, Box<dyn BufRead + 'a>),
}

/// What an import came to: the lines stored and the cases they moved.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ImportReport {
    /// The lines, rows and refusals.
    #[serde(flatten)]
    pub ingest: IngestReport,
    /// What folding into cases did (all zeros when not folded).
    pub fused: crate::cases::FuseReport,
}

/// The one import path, for `minewatch ingest`, uploads to the server, the demo and the coming
/// broker consumer: store every source's lines and tie them to sites, try the wallet evidence
/// that had no site again (a session naming the wallet may just have arrived), refuse what a
/// region-scoped importer may not touch, and fold the new evidence into cases unless `fuse` is
/// false. The counts of rows tied late to a site move from `unattributed` to `attributed`.
/// Inside a caller's transaction it is one part of that transaction.
pub fn import(
    conn: &mut Conn,
    sources: Vec<Source<'_>>,
    rules: &Rules<'_>,
    fuse: bool,
) -> Result<ImportReport, StoreError> {
    let mut report = ImportReport::default();
    let mut labels = Vec::new();
    for src in sources {
        match src {
            Source::File(p) => {
                labels.push(p.display().to_string());
                ingest_file(conn, p, rules, &mut report.ingest)?;
            }
            Source::Reader(name, r) => {
                ingest_reader(conn, r, &name, rules, &mut report.ingest)?;
                labels.push(name);
            }
        }
    }
    let late = retry_wallets(conn)?;
    let mut late_outside = 0;
    if !rules.region.is_empty() {
        // The retry may tie this import's wallet rows to a site outside the region.
        for label in &labels {
            late_outside += conn.execute(
                &format!(
                    "DELETE FROM evidence WHERE source_file = ? AND case_id IS NULL \
                     AND site_id IS NOT NULL AND {OUTSIDE}"
                ),
                &[
                    label.as_str().into(),
                    rules.region.into(),
                    rules.region.into(),
                ],
            )?;
        }
    }
    let i = &mut report.ingest;
    i.outside_region += late_outside;
    i.bad_count += late_outside;
    i.new = i.new.saturating_sub(late_outside);
    i.attributed += late.saturating_sub(late_outside);
    i.unattributed = i.unattributed.saturating_sub(late);
    if fuse {
        report.fused = crate::cases::fuse(conn)?;
    }
    Ok(report)
}
