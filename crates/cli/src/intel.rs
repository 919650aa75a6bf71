//! `minewatch intel`: the pool lists, and checks of single hosts against them.

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use minewatch_intel::{Category, Intel};
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

/// Files, and every file in folders (recursively, sorted, hidden ones and licences left out).
fn expand(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut inner: Vec<PathBuf> = std::fs::read_dir(p)
                .with_context(|| format!("listing {}", p.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|q| {
                    let name = q.file_name().map(|n| n.to_string_lossy().to_lowercase());
                    name.is_some_and(|n| {
                        !n.starts_with('.') && !n.contains("license") && !n.starts_with("readme")
                    })
                })
                .collect();
            inner.sort();
            out.extend(expand(&inner)?);
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

/// The built-in lists plus the given ones; bad lines are reported with file and line.
pub fn load(extra: &[PathBuf], allow: &[PathBuf], quiet: bool) -> Result<Intel> {
    let mut i = Intel::built_in();
    let extra = expand(extra)?;
    let allow = expand(allow)?;
    for f in &extra {
        let bad = i
            .load_file(f, Category::Pool)
            .with_context(|| format!("reading {}", f.display()))?;
        if !quiet {
            for b in bad.iter().take(10) {
                eprintln!("minewatch: skipped {b}");
            }
            if bad.len() > 10 {
                eprintln!(
                    "minewatch: skipped {} more lines of {}",
                    bad.len() - 10,
                    f.display()
                );
            }
        }
    }
    for f in &allow {
        let text =
            std::fs::read_to_string(f).with_context(|| format!("reading {}", f.display()))?;
        for (n, l) in text.lines().enumerate() {
            let t = l.trim();
            if t.is_empty() || t.starts_with('#') {
                continue;
            }
            if !i.allow(t) && !quiet {
                eprintln!(
                    "minewatch: skipped {}:{}: {t:?} is no domain or prefix",
                    f.display(),
                    n + 1
                );
            }
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
            let i = load(&lists, &allow, false)?;
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
            let i = load(&lists, &allow, false)?;
            let (d, p) = i.counts();
            println!(
                "domains\t{d}\nip prefixes\t{p}\ntls fingerprints\t{}",
                i.fingerprint_count()
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}
