//! The registry: who is behind an IP at a time, which site a meter or wallet belongs to.
//!
//! Imported from CSV. The kind of a file is told by its header, so
//! `minewatch registry import a.csv b.csv …` takes the files in any order. Every row is an
//! upsert keyed by its natural key, in transactions of [`BATCH`] rows: importing a file twice
//! gives the same state, and an import killed halfway and run again finishes the job.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::Path;

use serde::Serialize;

use crate::db::{Conn, Value};
use crate::time::parse_instant;
use crate::{StoreError, penalties};

/// Rows per transaction during imports.
pub const BATCH: usize = 1000;

/// End of an open-ended IP assignment: 9999-12-31T23:59:59Z.
pub const OPEN_END: i64 = 253_402_300_799;

/// Bad rows kept word for word in a report; the rest are counted.
pub const BAD_ROWS_KEPT: usize = 100;

/// What a registry file holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// Region codes and names (GB/T 2260).
    Regions,
    /// Sites: places with an address, region and tariff.
    Sites,
    /// Network subscribers and their sites.
    Subscribers,
    /// IP assignments over time (RADIUS/DHCP).
    IpAssignments,
    /// Meters (and, from a customer register, their sites).
    Meters,
    /// Known wallets and their sites.
    Wallets,
    /// Penalty rules.
    Penalties,
}

impl Kind {
    /// Tells a file's kind from its header.
    pub fn from_header(cols: &Columns) -> Option<Kind> {
        let has = |n: &str| cols.has(n);
        Some(if has("wallet") {
            Kind::Wallets
        } else if has("jurisdiction") {
            Kind::Penalties
        } else if has("ip") {
            Kind::IpAssignments
        } else if has("meter_id") {
            Kind::Meters
        } else if has("subscriber_id") {
            Kind::Subscribers
        } else if has("site_id") {
            Kind::Sites
        } else if has("code") && (has("name_zh") || has("name_en")) {
            Kind::Regions
        } else {
            return None;
        })
    }

    /// The kind's name as the CLI says it.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Regions => "regions",
            Kind::Sites => "sites",
            Kind::Subscribers => "subscribers",
            Kind::IpAssignments => "ip-assignments",
            Kind::Meters => "meters",
            Kind::Wallets => "wallets",
            Kind::Penalties => "penalties",
        }
    }

    /// Parses a kind's name.
    pub fn parse(s: &str) -> Option<Kind> {
        [
            Kind::Regions,
            Kind::Sites,
            Kind::Subscribers,
            Kind::IpAssignments,
            Kind::Meters,
            Kind::Wallets,
            Kind::Penalties,
        ]
        .into_iter()
        .find(|k| k.name() == s)
    }
}

/// A header: column names to positions, with the aliases the registry accepts.
pub struct Columns(HashMap<String, usize>);

impl Columns {
    /// Reads a header row.
    pub fn new(header: &csv::StringRecord) -> Columns {
        Columns(
            header
                .iter()
                .enumerate()
                .map(|(i, h)| (h.trim().trim_start_matches('\u{feff}').to_lowercase(), i))
                .collect(),
        )
    }
    fn position(&self, name: &str) -> Option<usize> {
        let names = aliases(name);
        if names.is_empty() {
            return self.0.get(name).copied();
        }
        names.iter().find_map(|a| self.0.get(*a)).copied()
    }
    /// True when the column (or one of its aliases) is present.
    pub fn has(&self, name: &str) -> bool {
        self.position(name).is_some()
    }
    /// The trimmed cell of a column in a row; `None` when absent or empty.
    pub fn get<'r>(&self, row: &'r csv::StringRecord, name: &str) -> Option<&'r str> {
        self.position(name)
            .and_then(|i| row.get(i))
            .map(str::trim)
            .filter(|s| !s.is_empty())
    }
    /// The cell, or an error naming the missing column.
    pub fn need<'r>(&self, row: &'r csv::StringRecord, name: &str) -> Result<&'r str, String> {
        self.get(row, name)
            .ok_or_else(|| format!("{name} is empty"))
    }
}

fn aliases(name: &str) -> &'static [&'static str] {
    match name {
        "start" => &["start", "valid_from", "from", "assigned_at"],
        "end" => &["end", "valid_to", "to", "released_at"],
        "ip" => &["ip", "ip_address", "framed_ip"],
        "wallet" => &["wallet", "wallet_address"],
        "site_id" => &["site_id", "site"],
        "region_code" => &["region_code", "region", "adcode"],
        "capacity_kva" => &["capacity_kva", "capacity"],
        "meter_id" => &["meter_id", "meter"],
        "subscriber_id" => &["subscriber_id", "subscriber", "account_id"],
        "lat" => &["lat", "latitude"],
        "lon" => &["lon", "lng", "longitude"],
        "tariff_class" => &["tariff_class", "tariff"],
        "allow_listed" => &["allow_listed", "data_centre", "allowlisted"],
        "account" => &["account", "account_no"],
        _ => &[],
    }
}

/// A row that was not imported, with where and why.
#[derive(Clone, Debug, Serialize)]
pub struct BadRow {
    /// The file.
    pub file: String,
    /// The 1-based line.
    pub line: u64,
    /// What is wrong.
    pub message: String,
}

/// What one file's import did.
#[derive(Clone, Debug, Serialize)]
pub struct ImportReport {
    /// The file.
    pub file: String,
    /// What it held.
    pub kind: Kind,
    /// Data rows read.
    pub rows: u64,
    /// Rows written (inserted or updated).
    pub imported: u64,
    /// Rows refused.
    pub bad_count: u64,
    /// The first refused rows.
    pub bad: Vec<BadRow>,
}

impl ImportReport {
    fn refuse(&mut self, line: u64, message: String) {
        self.bad_count += 1;
        if self.bad.len() < BAD_ROWS_KEPT {
            self.bad.push(BadRow {
                file: self.file.clone(),
                line,
                message,
            });
        }
    }
}

/// Imports one registry file; `kind` overrides what the header says.
pub fn import(
    conn: &mut Conn,
    path: &Path,
    kind: Option<Kind>,
) -> Result<ImportReport, StoreError> {
    let file = path.display().to_string();
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(path)
        .map_err(|e| StoreError::File {
            path: file.clone(),
            message: e.to_string(),
        })?;
    let header = rdr.headers().map_err(|e| StoreError::File {
        path: file.clone(),
        message: format!("line 1: {e}"),
    })?;
    let cols = Columns::new(header);
    let kind = kind.or_else(|| Kind::from_header(&cols)).ok_or_else(|| StoreError::File {
        path: file.clone(),
        message: format!(
            "line 1: cannot tell what this file holds from its header ({}); expected a column \
             wallet, jurisdiction, ip, meter_id, subscriber_id, site_id, or code with name_zh/name_en",
            header.iter().collect::<Vec<_>>().join(",")
        ),
    })?;
    let mut report = ImportReport {
        file: file.clone(),
        kind,
        rows: 0,
        imported: 0,
        bad_count: 0,
        bad: Vec::new(),
    };
    let mut batch: Vec<(u64, Vec<Upsert>)> = Vec::with_capacity(BATCH);
    let mut record = csv::StringRecord::new();
    loop {
        let line = rdr.position().line() + 1;
        match rdr.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                report.rows += 1;
                report.refuse(line, e.to_string());
                continue;
            }
        }
        report.rows += 1;
        let line = record.position().map_or(line, |p| p.line());
        match rows_for(kind, &cols, &record) {
            Ok(ups) => batch.push((line, ups)),
            Err(msg) => report.refuse(line, msg),
        }
        if batch.len() >= BATCH {
            write_batch(conn, &mut batch, &mut report)?;
        }
    }
    write_batch(conn, &mut batch, &mut report)?;
    Ok(report)
}

/// One statement with its values.
pub(crate) struct Upsert {
    pub(crate) sql: &'static str,
    pub(crate) values: Vec<Value>,
}

/// Rows per upsert statement.
const ROWS_PER_UPSERT: usize = 100;

/// The single-row upsert `sql` widened to `n` rows.
fn widen(sql: &str, n: usize) -> Result<String, StoreError> {
    let bad = || StoreError::Invalid(format!("upsert without a VALUES group: {sql}"));
    let start = sql.find("VALUES (").ok_or_else(bad)? + "VALUES ".len();
    let end = start + sql[start..].find(')').ok_or_else(bad)? + 1;
    let group = &sql[start..end];
    Ok(format!(
        "{}{}{}",
        &sql[..start],
        vec![group; n].join(", "),
        &sql[end..]
    ))
}

/// How many leading values form the conflict key of an upsert (its `ON CONFLICT (…)` list;
/// every upsert here lists its key columns first).
fn key_len(sql: &str) -> usize {
    sql.find("ON CONFLICT (")
        .map(|i| &sql[i + "ON CONFLICT (".len()..])
        .and_then(|rest| rest.find(')').map(|e| rest[..e].split(',').count()))
        .unwrap_or(1)
}

/// One statement's rows in a batch, with the position of each key among them.
type Group = (&'static str, Vec<Vec<Value>>, HashMap<String, usize>);

/// Writes a batch as multi-row upserts, one transaction. Rows with the same key inside the
/// batch are merged first, the later row winning, as row-by-row upserts would leave them (and as
/// PostgreSQL requires: one statement may not touch a row twice).
fn write_batch(
    conn: &mut Conn,
    batch: &mut Vec<(u64, Vec<Upsert>)>,
    report: &mut ImportReport,
) -> Result<(), StoreError> {
    if batch.is_empty() {
        return Ok(());
    }
    let n = batch.len() as u64;
    let mut groups: Vec<Group> = Vec::new();
    for (_, ups) in batch.drain(..) {
        for u in ups {
            let g = match groups.iter().position(|g| g.0 == u.sql) {
                Some(g) => g,
                None => {
                    groups.push((u.sql, Vec::new(), HashMap::new()));
                    groups.len() - 1
                }
            };
            let Some((_, rows, seen)) = groups.get_mut(g) else {
                continue;
            };
            let key = format!("{:?}", u.values.get(..key_len(u.sql)).unwrap_or(&u.values));
            match seen.get(&key).and_then(|&i| rows.get_mut(i)) {
                Some(row) => *row = u.values,
                None => {
                    seen.insert(key, rows.len());
                    rows.push(u.values);
                }
            }
        }
    }
    conn.transaction(|c| {
        for (sql, rows, _) in &groups {
            for chunk in rows.chunks(ROWS_PER_UPSERT) {
                let values: Vec<Value> = chunk.iter().flatten().cloned().collect();
                c.execute(&widen(sql, chunk.len())?, &values)?;
            }
        }
        Ok(())
    })?;
    report.imported += n;
    Ok(())
}

const UPSERT_REGION: &str = "INSERT INTO regions (code, name_zh, name_en) VALUES (?, ?, ?) \
     ON CONFLICT (code) DO UPDATE SET name_zh = excluded.name_zh, name_en = excluded.name_en";
const UPSERT_SITE: &str = "INSERT INTO sites (site_id, name, address, region_code, lat, lon, \
     tariff_class, capacity_kva, owner, allow_listed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
     ON CONFLICT (site_id) DO UPDATE SET name = excluded.name, address = excluded.address, \
     region_code = excluded.region_code, lat = excluded.lat, lon = excluded.lon, \
     tariff_class = excluded.tariff_class, capacity_kva = excluded.capacity_kva, \
     owner = excluded.owner, allow_listed = excluded.allow_listed";
const UPSERT_SUBSCRIBER: &str = "INSERT INTO subscribers (subscriber_id, name, phone, id_number, \
     site_id) VALUES (?, ?, ?, ?, ?) ON CONFLICT (subscriber_id) DO UPDATE SET \
     name = excluded.name, phone = excluded.phone, id_number = excluded.id_number, \
     site_id = excluded.site_id";
const UPSERT_ASSIGNMENT: &str = "INSERT INTO ip_assignments (ip, port_from, valid_from, port_to, \
     valid_to, subscriber_id) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (ip, port_from, valid_from) \
     DO UPDATE SET port_to = excluded.port_to, valid_to = excluded.valid_to, \
     subscriber_id = excluded.subscriber_id";
const UPSERT_METER: &str = "INSERT INTO meters (meter_id, site_id, customer_id, account) \
     VALUES (?, ?, ?, ?) ON CONFLICT (meter_id) DO UPDATE SET site_id = excluded.site_id, \
     customer_id = excluded.customer_id, account = excluded.account";
const UPSERT_WALLET: &str = "INSERT INTO wallets (address, coin, site_id, owner) VALUES (?, ?, ?, ?) \
     ON CONFLICT (address) DO UPDATE SET coin = excluded.coin, site_id = excluded.site_id, \
     owner = excluded.owner";

fn opt(cols: &Columns, row: &csv::StringRecord, name: &str) -> Value {
    cols.get(row, name).map_or(Value::Null, Value::from)
}

fn opt_num(cols: &Columns, row: &csv::StringRecord, name: &str) -> Result<Value, String> {
    match cols.get(row, name) {
        None => Ok(Value::Null),
        Some(s) => s
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .map(Value::Real)
            .ok_or_else(|| format!("{name} '{s}' is not a number")),
    }
}

fn flag(cols: &Columns, row: &csv::StringRecord, name: &str) -> Result<Value, String> {
    match cols.get(row, name).map(str::to_lowercase).as_deref() {
        None | Some("false" | "no" | "0" | "n") => Ok(Value::Int(0)),
        Some("true" | "yes" | "1" | "y") => Ok(Value::Int(1)),
        Some(s) => Err(format!("{name} '{s}' is not true/false")),
    }
}

/// Checks a GB/T 2260 code: 2, 4 or 6 digits (province, city, county).
pub fn check_region(code: &str) -> Result<(), String> {
    if matches!(code.len(), 2 | 4 | 6) && code.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(format!(
            "region_code '{code}' is not a GB/T 2260 code (2, 4 or 6 digits)"
        ))
    }
}

fn site_upsert(cols: &Columns, row: &csv::StringRecord, site_id: &str) -> Result<Upsert, String> {
    let region = cols.need(row, "region_code")?;
    check_region(region)?;
    let lat = opt_num(cols, row, "lat")?;
    let lon = opt_num(cols, row, "lon")?;
    if let (Value::Real(la), Value::Real(lo)) = (&lat, &lon)
        && (la.abs() > 90.0 || lo.abs() > 180.0)
    {
        return Err(format!("coordinates {la},{lo} are out of range"));
    }
    Ok(Upsert {
        sql: UPSERT_SITE,
        values: vec![
            site_id.into(),
            opt(cols, row, "name"),
            opt(cols, row, "address"),
            region.into(),
            lat,
            lon,
            opt(cols, row, "tariff_class"),
            opt_num(cols, row, "capacity_kva")?,
            opt(cols, row, "owner"),
            flag(cols, row, "allow_listed")?,
        ],
    })
}

/// Normalises an IP address's text (so `::FFFF:…` and zero-padded forms compare equal).
pub fn normalise_ip(s: &str) -> Option<String> {
    let ip: IpAddr = s.trim().parse().ok()?;
    Some(match ip {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map_or_else(|| v6.to_string(), |v4| v4.to_string()),
        IpAddr::V4(v4) => v4.to_string(),
    })
}

fn port(cols: &Columns, row: &csv::StringRecord, name: &str, default: i64) -> Result<i64, String> {
    match cols.get(row, name) {
        None => Ok(default),
        Some(s) => s
            .parse::<u16>()
            .map(i64::from)
            .map_err(|_| format!("{name} '{s}' is not a port")),
    }
}

fn rows_for(kind: Kind, cols: &Columns, row: &csv::StringRecord) -> Result<Vec<Upsert>, String> {
    Ok(match kind {
        Kind::Regions => {
            let code = cols.need(row, "code")?;
            check_region(code)?;
            vec![Upsert {
                sql: UPSERT_REGION,
                values: vec![
                    code.into(),
                    cols.get(row, "name_zh").unwrap_or("").into(),
                    cols.get(row, "name_en").unwrap_or("").into(),
                ],
            }]
        }
        Kind::Sites => {
            let id = cols.need(row, "site_id")?;
            vec![site_upsert(cols, row, id)?]
        }
        Kind::Subscribers => vec![Upsert {
            sql: UPSERT_SUBSCRIBER,
            values: vec![
                cols.need(row, "subscriber_id")?.into(),
                opt(cols, row, "name"),
                opt(cols, row, "phone"),
                opt(cols, row, "id_number"),
                cols.need(row, "site_id")?.into(),
            ],
        }],
        Kind::IpAssignments => {
            let raw = cols.need(row, "ip")?;
            let ip = normalise_ip(raw).ok_or_else(|| format!("ip '{raw}' is not an IP address"))?;
            let start_s = cols.need(row, "start")?;
            let start =
                parse_instant(start_s).ok_or_else(|| format!("start '{start_s}' is not a time"))?;
            let end = match cols.get(row, "end") {
                None => OPEN_END,
                Some(s) => parse_instant(s).ok_or_else(|| format!("end '{s}' is not a time"))?,
            };
            if end <= start {
                return Err(format!("end {end} is not after start {start}"));
            }
            let (pf, pt) = (
                port(cols, row, "port_from", 0)?,
                port(cols, row, "port_to", 65535)?,
            );
            if pt < pf {
                return Err(format!("port_to {pt} is below port_from {pf}"));
            }
            vec![Upsert {
                sql: UPSERT_ASSIGNMENT,
                values: vec![
                    ip.into(),
                    pf.into(),
                    start.into(),
                    pt.into(),
                    end.into(),
                    cols.need(row, "subscriber_id")?.into(),
                ],
            }]
        }
        Kind::Meters => {
            let meter = cols.need(row, "meter_id")?;
            // A customer register (the power scan's customers.csv) names no site: the customer
            // is the site, and the row carries the site's address and region.
            let site = cols
                .get(row, "site_id")
                .or_else(|| cols.get(row, "customer_id"))
                .unwrap_or(meter);
            let mut ups = Vec::new();
            if cols.has("region_code") {
                ups.push(site_upsert(cols, row, site)?);
            }
            ups.push(Upsert {
                sql: UPSERT_METER,
                values: vec![
                    meter.into(),
                    site.into(),
                    opt(cols, row, "customer_id"),
                    opt(cols, row, "account"),
                ],
            });
            ups
        }
        Kind::Wallets => vec![Upsert {
            sql: UPSERT_WALLET,
            values: vec![
                cols.need(row, "wallet")?.into(),
                opt(cols, row, "coin"),
                cols.need(row, "site_id")?.into(),
                opt(cols, row, "owner"),
            ],
        }],
        Kind::Penalties => vec![penalties::rule_upsert(cols, row)?],
    })
}

/// How a piece of evidence was tied to a site.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attribution {
    /// The site.
    pub site_id: String,
    /// The registry entry that tied it (`ip-assignment:SUB1`, `meter`, `wallet`).
    pub by: String,
}

/// The site behind an IP (and port, for carrier-grade NAT) at an instant.
pub fn site_of_ip(
    conn: &mut Conn,
    ip: &str,
    port: Option<i64>,
    at: i64,
) -> Result<Option<Attribution>, StoreError> {
    let Some(ip) = normalise_ip(ip) else {
        return Ok(None);
    };
    let port = port.unwrap_or(0);
    let row = conn.query_one(
        "SELECT s.site_id, a.subscriber_id FROM ip_assignments a \
         JOIN subscribers s ON s.subscriber_id = a.subscriber_id \
         WHERE a.ip = ? AND a.valid_from <= ? AND a.valid_to > ? \
         AND a.port_from <= ? AND a.port_to >= ? ORDER BY a.valid_from DESC LIMIT 1",
        &[ip.into(), at.into(), at.into(), port.into(), port.into()],
    )?;
    Ok(row.map(|r| Attribution {
        site_id: r.text(0),
        by: format!("ip-assignment:{}", r.text(1)),
    }))
}

/// A site's address and region with its case, if it has one.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SiteCase {
    /// Address.
    pub address: Option<String>,
    /// GB/T 2260 region code.
    pub region_code: Option<String>,
    /// Its case.
    pub case_id: Option<i64>,
    /// The case's state.
    pub state: Option<String>,
}

/// A site's address, region and case (all empty when the site is unknown).
pub fn site_case(conn: &mut Conn, site_id: &str) -> Result<SiteCase, StoreError> {
    let row = conn.query_one(
        "SELECT s.address, s.region_code, c.case_id, c.state FROM sites s \
         LEFT JOIN cases c ON c.site_id = s.site_id WHERE s.site_id = ?",
        &[site_id.into()],
    )?;
    Ok(row.map_or_else(SiteCase::default, |r| SiteCase {
        address: r.opt_text(0),
        region_code: r.opt_text(1),
        case_id: r.opt_int(2),
        state: r.opt_text(3),
    }))
}

/// What a registry lookup asks about.
#[derive(Clone, Debug)]
pub enum Subject<'a> {
    /// An IP address (and source port, for carrier-grade NAT) at an instant (Unix seconds).
    Ip {
        /// The address.
        ip: &'a str,
        /// The source port.
        port: Option<u16>,
        /// The instant.
        at: i64,
    },
    /// A meter id.
    Meter(&'a str),
    /// A wallet address.
    Wallet(&'a str),
}

/// What a lookup found: the site, the entry that tied it, and the site's case.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Found {
    /// The site.
    pub site_id: String,
    /// The registry entry that tied it.
    pub by: String,
    /// Its address.
    pub address: Option<String>,
    /// Its GB/T 2260 region code.
    pub region_code: Option<String>,
    /// Its case.
    pub case_id: Option<i64>,
    /// The case's state.
    pub state: Option<String>,
}

/// The site behind `subject` with its case; `None` when no entry matches.
pub fn lookup(conn: &mut Conn, subject: &Subject) -> Result<Option<Found>, StoreError> {
    let hit = match *subject {
        Subject::Ip { ip, port, at } => site_of_ip(conn, ip, port.map(i64::from), at)?,
        Subject::Meter(m) => site_of_meter(conn, m)?,
        Subject::Wallet(w) => site_of_wallet(conn, w)?,
    };
    let Some(hit) = hit else {
        return Ok(None);
    };
    let site = site_case(conn, &hit.site_id)?;
    Ok(Some(Found {
        site_id: hit.site_id,
        by: hit.by,
        address: site.address,
        region_code: site.region_code,
        case_id: site.case_id,
        state: site.state,
    }))
}

/// The site of a meter.
pub fn site_of_meter(conn: &mut Conn, meter: &str) -> Result<Option<Attribution>, StoreError> {
    let row = conn.query_one(
        "SELECT site_id FROM meters WHERE meter_id = ?",
        &[meter.into()],
    )?;
    Ok(row.map(|r| Attribution {
        site_id: r.text(0),
        by: "meter".into(),
    }))
}

/// The site of a known wallet.
pub fn site_of_wallet(conn: &mut Conn, wallet: &str) -> Result<Option<Attribution>, StoreError> {
    let row = conn.query_one(
        "SELECT site_id FROM wallets WHERE address = ?",
        &[wallet.into()],
    )?;
    Ok(row.map(|r| Attribution {
        site_id: r.text(0),
        by: "wallet".into(),
    }))
}

/// What the registry knows of a meter's customer, for scoring its readings.
#[derive(Clone, Debug, PartialEq)]
pub struct MeterProfile {
    /// Meter.
    pub meter_id: String,
    /// Customer (the site when the register names none).
    pub customer_id: String,
    /// Tariff class as registered.
    pub tariff_class: Option<String>,
    /// Contracted capacity, kVA.
    pub capacity_kva: Option<f64>,
    /// Region code.
    pub region_code: String,
    /// Address.
    pub address: Option<String>,
    /// Registered legitimate flat load (data centre …).
    pub allow_listed: bool,
}

/// The customer profile of every registered meter.
pub fn meter_profiles(conn: &mut Conn) -> Result<Vec<MeterProfile>, StoreError> {
    let rows = conn.query(
        "SELECT m.meter_id, COALESCE(m.customer_id, m.site_id), s.tariff_class, s.capacity_kva, \
         COALESCE(s.region_code, ''), s.address, COALESCE(s.allow_listed, 0) \
         FROM meters m LEFT JOIN sites s ON s.site_id = m.site_id ORDER BY m.meter_id",
        &[],
    )?;
    Ok(rows
        .iter()
        .map(|r| MeterProfile {
            meter_id: r.text(0),
            customer_id: r.text(1),
            tariff_class: r.opt_text(2),
            capacity_kva: r.opt_real(3),
            region_code: r.text(4),
            address: r.opt_text(5),
            allow_listed: r.int(6) != 0,
        })
        .collect())
}

/// Row counts of the registry tables, for `registry stats` and tests.
pub fn counts(conn: &mut Conn) -> Result<Vec<(&'static str, i64)>, StoreError> {
    let mut out = Vec::new();
    for t in [
        "regions",
        "sites",
        "subscribers",
        "ip_assignments",
        "meters",
        "wallets",
        "penalty_rules",
    ] {
        let n = conn
            .query_one(&format!("SELECT COUNT(*) FROM {t}"), &[])?
            .map_or(0, |r| r.int(0));
        out.push((t, n));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_told_by_their_headers() {
        let k = |h: &str| {
            Kind::from_header(&Columns::new(&csv::StringRecord::from(
                h.split(',').collect::<Vec<_>>(),
            )))
        };
        assert_eq!(k("ip,start,end,subscriber_id"), Some(Kind::IpAssignments));
        assert_eq!(
            k("meter_id,customer_id,tariff_class,capacity_kva,area_id,region_code"),
            Some(Kind::Meters)
        );
        assert_eq!(k("wallet,coin,site_id"), Some(Kind::Wallets));
        assert_eq!(k("site_id,address,region_code"), Some(Kind::Sites));
        assert_eq!(k("subscriber_id,name,site_id"), Some(Kind::Subscribers));
        assert_eq!(k("code,name_zh,name_en"), Some(Kind::Regions));
        assert_eq!(k("a,b"), None);
    }

    #[test]
    fn upserts_widen_and_know_their_keys() {
        for sql in [
            UPSERT_REGION,
            UPSERT_SITE,
            UPSERT_SUBSCRIBER,
            UPSERT_ASSIGNMENT,
            UPSERT_METER,
            UPSERT_WALLET,
        ] {
            let wide = widen(sql, 3).unwrap();
            assert_eq!(
                wide.matches('?').count(),
                3 * sql.matches('?').count(),
                "{sql}"
            );
            assert!(wide.contains("ON CONFLICT"));
        }
        assert_eq!(key_len(UPSERT_ASSIGNMENT), 3);
        assert_eq!(key_len(UPSERT_SITE), 1);
    }

    #[test]
    fn a_key_twice_in_one_file_keeps_the_later_row() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("meters.csv");
        std::fs::write(&p, "meter_id,site_id\nM1,S1\nM2,S2\nM1,S9\n").unwrap();
        let mut c = Conn::open(":memory:").unwrap();
        crate::schema::migrate(&mut c).unwrap();
        let r = import(&mut c, &p, None).unwrap();
        assert_eq!((r.rows, r.imported, r.bad_count), (3, 3, 0));
        assert_eq!(site_of_meter(&mut c, "M1").unwrap().unwrap().site_id, "S9");
    }

    #[test]
    fn ips_are_normalised() {
        assert_eq!(normalise_ip("::ffff:10.0.0.1").as_deref(), Some("10.0.0.1"));
        assert_eq!(normalise_ip("2001:DB8::1").as_deref(), Some("2001:db8::1"));
        assert_eq!(normalise_ip("10.0.0.256"), None);
    }
}
