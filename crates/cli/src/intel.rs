//! `minewatch intel`: the pool lists, and checks of single hosts against them.

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use minewatch_intel::{Category, Columns, Intel, ListFormat, is_documentation};
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

/// Files, and every file in folders (recursively, sorted, hidden ones left out). Files given by
/// name are always read; in folders, documentation (README, LICENSE…) is passed over and
/// counted in `passed_over`.
fn expand(paths: &[PathBuf], passed_over: &mut Vec<PathBuf>) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut inner: Vec<PathBuf> = Vec::new();
            for e in std::fs::read_dir(p).with_context(|| format!("listing {}", p.display()))? {
                let q = e?.path();
                let name = q
                    .file_name()
                    .map(|n| n.to_string_lossy().to_string())
                    .unwrap_or_default();
                if name.starts_with('.') {
                    continue;
                }
                if q.is_file() && is_documentation(&name) {
                    passed_over.push(q);
                    continue;
                }
                inner.push(q);
            }
            inner.sort();
            out.extend(expand(&inner, passed_over)?);
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
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
    let mut i = Intel::built_in();
    let mut passed_over = Vec::new();
    let extra = expand(extra, &mut passed_over)?;
    let allow = expand(allow, &mut passed_over)?;
    let mut not_hosts = 0;
    for f in &extra {
        let text =
            std::fs::read_to_string(f).with_context(|| format!("reading {}", f.display()))?;
        let loaded = i.load_list(&f.display().to_string(), &text, Category::Pool, columns);
        not_hosts += loaded.not_hosts;
        if loaded.format == ListFormat::NotAList {
            passed_over.push(f.clone());
            continue;
        }
        if !quiet {
            for b in loaded.bad.iter().take(10) {
                eprintln!("minewatch: skipped {b}");
            }
            if loaded.bad.len() > 10 {
                eprintln!(
                    "minewatch: skipped {} more lines of {}",
                    loaded.bad.len() - 10,
                    f.display()
                );
            }
        }
    }
    if !quiet && !passed_over.is_empty() {
        let names: Vec<String> = passed_over
            .iter()
            .map(|p| {
                p.file_name()
                    .map(|n| n.to_string_lossy().to_string())
                    .unwrap_or_default()
            })
            .collect();
        eprintln!(
            "minewatch: {} file(s) among the lists are not lists and were passed over: {}",
            names.len(),
            names.join(", ")
        );
    }
    if !quiet && not_hosts > 0 {
        eprintln!(
            "minewatch: {not_hosts} adblock rule(s) name no host (paths, wildcards, cosmetic filters) and were not used"
        );
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
