//! Reads evidence files, attributes each observation to a site and stores it.
//!
//! Lines are written in transactions of [`BATCH`] with `ON CONFLICT DO NOTHING` on the content
//! id, so a repeated import adds nothing and an import killed halfway resumes by being run
//! again. Folding into cases is a separate step ([`crate::cases::fuse`]) that picks up every
//! attributed row not yet in a case, which is what makes the kill safe: rows stored before the
//! kill are folded by the next run.

use std::io::{BufRead, BufReader};
use std::path::Path;

use serde::Serialize;

use crate::db::{Conn, Value};
use crate::evidence::{Evidence, Parsed, Subject, parse_line};
use crate::registry::{
    Attribution, BAD_ROWS_KEPT, BadRow, site_of_ip, site_of_meter, site_of_wallet,
};
use crate::{StoreError, time};

/// Lines per transaction.
pub const BATCH: usize = 2000;

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
    /// New rows tied to a site.
    pub attributed: u64,
    /// New rows no registry entry explains (kept, listed by `cases unattributed`).
    pub unattributed: u64,
    /// Lines refused.
    pub bad_count: u64,
    /// The first refused lines with file, line and reason.
    pub bad: Vec<BadRow>,
}

const INSERT: &str = "INSERT INTO evidence (id, stream, department, detector, subject_kind, \
     subject, subject_port, observed_from, observed_to, coin, pool, worker, wallet, hashrate_hs, \
     power_w, power_w_low, power_w_high, confidence, summary, source_file, source_line, tool, \
     ingested_at, site_id, attributed_by, case_id, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, \
     ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?) ON CONFLICT (id) DO NOTHING";

/// Ties an observation to a site: an IP through its assignment at the time (with the source
/// port, for carrier-grade NAT), a meter directly, and a wallet when the address says nothing.
pub fn attribute(conn: &mut Conn, e: &Evidence) -> Result<Option<Attribution>, StoreError> {
    let found = match &e.subject {
        Subject::Ip { ip, port } => site_of_ip(conn, ip, port.map(i64::from), e.observed_from)?,
        Subject::Meter { id } => site_of_meter(conn, id)?,
        Subject::Wallet { address } => site_of_wallet(conn, address)?,
    };
    match (found, &e.wallet) {
        (None, Some(w)) => site_of_wallet(conn, w),
        (found, _) => Ok(found),
    }
}

fn store(
    conn: &mut Conn,
    batch: &mut Vec<Evidence>,
    report: &mut IngestReport,
) -> Result<(), StoreError> {
    if batch.is_empty() {
        return Ok(());
    }
    let now = time::now();
    let (mut new, mut attributed) = (0, 0);
    conn.transaction(|c| {
        for e in batch.iter() {
            let site = attribute(c, e)?;
            let port = match &e.subject {
                Subject::Ip { port, .. } => port.map(i64::from),
                _ => None,
            };
            let n = c.execute(
                INSERT,
                &[
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
                    e.wallet.clone().into(),
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
                    site.as_ref().map(|a| a.site_id.clone()).into(),
                    site.as_ref().map(|a| a.by.clone()).into(),
                    e.detail.as_str().into(),
                ],
            )?;
            new += n;
            if n > 0 && site.is_some() {
                attributed += 1;
            }
        }
        Ok(())
    })?;
    report.new += new;
    report.known += batch.len() as u64 - new;
    report.attributed += attributed;
    report.unattributed += new - attributed;
    batch.clear();
    Ok(())
}

/// Reads one file of JSON lines into the store (without folding into cases).
pub fn ingest_file(
    conn: &mut Conn,
    path: &Path,
    department: Option<&str>,
    report: &mut IngestReport,
) -> Result<(), StoreError> {
    let file = path.display().to_string();
    let io = |source| StoreError::Io {
        path: file.clone(),
        source,
    };
    let reader = BufReader::new(std::fs::File::open(path).map_err(io)?);
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
        match parse_line(&line, &file, line_no, department) {
            Ok(Parsed::Evidence(e)) => batch.push(*e),
            Ok(Parsed::BelowThreshold) => report.below_threshold += 1,
            Err(msg) => refuse(report, &file, line_no, msg),
        }
        if batch.len() >= BATCH {
            store(conn, &mut batch, report)?;
        }
    }
    store(conn, &mut batch, report)
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

/// Tries again to attribute evidence that had no site (run after the registry grew); returns
/// how many rows found one. Reads the unattributed rows in pages keyed by id, so memory stays
/// bounded however many there are.
pub fn reattribute(conn: &mut Conn) -> Result<u64, StoreError> {
    let mut found = 0;
    let mut after = String::new();
    loop {
        let page = conn.query(
            "SELECT id, subject_kind, subject, subject_port, observed_from, wallet FROM evidence \
             WHERE site_id IS NULL AND id > ? ORDER BY id LIMIT ?",
            &[after.as_str().into(), (BATCH as i64).into()],
        )?;
        let Some(last) = page.last() else {
            return Ok(found);
        };
        after = last.text(0);
        conn.transaction(|c| {
            for r in &page {
                let subject = r.text(2);
                let site = match r.text(1).as_str() {
                    "ip" => site_of_ip(c, &subject, r.opt_int(3), r.int(4))?,
                    "meter" => site_of_meter(c, &subject)?,
                    _ => site_of_wallet(c, &subject)?,
                };
                let site = match (site, r.opt_text(5)) {
                    (None, Some(w)) => site_of_wallet(c, &w)?,
                    (s, _) => s,
                };
                if let Some(a) = site {
                    c.execute(
                        "UPDATE evidence SET site_id = ?, attributed_by = ? WHERE id = ?",
                        &[a.site_id.into(), a.by.into(), Value::Text(r.text(0))],
                    )?;
                    found += 1;
                }
            }
            Ok(())
        })?;
    }
}
