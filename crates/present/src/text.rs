//! A case as text for a terminal: `minewatch cases show` without `--format`.

use minewatch_store::documents::CaseFile;
use std::fmt::Write;

/// Writes one line into `o`; writing to a `String` cannot fail.
macro_rules! out {
    ($o:expr, $($arg:tt)*) => {
        let _ = writeln!($o, $($arg)*);
    };
}

/// The case, its surcharge, history and evidence, one item a line.
pub fn case(f: &CaseFile) -> String {
    let mut o = String::new();
    let c = &f.case;
    out!(
        o,
        "case {}  site {}  {}  ({})",
        c.case_id,
        c.site_id,
        c.state,
        c.state.name_zh()
    );
    out!(
        o,
        "  region {}  address {}",
        c.region_code,
        c.address.as_deref().unwrap_or("-")
    );
    out!(
        o,
        "  streams {}  confidence {:.2}  mining power {:.1} kW ({:.1}–{:.1})  {:.0} kWh/month",
        c.streams.join("+"),
        c.confidence,
        c.power_kw,
        c.power_kw_low,
        c.power_kw_high,
        c.energy_kwh_month
    );
    out!(
        o,
        "  seen {} – {}",
        c.first_seen.as_deref().unwrap_or("-"),
        c.last_seen.as_deref().unwrap_or("-")
    );
    if let Some(p) = &f.surcharge {
        out!(
            o,
            "  surcharge {:.2} {} = {:.0} kWh × {:.2}/kWh, {} – {} ({})",
            p.amount,
            p.rule.currency,
            p.energy_kwh,
            p.rule.surcharge_per_kwh,
            p.from,
            p.to,
            p.rule.source
        );
    }
    out!(o, "history:");
    for e in &f.history {
        out!(
            o,
            "  {}  {:<10} {} → {}  {}",
            e.at,
            e.actor,
            e.from.as_deref().unwrap_or("-"),
            e.to,
            e.reason
        );
    }
    out!(o, "evidence:");
    for e in &f.evidence {
        out!(
            o,
            "  {}  {:<7} {:<12} {:.2}  {}  [{}]",
            e.observed_from,
            e.department,
            e.detector,
            e.confidence,
            e.summary,
            e.source
        );
    }
    o
}
