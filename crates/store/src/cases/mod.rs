//! One case per site: fusion of its evidence, the lifecycle, and the queries over cases.
//!
//! Combined confidence treats the streams as independent witnesses (noisy-OR over each
//! stream's strongest piece): a meter at 0.8 and a Stratum session at 1.0 give 1.0, two weak
//! streams agreeing give more than either. Power comes from the meter when there is one (it
//! measures the whole site) and from the network otherwise (it sees only the rigs whose
//! sessions crossed the probe, so it is a floor: its lower bound stays a lower bound of the
//! case).

mod fuse;
mod lifecycle;
mod query;

pub use fuse::{FUSE_BATCH, FuseReport, Fused, Piece, fuse, fuse_pieces, pieces, refigure};
pub use lifecycle::{advance, advance_within, assign, assign_within};
pub use query::{
    Event, EvidenceRow, Filter, LoadCurve, Order, TrailStep, count, evidence, get, history, list,
    load_curve, money_trail, unattributed, unattributed_count,
};

use std::fmt;

use serde::Serialize;

use crate::db::Row;
use crate::{StoreError, time};

/// Hours in an average month (8,760 / 12), for monthly energy.
pub const HOURS_PER_MONTH: f64 = 730.0;

/// The actor recorded for automatic transitions.
pub const SYSTEM_ACTOR: &str = "minewatch";

/// Where a case stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum State {
    /// Evidence points at the site; nobody has checked yet.
    #[serde(rename = "suspected")]
    Suspected,
    /// Checked on site: mining confirmed.
    #[serde(rename = "verified")]
    Verified,
    /// Rectification (or disconnection) notice served.
    #[serde(rename = "notified")]
    Notified,
    /// Machines removed or sealed, supply cut, surcharge billed.
    #[serde(rename = "rectified")]
    Rectified,
    /// Re-inspected after rectification: still clear.
    #[serde(rename = "re-inspected")]
    Reinspected,
    /// Done: cleared after re-inspection, or dismissed before verification.
    #[serde(rename = "closed")]
    Closed,
    /// Mining seen again after rectification.
    #[serde(rename = "relapsed")]
    Relapsed,
}

/// Every state, in lifecycle order.
pub const STATES: [State; 7] = [
    State::Suspected,
    State::Verified,
    State::Notified,
    State::Rectified,
    State::Reinspected,
    State::Closed,
    State::Relapsed,
];

impl State {
    /// The state's name as stored and typed.
    pub fn name(self) -> &'static str {
        match self {
            State::Suspected => "suspected",
            State::Verified => "verified",
            State::Notified => "notified",
            State::Rectified => "rectified",
            State::Reinspected => "re-inspected",
            State::Closed => "closed",
            State::Relapsed => "relapsed",
        }
    }
    /// The state's name in Chinese.
    pub fn name_zh(self) -> &'static str {
        match self {
            State::Suspected => "疑似",
            State::Verified => "已核实",
            State::Notified => "已下达整改通知",
            State::Rectified => "已整改",
            State::Reinspected => "已复查",
            State::Closed => "已结案",
            State::Relapsed => "反弹",
        }
    }
    /// Parses a name (`re-inspected` and `reinspected` both).
    pub fn parse(s: &str) -> Option<State> {
        let s = s.trim().to_lowercase().replace(['_', ' '], "-");
        if s == "reinspected" {
            return Some(State::Reinspected);
        }
        STATES.into_iter().find(|st| st.name() == s)
    }
    /// The states a person may move a case to from this one. Closing from suspected or
    /// verified is dismissal; `relapsed` is also set automatically by new evidence.
    pub fn next(self) -> &'static [State] {
        match self {
            State::Suspected => &[State::Verified, State::Closed],
            State::Verified => &[State::Notified, State::Closed],
            State::Notified => &[State::Rectified],
            State::Rectified => &[State::Reinspected, State::Relapsed],
            State::Reinspected => &[State::Closed, State::Relapsed],
            State::Closed => &[State::Relapsed],
            State::Relapsed => &[State::Verified, State::Notified],
        }
    }
    /// True while the site is taken to be mining (everything but rectified and after).
    pub fn is_open(self) -> bool {
        matches!(
            self,
            State::Suspected | State::Verified | State::Notified | State::Relapsed
        )
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A case as listed.
#[derive(Clone, Debug, Serialize)]
pub struct Case {
    /// Case number.
    pub case_id: i64,
    /// The site.
    pub site_id: String,
    /// Lifecycle state.
    pub state: State,
    /// GB/T 2260 code of the site.
    pub region_code: String,
    /// Site address.
    pub address: Option<String>,
    /// Tariff class of the site.
    pub tariff_class: Option<String>,
    /// Streams with evidence, e.g. `["grid","network"]`.
    pub streams: Vec<String>,
    /// Combined confidence 0..1.
    pub confidence: f64,
    /// Estimated mining power, kW: best, low, high.
    pub power_kw: f64,
    /// Lower bound, kW.
    pub power_kw_low: f64,
    /// Upper bound, kW.
    pub power_kw_high: f64,
    /// Estimated energy per month, kWh (power × 730 h).
    pub energy_kwh_month: f64,
    /// Lower bound.
    pub energy_kwh_month_low: f64,
    /// Upper bound.
    pub energy_kwh_month_high: f64,
    /// First time seen mining (RFC 3339).
    pub first_seen: Option<String>,
    /// Last time seen mining (RFC 3339).
    pub last_seen: Option<String>,
    /// Pieces of evidence.
    pub evidence_count: i64,
    /// When the case was opened.
    pub opened_at: String,
    /// When it last changed.
    pub updated_at: String,
    /// Department or person it is assigned to.
    pub assigned_to: Option<String>,
}

const CASE_COLUMNS: &str = "c.case_id, c.site_id, c.state, c.region_code, s.address, \
     s.tariff_class, c.streams, c.confidence, c.power_kw, c.power_kw_low, c.power_kw_high, \
     c.first_seen, c.last_seen, c.evidence_count, c.opened_at, c.updated_at, c.assigned_to";

fn case_from(r: &Row) -> Result<Case, StoreError> {
    let state = State::parse(&r.text(2)).ok_or_else(|| {
        StoreError::Invalid(format!("case {} has unknown state {}", r.int(0), r.text(2)))
    })?;
    let streams = r.text(6);
    Ok(Case {
        case_id: r.int(0),
        site_id: r.text(1),
        state,
        region_code: r.text(3),
        address: r.opt_text(4),
        tariff_class: r.opt_text(5),
        streams: streams
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
        confidence: r.real(7),
        power_kw: r.real(8),
        power_kw_low: r.real(9),
        power_kw_high: r.real(10),
        energy_kwh_month: r.real(8) * HOURS_PER_MONTH,
        energy_kwh_month_low: r.real(9) * HOURS_PER_MONTH,
        energy_kwh_month_high: r.real(10) * HOURS_PER_MONTH,
        first_seen: r.opt_int(11).map(time::format_instant),
        last_seen: r.opt_int(12).map(time::format_instant),
        evidence_count: r.int(13),
        opened_at: time::format_instant(r.int(14)),
        updated_at: time::format_instant(r.int(15)),
        assigned_to: r.opt_text(16),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifecycle_allows_only_its_own_steps() {
        assert!(State::Suspected.next().contains(&State::Verified));
        assert!(!State::Suspected.next().contains(&State::Rectified));
        assert!(State::Relapsed.next().contains(&State::Notified));
        assert_eq!(State::parse("Re-Inspected"), Some(State::Reinspected));
        assert_eq!(State::parse("reinspected"), Some(State::Reinspected));
        assert_eq!(State::parse("done"), None);
        for s in STATES {
            assert_eq!(State::parse(s.name()), Some(s));
        }
    }
}
