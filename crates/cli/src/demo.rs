//! `minewatch demo`: the whole job on a generated region.
//!
//! The power generator writes a region's meters with hidden miners; this module gives the
//! region a network side (broadband subscribers with addresses that change every day, as a
//! carrier's RADIUS log records them, and a probe's capture of their traffic: the power miners'
//! pool sessions, a few cryptojacked PCs the meters cannot see, ordinary browsing, and mining
//! from addresses no registry knows). Then every detector runs as a user would run it, the
//! evidence is fused into cases, checked against the truth, and the regional report printed.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

use anyhow::{Context, Result, bail};
use clap::Args;
use minewatch_demo::{Options, compose, score};
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
    let opts = Options {
        out: a.out.clone(),
        days: a.days,
        broadband_share: a.broadband_share,
        jacked: a.jacked,
        seed: a.seed,
    };
    let region = compose(&opts, &power_dir, start_t)?;
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
    for line in s.lines() {
        println!("{line}");
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
    for line in minewatch_demo::region_lines(&rep.regions) {
        println!("{line}");
    }
    if !a.quiet {
        eprintln!(
            "minewatch: next: minewatch cases list --db {db}; minewatch cases show 1 --db {db}; chart in {out}/regions.svg"
        );
    }
    Ok(ExitCode::SUCCESS)
}
