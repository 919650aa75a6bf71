//! `minewatch scan`.

use crate::output::{self, Format};
use anyhow::{Context, Result};
use clap::Args;
use indicatif::ProgressStyle;
use minewatch_model::{Detection, detection, table};
use minewatch_net::behaviour::BlockTimes;
use minewatch_net::source::expand_inputs;
use minewatch_net::{ScanConfig, scan_files};
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
    #[command(flatten)]
    lists: crate::intel::ListArgs,
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
        Some(std::sync::Arc::new(crate::intel::load(
            &a.lists, config, a.quiet,
        )?))
    };
    let cfg = ScanConfig {
        intel,
        max_flows: a.max_flows,
        idle_timeout_ns: i64::try_from(a.idle_timeout.saturating_mul(1_000_000_000))
            .unwrap_or(i64::MAX),
        threads: a.threads.max(1),
        block_times: std::sync::Arc::new(BlockTimes::load_all(
            &[&config.scan.block_times[..], &a.block_times[..]].concat(),
        )?),
    };
    let total: u64 = files
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();
    // Small inputs are read before a bar would be seen.
    let bar = output::bar(total, a.quiet || total <= 32 << 20);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} {bytes}/{total_bytes} {bar:40} {binary_bytes_per_sec} eta {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let out = scan_files(&files, &cfg, &|done| bar.set_position(done));
    bar.finish_and_clear();

    for (path, r) in &out.files {
        match r {
            Err(e) => eprintln!("minewatch: error: {e}"),
            Ok(rep) if !a.quiet => {
                for w in rep.warnings(path) {
                    eprintln!("minewatch: warning: {w}");
                }
            }
            Ok(_) => {}
        }
    }
    let errors = out.files.iter().any(|(_, r)| r.is_err());

    let mut out = out;
    if a.confirm {
        let cfg = minewatch_probe::Config {
            allow_private: a.confirm_allow_private,
            ..minewatch_probe::Config::default()
        };
        let log = minewatch_probe::log::ProbeLog::open(a.probe_log.as_deref())?;
        let (c, _) =
            minewatch_probe::confirm_detections(&mut out.detections, &cfg, &|at| log.record(at));
        log.finish()?;
        let held = minewatch_probe::withhold_unconfirmed(&mut out.detections);
        if let Some(p) = &a.leads {
            let f =
                std::fs::File::create(p).with_context(|| format!("creating {}", p.display()))?;
            let mut w = std::io::BufWriter::new(f);
            output::write_jsonl(&mut w, &held)?;
            w.flush()?;
        }
        if !a.quiet {
            eprintln!("minewatch: {}", c.summary(held.len(), a.leads.as_deref()));
        }
    }

    let stdout = std::io::stdout();
    let mut w = std::io::BufWriter::new(stdout.lock());
    let format = Format::resolve(a.format);
    if format == Format::Table && out.detections.is_empty() {
        writeln!(w, "No mining sessions found.")?;
    } else {
        output::write_formats(
            &mut w,
            format,
            &out.detections,
            (&detection::CSV_COLUMNS, Detection::csv_cells),
            (&table::SESSION_TABLE, Detection::table_cells),
        )?;
    }
    if format == Format::Table && !out.detections.is_empty() {
        writeln!(w, "\nPer miner host:")?;
        output::write_table(
            &mut w,
            &table::HOST_TABLE,
            &table::by_host(&out.detections),
            table::Host::table_cells,
        )?;
    }
    w.flush()?;

    if !a.quiet {
        let summary = out.stats.summary(out.files.len(), out.detections.len());
        output::say(&[vec![summary], out.stats.notes()].concat());
    }
    let code = if errors {
        ExitCode::from(2)
    } else {
        output::exit_if(!out.detections.is_empty(), 1)
    };
    // The process ends here: freeing every detection one by one first (a few allocations
    // each, tens of thousands of detections) was 0.6 % of a scan of real traffic's
    // instructions, for memory the exit gives back at once (docs/PERFORMANCE.md).
    std::mem::forget(out);
    Ok(code)
}
