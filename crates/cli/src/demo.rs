//! `minewatch demo`: the whole job on a generated region.
//!
//! The power generator writes a region's meters with hidden miners; this module gives the
//! region a network side (broadband subscribers with addresses that change every day, as a
//! carrier's RADIUS log records them, and a probe's capture of their traffic: the power miners'
//! pool sessions, a few cryptojacked PCs the meters cannot see, ordinary browsing, and mining
//! from addresses no registry knows). Then every detector runs as a user would run it, the
//! evidence is fused into cases, checked against the truth, and the regional report printed.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use minewatch_demo::{Demo, Options};

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

/// Runs the demo.
pub fn run(a: DemoArgs, _cfg: &crate::config::Config) -> Result<ExitCode> {
    let exe = std::env::current_exe().context("finding the minewatch binary")?;
    let demo = Demo {
        region: Options {
            out: a.out,
            days: a.days,
            broadband_share: a.broadband_share,
            jacked: a.jacked,
            seed: a.seed,
        },
        db: a.db,
        meters: a.meters,
        miner_share: a.miner_share,
        quiet: a.quiet,
    };
    minewatch_demo::run(&exe, &demo, &mut std::io::stdout(), &mut std::io::stderr())?;
    Ok(ExitCode::SUCCESS)
}
