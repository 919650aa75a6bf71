//! Fusion: a site's evidence into its case's figures (confidence, power, energy, when seen),
//! opening cases for new sites and reopening closed ones when fresh evidence arrives.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::lifecycle::transition;
use super::{SYSTEM_ACTOR, State};
use crate::db::{Conn, Row, Value};
use crate::evidence::Stream;
use crate::{StoreError, time};

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
}
