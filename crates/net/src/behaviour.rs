//! Mining seen by its behaviour: encrypted or unknown connections that no list names.
//!
//! A miner behind TLS still behaves like a miner (the approach of MineHunter, ACSAC 2021, and of
//! flow-score detectors such as CESNET NEMEA's miner detector; docs/FACTS.md §N1–§N5):
//! - the connection lives for many minutes with little traffic;
//! - the client sends small messages of nearly one size (share submissions) at irregular,
//!   Poisson-like moments, not on a clock (heartbeats are on a clock), and the server answers
//!   each at once with a small acknowledgement;
//! - the server also speaks unasked (new jobs), and when block times of the coin are known,
//!   those pushes follow the chain's new blocks within seconds.
//!
//! [`Shape`] is a fixed-size summary updated per packet (no per-packet lists, so a flood of
//! flows costs the flow table's cap and nothing more); [`Shape::judge`] turns it into a verdict
//! with the reasons. Packets of one side closer than [`MESSAGE_GAP_NS`] make one message (a TLS
//! record split over segments, or a batch).

use crate::pair;
use std::path::Path;

/// Packets of one side closer than this belong to one message.
pub const MESSAGE_GAP_NS: i64 = 50_000_000;
/// A message of one side within this long of the other side's message answers it.
pub const REPLY_WINDOW_NS: i64 = 2_000_000_000;
/// A server push this soon after a block is taken to announce it.
pub const BLOCK_WINDOW_NS: i64 = 10_000_000_000;
/// A message of one side this soon after the other side's unasked push acknowledges it: machine
/// speed, far below a person's and below the reply window.
pub const ACK_WINDOW_NS: i64 = 150_000_000;
/// Shortest connection judged (seconds).
pub const MIN_SECONDS: f64 = 120.0;
/// Block-time lists looked at (the first ones given).
pub const MAX_COINS: usize = 8;
/// Confidence of a behaviour-only detection without block timing.
pub const CONFIDENCE_SHAPE: f32 = 0.55;
/// Confidence when the server's pushes also follow the coin's blocks.
pub const CONFIDENCE_BLOCKS: f32 = 0.7;

#[derive(Clone, Copy, Debug, Default)]
struct Moments {
    n: u32,
    sum: f64,
    sq: f64,
}

impl Moments {
    fn add(&mut self, x: f64) {
        self.n += 1;
        self.sum += x;
        self.sq += x * x;
    }
    fn mean(&self) -> f64 {
        if self.n == 0 {
            0.0
        } else {
            self.sum / f64::from(self.n)
        }
    }
    /// Coefficient of variation (0 when undefined).
    fn cv(&self) -> f64 {
        if self.n < 2 || self.sum <= 0.0 {
            return 0.0;
        }
        let m = self.mean();
        let var = (self.sq / f64::from(self.n) - m * m).max(0.0);
        var.sqrt() / m
    }
}

#[derive(Clone, Copy, Debug, Default)]
struct Side {
    /// Sizes of all messages.
    sizes: Moments,
    /// Gaps between this side's consecutive messages (seconds).
    gaps: Moments,
    /// Messages sent with no message of the other side in the reply window before them.
    unasked: Moments,
    /// Messages that answered the other side within the reply window.
    answers: u32,
    /// Messages that followed the other side's unasked push within [`ACK_WINDOW_NS`].
    acks: u32,
    /// Start of this side's last message when it was unasked (a push).
    last_push: Option<i64>,
    bytes: u64,
    last_start: Option<i64>,
    /// Per block-time list: distinct blocks followed by an unasked message.
    blocks_hit: [u32; MAX_COINS],
    /// Per list: index + 1 of the last block counted (0: none yet).
    last_hit: [usize; MAX_COINS],
}

#[derive(Clone, Copy, Debug)]
struct Open {
    side: usize,
    start: i64,
    last: i64,
    bytes: u32,
}

/// Times of a coin's blocks, sorted (nanoseconds since the epoch).
#[derive(Clone, Debug, Default)]
pub struct BlockTimes {
    /// Coin name as the file gives it.
    pub coin: String,
    times: Vec<i64>,
}

/// A block-times file that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum BlockTimesError {
    /// The file could not be opened or read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// A line is not a time.
    #[error("{path}:{line}: {what}")]
    Line {
        /// The file.
        path: String,
        /// Line number (1-based).
        line: usize,
        /// What is wrong.
        what: String,
    },
}

impl BlockTimes {
    /// The block times of every file of `paths`, in order.
    pub fn load_all(paths: &[std::path::PathBuf]) -> Result<Vec<BlockTimes>, BlockTimesError> {
        paths.iter().map(|p| BlockTimes::load(p)).collect()
    }

    /// From times in seconds since the epoch, any order.
    pub fn from_seconds(coin: &str, secs: impl IntoIterator<Item = i64>) -> BlockTimes {
        let mut times: Vec<i64> = secs
            .into_iter()
            .map(|s| s.saturating_mul(1_000_000_000))
            .collect();
        times.sort_unstable();
        times.dedup();
        BlockTimes {
            coin: coin.into(),
            times,
        }
    }

    /// Reads a file of block times: one per line, Unix seconds, optionally as the last
    /// comma-separated field (`height,time`); or CSV whose header names a `time` column (Unix
    /// seconds or RFC 3339), such as `minewatch chain blocks --format csv` writes. `#` comments
    /// are skipped.
    pub fn load(path: &Path) -> Result<BlockTimes, BlockTimesError> {
        let p = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| BlockTimesError::Io {
            path: p.clone(),
            source,
        })?;
        let coin = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut secs = Vec::new();
        let time_col = text.lines().next().and_then(|h| {
            h.split(',')
                .position(|c| c.trim().eq_ignore_ascii_case("time"))
        });
        for (n, l) in text.lines().enumerate() {
            let l = l.trim();
            if l.is_empty() || l.starts_with('#') {
                continue;
            }
            let field = match time_col {
                Some(c) => l.split(',').nth(c).unwrap_or(l).trim(),
                None => l.rsplit(',').next().unwrap_or(l).trim(),
            };
            let parsed = field.parse::<i64>().or_else(|e| {
                minewatch_model::Timestamp::parse_rfc3339(field)
                    .map(|t| t.0.div_euclid(1_000_000_000))
                    .ok_or(e)
            });
            match parsed {
                Ok(s) if (1_230_000_000..4_000_000_000).contains(&s) => secs.push(s),
                Ok(s) => {
                    return Err(BlockTimesError::Line {
                        path: p,
                        line: n + 1,
                        what: format!("{s} is not a Unix time in seconds after 2009"),
                    });
                }
                Err(_) if n == 0 => {} // a header
                Err(_) => {
                    return Err(BlockTimesError::Line {
                        path: p,
                        line: n + 1,
                        what: format!("{field:?} is not a Unix time in seconds"),
                    });
                }
            }
        }
        Ok(BlockTimes::from_seconds(&coin, secs))
    }

    /// Blocks known.
    pub fn len(&self) -> usize {
        self.times.len()
    }

    /// No blocks known.
    pub fn is_empty(&self) -> bool {
        self.times.is_empty()
    }

    /// The latest block at or before `t` and its index.
    fn latest_at(&self, t: i64) -> Option<(usize, i64)> {
        let i = self.times.partition_point(|&b| b <= t);
        let i = i.checked_sub(1)?;
        Some((i, *self.times.get(i)?))
    }

    /// Blocks in `[from, to]`.
    fn count_between(&self, from: i64, to: i64) -> usize {
        self.times.partition_point(|&b| b <= to) - self.times.partition_point(|&b| b < from)
    }
}

/// The behaviour summary of one connection.
#[derive(Clone, Debug, Default)]
pub struct Shape {
    sides: [Side; 2],
    open: Option<Open>,
    first: Option<i64>,
    last: i64,
    /// Largest message seen (bulk transfers are not mining).
    max_message: u32,
}

/// What [`Shape::judge`] found.
#[derive(Clone, Debug, PartialEq)]
pub struct Judgement {
    /// Confidence of mining.
    pub confidence: f32,
    /// The block times of which coin the pushes follow, when they do.
    pub coin: Option<String>,
    /// Why, as `behaviour:` evidence strings.
    pub evidence: Vec<String>,
}

impl Shape {
    /// Counts one packet's payload from `side` (0 or 1) at `ts` (ns).
    pub fn packet(&mut self, side: usize, len: usize, ts: i64, blocks: &[BlockTimes]) {
        if len == 0 || side > 1 {
            return;
        }
        self.first.get_or_insert(ts);
        self.last = self.last.max(ts);
        let len = u32::try_from(len).unwrap_or(u32::MAX);
        pair::of_mut(&mut self.sides, side).bytes += u64::from(len);
        match &mut self.open {
            Some(o) if o.side == side && ts - o.last <= MESSAGE_GAP_NS => {
                o.last = ts;
                o.bytes = o.bytes.saturating_add(len);
                return;
            }
            _ => {}
        }
        self.close(blocks);
        self.open = Some(Open {
            side,
            start: ts,
            last: ts,
            bytes: len,
        });
    }

    /// Ends the message being gathered (call before judging).
    pub fn close(&mut self, blocks: &[BlockTimes]) {
        let Some(o) = self.open.take() else { return };
        self.max_message = self.max_message.max(o.bytes);
        let (s, other) = pair::both_mut(&mut self.sides, o.side);
        let (other_last, other_push) = (other.last_start, other.last_push);
        if other_push.is_some_and(|t| o.start - t <= ACK_WINDOW_NS) {
            s.acks = s.acks.saturating_add(1);
        }
        s.sizes.add(f64::from(o.bytes));
        if let Some(prev) = s.last_start {
            s.gaps.add((o.start - prev) as f64 / 1e9);
        }
        s.last_start = Some(o.start);
        let answered = other_last.is_some_and(|t| o.start - t <= REPLY_WINDOW_NS);
        if answered {
            s.answers = s.answers.saturating_add(1);
            s.last_push = None;
            return;
        }
        s.last_push = Some(o.start);
        s.unasked.add(f64::from(o.bytes));
        // Which coins' blocks this push follows; each list is counted on its own.
        for ((b, hits), last) in blocks
            .iter()
            .zip(s.blocks_hit.iter_mut())
            .zip(s.last_hit.iter_mut())
        {
            if let Some((i, bt)) = b.latest_at(o.start)
                && o.start - bt <= BLOCK_WINDOW_NS
                && *last != i + 1
            {
                *hits = hits.saturating_add(1);
                *last = i + 1;
            }
        }
    }

    /// Judges the connection with `client` (0 or 1) as the side that opened it. `None` when
    /// it does not behave like mining.
    pub fn judge(&self, client: usize, blocks: &[BlockTimes]) -> Option<Judgement> {
        let server = 1 - client.min(1);
        let client = 1 - server;
        let (c, s) = (pair::of(&self.sides, client), pair::of(&self.sides, server));
        let first = self.first?;
        let secs = (self.last - first) as f64 / 1e9;
        if secs < MIN_SECONDS || c.sizes.n < 5 || s.sizes.n < 3 {
            return None;
        }
        let rate = (c.bytes + s.bytes) as f64 / secs;
        let answered = f64::from(s.answers) / f64::from(c.sizes.n);
        let client_gap_cv = c.gaps.cv();
        let checks = [
            // Shares and job notifications are small; video, downloads and sync are not.
            rate <= 20_000.0 && self.max_message <= 64 * 1024,
            // Shares are of one size; keepalives or a second message kind widen it a little.
            // Equihash 200,9 shares carry a 1,344-byte solution in hex (about 2.7 kB).
            c.sizes.mean() <= 4096.0 && c.sizes.cv() <= 0.5,
            answered >= 0.6,
            // Share submissions come when a share is found: Poisson, CV near 1. A clock
            // (heartbeats, polling) has a CV near 0.
            client_gap_cv >= 0.45,
            // Vardiff aims at a share every few seconds; fewer than one message a minute and
            // a half is a heartbeat or an app waiting, not a miner (XMRig alone keeps alive
            // every 60 s). Faster than one every 3 s is usually typing or interaction, which
            // comes in bursts (a gap CV far above 1); a miner held at a low fixed difficulty
            // submits that fast too, but as a Poisson process (CV near 1), each share
            // answered: that is let through down to one a second.
            (3.0..=90.0).contains(&c.gaps.mean())
                || ((1.0..3.0).contains(&c.gaps.mean())
                    && (0.7..=1.3).contains(&client_gap_cv)
                    && answered >= 0.9),
            // New jobs come with every block and, on most pools, every 30–60 s between:
            // at least one every five minutes.
            f64::from(s.unasked.n) >= (secs / 300.0).max(2.0) && s.unasked.mean() >= 100.0,
            // A miner never answers a job: a new job changes what it hashes, and its next
            // share comes when found. A client that acknowledges most pushes at machine speed
            // is a subscriber (MQTT at QoS 1 must send PUBACK, docs/FACTS.md §N6), not a miner.
            // Shares that happen to follow a push that closely are rare (a share every 1.3 s
            // lands within 150 ms about one time in nine).
            s.unasked.n < 5 || f64::from(c.acks) < 0.5 * f64::from(s.unasked.n),
        ];
        if !checks.iter().all(|&ok| ok) {
            return None;
        }
        let mut evidence = vec![
            format!("behaviour:long-lived:{secs:.0}s:{rate:.0}B/s"),
            format!(
                "behaviour:client-messages:{}x{:.0}B:size-cv={:.2}:gap-cv={client_gap_cv:.2}",
                c.sizes.n,
                c.sizes.mean(),
                c.sizes.cv()
            ),
            format!("behaviour:answered:{:.0}%", answered * 100.0),
            format!(
                "behaviour:server-pushes:{}x{:.0}B",
                s.unasked.n,
                s.unasked.mean()
            ),
        ];
        let mut confidence = CONFIDENCE_SHAPE;
        let mut coin = None;
        // Pushes at random moments would land after a block this often.
        let chance =
            (1.0 - (-f64::from(s.unasked.n) * BLOCK_WINDOW_NS as f64 / 1e9 / secs).exp()).min(1.0);
        let best = blocks
            .iter()
            .take(MAX_COINS)
            .enumerate()
            .filter_map(|(k, b)| {
                let in_life = b.count_between(first, self.last);
                let hit = s.blocks_hit.get(k).copied().unwrap_or(0);
                (in_life >= 3).then_some((b, hit, in_life))
            })
            .max_by(|x, y| {
                let cov = |(_, h, n): &(&BlockTimes, u32, usize)| f64::from(*h) / *n as f64;
                cov(x).total_cmp(&cov(y))
            });
        if let Some((b, hit, in_life)) = best {
            let coverage = f64::from(hit) / in_life as f64;
            // How likely pushes at random moments would follow this many blocks or more.
            let p = binomial_tail(in_life as u32, hit, chance);
            evidence.push(format!(
                "behaviour:block-rhythm:{}:{hit}/{in_life}:chance={chance:.2}:p={p:.4}",
                b.coin
            ));
            if coverage >= 0.6 && p < 0.01 {
                confidence = CONFIDENCE_BLOCKS;
                coin = Some(b.coin.clone());
            }
        }
        Some(Judgement {
            confidence,
            coin,
            evidence,
        })
    }
}

/// P(X ≥ k) for X ~ Binomial(n, p).
fn binomial_tail(n: u32, k: u32, p: f64) -> f64 {
    if k == 0 {
        return 1.0;
    }
    let p = p.clamp(0.0, 1.0);
    let mut term = (1.0 - p).powi(n as i32); // P(X = 0)
    let mut below = 0.0;
    for i in 0..k.min(n + 1) {
        below += term;
        // P(X = i + 1) from P(X = i).
        term *= f64::from(n - i) / f64::from(i + 1) * p / (1.0 - p).max(f64::MIN_POSITIVE);
    }
    (1.0 - below).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: i64 = 1_000_000_000;

    /// A deterministic stream of exponential gaps with the given mean (seconds).
    fn poisson(mean: f64, n: usize, seed: u64) -> Vec<i64> {
        let mut x = seed;
        let mut t = 0i64;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let u = (x >> 11) as f64 / (1u64 << 53) as f64;
                t += (-(1.0 - u).ln() * mean * 1e9) as i64 + 1;
                t
            })
            .collect()
    }

    fn miner(blocks: &[i64], list: &[BlockTimes]) -> Shape {
        let mut sh = Shape::default();
        let mut events: Vec<(i64, usize, usize)> = Vec::new();
        for t in poisson(20.0, 60, 7) {
            events.push((t, 0, 250));
            events.push((t + S / 20, 1, 90));
        }
        for &b in blocks {
            events.push((b + 2 * S, 1, 900));
        }
        events.sort();
        for (t, side, len) in events {
            sh.packet(side, len, t, list);
        }
        sh.close(list);
        sh
    }

    #[test]
    fn a_miner_is_recognised_and_blocks_raise_confidence() {
        let blocks: Vec<i64> = poisson(90.0, 14, 3);
        let j = miner(&blocks, &[]).judge(0, &[]).expect("mining shape");
        assert_eq!(j.confidence, CONFIDENCE_SHAPE);
        let list = [BlockTimes {
            coin: "btc".into(),
            times: blocks.clone(),
        }];
        let j2 = miner(&blocks, &list).judge(0, &list).expect("mining shape");
        assert_eq!(j2.confidence, CONFIDENCE_BLOCKS, "{:?}", j2.evidence);
        assert_eq!(j2.coin.as_deref(), Some("btc"));
        // Block times of another period do not raise it.
        let elsewhere = [BlockTimes {
            coin: "btc".into(),
            times: blocks.iter().map(|b| b + 45 * S).collect(),
        }];
        let j3 = miner(&blocks, &elsewhere).judge(0, &elsewhere).unwrap();
        assert_eq!(j3.confidence, CONFIDENCE_SHAPE, "{:?}", j3.evidence);
    }

    #[test]
    fn a_client_that_acknowledges_the_pushes_is_a_subscriber() {
        // The miner's rhythm (answered Poisson uploads, unasked pushes), once with every push
        // acknowledged within 20 ms (an MQTT QoS 1 subscriber) and once without.
        let shape = |ack: bool| {
            let mut events: Vec<(i64, usize, usize)> = Vec::new();
            for t in poisson(15.0, 100, 5) {
                events.push((t, 0, 126));
                events.push((t + S / 50, 1, 26));
            }
            for t in poisson(90.0, 16, 9) {
                events.push((t + S / 3, 1, 150));
                if ack {
                    events.push((t + S / 3 + S / 50, 0, 26));
                }
            }
            events.sort();
            let mut sh = Shape::default();
            for (t, side, len) in events {
                sh.packet(side, len, t, &[]);
            }
            sh.close(&[]);
            sh
        };
        assert!(shape(false).judge(0, &[]).is_some(), "the rhythm alone");
        assert!(shape(true).judge(0, &[]).is_none(), "pushes acknowledged");
    }

    #[test]
    fn binomial_tail_values() {
        assert!((binomial_tail(5, 3, 0.2) - 0.05792).abs() < 1e-4);
        assert!((binomial_tail(3, 3, 0.2) - 0.008).abs() < 1e-9);
        assert_eq!(binomial_tail(4, 0, 0.3), 1.0);
    }

    #[test]
    fn heartbeats_on_a_clock_are_not_mining() {
        let mut sh = Shape::default();
        for i in 0..60 {
            let t = i * 30 * S;
            sh.packet(0, 250, t, &[]);
            sh.packet(1, 90, t + S / 20, &[]);
            if i % 7 == 3 {
                sh.packet(1, 600, t + 10 * S, &[]);
            }
        }
        sh.close(&[]);
        assert!(sh.judge(0, &[]).is_none());
    }

    #[test]
    fn chat_and_bulk_are_not_mining() {
        let mut chat = Shape::default();
        for (i, t) in poisson(15.0, 80, 11).into_iter().enumerate() {
            chat.packet(0, 80 + (i * 397) % 1500, t, &[]);
            chat.packet(1, 60 + (i * 211) % 900, t + S / 10, &[]);
        }
        chat.close(&[]);
        assert!(chat.judge(0, &[]).is_none());
        let mut video = Shape::default();
        for i in 0..2000 {
            let t = i * S / 5;
            video.packet(if i % 50 == 0 { 0 } else { 1 }, 1400, t, &[]);
        }
        video.close(&[]);
        assert!(video.judge(0, &[]).is_none());
    }

    #[test]
    fn block_times_file_errors_name_the_line() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("btc.csv");
        std::fs::write(&p, "height,time\n1,1700000000\n2,1700000600\nbad\n").unwrap();
        let e = BlockTimes::load(&p).unwrap_err().to_string();
        assert!(
            e.ends_with("btc.csv:4: \"bad\" is not a Unix time in seconds"),
            "{e}"
        );
        std::fs::write(&p, "height,time\n2,1700000600\n1,1700000000\n").unwrap();
        let b = BlockTimes::load(&p).unwrap();
        assert_eq!((b.coin.as_str(), b.len()), ("btc", 2));
        // The CSV of `minewatch chain blocks`.
        std::fs::write(
            &p,
            "height,hash,time,best_chain\n1,00ab,2009-01-09T02:54:25Z,true\n2,00cd,2009-01-09T02:55:44Z,true\n",
        )
        .unwrap();
        let b = BlockTimes::load(&p).unwrap();
        assert_eq!(
            b.times,
            vec![1_231_469_665_000_000_000, 1_231_469_744_000_000_000]
        );
    }
}
