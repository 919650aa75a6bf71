//! What active probes found of servers (`minewatch confirm`), cached with an expiry, and the
//! servers that evidence in the store suspects but no fresh probe has asked.
//!
//! The probe itself lives in `minewatch-probe`; the store only keeps its outcomes as plain
//! values, so this crate opens no sockets.

use crate::StoreError;
use crate::db::{Conn, Value};
use std::collections::BTreeMap;

pub use minewatch_model::probe::ProbeRecord;

/// Which servers a confirmation run asks, and what it shows from the store instead.
#[derive(Clone, Debug, Default)]
pub struct Plan {
    /// `(target, sni)` to ask.
    pub ask: Vec<(String, Option<String>)>,
    /// Outcomes still standing, shown instead of asking again.
    pub cached: Vec<ProbeRecord>,
}

/// The run's plan: the `given` targets (with the SNI to send), then, with `pending`, at most
/// that many servers the evidence suspects (their SNI from the evidence unless `sni` is
/// given); unless `refresh`, a target whose outcome still stands is shown, not asked.
pub fn plan(
    conn: &mut Conn,
    given: &[String],
    sni: Option<&str>,
    pending_max: Option<usize>,
    refresh: bool,
    now: i64,
) -> Result<Plan, StoreError> {
    let mut want: Vec<(String, Option<String>)> = given
        .iter()
        .map(|t| (t.clone(), sni.map(str::to_string)))
        .collect();
    if let Some(max) = pending_max {
        for p in pending(conn, now, max)? {
            want.push((p.target, sni.map(str::to_string).or(p.sni)));
        }
    }
    let mut out = Plan::default();
    for (target, sni) in want {
        let standing = if refresh {
            None
        } else {
            fresh(conn, &target, now)?
        };
        match standing {
            Some(rec) => out.cached.push(rec),
            None => out.ask.push((target, sni)),
        }
    }
    Ok(out)
}

/// A server suspected by evidence in the store, not asked since its last probe expired.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pending {
    /// `address:port` (`[v6]:port` for IPv6).
    pub target: String,
    /// A host name the evidence knows for it (SNI, HTTP Host, a pool name), for TLS.
    pub sni: Option<String>,
    /// Evidence rows that point at it.
    pub evidence: usize,
}

/// Detectors whose network findings are guesses about the server: the same set that
/// `minewatch-probe` confirms (`detections::is_guess`), kept here by name so the store does not
/// depend on the prober.
const GUESSES: &[&str] = &[
    "behaviour",
    "pool-ip",
    "pool-sni",
    "pool-http",
    "pool-answer",
];

/// Saves (or replaces) a server's outcome.
pub fn save(conn: &mut Conn, r: &ProbeRecord) -> Result<(), StoreError> {
    let opt = |s: &Option<String>| s.clone().map_or(Value::Null, Value::Text);
    conn.execute(
        "DELETE FROM probes WHERE target = ?",
        &[Value::Text(r.target.clone())],
    )?;
    conn.execute(
        "INSERT INTO probes (target, transport, verdict, dialect, coin, reason, answer, connections, probed_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        &[
            Value::Text(r.target.clone()),
            opt(&r.transport),
            Value::Text(r.verdict.clone()),
            opt(&r.dialect),
            opt(&r.coin),
            Value::Text(r.reason.clone()),
            Value::Text(r.answer.clone()),
            Value::Int(r.connections),
            Value::Int(r.probed_at),
            Value::Int(r.expires_at),
        ],
    )?;
    Ok(())
}

/// What a confirmed pool adds to a suspicion's confidence, as one more independent piece of
/// evidence (`1 − (1 − c)(1 − w)`); the same weight as `scan --confirm` gives.
pub const POOL_WEIGHT: f64 = 0.9;
/// What "not a pool" leaves of it.
pub const NOT_POOL_FACTOR: f64 = 0.5;

/// What applying a verdict changed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Applied {
    /// Evidence rows whose confidence the verdict set.
    pub evidence: usize,
    /// Cases fused again.
    pub cases: Vec<i64>,
}

/// Saves a server's outcome and applies its verdict to the evidence that suspected it: a pool
/// lifts each row's confidence, "not a pool" halves it, unreachable leaves it as the detector
/// said; the row's summary says which. Always from what the detector said, so a later verdict
/// replaces an earlier one rather than adding to it. The cases of those rows are fused again
/// and the change is audited, all in one transaction.
pub fn apply(conn: &mut Conn, r: &ProbeRecord, actor: &str) -> Result<Applied, StoreError> {
    apply_all(conn, std::slice::from_ref(r), actor)
}

/// [`apply`] for a run's outcomes at once: the suspicions are read and parsed once, the
/// touched cases fused once, one audit entry per server.
pub fn apply_all(
    conn: &mut Conn,
    records: &[ProbeRecord],
    actor: &str,
) -> Result<Applied, StoreError> {
    conn.transaction(|c| {
        for r in records {
            save(c, r)?;
        }
        let by_target: BTreeMap<&str, &ProbeRecord> =
            records.iter().map(|r| (r.target.as_str(), r)).collect();
        let mut per_target: BTreeMap<&str, usize> = BTreeMap::new();
        let mut applied = Applied::default();
        let rows = suspicions(
            c,
            "id, detail, confidence, detector_confidence, summary, case_id",
        )?;
        for row in rows {
            let Some((target, _)) = read_detail(&row.text(1)) else {
                continue;
            };
            let Some(r) = by_target.get(target.as_str()) else {
                continue;
            };
            let said = row.opt_real(3).unwrap_or_else(|| row.real(2));
            let (confidence, note) = match r.verdict.as_str() {
                "pool" => (
                    1.0 - (1.0 - said) * (1.0 - POOL_WEIGHT),
                    format!(
                        "probe: a pool ({})",
                        r.dialect.as_deref().unwrap_or("unknown dialect")
                    ),
                ),
                "not-pool" => (said * NOT_POOL_FACTOR, "probe: not a pool".to_string()),
                _ => (said, "probe: unreachable".to_string()),
            };
            let summary = row.text(4);
            let base = summary.split(" [probe: ").next().unwrap_or(&summary);
            let summary = format!("{base} [{note}]");
            c.execute(
                "UPDATE evidence SET detector_confidence = ?, confidence = ?, summary = ? WHERE id = ?",
                &[
                    Value::Real(said),
                    Value::Real(confidence),
                    Value::Text(summary),
                    Value::Text(row.text(0)),
                ],
            )?;
            applied.evidence += 1;
            *per_target.entry(r.target.as_str()).or_default() += 1;
            if let Some(case) = row.opt_int(5)
                && !applied.cases.contains(&case)
            {
                applied.cases.push(case);
            }
        }
        crate::cases::refigure(c, &applied.cases)?;
        for r in records {
            crate::audit::append(
                c,
                r.probed_at,
                actor,
                "probe",
                &r.target,
                &format!(
                    "{}: {}; {} evidence row(s)",
                    r.verdict,
                    r.reason,
                    per_target.get(r.target.as_str()).copied().unwrap_or(0)
                ),
            )?;
        }
        Ok(applied)
    })
}

/// The network evidence of behaviour and list detectors: the given columns of each row.
fn suspicions(c: &mut Conn, columns: &str) -> Result<Vec<crate::db::Row>, StoreError> {
    let marks = vec!["?"; GUESSES.len()].join(", ");
    let mut params = vec![Value::Text("network".into())];
    params.extend(GUESSES.iter().map(|d| Value::Text((*d).to_string())));
    c.query(
        &format!("SELECT {columns} FROM evidence WHERE stream = ? AND detector IN ({marks})"),
        &params,
    )
}

/// From a network evidence line: its destination as `address:port`, and a host name for it
/// when the line names one (the pool field, an address or "Pool (host)" text reduced to the
/// host), read in one parse.
fn read_detail(detail: &str) -> Option<(String, Option<String>)> {
    let v: serde_json::Value = serde_json::from_str(detail).ok()?;
    let ip: std::net::IpAddr = v.pointer("/destination/ip")?.as_str()?.parse().ok()?;
    let port = u16::try_from(v.pointer("/destination/port")?.as_u64()?).ok()?;
    let sni = v
        .pointer("/mining/pool")
        .and_then(|x| x.as_str())
        .map(|p| {
            p.rsplit_once(" (")
                .map_or(p, |(_, h)| h.trim_end_matches(')'))
        })
        .filter(|h| h.contains('.') && h.parse::<std::net::IpAddr>().is_err() && !h.contains(':'))
        .map(str::to_string);
    Some((std::net::SocketAddr::new(ip, port).to_string(), sni))
}

/// The columns [`record`] reads, in its order.
const COLUMNS: &str =
    "target, transport, verdict, dialect, coin, reason, answer, connections, probed_at, expires_at";

fn record(r: &crate::db::Row) -> ProbeRecord {
    ProbeRecord {
        target: r.text(0),
        transport: r.opt_text(1),
        verdict: r.text(2),
        dialect: r.opt_text(3),
        coin: r.opt_text(4),
        reason: r.text(5),
        answer: r.text(6),
        connections: r.int(7),
        probed_at: r.int(8),
        expires_at: r.int(9),
    }
}

/// The outcome for `target` that still stands at `now`.
pub fn fresh(conn: &mut Conn, target: &str, now: i64) -> Result<Option<ProbeRecord>, StoreError> {
    let row = conn.query_one(
        &format!("SELECT {COLUMNS} FROM probes WHERE target = ? AND expires_at > ?"),
        &[Value::Text(target.to_string()), Value::Int(now)],
    )?;
    Ok(row.as_ref().map(record))
}

/// The latest outcome (standing or expired) of each server that case `case`'s network
/// evidence suspects, by target: what an inspector reads as the server's own answer.
pub fn of_case(conn: &mut Conn, case: i64) -> Result<Vec<ProbeRecord>, StoreError> {
    let marks = vec!["?"; GUESSES.len()].join(", ");
    let mut params = vec![Value::Int(case), Value::Text("network".into())];
    params.extend(GUESSES.iter().map(|d| Value::Text((*d).to_string())));
    let targets: std::collections::BTreeSet<String> = conn
        .query(
            &format!(
                "SELECT detail FROM evidence WHERE case_id = ? AND stream = ? AND detector IN ({marks})"
            ),
            &params,
        )?
        .iter()
        .filter_map(|r| read_detail(&r.text(0)).map(|(t, _)| t))
        .collect();
    if targets.is_empty() {
        return Ok(Vec::new());
    }
    let marks = vec!["?"; targets.len()].join(", ");
    let params: Vec<Value> = targets.into_iter().map(Value::Text).collect();
    let mut out: Vec<ProbeRecord> = conn
        .query(
            &format!("SELECT {COLUMNS} FROM probes WHERE target IN ({marks})"),
            &params,
        )?
        .iter()
        .map(record)
        .collect();
    // In byte order on both engines (PostgreSQL's collation may sort text otherwise).
    out.sort_by(|a, b| a.target.cmp(&b.target));
    Ok(out)
}

/// Servers that network evidence suspects (behaviour and list findings) with no outcome
/// standing at `now`, most-cited first, at most `limit`.
pub fn pending(conn: &mut Conn, now: i64, limit: usize) -> Result<Vec<Pending>, StoreError> {
    let standing: std::collections::BTreeSet<String> = conn
        .query(
            "SELECT target FROM probes WHERE expires_at > ?",
            &[Value::Int(now)],
        )?
        .iter()
        .map(|r| r.text(0))
        .collect();
    let mut by: BTreeMap<String, Pending> = BTreeMap::new();
    for r in suspicions(conn, "detail")? {
        let Some((target, sni)) = read_detail(&r.text(0)) else {
            continue;
        };
        if standing.contains(&target) {
            continue;
        }
        let e = by.entry(target.clone()).or_insert(Pending {
            target,
            sni: None,
            evidence: 0,
        });
        e.evidence += 1;
        if e.sni.is_none() {
            e.sni = sni;
        }
    }
    let mut out: Vec<Pending> = by.into_values().collect();
    out.sort_by(|a, b| {
        b.evidence
            .cmp(&a.evidence)
            .then_with(|| a.target.cmp(&b.target))
    });
    out.truncate(limit);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::{Rules, Source, import};
    use crate::{Conn, Store};

    fn line(detector: &str, src: &str, dst: &str, port: u16, pool: &str) -> String {
        format!(
            r#"{{"@timestamp":"2024-03-01T00:00:00Z","event":{{"kind":"alert","dataset":"minewatch.scan","start":"2024-03-01T00:00:00Z","end":"2024-03-01T00:30:00Z"}},"source":{{"ip":"{src}","port":40001}},"destination":{{"ip":"{dst}","port":{port}}},"mining":{{"detector":"{detector}","pool":"{pool}","confidence":0.55}}}}"#
        )
    }

    #[test]
    fn suspected_servers_are_pending_until_a_probe_stands() {
        let dir = tempfile::tempdir().unwrap();
        for e in crate::testing::engines(dir.path(), "probes_pending") {
            let mut st = Store::open(&e.target).unwrap();
            let lines = [
                line(
                    "behaviour",
                    "10.0.0.1",
                    "198.51.100.7",
                    443,
                    "198.51.100.7:443",
                ),
                line(
                    "behaviour",
                    "10.0.0.2",
                    "198.51.100.7",
                    443,
                    "198.51.100.7:443",
                ),
                line(
                    "pool-sni",
                    "10.0.0.3",
                    "2001:db8::9",
                    3333,
                    "ExPool (xmr.expool.example)",
                ),
                // A protocol parse: the server already said what it is.
                line(
                    "stratum",
                    "10.0.0.4",
                    "203.0.113.1",
                    3333,
                    "203.0.113.1:3333",
                ),
            ]
            .join("\n");
            let rules = Rules {
                department: None,
                region: "",
                confidence: None,
            };
            let src = Source::Reader("t.jsonl".into(), Box::new(std::io::Cursor::new(lines)));
            import(&mut st.conn, vec![src], &rules, false).unwrap();
            let now = 1_800_000_000;
            let p = pending(&mut st.conn, now, 10).unwrap();
            assert_eq!(
                p,
                vec![
                    Pending {
                        target: "198.51.100.7:443".into(),
                        sni: None,
                        evidence: 2
                    },
                    Pending {
                        target: "[2001:db8::9]:3333".into(),
                        sni: Some("xmr.expool.example".into()),
                        evidence: 1
                    },
                ],
                "{}",
                e.label
            );
            let rec = ProbeRecord {
                target: "198.51.100.7:443".into(),
                transport: Some("tls".into()),
                verdict: "pool".into(),
                dialect: Some("bitcoin".into()),
                coin: None,
                reason: "subscribe result naming mining.notify".into(),
                answer: "{...}".into(),
                connections: 8,
                probed_at: now,
                expires_at: now + 86_400,
            };
            save(&mut st.conn, &rec).unwrap();
            save(&mut st.conn, &rec).unwrap();
            assert_eq!(
                fresh(&mut st.conn, &rec.target, now + 10).unwrap(),
                Some(rec.clone())
            );
            assert_eq!(pending(&mut st.conn, now, 10).unwrap().len(), 1);
            // Expired: asked again.
            assert_eq!(
                fresh(&mut st.conn, &rec.target, now + 86_400).unwrap(),
                None
            );
            assert_eq!(pending(&mut st.conn, now + 86_400, 10).unwrap().len(), 2);
        }
    }

    #[test]
    fn a_verdict_sets_the_suspicions_confidence_and_its_cases_figures() {
        let dir = tempfile::tempdir().unwrap();
        let w = |name: &str, text: &str| crate::testing::write(dir.path(), name, text);
        let registry = [
            w(
                "regions.csv",
                "code,name_zh,name_en\n150202,东河区,Donghe\n",
            ),
            w(
                "sites.csv",
                "site_id,name,address,region_code,lat,lon,tariff_class,capacity_kva,owner\n\
                 S1,Farm,No. 1 Road,150202,40.6,110.0,residential,20,Wang\n",
            ),
            w(
                "subscribers.csv",
                "subscriber_id,name,phone,site_id\nU1,Wang,1380,S1\n",
            ),
            w(
                "ip-assignments.csv",
                "ip,start,end,subscriber_id\n10.0.0.1,2024-01-01,,U1\n",
            ),
        ];
        for e in crate::testing::engines(dir.path(), "probes_apply") {
            let mut st = Store::open(&e.target).unwrap();
            for f in &registry {
                crate::registry::import(&mut st.conn, f, None).unwrap();
            }
            let lines = line(
                "behaviour",
                "10.0.0.1",
                "198.51.100.7",
                443,
                "198.51.100.7:443",
            );
            let rules = Rules {
                department: None,
                region: "",
                confidence: None,
            };
            let src = Source::Reader("t.jsonl".into(), Box::new(std::io::Cursor::new(lines)));
            import(&mut st.conn, vec![src], &rules, true).unwrap();
            let case = || {
                let mut conn = Conn::open(&e.target).unwrap();
                let r = conn
                    .query_one(
                        "SELECT case_id, confidence FROM cases WHERE site_id = 'S1'",
                        &[],
                    )
                    .unwrap()
                    .unwrap();
                (r.int(0), r.real(1))
            };
            let (id, before) = case();
            assert!((before - 0.55).abs() < 1e-9, "{}: {before}", e.label);
            let mut rec = ProbeRecord {
                target: "198.51.100.7:443".into(),
                transport: Some("tcp".into()),
                verdict: "not-pool".into(),
                dialect: None,
                coin: None,
                reason: "no answer in any mining protocol's shape".into(),
                answer: String::new(),
                connections: 14,
                probed_at: 1_800_000_000,
                expires_at: 1_800_604_800,
            };
            let a = apply(&mut st.conn, &rec, "tester").unwrap();
            assert_eq!(
                a,
                Applied {
                    evidence: 1,
                    cases: vec![id]
                },
                "{}",
                e.label
            );
            assert!((case().1 - 0.275).abs() < 1e-9, "{}: {}", e.label, case().1);
            // A later verdict starts from what the detector said, not from the last verdict.
            rec.verdict = "pool".into();
            rec.dialect = Some("bitcoin".into());
            apply(&mut st.conn, &rec, "tester").unwrap();
            assert!((case().1 - 0.955).abs() < 1e-9, "{}: {}", e.label, case().1);
            let summary = st
                .conn
                .query_one("SELECT summary FROM evidence", &[])
                .unwrap()
                .unwrap()
                .text(0);
            assert!(summary.ends_with(" [probe: a pool (bitcoin)]"), "{summary}");
            assert_eq!(summary.matches("[probe:").count(), 1);
            // The case shows the server's latest answer.
            assert_eq!(
                of_case(&mut st.conn, id).unwrap(),
                vec![rec.clone()],
                "{}",
                e.label
            );
            assert!(of_case(&mut st.conn, id + 1).unwrap().is_empty());
            // Both changes are in the audit chain, which still verifies.
            let v = crate::audit::verify(&mut st.conn).unwrap();
            assert!(v.entries >= 2 && v.broken_at.is_none(), "{v:?}");
        }
    }
}
