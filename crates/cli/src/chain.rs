//! `minewatch chain`: blocks, their pools and fees.

use crate::output::Format;
use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use minewatch_chain::blocks::{BlockInfo, BlockOptions, read_blocks};
use minewatch_chain::pools::Pools;
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
    /// Index blocks into an embedded store (resumable: re-running continues).
    Index(IndexArgs),
    /// The addresses that share an owner with one (multi-input heuristic, CoinJoins excluded).
    Cluster(ClusterArgs),
    /// Where an address's coins came from and went, up to tagged entities.
    Trace(TraceArgs),
    /// What a pool paid each miner address (coinbase → payout batches).
    Payouts(PayoutArgs),
    /// Every address with its cluster (union-find over the whole index).
    Clusters(ClustersArgs),
    /// Write a synthetic chain (Core block files) with the truth of who owns each address.
    Generate(GenerateArgs),
}

/// Arguments of `minewatch chain clusters`.
#[derive(Args)]
pub struct ClustersArgs {
    /// The store made by `chain index`.
    #[arg(long, default_value = "chain.db")]
    db: PathBuf,
    /// Also join change outputs (off by default: it merges owners when change is reused).
    #[arg(long)]
    change: bool,
    /// Ownership truth (`address,owner,kind` as `chain generate` writes): print pairwise
    /// precision and recall.
    #[arg(long)]
    truth: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum)]
    format: Option<Format>,
}

/// Arguments of `minewatch chain generate`.
#[derive(Args)]
pub struct GenerateArgs {
    /// Folder to write `blk*.dat` and `owners.csv` into.
    #[arg(long)]
    out: PathBuf,
    /// Blocks.
    #[arg(long, default_value_t = 200)]
    blocks: u64,
    /// Transactions per block (besides coinbase and payout batch).
    #[arg(long, default_value_t = 50)]
    txs: usize,
    /// Users.
    #[arg(long, default_value_t = 2000)]
    users: u32,
    /// Pools.
    #[arg(long, default_value_t = 5)]
    pools: u32,
    /// Share of users who send change back to the address they paid from.
    #[arg(long, default_value_t = 0.2)]
    reuse_change: f64,
    /// Seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

/// Arguments of `minewatch chain index`.
#[derive(Args)]
pub struct IndexArgs {
    #[command(flatten)]
    input: Input,
    /// The store.
    #[arg(long, default_value = "chain.db")]
    db: PathBuf,
}

/// Arguments of `minewatch chain cluster`.
#[derive(Args)]
pub struct ClusterArgs {
    /// The address.
    address: String,
    /// The store made by `chain index`.
    #[arg(long, default_value = "chain.db")]
    db: PathBuf,
    /// Addresses at most.
    #[arg(long, default_value_t = 100_000)]
    max: usize,
    /// Output format.
    #[arg(long, value_enum)]
    format: Option<Format>,
}

/// Output of `minewatch chain trace`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum TraceFormat {
    /// JSON lines, one step each.
    Jsonl,
    /// CSV.
    Csv,
    /// Graphviz DOT.
    Dot,
    /// A table.
    Table,
}

/// Arguments of `minewatch chain trace`.
#[derive(Args)]
pub struct TraceArgs {
    /// The address.
    address: String,
    /// The store made by `chain index`.
    #[arg(long, default_value = "chain.db")]
    db: PathBuf,
    /// Hops forward.
    #[arg(long, default_value_t = 4)]
    hops: u32,
    /// Tag files (GraphSense TagPack YAML, or CSV `address,label,category`); repeatable.
    #[arg(long)]
    tags: Vec<PathBuf>,
    /// Steps at most.
    #[arg(long, default_value_t = 10_000)]
    max_edges: usize,
    /// Output format.
    #[arg(long, value_enum, default_value = "jsonl")]
    format: TraceFormat,
}

/// Arguments of `minewatch chain payouts`.
#[derive(Args)]
pub struct PayoutArgs {
    /// The pool, as the pool list names it.
    #[arg(long)]
    pool: String,
    /// The store made by `chain index`.
    #[arg(long, default_value = "chain.db")]
    db: PathBuf,
    /// Outputs a spending transaction needs to count as a payout batch.
    #[arg(long, default_value_t = 5)]
    min_outputs: i64,
    /// Output format.
    #[arg(long, value_enum)]
    format: Option<Format>,
}

fn network(name: &str) -> bitcoin::Network {
    match name {
        "testnet3" => bitcoin::Network::Testnet,
        "testnet4" => bitcoin::Network::Testnet4,
        "signet" => bitcoin::Network::Signet,
        "regtest" => bitcoin::Network::Regtest,
        _ => bitcoin::Network::Bitcoin,
    }
}

fn open(db: &std::path::Path) -> Result<minewatch_chain::index::Index> {
    if !db.exists() {
        anyhow::bail!(
            "{}: no index here; make one with `minewatch chain index BLOCKS --db {}`",
            db.display(),
            db.display()
        );
    }
    minewatch_chain::index::Index::open(db).with_context(|| format!("opening {}", db.display()))
}

/// Inputs shared by the chain commands.
#[derive(Args)]
pub struct Input {
    /// Core block directories (`blk*.dat`, `xor.dat` aware) or block files (records, raw, hex).
    #[arg(required_unless_present_any = ["rpc", "rest"])]
    paths: Vec<PathBuf>,
    /// A running node's JSON-RPC URL (Bitcoin Core, its forks, Litecoin Core), e.g.
    /// `http://127.0.0.1:8332`.
    #[arg(long, conflicts_with = "rest")]
    rpc: Option<String>,
    /// A running node's REST base URL instead (the node runs with `-rest`), e.g.
    /// `http://127.0.0.1:8332`.
    #[arg(long)]
    rest: Option<String>,
    /// The node's `.cookie` file for RPC credentials.
    #[arg(long, requires = "rpc")]
    rpc_cookie: Option<PathBuf>,
    /// RPC credentials as `user:password` (instead of a cookie).
    #[arg(long, requires = "rpc")]
    rpc_auth: Option<String>,
    /// First height to fetch from the node.
    #[arg(long)]
    from_height: Option<u64>,
    /// Last height to fetch from the node (default: its tip).
    #[arg(long)]
    to_height: Option<u64>,
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

impl Input {
    /// The block files to read: the paths given, and the node's blocks fetched into a
    /// temporary block file (kept alive by the returned folder). `from` is the first height
    /// when the command line does not say.
    fn resolve(&self, from: u64) -> Result<(Vec<PathBuf>, Option<tempfile::TempDir>)> {
        let mut paths = self.paths.clone();
        let (url, node): (&String, Box<dyn minewatch_chain::rpc::BlockSource>) =
            match (&self.rpc, &self.rest) {
                (Some(url), _) => (
                    url,
                    match (&self.rpc_cookie, &self.rpc_auth) {
                        (Some(c), _) => Box::new(minewatch_chain::rpc::Node::with_cookie(url, c)?),
                        (None, a) => Box::new(minewatch_chain::rpc::Node::new(url, a.as_deref())),
                    },
                ),
                (None, Some(url)) => (url, Box::new(minewatch_chain::rpc::Rest::new(url))),
                (None, None) => return Ok((paths, None)),
            };
        let dir = tempfile::tempdir().context("making a folder for the node's blocks")?;
        let file = dir.path().join("blk00000.dat");
        let bar = if crate::output::progress_allowed() && !self.quiet {
            indicatif::ProgressBar::new(0)
        } else {
            indicatif::ProgressBar::hidden()
        };
        let (chain, n) = minewatch_chain::rpc::fetch_to_blk(
            node.as_ref(),
            self.from_height.unwrap_or(from),
            self.to_height,
            &file,
            &mut |done, total| {
                bar.set_length(total);
                bar.set_position(done);
            },
        )?;
        bar.finish_and_clear();
        if !self.quiet {
            eprintln!("minewatch: fetched {n} blocks of {chain} from {url}");
        }
        paths.push(dir.path().to_path_buf());
        Ok((paths, Some(dir)))
    }
}

fn collect(input: &Input) -> Result<(Vec<BlockInfo>, bool)> {
    let p = pools(input)?;
    let mut out = Vec::new();
    let (paths, _node_blocks) = input.resolve(0)?;
    let rep = read_blocks(&paths, &p, &BlockOptions::default(), &mut |b, _| {
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

/// Reads an owners file (`address,owner,kind`).
fn read_owners(path: &std::path::Path) -> Result<Vec<minewatch_chain::economy::Owner>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    minewatch_chain::economy::parse_owners(&text).with_context(|| path.display().to_string())
}

/// Runs a chain subcommand.
pub fn run(c: ChainCommand) -> Result<ExitCode> {
    match c {
        ChainCommand::Index(a) => {
            let p = pools(&a.input)?;
            let mut index = minewatch_chain::index::Index::open(&a.db)
                .with_context(|| format!("opening {}", a.db.display()))?;
            let mut rep = minewatch_chain::index::IndexReport::default();
            let mut failed: Option<anyhow::Error> = None;
            // From a node, continue after the highest block already indexed.
            let next = index
                .tip_height()
                .with_context(|| format!("reading {}", a.db.display()))?
                .map_or(0, |h| h + 1);
            let (paths, _node_blocks) = a.input.resolve(next)?;
            let r = read_blocks(&paths, &p, &BlockOptions::default(), &mut |info, b| {
                if failed.is_none()
                    && info.best_chain
                    && let Err(e) = index.add(&info, b, network(&info.network), &mut rep)
                {
                    failed = Some(anyhow::anyhow!(
                        "{}: block {}: {e}",
                        a.db.display(),
                        info.hash
                    ));
                }
            })
            .context("reading blocks")?;
            if let Some(e) = failed {
                return Err(e);
            }
            index
                .flush()
                .with_context(|| format!("writing {}", a.db.display()))?;
            for e in &r.read.errors {
                eprintln!("minewatch: error: {e}");
            }
            for b in &r.bad_blocks {
                eprintln!("minewatch: error: {b}");
            }
            if !a.input.quiet {
                eprintln!(
                    "minewatch: {} blocks added, {} already indexed, {} stale left out; {} inputs spend outputs not in the index; {} blocks in {}",
                    rep.added,
                    rep.skipped,
                    r.stale,
                    rep.unknown_prevouts,
                    index.blocks().unwrap_or(0),
                    a.db.display()
                );
            }
            Ok(if r.read.errors.is_empty() && r.bad_blocks.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(2)
            })
        }
        ChainCommand::Clusters(a) => {
            let index = open(&a.db)?;
            let c = minewatch_chain::graph::all_clusters(
                index.db(),
                minewatch_chain::graph::ClusterOptions { change: a.change },
            )?;
            let stdout = std::io::stdout();
            let mut w = std::io::BufWriter::new(stdout.lock());
            match Format::resolve(a.format) {
                Format::Jsonl => {
                    for (addr, cl) in &c.members {
                        writeln!(w, "{}", serde_json::json!({"address": addr, "cluster": cl}))?;
                    }
                }
                Format::Csv | Format::Table => {
                    writeln!(w, "address,cluster")?;
                    for (addr, cl) in &c.members {
                        writeln!(w, "{addr},{cl}")?;
                    }
                }
            }
            w.flush()?;
            let distinct: std::collections::HashSet<&String> =
                c.members.iter().map(|m| &m.1).collect();
            eprintln!(
                "minewatch: {} addresses in {} clusters; {} transactions joined inputs, {} change outputs joined, {} CoinJoin-shaped passed over",
                c.members.len(),
                distinct.len(),
                c.joining_txs,
                c.change_joins,
                c.coinjoins_skipped
            );
            if let Some(t) = &a.truth {
                let owners = read_owners(t)?;
                let (p, r) = minewatch_chain::economy::pair_scores(&c.members, &owners);
                eprintln!(
                    "minewatch: against {}: pairwise precision {p:.4}, recall {r:.4}",
                    t.display()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        ChainCommand::Generate(a) => {
            std::fs::create_dir_all(&a.out)
                .with_context(|| format!("creating {}", a.out.display()))?;
            let opts = minewatch_chain::economy::EconomyOptions {
                seed: a.seed,
                blocks: a.blocks,
                txs_per_block: a.txs,
                users: a.users.max(3),
                pools: a.pools.max(1),
                reuse_change: a.reuse_change.clamp(0.0, 1.0),
            };
            let mut files = minewatch_chain::write::BlockDir::new(&a.out, [0xf9, 0xbe, 0xb4, 0xd9]);
            let mut err: Option<std::io::Error> = None;
            let owners = minewatch_chain::economy::generate(&opts, &mut |b| {
                if err.is_none()
                    && let Err(e) = files.push(&bitcoin::consensus::serialize(b))
                {
                    err = Some(e);
                }
            });
            if let Some(e) = err {
                return Err(e).with_context(|| format!("writing into {}", a.out.display()));
            }
            let file_no = files
                .finish()
                .with_context(|| format!("writing into {}", a.out.display()))?;
            let path = a.out.join("owners.csv");
            std::fs::write(&path, minewatch_chain::economy::owners_csv(&owners))
                .with_context(|| format!("writing {}", path.display()))?;
            eprintln!(
                "minewatch: wrote {} blocks in {file_no} file(s) and {} addresses' owners to {}",
                a.blocks,
                owners.len(),
                a.out.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        ChainCommand::Cluster(a) => {
            let index = open(&a.db)?;
            let c = minewatch_chain::graph::cluster(index.db(), &a.address, a.max)?;
            let stdout = std::io::stdout();
            let mut w = std::io::BufWriter::new(stdout.lock());
            match Format::resolve(a.format) {
                Format::Jsonl => {
                    for addr in &c.addresses {
                        writeln!(
                            w,
                            "{}",
                            serde_json::json!({"address": addr, "cluster_of": a.address})
                        )?;
                    }
                }
                Format::Csv => {
                    writeln!(w, "address,cluster_of")?;
                    for addr in &c.addresses {
                        writeln!(w, "{addr},{}", a.address)?;
                    }
                }
                Format::Table => {
                    for addr in &c.addresses {
                        writeln!(w, "{addr}")?;
                    }
                }
            }
            w.flush()?;
            eprintln!(
                "minewatch: {} addresses joined by {} transactions; {} CoinJoin-shaped transactions passed over{}",
                c.addresses.len(),
                c.joining_txs,
                c.coinjoins_skipped,
                if c.truncated {
                    "; stopped at --max"
                } else {
                    ""
                }
            );
            Ok(ExitCode::SUCCESS)
        }
        ChainCommand::Trace(a) => {
            let index = open(&a.db)?;
            let mut tags = minewatch_chain::tags::Tags::default();
            for f in &a.tags {
                for b in tags
                    .load(f)
                    .with_context(|| format!("reading {}", f.display()))?
                {
                    eprintln!("minewatch: skipped {b}");
                }
            }
            let t =
                minewatch_chain::graph::trace(index.db(), &a.address, a.hops, &tags, a.max_edges)?;
            let stdout = std::io::stdout();
            let mut w = std::io::BufWriter::new(stdout.lock());
            match a.format {
                TraceFormat::Jsonl => {
                    // Each line names the traced address, so `minewatch ingest` can keep the
                    // trace as evidence on the case of the site behind that wallet.
                    #[derive(serde::Serialize)]
                    struct Line<'a> {
                        traced: &'a str,
                        #[serde(flatten)]
                        edge: &'a minewatch_chain::graph::Edge,
                    }
                    for e in &t.edges {
                        serde_json::to_writer(
                            &mut w,
                            &Line {
                                traced: &t.address,
                                edge: e,
                            },
                        )?;
                        w.write_all(b"\n")?;
                    }
                }
                TraceFormat::Csv => {
                    let mut c = csv::Writer::from_writer(&mut w);
                    c.write_record([
                        "hop",
                        "from",
                        "to",
                        "txid",
                        "value_sat",
                        "time",
                        "pool",
                        "to_label",
                        "to_category",
                    ])?;
                    for e in &t.edges {
                        c.write_record([
                            e.hop.to_string(),
                            e.from.clone(),
                            e.to.clone(),
                            e.txid.clone(),
                            e.value_sat.to_string(),
                            e.time.to_string(),
                            e.pool.clone().unwrap_or_default(),
                            e.to_label.clone().unwrap_or_default(),
                            e.to_category.clone().unwrap_or_default(),
                        ])?;
                    }
                    c.flush()?;
                }
                TraceFormat::Dot => {
                    writeln!(
                        w,
                        "digraph trace {{\n  rankdir=LR;\n  \"{}\" [shape=doublecircle];",
                        a.address
                    )?;
                    for e in &t.edges {
                        if let Some(l) = &e.to_label {
                            writeln!(
                                w,
                                "  \"{}\" [shape=box, label=\"{}\\n{}\"];",
                                e.to,
                                l.replace('"', "'"),
                                e.to
                            )?;
                        }
                        writeln!(
                            w,
                            "  \"{}\" -> \"{}\" [label=\"{:.8} BTC\"];",
                            e.from,
                            e.to,
                            e.value_sat as f64 / 1e8
                        )?;
                    }
                    writeln!(w, "}}")?;
                }
                TraceFormat::Table => {
                    let mut tb = Table::new();
                    tb.load_style(UTF8_FULL_CONDENSED);
                    tb.set_header(["hop", "from", "to", "BTC", "tag"]);
                    for e in &t.edges {
                        tb.add_row([
                            e.hop.to_string(),
                            e.from.clone(),
                            e.to.clone(),
                            format!("{:.8}", e.value_sat as f64 / 1e8),
                            e.to_label.clone().or(e.pool.clone()).unwrap_or_default(),
                        ]);
                    }
                    writeln!(w, "{tb}")?;
                }
            }
            w.flush()?;
            eprintln!(
                "minewatch: {} steps; mined income {:.8} BTC; reached: {}{}",
                t.edges.len(),
                t.mined_sat as f64 / 1e8,
                if t.reached.is_empty() {
                    "no tagged entity".to_string()
                } else {
                    t.reached
                        .iter()
                        .map(|(l, c, v)| format!("{l} ({c}) {:.8} BTC", *v as f64 / 1e8))
                        .collect::<Vec<_>>()
                        .join(", ")
                },
                if t.truncated {
                    "; stopped at --max-edges"
                } else {
                    ""
                }
            );
            Ok(ExitCode::SUCCESS)
        }
        ChainCommand::Payouts(a) => {
            let index = open(&a.db)?;
            let p = minewatch_chain::graph::payouts(index.db(), &a.pool, a.min_outputs)?;
            let stdout = std::io::stdout();
            let mut w = std::io::BufWriter::new(stdout.lock());
            match Format::resolve(a.format) {
                Format::Jsonl => {
                    for x in &p {
                        serde_json::to_writer(&mut w, x)?;
                        w.write_all(b"\n")?;
                    }
                }
                Format::Csv | Format::Table => {
                    writeln!(w, "pool,address,payments,total_sat,first,last")?;
                    for x in &p {
                        writeln!(
                            w,
                            "{},{},{},{},{},{}",
                            x.pool.replace(',', " "),
                            x.address,
                            x.payments,
                            x.total_sat,
                            x.first,
                            x.last
                        )?;
                    }
                }
            }
            w.flush()?;
            Ok(ExitCode::SUCCESS)
        }
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
            let rows = minewatch_chain::blocks::pool_shares(&chosen);
            let stdout = std::io::stdout();
            let mut w = std::io::BufWriter::new(stdout.lock());
            match Format::resolve(a.input.format) {
                Format::Jsonl => {
                    for row in &rows {
                        serde_json::to_writer(&mut w, row)?;
                        writeln!(w)?;
                    }
                }
                Format::Csv => {
                    writeln!(w, "pool,blocks,share,reward_sat")?;
                    for r in &rows {
                        writeln!(
                            w,
                            "{},{},{:.4},{}",
                            r.pool.replace(',', " "),
                            r.blocks,
                            r.share,
                            r.reward_sat
                        )?;
                    }
                }
                Format::Table => {
                    let mut t = Table::new();
                    t.load_style(UTF8_FULL_CONDENSED);
                    t.set_header(["pool", "blocks", "share", "reward BTC"]);
                    for r in &rows {
                        t.add_row([
                            r.pool.clone(),
                            r.blocks.to_string(),
                            format!("{:.1}%", r.share * 100.0),
                            format!("{:.8}", r.reward_sat as f64 / 1e8),
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
