//! The two jobs of `minewatch power` end to end, readings files in, ranked results out: a scan
//! (every meter scored and explained) and an area balance (feeders against their meters, with
//! the customers most likely behind a loss). The caller shows progress; this module reads,
//! scores and times.

use crate::areas::{AreaBalance, AreaConfig, BalanceAndScore, Balancer};
use crate::customers::Register;
use crate::input::{ReadError, ReadingsOptions, SeriesSink};
use crate::read::{ReadStats, read_readings};
use crate::score::{ScoreConfig, Scorer, Suspect, Weather};
use crate::series::{Series, SeriesReport};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A sink that tells `progress` of each meter (+1, or −n when a reader takes meters back) and
/// times the sink it feeds.
struct Timed<'a> {
    sink: &'a mut dyn SeriesSink,
    progress: &'a dyn Fn(i64),
    /// Time spent in `sink`.
    spent: Duration,
}

impl SeriesSink for Timed<'_> {
    fn take(&mut self, s: Series) {
        let t = Instant::now();
        self.sink.take(s);
        self.spent += t.elapsed();
        (self.progress)(1);
    }

    fn forget(&mut self, n: usize) {
        self.sink.forget(n);
        (self.progress)(-i64::try_from(n).unwrap_or(i64::MAX));
    }
}

/// What a scan came to.
pub struct Scanned {
    /// Every meter, ranked, best first.
    pub suspects: Vec<Suspect>,
    /// What the reading found.
    pub stats: ReadStats,
    /// The series' data quality.
    pub quality: SeriesReport,
    /// Time spent in all.
    pub total: Duration,
    /// Of it, computing features and scores (reading is the rest).
    pub scoring: Duration,
}

impl Scanned {
    /// One line of where the time went.
    pub fn timing(&self) -> String {
        let all = self.total.as_secs_f64();
        format!(
            "{} readings in {all:.2} s ({:.1} M a second): reading {:.2} s, features and scores {:.2} s",
            self.stats.rows,
            self.stats.rows as f64 / all.max(1e-9) / 1e6,
            self.total.saturating_sub(self.scoring).as_secs_f64(),
            self.scoring.as_secs_f64()
        )
    }
}

/// Reads `files` and scores every meter against `register` and `weather`.
pub fn scan(
    files: &[PathBuf],
    opts: &ReadingsOptions,
    register: &Register,
    weather: Option<&Weather>,
    cfg: ScoreConfig,
    progress: &dyn Fn(i64),
) -> Result<Scanned, ReadError> {
    let mut scorer = Scorer::new(cfg, register, weather);
    let solar = |m: &str| register.get(m).is_some_and(|c| c.solar);
    let started = Instant::now();
    let mut sink = Timed {
        sink: &mut scorer,
        progress,
        spent: Duration::ZERO,
    };
    let stats = read_readings(files, opts, &solar, &mut sink)?;
    let mut scoring = sink.spent;
    let quality = scorer.quality();
    let t = Instant::now();
    let suspects = scorer.finish();
    scoring += t.elapsed();
    Ok(Scanned {
        suspects,
        stats,
        quality,
        total: started.elapsed(),
        scoring,
    })
}

/// What an area balance came to.
pub struct Balanced {
    /// Every area with a feeder, abnormal first.
    pub areas: Vec<AreaBalance>,
    /// What reading the meters found.
    pub stats: ReadStats,
    /// What reading the feeders found.
    pub feeder_stats: ReadStats,
}

/// The feeder readings beside the first readings file (`feeders.csv`), when there are any.
pub fn feeders_beside(files: &[PathBuf]) -> Option<PathBuf> {
    let dir = files
        .first()
        .and_then(|f| f.parent())
        .unwrap_or(Path::new("."));
    Some(dir.join("feeders.csv")).filter(|f| f.exists())
}

/// Reads the meters of `files` and the feeders of `feeders` (`area_id,timestamp,kwh`) and
/// balances every area, the customers ranked by their scores.
pub fn areas(
    files: &[PathBuf],
    feeders: &Path,
    opts: &ReadingsOptions,
    register: &Register,
    cfg: &AreaConfig,
    progress: &dyn Fn(i64),
) -> Result<Balanced, ReadError> {
    let mut bal = Balancer::default();
    let mut scorer = Scorer::new(ScoreConfig::default(), register, None);
    let solar = |m: &str| register.get(m).is_some_and(|c| c.solar);
    let mut both = BalanceAndScore {
        balancer: &mut bal,
        scorer: &mut scorer,
        register,
    };
    let mut sink = Timed {
        sink: &mut both,
        progress,
        spent: Duration::ZERO,
    };
    let stats = read_readings(files, opts, &solar, &mut sink)?;
    let fopts = ReadingsOptions {
        meter_column: Some("area_id".into()),
        ..opts.clone()
    };
    let mut feeder_series = Vec::new();
    let feeder_stats = read_readings(
        &[feeders.to_path_buf()],
        &fopts,
        &|_| false,
        &mut feeder_series,
    )?;
    for s in &feeder_series {
        bal.add_feeder(s);
    }
    let scores: HashMap<String, f64> = scorer
        .finish()
        .into_iter()
        .map(|s| (s.meter_id, s.score))
        .collect();
    Ok(Balanced {
        areas: bal.finish(cfg, register, &scores),
        stats,
        feeder_stats,
    })
}
