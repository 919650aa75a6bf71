//! Load-curve features per meter and window (docs/FACTS.md §P2): load factor, night-to-midday ratio,
//! day-to-day and intraday variation, weekend-to-weekday ratio, share of the dominant level,
//! the continuous floor, the nightly plateau, capacity use, temperature sensitivity.
//!
//! One pass over a series makes per-day statistics; every window's features are then medians
//! and means over its days, so the many windows scored per meter cost little.

#![allow(
    clippy::indexing_slicing,
    reason = "days, hours and windows are indexed by positions computed from the lengths of the vectors built here"
)]

use crate::series::Series;
use crate::time::weekday;
use serde::Serialize;

/// Statistics of one local day.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Day {
    /// Local day number (days since 1970-01-01).
    pub day: i64,
    /// Energy of the day, kWh (scaled up from the valid intervals).
    pub kwh: f64,
    /// Share of the day's intervals that had a value.
    pub coverage: f64,
    /// Mean over max of interval power (F1), NaN for daily data.
    pub load_factor: f64,
    /// Std over mean of interval power (F4), NaN for daily data.
    pub cv: f64,
    /// Mean kW 00:00–06:00.
    pub night_kw: f64,
    /// Mean kW 10:00–16:00.
    pub midday_kw: f64,
    /// Lowest interval power 00:00–06:00, kW: a plateau that covers the whole night.
    pub night_min_kw: f64,
    /// Mean kW 06:00–08:00: before a business opens, and the hours after dawn where the clock
    /// keeps the sun's time.
    pub morning_kw: f64,
    /// Mean kW 06:00–07:00: the first of those hours alone, before a business that opens at
    /// seven (the dawn test for lamps, [`dawn_swing_of_days`]).
    pub dawn_kw: f64,
    /// Mean kW 20:00–22:00: after a business closes.
    pub evening_kw: f64,
    /// Mean relative change between consecutive intervals, NaN for daily data: a rig's power
    /// supply holds its draw within a percent or two, motors, compressors, lamps on ballasts and
    /// thermostats do not.
    pub jitter: f64,
    /// The same over 00:00–06:00 only, where a household's own load is quiet.
    pub night_jitter: f64,
    /// Median relative change between consecutive intervals over the whole day, NaN for daily
    /// data: the load's own movement, without the few steps of a schedule.
    pub day_step: f64,
    /// The same over 00:00–06:00.
    pub night_step: f64,
    /// Mean kW of each local hour of the day (NaN where an hour has no reading, and for daily
    /// data): the day's shape, which [`Features::constant_kw`] takes out of its movement.
    pub hours_kw: [f32; 24],
    /// Lowest interval power 10:00–16:00, kW: above the night's mean when the site is open
    /// all through the midday hours.
    pub midday_min_kw: f64,
    /// Lowest interval power, kW.
    pub min_kw: f64,
    /// Share of intervals within ±5 % of the day's median (F7), NaN for daily data.
    pub mode_share: f64,
    /// Negative intervals seen (export).
    pub exported: bool,
}

/// Days with at least this share of their intervals are used.
pub const MIN_COVERAGE: f64 = 0.8;

/// Six hours of [`Day::hours_kw`] from `first` o'clock.
fn six_hours(hours: &[f32; 24], first: usize) -> &[f32; 6] {
    const NONE: [f32; 6] = [f32::NAN; 6];
    hours
        .split_at_checked(first)
        .and_then(|(_, rest)| rest.first_chunk::<6>())
        .unwrap_or(&NONE)
}

impl Day {
    /// [`Day::hours_kw`] 00:00–06:00: the night's shape.
    pub fn night_hours_kw(&self) -> &[f32; 6] {
        six_hours(&self.hours_kw, 0)
    }

    /// [`Day::hours_kw`] 10:00–16:00: the midday's shape.
    pub fn midday_hours_kw(&self) -> &[f32; 6] {
        six_hours(&self.hours_kw, 10)
    }
}

/// Per-day statistics of a series, in day order.
pub fn days(s: &Series) -> Vec<Day> {
    days_for(s, true)
}

/// [`days`], with each day's median steps by day and by night ([`Day::day_step`],
/// [`Day::night_step`]) only when `steps` asks for them (NaN otherwise). The score reads them
/// of businesses alone, and finding them for every day of every meter was a sixth of a power
/// scan's time (docs/PERFORMANCE.md).
pub fn days_for(s: &Series, steps: bool) -> Vec<Day> {
    let per_hour = s.per_hour();
    let per_day = (86_400 / s.step).max(1) as usize;
    let n = s.kwh.len();
    let mut out: Vec<Day> = Vec::with_capacity(n / per_day + 2);
    let mut keys: Vec<i32> = Vec::with_capacity(per_day);
    let single_offset = s.offsets.len() <= 1;
    let base = s.start + i64::from(s.offsets.first().map_or(0, |o| o.1));
    let local = |i: usize| {
        if single_offset {
            base + i as i64 * s.step
        } else {
            s.local(i)
        }
    };
    let mut i = 0;
    while i < n {
        let day = local(i).div_euclid(86_400);
        // The intervals of this local day: found by arithmetic under one offset, by walking
        // under daylight saving.
        let j = if single_offset {
            let next = (day + 1) * 86_400 - base;
            (((next + s.step - 1) / s.step) as usize).clamp(i + 1, n)
        } else {
            let mut j = i + 1;
            while j < n && local(j).div_euclid(86_400) == day {
                j += 1;
            }
            j
        };
        // Under one offset the night and midday hours are index ranges of the day.
        let spans = (single_offset && per_day > 1).then(|| {
            let secs0 = local(i).rem_euclid(86_400);
            let at = |secs: i64| {
                ((secs - secs0 + s.step - 1).div_euclid(s.step)).clamp(0, (j - i) as i64) as usize
            };
            [
                at(0)..at(6 * 3600),
                at(10 * 3600)..at(16 * 3600),
                at(6 * 3600)..at(8 * 3600),
                at(20 * 3600)..at(22 * 3600),
                at(6 * 3600)..at(7 * 3600),
            ]
        });
        out.push(day_stats(
            day,
            &s.kwh[i..j],
            |k| local(i + k),
            spans,
            (per_day, per_hour, steps, s.step),
            &mut keys,
        ));
        i = j;
    }
    // A day of a daily series has one interval; DST days have 23 or 25 hourly ones: both fine.
    for d in &mut out {
        if per_day == 1 {
            d.coverage = if d.kwh.is_finite() { 1.0 } else { 0.0 };
        } else {
            d.coverage = d.coverage.min(1.0);
        }
    }
    out
}

/// `f32::total_cmp` order as plain integers, so a day's median is found without a comparison
/// closure.
fn order_key(v: f32) -> i32 {
    let b = v.to_bits() as i32;
    b ^ (((b >> 31) as u32) >> 1) as i32
}

fn from_order_key(k: i32) -> f32 {
    f32::from_bits((k ^ (((k >> 31) as u32) >> 1) as i32) as u32)
}

/// `f64::total_cmp` order as plain integers, as [`order_key`] for `f32`.
fn order_key64(v: f64) -> i64 {
    let b = v.to_bits() as i64;
    b ^ (((b >> 63) as u64) >> 1) as i64
}

fn from_order_key64(k: i64) -> f64 {
    f64::from_bits((k ^ (((k >> 63) as u64) >> 1) as i64) as u64)
}

/// The element of rank `len / 2` of `keys` (the upper median), reordering `keys`.
///
/// A day of hourly or half-hourly data has at most 50 values: its median is then found by
/// counting, for every value, how many are smaller, four at a time with SSE2 compares and no
/// branch to guess wrong (docs/PERFORMANCE.md says what was measured). The median is the
/// largest value with at most `len / 2` values below it.
fn upper_median(keys: &mut [i32]) -> i32 {
    #[cfg(target_arch = "x86_64")]
    match keys.len() {
        1..=32 => return counted_median::<8>(keys),
        33..=56 => return counted_median::<14>(keys),
        _ => {}
    }
    let n = keys.len();
    *keys.select_nth_unstable(n / 2).1
}

/// [`upper_median`] by counting, in `V` vectors of four lanes (at least `keys.len()` lanes).
#[cfg(target_arch = "x86_64")]
fn counted_median<const V: usize>(keys: &[i32]) -> i32 {
    use std::arch::x86_64::{
        __m128i, _mm_and_si128, _mm_andnot_si128, _mm_cmpgt_epi32, _mm_loadu_si128, _mm_or_si128,
        _mm_set1_epi32, _mm_setzero_si128, _mm_storeu_si128, _mm_sub_epi32,
    };
    let n = keys.len();
    // Padding is never below a key, nor chosen: n values lie below it.
    let mut k = [[i32::MAX; 4]; V];
    k.as_flattened_mut()[..n].copy_from_slice(keys);
    // SAFETY: SSE2 is part of every x86_64 processor; every load and store is an unaligned one
    // of a whole `[i32; 4]`.
    unsafe {
        let v: [__m128i; V] = std::array::from_fn(|i| _mm_loadu_si128(k[i].as_ptr().cast()));
        let mut below = [_mm_setzero_si128(); V];
        for &x in keys {
            let x = _mm_set1_epi32(x);
            for (b, v) in below.iter_mut().zip(&v) {
                // The compare gives -1 where the lane's value is above x.
                *b = _mm_sub_epi32(*b, _mm_cmpgt_epi32(*v, x));
            }
        }
        let (m, none) = (_mm_set1_epi32((n / 2) as i32), _mm_set1_epi32(i32::MIN));
        let mut best = none;
        for (b, v) in below.iter().zip(&v) {
            let over = _mm_cmpgt_epi32(*b, m);
            let cand = _mm_or_si128(_mm_andnot_si128(over, *v), _mm_and_si128(over, none));
            let gt = _mm_cmpgt_epi32(cand, best);
            best = _mm_or_si128(_mm_and_si128(gt, cand), _mm_andnot_si128(gt, best));
        }
        let mut out = [0i32; 4];
        _mm_storeu_si128(out.as_mut_ptr().cast(), best);
        out.into_iter().fold(i32::MIN, i32::max)
    }
}

/// The sum, largest and smallest of a day's values (NaN skipped), whether one was negative,
/// and the values' order keys (into `keys`).
///
/// Its own function, not inlined: inside the larger one every running figure lived on the
/// stack, and each addition waited for the store of the one before.
#[inline(never)]
fn scan(vals: &[f32], keys: &mut Vec<i32>) -> (f64, f64, f64, bool) {
    // The float sum of the standard library starts at -0.0: kept, so a day of -0.0 stays one.
    let (mut sum, mut max, mut min) = (-0.0, f64::MIN, f64::MAX);
    let mut exported = false;
    keys.clear();
    keys.extend(vals.iter().filter(|v| !v.is_nan()).map(|&v| order_key(v)));
    for &v in vals.iter().filter(|v| !v.is_nan()) {
        let v = f64::from(v);
        exported |= v < 0.0;
        sum += v;
        // No NaN here: a plain compare (the first of equal values stays).
        if v > max {
            max = v;
        }
        if v < min {
            min = v;
        }
    }
    (sum, max, min, exported)
}

/// The sum of squared deviations of a day's values from `mean`, and how many lie within
/// `band` of `med` (NaN skipped): one pass, in a function of its own for the reason [`scan`]
/// has one.
#[inline(never)]
fn spread(vals: &[f32], mean: f64, med: f64, band: f64) -> (f64, usize) {
    // Started as the standard library's float sum starts.
    let (mut squares, mut in_band) = (-0.0, 0);
    for &v in vals.iter().filter(|v| !v.is_nan()) {
        let v = f64::from(v);
        squares += (v - mean) * (v - mean);
        in_band += usize::from((v - med).abs() <= band);
    }
    (squares, in_band)
}

/// The sum and count of the values of `vals` that are not NaN, in order from 0.0. The running
/// figures in locals: added into a tuple of the caller's they were stored and loaded again at
/// every value, so it is kept out of line as [`scan`] is.
#[inline(never)]
fn sum_valid(vals: &[f32]) -> (f64, usize) {
    let (mut sum, mut n) = (0.0, 0usize);
    for &v in vals {
        if !v.is_nan() {
            sum += f64::from(v);
            n += 1;
        }
    }
    (sum, n)
}

/// The mean of |b − a| / ((a + b) / 2) over consecutive readings a, b that are both present
/// and positive; NaN with fewer than three such pairs. A mean, not a median: a night has five
/// steps, and the median of five is too rough to tell 1 % from 4 % (the window's median over
/// days then takes out the nights with a spike). Out of line and summed in `f32` lanes for the
/// reason [`scan`] is: inlined, the running sum went through the stack at every pair.
#[inline(never)]
fn relative_steps(vals: &[f32]) -> f64 {
    let (mut sum, mut n) = (0.0f32, 0u32);
    for w in vals.windows(2) {
        let (a, b) = (w[0], w[1]);
        // NaN fails the comparison: a missing reading breaks its two pairs.
        let both = a > 0.0 && b > 0.0;
        let step = (b - a).abs() * 2.0 / (a + b);
        sum += if both { step } else { 0.0 };
        n += u32::from(both);
    }
    if n < 3 {
        f64::NAN
    } else {
        f64::from(sum) / f64::from(n)
    }
}

/// The mean kW of each of the `N` hours from `first` over the readings `span` of a day's
/// `vals` (`local` gives a reading's local time, `even_step` the seconds between readings
/// when they are evenly spaced); NaN for an hour without a reading.
fn hour_means<const N: usize>(
    vals: &[f32],
    span: std::ops::Range<usize>,
    first: i64,
    local: &impl Fn(usize) -> i64,
    (per_hour, even_step): (f64, Option<i64>),
) -> [f32; N] {
    let mut acc = [(0.0f64, 0u32); N];
    match even_step {
        // Evenly spaced readings under one offset: the hour follows from the first's.
        Some(step) if step > 0 && 3600 % step == 0 && !span.is_empty() => {
            let t0 = local(span.start).rem_euclid(86_400);
            let vals = vals.get(span).unwrap_or_default();
            // The span's first reading at or after `first` o'clock, and a whole number of
            // readings an hour from there (one division a day, not one a reading).
            let start = (first * 3600 - t0 + step - 1).div_euclid(step);
            let n = 3600 / step;
            let at = |h: i64| (start + h * n).clamp(0, vals.len() as i64) as usize;
            if n == 1 {
                // Hourly readings (the usual case): each hour is its one reading.
                for (h, a) in (0i64..).zip(acc.iter_mut()) {
                    if let Some(&v) = usize::try_from(start + h).ok().and_then(|i| vals.get(i))
                        && !v.is_nan()
                    {
                        *a = (f64::from(v), 1);
                    }
                }
            } else {
                for (h, a) in (0i64..).zip(acc.iter_mut()) {
                    let (sum, count) = sum_valid(vals.get(at(h)..at(h + 1)).unwrap_or_default());
                    *a = (sum, count as u32);
                }
            }
        }
        _ => {
            for k in span {
                let Some(&v) = vals.get(k).filter(|v| !v.is_nan()) else {
                    continue;
                };
                let hour = local(k).rem_euclid(86_400) / 3600 - first;
                if let Some(a) = usize::try_from(hour).ok().and_then(|h| acc.get_mut(h)) {
                    a.0 += f64::from(v);
                    a.1 += 1;
                }
            }
        }
    }
    acc.map(|(sum, n)| {
        if n > 0 {
            (sum / f64::from(n) * per_hour) as f32
        } else {
            f32::NAN
        }
    })
}

/// Median relative change between consecutive readings (each pair's change over its mean);
/// NaN with fewer than three pairs. Unlike the mean ([`relative_steps`]), the few steps a day
/// where a shop opens or shifts change over leave it at the load's own movement: a three-shift
/// factory's dips, six steps of a third or more a day, raised its mean to twice its night's
/// while its load moved alike by day and night (issue 18, the varied mix).
fn relative_step_median(vals: &[f32]) -> f64 {
    median_step(vals, |a, b| {
        if a > 0.0 && b > 0.0 {
            (b - a).abs() * 2.0 / (a + b)
        } else {
            f32::NAN
        }
    })
}

/// The median of `step` over consecutive readings, NaN steps (a missing reading) left out;
/// NaN with fewer than three. A day of up to 64 pairs is worked on the stack, and the median
/// is selected, not sorted for.
fn median_step(vals: &[f32], step: impl Fn(f32, f32) -> f32) -> f64 {
    let mut stack = [0f32; 64];
    let mut heap = Vec::new();
    let steps: &mut [f32] = if vals.len() <= stack.len() {
        &mut stack
    } else {
        heap.resize(vals.len(), 0.0);
        &mut heap
    };
    let mut n = 0;
    for w in vals.windows(2) {
        let step = step(w[0], w[1]);
        // NaN fails the comparison: a missing reading breaks its two pairs.
        if step >= 0.0
            && let Some(slot) = steps.get_mut(n)
        {
            *slot = step;
            n += 1;
        }
    }
    let Some(steps) = steps.get_mut(..n).filter(|s| s.len() >= 3) else {
        return f64::NAN;
    };
    let mid = steps.len() / 2;
    f64::from(*steps.select_nth_unstable_by(mid, f32::total_cmp).1)
}

/// The lowest reading present, as kW; NaN when none is.
fn lowest_kw(vals: &[f32], per_hour: f64) -> f64 {
    vals.iter()
        .filter(|v| !v.is_nan())
        .map(|&v| f64::from(v) * per_hour)
        .fold(f64::NAN, f64::min)
}

/// The statistics of one day's intervals (`local` gives an interval's local time).
fn day_stats(
    day: i64,
    vals: &[f32],
    local: impl Fn(usize) -> i64,
    spans: Option<[std::ops::Range<usize>; 5]>,
    (per_day, per_hour, steps, step): (usize, f64, bool, i64),
    keys: &mut Vec<i32>,
) -> Day {
    let expected = vals.len();
    // Under one offset the readings are evenly spaced (the day's spans are index ranges). The
    // series' own step, not one found again from the day's count: on a grid that does not
    // divide the day that gave back another (3,500 s read as 3,600).
    let even_step = spans.is_some().then_some(step);
    let (sum, max, min, exported) = scan(vals, keys);
    let mut night = (0.0, 0usize);
    let mut midday = (0.0, 0usize);
    let (mut morning, mut evening) = ((0.0, 0usize), (0.0, 0usize));
    let mut dawn = (0.0, 0usize);
    let mut night_span = 0..0;
    let mut midday_span = 0..0;
    if per_day > 1 && spans.is_none() {
        for (k, &v) in vals.iter().enumerate().filter(|(_, v)| !v.is_nan()) {
            let (v, hour) = (f64::from(v), local(k).rem_euclid(86_400) / 3600);
            let add = |acc: &mut (f64, usize)| {
                acc.0 += v;
                acc.1 += 1;
            };
            match hour {
                0..6 => {
                    add(&mut night);
                    // The night hours open the local day (a daylight-saving day too).
                    night_span = night_span.start..k + 1;
                }
                6 => {
                    add(&mut morning);
                    add(&mut dawn);
                }
                7 => add(&mut morning),
                10..16 => {
                    add(&mut midday);
                    if midday_span.is_empty() {
                        midday_span.start = k;
                    }
                    midday_span.end = k + 1;
                }
                20..22 => add(&mut evening),
                _ => {}
            }
        }
    }
    if let Some([n, m, am, pm, first]) = spans {
        night = sum_valid(&vals[n.clone()]);
        midday = sum_valid(&vals[m.clone()]);
        midday_span = m;
        morning = sum_valid(&vals[am]);
        dawn = sum_valid(&vals[first]);
        evening = sum_valid(&vals[pm]);
        night_span = n;
    }
    let n = keys.len();
    let coverage = n as f64 / expected as f64;
    let (kwh, lf, cv, min_kw, mode) = if n == 0 {
        (f64::NAN, f64::NAN, f64::NAN, f64::NAN, f64::NAN)
    } else {
        let kwh = sum / coverage.max(1e-9);
        if per_day == 1 {
            (kwh, f64::NAN, f64::NAN, kwh / 24.0, f64::NAN)
        } else {
            let mean = sum / n as f64;
            let med = f64::from(from_order_key(upper_median(keys)));
            let band = (med.abs() * 0.05).max(1e-9);
            let (squares, in_band) = spread(vals, mean, med, band);
            let var = squares / n as f64;
            (
                kwh,
                if max > 0.0 { mean / max } else { f64::NAN },
                if mean > 0.0 {
                    var.sqrt() / mean
                } else {
                    f64::NAN
                },
                min * per_hour,
                in_band as f64 / n as f64,
            )
        }
    };
    let per_kw = |(sum, count): (f64, usize)| {
        if count > 0 {
            sum / count as f64 * per_hour
        } else {
            f64::NAN
        }
    };
    let night_vals = &vals[night_span];
    let night_min_kw = lowest_kw(night_vals, per_hour);
    let (jitter, night_jitter, day_step, night_step) = if per_day > 1 {
        (
            relative_steps(vals),
            relative_steps(night_vals),
            if steps {
                relative_step_median(vals)
            } else {
                f64::NAN
            },
            if steps {
                relative_step_median(night_vals)
            } else {
                f64::NAN
            },
        )
    } else {
        (f64::NAN, f64::NAN, f64::NAN, f64::NAN)
    };
    let midday_vals = vals.get(midday_span.clone()).unwrap_or_default();
    let hours_kw = if per_day > 1 {
        hour_means(vals, 0..vals.len(), 0, &local, (per_hour, even_step))
    } else {
        [f32::NAN; 24]
    };
    let midday_min_kw = lowest_kw(midday_vals, per_hour);
    Day {
        day,
        kwh,
        coverage,
        load_factor: lf,
        cv,
        night_kw: per_kw(night),
        midday_kw: per_kw(midday),
        night_min_kw,
        // A NaN either side (daily data, a gap) leaves the shoulder unknown.
        morning_kw: per_kw(morning),
        dawn_kw: per_kw(dawn),
        evening_kw: per_kw(evening),
        jitter,
        night_jitter,
        day_step,
        night_step,
        hours_kw,
        midday_min_kw,
        min_kw,
        mode_share: mode,
        exported,
    }
}

/// Features of one window of days.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Features {
    /// Days used (coverage at least 80 %).
    pub days: usize,
    /// First local day of the window.
    #[serde(skip)]
    pub first_day: i64,
    /// Last local day of the window.
    #[serde(skip)]
    pub last_day: i64,
    /// Mean power, kW.
    pub mean_kw: f64,
    /// Median daily load factor (F1); NaN for daily data.
    pub load_factor: f64,
    /// Night (00–06) over midday (10–16) mean power (F2); NaN for daily data.
    pub night_midday: f64,
    /// Mean power 00:00–06:00, kW.
    pub night_kw: f64,
    /// Night minus midday mean power, kW: a plateau that runs only at night.
    pub night_excess_kw: f64,
    /// Lowest night power minus midday mean power, kW (means over days): a plateau that covers
    /// the whole night, as a rig on the night tariff does and lamps topping up the daylight
    /// before dawn do not.
    pub night_floor_excess_kw: f64,
    /// Median over days of the mean relative change between consecutive readings; NaN for
    /// daily data.
    pub jitter: f64,
    /// The same over 00:00–06:00.
    pub night_jitter: f64,
    /// Median over days of the median relative change between consecutive readings over the
    /// whole day; NaN for daily data. A site's own movement by day, which a schedule's few
    /// steps (opening, a shift change) do not raise as they raise [`Features::jitter`].
    pub day_step: f64,
    /// The same over 00:00–06:00: medians against medians, as [`Features::day_step`] is to be
    /// compared with.
    pub night_step: f64,
    /// Spread of the daily minimum power from day to day (interquartile range over median): a
    /// rig's floor stays put, a floor set by a thermostat, a season or a shift does not.
    pub floor_spread: f64,
    /// Median change of a day's energy above the floor from the same weekday a week before,
    /// over the mean energy above the floor; NaN when no day has its week-old twin or nothing
    /// runs above the floor. A site's own load lives from week to week; a standard load
    /// profile, or readings estimated by copying days, repeats itself.
    pub week_change: f64,
    /// Correlation of the daily minimum power with daily temperature over the days the floor
    /// is on (at least half its 90th percentile): a seasonal
    /// load switched on with the hydro season is blind to temperature while on, a cooling or
    /// heating load is not.
    /// (whole-period window only: see [`Features::add_floor_weather`]).
    pub on_floor_temp_corr: f64,
    /// How far temperature moves that floor: the fitted slope times the spread of temperature
    /// (10th to 90th percentile), over the floor's median. A cold store's floor swings with the
    /// weather; a rig in front of one keeps most of it still.
    pub on_floor_temp_amp: f64,
    /// That floor's fitted value at the mildest temperature of those days (the warm end for a
    /// heating load, the cold end for a cooling one), kW: what remains when temperature asks
    /// least of it.
    pub on_floor_mild_kw: f64,
    /// The median floor over those days, kW.
    pub on_floor_kw: f64,
    /// Median over days of the night's mean power (00:00–06:00) above the quieter of the
    /// hours either side of it (06:00–08:00, 20:00–22:00), kW: a block that runs only at night,
    /// as a rig on the night tariff does. NaN for daily data.
    pub night_block_kw: f64,
    /// Spread of that block from night to night (interquartile range over median): a rig's
    /// is the same every night.
    pub night_block_spread: f64,
    /// Mean block on weekend nights over weekday nights: a rig does not keep the week.
    pub night_block_weekly: f64,
    /// The part of the load that does not move when the site's own load moves, kW: a site's
    /// appliances, motors and lamps vary in proportion to how many of them are on (busy hours
    /// vary more, in kW, than quiet ones), a rig's power supply holds its draw whatever the
    /// site does. From the busy midday and the quiet night of the days the site is open
    /// (every midday hour at least 1.5 times the night's mean): with mean level `m` and mean
    /// hour-to-hour change `a` in each, `a = c (m - constant)` gives
    /// `constant = (a_day m_night - a_night m_day) / (a_day - a_night)`. Where the change grows
    /// more slowly than the level (many small independent loads), the estimate falls below
    /// zero rather than above. The smaller of the estimates over odd and even days; NaN when
    /// fewer than 20 days of either are open, when the two regimes differ by less than twice,
    /// in level or in movement, or when the quiet hours move less than 2 % of their level.
    pub constant_kw: f64,
    /// Mean over the open days of the midday's median hour-to-hour change, kW (the busy
    /// regime of [`Features::constant_kw`]).
    pub busy_step_kw: f64,
    /// The same over their nights (the quiet regime).
    pub quiet_step_kw: f64,
    /// How far the dawn hour's share of the night's load moves over the year (whole-period
    /// window only: see [`dawn_swing`]); NaN when it cannot be told.
    pub dawn_swing: f64,
    /// Coefficient of variation of daily energy (F3).
    pub daily_cv: f64,
    /// Median intraday coefficient of variation (F4); NaN for daily data.
    pub intraday_cv: f64,
    /// Mean weekend day over mean weekday energy (F5).
    pub weekend_weekday: f64,
    /// Median share of readings within ±5 % of the day's median (F7); NaN for daily data.
    pub mode_share: f64,
    /// Median of the daily minimum power, kW: the load that never switches off. On daily
    /// readings (one a day) the median day's mean power: the day has no minimum to show, so
    /// the paths and reasons that read it as what never switches off ask for sub-daily
    /// readings.
    pub floor_kw: f64,
    /// Energy per 30 days, kWh.
    pub monthly_kwh: f64,
    /// Mean power over contracted capacity, when the capacity is known.
    pub capacity_use: f64,
    /// Correlation of daily energy with daily temperature, when weather is given.
    pub temp_corr: f64,
    /// Correlation of the night's level (00:00–06:00, day by day) with daily temperature,
    /// when weather is given: storage heaters fill their nights by the cold, a rig's nights
    /// hold whatever the home around it heats by day.
    pub night_temp_corr: f64,
    /// How far temperature moves the night's level: the fitted slope times the spread of
    /// temperature (10th to 90th percentile), over the median night.
    pub night_temp_amp: f64,
    /// The meter exported energy (rooftop solar).
    pub exports: bool,
}

/// Months of readings [`dawn_swing`] needs, each with this many complete days.
const DAWN_MONTHS: usize = 6;
const DAWN_DAYS: usize = 10;

/// How far, over the year, the load of the hour after dawn moves as a share of the night's
/// load (00:00–06:00): the largest minus the smallest monthly median of
/// mean(dawn hour) / mean(night). One hour, not two: shops and offices that open at seven
/// drew their opening into a second hour, which then stood above the night all year and hid
/// their lamps (issue 18, the varied mix). Lamps on a dusk-to-dawn switch are on at that hour
/// in the dark months and off in the light ones (a façade's lamps: 0.35–0.7); a machine
/// draws the same at that hour all year, and so do a business's own standby and a shop's
/// opening routine (0.06–0.12). 0 when no month's dawn falls under [`DAWN_BELOW_NIGHT`] of
/// its night (lamps go off at dawn; a business opening then draws more). NaN when the night's
/// own level moves by more than [`NIGHT_STEADY`] over the months (lamps light every night
/// alike), for daily data, and with fewer than [`DAWN_MONTHS`] months of [`DAWN_DAYS`]
/// complete days.
/// `dawn_hour` is the window's hour, local clock: 06:00 where the clock keeps the
/// sun's time, later to the west of a wide time zone (China keeps one clock).
pub fn dawn_swing(s: &Series, dawn_hour: i64) -> f64 {
    // A step that is not a whole fraction of an hour (or none at all) has no dawn hours.
    if s.step <= 0 || s.step > 3600 || 3600 % s.step != 0 {
        return f64::NAN;
    }
    let per_hour = (3600 / s.step) as usize;
    let dawn_hour = quiet_hour(s, dawn_hour);
    let mut nights: Vec<(i64, f64, f64)> = Vec::new();
    // (day, night sum, night count, dawn sum, dawn count)
    let mut cur = (i64::MIN, 0.0, 0usize, 0.0, 0usize);
    let close = |c: &(i64, f64, usize, f64, usize), out: &mut Vec<(i64, f64, f64)>| {
        let (day, night, nn, dawn, nd) = *c;
        if day != i64::MIN && nn == 6 * per_hour && nd == per_hour {
            out.push((day, dawn / nd as f64, night / nn as f64));
        }
    };
    for (i, v) in s.kwh.iter().enumerate() {
        let t = s.local(i);
        let (day, hour) = (t.div_euclid(86_400), t.rem_euclid(86_400) / 3600);
        if day != cur.0 {
            close(&cur, &mut nights);
            cur = (day, 0.0, 0, 0.0, 0);
        }
        if v.is_nan() {
            continue;
        }
        if hour < 6 {
            cur.1 += f64::from(*v);
            cur.2 += 1;
        } else if hour == dawn_hour {
            cur.3 += f64::from(*v);
            cur.4 += 1;
        }
    }
    close(&cur, &mut nights);
    swing_of(&nights)
}

/// The last hour from 06:00 to `dawn_hour` whose mean over the readings stays within
/// [`QUIET_OVER_NIGHT`] of the night's (00:00–06:00), `dawn_hour` when none does. In the west of
/// China's one clock the sun's dawn hour can be the hour a business opens (Ürümqi: light all
/// of 07:00 in summer, dark in winter, and a shop open from seven); the hour before it still
/// shows the lamps, dark in winter and part light in June. Lamps make the dawn hour's mean no
/// more than the night's, a business open at that hour makes it more.
fn quiet_hour(s: &Series, dawn_hour: i64) -> i64 {
    let Ok(last) = usize::try_from(dawn_hour) else {
        return dawn_hour;
    };
    if !(7..24).contains(&last) {
        return dawn_hour;
    }
    // (sum, count) per local hour 00–`last`.
    let mut hours = [(0.0f64, 0usize); 24];
    for (i, v) in s.kwh.iter().enumerate().filter(|(_, v)| !v.is_nan()) {
        let hour = (s.local(i).rem_euclid(86_400) / 3600) as usize;
        if let Some(h) = hours.get_mut(hour).filter(|_| hour <= last) {
            h.0 += f64::from(*v);
            h.1 += 1;
        }
    }
    let mean = |(sum, n): (f64, usize)| if n > 0 { sum / n as f64 } else { f64::NAN };
    let night = mean(
        hours[..6]
            .iter()
            .fold((0.0, 0), |a, h| (a.0 + h.0, a.1 + h.1)),
    );
    (6..=last)
        .rev()
        .find(|&h| mean(hours[h]) <= QUIET_OVER_NIGHT * night)
        .map_or(dawn_hour, |h| h as i64)
}

/// How far above the night's mean a dawn hour's mean may stand and still be before opening.
const QUIET_OVER_NIGHT: f64 = 1.1;

/// [`dawn_swing`] with the dawn at 06:00, from the days' own figures (no second pass over the
/// readings): complete days only.
pub fn dawn_swing_of_days(days: &[Day]) -> f64 {
    let nights: Vec<(i64, f64, f64)> = days
        .iter()
        .filter(|d| d.coverage >= 1.0)
        .map(|d| (d.day, d.dawn_kw, d.night_kw))
        .collect();
    swing_of(&nights)
}

/// [`dawn_swing`] for a window too short to hold [`DAWN_MONTHS`] months, read off the sun
/// at the meter's place `at` (latitude, longitude): how far the dawn hour's share of the
/// night would move over a year, from how it moves with the sunrise within the window.
///
/// Lamps on a dusk-to-dawn switch burn through the part of a dawn hour before they switch
/// off, some minutes about sunrise, so that hour's load over the night's (00:00–03:00) is
/// `a + k x`, where `x` is the share of the hour before the switch and `k` the lamps' share of
/// the night; a machine, or a business on its clock, draws the same whatever the sun does
/// (`k` near 0). Within three months sunrise moves half an hour to an hour and a half in
/// China, enough for a dawn hour to pass from dark to light; so `k` is fitted by least
/// squares over the window's complete days, for every quiet hour from 03:00 to 09:00 (its
/// mean within [`QUIET_OVER_NIGHT`] of the night's: before a business opens; the sun is up by
/// ten everywhere on China's one clock) and a switch from 45 minutes before sunrise to 10
/// after, in five-minute steps (photocells and astronomical clocks differ, the fit, not a
/// setting, says which; but lamps burn into the dawn's twilight, not long past sunrise: with
/// switches up to 30 minutes after it allowed, a summer quarter's fit in the south-west took
/// 25 minutes after, a hair better than the true 10 before, and read a lit façade as none),
/// and the best fit is kept. It speaks only when the
/// fit is sure and means lamps: `k` at least [`SUN_T`] standard errors above zero, and the
/// fitted hour as loaded as the night when wholly dark (`a + k` within [`SUN_DARK_LEVEL`] of
/// 1); else what the hours either side of the dawn hour say ([`bracketed_dawn`]: 0 unless
/// they are sure of lamps, as a year's test reads a dawn that never drops). The year's swing
/// is then `k` times how far `x` moves over a year at that hour (the sun, not the readings,
/// knows that), or what the hours either side say where that is more. NaN where it cannot be
/// told: readings coarser than an hour, fewer than [`SUN_DAYS`] complete days, or no hour whose `x` moves by [`SUN_MOVE`] (standard deviation)
/// within the window (a winter quarter in the east moves its sunrise by minutes).
pub fn sun_dawn_swing(s: &Series, at: (f64, f64)) -> f64 {
    if s.step <= 0 || s.step > 3600 || 3600 % s.step != 0 {
        return f64::NAN;
    }
    let per_hour = (3600 / s.step) as usize;
    let last = SUN_LAST_HOUR;
    let offset = s.offsets.first().map_or(0, |o| o.1);
    // Mean kW-hours of each local hour 00–`last`, per complete day.
    let mut days: Vec<(i64, [f64; 10])> = Vec::new();
    let mut cur = (i64::MIN, [0.0f64; 10], [0usize; 10]);
    let close = |c: &(i64, [f64; 10], [usize; 10]), out: &mut Vec<(i64, [f64; 10])>| {
        if c.0 != i64::MIN && c.2.iter().take(last + 1).all(|&n| n == per_hour) {
            out.push((c.0, c.1.map(|v| v / per_hour as f64)));
        }
    };
    for (i, v) in s.kwh.iter().enumerate() {
        let t = s.local(i);
        let (day, hour) = (t.div_euclid(86_400), (t.rem_euclid(86_400) / 3600) as usize);
        if day != cur.0 {
            close(&cur, &mut days);
            cur = (day, [0.0; 10], [0; 10]);
        }
        if hour <= last && !v.is_nan() {
            cur.1[hour] += f64::from(*v);
            cur.2[hour] += 1;
        }
    }
    close(&cur, &mut days);
    let night = |h: &[f64; 10]| (h[0] + h[1] + h[2]) / 3.0;
    days.retain(|(_, h)| night(h) > 0.0);
    if days.len() < SUN_DAYS {
        return f64::NAN;
    }
    let mean_night = days.iter().map(|(_, h)| night(h)).sum::<f64>() / days.len() as f64;
    let sunrise: Vec<f64> = days
        .iter()
        .map(|(d, _)| crate::sun::sun_hours(*d, at, offset).0)
        .collect();
    // (r², k, a, se of k, hour, switch)
    let mut best: Option<(f64, f64, f64, f64, usize, f64)> = None;
    for hour in 3..=last {
        let mean_hour = days.iter().map(|(_, h)| h[hour]).sum::<f64>() / days.len() as f64;
        if mean_hour > QUIET_OVER_NIGHT * mean_night {
            continue;
        }
        for step in 0..=11 {
            let c = (f64::from(step) * 5.0 - 45.0) / 60.0;
            let xy: Vec<(f64, f64)> = days
                .iter()
                .zip(&sunrise)
                .map(|((_, h), &rise)| (dawn_share(rise, hour, c), h[hour] / night(h)))
                .collect();
            let n = xy.len() as f64;
            let (mx, my) = xy
                .iter()
                .fold((0.0, 0.0), |a, &(x, y)| (a.0 + x / n, a.1 + y / n));
            let (sxx, sxy, syy) = xy.iter().fold((0.0, 0.0, 0.0), |a, &(x, y)| {
                let (dx, dy) = (x - mx, y - my);
                (a.0 + dx * dx, a.1 + dx * dy, a.2 + dy * dy)
            });
            if (sxx / n).sqrt() < SUN_MOVE || syy <= 0.0 {
                continue;
            }
            let k = sxy / sxx;
            let r2 = sxy * sxy / (sxx * syy);
            let se = ((syy - k * sxy).max(0.0) / (n - 2.0) / sxx).sqrt();
            if best.is_none_or(|b| r2 > b.0) {
                best = Some((r2, k, my - k * mx, se, hour, c));
            }
        }
    }
    let Some((_, k, a, se, hour, c)) = best else {
        return f64::NAN;
    };
    if !(k > SUN_T * se && (a + k - 1.0).abs() <= SUN_DARK_LEVEL) {
        return bracketed_dawn(&days, &sunrise, mean_night, at, offset);
    }
    // The fit may prefer a switch after sunrise, where the dawn hour is already part lit all
    // summer and its year's range comes out short; the hours either side say it as well.
    (k * year_range(&days, at, offset, hour, c))
        .max(bracketed_dawn(&days, &sunrise, mean_night, at, offset))
}

/// The share of local hour `hour` that lamps switched `c` hours after a sunrise at `rise`
/// (hours by the clock; `c` below zero: before it) still burn through.
fn dawn_share(rise: f64, hour: usize, c: f64) -> f64 {
    (rise + c - hour as f64).clamp(0.0, 1.0)
}

/// How far [`dawn_share`] of `hour` with switch `c` moves over the year from the first of
/// `days`, by the sun at `at`.
fn year_range(days: &[(i64, [f64; 10])], at: (f64, f64), offset: i32, hour: usize, c: f64) -> f64 {
    let first = days.first().map_or(0, |d| d.0);
    let (lo, hi) = (first..first + 365)
        .map(|d| dawn_share(crate::sun::sun_hours(d, at, offset).0, hour, c))
        .fold((f64::MAX, f64::MIN), |(lo, hi), x| (lo.min(x), hi.max(x)));
    hi - lo
}

/// [`sun_dawn_swing`] where its fit is not sure: small lamps under a business's noisy standby
/// (1.3 kW under 4 kW that moves 15 % hour to hour) move the dawn hour too little against the
/// sunrise's half hour for the fit to stand three errors above zero. The lamps' share is read
/// instead from the hours either side of the dawn hour, the one before wholly dark and the one
/// after wholly light by the sun (the same switch ten minutes before sunrise for every day):
/// their difference, over the quarter's days, stands far above its error. Then the dawn hour
/// must stand part way between them (a fifth to four fifths, each three errors from either
/// end), as a switch inside the hour puts it; a clock that switches a rig off on the hour (the
/// night tariff ends at 06:00 or 07:00) leaves it at one end. The year's swing is then the
/// lamps' share times how far the dawn hour's dark share moves over a year, as the fit's is.
/// 0 where no hour is bracketed so.
fn bracketed_dawn(
    days: &[(i64, [f64; 10])],
    sunrise: &[f64],
    mean_night: f64,
    at: (f64, f64),
    offset: i32,
) -> f64 {
    const SWITCH_H: f64 = -10.0 / 60.0;
    let share = |rise: f64, hour: usize| dawn_share(rise, hour, SWITCH_H);
    let n = days.len() as f64;
    let mean_sd = |v: &[f64]| {
        let m = v.iter().sum::<f64>() / n;
        let var = v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (n - 1.0);
        (m, var.sqrt())
    };
    for hour in 4..SUN_LAST_HOUR {
        let dark = sunrise.iter().all(|&r| share(r, hour - 1) >= 1.0);
        let light = sunrise.iter().all(|&r| share(r, hour + 1) <= 0.0);
        let x: Vec<f64> = sunrise.iter().map(|&r| share(r, hour)).collect();
        let mean_x = x.iter().sum::<f64>() / n;
        if !dark || !light || !(0.1..=0.9).contains(&mean_x) {
            continue;
        }
        let drop: Vec<f64> = days
            .iter()
            .map(|(_, h)| h[hour - 1] - h[hour + 1])
            .collect();
        let part: Vec<f64> = days.iter().map(|(_, h)| h[hour] - h[hour + 1]).collect();
        let ((d, d_sd), (q, q_sd)) = (mean_sd(&drop), mean_sd(&part));
        let (d_se, q_se) = (d_sd / n.sqrt(), q_sd / n.sqrt());
        if !(d > SUN_T * d_se && d > 0.0) {
            return 0.0;
        }
        // The dawn hour's place between the dark hour and the light one, and its error.
        let m = q / d;
        let m_se = q_se / d;
        let part_way = (0.2..=0.8).contains(&m) && m > SUN_T * m_se && 1.0 - m > SUN_T * m_se;
        if !part_way {
            return 0.0;
        }
        return d / mean_night * year_range(days, at, offset, hour, SWITCH_H);
    }
    0.0
}

/// Complete days [`sun_dawn_swing`] needs.
const SUN_DAYS: usize = 28;
/// The last dawn hour [`sun_dawn_swing`] reads.
const SUN_LAST_HOUR: usize = 9;
/// How much a dawn hour's dark share must move within the window (standard deviation over
/// the days) for [`sun_dawn_swing`] to read it.
const SUN_MOVE: f64 = 0.1;
/// Standard errors the lamps' share must stand above zero in [`sun_dawn_swing`].
const SUN_T: f64 = 3.0;
/// How far from the night's level a wholly dark dawn hour may be fitted in
/// [`sun_dawn_swing`].
const SUN_DARK_LEVEL: f64 = 0.25;

/// Whether the days are too few for [`dawn_swing`]'s year: fewer than [`DAWN_MONTHS`]
/// calendar months hold [`DAWN_DAYS`] complete days each ([`sun_dawn_swing`] reads such a
/// window).
pub fn short_of_a_year(days: &[Day]) -> bool {
    let mut by_month = [0usize; 12];
    for d in days.iter().filter(|d| d.coverage >= 1.0) {
        let (_, m, _) = crate::time::civil_from_days(d.day);
        if let Some(n) = by_month.get_mut(m.saturating_sub(1) as usize) {
            *n += 1;
        }
    }
    by_month.iter().filter(|&&n| n >= DAWN_DAYS).count() < DAWN_MONTHS
}

/// The swing of (day, dawn level, night level) triples: see [`dawn_swing`].
fn swing_of(nights: &[(i64, f64, f64)]) -> f64 {
    // Per month: (dawn over night, the night's level) of each day.
    let mut by_month: Vec<Vec<(f64, f64)>> = vec![Vec::new(); 12];
    for &(day, dawn, night) in nights {
        if !(night > 0.0 && dawn.is_finite()) {
            continue;
        }
        let (_, m, _) = crate::time::civil_from_days(day);
        if let Some(b) = by_month.get_mut(m.saturating_sub(1) as usize) {
            b.push((dawn / night, night));
        }
    }
    let months: Vec<&Vec<(f64, f64)>> = by_month.iter().filter(|v| v.len() >= DAWN_DAYS).collect();
    if months.len() < DAWN_MONTHS {
        return f64::NAN;
    }
    let range = |f: fn(&(f64, f64)) -> f64| {
        months
            .iter()
            .map(|v| median(v.iter().map(f).collect()))
            .fold((f64::MAX, f64::MIN), |(lo, hi), m| (lo.min(m), hi.max(m)))
    };
    // Lamps light every night the same: when the night itself moves with the season (a rig run
    // in the wet months, heating in the cold ones), the dawn's share moves for that reason.
    let (night_lo, night_hi) = range(|x| x.1);
    if !(night_lo > 0.0 && night_hi <= NIGHT_STEADY * night_lo) {
        return f64::NAN;
    }
    let (lo, hi) = range(|x| x.0);
    // Lamps switch off at dawn: in the light months the dawn hour draws less than the night.
    // A business that opens at dawn draws more then all year, and more still in the dark
    // months when its own lights are on (BDEW's commerce profile G25: 2.0 to 2.4 times the
    // night): that is not a façade left lit all night.
    if lo >= DAWN_BELOW_NIGHT {
        return 0.0;
    }
    hi - lo
}

/// How much the monthly night level may move for [`dawn_swing`] to speak of lamps.
const NIGHT_STEADY: f64 = 1.4;

/// The dawn's share of the night that some month must fall under for [`dawn_swing`] to speak
/// of lamps.
const DAWN_BELOW_NIGHT: f64 = 0.9;

/// The upper median of the finite values of `v`, NaN when there are none.
pub(crate) fn median(v: Vec<f64>) -> f64 {
    // `f64::total_cmp` order as plain integers (the same order, so the same element): selection
    // without a comparison closure, in the vector's own memory.
    let mut keys: Vec<i64> = v
        .into_iter()
        .filter(|x| x.is_finite())
        .map(order_key64)
        .collect();
    if keys.is_empty() {
        return f64::NAN;
    }
    let m = keys.len() / 2;
    from_order_key64(*keys.select_nth_unstable(m).1)
}

/// The least-squares slope of the first of each pair on the second (a value per °C of
/// temperature, a movement per kW of level; NaN when the seconds do not vary or there are no
/// pairs), with the mean of the firsts and the mean of the seconds.
pub(crate) fn slope_on(pairs: &[(f64, f64)]) -> (f64, f64, f64) {
    let n = pairs.len() as f64;
    let (my, mx) = (
        pairs.iter().map(|p| p.0).sum::<f64>() / n,
        pairs.iter().map(|p| p.1).sum::<f64>() / n,
    );
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for (y, x) in pairs {
        sxy += (x - mx) * (y - my);
        sxx += (x - mx) * (x - mx);
    }
    let slope = if sxx > 0.0 { sxy / sxx } else { f64::NAN };
    (slope, my, mx)
}

/// The least-squares line of the first of each pair (a floor, kW) on the second (a
/// temperature): its slope times the temperature's 10th to 90th percentile spread over the
/// floor's median, and its value at the end of that spread where the floor is lower. NaN with
/// fewer than ten pairs.
fn temperature_response(pairs: &[(f64, f64)]) -> (f64, f64) {
    let n = pairs.len();
    if n < 10 {
        return (f64::NAN, f64::NAN);
    }
    let mut ys: Vec<f64> = pairs.iter().map(|p| p.0).collect();
    let mut xs: Vec<f64> = pairs.iter().map(|p| p.1).collect();
    let (slope, my, mx) = slope_on(pairs);
    // Three order statistics by selection, not two sorts (the same elements).
    let med = *ys.select_nth_unstable_by(n / 2, f64::total_cmp).1;
    if slope.is_nan() || med <= 0.0 {
        return (f64::NAN, f64::NAN);
    }
    let cold = *xs.select_nth_unstable_by(n / 10, f64::total_cmp).1;
    let warm = *xs.select_nth_unstable_by(n * 9 / 10, f64::total_cmp).1;
    let mild = if slope < 0.0 { warm } else { cold };
    (slope.abs() * (warm - cold) / med, my + slope * (mild - mx))
}

/// Interquartile range over median of the finite values of `v`; NaN with fewer than four or a
/// median that is not positive.
fn spread_of(mut v: Vec<f64>) -> f64 {
    v.retain(|x| x.is_finite());
    if v.len() < 4 {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    let med = v[n / 2];
    if med <= 0.0 {
        return f64::NAN;
    }
    (v[n * 3 / 4] - v[n / 4]) / med
}

/// Mean of the finite values; NaN when there are none.
pub fn mean(v: impl Iterator<Item = f64>) -> f64 {
    let (s, n) = v
        .filter(|x| x.is_finite())
        .fold((0.0, 0usize), |(s, n), x| (s + x, n + 1));
    if n == 0 { f64::NAN } else { s / n as f64 }
}

/// Pearson correlation of paired finite values.
pub fn correlation(pairs: &[(f64, f64)]) -> f64 {
    let p: Vec<&(f64, f64)> = pairs
        .iter()
        .filter(|(a, b)| a.is_finite() && b.is_finite())
        .collect();
    let n = p.len() as f64;
    if n < 5.0 {
        return f64::NAN;
    }
    let ma = p.iter().map(|x| x.0).sum::<f64>() / n;
    let mb = p.iter().map(|x| x.1).sum::<f64>() / n;
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (a, b) in p {
        sab += (a - ma) * (b - mb);
        saa += (a - ma) * (a - ma);
        sbb += (b - mb) * (b - mb);
    }
    if saa <= 0.0 || sbb <= 0.0 {
        0.0
    } else {
        sab / (saa * sbb).sqrt()
    }
}

/// The days whose floor stands at least `step_kw` above the site's usual floor, when both they
/// and the days without number at least `at_least`: a rig that runs on some days only (while
/// it is cold, or not on its days off) looks, on its days, like one that never stops, and its
/// other days would dilute every feature of a month that mixes both. None otherwise.
pub fn raised_days(days: &[Day], step_kw: f64, at_least: usize) -> Option<Vec<Day>> {
    let used: Vec<&Day> = days
        .iter()
        .filter(|d| d.coverage >= MIN_COVERAGE && d.min_kw.is_finite())
        .collect();
    // The usual floor: the fifth of days with the lowest floors says what is left on when
    // nothing extra runs.
    let mut floors: Vec<f64> = used.iter().map(|d| d.min_kw).collect();
    floors.sort_unstable_by(f64::total_cmp);
    let usual = *floors.get(floors.len() / 5)?;
    // And the raise stands clear of how the floor moves from one day to the next: a floor that
    // is one noisy load (a shop that leaves 7 kW on overnight) has an upper tail of days whose
    // every quiet hour happened to be high, and those days, taken alone, read as a steady load
    // under the rest (issue 18, the varied mix: all 19 false alarms on shops came through such
    // a selection). Day to day, not over the year: a cold store's floor drifts with the season,
    // and a rig switched on mid-year stands clear of its drift. Eight times the lower quartile
    // of the changes between neighbouring days, which for a floor that moves as a normal does
    // is about 3.6 deviations. The quartile, not the median: a rig off on one day in four
    // changes the floor between half the pairs of days, by its whole draw.
    let mut changes: Vec<f64> = used
        .windows(2)
        .map(|w| (w[1].min_kw - w[0].min_kw).abs())
        .collect();
    changes.sort_unstable_by(f64::total_cmp);
    let day_to_day = changes.get(changes.len() / 4).copied().unwrap_or(0.0);
    let step_kw = step_kw.max(8.0 * day_to_day);
    let raised: Vec<Day> = used
        .iter()
        .filter(|d| d.min_kw >= usual + step_kw)
        .map(|d| **d)
        .collect();
    (raised.len() >= at_least && used.len() - raised.len() >= at_least).then_some(raised)
}

/// Features over `days` (already restricted to the window), with the contracted capacity and a
/// temperature lookup by day when known.
pub fn window(
    days: &[Day],
    capacity_kva: Option<f64>,
    temp: Option<&dyn Fn(i64) -> Option<f64>>,
) -> Features {
    let used: Vec<&Day> = days
        .iter()
        .filter(|d| d.coverage >= MIN_COVERAGE && d.kwh.is_finite())
        .collect();
    let mut f = Features {
        days: used.len(),
        first_day: days.first().map_or(0, |d| d.day),
        last_day: days.last().map_or(0, |d| d.day),
        on_floor_temp_corr: f64::NAN,
        on_floor_temp_amp: f64::NAN,
        on_floor_mild_kw: f64::NAN,
        on_floor_kw: f64::NAN,
        dawn_swing: f64::NAN,
        night_block_kw: f64::NAN,
        night_block_spread: f64::NAN,
        night_block_weekly: f64::NAN,
        constant_kw: f64::NAN,
        busy_step_kw: f64::NAN,
        quiet_step_kw: f64::NAN,
        temp_corr: f64::NAN,
        night_temp_corr: f64::NAN,
        night_temp_amp: f64::NAN,
        ..Features::default()
    };
    if used.is_empty() {
        f.mean_kw = f64::NAN;
        return f;
    }
    let kwh: Vec<f64> = used.iter().map(|d| d.kwh).collect();
    let mean_day = kwh.iter().sum::<f64>() / kwh.len() as f64;
    f.mean_kw = mean_day / 24.0;
    f.monthly_kwh = mean_day * 30.0;
    let var = kwh
        .iter()
        .map(|k| (k - mean_day) * (k - mean_day))
        .sum::<f64>()
        / kwh.len() as f64;
    f.daily_cv = if mean_day > 0.0 {
        var.sqrt() / mean_day
    } else {
        f64::NAN
    };
    f.load_factor = median(used.iter().map(|d| d.load_factor).collect());
    f.intraday_cv = median(used.iter().map(|d| d.cv).collect());
    f.mode_share = median(used.iter().map(|d| d.mode_share).collect());
    // An exporting (solar) meter's daily minimum is its midday generation: its floor is the
    // night's.
    f.exports = used.iter().any(|d| d.exported);
    let floor_of = |d: &Day| if f.exports { d.night_min_kw } else { d.min_kw };
    f.floor_kw = median(used.iter().map(|d| floor_of(d)).collect());
    let night = mean(used.iter().map(|d| d.night_kw));
    let midday = mean(used.iter().map(|d| d.midday_kw));
    f.night_midday = if midday > 0.0 {
        night / midday
    } else {
        f64::NAN
    };
    f.night_kw = night;
    f.night_excess_kw = night - midday;
    f.night_floor_excess_kw = mean(used.iter().map(|d| d.night_min_kw)) - midday;
    f.jitter = median(used.iter().map(|d| d.jitter).collect());
    f.floor_spread = spread_of(used.iter().map(|d| floor_of(d)).collect());
    let above_day = mean_day - 24.0 * f.floor_kw;
    f.week_change = if above_day > 0.0 {
        let changes: Vec<f64> = used
            .iter()
            .filter_map(|d| {
                let i = used
                    .binary_search_by_key(&d.day.checked_sub(7)?, |x| x.day)
                    .ok()?;
                Some((d.kwh - used.get(i)?.kwh).abs() / above_day)
            })
            .collect();
        if changes.is_empty() {
            f64::NAN
        } else {
            median(changes)
        }
    } else {
        f64::NAN
    };
    f.night_jitter = median(used.iter().map(|d| d.night_jitter).collect());
    f.day_step = median(used.iter().map(|d| d.day_step).collect());
    f.night_step = median(used.iter().map(|d| d.night_step).collect());
    let we = mean(used.iter().filter(|d| weekday(d.day) >= 5).map(|d| d.kwh));
    let wd = mean(used.iter().filter(|d| weekday(d.day) < 5).map(|d| d.kwh));
    f.weekend_weekday = if wd > 0.0 { we / wd } else { f64::NAN };
    // Above the quieter of the site's own hours either side of the night (a NaN either side
    // leaves the block unknown: `f64::min` would take the other).
    let block = |d: &&Day| {
        let shoulder = if d.morning_kw.is_nan() || d.evening_kw.is_nan() {
            f64::NAN
        } else {
            d.morning_kw.min(d.evening_kw)
        };
        d.night_kw - shoulder
    };
    // One sort gives the block's median and its spread.
    let mut blocks: Vec<f64> = used.iter().map(block).filter(|x| x.is_finite()).collect();
    blocks.sort_unstable_by(f64::total_cmp);
    let at = |q: usize| {
        blocks
            .get(blocks.len() * q / 4)
            .copied()
            .unwrap_or(f64::NAN)
    };
    f.night_block_kw = at(2);
    f.night_block_spread = if blocks.len() >= 4 && at(2) > 0.0 {
        (at(3) - at(1)) / at(2)
    } else {
        f64::NAN
    };
    let (we, wd) = (
        mean(used.iter().filter(|d| weekday(d.day) >= 5).map(block)),
        mean(used.iter().filter(|d| weekday(d.day) < 5).map(block)),
    );
    f.night_block_weekly = if wd > 0.0 { we / wd } else { f64::NAN };
    (f.constant_kw, f.busy_step_kw, f.quiet_step_kw) = constant_kw(&used);
    f.capacity_use = capacity_kva
        .filter(|c| *c > 0.0)
        .map_or(f64::NAN, |c| f.mean_kw / c);
    if let Some(t) = temp {
        // Each day's temperature looked up once for both.
        let temps: Vec<f64> = used.iter().map(|d| t(d.day).unwrap_or(f64::NAN)).collect();
        let with_temp = |v: fn(&Day) -> f64| -> Vec<(f64, f64)> {
            used.iter()
                .zip(&temps)
                .map(|(d, t)| (v(d), *t))
                .filter(|(a, b)| a.is_finite() && b.is_finite())
                .collect()
        };
        f.temp_corr = correlation(&with_temp(|d| d.kwh));
        let nights = with_temp(|d| d.night_kw);
        f.night_temp_corr = correlation(&nights);
        f.night_temp_amp = temperature_response(&nights).0;
    }
    // A load that follows the weather, or whose floor moves with the season, is a
    // thermostat's (a cold store's compressors, a base station's cooling): its hour-to-hour
    // movement is the duty cycle's, not in proportion to how much of the site is on, so the
    // line through the hours says nothing there.
    if f.constant_kw.is_nan()
        && used.len() >= FIT_WINDOW_DAYS
        && f.floor_spread <= FIT_FLOOR_SPREAD
        && (f.temp_corr.is_nan() || f.temp_corr.abs() < FIT_TEMP_CORR)
    {
        (f.constant_kw, f.busy_step_kw, f.quiet_step_kw) = fitted_constant(&used);
    }
    f
}

/// [`Features::constant_kw`] over the days `used`, with the busy and quiet regimes' mean
/// hour-to-hour changes: the constant is the smaller of the estimates over
/// alternate days, so that a constant one half of the days shows by chance is not taken for
/// one that is there on all of them.
fn constant_kw(used: &[&Day]) -> (f64, f64, f64) {
    let open: Vec<&Day> = used
        .iter()
        .copied()
        .filter(|d| {
            // Open through all the midday hours: a day that opens or closes inside them (a
            // shop's Saturday morning) mixes the two regimes in one.
            d.midday_min_kw > 1.5 * d.night_kw
                && d.night_hours_kw().iter().all(|v| v.is_finite())
                && d.midday_hours_kw().iter().all(|v| v.is_finite())
        })
        .collect();
    if open.len() < 40 {
        return (f64::NAN, f64::NAN, f64::NAN);
    }
    let half = |parity: i64| {
        let days: Vec<&Day> = open
            .iter()
            .copied()
            .filter(|d| d.day.rem_euclid(2) == parity)
            .collect();
        constant_of(&days)
    };
    let (busy, quiet) = movements(&open);
    (
        half(0).min(half(1)),
        mean(busy.into_iter()),
        mean(quiet.into_iter()),
    )
}

/// Days of one kind and parity a fitted point needs ([`fitted_constant`]).
const FIT_DAYS: usize = 8;

/// The shortest window [`fitted_constant`] is asked of.
const FIT_WINDOW_DAYS: usize = 180;

/// The share of the movement's spread over the hours that [`fitted_constant`]'s line has to
/// explain (its R²).
const FIT_EXPLAINED: f64 = 0.5;

/// The most the daily floor of a window may spread for [`fitted_constant`] to be asked
/// ([`Features::floor_spread`]): a thermostat's floor moves with the season.
const FIT_FLOOR_SPREAD: f64 = 0.3;

/// The most a window's daily energy may follow the temperature (|r|, [`Features::temp_corr`])
/// for [`fitted_constant`] to be asked: a thermostat's does.
const FIT_TEMP_CORR: f64 = 0.3;

/// [`Features::constant_kw`] where the busy midday and the quiet night cannot be told apart:
/// a restaurant's peak stands over a base it keeps all day, a three-shift factory's quiet time
/// is its weekend, and a rig in either flattens what is left of the difference. Every hour of
/// every kind of day (weekdays, Saturdays, Sundays) is a point: its mean level and its mean
/// movement from the hour before, less the change such days typically make at that hour; the
/// line through the points, `movement = c (level - constant)`, gives the constant. The smaller
/// of the estimates over odd and even days, with the mean movements of the busiest and the
/// quietest quarter of the points. NaN with fewer than 20 points, when the levels span less
/// than a quarter of the lowest, when the movement does not grow with the level, or when the
/// line explains less than [`FIT_EXPLAINED`] of how the movement differs between points. On
/// generated regions of both mixes the sites' own estimates stay under a fifth of their
/// quietest hour and a rig's come out near its draw (docs/DETECTION.md).
fn fitted_constant(used: &[&Day]) -> (f64, f64, f64) {
    let whole: Vec<&Day> = used
        .iter()
        .copied()
        .filter(|d| d.hours_kw.iter().all(|v| v.is_finite()))
        .collect();
    let kind = |d: &Day| match weekday(d.day) {
        5 => 1,
        6 => 2,
        _ => 0,
    };
    // The change days of each kind typically make into each hour.
    let typical: Vec<[f64; 24]> = (0..3)
        .map(|k| {
            std::array::from_fn(|h| {
                if h == 0 {
                    return f64::NAN;
                }
                median(
                    whole
                        .iter()
                        .filter(|d| kind(d) == k)
                        .map(|d| f64::from(d.hours_kw[h] - d.hours_kw[h - 1]))
                        .collect(),
                )
            })
        })
        .collect();
    let half = |parity: i64| -> (f64, f64, f64) {
        let mut points: Vec<(f64, f64)> = Vec::with_capacity(69);
        for (k, typ) in typical.iter().enumerate() {
            let days: Vec<&Day> = whole
                .iter()
                .copied()
                .filter(|d| kind(d) == k && d.day.rem_euclid(2) == parity)
                .collect();
            if days.len() < FIT_DAYS {
                continue;
            }
            for (h, typ) in typ.iter().enumerate().skip(1) {
                let level = mean(
                    days.iter()
                        .map(|d| f64::from(d.hours_kw[h] + d.hours_kw[h - 1]) / 2.0),
                );
                let moved = mean(
                    days.iter()
                        .map(|d| (f64::from(d.hours_kw[h] - d.hours_kw[h - 1]) - typ).abs()),
                );
                points.push((moved, level));
            }
        }
        // The line has to explain most of how the movement differs from hour to hour: a base
        // station's traffic and cooling move it as they please (half or less explained), a
        // business's own load by its level.
        match line_through(&points, 1.25, FIT_EXPLAINED) {
            Some((c, mm, ml)) => with_steps(ml - mm / c, points),
            None => (f64::NAN, f64::NAN, f64::NAN),
        }
    };
    let (a, b) = (half(0), half(1));
    if a.0.is_nan() || b.0.is_nan() {
        return bounded_constant(&whole, &typical, kind);
    }
    if a.0 <= b.0 { a } else { b }
}

/// Resamples of the weeks that [`bounded_constant`] fits its line to.
const BOUND_RESAMPLES: usize = 100;

/// The least that [`bounded_constant`]'s busiest hour must stand above its quietest, as a
/// multiple: a load whose level does not move over the day (a server room's, within a few per
/// cent) puts every point in one place, and a line through them is chance. A restaurant whose
/// rig is half its load still spans a sixth or more (1.16-1.23 on the tuning regions).
const BOUND_SPAN: f64 = 1.1;

/// The least share of the movement's spread over the hours that [`bounded_constant`]'s line
/// over all the days has to explain (its R²): enough that the movement grows with the level
/// at all, where [`fitted_constant`] asks [`FIT_EXPLAINED`] of each half.
const BOUND_EXPLAINED: f64 = 0.15;

/// [`fitted_constant`]'s line where each half of the days alone cannot carry it: a site whose
/// levels span little (a restaurant whose rig is half its load spans a fifth from its quietest
/// hour to its busiest, where the line asks a quarter) or whose points scatter about the line.
/// One line through the points of all the days, and its constant bounded from below by
/// resampling: the weeks drawn again with replacement [`BOUND_RESAMPLES`] times (a week keeps
/// its days together, so the resamples carry the weather's and the calendar's runs), the line
/// fitted to each, and the tenth of the constants from the bottom taken. A constant that only
/// noise made comes out near nothing or below in a tenth of the resamples; a machine's holds.
/// Issue 18: the rigs of 10-15 kW inside restaurants of the tuning regions (half their load)
/// had no estimate at all. Deterministic: the draws come from a fixed seed.
fn bounded_constant(
    whole: &[&Day],
    typical: &[[f64; 24]],
    kind: impl Fn(&Day) -> usize,
) -> (f64, f64, f64) {
    let nan = (f64::NAN, f64::NAN, f64::NAN);
    // Per week that has days, per kind of day and hour: the summed level, summed movement and
    // days. Only weeks with days are kept (and drawn): a gap of months in the readings adds no
    // empty weeks, and the table grows with the days, not with the span between them.
    let mut index: std::collections::BTreeMap<i64, usize> = std::collections::BTreeMap::new();
    let mut weeks: Vec<[[(f64, f64, u32); 24]; 3]> = Vec::new();
    for d in whole {
        let next = weeks.len();
        let w = *index.entry(d.day.div_euclid(7)).or_insert(next);
        if w == next {
            weeks.push([[(0.0, 0.0, 0); 24]; 3]);
        }
        let k = kind(d);
        for h in 1..24 {
            let level = f64::from(d.hours_kw[h] + d.hours_kw[h - 1]) / 2.0;
            let moved = (f64::from(d.hours_kw[h] - d.hours_kw[h - 1]) - typical[k][h]).abs();
            let cell = &mut weeks[w][k][h];
            *cell = (cell.0 + level, cell.1 + moved, cell.2 + 1);
        }
    }
    let points_of = |chosen: &mut dyn Iterator<Item = usize>| -> Vec<(f64, f64)> {
        let mut sums = [[(0.0, 0.0, 0u32); 24]; 3];
        for w in chosen {
            for (k, hours) in weeks[w].iter().enumerate() {
                for (h, c) in hours.iter().enumerate() {
                    let s = &mut sums[k][h];
                    *s = (s.0 + c.0, s.1 + c.1, s.2 + c.2);
                }
            }
        }
        sums.iter()
            .flat_map(|hours| hours.iter().skip(1))
            .filter(|c| c.2 as usize >= FIT_DAYS)
            .map(|c| (c.1 / f64::from(c.2), c.0 / f64::from(c.2)))
            .collect()
    };
    let points = points_of(&mut (0..weeks.len()));
    if weeks.len() < 8 || line_through(&points, BOUND_SPAN, BOUND_EXPLAINED).is_none() {
        return nan;
    }
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut constants: Vec<f64> = (0..BOUND_RESAMPLES)
        .map(|_| {
            let n = weeks.len();
            let mut draws = (0..n).map(|_| {
                // splitmix64: a fixed stream, no dependency for a few draws.
                seed = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
                let mut z = seed;
                z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
                ((u128::from(z ^ (z >> 31)) * n as u128) >> 64) as usize
            });
            let p = points_of(&mut draws);
            let (c, mm, ml) = slope_on(&p);
            // A resample whose movement does not grow with the level holds no constant.
            if p.len() >= 20 && c > 0.0 {
                ml - mm / c
            } else {
                f64::NEG_INFINITY
            }
        })
        .collect();
    constants.sort_by(f64::total_cmp);
    // Only a bound above nothing says anything: a site's own load gives one near nothing or
    // below (a base station's, whose hours hardly move, came out at -1 kW).
    let low = constants[BOUND_RESAMPLES / 10];
    if !(low.is_finite() && low > 0.0) {
        return nan;
    }
    with_steps(low, points)
}

/// The line `movement = c (level - constant)` through `points` (movement, level), as
/// [`slope_on`]'s slope and means, when it can be trusted: at least 20 points, the busiest
/// level at least `span` times the quietest, a slope above zero (the movement grows with the
/// level), and at least `explained` of the movement's spread explained (R²).
fn line_through(points: &[(f64, f64)], span: f64, explained: f64) -> Option<(f64, f64, f64)> {
    let (lo, hi) = points.iter().fold((f64::MAX, f64::MIN), |(lo, hi), p| {
        (lo.min(p.1), hi.max(p.1))
    });
    if points.len() < 20 || !(lo > 0.0 && hi >= span * lo) {
        return None;
    }
    let (c, mm, ml) = slope_on(points);
    let r = correlation(points);
    (c > 0.0 && r * r >= explained).then_some((c, mm, ml))
}

/// A constant with the mean movements of the busiest and the quietest quarter of `points`
/// (movement, level): [`Features::constant_kw`], `busy_step_kw` and `quiet_step_kw`.
fn with_steps(constant: f64, mut points: Vec<(f64, f64)>) -> (f64, f64, f64) {
    points.sort_by(|a, b| a.1.total_cmp(&b.1));
    let q = points.len() / 4;
    (
        constant,
        mean(points.iter().rev().take(q).map(|p| p.0)),
        mean(points.iter().take(q).map(|p| p.0)),
    )
}

/// How much each of `days` moves by day (10:00–16:00) and by night (00:00–06:00), kW: the
/// median over the hours of the change from the hour before, less the change the days
/// typically make at that hour (the median over `days`). A steady shape's own ramps are not
/// the load's movement: a real commerce profile (BDEW's G6, weekend businesses) rises and falls
/// through its midday hours, and with the plain hour-to-hour change its busy hours seemed to
/// move seven times as much as its nights at three times the level, which read half its night
/// as a constant that does not move (issue 18, real shapes).
fn movements(days: &[&Day]) -> (Vec<f64>, Vec<f64>) {
    let of = |hours: fn(&Day) -> &[f32; 6]| -> Vec<f64> {
        let typical: Vec<f64> = (1..6)
            .map(|k| {
                median(
                    days.iter()
                        .map(|d| f64::from(hours(d)[k] - hours(d)[k - 1]))
                        .collect(),
                )
            })
            .collect();
        days.iter()
            .map(|d| {
                let h = hours(d);
                // Five changes: their median found on the stack (the hours are all present).
                let mut moved: [f64; 5] =
                    std::array::from_fn(|k| (f64::from(h[k + 1] - h[k]) - typical[k]).abs());
                moved.sort_unstable_by(f64::total_cmp);
                moved[2]
            })
            .collect()
    };
    (of(Day::midday_hours_kw), of(Day::night_hours_kw))
}

/// The constant part of the load over `days`, all open (see [`Features::constant_kw`]).
fn constant_of(days: &[&Day]) -> f64 {
    if days.len() < 20 {
        return f64::NAN;
    }
    let m_day = mean(days.iter().map(|d| d.midday_kw));
    let m_night = mean(days.iter().map(|d| d.night_kw));
    let (busy, quiet) = movements(days);
    let (a_day, a_night) = (mean(busy.into_iter()), mean(quiet.into_iter()));
    // Two regimes that differ clearly, in level and in movement: otherwise the two equations
    // are nearly one, and the estimate is noise (a shop open late, a restaurant).
    if !(m_day > 2.0 * m_night && a_day > 2.0 * a_night) {
        return f64::NAN;
    }
    // And the quiet hours must move for the site's own reasons: where they hardly move at all
    // (under 2 % of their level a step), what moves is the shape of the day, not a load that
    // scales with itself, and the model has nothing to stand on. BDEW's real commerce profile,
    // an average of many sites, moves 0.8 % a quarter hour at night and read 0.33 of its
    // night as constant (`tests/region.rs`); a rig's nights are told by the other paths.
    if a_night < 0.02 * m_night {
        return f64::NAN;
    }
    (a_day * m_night - a_night * m_day) / (a_day - a_night)
}

impl Features {
    /// Adds how the floor answers the temperature (`on_floor_*`) over `days`, the window's days:
    /// one fit and a few sorts, so the scorer asks it of the whole period only.
    pub fn add_floor_weather(&mut self, days: &[Day], temp: &dyn Fn(i64) -> Option<f64>) {
        let used: Vec<&Day> = days
            .iter()
            .filter(|d| d.coverage >= MIN_COVERAGE && d.kwh.is_finite())
            .collect();
        let mut floors: Vec<f64> = used
            .iter()
            .map(|d| d.min_kw)
            .filter(|x| x.is_finite())
            .collect();
        floors.sort_by(f64::total_cmp);
        let on = floors
            .get(floors.len() * 9 / 10)
            .map_or(f64::NAN, |p| 0.5 * p);
        let pairs: Vec<(f64, f64)> = used
            .iter()
            .filter(|d| d.min_kw >= on)
            .map(|d| (d.min_kw, temp(d.day).unwrap_or(f64::NAN)))
            .filter(|(a, b)| a.is_finite() && b.is_finite())
            .collect();
        (self.on_floor_temp_amp, self.on_floor_mild_kw) = temperature_response(&pairs);
        self.on_floor_kw = median(pairs.iter().map(|p| p.0).collect());
        self.on_floor_temp_corr = correlation(&pairs);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::series::SeriesReport;

    /// `days` written the plainest way: group the intervals by local day, then compute each
    /// statistic from its definition. The fast version is held to it.
    fn days_reference(s: &Series) -> Vec<Day> {
        let per_hour = s.per_hour();
        let daily = 86_400 / s.step <= 1;
        let mut groups: Vec<(i64, Vec<(i64, f32)>)> = Vec::new();
        for (i, v) in s.kwh.iter().enumerate() {
            let local = s.local(i);
            let day = local.div_euclid(86_400);
            match groups.last_mut() {
                Some((d, g)) if *d == day => g.push((local, *v)),
                _ => groups.push((day, vec![(local, *v)])),
            }
        }
        let valid = |g: &[(i64, f32)], hours: std::ops::Range<i64>| -> Vec<f64> {
            g.iter()
                .filter(|(l, v)| !v.is_nan() && hours.contains(&(l.rem_euclid(86_400) / 3600)))
                .map(|(_, v)| f64::from(*v))
                .collect()
        };
        let steps = |g: &[(i64, f32)], hours: std::ops::Range<i64>| -> f64 {
            let inside: Vec<f32> = g
                .iter()
                .filter(|(l, _)| hours.contains(&(l.rem_euclid(86_400) / 3600)))
                .map(|(_, v)| *v)
                .collect();
            let r: Vec<f32> = inside
                .windows(2)
                .filter(|w| w[0] > 0.0 && w[1] > 0.0)
                .map(|w| (w[1] - w[0]).abs() * 2.0 / (w[0] + w[1]))
                .collect();
            if r.len() < 3 {
                return f64::NAN;
            }
            f64::from(r.iter().fold(0.0f32, |a, b| a + b)) / r.len() as f64
        };
        let lowest = |g: &[(i64, f32)], hours: std::ops::Range<i64>| -> f64 {
            valid(g, hours)
                .into_iter()
                .map(|v| v * per_hour)
                .fold(f64::NAN, f64::min)
        };
        // The median of `step` over the pairs of readings inside `hours` that `keep` keeps.
        let median_of = |g: &[(i64, f32)],
                         hours: std::ops::Range<i64>,
                         keep: fn(f32, f32) -> bool,
                         step: fn(f32, f32) -> f32|
         -> f64 {
            let inside: Vec<f32> = g
                .iter()
                .filter(|(l, _)| hours.contains(&(l.rem_euclid(86_400) / 3600)))
                .map(|(_, v)| *v)
                .collect();
            let mut r: Vec<f32> = inside
                .windows(2)
                .filter(|w| keep(w[0], w[1]))
                .map(|w| step(w[0], w[1]))
                .collect();
            if r.len() < 3 {
                return f64::NAN;
            }
            r.sort_by(f32::total_cmp);
            f64::from(r[r.len() / 2])
        };
        let median_relative = |g: &[(i64, f32)], hours: std::ops::Range<i64>| -> f64 {
            median_of(
                g,
                hours,
                |a, b| a > 0.0 && b > 0.0,
                |a, b| (b - a).abs() * 2.0 / (a + b),
            )
        };
        // Each hour's mean kW from its own readings.
        let hours_kw = |g: &[(i64, f32)]| -> [f32; 24] {
            std::array::from_fn(|k| {
                let v = valid(g, k as i64..k as i64 + 1);
                if v.is_empty() || daily {
                    f32::NAN
                } else {
                    (v.iter().sum::<f64>() / v.len() as f64 * per_hour) as f32
                }
            })
        };
        let unless_daily = |x: f64| if daily { f64::NAN } else { x };
        let mean_kw = |x: Vec<f64>| {
            if x.is_empty() || daily {
                f64::NAN
            } else {
                x.iter().sum::<f64>() / x.len() as f64 * per_hour
            }
        };
        groups
            .into_iter()
            .map(|(day, g)| {
                let vals = valid(&g, 0..25);
                let n = vals.len();
                let share = n as f64 / g.len() as f64;
                let sum: f64 = vals.iter().sum();
                let kwh = if n == 0 {
                    f64::NAN
                } else {
                    sum / share.max(1e-9)
                };
                let (mut lf, mut cv, mut min_kw, mut mode) =
                    (f64::NAN, f64::NAN, f64::NAN, f64::NAN);
                if n > 0 && daily {
                    min_kw = kwh / 24.0;
                } else if n > 0 {
                    let mean = sum / n as f64;
                    let max = vals.iter().copied().fold(f64::MIN, f64::max);
                    let min = vals.iter().copied().fold(f64::MAX, f64::min);
                    let var = vals.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n as f64;
                    let mut sorted = vals.clone();
                    sorted.sort_by(f64::total_cmp);
                    let med = sorted[n / 2];
                    let band = (med.abs() * 0.05).max(1e-9);
                    lf = if max > 0.0 { mean / max } else { f64::NAN };
                    cv = if mean > 0.0 {
                        var.sqrt() / mean
                    } else {
                        f64::NAN
                    };
                    min_kw = min * per_hour;
                    mode =
                        vals.iter().filter(|v| (**v - med).abs() <= band).count() as f64 / n as f64;
                }
                Day {
                    day,
                    kwh,
                    coverage: if daily {
                        if kwh.is_finite() { 1.0 } else { 0.0 }
                    } else {
                        share.min(1.0)
                    },
                    load_factor: lf,
                    cv,
                    night_kw: mean_kw(valid(&g, 0..6)),
                    midday_kw: mean_kw(valid(&g, 10..16)),
                    morning_kw: mean_kw(valid(&g, 6..8)),
                    dawn_kw: mean_kw(valid(&g, 6..7)),
                    evening_kw: mean_kw(valid(&g, 20..22)),
                    min_kw,
                    mode_share: mode,
                    exported: vals.iter().any(|v| *v < 0.0),
                    night_min_kw: if daily { f64::NAN } else { lowest(&g, 0..6) },
                    jitter: if daily { f64::NAN } else { steps(&g, 0..25) },
                    night_jitter: if daily { f64::NAN } else { steps(&g, 0..6) },
                    day_step: unless_daily(median_relative(&g, 0..25)),
                    night_step: unless_daily(median_relative(&g, 0..6)),
                    hours_kw: hours_kw(&g),
                    midday_min_kw: if daily { f64::NAN } else { lowest(&g, 10..16) },
                }
            })
            .collect()
    }

    /// Uniform in [-1, 1), a hash of day `d`'s hour `h` and a key `k` (one stream per key).
    fn keyed_noise(d: usize, h: usize, k: u64) -> f64 {
        let mut x = (d as u64 * 24 + h as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ k;
        x ^= x >> 31;
        x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
        x ^= x >> 29;
        (x >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    }

    /// Uniform in [-1, 1), a hash of day `d`'s hour `h`.
    fn noise(d: usize, h: usize) -> f64 {
        let mut x = (d as u64 * 24 + h as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        x ^= x >> 31;
        x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
        (x >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    }

    fn series(days: usize, f: impl Fn(usize, usize) -> f32) -> Series {
        let kwh = (0..days * 24).map(|i| f(i / 24, i % 24)).collect();
        Series {
            meter_id: "m".into(),
            start: 1_704_067_200 - 8 * 3600, // 2024-01-01T00:00+08:00
            step: 3600,
            offsets: vec![(0, 8 * 3600)],
            kwh,
            report: SeriesReport::default(),
        }
    }

    #[test]
    fn a_rig_on_some_days_is_seen_on_its_days_alone() {
        // A home of 0.5-2 kW with a 3 kW rig on two days of three (off on its days off).
        let home = |d: usize, h: usize| {
            let evening = if (18..23).contains(&h) { 1.5 } else { 0.5 };
            evening * (1.0 + 0.1 * ((d * 13 + h * 5) % 7) as f32 / 7.0)
        };
        let on = |d: usize| !d.is_multiple_of(3);
        let ds = days(&series(120, |d, h| {
            home(d, h) + if on(d) { 3.0 } else { 0.0 }
        }));
        let raised = raised_days(&ds, 1.0, 20).expect("the rig's days stand out");
        assert_eq!(raised.len(), 80);
        assert!(raised.iter().all(|d| on((d.day - ds[0].day) as usize)));
        // On its days alone the rig is the floor: flat through the night.
        let f = window(&raised, None, None);
        assert!(f.floor_kw > 3.0, "{}", f.floor_kw);
        // The home alone raises no days; nor does a step smaller than asked.
        assert!(raised_days(&days(&series(120, home)), 1.0, 20).is_none());
        assert!(raised_days(&ds, 5.0, 20).is_none());
        // Too few days on either side say nothing.
        assert!(raised_days(&ds[..30], 1.0, 20).is_none());
        // A shop that leaves 7 kW on overnight, noisy from hour to hour: the days whose every
        // quiet hour happened to be high are the tail of one load, not a machine's days.
        let shop = |d: usize, h: usize| {
            let open = (9..21).contains(&h);
            // Near normal, deviation 1: four uniforms summed.
            let z = (0..4).map(|k| noise(d + 1000 * k, h)).sum::<f64>() * 0.75f64.sqrt();
            ((if open { 20.0 } else { 7.0 }) * (0.15 * z).exp()) as f32
        };
        let shop_days = days(&series(365, shop));
        assert!(raised_days(&shop_days, 1.0, 14).is_none());
        // The same shop with a 5 kW rig off every fourth day: the floor changes between half
        // the pairs of days, and the rig's days still stand out. (A rig within a few of the
        // floor's own day-to-day deviations, here 0.5 kW, is not told this way.)
        let off = |d: usize| d % 4 == 3;
        let rigged = days(&series(365, |d, h| {
            shop(d, h) + if off(d) { 0.0 } else { 5.0 }
        }));
        let raised = raised_days(&rigged, 1.0, 14).expect("the rig's days stand out");
        assert!(raised.len() > 200, "{}", raised.len());
    }

    #[test]
    fn lamps_follow_the_dark_and_a_night_rig_keeps_the_clock() {
        use crate::generate::sun_hours;
        let day0 = crate::time::days_from_civil(2024, 1, 1);
        // A shop: 1 kW standby, 8 kW open 09:00-21:00, with a little noise.
        let shop = |d: usize, h: usize| {
            let wobble = 1.0 + 0.04 * ((d * 31 + h * 7) % 11) as f32 / 11.0;
            (if (9..21).contains(&h) { 8.0 } else { 1.0 }) * wobble
        };
        // Its façade lit 3 kW from dusk to dawn at Baotou.
        let lit = series(365, |d, h| {
            let (rise, set) = sun_hours(day0 + d as i64, (40.6, 110.0));
            let dark = (h as f64) < rise - 0.5 || (h as f64) > set;
            shop(d, h) + if dark { 3.0 } else { 0.0 }
        });
        // Or a 3 kW rig on the night tariff, 22:00-06:00.
        let rig = series(365, |d, h| {
            shop(d, h) + if !(6..22).contains(&h) { 3.0 } else { 0.0 }
        });
        let (l, r) = (dawn_swing(&lit, 6), dawn_swing(&rig, 6));
        assert!(l > 0.35 && r < 0.1, "lamps {l}, rig {r}");
        // Three months say nothing of the year.
        assert!(dawn_swing(&series(90, shop), 6).is_nan());
        // A grid without whole hours (none, or longer than an hour) has no dawn hours.
        for step in [0, -3600, 7200, 1700] {
            let odd = Series {
                step,
                ..series(365, shop)
            };
            assert!(dawn_swing(&odd, 6).is_nan(), "{step}");
        }
        // The rig's block: 3 kW over the site's own shoulder hours, every night, weekends too.
        let f = window(&days(&rig), None, None);
        assert!((f.night_block_kw - 3.0).abs() < 0.2, "{}", f.night_block_kw);
        assert!(f.night_block_spread < 0.1, "{}", f.night_block_spread);
        assert!(
            (f.night_block_weekly - 1.0).abs() < 0.05,
            "{}",
            f.night_block_weekly
        );
        // The shop alone has none.
        let f = window(&days(&series(60, shop)), None, None);
        assert!(f.night_block_kw.abs() < 0.2, "{}", f.night_block_kw);
    }

    #[test]
    fn a_quarters_lamps_follow_the_sunrise_and_a_rig_does_not() {
        use crate::sun::sun_hours;
        let baotou = (40.6, 110.0);
        // `days` days from `first` (a local day number), hourly, China's clock.
        let from = |first: i64, days: usize, f: &dyn Fn(i64, usize) -> f32| {
            let first_of_2024 = crate::time::days_from_civil(2024, 1, 1);
            Series {
                start: 1_704_067_200 - 8 * 3600 + (first - first_of_2024) * 86_400,
                ..series(days, |d, h| f(first + d as i64, h))
            }
        };
        // A shop: 1 kW standby, 8 kW open 09:00-21:00, a little noise.
        let shop = |day: i64, h: usize| {
            let wobble = 1.0 + 0.04 * ((day as usize * 31 + h * 7) % 11) as f32 / 11.0;
            (if (9..21).contains(&h) { 8.0 } else { 1.0 }) * wobble
        };
        // Its façade, 3 kW, off 20 minutes before sunrise (not the generator's switch: the fit
        // finds it), on 15 minutes after sunset; the switching hours part lit.
        let lit = |day: i64, h: usize| {
            let (rise, set) = sun_hours(day, baotou, 8 * 3600);
            let (a, b) = (h as f64, h as f64 + 1.0);
            let dark = |from: f64, to: f64| (to.min(b) - from.max(a)).max(0.0);
            let share = (dark(0.0, rise - 1.0 / 3.0) + dark(set + 0.25, 24.0)).min(1.0);
            shop(day, h) + 3.0 * share as f32
        };
        let june = crate::time::days_from_civil(2024, 6, 1);
        let lamps = sun_dawn_swing(&from(june, 90, &lit), baotou);
        assert!(lamps > 0.35, "lamps {lamps}");
        // The year's test cannot read a quarter.
        assert!(dawn_swing(&from(june, 90, &lit), 6).is_nan());
        // A 3 kW rig on the night tariff, 22:00-06:00, in the same shop: its dawn keeps the clock.
        let rig = |day: i64, h: usize| shop(day, h) + if (6..22).contains(&h) { 0.0 } else { 3.0 };
        let r = sun_dawn_swing(&from(june, 90, &rig), baotou);
        assert!(r.abs() < 0.1, "rig {r}");
        // Around the winter solstice the sunrise at Beijing's longitude moves by minutes: the
        // dawn cannot tell, whatever burns.
        let beijing = (39.9, 116.4);
        let winter = crate::time::days_from_civil(2024, 12, 1);
        assert!(sun_dawn_swing(&from(winter, 40, &lit), beijing).is_nan());
        // Too few days, or readings coarser than an hour, tell nothing either.
        assert!(sun_dawn_swing(&from(june, 20, &lit), baotou).is_nan());
        let daily = Series {
            step: 86_400,
            ..from(june, 90, &lit)
        };
        assert!(sun_dawn_swing(&daily, baotou).is_nan());
        // A place no sun shines on the same way (a register's coordinates gone wrong) reads
        // without a panic.
        for at in [(91.0, 0.0), (f64::NAN, 110.0), (40.0, f64::INFINITY)] {
            let v = sun_dawn_swing(&from(june, 90, &lit), at);
            assert!(v.is_nan() || v.is_finite(), "{at:?}: {v}");
        }
    }

    #[test]
    fn small_lamps_under_a_noisy_standby_are_told_by_the_hours_either_side_of_dawn() {
        use crate::sun::sun_hours;
        // A shop in Yunnan (sunrise 06:25-06:50 by China's clock over the summer): 4 kW of
        // standby that moves up to a quarter either way from hour to hour, 20 kW open
        // 09:00-21:00.
        let lincang = (25.07, 101.6);
        let june = crate::time::days_from_civil(2024, 6, 1);
        let first_of_2024 = crate::time::days_from_civil(2024, 1, 1);
        let from = |f: &dyn Fn(i64, usize) -> f32| Series {
            start: 1_704_067_200 - 8 * 3600 + (june - first_of_2024) * 86_400,
            ..series(92, |d, h| f(june + d as i64, h))
        };
        let shop = |day: i64, h: usize| {
            let u = ((day as usize * 7919 + h * 104_729) % 10_007) as f32 / 10_007.0;
            (if (9..21).contains(&h) { 20.0 } else { 4.0 }) * (1.0 + 0.5 * (u - 0.5))
        };
        // Its façade, 2 kW, off ten minutes before sunrise. The fit over the dawn hour is sure
        // of it but prefers a switch ten minutes after sunrise, where the hour is part lit all
        // summer, and its year's swing comes out at 0.14; the hours either side give 0.26.
        let lit = |day: i64, h: usize| {
            let (rise, set) = sun_hours(day, lincang, 8 * 3600);
            let (a, b) = (h as f64, h as f64 + 1.0);
            let dark = |from: f64, to: f64| (to.min(b) - from.max(a)).max(0.0);
            let share = (dark(0.0, rise - 1.0 / 6.0) + dark(set + 1.0 / 6.0, 24.0)).min(1.0);
            shop(day, h) + 2.0 * share as f32
        };
        let lamps = sun_dawn_swing(&from(&lit), lincang);
        assert!(lamps >= 0.2, "lamps {lamps}");
        // A 1.3 kW rig on the night tariff in the same shop, off at 06:00 or at 07:00 by the
        // clock: the dawn hour stands at one end, not part way.
        for off in [6, 7] {
            let rig =
                |day: i64, h: usize| shop(day, h) + if h < off || h >= 22 { 1.3 } else { 0.0 };
            let r = sun_dawn_swing(&from(&rig), lincang);
            assert!(r.abs() < 0.1, "rig off at {off}: {r}");
        }
    }

    #[test]
    fn lamps_are_seen_before_a_business_that_opens_at_seven() {
        use crate::generate::sun_hours;
        let day0 = crate::time::days_from_civil(2024, 1, 1);
        // A shop of 1 kW standby, 10 kW open from 07:00 to 19:00, and its façade lit 4 kW from
        // dusk to dawn.
        let lit_at = |place: (f64, f64)| {
            series(365, move |d, h| {
                let (rise, set) = sun_hours(day0 + d as i64, place);
                // Hours wholly in the dark only: the switching hours count as light.
                let dark = (h + 1) as f64 <= rise - 0.2 || h as f64 >= set + 0.2;
                let wobble = 1.0 + 0.03 * ((d * 31 + h * 7) % 11) as f32 / 11.0;
                (if (7..19).contains(&h) { 10.0 } else { 1.0 }) * wobble
                    + if dark { 4.0 } else { 0.0 }
            })
        };
        // Baotou: the dawn hour is 06:00, the days' figures are read (the first hour alone:
        // with 07:00 in it, every month's dawn stood above its night and the test read 0).
        let baotou = lit_at((40.6, 110.0));
        let by_days = dawn_swing_of_days(&days(&baotou));
        assert!(by_days > 0.35, "Baotou: {by_days}");
        assert!((dawn_swing(&baotou, 6) - by_days).abs() < 1e-9);
        // Ürümqi: the sun's dawn hour by the clock is 07:00, when the shop opens; the hour
        // before it is read, the last one that stays at the night's level over the year.
        let urumqi = lit_at((43.8, 87.6));
        let west = dawn_swing(&urumqi, 7);
        assert!(west > 0.2, "Ürümqi: {west}");
        // An hour no clock has (a register's longitude gone wrong) reads nothing, and no panic.
        for hour in [i64::MIN, -1, 24, i64::MAX] {
            assert!(dawn_swing(&urumqi, hour).is_nan(), "{hour}");
        }
        // A 4 kW rig in the same shop all night and day: nothing moves with the season.
        let rig = series(365, |d, h| {
            let wobble = 1.0 + 0.03 * ((d * 31 + h * 7) % 11) as f32 / 11.0;
            (if (7..19).contains(&h) { 10.0 } else { 1.0 }) * wobble + 4.0
        });
        for hour in [6, 7] {
            let r = dawn_swing(&rig, hour);
            assert!(r < 0.1, "rig at {hour}: {r}");
        }
    }

    #[test]
    fn the_constant_under_a_restaurants_day_is_fitted_over_its_hours() {
        // Open all day: a base of 12 kW and a peak of 20 kW at 15:00, each hour off by up to
        // 20 % of what is on. Its midday is never 1.5 times its night, so the busy and quiet
        // regimes of `constant_kw` cannot be told apart.
        let restaurant = |d: usize, h: usize| {
            let x = (h as f64 - 15.0) / 4.0;
            (12.0 + 8.0 * (-x * x).exp()) * (1.0 + 0.2 * keyed_noise(d, h, 1))
        };
        let rig = |d: usize, h: usize| 6.0 * (1.0 + 0.01 * keyed_noise(d, h, 2));
        let alone = window(
            &days(&series(365, |d, h| restaurant(d, h) as f32)),
            None,
            None,
        );
        assert!(
            alone.constant_kw.is_nan() || alone.constant_kw < 0.2 * alone.night_kw,
            "a restaurant read {} kW constant",
            alone.constant_kw
        );
        let with_rig = window(
            &days(&series(365, |d, h| (restaurant(d, h) + rig(d, h)) as f32)),
            None,
            None,
        );
        assert!(
            (with_rig.constant_kw - 6.0).abs() < 1.5,
            "{}",
            with_rig.constant_kw
        );
        assert!(with_rig.busy_step_kw > with_rig.quiet_step_kw);
        // A rig of 24 kW, more than the restaurant's own load: its hours span under a quarter
        // from the quietest to the busiest, too little for a line through each half of the
        // days; the line through all of them, bounded from below over resampled weeks, reads
        // most of the rig and never more. Over a year, and over 600 days with 200 of them
        // missing in the middle (a meter swapped, a data system's outage): only the weeks with
        // readings are drawn.
        for (n, missing) in [(365, 0..0), (600, 150..350)] {
            let big = window(
                &days(&series(n, |d, h| {
                    if missing.contains(&d) {
                        f32::NAN
                    } else {
                        (restaurant(d, h) + 4.0 * rig(d, h)) as f32
                    }
                })),
                None,
                None,
            );
            assert!(
                big.constant_kw > 12.0 && big.constant_kw < 26.0,
                "{n} days: {}",
                big.constant_kw
            );
        }
        // A quarter is too short for a line through its hours: no answer.
        let quarter = window(
            &days(&series(90, |d, h| (restaurant(d, h) + rig(d, h)) as f32)),
            None,
            None,
        );
        assert!(quarter.constant_kw.is_nan());
        // A load whose level hardly moves over the day (a base station: a static part and a
        // part that follows traffic, 2 % noise) leaves the line to chance: no answer.
        let station = |d: usize, h: usize| {
            let x = (h as f64 - 20.0) / 5.0;
            let traffic = if (1..7).contains(&h) {
                0.2
            } else {
                0.6 + 0.4 * (-x * x).exp()
            };
            4.0 * (0.7 + 0.3 * traffic) * (1.0 + 0.03 * keyed_noise(d, h, 3))
        };
        let alone = window(&days(&series(365, |d, h| station(d, h) as f32)), None, None);
        assert!(
            alone.constant_kw.is_nan(),
            "a base station read {} kW",
            alone.constant_kw
        );
        // Nor does a thermostat's, whose floor follows the season: a cold store's compressors
        // run a duty that rises with the heat, and defrost every eight hours.
        let cold = |d: usize, h: usize| {
            let temp = 10.0 - 15.0 * (d as f64 / 365.0 * std::f64::consts::TAU).cos();
            let duty = (0.45 + 0.025 * (temp - 10.0)).clamp(0.25, 0.95);
            let defrost = if h % 8 == 3 { 0.3 } else { 0.0 };
            30.0 * (duty + defrost) * (1.0 + 0.1 * keyed_noise(d, h, 4))
        };
        let alone = window(&days(&series(365, |d, h| cold(d, h) as f32)), None, None);
        assert!(
            alone.constant_kw.is_nan(),
            "a cold store read {} kW",
            alone.constant_kw
        );
    }

    #[test]
    fn the_part_that_does_not_move_is_found_under_a_moving_load() {
        // A shop of 12 kW open 08:00-20:00, 2 kW when closed, each hour's load off by a
        // random factor (a site's own load moves in proportion to what is on); behind it a
        // 2.5 kW rig that holds its draw within a percent.
        let shop = |d: usize, h: usize| {
            let own = if (8..20).contains(&h) { 12.0 } else { 2.0 };
            own * (1.0 + 0.25 * keyed_noise(d, h, 1))
        };
        let alone = window(&days(&series(120, |d, h| shop(d, h) as f32)), None, None);
        let with_rig = window(
            &days(&series(120, |d, h| {
                (shop(d, h) + 2.5 * (1.0 + 0.01 * keyed_noise(d, h, 2))) as f32
            })),
            None,
            None,
        );
        assert!(alone.constant_kw.abs() < 0.4, "{}", alone.constant_kw);
        assert!(
            (with_rig.constant_kw - 2.5).abs() < 0.5,
            "{}",
            with_rig.constant_kw
        );
        assert!(with_rig.busy_step_kw > 2.0 * with_rig.quiet_step_kw);
        // A load that moves the same by day and night gives no answer rather than a wrong one.
        let even = window(
            &days(&series(120, |d, h| {
                (5.0 * (1.0 + 0.2 * keyed_noise(d, h, 3))) as f32
            })),
            None,
            None,
        );
        assert!(even.constant_kw.is_nan());
        // Too few open days: none either.
        let short = window(&days(&series(30, |d, h| shop(d, h) as f32)), None, None);
        assert!(short.constant_kw.is_nan());
        // A business whose day is a smooth hill, 3 kW at night rising to 12 kW at 13:00 (BDEW's
        // weekend businesses, G6, are such), each hour off by up to 10 %: its midday ramps are its
        // shape, not its movement. Taken as movement (the plain hour-to-hour change) they read
        // 2.0 kW of its 3 kW night as a constant; taken out, nothing. Its rig is still found.
        let hill = |d: usize, h: usize| {
            let x = (h as f64 - 13.0) / 3.5;
            (3.0 + 9.0 * (-x * x).exp()) * (1.0 + 0.1 * keyed_noise(d, h, 4))
        };
        let alone = window(&days(&series(120, |d, h| hill(d, h) as f32)), None, None);
        assert!(
            alone.constant_kw.is_nan() || alone.constant_kw <= 0.4,
            "a hill read {} kW constant",
            alone.constant_kw
        );
        let with_rig = window(
            &days(&series(120, |d, h| {
                (hill(d, h) + 2.5 * (1.0 + 0.01 * keyed_noise(d, h, 5))) as f32
            })),
            None,
            None,
        );
        assert!(
            (with_rig.constant_kw - 2.5).abs() < 0.6,
            "{}",
            with_rig.constant_kw
        );
    }

    /// A week that repeats (a standard load profile: one day per day type) changes by nothing
    /// from one week to the next; a living load above the same floor changes by more than 1 %.
    #[test]
    fn a_repeated_week_does_not_change_and_a_living_load_does() {
        // A floor of 2 kW and a day shape on top, the same every week.
        let shape = |d: usize, h: usize| {
            let weekend = d % 7 >= 5;
            let day = if (6..20).contains(&h) { 3.0 } else { 0.5 };
            2.0 + if weekend { 0.6 * day } else { day }
        };
        let copied = window(&days(&series(84, |d, h| shape(d, h) as f32)), None, None);
        assert!(copied.week_change < 0.002, "{}", copied.week_change);
        let living = window(
            &days(&series(84, |d, h| {
                (2.0 + (shape(d, h) - 2.0) * (1.0 + 0.15 * noise(d, h))) as f32
            })),
            None,
            None,
        );
        assert!(living.week_change > 0.01, "{}", living.week_change);
        // Nothing above the floor: no answer.
        let flat = window(&days(&series(84, |_, _| 2.0)), None, None);
        assert!(flat.week_change.is_nan(), "{}", flat.week_change);
    }

    /// A three-shift load with changeover dips moves by day, by the mean of its steps, about
    /// twice as much as by night; by the median far less so (the dips are a quarter of the
    /// day's steps, and lift its median only to a higher share of the noise's own steps).
    #[test]
    fn a_schedule_s_few_steps_do_not_make_a_day_move() {
        let factory = window(
            &days(&series(84, |d, h| {
                let dip = if h == 6 || h == 14 || h == 22 {
                    0.6
                } else {
                    1.0
                };
                (100.0 * dip * (1.0 + 0.08 * noise(d, h))) as f32
            })),
            None,
            None,
        );
        let by_means = factory.jitter / factory.night_jitter;
        let by_medians = factory.day_step / factory.night_step;
        assert!(by_means > 1.8, "{by_means}");
        assert!(
            by_medians < 1.7 && by_medians < 0.7 * by_means,
            "{by_medians}"
        );
        // A day that does move, steadily, against a still night.
        let shop_and_rig = window(
            &days(&series(84, |d, h| {
                let open = (8..20).contains(&h);
                let own = if open { 10.0 } else { 1.0 };
                (3.0 + own * (1.0 + 0.15 * noise(d, h))) as f32
            })),
            None,
            None,
        );
        let moves = shop_and_rig.day_step / shop_and_rig.night_step;
        assert!(moves > 2.0, "{moves}");
        // Daily readings cannot tell.
        let daily = Series {
            step: 86_400,
            kwh: vec![48.0; 84],
            ..series(1, |_, _| 0.0)
        };
        assert!(window(&days(&daily), None, None).day_step.is_nan());
    }

    #[test]
    fn medians_by_counting_are_medians() {
        let mut x = 7u64;
        for n in 1..=70usize {
            for _ in 0..50 {
                let mut keys: Vec<i32> = (0..n)
                    .map(|_| {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        // Few distinct values, so ties are common.
                        (x % 7) as i32 * 1_000_003 - 3_000_000
                    })
                    .collect();
                let mut sorted = keys.clone();
                sorted.sort_unstable();
                assert_eq!(upper_median(&mut keys), sorted[n / 2], "{n}");
            }
        }
        assert_eq!(upper_median(&mut [i32::MIN, i32::MAX, i32::MAX]), i32::MAX);
    }

    #[test]
    fn window_medians_are_the_total_order_medians() {
        let mut x = 11u64;
        for n in 0..200usize {
            let v: Vec<f64> = (0..n)
                .map(|i| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    match (x % 13, i % 5) {
                        (0, _) => f64::NAN,
                        (1, _) => f64::INFINITY,
                        (2, _) => -0.0,
                        (3, _) => 0.0,
                        _ => (x % 2001) as f64 / 7.0 - 100.0,
                    }
                })
                .collect();
            let mut finite: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
            let want = if finite.is_empty() {
                f64::NAN
            } else {
                finite.sort_by(f64::total_cmp);
                finite[finite.len() / 2]
            };
            let got = median(v);
            assert!(
                got.to_bits() == want.to_bits() || (got.is_nan() && want.is_nan()),
                "{n}"
            );
        }
    }

    #[test]
    fn days_match_the_plain_implementation() {
        let value = |i: usize| -> f32 {
            match i % 97 {
                0 => f32::NAN,
                1 => -0.5,
                2 => 0.0,
                _ => ((i * 7919) % 1000) as f32 / 250.0,
            }
        };
        let make = |start: i64, step: i64, offsets: Vec<(usize, i32)>, n: usize| Series {
            meter_id: "m".into(),
            start,
            step,
            offsets,
            // A day with nothing at all, too.
            kwh: (0..n)
                .map(|i| {
                    if (200..230).contains(&i) {
                        f32::NAN
                    } else {
                        value(i)
                    }
                })
                .collect(),
            report: SeriesReport::default(),
        };
        let cases = [
            // Hourly from 13:00 local, one offset.
            make(1_704_114_000, 3600, vec![(0, 8 * 3600)], 24 * 12 + 5),
            // Quarter hours, no offset recorded.
            make(1_704_067_200, 900, vec![], 96 * 5 + 17),
            // Daily values.
            make(1_704_067_200, 86_400, vec![(0, 0)], 40),
            // A grid that does not divide the day (a broken exporter's 3,500 s): a day's count
            // of readings, divided into the day, gives back 3,600, which is not the grid.
            make(1_704_067_200, 3500, vec![(0, 8 * 3600)], 24 * 12),
            // Daylight saving on and off again.
            make(
                1_711_846_800,
                3600,
                vec![(0, 3600), (100, 7200), (300, 3600)],
                24 * 20,
            ),
        ];
        for s in &cases {
            assert_eq!(
                format!("{:?}", days(s)),
                format!("{:?}", days_reference(s)),
                "step {} offsets {:?}",
                s.step,
                s.offsets
            );
        }
    }

    #[test]
    fn a_flat_miner() {
        let s = series(28, |d, h| 3.2 + ((d * 31 + h * 7) % 5) as f32 * 0.01);
        let ds = days(&s);
        assert_eq!(ds.len(), 28);
        let f = window(&ds, Some(5.0), None);
        assert!(f.load_factor > 0.98, "{f:?}");
        assert!((f.night_midday - 1.0).abs() < 0.02);
        assert!(f.daily_cv < 0.01);
        assert!((f.weekend_weekday - 1.0).abs() < 0.01);
        assert!(f.mode_share > 0.9);
        assert!((f.floor_kw - 3.2).abs() < 0.05);
        assert!((f.capacity_use - 0.64).abs() < 0.01);
    }

    #[test]
    fn a_household_with_evening_peaks_and_weekends() {
        let s = series(28, |d, h| {
            let base = if (18..23).contains(&h) {
                1.2
            } else if h < 6 {
                0.15
            } else {
                0.4
            };
            // 2024-01-06 (day 5) is a Saturday.
            if weekday(19_723 + d as i64) >= 5 {
                base * 1.3
            } else {
                base
            }
        });
        let f = window(&days(&s), None, None);
        assert!(f.load_factor < 0.6, "{f:?}");
        assert!(f.night_midday < 0.5);
        assert!(f.weekend_weekday > 1.2);
        assert!(f.floor_kw < 0.2);
    }

    #[test]
    fn missing_intervals_lower_coverage_and_daily_data_works() {
        let mut s = series(3, |_, _| 1.0);
        for i in 24..40 {
            s.kwh[i] = f32::NAN;
        }
        let ds = days(&s);
        assert!(ds[1].coverage < 0.5);
        assert_eq!(window(&ds, None, None).days, 2);
        let daily = Series {
            step: 86_400,
            kwh: vec![24.0; 10],
            ..series(0, |_, _| 0.0)
        };
        let f = window(&days(&daily), None, None);
        assert_eq!(f.days, 10);
        assert!(f.load_factor.is_nan());
        assert!((f.mean_kw - 1.0).abs() < 1e-9);
    }

    #[test]
    fn temperature_correlation() {
        let s = series(30, |d, _| 1.0 + d as f32 * 0.1);
        let t = |day: i64| Some((day - 19_723) as f64);
        let f = window(&days(&s), None, Some(&t));
        assert!(f.temp_corr > 0.99);
    }
}
