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
    /// More pool lists; repeatable.
    #[arg(long)]
    intel: Vec<PathBuf>,
    /// Allow-lists; repeatable.
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

/// Parses `--intel-columns`.
pub fn columns(spec: Option<&str>) -> Result<Option<Columns>> {
    spec.map(|s| Columns::parse(s).map_err(|e| anyhow::anyhow!("--intel-columns: {e}")))
        .transpose()
}

/// The built-in lists plus the given ones; bad lines are reported with file and line, files
/// that are not lists (documentation, or nothing readable in them) are passed over and said
/// once. `columns` names the columns of CSV lists whose header names none we know.
pub fn load(
    extra: &[PathBuf],
    allow: &[PathBuf],
    columns: Option<&Columns>,
    quiet: bool,
) -> Result<Intel> {
    let (i, rep) = Intel::load_files(extra, allow, columns)?;
    if !quiet {
        for line in rep.lines() {
            eprintln!("minewatch: {line}");
        }
    }
    Ok(i)
}

/// Runs an intel subcommand.
pub fn run(c: IntelCommand, config: &crate::config::Config) -> Result<ExitCode> {
    let with = |l: &ListArgs| {
        (
            [&config.intel.lists[..], &l.intel[..]].concat(),
            [&config.intel.allow[..], &l.allow[..]].concat(),
        )
    };
    match c {
        IntelCommand::Check(a) => {
            let (lists, allow) = with(&a.lists);
            let cols = columns(a.lists.intel_columns.as_deref())?;
            let i = load(&lists, &allow, cols.as_ref(), false)?;
            let mut any = false;
            for h in &a.hosts {
                match i.check(h) {
                    Some(hit) => {
                        any = true;
                        println!(
                            "{h}\t{:?}\t{}\t{}\tmatched {} in {}",
                            hit.entry.category,
                            hit.entry.pool.as_deref().unwrap_or("-"),
                            hit.entry.coin.as_deref().unwrap_or("-"),
                            hit.matched,
                            hit.entry.source
                        );
                    }
                    None => println!("{h}\tnot listed"),
                }
            }
            Ok(if any {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            })
        }
        IntelCommand::Stats(a) => {
            let (lists, allow) = with(&a);
            let cols = columns(a.intel_columns.as_deref())?;
            let i = load(&lists, &allow, cols.as_ref(), false)?;
            let (d, p) = i.counts();
            println!(
                "domains\t{d}\nip prefixes\t{p}\ntls fingerprints\t{}",
                i.fingerprint_count()
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}
