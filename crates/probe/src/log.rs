//! The probe log, and an outcome's row: what a regulator keeps of every connection made to a
//! suspected pool (who was asked, when, how, what came back), one JSON line each.

use crate::{Attempt, Outcome, Transport, Verdict};
use minewatch_model::probe::ProbeRecord;
use minewatch_model::{Coin, Timestamp};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

/// Why the probe log failed.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// The file could not be opened.
    #[error("opening the probe log {}: {source}", path.display())]
    Open {
        /// The file.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// Lines could not be written (the probing went on; the log lacks them).
    #[error("{0} probe-log line(s) could not be written")]
    Lost(u64),
}

/// The probe log: every connection as a JSON line, appended to a file when one is named.
/// Shared by the probing threads; a line that cannot be written is counted and reported at
/// [`ProbeLog::finish`], not allowed to stop the probing.
pub struct ProbeLog {
    file: Option<Mutex<std::fs::File>>,
    failed: Mutex<u64>,
}

impl ProbeLog {
    /// Opens `path` for appending (no file: nothing is kept).
    pub fn open(path: Option<&Path>) -> Result<ProbeLog, LogError> {
        let file = match path {
            Some(p) => Some(Mutex::new(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(p)
                    .map_err(|source| LogError::Open {
                        path: p.to_path_buf(),
                        source,
                    })?,
            )),
            None => None,
        };
        Ok(ProbeLog {
            file,
            failed: Mutex::new(0),
        })
    }

    /// Writes one connection.
    pub fn record(&self, at: &Attempt) {
        if let Some(f) = &self.file {
            let line = serde_json::to_string(at).unwrap_or_default();
            let mut f = f.lock().unwrap_or_else(PoisonError::into_inner);
            if writeln!(f, "{line}").is_err() {
                *self.failed.lock().unwrap_or_else(PoisonError::into_inner) += 1;
            }
        }
    }

    /// An error when any line could not be written.
    pub fn finish(&self) -> Result<(), LogError> {
        match *self.failed.lock().unwrap_or_else(PoisonError::into_inner) {
            0 => Ok(()),
            n => Err(LogError::Lost(n)),
        }
    }
}

/// The columns of [`Outcome::cells`].
pub const OUTCOME_COLUMNS: [&str; 8] = [
    "target",
    "transport",
    "verdict",
    "dialect",
    "coin",
    "reason",
    "answer",
    "at",
];

/// One line of what a run came to (targets, pools among them, connections made) and whether
/// a pool was among them.
pub fn summary(outcomes: &[Outcome]) -> (String, bool) {
    let connections: u32 = outcomes.iter().map(|o| o.connections).sum();
    let pools = outcomes
        .iter()
        .filter(|o| o.verdict == Verdict::Pool)
        .count();
    let line = format!(
        "{} target(s), {pools} pool(s), {connections} connection(s)",
        outcomes.len()
    );
    (line, pools > 0)
}

impl Outcome {
    /// The cells of this outcome under [`OUTCOME_COLUMNS`]; the answer cut to 80 characters.
    pub fn cells(&self) -> Vec<String> {
        let opt = |s: Option<String>| s.unwrap_or_default();
        vec![
            self.target.clone(),
            opt(self.transport.map(|t| t.name().to_string())),
            self.verdict.name().to_string(),
            opt(self.dialect.clone()),
            opt(self.coin.map(|c| c.to_string())),
            self.reason.clone(),
            self.answer.chars().take(80).collect(),
            self.at.to_rfc3339(),
        ]
    }
}

impl Outcome {
    /// This outcome as the store keeps it, standing for `ttl_s` seconds.
    pub fn to_record(&self, ttl_s: i64) -> ProbeRecord {
        let at = self.at.0 / 1_000_000_000;
        ProbeRecord {
            target: self.target.clone(),
            transport: self.transport.map(|t| t.name().to_string()),
            verdict: self.verdict.name().to_string(),
            dialect: self.dialect.clone(),
            coin: self.coin.map(|c| c.to_string()),
            reason: self.reason.clone(),
            answer: self.answer.clone(),
            connections: i64::from(self.connections),
            probed_at: at,
            expires_at: at.saturating_add(ttl_s),
        }
    }

    /// A kept outcome, shown as one (no connection made now; the reason says until when it
    /// stands).
    pub fn from_record(r: ProbeRecord) -> Outcome {
        let until = Timestamp(r.expires_at.saturating_mul(1_000_000_000)).to_rfc3339();
        Outcome {
            target: r.target,
            address: None,
            transport: match r.transport.as_deref() {
                Some("tls") => Some(Transport::Tls),
                Some("tcp") => Some(Transport::Tcp),
                _ => None,
            },
            verdict: match r.verdict.as_str() {
                "pool" => Verdict::Pool,
                "not-pool" => Verdict::NotPool,
                _ => Verdict::Unreachable,
            },
            dialect: r.dialect,
            probe: None,
            coin: r.coin.as_deref().and_then(Coin::from_name),
            reason: format!("cached until {until}: {}", r.reason),
            answer: r.answer,
            connections: 0,
            at: Timestamp(r.probed_at.saturating_mul(1_000_000_000)),
        }
    }
}
