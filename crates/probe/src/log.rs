//! The probe log, and an outcome's row: what a regulator keeps of every connection made to a
//! suspected pool (who was asked, when, how, what came back), one JSON line each.

use crate::{Attempt, Outcome};
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
