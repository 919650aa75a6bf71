//! The demo region: a network side for a region that the power generator wrote (broadband
//! subscribers with addresses that change every day, as a carrier's RADIUS log records them,
//! and a probe's capture of their traffic: the power miners' pool sessions, a few cryptojacked
//! PCs the meters cannot see, ordinary browsing, and mining from addresses no registry knows),
//! and the cases the detectors led to scored against what was planted.
//!
//! `minewatch demo` runs the detectors between [`compose`] and [`score`] as a user would.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};

use minewatch_model::rng::Rng;
use minewatch_net::synth::sessions::{Scenario, SiteSession, site_session, write_pcapng};
use minewatch_store::cases;
use minewatch_store::{Store, StoreError, time};

/// Why the demo region could not be written.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// A generator output could not be read.
    #[error("{}: {source}", path.display())]
    Csv {
        /// The file.
        path: PathBuf,
        /// What the reader said.
        source: csv::Error,
    },
    /// A generator output lacks a column.
    #[error("generator output has no column {0}")]
    Column(String),
    /// A step's output could not be read back.
    #[error("reading {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// A file could not be written.
    #[error("writing {}: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// A step could not be started.
    #[error("running minewatch {command}: {source}")]
    Spawn {
        /// The step's arguments.
        command: String,
        /// What the system said.
        source: std::io::Error,
    },
    /// A step ended with an error.
    #[error("minewatch {command} failed ({status})")]
    Step {
        /// The step's arguments.
        command: String,
        /// How it ended.
        status: std::process::ExitStatus,
    },
    /// The store refused.
    #[error("{0}")]
    Store(#[from] StoreError),
    /// The chart could not be drawn.
    #[error("{0}")]
    Chart(#[from] minewatch_present::PresentError),
    /// The report could not be written out.
    #[error("writing the report: {0}")]
    Out(#[from] std::io::Error),
}

/// What `minewatch demo` asks for.
#[derive(Clone, Debug)]
pub struct Demo {
    /// The region's network side.
    pub region: Options,
    /// The store (default: `minewatch.db` inside the folder); a `postgres://` URL works too.
    pub db: Option<String>,
    /// Meters (sites) in the region.
    pub meters: usize,
    /// Share of sites hiding a miner on the meter.
    pub miner_share: f64,
    /// Say nothing but the report.
    pub quiet: bool,
}

/// Runs the binary `exe` with `args` as a step of the demo, its stdout to a file when given;
/// the command is echoed to `log` first, as a user would type it.
fn step(
    exe: &Path,
    args: &[&str],
    stdout: Option<&Path>,
    quiet: bool,
    log: &mut dyn std::io::Write,
) -> Result<(), DemoError> {
    use std::process::{Command, Stdio};
    let command = args.join(" ");
    if !quiet {
        let redirect = stdout
            .map(|p| format!(" > {}", p.display()))
            .unwrap_or_default();
        writeln!(log, "$ minewatch {command}{redirect}")?;
    }
    let quiet_or = |s: fn() -> Stdio| if quiet { Stdio::null() } else { s() };
    let mut cmd = Command::new(exe);
    cmd.args(args).stderr(quiet_or(Stdio::inherit));
    match stdout {
        Some(p) => cmd.stdout(std::fs::File::create(p).map_err(|source| DemoError::Write {
            path: p.to_path_buf(),
            source,
        })?),
        None => cmd.stdout(quiet_or(Stdio::inherit)),
    };
    let status = cmd.status().map_err(|source| DemoError::Spawn {
        command: command.clone(),
        source,
    })?;
    match status.code() {
        Some(c) if c <= 1 => Ok(()),
        _ => Err(DemoError::Step { command, status }),
    }
}

/// The whole job on a generated region, each detector run by the binary `exe` as a user would
/// run it: the power generator writes the meters, [`compose`] the network side, `scan` and
/// `power scan` read them, the registry and the evidence go into the store and fuse into
/// cases, [`score`] checks them against what was planted. The score and the regional report
/// go to `out` (the score also to `score.json`, the chart to `regions.svg`); the commands and
/// what each step did to `log`.
pub fn run(
    exe: &Path,
    d: &Demo,
    out: &mut dyn std::io::Write,
    log: &mut dyn std::io::Write,
) -> Result<Score, DemoError> {
    use minewatch_store::ingest::{ImportReport, Rules, Source, import};
    use minewatch_store::registry;
    use minewatch_store::report::{self, Level};
    let dir = &d.region.out;
    std::fs::create_dir_all(dir).map_err(|source| DemoError::Write {
        path: dir.clone(),
        source,
    })?;
    let folder = dir.display().to_string();
    let power_dir = dir.join("power");
    let start = "2024-01-01";
    let (meters, days, share, seed) = (
        d.meters.to_string(),
        d.region.days.to_string(),
        d.miner_share.to_string(),
        d.region.seed.to_string(),
    );
    let power_out = power_dir.display().to_string();
    #[rustfmt::skip]
    let generate = ["power", "generate", "--meters", &meters, "--days", &days, "--start", start,
        "--miner-share", &share, "--seed", &seed, "--out", &power_out];
    step(exe, &generate, None, d.quiet, log)?;
    let start_t = time::parse_date(start).unwrap_or_default();
    let region = compose(&d.region, &power_dir, start_t)?;
    if !d.quiet {
        writeln!(
            log,
            "minewatch: region written to {folder}: {} sites, {} broadband subscribers with daily leases, {} sessions in region.pcapng",
            d.meters, region.subscribers, region.sessions
        )?;
    }
    let detections = dir.join("detections.jsonl");
    let suspects = dir.join("suspects.jsonl");
    let capture = format!("{folder}/region.pcapng");
    step(
        exe,
        &["scan", &capture, "--format", "jsonl"],
        Some(&detections),
        d.quiet,
        log,
    )?;
    let (readings, customers) = (
        format!("{folder}/power/readings.csv"),
        format!("{folder}/power/customers.csv"),
    );
    #[rustfmt::skip]
    let power_scan = ["power", "scan", &readings, "--customers", &customers, "--format", "jsonl"];
    step(exe, &power_scan, Some(&suspects), d.quiet, log)?;
    // Rigs wired ahead of a meter show only at the feeder: the transformer areas' balance.
    let areas = dir.join("areas.jsonl");
    let feeders = format!("{folder}/power/feeders.csv");
    #[rustfmt::skip]
    let power_areas = ["power", "areas", &readings, "--customers", &customers, "--feeders",
        &feeders, "--format", "jsonl"];
    step(exe, &power_areas, Some(&areas), d.quiet, log)?;
    let abnormal_areas = abnormal_areas(&areas)?;

    let db =
        d.db.clone()
            .unwrap_or_else(|| dir.join("minewatch.db").display().to_string());
    let mut store = Store::open(&db)?;
    for f in [
        "regions.csv",
        "power/customers.csv",
        "subscribers.csv",
        "ip-assignments.csv",
    ] {
        let r = registry::import(&mut store.conn, &dir.join(f), None)?;
        if !d.quiet {
            writeln!(
                log,
                "minewatch: registry {f}: {} {} rows, {} refused",
                r.imported,
                r.kind.name(),
                r.bad_count
            )?;
        }
    }
    let sources = vec![Source::File(&detections), Source::File(&suspects)];
    let ImportReport { ingest: ing, fused } =
        import(&mut store.conn, sources, &Rules::default(), true)?;
    if !d.quiet {
        writeln!(
            log,
            "minewatch: ingested {} pieces of evidence ({} tied to a site, {} not); {} cases opened",
            ing.new, ing.attributed, ing.unattributed, fused.opened
        )?;
    }
    let s = score(&mut store, &region, d.meters, &abnormal_areas)?;
    let json = serde_json::to_string_pretty(&s).unwrap_or_default() + "\n";
    write(&dir.join("score.json"), json)?;
    for line in s.lines() {
        writeln!(out, "{line}")?;
    }
    let levels = [Level::Province, Level::County];
    let rep = report::regions(&mut store.conn, None, &levels, None)?;
    let provinces: Vec<_> = rep
        .regions
        .iter()
        .filter(|r| r.level == Level::Province)
        .collect();
    if !provinces.is_empty() {
        minewatch_present::chart::chart_svg(&rep, &provinces, &dir.join("regions.svg"))?;
    }
    writeln!(out, "regional report as of {}:", rep.as_of)?;
    for line in region_lines(&rep.regions) {
        writeln!(out, "{line}")?;
    }
    if !d.quiet {
        writeln!(
            log,
            "minewatch: next: minewatch cases list --db {db}; minewatch cases show 1 --db {db}; chart in {folder}/regions.svg"
        )?;
    }
    Ok(s)
}

/// The areas a `power areas --format jsonl` output found losing abnormally.
fn abnormal_areas(path: &Path) -> Result<BTreeSet<String>, DemoError> {
    let text = std::fs::read_to_string(path).map_err(|source| DemoError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let mut out = BTreeSet::new();
    for (i, line) in text.lines().enumerate() {
        let v: serde_json::Value = serde_json::from_str(line).map_err(|e| DemoError::Read {
            path: path.to_path_buf(),
            source: std::io::Error::other(format!("line {}: {e}", i + 1)),
        })?;
        if v.get("abnormal").and_then(serde_json::Value::as_bool) == Some(true)
            && let Some(area) = v.get("area_id").and_then(serde_json::Value::as_str)
        {
            out.insert(area.to_string());
        }
    }
    Ok(out)
}

/// What [`compose`] needs to know.
#[derive(Clone, Debug)]
pub struct Options {
    /// Folder to write into.
    pub out: PathBuf,
    /// Days of meter data; the capture covers the last week.
    pub days: u32,
    /// Share of sites with a broadband line the probe sees.
    pub broadband_share: f64,
    /// Cryptojacked PCs (network-only miners).
    pub jacked: usize,
    /// Random seed.
    pub seed: u64,
}

/// Region codes of the power generator with their GB/T 2260 names, and their cities.
pub const REGIONS: &[(&str, &str, &str)] = &[
    ("150200", "包头市", "Baotou"),
    ("150202", "东河区", "Donghe District"),
    ("150600", "鄂尔多斯市", "Ordos"),
    ("150602", "东胜区", "Dongsheng District"),
    ("511800", "雅安市", "Ya'an"),
    ("511802", "雨城区", "Yucheng District"),
    (
        "532300",
        "楚雄彝族自治州",
        "Chuxiong Yi Autonomous Prefecture",
    ),
    ("532301", "楚雄市", "Chuxiong"),
    (
        "652300",
        "昌吉回族自治州",
        "Changji Hui Autonomous Prefecture",
    ),
    ("652301", "昌吉市", "Changji"),
];

const DAY: i64 = 86_400;
const NS: i64 = 1_000_000_000;

/// The stream combination of a rig wired ahead of its meter that the probe does not see.
const THEFT: &str = "theft ahead of the meter";

/// What the demo planted at a site.
#[derive(Clone, Debug, Default)]
pub struct Planted {
    /// The meter shows it.
    pub grid: bool,
    /// The probe sees it.
    pub network: bool,
    /// The rig is wired ahead of the meter (theft): the site's meter does not show it, only
    /// the feeder of its transformer area does. The area, when so.
    pub theft_area: Option<String>,
}

/// What [`compose`] wrote.
pub struct Region {
    /// Sites with a miner: site id → streams that should see it.
    pub planted: BTreeMap<String, Planted>,
    /// Sessions written to the capture.
    pub sessions: usize,
    /// Broadband subscribers.
    pub subscribers: usize,
}

fn read_csv(path: &Path) -> Result<(Vec<String>, Vec<Vec<String>>), DemoError> {
    let err = |source| DemoError::Csv {
        path: path.to_path_buf(),
        source,
    };
    let mut r = csv::Reader::from_path(path).map_err(err)?;
    let header = r
        .headers()
        .map_err(err)?
        .iter()
        .map(str::to_string)
        .collect();
    let rows = r
        .records()
        .map(|rec| rec.map(|r| r.iter().map(str::to_string).collect()))
        .collect::<Result<_, _>>()
        .map_err(err)?;
    Ok((header, rows))
}

fn col(header: &[String], name: &str) -> Result<usize, DemoError> {
    header
        .iter()
        .position(|h| h == name)
        .ok_or_else(|| DemoError::Column(name.to_string()))
}

fn write(path: &Path, data: impl AsRef<[u8]>) -> Result<(), DemoError> {
    std::fs::write(path, data).map_err(|source| DemoError::Write {
        path: path.to_path_buf(),
        source,
    })
}

/// Writes the network side of the region and returns what was planted.
#[allow(
    clippy::indexing_slicing,
    reason = "the csv reader keeps every row as long as its header, whose columns were found; the other indexes are into lists built here with those lengths"
)]
pub fn compose(a: &Options, power_dir: &Path, start: i64) -> Result<Region, DemoError> {
    let (ch, customers) = read_csv(&power_dir.join("customers.csv"))?;
    let (th, truth) = read_csv(&power_dir.join("truth.csv"))?;
    let (c_meter, c_customer) = (col(&ch, "meter_id")?, col(&ch, "customer_id")?);
    let site_of: HashMap<&str, &str> = customers
        .iter()
        .map(|r| (r[c_meter].as_str(), r[c_customer].as_str()))
        .collect();
    let (t_meter, t_mining, t_onset) = (
        col(&th, "meter_id")?,
        col(&th, "mining")?,
        col(&th, "onset")?,
    );
    let (t_theft, t_area) = (col(&th, "theft")?, col(&th, "area_id")?);
    let t_kw = col(&th, "mining_kw")?;

    let capture_start = start + (i64::from(a.days) - 7) * DAY;
    let capture_days = 7;
    let mut rng = Rng::new(a.seed ^ 0x6d77_6465_6d6f);
    let mut planted: BTreeMap<String, Planted> = BTreeMap::new();
    // Meter miners (grid truth) with the day their load started.
    let mut miners: HashMap<String, (Option<i64>, f64)> = HashMap::new();
    for r in &truth {
        if r[t_mining] == "true" {
            let site = site_of
                .get(r[t_meter].as_str())
                .copied()
                .unwrap_or(&r[t_meter]);
            let onset = time::parse_date(&r[t_onset]);
            miners.insert(site.to_string(), (onset, r[t_kw].parse().unwrap_or(0.0)));
            let p = planted.entry(site.to_string()).or_default();
            if r[t_theft] == "true" {
                p.theft_area = Some(r[t_area].clone());
            } else {
                p.grid = true;
            }
        }
    }

    // Broadband subscribers: every miner's site has a line with the same chance as any other.
    let mut subs: Vec<(String, String)> = Vec::new();
    let mut text = String::from("subscriber_id,name,phone,id_number,site_id\n");
    for (i, r) in customers.iter().enumerate() {
        if rng.unit() < a.broadband_share {
            let sub = format!("U{:06}", i + 1);
            let _ = writeln!(
                text,
                "{sub},Subscriber {n},1380000{n:04},11010119900101{n:04},{}",
                r[c_customer],
                n = i + 1
            );
            subs.push((sub, r[c_customer].clone()));
        }
    }
    write(&a.out.join("subscribers.csv"), text)?;

    // Daily leases from a shared pool: the same address serves different subscribers on
    // different days, so only a time-aware lookup names the right one.
    let pool: Vec<Ipv4Addr> = (0..subs.len().max(1) + 16)
        .map(|i| Ipv4Addr::new(100, 64, (i / 250) as u8, (i % 250 + 2) as u8))
        .collect();
    let mut leases: Vec<HashMap<usize, Ipv4Addr>> = Vec::new();
    let mut text = String::from("ip,start,end,subscriber_id\n");
    for day in -1..=capture_days {
        let mut order: Vec<usize> = (0..pool.len()).collect();
        for i in (1..order.len()).rev() {
            order.swap(i, rng.below(i as u64 + 1) as usize);
        }
        let from = capture_start + day * DAY;
        let mut today = HashMap::new();
        for (k, (sub, _)) in subs.iter().enumerate() {
            let ip = pool[order[k]];
            let _ = writeln!(
                text,
                "{ip},{},{},{sub}",
                time::format_instant(from),
                time::format_instant(from + DAY)
            );
            today.insert(k, ip);
        }
        leases.push(today);
    }
    write(&a.out.join("ip-assignments.csv"), text)?;

    // Sessions: the meter miners that have a line and are running by then, cryptojacked PCs
    // at clean sites, browsing everywhere else, and mining from addresses nobody leased.
    let btc_pool = (IpAddr::V4(Ipv4Addr::new(203, 0, 113, 10)), 3333);
    let ltc_pool = (IpAddr::V4(Ipv4Addr::new(203, 0, 113, 11)), 3333);
    let xmr_pool = (IpAddr::V4(Ipv4Addr::new(203, 0, 113, 12)), 14444);
    let web = (IpAddr::V4(Ipv4Addr::new(198, 51, 100, 80)), 80);
    let clean: Vec<usize> = (0..subs.len())
        .filter(|&k| !miners.contains_key(&subs[k].1))
        .collect();
    let mut jacked = BTreeSet::new();
    while jacked.len() < a.jacked.min(clean.len()) {
        jacked.insert(clean[rng.below(clean.len() as u64) as usize]);
    }
    let mut scenarios: Vec<Scenario> = Vec::new();
    for day in 0..capture_days {
        let day_start = capture_start + day * DAY;
        for (k, (_, site)) in subs.iter().enumerate() {
            let ip = IpAddr::V4(leases[(day + 1) as usize][&k]);
            let port = 40_000 + rng.below(20_000) as u16;
            let at = (day_start + 3600 + rng.below(20 * 3600) as i64) * NS;
            let kind = match miners.get(site) {
                Some((onset, kw)) if onset.is_none_or(|o| o < day_start) => {
                    planted.entry(site.clone()).or_default().network = true;
                    if *kw > 10.0 {
                        SiteSession::BitcoinAsic
                    } else {
                        SiteSession::LitecoinRig
                    }
                }
                _ if jacked.contains(&k) => {
                    planted.entry(site.clone()).or_default().network = true;
                    SiteSession::Xmrig
                }
                _ if rng.unit() < 0.3 => SiteSession::Browsing,
                _ => continue,
            };
            let server = match kind {
                SiteSession::BitcoinAsic => btc_pool,
                SiteSession::LitecoinRig => ltc_pool,
                SiteSession::Xmrig => xmr_pool,
                SiteSession::Browsing => web,
            };
            scenarios.push(site_session(kind, (ip, port), server, at, &format!("w{k}")));
        }
        // Mining from an address no lease explains (a visitor, a mislogged line).
        let stray = IpAddr::V4(Ipv4Addr::new(100, 127, 255, 1 + day as u8));
        scenarios.push(site_session(
            SiteSession::Xmrig,
            (stray, 50_000),
            xmr_pool,
            (day_start + 7200) * NS,
            "stray",
        ));
    }
    let refs: Vec<&Scenario> = scenarios.iter().collect();
    write(&a.out.join("region.pcapng"), write_pcapng(&refs))?;

    let mut text = String::from("code,name_zh,name_en\n");
    for (code, zh, en) in REGIONS {
        let _ = writeln!(text, "{code},{zh},{en}");
    }
    write(&a.out.join("regions.csv"), text)?;
    let mut text = String::from("site_id,grid,network,theft_area\n");
    for (site, p) in &planted {
        let area = p.theft_area.as_deref().unwrap_or_default();
        let _ = writeln!(text, "{site},{},{},{area}", p.grid, p.network);
    }
    write(&a.out.join("planted.csv"), text)?;
    Ok(Region {
        planted,
        sessions: scenarios.len(),
        subscribers: subs.len(),
    })
}

/// How the cases compare with what was planted.
#[derive(Debug, serde::Serialize)]
pub struct Score {
    /// Sites planted with a miner.
    pub planted: usize,
    /// Cases opened.
    pub cases: usize,
    /// Of them, at a planted site.
    pub on_planted_site: usize,
    /// Of them, at a clean site (false alarms).
    pub on_clean_site: usize,
    /// Planted sites without a case (missed).
    pub planted_without_case: usize,
    /// Per stream combination that should see the miner: (planted, with a case).
    pub by_stream: BTreeMap<String, (usize, usize)>,
    /// Rigs wired ahead of the meter that the probe does not see: (planted, in a transformer
    /// area `power areas` found losing abnormally). Only the area says so: which of its
    /// customers taps the line is for an inspection to find.
    pub theft_in_flagged_area: (usize, usize),
    /// Sites in the region.
    pub sites: usize,
    /// Cases at clean sites over clean sites.
    pub clean_case_rate: f64,
    /// Evidence no registry entry ties to a site.
    pub unattributed_evidence: i64,
}

/// The cases in `store` against what `region` planted among `sites` sites; `abnormal_areas`,
/// the transformer areas the area balance found losing abnormally.
pub fn score(
    store: &mut Store,
    region: &Region,
    sites: usize,
    abnormal_areas: &BTreeSet<String>,
) -> Result<Score, StoreError> {
    let all = cases::list(&mut store.conn, &cases::Filter::default())?;
    let with_case: BTreeSet<&str> = all.iter().map(|c| c.site_id.as_str()).collect();
    let on_planted = all
        .iter()
        .filter(|c| region.planted.contains_key(&c.site_id))
        .count();
    let mut by_stream: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for (site, p) in &region.planted {
        let key = match (p.grid, p.network) {
            (true, true) => "meter and network",
            (true, false) => "meter only",
            (false, true) => "network only",
            (false, false) => THEFT,
        };
        let e = by_stream.entry(key.to_string()).or_default();
        e.0 += 1;
        e.1 += usize::from(with_case.contains(site.as_str()));
    }
    let thefts: Vec<&str> = region
        .planted
        .values()
        .filter(|p| !p.network)
        .filter_map(|p| p.theft_area.as_deref())
        .collect();
    let theft_in_flagged_area = (
        thefts.len(),
        thefts
            .iter()
            .filter(|a| abnormal_areas.contains(**a))
            .count(),
    );
    let clean_sites = sites.saturating_sub(region.planted.len()).max(1);
    Ok(Score {
        planted: region.planted.len(),
        cases: all.len(),
        on_planted_site: on_planted,
        on_clean_site: all.len() - on_planted,
        planted_without_case: region
            .planted
            .keys()
            .filter(|s| !with_case.contains(s.as_str()))
            .count(),
        by_stream,
        theft_in_flagged_area,
        sites,
        clean_case_rate: (all.len() - on_planted) as f64 / clean_sites as f64,
        unattributed_evidence: cases::unattributed_count(&mut store.conn)?,
    })
}

impl Score {
    /// The score as a reader takes it in: one line, then a line per stream combination.
    pub fn lines(&self) -> Vec<String> {
        let mut out = vec![format!(
            "planted mining sites: {}; cases: {} ({} on a planted site, {} on a clean site: {:.2}% of {} clean sites); planted sites without a case: {}; unattributed evidence: {}",
            self.planted,
            self.cases,
            self.on_planted_site,
            self.on_clean_site,
            self.clean_case_rate * 100.0,
            self.sites - self.planted,
            self.planted_without_case,
            self.unattributed_evidence
        )];
        let (_, flagged) = self.theft_in_flagged_area;
        for (k, (n, found)) in &self.by_stream {
            let mut line = format!("  {k}: {found} of {n} planted sites have a case");
            if k == THEFT {
                // The meter cannot show such a rig; its area's feeder can.
                line.push_str(&format!(
                    ", {flagged} of {n} in a transformer area that `power areas` flags for abnormal loss (an inspection there finds the tap)"
                ));
            }
            out.push(line);
        }
        out
    }
}

/// The regional report as fixed-width lines under a header: level, code, names, open cases,
/// power and its range, cleared.
pub fn region_lines(regions: &[minewatch_store::report::RegionRow]) -> Vec<String> {
    let mut out = vec![format!(
        "{:<8} {:<7} {:<28} {:>5} {:>10} {:>18} {:>8}",
        "level", "code", "name", "open", "kW", "kW range", "cleared"
    )];
    for r in regions {
        out.push(format!(
            "{:<8} {:<7} {:<28} {:>5} {:>10.1} {:>18} {:>8}",
            format!("{:?}", r.level).to_lowercase(),
            r.code,
            format!("{} {}", r.name_zh, r.name_en),
            r.open_cases,
            r.power_kw,
            format!("{:.1}–{:.1}", r.power_kw_low, r.power_kw_high),
            if r.cleared { "yes" } else { "no" }
        ));
    }
    out
}
