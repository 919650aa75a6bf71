//! Regional figures: open cases by state, estimated mining power and energy with bounds, the
//! monthly series against its peak, and whether a region is cleared to zero (动态清零).
//!
//! A case counts as mining from its first sighting until it is rectified, and again from a
//! relapse; a case dismissed before verification never counts. Monthly figures are the mean
//! power over the month (a site mining half of March adds half its power to March).

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use crate::StoreError;
use crate::cases::{HOURS_PER_MONTH, STATES, SYSTEM_ACTOR, State};
use crate::db::Conn;
use crate::time::{MonthIndex, format_instant};

/// Aggregation level, by the length of the GB/T 2260 prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Two digits.
    Province,
    /// Four digits.
    City,
    /// Six digits.
    County,
}

impl Level {
    /// Digits of the code at this level.
    pub fn digits(self) -> usize {
        match self {
            Level::Province => 2,
            Level::City => 4,
            Level::County => 6,
        }
    }
    /// Parses `province`, `city` or `county`.
    pub fn parse(s: &str) -> Option<Level> {
        match s {
            "province" => Some(Level::Province),
            "city" => Some(Level::City),
            "county" => Some(Level::County),
            _ => None,
        }
    }
}

/// Every level, provinces first.
pub const ALL_LEVELS: [Level; 3] = [Level::Province, Level::City, Level::County];

/// Provinces of GB/T 2260 by their two-digit code (names as the standard gives them).
const PROVINCES: &[(&str, &str, &str)] = &[
    ("11", "北京市", "Beijing"),
    ("12", "天津市", "Tianjin"),
    ("13", "河北省", "Hebei"),
    ("14", "山西省", "Shanxi"),
    ("15", "内蒙古自治区", "Inner Mongolia"),
    ("21", "辽宁省", "Liaoning"),
    ("22", "吉林省", "Jilin"),
    ("23", "黑龙江省", "Heilongjiang"),
    ("31", "上海市", "Shanghai"),
    ("32", "江苏省", "Jiangsu"),
    ("33", "浙江省", "Zhejiang"),
    ("34", "安徽省", "Anhui"),
    ("35", "福建省", "Fujian"),
    ("36", "江西省", "Jiangxi"),
    ("37", "山东省", "Shandong"),
    ("41", "河南省", "Henan"),
    ("42", "湖北省", "Hubei"),
    ("43", "湖南省", "Hunan"),
    ("44", "广东省", "Guangdong"),
    ("45", "广西壮族自治区", "Guangxi"),
    ("46", "海南省", "Hainan"),
    ("50", "重庆市", "Chongqing"),
    ("51", "四川省", "Sichuan"),
    ("52", "贵州省", "Guizhou"),
    ("53", "云南省", "Yunnan"),
    ("54", "西藏自治区", "Tibet"),
    ("61", "陕西省", "Shaanxi"),
    ("62", "甘肃省", "Gansu"),
    ("63", "青海省", "Qinghai"),
    ("64", "宁夏回族自治区", "Ningxia"),
    ("65", "新疆维吾尔自治区", "Xinjiang"),
    ("71", "台湾省", "Taiwan"),
    ("81", "香港特别行政区", "Hong Kong"),
    ("82", "澳门特别行政区", "Macao"),
];

/// Mean power over one month, kW.
#[derive(Clone, Debug, Serialize)]
pub struct MonthPoint {
    /// `YYYY-MM`.
    pub month: String,
    /// Best estimate.
    pub power_kw: f64,
    /// Lower bound.
    pub power_kw_low: f64,
    /// Upper bound.
    pub power_kw_high: f64,
}

/// One region's figures.
#[derive(Clone, Debug, Serialize)]
pub struct RegionRow {
    /// Level.
    pub level: Level,
    /// Code (2, 4 or 6 digits).
    pub code: String,
    /// Name in Chinese, when known.
    pub name_zh: String,
    /// Name in English, when known.
    pub name_en: String,
    /// Cases by state.
    pub cases: BTreeMap<String, i64>,
    /// Cases still open (suspected, verified, notified, relapsed).
    pub open_cases: i64,
    /// Mining power at the report's instant, kW.
    pub power_kw: f64,
    /// Lower bound.
    pub power_kw_low: f64,
    /// Upper bound.
    pub power_kw_high: f64,
    /// Energy per month at that power, kWh.
    pub energy_kwh_month: f64,
    /// Lower bound.
    pub energy_kwh_month_low: f64,
    /// Upper bound.
    pub energy_kwh_month_high: f64,
    /// The month of the highest mean power.
    pub peak_month: Option<String>,
    /// Its mean power, kW.
    pub peak_kw: f64,
    /// Change of the current power against the peak (−1 = cleared).
    pub change_vs_peak: Option<f64>,
    /// No open case and no mining power.
    pub cleared: bool,
    /// Mean power per month.
    pub months: Vec<MonthPoint>,
}

/// The regional report.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Report {
    /// The instant it describes (RFC 3339).
    pub as_of: String,
    /// Rows: provinces, then cities, then counties, each by code.
    pub regions: Vec<RegionRow>,
}

struct CaseSpan {
    region: String,
    state: State,
    kw: (f64, f64, f64),
    spans: Vec<(i64, i64)>,
}

/// The latest instant the store knows of: its newest evidence or a person's action on a
/// case. The store's own bookkeeping (opening a case at import time) does not count, so a
/// report on historical data describes the data's time, not the day it was imported.
pub fn latest_instant(c: &mut Conn) -> Result<Option<i64>, StoreError> {
    let r = c.query_one(
        "SELECT (SELECT MAX(observed_to) FROM evidence),          (SELECT MAX(at) FROM case_events WHERE actor <> ?)",
        &[SYSTEM_ACTOR.into()],
    )?;
    Ok(r.and_then(|r| match (r.opt_int(0), r.opt_int(1)) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }))
}

fn spans(c: &mut Conn, as_of: i64) -> Result<Vec<CaseSpan>, StoreError> {
    let cases = c.query(
        "SELECT case_id, region_code, state, power_kw, power_kw_low, power_kw_high, first_seen \
         FROM cases",
        &[],
    )?;
    let mut events: HashMap<i64, Vec<(i64, State, Option<State>)>> = HashMap::new();
    for r in c.query(
        "SELECT case_id, at, to_state, from_state FROM case_events ORDER BY event_id",
        &[],
    )? {
        if let Some(to) = State::parse(&r.text(2)) {
            events.entry(r.int(0)).or_default().push((
                r.int(1),
                to,
                r.opt_text(3).as_deref().and_then(State::parse),
            ));
        }
    }
    let mut out = Vec::with_capacity(cases.len());
    for r in cases {
        let id = r.int(0);
        let Some(state) = State::parse(&r.text(2)) else {
            continue;
        };
        let Some(first) = r.opt_int(6) else { continue };
        let mut spans = Vec::new();
        let mut open_from = Some(first);
        let mut dismissed = false;
        for (at, to, from) in events.get(&id).map(Vec::as_slice).unwrap_or(&[]) {
            match to {
                State::Rectified => {
                    if let Some(s) = open_from.take() {
                        spans.push((s, (*at).max(s)));
                    }
                }
                State::Closed if matches!(from, Some(State::Suspected | State::Verified)) => {
                    // Dismissed before rectification: a false lead, not mining.
                    open_from = None;
                    dismissed = true;
                }
                // Reopened by new evidence (the opening event itself has no `from`).
                State::Relapsed | State::Suspected if from.is_some() && open_from.is_none() => {
                    open_from = Some(*at);
                    dismissed = false;
                }
                _ => {}
            }
        }
        if dismissed {
            spans.clear();
        }
        if let Some(s) = open_from {
            spans.push((s, as_of.max(s)));
        }
        out.push(CaseSpan {
            region: r.text(1),
            state,
            kw: (r.real(3), r.real(4), r.real(5)),
            spans,
        });
    }
    Ok(out)
}

fn names(c: &mut Conn) -> Result<HashMap<String, (String, String)>, StoreError> {
    let mut m: HashMap<String, (String, String)> = PROVINCES
        .iter()
        .map(|(code, zh, en)| (code.to_string(), (zh.to_string(), en.to_string())))
        .collect();
    for r in c.query("SELECT code, name_zh, name_en FROM regions", &[])? {
        let code = r.text(0);
        let key = match code.len() {
            6 if code.ends_with("0000") => code[..2].to_string(),
            6 if code.ends_with("00") => code[..4].to_string(),
            _ => code,
        };
        m.insert(key, (r.text(1), r.text(2)));
    }
    Ok(m)
}

/// Builds the regional report at `as_of` (default: the latest instant the store knows of),
/// for the given levels, optionally within one region prefix.
pub fn regions(
    c: &mut Conn,
    as_of: Option<i64>,
    levels: &[Level],
    within: Option<&str>,
) -> Result<Report, StoreError> {
    let as_of = match as_of {
        Some(t) => t,
        None => latest_instant(c)?.unwrap_or_else(crate::time::now),
    };
    let spans = spans(c, as_of)?;
    let names = names(c)?;
    let first_month = spans
        .iter()
        .flat_map(|s| s.spans.iter().map(|x| x.0))
        .min()
        .map(MonthIndex::of);
    let last_month = MonthIndex::of(as_of);
    let mut rows = Vec::new();
    for &level in levels {
        let mut groups: BTreeMap<String, Vec<&CaseSpan>> = BTreeMap::new();
        for s in &spans {
            if s.region.len() < level.digits() {
                continue;
            }
            if within.is_some_and(|w| !s.region.starts_with(w)) {
                continue;
            }
            groups
                .entry(s.region[..level.digits()].to_string())
                .or_default()
                .push(s);
        }
        for (code, group) in groups {
            rows.push(region_row(
                level,
                &code,
                &group,
                &names,
                as_of,
                first_month,
                last_month,
            ));
        }
    }
    Ok(Report {
        as_of: format_instant(as_of),
        regions: rows,
    })
}

fn region_row(
    level: Level,
    code: &str,
    group: &[&CaseSpan],
    names: &HashMap<String, (String, String)>,
    as_of: i64,
    first_month: Option<MonthIndex>,
    last_month: MonthIndex,
) -> RegionRow {
    let mut cases: BTreeMap<String, i64> =
        STATES.iter().map(|s| (s.name().to_string(), 0)).collect();
    let mut open = 0;
    let mut now = (0.0, 0.0, 0.0);
    for s in group {
        *cases.entry(s.state.name().to_string()).or_default() += 1;
        open += i64::from(s.state.is_open());
        if s.spans.iter().any(|&(a, b)| a <= as_of && as_of <= b) {
            now = (now.0 + s.kw.0, now.1 + s.kw.1, now.2 + s.kw.2);
        }
    }
    let mut months = Vec::new();
    if let Some(first) = first_month {
        for m in first.0..=last_month.0 {
            let m = MonthIndex(m);
            let (ms, me) = (m.start(), m.end());
            let len = (me - ms) as f64;
            let mut p = (0.0, 0.0, 0.0);
            for s in group {
                let overlap: i64 = s
                    .spans
                    .iter()
                    .map(|&(a, b)| (b.min(me) - a.max(ms)).max(0))
                    .sum();
                let share = overlap as f64 / len;
                p = (
                    p.0 + s.kw.0 * share,
                    p.1 + s.kw.1 * share,
                    p.2 + s.kw.2 * share,
                );
            }
            months.push(MonthPoint {
                month: m.label(),
                power_kw: p.0,
                power_kw_low: p.1,
                power_kw_high: p.2,
            });
        }
    }
    let peak = months
        .iter()
        .filter(|p| p.power_kw > 0.0)
        .max_by(|a, b| a.power_kw.total_cmp(&b.power_kw));
    let (name_zh, name_en) = names.get(code).cloned().unwrap_or_default();
    RegionRow {
        level,
        code: code.to_string(),
        name_zh,
        name_en,
        cases,
        open_cases: open,
        power_kw: now.0,
        power_kw_low: now.1,
        power_kw_high: now.2,
        energy_kwh_month: now.0 * HOURS_PER_MONTH,
        energy_kwh_month_low: now.1 * HOURS_PER_MONTH,
        energy_kwh_month_high: now.2 * HOURS_PER_MONTH,
        peak_month: peak.map(|p| p.month.clone()),
        peak_kw: peak.map_or(0.0, |p| p.power_kw),
        change_vs_peak: peak.map(|p| now.0 / p.power_kw - 1.0),
        cleared: open == 0 && now.0 == 0.0,
        months,
    }
}
