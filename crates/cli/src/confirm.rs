//! `minewatch confirm`: ask suspected servers whether they are mining pools.

use crate::output::{Format, write_records};
use anyhow::Context;
use clap::{Args, ValueEnum};
use minewatch_probe::log::{OUTCOME_COLUMNS, ProbeLog};
use minewatch_probe::{
    Config, Dialect, Outcome, Pace, Request, Target, Transport, Transports, Verdict,
};
use minewatch_store::probes::ProbeRecord;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

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

/// An outcome as the store keeps it.
fn to_record(o: &Outcome, ttl: i64) -> ProbeRecord {
    let at = o.at.0 / 1_000_000_000;
    ProbeRecord {
        target: o.target.clone(),
        transport: o.transport.map(|t| t.name().to_string()),
        verdict: o.verdict.name().to_string(),
        dialect: o.dialect.clone(),
        coin: o.coin.map(|c| c.to_string()),
        reason: o.reason.clone(),
        answer: o.answer.clone(),
        connections: i64::from(o.connections),
        probed_at: at,
        expires_at: at.saturating_add(ttl),
    }
}

/// A stored outcome, shown as one (no connection made now).
fn from_record(r: ProbeRecord) -> Outcome {
    Outcome {
        target: r.target,
        address: None,
        transport: match r.transport.as_deref() {
            Some("tls") => Some(Transport::Tls),
            Some("tcp") => Some(Transport::Tcp),
            _ => None,
        },
        verdict: match r.verdict.as_str() {
            "pool" => Verdict::Pool,
            "not-pool" => Verdict::NotPool,
            _ => Verdict::Unreachable,
        },
        dialect: r.dialect,
        probe: None,
        coin: r.coin.as_deref().and_then(minewatch_model::Coin::from_name),
        reason: format!("cached until {}: {}", rfc3339(r.expires_at), r.reason),
        answer: r.answer,
        connections: 0,
        at: minewatch_model::Timestamp(r.probed_at.saturating_mul(1_000_000_000)),
    }
}

fn rfc3339(unix_s: i64) -> String {
    minewatch_model::Timestamp(unix_s.saturating_mul(1_000_000_000)).to_rfc3339()
}

/// Runs `minewatch confirm`: exit 0 when no target is a pool, 1 when one is.
pub fn run(a: ConfirmArgs) -> anyhow::Result<ExitCode> {
    let mut store = match &a.db {
        Some(db) => Some(
            minewatch_store::Store::open(db)
                .with_context(|| "opening the store (--db)".to_string())?,
        ),
        None => None,
    };
    let now = minewatch_store::time::now();
    let mut requests = a
        .targets
        .iter()
        .map(|t| {
            Ok(Request {
                target: Target::parse(t)?,
                sni: a.sni.clone(),
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    if a.pending
        && let Some(st) = &mut store
    {
        for p in minewatch_store::probes::pending(&mut st.conn, now, a.max)? {
            requests.push(Request {
                target: Target::parse(&p.target)?,
                sni: a.sni.clone().or(p.sni),
            });
        }
    }
    // Outcomes still standing in the store are shown, not asked again.
    let mut cached = Vec::new();
    if let Some(st) = &mut store
        && !a.refresh
    {
        let mut ask = Vec::new();
        for r in requests {
            match minewatch_store::probes::fresh(&mut st.conn, &r.target.text, now)? {
                Some(rec) => cached.push(from_record(rec)),
                None => ask.push(r),
            }
        }
        requests = ask;
    }
    let dialects = if a.dialect.is_empty() {
        Dialect::ALL.to_vec()
    } else {
        a.dialect
            .iter()
            .map(|d| {
                Dialect::from_name(d.trim()).with_context(|| format!("unknown probe dialect {d:?}"))
            })
            .collect::<anyhow::Result<Vec<_>>>()?
    };
    if !(a.timeout > 0.0 && a.timeout <= 60.0) {
        anyhow::bail!("--timeout must be between 0 and 60 seconds");
    }
    if !(a.rate > 0.0 && a.rate <= 1000.0) {
        anyhow::bail!("--rate must be between 0 and 1000 connections per second");
    }
    let defaults = Config::default();
    let cfg = Config {
        transports: match a.transport {
            TransportArg::Auto => Transports::Auto,
            TransportArg::Tcp => Transports::Tcp,
            TransportArg::Tls => Transports::Tls,
        },
        dialects,
        limits: minewatch_probe::Limits {
            connect: Duration::from_secs_f64(a.timeout),
            answer: Duration::from_secs_f64(a.timeout),
            ..defaults.limits
        },
        pace: Pace {
            per_second: a.rate,
            per_target: a.per_target.max(1),
            ..Pace::default()
        },
        allow_private: a.allow_private,
        parallel: a.parallel,
        ..defaults
    };
    let log = ProbeLog::open(a.probe_log.as_deref())?;
    let asked = minewatch_probe::confirm_all(&requests, &cfg, &|at| log.record(at));
    log.finish()?;
    if let Some(st) = &mut store {
        let ttl = i64::from(a.ttl_days) * 86_400;
        let records: Vec<_> = asked.iter().map(|o| to_record(o, ttl)).collect();
        let changed =
            minewatch_store::probes::apply_all(&mut st.conn, &records, "minewatch confirm")?;
        eprintln!(
            "minewatch confirm: {} evidence row(s) and {} case(s) updated in the store",
            changed.evidence,
            changed.cases.len()
        );
    }
    let mut outcomes = cached;
    outcomes.extend(asked);
    write_records(
        Format::resolve(a.format),
        &outcomes,
        &OUTCOME_COLUMNS,
        Outcome::cells,
    )?;
    let connections: u32 = outcomes.iter().map(|o| o.connections).sum();
    let pools = outcomes
        .iter()
        .filter(|o| o.verdict == Verdict::Pool)
        .count();
    eprintln!(
        "minewatch confirm: {} target(s), {pools} pool(s), {connections} connection(s)",
        outcomes.len()
    );
    Ok(if pools > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
