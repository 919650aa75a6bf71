//! Evidence: one observation of mining from one stream, with its provenance.
//!
//! Parsing is a pure function from one JSON line to an [`Evidence`] (or to "not evidence":
//! a power row below the threshold). The kind of line is told by its shape: a `minewatch scan`
//! detection has `event.dataset = "minewatch.scan"`, a `minewatch power scan` row has
//! `meter_id` and `score`. The id is a content hash of what makes the observation itself, not
//! of the file it came in, so the same detection imported from two files is one row.
//!
//! Lines are read member by member (`event.start`, `mining.pool`…), not deserialised into
//! `minewatch_model::Detection` or the power and chain crates' row types, on purpose: the store
//! takes lines from other versions of minewatch, from uploads and from hand-made files, and a
//! typed parse refuses a whole line for one member of an unexpected type or one it does not
//! know, where a case needs what the line does say. What is required is named in the error
//! (`event.start is missing`); everything else is optional and read if it is there. The store
//! depends on the model for the vocabulary it shows (hash rates, languages), not for the
//! shape of the lines.

use serde::Serialize;
use serde_json::Value as Json;
use sha2::{Digest, Sha256};

use crate::time::{parse_date, parse_instant};

/// Which stream an observation comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Stream {
    /// Packets and flows.
    Network,
    /// Meter data.
    Grid,
    /// Blocks and transactions.
    Chain,
}

impl Stream {
    /// The stream's name as stored.
    pub fn name(self) -> &'static str {
        match self {
            Stream::Network => "network",
            Stream::Grid => "grid",
            Stream::Chain => "chain",
        }
    }
    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Stream> {
        match s {
            "network" => Some(Stream::Network),
            "grid" => Some(Stream::Grid),
            "chain" => Some(Stream::Chain),
            _ => None,
        }
    }
    /// The department that normally produces this stream.
    pub fn department(self) -> &'static str {
        match self {
            Stream::Network => "network",
            Stream::Grid => "grid",
            Stream::Chain => "finance",
        }
    }
}

/// The departments that hand in evidence.
pub const DEPARTMENTS: [&str; 4] = ["network", "grid", "finance", "police"];

/// What an observation is about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Subject {
    /// A host seen on the network (the miner's address and source port).
    Ip {
        /// The address.
        ip: String,
        /// The source port (needed behind carrier-grade NAT).
        port: Option<u16>,
    },
    /// A meter.
    Meter {
        /// Meter id.
        id: String,
    },
    /// A wallet.
    Wallet {
        /// Address.
        address: String,
    },
}

impl Subject {
    /// `ip`, `meter` or `wallet`.
    pub fn kind(&self) -> &'static str {
        match self {
            Subject::Ip { .. } => "ip",
            Subject::Meter { .. } => "meter",
            Subject::Wallet { .. } => "wallet",
        }
    }
    /// The address, meter id or wallet.
    pub fn value(&self) -> &str {
        match self {
            Subject::Ip { ip, .. } => ip,
            Subject::Meter { id } => id,
            Subject::Wallet { address } => address,
        }
    }
}

/// One observation, ready to store.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Evidence {
    /// Content hash (32 hex digits).
    pub id: String,
    /// Stream.
    pub stream: Stream,
    /// Department that handed it in.
    pub department: String,
    /// Detector that produced it (`stratum`, `pool-sni`, `power-score` …).
    pub detector: String,
    /// What it is about.
    pub subject: Subject,
    /// First instant observed (Unix seconds).
    pub observed_from: i64,
    /// Last instant observed (Unix seconds).
    pub observed_to: i64,
    /// Coin, when known.
    pub coin: Option<String>,
    /// Pool, when known.
    pub pool: Option<String>,
    /// Worker (rig) name, when known.
    pub worker: Option<String>,
    /// Payout wallet, when known.
    pub wallet: Option<String>,
    /// Estimated hash rate, H/s.
    pub hashrate_hs: Option<f64>,
    /// Estimated power, best guess, W.
    pub power_w: Option<f64>,
    /// Lower bound, W.
    pub power_w_low: Option<f64>,
    /// Upper bound, W.
    pub power_w_high: Option<f64>,
    /// 0..1.
    pub confidence: f64,
    /// One line for people.
    pub summary: String,
    /// The file it came from.
    pub source_file: String,
    /// Its 1-based line there.
    pub source_line: u64,
    /// The tool and version that produced the line.
    pub tool: String,
    /// The line as it came, for the record.
    pub detail: String,
}

/// What a line turned out to be.
#[derive(Debug)]
pub enum Parsed {
    /// Evidence to store.
    Evidence(Box<Evidence>),
    /// A power-scan row below the suspicion threshold: counted, not stored.
    BelowThreshold,
    /// A trace step that says nothing about mining (an intermediate hop to an untagged
    /// address): counted, not stored.
    Context,
}

/// Power bounds around a meter's estimated mining load: the step is measured on interval
/// readings, but hourly averages blur it and other loads switch with it. On generated regions
/// 54 of 57 suspected miners' estimates lie within ±15 % of the planted load
/// (`bash bench/fusion_eval.sh`, docs/DETECTION.md "Cases").
pub const METER_POWER_SPREAD: f64 = 0.15;

fn content_id(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0x1f]);
    }
    let digest: [u8; 32] = h.finalize().into();
    hex::encode(digest.first_chunk::<16>().unwrap_or(&[0; 16]))
}

fn s<'a>(v: &'a Json, path: &[&str]) -> Option<&'a str> {
    path.iter().try_fold(v, |v, k| v.get(k))?.as_str()
}

fn f(v: &Json, path: &[&str]) -> Option<f64> {
    path.iter()
        .try_fold(v, |v, k| v.get(k))?
        .as_f64()
        .filter(|x| x.is_finite())
}

/// Where a line came from: the line itself (kept as the evidence's detail), its file and
/// number, and the department that sent it, when given.
struct Origin<'a> {
    line: &'a str,
    file: &'a str,
    line_no: u64,
    department: Option<&'a str>,
}

/// Parses one line of `minewatch scan` or `minewatch power scan` output.
pub fn parse_line(
    line: &str,
    source_file: &str,
    source_line: u64,
    department: Option<&str>,
) -> Result<Parsed, String> {
    let v: Json = serde_json::from_str(line).map_err(|e| format!("not JSON: {e}"))?;
    parse_value(&v, line, source_file, source_line, department)
}

/// [`parse_line`] for a line already read as JSON (`v` is `line` parsed), for callers that
/// look at the JSON themselves too.
pub fn parse_value(
    v: &Json,
    line: &str,
    source_file: &str,
    source_line: u64,
    department: Option<&str>,
) -> Result<Parsed, String> {
    let o = Origin {
        line,
        file: source_file,
        line_no: source_line,
        department,
    };
    if s(v, &["event", "dataset"]) == Some("minewatch.scan") {
        network(v, &o).map(|e| Parsed::Evidence(Box::new(e)))
    } else if v.get("meter_id").is_some() && v.get("score").is_some() {
        grid(v, &o)
    } else if v.get("traced").is_some() && v.get("txid").is_some() {
        chain(v, &o)
    } else {
        Err(
            "neither a minewatch scan detection (event.dataset), a power scan row (meter_id, \
             score) nor a chain trace step (traced, txid)"
                .into(),
        )
    }
}

fn network(v: &Json, o: &Origin<'_>) -> Result<Evidence, String> {
    let start_s = s(v, &["event", "start"]).ok_or("event.start is missing")?;
    let start =
        parse_instant(start_s).ok_or_else(|| format!("event.start '{start_s}' is not RFC 3339"))?;
    let end = s(v, &["event", "end"])
        .and_then(parse_instant)
        .unwrap_or(start);
    let raw_ip = s(v, &["source", "ip"]).ok_or("source.ip is missing")?;
    let ip = crate::registry::normalise_ip(raw_ip)
        .ok_or_else(|| format!("source.ip '{raw_ip}' is not an IP address"))?;
    let ip = ip.as_str();
    let port = v
        .get("source")
        .and_then(|x| x.get("port"))
        .and_then(Json::as_u64)
        .and_then(|p| u16::try_from(p).ok())
        .filter(|p| *p != 0);
    let dst = s(v, &["destination", "ip"]).unwrap_or("");
    let dport = v
        .get("destination")
        .and_then(|x| x.get("port"))
        .map(|p| p.to_string())
        .unwrap_or_default();
    let detector = s(v, &["mining", "detector"])
        .unwrap_or("unknown")
        .to_string();
    let m = |k: &str| s(v, &["mining", k]).map(str::to_string);
    let confidence = f(v, &["mining", "confidence"])
        .unwrap_or(0.5)
        .clamp(0.0, 1.0);
    let hashrate = f(v, &["mining", "hashrate_hs"]);
    let pool = m("pool");
    let coin = m("coin");
    let mut summary = detector.clone();
    if let Some(d) = s(v, &["mining", "dialect"]).filter(|d| *d != "unknown") {
        summary.push_str(&format!(" {d}"));
    }
    if let Some(c) = &coin {
        summary.push_str(&format!(" {c}"));
    }
    if let Some(p) = &pool {
        summary.push_str(&format!(" to {p}"));
    }
    if let Some(w) = m("worker") {
        summary.push_str(&format!(", worker {w}"));
    }
    if let Some(h) = hashrate {
        summary.push_str(&format!(", {}", minewatch_model::HashRate(h)));
    }
    let id = content_id(&[
        "network",
        &detector,
        ip,
        &port.map(|p| p.to_string()).unwrap_or_default(),
        dst,
        &dport,
        start_s,
    ]);
    Ok(Evidence {
        id,
        stream: Stream::Network,
        department: o.department.unwrap_or("network").to_string(),
        detector,
        subject: Subject::Ip {
            ip: ip.to_string(),
            port,
        },
        observed_from: start,
        observed_to: end.max(start),
        coin,
        pool,
        worker: m("worker"),
        wallet: m("wallet"),
        hashrate_hs: hashrate,
        power_w: f(v, &["mining", "power_w"]),
        power_w_low: f(v, &["mining", "power_w_low"]),
        power_w_high: f(v, &["mining", "power_w_high"]),
        confidence,
        summary,
        source_file: o.file.to_string(),
        source_line: o.line_no,
        tool: "minewatch scan".into(),
        detail: o.line.to_string(),
    })
}

fn grid(v: &Json, o: &Origin<'_>) -> Result<Parsed, String> {
    if v.get("suspected").and_then(Json::as_bool) == Some(false) {
        return Ok(Parsed::BelowThreshold);
    }
    let meter = s(v, &["meter_id"]).ok_or("meter_id is not text")?;
    let score = f(v, &["score"]).ok_or("score is not a number")?;
    let ws = s(v, &["window_start"]).ok_or("window_start is missing")?;
    let we = s(v, &["window_end"]).ok_or("window_end is missing")?;
    let w_start = parse_date(ws).ok_or_else(|| format!("window_start '{ws}' is not a date"))?;
    let w_end = parse_date(we).ok_or_else(|| format!("window_end '{we}' is not a date"))? + 86_399;
    // The meter shows mining from the step onwards; without a step, from the window's start.
    let from = s(v, &["onset"])
        .and_then(parse_date)
        .unwrap_or(w_start)
        .min(w_end);
    // A machine that left: to the end of the day before its departure.
    let to = s(v, &["departure"])
        .and_then(parse_date)
        .map_or(w_end, |d| d.saturating_sub(1).clamp(from, w_end));
    let kw = f(v, &["mining_kw"]).filter(|k| *k > 0.0);
    let mut reasons: Vec<String> = v
        .get("reasons")
        .and_then(Json::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|r| r.get("en").and_then(Json::as_str))
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    reasons.truncate(4);
    let summary = match kw {
        Some(k) => format!(
            "meter {meter}: {k:.1} kW mining load; {}",
            reasons.join("; ")
        ),
        None => format!("meter {meter}: {}", reasons.join("; ")),
    };
    Ok(Parsed::Evidence(Box::new(Evidence {
        id: content_id(&["grid", "power-score", meter, ws, we]),
        stream: Stream::Grid,
        department: o.department.unwrap_or("grid").to_string(),
        detector: "power-score".into(),
        subject: Subject::Meter {
            id: meter.to_string(),
        },
        observed_from: from,
        observed_to: to,
        coin: None,
        pool: None,
        worker: None,
        wallet: None,
        hashrate_hs: f(v, &["hashrate_ths"]).map(|t| t * 1e12),
        power_w: kw.map(|k| k * 1000.0),
        power_w_low: kw.map(|k| k * 1000.0 * (1.0 - METER_POWER_SPREAD)),
        power_w_high: kw.map(|k| k * 1000.0 * (1.0 + METER_POWER_SPREAD)),
        confidence: score.clamp(0.0, 1.0),
        summary,
        source_file: o.file.to_string(),
        source_line: o.line_no,
        tool: "minewatch power scan".into(),
        detail: o.line.to_string(),
    })))
}

/// Confidence that a wallet mines, from newly mined coins paid to it by a pool's coinbase.
pub const MINED_INCOME_CONFIDENCE: f64 = 0.9;
/// Confidence carried by money reaching a tagged entity: it says where the proceeds went, not
/// that the wallet mines.
pub const TAGGED_FLOW_CONFIDENCE: f64 = 0.3;

/// A step of `minewatch chain trace --format jsonl`: mined income into the traced wallet and
/// money reaching tagged entities are evidence about the wallet; other steps are context.
fn chain(v: &Json, o: &Origin<'_>) -> Result<Parsed, String> {
    let traced = s(v, &["traced"]).ok_or("traced is not text")?;
    let txid = s(v, &["txid"]).ok_or("txid is not text")?;
    let hop = v
        .get("hop")
        .and_then(Json::as_i64)
        .ok_or("hop is not a number")?;
    let from = s(v, &["from"]).unwrap_or("");
    let to = s(v, &["to"]).unwrap_or("");
    let at = v
        .get("time")
        .and_then(Json::as_i64)
        .ok_or("time is not a number")?;
    let sat = v.get("value_sat").and_then(Json::as_i64).unwrap_or(0);
    let coins = sat as f64 / 1e8;
    let (detector, confidence, summary, pool) = if hop < 0 && from == "coinbase" {
        let pool = s(v, &["pool"]).map(str::to_string);
        let by = pool.as_deref().unwrap_or("an unknown pool");
        (
            "mined-income",
            MINED_INCOME_CONFIDENCE,
            format!("{traced} received {coins:.8} newly mined from {by} (tx {txid})"),
            pool,
        )
    } else if let Some(label) = s(v, &["to_label"]) {
        let cat = s(v, &["to_category"]).unwrap_or("tagged");
        (
            "tagged-flow",
            TAGGED_FLOW_CONFIDENCE,
            format!(
                "{coins:.8} from {traced} reached {label} ({cat}) at hop {hop} (tx {txid}, to {to})"
            ),
            None,
        )
    } else {
        return Ok(Parsed::Context);
    };
    Ok(Parsed::Evidence(Box::new(Evidence {
        id: content_id(&["chain", detector, traced, txid, from, to]),
        stream: Stream::Chain,
        department: o.department.unwrap_or("finance").to_string(),
        detector: detector.to_string(),
        subject: Subject::Wallet {
            address: traced.to_string(),
        },
        observed_from: at,
        observed_to: at,
        coin: None,
        pool,
        worker: None,
        wallet: Some(traced.to_string()),
        hashrate_hs: None,
        power_w: None,
        power_w_low: None,
        power_w_high: None,
        confidence,
        summary,
        source_file: o.file.to_string(),
        source_line: o.line_no,
        tool: "minewatch chain trace".into(),
        detail: o.line.to_string(),
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCAN: &str = r#"{"@timestamp":"2024-03-01T00:00:00Z","event":{"kind":"alert","dataset":"minewatch.scan","start":"2024-03-01T00:00:00Z","end":"2024-03-01T00:02:07.11Z"},"source":{"ip":"192.168.10.11","port":40001},"destination":{"ip":"203.0.113.1","port":3333},"mining":{"detector":"stratum","dialect":"bitcoin","coin":"BTC","pool":"203.0.113.1:3333","worker":"farm1","wallet":"1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa","hashrate_hs":6.4e12,"power_w":207.0,"power_w_low":87.0,"power_w_high":749.0,"confidence":1.0}}"#;

    #[test]
    fn a_scan_detection_becomes_network_evidence() {
        let Parsed::Evidence(e) = parse_line(SCAN, "d.jsonl", 3, None).unwrap() else {
            panic!("not evidence")
        };
        assert_eq!(e.stream, Stream::Network);
        assert_eq!(
            e.subject,
            Subject::Ip {
                ip: "192.168.10.11".into(),
                port: Some(40001)
            }
        );
        assert_eq!(e.observed_to - e.observed_from, 127);
        assert_eq!(e.worker.as_deref(), Some("farm1"));
        assert_eq!(e.power_w, Some(207.0));
        assert!(e.summary.contains("6.40 TH/s"), "{}", e.summary);
        // The id does not depend on the file or line it came in.
        let Parsed::Evidence(again) = parse_line(SCAN, "other.jsonl", 9, Some("police")).unwrap()
        else {
            panic!("not evidence")
        };
        assert_eq!(again.id, e.id);
        assert_eq!(again.department, "police");
    }

    #[test]
    fn power_rows_become_grid_evidence_or_are_counted_below_threshold() {
        let row = r#"{"meter_id":"M1","score":0.84,"suspected":true,"reasons":[{"code":"flat","en":"flat","zh":"平"}],"onset":"2024-02-15","mining_kw":14.3,"hashrate_ths":439.5,"window_start":"2024-02-01","window_end":"2024-02-29"}"#;
        let Parsed::Evidence(e) = parse_line(row, "s.jsonl", 1, None).unwrap() else {
            panic!("not evidence")
        };
        assert_eq!(e.subject, Subject::Meter { id: "M1".into() });
        assert_eq!(e.observed_from, parse_date("2024-02-15").unwrap());
        assert_eq!(e.power_w, Some(14_300.0));
        assert!(e.power_w_low.unwrap() < 14_300.0 && e.power_w_high.unwrap() > 14_300.0);
        assert_eq!(e.observed_to, parse_date("2024-02-29").unwrap() + 86_399);
        // A machine that left on 20 February was seen until the end of the 19th.
        let left = row.replace(
            "\"mining_kw\"",
            "\"departure\":\"2024-02-20\",\"mining_kw\"",
        );
        let Parsed::Evidence(e) = parse_line(&left, "s.jsonl", 1, None).unwrap() else {
            panic!("not evidence")
        };
        assert_eq!(e.observed_to, parse_date("2024-02-20").unwrap() - 1);
        // A departure before the onset, one past the window, or one that is no date, cannot
        // end the span before it starts or stretch it: the onset's day, the window's end.
        for (dep, to) in [
            ("1970-01-01", parse_date("2024-02-15").unwrap()),
            ("9999-12-31", parse_date("2024-02-29").unwrap() + 86_399),
            ("not a date", parse_date("2024-02-29").unwrap() + 86_399),
        ] {
            let odd = row.replace(
                "\"mining_kw\"",
                &format!("\"departure\":\"{dep}\",\"mining_kw\""),
            );
            let Parsed::Evidence(e) = parse_line(&odd, "s.jsonl", 1, None).unwrap() else {
                panic!("not evidence")
            };
            assert_eq!(
                (e.observed_from, e.observed_to),
                (parse_date("2024-02-15").unwrap(), to)
            );
        }
        let below = row.replace("\"suspected\":true", "\"suspected\":false");
        assert!(matches!(
            parse_line(&below, "s.jsonl", 2, None),
            Ok(Parsed::BelowThreshold)
        ));
    }

    #[test]
    fn trace_steps_become_chain_evidence_or_context() {
        let mined = r#"{"traced":"bc1qminer","hop":-1,"from":"coinbase","to":"bc1qminer","txid":"ab","value_sat":50000000,"time":1709251200,"pool":"F2Pool","to_label":null,"to_category":null}"#;
        let Parsed::Evidence(e) = parse_line(mined, "t.jsonl", 1, None).unwrap() else {
            panic!("not evidence")
        };
        assert_eq!(
            (e.stream, e.detector.as_str(), e.department.as_str()),
            (Stream::Chain, "mined-income", "finance")
        );
        assert_eq!(
            e.subject,
            Subject::Wallet {
                address: "bc1qminer".into()
            }
        );
        assert!(
            e.summary.contains("0.50000000 newly mined from F2Pool"),
            "{}",
            e.summary
        );
        let tagged = r#"{"traced":"bc1qminer","hop":2,"from":"bc1qmid","to":"1Exch","txid":"cd","value_sat":1,"time":1709251300,"pool":null,"to_label":"Binance","to_category":"exchange"}"#;
        let Parsed::Evidence(t) = parse_line(tagged, "t.jsonl", 2, None).unwrap() else {
            panic!("not evidence")
        };
        assert_eq!(t.detector, "tagged-flow");
        let hop = r#"{"traced":"bc1qminer","hop":1,"from":"bc1qminer","to":"bc1qmid","txid":"ef","value_sat":1,"time":1709251300,"pool":null,"to_label":null,"to_category":null}"#;
        assert!(matches!(
            parse_line(hop, "t.jsonl", 3, None),
            Ok(Parsed::Context)
        ));
    }

    #[test]
    fn other_lines_are_refused_with_a_reason() {
        assert!(
            parse_line("{\"a\":1}", "x", 1, None)
                .unwrap_err()
                .contains("neither")
        );
        assert!(
            parse_line("{", "x", 1, None)
                .unwrap_err()
                .contains("not JSON")
        );
        let bad_time = SCAN.replace("\"start\":\"2024-03-01T00:00:00Z\"", "\"start\":\"soon\"");
        assert!(
            parse_line(&bad_time, "x", 1, None)
                .unwrap_err()
                .contains("event.start")
        );
    }
}
