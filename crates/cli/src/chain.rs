//! `minewatch chain`: blocks, their pools and fees.

use crate::output::Format;
use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use minewatch_chain::blocks::{BlockInfo, BlockOptions, read_blocks};
use minewatch_chain::pools::Pools;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// `minewatch chain` subcommands.
#[derive(Subcommand)]
pub enum ChainCommand {
    /// Per block: hash, height, pool, reward and fees (block directories or block files).
    Blocks(BlocksArgs),
    /// Pool shares of the blocks over a period.
    Pools(PoolsArgs),
}

/// Inputs shared by the chain commands.
#[derive(Args)]
pub struct Input {
    /// Core block directories (`blk*.dat`, `xor.dat` aware) or block files (records, raw, hex).
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// A pool list to add to the built-in one (bitcoin-data or mempool JSON layout).
    #[arg(long)]
    pools: Option<PathBuf>,
    /// Output format (default: table on a terminal, jsonl in a pipe).
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// No summary or warnings on stderr.
    #[arg(long, short)]
    quiet: bool,
}

/// Arguments of `minewatch chain blocks`.
#[derive(Args)]
pub struct BlocksArgs {
    #[command(flatten)]
    input: Input,
}

/// Arguments of `minewatch chain pools`.
#[derive(Args)]
pub struct PoolsArgs {
    #[command(flatten)]
    input: Input,
    /// First day (YYYY-MM-DD), inclusive.
    #[arg(long)]
    from: Option<String>,
    /// Last day (YYYY-MM-DD), inclusive.
    #[arg(long)]
    to: Option<String>,
}

fn pools(input: &Input) -> Result<Pools> {
    let mut p = Pools::built_in();
    if let Some(f) = &input.pools {
        let text =
            std::fs::read_to_string(f).with_context(|| format!("reading {}", f.display()))?;
        p.extend(
            Pools::from_json(&text).with_context(|| format!("{}: not a pool list", f.display()))?,
        );
    }
    Ok(p)
}

fn collect(input: &Input) -> Result<(Vec<BlockInfo>, bool)> {
    let p = pools(input)?;
    let mut out = Vec::new();
    let rep = read_blocks(&input.paths, &p, &BlockOptions::default(), &mut |b, _| {
        out.push(b)
    })
    .context("reading blocks")?;
    let problems = !rep.read.errors.is_empty() || !rep.bad_blocks.is_empty();
    if !input.quiet {
        for (f, off, declared, present) in &rep.read.truncated {
            eprintln!(
                "minewatch: warning: {}: file ends inside the record at byte offset {off} ({present} of {declared} bytes); read up to there",
                f.display()
            );
        }
        for e in &rep.read.errors {
            eprintln!("minewatch: error: {e}");
        }
        for b in &rep.bad_blocks {
            eprintln!("minewatch: error: {b}");
        }
        eprintln!(
            "minewatch: {} blocks read, {} reported ({} stale){}",
            rep.read.blocks,
            out.len(),
            rep.stale,
            if rep.utxo_cap_reached {
                "; output map full: later fees from the coinbase only"
            } else {
                ""
            }
        );
    }
    Ok((out, problems))
}

/// Runs a chain subcommand.
pub fn run(c: ChainCommand) -> Result<ExitCode> {
    match c {
        ChainCommand::Blocks(a) => {
            let (blocks, problems) = collect(&a.input)?;
            let stdout = std::io::stdout();
            let mut w = std::io::BufWriter::new(stdout.lock());
            match Format::resolve(a.input.format) {
                Format::Jsonl => {
                    for b in &blocks {
                        serde_json::to_writer(&mut w, b)?;
                        w.write_all(b"\n")?;
                    }
                }
                Format::Csv => {
                    let mut c = csv::Writer::from_writer(&mut w);
                    c.write_record([
                        "height",
                        "hash",
                        "time",
                        "best_chain",
                        "txs",
                        "size",
                        "pool",
                        "pool_matched_by",
                        "reward_sat",
                        "subsidy_sat",
                        "fees_sat",
                        "fees_claimed_sat",
                        "coinbase_text",
                    ])?;
                    for b in &blocks {
                        c.write_record([
                            b.height.map(|h| h.to_string()).unwrap_or_default(),
                            b.hash.clone(),
                            b.time.clone(),
                            b.best_chain.to_string(),
                            b.txs.to_string(),
                            b.size.to_string(),
                            b.pool.clone().unwrap_or_default(),
                            b.pool_matched_by
                                .map(|m| format!("{m:?}").to_lowercase())
                                .unwrap_or_default(),
                            b.reward_sat.to_string(),
                            b.subsidy_sat.map(|s| s.to_string()).unwrap_or_default(),
                            b.fees_sat.map(|s| s.to_string()).unwrap_or_default(),
                            b.fees_claimed_sat
                                .map(|s| s.to_string())
                                .unwrap_or_default(),
                            b.coinbase_text.clone(),
                        ])?;
                    }
                    c.flush()?;
                }
                Format::Table => {
                    let mut t = Table::new();
                    t.load_style(UTF8_FULL_CONDENSED);
                    t.set_header([
                        "height",
                        "hash",
                        "time",
                        "txs",
                        "pool",
                        "by",
                        "reward BTC",
                        "fees BTC",
                    ]);
                    for b in &blocks {
                        t.add_row([
                            b.height
                                .map(|h| h.to_string())
                                .unwrap_or_else(|| "?".into())
                                + if b.best_chain { "" } else { " (stale)" },
                            format!("{}…", &b.hash[..16]),
                            b.time[..19].replace('T', " "),
                            b.txs.to_string(),
                            b.pool.clone().unwrap_or_default(),
                            b.pool_matched_by
                                .map(|m| format!("{m:?}").to_lowercase())
                                .unwrap_or_default(),
                            format!("{:.8}", b.reward_sat as f64 / 1e8),
                            b.fees_sat
                                .or(b.fees_claimed_sat.map(|f| f.max(0) as u64))
                                .map(|f| format!("{:.8}", f as f64 / 1e8))
                                .unwrap_or_default(),
                        ]);
                    }
                    writeln!(w, "{t}")?;
                }
            }
            w.flush()?;
            Ok(if problems {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            })
        }
        ChainCommand::Pools(a) => {
            let (blocks, problems) = collect(&a.input)?;
            let inside = |b: &BlockInfo| {
                let day = &b.time[..10];
                a.from.as_deref().is_none_or(|f| day >= f)
                    && a.to.as_deref().is_none_or(|t| day <= t)
            };
            let chosen: Vec<&BlockInfo> = blocks
                .iter()
                .filter(|b| b.best_chain && inside(b))
                .collect();
            let mut by: BTreeMap<String, (u64, u64)> = BTreeMap::new();
            for b in &chosen {
                let e = by
                    .entry(b.pool.clone().unwrap_or_else(|| "unknown".into()))
                    .or_default();
                e.0 += 1;
                e.1 += b.reward_sat;
            }
            let mut rows: Vec<(String, u64, u64)> =
                by.into_iter().map(|(k, (n, r))| (k, n, r)).collect();
            rows.sort_by(|x, y| y.1.cmp(&x.1).then(x.0.cmp(&y.0)));
            let total = chosen.len().max(1) as f64;
            let stdout = std::io::stdout();
            let mut w = std::io::BufWriter::new(stdout.lock());
            match Format::resolve(a.input.format) {
                Format::Jsonl => {
                    for (p, n, r) in &rows {
                        writeln!(
                            w,
                            "{}",
                            serde_json::json!({"pool": p, "blocks": n, "share": *n as f64 / total, "reward_sat": r})
                        )?;
                    }
                }
                Format::Csv => {
                    writeln!(w, "pool,blocks,share,reward_sat")?;
                    for (p, n, r) in &rows {
                        writeln!(
                            w,
                            "{},{n},{:.4},{r}",
                            p.replace(',', " "),
                            *n as f64 / total
                        )?;
                    }
                }
                Format::Table => {
                    let mut t = Table::new();
                    t.load_style(UTF8_FULL_CONDENSED);
                    t.set_header(["pool", "blocks", "share", "reward BTC"]);
                    for (p, n, r) in &rows {
                        t.add_row([
                            p.clone(),
                            n.to_string(),
                            format!("{:.1}%", *n as f64 / total * 100.0),
                            format!("{:.8}", *r as f64 / 1e8),
                        ]);
                    }
                    writeln!(w, "{t}")?;
                }
            }
            w.flush()?;
            Ok(if problems {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            })
        }
    }
}
