//! The facts of a case's printable documents (the rectification notice and the inspection
//! sheet): the case, its site, its evidence and the surcharge in force. `minewatch-present`
//! makes the pages; the store only gathers what they say.

use crate::StoreError;
use crate::cases::{self, Case, EvidenceRow};
use crate::db::Conn;
use crate::penalties::{self, Assessment};

/// Which document.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Doc {
    /// Rectification notice.
    Notice,
    /// Inspection sheet.
    Inspection,
}

/// Document language: the one type the CLI, the UI and the documents share.
pub use minewatch_model::lang::Lang;

/// Everything a document of a case says.
#[derive(Clone, Debug)]
pub struct DocFacts {
    /// The case.
    pub case: Case,
    /// Its site.
    pub site: Site,
    /// Its evidence.
    pub evidence: Vec<EvidenceRow>,
    /// The surcharge in force, worked out.
    pub surcharge: Option<Assessment>,
}

/// What a document says of the site.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Site {
    /// Its name.
    pub name: String,
    /// Its address.
    pub address: String,
    /// The party responsible.
    pub owner: String,
    /// Its tariff class.
    pub tariff: String,
    /// Its contracted capacity (`630 kVA`), or empty.
    pub capacity: String,
}

fn site(c: &mut Conn, id: &str) -> Result<Site, StoreError> {
    let r = c.query_one(
        "SELECT name, address, owner, tariff_class, capacity_kva FROM sites WHERE site_id = ?",
        &[id.into()],
    )?;
    Ok(match r {
        Some(r) => Site {
            name: r.text(0),
            address: r.text(1),
            owner: r.text(2),
            tariff: r.text(3),
            capacity: r
                .opt_real(4)
                .map(|k| format!("{k:.0} kVA"))
                .unwrap_or_default(),
        },
        None => Site::default(),
    })
}

/// The facts of case `case_id`'s documents.
pub fn facts(c: &mut Conn, case_id: i64) -> Result<DocFacts, StoreError> {
    let case = cases::get(c, case_id)?;
    let evidence = cases::evidence(c, case_id)?;
    let site = site(c, &case.site_id)?;
    let surcharge = penalties::assess(c, &case)?;
    Ok(DocFacts {
        case,
        site,
        evidence,
        surcharge,
    })
}

/// Everything about one case, as `minewatch cases show` gives it: the case, its history, its
/// evidence and the surcharge in force.
#[derive(Clone, Debug, serde::Serialize)]
pub struct CaseFile {
    /// The case.
    #[serde(flatten)]
    pub case: Case,
    /// Its lifecycle history.
    pub history: Vec<cases::Event>,
    /// Its evidence.
    pub evidence: Vec<EvidenceRow>,
    /// The surcharge in force, worked out.
    pub surcharge: Option<Assessment>,
}

/// The file of `case`.
pub fn case_file(c: &mut Conn, case: Case) -> Result<CaseFile, StoreError> {
    Ok(CaseFile {
        history: cases::history(c, case.case_id)?,
        evidence: cases::evidence(c, case.case_id)?,
        surcharge: penalties::assess(c, &case)?,
        case,
    })
}
