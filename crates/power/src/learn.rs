//! Learning from inspections: a logistic regression over the score's parts, fitted to the
//! outcomes of site visits (meter, date, mining yes or no), as State Grid Zhejiang feeds
//! inspection records back into its model (docs/FACTS.md §P4, patent CN115292381A).
//!
//! Hand-written rather than taken from linfa: the model has a dozen inputs, Newton's method
//! fits it exactly in a few iterations, and the dependency would outweigh the sixty lines.

#![allow(
    clippy::indexing_slicing,
    reason = "the model's vectors and matrices have one entry per feature and per sample, sized here"
)]

use crate::customers::TariffClass;
use crate::score::{Reason, Suspect};
use std::collections::HashMap;

/// A fitted model: standardised inputs, weights, intercept.
#[derive(Clone, Debug, PartialEq)]
pub struct Logistic {
    mean: Vec<f64>,
    scale: Vec<f64>,
    /// Weights on the standardised inputs.
    pub weights: Vec<f64>,
    /// Intercept.
    pub intercept: f64,
}

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

/// Solves `a x = b` for a small symmetric positive definite `a` (Gaussian elimination with
/// partial pivoting); `None` when singular.
fn solve(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Option<Vec<f64>> {
    let n = b.len();
    for c in 0..n {
        let p = (c..n).max_by(|&i, &j| a[i][c].abs().total_cmp(&a[j][c].abs()))?;
        if a[p][c].abs() < 1e-12 {
            return None;
        }
        a.swap(c, p);
        b.swap(c, p);
        let pivot = a[c].clone();
        for r in c + 1..n {
            let f = a[r][c] / pivot[c];
            for (x, p) in a[r][c..].iter_mut().zip(&pivot[c..]) {
                *x -= f * p;
            }
            b[r] -= f * b[c];
        }
    }
    let mut x = vec![0.0; n];
    for r in (0..n).rev() {
        let s: f64 = (r + 1..n).map(|k| a[r][k] * x[k]).sum();
        x[r] = (b[r] - s) / a[r][r];
    }
    Some(x)
}

impl Logistic {
    /// Fits by Newton's method with an L2 penalty `l2` on the weights (not the intercept).
    pub fn fit(x: &[Vec<f64>], y: &[bool], l2: f64) -> Option<Logistic> {
        let n = x.len();
        let d = x.first()?.len();
        if n < 4 || y.iter().all(|v| *v) || y.iter().all(|v| !*v) {
            return None;
        }
        let mean: Vec<f64> = (0..d)
            .map(|j| x.iter().map(|r| r[j]).sum::<f64>() / n as f64)
            .collect();
        let scale: Vec<f64> = (0..d)
            .map(|j| {
                let v = x.iter().map(|r| (r[j] - mean[j]).powi(2)).sum::<f64>() / n as f64;
                if v > 1e-12 { v.sqrt() } else { 1.0 }
            })
            .collect();
        let z: Vec<Vec<f64>> = x
            .iter()
            .map(|r| {
                let mut v: Vec<f64> = (0..d).map(|j| (r[j] - mean[j]) / scale[j]).collect();
                v.push(1.0);
                v
            })
            .collect();
        let mut w = vec![0.0; d + 1];
        for _ in 0..50 {
            let mut grad = vec![0.0; d + 1];
            let mut hess = vec![vec![0.0; d + 1]; d + 1];
            for (zi, yi) in z.iter().zip(y) {
                let p = sigmoid(zi.iter().zip(&w).map(|(a, b)| a * b).sum());
                let err = p - if *yi { 1.0 } else { 0.0 };
                let wgt = p * (1.0 - p);
                for a in 0..=d {
                    grad[a] += err * zi[a];
                    for b in 0..=d {
                        hess[a][b] += wgt * zi[a] * zi[b];
                    }
                }
            }
            for a in 0..d {
                grad[a] += l2 * w[a];
                hess[a][a] += l2;
            }
            let step = solve(hess, grad)?;
            let mut moved = 0.0f64;
            for (wa, s) in w.iter_mut().zip(&step) {
                *wa -= s;
                moved = moved.max(s.abs());
            }
            if moved < 1e-8 {
                break;
            }
        }
        let intercept = w.pop().unwrap_or(0.0);
        Some(Logistic {
            mean,
            scale,
            weights: w,
            intercept,
        })
    }

    /// Probability of mining for one input vector.
    pub fn predict(&self, x: &[f64]) -> f64 {
        let z: f64 = x
            .iter()
            .zip(&self.mean)
            .zip(&self.scale)
            .zip(&self.weights)
            .map(|(((v, m), s), w)| (v - m) / s * w)
            .sum::<f64>()
            + self.intercept;
        sigmoid(z)
    }
}

/// Precision among the top `k` of `scores` (higher first) against `labels`.
pub fn precision_at(scores: &[f64], labels: &[bool], k: usize) -> f64 {
    let mut idx: Vec<usize> = (0..scores.len()).collect();
    idx.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let k = k.min(idx.len()).max(1);
    idx.iter().take(k).filter(|&&i| labels[i]).count() as f64 / k as f64
}

/// k-fold cross-validation: precision at `top` of the rule score against the learned model's,
/// each on the held-out folds only.
pub fn cross_validate(
    x: &[Vec<f64>],
    rule: &[f64],
    y: &[bool],
    folds: usize,
    top: usize,
) -> Option<(f64, f64)> {
    let n = x.len();
    if n < folds * 2 {
        return None;
    }
    let mut learned = vec![0.0; n];
    for f in 0..folds {
        let train: Vec<usize> = (0..n).filter(|i| i % folds != f).collect();
        let tx: Vec<Vec<f64>> = train.iter().map(|&i| x[i].clone()).collect();
        let ty: Vec<bool> = train.iter().map(|&i| y[i]).collect();
        let m = Logistic::fit(&tx, &ty, 1.0)?;
        for i in (0..n).filter(|i| i % folds == f) {
            learned[i] = m.predict(&x[i]);
        }
    }
    Some((precision_at(rule, y, top), precision_at(&learned, y, top)))
}

/// What handing back inspection outcomes changed, for the summary.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FeedbackReport {
    /// Inspected meters found in the scan.
    pub inspected: usize,
    /// Of them, mining.
    pub mining: usize,
    /// Groups (tariff class and main reason) whose uninspected flags were weighed down, with
    /// their inspected flags and of them mining, and the factor applied.
    pub corrections: Vec<Correction>,
    /// Meters flagged before and after.
    pub flagged_before: usize,
    /// Meters flagged after.
    pub flagged_after: usize,
    /// Whether the logistic model was used, and why (not).
    pub model: String,
    /// Meters whose clean visit came before their step, set aside ([`drop_outdated`]).
    pub outdated: Vec<String>,
    /// Flags weighed down as twins of a meter inspected clean ([`crate::likeness`]).
    pub twins: usize,
    /// Twins left as they were by the cap.
    pub twins_held: usize,
}

impl FeedbackReport {
    /// What the outcomes changed, a line for the counts and one per learned correction.
    pub fn lines(&self) -> Vec<String> {
        let mut out: Vec<String> = (!self.outdated.is_empty())
            .then(|| {
                format!(
                    "{} clean inspection(s) came before the meter's step and were not used: {}",
                    self.outdated.len(),
                    self.outdated.join(", ")
                )
            })
            .into_iter()
            .collect();
        out.push(format!(
            "{} inspected meters in the scan ({} mining); flagged {} before, {} after; model {}",
            self.inspected, self.mining, self.flagged_before, self.flagged_after, self.model
        ));
        if self.twins + self.twins_held > 0 {
            out.push(format!(
                "learned: {} flags like a meter inspected clean weighed by {:.2}{}",
                self.twins,
                crate::likeness::FACTOR,
                if self.twins_held > 0 {
                    format!(
                        " ({} more left as they were: at most a quarter of the flags)",
                        self.twins_held
                    )
                } else {
                    String::new()
                }
            ));
        }
        out.extend(self.corrections.iter().map(|c| {
            format!(
                "learned: {} flags by {}: {} of {} inspected were mining, the others weighed by {:.2}",
                c.class.name(),
                c.reason,
                c.mining,
                c.inspected,
                c.factor
            )
        }));
        out
    }
}

/// Hands the visits of an inspection file back to a scan: clean visits before a meter's step
/// are set aside ([`drop_outdated`], named in the report), the rest applied
/// ([`apply_outcomes`]).
pub fn apply_inspections(
    out: &mut [Suspect],
    visits: &HashMap<String, crate::eval::Inspection>,
    threshold: f64,
) -> FeedbackReport {
    let mut outcomes: HashMap<String, bool> =
        visits.iter().map(|(m, v)| (m.clone(), v.mining)).collect();
    let outdated = drop_outdated(out, &mut outcomes, visits);
    FeedbackReport {
        outdated,
        ..apply_outcomes(out, &outcomes, threshold)
    }
}

/// A learned correction for one group of flags.
#[derive(Clone, Debug, PartialEq)]
pub struct Correction {
    /// Tariff class.
    pub class: TariffClass,
    /// The main reason code of the group's flags.
    pub reason: &'static str,
    /// Inspected flags of the group.
    pub inspected: usize,
    /// Of them, mining.
    pub mining: usize,
    /// Factor applied to the uninspected flags' scores (below 1).
    pub factor: f64,
}

/// Reasons that each open their own path to a flag, strongest evidence first: a group of flags
/// is its tariff class and the first of these among its reasons.
const PATHS: [&str; 9] = [
    "onset",
    "night_plateau",
    "steady_floor_under_load",
    "floor_under_charging",
    "floor_under_heating",
    "floor_carries_load",
    "flat",
    "continuous_floor",
    "daily_level",
];

/// The correction learned for the group of `s`, if any.
fn correction_of<'c>(corrections: &'c [Correction], s: &Suspect) -> Option<&'c Correction> {
    let reason = main_reason(s);
    corrections
        .iter()
        .find(|c| c.class == s.tariff_class && c.reason == reason)
}

fn main_reason(s: &Suspect) -> &'static str {
    PATHS
        .into_iter()
        .find(|p| s.reasons.iter().any(|r| r.code == *p))
        .unwrap_or("other")
}

/// Takes out of `outcomes` the clean visits that came before the step a meter shows: a visit
/// that found nothing in March says nothing of a rig switched on in May. Returns those meters
/// (they keep their score, with a reason).
pub fn drop_outdated(
    out: &mut [Suspect],
    outcomes: &mut HashMap<String, bool>,
    visits: &HashMap<String, crate::eval::Inspection>,
) -> Vec<String> {
    let mut dropped = Vec::new();
    for s in out.iter_mut() {
        let (Some(onset), Some(v)) = (s.onset.as_deref(), visits.get(&s.meter_id)) else {
            continue;
        };
        let (Some(step), Some(visit)) = (
            crate::time::parse(onset, 0).map(|t| t.local().div_euclid(86_400)),
            v.day,
        ) else {
            continue;
        };
        if !v.mining && visit < step {
            outcomes.remove(&s.meter_id);
            s.reasons.push(Reason {
                code: "inspected_before_step",
                en: format!(
                    "inspected on {} with no mining found, before the step on {onset}",
                    crate::time::format_day(visit)
                ),
                zh: format!(
                    "{}现场检查未发现挖矿，但在{onset}负荷阶跃之前",
                    crate::time::format_day(visit)
                ),
            });
            dropped.push(s.meter_id.clone());
        }
    }
    dropped
}

/// Labels needed of each outcome before a full model may be fitted and weighed against the
/// rules out of sample: fewer than this and a refit follows the noise (issue 18: 22 outcomes
/// once flagged 86 % of a region).
pub const MODEL_MIN_PER_OUTCOME: usize = 25;

/// Inspected flags of a group needed before its outcomes correct the group's other flags.
pub const GROUP_MIN: usize = 3;

/// Hands inspection outcomes back to a scan (`outcomes`: meter → mining), so they help and
/// never harm:
///
/// 1. an inspected meter carries its outcome (mining: flagged; none found: not flagged);
/// 2. with few labels, per-group corrections: a group (tariff class and main reason, e.g.
///    agricultural flags that are flat) whose inspected flags were mostly not mining has its
///    other flags weighed down by its smoothed mining rate over the overall one. Corrections
///    only ever lower scores: an outcome never adds a flag that the rules did not raise;
/// 3. a full logistic model only with [`MODEL_MIN_PER_OUTCOME`] labels of each outcome, and
///    only if its 5-fold out-of-sample precision beats the rules'; it then reorders the flags
///    (a blend of rule score and calibrated probability) but may not change how many there
///    are by more than a tenth.
pub fn apply_outcomes(
    out: &mut [Suspect],
    outcomes: &HashMap<String, bool>,
    threshold: f64,
) -> FeedbackReport {
    let mut rep = FeedbackReport {
        flagged_before: out.iter().filter(|s| s.suspected).count(),
        ..FeedbackReport::default()
    };
    // Groups from the inspected flags (inspections of unflagged meters say nothing of a
    // group's flags).
    let mut groups: HashMap<(TariffClass, &'static str), (usize, usize)> = HashMap::new();
    let (mut flag_n, mut flag_mining) = (0usize, 0usize);
    for s in out.iter() {
        let Some(&mining) = outcomes.get(&s.meter_id) else {
            continue;
        };
        rep.inspected += 1;
        rep.mining += usize::from(mining);
        if s.score >= threshold {
            let g = groups.entry((s.tariff_class, main_reason(s))).or_default();
            g.0 += 1;
            g.1 += usize::from(mining);
            flag_n += 1;
            flag_mining += usize::from(mining);
        }
    }
    // The overall rate, smoothed towards one half; each group's towards the overall rate with
    // the weight of two flags, so one outcome moves little.
    let overall = (flag_mining as f64 + 1.0) / (flag_n as f64 + 2.0);
    let mut keys: Vec<_> = groups.keys().copied().collect();
    keys.sort_by_key(|(c, r)| (c.name(), *r));
    for k in keys {
        let (n, m) = groups[&k];
        if n < GROUP_MIN {
            continue;
        }
        let rate = (m as f64 + 2.0 * overall) / (n as f64 + 2.0);
        let f = (rate / overall).min(1.0);
        if f < 0.95 {
            rep.corrections.push(Correction {
                class: k.0,
                reason: k.1,
                inspected: n,
                mining: m,
                factor: f,
            });
        }
    }
    let labelled: Vec<usize> = (0..out.len())
        .filter(|&i| outcomes.contains_key(&out[i].meter_id))
        .collect();
    let positives = labelled
        .iter()
        .filter(|&&i| outcomes[&out[i].meter_id])
        .count();
    let model = if positives >= MODEL_MIN_PER_OUTCOME
        && labelled.len() - positives >= MODEL_MIN_PER_OUTCOME
    {
        let x: Vec<Vec<f64>> = labelled.iter().map(|&i| out[i].signals.clone()).collect();
        let y: Vec<bool> = labelled
            .iter()
            .map(|&i| outcomes[&out[i].meter_id])
            .collect();
        let rule: Vec<f64> = labelled.iter().map(|&i| out[i].score).collect();
        match (
            cross_validate(&x, &rule, &y, 5, positives),
            Logistic::fit(&x, &y, 1.0),
        ) {
            (Some((r, l)), Some(m)) if l > r + 0.05 => {
                rep.model = format!(
                    "used: 5-fold precision at {positives} {l:.2} against the rules' {r:.2}"
                );
                Some(m)
            }
            (Some((r, l)), _) => {
                rep.model =
                    format!("not used: 5-fold precision at {positives} {l:.2}, the rules' {r:.2}");
                None
            }
            _ => {
                rep.model = "not used: could not be fitted".into();
                None
            }
        }
    } else {
        rep.model = format!(
            "not used: {positives} mining and {} not among the outcomes, {MODEL_MIN_PER_OUTCOME} of each needed",
            labelled.len() - positives
        );
        None
    };
    let n = out.len();
    let mut proposed: Vec<f64> = out
        .iter()
        .map(|s| {
            let mut v = s.score * correction_of(&rep.corrections, s).map_or(1.0, |c| c.factor);
            if let Some(m) = &model {
                // Calibrated on its own fit (Platt-style through the logistic link), blended
                // with the rules so neither replaces the other.
                v = 0.5 * v + 0.5 * m.predict(&s.signals);
            }
            v
        })
        .collect();
    if model.is_some() {
        // Cap the change in the number of flags at a tenth: the threshold moves to the score
        // that keeps the count within the cap.
        let before = rep.flagged_before;
        let lo = before - before / 10;
        let hi = before + before / 10;
        let mut sorted = proposed.clone();
        sorted.sort_by(|a, b| b.total_cmp(a));
        let count = sorted.iter().filter(|v| **v >= threshold).count();
        let k = count.clamp(lo, hi.min(n));
        if k != count && k > 0 {
            let cut = sorted[k - 1];
            for v in &mut proposed {
                *v = if *v >= cut {
                    threshold.max(*v)
                } else {
                    v.min(threshold - 1e-3)
                };
            }
        }
    }
    // Flags that are twins of a meter inspected clean (meter by meter, where the groups above
    // are too coarse): weighed down, with the meter they resemble named.
    let (twins, held) = crate::likeness::twins(out, outcomes, threshold);
    rep.twins = twins.len();
    rep.twins_held = held;
    let mut like: HashMap<usize, (String, f64)> = HashMap::new();
    for t in twins {
        proposed[t.index] *= crate::likeness::FACTOR;
        like.insert(t.index, (t.like, t.distance));
    }
    for (i, (s, v)) in out.iter_mut().zip(proposed).enumerate() {
        let allowed = s.reasons.first().is_some_and(|r| r.code == "allow_listed");
        if let Some(&mining) = outcomes.get(&s.meter_id) {
            s.score = if mining { s.score.max(threshold) } else { 0.0 };
            s.reasons.push(Reason {
                code: "inspected",
                en: if mining {
                    "inspected: mining found".into()
                } else {
                    "inspected: no mining found".into()
                },
                zh: if mining {
                    "现场检查：发现挖矿".into()
                } else {
                    "现场检查：未发现挖矿".into()
                },
            });
        } else if (v - s.score).abs() > 1e-9 {
            if let Some((m, d)) = like.get(&i) {
                s.reasons.push(Reason {
                    code: "like_inspected_clean",
                    en: format!(
                        "its curve is like that of {m}, inspected with no mining found (distance {d:.2}): weighed down"
                    ),
                    zh: format!("负荷特征与{m}相近（距离{d:.2}），{m}经现场检查未发现挖矿：降低权重"),
                });
            }
            if let Some(c) = correction_of(&rep.corrections, s) {
                s.reasons.push(Reason {
                    code: "learned",
                    en: format!(
                        "{} of {} inspected {} flags like this one were mining: weighed down",
                        c.mining,
                        c.inspected,
                        c.class.name()
                    ),
                    zh: format!(
                        "同类{}用户的{}次检查中仅{}次发现挖矿：降低权重",
                        c.class.name_zh(),
                        c.inspected,
                        c.mining
                    ),
                });
            }
            s.score = v;
        }
        s.score = (s.score * 1000.0).round() / 1000.0;
        s.suspected = s.score >= threshold && !allowed;
        if !s.suspected {
            s.daily_kwh = None;
        }
    }
    crate::score::rank(out);
    rep.flagged_after = out.iter().filter(|s| s.suspected).count();
    rep
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separates_a_separable_problem() {
        let mut x = Vec::new();
        let mut y = Vec::new();
        for i in 0..200 {
            let a = (i % 17) as f64 / 17.0;
            let b = (i % 7) as f64 / 7.0;
            x.push(vec![a, b]);
            y.push(a + 0.2 * b > 0.6);
        }
        let m = Logistic::fit(&x, &y, 0.01).unwrap();
        let right = x
            .iter()
            .zip(&y)
            .filter(|(xi, yi)| (m.predict(xi) > 0.5) == **yi)
            .count();
        assert!(right >= 190, "{right}");
        assert!(m.weights[0] > m.weights[1]);
    }

    #[test]
    fn refuses_one_class_data() {
        assert!(
            Logistic::fit(
                &[vec![1.0], vec![2.0], vec![3.0], vec![4.0]],
                &[true; 4],
                1.0
            )
            .is_none()
        );
    }

    use crate::score::tests_support::flag;

    #[test]
    fn a_group_found_clean_weighs_its_other_flags_down_and_no_other() {
        let mut out = Vec::new();
        for i in 0..8 {
            out.push(flag(
                &format!("a{i}"),
                TariffClass::Agricultural,
                "flat",
                0.8,
            ));
            out.push(flag(
                &format!("r{i}"),
                TariffClass::Residential,
                "flat",
                0.8,
            ));
        }
        out.push(flag("low", TariffClass::Agricultural, "flat", 0.3));
        // Four agricultural flat flags inspected, none mining; two residential ones, mining.
        let outcomes: HashMap<String, bool> = [("a0", false), ("a1", false), ("a2", false)]
            .into_iter()
            .chain([("a3", false), ("r0", true), ("r1", true)])
            .map(|(m, v)| (m.to_string(), v))
            .collect();
        let rep = apply_outcomes(&mut out, &outcomes, 0.6);
        assert_eq!(rep.corrections.len(), 1, "{rep:?}");
        assert_eq!(rep.corrections[0].class, TariffClass::Agricultural);
        let by = |id: &str| out.iter().find(|s| s.meter_id == id).unwrap();
        for i in 0..8 {
            // The inspected carry their outcome, the uninspected of the clean group fall under
            // the threshold with a reason, the other group's stay as they were.
            let a = by(&format!("a{i}"));
            assert!(!a.suspected, "{a:?}");
            assert!(
                a.reasons
                    .iter()
                    .any(|r| r.code == "learned" || r.code == "inspected")
            );
            assert!(by(&format!("r{i}")).suspected);
        }
        // A correction never raises a score.
        assert!(by("low").score <= 0.3);
        assert_eq!(rep.flagged_before, 16);
        assert_eq!(rep.flagged_after, 8);
        assert!(rep.model.starts_with("not used"), "{}", rep.model);
    }

    #[test]
    fn a_clean_visit_before_the_step_does_not_clear_the_rig_after_it() {
        use crate::eval::Inspection;
        let day = |d: &str| crate::time::parse(d, 0).unwrap().local().div_euclid(86_400);
        let mut out = vec![
            flag("early", TariffClass::Residential, "onset", 0.9),
            flag("late", TariffClass::Residential, "onset", 0.9),
            flag("none", TariffClass::Residential, "flat", 0.9),
        ];
        for s in &mut out {
            s.onset = (s.meter_id != "none").then(|| "2024-05-01".to_string());
        }
        let visits: HashMap<String, Inspection> = [
            ("early", Some(day("2024-03-01"))),
            ("late", Some(day("2024-06-01"))),
            ("none", Some(day("2024-03-01"))),
        ]
        .into_iter()
        .map(|(m, d)| {
            (
                m.to_string(),
                Inspection {
                    mining: false,
                    day: d,
                },
            )
        })
        .collect();
        let mut outcomes: HashMap<String, bool> =
            visits.keys().map(|m| (m.clone(), false)).collect();
        let dropped = drop_outdated(&mut out, &mut outcomes, &visits);
        assert_eq!(dropped, ["early"]);
        apply_outcomes(&mut out, &outcomes, 0.6);
        let by = |id: &str| out.iter().find(|s| s.meter_id == id).unwrap();
        assert!(by("early").suspected);
        assert!(
            by("early")
                .reasons
                .iter()
                .any(|r| r.code == "inspected_before_step")
        );
        assert!(!by("late").suspected);
        assert!(!by("none").suspected);
    }

    #[test]
    fn one_outcome_moves_nothing_but_its_meter() {
        // Ten flags of one group; the one inspected is no twin of the others (a far smaller,
        // noisier load: `crate::likeness`, tested there).
        let mut out: Vec<Suspect> = (0..10)
            .map(|i| {
                let mut s = flag(&format!("a{i}"), TariffClass::Agricultural, "flat", 0.8);
                let f = &mut s.features;
                (f.floor_kw, f.night_jitter, f.jitter, f.daily_cv) = if i == 0 {
                    (1.0, 0.08, 0.1, 0.2)
                } else {
                    (20.0, 0.01, 0.012, 0.01)
                };
                (f.load_factor, f.mode_share) = (0.9, 0.8);
                s
            })
            .collect();
        let outcomes: HashMap<String, bool> = [("a0".to_string(), false)].into();
        let rep = apply_outcomes(&mut out, &outcomes, 0.6);
        assert!(rep.corrections.is_empty());
        assert_eq!(rep.twins, 0);
        assert_eq!(rep.flagged_after, 9);
    }

    #[test]
    fn precision_at_k() {
        assert_eq!(
            precision_at(&[0.9, 0.1, 0.8, 0.2], &[true, false, false, true], 2),
            0.5
        );
    }
}
