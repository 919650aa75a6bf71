//! Active confirmation: is a suspected server a mining pool? Ask it.
//!
//! The passive detectors guess from behaviour, flow shape or a list; a guess that reaches an
//! inspector's desk needs a check. As MineShark, CESNET's miner_detector and sMaSheD do, a probe
//! connects to the server and speaks the mining protocols a miner would open with; a pool
//! answers like a pool ([`dialect`] says, per dialect, what counts and why). It is the only
//! part of minewatch that sends packets, so it is careful by construction:
//!
//! - opt-in: nothing probes unless a user runs `minewatch confirm` or `scan --confirm`;
//! - never to private or reserved addresses unless allowed ([`target::is_public`]);
//! - paced ([`pace`]): a global rate (10 connections/s by default), a per-target cap and gap;
//! - short timeouts and a bounded answer ([`conn::Limits`]);
//! - it says who it is: the worker name `minewatch-probe` and an agent with the version;
//! - every connection is written to the probe log ([`Attempt`]).
//!
//! Parsing stays in `minewatch-net` (the same Stratum, HTTP and SV2 parsers the scan uses);
//! this crate owns the sockets.

pub mod conn;
pub mod detections;
pub mod dialect;
pub mod log;
pub mod pace;
pub mod target;

pub use conn::{Limits, Transport};
pub use detections::{Confirmed, confirm_detections, withhold_unconfirmed};
pub use dialect::{Dialect, Judgement};
pub use pace::{Pace, Pacer};
pub use target::Target;

use minewatch_model::{Coin, Timestamp};
use serde::Serialize;
use std::net::SocketAddr;
use std::time::{Duration, SystemTime};
use thiserror::Error;

/// What can go wrong before a probe is sent.
#[derive(Debug, Error)]
pub enum ProbeError {
    /// The target is not `host:port`.
    #[error("target {target:?}: {why}")]
    Target {
        /// As given.
        target: String,
        /// What is wrong.
        why: String,
    },
    /// The host name did not resolve.
    #[error("target {target:?}: cannot resolve: {why}")]
    Resolve {
        /// As given.
        target: String,
        /// The resolver's word.
        why: String,
    },
}

/// The identification every probe carries (Stratum agent, CryptoNote agent, HTTP User-Agent).
pub const AGENT: &str = concat!(
    "minewatch-probe/",
    env!("CARGO_PKG_VERSION"),
    " (pool confirmation)"
);

/// A target's verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// It answered like a pool.
    Pool,
    /// It answered (or accepted connections) and nothing it said was a pool's.
    NotPool,
    /// No connection was made (refused, timed out, not resolved, or not allowed).
    Unreachable,
}

impl Verdict {
    /// `pool`, `not-pool` or `unreachable`.
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Pool => "pool",
            Verdict::NotPool => "not-pool",
            Verdict::Unreachable => "unreachable",
        }
    }
}

/// Which transports to try.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transports {
    /// Plain TCP first, then TLS if no pool answered (or at once when the server speaks TLS).
    Auto,
    /// Only plain TCP.
    Tcp,
    /// Only TLS.
    Tls,
}

/// How to probe.
#[derive(Clone, Debug)]
pub struct Config {
    /// Transports to try.
    pub transports: Transports,
    /// Dialects to try, in order.
    pub dialects: Vec<Dialect>,
    /// Connection limits.
    pub limits: Limits,
    /// Pacing.
    pub pace: Pace,
    /// Probe private and reserved addresses too (a lab, a test, one's own network).
    pub allow_private: bool,
    /// The longest excerpt of an answer kept in the outcome, in bytes.
    pub excerpt: usize,
    /// Targets probed at once.
    pub parallel: usize,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            transports: Transports::Auto,
            dialects: Dialect::ALL.to_vec(),
            limits: Limits {
                connect: Duration::from_secs(3),
                answer: Duration::from_secs(4),
                max_answer: 64 * 1024,
            },
            pace: Pace::default(),
            allow_private: false,
            excerpt: 240,
            parallel: 4,
        }
    }
}

/// What a user sets of a probing run, before it is checked.
#[derive(Clone, Debug)]
pub struct Settings<'a> {
    /// Transports to try.
    pub transports: Transports,
    /// Probes by name (empty: all, in [`Dialect::ALL`]'s order).
    pub dialects: &'a [String],
    /// Seconds to connect, and again to wait for an answer (0–60).
    pub timeout_s: f64,
    /// Connections per second across the run (0–1000).
    pub rate: f64,
    /// Connections to one target at most.
    pub per_target: u32,
    /// Targets probed at once.
    pub parallel: usize,
    /// Probe private and reserved addresses too.
    pub allow_private: bool,
}

impl Config {
    /// The configuration of `s`, refused when a dialect is unknown or a bound is out of range
    /// (a rate of zero would never end; a minute-long timeout holds a pool's slot too long).
    pub fn from_settings(s: &Settings) -> Result<Config, String> {
        let dialects = if s.dialects.is_empty() {
            Dialect::ALL.to_vec()
        } else {
            s.dialects
                .iter()
                .map(|d| Dialect::from_name(d.trim()).ok_or(format!("unknown probe dialect {d:?}")))
                .collect::<Result<Vec<_>, _>>()?
        };
        if !(s.timeout_s > 0.0 && s.timeout_s <= 60.0) {
            return Err("--timeout must be between 0 and 60 seconds".into());
        }
        if !(s.rate > 0.0 && s.rate <= 1000.0) {
            return Err("--rate must be between 0 and 1000 connections per second".into());
        }
        let defaults = Config::default();
        Ok(Config {
            transports: s.transports,
            dialects,
            limits: Limits {
                connect: Duration::from_secs_f64(s.timeout_s),
                answer: Duration::from_secs_f64(s.timeout_s),
                ..defaults.limits
            },
            pace: Pace {
                per_second: s.rate,
                per_target: s.per_target.max(1),
                ..Pace::default()
            },
            allow_private: s.allow_private,
            parallel: s.parallel,
            ..defaults
        })
    }
}

/// One target to confirm, with what the evidence knows of it.
#[derive(Clone, Debug)]
pub struct Request {
    /// The endpoint.
    pub target: Target,
    /// The TLS server name to send, when the evidence knows one (a ClientHello's SNI); else
    /// the target's host name, if it is one.
    pub sni: Option<String>,
}

/// A target's outcome: the JSON line `minewatch confirm` writes.
#[derive(Clone, Debug, Serialize)]
pub struct Outcome {
    /// The target as given (`host:port`).
    pub target: String,
    /// The address probed last.
    pub address: Option<SocketAddr>,
    /// The transport of the verdict (of the last probe when no pool answered).
    pub transport: Option<Transport>,
    /// `pool`, `not-pool` or `unreachable`.
    pub verdict: Verdict,
    /// The dialect the pool answered in (the scan's names: `bitcoin`, `cryptonote`…).
    pub dialect: Option<String>,
    /// The probe that drew the answer.
    pub probe: Option<Dialect>,
    /// The coin, when the answer shows it.
    pub coin: Option<Coin>,
    /// Why: what in the answer showed a pool, or why there is no verdict of pool.
    pub reason: String,
    /// A bounded excerpt of the deciding answer.
    pub answer: String,
    /// Connections made to this target.
    pub connections: u32,
    /// When the verdict was reached.
    pub at: Timestamp,
}

/// One connection, for the probe log.
#[derive(Clone, Debug, Serialize)]
pub struct Attempt {
    /// When it started.
    pub at: Timestamp,
    /// The target as given.
    pub target: String,
    /// The address connected to.
    pub address: SocketAddr,
    /// Transport.
    pub transport: Transport,
    /// The probe sent.
    pub probe: Dialect,
    /// Bytes sent.
    pub sent: usize,
    /// Bytes received.
    pub received: usize,
    /// How it ended, when not with an answer.
    pub error: Option<String>,
    /// The answer showed a pool.
    pub pool: bool,
}

fn now() -> Timestamp {
    let ns = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    Timestamp(ns)
}

/// Confirms each request, at most `cfg.parallel` at a time, under one pacer; `log` sees every
/// connection as it ends. Outcomes come back in the order of the requests.
pub fn confirm_all(
    requests: &[Request],
    cfg: &Config,
    log: &(dyn Fn(&Attempt) + Sync),
) -> Vec<Outcome> {
    let pacer = Pacer::new(cfg.pace);
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: std::sync::Mutex<Vec<Option<Outcome>>> =
        std::sync::Mutex::new(vec![None; requests.len()]);
    std::thread::scope(|s| {
        for _ in 0..cfg.parallel.clamp(1, 64).min(requests.len().max(1)) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(r) = requests.get(i) else { break };
                    let o = confirm(r, cfg, &pacer, log);
                    let mut all = results
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    if let Some(slot) = all.get_mut(i) {
                        *slot = Some(o);
                    }
                }
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .into_iter()
        .flatten()
        .collect()
}

/// Confirms one target: each transport, each dialect, until a pool answers.
pub fn confirm(
    req: &Request,
    cfg: &Config,
    pacer: &Pacer,
    log: &(dyn Fn(&Attempt) + Sync),
) -> Outcome {
    let mut out = Outcome {
        target: req.target.text.clone(),
        address: None,
        transport: None,
        verdict: Verdict::Unreachable,
        dialect: None,
        probe: None,
        coin: None,
        reason: String::new(),
        answer: String::new(),
        connections: 0,
        at: now(),
    };
    let addrs = match req.target.resolve() {
        Ok(a) => a,
        Err(e) => {
            out.reason = e.to_string();
            return out;
        }
    };
    let allowed: Vec<SocketAddr> = addrs
        .iter()
        .copied()
        .filter(|a| cfg.allow_private || target::is_public(a.ip()))
        .collect();
    // The first allowed address: probing every address of a round-robin name would multiply
    // the connections for little.
    let Some(&addr) = allowed.first() else {
        out.reason = format!(
            "not probed: {} is a private or reserved address (allow with --allow-private)",
            addrs
                .first()
                .map(|a| a.ip().to_string())
                .unwrap_or_default()
        );
        return out;
    };
    out.address = Some(addr);
    let sni = req
        .sni
        .clone()
        .or_else(|| req.target.name().map(str::to_string));
    let transports = match cfg.transports {
        Transports::Auto => vec![Transport::Tcp, Transport::Tls],
        Transports::Tcp => vec![Transport::Tcp],
        Transports::Tls => vec![Transport::Tls],
    };
    let pace_key = addr.to_string();
    let mut answered = false;
    let mut tls_seen = false;
    let mut last_error = None;
    let mut t = 0;
    'transports: while let Some(&transport) = transports.get(t) {
        t += 1;
        let mut silent_holds = 0;
        for &dialect in &cfg.dialects {
            if !pacer.acquire(&pace_key) {
                out.reason = format!("stopped at the cap of {} connections", cfg.pace.per_target);
                break 'transports;
            }
            let request = dialect.request(AGENT, &req.target.host, req.target.port);
            let mut judged = Judgement::default();
            let started = now();
            let ex = conn::exchange(
                addr,
                transport,
                sni.as_deref(),
                &request,
                cfg.limits,
                &mut |a| {
                    judged = dialect::judge(dialect, &request, a);
                    judged.pool.is_some() || judged.tls
                },
            );
            out.connections += 1;
            out.transport = Some(transport);
            // A TLS handshake that failed on plaintext: judge what the server said instead.
            if ex.handshake_failed && !ex.answer.is_empty() {
                judged = dialect::judge(dialect, &request, &ex.answer);
                if let Some(why) = &mut judged.pool {
                    *why = format!("answered a TLS ClientHello in plaintext: {why}");
                }
            }
            log(&Attempt {
                at: started,
                target: req.target.text.clone(),
                address: addr,
                transport,
                probe: dialect,
                sent: ex.sent,
                received: ex.answer.len(),
                error: ex.error.clone(),
                pool: judged.pool.is_some(),
            });
            if !ex.connected {
                // Refused or timed out: the server is not there; no other probe will differ.
                last_error = ex.error;
                break 'transports;
            }
            answered = true;
            if let Some(why) = judged.pool {
                out.verdict = Verdict::Pool;
                out.reason = why;
                out.dialect = judged.dialect;
                out.coin = judged.coin;
                out.probe = Some(dialect);
                out.answer = dialect::excerpt(&ex.answer, cfg.excerpt);
                out.at = now();
                return out;
            }
            if transport == Transport::Tcp && judged.tls {
                // The server speaks TLS: plaintext probes are wasted on it (TLS comes next
                // unless the user asked for plain TCP only).
                out.answer = dialect::excerpt(&ex.answer, cfg.excerpt);
                tls_seen = true;
                continue 'transports;
            }
            if !ex.answer.is_empty() {
                out.answer = dialect::excerpt(&ex.answer, cfg.excerpt);
            }
            if ex.answer.is_empty() && ex.timed_out {
                silent_holds += 1;
                // Twice the server held the connection and said nothing until the deadline:
                // this transport will not say more, and each probe costs the whole timeout.
                if silent_holds >= 2 {
                    continue 'transports;
                }
            }
        }
    }
    out.at = now();
    if answered {
        out.verdict = Verdict::NotPool;
        if out.reason.is_empty() && tls_seen && !transports.contains(&Transport::Tls) {
            out.reason = "the server speaks TLS; it was probed over plain TCP only".into();
        }
        if out.reason.is_empty() {
            out.reason = "no answer in any mining protocol's shape".into();
        }
    } else {
        out.reason = last_error.unwrap_or_else(|| "no connection".into());
    }
    out
}
