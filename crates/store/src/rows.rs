//! The rows the store's records are written as (CSV and table cells) and the lines its
//! reports end with, so the command line, the server and the demo write the same ones.

use crate::audit::Entry;
use crate::cases::{Case, EvidenceRow};
use crate::ingest::IngestReport;
use crate::registry::{BadRow, Found, ImportReport};
use crate::report::RegionRow;
use crate::users::{TokenInfo, User};

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

impl crate::cases::FuseReport {
    /// One line of what folding evidence into cases did.
    pub fn summary(&self) -> String {
        format!(
            "{} pieces of evidence folded: {} cases opened, {} updated, {} reopened",
            self.folded, self.opened, self.updated, self.reopened
        )
    }
}

/// The columns of [`inspection_cells`], as `power scan --inspections` reads them.
pub const INSPECTION_COLUMNS: [&str; 3] = ["meter_id", "date", "mining"];

/// The cells of one inspection outcome (meter, instant, mining found) under
/// [`INSPECTION_COLUMNS`]: the day, and `yes` or `no`.
pub fn inspection_cells(o: &(String, i64, bool)) -> Vec<String> {
    let found = if o.2 { "yes" } else { "no" };
    vec![o.0.clone(), crate::time::format_date(o.1), found.into()]
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

impl crate::ingest::FilesImport {
    /// What importing the files did, a summary line per file followed by its refused rows
    /// (indented), then what the grown registry tied to sites.
    pub fn lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        for f in &self.files {
            out.push(f.summary());
            out.extend(f.refused());
        }
        if let Some(f) = &self.fused {
            out.push(format!(
                "{} pieces of evidence now tied to a site; {} cases opened, {} updated",
                self.reattributed, f.opened, f.updated
            ));
        }
        out
    }
}

impl crate::ingest::ImportReport {
    /// What the import did: the lines' summary, the cases moved, the refused lines (indented).
    pub fn lines(&self) -> Vec<String> {
        let f = &self.fused;
        let mut out = vec![
            self.ingest.summary(),
            format!(
                "cases: {} opened, {} updated, {} reopened",
                f.opened, f.updated, f.reopened
            ),
        ];
        out.extend(self.ingest.refused());
        out
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

/// The columns of [`Found::cells`].
pub const FOUND_COLUMNS: [&str; 6] = ["site", "by", "address", "region", "case", "state"];

impl Found {
    /// The cells of this lookup under [`FOUND_COLUMNS`].
    pub fn cells(&self) -> Vec<String> {
        vec![
            self.site_id.clone(),
            self.by.clone(),
            self.address.clone().unwrap_or_default(),
            self.region_code.clone().unwrap_or_default(),
            self.case_id.map(|c| c.to_string()).unwrap_or_default(),
            self.state.clone().unwrap_or_default(),
        ]
    }
}

/// The columns of [`User::cells`].
pub const USER_COLUMNS: [&str; 5] = ["name", "role", "region", "disabled", "must_change_password"];

impl User {
    /// The cells of this user under [`USER_COLUMNS`].
    pub fn cells(&self) -> Vec<String> {
        vec![
            self.name.clone(),
            self.role.name().into(),
            self.region.clone(),
            self.disabled.to_string(),
            self.must_change_password.to_string(),
        ]
    }
}

/// The columns of [`TokenInfo::cells`].
pub const TOKEN_COLUMNS: [&str; 6] = ["id", "user", "label", "created", "expires", "revoked"];

impl TokenInfo {
    /// The cells of this token under [`TOKEN_COLUMNS`]: times in RFC 3339.
    pub fn cells(&self) -> Vec<String> {
        let at = crate::time::format_instant;
        vec![
            self.id.clone(),
            self.user.clone(),
            self.label.clone(),
            at(self.created_at),
            at(self.expires_at),
            self.revoked_at.map(at).unwrap_or_default(),
        ]
    }
}

/// The columns of [`Entry::cells`].
pub const AUDIT_COLUMNS: [&str; 6] = ["seq", "at", "actor", "action", "target", "detail"];

impl Entry {
    /// The cells of this audit entry under [`AUDIT_COLUMNS`].
    pub fn cells(&self) -> Vec<String> {
        vec![
            self.seq.to_string(),
            self.at.clone(),
            self.actor.clone(),
            self.action.clone(),
            self.target.clone(),
            self.detail.clone(),
        ]
    }
}
