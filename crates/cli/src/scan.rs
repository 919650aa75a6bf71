//! `minewatch scan`.

use crate::output::{self, Format};
use anyhow::{Context, Result};
use clap::Args;
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use indicatif::{ProgressBar, ProgressStyle};
use minewatch_model::Detection;
use minewatch_model::units::{HashRate, Watts};
use minewatch_net::source::expand_inputs;
use minewatch_net::{ScanConfig, scan_files};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `minewatch scan`.
#[derive(Args)]
pub struct ScanArgs {
    /// Capture files or folders (every capture inside, recursively).
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    /// Output format (default: table on a terminal, jsonl in a pipe).
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// Worker threads.
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Flows held in memory at most (per thread); the least recently seen make room.
    #[arg(long, default_value_t = 1_000_000)]
    max_flows: usize,
    /// Seconds of silence after which a flow is finished.
    #[arg(long, default_value_t = 600)]
    idle_timeout: u64,
    /// No summary or warnings on stderr.
    #[arg(long, short)]
    quiet: bool,
    /// More pool lists (hosts files, domain lists, adblock lines, IPs, CIDRs, CSV); repeatable.
    #[arg(long)]
    intel: Vec<PathBuf>,
    /// Hosts and prefixes never to report (the site's own legitimate services); repeatable files.
    #[arg(long)]
    allow: Vec<PathBuf>,
    /// Columns of CSV lists whose header names none we know, counted from 1:
    /// `host=2,pool=1,coin=3` (add `header` to skip a first line).
    #[arg(long)]
    intel_columns: Option<String>,
    /// Stratum and getwork only: no DNS, TLS SNI, HTTP Host or address evidence.
    #[arg(long)]
    no_intel: bool,
    /// Block times of a coin (one Unix time per line, or CSV with the time last; the file name
    /// names the coin, as in `btc.csv`): encrypted sessions whose server pushes follow them are
    /// reported with more confidence; repeatable.
    #[arg(long)]
    block_times: Vec<PathBuf>,
    /// Ask the servers behind behaviour and list detections whether they are pools (active
    /// probes, paced at 10 connections/s; see `minewatch confirm`): a pool lifts the
    /// detection's confidence, "not a pool" halves it; both are written into its evidence.
    #[arg(long)]
    confirm: bool,
    /// With --confirm: probe private and reserved addresses too.
    #[arg(long, requires = "confirm")]
    confirm_allow_private: bool,
    /// With --confirm: append every probe connection to this file as a JSON line.
    #[arg(long, requires = "confirm")]
    probe_log: Option<PathBuf>,
    /// With --confirm: write behaviour-only detections that no probe confirmed (withheld from
    /// the output, so they open no case) to this file as JSON lines, as leads.
    #[arg(long, requires = "confirm")]
    leads: Option<PathBuf>,
}

/// Runs the scan and prints its results.
pub fn run(a: ScanArgs, config: &crate::config::Config) -> Result<ExitCode> {
    let (files, passed_over) = expand_inputs(&a.inputs).context("listing inputs")?;
    if !a.quiet && !passed_over.is_empty() {
        eprintln!(
            "minewatch: {} file(s) in the given folders are no captures and were passed over",
            passed_over.len()
        );
    }
    let intel = if a.no_intel {
        None
    } else {
        let lists = [&config.intel.lists[..], &a.intel[..]].concat();
        let allow = [&config.intel.allow[..], &a.allow[..]].concat();
        let cols = crate::intel::columns(a.intel_columns.as_deref())?;
        Some(std::sync::Arc::new(crate::intel::load(
            &lists,
            &allow,
            cols.as_ref(),
            a.quiet,
        )?))
    };
    let cfg = ScanConfig {
        intel,
        max_flows: a.max_flows,
        idle_timeout_ns: i64::try_from(a.idle_timeout.saturating_mul(1_000_000_000))
            .unwrap_or(i64::MAX),
        threads: a.threads.max(1),
        block_times: std::sync::Arc::new(
            config
                .scan
                .block_times
                .iter()
                .chain(&a.block_times)
                .map(|p| minewatch_net::behaviour::BlockTimes::load(p))
                .collect::<Result<Vec<_>, _>>()?,
        ),
    };
    let total: u64 = files
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();
    let bar = if output::progress_allowed() && !a.quiet && total > 32 << 20 {
        let b = ProgressBar::new(total);
        b.set_style(
            ProgressStyle::with_template(
                "{spinner} {bytes}/{total_bytes} {bar:40} {binary_bytes_per_sec} eta {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        b
    } else {
        ProgressBar::hidden()
    };
    let out = scan_files(&files, &cfg, &|done| bar.set_position(done));
    bar.finish_and_clear();

    let mut errors = 0;
    for (path, r) in &out.files {
        match r {
            Err(e) => {
                errors += 1;
                eprintln!("minewatch: error: {e}");
            }
            Ok(rep) if !a.quiet => {
                if let Some((off, n)) = rep.truncated_at {
                    eprintln!(
                        "minewatch: warning: {}: capture ends inside packet {n} (byte offset {off}); read up to there",
                        path.display()
                    );
                }
                for (off, why) in &rep.skipped_blocks {
                    eprintln!(
                        "minewatch: warning: {}: block at byte offset {off} skipped: {why}",
                        path.display()
                    );
                }
                if rep.odd_timestamps > 0 {
                    eprintln!(
                        "minewatch: warning: {}: {} packets with a timestamp fraction past its unit, read with the excess carried into the seconds",
                        path.display(),
                        rep.odd_timestamps
                    );
                }
                if rep.skipped_blocks_unlisted > 0 {
                    eprintln!(
                        "minewatch: warning: {}: {} more blocks skipped",
                        path.display(),
                        rep.skipped_blocks_unlisted
                    );
                }
            }
            Ok(_) => {}
        }
    }

    let mut out = out;
    if a.confirm {
        let cfg = minewatch_probe::Config {
            allow_private: a.confirm_allow_private,
            ..minewatch_probe::Config::default()
        };
        let log = crate::confirm::ProbeLog::open(a.probe_log.as_deref())?;
        let (c, _) =
            minewatch_probe::confirm_detections(&mut out.detections, &cfg, &|at| log.record(at));
        log.finish()?;
        let held = minewatch_probe::withhold_unconfirmed(&mut out.detections);
        if let Some(p) = &a.leads {
            let mut w = std::io::BufWriter::new(
                std::fs::File::create(p).with_context(|| format!("creating {}", p.display()))?,
            );
            for d in &held {
                serde_json::to_writer(&mut w, d)?;
                w.write_all(b"\n")?;
            }
            w.flush()?;
        }
        if !a.quiet {
            eprintln!(
                "minewatch: confirmation: {} server(s) probed: {} pool(s), {} not pools, {} unreachable or not allowed; {} behaviour-only detection(s) not confirmed, withheld as leads{}",
                c.servers,
                c.pools,
                c.not_pools,
                c.unreachable,
                held.len(),
                a.leads
                    .as_ref()
                    .map(|p| format!(" ({})", p.display()))
                    .unwrap_or_default()
            );
        }
    }

    let format = Format::resolve(a.format);
    let stdout = std::io::stdout();
    let mut w = std::io::BufWriter::new(stdout.lock());
    match format {
        Format::Jsonl => {
            for d in &out.detections {
                serde_json::to_writer(&mut w, d)?;
                w.write_all(b"\n")?;
            }
        }
        Format::Csv => output::write_csv(
            &mut w,
            &minewatch_model::detection::CSV_COLUMNS,
            &out.detections,
            Detection::csv_cells,
        )?,
        Format::Table => write_table(&mut w, &out.detections)?,
    }
    w.flush()?;

    if !a.quiet {
        let s = &out.stats;
        let skipped = if s.skipped.is_empty() {
            String::new()
        } else {
            let parts: Vec<String> = s.skipped.iter().map(|(k, v)| format!("{v} {k}")).collect();
            format!(" (skipped: {})", parts.join(", "))
        };
        eprintln!(
            "minewatch: {} file(s), {} packets, {} bytes, {} TCP flows, {} mining session(s); {} packets not decoded{}; flows evicted: {} for capacity, {} idle; IP fragments: {} read, {} datagrams reassembled, {} given up",
            out.files.len(),
            s.packets,
            s.bytes,
            s.flows,
            out.detections.len(),
            s.skipped_total(),
            skipped,
            s.evicted_capacity,
            s.evicted_idle,
            s.fragments,
            s.reassembled,
            s.reassembly_dropped
        );
        if s.inspector_faults > 0 {
            eprintln!(
                "minewatch: warning: {} inspector fault(s): a parser failed on a flow, whose state was dropped; please report this with the capture",
                s.inspector_faults
            );
        }
        if s.dns_tcp_split > 0 {
            eprintln!(
                "minewatch: {} DNS-over-TCP message(s) spanning segments were not read",
                s.dns_tcp_split
            );
        }
    }
    Ok(if errors > 0 {
        ExitCode::from(2)
    } else if out.detections.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn opt<T: ToString>(v: &Option<T>) -> String {
    v.as_ref().map(ToString::to_string).unwrap_or_default()
}

fn short(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let head: String = s.chars().take(n - 1).collect();
        format!("{head}…")
    }
}

/// Hash rate with its unit; Equihash counts solutions.
fn rate_text(h: f64, algo: Option<minewatch_model::Algorithm>) -> String {
    let t = HashRate(h).to_string();
    if algo == Some(minewatch_model::Algorithm::Equihash) {
        t.replace("H/s", "Sol/s")
    } else {
        t
    }
}

/// The pool as named, and its address when the name is not the address.
fn pool_cell(d: &Detection) -> String {
    let addr = std::net::SocketAddr::new(d.destination.ip, d.destination.port).to_string();
    match d.mining.pool.as_deref() {
        Some(p) if p != addr => format!("{}\n{addr}", short(p, 28)),
        _ => addr,
    }
}

fn write_table(w: &mut dyn Write, ds: &[Detection]) -> Result<()> {
    if ds.is_empty() {
        writeln!(w, "No mining sessions found.")?;
        return Ok(());
    }
    let mut t = Table::new();
    t.load_style(UTF8_FULL_CONDENSED);
    t.set_header([
        "start (UTC)",
        "miner",
        "pool",
        "dialect",
        "coin",
        "worker / wallet",
        "agent",
        "shares s/a/r",
        "hashrate",
        "power",
        "conf",
    ]);
    for d in ds {
        let m = &d.mining;
        let who = match (&m.worker, &m.wallet) {
            (Some(wk), Some(wl)) => format!("{} / {}", short(wk, 16), short(wl, 14)),
            (Some(wk), None) => short(wk, 24),
            (None, Some(wl)) => short(wl, 24),
            (None, None) => short(m.login.as_deref().unwrap_or(""), 24),
        };
        let start = d.event.start.to_rfc3339();
        t.add_row([
            start.get(..19).unwrap_or(&start).replace('T', " "),
            std::net::SocketAddr::new(d.source.ip, d.source.port).to_string(),
            pool_cell(d),
            m.dialect.clone(),
            opt(&m.coin),
            who,
            short(m.agent.as_deref().unwrap_or(""), 20),
            format!(
                "{}/{}/{}",
                m.shares.submitted, m.shares.accepted, m.shares.rejected
            ),
            m.hashrate_hs
                .map(|h| rate_text(h, m.algorithm))
                .unwrap_or_default(),
            m.power_w.map(|p| Watts(p).to_string()).unwrap_or_default(),
            format!("{:.2}", m.confidence),
        ]);
    }
    writeln!(w, "{t}")?;

    // Per client host: what each mining machine does in all.
    #[derive(Default)]
    struct Host {
        sessions: usize,
        pools: Vec<String>,
        coins: Vec<String>,
        hashrate: f64,
        algorithm: Option<minewatch_model::Algorithm>,
        power: f64,
    }
    let mut hosts: BTreeMap<std::net::IpAddr, Host> = BTreeMap::new();
    for d in ds {
        let h = hosts.entry(d.source.ip).or_default();
        h.sessions += 1;
        let pool = d.mining.pool.clone().unwrap_or_default();
        if !h.pools.contains(&pool) {
            h.pools.push(pool);
        }
        let coin = opt(&d.mining.coin);
        if !coin.is_empty() && !h.coins.contains(&coin) {
            h.coins.push(coin);
        }
        if h.coins.len() <= 1 {
            h.hashrate += d.mining.hashrate_hs.unwrap_or(0.0);
            h.algorithm = d.mining.algorithm;
        }
        h.power += d.mining.power_w.unwrap_or(0.0);
    }
    let mut s = Table::new();
    s.load_style(UTF8_FULL_CONDENSED);
    s.set_header([
        "miner host",
        "sessions",
        "pools",
        "coins",
        "hashrate (sum)",
        "power (sum)",
    ]);
    for (ip, h) in hosts {
        s.add_row([
            ip.to_string(),
            h.sessions.to_string(),
            h.pools.join("\n"),
            h.coins.join(", "),
            if h.coins.len() > 1 {
                "(several coins)".to_string()
            } else if h.hashrate > 0.0 {
                rate_text(h.hashrate, h.algorithm)
            } else {
                String::new()
            },
            if h.power > 0.0 {
                Watts(h.power).to_string()
            } else {
                String::new()
            },
        ]);
    }
    writeln!(w, "\nPer miner host:\n{s}")?;
    Ok(())
}
