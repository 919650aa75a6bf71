//! One case per site: fusion of its evidence, the lifecycle, and the queries over cases.
//!
//! Combined confidence treats the streams as independent witnesses (noisy-OR over each
//! stream's strongest piece): a meter at 0.8 and a Stratum session at 1.0 give 1.0, two weak
//! streams agreeing give more than either. Power comes from the meter when there is one (it
//! measures the whole site) and from the network otherwise (it sees only the rigs whose
//! sessions crossed the probe, so it is a floor: its lower bound stays a lower bound of the
//! case).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::Serialize;

use crate::db::{Conn, Row, Value};
use crate::evidence::Stream;
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

/// What a fusion run did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct FuseReport {
    /// Evidence rows folded into cases.
    pub folded: u64,
    /// Cases opened.
    pub opened: u64,
    /// Cases whose figures changed.
    pub updated: u64,
    /// Cases reopened as relapsed (or suspected again after dismissal).
    pub reopened: u64,
}

/// Cases whose figures are recomputed per statement during fusion.
pub const FUSE_BATCH: usize = 200;

/// Folds every attributed piece of evidence not yet in a case into its site's case, set-wise:
/// one statement opens the cases of new sites, one folds the rows, and the figures of the
/// touched cases are recomputed [`FUSE_BATCH`] at a time. One transaction, so a kill leaves
/// the rows pending for the next run.
pub fn fuse(conn: &mut Conn) -> Result<FuseReport, StoreError> {
    let now = time::now();
    conn.transaction(|c| {
        let mut report = FuseReport::default();
        let reopen = c.query(
            "SELECT c.case_id, MIN(e.observed_from), MAX(e.observed_to) FROM evidence e \
             JOIN cases c ON c.site_id = e.site_id \
             WHERE e.case_id IS NULL AND e.site_id IS NOT NULL \
             AND c.state IN ('rectified', 're-inspected', 'closed') GROUP BY c.case_id",
            &[],
        )?;
        for r in reopen {
            report.reopened += u64::from(maybe_reopen(c, r.int(0), (r.int(1), r.int(2)))?);
        }
        report.opened = c.execute(
            "INSERT INTO cases (site_id, state, region_code, opened_at, updated_at, first_seen) \
             SELECT e.site_id, 'suspected', COALESCE(MAX(s.region_code), ''), ?, ?, \
             MIN(e.observed_from) FROM evidence e LEFT JOIN sites s ON s.site_id = e.site_id \
             WHERE e.case_id IS NULL AND e.site_id IS NOT NULL GROUP BY e.site_id \
             ORDER BY e.site_id ON CONFLICT (site_id) DO NOTHING",
            &[now.into(), now.into()],
        )?;
        c.execute(
            "INSERT INTO case_events (case_id, at, actor, from_state, to_state, reason) \
             SELECT k.case_id, ?, ?, NULL, 'suspected', 'opened from evidence' FROM cases k \
             WHERE k.opened_at = ? \
             AND NOT EXISTS (SELECT 1 FROM case_events v WHERE v.case_id = k.case_id)",
            &[now.into(), SYSTEM_ACTOR.into(), now.into()],
        )?;
        let touched: Vec<i64> = c
            .query(
                "SELECT DISTINCT k.case_id FROM evidence e JOIN cases k ON k.site_id = e.site_id \
                 WHERE e.case_id IS NULL AND e.site_id IS NOT NULL ORDER BY k.case_id",
                &[],
            )?
            .iter()
            .map(|r| r.int(0))
            .collect();
        report.folded = c.execute(
            "UPDATE evidence SET case_id = (SELECT k.case_id FROM cases k \
             WHERE k.site_id = evidence.site_id) WHERE case_id IS NULL AND site_id IS NOT NULL",
            &[],
        )?;
        if touched.len() > FUSE_BATCH * 10 {
            recompute_streaming(c, &touched, now)?;
        } else {
            for chunk in touched.chunks(FUSE_BATCH) {
                let marks = vec!["?"; chunk.len()].join(", ");
                let params: Vec<Value> = chunk.iter().map(|&i| Value::Int(i)).collect();
                let rows = c.query(
                    &format!(
                        "SELECT case_id, {PIECE_COLUMNS} FROM evidence WHERE case_id IN ({marks}) \
                         ORDER BY case_id"
                    ),
                    &params,
                )?;
                let mut by_case: BTreeMap<i64, Vec<Piece>> = BTreeMap::new();
                for r in &rows {
                    by_case
                        .entry(r.int(0))
                        .or_default()
                        .push(piece_from(r.0.get(1..).unwrap_or_default()));
                }
                let figures: Vec<(i64, Fused)> = by_case
                    .iter()
                    .map(|(id, p)| (*id, fuse_pieces(p)))
                    .collect();
                write_figures(c, &figures, now)?;
            }
        }
        report.updated = touched.len() as u64 - report.opened.min(touched.len() as u64);
        Ok(report)
    })
}

/// New evidence after rectification reopens a case: relapsed when it had been rectified,
/// suspected again when it had been dismissed. Evidence observed before those moments is
/// history, not a relapse. The transition is dated when mining was seen again, so the
/// regional series counts the site from then, whenever the evidence was imported.
fn maybe_reopen(c: &mut Conn, case_id: i64, new: (i64, i64)) -> Result<bool, StoreError> {
    let (new_from, new_to) = new;
    let Some(r) = c.query_one(
        "SELECT state, rectified_at, closed_at FROM cases WHERE case_id = ?",
        &[case_id.into()],
    )?
    else {
        return Err(StoreError::NoCase(case_id));
    };
    let state = State::parse(&r.text(0)).unwrap_or(State::Suspected);
    let (to, since) = match (state, r.opt_int(1), r.opt_int(2)) {
        (State::Rectified | State::Reinspected | State::Closed, Some(rect), _) => {
            (State::Relapsed, rect)
        }
        (State::Closed, None, Some(closed)) => (State::Suspected, closed),
        _ => return Ok(false),
    };
    if new_to <= since {
        return Ok(false);
    }
    let reason = format!(
        "new evidence seen {} after {} {}",
        time::format_instant(new_to),
        if to == State::Relapsed {
            "rectification on"
        } else {
            "dismissal on"
        },
        time::format_date(since)
    );
    transition(
        c,
        case_id,
        state,
        to,
        SYSTEM_ACTOR,
        &reason,
        new_from.max(since + 1),
    )?;
    Ok(true)
}

fn transition(
    c: &mut Conn,
    case_id: i64,
    from: State,
    to: State,
    actor: &str,
    reason: &str,
    at: i64,
) -> Result<(), StoreError> {
    let stamp = match to {
        State::Rectified => ", rectified_at = ?",
        State::Closed => ", closed_at = ?",
        _ => "",
    };
    let sql = format!("UPDATE cases SET state = ?, updated_at = ?{stamp} WHERE case_id = ?");
    let mut params: Vec<Value> = vec![to.name().into(), at.into()];
    if !stamp.is_empty() {
        params.push(at.into());
    }
    params.push(case_id.into());
    c.execute(&sql, &params)?;
    record(c, case_id, at, actor, (from.name(), to.name()), reason)
}

/// One line of a case's history: who moved it from one state to another (the same state for
/// an assignment), when and why.
fn record(
    c: &mut Conn,
    case_id: i64,
    at: i64,
    actor: &str,
    (from, to): (&str, &str),
    reason: &str,
) -> Result<(), StoreError> {
    c.execute(
        "INSERT INTO case_events (case_id, at, actor, from_state, to_state, reason) \
         VALUES (?, ?, ?, ?, ?, ?)",
        &[
            case_id.into(),
            at.into(),
            actor.into(),
            from.into(),
            to.into(),
            reason.into(),
        ],
    )?;
    Ok(())
}

/// Figures of one case, fused from its evidence.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Fused {
    /// Streams present.
    pub streams: BTreeSet<Stream>,
    /// Combined confidence.
    pub confidence: f64,
    /// Power, kW: best, low, high.
    pub power_kw: (f64, f64, f64),
    /// First and last instants observed.
    pub seen: Option<(i64, i64)>,
    /// Pieces of evidence.
    pub count: i64,
}

/// One piece of evidence as fusion reads it.
#[derive(Clone, Debug)]
pub struct Piece {
    /// Stream.
    pub stream: Stream,
    /// Confidence.
    pub confidence: f64,
    /// Power best, low, high (W), when estimated.
    pub power_w: Option<(f64, f64, f64)>,
    /// Observed from, to.
    pub seen: (i64, i64),
    /// The rig it is about: worker name, else the host.
    pub rig: String,
}

/// Fuses pieces of evidence about one site. Pure, so the rules are tested without a store.
pub fn fuse_pieces(pieces: &[Piece]) -> Fused {
    let mut best_by_stream: BTreeMap<Stream, f64> = BTreeMap::new();
    let mut latest_grid: Option<&Piece> = None;
    let mut rigs: BTreeMap<&str, (f64, f64, f64)> = BTreeMap::new();
    let mut seen: Option<(i64, i64)> = None;
    for p in pieces {
        let c = best_by_stream.entry(p.stream).or_insert(0.0);
        *c = c.max(p.confidence);
        seen = Some(match seen {
            None => p.seen,
            Some((a, b)) => (a.min(p.seen.0), b.max(p.seen.1)),
        });
        match p.stream {
            Stream::Grid
                if p.power_w.is_some() && latest_grid.is_none_or(|g| p.seen.1 >= g.seen.1) =>
            {
                latest_grid = Some(p);
            }
            Stream::Network => {
                if let Some((b, l, h)) = p.power_w {
                    // One rig's sessions repeat; the rig draws its largest estimate, not the sum.
                    let e = rigs.entry(p.rig.as_str()).or_insert((0.0, 0.0, 0.0));
                    *e = (e.0.max(b), e.1.max(l), e.2.max(h));
                }
            }
            _ => {}
        }
    }
    let net = rigs
        .values()
        .fold((0.0, 0.0, 0.0), |a, r| (a.0 + r.0, a.1 + r.1, a.2 + r.2));
    let kw = |w: (f64, f64, f64)| (w.0 / 1000.0, w.1 / 1000.0, w.2 / 1000.0);
    let power_kw = match latest_grid.and_then(|g| g.power_w) {
        Some(g) => {
            let (gb, gl, gh) = kw(g);
            let (_, nl, _) = kw(net);
            let low = gl.max(nl);
            let high = gh.max(low);
            (gb.clamp(low, high), low, high)
        }
        None => kw(net),
    };
    let confidence = 1.0 - best_by_stream.values().fold(1.0, |acc, c| acc * (1.0 - c));
    Fused {
        streams: best_by_stream.keys().copied().collect(),
        confidence,
        power_kw,
        seen,
        count: pieces.len() as i64,
    }
}

fn piece_from(cols: &[Value]) -> Piece {
    let r = Row(cols.to_vec());
    Piece {
        stream: Stream::parse(&r.text(0)).unwrap_or(Stream::Network),
        confidence: r.real(1),
        power_w: r
            .opt_real(2)
            .map(|b| (b, r.opt_real(3).unwrap_or(b), r.opt_real(4).unwrap_or(b))),
        seen: (r.int(5), r.int(6)),
        rig: r.opt_text(7).unwrap_or_else(|| r.text(8)),
    }
}

const PIECE_COLUMNS: &str = "stream, confidence, power_w, power_w_low, power_w_high, \
     observed_from, observed_to, worker, subject";

/// Reads a case's evidence as fusion pieces.
pub fn pieces(c: &mut Conn, case_id: i64) -> Result<Vec<Piece>, StoreError> {
    let rows = c.query(
        &format!("SELECT {PIECE_COLUMNS} FROM evidence WHERE case_id = ?"),
        &[case_id.into()],
    )?;
    Ok(rows.iter().map(|r| piece_from(&r.0)).collect())
}

/// Fuses the named cases again from their evidence (after a change to the evidence itself,
/// such as a probe's verdict on a server).
pub fn refigure(c: &mut Conn, case_ids: &[i64]) -> Result<(), StoreError> {
    let now = time::now();
    for chunk in case_ids.chunks(FUSE_BATCH) {
        let figures: Vec<(i64, Fused)> = chunk
            .iter()
            .map(|&id| Ok((id, fuse_pieces(&pieces(c, id)?))))
            .collect::<Result<_, StoreError>>()?;
        write_figures(c, &figures, now)?;
    }
    Ok(())
}

/// Many cases touched: one ordered pass over all evidence in a case beats a random-access
/// query per batch of cases (a case's rows lie all over the table). Rows stream through; one
/// case's pieces are held at a time and only its fused figures are kept, so memory grows with
/// the cases touched, not with the evidence.
fn recompute_streaming(c: &mut Conn, touched: &[i64], now: i64) -> Result<(), StoreError> {
    let wanted: std::collections::HashSet<i64> = touched.iter().copied().collect();
    let mut figures: Vec<(i64, Fused)> = Vec::with_capacity(touched.len());
    let mut current: Option<(i64, Vec<Piece>)> = None;
    c.for_each(
        &format!(
            "SELECT case_id, {PIECE_COLUMNS} FROM evidence WHERE case_id IS NOT NULL \
             ORDER BY case_id"
        ),
        &[],
        |r| {
            let id = r.int(0);
            if !wanted.contains(&id) {
                return Ok(());
            }
            match &mut current {
                Some((cur, pieces)) if *cur == id => {
                    pieces.push(piece_from(r.0.get(1..).unwrap_or_default()))
                }
                _ => {
                    let first = piece_from(r.0.get(1..).unwrap_or_default());
                    if let Some((prev, pieces)) = current.replace((id, vec![first])) {
                        figures.push((prev, fuse_pieces(&pieces)));
                    }
                }
            }
            Ok(())
        },
    )?;
    if let Some((prev, pieces)) = current {
        figures.push((prev, fuse_pieces(&pieces)));
    }
    // Written after the read has finished: PostgreSQL runs one statement at a time per
    // connection.
    for chunk in figures.chunks(FUSE_BATCH) {
        write_figures(c, chunk, now)?;
    }
    Ok(())
}

/// Writes the fused figures of some cases in one statement.
fn write_figures(c: &mut Conn, figures: &[(i64, Fused)], now: i64) -> Result<(), StoreError> {
    if figures.is_empty() {
        return Ok(());
    }
    let one = "(CAST(? AS BIGINT), CAST(? AS TEXT), CAST(? AS DOUBLE PRECISION), \
               CAST(? AS DOUBLE PRECISION), CAST(? AS DOUBLE PRECISION), \
               CAST(? AS DOUBLE PRECISION), CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS BIGINT))";
    let mut values: Vec<Value> = vec![now.into()];
    for (id, f) in figures {
        let streams: Vec<&str> = f.streams.iter().map(|s| s.name()).collect();
        values.extend([
            Value::Int(*id),
            streams.join(",").into(),
            f.confidence.into(),
            f.power_kw.0.into(),
            f.power_kw.1.into(),
            f.power_kw.2.into(),
            f.seen.map(|s| s.0).into(),
            f.seen.map(|s| s.1).into(),
            f.count.into(),
        ]);
    }
    // `VALUES` columns are column1, column2, … on both engines; the casts give PostgreSQL the
    // parameter types it cannot infer inside VALUES.
    let sql = format!(
        "UPDATE cases SET updated_at = ?, streams = v.column2, confidence = v.column3, \
         power_kw = v.column4, power_kw_low = v.column5, power_kw_high = v.column6, \
         first_seen = v.column7, last_seen = v.column8, evidence_count = v.column9 \
         FROM (VALUES {}) AS v WHERE cases.case_id = v.column1",
        vec![one; figures.len()].join(", ")
    );
    c.execute(&sql, &values)?;
    Ok(())
}

/// Moves a case to another state, recording who, when and why; refuses what the lifecycle
/// does not allow.
pub fn advance(
    c: &mut Conn,
    case_id: i64,
    to: State,
    actor: &str,
    reason: &str,
    at: i64,
) -> Result<State, StoreError> {
    if actor.trim().is_empty() {
        return Err(StoreError::Invalid(
            "a transition needs who made it (--by)".into(),
        ));
    }
    if reason.trim().is_empty() {
        return Err(StoreError::Invalid(
            "a transition needs a reason (--reason)".into(),
        ));
    }
    c.transaction(|c| advance_within(c, case_id, to, actor, reason, at))
}

/// [`advance`] inside a transaction the caller holds, so an audit entry can share it.
pub fn advance_within(
    c: &mut Conn,
    case_id: i64,
    to: State,
    actor: &str,
    reason: &str,
    at: i64,
) -> Result<State, StoreError> {
    if actor.trim().is_empty() || reason.trim().is_empty() {
        return Err(StoreError::Invalid(
            "a transition needs who made it and why".into(),
        ));
    }
    let Some(r) = c.query_one(
        "SELECT state FROM cases WHERE case_id = ?",
        &[case_id.into()],
    )?
    else {
        return Err(StoreError::NoCase(case_id));
    };
    let from = State::parse(&r.text(0)).unwrap_or(State::Suspected);
    if !from.next().contains(&to) {
        return Err(StoreError::IllegalTransition {
            case: case_id,
            from: from.name().into(),
            to: to.name().into(),
            allowed: from
                .next()
                .iter()
                .map(|s| s.name())
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    transition(c, case_id, from, to, actor, reason, at)?;
    Ok(from)
}

/// Assigns a case to a department or person.
pub fn assign(
    c: &mut Conn,
    case_id: i64,
    to: &str,
    actor: &str,
    at: i64,
) -> Result<(), StoreError> {
    c.transaction(|c| assign_within(c, case_id, to, actor, at))
}

/// [`assign`] inside a transaction the caller holds.
pub fn assign_within(
    c: &mut Conn,
    case_id: i64,
    to: &str,
    actor: &str,
    at: i64,
) -> Result<(), StoreError> {
    let Some(r) = c.query_one(
        "SELECT state FROM cases WHERE case_id = ?",
        &[case_id.into()],
    )?
    else {
        return Err(StoreError::NoCase(case_id));
    };
    c.execute(
        "UPDATE cases SET assigned_to = ?, updated_at = ? WHERE case_id = ?",
        &[to.into(), at.into(), case_id.into()],
    )?;
    let state = r.text(0);
    record(
        c,
        case_id,
        at,
        actor,
        (&state, &state),
        &format!("assigned to {to}"),
    )
}

/// Filters for listing cases.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// Only these states.
    pub states: Vec<State>,
    /// Only sites whose region code starts with this.
    pub region: Option<String>,
    /// Only cases with evidence from this stream.
    pub stream: Option<Stream>,
    /// Only cases at or above this confidence.
    pub min_confidence: Option<f64>,
    /// Only cases with evidence handed in by this department.
    pub department: Option<String>,
    /// At most this many.
    pub limit: Option<i64>,
    /// Skip this many (paging).
    pub offset: i64,
    /// The order.
    pub order: Order,
}

/// How a case list is ordered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Order {
    /// Most confident first, then most power (the ranking index serves it).
    #[default]
    Rank,
    /// Most power first.
    Power,
    /// Earliest first sighting first.
    FirstSeen,
    /// By case number.
    Case,
}

impl Order {
    /// Parses `rank`, `power`, `first_seen`, `case`.
    pub fn parse(s: &str) -> Option<Order> {
        match s {
            "rank" | "confidence" => Some(Order::Rank),
            "power" => Some(Order::Power),
            "first_seen" => Some(Order::FirstSeen),
            "case" => Some(Order::Case),
            _ => None,
        }
    }
    fn sql(self) -> &'static str {
        match self {
            Order::Rank => " ORDER BY c.confidence DESC, c.power_kw DESC, c.case_id",
            Order::Power => " ORDER BY c.power_kw DESC, c.case_id",
            Order::FirstSeen => " ORDER BY c.first_seen, c.case_id",
            Order::Case => " ORDER BY c.case_id",
        }
    }
}

/// The WHERE clause of a filter and its values.
fn filter_sql(f: &Filter) -> (String, Vec<Value>) {
    let mut sql = String::from(" WHERE 1 = 1");
    let mut params: Vec<Value> = Vec::new();
    if !f.states.is_empty() {
        sql.push_str(&format!(
            " AND c.state IN ({})",
            vec!["?"; f.states.len()].join(", ")
        ));
        params.extend(f.states.iter().map(|s| Value::from(s.name())));
    }
    if let Some(r) = &f.region {
        // A prefix as a range, so the (state, region_code) index serves it (LIKE would not).
        sql.push_str(" AND c.region_code >= ?");
        params.push(r.as_str().into());
        if let Some(end) = digits_successor(r) {
            sql.push_str(" AND c.region_code < ?");
            params.push(end.into());
        }
    }
    if let Some(s) = f.stream {
        sql.push_str(" AND c.streams LIKE ?");
        params.push(format!("%{}%", s.name()).into());
    }
    if let Some(d) = &f.department {
        sql.push_str(
            " AND EXISTS (SELECT 1 FROM evidence e WHERE e.case_id = c.case_id AND e.department = ?)",
        );
        params.push(d.as_str().into());
    }
    if let Some(m) = f.min_confidence {
        sql.push_str(" AND c.confidence >= ?");
        params.push(m.into());
    }
    (sql, params)
}

/// Lists cases in the filter's order (most confident first by default), one page when it has
/// a limit.
pub fn list(c: &mut Conn, f: &Filter) -> Result<Vec<Case>, StoreError> {
    let (filter, mut params) = filter_sql(f);
    let mut sql = format!(
        "SELECT {CASE_COLUMNS} FROM cases c LEFT JOIN sites s ON s.site_id = c.site_id{filter}{}",
        f.order.sql()
    );
    if let Some(l) = f.limit {
        sql.push_str(" LIMIT ? OFFSET ?");
        params.push(l.into());
        params.push(f.offset.into());
    }
    c.query(&sql, &params)?.iter().map(case_from).collect()
}

/// How many cases the filter selects (ignoring its limit).
pub fn count(c: &mut Conn, f: &Filter) -> Result<i64, StoreError> {
    let (filter, params) = filter_sql(f);
    Ok(
        c.query_one(&format!("SELECT COUNT(*) FROM cases c{filter}"), &params)?
            .map_or(0, |r| r.int(0)),
    )
}

/// The smallest digit string above every string that starts with `prefix` (`1502` → `1503`,
/// `1599` → `16`); `None` for all nines. Region codes are digits, so this bounds a prefix
/// range in any collation.
fn digits_successor(prefix: &str) -> Option<String> {
    let mut d: Vec<u8> = prefix.bytes().collect();
    while let Some(last) = d.pop() {
        if last < b'9' {
            d.push(last + 1);
            return String::from_utf8(d).ok();
        }
    }
    None
}

/// One case by number.
pub fn get(c: &mut Conn, case_id: i64) -> Result<Case, StoreError> {
    let r = c
        .query_one(
            &format!("SELECT {CASE_COLUMNS} FROM cases c LEFT JOIN sites s ON s.site_id = c.site_id WHERE c.case_id = ?"),
            &[case_id.into()],
        )?
        .ok_or(StoreError::NoCase(case_id))?;
    case_from(&r)
}

/// One entry of a case's history.
#[derive(Clone, Debug, Serialize)]
pub struct Event {
    /// When (RFC 3339).
    pub at: String,
    /// Who.
    pub actor: String,
    /// From which state.
    pub from: Option<String>,
    /// To which state.
    pub to: String,
    /// Why.
    pub reason: String,
}

/// A case's history, oldest first.
pub fn history(c: &mut Conn, case_id: i64) -> Result<Vec<Event>, StoreError> {
    Ok(c.query(
        "SELECT at, actor, from_state, to_state, reason FROM case_events WHERE case_id = ? \
             ORDER BY event_id",
        &[case_id.into()],
    )?
    .iter()
    .map(|r| Event {
        at: time::format_instant(r.int(0)),
        actor: r.text(1),
        from: r.opt_text(2),
        to: r.text(3),
        reason: r.text(4),
    })
    .collect())
}

/// A piece of evidence as listed under a case or among the unattributed.
#[derive(Clone, Debug, Serialize)]
pub struct EvidenceRow {
    /// Content id.
    pub id: String,
    /// Stream.
    pub stream: String,
    /// Department.
    pub department: String,
    /// Detector.
    pub detector: String,
    /// `ip`, `meter` or `wallet`.
    pub subject_kind: String,
    /// The address, meter or wallet.
    pub subject: String,
    /// Source port of an IP subject.
    pub subject_port: Option<i64>,
    /// First observed (RFC 3339).
    pub observed_from: String,
    /// Last observed (RFC 3339).
    pub observed_to: String,
    /// Coin.
    pub coin: Option<String>,
    /// Pool.
    pub pool: Option<String>,
    /// Worker.
    pub worker: Option<String>,
    /// Wallet.
    pub wallet: Option<String>,
    /// Hash rate, H/s.
    pub hashrate_hs: Option<f64>,
    /// Power, W.
    pub power_w: Option<f64>,
    /// Confidence.
    pub confidence: f64,
    /// One line for people.
    pub summary: String,
    /// Source file and line.
    pub source: String,
    /// How it was tied to its site.
    pub attributed_by: Option<String>,
}

const EVIDENCE_COLUMNS: &str = "id, stream, department, detector, subject_kind, subject, \
     subject_port, observed_from, observed_to, coin, pool, worker, wallet, hashrate_hs, power_w, \
     confidence, summary, source_file, source_line, attributed_by";

fn evidence_from(r: &Row) -> EvidenceRow {
    EvidenceRow {
        id: r.text(0),
        stream: r.text(1),
        department: r.text(2),
        detector: r.text(3),
        subject_kind: r.text(4),
        subject: r.text(5),
        subject_port: r.opt_int(6),
        observed_from: time::format_instant(r.int(7)),
        observed_to: time::format_instant(r.int(8)),
        coin: r.opt_text(9),
        pool: r.opt_text(10),
        worker: r.opt_text(11),
        wallet: r.opt_text(12),
        hashrate_hs: r.opt_real(13),
        power_w: r.opt_real(14),
        confidence: r.real(15),
        summary: r.text(16),
        source: format!("{}:{}", r.text(17), r.int(18)),
        attributed_by: r.opt_text(19).filter(|a| !a.is_empty()),
    }
}

/// A case's evidence, in time order.
pub fn evidence(c: &mut Conn, case_id: i64) -> Result<Vec<EvidenceRow>, StoreError> {
    Ok(c.query(
        &format!(
            "SELECT {EVIDENCE_COLUMNS} FROM evidence WHERE case_id = ? ORDER BY observed_from, id"
        ),
        &[case_id.into()],
    )?
    .iter()
    .map(evidence_from)
    .collect())
}

/// Evidence no registry entry explains, newest first.
pub fn unattributed(c: &mut Conn, limit: i64) -> Result<Vec<EvidenceRow>, StoreError> {
    Ok(c
        .query(
            &format!("SELECT {EVIDENCE_COLUMNS} FROM evidence WHERE site_id IS NULL ORDER BY observed_from DESC, id LIMIT ?"),
            &[limit.into()],
        )?
        .iter()
        .map(evidence_from)
        .collect())
}

/// Count of evidence with no site.
pub fn unattributed_count(c: &mut Conn) -> Result<i64, StoreError> {
    Ok(
        c.query_one("SELECT COUNT(*) FROM evidence WHERE site_id IS NULL", &[])?
            .map_or(0, |r| r.int(0)),
    )
}

/// A meter's daily energy: first day, kWh per day (None where unread), the step onset; days
/// as Unix seconds of CST midnight.
pub type LoadCurve = (i64, Vec<Option<f32>>, Option<i64>);

/// The daily energy of the case's meter from its latest power-scan evidence, with the onset.
pub fn load_curve(c: &mut Conn, case_id: i64) -> Result<Option<LoadCurve>, StoreError> {
    let Some(r) = c.query_one(
        "SELECT detail FROM evidence WHERE case_id = ? AND stream = 'grid' \
         ORDER BY observed_to DESC LIMIT 1",
        &[case_id.into()],
    )?
    else {
        return Ok(None);
    };
    let Ok(v) = serde_json::from_str::<serde_json::Value>(&r.text(0)) else {
        return Ok(None);
    };
    let Some(start) = v
        .pointer("/daily_kwh/start")
        .and_then(serde_json::Value::as_str)
        .and_then(time::parse_date)
    else {
        return Ok(None);
    };
    let values: Vec<Option<f32>> = v
        .pointer("/daily_kwh/values")
        .and_then(serde_json::Value::as_array)
        .map(|a| a.iter().map(|x| x.as_f64().map(|f| f as f32)).collect())
        .unwrap_or_default();
    if values.is_empty() {
        return Ok(None);
    }
    let onset = v
        .get("onset")
        .and_then(serde_json::Value::as_str)
        .and_then(time::parse_date);
    Ok(Some((start, values, onset)))
}

/// A step of the money around a case's wallets, from its chain evidence: mined income into a
/// wallet, or its coins reaching a tagged entity.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TrailStep {
    /// The traced wallet.
    pub wallet: String,
    /// True for mined income into the wallet, false for money reaching a tagged entity.
    pub inflow: bool,
    /// The pool that paid, or the entity's label.
    pub party: String,
    /// The entity's category (exchange, mixer, sanctioned …), for outflows.
    pub category: Option<String>,
    /// Hops from the wallet (-1 for income).
    pub hop: i64,
    /// Amount, satoshi.
    pub value_sat: i64,
    /// Transaction.
    pub txid: String,
    /// When (RFC 3339).
    pub at: String,
}

/// The money trail of a case: its chain evidence as steps, oldest first.
pub fn money_trail(c: &mut Conn, case_id: i64) -> Result<Vec<TrailStep>, StoreError> {
    let rows = c.query(
        "SELECT detector, detail FROM evidence WHERE case_id = ? AND stream = 'chain' \
         ORDER BY observed_from, id",
        &[case_id.into()],
    )?;
    let mut out = Vec::new();
    for r in &rows {
        // Evidence keeps the trace line as it came; a line that no longer parses is left out
        // of the drawing, not of the evidence list.
        let Ok(v) = serde_json::from_str::<serde_json::Value>(&r.text(1)) else {
            continue;
        };
        let text = |k: &str| {
            v.get(k)
                .and_then(serde_json::Value::as_str)
                .map(str::to_string)
        };
        let inflow = r.text(0) == "mined-income";
        let party = if inflow {
            text("pool")
        } else {
            text("to_label")
        };
        let (Some(wallet), Some(txid)) = (text("traced"), text("txid")) else {
            continue;
        };
        out.push(TrailStep {
            wallet,
            inflow,
            party: party.unwrap_or_else(|| "?".into()),
            category: if inflow { None } else { text("to_category") },
            hop: v
                .get("hop")
                .and_then(serde_json::Value::as_i64)
                .unwrap_or(0),
            value_sat: v
                .get("value_sat")
                .and_then(serde_json::Value::as_i64)
                .unwrap_or(0),
            txid,
            at: time::format_instant(
                v.get("time")
                    .and_then(serde_json::Value::as_i64)
                    .unwrap_or(0),
            ),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn piece(stream: Stream, conf: f64, w: Option<f64>, rig: &str, seen: (i64, i64)) -> Piece {
        Piece {
            stream,
            confidence: conf,
            power_w: w.map(|w| (w, w * 0.5, w * 2.0)),
            seen,
            rig: rig.into(),
        }
    }

    #[test]
    fn streams_agreeing_raise_confidence_and_the_meter_sets_power() {
        let f = fuse_pieces(&[
            piece(Stream::Grid, 0.6, Some(14_000.0), "M1", (100, 200)),
            piece(Stream::Network, 0.5, Some(3_000.0), "rig1", (50, 60)),
            piece(Stream::Network, 0.4, Some(3_500.0), "rig1", (70, 80)),
        ]);
        assert!((f.confidence - 0.8).abs() < 1e-9, "{}", f.confidence);
        assert_eq!(f.streams.len(), 2);
        assert_eq!(f.seen, Some((50, 200)));
        // Grid best 14 kW; the network's floor (one rig, its largest estimate: 1.75 kW) is
        // below the grid's low bound (7 kW), so the grid's bounds stand.
        assert_eq!(f.power_kw, (14.0, 7.0, 28.0));
    }

    #[test]
    fn network_power_sums_rigs_not_sessions() {
        let f = fuse_pieces(&[
            piece(Stream::Network, 1.0, Some(1000.0), "a", (0, 1)),
            piece(Stream::Network, 1.0, Some(1000.0), "a", (2, 3)),
            piece(Stream::Network, 1.0, Some(500.0), "b", (4, 5)),
        ]);
        assert_eq!(f.power_kw, (1.5, 0.75, 3.0));
        assert_eq!(f.confidence, 1.0);
    }

    #[test]
    fn prefix_ranges_end_at_the_next_code() {
        assert_eq!(digits_successor("1502").as_deref(), Some("1503"));
        assert_eq!(digits_successor("1599").as_deref(), Some("16"));
        assert_eq!(digits_successor("99"), None);
    }

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
