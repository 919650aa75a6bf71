//! `minewatch chain`: blocks, their pools and fees.

use crate::output::{Format, print_formats};
use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use minewatch_chain::blocks::{self, BlockInfo, PoolShare};
use minewatch_chain::graph::Payout;
use minewatch_chain::pools::Pools;
use minewatch_chain::rows;
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

fn open(db: &std::path::Path) -> Result<minewatch_chain::index::Index> {
    minewatch_chain::index::Index::open_existing(db)
        .with_context(|| format!("opening {}", db.display()))
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

impl Input {
    /// The block files to read: the paths given, and the node's blocks fetched into a
    /// temporary block file (kept alive by the returned folder). `from` is the first height
    /// when the command line does not say.
    fn resolve(&self, from: u64) -> Result<(Vec<PathBuf>, Option<tempfile::TempDir>)> {
        let mut paths = self.paths.clone();
        let node = minewatch_chain::rpc::NodeSpec {
            rpc: self.rpc.clone(),
            rest: self.rest.clone(),
            cookie: self.rpc_cookie.clone(),
            auth: self.rpc_auth.clone(),
            from_height: self.from_height,
            to_height: self.to_height,
        };
        if !node.named() {
            return Ok((paths, None));
        }
        let dir = tempfile::tempdir().context("making a folder for the node's blocks")?;
        let bar = crate::output::bar(0, self.quiet);
        let got = node.fetch_into(dir.path(), from, &mut |done, total| {
            bar.set_length(total);
            bar.set_position(done);
        })?;
        bar.finish_and_clear();
        if let Some(f) = got.filter(|_| !self.quiet) {
            eprintln!(
                "minewatch: fetched {} blocks of {} from {}",
                f.blocks, f.chain, f.url
            );
        }
        paths.push(dir.path().to_path_buf());
        Ok((paths, Some(dir)))
    }
}

fn collect(input: &Input) -> Result<(Vec<BlockInfo>, bool)> {
    let (paths, _node_blocks) = input.resolve(0)?;
    let (out, rep) = blocks::collect(&paths, &Pools::with_file(input.pools.as_deref())?)
        .context("reading blocks")?;
    if !input.quiet {
        crate::output::say(&[rep.problems(), vec![rep.summary(out.len())]].concat());
    }
    Ok((out, rep.has_problems()))
}

/// Runs a chain subcommand.
pub fn run(c: ChainCommand) -> Result<ExitCode> {
    match c {
        ChainCommand::Index(a) => {
            let p = Pools::with_file(a.input.pools.as_deref())?;
            let mut index = minewatch_chain::index::Index::open(&a.db)
                .with_context(|| format!("opening {}", a.db.display()))?;
            // From a node, continue after the highest block already indexed.
            let next = index
                .tip_height()
                .with_context(|| format!("reading {}", a.db.display()))?
                .map_or(0, |h| h + 1);
            let (paths, _node_blocks) = a.input.resolve(next)?;
            let (rep, r) = index
                .add_blocks(&paths, &p)
                .with_context(|| a.db.display().to_string())?;
            let errors = r.problems().into_iter().filter(|p| p.starts_with("error"));
            crate::output::say(&errors.collect::<Vec<_>>());
            if !a.input.quiet {
                let total = index.blocks().unwrap_or(0);
                eprintln!("minewatch: {}", rep.summary(&r, total, &a.db));
            }
            Ok(crate::output::exit_if(r.has_problems(), 2))
        }
        ChainCommand::Clusters(a) => {
            let index = open(&a.db)?;
            let c = minewatch_chain::graph::all_clusters(
                index.db(),
                minewatch_chain::graph::ClusterOptions { change: a.change },
            )?;
            let cols = (&rows::MEMBER_COLUMNS[..], rows::Member::cells);
            print_formats(Format::resolve(a.format), &c.rows(), cols, cols)?;
            eprintln!("minewatch: {}", c.summary());
            if let Some(t) = &a.truth {
                let owners = minewatch_chain::economy::read_owners(t)?;
                let (p, r) = minewatch_chain::economy::pair_scores(&c.members, &owners);
                eprintln!(
                    "minewatch: against {}: pairwise precision {p:.4}, recall {r:.4}",
                    t.display()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        ChainCommand::Generate(a) => {
            let opts = minewatch_chain::economy::EconomyOptions {
                seed: a.seed,
                blocks: a.blocks,
                txs_per_block: a.txs,
                users: a.users.max(3),
                pools: a.pools.max(1),
                reuse_change: a.reuse_change.clamp(0.0, 1.0),
            };
            let (file_no, owners) = minewatch_chain::economy::write_to(&opts, &a.out)
                .with_context(|| format!("writing into {}", a.out.display()))?;
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
            let cols = (&rows::JOINED_COLUMNS[..], rows::Joined::cells);
            print_formats(Format::resolve(a.format), &c.rows(&a.address), cols, cols)?;
            eprintln!("minewatch: {}", c.summary());
            Ok(ExitCode::SUCCESS)
        }
        ChainCommand::Trace(a) => {
            let index = open(&a.db)?;
            let (tags, skipped) = minewatch_chain::tags::Tags::load_all(&a.tags)?;
            for b in skipped {
                eprintln!("minewatch: skipped {b}");
            }
            let t =
                minewatch_chain::graph::trace(index.db(), &a.address, a.hops, &tags, a.max_edges)?;
            let csv = (&rows::EDGE_COLUMNS[..], |l: &rows::TraceLine| {
                l.edge.csv_cells()
            });
            let table = (&rows::EDGE_TABLE[..], |l: &rows::TraceLine| {
                l.edge.table_cells()
            });
            match a.format {
                TraceFormat::Dot => print!("{}", t.dot()),
                TraceFormat::Jsonl => print_formats(Format::Jsonl, &t.lines(), csv, table)?,
                TraceFormat::Csv => print_formats(Format::Csv, &t.lines(), csv, table)?,
                TraceFormat::Table => print_formats(Format::Table, &t.lines(), csv, table)?,
            }
            eprintln!("minewatch: {}", t.summary());
            Ok(ExitCode::SUCCESS)
        }
        ChainCommand::Payouts(a) => {
            let index = open(&a.db)?;
            let p = minewatch_chain::graph::payouts(index.db(), &a.pool, a.min_outputs)?;
            let cols = (&rows::PAYOUT_COLUMNS[..], Payout::cells);
            print_formats(Format::resolve(a.format), &p, cols, cols)?;
            Ok(ExitCode::SUCCESS)
        }
        ChainCommand::Blocks(a) => {
            let (blocks, problems) = collect(&a.input)?;
            print_formats(
                Format::resolve(a.input.format),
                &blocks,
                (&rows::BLOCK_COLUMNS, BlockInfo::csv_cells),
                (&rows::BLOCK_TABLE, BlockInfo::table_cells),
            )?;
            Ok(crate::output::exit_if(problems, 2))
        }
        ChainCommand::Pools(a) => {
            let (blocks, problems) = collect(&a.input)?;
            let inside = |b: &BlockInfo| {
                let day = b.time.get(..10).unwrap_or(&b.time);
                a.from.as_deref().is_none_or(|f| day >= f)
                    && a.to.as_deref().is_none_or(|t| day <= t)
            };
            let chosen: Vec<&BlockInfo> = blocks
                .iter()
                .filter(|b| b.best_chain && inside(b))
                .collect();
            print_formats(
                Format::resolve(a.input.format),
                &blocks::pool_shares(&chosen),
                (&rows::POOL_COLUMNS, PoolShare::csv_cells),
                (&rows::POOL_TABLE, PoolShare::table_cells),
            )?;
            Ok(crate::output::exit_if(problems, 2))
        }
    }
}
