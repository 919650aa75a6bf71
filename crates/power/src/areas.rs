//! Transformer-area balance (台区线损, docs/FACTS.md §P2): energy into an area at its feeder meter
//! against the sum of its customers' meters. The difference is technical loss (a few percent)
//! plus whatever is taken unmetered. An area whose loss is high, or steps up, is reported with
//! the unbilled power it implies and the customers most likely behind it.

use crate::changepoint::largest_onset;
use crate::customers::Register;
use crate::features::{correlation, days};
use crate::read::SeriesSink;
use crate::score::Scorer;
use crate::series::Series;
use crate::time::format_day;
use minewatch_model::lang::Lang;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// Thresholds of the area balance.
#[derive(Clone, Copy, Debug)]
pub struct AreaConfig {
    /// Technical loss expected in a low-voltage area (share of feeder energy).
    pub technical_loss: f64,
    /// Loss rate above which an area is abnormal.
    pub abnormal_loss: f64,
    /// Unbilled power above which an area is abnormal, kW.
    pub min_unbilled_kw: f64,
    /// Candidates listed per abnormal area.
    pub candidates: usize,
}

impl Default for AreaConfig {
    fn default() -> Self {
        AreaConfig {
            // Low-voltage areas in China are managed to 台区线损 targets of a few percent.
            technical_loss: 0.035,
            abnormal_loss: 0.06,
            min_unbilled_kw: 1.0,
            candidates: 5,
        }
    }
}

/// A customer who may be behind an area's loss.
#[derive(Clone, Debug, Serialize)]
pub struct Candidate {
    /// Meter.
    pub meter_id: String,
    /// Why, in English.
    pub why: String,
    /// Why, in Chinese.
    pub why_zh: String,
    /// Correlation of the meter's daily energy with the area's daily loss (negative: the loss
    /// rises when the meter records less, as with a bypassed meter).
    pub loss_correlation: f64,
    /// Ranking weight.
    pub weight: f64,
}

/// The balance of one area.
#[derive(Clone, Debug, Serialize)]
pub struct AreaBalance {
    /// Area.
    pub area_id: String,
    /// Region of its customers.
    pub region_code: Option<String>,
    /// Customers with readings.
    pub customers: usize,
    /// Days compared.
    pub days: usize,
    /// Energy into the area, kWh.
    pub feeder_kwh: f64,
    /// Energy its customers' meters recorded, kWh.
    pub billed_kwh: f64,
    /// Median daily loss rate.
    pub loss_rate: f64,
    /// Mean unbilled power beyond technical loss, kW.
    pub unbilled_kw: f64,
    /// Day the loss stepped up, when it did.
    pub onset: Option<String>,
    /// Size of that step, kW.
    pub onset_kw: Option<f64>,
    /// Loss rate per month (`YYYY-MM` → rate).
    pub monthly_loss_rate: BTreeMap<String, f64>,
    /// Beyond the thresholds.
    pub abnormal: bool,
    /// Customers most likely behind the loss.
    pub candidates: Vec<Candidate>,
}

/// A meter and its daily energy.
type MeterDays<'a> = (&'a String, &'a BTreeMap<i64, f64>);

/// Collects feeder and customer series, then balances each area.
#[derive(Default)]
pub struct Balancer {
    feeders: HashMap<String, BTreeMap<i64, f64>>,
    /// Each customer meter taken, in order: with its area and daily energy when the register
    /// gives it an area (so that the last ones can be forgotten, and areas summed in order).
    meters: Vec<Option<AreaMeter>>,
}

/// A customer meter in an area, with its daily energy.
struct AreaMeter {
    meter: String,
    area: String,
    days: BTreeMap<i64, f64>,
}

/// Customer meters read into an area balance and a scorer together (`power areas`).
pub struct BalanceAndScore<'a, 'r> {
    /// The area balance.
    pub balancer: &'a mut Balancer,
    /// The scorer, for the customers most likely behind a loss.
    pub scorer: &'a mut Scorer<'r>,
    /// The register that places meters in areas.
    pub register: &'a Register,
}

impl SeriesSink for BalanceAndScore<'_, '_> {
    fn take(&mut self, s: Series) {
        self.balancer.add_meter(&s, self.register);
        self.scorer.add(&s);
    }

    fn forget(&mut self, n: usize) {
        self.balancer.forget_meters(n);
        self.scorer.forget(n);
    }
}

fn daily(s: &Series) -> BTreeMap<i64, f64> {
    days(s)
        .into_iter()
        .filter(|d| d.coverage >= 0.8 && d.kwh.is_finite())
        .map(|d| (d.day, d.kwh))
        .collect()
}

impl Balancer {
    /// Adds an area's feeder series (its meter id is the area id).
    pub fn add_feeder(&mut self, s: &Series) {
        let e = self.feeders.entry(s.meter_id.clone()).or_default();
        for (d, k) in daily(s) {
            *e.entry(d).or_default() += k;
        }
    }

    /// Adds a customer meter's series; meters without an area in the register are ignored.
    pub fn add_meter(&mut self, s: &Series, register: &Register) {
        let area = register.get(&s.meter_id).and_then(|c| c.area_id.clone());
        self.meters.push(area.map(|area| AreaMeter {
            meter: s.meter_id.clone(),
            area,
            days: daily(s),
        }));
    }

    /// Forgets the last `n` customer meters added (see [`crate::read::SeriesSink`]).
    pub fn forget_meters(&mut self, n: usize) {
        self.meters.truncate(self.meters.len().saturating_sub(n));
    }

    /// Balances every area with a feeder, abnormal areas first.
    pub fn finish(
        self,
        cfg: &AreaConfig,
        register: &Register,
        scores: &HashMap<String, f64>,
    ) -> Vec<AreaBalance> {
        // Billed energy per area and day, summed in the order the meters came; a meter that
        // came twice counts twice there, as in the area's total, and once among its members.
        let mut billed: HashMap<String, BTreeMap<i64, f64>> = HashMap::new();
        let mut latest: HashMap<&String, (&String, &BTreeMap<i64, f64>)> = HashMap::new();
        for m in self.meters.iter().flatten() {
            let b = billed.entry(m.area.clone()).or_default();
            for (day, k) in &m.days {
                *b.entry(*day).or_default() += k;
            }
            latest.insert(&m.meter, (&m.area, &m.days));
        }
        let mut by_area: HashMap<String, Vec<MeterDays<'_>>> = HashMap::new();
        for (m, (a, d)) in latest {
            by_area.entry(a.clone()).or_default().push((m, d));
        }
        let mut out = Vec::new();
        for (area, feeder) in &self.feeders {
            let billed = billed.get(area);
            let members = by_area.get(area).cloned().unwrap_or_default();
            // Days where both sides are known.
            let days: Vec<(i64, f64, f64)> = feeder
                .iter()
                .filter_map(|(d, f)| billed.and_then(|b| b.get(d)).map(|b| (*d, *f, *b)))
                .collect();
            if days.is_empty() {
                continue;
            }
            let feeder_kwh: f64 = days.iter().map(|d| d.1).sum();
            let billed_kwh: f64 = days.iter().map(|d| d.2).sum();
            let mut rates: Vec<f64> = days
                .iter()
                .filter(|d| d.1 > 0.0)
                .map(|d| (d.1 - d.2) / d.1)
                .collect();
            rates.sort_by(f64::total_cmp);
            let loss_rate = rates.get(rates.len() / 2).copied().unwrap_or(f64::NAN);
            let unbilled_kw = ((feeder_kwh - billed_kwh) - cfg.technical_loss * feeder_kwh)
                / days.len() as f64
                / 24.0;
            // The loss *rate* steps when unmetered load appears; the loss in kWh also moves with
            // the area's demand (a factory back from holiday), which is no theft.
            let rate_series: Vec<f64> = days
                .iter()
                .map(|d| {
                    if d.1 > 0.0 {
                        (d.1 - d.2) / d.1
                    } else {
                        f64::NAN
                    }
                })
                .collect();
            let mean_feeder_kw = feeder_kwh / days.len() as f64 / 24.0;
            let onset = largest_onset(
                &rate_series
                    .iter()
                    .map(|r| r * 24.0 * mean_feeder_kw)
                    .collect::<Vec<_>>(),
                7,
                cfg.min_unbilled_kw,
            )
            .filter(|o| (o.after - o.before) / 24.0 / mean_feeder_kw.max(1e-9) >= 0.02);
            let mut monthly: BTreeMap<String, (f64, f64)> = BTreeMap::new();
            for (d, f, b) in &days {
                let e = monthly.entry(format_day(*d)[..7].to_string()).or_default();
                e.0 += f;
                e.1 += b;
            }
            let abnormal = loss_rate > cfg.abnormal_loss && unbilled_kw >= cfg.min_unbilled_kw
                || onset.is_some();
            let mut candidates = Vec::new();
            if abnormal {
                let loss_by_day: HashMap<i64, f64> =
                    days.iter().map(|d| (d.0, d.1 - d.2)).collect();
                for (m, d) in &members {
                    let pairs: Vec<(f64, f64)> = d
                        .iter()
                        .filter_map(|(day, k)| loss_by_day.get(day).map(|l| (*k, *l)))
                        .collect();
                    let corr = correlation(&pairs);
                    let score = scores.get(*m).copied().unwrap_or(0.0);
                    let class = register.get(m).map(|c| c.tariff_class);
                    let pref = class.is_some_and(|c| c.preferential());
                    // A bypassed meter records less exactly when the loss grows; a meter that
                    // already looks like a miner is a candidate on its own account.
                    let weight =
                        (-corr).max(0.0) * 0.6 + score * 0.4 + if pref { 0.05 } else { 0.0 };
                    let (why, why_zh) = if -corr >= 0.3 {
                        (
                            format!("records less when the area loses more (r = {corr:.2})"),
                            format!("用户电量下降时台区损耗上升（相关系数{corr:.2}）"),
                        )
                    } else if score >= 0.3 {
                        (
                            format!("its own load looks like mining (score {score:.2})"),
                            format!("自身负荷疑似挖矿（评分{score:.2}）"),
                        )
                    } else if pref {
                        (
                            "on a preferential tariff in an area with unmetered load".to_string(),
                            "位于存在计量外负荷的台区且享受优惠电价".to_string(),
                        )
                    } else {
                        ("in the area".to_string(), "位于该台区".to_string())
                    };
                    candidates.push(Candidate {
                        meter_id: (*m).clone(),
                        why,
                        why_zh,
                        loss_correlation: if corr.is_finite() {
                            (corr * 100.0).round() / 100.0
                        } else {
                            f64::NAN
                        },
                        weight,
                    });
                }
                candidates.sort_by(|a, b| {
                    b.weight
                        .total_cmp(&a.weight)
                        .then(a.meter_id.cmp(&b.meter_id))
                });
                candidates.truncate(cfg.candidates);
            }
            let region_code = members
                .first()
                .and_then(|(m, _)| register.get(m))
                .and_then(|c| c.region_code.clone());
            out.push(AreaBalance {
                area_id: area.clone(),
                region_code,
                customers: members.len(),
                days: days.len(),
                feeder_kwh: feeder_kwh.round(),
                billed_kwh: billed_kwh.round(),
                loss_rate: (loss_rate * 1000.0).round() / 1000.0,
                unbilled_kw: (unbilled_kw.max(0.0) * 100.0).round() / 100.0,
                onset: onset.and_then(|o| days.get(o.at)).map(|d| format_day(d.0)),
                onset_kw: onset.map(|o| (o.step_kw() * 100.0).round() / 100.0),
                monthly_loss_rate: monthly
                    .into_iter()
                    .map(|(k, (f, b))| {
                        (
                            k,
                            if f > 0.0 {
                                ((f - b) / f * 1000.0).round() / 1000.0
                            } else {
                                f64::NAN
                            },
                        )
                    })
                    .collect(),
                abnormal,
                candidates,
            });
        }
        out.sort_by(|a, b| {
            b.abnormal
                .cmp(&a.abnormal)
                .then(b.unbilled_kw.total_cmp(&a.unbilled_kw))
                .then(a.area_id.cmp(&b.area_id))
        });
        out
    }
}
/// The CSV columns of `power areas --format csv`, in order.
pub const AREA_COLUMNS: [&str; 11] = [
    "area_id",
    "region_code",
    "customers",
    "days",
    "feeder_kwh",
    "billed_kwh",
    "loss_rate",
    "unbilled_kw",
    "onset",
    "abnormal",
    "candidates",
];

impl AreaBalance {
    /// The cells of this area under [`AREA_COLUMNS`].
    pub fn csv_cells(&self) -> Vec<String> {
        let x = self;
        vec![
            x.area_id.clone(),
            x.region_code.clone().unwrap_or_default(),
            x.customers.to_string(),
            x.days.to_string(),
            format!("{:.0}", x.feeder_kwh),
            format!("{:.0}", x.billed_kwh),
            format!("{:.3}", x.loss_rate),
            format!("{:.2}", x.unbilled_kw),
            x.onset.clone().unwrap_or_default(),
            x.abnormal.to_string(),
            x.candidates
                .iter()
                .map(|c| c.meter_id.as_str())
                .collect::<Vec<_>>()
                .join(";"),
        ]
    }

    /// The header of the table `power areas` prints, in `lang`.
    pub fn table_header(lang: Lang) -> [&'static str; 7] {
        let zh = lang == Lang::Zh;
        if zh {
            [
                "台区",
                "用户数",
                "线损率",
                "计量外负荷(千瓦)",
                "突增日期",
                "异常",
                "可疑用户",
            ]
        } else {
            [
                "area",
                "customers",
                "loss rate",
                "unbilled kW",
                "step on",
                "abnormal",
                "likely customers",
            ]
        }
    }

    /// This area's cells in the table, in `lang`: the first three likely customers, one a line.
    pub fn table_cells(&self, lang: Lang) -> Vec<String> {
        let (x, zh) = (self, lang == Lang::Zh);
        vec![
            x.area_id.clone(),
            x.customers.to_string(),
            format!("{:.1}%", x.loss_rate * 100.0),
            format!("{:.1}", x.unbilled_kw),
            x.onset.clone().unwrap_or_default(),
            if x.abnormal {
                (if zh { "是" } else { "yes" }).to_string()
            } else {
                String::new()
            },
            x.candidates
                .iter()
                .take(3)
                .map(|c| format!("{} ({})", c.meter_id, if zh { &c.why_zh } else { &c.why }))
                .collect::<Vec<_>>()
                .join("\n"),
        ]
    }
}
