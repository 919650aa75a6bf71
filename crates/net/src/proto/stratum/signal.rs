//! What a JSON-RPC message means for mining.
//!
//! Method names and parameter shapes are facts from the protocol documents collected in
//! docs/FACTS.md §N1–§N5: slush/ck Stratum and BIP 310 (Bitcoin family), ZIP 301 (Equihash),
//! NiceHash EthereumStratum/1.0.0, eth-proxy (open-ethereum-pool), XMRig's CryptoNote client,
//! getwork and BIP 22/23 getblocktemplate. A message is classified on its method *and* the shape
//! of its parameters, so a generic API that happens to call a method `login` or `submit` does not
//! pass for a miner.

use super::json::{Json, NULL};
use super::parser::{Id, Message};
use std::borrow::Cow;

/// The Stratum dialect a message belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Dialect {
    /// Stratum v1 as used by Bitcoin, Litecoin and other SHA-256/Scrypt coins.
    Bitcoin,
    /// ZIP 301 Equihash Stratum (Zcash and forks).
    Equihash,
    /// NiceHash EthereumStratum/1.0.0.
    EthereumStratum,
    /// eth-proxy (`eth_submitLogin`, `eth_getWork`…), over TCP lines or HTTP.
    EthProxy,
    /// CryptoNote/XMRig JSON-RPC (`login`, `job`, `submit`, `keepalived`).
    CryptoNote,
    /// getwork over HTTP.
    Getwork,
    /// getblocktemplate / submitblock (BIP 22/23).
    GetBlockTemplate,
    /// Stratum V2 binary framing, plaintext.
    StratumV2,
}

impl Dialect {
    /// The dialect's name in output.
    pub fn name(self) -> &'static str {
        match self {
            Dialect::Bitcoin => "bitcoin",
            Dialect::Equihash => "equihash",
            Dialect::EthereumStratum => "ethereumstratum",
            Dialect::EthProxy => "eth-proxy",
            Dialect::CryptoNote => "cryptonote",
            Dialect::Getwork => "getwork",
            Dialect::GetBlockTemplate => "getblocktemplate",
            Dialect::StratumV2 => "stratum-v2",
        }
    }

    /// The wire protocol family in output.
    pub fn protocol(self) -> &'static str {
        match self {
            Dialect::Getwork => "getwork",
            Dialect::GetBlockTemplate => "getblocktemplate",
            Dialect::StratumV2 => "stratum-v2",
            _ => "stratum-v1",
        }
    }
}

/// The kind of work push a `mining.notify` carries, told by its parameter count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotifyShape {
    /// 9 params: Bitcoin-family job with coinbase halves.
    Bitcoin,
    /// 8 params with version `04000000`: ZIP 301.
    Equihash,
    /// 4 params: EthereumStratum/1.0.0 (job, seed hash, header hash, clean).
    Ethereum,
    /// Other counts: still a work push, dialect unknown.
    Other,
}

/// A recognised mining message. Its texts borrow from the line where they can (the line is
/// read into an arena that lives as long as the message): copying each coinbase half and
/// worker name into its own allocation, and freeing it, was 1.3 % of a scan of real
/// traffic's instructions (docs/PERFORMANCE.md).
#[derive(Clone, Debug, PartialEq)]
pub enum Signal<'a> {
    /// `mining.subscribe`.
    Subscribe {
        /// Miner software as announced (first param).
        agent: Option<Cow<'a, str>>,
        /// The second param names EthereumStratum/1.0.0.
        ethereum_stratum: bool,
        /// ZIP 301 form: host and port the miner connected to.
        host: Option<Cow<'a, str>>,
        /// Port as sent (string or number).
        port: Option<Cow<'a, str>>,
    },
    /// The pool's answer to `mining.subscribe` (lists `mining.notify`).
    SubscribeReply {
        /// The answer names EthereumStratum/1.0.0.
        ethereum_stratum: bool,
    },
    /// `mining.authorize` with the login.
    Authorize {
        /// The login (account.worker or wallet.worker).
        user: Cow<'a, str>,
    },
    /// `mining.configure` (BIP 310).
    Configure,
    /// `mining.extranonce.subscribe`.
    ExtranonceSubscribe,
    /// `mining.notify`.
    Notify {
        /// Which dialect the parameters fit.
        shape: NotifyShape,
        /// Bitcoin shape: the first coinbase half (hex), for pool tags and block height.
        coinb1: Option<Cow<'a, str>>,
        /// Bitcoin shape: the second coinbase half (hex), for payout scripts.
        coinb2: Option<Cow<'a, str>>,
        /// Bitcoin or Equihash shape: block time (hex, as sent).
        ntime: Option<Cow<'a, str>>,
    },
    /// `mining.set_difficulty`.
    SetDifficulty(f64),
    /// `mining.set_target` (ZIP 301): 256-bit big-endian target, hex.
    SetTarget(Cow<'a, str>),
    /// `mining.set_extranonce`.
    SetExtranonce,
    /// `mining.set_version_mask`.
    SetVersionMask,
    /// `mining.submit`.
    Submit {
        /// The worker as sent.
        worker: Cow<'a, str>,
        /// Parameter count (5 Bitcoin, 6 with version rolling, 3 EthereumStratum, 5 Equihash).
        params: usize,
        /// Length of the longest hex parameter (an Equihash solution is ~2,700).
        longest: usize,
    },
    /// `mining.get_transactions`.
    GetTransactions,
    /// `mining.suggest_difficulty`.
    SuggestDifficulty,
    /// `mining.suggest_target`.
    SuggestTarget,
    /// `client.reconnect`.
    ClientReconnect,
    /// `client.get_version`.
    ClientGetVersion,
    /// `client.show_message`.
    ClientShowMessage,
    /// Another `mining.*` method: vocabulary known only by its prefix.
    OtherMiningMethod(Cow<'a, str>),
    /// `eth_submitLogin`.
    EthSubmitLogin {
        /// The login param.
        login: Cow<'a, str>,
        /// Top-level `worker` member.
        worker: Option<Cow<'a, str>>,
    },
    /// `eth_getWork` request.
    EthGetWork,
    /// A work package `[header, seed, boundary]` (answer or push).
    EthWork {
        /// The boundary (share target), hex with `0x`.
        boundary: Cow<'a, str>,
        /// Pushed unsolicited (id 0 or null) rather than answered.
        pushed: bool,
    },
    /// `eth_submitWork`.
    EthSubmitWork,
    /// `eth_submitHashrate` with the claimed rate in H/s.
    EthSubmitHashrate(Option<f64>),
    /// CryptoNote `login`.
    CnLogin {
        /// The login (wallet, optionally with worker or difficulty suffix).
        login: Cow<'a, str>,
        /// The `agent` member.
        agent: Option<Cow<'a, str>>,
        /// Algorithms offered (`algo` list).
        algos: Vec<Cow<'a, str>>,
        /// Rig id.
        rigid: Option<Cow<'a, str>>,
        /// Has a `pass` member.
        has_pass: bool,
    },
    /// A CryptoNote job (pushed as `job`, or inside the login answer).
    CnJob {
        /// Target, hex, little-endian (8 or 16 digits).
        target: Cow<'a, str>,
        /// Algorithm named by the pool.
        algo: Option<Cow<'a, str>>,
        /// Job came inside the login answer.
        in_login_reply: bool,
    },
    /// CryptoNote `submit`.
    CnSubmit {
        /// Job id.
        job_id: Cow<'a, str>,
        /// Nonce hex.
        nonce: Cow<'a, str>,
    },
    /// XMRig `keepalived`.
    CnKeepalive,
    /// CryptoNote `getjob` poll.
    CnGetJob,
    /// `getwork` request; with a data param it is a submission.
    Getwork {
        /// Carries data: a solved block header.
        submit: bool,
    },
    /// getwork answer with its target (little-endian hex).
    GetworkReply {
        /// Share target.
        target: Option<Cow<'a, str>>,
    },
    /// `getblocktemplate` request.
    GetBlockTemplate,
    /// A block template answer.
    BlockTemplate,
    /// `submitblock`.
    SubmitBlock,
    /// SV2 `SetupConnection` for the mining protocol.
    Sv2Setup {
        /// Device vendor, hardware and firmware, joined.
        device: Cow<'a, str>,
        /// Host and port the device connected to.
        endpoint: Cow<'a, str>,
    },
    /// SV2 `SetupConnection.Success`.
    Sv2SetupSuccess,
    /// SV2 open-channel request with the user identity and the declared rate (H/s).
    Sv2OpenChannel {
        /// `user_identity`.
        user: Cow<'a, str>,
        /// `nominal_hash_rate`.
        nominal: f64,
    },
    /// SV2 open-channel answer or `SetTarget`: the share target, big-endian.
    Sv2Target([u8; 32]),
    /// SV2 new job or new previous hash.
    Sv2Job,
    /// SV2 share submission.
    Sv2Submit,
    /// SV2 `SubmitShares.Success` accepting this many submissions.
    Sv2Accepted(u32),
    /// SV2 `SubmitShares.Error`.
    Sv2Rejected,
    /// A plain answer: true/false, `{"status":"OK"}`, or an error.
    Reply {
        /// The id it answers.
        id: Id,
        /// Accepted (true or status OK).
        ok: bool,
        /// Carries an error.
        error: bool,
    },
}

impl Signal<'_> {
    /// The dialect the signal alone implies, if any.
    pub fn dialect(&self) -> Option<Dialect> {
        use Signal::*;
        Some(match self {
            Subscribe {
                ethereum_stratum: true,
                ..
            }
            | SubscribeReply {
                ethereum_stratum: true,
            } => Dialect::EthereumStratum,
            Subscribe { host: Some(_), .. } | SetTarget(_) => Dialect::Equihash,
            Notify {
                shape: NotifyShape::Bitcoin,
                ..
            } => Dialect::Bitcoin,
            Notify {
                shape: NotifyShape::Equihash,
                ..
            } => Dialect::Equihash,
            Notify {
                shape: NotifyShape::Ethereum,
                ..
            } => Dialect::EthereumStratum,
            Submit { longest, .. } if *longest > 1000 => Dialect::Equihash,
            Submit { params: 3, .. } => Dialect::EthereumStratum,
            EthSubmitLogin { .. }
            | EthGetWork
            | EthWork { .. }
            | EthSubmitWork
            | EthSubmitHashrate(_) => Dialect::EthProxy,
            CnLogin { .. } | CnJob { .. } | CnSubmit { .. } | CnKeepalive | CnGetJob => {
                Dialect::CryptoNote
            }
            Getwork { .. } | GetworkReply { .. } => Dialect::Getwork,
            GetBlockTemplate | BlockTemplate | SubmitBlock => Dialect::GetBlockTemplate,
            Sv2Setup { .. }
            | Sv2SetupSuccess
            | Sv2OpenChannel { .. }
            | Sv2Target(_)
            | Sv2Job
            | Sv2Submit
            | Sv2Accepted(_)
            | Sv2Rejected => Dialect::StratumV2,
            _ => return None,
        })
    }

    /// A short evidence code for output (`method:mining.subscribe`, `push:job`…); borrowed
    /// except for an unknown `mining.*` method, since it is asked for every message.
    pub fn code(&self) -> std::borrow::Cow<'static, str> {
        use Signal::*;
        match self {
            Subscribe { .. } => "method:mining.subscribe".into(),
            SubscribeReply { .. } => "reply:mining.subscribe".into(),
            Authorize { .. } => "method:mining.authorize".into(),
            Configure => "method:mining.configure".into(),
            ExtranonceSubscribe => "method:mining.extranonce.subscribe".into(),
            Notify { .. } => "push:mining.notify".into(),
            SetDifficulty(_) => "push:mining.set_difficulty".into(),
            SetTarget(_) => "push:mining.set_target".into(),
            SetExtranonce => "push:mining.set_extranonce".into(),
            SetVersionMask => "push:mining.set_version_mask".into(),
            Submit { .. } => "method:mining.submit".into(),
            GetTransactions => "method:mining.get_transactions".into(),
            SuggestDifficulty => "method:mining.suggest_difficulty".into(),
            SuggestTarget => "method:mining.suggest_target".into(),
            ClientReconnect => "push:client.reconnect".into(),
            ClientGetVersion => "push:client.get_version".into(),
            ClientShowMessage => "push:client.show_message".into(),
            OtherMiningMethod(m) => format!("method:{m}").into(),
            EthSubmitLogin { .. } => "method:eth_submitLogin".into(),
            EthGetWork => "method:eth_getWork".into(),
            EthWork { pushed: true, .. } => "push:eth-work".into(),
            EthWork { pushed: false, .. } => "reply:eth_getWork".into(),
            EthSubmitWork => "method:eth_submitWork".into(),
            EthSubmitHashrate(_) => "method:eth_submitHashrate".into(),
            CnLogin { .. } => "method:login".into(),
            CnJob {
                in_login_reply: true,
                ..
            } => "reply:login-job".into(),
            CnJob { .. } => "push:job".into(),
            CnSubmit { .. } => "method:submit".into(),
            CnKeepalive => "method:keepalived".into(),
            CnGetJob => "method:getjob".into(),
            Getwork { submit: false } => "method:getwork".into(),
            Getwork { submit: true } => "method:getwork-submit".into(),
            GetworkReply { .. } => "reply:getwork".into(),
            GetBlockTemplate => "method:getblocktemplate".into(),
            BlockTemplate => "reply:getblocktemplate".into(),
            SubmitBlock => "method:submitblock".into(),
            Sv2Setup { .. } => "sv2:SetupConnection".into(),
            Sv2SetupSuccess => "sv2:SetupConnection.Success".into(),
            Sv2OpenChannel { .. } => "sv2:OpenMiningChannel".into(),
            Sv2Target(_) => "sv2:SetTarget".into(),
            Sv2Job => "sv2:NewMiningJob".into(),
            Sv2Submit => "sv2:SubmitShares".into(),
            Sv2Accepted(_) => "sv2:SubmitShares.Success".into(),
            Sv2Rejected => "sv2:SubmitShares.Error".into(),
            Reply { ok: true, .. } => "reply:accepted".into(),
            Reply { .. } => "reply:rejected".into(),
        }
    }

    /// How much the signal alone says "this is mining", 0..1. Methods whose names belong to
    /// mining and whose parameters fit weigh most; shapes that generic APIs could share, least.
    pub fn weight(&self) -> f32 {
        use Signal::*;
        match self {
            Subscribe { .. }
            | Authorize { .. }
            | Notify { .. }
            | Submit { .. }
            | SubscribeReply { .. } => 0.9,
            SetDifficulty(_) | SetTarget(_) | Configure | ExtranonceSubscribe | SetExtranonce => {
                0.85
            }
            EthSubmitLogin { .. } | EthWork { .. } | EthSubmitWork | EthSubmitHashrate(_) => 0.9,
            CnJob { .. } | CnSubmit { .. } => 0.9,
            Getwork { .. }
            | GetworkReply { .. }
            | GetBlockTemplate
            | BlockTemplate
            | SubmitBlock => 0.9,
            GetTransactions | SuggestDifficulty | SuggestTarget | SetVersionMask => 0.8,
            EthGetWork => 0.8,
            CnLogin { agent: Some(_), .. } => 0.8,
            CnLogin { .. } => 0.5,
            OtherMiningMethod(_) => 0.5,
            CnKeepalive | CnGetJob => 0.4,
            ClientReconnect | ClientGetVersion | ClientShowMessage => 0.3,
            Sv2Setup { .. } | Sv2OpenChannel { .. } | Sv2Submit => 0.9,
            Sv2Target(_) | Sv2Job => 0.8,
            Sv2SetupSuccess | Sv2Accepted(_) | Sv2Rejected => 0.5,
            Reply { .. } => 0.0,
        }
    }

    /// True when the miner sends this kind of message (false: the pool does).
    pub fn from_miner(&self) -> Option<bool> {
        use Signal::*;
        match self {
            Subscribe { .. }
            | Authorize { .. }
            | Configure
            | ExtranonceSubscribe
            | Submit { .. }
            | GetTransactions
            | SuggestDifficulty
            | SuggestTarget
            | EthSubmitLogin { .. }
            | EthGetWork
            | EthSubmitWork
            | EthSubmitHashrate(_)
            | CnLogin { .. }
            | CnSubmit { .. }
            | CnKeepalive
            | CnGetJob
            | Getwork { .. }
            | GetBlockTemplate
            | SubmitBlock
            | Sv2Setup { .. }
            | Sv2OpenChannel { .. }
            | Sv2Submit => Some(true),
            SubscribeReply { .. }
            | Notify { .. }
            | SetDifficulty(_)
            | SetTarget(_)
            | SetExtranonce
            | SetVersionMask
            | ClientReconnect
            | ClientGetVersion
            | ClientShowMessage
            | EthWork { .. }
            | CnJob { .. }
            | GetworkReply { .. }
            | BlockTemplate
            | Sv2SetupSuccess
            | Sv2Target(_)
            | Sv2Job
            | Sv2Accepted(_)
            | Sv2Rejected => Some(false),
            OtherMiningMethod(_) | Reply { .. } => None,
        }
    }
}

fn str_at<'a>(v: &Json<'a>, i: usize) -> Option<&'a str> {
    v.at(i).and_then(Json::as_str)
}

/// Whether `s` is hex digits (either case), after an optional `0x`, and not empty.
///
/// Most strings of a mining line are hex: job ids and nonces of a few bytes, hashes of 64
/// digits, coinbase halves of hundreds, an Equihash solution of 2,694 (a byte-at-a-time loop
/// over it was once a sixth of a scan of real captures). On x86_64 a string of sixty-four
/// bytes or more is checked thirty-two bytes a step with AVX2 where the CPU has it (found at
/// run time); other strings of sixteen bytes or more, and all of them on other x86_64 CPUs,
/// with SSE2, sixty-four and then sixteen bytes a step, the last step overlapping the one
/// before; the 64-byte blocks the compiler vectorised left the short strings, most of them,
/// to a byte loop (0.8 % fewer instructions on a scan of real traffic, docs/PERFORMANCE.md).
fn is_hex(s: &str) -> bool {
    let b = s.strip_prefix("0x").unwrap_or(s).as_bytes();
    if b.is_empty() {
        return false;
    }
    #[cfg(target_arch = "x86_64")]
    if b.len() >= 64 && std::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2, just checked (std caches the answer).
        return unsafe { avx2::hex(b) };
    }
    #[cfg(target_arch = "x86_64")]
    if let Some(ok) = sse2_hex(b) {
        return ok;
    }
    b.iter().fold(0u8, |acc, &c| acc | non_hex(c)) == 0
}

/// [`is_hex`]'s SSE2 steps for `b` (without its `0x`), or `None` when `b` is shorter than
/// sixteen bytes.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn sse2_hex(b: &[u8]) -> Option<bool> {
    let last = b.len().checked_sub(16)?;
    // Sixty-four bytes a step with one test of the four results, then sixteen.
    let mut long = b.chunks_exact(64);
    let mut ok = long.by_ref().all(|c| sse2::hex(c, 64));
    ok &= long.remainder().chunks_exact(16).all(|c| sse2::hex(c, 16));
    if last % 16 != 0 {
        ok &= b.get(last..).is_some_and(|c| sse2::hex(c, 16));
    }
    Some(ok)
}

/// 1 for a byte that is not a hex digit, else 0 (a number, so that many fold without a branch).
fn non_hex(c: u8) -> u8 {
    u8::from(!(c.is_ascii_digit() | ((c | 0x20).wrapping_sub(b'a') < 6)))
}

/// The hex test thirty-two bytes at a time, for the long strings (coinbase halves, Equihash
/// solutions) on CPUs with AVX2: half the steps of the SSE2 test, which was 2 % of a scan of
/// real traffic's instructions (docs/PERFORMANCE.md).
#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::{
        __m256i, _mm256_and_si256, _mm256_cmpeq_epi8, _mm256_loadu_si256, _mm256_min_epu8,
        _mm256_movemask_epi8, _mm256_or_si256, _mm256_set1_epi8, _mm256_sub_epi8,
    };

    /// All bytes set where the byte of the 32 in `block` is a hex digit (`block` holds 32).
    #[inline]
    #[target_feature(enable = "avx2")]
    fn digits(block: &[u8; 32]) -> __m256i {
        // SAFETY: the unaligned load reads the 32 bytes of `block`.
        let v = unsafe { _mm256_loadu_si256(block.as_ptr().cast()) };
        // Unsigned `x <= n` as `min(x, n) == x`, as in the SSE2 test.
        let within = |x, n: i8| _mm256_cmpeq_epi8(_mm256_min_epu8(x, _mm256_set1_epi8(n)), x);
        let digit = within(_mm256_sub_epi8(v, _mm256_set1_epi8(b'0' as i8)), 9);
        let lower = _mm256_or_si256(v, _mm256_set1_epi8(0x20));
        let letter = within(_mm256_sub_epi8(lower, _mm256_set1_epi8(b'a' as i8)), 5);
        _mm256_or_si256(digit, letter)
    }

    /// Whether every byte of `b` is a hex digit; false for fewer than 32 bytes. The last step
    /// is the last 32 bytes, overlapping the one before.
    ///
    /// # Safety
    /// The CPU has AVX2.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn hex(b: &[u8]) -> bool {
        let Some(last) = b.last_chunk::<32>() else {
            return false;
        };
        let (blocks, _) = b.as_chunks::<32>();
        let ok = blocks
            .iter()
            .fold(digits(last), |ok, c| _mm256_and_si256(ok, digits(c)));
        _mm256_movemask_epi8(ok) == -1
    }
}

/// The hex test sixteen bytes at a time.
#[cfg(target_arch = "x86_64")]
mod sse2 {
    use std::arch::x86_64::{
        __m128i, _mm_and_si128, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_min_epu8, _mm_movemask_epi8,
        _mm_or_si128, _mm_set1_epi8, _mm_sub_epi8,
    };

    /// All bytes set where the byte of the 16 at `p` is a hex digit.
    ///
    /// # Safety
    /// `p` points to 16 readable bytes.
    #[inline(always)]
    unsafe fn digits(p: *const u8) -> __m128i {
        // SAFETY: SSE2 is part of every x86_64 CPU; the caller vouches for the 16 bytes.
        unsafe {
            let v = _mm_loadu_si128(p.cast());
            // Unsigned `x <= n` as `min(x, n) == x`: SSE2 compares bytes only as signed.
            let within = |x, n: i8| _mm_cmpeq_epi8(_mm_min_epu8(x, _mm_set1_epi8(n)), x);
            let digit = within(_mm_sub_epi8(v, _mm_set1_epi8(b'0' as i8)), 9);
            let lower = _mm_or_si128(v, _mm_set1_epi8(0x20));
            let letter = within(_mm_sub_epi8(lower, _mm_set1_epi8(b'a' as i8)), 5);
            _mm_or_si128(digit, letter)
        }
    }

    /// Whether the first `n` bytes of `block` (16 or 64) are all hex digits; false when
    /// `block` is shorter.
    #[inline(always)]
    pub(super) fn hex(block: &[u8], n: usize) -> bool {
        if block.len() < n {
            return false;
        }
        let p = block.as_ptr();
        // SAFETY: `block` holds at least `n` bytes, and each load below reads 16 of them
        // (at 0 for `n` = 16; at 0, 16, 32 and 48 for `n` = 64).
        unsafe {
            let mut ok = digits(p);
            if n == 64 {
                ok = _mm_and_si128(ok, digits(p.add(16)));
                ok = _mm_and_si128(ok, digits(p.add(32)));
                ok = _mm_and_si128(ok, digits(p.add(48)));
            }
            _mm_movemask_epi8(ok) == 0xffff
        }
    }
}

fn scalar_text<'a>(v: &Json<'a>) -> Option<Cow<'a, str>> {
    match v {
        Json::Str(s) => Some(Cow::Borrowed(s)),
        Json::Num(n) => Some(Cow::Owned(n.to_string())),
        _ => None,
    }
}

fn number(v: &Json<'_>) -> Option<f64> {
    match v {
        Json::Num(n) => n.as_f64(),
        Json::Str(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn longest_hex(params: &[Json<'_>]) -> usize {
    params
        .iter()
        .filter_map(Json::as_str)
        .filter(|s| is_hex(s))
        .map(str::len)
        .max()
        .unwrap_or(0)
}

/// Classifies one message; `None` when it means nothing for mining.
pub fn classify<'a>(m: &Message<'a>) -> Option<Signal<'a>> {
    match &m.method {
        Some(method) => classify_method(m, method),
        None => classify_answer(m),
    }
}

fn classify_method<'a>(m: &Message<'a>, method: &'a str) -> Option<Signal<'a>> {
    let p = &m.params;
    let arr = p.as_array().unwrap_or(&[]);
    let sig = match method {
        "mining.subscribe" => {
            let second = arr.get(1).and_then(Json::as_str).unwrap_or("");
            let ethereum_stratum = second.starts_with("EthereumStratum/");
            // ZIP 301: [agent, session id or null, host, port].
            let zip301 = arr.len() == 4 && arr.get(2).is_some_and(Json::is_string);
            Signal::Subscribe {
                agent: str_at(p, 0).map(Cow::Borrowed),
                ethereum_stratum,
                host: zip301.then(|| str_at(p, 2).unwrap_or_default().into()),
                port: if zip301 {
                    arr.get(3).and_then(scalar_text)
                } else {
                    None
                },
            }
        }
        "mining.authorize" => Signal::Authorize {
            user: str_at(p, 0)?.into(),
        },
        "mining.configure" => Signal::Configure,
        "mining.extranonce.subscribe" => Signal::ExtranonceSubscribe,
        "mining.notify" => {
            let shape = match arr.len() {
                9 => NotifyShape::Bitcoin,
                8 if str_at(p, 1) == Some("04000000") => NotifyShape::Equihash,
                4 | 5 if arr.get(1).and_then(Json::as_str).is_some_and(is_hex) => {
                    NotifyShape::Ethereum
                }
                0 => return None,
                _ => NotifyShape::Other,
            };
            let (coinb1, coinb2, ntime) = match shape {
                NotifyShape::Bitcoin => (
                    str_at(p, 2).map(Cow::Borrowed),
                    str_at(p, 3).map(Cow::Borrowed),
                    str_at(p, 7).map(Cow::Borrowed),
                ),
                NotifyShape::Equihash => (None, None, str_at(p, 5).map(Cow::Borrowed)),
                _ => (None, None, None),
            };
            Signal::Notify {
                shape,
                coinb1,
                coinb2,
                ntime,
            }
        }
        "mining.set_difficulty" => Signal::SetDifficulty(number(arr.first()?)?),
        "mining.set_target" => {
            let t = str_at(p, 0)?;
            if !is_hex(t) {
                return None;
            }
            Signal::SetTarget(t.into())
        }
        "mining.set_extranonce" => Signal::SetExtranonce,
        "mining.set_version_mask" => Signal::SetVersionMask,
        "mining.submit" => {
            if arr.len() < 3 {
                return None;
            }
            Signal::Submit {
                worker: str_at(p, 0).unwrap_or_default().into(),
                params: arr.len(),
                longest: longest_hex(arr),
            }
        }
        "mining.get_transactions" => Signal::GetTransactions,
        "mining.suggest_difficulty" => Signal::SuggestDifficulty,
        "mining.suggest_target" => Signal::SuggestTarget,
        "client.reconnect" => Signal::ClientReconnect,
        "client.get_version" => Signal::ClientGetVersion,
        "client.show_message" => Signal::ClientShowMessage,
        "eth_submitLogin" => Signal::EthSubmitLogin {
            login: str_at(p, 0)?.into(),
            worker: m.worker.clone().map(Cow::Owned),
        },
        "eth_getWork" => Signal::EthGetWork,
        "eth_submitWork" => {
            // [nonce, header hash, mix digest]
            if arr.len() != 3 || !arr.iter().all(|v| v.as_str().is_some_and(is_hex)) {
                return None;
            }
            Signal::EthSubmitWork
        }
        "eth_submitHashrate" => Signal::EthSubmitHashrate(str_at(p, 0).and_then(|h| {
            u128::from_str_radix(h.trim_start_matches("0x"), 16)
                .ok()
                .map(|v| v as f64)
        })),
        "login" => {
            let o = p.is_object().then_some(p)?;
            let login = o.get("login")?.as_str()?.into();
            let has_pass = o.has("pass");
            let agent = o.get("agent").and_then(Json::as_str).map(Cow::Borrowed);
            if !has_pass && agent.is_none() {
                return None;
            }
            Signal::CnLogin {
                login,
                agent,
                algos: o
                    .get("algo")
                    .and_then(Json::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(Json::as_str)
                            .map(Cow::Borrowed)
                            .collect()
                    })
                    .unwrap_or_default(),
                rigid: o.get("rigid").and_then(Json::as_str).map(Cow::Borrowed),
                has_pass,
            }
        }
        "job" => cn_job(p, false)?,
        "submit" => {
            let o = p.is_object().then_some(p)?;
            let job_id = o.get("job_id").and_then(scalar_text)?;
            let nonce = o.get("nonce")?.as_str()?;
            let result = o.get("result")?.as_str()?;
            if !is_hex(nonce) || !is_hex(result) {
                return None;
            }
            Signal::CnSubmit {
                job_id,
                nonce: nonce.into(),
            }
        }
        "keepalived" => Signal::CnKeepalive,
        "getjob" => Signal::CnGetJob,
        "getwork" => Signal::Getwork {
            submit: arr.first().and_then(Json::as_str).is_some_and(is_hex),
        },
        "getblocktemplate" => Signal::GetBlockTemplate,
        "submitblock" => Signal::SubmitBlock,
        other if other.starts_with("mining.") => Signal::OtherMiningMethod(other.into()),
        _ => return None,
    };
    Some(sig)
}

fn cn_job<'a>(p: &Json<'a>, in_login_reply: bool) -> Option<Signal<'a>> {
    let o = p.is_object().then_some(p)?;
    let blob = o.get("blob")?.as_str()?;
    let target = o.get("target")?.as_str()?;
    o.get("job_id")?;
    if !is_hex(blob) || !is_hex(target) {
        return None;
    }
    Some(Signal::CnJob {
        target: target.into(),
        algo: o.get("algo").and_then(Json::as_str).map(Cow::Borrowed),
        in_login_reply,
    })
}

fn classify_answer<'a>(m: &Message<'a>) -> Option<Signal<'a>> {
    let r = m.result.as_ref().unwrap_or(&NULL);
    // Subscribe answer: [[["mining.set_difficulty", id], ["mining.notify", id]], en1, en2size]
    // or NiceHash [["mining.notify", id, "EthereumStratum/1.0.0"], en1].
    // Any string in the first item, at any depth, as a name or a value.
    if let Some(first) = r.at(0)
        && first.any_str(&|s| s == "mining.notify")
    {
        return Some(Signal::SubscribeReply {
            ethereum_stratum: first.any_str(&|s| s.contains("EthereumStratum/")),
        });
    }
    if let Some(o) = r.is_object().then_some(r) {
        if let Some(job) = o.get("job")
            && let Some(s) = cn_job(job, true)
        {
            return Some(s);
        }
        if let Some(data) = o.get("data").and_then(Json::as_str) {
            // getwork: data is 128 bytes = 256 hex digits.
            if data.len() == 256 && is_hex(data) {
                return Some(Signal::GetworkReply {
                    target: o.get("target").and_then(Json::as_str).map(Cow::Borrowed),
                });
            }
        }
        if o.has("previousblockhash") && (o.has("coinbasevalue") || o.has("coinbasetxn")) {
            return Some(Signal::BlockTemplate);
        }
        if let Some(status) = o.get("status").and_then(Json::as_str) {
            return Some(Signal::Reply {
                id: m.id.clone(),
                ok: status.eq_ignore_ascii_case("OK"),
                error: m.error.is_some(),
            });
        }
    }
    if let Some(a) = r.as_array() {
        // eth-proxy work package: [header hash, seed hash, boundary (, block number)].
        // Some pools strip the boundary's leading zeros (peafowl capture: 58 digits).
        let hash32 = |v: &Json<'_>| {
            v.as_str()
                .is_some_and(|s| s.starts_with("0x") && s.len() == 66 && is_hex(s))
        };
        let boundary = |v: &Json<'_>| {
            v.as_str()
                .is_some_and(|s| s.starts_with("0x") && s.len() <= 66 && s.len() > 2 && is_hex(s))
        };
        if let [header, seed, b, rest @ ..] = a
            && rest.len() <= 1
            && hash32(header)
            && hash32(seed)
            && boundary(b)
        {
            return Some(Signal::EthWork {
                boundary: b.as_str().unwrap_or_default().into(),
                pushed: m.id.is_push(),
            });
        }
    }
    match (r, &m.error) {
        (Json::Bool(b), e) => Some(Signal::Reply {
            id: m.id.clone(),
            ok: *b && e.is_none(),
            error: e.is_some(),
        }),
        (_, Some(_)) => Some(Signal::Reply {
            id: m.id.clone(),
            ok: false,
            error: true,
        }),
        _ => None,
    }
}

/// The weight of an evidence code as [`Signal::code`] writes it: what a session's output alone
/// supports, for checking the confidence of a detection that arrives from elsewhere (an upload
/// to the server). The same values as [`Signal::weight`]; where two signals share a code (a
/// CryptoNote login with and without an agent) the lower, so a confidence recomputed from codes
/// is never above the one the scan computed. Codes no signal writes weigh nothing.
pub fn code_weight(code: &str) -> f32 {
    match code {
        "method:mining.subscribe"
        | "reply:mining.subscribe"
        | "method:mining.authorize"
        | "push:mining.notify"
        | "method:mining.submit"
        | "method:eth_submitLogin"
        | "push:eth-work"
        | "reply:eth_getWork"
        | "method:eth_submitWork"
        | "method:eth_submitHashrate"
        | "reply:login-job"
        | "push:job"
        | "method:submit"
        | "method:getwork"
        | "method:getwork-submit"
        | "reply:getwork"
        | "method:getblocktemplate"
        | "reply:getblocktemplate"
        | "method:submitblock"
        | "sv2:SetupConnection"
        | "sv2:OpenMiningChannel"
        | "sv2:SubmitShares" => 0.9,
        "push:mining.set_difficulty"
        | "push:mining.set_target"
        | "method:mining.configure"
        | "method:mining.extranonce.subscribe"
        | "push:mining.set_extranonce" => 0.85,
        "method:mining.get_transactions"
        | "method:mining.suggest_difficulty"
        | "method:mining.suggest_target"
        | "push:mining.set_version_mask"
        | "method:eth_getWork"
        | "sv2:SetTarget"
        | "sv2:NewMiningJob" => 0.8,
        "method:login"
        | "sv2:SetupConnection.Success"
        | "sv2:SubmitShares.Success"
        | "sv2:SubmitShares.Error" => 0.5,
        "method:keepalived" | "method:getjob" => 0.4,
        "push:client.reconnect" | "push:client.get_version" | "push:client.show_message" => 0.3,
        // Other `mining.*` methods the classifier took for mining (OtherMiningMethod).
        c if c.starts_with("method:mining.") => 0.5,
        _ => 0.0,
    }
}

/// The confidence that a session's evidence codes support, combined as a session combines
/// its signals (`1 - Π(1 - w)`).
pub fn confidence_of_codes<'a>(codes: impl IntoIterator<Item = &'a str>) -> f32 {
    let mut seen: Vec<&str> = Vec::new();
    let mut miss = 1.0f32;
    for c in codes {
        if !seen.contains(&c) {
            seen.push(c);
            miss *= 1.0 - code_weight(c);
        }
    }
    1.0 - miss
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_is_read_alike_at_every_length_and_place() {
        let naive = |s: &str| {
            let b = s.strip_prefix("0x").unwrap_or(s);
            !b.is_empty() && b.bytes().all(|c| c.is_ascii_hexdigit())
        };
        for len in [
            0usize, 1, 2, 15, 16, 17, 31, 32, 33, 47, 64, 65, 100, 128, 143,
        ] {
            let base: String = "0123456789abcdefABCDEF".chars().cycle().take(len).collect();
            for prefix in ["", "0x"] {
                let s = format!("{prefix}{base}");
                assert_eq!(is_hex(&s), naive(&s), "{s}");
                for at in 0..len {
                    for c in [b'/', b':', b'@', b'G', b'`', b'g', b' ', 0x7f, b'0', b'f'] {
                        let mut b = base.clone().into_bytes();
                        b[at] = c;
                        let s = format!("{prefix}{}", String::from_utf8(b).unwrap_or_default());
                        assert_eq!(is_hex(&s), naive(&s), "{s}");
                        // The SSE2 steps alone, as on a CPU without AVX2.
                        #[cfg(target_arch = "x86_64")]
                        if len >= 16 {
                            let b = s.strip_prefix("0x").unwrap_or(&s).as_bytes();
                            assert_eq!(sse2_hex(b), Some(naive(&s)), "{s}");
                        }
                    }
                }
            }
        }
        assert!(!is_hex("0x"));
        assert!(!is_hex("é0123456789abcdef0123"));
    }

    #[test]
    fn hex_is_checked_to_the_last_byte_of_every_chunk() {
        let plain = |s: &str| {
            let s = s.strip_prefix("0x").unwrap_or(s);
            !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit())
        };
        let long = "0123456789abcdefABCDEF".repeat(150);
        for bad in [b'g', b'G', b'/', b':', b'@', b'`', b' ', 0x80, b'x'] {
            for at in [0, 1, 31, 32, 33, 63, 64, long.len() - 1] {
                let mut v = long.clone().into_bytes();
                v[at] = bad;
                let s = String::from_utf8_lossy(&v).into_owned();
                assert_eq!(is_hex(&s), plain(&s), "{bad} at {at}");
                // The SSE2 steps alone, as on a CPU without AVX2.
                #[cfg(target_arch = "x86_64")]
                {
                    let b = s.strip_prefix("0x").unwrap_or(&s).as_bytes();
                    assert_eq!(sse2_hex(b), Some(plain(&s)), "{bad} at {at}");
                }
                // "0x" in front is a prefix, not a bad digit.
                assert_eq!(is_hex(&s), bad == b'x' && at == 1, "{bad} at {at}");
            }
        }
        for s in ["", "0x", "0", "0x0", "F", long.as_str()] {
            assert_eq!(is_hex(s), plain(s), "{s}");
        }
    }
    use crate::proto::stratum::parser::parse_line;

    fn sig(line: &str) -> Option<Signal<'static>> {
        // Leaked, as the signal borrows from the line's arena (a test's few lines).
        let arena: &'static bumpalo::Bump = Box::leak(Box::new(bumpalo::Bump::new()));
        let line: &'static str = Box::leak(line.to_string().into_boxed_str());
        classify(&parse_line(line.as_bytes(), arena).unwrap()[0])
    }

    #[test]
    fn bitcoin_family_methods() {
        let s =
            sig(r#"{"id": 1, "method": "mining.subscribe", "params": ["cgminer/3.7.2"]}"#).unwrap();
        assert_eq!(s.dialect(), None);
        assert!(matches!(s, Signal::Subscribe { agent: Some(ref a), .. } if a == "cgminer/3.7.2"));
        let n = sig(r#"{"params": ["bf", "4d16b6f85af6e2198f44ae2a6de67f78487ae5611b77c6c0440b921e00000000", "01000000010000000000000000000000000000000000000000000000000000000000000000ffffffff20020862062f503253482f04b8864e5008", "072f736c7573682f000000000100f2052a010000001976a914d23fcdf86f7e756a64a7a9688ef9903327048ed988ac00000000", [], "00000002", "1c2ac4af", "504e86b9", false], "id": null, "method": "mining.notify"}"#).unwrap();
        assert_eq!(n.dialect(), Some(Dialect::Bitcoin));
        assert_eq!(
            sig(r#"{"id":null,"method":"mining.set_difficulty","params":[16]}"#),
            Some(Signal::SetDifficulty(16.0))
        );
        assert!(matches!(
            sig(
                r#"{"id":4,"method":"mining.submit","params":["w","j","00","504e86ed","b2957c02"]}"#
            ),
            Some(Signal::Submit { params: 5, .. })
        ));
        for m in [
            "mining.configure",
            "mining.extranonce.subscribe",
            "mining.get_transactions",
            "mining.suggest_difficulty",
            "client.reconnect",
            "client.get_version",
            "client.show_message",
            "mining.set_extranonce",
        ] {
            let line = format!(r#"{{"id":9,"method":"{m}","params":[1]}}"#);
            assert!(sig(&line).is_some(), "{m}");
        }
    }

    #[test]
    fn equihash_and_nicehash_dialects() {
        let s = sig(r#"{"id":1,"method":"mining.subscribe","params":["EWBF Miner 0.3.4b",null,"eu1-zcash.flypool.org","3333"]}"#).unwrap();
        assert_eq!(s.dialect(), Some(Dialect::Equihash));
        let t = sig(r#"{"id":null,"method":"mining.set_target","params":["0004189374bc6a7ef9db22d0e5604189374bc6a7ef9db22d0e5604189374bc6a"]}"#).unwrap();
        assert_eq!(t.dialect(), Some(Dialect::Equihash));
        let e = sig(r#"{"id":1,"method":"mining.subscribe","params":["ethminer/0.19.0","EthereumStratum/1.0.0"]}"#).unwrap();
        assert_eq!(e.dialect(), Some(Dialect::EthereumStratum));
        let n = sig(r#"{"id":null,"method":"mining.notify","params":["bf0488aa","abad8f99f3918bf903c6a909d9bbc0fdfa5a2f4b9cb1196175ec825c6610126c","645cf20198c2f3861e947d4f67e3ab63b7b2e24dcc9095bd9123e7b33371f6cc",true]}"#).unwrap();
        assert_eq!(n.dialect(), Some(Dialect::EthereumStratum));
        let r = sig(r#"{"id":1,"result":[["mining.notify","ae6812eb4cd7735a302a8a9dd95cf71f","EthereumStratum/1.0.0"],"080c"],"error":null}"#).unwrap();
        assert_eq!(
            r,
            Signal::SubscribeReply {
                ethereum_stratum: true
            }
        );
    }

    #[test]
    fn eth_proxy() {
        let l = sig(r#"{"worker": "eth1.0", "jsonrpc": "2.0", "params": ["0xb85150eb365e7df0941f0cf08235f987ba91506a", "x"], "id": 2, "method": "eth_submitLogin"}"#).unwrap();
        assert!(matches!(
            l,
            Signal::EthSubmitLogin {
                worker: Some(_),
                ..
            }
        ));
        let w = sig(r#"{"id":0,"jsonrpc":"2.0","result":["0x1111111111111111111111111111111111111111111111111111111111111111","0x2222222222222222222222222222222222222222222222222222222222222222","0x00000000dbe6fecebdedd5beb573440e5a884d1b2fbf06fcce912adcb8d8422e"]}"#).unwrap();
        assert!(matches!(w, Signal::EthWork { pushed: true, .. }));
        // Leading zeros of the boundary stripped, block number appended (peafowl capture).
        let w = sig(r#"{"id":3,"jsonrpc":"2.0","result":["0x22b597d7bf24ef9a605a5d4fb6f7e155b7d0ce28ba6a9aa9eda6b74b34685d71","0x88615dc9f6fe84975a471ca044adecdfde8c8fcdde97d2a3416254d590c52d0c","0x0112e0be826d694b2e62d01511f12a6061fbaec8bc02357593e70e52ba","0x492609"]}"#).unwrap();
        assert!(matches!(w, Signal::EthWork { pushed: false, .. }));
        assert_eq!(
            sig(
                r#"{"id":5,"method":"eth_submitHashrate","params":["0x1d08a61","0x59daa26581d0acd1fce254fb7e85952f4c09d0915afd33d3886cd914bc7d283c"]}"#
            ),
            Some(Signal::EthSubmitHashrate(Some(30_444_129.0)))
        );
    }

    #[test]
    fn cryptonote() {
        let l = sig(r#"{"id":1,"jsonrpc":"2.0","method":"login","params":{"login":"4xyz","pass":"x","agent":"XMRig/6.21.0 (Linux x86_64) libuv/1.44.2 gcc/12.2.0","algo":["rx/0"]}}"#).unwrap();
        assert!(matches!(l, Signal::CnLogin { ref algos, .. } if algos == &["rx/0"]));
        let j = sig(r#"{"jsonrpc":"2.0","method":"job","params":{"blob":"0707","job_id":"1","target":"dc460300","algo":"rx/0","seed_hash":"aa"}}"#).unwrap();
        assert!(matches!(
            j,
            Signal::CnJob {
                in_login_reply: false,
                ..
            }
        ));
        let r = sig(r#"{"id":1,"jsonrpc":"2.0","error":null,"result":{"id":"1","job":{"blob":"0606","job_id":"2","target":"711b0d00"},"status":"OK"}}"#).unwrap();
        assert!(matches!(
            r,
            Signal::CnJob {
                in_login_reply: true,
                ..
            }
        ));
        let s = sig(r#"{"method":"submit","params":{"id":"1","job_id":"2","nonce":"1f000000","result":"ab00"},"id":2}"#).unwrap();
        assert!(matches!(s, Signal::CnSubmit { .. }));
        assert!(matches!(
            sig(r#"{"id":3,"jsonrpc":"2.0","result":{"status":"OK"}}"#),
            Some(Signal::Reply { ok: true, .. })
        ));
    }

    #[test]
    fn getwork_and_gbt() {
        assert_eq!(
            sig(r#"{"method": "getwork", "params": [], "id": 0}"#),
            Some(Signal::Getwork { submit: false })
        );
        let data = "0".repeat(256);
        assert_eq!(
            sig(&format!(
                r#"{{"method":"getwork","params":["{data}"],"id":1}}"#
            )),
            Some(Signal::Getwork { submit: true })
        );
        let reply = format!(
            r#"{{"result":{{"data":"{data}","target":"ffffffffffffffffffffffffffffffffffffffffffffffffffffffff00000000","midstate":"00","hash1":"00"}},"error":null,"id":0}}"#
        );
        assert!(matches!(
            sig(&reply),
            Some(Signal::GetworkReply { target: Some(_) })
        ));
        assert_eq!(
            sig(
                r#"{"id":0,"method":"getblocktemplate","params":[{"capabilities":["coinbasetxn","workid","coinbase/append"]}]}"#
            ),
            Some(Signal::GetBlockTemplate)
        );
        assert_eq!(
            sig(
                r#"{"result":{"previousblockhash":"00","coinbasevalue":5000000000,"transactions":[]},"id":0}"#
            ),
            Some(Signal::BlockTemplate)
        );
    }

    #[test]
    fn look_alikes_mean_nothing() {
        for line in [
            r#"{"jsonrpc":"2.0","method":"eth_getBalance","params":["0x407d73d8a49eeb85d32cf465507dd71d507100c1","latest"],"id":1}"#,
            r#"{"jsonrpc":"2.0","method":"eth_call","params":[{"to":"0x0"},"latest"],"id":1}"#,
            r#"{"jsonrpc":"2.0","method":"getbalance","params":[],"id":1}"#,
            r#"{"jsonrpc":"2.0","method":"initialize","params":{"processId":1,"rootUri":null},"id":0}"#,
            r#"{"jsonrpc":"2.0","method":"login","params":{"user":"bob","password":"x"},"id":1}"#,
            r#"{"jsonrpc":"2.0","method":"submit","params":{"form":"contact"},"id":1}"#,
            r#"{"jsonrpc":"2.0","method":"job","params":{"name":"backup"},"id":1}"#,
            r#"{"jsonrpc":"2.0","method":"zabbix.status","params":{},"id":103796}"#,
            r#"{"jsonrpc":"2.0","id":1,"result":"Geth/v1.8.2-stable/linux-amd64/go1.9.2"}"#,
        ] {
            assert_eq!(sig(line), None, "{line}");
        }
    }
}
