//! Change points in a series: PELT (Killick, Fearnhead & Eckley, JASA 2012) with the L2 cost
//! (a change in mean), and the step onsets of mining read off its segments.
//!
//! Written here rather than taken from a crate: no maintained Rust crate offers PELT, and the
//! algorithm is forty lines. `bench/changepoint.py` compares it with the `ruptures` Python
//! library on the same series.

#![allow(
    clippy::indexing_slicing,
    reason = "PELT and the segment costs index prefix sums and candidate lists this module sizes from the series it is given"
)]

/// What a segment's cost measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Model {
    /// A change in mean (sum of squared deviations; ruptures' `l2`).
    Mean,
    /// A change in mean or variance (Gaussian likelihood, n·ln σ²; ruptures' `normal`).
    MeanVariance,
}

impl Model {
    /// The model of a name as ruptures calls it (`l2`, `normal`) or as we do (`mean`).
    pub fn from_name(name: &str) -> Option<Model> {
        match name {
            "mean" | "l2" => Some(Model::Mean),
            "normal" => Some(Model::MeanVariance),
            _ => None,
        }
    }
}

/// Change points (indices where a new segment starts) minimising the sum of squared deviations
/// from each segment's mean plus `penalty` per change, with segments at least `min_size` long.
pub fn pelt(x: &[f64], penalty: f64, min_size: usize) -> Vec<usize> {
    pelt_with(x, Model::Mean, penalty, min_size)
}

/// PELT with a chosen segment cost.
pub fn pelt_with(x: &[f64], model: Model, penalty: f64, min_size: usize) -> Vec<usize> {
    let n = x.len();
    let min_size = min_size.max(if model == Model::MeanVariance { 2 } else { 1 });
    if n < 2 * min_size {
        return Vec::new();
    }
    let sums = Sums::new(x);
    let cost = |a: usize, b: usize| -> f64 {
        let len = (b - a) as f64;
        let ss = sums.sse(a, b);
        match model {
            Model::Mean => ss,
            Model::MeanVariance => len * (ss / len).max(1e-12).ln(),
        }
    };
    let mut f = vec![f64::INFINITY; n + 1];
    f[0] = -penalty;
    let mut last = vec![0usize; n + 1];
    let mut candidates: Vec<usize> = vec![0];
    for t in min_size..=n {
        let mut best = f64::INFINITY;
        let mut arg = 0;
        for &s in &candidates {
            if t - s < min_size {
                continue;
            }
            let v = f[s] + cost(s, t) + penalty;
            if v < best {
                best = v;
                arg = s;
            }
        }
        f[t] = best;
        last[t] = arg;
        // Pruning: a start that cannot be optimal now never will be.
        candidates.retain(|&s| t - s < min_size || f[s] + cost(s, t) <= best);
        if t + 1 >= min_size && t + min_size <= n {
            candidates.push(t + 1 - min_size);
            candidates.dedup();
        }
    }
    let mut cps = Vec::new();
    let mut t = n;
    while t > 0 {
        let s = last[t];
        if s > 0 {
            cps.push(s);
        }
        t = s;
    }
    cps.reverse();
    cps
}

/// Prefix sums of `x` and `x²`: any segment's sum of squared deviations in O(1).
struct Sums {
    s1: Vec<f64>,
    s2: Vec<f64>,
}

impl Sums {
    fn new(x: &[f64]) -> Sums {
        let mut s1 = vec![0.0; x.len() + 1];
        let mut s2 = vec![0.0; x.len() + 1];
        for (i, v) in x.iter().enumerate() {
            s1[i + 1] = s1[i] + v;
            s2[i + 1] = s2[i] + v * v;
        }
        Sums { s1, s2 }
    }

    /// Σ (x - mean)² over `a..b`.
    fn sse(&self, a: usize, b: usize) -> f64 {
        let sum = self.s1[b] - self.s1[a];
        (self.s2[b] - self.s2[a]) - sum * sum / (b - a) as f64
    }
}

/// Binary segmentation for a change in mean: the best single split of a segment, recursively,
/// while a split lowers the cost by more than `penalty`; at most `max_changes`. O(n log n), where
/// PELT degrades to O(n²) on series without changes; used for onsets, where only the large steps
/// matter.
pub fn binseg(x: &[f64], penalty: f64, min_size: usize, max_changes: usize) -> Vec<usize> {
    let n = x.len();
    let min_size = min_size.max(1);
    let sums = Sums::new(x);
    let cost = |a: usize, b: usize| sums.sse(a, b);
    let best_split = |a: usize, b: usize| -> Option<(f64, usize)> {
        if b - a < 2 * min_size {
            return None;
        }
        let whole = cost(a, b);
        (a + min_size..=b - min_size)
            .map(|k| (whole - cost(a, k) - cost(k, b), k))
            .max_by(|p, q| p.0.total_cmp(&q.0))
    };
    let mut segments = vec![(0, n)];
    let mut cps = Vec::new();
    while cps.len() < max_changes {
        let Some((gain, k, idx)) = segments
            .iter()
            .enumerate()
            .filter_map(|(i, &(a, b))| best_split(a, b).map(|(g, k)| (g, k, i)))
            .max_by(|p, q| p.0.total_cmp(&q.0))
        else {
            break;
        };
        if gain <= penalty {
            break;
        }
        let (a, b) = segments.swap_remove(idx);
        segments.push((a, k));
        segments.push((k, b));
        cps.push(k);
    }
    cps.sort_unstable();
    cps
}

/// A robust estimate of the noise variance: MAD of first differences, scaled for a normal
/// distribution and for differencing (σ² = (1.4826 · MAD / √2)²).
pub fn noise_variance(x: &[f64]) -> f64 {
    let mut d: Vec<f64> = x.windows(2).map(|w| (w[1] - w[0]).abs()).collect();
    if d.is_empty() {
        return 0.0;
    }
    let mid = d.len() / 2;
    d.select_nth_unstable_by(mid, f64::total_cmp);
    let mad = d[mid];
    let sigma = 1.4826 * mad / std::f64::consts::SQRT_2;
    sigma * sigma
}

/// The BIC-style penalty for a mean change in noise of variance `var`: 2 σ² ln n, with a floor
/// so that a noiseless series does not split on rounding.
pub fn default_penalty(x: &[f64]) -> f64 {
    let n = x.len().max(2) as f64;
    let var = noise_variance(x);
    let scale = x.iter().map(|v| v.abs()).fold(0.0, f64::max);
    2.0 * var.max(1e-6 * scale * scale + 1e-9) * n.ln() * 2.0
}

/// A step up in the daily energy that looks like equipment switched on and left running.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Onset {
    /// Index of the first day of the level the step rose from.
    pub from: usize,
    /// Index of the first day at the new level (of the first step, for a staircase).
    pub at: usize,
    /// Mean daily kWh before.
    pub before: f64,
    /// Mean daily kWh after (after the last step, for a staircase).
    pub after: f64,
    /// Days the new level lasted.
    pub days: usize,
    /// Steps it took: 1, or the steps of a staircase (machines switched on one at a time).
    pub steps: usize,
    /// Index of the first day at the final level (`at` for a single step).
    pub settled: usize,
    /// For a staircase, the smallest step in kW: about one machine's draw.
    pub unit_kw: f64,
}

impl Onset {
    /// Size of the step in kW (a day has 24 hours).
    pub fn step_kw(&self) -> f64 {
        (self.after - self.before) / 24.0
    }
}

/// The most steps read as one staircase.
const MAX_STAIRS: usize = 8;

/// Whether upward steps of `kws` kW are one machine after another: each a whole number (one
/// to three) of the smallest, within a quarter of a step. Two machines switched on within a
/// week of each other make one step of two.
fn equal_steps(kws: &[f64]) -> bool {
    let unit = kws.iter().copied().fold(f64::INFINITY, f64::min);
    unit > 0.0
        && kws.iter().all(|k| {
            let r = k / unit;
            r <= 3.25 && (r - r.round()).abs() <= 0.25
        })
}

/// Whether a step of `kw` stands clear of the day-to-day noise (`noise`, kWh): four times
/// it. A machine switched on moves the day's energy at once by its whole draw, far beyond what
/// a household's or a business's days move (a 1.2 kW rig adds 29 kWh to a home's 5-15 kWh);
/// a load that follows the weather moves by its steps from one day to the next anyway, and
/// change-point search cuts its seasonal rise into steps of about that size.
fn distinct(kw: f64, noise: f64) -> bool {
    kw * 24.0 >= 4.0 * noise
}

/// Whether a staircase's level `seg` (daily kWh) holds between its steps of `steps_kw`: its
/// own drift (least-squares slope times length) under half the smallest step. A machine runs at
/// one draw until the next joins it; a load that follows the season (a cold store's compressors
/// into the summer, lamps into the winter's nights) climbs inside every segment that change-point
/// search cuts its ramp into, by about a step each (issue 18: 967 legitimate meters' scores moved
/// on the tuning regions before this test, none of them a machine's).
fn level_holds(seg: &[f64], steps_kw: &[f64]) -> bool {
    let n = seg.len() as f64;
    if seg.len() < 2 {
        return true;
    }
    let unit = steps_kw.iter().copied().fold(f64::INFINITY, f64::min) * 24.0;
    let mx = (n - 1.0) / 2.0;
    let my = seg.iter().sum::<f64>() / n;
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for (t, y) in seg.iter().enumerate() {
        let dx = t as f64 - mx;
        sxy += dx * (y - my);
        sxx += dx * dx;
    }
    (sxy / sxx * n).abs() <= 0.5 * unit
}

/// A step down that lasted: a level that ran, then stopped (the mirror of an [`Onset`]).
/// Indices are days of the series, in time order.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Departure {
    /// Index of the first day of the level that stopped.
    pub running_from: usize,
    /// Index of the day after the level that stopped (of its highest step, for machines taken
    /// off one at a time).
    pub running_until: usize,
    /// Index of the first day at the level left behind: the day it had all stopped.
    pub at: usize,
    /// Index of the day after the level left behind.
    pub left_until: usize,
    /// Mean daily kWh while it ran (the highest level).
    pub running: f64,
    /// Mean daily kWh after.
    pub left: f64,
    /// Steps it took: 1, or the steps of machines taken off one at a time.
    pub steps: usize,
}

impl Departure {
    /// Size of the step in kW (a day has 24 hours).
    pub fn step_kw(&self) -> f64 {
        (self.running - self.left) / 24.0
    }
}

/// Every step down [`onsets`] would weigh were time to run backwards, largest first: a level
/// that held at least `min_days`, then stopped for at least `min_days`, at least halving the
/// load (or taking `min_kw` of continuous load off it). A hydro-season miner leaves when the
/// wet season ends (../shared/notes/POWER.md, F12: seasonal migration), and a quarter that
/// opens in its last weeks sees it only as a step down; so do rigs moved away before an
/// inspection.
pub fn departures(daily: &[f64], min_days: usize, min_kw: f64) -> Vec<Departure> {
    let reversed: Vec<f64> = daily.iter().rev().copied().collect();
    let n = daily.len();
    onsets(&reversed, min_days, min_kw)
        .into_iter()
        .map(|o| Departure {
            running_from: n - (o.settled + o.days),
            running_until: n - o.settled,
            at: n - o.at,
            left_until: n - o.from,
            running: o.after,
            left: o.before,
            steps: o.steps,
        })
        .collect()
}

/// The largest upward step in a daily-kWh series that at least doubles the level before it (or
/// adds `min_kw` of continuous load) and lasts at least `min_days` (docs/FACTS.md §P2).
/// Missing days (NaN) are filled with the previous day's value for the search only.
///
/// Machines switched on one at a time, days or weeks apart, make a staircase of equal steps
/// (issue 18: "the step pattern of rigs being added one by one"): once a few run, the next adds
/// little beside them, and the largest single step is one machine on some later date. Such a
/// run of upward steps, each a whole number of the smallest and each at least a tenth of
/// `min_kw`, is read as one onset from its first step to its last level, so that the date
/// (back-billing starts there) and the size are the whole installation's.
pub fn largest_onset(daily: &[f64], min_days: usize, min_kw: f64) -> Option<Onset> {
    onsets(daily, min_days, min_kw).into_iter().next()
}

/// Every step [`largest_onset`] weighs (single steps and staircases that qualify), largest
/// first: when the largest is one that many meters share (a season's start), the scorer looks
/// at the next.
pub fn onsets(daily: &[f64], min_days: usize, min_kw: f64) -> Vec<Onset> {
    let mut x = Vec::with_capacity(daily.len());
    let Some(mut prev) = daily.iter().copied().find(|v| v.is_finite()) else {
        return Vec::new();
    };
    for v in daily {
        if v.is_finite() {
            prev = *v;
        }
        x.push(prev);
    }
    let cps = binseg(&x, default_penalty(&x), min_days.max(2), 8);
    let mut bounds = vec![0];
    bounds.extend(&cps);
    bounds.push(x.len());
    let mean = |a: usize, b: usize| x[a..b].iter().sum::<f64>() / (b - a) as f64;
    let means: Vec<f64> = bounds.windows(2).map(|w| mean(w[0], w[1])).collect();
    let mut found: Vec<Onset> = Vec::new();
    // Segment `i` to segment `j > i`: one step when j = i + 1, else a staircase.
    for i in 0..means.len() {
        for j in i + 1..means.len().min(i + 1 + MAX_STAIRS) {
            let steps: Vec<f64> = means[i..=j]
                .windows(2)
                .map(|w| (w[1] - w[0]) / 24.0)
                .collect();
            if j > i + 1 {
                // The day-to-day noise over the staircase's own levels, kWh: a machine's step
                // stands clear of it (see `distinct`). Once per staircase, not per step.
                let noise = noise_variance(&x[bounds[i + 1]..bounds[j + 1]]).sqrt();
                let machines = steps
                    .iter()
                    .all(|k| *k >= 0.1 * min_kw && distinct(*k, noise))
                    && equal_steps(&steps)
                    && (i + 1..=j).all(|k| level_holds(&x[bounds[k]..bounds[k + 1]], &steps));
                if !machines {
                    break;
                }
            }
            let (before, after) = (means[i], means[j]);
            let (at, settled, end) = (bounds[i + 1], bounds[j], bounds[j + 1]);
            let kw = (after - before) / 24.0;
            let doubles = after >= 2.0 * before.max(0.0) && kw > 0.1;
            if end - settled >= min_days && (doubles || kw >= min_kw) {
                found.push(Onset {
                    from: bounds[i],
                    at,
                    before,
                    after,
                    days: end - settled,
                    steps: j - i,
                    settled,
                    unit_kw: steps.iter().copied().fold(f64::INFINITY, f64::min),
                });
            }
        }
    }
    // Largest first; of equal steps the earliest found (the single step before a staircase
    // that ends at the same level), as the search always kept the first of a tie.
    found.sort_by(|a, b| b.step_kw().total_cmp(&a.step_kw()));
    found
}

/// A file of values, one per line (the last comma-separated field of a line when there are
/// several): the series `minewatch power changepoints` segments.
pub fn read_values(path: &std::path::Path) -> Result<Vec<f64>, crate::input::ReadError> {
    let text = std::fs::read_to_string(path).map_err(|source| crate::input::ReadError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut x = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let l = line.trim();
        if l.is_empty() {
            continue;
        }
        let v = l.rsplit(',').next().unwrap_or(l).trim();
        match v.parse::<f64>() {
            Ok(v) if v.is_finite() => x.push(v),
            _ => {
                return Err(crate::input::ReadError::Line {
                    path: path.to_path_buf(),
                    line: i as u64 + 1,
                    what: format!("not a number: {v:?}"),
                });
            }
        }
    }
    Ok(x)
}

/// The change points of `x` under `model`, and the penalty used: the one given, else the
/// default (for the normal model BIC: two parameters per segment, ln n each).
pub fn segment(
    x: &[f64],
    model: Model,
    penalty: Option<f64>,
    min_size: usize,
) -> (Vec<usize>, f64) {
    let penalty = penalty.unwrap_or_else(|| match model {
        Model::Mean => default_penalty(x),
        Model::MeanVariance => 2.0 * (x.len().max(2) as f64).ln(),
    });
    (pelt_with(x, model, penalty, min_size), penalty)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn noisy(levels: &[(usize, f64)], seed: u64) -> Vec<f64> {
        let mut s = seed | 1;
        let mut out = Vec::new();
        for (len, level) in levels {
            for _ in 0..*len {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                let u = (s % 10_000) as f64 / 10_000.0 - 0.5;
                out.push(level + u);
            }
        }
        out
    }

    #[test]
    fn finds_the_true_changes() {
        let x = noisy(&[(100, 10.0), (80, 15.0), (120, 9.0)], 3);
        let cps = pelt(&x, default_penalty(&x), 5);
        assert_eq!(cps.len(), 2, "{cps:?}");
        assert!(
            (cps[0] as i64 - 100).abs() <= 2 && (cps[1] as i64 - 180).abs() <= 2,
            "{cps:?}"
        );
    }

    #[test]
    fn variance_changes_need_the_normal_cost() {
        // Same mean, noise amplitude 1 then 5.
        let mut x = noisy(&[(300, 0.0)], 4);
        x.extend(noisy(&[(300, 0.0)], 8).iter().map(|v| v * 5.0));
        assert!(pelt(&x, 20.0, 10).is_empty());
        let cps = pelt_with(&x, Model::MeanVariance, 3.0 * (600f64).ln(), 10);
        assert_eq!(cps.len(), 1, "{cps:?}");
        assert!((cps[0] as i64 - 300).abs() <= 10, "{cps:?}");
    }

    #[test]
    fn binary_segmentation_agrees_on_clear_steps() {
        let x = noisy(&[(100, 10.0), (80, 15.0), (120, 9.0)], 3);
        let pen = default_penalty(&x);
        assert_eq!(binseg(&x, pen, 5, 8), pelt(&x, pen, 5));
        assert!(binseg(&noisy(&[(365, 12.0)], 9), pen, 7, 8).is_empty());
    }

    #[test]
    fn no_change_in_pure_noise() {
        let x = noisy(&[(365, 12.0)], 9);
        assert!(pelt(&x, default_penalty(&x), 7).is_empty());
    }

    #[test]
    fn a_miner_switched_on_mid_year() {
        // 8 kWh/day household; a 3.25 kW rig from day 180 adds 78 kWh/day.
        let mut x = noisy(&[(180, 8.0), (185, 86.0)], 5);
        x[50] = f64::NAN;
        let o = largest_onset(&x, 7, 1.0).unwrap();
        assert!((o.at as i64 - 180).abs() <= 1, "{o:?}");
        assert!((o.step_kw() - 3.25).abs() < 0.1, "{o:?}");
    }

    #[test]
    fn machines_added_one_by_one_are_one_onset_from_the_first() {
        // A home of 8 kWh/day (day-to-day noise of 1 kWh); four 1.4 kW machines (33.6 kWh/day
        // each) switched on ten days apart from day 150.
        let x = noisy(
            &[
                (150, 8.0),
                (10, 41.6),
                (10, 75.2),
                (10, 108.8),
                (185, 142.4),
            ],
            7,
        );
        let o = largest_onset(&x, 7, 1.0).unwrap();
        assert_eq!((o.at, o.settled, o.steps), (150, 180, 4), "{o:?}");
        assert!((o.step_kw() - 5.6).abs() < 0.05, "{o:?}");
        assert!((o.unit_kw - 1.4).abs() < 0.05, "{o:?}");
        // Two machines switched on within a week of each other make a step of two.
        let x = noisy(&[(150, 8.0), (20, 41.6), (195, 108.8)], 7);
        let o = largest_onset(&x, 7, 1.0).unwrap();
        assert_eq!((o.at, o.steps), (150, 2), "{o:?}");
        assert!((o.step_kw() - 4.2).abs() < 0.05, "{o:?}");
    }

    #[test]
    fn a_load_that_climbs_with_the_season_is_no_staircase() {
        // A cold store's compressors into the summer: the level climbs all the way (segments
        // that drift), or by steps no larger than its days move with the weather.
        let climb: Vec<f64> = (0..365)
            .map(|d| 400.0 + 300.0 * (d as f64 / 200.0).min(1.0))
            .collect();
        let o = largest_onset(&climb, 7, 1.0);
        assert!(o.is_none_or(|o| o.steps == 1), "{o:?}");
        let mut s = 5u64;
        let weather: Vec<f64> = [(120, 400.0), (60, 480.0), (185, 560.0)]
            .iter()
            .flat_map(|&(n, level)| std::iter::repeat_n(level, n))
            .map(|level| {
                s = s.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                level + ((s >> 33) % 100) as f64 - 50.0
            })
            .collect();
        let o = largest_onset(&weather, 7, 1.0);
        assert!(o.is_none_or(|o| o.steps == 1), "{o:?}");
        // Steps of unequal size are no machines of one kind either.
        let x = noisy(&[(150, 8.0), (20, 41.6), (195, 91.6)], 7);
        assert_eq!(largest_onset(&x, 7, 1.0).map(|o| o.steps), Some(1));
    }

    #[test]
    fn readings_no_meter_could_give_find_no_staircase_and_no_panic() {
        // A broken exporter's values: huge, tiny, negative, infinite, NaN, all in one series,
        // and steps of equal size at the edge of what f64 holds.
        let mut x = noisy(&[(100, 8.0), (20, 1e300), (20, 2e300), (225, 3e300)], 3);
        x[5] = f64::INFINITY;
        x[6] = f64::NEG_INFINITY;
        x[7] = f64::NAN;
        x[8] = -1e300;
        x[9] = f64::MIN_POSITIVE;
        for o in onsets(&x, 7, 1.0) {
            assert!(
                o.from <= o.at && o.at <= o.settled && o.settled < x.len(),
                "{o:?}"
            );
        }
        // Read backwards, the same values: every index within the series, in time order.
        let back: Vec<f64> = x.iter().rev().copied().collect();
        let found: Vec<Departure> = departures(&x, 7, 1.0)
            .into_iter()
            .chain(departures(&back, 7, 1.0))
            .collect();
        assert!(!found.is_empty());
        for d in found {
            assert!(
                d.running_from <= d.running_until
                    && d.running_until <= d.at
                    && d.at < d.left_until
                    && d.left_until <= x.len(),
                "{d:?}"
            );
        }
        assert!(onsets(&[f64::NAN; 400], 7, 1.0).is_empty());
        assert!(onsets(&[], 7, 1.0).is_empty());
        let flat_huge = vec![f64::MAX; 400];
        assert!(onsets(&flat_huge, 7, 1.0).is_empty());
    }

    #[test]
    fn a_rig_that_left_is_a_departure_on_the_day_it_stopped() {
        // A quarter that opens in a hydro season's last 17 days: 12 kW of rigs on a 9 kW site,
        // then the site alone.
        let x = noisy(&[(17, 21.0 * 24.0), (73, 9.0 * 24.0)], 5);
        let d = departures(&x, 7, 1.0);
        let first = d.first().expect("a departure");
        assert_eq!(
            (first.running_from, first.at, first.left_until),
            (0, 17, 90)
        );
        assert_eq!(first.running_until, 17);
        assert!((first.step_kw() - 12.0).abs() < 0.5, "{first:?}");
        assert!(onsets(&x, 7, 1.0).is_empty());
        // Its mirror, a rig switched on, is an onset and no departure.
        let up: Vec<f64> = x.iter().rev().copied().collect();
        assert!(departures(&up, 7, 1.0).is_empty());
        assert_eq!(largest_onset(&up, 7, 1.0).map(|o| o.at), Some(73));
        // Machines taken off one at a time: the day the last one stopped, the whole load.
        let stairs = noisy(&[(40, 29.0 * 24.0), (20, 19.0 * 24.0), (40, 9.0 * 24.0)], 7);
        let d = departures(&stairs, 7, 1.0);
        let first = d.first().expect("a departure");
        assert_eq!((first.at, first.steps), (60, 2), "{first:?}");
        assert!((first.step_kw() - 20.0).abs() < 0.5, "{first:?}");
        // Nothing that is no series breaks it.
        assert!(departures(&[], 7, 1.0).is_empty());
        assert!(departures(&[f64::NAN; 100], 7, 1.0).is_empty());
    }

    #[test]
    fn seasonal_wiggles_are_no_onset() {
        let x: Vec<f64> = (0..365)
            .map(|d| 10.0 + 2.0 * (d as f64 / 58.0).sin())
            .collect();
        assert!(largest_onset(&x, 7, 1.0).is_none());
    }
}
