//! Queries over cases: lists by region, state and order, one case's history, evidence, load
//! curve and money trail.

use serde::Serialize;

use super::{CASE_COLUMNS, Case, State, case_from};
use crate::db::{Conn, Row, Value};
use crate::evidence::Stream;
use crate::{StoreError, time};

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

    #[test]
    fn prefix_ranges_end_at_the_next_code() {
        assert_eq!(digits_successor("1502").as_deref(), Some("1503"));
        assert_eq!(digits_successor("1599").as_deref(), Some("16"));
        assert_eq!(digits_successor("99"), None);
    }
}
