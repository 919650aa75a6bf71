//! `minewatch registry`, `ingest`, `cases` and `report`: the store's commands.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand, ValueEnum};
use minewatch_store::cases::{self, Filter, State};
use minewatch_store::documents::{self, Doc, Lang};
use minewatch_store::evidence::Stream;
use minewatch_store::ingest::{Rules, Source, import};
use minewatch_store::registry::{self, Kind};
use minewatch_store::report::{self, Level, RegionRow};
use minewatch_store::rows;
use minewatch_store::{Store, time};

use crate::output::{Cells, Format, print_formats, write_records};

/// Where the store is.
#[derive(Args, Clone, Debug)]
pub struct DbArg {
    /// Store: a SQLite file, or a postgres:// URL.
    #[arg(long, env = "MINEWATCH_DB", default_value = "minewatch.db")]
    pub db: String,
}

impl DbArg {
    /// Opens the store, naming it in any error.
    pub fn open(&self) -> Result<Store> {
        Store::open(&self.db).with_context(|| "opening the store (--db)".to_string())
    }
}

/// Registry commands.
#[derive(Subcommand)]
pub enum RegistryCommand {
    /// Import registry CSVs: sites, subscribers, IP assignments, meters or a customer register,
    /// wallets, regions, penalty rules (each file's kind is told by its header).
    Import(ImportArgs),
    /// Count what the registry holds.
    Stats(DbArg),
    /// Who was behind an address at a time, or whose a meter or wallet is.
    Lookup(LookupArgs),
}

/// `registry lookup`.
#[derive(Args)]
#[command(group(clap::ArgGroup::new("what").required(true).args(["ip", "meter", "wallet"])))]
pub struct LookupArgs {
    /// An IP address (needs --at).
    #[arg(long, requires = "at")]
    ip: Option<String>,
    /// The source port, for carrier-grade NAT.
    #[arg(long)]
    port: Option<u16>,
    /// The instant (RFC 3339, YYYY-MM-DD HH:MM:SS in CST, or Unix seconds).
    #[arg(long)]
    at: Option<String>,
    /// A meter id.
    #[arg(long)]
    meter: Option<String>,
    /// A wallet address.
    #[arg(long)]
    wallet: Option<String>,
    /// Output format.
    #[arg(long, value_enum)]
    format: Option<Format>,
    #[command(flatten)]
    db: DbArg,
}

/// `registry import`.
#[derive(Args)]
pub struct ImportArgs {
    /// CSV files.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Force the kind instead of telling it by the header.
    #[arg(long, value_parser = parse_kind)]
    kind: Option<Kind>,
    #[command(flatten)]
    db: DbArg,
}

fn parse_kind(s: &str) -> Result<Kind, String> {
    Kind::parse(s).ok_or_else(|| {
        "one of regions, sites, subscribers, ip-assignments, meters, wallets, penalties".into()
    })
}

/// `ingest`.
#[derive(Args)]
pub struct IngestArgs {
    /// JSON lines from `minewatch scan` or `minewatch power scan`.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Department handing the evidence in (default: the stream's own).
    #[arg(long, value_parser = ["network", "grid", "finance", "police"])]
    department: Option<String>,
    /// Store and attribute only; fold into cases later with `minewatch cases fuse` (for
    /// many files loaded one after another).
    #[arg(long)]
    no_fuse: bool,
    /// Print no summary.
    #[arg(long)]
    quiet: bool,
    #[command(flatten)]
    db: DbArg,
}

/// Case commands.
#[derive(Subcommand)]
pub enum CasesCommand {
    /// List cases, most confident first.
    List(ListArgs),
    /// One case: figures, lifecycle, evidence, surcharge.
    Show(ShowArgs),
    /// Move a case to another state.
    Advance(AdvanceArgs),
    /// Assign a case to a department or person.
    Assign(AssignArgs),
    /// Every case with its evidence and history (JSON lines), or the ledger (CSV).
    Export(ListArgs),
    /// A printable rectification notice or inspection sheet (HTML).
    Document(DocumentArgs),
    /// Evidence that no registry entry ties to a site.
    Unattributed(UnattributedArgs),
    /// Fold stored evidence not yet in a case into its site's case (after `ingest --no-fuse`).
    Fuse(DbArg),
    /// Inspection outcomes per meter, as `power scan --inspections` reads them (CSV).
    Inspections(DbArg),
}

/// Filters shared by `cases list` and `cases export`.
#[derive(Args)]
pub struct ListArgs {
    /// Only these states (repeat or comma-separate).
    #[arg(long, value_delimiter = ',', value_parser = parse_state)]
    state: Vec<State>,
    /// Only this region (GB/T 2260 prefix: 15, 1502, 150202).
    #[arg(long)]
    region: Option<String>,
    /// Only cases with evidence from this stream.
    #[arg(long, value_parser = ["network", "grid", "chain"])]
    stream: Option<String>,
    /// Only cases at or above this confidence.
    #[arg(long)]
    min_confidence: Option<f64>,
    /// Only cases with evidence handed in by this department.
    #[arg(long, value_parser = ["network", "grid", "finance", "police", "coordination"])]
    department: Option<String>,
    /// At most this many.
    #[arg(long)]
    limit: Option<i64>,
    /// Skip this many (paging).
    #[arg(long, default_value_t = 0)]
    offset: i64,
    /// Output format (default: table on a terminal, JSON lines in a pipe).
    #[arg(long, value_enum)]
    format: Option<Format>,
    #[command(flatten)]
    db: DbArg,
}

fn parse_state(s: &str) -> Result<State, String> {
    State::parse(s).ok_or_else(|| {
        "one of suspected, verified, notified, rectified, re-inspected, closed, relapsed".into()
    })
}

impl ListArgs {
    fn filter(&self) -> Result<Filter> {
        if let Some(r) = &self.region {
            registry::check_region(r).map_err(anyhow::Error::msg)?;
        }
        Ok(Filter {
            department: self.department.clone(),
            states: self.state.clone(),
            region: self.region.clone(),
            stream: self.stream.as_deref().and_then(Stream::parse),
            min_confidence: self.min_confidence,
            limit: self.limit,
            offset: self.offset,
            order: cases::Order::Rank,
        })
    }
}

/// `cases show`.
#[derive(Args)]
pub struct ShowArgs {
    /// Case number.
    id: i64,
    /// Output format.
    #[arg(long, value_enum)]
    format: Option<Format>,
    #[command(flatten)]
    db: DbArg,
}

/// `cases advance`.
#[derive(Args)]
pub struct AdvanceArgs {
    /// Case number.
    id: i64,
    /// New state.
    #[arg(long, value_parser = parse_state)]
    to: State,
    /// Who decides.
    #[arg(long)]
    by: String,
    /// Why.
    #[arg(long)]
    reason: String,
    /// When it happened (RFC 3339 or YYYY-MM-DD; default: now).
    #[arg(long)]
    at: Option<String>,
    #[command(flatten)]
    db: DbArg,
}

/// `cases assign`.
#[derive(Args)]
pub struct AssignArgs {
    /// Case number.
    id: i64,
    /// Department or person.
    #[arg(long)]
    to: String,
    /// Who assigns.
    #[arg(long)]
    by: String,
    #[command(flatten)]
    db: DbArg,
}

/// Which document.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum DocKind {
    /// Rectification notice (整改通知书).
    Notice,
    /// On-site inspection sheet (现场检查记录表).
    Inspection,
}

/// `cases document`.
#[derive(Args)]
pub struct DocumentArgs {
    /// Case number.
    id: i64,
    /// Which document.
    #[arg(long, value_enum, default_value = "notice")]
    kind: DocKind,
    /// Language: zh-CN or en.
    #[arg(long, default_value = "zh-CN")]
    lang: String,
    /// Write here instead of stdout.
    #[arg(long)]
    out: Option<PathBuf>,
    #[command(flatten)]
    db: DbArg,
}

/// `cases unattributed`.
#[derive(Args)]
pub struct UnattributedArgs {
    /// At most this many.
    #[arg(long, default_value_t = 100)]
    limit: i64,
    /// Output format.
    #[arg(long, value_enum)]
    format: Option<Format>,
    #[command(flatten)]
    db: DbArg,
}

/// Report commands.
#[derive(Subcommand)]
pub enum ReportCommand {
    /// Per province, city and county: cases by state, mining power and energy against the peak.
    Regions(RegionsArgs),
}

/// `report regions`.
#[derive(Args)]
pub struct RegionsArgs {
    /// Levels to report (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "province,city,county", value_parser = parse_level)]
    level: Vec<Level>,
    /// Only within this region (GB/T 2260 prefix).
    #[arg(long)]
    region: Option<String>,
    /// The instant described (default: the latest the store knows of).
    #[arg(long)]
    at: Option<String>,
    /// Also draw the monthly mining power of the top level's regions (SVG).
    #[arg(long)]
    chart: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum)]
    format: Option<Format>,
    #[command(flatten)]
    db: DbArg,
}

fn parse_level(s: &str) -> Result<Level, String> {
    Level::parse(s).ok_or_else(|| "province, city or county".into())
}

fn at_or_now(at: Option<&str>) -> Result<i64> {
    match at {
        None => Ok(time::now()),
        Some(s) => time::parse_instant(s).with_context(|| format!("--at '{s}' is not a time")),
    }
}

/// Runs a registry command.
pub fn registry(c: RegistryCommand) -> Result<ExitCode> {
    match c {
        RegistryCommand::Import(a) => {
            let mut store = a.db.open()?;
            let r = minewatch_store::ingest::import_registry(&mut store.conn, &a.files, a.kind)?;
            crate::output::say(&r.lines());
            Ok(crate::output::exit_if(r.refused() > 0, 1))
        }
        RegistryCommand::Lookup(a) => {
            let mut store = a.db.open()?;
            let subject = match (&a.ip, &a.meter, &a.wallet) {
                (Some(ip), _, _) => {
                    if registry::normalise_ip(ip).is_none() {
                        bail!("--ip '{ip}' is not an IP address");
                    }
                    let at = at_or_now(a.at.as_deref())?;
                    registry::Subject::Ip {
                        ip,
                        port: a.port,
                        at,
                    }
                }
                (None, Some(m), _) => registry::Subject::Meter(m),
                (None, None, Some(w)) => registry::Subject::Wallet(w),
                (None, None, None) => bail!("give --ip, --meter or --wallet"),
            };
            let Some(found) = registry::lookup(&mut store.conn, &subject)? else {
                eprintln!("minewatch: nothing in the registry matches");
                return Ok(ExitCode::SUCCESS);
            };
            let cols = (&rows::FOUND_COLUMNS[..], registry::Found::cells);
            print_formats(Format::resolve(a.format), &[found], cols, cols)?;
            Ok(ExitCode::from(1))
        }
        RegistryCommand::Stats(db) => {
            let mut store = db.open()?;
            let counts = registry::counts(&mut store.conn)?;
            write_records(
                Format::resolve(None),
                &counts,
                &["table", "rows"],
                |(t, n)| vec![t.to_string(), n.to_string()],
            )?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Runs `ingest`: store, attribute, fold into cases, and say what happened.
pub fn ingest(a: IngestArgs) -> Result<ExitCode> {
    let mut store = a.db.open()?;
    let rules = Rules {
        department: a.department.as_deref(),
        ..Rules::default()
    };
    let sources = a.files.iter().map(|f| Source::File(f)).collect();
    let r = import(&mut store.conn, sources, &rules, !a.no_fuse)?;
    if !a.quiet {
        crate::output::say(&r.lines());
    }
    Ok(crate::output::exit_if(r.ingest.bad_count > 0, 1))
}

/// The columns and cells of a case's row.
const CASE: (&[&str], Cells<cases::Case>) = (&rows::CASE_COLUMNS, cases::Case::cells);

/// Runs a case command.
pub fn run(c: CasesCommand) -> Result<ExitCode> {
    match c {
        CasesCommand::List(a) => {
            let mut store = a.db.open()?;
            let list = cases::list(&mut store.conn, &a.filter()?)?;
            print_formats(Format::resolve(a.format), &list, CASE, CASE)?;
        }
        CasesCommand::Export(a) => {
            let mut store = a.db.open()?;
            let list = cases::list(&mut store.conn, &a.filter()?)?;
            match Format::resolve(a.format.or(Some(Format::Jsonl))) {
                Format::Jsonl => {
                    let full: Vec<_> = list
                        .into_iter()
                        .map(|c| documents::case_file(&mut store.conn, c))
                        .collect::<Result<_, _>>()?;
                    write_records(Format::Jsonl, &full, &[], |_| Vec::new())?;
                }
                f => print_formats(f, &list, CASE, CASE)?,
            }
        }
        CasesCommand::Show(a) => {
            let mut store = a.db.open()?;
            let case = cases::get(&mut store.conn, a.id)?;
            let full = documents::case_file(&mut store.conn, case)?;
            match Format::resolve(a.format) {
                Format::Table => print!("{}", minewatch_present::text::case(&full)),
                f => print_formats(f, std::slice::from_ref(&full.case), CASE, CASE)?,
            }
        }
        CasesCommand::Advance(a) => {
            let mut store = a.db.open()?;
            let at = at_or_now(a.at.as_deref())?;
            let from = cases::advance(&mut store.conn, a.id, a.to, &a.by, &a.reason, at)?;
            eprintln!("minewatch: case {}: {from} → {}", a.id, a.to);
        }
        CasesCommand::Assign(a) => {
            let mut store = a.db.open()?;
            cases::assign(&mut store.conn, a.id, &a.to, &a.by, time::now())?;
            eprintln!("minewatch: case {} assigned to {}", a.id, a.to);
        }
        CasesCommand::Document(a) => {
            let lang = Lang::parse(&a.lang)
                .with_context(|| format!("--lang '{}': zh-CN or en", a.lang))?;
            let doc = match a.kind {
                DocKind::Notice => Doc::Notice,
                DocKind::Inspection => Doc::Inspection,
            };
            let mut store = a.db.open()?;
            let facts = documents::facts(&mut store.conn, a.id)?;
            let html = minewatch_present::html::document(&facts, doc, lang);
            match a.out {
                Some(p) => std::fs::write(&p, html).with_context(|| p.display().to_string())?,
                None => print!("{html}"),
            }
        }
        CasesCommand::Inspections(db) => {
            let mut store = db.open()?;
            let out = minewatch_store::users::inspection_outcomes(&mut store.conn)?;
            write_records(
                Format::Csv,
                &out,
                &rows::INSPECTION_COLUMNS,
                rows::inspection_cells,
            )?;
        }
        CasesCommand::Fuse(db) => {
            let mut store = db.open()?;
            eprintln!("minewatch: {}", cases::fuse(&mut store.conn)?.summary());
        }
        CasesCommand::Unattributed(a) => {
            let mut store = a.db.open()?;
            let total = cases::unattributed_count(&mut store.conn)?;
            let list = cases::unattributed(&mut store.conn, a.limit)?;
            let cols = (&rows::EVIDENCE_COLUMNS[..], cases::EvidenceRow::cells);
            print_formats(Format::resolve(a.format), &list, cols, cols)?;
            if total > list.len() as i64 {
                eprintln!("minewatch: {} of {total} shown (--limit)", list.len());
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs a report command.
pub fn report(c: ReportCommand) -> Result<ExitCode> {
    let ReportCommand::Regions(a) = c;
    if let Some(r) = &a.region {
        registry::check_region(r).map_err(anyhow::Error::msg)?;
    }
    let at = a.at.as_deref().map(|s| at_or_now(Some(s))).transpose()?;
    let mut store = a.db.open()?;
    let rep = report::regions(&mut store.conn, at, &a.level, a.region.as_deref())?;
    if let Some(path) = &a.chart {
        let top = a.level.iter().min().copied().unwrap_or(Level::Province);
        let rows: Vec<_> = rep.regions.iter().filter(|r| r.level == top).collect();
        if rows.is_empty() {
            bail!("no region has cases: nothing to chart");
        }
        minewatch_present::chart::chart_svg(&rep, &rows, path)?;
        eprintln!("minewatch: chart written to {}", path.display());
    }
    let format = Format::resolve(a.format);
    if format == Format::Table {
        println!("as of {}", rep.as_of);
    }
    let cols = (&rows::REGION_COLUMNS[..], RegionRow::cells);
    print_formats(format, &rep.regions, cols, cols)?;
    Ok(ExitCode::SUCCESS)
}
