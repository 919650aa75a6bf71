//! What every reader of meter readings shares: the options, the counters, the errors, the sink
//! that takes each meter's series, and the helpers that build and hand on series. Its own
//! module so that `read` (which picks a reader) and the readers it picks (`fastcsv`,
//! `parquet`) depend on it and not on each other.

use crate::series::{BuildConfig, MeterRows, Series, build_from};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use thiserror::Error;

/// Reading failures that stop a file.
#[derive(Debug, Error)]
pub enum ReadError {
    /// The file could not be opened, read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The system's error.
        source: std::io::Error,
    },
    /// The file shrank while it was read (truncated or rewritten under the reader): what was
    /// read from the lost part is not the file's, so the reading is refused whole.
    #[error("{path}: the file shrank while it was read: bytes from offset {offset} are gone")]
    Shrunk {
        /// The file.
        path: PathBuf,
        /// The first byte lost.
        offset: u64,
    },
    /// The header names none of the columns needed.
    #[error("{path}: line 1: {what}")]
    Header {
        /// The file.
        path: PathBuf,
        /// What is missing.
        what: String,
    },
    /// A line that stops the reading (in a file of plain values).
    #[error("{path}:{line}: {what}")]
    Line {
        /// The file.
        path: PathBuf,
        /// Line number (1-based).
        line: u64,
        /// What is wrong.
        what: String,
    },
}

/// Column names and value handling of a readings file.
#[derive(Clone, Debug)]
pub struct ReadingsOptions {
    /// Meter id column (default: the first of `meter_id`, `meter`, `CONS_NO`, `id`).
    pub meter_column: Option<String>,
    /// Timestamp column (default: `timestamp`, `time`, `datetime`, `date`).
    pub time_column: Option<String>,
    /// Value column (default: `kwh`, `value`, `energy`, `wh`, `kw`).
    pub value_column: Option<String>,
    /// How to turn values into interval energies.
    pub build: BuildConfig,
    /// Offset (seconds) for timestamps written without one.
    pub default_offset: i32,
    /// Rows held in memory before a file not grouped by meter is partitioned on disk.
    pub memory_rows: usize,
}

impl Default for ReadingsOptions {
    fn default() -> Self {
        ReadingsOptions {
            meter_column: None,
            time_column: None,
            value_column: None,
            build: BuildConfig::default(),
            // China Standard Time: the users' default; files with offsets override it.
            default_offset: 8 * 3600,
            memory_rows: 20_000_000,
        }
    }
}

/// What reading came to: counts of rows and of what was skipped, and why.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReadStats {
    /// Data rows read.
    pub rows: u64,
    /// Rows skipped, by reason.
    pub skipped: BTreeMap<String, u64>,
    /// The first skipped rows, as `file:line: column: what`.
    pub examples: Vec<String>,
    /// Meters delivered.
    pub meters: u64,
    /// Wide-layout labels (`FLAG` column), meter → label, when the file has them.
    pub labels: Vec<(String, bool)>,
}

const EXAMPLES: usize = 20;

impl ReadStats {
    pub(crate) fn skip(&mut self, path: &Path, line: u64, column: &str, what: &str) {
        *self.skipped.entry(what.to_string()).or_default() += 1;
        if self.examples.len() < EXAMPLES {
            self.examples.push(format!(
                "{}:{line}: column {column}: {what}",
                path.display()
            ));
        }
    }

    /// [`skip`](Self::skip) naming column `i` of `headers` (its number when there is no such
    /// header).
    pub(crate) fn skip_in(
        &mut self,
        path: &Path,
        line: u64,
        (headers, i): (&[String], usize),
        what: &str,
    ) {
        match headers.get(i) {
            Some(h) => self.skip(path, line, h, what),
            None => self.skip(path, line, &(i + 1).to_string(), what),
        }
    }

    /// What a user reads of a reading of `what`: the summary, up to five examples of skipped
    /// rows, and the series' data-quality problems when `quality` is given.
    pub fn lines(&self, what: &str, quality: Option<&crate::series::SeriesReport>) -> Vec<String> {
        let mut out = vec![format!("{what}: {}", self.summary())];
        out.extend(self.examples.iter().take(5).map(|e| format!("  {e}")));
        if let Some(q) = quality.and_then(crate::series::SeriesReport::problems) {
            out.push(format!("  data quality: {q}"));
        }
        out
    }

    /// `N rows, M meters` and, when rows were skipped, how many and why.
    pub fn summary(&self) -> String {
        let skipped = if self.skipped.is_empty() {
            String::new()
        } else {
            format!(
                "; skipped {} row(s): {}",
                self.skipped_total(),
                self.skipped
                    .iter()
                    .map(|(k, v)| format!("{v} {k}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        format!("{} rows, {} meters{skipped}", self.rows, self.meters)
    }

    /// Rows skipped in all.
    pub fn skipped_total(&self) -> u64 {
        self.skipped.values().sum()
    }
}

/// Where a reader hands each meter's series.
///
/// A file is read in one pass, each meter handed on as soon as its rows end, in the
/// expectation that the file is grouped by meter (as meter data systems export them): nothing
/// waits, and memory holds one meter's rows. A meter that comes back later shows the file is
/// not grouped: the reader then takes back what it handed on from that file ([`forget`]) and
/// reads the file again with the general reader, which hands on every meter whole.
///
/// [`forget`]: SeriesSink::forget
pub trait SeriesSink {
    /// Takes one meter's series.
    fn take(&mut self, s: Series);
    /// Forgets the last `n` series taken (they will come again, whole).
    fn forget(&mut self, n: usize);
}

impl SeriesSink for Vec<Series> {
    fn take(&mut self, s: Series) {
        self.push(s);
    }

    fn forget(&mut self, n: usize) {
        self.truncate(self.len().saturating_sub(n));
    }
}

pub(crate) fn io(path: &Path) -> impl Fn(std::io::Error) -> ReadError + '_ {
    move |source| ReadError::Io {
        path: path.to_path_buf(),
        source,
    }
}

pub(crate) type Rows = HashMap<String, MeterRows, foldhash::fast::RandomState>;

/// Builds the series of `meter` from `rows`, leaving them empty with their memory kept (the
/// next meter likely has as many rows: no regrowing it row by row).
pub(crate) fn build_meter(
    meter: &str,
    rows: &mut MeterRows,
    opts: &ReadingsOptions,
    allow_negative: &dyn Fn(&str) -> bool,
) -> Option<Series> {
    let cfg = BuildConfig {
        allow_negative: opts.build.allow_negative || allow_negative(meter),
        ..opts.build
    };
    build_from(meter, rows, &cfg)
}

/// Builds each meter's series from its rows and hands it on, meters in id order.
pub(crate) fn emit(
    rows: Rows,
    opts: &ReadingsOptions,
    allow_negative: &dyn Fn(&str) -> bool,
    f: &mut dyn FnMut(Series),
    stats: &mut ReadStats,
) {
    let mut meters: Vec<(String, MeterRows)> = rows.into_iter().collect();
    meters.sort_by(|a, b| a.0.cmp(&b.0));
    for (m, mut r) in meters {
        if let Some(s) = build_meter(&m, &mut r, opts, allow_negative) {
            stats.meters += 1;
            f(s);
        }
    }
}

/// A new directory in `$TMPDIR` for the partitions of the file `path` (`kind` tells the
/// readers' directories apart), named by this process and the file.
pub(crate) fn partition_dir(path: &Path, kind: &str) -> Result<PathBuf, ReadError> {
    let dir = std::env::temp_dir().join(format!(
        "minewatch-{kind}-{}-{}",
        std::process::id(),
        path.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    ));
    std::fs::create_dir_all(&dir).map_err(io(&dir))?;
    Ok(dir)
}
/// The meter files among `paths`: a file as it is; a folder's CSV and Parquet files in name
/// order, without the other inputs a generated region's folder holds (customers, feeders,
/// weather, truth, registers, inspections).
pub fn expand_readings(paths: &[PathBuf]) -> Result<Vec<PathBuf>, ReadError> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut v: Vec<PathBuf> = std::fs::read_dir(p)
                .map_err(|source| ReadError::Io {
                    path: p.clone(),
                    source,
                })?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| {
                    f.extension().is_some_and(|e| {
                        ["csv", "parquet", "pq"]
                            .iter()
                            .any(|x| e.eq_ignore_ascii_case(x))
                    })
                })
                .filter(|f| {
                    let n = f
                        .file_name()
                        .map(|n| n.to_string_lossy().to_string())
                        .unwrap_or_default();
                    !matches!(
                        n.as_str(),
                        "customers.csv"
                            | "feeders.csv"
                            | "weather.csv"
                            | "truth.csv"
                            | "registers.csv"
                            | "inspections.csv"
                    )
                })
                .collect();
            v.sort();
            out.extend(v);
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}
