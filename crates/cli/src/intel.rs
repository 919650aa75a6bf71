//! `minewatch intel`: the pool lists, and checks of single hosts against them.

use anyhow::Result;
use clap::{Args, Subcommand};
use minewatch_intel::{Columns, Intel};
use std::path::PathBuf;
use std::process::ExitCode;

/// `minewatch intel` subcommands.
#[derive(Subcommand)]
pub enum IntelCommand {
    /// Is this host or address a known pool or browser miner? (exit 1: yes, 0: no)
    Check(CheckArgs),
    /// How many domains and prefixes the lists hold.
    Stats(ListArgs),
}

/// Lists to use besides the built-in ones.
#[derive(Args)]
pub struct ListArgs {
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
}

/// Arguments of `minewatch intel check`.
#[derive(Args)]
pub struct CheckArgs {
    /// Host names, addresses, `ip:port`.
    #[arg(required = true)]
    hosts: Vec<String>,
    #[command(flatten)]
    lists: ListArgs,
}

/// The built-in lists plus those of the configuration file and of `l`; bad lines are reported
/// with file and line, files that are not lists are passed over and said once.
pub fn load(l: &ListArgs, config: &crate::config::Config, quiet: bool) -> Result<Intel> {
    let lists = [&config.intel.lists[..], &l.intel[..]].concat();
    let allow = [&config.intel.allow[..], &l.allow[..]].concat();
    let columns = l
        .intel_columns
        .as_deref()
        .map(|s| Columns::parse(s).map_err(|e| anyhow::anyhow!("--intel-columns: {e}")))
        .transpose()?;
    let (i, rep) = Intel::load_files(&lists, &allow, columns.as_ref())?;
    if !quiet {
        crate::output::say(&rep.lines());
    }
    Ok(i)
}

/// Runs an intel subcommand.
pub fn run(c: IntelCommand, config: &crate::config::Config) -> Result<ExitCode> {
    match c {
        IntelCommand::Check(a) => {
            let i = load(&a.lists, config, false)?;
            let mut any = false;
            for h in &a.hosts {
                let hit = i.check(h);
                any |= hit.is_some();
                println!(
                    "{h}\t{}",
                    hit.map_or_else(|| "not listed".into(), |x| x.text())
                );
            }
            Ok(crate::output::exit_if(any, 1))
        }
        IntelCommand::Stats(a) => {
            let i = load(&a, config, false)?;
            let (d, p) = i.counts();
            println!(
                "domains\t{d}\nip prefixes\t{p}\ntls fingerprints\t{}",
                i.fingerprint_count()
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}
