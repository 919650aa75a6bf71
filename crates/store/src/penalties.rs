//! Penalties as data: surcharge rules per jurisdiction and date, applied to a case's energy.
//!
//! A rule names a jurisdiction by GB/T 2260 prefix (`15` Inner Mongolia, `51` Sichuan, empty
//! for the national floor), the dates it holds, the surcharge per kWh, whether it applies to the
//! whole account's consumption (Sichuan 186号) or to the mining load only, and how many days to
//! bill when the mining period cannot be established. The built-in rules
//! (`data/penalties.csv`, sources in each row, from docs/FACTS.md §R1) are loaded
//! into an empty store; `minewatch registry import penalties.csv` adds or replaces rules.

use serde::Serialize;
use serde_json::Value as Json;

use crate::StoreError;
use crate::cases::Case;
use crate::db::{Conn, Value};
use crate::registry::Columns;
use crate::time::{format_date, parse_instant};

const BUILT_IN: &str = include_str!("../data/penalties.csv");

const UPSERT_RULE: &str = "INSERT INTO penalty_rules (jurisdiction, valid_from, valid_to, \
     surcharge_per_kwh, currency, whole_account, default_days, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?) \
     ON CONFLICT (jurisdiction, valid_from) DO UPDATE SET valid_to = excluded.valid_to, \
     surcharge_per_kwh = excluded.surcharge_per_kwh, currency = excluded.currency, \
     whole_account = excluded.whole_account, default_days = excluded.default_days, \
     source = excluded.source";

/// The statement that writes one rule from a CSV row.
pub(crate) fn rule_upsert(
    cols: &Columns,
    row: &csv::StringRecord,
) -> Result<crate::registry::Upsert, String> {
    let jurisdiction = cols.get(row, "jurisdiction").unwrap_or("");
    if !jurisdiction.is_empty() {
        crate::registry::check_region(jurisdiction)?;
    }
    let from_s = cols.need(row, "valid_from")?;
    let from =
        parse_instant(from_s).ok_or_else(|| format!("valid_from '{from_s}' is not a date"))?;
    let to = match cols.get(row, "valid_to") {
        None => Value::Null,
        Some(s) => {
            Value::Int(parse_instant(s).ok_or_else(|| format!("valid_to '{s}' is not a date"))?)
        }
    };
    let rate_s = cols.need(row, "surcharge_per_kwh")?;
    let rate: f64 = rate_s
        .parse()
        .ok()
        .filter(|r: &f64| r.is_finite() && *r >= 0.0)
        .ok_or_else(|| format!("surcharge_per_kwh '{rate_s}' is not a non-negative number"))?;
    let whole = match cols
        .get(row, "whole_account")
        .map(str::to_lowercase)
        .as_deref()
    {
        None | Some("false" | "no" | "0") => 0,
        Some("true" | "yes" | "1") => 1,
        Some(s) => return Err(format!("whole_account '{s}' is not true/false")),
    };
    let days_s = cols.get(row, "default_days").unwrap_or("90");
    let days: i64 = days_s
        .parse()
        .ok()
        .filter(|d| *d > 0)
        .ok_or_else(|| format!("default_days '{days_s}' is not a positive number"))?;
    Ok(crate::registry::Upsert {
        sql: UPSERT_RULE,
        values: vec![
            jurisdiction.into(),
            from.into(),
            to,
            rate.into(),
            cols.get(row, "currency").unwrap_or("CNY").into(),
            whole.into(),
            days.into(),
            cols.need(row, "source")?.into(),
        ],
    })
}

/// Loads the built-in rules into a store that has none.
pub fn seed(conn: &mut Conn) -> Result<(), StoreError> {
    let have = conn
        .query_one("SELECT COUNT(*) FROM penalty_rules", &[])?
        .map_or(0, |r| r.int(0));
    if have > 0 {
        return Ok(());
    }
    let mut rdr = csv::Reader::from_reader(BUILT_IN.as_bytes());
    let cols = Columns::new(
        &rdr.headers()
            .map_err(|e| StoreError::Invalid(format!("built-in penalties.csv: {e}")))?
            .clone(),
    );
    conn.transaction(|c| {
        for (i, row) in rdr.records().enumerate() {
            let row =
                row.map_err(|e| StoreError::Invalid(format!("built-in penalties.csv: {e}")))?;
            let up = rule_upsert(&cols, &row).map_err(|m| {
                StoreError::Invalid(format!("built-in penalties.csv line {}: {m}", i + 2))
            })?;
            c.execute(up.sql, &up.values)?;
        }
        Ok(())
    })
}

/// A penalty rule.
#[derive(Clone, Debug, Serialize)]
pub struct Rule {
    /// GB/T 2260 prefix ("" national).
    pub jurisdiction: String,
    /// First day it holds (Unix seconds).
    pub valid_from: i64,
    /// First day it no longer holds.
    pub valid_to: Option<i64>,
    /// Surcharge per kWh.
    pub surcharge_per_kwh: f64,
    /// Currency.
    pub currency: String,
    /// Applies to the whole account's consumption.
    pub whole_account: bool,
    /// Days billed when the period is unknown.
    pub default_days: i64,
    /// Where the rule comes from.
    pub source: String,
}

/// The rule for a region at an instant: the most specific jurisdiction in force.
pub fn rule_for(conn: &mut Conn, region: &str, at: i64) -> Result<Option<Rule>, StoreError> {
    let rows = conn.query(
        "SELECT jurisdiction, valid_from, valid_to, surcharge_per_kwh, currency, whole_account, \
         default_days, source FROM penalty_rules WHERE valid_from <= ? \
         AND (valid_to IS NULL OR valid_to > ?)",
        &[at.into(), at.into()],
    )?;
    Ok(rows
        .iter()
        .filter(|r| region.starts_with(&r.text(0)))
        .max_by_key(|r| (r.text(0).len(), r.int(1)))
        .map(|r| Rule {
            jurisdiction: r.text(0),
            valid_from: r.int(1),
            valid_to: r.opt_int(2),
            surcharge_per_kwh: r.real(3),
            currency: r.text(4),
            whole_account: r.int(5) != 0,
            default_days: r.int(6),
            source: r.text(7),
        }))
}

/// A surcharge worked out for a case.
#[derive(Clone, Debug, Serialize)]
pub struct Assessment {
    /// The rule applied.
    pub rule: Rule,
    /// First day billed.
    pub from: String,
    /// Last day billed.
    pub to: String,
    /// Days billed.
    pub days: f64,
    /// True when the period is the rule's default (start unknown).
    pub assumed_period: bool,
    /// Power billed, kW (mining load, or the account's mean load for whole-account rules).
    pub billed_kw: f64,
    /// Energy billed, kWh.
    pub energy_kwh: f64,
    /// Amount due in the rule's currency.
    pub amount: f64,
}

/// Applies the rule in force to a case: days from the start of mining (not before the rule)
/// to rectification (or the last sighting), times the billed power, times the rate.
pub fn assess(conn: &mut Conn, case: &Case) -> Result<Option<Assessment>, StoreError> {
    let first = case.first_seen.as_deref().and_then(parse_instant);
    let rectified = conn
        .query_one(
            "SELECT rectified_at, last_seen FROM cases WHERE case_id = ?",
            &[case.case_id.into()],
        )?
        .and_then(|r| r.opt_int(0).or(r.opt_int(1)));
    let Some(end) = rectified.or(first) else {
        return Ok(None);
    };
    let Some(rule) = rule_for(conn, &case.region_code, end)? else {
        return Ok(None);
    };
    let (start, assumed) = match first {
        Some(f) => (f.max(rule.valid_from), false),
        None => (end - rule.default_days * 86_400, true),
    };
    let days = ((end - start).max(0) as f64 / 86_400.0).max(1.0);
    let account_kw = if rule.whole_account {
        account_mean_kw(conn, case.case_id)?
    } else {
        None
    };
    let billed_kw = account_kw.map_or(case.power_kw, |a| a.max(case.power_kw));
    let energy = billed_kw * 24.0 * days;
    Ok(Some(Assessment {
        from: format_date(start),
        to: format_date(end),
        days,
        assumed_period: assumed,
        billed_kw,
        energy_kwh: energy,
        amount: energy * rule.surcharge_per_kwh,
        rule,
    }))
}

/// The account's mean load from the latest power-scan evidence (its `features.mean_kw`).
fn account_mean_kw(conn: &mut Conn, case_id: i64) -> Result<Option<f64>, StoreError> {
    let row = conn.query_one(
        "SELECT detail FROM evidence WHERE case_id = ? AND stream = 'grid' \
         ORDER BY observed_to DESC LIMIT 1",
        &[case_id.into()],
    )?;
    Ok(row.and_then(|r| {
        serde_json::from_str::<Json>(&r.text(0))
            .ok()?
            .get("features")?
            .get("mean_kw")?
            .as_f64()
    }))
}
