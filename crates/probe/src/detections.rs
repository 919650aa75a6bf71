//! Confirmation of a scan's guesses: the servers behind behaviour and list detections are
//! asked, and each detection carries the answer.
//!
//! What a protocol parse found (`stratum`, `getwork`, `stratum-v2`) the server already said
//! itself; browser miners speak WebSocket, which no probe here speaks; a DNS finding's
//! destination is the resolver. Everything else (the
//! behaviour of encrypted sessions, pool addresses, names and certificates from the lists) is a
//! guess about the server, and the server can be asked.

use crate::{Attempt, Config, Outcome, Request, Target, Verdict, confirm_all};
use minewatch_model::Detection;
use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};

/// What a confirmed pool adds to a detection's confidence (as one more independent piece of
/// evidence: `1 − (1 − c)(1 − w)`).
pub const POOL_WEIGHT: f32 = 0.9;
/// Characters of the answer's excerpt a detection carries (the probe log and the store keep
/// the whole excerpt).
pub const ANSWER_IN_EVIDENCE: usize = 160;
/// What "not a pool" leaves of it: the guess stands, at half its strength, and says why.
pub const NOT_POOL_FACTOR: f32 = 0.5;

/// True for a detector whose findings are guesses about the server at `destination`. A
/// `pool-dns` finding is about the name looked up, and its destination is the resolver: the
/// addresses of the answer are for the sessions that follow, which are detections of their own.
pub fn is_guess(detector: &str) -> bool {
    !matches!(
        detector,
        "stratum" | "getwork" | "stratum-v2" | "browser-miner" | "pool-dns"
    )
}

/// Counts of one confirmation pass.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Confirmed {
    /// Distinct servers probed.
    pub servers: usize,
    /// Of which answered as pools.
    pub pools: usize,
    /// Of which answered, but not as pools.
    pub not_pools: usize,
    /// Of which were not reached (or not allowed).
    pub unreachable: usize,
    /// Detections changed.
    pub detections: usize,
}

/// Probes the server of every guessed detection once and writes the verdict into each:
/// evidence `probe:pool:<dialect>`, `probe:not-pool` or `probe:unreachable`, `probe:at:<time>`
/// and (when the server said something) `probe:answer:<excerpt>`, and the
/// confidence lifted or lowered (unreachable changes nothing). The outcomes come back too.
pub fn confirm_detections(
    dets: &mut [Detection],
    cfg: &Config,
    log: &(dyn Fn(&Attempt) + Sync),
) -> (Confirmed, Vec<Outcome>) {
    // One request per server; the SNI from the pool name when the detection has one.
    let mut servers: BTreeMap<SocketAddr, Option<String>> = BTreeMap::new();
    for d in dets.iter().filter(|d| is_guess(&d.mining.detector)) {
        let addr = SocketAddr::new(d.destination.ip, d.destination.port);
        let name = d
            .mining
            .pool
            .as_deref()
            .filter(|p| p.parse::<IpAddr>().is_err() && !p.is_empty())
            .map(str::to_string);
        let slot = servers.entry(addr).or_default();
        if slot.is_none() {
            *slot = name;
        }
    }
    let requests: Vec<Request> = servers
        .iter()
        .filter_map(|(addr, sni)| {
            Some(Request {
                target: Target::parse(&addr.to_string()).ok()?,
                sni: sni.clone(),
            })
        })
        .collect();
    let outcomes = confirm_all(&requests, cfg, log);
    let by_addr: BTreeMap<SocketAddr, &Outcome> =
        servers.keys().copied().zip(outcomes.iter()).collect();
    let mut c = Confirmed {
        servers: outcomes.len(),
        ..Confirmed::default()
    };
    for o in &outcomes {
        match o.verdict {
            Verdict::Pool => c.pools += 1,
            Verdict::NotPool => c.not_pools += 1,
            Verdict::Unreachable => c.unreachable += 1,
        }
    }
    for d in dets.iter_mut().filter(|d| is_guess(&d.mining.detector)) {
        let addr = SocketAddr::new(d.destination.ip, d.destination.port);
        let Some(o) = by_addr.get(&addr) else {
            continue;
        };
        let m = &mut d.mining;
        match o.verdict {
            Verdict::Pool => {
                m.evidence.push(format!(
                    "probe:pool:{}",
                    o.dialect.as_deref().unwrap_or("unknown")
                ));
                m.confidence = 1.0 - (1.0 - m.confidence) * (1.0 - POOL_WEIGHT);
                if m.coin.is_none() {
                    m.coin = o.coin;
                    if o.coin.is_some() {
                        m.coin_source = Some("probe".into());
                    }
                }
            }
            Verdict::NotPool => {
                m.evidence.push("probe:not-pool".into());
                m.confidence *= NOT_POOL_FACTOR;
            }
            Verdict::Unreachable => m.evidence.push("probe:unreachable".into()),
        }
        // When it was asked, and in the server's own words: what an inspector cites.
        m.evidence.push(format!("probe:at:{}", o.at.to_rfc3339()));
        if o.verdict != Verdict::Unreachable && !o.answer.is_empty() {
            let cut: String = o.answer.chars().take(ANSWER_IN_EVIDENCE).collect();
            m.evidence.push(format!("probe:answer:{cut}"));
        }
        c.detections += 1;
    }
    (c, outcomes)
}

/// Removes the behaviour-only detections that no probe confirmed as talking to a pool
/// (`not-pool`, `unreachable`, or not probed), and returns them. With confirmation on, a
/// behaviour alarm reaches a case only with a confirmed pool or a second kind of evidence (a
/// list finding that also behaves is a list detection, not a behaviour-only one).
pub fn withhold_unconfirmed(dets: &mut Vec<Detection>) -> Vec<Detection> {
    let (keep, held): (Vec<Detection>, Vec<Detection>) =
        std::mem::take(dets).into_iter().partition(|d| {
            d.mining.detector != "behaviour"
                || d.mining
                    .evidence
                    .iter()
                    .any(|e| e.starts_with("probe:pool:"))
        });
    *dets = keep;
    held
}

impl Confirmed {
    /// One line of what confirming came to, `withheld` behaviour-only detections held back as
    /// leads (kept in `leads`, when named).
    pub fn summary(&self, withheld: usize, leads: Option<&std::path::Path>) -> String {
        format!(
            "confirmation: {} server(s) probed: {} pool(s), {} not pools, {} unreachable or not allowed; {withheld} behaviour-only detection(s) not confirmed, withheld as leads{}",
            self.servers,
            self.pools,
            self.not_pools,
            self.unreachable,
            leads
                .map(|p| format!(" ({})", p.display()))
                .unwrap_or_default()
        )
    }
}
