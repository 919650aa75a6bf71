//! Detections as a person reads them at a terminal: a row per mining session, then a row per
//! mining host (what each machine does in all).
//!
//! The JSON line and the CSV row carry every member ([`crate::detection::CSV_COLUMNS`]); a
//! table shortens names and writes rates and power with their units.

use crate::coin::Algorithm;
use crate::detection::Detection;
use crate::units::{HashRate, Watts};
use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};

/// The columns of [`Detection::table_cells`].
pub const SESSION_TABLE: [&str; 11] = [
    "start (UTC)",
    "miner",
    "pool",
    "dialect",
    "coin",
    "worker / wallet",
    "agent",
    "shares s/a/r",
    "hashrate",
    "power",
    "conf",
];

/// The columns of [`Host::table_cells`].
pub const HOST_TABLE: [&str; 6] = [
    "miner host",
    "sessions",
    "pools",
    "coins",
    "hashrate (sum)",
    "power (sum)",
];

/// `s` cut to `n` characters, the last an ellipsis when cut.
fn short(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let head: String = s.chars().take(n.saturating_sub(1)).collect();
        format!("{head}…")
    }
}

/// Hash rate with its unit; Equihash counts solutions.
fn rate_text(h: f64, algo: Option<Algorithm>) -> String {
    let t = HashRate(h).to_string();
    if algo == Some(Algorithm::Equihash) {
        t.replace("H/s", "Sol/s")
    } else {
        t
    }
}

impl Detection {
    /// The pool as named, and its address when the name is not the address.
    fn pool_cell(&self) -> String {
        let addr = SocketAddr::new(self.destination.ip, self.destination.port).to_string();
        match self.mining.pool.as_deref() {
            Some(p) if p != addr => format!("{}\n{addr}", short(p, 28)),
            _ => addr,
        }
    }

    /// The cells of this session under [`SESSION_TABLE`].
    pub fn table_cells(&self) -> Vec<String> {
        let m = &self.mining;
        let who = match (&m.worker, &m.wallet) {
            (Some(wk), Some(wl)) => format!("{} / {}", short(wk, 16), short(wl, 14)),
            (Some(wk), None) => short(wk, 24),
            (None, Some(wl)) => short(wl, 24),
            (None, None) => short(m.login.as_deref().unwrap_or(""), 24),
        };
        let start = self.event.start.to_rfc3339();
        vec![
            start.get(..19).unwrap_or(&start).replace('T', " "),
            SocketAddr::new(self.source.ip, self.source.port).to_string(),
            self.pool_cell(),
            m.dialect.clone(),
            m.coin.map(|c| c.to_string()).unwrap_or_default(),
            who,
            short(m.agent.as_deref().unwrap_or(""), 20),
            format!(
                "{}/{}/{}",
                m.shares.submitted, m.shares.accepted, m.shares.rejected
            ),
            m.hashrate_hs
                .map(|h| rate_text(h, m.algorithm))
                .unwrap_or_default(),
            m.power_w.map(|p| Watts(p).to_string()).unwrap_or_default(),
            format!("{:.2}", m.confidence),
        ]
    }
}

/// What one mining host does in all.
#[derive(Clone, Debug, Default)]
pub struct Host {
    /// The host.
    pub ip: Option<IpAddr>,
    /// Its sessions.
    pub sessions: usize,
    /// Pools, in order of first session.
    pub pools: Vec<String>,
    /// Coins, in order of first session.
    pub coins: Vec<String>,
    /// Summed hash rate of its sessions while they mine one coin.
    pub hashrate: f64,
    /// The algorithm of that rate.
    pub algorithm: Option<Algorithm>,
    /// Summed power, watts.
    pub power: f64,
}

impl Host {
    /// The cells of this host under [`HOST_TABLE`]; the rate is left out when the host
    /// mines several coins (their rates do not add).
    pub fn table_cells(&self) -> Vec<String> {
        vec![
            self.ip.map(|i| i.to_string()).unwrap_or_default(),
            self.sessions.to_string(),
            self.pools.join("\n"),
            self.coins.join(", "),
            if self.coins.len() > 1 {
                "(several coins)".to_string()
            } else if self.hashrate > 0.0 {
                rate_text(self.hashrate, self.algorithm)
            } else {
                String::new()
            },
            if self.power > 0.0 {
                Watts(self.power).to_string()
            } else {
                String::new()
            },
        ]
    }
}

/// The sessions summed per client host, in address order.
pub fn by_host(ds: &[Detection]) -> Vec<Host> {
    let mut hosts: BTreeMap<IpAddr, Host> = BTreeMap::new();
    for d in ds {
        let h = hosts.entry(d.source.ip).or_default();
        h.ip = Some(d.source.ip);
        h.sessions += 1;
        let pool = d.mining.pool.clone().unwrap_or_default();
        if !h.pools.contains(&pool) {
            h.pools.push(pool);
        }
        let coin = d.mining.coin.map(|c| c.to_string()).unwrap_or_default();
        if !coin.is_empty() && !h.coins.contains(&coin) {
            h.coins.push(coin);
        }
        if h.coins.len() <= 1 {
            h.hashrate += d.mining.hashrate_hs.unwrap_or(0.0);
            h.algorithm = d.mining.algorithm;
        }
        h.power += d.mining.power_w.unwrap_or(0.0);
    }
    hosts.into_values().collect()
}
