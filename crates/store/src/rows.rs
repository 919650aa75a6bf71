//! The rows the store's records are written as (CSV and table cells) and the lines its
//! reports end with, so the command line, the server and the demo write the same ones.

use crate::cases::{Case, EvidenceRow};
use crate::ingest::IngestReport;
use crate::registry::{BadRow, ImportReport};
use crate::report::RegionRow;

/// The columns of [`Case::cells`].
pub const CASE_COLUMNS: [&str; 14] = [
    "case",
    "site",
    "state",
    "region",
    "streams",
    "confidence",
    "kw",
    "kw_low",
    "kw_high",
    "kwh_month",
    "first_seen",
    "last_seen",
    "evidence",
    "address",
];

impl Case {
    /// The cells of this case under [`CASE_COLUMNS`].
    pub fn cells(&self) -> Vec<String> {
        vec![
            self.case_id.to_string(),
            self.site_id.clone(),
            self.state.name().into(),
            self.region_code.clone(),
            self.streams.join("+"),
            format!("{:.2}", self.confidence),
            format!("{:.1}", self.power_kw),
            format!("{:.1}", self.power_kw_low),
            format!("{:.1}", self.power_kw_high),
            format!("{:.0}", self.energy_kwh_month),
            self.first_seen.clone().unwrap_or_default(),
            self.last_seen.clone().unwrap_or_default(),
            self.evidence_count.to_string(),
            self.address.clone().unwrap_or_default(),
        ]
    }
}

/// The columns of [`RegionRow::cells`].
pub const REGION_COLUMNS: [&str; 21] = [
    "level",
    "code",
    "name",
    "open",
    "suspected",
    "verified",
    "notified",
    "rectified",
    "re_inspected",
    "closed",
    "relapsed",
    "kw",
    "kw_low",
    "kw_high",
    "kwh_month",
    "kwh_month_low",
    "kwh_month_high",
    "peak_month",
    "peak_kw",
    "vs_peak",
    "cleared",
];

impl RegionRow {
    /// The cells of this region under [`REGION_COLUMNS`]: cases per state, power and energy
    /// with their ranges, the peak and the change since.
    pub fn cells(&self) -> Vec<String> {
        let n = |s: &str| self.cases.get(s).copied().unwrap_or(0).to_string();
        let name = match (self.name_zh.is_empty(), self.name_en.is_empty()) {
            (false, false) => format!("{} {}", self.name_zh, self.name_en),
            (false, true) => self.name_zh.clone(),
            _ => self.name_en.clone(),
        };
        vec![
            format!("{:?}", self.level).to_lowercase(),
            self.code.clone(),
            name,
            self.open_cases.to_string(),
            n("suspected"),
            n("verified"),
            n("notified"),
            n("rectified"),
            n("re-inspected"),
            n("closed"),
            n("relapsed"),
            format!("{:.1}", self.power_kw),
            format!("{:.1}", self.power_kw_low),
            format!("{:.1}", self.power_kw_high),
            format!("{:.0}", self.energy_kwh_month),
            format!("{:.0}", self.energy_kwh_month_low),
            format!("{:.0}", self.energy_kwh_month_high),
            self.peak_month.clone().unwrap_or_default(),
            format!("{:.1}", self.peak_kw),
            self.change_vs_peak
                .map(|c| format!("{:+.0}%", c * 100.0))
                .unwrap_or_default(),
            if self.cleared { "yes" } else { "no" }.into(),
        ]
    }
}

/// The columns of [`EvidenceRow::cells`].
pub const EVIDENCE_COLUMNS: [&str; 7] = [
    "observed_from",
    "stream",
    "detector",
    "subject",
    "port",
    "summary",
    "source",
];

impl EvidenceRow {
    /// The cells of this piece of evidence under [`EVIDENCE_COLUMNS`].
    pub fn cells(&self) -> Vec<String> {
        vec![
            self.observed_from.clone(),
            self.stream.clone(),
            self.detector.clone(),
            self.subject.clone(),
            self.subject_port.map(|p| p.to_string()).unwrap_or_default(),
            self.summary.clone(),
            self.source.clone(),
        ]
    }
}

/// The refused rows, a line each as `  file:line: message`, and how many more were refused
/// than listed.
fn refused(bad: &[BadRow], count: u64) -> Vec<String> {
    let mut out: Vec<String> = bad
        .iter()
        .map(|b| format!("  {}:{}: {}", b.file, b.line, b.message))
        .collect();
    if count > bad.len() as u64 {
        out.push(format!("  … and {} more", count - bad.len() as u64));
    }
    out
}

impl IngestReport {
    /// One line of what the ingest stored and refused.
    pub fn summary(&self) -> String {
        format!(
            "{} lines from {} files: {} new pieces of evidence ({} tied to a site, {} not), {} already known, {} power rows below the threshold, {} trace steps of context, {} refused",
            self.lines,
            self.files,
            self.new,
            self.attributed,
            self.unattributed,
            self.known,
            self.below_threshold,
            self.context,
            self.bad_count
        )
    }

    /// The refused lines with file, line and reason.
    pub fn refused(&self) -> Vec<String> {
        refused(&self.bad, self.bad_count)
    }
}

impl ImportReport {
    /// One line of what the registry file's import did.
    pub fn summary(&self) -> String {
        format!(
            "{}: {} {} rows imported, {} refused",
            self.file,
            self.imported,
            self.kind.name(),
            self.bad_count
        )
    }

    /// The refused rows with file, line and reason.
    pub fn refused(&self) -> Vec<String> {
        refused(&self.bad, self.bad_count)
    }
}
