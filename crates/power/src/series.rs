//! One meter's readings on a regular time grid, and how raw rows become one.

use crate::time::Stamp;

/// What reading a meter's rows found wrong, and how it was handled. Nothing is dropped silently.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SeriesReport {
    /// Rows with a timestamp already seen (the last one was kept).
    pub duplicates: u64,
    /// Grid intervals with no reading.
    pub missing: u64,
    /// Negative interval energies on a meter not registered as exporting (set missing).
    pub negatives: u64,
    /// Values above the physical limit (set missing).
    pub impossible: u64,
    /// Cumulative register rollovers corrected.
    pub rollovers: u64,
    /// Cumulative register resets or decreases that are no rollover (set missing).
    pub resets: u64,
    /// Rows off the grid (snapped to the interval they fall in).
    pub off_grid: u64,
    /// The values were a cumulative register and were differenced.
    pub cumulative: bool,
}

impl SeriesReport {
    /// What was wrong with the readings and what was done about it, `None` when nothing was.
    pub fn problems(&self) -> Option<String> {
        let parts: Vec<String> = [
            (self.duplicates, "duplicate timestamps (last kept)"),
            (self.missing, "missing intervals"),
            (self.negatives, "negative values (set missing)"),
            (self.impossible, "impossible values (set missing)"),
            (self.rollovers, "register rollovers corrected"),
            (self.resets, "register resets (set missing)"),
            (self.off_grid, "off-grid timestamps (snapped)"),
        ]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, w)| format!("{n} {w}"))
        .collect();
        (!parts.is_empty()).then(|| parts.join(", "))
    }
}

impl SeriesReport {
    /// Adds another meter's report.
    pub fn merge(&mut self, o: &SeriesReport) {
        self.duplicates += o.duplicates;
        self.missing += o.missing;
        self.negatives += o.negatives;
        self.impossible += o.impossible;
        self.rollovers += o.rollovers;
        self.resets += o.resets;
        self.off_grid += o.off_grid;
    }
}

/// Energy of each interval of one meter, kWh, on a regular grid.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// The meter.
    pub meter_id: String,
    /// UTC seconds of the first interval's start.
    pub start: i64,
    /// Interval length, seconds.
    pub step: i64,
    /// Local UTC offsets, as (first interval index, offset seconds); daylight saving adds entries.
    pub offsets: Vec<(usize, i32)>,
    /// kWh per interval; NaN where missing.
    pub kwh: Vec<f32>,
    /// What was found and fixed.
    pub report: SeriesReport,
}

impl Series {
    /// Local seconds of the start of interval `i`.
    pub fn local(&self, i: usize) -> i64 {
        let off = self
            .offsets
            .iter()
            .take_while(|(from, _)| *from <= i)
            .last()
            .map_or(0, |(_, o)| *o);
        self.start + i as i64 * self.step + i64::from(off)
    }

    /// Intervals per hour (fractional for daily data).
    pub fn per_hour(&self) -> f64 {
        3600.0 / self.step as f64
    }
}

/// How raw values are to be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Register {
    /// Decide per meter: cumulative when the values nearly always rise.
    Auto,
    /// Energy of each interval.
    Interval,
    /// A cumulative register reading.
    Cumulative,
}

/// Units of the value column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// Kilowatt-hours.
    KilowattHours,
    /// Watt-hours.
    WattHours,
    /// Mean kilowatts over the interval.
    Kilowatts,
    /// Mean watts over the interval.
    Watts,
}

impl Unit {
    /// A unit from its usual name.
    pub fn parse(s: &str) -> Option<Unit> {
        match s.to_ascii_lowercase().as_str() {
            "kwh" => Some(Unit::KilowattHours),
            "wh" => Some(Unit::WattHours),
            "kw" => Some(Unit::Kilowatts),
            "w" => Some(Unit::Watts),
            _ => None,
        }
    }
}

/// Settings for turning rows into a series.
#[derive(Clone, Copy, Debug)]
pub struct BuildConfig {
    /// Register handling.
    pub register: Register,
    /// Unit of the values.
    pub unit: Unit,
    /// Negative interval energies are net export (rooftop solar), not errors.
    pub allow_negative: bool,
    /// Largest credible mean power, kW; higher values are impossible readings.
    pub max_kw: f64,
    /// Force this interval (seconds) instead of detecting it.
    pub step: Option<i64>,
}

impl Default for BuildConfig {
    fn default() -> Self {
        BuildConfig {
            register: Register::Auto,
            unit: Unit::KilowattHours,
            allow_negative: false,
            // 10 MW: above any single metered site that a low-voltage or 10 kV meter serves.
            max_kw: 10_000.0,
            step: None,
        }
    }
}

/// The interval lengths accepted: 1, 5, 10, 15, 30 minutes, 1 hour, 1 day.
pub const STEPS: [i64; 7] = [60, 300, 600, 900, 1800, 3600, 86_400];

/// The most common gap between consecutive distinct timestamps, snapped to a known interval.
pub fn detect_step(sorted_utc: &[i64]) -> Option<i64> {
    let mut counts: Vec<(i64, u32)> = Vec::new();
    for (a, b) in sorted_utc.iter().zip(sorted_utc.iter().skip(1)).take(5000) {
        let d = b - a;
        if d <= 0 {
            continue;
        }
        match counts.iter_mut().find(|(x, _)| *x == d) {
            Some(c) => c.1 += 1,
            None => counts.push((d, 1)),
        }
    }
    let (d, _) = counts.into_iter().max_by_key(|(d, n)| (*n, -*d))?;
    snap(d)
}

/// The known interval a gap of `d` seconds stands for: a known interval within 5 %, or
/// (readings missing in between) the longest known one dividing it.
fn snap(d: i64) -> Option<i64> {
    STEPS
        .iter()
        .copied()
        .find(|s| (d - s).abs() * 20 <= *s)
        .or_else(|| STEPS.iter().rev().copied().find(|s| d % s == 0))
}

/// What one pass over a meter's rows tells about them.
struct Shape {
    /// Strictly rising times.
    sorted: bool,
    /// The gap between consecutive times when it is the same throughout (`None` for fewer
    /// than two rows, or differing gaps).
    gap: Option<i64>,
    /// Every row has the first row's UTC offset.
    one_offset: bool,
    /// How many values are above the one before.
    rising: usize,
}

impl Shape {
    fn of(rows: &[(Stamp, f64)]) -> Shape {
        let gap = match rows {
            [a, b, ..] => b.0.utc - a.0.utc,
            _ => 0,
        };
        let (mut sorted, mut uniform, mut one_offset, mut rising) = (true, true, true, 0);
        for (a, b) in rows.iter().zip(rows.iter().skip(1)) {
            let d = b.0.utc - a.0.utc;
            sorted &= d > 0;
            uniform &= d == gap;
            one_offset &= b.0.offset == a.0.offset;
            rising += usize::from(b.1 > a.1);
        }
        Shape {
            sorted,
            gap: (uniform && rows.len() >= 2).then_some(gap),
            one_offset,
            rising,
        }
    }
}

/// One meter's readings as a reader collects them. While each reading lies one equal step
/// after the one before under the first one's offset (nearly every file), only the values are
/// kept: a third of the memory of whole rows, and [`build_from`] has no order to check.
#[derive(Clone, Debug)]
pub struct MeterRows {
    /// The first reading's instant while the readings are on its grid.
    first: Stamp,
    /// The step between readings, once there are two on the grid.
    gap: i64,
    /// The instant the next reading on the grid has (`i64::MIN` until the step is known).
    next: i64,
    /// The readings are on one grid, their values in `values`; otherwise all are in `rows`.
    on_grid: bool,
    values: Vec<f64>,
    rows: Vec<(Stamp, f64)>,
}

impl Default for MeterRows {
    fn default() -> Self {
        MeterRows {
            first: Stamp { utc: 0, offset: 0 },
            gap: 0,
            next: i64::MIN,
            on_grid: true,
            values: Vec::new(),
            rows: Vec::new(),
        }
    }
}

impl MeterRows {
    /// Adds a reading.
    #[inline]
    pub fn push(&mut self, (s, v): (Stamp, f64)) {
        if self.on_grid && s.utc == self.next && s.offset == self.first.offset {
            self.values.push(v);
            self.next += self.gap;
        } else {
            self.push_off_the_beat(s, v);
        }
    }

    /// The first two readings (which set the grid), and a reading off the grid.
    fn push_off_the_beat(&mut self, s: Stamp, v: f64) {
        if !self.on_grid {
            self.rows.push((s, v));
        } else if self.values.is_empty() {
            self.first = s;
            self.values.push(v);
        } else if self.values.len() == 1 && s.offset == self.first.offset && s.utc > self.first.utc
        {
            self.gap = s.utc - self.first.utc;
            self.next = s.utc + self.gap;
            self.values.push(v);
        } else {
            self.rows.reserve(self.values.len() + 1);
            self.rows
                .extend(on_grid(self.first, self.gap, &self.values));
            self.values.clear();
            self.on_grid = false;
            self.rows.push((s, v));
        }
    }

    /// While the readings are on one grid of a known step: the instant and offset the next
    /// reading on it has, and the step.
    pub fn beat(&self) -> Option<(i64, i32, i64)> {
        (self.on_grid && self.next != i64::MIN).then_some((self.next, self.first.offset, self.gap))
    }

    /// Adds readings that the caller found to lie on the grid, the first at the instant
    /// [`MeterRows::beat`] gives and each one step after the one before.
    pub fn extend_on_beat(&mut self, values: &[f64]) {
        debug_assert!(self.beat().is_some());
        self.values.extend_from_slice(values);
        self.next += self.gap * values.len() as i64;
    }

    /// Readings added.
    pub fn len(&self) -> usize {
        if self.on_grid {
            self.values.len()
        } else {
            self.rows.len()
        }
    }

    /// True before any reading.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Room for `n` more readings.
    pub fn reserve(&mut self, n: usize) {
        if self.on_grid {
            self.values.reserve(n);
        } else {
            self.rows.reserve(n);
        }
    }

    /// Forgets the readings, keeping the memory.
    pub fn clear(&mut self) {
        self.values.clear();
        self.rows.clear();
        self.on_grid = true;
        self.next = i64::MIN;
    }

    /// The readings in the order added.
    pub fn iter(&self) -> impl Iterator<Item = (Stamp, f64)> + '_ {
        on_grid(self.first, self.gap, &self.values).chain(self.rows.iter().copied())
    }
}

/// Grid values as rows: the `i`-th one `i` steps of `gap` after `first`, at its offset.
fn on_grid(first: Stamp, gap: i64, values: &[f64]) -> impl Iterator<Item = (Stamp, f64)> + '_ {
    values.iter().enumerate().map(move |(i, &v)| {
        let utc = first.utc + i as i64 * gap;
        (
            Stamp {
                utc,
                offset: first.offset,
            },
            v,
        )
    })
}

/// Builds the series of `rows` (as [`build`] does) and clears them, keeping their memory for
/// the next meter.
pub fn build_from(meter_id: &str, rows: &mut MeterRows, cfg: &BuildConfig) -> Option<Series> {
    let n = rows.values.len();
    let grid = rows.on_grid.then(|| {
        let gap = (n >= 2).then_some(rows.gap);
        let step = cfg.step.or_else(|| gap.and_then(snap)).unwrap_or(86_400);
        (gap, step)
    });
    let out = match grid {
        // As `build` finds them: sorted, one offset, the gap throughout; the usual file.
        Some((gap, step))
            if n > 0
                && gap.is_none_or(|g| g == step)
                && !cumulative(cfg.register, n, || {
                    let v = &rows.values;
                    v.iter()
                        .zip(v.iter().skip(1))
                        .filter(|(a, b)| b > a)
                        .count()
                }) =>
        {
            Some(on_the_grid(
                meter_id,
                rows.first,
                step,
                rows.values.iter().copied(),
                cfg,
            ))
        }
        _ => {
            let all: Vec<(Stamp, f64)> = if rows.on_grid {
                rows.iter().collect()
            } else {
                std::mem::take(&mut rows.rows)
            };
            build(meter_id, all, cfg)
        }
    };
    rows.clear();
    out
}

/// Whether `n` values are a cumulative register's (`rising` counts those above the one
/// before): under `Auto`, when nearly all rise.
fn cumulative(register: Register, n: usize, rising: impl FnOnce() -> usize) -> bool {
    match register {
        Register::Cumulative => true,
        Register::Interval => false,
        Register::Auto => n >= 10 && rising() * 10 >= (n - 1) * 9,
    }
}

/// A value in kWh, or NaN when it cannot be one, with why: negative on a meter that does not
/// export, or above `max_kwh` (NaN in is neither, and stays NaN). Without branches, so that
/// a loop over a meter's values runs several at a time.
#[inline]
fn clean(v: f64, scale: f64, max_kwh: f64, allow_negative: bool) -> (f32, bool, bool) {
    let v = v * scale;
    // Both compares are false for NaN.
    let negative = v < 0.0 && !allow_negative;
    let too_big = !negative && v.abs() > max_kwh;
    let v = if negative | too_big { f64::NAN } else { v };
    (v as f32, negative, too_big)
}

/// How values in `unit` become kWh of a `step`-second interval.
fn scale(unit: Unit, step: i64) -> f64 {
    match unit {
        Unit::KilowattHours => 1.0,
        Unit::WattHours => 0.001,
        Unit::Kilowatts => step as f64 / 3600.0,
        Unit::Watts => step as f64 / 3600.0 / 1000.0,
    }
}

/// The series of interval readings that are the grid itself: one every `step` from `first`,
/// under its offset.
fn on_the_grid(
    meter_id: &str,
    first: Stamp,
    step: i64,
    values: impl ExactSizeIterator<Item = f64>,
    cfg: &BuildConfig,
) -> Series {
    let (scale, max_kwh) = (scale(cfg.unit, step), cfg.max_kw * step as f64 / 3600.0);
    // The counts in locals, not in a report behind a reference: the loop stays vectorised.
    let (mut negatives, mut impossible) = (0u64, 0u64);
    let kwh: Vec<f32> = values
        .map(|v| {
            let (v, negative, too_big) = clean(v, scale, max_kwh, cfg.allow_negative);
            negatives += u64::from(negative);
            impossible += u64::from(too_big);
            v
        })
        .collect();
    let report = SeriesReport {
        negatives,
        impossible,
        missing: kwh.iter().filter(|v| v.is_nan()).count() as u64,
        ..SeriesReport::default()
    };
    Series {
        meter_id: meter_id.to_string(),
        start: first.utc,
        step,
        offsets: vec![(0, first.offset)],
        kwh,
        report,
    }
}

/// Builds a series from one meter's rows (in any order).
pub fn build(meter_id: &str, mut rows: Vec<(Stamp, f64)>, cfg: &BuildConfig) -> Option<Series> {
    let mut report = SeriesReport::default();
    // Files are nearly always in time order with no repeats, one step apart under one offset:
    // one pass finds out, and then there is nothing to sort or drop, and the rows are used
    // where they are.
    let mut shape = Shape::of(&rows);
    if !shape.sorted {
        rows.sort_by_key(|(s, _)| s.utc);
        // Keep the last of equal timestamps (a corrected reading usually comes later in the
        // file; the sort is stable).
        let before = rows.len();
        rows.dedup_by(|later, kept| {
            let same = later.0.utc == kept.0.utc;
            if same {
                *kept = *later;
            }
            same
        });
        report.duplicates += (before - rows.len()) as u64;
        shape = Shape::of(&rows);
    }
    let dedup = rows;
    let first = dedup.first()?.0.utc;
    // One gap throughout is what detect_step would find; it looks at the first 5,000 gaps.
    let step = cfg
        .step
        .or_else(|| match shape.gap {
            Some(d) => snap(d),
            None => {
                let utc: Vec<i64> = dedup.iter().take(5001).map(|(s, _)| s.utc).collect();
                detect_step(&utc)
            }
        })
        .unwrap_or(86_400);
    let scale = scale(cfg.unit, step);
    let cumulative = cumulative(cfg.register, dedup.len(), || shape.rising);
    report.cumulative = cumulative;
    // Interval energies, each at the start of its interval: a cumulative register's n readings
    // give n - 1 intervals.
    let intervals = if cumulative {
        dedup.len().saturating_sub(1)
    } else {
        dedup.len()
    };
    let start = first;
    let last = intervals
        .checked_sub(1)
        .and_then(|k| dedup.get(k))
        .map_or(start, |r| r.0.utc);
    let len = ((last - start) / step + 1) as usize;
    if len > 50_000_000 {
        return None;
    }
    let max_kwh = cfg.max_kw * step as f64 / 3600.0;
    // The usual file: every reading one step after the one before, under one offset. The
    // readings are then the grid itself.
    let regular = !cumulative && shape.one_offset && (dedup.len() < 2 || shape.gap == Some(step));
    if regular {
        let mut s = on_the_grid(
            meter_id,
            dedup.first()?.0,
            step,
            dedup.iter().map(|r| r.1),
            cfg,
        );
        s.report.duplicates = report.duplicates;
        return Some(s);
    }
    let mut kwh = vec![f32::NAN; len];
    let mut offsets: Vec<(usize, i32)> = Vec::new();
    let mut put = |t: i64, off: i32, v: f64, report: &mut SeriesReport| {
        let rel = t - start;
        if rel % step != 0 {
            report.off_grid += 1;
        }
        let i = (rel / step) as usize;
        if offsets.last().is_none_or(|(_, o)| *o != off) {
            offsets.push((i, off));
        }
        let (v, negative, too_big) = clean(v, scale, max_kwh, cfg.allow_negative);
        report.negatives += u64::from(negative);
        report.impossible += u64::from(too_big);
        // Readings are sorted from `start` to `last`, so every slot is inside the grid.
        if let Some(slot) = kwh.get_mut(i) {
            *slot = v;
        }
    };
    if cumulative {
        for (first, second) in dedup.iter().zip(dedup.iter().skip(1)) {
            let (a, b) = (first.1, second.1);
            let mut d = b - a;
            if d < 0.0 {
                // A register that wraps at 10^k: the previous value sat just under it.
                let k = if a > 0.0 { a.log10().ceil() } else { 0.0 };
                let wrap = 10f64.powf(k);
                if a > 0.9 * wrap && b < 0.1 * wrap {
                    d += wrap;
                    report.rollovers += 1;
                } else {
                    report.resets += 1;
                    d = f64::NAN;
                }
            }
            put(first.0.utc, first.0.offset, d, &mut report);
        }
    } else {
        for (s, v) in &dedup {
            put(s.utc, s.offset, *v, &mut report);
        }
    }
    report.missing = kwh.iter().filter(|v| v.is_nan()).count() as u64;
    Some(Series {
        meter_id: meter_id.to_string(),
        start,
        step,
        offsets,
        kwh,
        report,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn st(utc: i64) -> Stamp {
        Stamp {
            utc,
            offset: 8 * 3600,
        }
    }

    #[test]
    fn hourly_with_gap_duplicate_and_bad_values() {
        let rows = vec![
            (st(7200), 1.0),
            (st(0), 1.0),
            (st(3600), 2.0),
            (st(3600), 1.5),
            (st(14_400), -1.0),
            (st(18_000), 1e9),
            (st(21_600), 1.0),
        ];
        let s = build(
            "m",
            rows,
            &BuildConfig {
                register: Register::Interval,
                ..BuildConfig::default()
            },
        )
        .unwrap();
        assert_eq!(s.step, 3600);
        assert_eq!(s.kwh.len(), 7);
        assert_eq!(s.kwh[1], 1.5);
        assert!(s.kwh[3].is_nan());
        assert_eq!(s.report.duplicates, 1);
        assert_eq!(s.report.negatives, 1);
        assert_eq!(s.report.impossible, 1);
        assert_eq!(s.report.missing, 3);
    }

    #[test]
    fn rows_in_order_build_like_rows_out_of_order() {
        // Rows in order are used where they are; reversed, the same rows are sorted first:
        // both must give the same series.
        let hourly = |n: i64, f: &dyn Fn(i64) -> (Stamp, f64)| (0..n).map(f).collect::<Vec<_>>();
        type Rows = Vec<(Stamp, f64)>;
        let cases: Vec<(Rows, Option<i64>)> = vec![
            (hourly(500, &|i| (st(i * 3600), 1.0 + (i % 5) as f64)), None),
            (
                hourly(500, &|i| (st(i * 3600), 1.0 + (i % 5) as f64)),
                Some(1800),
            ),
            (
                hourly(499, &|i| (st(i * 3600 + 3600 * (i / 100)), 2.5)),
                None,
            ),
            (hourly(300, &|i| (st(i * 900 + 7), 0.1 * i as f64)), None),
            (hourly(200, &|i| (st(i * 3540), 1.0)), None),
            (
                hourly(60, &|i| (st(i * 86_400), 30.0 + (i % 3) as f64)),
                None,
            ),
            (
                hourly(300, &|i| {
                    let offset = if i < 150 { 3600 } else { 7200 };
                    (
                        Stamp {
                            utc: i * 3600,
                            offset,
                        },
                        1.0,
                    )
                }),
                None,
            ),
            (hourly(2, &|i| (st(i * 3600), 1.0)), None),
            // On the grid, then one reading off it, then back on it; a repeat at the end.
            (
                hourly(100, &|i| (st(i * 900 + if i == 50 { 30 } else { 0 }), 1.0)),
                None,
            ),
            (
                hourly(100, &|i| {
                    (st(i.min(98) * 900), 1.0 + (i.min(98) % 4) as f64)
                }),
                None,
            ),
            // A register rising on the grid, read as interval energy by request.
            (hourly(40, &|i| (st(i * 1800), i as f64)), Some(1800)),
            (hourly(1, &|i| (st(i * 3600), 1.0)), None),
        ];
        for (k, (rows, step)) in cases.into_iter().enumerate() {
            let cfg = BuildConfig {
                step,
                ..BuildConfig::default()
            };
            let mut reversed = rows.clone();
            reversed.reverse();
            // Collected as the readers collect them, values only while on the grid.
            let collect = |rows: &[(Stamp, f64)]| {
                let mut m = MeterRows::default();
                for r in rows {
                    m.push(*r);
                }
                assert_eq!(m.len(), rows.len());
                assert_eq!(m.iter().collect::<Vec<_>>(), rows, "case {k}");
                m
            };
            let (mut in_order, mut backwards) = (collect(&rows), collect(&reversed));
            let a = build("m", rows, &cfg);
            let b = build("m", reversed, &cfg);
            assert_eq!(format!("{a:?}"), format!("{b:?}"), "case {k}");
            let c = build_from("m", &mut in_order, &cfg);
            let d = build_from("m", &mut backwards, &cfg);
            assert_eq!(format!("{a:?}"), format!("{c:?}"), "case {k}");
            assert_eq!(format!("{a:?}"), format!("{d:?}"), "case {k}");
            assert!(in_order.is_empty() && backwards.is_empty());
        }
    }

    #[test]
    fn cumulative_registers_with_rollover() {
        let mut v = 99_990.0;
        let mut rows = Vec::new();
        for i in 0..20 {
            rows.push((st(i * 900), v % 100_000.0));
            v += 2.0;
        }
        let s = build("m", rows, &BuildConfig::default()).unwrap();
        assert!(s.report.cumulative);
        assert_eq!(s.report.rollovers, 1);
        assert_eq!(s.step, 900);
        assert!(s.kwh.iter().take(19).all(|x| (*x - 2.0).abs() < 1e-3));
    }

    #[test]
    fn a_flat_miner_is_not_taken_for_a_register() {
        let rows: Vec<_> = (0..100)
            .map(|i| (st(i * 3600), 3.2 + ((i * 7919) % 13) as f64 * 0.001))
            .collect();
        let s = build("m", rows, &BuildConfig::default()).unwrap();
        assert!(!s.report.cumulative);
    }

    #[test]
    fn units_and_steps() {
        let rows: Vec<_> = (0..10).map(|i| (st(i * 900), 4.0)).collect();
        let s = build(
            "m",
            rows,
            &BuildConfig {
                unit: Unit::Kilowatts,
                register: Register::Interval,
                ..BuildConfig::default()
            },
        )
        .unwrap();
        assert_eq!(s.kwh[0], 1.0);
        assert_eq!(detect_step(&[0, 86_400, 172_800, 345_600]), Some(86_400));
        assert_eq!(detect_step(&[0, 7]), None);
        assert_eq!(detect_step(&[0, 7200, 14_400]), Some(3600));
    }
}
