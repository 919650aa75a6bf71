//! `minewatch demo`: the whole job on a generated region.
//!
//! The power generator writes a region's meters with hidden miners; this module gives the
//! region a network side (broadband subscribers with addresses that change every day, as a
//! carrier's RADIUS log records them, and a probe's capture of their traffic: the power miners'
//! pool sessions, a few cryptojacked PCs the meters cannot see, ordinary browsing, and mining
//! from addresses no registry knows). Then every detector runs as a user would run it, the
//! evidence is fused into cases, checked against the truth, and the regional report printed.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

use anyhow::{Context, Result, bail};
use clap::Args;
use minewatch_model::rng::Rng;
use minewatch_net::synth::sessions::{Scenario, SiteSession, site_session, write_pcapng};
use minewatch_store::cases::{self, Filter};
use minewatch_store::ingest::{ImportReport, Rules, Source, import};
use minewatch_store::registry;
use minewatch_store::report::{self, Level};
use minewatch_store::{Store, time};

/// `demo`.
#[derive(Args)]
pub struct DemoArgs {
    /// Folder for the generated region, the detectors' outputs and the store.
    #[arg(long, default_value = "minewatch-demo")]
    out: PathBuf,
    /// Store (default: minewatch.db inside --out); a postgres:// URL runs the demo there.
    #[arg(long)]
    db: Option<String>,
    /// Meters (sites) in the region.
    #[arg(long, default_value_t = 400)]
    meters: usize,
    /// Days of meter data; the capture covers the last week.
    #[arg(long, default_value_t = 90)]
    days: u32,
    /// Share of sites hiding a miner on the meter.
    #[arg(long, default_value_t = 0.03)]
    miner_share: f64,
    /// Share of sites with a broadband line the probe sees.
    #[arg(long, default_value_t = 0.6)]
    broadband_share: f64,
    /// Cryptojacked PCs (network-only miners).
    #[arg(long, default_value_t = 4)]
    jacked: usize,
    /// Random seed.
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Print only the report.
    #[arg(long)]
    quiet: bool,
}

/// Region codes of the power generator with their GB/T 2260 names, and their cities.
const REGIONS: &[(&str, &str, &str)] = &[
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

/// What the demo planted at a site.
#[derive(Clone, Debug, Default)]
struct Planted {
    grid: bool,
    network: bool,
}

struct Region {
    /// Sites with a miner: site id → streams that should see it.
    planted: BTreeMap<String, Planted>,
    /// Sessions written to the capture.
    sessions: usize,
    subscribers: usize,
}

fn self_exe() -> Result<PathBuf> {
    std::env::current_exe().context("finding the minewatch binary")
}

/// Runs this binary with arguments, stdout to a file when given; returns its exit code.
fn step(args: &[&str], stdout: Option<&Path>, quiet: bool) -> Result<i32> {
    if !quiet {
        let redirect = stdout
            .map(|p| format!(" > {}", p.display()))
            .unwrap_or_default();
        eprintln!("$ minewatch {}{redirect}", args.join(" "));
    }
    let mut cmd = Command::new(self_exe()?);
    cmd.args(args).stderr(if quiet {
        Stdio::null()
    } else {
        Stdio::inherit()
    });
    match stdout {
        Some(p) => {
            cmd.stdout(std::fs::File::create(p).with_context(|| p.display().to_string())?);
        }
        None => {
            cmd.stdout(if quiet {
                Stdio::null()
            } else {
                Stdio::inherit()
            });
        }
    }
    let status = cmd
        .status()
        .with_context(|| format!("running minewatch {}", args.join(" ")))?;
    match status.code() {
        Some(c) if c <= 1 => Ok(c),
        _ => bail!("minewatch {} failed ({status})", args.join(" ")),
    }
}

fn read_csv(path: &Path) -> Result<(Vec<String>, Vec<Vec<String>>)> {
    let mut r = csv::Reader::from_path(path).with_context(|| path.display().to_string())?;
    let header = r.headers()?.iter().map(str::to_string).collect();
    let rows = r
        .records()
        .map(|rec| rec.map(|r| r.iter().map(str::to_string).collect()))
        .collect::<Result<_, _>>()
        .with_context(|| path.display().to_string())?;
    Ok((header, rows))
}

fn col(header: &[String], name: &str) -> Result<usize> {
    header
        .iter()
        .position(|h| h == name)
        .with_context(|| format!("generator output has no column {name}"))
}

/// Writes the network side of the region and returns what was planted.
#[allow(
    clippy::indexing_slicing,
    reason = "the csv reader keeps every row as long as its header, whose columns were found; the other indexes are into lists built here with those lengths"
)]
fn compose(a: &DemoArgs, power_dir: &Path, start: i64) -> Result<Region> {
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
            planted.entry(site.to_string()).or_default().grid = true;
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
    std::fs::write(a.out.join("subscribers.csv"), text)?;

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
    std::fs::write(a.out.join("ip-assignments.csv"), text)?;

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
    std::fs::write(a.out.join("region.pcapng"), write_pcapng(&refs))?;

    let mut text = String::from("code,name_zh,name_en\n");
    for (code, zh, en) in REGIONS {
        let _ = writeln!(text, "{code},{zh},{en}");
    }
    std::fs::write(a.out.join("regions.csv"), text)?;
    let mut text = String::from("site_id,grid,network\n");
    for (site, p) in &planted {
        let _ = writeln!(text, "{site},{},{}", p.grid, p.network);
    }
    std::fs::write(a.out.join("planted.csv"), text)?;
    Ok(Region {
        planted,
        sessions: scenarios.len(),
        subscribers: subs.len(),
    })
}

/// How the cases compare with what was planted.
#[derive(serde::Serialize)]
struct Score {
    planted: usize,
    cases: usize,
    on_planted_site: usize,
    on_clean_site: usize,
    planted_without_case: usize,
    by_stream: BTreeMap<String, (usize, usize)>,
    sites: usize,
    clean_case_rate: f64,
    unattributed_evidence: i64,
}

fn score(store: &mut Store, region: &Region, sites: usize) -> Result<Score> {
    let all = cases::list(&mut store.conn, &Filter::default())?;
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
            _ => "network only",
        };
        let e = by_stream.entry(key.to_string()).or_default();
        e.0 += 1;
        e.1 += usize::from(with_case.contains(site.as_str()));
    }
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
        sites,
        clean_case_rate: (all.len() - on_planted) as f64 / clean_sites as f64,
        unattributed_evidence: cases::unattributed_count(&mut store.conn)?,
    })
}

/// Runs the demo.
pub fn run(a: DemoArgs, _cfg: &crate::config::Config) -> Result<ExitCode> {
    std::fs::create_dir_all(&a.out).with_context(|| a.out.display().to_string())?;
    let out = a.out.display().to_string();
    let power_dir = a.out.join("power");
    let start = "2024-01-01";
    step(
        &[
            "power",
            "generate",
            "--meters",
            &a.meters.to_string(),
            "--days",
            &a.days.to_string(),
            "--start",
            start,
            "--miner-share",
            &a.miner_share.to_string(),
            "--seed",
            &a.seed.to_string(),
            "--out",
            &power_dir.display().to_string(),
        ],
        None,
        a.quiet,
    )?;
    let start_t = time::parse_date(start).context("start date")?;
    let region = compose(&a, &power_dir, start_t)?;
    if !a.quiet {
        eprintln!(
            "minewatch: region written to {out}: {} sites, {} broadband subscribers with daily leases, {} sessions in region.pcapng",
            a.meters, region.subscribers, region.sessions
        );
    }
    let detections = a.out.join("detections.jsonl");
    let suspects = a.out.join("suspects.jsonl");
    step(
        &["scan", &format!("{out}/region.pcapng"), "--format", "jsonl"],
        Some(&detections),
        a.quiet,
    )?;
    step(
        &[
            "power",
            "scan",
            &format!("{out}/power/readings.csv"),
            "--customers",
            &format!("{out}/power/customers.csv"),
            "--format",
            "jsonl",
        ],
        Some(&suspects),
        a.quiet,
    )?;

    let db =
        a.db.clone()
            .unwrap_or_else(|| a.out.join("minewatch.db").display().to_string());
    let mut store = Store::open(&db).with_context(|| format!("opening the store {db}"))?;
    for f in [
        "regions.csv",
        "power/customers.csv",
        "subscribers.csv",
        "ip-assignments.csv",
    ] {
        let r = registry::import(&mut store.conn, &a.out.join(f), None)?;
        if !a.quiet {
            eprintln!(
                "minewatch: registry {f}: {} {} rows, {} refused",
                r.imported,
                r.kind.name(),
                r.bad_count
            );
        }
    }
    let sources = vec![Source::File(&detections), Source::File(&suspects)];
    let ImportReport { ingest: ing, fused } =
        import(&mut store.conn, sources, &Rules::default(), true)?;
    if !a.quiet {
        eprintln!(
            "minewatch: ingested {} pieces of evidence ({} tied to a site, {} not); {} cases opened",
            ing.new, ing.attributed, ing.unattributed, fused.opened
        );
    }
    let s = score(&mut store, &region, a.meters)?;
    std::fs::write(
        a.out.join("score.json"),
        serde_json::to_string_pretty(&s)? + "\n",
    )?;
    println!(
        "planted mining sites: {}; cases: {} ({} on a planted site, {} on a clean site: {:.2}% of {} clean sites); planted sites without a case: {}; unattributed evidence: {}",
        s.planted,
        s.cases,
        s.on_planted_site,
        s.on_clean_site,
        s.clean_case_rate * 100.0,
        s.sites - s.planted,
        s.planted_without_case,
        s.unattributed_evidence
    );
    for (k, (n, found)) in &s.by_stream {
        println!("  {k}: {found} of {n} planted sites have a case");
    }
    let rep = report::regions(
        &mut store.conn,
        None,
        &[Level::Province, Level::County],
        None,
    )?;
    let provinces: Vec<_> = rep
        .regions
        .iter()
        .filter(|r| r.level == Level::Province)
        .collect();
    if !provinces.is_empty() {
        minewatch_present::chart::chart_svg(&rep, &provinces, &a.out.join("regions.svg"))?;
    }
    println!("regional report as of {}:", rep.as_of);
    println!(
        "{:<8} {:<7} {:<28} {:>5} {:>10} {:>18} {:>8}",
        "level", "code", "name", "open", "kW", "kW range", "cleared"
    );
    for r in &rep.regions {
        println!(
            "{:<8} {:<7} {:<28} {:>5} {:>10.1} {:>18} {:>8}",
            format!("{:?}", r.level).to_lowercase(),
            r.code,
            format!("{} {}", r.name_zh, r.name_en),
            r.open_cases,
            r.power_kw,
            format!("{:.1}–{:.1}", r.power_kw_low, r.power_kw_high),
            if r.cleared { "yes" } else { "no" }
        );
    }
    if !a.quiet {
        eprintln!(
            "minewatch: next: minewatch cases list --db {db}; minewatch cases show 1 --db {db}; chart in {out}/regions.svg"
        );
    }
    Ok(ExitCode::SUCCESS)
}
