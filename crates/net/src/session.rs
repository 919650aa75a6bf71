//! What one connection says about mining, added up message by message.
//!
//! A [`Session`] takes [`Signal`]s from either direction and keeps bounded state: which side is
//! the miner, the dialect, login, agent, difficulty in force, shares and their replies. At the
//! end it becomes the facts of a [`Detection`](minewatch_model::Detection).

use crate::pair;
use crate::proto::http::Head;
use crate::proto::stratum::parser::Id;
use crate::proto::stratum::signal::{Dialect, NotifyShape, Signal};
use minewatch_intel::split_login;
use minewatch_model::detection::{DifficultyChange, Shares, Timestamp};
use minewatch_model::units::{HashRate, be_bytes_to_f64, hashes_for_target_be};
use minewatch_model::{Algorithm, Coin, MiningFacts, PowerEstimate};
use std::collections::VecDeque;

/// Monero's switch to RandomX, 2019-11-30T00:00:00Z, in ns since the epoch.
const RANDOMX_FORK: i64 = 1_575_072_000 * 1_000_000_000;

/// Confidence at which a session counts as mining.
pub const REPORT_THRESHOLD: f32 = 0.8;
const MAX_EVIDENCE: usize = 32;
const MAX_HISTORY: usize = 32;
const MAX_PENDING: usize = 256;
const MAX_NONCES: usize = 64;
const MAX_TEXT: usize = 256;

/// How much work one share stands for, in the unit the pool stated it.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Work {
    /// A Stratum difficulty: hashes = difficulty × 2^32 (SHA-256, Ethash) or × 2^16 (Scrypt).
    Difficulty(f64),
    /// Already hashes (targets: 2^256 / target; CryptoNote difficulty).
    Hashes(f64),
}

/// Accumulated mining facts of one connection. Side 0 and 1 are the flow's two endpoints.
#[derive(Debug, Default)]
pub struct Session {
    /// Evidence codes with their weights; borrowed where static (all but unknown `mining.*`
    /// methods): owning each was an allocation for every code of every session.
    codes: Vec<(std::borrow::Cow<'static, str>, f32)>,
    /// Whether `codes` reach [`REPORT_THRESHOLD`], kept as they change (exact: the confidence
    /// only grows): the inspector asks at every packet of a flow, and folding the codes each
    /// time was 5 % of a scan of real traffic's CPU time (docs/PERFORMANCE.md, session 24).
    mining: bool,
    dialect_votes: Vec<(Dialect, u32)>,
    miner_votes: [u32; 2],
    handshake: bool,
    agent: Option<String>,
    login: Option<String>,
    worker: Option<String>,
    pool_host: Option<String>,
    algo_hint: Option<String>,
    work: Option<Work>,
    pending_work: Option<Work>,
    history: Vec<DifficultyChange>,
    history_dropped: u64,
    pending: VecDeque<(Id, Work)>,
    shares: Shares,
    submitted_work: Vec<Work>,
    accepted_work: Vec<Work>,
    nonces: VecDeque<(String, String)>,
    orphan_replies: VecDeque<(Id, bool)>,
    claimed: Option<f64>,
    bip34: Option<(u64, u32)>,
    witness_commitment: bool,
    coinbase_tags: Vec<String>,
    /// The last target text read and what it came to: eth-proxy miners poll `eth_getWork`
    /// every second or so and the boundary rarely changes, and decoding it each time was a few
    /// per cent of a scan of real traffic (docs/PERFORMANCE.md).
    last_target: Option<(String, Option<f64>)>,
}

fn clip(s: &str) -> String {
    let mut end = s.len().min(MAX_TEXT);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_string()
}

fn target_hashes_be_hex(hex_text: &str) -> Option<f64> {
    let h = hex_text.trim_start_matches("0x");
    let bytes = hex::decode(h).ok()?;
    if bytes.len() > 32 || bytes.is_empty() {
        return None;
    }
    let mut t = [0u8; 32];
    t.get_mut(32 - bytes.len()..)?.copy_from_slice(&bytes);
    hashes_for_target_be(&t)
}

/// CryptoNote targets are little-endian 32- or 64-bit; difficulty = max / target (docs/FACTS.md §N2).
fn cryptonote_hashes(target: &str) -> Option<f64> {
    let bytes = hex::decode(target).ok()?;
    let (num, max) = match bytes.len() {
        4 => (
            u64::from(u32::from_le_bytes(bytes.try_into().ok()?)),
            f64::from(u32::MAX),
        ),
        8 => (u64::from_le_bytes(bytes.try_into().ok()?), u64::MAX as f64),
        _ => return None,
    };
    (num > 0).then(|| max / num as f64)
}

/// getwork targets are 256-bit little-endian hex.
fn getwork_hashes(target: &str) -> Option<f64> {
    let mut bytes = hex::decode(target).ok()?;
    if bytes.len() != 32 {
        return None;
    }
    bytes.reverse();
    let t = be_bytes_to_f64(&bytes);
    (t > 0.0).then(|| 2f64.powi(256) / t)
}

impl Session {
    /// Records a signal sent by side `from` (0 or 1) at `ts`.
    pub fn apply(&mut self, from: usize, sig: &Signal, ts: i64) {
        if matches!(sig, Signal::Reply { .. }) {
            // Answers count only for the shares they answer (see `replied`).
            return;
        }
        self.note(sig.code(), sig.weight());
        if let Some(d) = sig.dialect() {
            self.vote(d);
        }
        match sig.from_miner() {
            Some(true) => *pair::of_mut(&mut self.miner_votes, from) += 1,
            Some(false) => *pair::of_mut(&mut self.miner_votes, pair::other(from)) += 1,
            None => {}
        }
        match sig {
            Signal::Subscribe {
                agent, host, port, ..
            } => {
                self.handshake = true;
                if let Some(a) = agent.as_deref().filter(|a| !a.is_empty()) {
                    self.agent.get_or_insert_with(|| clip(a));
                }
                if let Some(h) = host.as_deref().filter(|h| !h.is_empty()) {
                    let p = port.as_deref().map(|p| format!(":{p}")).unwrap_or_default();
                    self.pool_host = Some(clip(&format!("{h}{p}")));
                }
            }
            Signal::Authorize { user } | Signal::EthSubmitLogin { login: user, .. } => {
                self.handshake = true;
                self.login.get_or_insert_with(|| clip(user));
                if let Signal::EthSubmitLogin {
                    worker: Some(w), ..
                } = sig
                {
                    self.worker.get_or_insert_with(|| clip(w));
                }
            }
            Signal::Configure | Signal::ExtranonceSubscribe | Signal::SubscribeReply { .. } => {
                self.handshake = true
            }
            Signal::SetDifficulty(d) if *d > 0.0 && d.is_finite() => {
                self.set_work(Work::Difficulty(*d), ts, &d.to_string(), true);
            }
            Signal::SetTarget(t) => {
                if let Some(h) = self.target_hashes(t) {
                    self.set_work(Work::Hashes(h), ts, t, true);
                }
            }
            Signal::Notify {
                shape,
                coinb1,
                coinb2,
                ntime,
            } => {
                if let Some(w) = self.pending_work.take() {
                    self.work = Some(w);
                }
                if *shape == NotifyShape::Bitcoin {
                    self.read_coinbase(coinb1.as_deref(), coinb2.as_deref(), ntime.as_deref());
                }
            }
            Signal::Submit { worker, .. } if !worker.is_empty() => {
                self.login.get_or_insert_with(|| clip(worker));
            }
            Signal::EthWork { boundary, .. } => {
                if let Some(h) = self.target_hashes(boundary) {
                    self.set_work(Work::Hashes(h), ts, boundary, false);
                }
            }
            Signal::EthSubmitHashrate(Some(h)) => self.claimed = Some(*h),
            Signal::CnLogin {
                login,
                agent,
                algos,
                rigid,
                ..
            } => {
                self.handshake = true;
                self.login.get_or_insert_with(|| clip(login));
                if let Some(a) = agent {
                    self.agent.get_or_insert_with(|| clip(a));
                }
                if let Some(r) = rigid {
                    self.worker.get_or_insert_with(|| clip(r));
                }
                if let [algo] = &algos[..] {
                    self.algo_hint.get_or_insert_with(|| clip(algo));
                }
            }
            Signal::CnJob { target, algo, .. } => {
                if let Some(a) = algo {
                    self.algo_hint = Some(clip(a));
                }
                if let Some(h) = cryptonote_hashes(target) {
                    self.set_work(Work::Hashes(h), ts, target, false);
                }
            }
            Signal::Sv2Setup { device, endpoint } => {
                self.handshake = true;
                if !device.is_empty() {
                    self.agent.get_or_insert_with(|| clip(device));
                }
                self.pool_host.get_or_insert_with(|| clip(endpoint));
            }
            Signal::Sv2OpenChannel { user, nominal } => {
                self.handshake = true;
                self.login.get_or_insert_with(|| clip(user));
                if *nominal > 0.0 {
                    self.claimed = Some(*nominal);
                }
            }
            Signal::Sv2Target(t) => {
                if let Some(h) = hashes_for_target_be(t) {
                    self.set_work(Work::Hashes(h), ts, &hex::encode(t), false);
                }
            }
            Signal::Sv2Accepted(n) => {
                // One answer covers several submissions, oldest first.
                for _ in 0..*n {
                    let Some((_, w)) = self.pending.pop_front() else {
                        break;
                    };
                    self.count_reply(true, w);
                }
            }
            Signal::Sv2Rejected => {
                if let Some((_, w)) = self.pending.pop_front() {
                    self.count_reply(false, w);
                }
            }
            Signal::GetworkReply { target: Some(t) } => {
                if let Some(h) = getwork_hashes(t) {
                    self.set_work(Work::Hashes(h), ts, t, false);
                }
            }
            _ => {}
        }
    }

    /// Records a share submission with its request id.
    pub fn submitted(&mut self, sig: &Signal, id: &Id) {
        if let Signal::CnSubmit { job_id, nonce } = sig {
            // xmr-stak resends the same nonce several times (docs/FACTS.md §N2): count it once.
            let key = (clip(job_id), clip(nonce));
            if self.nonces.contains(&key) {
                return;
            }
            if self.nonces.len() >= MAX_NONCES {
                self.nonces.pop_front();
            }
            self.nonces.push_back(key);
        }
        self.shares.submitted += 1;
        let work = self.work.or(self.pending_work);
        if let Some(w) = work {
            self.submitted_work_push(w);
        }
        // The answer may have been read first (the other direction ran ahead past a loss).
        if let Some(i) = self.orphan_replies.iter().position(|(rid, _)| rid == id) {
            let (_, ok) = self.orphan_replies.remove(i).unwrap_or((Id::Absent, false));
            self.count_reply(ok, work.unwrap_or(Work::Hashes(0.0)));
            return;
        }
        if self.pending.len() >= MAX_PENDING {
            self.pending.pop_front();
        }
        self.pending
            .push_back((id.clone(), work.unwrap_or(Work::Hashes(0.0))));
    }

    fn submitted_work_push(&mut self, w: Work) {
        // Summed per kind at once, so memory does not grow with the share count.
        add_work(&mut self.submitted_work, w);
    }

    /// Records a reply; counts it when it answers a pending share.
    pub fn replied(&mut self, id: &Id, ok: bool) {
        if matches!(id, Id::Absent | Id::Null) {
            return;
        }
        if let Some(i) = self.pending.iter().position(|(pid, _)| pid == id) {
            let (_, w) = self
                .pending
                .remove(i)
                .unwrap_or((Id::Absent, Work::Hashes(0.0)));
            self.count_reply(ok, w);
        } else if self.handshake || self.shares.submitted > 0 {
            if self.orphan_replies.len() >= MAX_PENDING {
                self.orphan_replies.pop_front();
            }
            self.orphan_replies.push_back((id.clone(), ok));
        }
    }

    fn count_reply(&mut self, ok: bool, w: Work) {
        if ok {
            self.shares.accepted += 1;
            add_work(&mut self.accepted_work, w);
            self.note("reply:accepted".into(), 0.0);
        } else {
            self.shares.rejected += 1;
            self.note("reply:rejected".into(), 0.0);
        }
    }

    /// Records the mining-relevant parts of an HTTP head sent by side `from`.
    pub fn apply_http(&mut self, from: usize, head: &Head) {
        if head.request {
            if let Some(ext) = &head.mining_extensions {
                self.note("header:x-mining-extensions".into(), 0.9);
                *pair::of_mut(&mut self.miner_votes, from) += 1;
                let _ = ext;
            }
            if let Some(h) = head.mining_hashrate {
                self.note("header:x-mining-hashrate".into(), 0.85);
                self.claimed = Some(h);
            }
            if let Some(host) = &head.host {
                self.pool_host.get_or_insert_with(|| clip(host));
            }
            if let Some(ua) = &head.user_agent {
                self.agent.get_or_insert_with(|| clip(ua));
            }
            if let Some(u) = &head.basic_user {
                self.login.get_or_insert_with(|| clip(u));
            }
        } else {
            for h in &head.pool_headers {
                self.note(format!("header:{h}").into(), 0.6);
            }
        }
    }

    /// [`target_hashes_be_hex`], remembering the last text.
    fn target_hashes(&mut self, text: &str) -> Option<f64> {
        if let Some((t, h)) = &self.last_target
            && t == text
        {
            return *h;
        }
        let h = target_hashes_be_hex(text);
        self.last_target = Some((text.chars().take(MAX_TEXT).collect(), h));
        h
    }

    fn set_work(&mut self, w: Work, ts: i64, raw: &str, next_job: bool) {
        // set_difficulty and set_target apply to the next job (NiceHash spec, ZIP 301); work
        // packages and CryptoNote jobs carry their own target and apply at once.
        if next_job && self.work.is_some() {
            self.pending_work = Some(w);
        } else {
            self.work = Some(w);
        }
        let hashes = match w {
            Work::Difficulty(d) => d,
            Work::Hashes(h) => h,
        };
        if self.history.last().is_some_and(|h| h.raw == raw) {
            return;
        }
        if self.history.len() >= MAX_HISTORY {
            // Keep the first half and a sliding second half: the start and the latest matter.
            self.history.remove(MAX_HISTORY / 2);
            self.history_dropped += 1;
        }
        self.history.push(DifficultyChange {
            at: Timestamp(ts),
            hashes_per_share: hashes,
            raw: clip(raw),
        });
    }

    fn note(&mut self, code: std::borrow::Cow<'static, str>, weight: f32) {
        if let Some(e) = self.codes.iter_mut().find(|(c, _)| *c == code) {
            e.1 = e.1.max(weight);
        } else if self.codes.len() < MAX_EVIDENCE {
            self.codes.push((code, weight));
        }
        self.mining = self.confidence() >= REPORT_THRESHOLD;
    }

    fn vote(&mut self, d: Dialect) {
        if let Some(v) = self.dialect_votes.iter_mut().find(|(x, _)| *x == d) {
            v.1 += 1;
        } else {
            self.dialect_votes.push((d, 1));
        }
    }

    fn read_coinbase(&mut self, coinb1: Option<&str>, coinb2: Option<&str>, ntime: Option<&str>) {
        if self.bip34.is_none()
            && let (Some(c1), Some(t)) = (coinb1, ntime)
        {
            let time = u32::from_str_radix(t, 16).ok();
            if let (Some(h), Some(time)) = (bip34_height(c1), time) {
                self.bip34 = Some((h, time));
            }
            if let Ok(bytes) = hex::decode(c1) {
                for tag in ascii_runs(&bytes) {
                    if self.coinbase_tags.len() < 4 && !self.coinbase_tags.contains(&tag) {
                        self.coinbase_tags.push(tag);
                    }
                }
            }
        }
        // BIP 141 witness commitment output script: OP_RETURN 36 aa21a9ed.
        if coinb2.is_some_and(|c| c.contains("6a24aa21a9ed")) {
            self.witness_commitment = true;
        }
    }

    /// The combined confidence: 1 − Π(1 − w) over the distinct evidence seen.
    pub fn confidence(&self) -> f32 {
        1.0 - self
            .codes
            .iter()
            .fold(1.0f32, |acc, (_, w)| acc * (1.0 - w))
    }

    /// True once the evidence reaches the report threshold.
    pub fn is_mining(&self) -> bool {
        self.mining
    }

    /// The side (0 or 1) that behaves as the miner, if the messages tell.
    pub fn miner_side(&self) -> Option<usize> {
        match self.miner_votes {
            [a, b] if a > b => Some(0),
            [a, b] if b > a => Some(1),
            _ => None,
        }
    }

    fn dialect(&self) -> Dialect {
        // The more specific dialects win over plain Bitcoin Stratum, whose methods they share.
        const ORDER: [Dialect; 8] = [
            Dialect::StratumV2,
            Dialect::EthereumStratum,
            Dialect::Equihash,
            Dialect::EthProxy,
            Dialect::CryptoNote,
            Dialect::GetBlockTemplate,
            Dialect::Getwork,
            Dialect::Bitcoin,
        ];
        ORDER
            .iter()
            .copied()
            .find(|d| self.dialect_votes.iter().any(|(x, n)| x == d && *n > 0))
            .unwrap_or(Dialect::Bitcoin)
    }

    /// The session's mining facts; `seconds` is how long it was observed.
    pub fn facts(
        &self,
        started: i64,
        seconds: f64,
        server: String,
        wallet_weight: &mut f32,
    ) -> MiningFacts {
        let dialect = self.dialect();
        let login = self.login.as_deref().map(split_login);
        let wallet = login.as_ref().and_then(|l| l.wallet.clone());
        let (coin, coin_source) = self.infer_coin(dialect, wallet.as_ref().map(|w| w.coin));
        let algorithm = match (
            dialect,
            self.algo_hint
                .as_deref()
                .and_then(Algorithm::from_miner_name),
        ) {
            (_, Some((a, _))) => Some(a),
            (Dialect::Equihash, None) => Some(Algorithm::Equihash),
            // Monero mined CryptoNight until the RandomX fork at height 1,978,433 (2019-11-30).
            (Dialect::CryptoNote, None) if coin == Some(Coin::Xmr) && started < RANDOMX_FORK => {
                Some(Algorithm::CryptoNight)
            }
            _ => coin.map(Coin::algorithm),
        };
        let worker = self
            .worker
            .clone()
            .or_else(|| login.as_ref().and_then(|l| l.worker.clone()));
        let hashrate = self.hashrate(dialect, algorithm, seconds);
        let power = match (algorithm, hashrate) {
            (Some(a), Some(h)) => Some(PowerEstimate::from_hashrate(a, HashRate(h))),
            _ => None,
        };
        let mut evidence: Vec<String> = self.codes.iter().map(|(c, _)| c.to_string()).collect();
        if let Some(w) = &wallet {
            evidence.push(format!("wallet:{}", w.coin));
        }
        for t in &self.coinbase_tags {
            evidence.push(format!("coinbase-tag:{t}"));
        }
        *wallet_weight = if wallet.is_some() { 0.7 } else { 0.0 };
        MiningFacts {
            detector: match dialect {
                Dialect::Getwork | Dialect::GetBlockTemplate => "getwork".into(),
                Dialect::StratumV2 => "stratum-v2".into(),
                _ => "stratum".into(),
            },
            protocol: dialect.protocol().into(),
            dialect: dialect.name().into(),
            coin,
            coin_source: coin_source.map(str::to_string),
            algorithm,
            pool: Some(self.pool_host.clone().unwrap_or(server)),
            worker,
            login: self.login.clone(),
            wallet: wallet.as_ref().map(|w| w.address.clone()),
            wallet_coin: wallet.as_ref().map(|w| w.coin),
            agent: self.agent.clone(),
            difficulty: self.history.clone(),
            shares: self.shares,
            hashrate_hs: hashrate,
            hashrate_claimed_hs: self.claimed,
            power_w: power.map(|p| p.best.0),
            power_w_low: power.map(|p| p.low.0),
            power_w_high: power.map(|p| p.high.0),
            confidence: 0.0,
            evidence,
            mid_session: !self.handshake,
        }
    }

    /// The base confidence plus what a verified wallet adds.
    pub fn confidence_with(&self, extra: f32) -> f32 {
        1.0 - (1.0 - self.confidence()) * (1.0 - extra)
    }

    fn infer_coin(
        &self,
        dialect: Dialect,
        wallet: Option<Coin>,
    ) -> (Option<Coin>, Option<&'static str>) {
        if let Some((_, Some(c))) = self
            .algo_hint
            .as_deref()
            .and_then(Algorithm::from_miner_name)
        {
            return (Some(c), Some("algo-field"));
        }
        let fits = |c: Coin| match dialect {
            Dialect::Equihash => c.algorithm() == Algorithm::Equihash,
            Dialect::EthereumStratum | Dialect::EthProxy => matches!(c, Coin::Eth | Coin::Etc),
            Dialect::CryptoNote => matches!(c.algorithm(), Algorithm::RandomX),
            _ => true,
        };
        let host_coin = self
            .pool_host
            .as_deref()
            .and_then(coin_from_host)
            .filter(|c| fits(*c));
        if let Some(c) = wallet.filter(|c| fits(*c)) {
            // Ethereum hex fits ETH and ETC alike; a pool name can tell them apart.
            if let Some(h) = host_coin.filter(|h| *h == Coin::Etc && c == Coin::Eth) {
                return (Some(h), Some("pool-host"));
            }
            return (Some(c), Some("wallet"));
        }
        if let Some(c) = host_coin {
            return (Some(c), Some("pool-host"));
        }
        if let Some((height, time)) = self.bip34
            && let Some(c) = coin_from_height(height, time)
        {
            return (Some(c), Some("job-shape"));
        }
        match dialect {
            Dialect::Equihash => (Some(Coin::Zec), Some("dialect")),
            Dialect::EthereumStratum | Dialect::EthProxy => (Some(Coin::Eth), Some("dialect")),
            Dialect::CryptoNote => (Some(Coin::Xmr), Some("dialect")),
            // SV2 is Bitcoin's successor protocol; no other coin runs it in production.
            Dialect::Getwork | Dialect::GetBlockTemplate | Dialect::StratumV2 => {
                (Some(Coin::Btc), Some("dialect"))
            }
            // Coinbases before BIP 34 (2013) carry no height; Bitcoin is then by far the likeliest.
            Dialect::Bitcoin => (Some(Coin::Btc), Some("dialect")),
        }
    }

    fn hashrate(&self, dialect: Dialect, algo: Option<Algorithm>, seconds: f64) -> Option<f64> {
        if seconds < 1.0 {
            return None;
        }
        // Work submitted, scaled by the share of answered submissions the pool accepted: with
        // every answer captured this is the accepted work; with answers lost (a lossy or
        // one-sided capture) it does not shrink with the losses.
        let answered = self.shares.accepted + self.shares.rejected;
        let (work, scale) = if self.submitted_work.is_empty() {
            (&self.accepted_work, 1.0)
        } else if answered > 0 {
            (
                &self.submitted_work,
                self.shares.accepted as f64 / answered as f64,
            )
        } else {
            (&self.submitted_work, 1.0)
        };
        if work.is_empty() {
            return None;
        }
        // Difficulty 1 is 2^32 hashes for SHA-256 Stratum and NiceHash EthereumStratum;
        // Scrypt pools scale it by 2^16 (docs/FACTS.md §N4).
        let diff_one = match (dialect, algo) {
            (_, Some(Algorithm::Scrypt)) => 65_536.0,
            _ => 4_294_967_296.0,
        };
        let total: f64 = work
            .iter()
            .map(|w| match w {
                Work::Difficulty(d) => d * diff_one,
                Work::Hashes(h) => *h,
            })
            .sum();
        let total = total * scale;
        (total > 0.0).then_some(total / seconds)
    }
}

fn add_work(list: &mut Vec<Work>, w: Work) {
    for e in list.iter_mut() {
        match (e, w) {
            (Work::Difficulty(a), Work::Difficulty(b)) => {
                *a += b;
                return;
            }
            (Work::Hashes(a), Work::Hashes(b)) => {
                *a += b;
                return;
            }
            _ => {}
        }
    }
    list.push(w);
}

/// The coin a pool host name suggests, from the coin words pools put in their names
/// (`eu1-zcash.flypool.org`, `xmr.nanopool.org`, `etc.2miners.com`).
pub fn coin_from_host(host: &str) -> Option<Coin> {
    let host = host.split(':').next().unwrap_or(host).to_ascii_lowercase();
    let words: Vec<&str> = host.split(['.', '-', '_']).collect();
    let has = |w: &[&str]| {
        words.iter().any(|x| {
            w.iter()
                .any(|y| x.trim_end_matches(|c: char| c.is_ascii_digit()) == *y)
        })
    };
    const TABLE: [(&[&str], Coin); 12] = [
        (&["zec", "zcash"], Coin::Zec),
        (&["zen", "horizen"], Coin::Zen),
        (&["xmr", "monero"], Coin::Xmr),
        (&["etc", "etchash"], Coin::Etc),
        (&["eth", "ethash", "ethereum"], Coin::Eth),
        (&["ltc", "litecoin"], Coin::Ltc),
        (&["doge", "dogecoin"], Coin::Doge),
        (&["bch"], Coin::Bch),
        (&["btc", "bitcoin"], Coin::Btc),
        (&["rvn", "ravencoin"], Coin::Rvn),
        (&["kas", "kaspa"], Coin::Kas),
        (&["erg", "ergo"], Coin::Erg),
    ];
    TABLE.iter().find(|(w, _)| has(w)).map(|(_, c)| *c)
}

/// The block height a Bitcoin-family coinbase commits to (BIP 34: the first push of the
/// coinbase script), from the first coinbase half of a `mining.notify`.
pub fn bip34_height(coinb1_hex: &str) -> Option<u64> {
    let b = hex::decode(coinb1_hex.get(..100.min(coinb1_hex.len()) & !1)?).ok()?;
    // version(4) | input count(1) = 1 | prevout hash(32) = 0 | index(4) = ffffffff | script len | push
    if b.get(4) != Some(&1) || b.get(37..41) != Some(&[0xff; 4][..]) {
        return None;
    }
    let n = usize::from(*b.get(42)?);
    if !(1..=8).contains(&n) {
        return None;
    }
    let digits = b.get(43..43 + n)?;
    Some(
        digits
            .iter()
            .rev()
            .fold(0u64, |a, &d| (a << 8) | u64::from(d)),
    )
}

/// Printable runs of 4 or more bytes in a coinbase half: pool tags such as `/slush/`.
fn ascii_runs(b: &[u8]) -> Vec<String> {
    b.split(|c| !(0x20..0x7f).contains(c))
        // Tags are usually slash-delimited; bytes before the first slash are often push data.
        .map(|r| {
            r.iter()
                .position(|&c| c == b'/')
                .and_then(|i| r.get(i..))
                .unwrap_or(r)
        })
        .filter(|r| r.len() >= 4)
        .map(|r| String::from_utf8_lossy(r).into_owned())
        .take(4)
        .collect()
}

/// The coin whose chain had about `height` blocks at `time`. Each chain's height grows from its
/// genesis at its block interval; the factors correct for the drift seen on the real chains
/// (blocks came faster than the target while hash rate grew).
pub fn coin_from_height(height: u64, time: u32) -> Option<Coin> {
    // (coin, genesis time, seconds per block, observed/ideal drift)
    const CHAINS: [(Coin, f64, f64, f64); 4] = [
        (Coin::Btc, 1_231_006_505.0, 600.0, 1.05),
        (Coin::Ltc, 1_317_972_665.0, 150.0, 1.01),
        (Coin::Doge, 1_386_325_540.0, 60.0, 0.95),
        (Coin::Dash, 1_390_095_618.0, 150.0, 0.95),
    ];
    let t = f64::from(time);
    CHAINS
        .iter()
        .filter(|(_, g, _, _)| t > *g)
        .map(|(c, g, s, k)| (*c, ((height as f64) / ((t - g) / s * k)).ln().abs()))
        .filter(|(_, e)| *e < 0.08)
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(c, _)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cryptonote_targets_from_real_captures() {
        // docs/FACTS.md §N2: dc460300 → 20,000; 69ba0000 → 90,000; 711b0d00 → 5,000.
        for (t, d) in [
            ("dc460300", 20_000.0),
            ("69ba0000", 90_000.0),
            ("711b0d00", 5_000.0),
        ] {
            let h = cryptonote_hashes(t).unwrap();
            assert!((h - d).abs() / d < 1e-3, "{t}: {h}");
        }
    }

    #[test]
    fn equihash_and_ethash_targets() {
        // docs/FACTS.md §N4: flypool 0004189374bc… → 16,000 solutions; nanopool boundary
        // 0x00000000dbe6fece… → 5.0e9 hashes.
        let z = target_hashes_be_hex(
            "0004189374bc6a7ef9db22d0e5604189374bc6a7ef9db22d0e5604189374bc6a",
        )
        .unwrap();
        assert!((z - 16_000.0).abs() < 1.0, "{z}");
        let e = target_hashes_be_hex(
            "0x00000000dbe6fecebdedd5beb573440e5a884d1b2fbf06fcce912adcb8d8422e",
        )
        .unwrap();
        assert!((e / 5.0e9 - 1.0).abs() < 0.01, "{e}");
    }

    #[test]
    fn bip34_height_and_coin_from_it() {
        // Coinbase of a 2012 slush job (height 0x086202 = 156,168... as pushed: 02 0862 → 0x6208).
        let c1 = "01000000010000000000000000000000000000000000000000000000000000000000000000ffffffff20020862062f503253482f04b8864e5008";
        assert_eq!(bip34_height(c1), Some(0x6208));
        // Bitcoin block 300,000 was mined at 1399703554.
        assert_eq!(coin_from_height(300_000, 1_399_703_554), Some(Coin::Btc));
        // Litecoin ~2,600,000 at 2024-01-01; Dogecoin ~5,030,000 then.
        assert_eq!(coin_from_height(2_600_000, 1_704_067_200), Some(Coin::Ltc));
        assert_eq!(coin_from_height(5_030_000, 1_704_067_200), Some(Coin::Doge));
        assert_eq!(coin_from_height(10, 1_704_067_200), None);
    }

    #[test]
    fn host_words() {
        assert_eq!(
            coin_from_host("eu1-zcash.flypool.org:3333"),
            Some(Coin::Zec)
        );
        assert_eq!(coin_from_host("etc.2miners.com"), Some(Coin::Etc));
        assert_eq!(coin_from_host("xmr-eu1.nanopool.org"), Some(Coin::Xmr));
        assert_eq!(coin_from_host("stratum.slushpool.com"), None);
        assert_eq!(coin_from_host("ltc2.example.net"), Some(Coin::Ltc));
    }

    #[test]
    fn shares_need_a_matching_reply() {
        let mut s = Session::default();
        s.apply(1, &Signal::SetDifficulty(2.0), 0);
        let sub = Signal::Submit {
            worker: "w".into(),
            params: 5,
            longest: 8,
        };
        s.apply(0, &sub, 1);
        s.submitted(&sub, &Id::Int(4));
        s.replied(&Id::Int(99), true);
        assert_eq!(s.shares.accepted, 0);
        s.replied(&Id::Int(4), true);
        assert_eq!(
            s.shares,
            Shares {
                submitted: 1,
                accepted: 1,
                rejected: 0
            }
        );
        let mut w = 0.0;
        let f = s.facts(0, 10.0, "x".into(), &mut w);
        // 2 × 2^32 hashes over 10 s.
        assert_eq!(f.hashrate_hs, Some(2.0 * 4_294_967_296.0 / 10.0));
        assert_eq!(s.miner_side(), Some(0));
    }

    #[test]
    fn state_is_bounded() {
        let mut s = Session::default();
        for i in 0..10_000 {
            s.apply(1, &Signal::SetDifficulty(f64::from(i) + 1.0), i64::from(i));
            s.apply(
                1,
                &Signal::OtherMiningMethod(format!("mining.x{i}").into()),
                0,
            );
            let sub = Signal::CnSubmit {
                job_id: i.to_string().into(),
                nonce: "00".into(),
            };
            s.submitted(&sub, &Id::Int(i as u64));
        }
        assert!(s.history.len() <= MAX_HISTORY);
        assert!(s.codes.len() <= MAX_EVIDENCE);
        assert!(s.pending.len() <= MAX_PENDING);
        assert!(s.nonces.len() <= MAX_NONCES);
        assert!(s.submitted_work.len() <= 2);
    }
}
