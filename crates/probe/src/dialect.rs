//! What each probe says, and what in an answer shows a pool.
//!
//! The requests are the first messages a miner sends (method names from the protocols'
//! specifications and pool documentation: Stratum v1 as in slush's original and
//! NiceHash's EthereumStratum/1.0.0 documents, CryptoNote as XMRig speaks it, eth-proxy's
//! `eth_submitLogin`/`eth_getWork`, BIP 22's `getblocktemplate`, the getwork of Bitcoin Core
//! before 0.10, and Stratum V2's `SetupConnection` from its specification). They log in with a
//! worker name that is not a wallet (`minewatch-probe`), so a pool can only refuse it or hand
//! out work that nobody will do.
//!
//! **What counts as a pool**, whatever was asked (a pool may answer in its own dialect):
//! - Stratum v1: a subscribe result that names `mining.notify` (with the extranonce), or a push
//!   of `mining.notify`, `mining.set_difficulty`, `mining.set_target` or
//!   `mining.set_extranonce`: only a pool hands out work or difficulty.
//! - A Stratum error array `[code, "message", data]`: the shape of Stratum v1 errors (slush's
//!   documentation; ckpool, NOMP and their kin answer unknown methods and bad workers with it).
//!   JSON-RPC 2.0 servers answer errors with an object instead, so a wallet API does not pass.
//! - CryptoNote: a job with `blob`, `job_id` and `target` (in the login result or pushed), or a
//!   login refused with an error whose message speaks of a wallet, address or payout.
//! - eth-proxy: a work package (header hash, seed hash, boundary), or `eth_submitLogin` refused
//!   with the same vocabulary.
//! - getwork / getblocktemplate over HTTP: a `data` of 128 bytes, or a template with
//!   `previousblockhash` and a coinbase value. (A node's RPC that asks for a password, HTTP
//!   401, is not a pool: it is somebody's node.)
//! - Stratum V2: `SetupConnection.Success`, or `SetupConnection.Error` with a well-formed error
//!   code (only a mining server speaks that framing).
//!
//! Anything else (an HTTP page, an SSH banner, our own bytes echoed, a JSON-RPC error object
//! about an unknown method, silence) is not a pool.

use minewatch_model::{Algorithm, Coin};
use minewatch_net::proto::stratum::json::Json;
use minewatch_net::proto::stratum::{Bump, Signal, classify, parse_line};
use minewatch_net::proto::{http, sv2};
use minewatch_net::session::Session;
use serde::Serialize;

/// A probe's protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum Dialect {
    /// Stratum v1, Bitcoin family: `mining.subscribe` then `mining.authorize`.
    #[serde(rename = "stratum")]
    Stratum,
    /// NiceHash EthereumStratum/1.0.0: the same with the protocol named in the subscribe.
    #[serde(rename = "ethereumstratum")]
    EthereumStratum,
    /// CryptoNote (XMRig): `login`.
    #[serde(rename = "cryptonote")]
    CryptoNote,
    /// eth-proxy: `eth_submitLogin` then `eth_getWork`.
    #[serde(rename = "eth-proxy")]
    EthProxy,
    /// getwork over HTTP.
    #[serde(rename = "getwork")]
    Getwork,
    /// getblocktemplate over HTTP (BIP 22).
    #[serde(rename = "getblocktemplate")]
    GetBlockTemplate,
    /// Stratum V2 `SetupConnection`, plaintext.
    #[serde(rename = "stratum-v2")]
    StratumV2,
}

impl Dialect {
    /// Every probe, in the order tried: the most common pools first (Stratum v1, then
    /// CryptoNote), HTTP and binary framing last.
    pub const ALL: [Dialect; 7] = [
        Dialect::Stratum,
        Dialect::CryptoNote,
        Dialect::EthereumStratum,
        Dialect::EthProxy,
        Dialect::StratumV2,
        Dialect::GetBlockTemplate,
        Dialect::Getwork,
    ];

    /// The name in output and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Dialect::Stratum => "stratum",
            Dialect::EthereumStratum => "ethereumstratum",
            Dialect::CryptoNote => "cryptonote",
            Dialect::EthProxy => "eth-proxy",
            Dialect::Getwork => "getwork",
            Dialect::GetBlockTemplate => "getblocktemplate",
            Dialect::StratumV2 => "stratum-v2",
        }
    }

    /// The dialect named `s`.
    pub fn from_name(s: &str) -> Option<Dialect> {
        Dialect::ALL.into_iter().find(|d| d.name() == s)
    }

    /// The bytes the probe sends; `agent` identifies the prober, `host:port` is the target.
    pub fn request(self, agent: &str, host: &str, port: u16) -> Vec<u8> {
        let agent_json = serde_json::Value::from(agent).to_string();
        let lines = |ls: &[String]| ls.iter().map(|l| format!("{l}\n")).collect::<String>();
        let authorize =
            format!(r#"{{"id":2,"method":"mining.authorize","params":["{WORKER}","x"]}}"#);
        let http_post = |body: &str| {
            format!(
                "POST / HTTP/1.1\r\nHost: {host}:{port}\r\nUser-Agent: {agent}\r\n\
                 Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )
        };
        match self {
            Dialect::Stratum => lines(&[
                format!(r#"{{"id":1,"method":"mining.subscribe","params":[{agent_json}]}}"#),
                authorize,
            ])
            .into_bytes(),
            Dialect::EthereumStratum => lines(&[
                format!(
                    r#"{{"id":1,"method":"mining.subscribe","params":[{agent_json},"EthereumStratum/1.0.0"]}}"#
                ),
                authorize,
            ])
            .into_bytes(),
            Dialect::CryptoNote => lines(&[format!(
                r#"{{"id":1,"jsonrpc":"2.0","method":"login","params":{{"login":"{WORKER}","pass":"x","agent":{agent_json}}}}}"#
            )])
            .into_bytes(),
            Dialect::EthProxy => lines(&[
                format!(
                    r#"{{"id":1,"jsonrpc":"2.0","method":"eth_submitLogin","params":["{WORKER}","x"],"worker":"{WORKER}"}}"#
                ),
                r#"{"id":2,"jsonrpc":"2.0","method":"eth_getWork","params":[]}"#.to_string(),
            ])
            .into_bytes(),
            Dialect::Getwork => http_post(r#"{"id":1,"method":"getwork","params":[]}"#).into_bytes(),
            Dialect::GetBlockTemplate => {
                http_post(r#"{"id":1,"method":"getblocktemplate","params":[{"rules":["segwit"]}]}"#)
                    .into_bytes()
            }
            Dialect::StratumV2 => minewatch_net::synth::sv2::setup_connection(
                host,
                port,
                "minewatch-probe",
                "probe",
                env!("CARGO_PKG_VERSION"),
                "minewatch-probe",
            ),
        }
    }
}

/// The worker name every probe logs in with: not a wallet, and says who asks.
pub const WORKER: &str = "minewatch-probe";

/// What an answer showed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Judgement {
    /// Why this is a pool, when it is one (the first thing that showed it).
    pub pool: Option<String>,
    /// The dialect the answer spoke, when it showed one (`bitcoin`, `cryptonote`…, the scan's
    /// names).
    pub dialect: Option<String>,
    /// The coin the answer shows (a CryptoNote job's algorithm, a coinbase's height…), never
    /// one guessed from the dialect alone.
    pub coin: Option<Coin>,
    /// The answer opened a TLS record: the server wants TLS.
    pub tls: bool,
}

/// Judges what a server answered to probe `sent` (the bytes so far; call again as more come).
pub fn judge(sent: Dialect, request: &[u8], answer: &[u8]) -> Judgement {
    let mut j = Judgement {
        tls: matches!(answer, [0x15 | 0x16, 0x03, ..]),
        ..Judgement::default()
    };
    if j.tls {
        return j;
    }
    let mut session = Session::default();
    // Our own request first, as a miner's side of the conversation, so the session weighs the
    // answer in context (the coin inference reads both sides).
    apply_own(&mut session, sent, request);
    let mut found: Option<(String, Option<String>)> = None;
    let mut algo_shown: Option<String> = None;
    let mut note = |why: String, dialect: Option<String>| {
        if found.is_none() {
            found = Some((why, dialect));
        }
    };
    if sent == Dialect::StratumV2 {
        if let Ok((f, _)) = sv2::frame(answer)
            && f.extension == 0
        {
            if f.msg_type == sv2::msg::SETUP_CONNECTION_ERROR && sv2_error(f.payload).is_some() {
                let code = sv2_error(f.payload).unwrap_or_default();
                note(
                    format!("SetupConnection.Error {code}"),
                    Some("stratum-v2".into()),
                );
            }
            if let Some(sig) = sv2::classify(&f) {
                if sig == Signal::Sv2SetupSuccess {
                    note("SetupConnection.Success".into(), Some("stratum-v2".into()));
                }
                session.apply(1, &sig, 0);
            }
        }
    } else {
        // The answer is the pool's to write: the arena holds one line's values at a time.
        let mut arena = Bump::new();
        for body in bodies(answer) {
            for line in body.split(|&b| b == b'\n') {
                arena.reset();
                let Ok(msgs) = parse_line(line, &arena) else {
                    continue;
                };
                for m in &msgs {
                    let sig = classify(m);
                    if let Some(why) = sig.as_ref().and_then(work_shape) {
                        note(
                            why,
                            sig.as_ref()
                                .and_then(Signal::dialect)
                                .map(|d| d.name().into()),
                        );
                    }
                    if let Some(e) = &m.error
                        && let Some(why) = refusal_shape(sent, e)
                    {
                        note(why, None);
                    }
                    if let Some(Signal::CnJob { algo: Some(a), .. }) = &sig {
                        algo_shown.get_or_insert_with(|| a.to_string());
                    }
                    if let Some(sig) = sig {
                        session.apply(1, &sig, 0);
                    }
                }
            }
        }
    }
    if let Some((why, dialect)) = found {
        let mut weight = 0.0;
        let facts = session.facts(0, 1.0, String::new(), &mut weight);
        j.pool = Some(why);
        j.dialect = dialect.or_else(|| Some(facts.dialect.clone()));
        // A coin guessed from the dialect alone (Stratum v1 → Bitcoin) is not shown by the
        // answer; the scan may say it, the probe does not.
        // A named algorithm that is the coin's own (a CryptoNote job's `rx/0` for Monero)
        // does show it.
        let algo_fits = |c: Coin| {
            algo_shown
                .as_deref()
                .and_then(Algorithm::from_miner_name)
                .is_some_and(|(a, _)| a == c.algorithm())
        };
        j.coin = facts
            .coin
            .filter(|&c| facts.coin_source.as_deref() != Some("dialect") || algo_fits(c));
    }
    j
}

/// Applies our own request's signals to `session`, as the miner's side (side 0): each
/// line's signals borrow from that line's arena, so they are applied before the next.
fn apply_own(session: &mut Session, sent: Dialect, request: &[u8]) {
    if sent == Dialect::StratumV2 {
        if let Some(sig) = sv2::frame(request)
            .ok()
            .and_then(|(f, _)| sv2::classify(&f))
        {
            session.apply(0, &sig, 0);
        }
        return;
    }
    let mut arena = Bump::new();
    for body in bodies(request) {
        for line in body.split(|&b| b == b'\n') {
            arena.reset();
            if let Ok(msgs) = parse_line(line, &arena) {
                for sig in msgs.iter().filter_map(classify) {
                    session.apply(0, &sig, 0);
                }
            }
        }
    }
}

/// The JSON text of an exchange: each HTTP message's body, or the bytes themselves when they
/// are not HTTP.
fn bodies(b: &[u8]) -> Vec<&[u8]> {
    if !http::looks_like_http(b) {
        return vec![b];
    }
    let mut out = Vec::new();
    let mut rest = b;
    while let Ok(head) = http::parse_head(rest) {
        let body = rest.get(head.head_len..).unwrap_or_default();
        let len = head.content_length.unwrap_or(body.len()).min(body.len());
        // A 401 or 403 is a node asking for its password: its body is not an answer.
        let (content, after) = body.split_at(len);
        if !matches!(head.status, Some(401 | 403)) {
            out.push(content);
        }
        rest = after;
        if rest.is_empty() {
            break;
        }
    }
    out
}

/// Why a signal shows a pool handing out work, when it does.
fn work_shape(sig: &Signal) -> Option<String> {
    Some(match sig {
        Signal::SubscribeReply { .. } => "subscribe result naming mining.notify".into(),
        Signal::Notify { .. } => "mining.notify pushed".into(),
        Signal::SetDifficulty(d) => format!("mining.set_difficulty {d} pushed"),
        Signal::SetTarget(_) => "mining.set_target pushed".into(),
        Signal::SetExtranonce => "mining.set_extranonce pushed".into(),
        Signal::CnJob { .. } => "CryptoNote job (blob, job_id, target)".into(),
        Signal::EthWork { .. } => "eth work package".into(),
        Signal::GetworkReply { .. } => "getwork data".into(),
        Signal::BlockTemplate => "block template".into(),
        _ => return None,
    })
}

/// Why an error shows a pool refusing a miner, when it does.
fn refusal_shape(sent: Dialect, e: &Json<'_>) -> Option<String> {
    if let Some(a) = e.as_array()
        && (2..=3).contains(&a.len())
        && matches!(a.first(), Some(Json::Num(_)))
        && let Some(msg) = a.get(1).and_then(Json::as_str)
    {
        return Some(format!("Stratum error array: {}", clip(msg, 80)));
    }
    if matches!(sent, Dialect::CryptoNote | Dialect::EthProxy)
        && let Some(msg) = e.get("message").and_then(Json::as_str)
    {
        let m = msg.to_ascii_lowercase();
        if ["wallet", "address", "payout"]
            .iter()
            .any(|w| m.contains(w))
        {
            return Some(format!("login refused: {}", clip(msg, 80)));
        }
    }
    None
}

/// `SetupConnection.Error`'s error code, when the payload is exactly flags and a STR0_255.
fn sv2_error(p: &[u8]) -> Option<String> {
    let len = usize::from(*p.get(4)?);
    let code = p.get(5..)?;
    (code.len() == len)
        .then(|| String::from_utf8(code.to_vec()).ok())
        .flatten()
}

fn clip(s: &str, n: usize) -> &str {
    let mut end = s.len().min(n);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// A bounded, printable excerpt of an answer: text as it is (control bytes escaped), binary
/// as hex.
pub fn excerpt(answer: &[u8], max: usize) -> String {
    let a = answer.get(..max).unwrap_or(answer);
    let texty = a
        .iter()
        .filter(|&&b| {
            b.is_ascii_graphic() || b == b' ' || b == b'\n' || b == b'\r' || b == b'\t' || b >= 0x80
        })
        .count();
    if a.is_empty() || texty * 10 >= a.len() * 9 {
        String::from_utf8_lossy(a).escape_debug().to_string()
    } else {
        a.iter().map(|b| format!("{b:02x}")).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(sent: Dialect, answer: &str) -> Option<String> {
        judge(sent, &sent.request("t", "h", 1), answer.as_bytes()).pool
    }

    #[test]
    fn our_own_requests_echoed_are_not_a_pool() {
        for d in Dialect::ALL {
            let r = d.request("agent", "pool.test", 3333);
            assert_eq!(judge(d, &r, &r).pool, None, "{d:?}");
        }
    }

    #[test]
    fn errors_in_a_pools_shape_and_in_a_wallets_shape() {
        let s = Dialect::Stratum;
        assert!(
            pool(
                s,
                "{\"id\":1,\"result\":null,\"error\":[20,\"Other/Unknown\",null]}\n"
            )
            .is_some()
        );
        assert!(
            pool(
                s,
                "{\"id\":1,\"result\":null,\"error\":[24,\"Unauthorized worker\"]}\n"
            )
            .is_some()
        );
        let wallet = "{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":-32601,\"message\":\"Method not found\"}}\n";
        for d in Dialect::ALL {
            assert_eq!(pool(d, wallet), None, "{d:?}");
        }
        let refused = "{\"id\":1,\"jsonrpc\":\"2.0\",\"error\":{\"code\":-1,\"message\":\"Invalid payment address provided\"}}\n";
        assert!(pool(Dialect::CryptoNote, refused).is_some());
        assert_eq!(
            pool(Dialect::Stratum, refused),
            None,
            "only a login can be refused so"
        );
        let node = "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"jsonrpc\"\r\nContent-Length: 0\r\n\r\n";
        assert_eq!(pool(Dialect::GetBlockTemplate, node), None);
    }

    #[test]
    fn a_tls_record_is_told_and_binary_answers_are_hex() {
        let j = judge(
            Dialect::Stratum,
            b"",
            &[0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x46],
        );
        assert!(j.tls && j.pool.is_none());
        assert_eq!(excerpt(&[0x15, 0x03, 0x00], 10), "150300");
        assert_eq!(excerpt(b"SSH-2.0-x\r\n", 100), "SSH-2.0-x\\r\\n");
        assert_eq!(excerpt(&[b'a'; 1000], 5), "aaaaa");
    }

    #[test]
    fn an_sv2_error_code_is_read_only_when_its_length_is_exact() {
        let frame = |payload: &[u8]| {
            let mut f = vec![0, 0, sv2::msg::SETUP_CONNECTION_ERROR];
            f.extend_from_slice(&(payload.len() as u32).to_le_bytes()[..3]);
            f.extend_from_slice(payload);
            f
        };
        let req = Dialect::StratumV2.request("t", "h", 1);
        let good = [&[0u8, 0, 0, 0, 3][..], b"bad"].concat();
        assert!(
            judge(Dialect::StratumV2, &req, &frame(&good))
                .pool
                .is_some()
        );
        for payload in [
            &[][..],
            &[0, 0, 0, 0][..],
            &[0, 0, 0, 0, 255, b'x'][..],
            &[0, 0, 0, 0, 0, b'x'][..],
            &[0, 0, 0, 0, 4, b'b', b'a', b'd'][..],
        ] {
            assert!(
                judge(Dialect::StratumV2, &req, &frame(payload))
                    .pool
                    .is_none(),
                "{payload:?}"
            );
        }
        // A frame that claims more than it has is no answer yet.
        let mut short = frame(&good);
        short[3] = 0xff;
        assert!(judge(Dialect::StratumV2, &req, &short).pool.is_none());
    }
}
