//! The output contract of every traffic detector: one [`Detection`] per mining session.
//!
//! Field names follow the Elastic Common Schema where ECS has a field (`source.ip`,
//! `destination.port`, `network.transport`, `event.start`…) so a SIEM can take the JSON lines as
//! they are; what ECS lacks sits under `mining.*`. `docs/DETECTION.md` lists every field, and a
//! test checks that list against what is serialised.

use crate::coin::{Algorithm, Coin};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::net::IpAddr;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Nanoseconds since the Unix epoch, written as RFC 3339 text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// RFC 3339 text with nanoseconds, in UTC.
    pub fn to_rfc3339(self) -> String {
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.0))
            .ok()
            .and_then(|t| t.format(&Rfc3339).ok())
            .unwrap_or_else(|| self.0.to_string())
    }

    /// Seconds (with fraction) between two timestamps.
    pub fn seconds_since(self, earlier: Timestamp) -> f64 {
        (self.0 - earlier.0) as f64 / 1e9
    }
}

impl Timestamp {
    /// Parses an RFC 3339 time (`2024-03-01T00:00:00Z`).
    pub fn parse_rfc3339(s: &str) -> Option<Timestamp> {
        let t = OffsetDateTime::parse(s.trim(), &Rfc3339).ok()?;
        i64::try_from(t.unix_timestamp_nanos()).ok().map(Timestamp)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_rfc3339())
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let t = OffsetDateTime::parse(&s, &Rfc3339).map_err(serde::de::Error::custom)?;
        i64::try_from(t.unix_timestamp_nanos())
            .map(Timestamp)
            .map_err(serde::de::Error::custom)
    }
}

/// One mining session found in traffic.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Detection {
    /// When the session was first seen (ECS `@timestamp`).
    #[serde(rename = "@timestamp")]
    pub timestamp: Timestamp,
    /// ECS `event.*`: what kind of record this is and when the session ran.
    pub event: Event,
    /// The miner's side of the connection.
    pub source: Endpoint,
    /// The pool's (or node's) side of the connection.
    pub destination: Endpoint,
    /// ECS `network.*`.
    pub network: Network,
    /// What was mined, how, by whom.
    pub mining: MiningFacts,
    /// Where in the input the session was read.
    pub input: Input,
}

/// ECS `event.*` fields.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Always `alert`.
    pub kind: String,
    /// ECS categories: `network`, `intrusion_detection`.
    pub category: Vec<String>,
    /// ECS type: `connection`.
    #[serde(rename = "type")]
    pub kind_type: Vec<String>,
    /// `minewatch.scan` for capture scans.
    pub dataset: String,
    /// First packet of the session.
    pub start: Timestamp,
    /// Last packet of the session.
    pub end: Timestamp,
    /// `end - start` in nanoseconds.
    pub duration: i64,
}

/// One end of a connection with its traffic counters (ECS `source` / `destination`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Endpoint {
    /// IP address.
    pub ip: IpAddr,
    /// TCP or UDP port.
    pub port: u16,
    /// Packets sent by this end.
    pub packets: u64,
    /// Bytes sent by this end (IP packet lengths as captured on the wire).
    pub bytes: u64,
}

/// Packet and byte counters of one direction.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Traffic {
    /// Packets.
    pub packets: u64,
    /// Bytes.
    pub bytes: u64,
}

/// ECS `network.*` fields.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Network {
    /// `tcp` or `udp`.
    pub transport: String,
    /// Application protocol: `stratum`, `http`.
    pub protocol: String,
    /// VLAN ids or tunnel kinds the packets were carried in, outermost first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub encapsulation: Vec<String>,
}

/// Shares seen in a session.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shares {
    /// Shares the miner sent.
    pub submitted: u64,
    /// Shares the pool accepted.
    pub accepted: u64,
    /// Shares the pool rejected.
    pub rejected: u64,
}

/// A difficulty or target in force from a time on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DifficultyChange {
    /// When the pool set it.
    pub at: Timestamp,
    /// Expected hashes (solutions for Equihash) per share under it.
    pub hashes_per_share: f64,
    /// As the pool sent it: a number, or a target in hex.
    pub raw: String,
}

/// What the session says about mining (the `mining.*` fields).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MiningFacts {
    /// Which detector found it: `stratum`, `getwork`, `stratum-v2`, `pool-*`, `browser-miner`, `behaviour`.
    pub detector: String,
    /// Wire protocol: `stratum-v1`, `stratum-v2`, `getwork`, `getblocktemplate`.
    pub protocol: String,
    /// Dialect: `bitcoin`, `equihash`, `ethereumstratum`, `eth-proxy`, `cryptonote`, `getwork`,
    /// `getblocktemplate`.
    pub dialect: String,
    /// The coin, when knowable.
    pub coin: Option<Coin>,
    /// How the coin was inferred: `algo-field`, `dialect`, `job-shape`, `wallet`, `pool-host`…
    pub coin_source: Option<String>,
    /// The proof-of-work algorithm, when knowable.
    pub algorithm: Option<Algorithm>,
    /// The pool as the miner named it (host[:port]) when the protocol carries it, else the
    /// server's address.
    pub pool: Option<String>,
    /// The worker name (the part after the account or wallet in the login).
    pub worker: Option<String>,
    /// The login as sent (account, wallet and worker, as the miner typed them).
    pub login: Option<String>,
    /// A payout wallet whose checksum verified.
    pub wallet: Option<String>,
    /// The coin the wallet's format implies.
    pub wallet_coin: Option<Coin>,
    /// The miner software as it announced itself (agent, subscribe string, User-Agent).
    pub agent: Option<String>,
    /// Difficulty and target history, oldest first (bounded).
    pub difficulty: Vec<DifficultyChange>,
    /// Share counts.
    pub shares: Shares,
    /// Estimated hash rate from accepted (or, without replies, submitted) shares, H/s.
    pub hashrate_hs: Option<f64>,
    /// Hash rate the miner claimed itself (eth_submitHashrate, X-Mining-Hashrate), H/s.
    pub hashrate_claimed_hs: Option<f64>,
    /// Estimated power draw, best guess, W.
    pub power_w: Option<f64>,
    /// Lower bound of the power draw, W.
    pub power_w_low: Option<f64>,
    /// Upper bound of the power draw, W.
    pub power_w_high: Option<f64>,
    /// How sure the detector is, 0..=1.
    pub confidence: f32,
    /// What matched, one short code each (`method:mining.subscribe`, `server-push:notify`…).
    pub evidence: Vec<String>,
    /// True when the capture holds no start of the session (no handshake or login seen).
    pub mid_session: bool,
}

/// Where a detection was read from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Input {
    /// The capture file.
    pub file: String,
    /// 1-based number of the session's first packet in that file.
    pub first_packet: u64,
}

/// The CSV columns of `minewatch scan --format csv`, in order: the JSON line's members that a
/// table can hold, named by their JSON paths (docs/DETECTION.md).
pub const CSV_COLUMNS: [&str; 33] = [
    "@timestamp",
    "source.ip",
    "source.port",
    "source.packets",
    "source.bytes",
    "destination.ip",
    "destination.port",
    "destination.packets",
    "destination.bytes",
    "network.transport",
    "network.protocol",
    "event.start",
    "event.end",
    "mining.detector",
    "mining.protocol",
    "mining.dialect",
    "mining.coin",
    "mining.coin_source",
    "mining.algorithm",
    "mining.pool",
    "mining.worker",
    "mining.login",
    "mining.wallet",
    "mining.wallet_coin",
    "mining.agent",
    "mining.shares",
    "mining.hashrate_hs",
    "mining.hashrate_claimed_hs",
    "mining.power_w",
    "mining.confidence",
    "mining.mid_session",
    "mining.evidence",
    "input.file",
];

impl Detection {
    /// The cells of this detection under [`CSV_COLUMNS`].
    pub fn csv_cells(&self) -> Vec<String> {
        let opt = |v: Option<String>| v.unwrap_or_default();
        let num = |v: Option<f64>| v.map(|x| format!("{x:.0}")).unwrap_or_default();
        let (d, m) = (self, &self.mining);
        let ends = [&d.source, &d.destination].into_iter().flat_map(|e| {
            [
                e.ip.to_string(),
                e.port.to_string(),
                e.packets.to_string(),
                e.bytes.to_string(),
            ]
        });
        let mut cells = vec![d.timestamp.to_rfc3339()];
        cells.extend(ends);
        cells.extend([
            d.network.transport.clone(),
            d.network.protocol.clone(),
            d.event.start.to_rfc3339(),
            d.event.end.to_rfc3339(),
            m.detector.clone(),
            m.protocol.clone(),
            m.dialect.clone(),
            opt(m.coin.map(|c| c.to_string())),
            opt(m.coin_source.clone()),
            opt(m.algorithm.map(|a| a.to_string())),
            opt(m.pool.clone()),
            opt(m.worker.clone()),
            opt(m.login.clone()),
            opt(m.wallet.clone()),
            opt(m.wallet_coin.map(|c| c.to_string())),
            opt(m.agent.clone()),
            format!(
                "{}/{}/{}",
                m.shares.submitted, m.shares.accepted, m.shares.rejected
            ),
            num(m.hashrate_hs),
            num(m.hashrate_claimed_hs),
            num(m.power_w),
            format!("{:.3}", m.confidence),
            m.mid_session.to_string(),
            m.evidence.join(";"),
            d.input.file.clone(),
        ]);
        cells
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_rfc3339_with_nanoseconds() {
        let t = Timestamp(1_500_000_000_123_456_789);
        assert_eq!(t.to_rfc3339(), "2017-07-14T02:40:00.123456789Z");
        let back: Timestamp = serde_json::from_str(&serde_json::to_string(&t).unwrap()).unwrap();
        assert_eq!(back, t);
    }
}
