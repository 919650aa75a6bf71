//! `minewatch confirm`: ask suspected servers whether they are mining pools.

use crate::output::{Format, write_records};
use anyhow::Context;
use clap::{Args, ValueEnum};
use minewatch_probe::log::{OUTCOME_COLUMNS, ProbeLog};
use minewatch_probe::{Config, Outcome, Request, Settings, Target, Transports};
use minewatch_store::probes::Plan;
use std::path::PathBuf;
use std::process::ExitCode;

/// Which transports to try.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum TransportArg {
    /// Plain TCP, then TLS when no pool answered (at once when the server speaks TLS).
    Auto,
    /// Plain TCP only.
    Tcp,
    /// TLS only.
    Tls,
}

/// Arguments of `minewatch confirm`.
#[derive(Args, Debug)]
pub struct ConfirmArgs {
    /// Targets as host:port or [IPv6]:port.
    #[arg(required_unless_present = "pending")]
    pub targets: Vec<String>,
    /// The store: outcomes are kept there until they expire, and a target with an outcome
    /// still standing is not asked again (its outcome is shown, marked cached).
    #[arg(long, env = "MINEWATCH_DB")]
    pub db: Option<String>,
    /// Confirm the servers that evidence in the store suspects (behaviour and list findings)
    /// and no standing outcome covers, most-cited first.
    #[arg(long, requires = "db")]
    pub pending: bool,
    /// With --pending: at most this many servers.
    #[arg(long, default_value_t = 100)]
    pub max: usize,
    /// Days an outcome stands in the store.
    #[arg(long, default_value_t = 7)]
    pub ttl_days: u32,
    /// Ask again even when an outcome still stands.
    #[arg(long)]
    pub refresh: bool,
    /// Output format (default: table on a terminal, JSON lines in a pipe).
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Transports to try.
    #[arg(long, value_enum, default_value = "auto")]
    pub transport: TransportArg,
    /// Only these probes (stratum, cryptonote, ethereumstratum, eth-proxy, stratum-v2,
    /// getblocktemplate, getwork), comma-separated; default all, in that order.
    #[arg(long, value_delimiter = ',')]
    pub dialect: Vec<String>,
    /// TLS server name to send (default: the target's host name, when it is one).
    #[arg(long)]
    pub sni: Option<String>,
    /// Connections per second across the run.
    #[arg(long, default_value_t = 10.0)]
    pub rate: f64,
    /// Connections to one target at most.
    #[arg(long, default_value_t = 16)]
    pub per_target: u32,
    /// Seconds to connect, and again to wait for an answer.
    #[arg(long, default_value_t = 4.0)]
    pub timeout: f64,
    /// Targets probed at once.
    #[arg(long, default_value_t = 4)]
    pub parallel: usize,
    /// Probe private and reserved addresses too (a lab, one's own network).
    #[arg(long)]
    pub allow_private: bool,
    /// Append every connection to this file as a JSON line (when, where, what was sent, what
    /// came back).
    #[arg(long)]
    pub probe_log: Option<PathBuf>,
}

/// Runs `minewatch confirm`: exit 0 when no target is a pool, 1 when one is.
pub fn run(a: ConfirmArgs) -> anyhow::Result<ExitCode> {
    let cfg = Config::from_settings(&Settings {
        transports: match a.transport {
            TransportArg::Auto => Transports::Auto,
            TransportArg::Tcp => Transports::Tcp,
            TransportArg::Tls => Transports::Tls,
        },
        dialects: &a.dialect,
        timeout_s: a.timeout,
        rate: a.rate,
        per_target: a.per_target,
        parallel: a.parallel,
        allow_private: a.allow_private,
    })
    .map_err(anyhow::Error::msg)?;
    let mut store = match &a.db {
        Some(db) => Some(minewatch_store::Store::open(db).context("opening the store (--db)")?),
        None => None,
    };
    let given: Vec<String> = a.targets.iter().map(|t| t.trim().to_string()).collect();
    let plan = match &mut store {
        Some(st) => {
            let pending = a.pending.then_some(a.max);
            let now = minewatch_store::time::now();
            let sni = a.sni.as_deref();
            minewatch_store::probes::plan(&mut st.conn, &given, sni, pending, a.refresh, now)?
        }
        None => Plan {
            ask: given.into_iter().map(|t| (t, a.sni.clone())).collect(),
            cached: Vec::new(),
        },
    };
    let requests = plan
        .ask
        .iter()
        .map(|(t, sni)| {
            let target = Target::parse(t)?;
            Ok(Request {
                target,
                sni: sni.clone(),
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let cached = plan.cached.into_iter().map(Outcome::from_record).collect();
    let log = ProbeLog::open(a.probe_log.as_deref())?;
    let asked = minewatch_probe::confirm_all(&requests, &cfg, &|at| log.record(at));
    log.finish()?;
    if let Some(st) = &mut store {
        let ttl = i64::from(a.ttl_days) * 86_400;
        let records: Vec<_> = asked.iter().map(|o| o.to_record(ttl)).collect();
        let changed =
            minewatch_store::probes::apply_all(&mut st.conn, &records, "minewatch confirm")?;
        eprintln!(
            "minewatch confirm: {} evidence row(s) and {} case(s) updated in the store",
            changed.evidence,
            changed.cases.len()
        );
    }
    let mut outcomes: Vec<Outcome> = cached;
    outcomes.extend(asked);
    write_records(
        Format::resolve(a.format),
        &outcomes,
        &OUTCOME_COLUMNS,
        Outcome::cells,
    )?;
    let (line, pool) = minewatch_probe::log::summary(&outcomes);
    eprintln!("minewatch confirm: {line}");
    Ok(crate::output::exit_if(pool, 1))
}
