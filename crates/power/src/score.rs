//! From features to a ranked, explained suspicion score per meter.
//!
//! A mine draws the same high power day and night, every day (docs/FACTS.md §P1). The score joins two
//! questions, each answered in [0, 1]: does the curve have a miner's *shape* (flat, as much at
//! night as at noon, steady from day to day, blind to weekends, one dominant level), and is there
//! enough *load* behind it to be mining (a continuous floor of a kilowatt or more, an outlier
//! within its tariff class and area, a large share of the contracted capacity)? A step onset and
//! a night-only plateau are further paths. Classes where flat loads are normal weigh less,
//! allow-listed meters (registered data centres) are reported but not suspected. Every part that
//! counts becomes a reason in English and Chinese. Thresholds are in [`ScoreConfig`].

#![allow(
    clippy::indexing_slicing,
    reason = "windows, days and parts are indexed by positions computed from the vectors built here"
)]

use crate::changepoint::{Departure, Onset, departures, onsets};
use crate::customers::{Customer, Register, TariffClass};
use crate::features::{Day, Features, days_for, window};
use crate::series::{Series, SeriesReport};
use crate::time::{civil_from_days, format_day};
use minewatch_model::Algorithm;
use minewatch_model::efficiency::{PUE, efficiency};
use minewatch_model::lang::Lang;
use serde::Serialize;
use std::collections::HashMap;

/// Tunable thresholds; the defaults are documented in docs/DETECTION.md.
#[derive(Clone, Copy, Debug)]
pub struct ScoreConfig {
    /// Score at or above which a meter is suspected.
    pub threshold: f64,
    /// Smallest continuous load worth a visit, kW.
    pub min_kw: f64,
    /// Days a stepped-up level must last to count as an onset.
    pub onset_days: usize,
    /// Power of one typical machine, kW (Antminer S19 Pro nameplate, 3.25 kW).
    pub machine_kw: f64,
}

impl Default for ScoreConfig {
    fn default() -> Self {
        ScoreConfig {
            threshold: 0.6,
            min_kw: 1.0,
            onset_days: 7,
            machine_kw: 3.25,
        }
    }
}

/// One explanation of a score, in both languages.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Reason {
    /// Machine code.
    pub code: &'static str,
    /// English.
    pub en: String,
    /// Chinese.
    pub zh: String,
}

/// The result for one meter.
#[derive(Clone, Debug, Serialize)]
pub struct Suspect {
    /// Meter.
    pub meter_id: String,
    /// Customer, when registered.
    pub customer_id: Option<String>,
    /// Tariff class.
    pub tariff_class: TariffClass,
    /// Transformer area.
    pub area_id: Option<String>,
    /// Region code.
    pub region_code: Option<String>,
    /// Higher is more suspicious, 0..1.
    pub score: f64,
    /// At or above the threshold, and not allow-listed.
    pub suspected: bool,
    /// 1 for the most suspicious meter.
    pub rank: usize,
    /// Why, most important first.
    pub reasons: Vec<Reason>,
    /// First day of the stepped-up level, when there is one.
    pub onset: Option<String>,
    /// First day after a machine-like level stopped, when one counted: mining ran until the
    /// day before (back-billing ends there).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub departure: Option<String>,
    /// Estimated mining load, kW.
    pub mining_kw: f64,
    /// The same as a number of typical machines; for machines switched on one at a time (an
    /// onset of equal steps), the number the steps counted.
    pub machines: f64,
    /// The same as SHA-256 hash rate, TH/s (best-guess efficiency).
    pub hashrate_ths: f64,
    /// First day of the window the score comes from.
    pub window_start: String,
    /// Last day of that window.
    pub window_end: String,
    /// The window's features.
    pub features: Features,
    /// Daily energy of the last days, for suspects only (the load curve on a case page).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub daily_kwh: Option<DailyKwh>,
    /// Data problems found in the meter's readings.
    #[serde(skip)]
    pub quality: SeriesReport,
    /// The score's parts, the inputs of a model learned from inspections (see [`SIGNALS`]).
    #[serde(skip)]
    pub signals: Vec<f64>,
}

/// Names of [`Suspect::signals`], in order.
pub const SIGNALS: [&str; 19] = [
    "flat",
    "day_and_night",
    "steady",
    "no_weekly_rhythm",
    "one_level",
    "temperature_blind",
    "continuous_floor",
    "above_class",
    "capacity",
    "night_plateau",
    "floor_carries_load",
    // a step up, or down (`departure`)
    "onset",
    "preferential_tariff",
    "log_mean_kw",
    "psu_steady",
    "steady_floor_under_load",
    "steady_night_in_business",
    "not_explained_by_temperature",
    "night_block",
];

/// Daily temperatures by region, for the temperature-sensitivity feature.
#[derive(Clone, Debug, Default)]
pub struct Weather {
    /// Region code → (local day, mean temperature °C), by day, one per day (the file's last).
    /// A meter finds its region once and its days by binary search: a map keyed by region
    /// and day cloned the region's code and hashed both for every day of every window, 7 %
    /// of a region's scan (docs/PERFORMANCE.md).
    by_region: HashMap<String, Vec<(i64, f64)>>,
}

impl Weather {
    /// A region's days, for [`Weather::on`].
    pub fn region(&self, code: &str) -> Option<&[(i64, f64)]> {
        self.by_region.get(code).map(Vec::as_slice)
    }

    /// The mean temperature of `day` in a region's days, °C.
    pub fn on(days: &[(i64, f64)], day: i64) -> Option<f64> {
        days.binary_search_by_key(&day, |d| d.0)
            .ok()
            .map(|i| days[i].1)
    }
}

struct Profile {
    meter_id: String,
    customer: Option<Customer>,
    windows: Vec<Features>,
    /// The steps up that could be onsets, largest first (at most [`ONSET_CANDIDATES`]).
    onsets: Vec<Up>,
    /// The steps down that could be a machine leaving, largest first (at most
    /// [`ONSET_CANDIDATES`]).
    departures: Vec<Down>,
    quality: SeriesReport,
    recent: DailyKwh,
}

/// Fewest other meters of a class that, stepping up within a day of a meter's step, make it
/// the class's common step rather than one site's (a farm behind a few meters included).
const COMMON_STEP_METERS: usize = 5;

/// How much of a step is the class's, not the meter's, from the share of the class's other
/// meters that stepped up within a day of it: a step that a tenth of them took is the season's
/// or the calendar's (aerators switched on for the culture season, boilers on the first day of
/// the heating season, a date the city sets, offices back after the Spring Festival); a machine
/// is switched on when it arrives, on a day of its own. None from 3 % of the class, all from
/// 10 % (issue 18: "what neighbours do").
fn common_weight(share: f64) -> f64 {
    clamp01((share - 0.03) / 0.07)
}

/// A step up kept for scoring, with what was measured at it.
struct Up {
    /// The step.
    step: Onset,
    /// Its first day.
    day: i64,
    /// How much the night's hour-to-hour noise grew at it, in kW per kW the night level grew
    /// (a machine adds its level and almost no noise); NaN where it was not measured.
    night_noise: f64,
    /// Where there are no nights to tell (daily readings), how much the days' movement grew
    /// per kWh a day it added; NaN otherwise.
    day_noise: f64,
    /// Share of it the weather explains ([`weather_share`]); `None` for a step that cannot
    /// count and where the weather could not be read (none given, or under ten days with it on
    /// either side of the step).
    weather_share: Option<f64>,
}

/// A step down kept for scoring, with what was measured at it.
struct Down {
    /// The step.
    step: Departure,
    /// The day it had all stopped.
    day: i64,
    /// How much the night's hour-to-hour noise fell with it, per kW the night level fell (as
    /// for an onset: a machine takes its level away and almost none of the noise); NaN on
    /// daily readings and for a step that cannot count (too small, or too short on either
    /// side), which is then never weighed.
    night_noise: f64,
    /// Coefficient of variation of the daily energy while it ran.
    ran_cv: f64,
    /// Share of the step the weather explains ([`weather_share`]); 0 without weather.
    weather_share: f64,
}

/// The least rise (or fall), as a multiple of the level beside it, of a step that counts on any
/// site: a step must add real load, 30 % on top.
const STEP_RISE: f64 = 1.3;

/// The least rise, as a multiple of the level before, of a step that
/// [`small_step_of_a_machine`] lets count: the steps of [`STEP_RISE`] and more count on any
/// site that runs like a machine after them; a staircase of one or two machines inside a restaurant
/// open all day adds a tenth to a quarter (issue 18: 2.4-6.5 kW on 10-25 kW, none counted).
const SMALL_STEP_RISE: f64 = 1.1;

/// Whether a step up smaller than the 30 % every step needs, from the days `before` to the
/// days `after`, can be a machine switched on inside a business: it lifted the midday as much
/// as the night (within 30 %: a machine draws at every hour, where lamps lit at dusk lift only
/// the nights and longer hours only the days), the weather explains under a quarter of it
/// (`weather`, the step's [`weather_share`]: a cold store's cooling season is such a step),
/// and the days on either side hold within a tenth of their mean (a step that small is
/// heard only on a site whose days hold still; a rig that is off on some days makes steps of
/// its own off days). Whether it was as quiet as a machine is then measured as for any step.
/// Asked only of the meter's largest step on the commercial tariff: on the tuning regions the
/// next largest steps of three-shift factories rose from the Spring Festival's trough, and on
/// households small steps inside a rig's off days came out of the days' own swings.
fn small_step_of_a_machine(before: &[Day], after: &[Day], weather: f64) -> bool {
    let of = |days: &[Day], f: fn(&Day) -> f64| crate::features::mean(days.iter().map(f));
    let night = of(after, |d| d.night_kw) - of(before, |d| d.night_kw);
    let midday = of(after, |d| d.midday_kw) - of(before, |d| d.midday_kw);
    let even = night > 0.0 && (0.7..=1.3).contains(&(midday / night));
    let holds = |days: &[Day]| {
        let level = of(days, |d| d.kwh);
        let spread = crate::features::mean(days.iter().map(|d| (d.kwh - level).powi(2))).sqrt();
        spread <= 0.1 * level
    };
    even && weather < 0.25 && holds(before) && holds(after)
}

/// The share of a fall of `fell` kWh a day, from the days `running` to the days `left`, that
/// the weather explains: the slope of daily energy on temperature within either span times
/// how much warmer or colder the days left behind were, the larger of the two. A heating load
/// that a thaw turns down is explained by the site as it is after (its heating still follows
/// the cold); a cold store whose cooling stops as autumn comes, by the site as it was before
/// (its cooling followed the heat, and stops when autumn no longer asks for it); a
/// machine leaving as autumn cools is explained by neither, for it draws the same whatever
/// the weather and the site around it hardly follows it. `None` when either span has fewer
/// than ten days with weather: nothing can be said.
fn weather_share(
    running: &[Day],
    left: &[Day],
    fell: f64,
    temp: &dyn Fn(i64) -> Option<f64>,
) -> Option<f64> {
    let with = |days: &[Day]| -> Vec<(f64, f64)> {
        days.iter()
            .filter(|d| d.coverage >= 0.5 && d.kwh.is_finite())
            .filter_map(|d| temp(d.day).filter(|t| t.is_finite()).map(|t| (d.kwh, t)))
            .collect()
    };
    let (ran, after) = (with(running), with(left));
    if ran.len() < 10 || after.len() < 10 {
        return None;
    }
    if fell <= 0.0 {
        return Some(0.0);
    }
    // kWh a day per °C within each span (none where its temperatures do not vary).
    let (ran_slope, _, ran_t) = crate::features::slope_on(&ran);
    let (after_slope, _, after_t) = crate::features::slope_on(&after);
    let slope = |s: f64| if s.is_nan() { 0.0 } else { s };
    let warmed = after_t - ran_t;
    // The energy the weather alone would have taken off between the two spans.
    let predicted = (-slope(after_slope) * warmed).max(-slope(ran_slope) * warmed);
    Some((predicted / fell).max(0.0))
}

/// For each of a meter's steps up and down, the share of its class's other meters that
/// stepped the same way within a day (see [`common_weight`]).
struct Common {
    up: Vec<f64>,
    down: Vec<f64>,
}

/// Steps kept per meter: the largest, and the next when a larger one is the class's season.
const ONSET_CANDIDATES: usize = 3;

/// Days of daily energy kept per meter for the load curve of a suspect: enough to show a step
/// and the months around it, small beside the window features every meter keeps anyway.
pub const RECENT_DAYS: usize = 120;

/// A meter's daily energy over its last [`RECENT_DAYS`] days, for drawing its load curve.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct DailyKwh {
    /// The first day (YYYY-MM-DD).
    pub start: String,
    /// kWh per day; null where less than half the day was read.
    pub values: Vec<Option<f32>>,
}

/// Collects meters, then scores them against their class and area.
pub struct Scorer<'a> {
    cfg: ScoreConfig,
    register: &'a Register,
    weather: Option<&'a Weather>,
    profiles: Vec<Profile>,
}

fn clamp01(x: f64) -> f64 {
    if x.is_nan() { 0.0 } else { x.clamp(0.0, 1.0) }
}

/// The step of a weekend over weekday ratio that meters keeping the same week share (a tenth
/// in logarithm); none for a ratio that is not a positive number.
fn week_bin(ratio: f64) -> Option<i64> {
    (ratio.is_finite() && ratio > 0.0).then(|| (ratio.ln() / 0.1).round() as i64)
}

/// Calendar months (local) of a day list, as index ranges.
fn months(ds: &[Day]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = 0;
    for i in 1..=ds.len() {
        let boundary = i == ds.len() || {
            let (y0, m0, _) = civil_from_days(ds[i - 1].day);
            let (y1, m1, _) = civil_from_days(ds[i].day);
            (y0, m0) != (y1, m1)
        };
        if boundary {
            out.push((start, i));
            start = i;
        }
    }
    out
}

/// The dawn hour [`crate::features::dawn_swing`] reads, local clock: 06:00,
/// an hour later for each hour (less half an hour) the sun runs behind the clock at the
/// meter's longitude, when the register gives it (Xinjiang keeps Beijing's clock, and its
/// summer sun rises after seven by it).
fn dawn_hour(s: &Series, customer: Option<&Customer>) -> i64 {
    let zone = f64::from(s.offsets.first().map_or(0, |o| o.1)) / 3600.0 * 15.0;
    match customer.and_then(|c| c.lon) {
        Some(lon) => 6 + (((zone - lon) / 15.0 - 0.5).floor() as i64).clamp(0, 3),
        None => 6,
    }
}

impl<'a> Scorer<'a> {
    /// A scorer with a register (possibly empty) and optional weather.
    pub fn new(
        cfg: ScoreConfig,
        register: &'a Register,
        weather: Option<&'a Weather>,
    ) -> Scorer<'a> {
        Scorer {
            cfg,
            register,
            weather,
            profiles: Vec::new(),
        }
    }

    /// Meters added so far.
    pub fn len(&self) -> usize {
        self.profiles.len()
    }

    /// True before any meter is added.
    pub fn is_empty(&self) -> bool {
        self.profiles.is_empty()
    }

    /// Adds one meter's series (its per-day data is reduced to window features at once).
    pub fn add(&mut self, s: &Series) {
        let customer = self.register.get(&s.meter_id).cloned();
        // The steps' medians by day and night serve the steady-night test of businesses only.
        let business = customer.as_ref().is_some_and(|c| c.tariff_class.business());
        let commercial = customer
            .as_ref()
            .is_some_and(|c| c.tariff_class == TariffClass::Commercial);
        let ds = days_for(s, business);
        let cap = customer.as_ref().and_then(|c| c.capacity_kva);
        let days_of_region = self
            .weather
            .and_then(|w| w.region(customer.as_ref().and_then(|c| c.region_code.as_deref())?));
        let lookup = move |day: i64| -> Option<f64> { Weather::on(days_of_region?, day) };
        let temp: Option<&dyn Fn(i64) -> Option<f64>> = if self.weather.is_some() {
            Some(&lookup)
        } else {
            None
        };
        let mut whole = window(&ds, cap, temp);
        if let Some(t) = temp {
            whole.add_floor_weather(&ds, t);
        }
        whole.dawn_swing = match dawn_hour(s, customer.as_ref()) {
            6 => crate::features::dawn_swing_of_days(&ds),
            h => crate::features::dawn_swing(s, h),
        };
        // A quarter's readings hold no year to compare its months in; the sun at the meter's
        // place says how its dawn would move (issue 18: on 60 to 120 days, façades lit from
        // dusk to dawn were flagged on 7 to 15 of 19 lit sites).
        if whole.dawn_swing.is_nan()
            && crate::features::short_of_a_year(&ds)
            && let Some(c) = customer.as_ref()
            && let (Some(lat), Some(lon)) = (c.lat, c.lon)
        {
            whole.dawn_swing = crate::features::sun_dawn_swing(s, (lat, lon));
        }
        let mut windows = vec![whole];
        for (a, b) in months(&ds) {
            let w = window(&ds[a..b], cap, temp);
            if w.days >= 20 {
                windows.push(w);
            }
        }
        if ds.len() > 60 {
            windows.push(window(&ds[ds.len() - 30..], cap, temp));
        }
        // A rig that runs on some days only, seen on its days alone, from two weeks of them (a
        // heater rig in a mild winter runs a fortnight or three). A site whose raised days
        // keep a week (a factory's extra shifts) is left to the other windows: a rig keeps none.
        if let Some(raised) = crate::features::raised_days(&ds, self.cfg.min_kw, 14) {
            let w = window(&raised, cap, temp);
            if w.weekend_weekday.ln().abs() <= 1.3f64.ln() {
                windows.push(w);
            }
        }
        let daily: Vec<f64> = ds
            .iter()
            .map(|d| if d.coverage >= 0.5 { d.kwh } else { f64::NAN })
            .collect();
        // How much the night's noise grew from the lower level's days to the higher's, per kW
        // the night level grew, when it grew by `least_kw` at least.
        let min_kw = self.cfg.min_kw;
        let night_noise = |low: &[Day], high: &[Day], least_kw: f64| {
            let (low, high) = (window(low, cap, temp), window(high, cap, temp));
            let noise = |w: &Features| w.night_jitter * w.night_kw;
            let added = high.night_kw - low.night_kw;
            if added >= least_kw.max(0.3 * min_kw) {
                (noise(&high) - noise(&low)).max(0.0) / added
            } else {
                f64::NAN
            }
        };
        // The largest step against everything before it (the site as it was); a smaller one,
        // weighed when the largest is the season's, against the level it rose from (everything
        // before it would mix in the season's own nights). The final level (after the last
        // step of a staircase) against the level before the first. Only where the nights
        // carried half the step or more: a machine lifts them by its draw (a night-only rig by
        // more), and a step the nights hardly felt says nothing by how quiet they stayed (one-
        // shift factories whose days rose after the new year, their nights by 0.3 kW of 13.6,
        // weighed as a quiet machine's step, 0.3; aerators and boilers to 0.5; session 26).
        let settled = |o: &Onset| &ds[o.settled..(o.settled + o.days).min(ds.len())];
        let step_noise = |i: usize, o: &Onset| {
            night_noise(
                &ds[if i == 0 { 0 } else { o.from }..o.at],
                settled(o),
                0.5 * o.step_kw(),
            )
        };
        // On daily readings there are no nights to hear a step by: how much the day-to-day
        // movement of the energy grew at it, per kWh a day the step added (a machine adds its
        // draw and nothing that moves; a site's own steps, its pumps, its aerators' units by the
        // weather, move as they rise). Kept apart from the nights' measure, which the score
        // reads: this one only lets a smaller step be weighed when the largest is the season's.
        let daily_readings = s.step >= 86_400;
        let sd = |a: usize, b: usize| {
            crate::changepoint::noise_variance(daily.get(a..b).unwrap_or_default()).sqrt()
        };
        // How much the days' movement grew from the lower level to the higher, per kWh a day.
        let moved = |low: f64, high: f64, added: f64| {
            let grew = high - low;
            if added > 0.0 && grew.is_finite() {
                grew.max(0.0) / added
            } else {
                f64::NAN
            }
        };
        let day_noise = |o: &Onset| {
            moved(
                sd(o.from, o.at),
                sd(o.settled, (o.settled + o.days).min(daily.len())),
                o.after - o.before,
            )
        };
        let onsets: Vec<Up> = onsets(&daily, self.cfg.onset_days, self.cfg.min_kw)
            .into_iter()
            .take(ONSET_CANDIDATES)
            .enumerate()
            .map(|(i, o)| {
                // The share of the step the weather explains, once, for the small step's test
                // and for the score (`None` where it cannot be read).
                let weather = || {
                    temp.and_then(|t| {
                        weather_share(settled(&o), &ds[o.from..o.at], o.after - o.before, t)
                    })
                };
                // A step too small beside the site to count at all needs no noise measured;
                // a small one, only where it can be a machine inside a business.
                let (counts, weather) = if o.after >= STEP_RISE * o.before {
                    (true, weather())
                } else if o.after >= SMALL_STEP_RISE * o.before && i == 0 && commercial {
                    let w = weather();
                    let machine =
                        small_step_of_a_machine(&ds[..o.at], settled(&o), w.unwrap_or(0.0));
                    (machine, w)
                } else {
                    (false, None)
                };
                if !counts {
                    return Up {
                        step: o,
                        day: ds[o.at].day,
                        night_noise: f64::NAN,
                        day_noise: f64::NAN,
                        weather_share: None,
                    };
                }
                let night = step_noise(i, &o);
                // Days only where there are no hours: on hourly readings a step that left
                // the nights where they were is no machine that runs around the clock.
                let day = if daily_readings {
                    day_noise(&o)
                } else {
                    f64::NAN
                };
                Up {
                    step: o,
                    day: ds[o.at].day,
                    night_noise: night,
                    day_noise: day,
                    weather_share: weather,
                }
            })
            .collect();
        // What stopped against what it left.
        let departures: Vec<Down> = departures(&daily, self.cfg.onset_days, self.cfg.min_kw)
            .into_iter()
            .take(ONSET_CANDIDATES)
            .map(|step| {
                let day = ds.get(step.at).map_or(0, |x| x.day);
                let (running, left) = (
                    &ds[step.running_from..step.running_until],
                    &ds[step.at..step.left_until],
                );
                // Measured only for a step that could count: at least 30 % and half a machine
                // off, run for two weeks and gone for two (a cold spell's end lowers a
                // saturated boiler for a week, then the cold comes back; and two weeks on
                // either side are what the weather is judged by). Windows over half a year
                // each, measured for every step, were a fifth of a scan.
                let weighed = step.running >= STEP_RISE * step.left
                    && step.step_kw() > 0.5 * self.cfg.min_kw
                    && running.len() >= 2 * self.cfg.onset_days
                    && left.len() >= 2 * self.cfg.onset_days;
                if !weighed {
                    return Down {
                        step,
                        day,
                        night_noise: f64::NAN,
                        ran_cv: f64::NAN,
                        weather_share: 0.0,
                    };
                }
                Down {
                    step,
                    day,
                    night_noise: night_noise(left, running, 0.0),
                    ran_cv: window(running, cap, temp).daily_cv,
                    weather_share: temp
                        .and_then(|t| weather_share(running, left, step.running - step.left, t))
                        .unwrap_or(0.0),
                }
            })
            .collect();
        let from = ds.len().saturating_sub(RECENT_DAYS);
        let recent = DailyKwh {
            start: ds.get(from).map(|d| format_day(d.day)).unwrap_or_default(),
            values: daily[from..]
                .iter()
                .map(|v| v.is_finite().then(|| ((*v * 10.0).round() / 10.0) as f32))
                .collect(),
        };
        self.profiles.push(Profile {
            meter_id: s.meter_id.clone(),
            customer,
            windows,
            onsets,
            departures,
            quality: s.report.clone(),
            recent,
        });
    }

    /// Forgets the last `n` meters added (see [`crate::read::SeriesSink`]).
    pub fn forget(&mut self, n: usize) {
        self.profiles
            .truncate(self.profiles.len().saturating_sub(n));
    }

    /// What reading found wrong in the meters added, summed.
    pub fn quality(&self) -> SeriesReport {
        let mut q = SeriesReport::default();
        for p in &self.profiles {
            q.merge(&p.quality);
        }
        q
    }

    /// Scores every meter, most suspicious first.
    pub fn finish(self) -> Vec<Suspect> {
        // Class and area baselines: monthly energy (for percentiles) and the usual floor.
        let mut by_class: HashMap<TariffClass, Vec<f64>> = HashMap::new();
        let mut by_class_area: HashMap<(TariffClass, String), Vec<f64>> = HashMap::new();
        let mut floors: HashMap<TariffClass, Vec<f64>> = HashMap::new();
        let mut jitters: HashMap<TariffClass, Vec<f64>> = HashMap::new();
        // Each meter's usual day-to-day variation in a month (the median over its monthly
        // windows): on daily readings the only steadiness there is, judged against the class's.
        let mut day_moves: HashMap<TariffClass, Vec<f64>> = HashMap::new();
        // The same, by the week the meter keeps (its weekend over weekday ratio, in steps of a
        // tenth in logarithm): a 24-hour shop's days are judged against meters that keep its
        // week, not against a class made mostly of shops and offices that close on Sundays.
        let mut day_moves_by_week: HashMap<(TariffClass, i64), Vec<f64>> = HashMap::new();
        // The days the class's meters stepped up on, and how many meters the class has: a step
        // that many of them share is the season's or the calendar's (`common_step`).
        let mut step_days: HashMap<TariffClass, Vec<i64>> = HashMap::new();
        // And the days they stepped down on: a class that stops together ends a season.
        let mut down_days: HashMap<TariffClass, Vec<i64>> = HashMap::new();
        let mut class_sizes: HashMap<TariffClass, usize> = HashMap::new();
        for p in &self.profiles {
            let class = p
                .customer
                .as_ref()
                .map_or(TariffClass::Other, |c| c.tariff_class);
            let w = &p.windows[0];
            if w.monthly_kwh.is_finite() {
                by_class.entry(class).or_default().push(w.monthly_kwh);
                if let Some(a) = p.customer.as_ref().and_then(|c| c.area_id.clone()) {
                    by_class_area
                        .entry((class, a))
                        .or_default()
                        .push(w.monthly_kwh);
                }
            }
            if w.floor_kw.is_finite() {
                floors.entry(class).or_default().push(w.floor_kw);
            }
            if w.night_jitter.is_finite() {
                jitters.entry(class).or_default().push(w.night_jitter);
            }
            let monthly = crate::features::median(
                p.windows
                    .iter()
                    .skip(1)
                    .map(|w| w.daily_cv)
                    .filter(|x| x.is_finite())
                    .collect(),
            );
            if monthly.is_finite() {
                day_moves.entry(class).or_default().push(monthly);
                if let Some(b) = week_bin(w.weekend_weekday) {
                    day_moves_by_week
                        .entry((class, b))
                        .or_default()
                        .push(monthly);
                }
            }
            *class_sizes.entry(class).or_default() += 1;
            let mut days: Vec<i64> = p
                .onsets
                .iter()
                .filter(|u| u.step.after >= STEP_RISE * u.step.before)
                .map(|u| u.day)
                .collect();
            days.sort_unstable();
            days.dedup();
            step_days.entry(class).or_default().extend(days);
            let mut days: Vec<i64> = p
                .departures
                .iter()
                .filter(|d| d.step.running >= STEP_RISE * d.step.left)
                .map(|d| d.day)
                .collect();
            days.sort_unstable();
            days.dedup();
            down_days.entry(class).or_default().extend(days);
        }
        for v in step_days.values_mut().chain(down_days.values_mut()) {
            v.sort_unstable();
        }
        // Each week's peers: its own step and the two beside it, ten meters at least.
        let peers_day_cv: HashMap<(TariffClass, i64), f64> = day_moves_by_week
            .keys()
            .filter_map(|&(c, b)| {
                let mut v: Vec<f64> = (b - 1..=b + 1)
                    .filter_map(|k| day_moves_by_week.get(&(c, k)))
                    .flatten()
                    .copied()
                    .collect();
                (v.len() >= 10).then(|| ((c, b), crate::features::median(std::mem::take(&mut v))))
            })
            .collect();
        for v in by_class
            .values_mut()
            .chain(by_class_area.values_mut())
            .chain(floors.values_mut())
            .chain(jitters.values_mut())
            .chain(day_moves.values_mut())
        {
            v.sort_by(f64::total_cmp);
        }
        let percentile = |v: &Vec<f64>, x: f64| -> f64 {
            if v.len() < 10 {
                return f64::NAN;
            }
            v.partition_point(|y| *y < x) as f64 / v.len() as f64
        };
        let mut out: Vec<Suspect> = self
            .profiles
            .into_iter()
            .map(|p| {
                let class = p
                    .customer
                    .as_ref()
                    .map_or(TariffClass::Other, |c| c.tariff_class);
                let class_floor = floors
                    .get(&class)
                    .filter(|v| v.len() >= 10)
                    .map_or(0.2, |v| v[v.len() / 2]);
                let area = p.customer.as_ref().and_then(|c| c.area_id.clone());
                let pct = |w: &Features| {
                    let a = area
                        .clone()
                        .and_then(|a| by_class_area.get(&(class, a)))
                        .map_or(f64::NAN, |v| percentile(v, w.monthly_kwh));
                    if a.is_finite() {
                        a
                    } else {
                        by_class
                            .get(&class)
                            .map_or(f64::NAN, |v| percentile(v, w.monthly_kwh))
                    }
                };
                // A household's nights move about 15 % from hour to hour; below 10 meters
                // the class says too little and that figure stands in.
                let class_jitter = jitters
                    .get(&class)
                    .filter(|v| v.len() >= 10)
                    .map_or(0.15, |v| v[v.len() / 2]);
                // A month's daily energy moves a few per cent for most classes; below 10
                // meters the class says too little and that figure stands in.
                let class_day_cv = week_bin(p.windows[0].weekend_weekday)
                    .and_then(|b| peers_day_cv.get(&(class, b)).copied())
                    .unwrap_or_else(|| {
                        day_moves
                            .get(&class)
                            .filter(|v| v.len() >= 10)
                            .map_or(0.05, |v| v[v.len() / 2])
                    });
                // For each of its steps, the share of the class's other meters that stepped the
                // same way within a day of it.
                let others = class_sizes.get(&class).copied().unwrap_or(1).max(2) - 1;
                let shares = |days: Option<&Vec<i64>>, mine: &mut dyn Iterator<Item = i64>| {
                    let days = days.map_or(&[][..], Vec::as_slice);
                    mine.map(|day| {
                        let near = days.partition_point(|d| *d <= day + 1)
                            - days.partition_point(|d| *d < day - 1);
                        // Five others at least: a farm whose rigs stand behind several meters
                        // switches them on together, and in a small scan they are a share.
                        let shared = near.saturating_sub(1);
                        if shared >= COMMON_STEP_METERS {
                            shared as f64 / others as f64
                        } else {
                            0.0
                        }
                    })
                    .collect::<Vec<f64>>()
                };
                let common = Common {
                    up: shares(step_days.get(&class), &mut p.onsets.iter().map(|u| u.day)),
                    down: shares(
                        down_days.get(&class),
                        &mut p.departures.iter().map(|d| d.day),
                    ),
                };
                score_meter(
                    &self.cfg,
                    p,
                    class,
                    (class_floor, class_jitter, class_day_cv),
                    &common,
                    &pct,
                )
            })
            .collect();
        rank(&mut out);
        out
    }
}

/// One line of what the allow-list kept off, per category ([`removed_by_allow_list`]);
/// none when it kept nothing off.
pub fn allow_list_line(removed: &std::collections::BTreeMap<String, usize>) -> Option<String> {
    let parts: Vec<String> = removed.iter().map(|(k, n)| format!("{k} {n}")).collect();
    (!removed.is_empty()).then(|| {
        format!(
            "the allow-list kept {} alarm(s) off: {}",
            removed.values().sum::<usize>(),
            parts.join(", ")
        )
    })
}

/// How many alarms each register removed: meters at or above `threshold` that the allow-list
/// kept from being suspected, by the register's category (`unspecified` without one).
pub fn removed_by_allow_list(
    suspects: &[Suspect],
    register: &Register,
    threshold: f64,
) -> std::collections::BTreeMap<String, usize> {
    let mut out = std::collections::BTreeMap::new();
    for s in suspects.iter().filter(|s| s.score >= threshold) {
        if let Some(c) = register.get(&s.meter_id).filter(|c| c.allowed) {
            let k = c
                .allow_category
                .clone()
                .unwrap_or_else(|| "unspecified".into());
            *out.entry(k).or_default() += 1;
        }
    }
    out
}

/// Orders suspects by score (highest first, then by meter) and numbers their ranks from 1.
pub fn rank(out: &mut [Suspect]) {
    out.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then(a.meter_id.cmp(&b.meter_id))
    });
    for (i, s) in out.iter_mut().enumerate() {
        s.rank = i + 1;
    }
}

impl crate::read::SeriesSink for Scorer<'_> {
    fn take(&mut self, s: Series) {
        self.add(&s);
    }

    fn forget(&mut self, n: usize) {
        Scorer::forget(self, n);
    }
}

/// How much flatness on a class should count: flat loads are normal for some classes.
fn class_weight(c: TariffClass) -> f64 {
    match c {
        TariffClass::Residential | TariffClass::Agricultural | TariffClass::CleanHeating => 1.0,
        TariffClass::EvCharging => 0.9,
        TariffClass::Commercial | TariffClass::Other => 0.8,
        TariffClass::Industrial => 0.6,
        TariffClass::DataCentre => 0.3,
    }
}

struct Parts {
    flat: f64,
    night: f64,
    steady: f64,
    weekly: f64,
    mode: f64,
    temp: f64,
    level: f64,
    class_level: f64,
    capacity: f64,
    night_plateau: f64,
    floor_path: f64,
    /// A floor under a charging station's sessions.
    under_charging: f64,
    /// A floor under a heating load.
    under_heat: f64,
    psu: f64,
    under_load: f64,
    quiet_night: f64,
    night_block: f64,
    /// A part of a business's load that does not move with the rest.
    constant: f64,
    unexplained: f64,
    /// The share of the window's level that is the class's season ([`class_season`]).
    in_season: f64,
    steady_floor_kw: f64,
    shape: f64,
    amount: f64,
    score: f64,
    percentile: f64,
}

/// What a meter's class and whole period say, beside the window being scored.
#[derive(Clone, Copy)]
struct Context<'w> {
    class: TariffClass,
    /// The class's usual floor, kW.
    class_floor: f64,
    /// The class's usual night jitter (median over its meters).
    class_jitter: f64,
    /// The class's usual day-to-day variation of daily energy within a month.
    class_day_cv: f64,
    /// The whole period's features.
    whole: &'w Features,
    /// The load the meter switches on and off with its class, on daily readings
    /// ([`class_season`]).
    season: Option<Season>,
}

fn parts(cfg: &ScoreConfig, w: &Features, ctx: Context<'_>, percentile: f64) -> Parts {
    let Context {
        class,
        class_floor,
        class_jitter,
        class_day_cv,
        whole,
        season,
    } = ctx;
    let sub_daily = w.load_factor.is_finite();
    let flat = if sub_daily {
        clamp01((w.load_factor - 0.75) / (0.95 - 0.75))
    } else {
        clamp01((0.15 - w.daily_cv) / (0.15 - 0.03))
    };
    // An exporting (solar) meter's midday is its own generation, not its load.
    let night = if sub_daily && !w.exports {
        clamp01(1.0 - w.night_midday.ln().abs() / 2.5f64.ln())
    } else {
        f64::NAN
    };
    let steady = clamp01((0.20 - w.daily_cv) / (0.20 - 0.03));
    // A rig's power supply holds its draw within a percent or two from one reading to the next
    // (mean step ≈ 1.1 % for 1 % jitter, 2.3 % for a GPU rig's 2 %); motors, compressors,
    // ballasts and thermostats swing more (4 % jitter: 4.5 %). Full at 2.4 %, none from 3.6 %. Unknown (daily data) counts as steady: daily data cannot tell.
    let jitter = w.night_jitter;
    let psu = if jitter.is_finite() {
        clamp01((0.036 - jitter) / 0.012)
    } else if !sub_daily && w.daily_cv.is_finite() {
        // Daily readings: the hours are gone, and what is left of the steadiness is the day's
        // energy against the class's own day-to-day movement (a machine's day moves half a
        // per cent; a farm's pumping season, a shop's or a station's days move as their
        // class's do). Full at a third of the class's movement, none at two thirds.
        clamp01((0.67 - w.daily_cv / class_day_cv.max(0.005)) / 0.33)
    } else {
        1.0
    };
    // Under a living load (a household, a shop) a machine shows as a night floor far steadier
    // than the class's nights: the share of the night level that does not move, from the
    // night's jitter between a machine's (1.7 %) and the class's.
    let steady_share = if jitter.is_finite() {
        clamp01(1.0 - (jitter - 0.017) / (class_jitter - 0.017).max(0.02))
    } else {
        0.0
    };
    // And the day on top of it moves more than the night: a living load, not one steady
    // shaped load (a base station) nor one noisy flat one (an aerator, a compressor). By the
    // means of the steps: in a home or on a farm the few big ones (a kettle, a pump switching)
    // are the life on top of a machine, and their medians miss it.
    let living = if w.jitter.is_finite() && jitter > 0.0 {
        clamp01((w.jitter / jitter - 1.2) / 0.15) * clamp01((0.9 - w.load_factor) / 0.1)
    } else {
        0.0
    };
    // Cooling, refrigeration, heating and aeration follow the temperature while they are on;
    // a rig does not (a rig switched on for the hydro season is blind to it while on). Homes
    // heat and cool too, on top of whatever else they run: for them this explains nothing.
    let explained = if class == TariffClass::Residential || !whole.on_floor_temp_corr.is_finite() {
        0.0
    } else {
        // Both clearly (the correlation) and by much (the amplitude): a cold store's floor
        // swings with the weather, a rig in front of one keeps most of the floor still.
        clamp01((whole.on_floor_temp_corr.abs() - 0.35) / 0.25)
            * clamp01((whole.on_floor_temp_amp - 0.08) / 0.12)
            // and nothing much is left of the floor where temperature asks least of it: a rig
            // beside a storage heater stays when the heating stops.
            * clamp01((0.6 - (whole.on_floor_mild_kw - class_floor).max(0.0) / whole.on_floor_kw) / 0.3)
    };
    // On daily readings, the part of this window's level that the meter switches on and off
    // with its class is the class's season, not a machine's: a boiler on the heating tariff
    // runs flat out through a cold January, one reading a day as steady as a rig's, and it
    // came on on the first day of the heating season and goes off on the last, with its class
    // (docs/FACTS.md §P8: the city sets the heating season's dates). The hours that would show its
    // thermostat are gone. What stays on outside the season is left to the other evidence.
    let in_season = match season {
        // Only a window that meets the season: one outside it may hold another load (a rig
        // that runs in summer), which the season does not explain. Within one that meets it,
        // what the load adds over the level outside the season is the season's share, however
        // much of the window the season fills (a month half inside it, the days raised above
        // the meter's base, which are the season's and a summer rig's together).
        Some(sn) if w.mean_kw > 0.0 && sn.meets(w.first_day, w.last_day) => {
            clamp01(sn.kw.min(w.mean_kw - sn.outside_kw) / w.mean_kw)
        }
        _ => 0.0,
    };
    let unexplained = (1.0 - explained).min(1.0 - in_season);
    // A rig's floor stays put from day to day.
    let floor_holds = if w.floor_spread.is_finite() {
        clamp01((0.4 - w.floor_spread) / 0.2)
    } else {
        0.0
    };
    let weekly = clamp01(1.0 - w.weekend_weekday.ln().abs() / 1.4f64.ln());
    let mode = if sub_daily {
        clamp01((w.mode_share - 0.3) / (0.8 - 0.3))
    } else {
        f64::NAN
    };
    let temp = if w.temp_corr.is_finite() {
        clamp01((0.5 - w.temp_corr.abs()) / 0.4)
    } else {
        f64::NAN
    };
    let weighted: Vec<(f64, f64)> = [
        (flat, 0.3),
        (night, 0.2),
        (steady, 0.2),
        (weekly, 0.1),
        (mode, 0.2),
        (temp, 0.1),
    ]
    .into_iter()
    .filter(|(v, _)| v.is_finite())
    .collect();
    let wsum: f64 = weighted.iter().map(|(_, w)| w).sum();
    let shape = weighted.iter().map(|(v, w)| v * w).sum::<f64>() / wsum.max(1e-9);
    let extra_floor = (w.floor_kw - class_floor).max(0.0);
    let level = clamp01((extra_floor - 0.3 * cfg.min_kw) / (2.0 * cfg.min_kw - 0.3 * cfg.min_kw));
    let class_level = if percentile.is_finite() {
        clamp01((percentile - 0.90) / (0.99 - 0.90))
    } else {
        0.0
    };
    let capacity = clamp01((w.capacity_use - 0.2) / (0.6 - 0.2));
    let amount = level
        .max(0.8 * class_level * level.max(0.5))
        .max(0.8 * capacity);
    // Night storage heating also runs only at night, but follows the cold: when the weather is
    // known, a temperature-driven plateau does not count.
    let temp_gate = if temp.is_finite() { temp } else { 1.0 };
    // The whole night, not only its edges: lamps topping up short days burn before dawn and
    // after dusk, so the night's lowest reading stays low.
    // Steady and weekless, by the whole day's energy, or by the night's block alone: a home's
    // evenings and weekends move with its people, a rig's nights do not (issue 18: night-only
    // rigs in homes whose weekends use a tenth more).
    // Homes only: an aerator's pond also gets every unit at night and one by day, night after
    // night, weekends too, and its class's days do not move with people.
    let block_kept = if class == TariffClass::Residential
        && w.night_block_spread.is_finite()
        && w.night_block_weekly.is_finite()
    {
        clamp01((0.3 - w.night_block_spread) / 0.15)
            * clamp01(1.0 - w.night_block_weekly.ln().abs() / 1.4f64.ln())
    } else {
        0.0
    };
    // On the clean-heating tariff the site's own nights are its storage heaters, and what its
    // floor does with the weather says so over the year; in a month when the nights do not
    // follow the temperature (no heating: summer) a steady night block is not the heaters.
    let night_unexplained = if class == TariffClass::CleanHeating {
        unexplained.max(temp_gate)
    } else {
        unexplained
    };
    // In a home the plateau is the night's: whether the nights follow the cold says whether
    // they are storage heaters, whatever the day does (issue 18: in a winter quarter a home
    // heats by day and its days' energy follows the cold, while the rig under its nights
    // holds; over the year summer's cooling hid that). Both clearly and by much, as for a
    // floor. Homes only: an aerated pond's nights hold all summer too, every unit on, while
    // its days follow the heat, and the day is what tells it (23 ponds flagged on sixteen
    // tuning regions when this read every class).
    let night_gate = if class == TariffClass::Residential
        && w.night_temp_corr.is_finite()
        && w.night_temp_amp.is_finite()
    {
        1.0 - clamp01((w.night_temp_corr.abs() - 0.35) / 0.25)
            * clamp01((w.night_temp_amp - 0.08) / 0.12)
    } else {
        temp_gate
    };
    // On a farm's tariff the plateau must be as steady as a power supply in itself: the
    // night's hour-to-hour movement per kW of plateau, as for a night block behind a business
    // (a rig's 1-2 %). The aerators of a pond in high summer run more units at night than by
    // day, a plateau whose motors move 20 % of it: over a year their floor follows the water's
    // warmth, but within a summer quarter it does not, and 11 ponds of eight tuning regions
    // were flagged. Farms only: elsewhere a rig's plateau sits on nights that move with the
    // site (a data room's servers, a home's heating), and the same test cost two rigs.
    let plateau_quiet = if class == TariffClass::Agricultural
        && w.night_floor_excess_kw > 0.0
        && w.night_jitter.is_finite()
    {
        clamp01((0.09 - w.night_jitter * w.night_kw / w.night_floor_excess_kw) / 0.04)
    } else {
        1.0
    };
    let night_plateau = if sub_daily {
        (steady * weekly).max(block_kept)
            * night_gate
            * night_unexplained
            * plateau_quiet
            * clamp01((steady_share - 0.3) / 0.3)
            * clamp01((w.night_floor_excess_kw - 0.5 * cfg.min_kw) / (2.0 * cfg.min_kw))
    } else {
        0.0
    };
    // A machine under a living load: a steady floor well above the class's, that holds from
    // day to day, with the class's own rhythm on top.
    let steady_floor_kw = steady_share * w.floor_kw;
    // A machine runs by day as by night: the nights are not far above the day's floor (aerators
    // run every unit at night and one by day: two regimes, not one machine).
    // An exporting meter's midday floor is the load less its panels' output: its nights are
    // above it whatever runs, so the comparison says nothing there.
    let round_the_clock = if w.exports {
        1.0
    } else if w.floor_kw > 0.0 {
        clamp01((0.25 - w.night_floor_excess_kw / w.floor_kw) / 0.25)
    } else {
        0.0
    };
    let business = class.business();
    // Lamps are as steady as a rig's power supply, but they follow the dark: a façade lit from
    // dusk to dawn is on at dawn in winter and off in summer, a machine draws the same all
    // year (issue 18: the nights of a lit shop are a rig's nights). A home's dawn moves with
    // the season for its own reasons (people rise with the light): there it says nothing.
    let unlit = if whole.dawn_swing.is_finite() {
        1.0 - clamp01((whole.dawn_swing - 0.2) / 0.15)
    } else {
        1.0
    };
    // The load on top of a machine lives: what runs above the floor changes from one week to
    // the next. A load that repeats itself week after week (a standard load profile, which
    // repeats one day per month and day type; readings a meter data system estimated by
    // copying days) is no living load over a machine, however steady its floor (issue 18:
    // BDEW's agricultural profile L25, 0.000). Full life from 1 %, none below 0.2 %: the
    // rigs this path finds on the tuning regions sit on loads changing 1.6 % and more. (Lamps
    // and heaters on timers repeat their weeks to 0.3–0.9 %, but this only takes evidence
    // away, and this path never flagged them.)
    let lives = if w.week_change.is_finite() {
        clamp01((w.week_change - 0.002) / 0.008)
    } else {
        1.0
    };
    let under_load = clamp01((steady_share - 0.4) / 0.3)
        * living
        * round_the_clock
        * floor_holds
        * unexplained
        * clamp01((steady_floor_kw - class_floor - 0.05 * cfg.min_kw) / (0.4 * cfg.min_kw))
        // and carries a real share of the energy, not a charger's standby.
        * clamp01((steady_floor_kw / w.mean_kw - 0.15) / 0.15)
        * if business { unlit } else { 1.0 }
        // (a night as steady as a power supply is a machine's in any copy of it)
        * lives.max(psu);
    // A machine inside a business: a factory or shop whose nights are far steadier than its
    // class's nights and than its own days (the day's work moves, the night's rig does not),
    // with at least a machine's worth of that steadiness, night after night. A three-shift
    // factory's nights are as steady, but so are its days; a cold store's follow the weather.
    // The class floor is not subtracted here, as it is for a machine under a household's
    // load: businesses differ in size far more than the floor a rig adds.
    // The day against the night here by the medians of their steps: by the means, the few
    // steps of a schedule (a three-shift factory's changeovers, six a day of a third and more)
    // passed for a day that moves, and factories whose load moved alike by day and night were
    // flagged for steady nights (issue 18, the varied mix: 37 three-shift factories on eight
    // regions, 5 after).
    let day_moves = if w.day_step.is_finite() && w.night_step > 0.0 {
        w.day_step / w.night_step
    } else {
        f64::NAN
    };
    // A site that works its nights as its days (nights drawing what the midday draws, at a
    // continuous process's load factor) has a night shift, not a floor under its day: the
    // night shift's machines move less than the day's comings and goings, and that
    // steadiness is the shift's (issue 18, the varied mix: the only legitimate sites the year
    // flagged on sixteen tuning regions were three three-shift factories, nights 1.05 of
    // the midday at a load factor of 0.83, their nights moving 6 % hour to hour and their
    // days 12 %; every rig this path finds sits on a day that draws more than its night,
    // or at a load factor under 0.79).
    let night_shift =
        clamp01((w.night_midday - 0.9) / 0.1) * clamp01((w.load_factor - 0.75) / 0.05);
    let quiet_night = if business && day_moves.is_finite() {
        clamp01((steady_share - 0.35) / 0.25)
            * clamp01((day_moves - 1.5) / 0.5)
            * round_the_clock
            * floor_holds
            * unexplained
            * unlit
            * (1.0 - night_shift)
            * clamp01((steady_floor_kw - cfg.min_kw) / cfg.min_kw)
    } else {
        0.0
    };
    // A rig on the night tariff behind a business: every night, weekends too, the hours from
    // midnight to dawn carry a block far above the site's own load either side of them (before
    // it opens, after it closes), the same from night to night and as steady as a power supply.
    // Lamps on a dusk-to-dawn switch make such a block too, and follow the dark (`unlit`).
    let night_block = if (business || class == TariffClass::Agricultural)
        && sub_daily
        && w.night_block_kw > 0.0
    {
        let noise = w.night_jitter * w.night_kw / w.night_block_kw;
        clamp01((w.night_block_kw - 0.5 * cfg.min_kw) / cfg.min_kw)
            * clamp01((0.3 - w.night_block_spread) / 0.15)
            * clamp01(1.0 - w.night_block_weekly.ln().abs() / 1.2f64.ln())
            * clamp01((0.09 - noise) / 0.04)
            * unlit
            * temp_gate
            * unexplained
    } else {
        0.0
    };
    // A machine inside a business, told by how the load moves rather than by how steady the
    // night is: a site's own load moves in proportion to how much of it is on (busy hours move
    // more, in kW, than quiet ones), a rig holds its draw whatever the site does, so the part
    // that does not move with the rest is a machine's (`Features::constant_kw`, the smaller of
    // its estimates over odd and even days). A rig of 2 kW in a shop of 15 kW is a third of
    // its nights; the sites' own estimates stay under a sixth of theirs (issue 18: rigs inside
    // shops and factories whose nights move as much as a rig draws). Lamps on a dusk-to-dawn
    // switch are as constant while they burn: the path asks that the night's dawn hour not
    // follow the season, and that the floor hold from day to day, as a lamp's does not.
    let constant_share = if w.night_kw > 0.0 {
        w.constant_kw / w.night_kw
    } else {
        f64::NAN
    };
    let dark_blind = if whole.dawn_swing.is_finite() {
        clamp01((0.2 - whole.dawn_swing) / 0.1)
    } else {
        1.0
    };
    let constant = if business && w.constant_kw.is_finite() && constant_share.is_finite() {
        // Full from 1.2 times the smallest rig asked for: the estimate of a 1.4 kW rig behind
        // a counter comes out a little under its draw (1.3 kW), and no business's own
        // constant part comes near (none of them scores within 0.15 of the threshold).
        clamp01((w.constant_kw - 0.7 * cfg.min_kw) / (0.5 * cfg.min_kw))
            * clamp01((constant_share - 0.15) / 0.1)
            * floor_holds
            * unexplained
            * dark_blind
    } else {
        0.0
    };
    // A business with rigs in the back: its day still has a shape, but its floor carries most of
    // its energy and is far above what its class leaves on overnight.
    let floor_share = if w.mean_kw > 0.0 {
        w.floor_kw / w.mean_kw
    } else {
        0.0
    };
    // Hourly or finer only: a day's one reading is its mean, so on daily readings every meter's
    // "floor" would carry all of its energy (the path scored the same there without it: the
    // daily flags all come by the steadiness of their days, docs/DETECTION.md).
    let floor_path = if sub_daily { 1.0 } else { 0.0 }
        * clamp01((floor_share - 0.6) / 0.3)
        * level
        * steady.max(0.5)
        * temp_gate
        * unexplained
        * psu.max(clamp01((steady_share - 0.4) / 0.3) * living);
    // A charging station's own load is its sessions; between them it draws its chargers'
    // standby, a few per cent of its mean. A rig behind the station's meter is a floor under
    // the sessions, far above the class's floor and holding from day to day, however much the
    // sessions on top of it move (docs/FACTS.md §P1: rigs found in an EV charging station;
    // issue 18: such rigs scored nothing, every steadiness test read the sessions' bursts).
    // Full from 3 kW above the class's floor (a machine's draw) carrying an eighth of the
    // energy; nothing under 1 kW above it or under 6 % of the energy, where standby sits.
    // Hourly or finer only: a day's single reading is its mean, which would read as a floor.
    let under_charging = if class == TariffClass::EvCharging && sub_daily {
        clamp01((w.floor_kw - class_floor - cfg.min_kw) / (2.0 * cfg.min_kw))
            * clamp01((floor_share - 0.06) / 0.06)
            * floor_holds
            * unexplained
    } else {
        0.0
    };
    // A machine under a heating load: in the cold months a home or a building that heats
    // with electricity draws by the weather, and every test of the load's shape or steadiness
    // reads the heating (its days follow the cold, its nights charge storage heaters). Its
    // floor, the day's lowest hour, does not heat: a home's is its fridge and standby, a
    // boiler's its thermostat's low. A rig under it is a floor far above the class's that
    // holds within a few per cent from day to day while the energy above it follows the
    // temperature, and that does not itself follow the weather over the period (issue 18: on
    // eight tuning regions' winter quarter 12 of the 13 rigs in homes with storage heaters were
    // missed). Homes and the heating tariff only: an office's data room is such a
    // floor under the office's heating and cooling, a legitimate one (172 of 239 office data
    // rooms of the tuning regions flagged over the year when every class was read), and so
    // are a base station's radios under its cooling. Hourly or finer only: a day's one
    // reading has no floor.
    let heated = matches!(class, TariffClass::Residential | TariffClass::CleanHeating);
    let under_heat = if heated && sub_daily && w.temp_corr.is_finite() && w.floor_spread.is_finite()
    {
        clamp01((w.temp_corr.abs() - 0.5) / 0.3)
            * clamp01((0.05 - w.floor_spread) / 0.03)
            * clamp01((w.floor_kw - class_floor - 0.5 * cfg.min_kw) / cfg.min_kw)
            * clamp01((floor_share - 0.2) / 0.2)
            * unexplained
    } else {
        0.0
    };
    let base = (shape * amount * psu * unexplained)
        .max(0.9 * night_plateau)
        .max(0.8 * floor_path);
    // Flatness is normal for some classes and weighs less there; a floor steadier than the
    // class's own nights is evidence in any class.
    let score = (base * class_weight(class))
        .max(0.9 * under_load)
        .max(0.9 * quiet_night)
        .max(0.9 * night_block)
        .max(0.9 * constant)
        .max(0.9 * under_charging)
        .max(0.9 * under_heat);
    Parts {
        flat,
        night,
        steady,
        weekly,
        mode,
        temp,
        level,
        class_level,
        capacity,
        night_plateau,
        floor_path,
        under_charging,
        under_heat,
        psu,
        under_load,
        quiet_night,
        night_block,
        constant,
        unexplained,
        in_season,
        steady_floor_kw,
        shape,
        amount,
        score,
        percentile,
    }
}

/// The load a meter switches on and off with its class, and the level it keeps outside that
/// season, kW. A season the class keeps (a heating tariff's boilers on the first day of heating
/// and off on the last, ponds' aerators for the culture season) comes and goes on the same
/// days for many of its meters; a machine arrives and leaves on days of its own. So: a step up
/// and a step down, each the class's (`common_weight` at least a half), of the same load
/// (within a half of each other), with no step of the meter's own (not the class's) of half
/// that load or more inside the season they bound: from the step up to the step down, or,
/// where the readings start inside a season (a year from 1 January holds the end of one
/// winter and the start of the next), before the step down and after the step up. A miner
/// who comes with one season's start and leaves with another's is a step of its own inside:
/// a farm's hydro-season rig, on in May, off with the aerators at the end of October, inside
/// the season its pumps' April step begins. None when no such pair is found.
fn class_season(p: &Profile, common: &Common) -> Option<Season> {
    let shared = |c: Option<&f64>| common_weight(c.copied().unwrap_or(0.0)) >= 0.5;
    // Every step of the meter's own: its day (index) and size, kW.
    let own: Vec<(usize, f64)> = p
        .onsets
        .iter()
        .enumerate()
        .filter(|(i, _)| !shared(common.up.get(*i)))
        .map(|(_, u)| (u.step.at, u.step.step_kw()))
        .chain(
            p.departures
                .iter()
                .enumerate()
                .filter(|(i, _)| !shared(common.down.get(*i)))
                .map(|(_, d)| (d.step.at, d.step.step_kw())),
        )
        .collect();
    let ups = p
        .onsets
        .iter()
        .enumerate()
        .filter(|(i, u)| u.step.after >= STEP_RISE * u.step.before && shared(common.up.get(*i)))
        .map(|(_, u)| (&u.step, u.day));
    let downs = || {
        p.departures
            .iter()
            .enumerate()
            .filter(|(i, d)| {
                d.step.running >= STEP_RISE * d.step.left && shared(common.down.get(*i))
            })
            .map(|(_, d)| (&d.step, d.day))
    };
    ups.flat_map(|o| downs().map(move |d| (o, d)))
        .filter_map(|((o, on), (d, off))| {
            let (small, large) = (o.step_kw().min(d.step_kw()), o.step_kw().max(d.step_kw()));
            let inside = |at: usize| {
                if o.at < d.at {
                    o.at < at && at < d.at
                } else {
                    at < d.at || at > o.at
                }
            };
            let alone = own.iter().all(|&(at, kw)| !inside(at) || kw < 0.5 * small);
            let season = Season {
                kw: small,
                outside_kw: (o.before / 24.0).max(d.left / 24.0),
                on,
                off,
            };
            (small > 0.0 && large <= 1.5 * small && alone && !held_as_machines(p, &season))
                .then_some(season)
        })
        .max_by(|a, b| a.kw.total_cmp(&b.kw))
}

/// Whether the meter held its level through `season` as machines do: a season's load moves
/// with what drives it (the cold, the water's warmth, the day's length: a greenhouse's lamps
/// hold from day to day but burn longer as the days shorten), machines draw the same whenever
/// they run. From the windows wholly inside the season (its months, its last 30 days), two at
/// least: their levels within 5 % of each other, their days moving under 2 % (the median
/// window). Rigs run as heaters through exactly the heating season, on the heating tariff,
/// switch on and off with the boilers and are no boiler. The heating tariff only: a pond
/// aerated around the clock holds every unit on through its culture season (a third of the
/// ponds of the tuning regions), and its level says nothing there.
fn held_as_machines(p: &Profile, season: &Season) -> bool {
    if p.customer.as_ref().map(|c| c.tariff_class) != Some(TariffClass::CleanHeating) {
        return false;
    }
    let inside: Vec<&Features> = p
        .windows
        .iter()
        .skip(1)
        .filter(|w| season.holds(w.first_day) && season.holds(w.last_day))
        .collect();
    let levels = || inside.iter().map(|w| w.mean_kw);
    let (lo, hi) = levels().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), m| {
        (lo.min(m), hi.max(m))
    });
    let level = crate::features::mean(levels());
    let moves = crate::features::median(inside.iter().map(|w| w.daily_cv).collect());
    inside.len() >= 2 && level > 0.0 && (hi - lo) / level < 0.05 && moves < 0.02
}

/// A load a meter keeps on through its class's season ([`class_season`]).
#[derive(Clone, Copy, Debug)]
struct Season {
    /// The load, kW.
    kw: f64,
    /// The level the meter keeps outside the season, kW.
    outside_kw: f64,
    /// The season's first day (local).
    on: i64,
    /// The first day after it (local): before `on` when the readings start inside a season.
    off: i64,
}

impl Season {
    /// Whether the load is on on `day`.
    fn holds(&self, day: i64) -> bool {
        if self.on < self.off {
            (self.on..self.off).contains(&day)
        } else {
            day < self.off || day >= self.on
        }
    }

    /// Whether the load is on on any day from `first` to `last`.
    fn meets(&self, first: i64, last: i64) -> bool {
        first <= last
            && if self.on < self.off {
                first < self.off && last >= self.on
            } else {
                first < self.off || last >= self.on
            }
    }
}

/// Of `n` candidate steps, the one whose `part` is largest (the first of equals, the largest
/// step coming first) and its part; the first step and 0 when there is none.
fn strongest(n: usize, part: &dyn Fn(usize) -> f64) -> (usize, f64) {
    let i = (0..n)
        .max_by(|a, b| part(*a).total_cmp(&part(*b)).then(b.cmp(a)))
        .unwrap_or(0);
    (i, part(i))
}

fn score_meter(
    cfg: &ScoreConfig,
    p: Profile,
    class: TariffClass,
    (class_floor, class_jitter, class_day_cv): (f64, f64, f64),
    common: &Common,
    pct: &dyn Fn(&Features) -> f64,
) -> Suspect {
    let common_steps = &common.up[..];
    let daily_readings = !p.windows[0].load_factor.is_finite();
    let ctx = Context {
        class,
        class_floor,
        class_jitter,
        class_day_cv,
        whole: &p.windows[0],
        season: if daily_readings {
            class_season(&p, common)
        } else {
            None
        },
    };
    // The most suspicious window speaks for the meter: a mine that started in June shows in
    // June's features, not in the year's.
    let (best, bp) = p
        .windows
        .iter()
        .map(|w| (w, parts(cfg, w, ctx, pct(w))))
        .max_by(|a, b| a.1.score.total_cmp(&b.1.score))
        .unwrap_or((&p.windows[0], parts(cfg, &p.windows[0], ctx, f64::NAN)));
    // A step whose added load brought almost no noise of its own (a machine's mean step is
    // about 1 % of its draw) is a machine switched on, whatever the site around it does.
    let quiet = |noise: f64| {
        if noise.is_finite() {
            clamp01((0.06 - noise) / 0.03)
        } else {
            0.0
        }
    };
    // A step counts when it adds real load (at least 30 % on top) and what follows looks like a
    // machine: flat, or a floor that carries the load. Of the meter's steps, the one that
    // counts most once the class's own are weighed down (`common_weight`):
    // the largest, unless it is the season's and a smaller step beside it is a machine's, as
    // quiet as a power supply (its nights move at most 3 % of what it added from hour to hour:
    // an ASIC's 1.1 %, a GPU rig's 2.3 %; an aerator's units, paddles in water, 4.5 %). A site's
    // own steps bring their noise. On daily readings, with no nights, the days' movement per
    // kWh a day added says the same, by the same bar.
    let part = |i: usize| -> f64 {
        let common = common_weight(common_steps.get(i).copied().unwrap_or(0.0));
        p.onsets
            .get(i)
            .filter(|u| {
                let (o, night, day) = (&u.step, u.night_noise, u.day_noise);
                (o.after >= STEP_RISE * o.before
                    && (i == 0 || night <= 0.03 || (night.is_nan() && day <= 0.03)))
                    // A small step was measured only where it could be a machine's
                    // (`small_step_of_a_machine`): it counts when as quiet as one.
                    || (o.after >= SMALL_STEP_RISE * o.before && night <= 0.03)
            })
            .map_or(0.0, |Up { step: o, .. }| {
                // And for as little as the weather leaves unexplained of the site: a cold
                // store's or a boiler's own steps are the weather's, even where one of them
                // does not follow it.
                let small = if o.after < STEP_RISE * o.before {
                    bp.unexplained
                } else {
                    1.0
                };
                clamp01((o.step_kw() - 0.5 * cfg.min_kw) / cfg.min_kw) * (1.0 - common) * small
            })
    };
    let (chosen, onset_part) = strongest(p.onsets.len(), &part);
    // The step that counted, if one did.
    let counted: Option<(Onset, i64)> = p
        .onsets
        .get(chosen)
        .filter(|_| onset_part > 0.0)
        .map(|u| (u.step, u.day));
    let step_noise = p.onsets.get(chosen).map_or(f64::NAN, |u| u.night_noise);
    let step_weather = p.onsets.get(chosen).and_then(|u| u.weather_share);
    // A larger step than the one counted, taken by the class at large: said when it weighed.
    let seasonal = p
        .onsets
        .iter()
        .zip(common_steps)
        .take(chosen.max(1))
        .find(|(_, c)| common_weight(**c) >= 0.5)
        .map(|(u, c)| (u.day, *c));
    // What the weather leaves unexplained of the step up counted, where it could be read.
    let step_unexplained = step_weather.map(|w| clamp01(1.0 - w));
    // How much a step counts, from how quiet it was (its noise per kW); `own`, what the
    // weather leaves unexplained of that step itself, where it was read (the step up's; a
    // step down's was tried in session 27 without gain).
    let step_weight = |noise: f64, own: Option<f64>| {
        let quiet_step = quiet(noise);
        let machine_like = 0.3
            + 0.7
                * bp.flat
                    .max(bp.floor_path)
                    .max(bp.night_plateau)
                    .max(bp.under_load)
                    .max(bp.psu * bp.steady)
                    .max(quiet_step);
        // Inside a shop, an office, a store or a factory, a step that lifted the nights by a
        // machine's draw with no noise of its own, that does not follow the weather, is a
        // machine switched on: the business's own steps (new fridges, longer hours, a second
        // line) bring their noise with them, or leave the nights where they were (`step_noise`
        // is measured only where the nights carried half the step). What the weather explains
        // is the site's (`unexplained`) or the step's own (`weather_share`: the slope of the
        // days on temperature on either side, times how much warmer the days after were),
        // whichever leaves more unexplained: a rig switched on in April comes with the spring,
        // and over the year the site's floor then follows the temperature as a cold store's
        // does, while on either side of the step it follows nothing (session 27). In a home
        // too: its own appliances cycle (a fridge, a heater on its thermostat, an oven), and a
        // step of kW that lifted the nights and brought no noise is a machine, a mining heater
        // through a cold spell among them; the weather that a home's heating follows is the
        // step's own share here (a home's whole year follows it anyway, `unexplained` is 1).
        // The same goes for whether the load follows the temperature (`temp`): a cold store's
        // or a cooled server room's days follow the heat all year, and a rig switched on in
        // one in July left them following it; the step itself, against the level it rose
        // from, is explained by the weather or it is not (session 28). Only a step up whose
        // weather was read says so: where the spans on either side were too short to read it
        // (a cold store's spring rise comes as steps a week apart), the site's answer stands.
        let silent_step = if matches!(class, TariffClass::Commercial | TariffClass::Industrial) {
            quiet_step
                * bp.temp.max(own.unwrap_or(0.0))
                * bp.unexplained.max(step_unexplained.unwrap_or(1.0))
        } else if class == TariffClass::Residential {
            quiet_step * clamp01(1.0 - step_weather.unwrap_or(0.0))
        } else {
            0.0
        };
        (0.5 * machine_like * class_weight(class)).max(0.9 * silent_step)
    };
    // A step down counts as a machine leaving only when it could count at all (`Down::night_noise`
    // is measured only then: large enough, run for two weeks and gone for two), what stopped
    // was as quiet as a power supply by the nights (hourly readings or finer: on daily
    // readings the days' movement let cold stores' and heating customers' seasons' ends pass,
    // 27 more false alarms on eight tuning regions), its days were as steady while it ran as a
    // machine's (a heating load that a warm spell turns down moves from day to day with the
    // weather: boilers on the heating tariff stepped down by 1.4-9.9 kW in a January thaw on
    // the tuning regions, their days moving a fifth and more), the weather does not explain
    // it, the site's floor does not follow the weather (a cold store's cooling season ends in
    // a step), and it is not the class's own season ending: the sites' own loads that stop
    // (aerators, pumps, cooling) take their noise away with them. None counts as the largest
    // regardless, as the largest step up does: a step down says less, for a site that sheds
    // load is no site that draws it.
    let down_part = |i: usize| -> f64 {
        let common = common_weight(common.down.get(i).copied().unwrap_or(0.0));
        p.departures
            .get(i)
            .filter(|d| d.night_noise <= 0.03)
            .map_or(0.0, |d| {
                clamp01((d.step.step_kw() - 0.5 * cfg.min_kw) / cfg.min_kw)
                    * clamp01((0.15 - d.ran_cv) / 0.05)
                    * (1.0 - clamp01(d.weather_share / 0.5))
                    * (1.0 - common)
                    * bp.unexplained
            })
    };
    let (gone, departure_part) = strongest(p.departures.len(), &down_part);
    let departed: Option<(Departure, i64)> = p
        .departures
        .get(gone)
        .filter(|_| departure_part > 0.0)
        .map(|d| (d.step, d.day));
    let down_noise = p.departures.get(gone).map_or(f64::NAN, |d| d.night_noise);
    // On daily readings a step has no nights to be heard by, and a cold store's cooling
    // season or a boiler's heating comes in as a step as flat, day after day, as a machine's:
    // where the weather explains the site's floor, it explains the step (a step down is
    // weighed the same way, `down_part`). On hourly readings the step's own noise tells them
    // apart; there a wet-season rig in a restaurant, whose floor rises with the summer, keeps
    // its step.
    let weather_step = if daily_readings { bp.unexplained } else { 1.0 };
    let (up, down) = (
        onset_part * step_weight(step_noise, step_unexplained) * weather_step,
        departure_part * step_weight(down_noise, None),
    );
    // A level that came and went makes both steps: one event, judged by its coming, which
    // is weighed against all the site was before it (a boiler's six weeks of cold came up and
    // went down by the same 3.5 kW on a tuning region; its going, against the thaw after it,
    // was as quiet as a machine's). The going speaks where the coming is not in the readings.
    let same_level = counted.zip(departed).is_some_and(|((o, _), (d, _))| {
        d.running_from < o.settled + o.days && o.settled < d.running_until
    });
    let departed = departed.filter(|_| !same_level);
    let down = if same_level { 0.0 } else { down };
    // Equipment in an air-conditioned room: in some month the site's days follow the heat as
    // closely as a thermostat's cooling does (r of a day's energy with its temperature at
    // least 0.95 over the month; full weight from 0.95, none below 0.85). A commercial site
    // whose constant load sits under such cooling is a server room's signature; its constant
    // load cannot tell servers from a rig, and a rig's farm is cooled by fans that do not
    // follow the heat. So the load's shape counts for less (a server room's 0.8 comes to
    // 0.48); a step that brought a machine in still counts in full, and so does a block that
    // a switch brings in every night (`night_block`: servers and their cooling keep no such
    // hours; session 26, rigs on the night tariff in server rooms scored 0.48-0.53). On the
    // tuning regions the unregistered server rooms' days follow their warmest month's heat
    // with r 0.976-0.991; the commercial sites hiding a rig reach 0.9 only where the rig is in
    // a cooled room itself (a cold store, a server room, a data room): docs/DETECTION.md,
    // "Equipment in an air-conditioned room".
    // The month windows and the last 30 days only: the whole period and a rig's raised days
    // (picked from across the period) are no month, which the reason names.
    let cooled_by = if class == TariffClass::Commercial {
        p.windows
            .iter()
            .skip(1)
            .filter(|w| w.last_day - w.first_day < 31 && w.temp_corr.is_finite())
            .max_by(|a, b| a.temp_corr.total_cmp(&b.temp_corr))
    } else {
        None
    };
    let cooled = cooled_by.map_or(0.0, |w| clamp01((w.temp_corr - 0.85) / 0.1));
    let shape_score = (bp.score * (1.0 - 0.4 * cooled)).max(0.9 * bp.night_block);
    let mut score = 1.0 - (1.0 - shape_score) * (1.0 - up) * (1.0 - down);
    let allowed = p.customer.as_ref().is_some_and(|c| c.allowed);
    let mut reasons = Vec::new();
    let f = best;
    let r = |code, en: String, zh: String| Reason { code, en, zh };
    if bp.flat >= 0.5 {
        if f.load_factor.is_finite() {
            reasons.push(r(
                "flat",
                format!("load factor {:.2}: the curve is flat", f.load_factor),
                format!("负荷率{:.2}，负荷曲线平直", f.load_factor),
            ));
        } else {
            reasons.push(r(
                "flat",
                format!("daily energy varies only {:.0}%", f.daily_cv * 100.0),
                format!("日电量波动仅{:.0}%", f.daily_cv * 100.0),
            ));
        }
    }
    if bp.night >= 0.7 {
        reasons.push(r(
            "day_and_night",
            format!(
                "night/midday ratio {:.2}: runs day and night",
                f.night_midday
            ),
            format!("夜间/午间负荷比{:.2}，昼夜连续运行", f.night_midday),
        ));
    }
    if bp.steady >= 0.7 && f.load_factor.is_finite() {
        reasons.push(r(
            "steady",
            format!("daily energy varies {:.1}%", f.daily_cv * 100.0),
            format!("日电量波动{:.1}%", f.daily_cv * 100.0),
        ));
    }
    if bp.weekly >= 0.8 && bp.shape >= 0.5 {
        reasons.push(r(
            "no_weekly_rhythm",
            format!("weekends like weekdays (ratio {:.2})", f.weekend_weekday),
            format!("周末与工作日用电相同（比值{:.2}）", f.weekend_weekday),
        ));
    }
    if bp.mode >= 0.6 {
        reasons.push(r(
            "one_level",
            format!("{:.0}% of readings at one level", f.mode_share * 100.0),
            format!("{:.0}%的读数集中在同一水平", f.mode_share * 100.0),
        ));
    }
    if bp.temp >= 0.7 {
        reasons.push(r(
            "temperature_blind",
            format!("insensitive to temperature (r = {:.2})", f.temp_corr),
            format!("与气温无关（相关系数{:.2}）", f.temp_corr),
        ));
    }
    // Hourly or finer readings: what a day's hours show (a floor, around the clock).
    let sub_daily = f.load_factor.is_finite();
    if bp.level >= 0.3 {
        if sub_daily {
            reasons.push(r(
                "continuous_floor",
                format!(
                    "continuous load of {:.1} kW that never switches off",
                    f.floor_kw
                ),
                format!("持续不间断负荷{:.1}千瓦", f.floor_kw),
            ));
        } else {
            // One reading a day shows the day's mean, not what never switches off.
            reasons.push(r(
                "daily_level",
                format!("draws {:.1} kW on average, day after day", f.floor_kw),
                format!("日均负荷{:.1}千瓦，日复一日", f.floor_kw),
            ));
        }
    }
    if bp.class_level >= 0.3 {
        reasons.push(r(
            "above_class",
            format!(
                "consumes more than {:.0}% of {} customers nearby",
                bp.percentile * 100.0,
                class.name()
            ),
            format!(
                "用电量高于周边{:.0}%的{}用户",
                bp.percentile * 100.0,
                class.name_zh()
            ),
        ));
    }
    if bp.capacity >= 0.5 {
        reasons.push(r(
            "capacity",
            format!(
                "uses {:.0}% of contracted capacity {}",
                f.capacity_use * 100.0,
                if sub_daily {
                    "around the clock"
                } else {
                    "on average"
                }
            ),
            format!(
                "{}使用合同容量的{:.0}%",
                if sub_daily { "全天" } else { "平均" },
                f.capacity_use * 100.0
            ),
        ));
    }
    if bp.floor_path >= 0.3 {
        // A floor measured after a step can exceed the mean of a window that began before
        // it; the share of energy is at most all of it.
        let share = (f.floor_kw / f.mean_kw).min(1.0) * 100.0;
        reasons.push(r(
            "floor_carries_load",
            format!("{share:.0}% of the energy is a floor that never switches off"),
            format!("{share:.0}%的电量来自从不关闭的基础负荷"),
        ));
    }
    if bp.under_charging >= 0.3 {
        reasons.push(r(
            "floor_under_charging",
            format!(
                "{:.1} kW never switches off under the charging sessions, where chargers idle at {:.1} kW",
                f.floor_kw, ctx.class_floor
            ),
            format!(
                "充电负荷之下始终有{:.1}千瓦不间断负荷，同类充电站待机仅{:.1}千瓦",
                f.floor_kw, ctx.class_floor
            ),
        ));
    }
    if bp.under_heat >= 0.3 {
        reasons.push(r(
            "floor_under_heating",
            format!(
                "{:.1} kW never switches off under a heating load that follows the cold (r = {:.2}), holding within {:.0}% from day to day",
                f.floor_kw,
                f.temp_corr,
                f.floor_spread * 100.0
            ),
            format!(
                "随气温变化的采暖负荷（相关系数{:.2}）之下始终有{:.1}千瓦不间断负荷，逐日波动仅{:.0}%",
                f.temp_corr,
                f.floor_kw,
                f.floor_spread * 100.0
            ),
        ));
    }
    if bp.night_plateau >= 0.3 {
        reasons.push(r(
            "night_plateau",
            format!(
                "{:.1} kW more all night long than at midday, every night",
                f.night_floor_excess_kw
            ),
            format!("每晚整夜比午间多出{:.1}千瓦的负荷", f.night_floor_excess_kw),
        ));
    }
    if bp.psu >= 0.5 && f.night_jitter.is_finite() && bp.score >= 0.3 {
        reasons.push(r(
            "psu_steady",
            format!(
                "hour to hour the load moves only {:.1}%, as a rig's power supply holds it",
                f.night_jitter * 100.0
            ),
            format!(
                "逐时负荷变化仅{:.1}%，与矿机电源的稳定输出一致",
                f.night_jitter * 100.0
            ),
        ));
    }
    if bp.constant >= 0.3 {
        reasons.push(r(
            "constant_in_business",
            format!(
                "{:.1} kW of this {} site's load does not move when the rest does ({:.0}% of its nights): busy hours move {:.1} kW hour to hour, quiet ones {:.1} kW, in proportion to the rest, as a machine's draw does not",
                f.constant_kw,
                class.name(),
                100.0 * f.constant_kw / f.night_kw,
                f.busy_step_kw,
                f.quiet_step_kw,
            ),
            format!(
                "该{}用户约{:.1}千瓦负荷不随其余负荷起伏（占夜间负荷{:.0}%）：忙时逐时变化{:.1}千瓦、闲时{:.1}千瓦，与其余负荷成比例，矿机功率则恒定不变",
                class.name_zh(),
                f.constant_kw,
                100.0 * f.constant_kw / f.night_kw,
                f.busy_step_kw,
                f.quiet_step_kw,
            ),
        ));
    }
    if bp.quiet_night >= 0.3 {
        reasons.push(r(
            "steady_night_in_business",
            format!(
                "a steady {:.1} kW through every night of a {} site whose days move (nights {:.1}% hour to hour, its days {:.0}%, the class's nights {:.0}%)",
                bp.steady_floor_kw,
                class.name(),
                f.night_jitter * 100.0,
                f.jitter * 100.0,
                class_jitter * 100.0
            ),
            format!(
                "{}用户白天负荷起伏，夜间却有约{:.1}千瓦的稳定负荷每晚不变（夜间逐时变化{:.1}%，白天{:.0}%，同类用户夜间{:.0}%）",
                class.name_zh(),
                bp.steady_floor_kw,
                f.night_jitter * 100.0,
                f.jitter * 100.0,
                class_jitter * 100.0
            ),
        ));
    }
    if bp.night_block >= 0.3 {
        reasons.push(r(
            "night_block",
            format!(
                "every night, weekends too, {:.1} kW more from midnight to dawn than before opening or after closing, as steady as a power supply (the block moves {:.0}% from night to night)",
                f.night_block_kw,
                f.night_block_spread * 100.0
            ),
            format!(
                "每晚（含周末）零点至清晨比营业前后多出约{:.1}千瓦，稳如电源（逐夜变化{:.0}%）",
                f.night_block_kw,
                f.night_block_spread * 100.0
            ),
        ));
    }
    if bp.under_load >= 0.3 {
        reasons.push(r(
            "steady_floor_under_load",
            format!(
                "a steady {:.1} kW under the usual {} load, every night (nights move {:.1}% hour to hour, the class's {:.0}%)",
                bp.steady_floor_kw,
                class.name(),
                f.night_jitter * 100.0,
                class_jitter * 100.0
            ),
            format!(
                "在正常{}用电之下有约{:.1}千瓦的稳定负荷，每晚不变（夜间逐时变化{:.1}%，同类用户为{:.0}%）",
                class.name_zh(),
                bp.steady_floor_kw,
                f.night_jitter * 100.0,
                class_jitter * 100.0
            ),
        ));
    }
    if bp.unexplained <= 0.5 && bp.shape * bp.amount >= 0.3 {
        reasons.push(r(
            "follows_temperature",
            format!(
                "its floor follows the temperature (r = {:.2}): cooling, heating or aeration, not a rig",
                ctx.whole.on_floor_temp_corr
            ),
            format!(
                "基础负荷随气温变化（相关系数{:.2}）：属制冷、供暖或增氧负荷，不似矿机",
                ctx.whole.on_floor_temp_corr
            ),
        ));
    }
    if let Some(w) = cooled_by.filter(|_| cooled >= 0.5 && bp.score >= 0.3) {
        let month = format_day(w.first_day);
        let month = month.get(..7).unwrap_or(&month);
        reasons.push(r(
            "cooled_room",
            format!(
                "in {month} its days follow the heat (r = {:.2}): equipment in an air-conditioned room, like a server room's; its constant load alone does not tell a rig",
                w.temp_corr
            ),
            format!(
                "{month}日用电随气温升降（相关系数{:.2}）：属空调降温的设备间（如机房），仅凭其恒定负荷不能认定为矿机",
                w.temp_corr
            ),
        ));
    }
    if let Some((day, share)) = seasonal.filter(|_| score >= 0.3) {
        // Said when it weighed: the step is there on the curve, and why it did not count.
        reasons.push(r(
            "common_step",
            format!(
                "its step on {} was taken within a day by {:.0}% of {} customers: a season's or the calendar's, not counted as a machine's",
                format_day(day),
                share * 100.0,
                class.name()
            ),
            format!(
                "{}前后一天内{:.0}%的{}用户同时阶跃：属季节或日历变化，不计为设备接入",
                format_day(day),
                share * 100.0,
                class.name_zh()
            ),
        ));
    }
    if let Some(sn) = ctx.season.filter(|_| bp.in_season >= 0.5 && score >= 0.3) {
        // Said when it weighed: the level is there on the curve, and why it did not count.
        let (on, off) = (format_day(sn.on), format_day(sn.off));
        reasons.push(r(
            "class_season",
            format!(
                "its {:.1} kW comes on ({on}) and goes off ({off}) with its class's {} customers: their season, not counted as a machine's",
                sn.kw,
                class.name()
            ),
            format!(
                "其{:.1}千瓦负荷与同类{}用户同时开启（{on}）、同时关闭（{off}）：属季节性负荷，不计为设备",
                sn.kw,
                class.name_zh()
            ),
        ));
    }
    if let Some((o, day)) = counted {
        if o.steps > 1 {
            reasons.push(r(
                "onset",
                format!(
                    "steps up by {:.1} kW from {} in {} steps of about {:.1} kW: machines added one by one",
                    o.step_kw(),
                    format_day(day),
                    o.steps,
                    o.unit_kw
                ),
                format!(
                    "{}起分{}次阶跃共增加{:.1}千瓦，每次约{:.1}千瓦：设备逐台增加",
                    format_day(day),
                    o.steps,
                    o.step_kw(),
                    o.unit_kw
                ),
            ));
        } else {
            reasons.push(r(
                "onset",
                format!("steps up by {:.1} kW on {}", o.step_kw(), format_day(day)),
                format!("{}起负荷阶跃增加{:.1}千瓦", format_day(day), o.step_kw()),
            ));
        }
    }
    if let Some((d, day)) = departed {
        reasons.push(r(
            "departure",
            format!(
                "steps down by {:.1} kW on {}: a load as steady as a machine's that stopped (moved away, or its season ended)",
                d.step_kw(),
                format_day(day)
            ),
            format!(
                "{}起负荷阶跃减少{:.1}千瓦：一段平稳如设备的负荷停运（迁走或季节结束）",
                format_day(day),
                d.step_kw()
            ),
        ));
    }
    if class.preferential() && score >= cfg.threshold {
        reasons.push(r(
            "preferential_tariff",
            format!("on a preferential {} tariff", class.name()),
            format!("享受{}优惠电价", class.name_zh()),
        ));
    }
    if allowed {
        reasons.insert(
            0,
            r(
                "allow_listed",
                "allow-listed (registered legitimate flat load)".into(),
                "白名单（已登记的合法平稳负荷）".into(),
            ),
        );
    }
    // Mining load: a step when there is one, else a night block behind a business, else a
    // night-only plateau, else the steady floor under a living load or a business's steady
    // night, else the floor above the class's usual floor.
    let mining_kw = if score < 0.3 {
        0.0
    } else if let Some((o, _)) = counted {
        o.step_kw()
    } else if let Some((d, _)) = departed {
        d.step_kw()
    } else if bp.night_block >= 0.5 {
        f.night_block_kw
    } else if bp.night_plateau > bp.shape * bp.amount && bp.night_plateau >= bp.under_load {
        f.night_floor_excess_kw.max(0.0)
    } else if bp.under_load > bp.shape * bp.amount {
        (bp.steady_floor_kw - class_floor).max(0.0)
    } else if bp.quiet_night > bp.shape * bp.amount {
        bp.steady_floor_kw
    } else if bp.constant > bp.shape * bp.amount {
        f.constant_kw
    } else {
        (f.floor_kw - class_floor).max(0.0)
    };
    score = (score * 1000.0).round() / 1000.0;
    let e = efficiency(Algorithm::Sha256d);
    let hashrate_ths = mining_kw * 1000.0 / (e.best * PUE.1) / 1e12;
    Suspect {
        meter_id: p.meter_id,
        customer_id: p.customer.as_ref().map(|c| c.customer_id.clone()),
        tariff_class: class,
        area_id: p.customer.as_ref().and_then(|c| c.area_id.clone()),
        region_code: p.customer.as_ref().and_then(|c| c.region_code.clone()),
        score,
        suspected: score >= cfg.threshold && !allowed,
        rank: 0,
        reasons,
        onset: counted.map(|(_, d)| format_day(d)),
        departure: departed.map(|(_, d)| format_day(d)),
        mining_kw: (mining_kw * 100.0).round() / 100.0,
        machines: match counted.filter(|(o, _)| o.steps > 1) {
            // The load is the staircase's (mining_kw above), each step a machine or two.
            Some((o, _)) if score >= 0.3 && o.unit_kw > 0.0 => (o.step_kw() / o.unit_kw).round(),
            _ => (mining_kw / cfg.machine_kw * 10.0).round() / 10.0,
        },
        hashrate_ths: (hashrate_ths * 10.0).round() / 10.0,
        window_start: format_day(f.first_day),
        window_end: format_day(f.last_day),
        features: *f,
        daily_kwh: (score >= cfg.threshold && !allowed).then_some(p.recent),
        quality: p.quality,
        signals: vec![
            bp.flat,
            clamp01(bp.night),
            bp.steady,
            bp.weekly,
            clamp01(bp.mode),
            clamp01(bp.temp),
            bp.level,
            bp.class_level,
            bp.capacity,
            bp.night_plateau,
            bp.floor_path,
            onset_part.max(departure_part),
            if class.preferential() { 1.0 } else { 0.0 },
            f.mean_kw.max(0.0).ln_1p(),
            bp.psu,
            bp.under_load,
            bp.quiet_night,
            bp.unexplained,
            bp.night_block,
        ],
    }
}

/// Reads daily temperatures: `region_code,date,temp_c`.
pub fn read_weather(
    path: &std::path::Path,
) -> Result<(Weather, crate::read::ReadStats), crate::read::ReadError> {
    let io = |source| crate::read::ReadError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let mut r = csv::Reader::from_reader(file);
    let mut by_region: HashMap<String, Vec<(i64, f64)>> = HashMap::new();
    let mut stats = crate::read::ReadStats::default();
    for rec in r.records() {
        stats.rows += 1;
        let Ok(rec) = rec else {
            *stats.skipped.entry("unreadable row".into()).or_default() += 1;
            continue;
        };
        let line = rec.position().map_or(0, |p| p.line());
        let day = rec
            .get(1)
            .and_then(|d| crate::time::parse(d, 0))
            .map(|s| s.local().div_euclid(86_400));
        let temp = rec.get(2).and_then(|t| t.trim().parse::<f64>().ok());
        match (rec.get(0), day, temp) {
            (Some(region), Some(day), Some(t)) => {
                let code = region.trim();
                match by_region.get_mut(code) {
                    Some(days) => days.push((day, t)),
                    None => {
                        by_region.insert(code.to_string(), vec![(day, t)]);
                    }
                }
            }
            _ => {
                *stats
                    .skipped
                    .entry("unreadable weather row".into())
                    .or_default() += 1;
                if stats.examples.len() < 20 {
                    stats.examples.push(format!(
                        "{}:{line}: need region_code,date,temp_c",
                        path.display()
                    ));
                }
            }
        }
    }
    for days in by_region.values_mut() {
        // By day, the file's last row of a day kept (as a map's insert kept it): reversed, a
        // stable sort puts each day's last row first, and `dedup` keeps the first.
        days.reverse();
        days.sort_by_key(|d| d.0);
        days.dedup_by_key(|d| d.0);
    }
    Ok((Weather { by_region }, stats))
}
/// The CSV columns of `power scan --format csv`, in order.
pub const SUSPECT_COLUMNS: [&str; 25] = [
    "rank",
    "meter_id",
    "customer_id",
    "tariff_class",
    "area_id",
    "region_code",
    "score",
    "suspected",
    "onset",
    "departure",
    "mining_kw",
    "machines",
    "hashrate_ths",
    "window_start",
    "window_end",
    "load_factor",
    "night_midday",
    "daily_cv",
    "weekend_weekday",
    "mode_share",
    "floor_kw",
    "mean_kw",
    "monthly_kwh",
    "reasons",
    "reasons_zh",
];

fn f3(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.3}")
    } else {
        String::new()
    }
}

impl Suspect {
    /// The cells of this row under [`SUSPECT_COLUMNS`] (reasons in both languages).
    pub fn csv_cells(&self) -> Vec<String> {
        let (s, f) = (self, &self.features);
        vec![
            s.rank.to_string(),
            s.meter_id.clone(),
            s.customer_id.clone().unwrap_or_default(),
            s.tariff_class.name().to_string(),
            s.area_id.clone().unwrap_or_default(),
            s.region_code.clone().unwrap_or_default(),
            format!("{:.3}", s.score),
            s.suspected.to_string(),
            s.onset.clone().unwrap_or_default(),
            s.departure.clone().unwrap_or_default(),
            format!("{:.2}", s.mining_kw),
            format!("{:.1}", s.machines),
            format!("{:.1}", s.hashrate_ths),
            s.window_start.clone(),
            s.window_end.clone(),
            f3(f.load_factor),
            f3(f.night_midday),
            f3(f.daily_cv),
            f3(f.weekend_weekday),
            f3(f.mode_share),
            f3(f.floor_kw),
            f3(f.mean_kw),
            f3(f.monthly_kwh),
            s.reasons
                .iter()
                .map(|r| r.en.as_str())
                .collect::<Vec<_>>()
                .join("; "),
            s.reasons
                .iter()
                .map(|r| r.zh.as_str())
                .collect::<Vec<_>>()
                .join("；"),
        ]
    }

    /// The header of the table `power scan` prints, in `lang`.
    pub fn table_header(lang: Lang) -> [&'static str; 9] {
        match lang {
            Lang::En => [
                "rank",
                "meter",
                "class",
                "area",
                "score",
                "suspected",
                "mining kW",
                "onset",
                "why",
            ],
            Lang::Zh => [
                "排名",
                "电表",
                "用电类别",
                "台区",
                "评分",
                "疑似",
                "挖矿负荷(千瓦)",
                "起始日期",
                "原因",
            ],
        }
    }

    /// This row's cells in the table, in `lang`: the first four reasons, one a line.
    pub fn table_cells(&self, lang: Lang) -> Vec<String> {
        let s = self;
        let why: Vec<&str> = s
            .reasons
            .iter()
            .take(4)
            .map(|r| {
                if lang == Lang::Zh {
                    r.zh.as_str()
                } else {
                    r.en.as_str()
                }
            })
            .collect();
        vec![
            s.rank.to_string(),
            s.meter_id.clone(),
            if lang == Lang::Zh {
                s.tariff_class.name_zh().to_string()
            } else {
                s.tariff_class.name().to_string()
            },
            s.area_id.clone().unwrap_or_default(),
            format!("{:.2}", s.score),
            match (s.suspected, lang) {
                (true, Lang::En) => "yes".into(),
                (false, Lang::En) => String::new(),
                (true, Lang::Zh) => "是".into(),
                (false, Lang::Zh) => String::new(),
            },
            if s.mining_kw > 0.0 {
                format!("{:.1}", s.mining_kw)
            } else {
                String::new()
            },
            s.onset.clone().unwrap_or_default(),
            why.join("\n"),
        ]
    }
}

/// A flag for tests of what outcomes do.
#[cfg(test)]
pub(crate) mod tests_support {
    use crate::customers::TariffClass;
    use crate::score::{Reason, Suspect};

    /// A flag of `class` with one reason and `score`, nothing else known.
    pub(crate) fn flag(id: &str, class: TariffClass, reason: &'static str, score: f64) -> Suspect {
        Suspect {
            meter_id: id.into(),
            customer_id: None,
            tariff_class: class,
            area_id: None,
            region_code: None,
            score,
            suspected: score >= 0.6,
            rank: 0,
            reasons: vec![Reason {
                code: reason,
                en: String::new(),
                zh: String::new(),
            }],
            onset: None,
            departure: None,
            mining_kw: 0.0,
            machines: 0.0,
            hashrate_ths: 0.0,
            window_start: String::new(),
            window_end: String::new(),
            features: Default::default(),
            daily_kwh: None,
            quality: Default::default(),
            signals: vec![score],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dawn_hour_holds_for_any_longitude_a_register_gives() {
        let s = Series {
            meter_id: "m".into(),
            start: 0,
            step: 3600,
            offsets: vec![(0, 8 * 3600)],
            kwh: Vec::new(),
            report: SeriesReport::default(),
        };
        let at = |lon: Option<f64>| {
            let c = Customer {
                meter_id: "m".into(),
                customer_id: "c".into(),
                tariff_class: TariffClass::Commercial,
                capacity_kva: None,
                area_id: None,
                region_code: None,
                address: None,
                lat: None,
                lon,
                solar: false,
                allowed: false,
                allow_category: None,
            };
            dawn_hour(&s, Some(&c))
        };
        // Beijing time: 06:00 in Baotou, an hour later in Changji, at most three in the far
        // west; a register's nonsense longitude stays within those hours.
        assert_eq!(at(None), 6);
        assert_eq!(at(Some(110.0)), 6);
        assert_eq!(at(Some(87.3)), 7);
        assert_eq!(at(Some(150.0)), 6);
        assert_eq!(at(Some(1e308)), 6);
        assert_eq!(at(Some(-1e308)), 9);
        assert_eq!(dawn_hour(&s, None), 6);
    }

    #[test]
    fn a_window_meets_a_season_when_one_of_its_days_is_in_it() {
        // A season inside the period (days 10 to 19) and one that wraps around it (before day
        // 10 and from day 20), against every window of days 0 to 29, empty ones too.
        for (on, off) in [(10, 20), (20, 10)] {
            let sn = Season {
                kw: 1.0,
                outside_kw: 0.0,
                on,
                off,
            };
            for first in 0..30 {
                for last in first - 1..30 {
                    let any = (first..=last).any(|d| sn.holds(d));
                    assert_eq!(sn.meets(first, last), any, "{on} {off} {first} {last}");
                }
            }
        }
    }

    #[test]
    fn a_regions_days_are_found_by_day_and_a_days_last_row_counts() {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("w.csv");
        std::fs::write(
            &path,
            "region_code,date,temp_c\n150202,2024-01-03,-4\n150202,2024-01-01,-7.5\n\
             110101,2024-01-01,2\n150202,2024-01-03,-3\n 150202 ,2024-01-02,x\n",
        )
        .unwrap();
        let (w, stats) = read_weather(&path).unwrap();
        assert_eq!(stats.rows, 5);
        assert_eq!(stats.skipped.values().sum::<u64>(), 1);
        let day = |m, d| crate::time::days_from_civil(2024, m, d);
        let r = w.region("150202").unwrap();
        assert_eq!(Weather::on(r, day(1, 1)), Some(-7.5));
        assert_eq!(Weather::on(r, day(1, 3)), Some(-3.0));
        assert_eq!(Weather::on(r, day(1, 2)), None);
        assert_eq!(
            Weather::on(w.region("110101").unwrap(), day(1, 1)),
            Some(2.0)
        );
        assert!(w.region("999999").is_none());
    }

    #[test]
    fn a_fall_the_weather_explains_is_the_weathers_and_a_machine_leaving_is_not() {
        // Forty days from 2024-01-01: twenty cold (-5 °C), then a thaw (+5 °C), each day up to
        // 2 °C off. A site heating with 1 kW per degree under +10 °C on 2 kW of its own, and a
        // site of 2 kW whose 10 kW machine leaves on the day of the thaw.
        let day0 = crate::time::days_from_civil(2024, 1, 1);
        let temp = |day: i64| {
            let d = day - day0;
            let x = ((d * 7919) % 101) as f64 / 101.0 - 0.5;
            (if d < 20 { -5.0 } else { 5.0 }) + 4.0 * x
        };
        let series = |kw: &dyn Fn(i64) -> f64| Series {
            meter_id: "m".into(),
            start: day0 * 86_400 - 8 * 3600,
            step: 3600,
            offsets: vec![(0, 8 * 3600)],
            kwh: (0..40 * 24).map(|i| kw(day0 + i / 24) as f32).collect(),
            report: SeriesReport::default(),
        };
        let share = |kw: &dyn Fn(i64) -> f64| {
            let ds = days_for(&series(kw), false);
            let (running, left) = ds.split_at(20);
            let mean = |v: &[Day]| v.iter().map(|d| d.kwh).sum::<f64>() / v.len() as f64;
            weather_share(running, left, mean(running) - mean(left), &|d| {
                Some(temp(d))
            })
            .unwrap_or(f64::NAN)
        };
        let heating = share(&|day| 2.0 + (10.0 - temp(day)).max(0.0));
        assert!(heating > 0.8, "heating {heating}");
        let machine = share(&|day| 2.0 + if day - day0 < 20 { 10.0 } else { 0.0 });
        assert!(machine < 0.1, "machine {machine}");
        // Too few days with weather: nothing explained.
        let ds = days_for(&series(&|_| 2.0), false);
        assert_eq!(
            weather_share(&ds[..5], &ds[5..], 1.0, &|d| Some(temp(d))),
            None
        );
        assert_eq!(weather_share(&ds[..20], &ds[20..], 1.0, &|_| None), None);
    }
}
