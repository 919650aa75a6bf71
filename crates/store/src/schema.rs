//! Numbered, embedded migrations, the same for both engines.
//!
//! Evidence carries as few indexes as its queries need: its ids are content hashes, so every
//! index on it takes inserts at random places; three single-column indexes wrote twice the
//! bytes one composite one does (docs/PERFORMANCE.md). `(case_id, site_id)` serves a case's evidence and the
//! pending rows by site; partial indexes keep the unattributed and the not-yet-tried rows
//! findable without touching the rest.
//!
//! Each migration is written once with three tokens that differ between the engines:
//! `{id}` (an auto-numbered key), `{real}` (a double) and `{int}` (a 64-bit integer). Times are
//! Unix seconds in `{int}` columns on both engines, so comparisons and sums never depend on an
//! engine's date type.

use crate::StoreError;
use crate::db::{Conn, Dialect, Value};

/// The migrations in order; a store records how many it has applied.
const MIGRATIONS: &[&str] = &[
    // 1: registry, evidence, cases.
    r#"
CREATE TABLE regions (
    code TEXT PRIMARY KEY,
    name_zh TEXT NOT NULL DEFAULT '',
    name_en TEXT NOT NULL DEFAULT ''
);
CREATE TABLE sites (
    site_id TEXT PRIMARY KEY,
    name TEXT,
    address TEXT,
    region_code TEXT NOT NULL DEFAULT '',
    lat {real},
    lon {real},
    tariff_class TEXT,
    capacity_kva {real},
    owner TEXT,
    allow_listed {int} NOT NULL DEFAULT 0
);
CREATE TABLE subscribers (
    subscriber_id TEXT PRIMARY KEY,
    name TEXT,
    phone TEXT,
    id_number TEXT,
    site_id TEXT
);
CREATE TABLE ip_assignments (
    ip TEXT NOT NULL,
    port_from {int} NOT NULL,
    port_to {int} NOT NULL,
    valid_from {int} NOT NULL,
    valid_to {int} NOT NULL,
    subscriber_id TEXT NOT NULL,
    PRIMARY KEY (ip, port_from, valid_from)
);
CREATE INDEX ip_assignments_lookup ON ip_assignments (ip, valid_from, valid_to);
CREATE TABLE meters (
    meter_id TEXT PRIMARY KEY,
    site_id TEXT NOT NULL,
    customer_id TEXT,
    account TEXT
);
CREATE TABLE wallets (
    address TEXT PRIMARY KEY,
    coin TEXT,
    site_id TEXT NOT NULL,
    owner TEXT
);
CREATE TABLE evidence (
    id TEXT PRIMARY KEY,
    stream TEXT NOT NULL,
    department TEXT NOT NULL,
    detector TEXT NOT NULL,
    subject_kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    subject_port {int},
    observed_from {int} NOT NULL,
    observed_to {int} NOT NULL,
    coin TEXT,
    pool TEXT,
    worker TEXT,
    wallet TEXT,
    hashrate_hs {real},
    power_w {real},
    power_w_low {real},
    power_w_high {real},
    confidence {real} NOT NULL,
    summary TEXT NOT NULL DEFAULT '',
    source_file TEXT NOT NULL,
    source_line {int} NOT NULL,
    tool TEXT NOT NULL,
    ingested_at {int} NOT NULL,
    site_id TEXT,
    attributed_by TEXT,
    case_id {int},
    detail TEXT NOT NULL
);
CREATE INDEX evidence_case ON evidence (case_id, site_id);
CREATE INDEX evidence_unattributed ON evidence (id) WHERE site_id IS NULL;
CREATE INDEX evidence_untried ON evidence (id) WHERE attributed_by IS NULL;
CREATE INDEX evidence_wallet ON evidence (wallet) WHERE wallet IS NOT NULL;
CREATE TABLE cases (
    case_id {id},
    site_id TEXT NOT NULL UNIQUE,
    state TEXT NOT NULL,
    region_code TEXT NOT NULL DEFAULT '',
    opened_at {int} NOT NULL,
    updated_at {int} NOT NULL,
    first_seen {int},
    last_seen {int},
    streams TEXT NOT NULL DEFAULT '',
    confidence {real} NOT NULL DEFAULT 0,
    power_kw {real} NOT NULL DEFAULT 0,
    power_kw_low {real} NOT NULL DEFAULT 0,
    power_kw_high {real} NOT NULL DEFAULT 0,
    evidence_count {int} NOT NULL DEFAULT 0,
    rectified_at {int},
    closed_at {int},
    assigned_to TEXT
);
CREATE TABLE case_events (
    event_id {id},
    case_id {int} NOT NULL,
    at {int} NOT NULL,
    actor TEXT NOT NULL,
    from_state TEXT,
    to_state TEXT NOT NULL,
    reason TEXT NOT NULL
);
CREATE INDEX case_events_case ON case_events (case_id, at);
CREATE TABLE penalty_rules (
    jurisdiction TEXT NOT NULL,
    valid_from {int} NOT NULL,
    valid_to {int},
    surcharge_per_kwh {real} NOT NULL,
    currency TEXT NOT NULL,
    whole_account {int} NOT NULL DEFAULT 0,
    default_days {int} NOT NULL,
    source TEXT NOT NULL,
    PRIMARY KEY (jurisdiction, valid_from)
);
"#,
    // 2: people, their sessions and tokens, notes and inspections, the audit log.
    r#"
CREATE TABLE users (
    user_id {id},
    name TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    region TEXT NOT NULL DEFAULT '',
    password_hash TEXT NOT NULL,
    created_at {int} NOT NULL,
    disabled {int} NOT NULL DEFAULT 0
);
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id {int} NOT NULL,
    csrf TEXT NOT NULL,
    created_at {int} NOT NULL,
    expires_at {int} NOT NULL
);
CREATE TABLE api_tokens (
    token_hash TEXT PRIMARY KEY,
    user_id {int} NOT NULL,
    label TEXT NOT NULL,
    created_at {int} NOT NULL
);
CREATE TABLE case_notes (
    note_id {id},
    case_id {int} NOT NULL,
    at {int} NOT NULL,
    author TEXT NOT NULL,
    text TEXT NOT NULL
);
CREATE INDEX case_notes_case ON case_notes (case_id, at);
CREATE TABLE inspections (
    inspection_id {id},
    case_id {int} NOT NULL,
    at {int} NOT NULL,
    inspector TEXT NOT NULL,
    mining {int} NOT NULL,
    machines {int},
    measured_kw {real},
    notes TEXT NOT NULL DEFAULT ''
);
CREATE INDEX inspections_case ON inspections (case_id);
CREATE INDEX cases_rank ON cases (confidence DESC, power_kw DESC, case_id);
CREATE TABLE audit_log (
    seq {int} PRIMARY KEY,
    at {int} NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    detail TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
"#,
    // 3: account lifecycle: one-time passwords that must be changed, tokens that expire and
    // can be revoked (tokens made before get 90 days from their making).
    r#"
ALTER TABLE users ADD COLUMN must_change_password {int} NOT NULL DEFAULT 0;
ALTER TABLE api_tokens ADD COLUMN expires_at {int};
ALTER TABLE api_tokens ADD COLUMN revoked_at {int};
UPDATE api_tokens SET expires_at = created_at + 7776000;
"#,
    // 4: what active probes found of a server (`minewatch confirm`), kept until it expires so a
    // server is not asked again and again.
    r#"
CREATE TABLE probes (
    target TEXT PRIMARY KEY,
    transport TEXT,
    verdict TEXT NOT NULL,
    dialect TEXT,
    coin TEXT,
    reason TEXT NOT NULL,
    answer TEXT NOT NULL,
    connections {int} NOT NULL,
    probed_at {int} NOT NULL,
    expires_at {int} NOT NULL
);
"#,
    // 5: a probe's verdict changes the confidence of the evidence that suspected the server;
    // what the detector itself said is kept beside it, so a later verdict starts from there.
    r#"
ALTER TABLE evidence ADD COLUMN detector_confidence {real};
"#,
];

/// Writes a migration in the engine's own words.
fn render(sql: &str, dialect: Dialect) -> String {
    let (id, real, int) = match dialect {
        Dialect::Sqlite => ("INTEGER PRIMARY KEY AUTOINCREMENT", "REAL", "INTEGER"),
        Dialect::Postgres => (
            "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
            "DOUBLE PRECISION",
            "BIGINT",
        ),
    };
    sql.replace("{id}", id)
        .replace("{real}", real)
        .replace("{int}", int)
}

/// The number of migrations this build knows.
pub fn latest() -> i64 {
    MIGRATIONS.len() as i64
}

/// Brings the schema up to date; returns how many migrations it applied.
pub fn migrate(conn: &mut Conn) -> Result<usize, StoreError> {
    conn.batch("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)")?;
    let have = conn
        .query_one("SELECT MAX(version) FROM schema_version", &[])?
        .and_then(|r| r.opt_int(0))
        .unwrap_or(0);
    if have > latest() {
        return Err(StoreError::Invalid(format!(
            "the store is at schema version {have}, newer than this build knows ({}); use a newer minewatch",
            latest()
        )));
    }
    let dialect = conn.dialect();
    let mut applied = 0;
    for (i, m) in MIGRATIONS.iter().enumerate().skip(have as usize) {
        let version = i as i64 + 1;
        conn.transaction(|c| {
            c.batch(&render(m, dialect))?;
            c.execute(
                "INSERT INTO schema_version (version) VALUES (?)",
                &[Value::Int(version)],
            )?;
            Ok(())
        })?;
        applied += 1;
    }
    Ok(applied)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrating_twice_applies_once() {
        let mut c = Conn::open(":memory:").unwrap();
        assert_eq!(migrate(&mut c).unwrap(), MIGRATIONS.len());
        assert_eq!(migrate(&mut c).unwrap(), 0);
    }

    #[test]
    fn tokens_are_rendered_for_each_engine() {
        let pg = render("a {id}, b {real}, c {int}", Dialect::Postgres);
        assert!(
            pg.contains("IDENTITY") && pg.contains("DOUBLE PRECISION") && pg.contains("BIGINT")
        );
        let lite = render("a {id}", Dialect::Sqlite);
        assert!(lite.contains("AUTOINCREMENT"));
    }
}
