//! Evidence uploads. JSON lines (from `minewatch scan`, `power scan` or `chain trace`) go to
//! the import as they are. Meter readings as CSV are first scored the way `minewatch power
//! scan` scores them, against the customer profiles the registry holds for the meters (tariff
//! class, capacity, region, allow-list), and the scored meters go to the same import as the
//! `power scan` lines would: one path for evidence, whichever way it arrives.

use std::io::Write;

use minewatch_power::customers::{Customer, Register, TariffClass};
use minewatch_power::read::{ReadError, ReadingsOptions, read_readings};
use minewatch_power::score::{ScoreConfig, Scorer};
use minewatch_store::registry::MeterProfile;
use serde::Serialize;

use crate::ApiError;

/// What an upload holds, told by its content rather than its name or declared type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// JSON lines: the import reads them directly.
    JsonLines,
    /// Meter readings (long or wide CSV): scored first.
    MeterCsv,
}

/// JSON lines start with an object; anything else is taken for a CSV with a header, whose
/// reader says precisely what is wrong with it if it is not one.
pub fn sniff(body: &[u8]) -> Kind {
    let first = body
        .iter()
        .copied()
        .find(|b| !b.is_ascii_whitespace() && *b != 0xef && *b != 0xbb && *b != 0xbf);
    if first == Some(b'{') {
        Kind::JsonLines
    } else {
        Kind::MeterCsv
    }
}

/// What scoring an uploaded readings file came to.
#[derive(Clone, Debug, Default, Serialize, utoipa::ToSchema)]
pub struct PowerSummary {
    /// Data rows read.
    pub rows: u64,
    /// Meters scored.
    pub meters: u64,
    /// Meters at or above the suspicion threshold.
    pub suspected: u64,
    /// Rows skipped (malformed, impossible values …).
    pub skipped_rows: u64,
    /// The first skipped rows, as `file:line: column: what`.
    pub examples: Vec<String>,
}

fn register(profiles: Vec<MeterProfile>) -> Register {
    let mut reg = Register::default();
    for p in profiles {
        reg.by_meter.insert(
            p.meter_id.clone(),
            Customer {
                meter_id: p.meter_id,
                customer_id: p.customer_id,
                tariff_class: TariffClass::parse(p.tariff_class.as_deref().unwrap_or("")),
                capacity_kva: p.capacity_kva,
                area_id: None,
                region_code: Some(p.region_code).filter(|r| !r.is_empty()),
                address: p.address,
                lat: None,
                lon: None,
                solar: false,
                allowed: p.allow_listed,
                allow_category: None,
            },
        );
    }
    reg
}

/// Scores uploaded meter readings against the registry's profiles and returns the scored
/// meters as `power scan --format jsonl` writes them, with a summary. `name` is the upload's
/// file name, used in error messages.
pub fn score_readings(
    body: &[u8],
    name: &str,
    profiles: Vec<MeterProfile>,
) -> Result<(Vec<u8>, PowerSummary), ApiError> {
    // The reader works on files (it maps them and partitions large ones on disk).
    let dir =
        tempfile::tempdir().map_err(|e| ApiError::Internal(format!("temporary folder: {e}")))?;
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let path = dir.path().join(if safe.is_empty() {
        "upload.csv".into()
    } else {
        safe
    });
    std::fs::File::create(&path)
        .and_then(|mut f| f.write_all(body))
        .map_err(|e| ApiError::Internal(format!("{}: {e}", path.display())))?;
    let reg = register(profiles);
    let mut scorer = Scorer::new(ScoreConfig::default(), &reg, None);
    let solar = |_: &str| false;
    let prefix = format!("{}/", dir.path().display());
    let stats = read_readings(
        std::slice::from_ref(&path),
        &ReadingsOptions::default(),
        &solar,
        &mut scorer,
    )
    .map_err(|e| match e {
        ReadError::Header { .. } | ReadError::Line { .. } => {
            ApiError::BadRequest(e.to_string().replace(&prefix, ""))
        }
        ReadError::Io { .. } | ReadError::Shrunk { .. } => ApiError::Internal(e.to_string()),
    })?;
    let scored = scorer.finish();
    let mut lines = Vec::new();
    for s in &scored {
        serde_json::to_writer(&mut lines, s).map_err(|e| ApiError::Internal(e.to_string()))?;
        lines.push(b'\n');
    }
    let summary = PowerSummary {
        rows: stats.rows,
        meters: stats.meters,
        suspected: scored.iter().filter(|s| s.suspected).count() as u64,
        skipped_rows: stats.skipped_total(),
        examples: stats
            .examples
            .iter()
            .map(|e| e.replace(&prefix, ""))
            .collect(),
    };
    Ok((lines, summary))
}

/// Detections that name a pool only through lists or behaviour: the highest confidence the
/// scan gives them (a listed counterpart that also behaves like a pool, 0.95).
const LISTED_OR_BEHAVING: f64 = 0.95;
/// A DNS lookup of a pool name is an intention, never more (the scan's 0.6).
const LOOKUP: f64 = 0.6;
/// Detectors this server does not know.
const UNKNOWN_DETECTOR: f64 = 0.5;

/// The confidence an uploaded line's own facts support; never above what the line claims.
/// Sessions seen at the protocol level are recomputed from their evidence codes with the
/// scan's own weights (`minewatch_net`); list and behaviour findings are held to the highest
/// value the scan gives their detector; meter scores computed elsewhere to the suspicion
/// threshold (to be scored here, upload the readings); chain steps are scored by the store's
/// own rules when parsed. docs/SECURITY.md has the reasons.
pub fn justified_confidence(e: &minewatch_store::evidence::Evidence, v: &serde_json::Value) -> f64 {
    use minewatch_store::evidence::Stream;
    let ceiling = match e.stream {
        Stream::Network => match e.detector.as_str() {
            "stratum" | "getwork" | "stratum-v2" => {
                let codes = v
                    .pointer("/mining/evidence")
                    .and_then(serde_json::Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(serde_json::Value::as_str)
                            .collect::<Vec<_>>()
                    })
                    .unwrap_or_default();
                f64::from(minewatch_net::proto::stratum::signal::confidence_of_codes(
                    codes,
                ))
            }
            "pool-dns" => LOOKUP,
            // A server that answered a TLS ClientHello in Stratum's error shape.
            "pool-answer" => f64::from(minewatch_net::scan::POOL_ANSWER_CONFIDENCE),
            "pool-sni" | "pool-http" | "pool-ip" | "browser-miner" | "behaviour" => {
                LISTED_OR_BEHAVING
            }
            _ => UNKNOWN_DETECTOR,
        },
        Stream::Grid => ScoreConfig::default().threshold,
        _ => 1.0,
    };
    e.confidence.min(ceiling)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_lines_and_csv_are_told_apart_by_content() {
        assert_eq!(sniff(b"\n  {\"a\":1}\n"), Kind::JsonLines);
        assert_eq!(sniff(b"\xef\xbb\xbf{\"a\":1}"), Kind::JsonLines);
        assert_eq!(sniff(b"meter_id,timestamp,kwh\n"), Kind::MeterCsv);
        assert_eq!(sniff(b""), Kind::MeterCsv);
    }

    #[test]
    fn a_csv_without_meter_columns_is_refused_naming_the_upload() {
        let err = score_readings(b"a,b\n1,2\n", "readings.csv", Vec::new()).unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, ApiError::BadRequest(_)), "{text}");
        assert!(
            text.starts_with("readings.csv: line 1: need columns"),
            "{text}"
        );
    }
}
