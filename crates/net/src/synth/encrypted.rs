//! Encrypted sessions for the behaviour detector: mining conversations and long-lived
//! look-alikes, each message sealed by a real TLS 1.3 connection (rustls, in memory) and sent
//! with its scripted timing, so the capture carries exactly the record sizes and moments a real
//! TLS miner would put on the wire.
//!
//! Mining timelines follow the protocol facts in docs/FACTS.md §N1–§N5: share submissions
//! at exponentially distributed moments (vardiff aims at a few shares a minute), each answered
//! by the pool at once; job pushes when the coin's chain moves (and, for Bitcoin pools, a
//! refresh every 30–60 s); XMRig's `keepalived` every 60 s. Block times are drawn as a Poisson
//! process at the coin's block interval and written next to the capture for `--block-times`.

use super::sessions::{Scenario, T0, Truth};
use super::tcp::{Conversation, Dir, Shape};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, ServerConfig, ServerConnection};

const SEC: i64 = 1_000_000_000;

/// Why a TLS session could not be made.
#[derive(Debug, thiserror::Error)]
pub enum TlsSynthError {
    /// Certificate generation failed.
    #[error("certificate: {0}")]
    Cert(#[from] rcgen::Error),
    /// rustls refused.
    #[error("tls: {0}")]
    Tls(#[from] rustls::Error),
    /// Moving bytes between the two ends failed.
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    /// The server name is not valid.
    #[error("server name {0:?}")]
    Name(String),
}

/// A client and a server TLS connection joined in memory.
struct Pair {
    client: ClientConnection,
    server: ServerConnection,
}

impl Pair {
    fn new(name: &str) -> Result<Pair, TlsSynthError> {
        // ring, not aws-lc-rs: no C toolchain beyond what the build has. rustls 0.23.48
        // deprecates it for lacking post-quantum key exchange (seen in the fuzz build's
        // lock), which synthetic traffic made and read in one process does not need.
        #[allow(deprecated)]
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let ck = rcgen::generate_simple_self_signed(vec![name.to_string()])?;
        let cert: CertificateDer<'static> = ck.cert.der().clone();
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(ck.key_pair.serialize_der()));
        let mut roots = RootCertStore::empty();
        roots.add(cert.clone())?;
        let cc = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let sc = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(vec![cert], key)?;
        let sn =
            ServerName::try_from(name.to_string()).map_err(|_| TlsSynthError::Name(name.into()))?;
        Ok(Pair {
            client: ClientConnection::new(Arc::new(cc), sn)?,
            server: ServerConnection::new(Arc::new(sc))?,
        })
    }

    /// Whatever `dir`'s sender has to write, delivered to the other end too.
    fn flush(&mut self, dir: Dir) -> Result<Vec<u8>, TlsSynthError> {
        let mut out = Vec::new();
        match dir {
            Dir::Up => {
                while self.client.wants_write() {
                    self.client.write_tls(&mut out)?;
                }
                let mut rd = &out[..];
                while !rd.is_empty() {
                    self.server.read_tls(&mut rd)?;
                    self.server.process_new_packets()?;
                }
                drain_plain(self.server.reader());
            }
            Dir::Down => {
                while self.server.wants_write() {
                    self.server.write_tls(&mut out)?;
                }
                let mut rd = &out[..];
                while !rd.is_empty() {
                    self.client.read_tls(&mut rd)?;
                    self.client.process_new_packets()?;
                }
                drain_plain(self.client.reader());
            }
        }
        Ok(out)
    }

    /// The handshake, flight by flight.
    fn handshake(&mut self) -> Result<Vec<(Dir, Vec<u8>)>, TlsSynthError> {
        let mut flights = Vec::new();
        for _ in 0..8 {
            if !self.client.is_handshaking() && !self.server.is_handshaking() {
                break;
            }
            for dir in [Dir::Up, Dir::Down] {
                let b = self.flush(dir)?;
                if !b.is_empty() {
                    flights.push((dir, b));
                }
            }
        }
        Ok(flights)
    }

    /// Seals one plaintext message sent in `dir`.
    fn seal(&mut self, dir: Dir, plain: &[u8]) -> Result<Vec<u8>, TlsSynthError> {
        use std::io::Write;
        match dir {
            Dir::Up => self.client.writer().write_all(plain)?,
            Dir::Down => self.server.writer().write_all(plain)?,
        }
        self.flush(dir)
    }
}

fn drain_plain(mut r: rustls::Reader<'_>) {
    let mut sink = [0u8; 16 * 1024];
    while let Ok(n) = std::io::Read::read(&mut r, &mut sink) {
        if n == 0 {
            break;
        }
    }
}

pub use super::rng::Rng;

/// Poisson block times (seconds) of a coin over `[start, end)` ns.
pub fn block_times(rng: &mut Rng, interval_s: f64, start: i64, end: i64) -> Vec<i64> {
    let mut t = start - rng.exp_ns(interval_s);
    let mut out = Vec::new();
    while t < end {
        t += rng.exp_ns(interval_s);
        out.push(t / SEC);
    }
    out
}

/// `(ns since start, direction, bytes)`.
pub type Timeline = Vec<(i64, Dir, Vec<u8>)>;
/// A look-alike's timeline maker.
type LookAlike = fn(&mut Rng, i64) -> Timeline;

/// cgminer on a Bitcoin pool: a share every 12 s on average, a job per block and every 30–60 s.
fn stratum_btc(rng: &mut Rng, blocks: &[i64], end: i64) -> Timeline {
    bitcoin_pool(rng, blocks, end, |rng| 30 + rng.between(0, 30) as i64, 12.0)
}

/// cpuminer at a low fixed difficulty (`-D`/`--diff` on a private pool, or a pool port with a
/// fixed low difficulty): a share every 1.3 s on average, each answered, a job per block and
/// every 30 s. Measured from outside with cpuminer 2.5.1 on one core over stunnel (issue 16):
/// the behaviour detector took it for interactive use.
fn fast_shares(rng: &mut Rng, blocks: &[i64], end: i64) -> Timeline {
    bitcoin_pool(rng, blocks, end, |_| 30, 1.3)
}

/// A Stratum v1 session on a Bitcoin pool: subscribe and authorize, a clean job on every
/// block, a job every `job_gap(rng)` seconds between, shares at Poisson moments of mean
/// `share_mean_s`, each accepted.
fn bitcoin_pool(
    rng: &mut Rng,
    blocks: &[i64],
    end: i64,
    job_gap: impl Fn(&mut Rng) -> i64,
    share_mean_s: f64,
) -> Timeline {
    let mut tl: Timeline = vec![
        (SEC, Dir::Up, br#"{"id":1,"method":"mining.subscribe","params":["cgminer/4.12.1"]}"#.to_vec()),
        (SEC + SEC / 20, Dir::Down, br#"{"id":1,"result":[[["mining.notify","ae6812eb4cd7735a302a8a9dd95cf71f"]],"08000002",4],"error":null}"#.to_vec()),
        (2 * SEC, Dir::Up, br#"{"id":2,"method":"mining.authorize","params":["worker1.rig","x"]}"#.to_vec()),
        (2 * SEC + SEC / 20, Dir::Down, br#"{"id":2,"result":true,"error":null}"#.to_vec()),
    ];
    let notify = |rng: &mut Rng, job: u32, clean: bool| {
        format!(
            r#"{{"params":["{job:x}","{}","01000000010000000000000000000000000000000000000000000000000000000000000000ffffffff20020862062f503253482f04b8864e5008","072f736c7573682f000000000100f2052a010000001976a914d23fcdf86f7e756a64a7a9688ef9903327048ed988ac00000000",["{}","{}"],"20000000","17034219","{:08x}",{clean}],"id":null,"method":"mining.notify"}}"#,
            rng.hex(64),
            rng.hex(64),
            rng.hex(64),
            1_709_251_200 + job
        )
        .into_bytes()
    };
    let mut job = 1;
    for &b in blocks {
        let t = b * SEC - T0 + SEC + rng.exp_ns(1.5);
        if t > 3 * SEC && t < end {
            tl.push((t, Dir::Down, notify(rng, job, true)));
            job += 1;
        }
    }
    let mut t = 3 * SEC;
    while t < end {
        t += job_gap(rng) * SEC;
        tl.push((t, Dir::Down, notify(rng, job, false)));
        job += 1;
    }
    let mut id = 3;
    let mut t = 3 * SEC;
    loop {
        t += rng.exp_ns(share_mean_s);
        if t >= end {
            break;
        }
        let up = format!(
            r#"{{"params":["worker1.rig","{:x}","{}","{:08x}","{}"],"id":{id},"method":"mining.submit"}}"#,
            rng.between(1, 4000),
            rng.hex(8),
            1_709_251_200 + rng.between(0, 9999),
            rng.hex(8)
        );
        tl.push((t, Dir::Up, up.into_bytes()));
        tl.push((
            t + SEC / 25,
            Dir::Down,
            format!(r#"{{"id":{id},"result":true,"error":null}}"#).into_bytes(),
        ));
        id += 1;
    }
    tl
}

fn xmrig(rng: &mut Rng, blocks: &[i64], end: i64) -> Timeline {
    let job = |rng: &mut Rng| {
        format!(
            r#"{{"jsonrpc":"2.0","method":"job","params":{{"blob":"{}","job_id":"{}","target":"b88d0600","algo":"rx/0","height":3100000,"seed_hash":"{}"}}}}"#,
            rng.hex(152),
            rng.hex(16),
            rng.hex(64)
        )
        .into_bytes()
    };
    let mut tl: Timeline = vec![(
        SEC,
        Dir::Up,
        br#"{"id":1,"jsonrpc":"2.0","method":"login","params":{"login":"44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A","pass":"x","agent":"XMRig/6.21.0 (Linux x86_64) libuv/1.44.2 gcc/12.2.0","algo":["rx/0"]}}"#.to_vec(),
    )];
    let first = job(rng);
    tl.push((SEC + SEC / 20, Dir::Down, first));
    for &b in blocks {
        let t = b * SEC - T0 + SEC + rng.exp_ns(1.5);
        if t > 2 * SEC && t < end {
            tl.push((t, Dir::Down, job(rng)));
        }
    }
    let mut t = 2 * SEC;
    while t + 60 * SEC < end {
        t += 60 * SEC;
        tl.push((
            t,
            Dir::Up,
            br#"{"id":2,"jsonrpc":"2.0","method":"keepalived","params":{"id":"a3f1c09e"}}"#
                .to_vec(),
        ));
        tl.push((
            t + SEC / 25,
            Dir::Down,
            br#"{"id":2,"jsonrpc":"2.0","error":null,"result":{"status":"KEEPALIVED"}}"#.to_vec(),
        ));
    }
    let mut t = 2 * SEC;
    let mut id = 3;
    loop {
        t += rng.exp_ns(25.0);
        if t >= end {
            break;
        }
        let up = format!(
            r#"{{"id":{id},"jsonrpc":"2.0","method":"submit","params":{{"id":"a3f1c09e","job_id":"{}","nonce":"{}","result":"{}","algo":"rx/0"}}}}"#,
            rng.hex(16),
            rng.hex(8),
            rng.hex(64)
        );
        tl.push((t, Dir::Up, up.into_bytes()));
        tl.push((
            t + SEC / 25,
            Dir::Down,
            format!(r#"{{"id":{id},"jsonrpc":"2.0","error":null,"result":{{"status":"OK"}}}}"#)
                .into_bytes(),
        ));
        id += 1;
    }
    tl
}

/// Content of look-alike messages: only the size shows through TLS, so any bytes will do.
fn filler(_rng: &mut Rng, n: usize) -> Vec<u8> {
    vec![b'.'; n]
}

fn chat(rng: &mut Rng, end: i64) -> Timeline {
    let mut tl = Timeline::new();
    let mut t = SEC;
    while t < end {
        t += rng.exp_ns(20.0);
        let (dir, other) = if rng.unit() < 0.5 {
            (Dir::Up, Dir::Down)
        } else {
            (Dir::Down, Dir::Up)
        };
        let n = rng.between(20, 1800);
        tl.push((t, dir, filler(rng, n)));
        // Delivery receipts.
        tl.push((t + SEC / 10, other, filler(rng, 40)));
    }
    tl
}

fn push_notifications(rng: &mut Rng, end: i64) -> Timeline {
    let mut tl = Timeline::new();
    let mut t = SEC;
    while t < end {
        t += 240 * SEC;
        tl.push((t, Dir::Up, filler(rng, 32)));
        tl.push((t + SEC / 10, Dir::Down, filler(rng, 32)));
    }
    let mut t = SEC;
    loop {
        t += rng.exp_ns(300.0);
        if t >= end {
            break;
        }
        let n = rng.between(200, 3000);
        tl.push((t, Dir::Down, filler(rng, n)));
        tl.push((t + SEC / 10, Dir::Up, filler(rng, 30)));
    }
    tl
}

fn dashboard(rng: &mut Rng, end: i64) -> Timeline {
    let mut tl = Timeline::new();
    let mut t = SEC;
    while t < end {
        t += SEC;
        let n = rng.between(500, 3000);
        tl.push((t, Dir::Down, filler(rng, n)));
        if (t / SEC) % 30 == 0 {
            tl.push((t + SEC / 2, Dir::Up, filler(rng, 20)));
        }
    }
    tl
}

fn video(rng: &mut Rng, end: i64) -> Timeline {
    let mut tl = Timeline::new();
    let mut t = SEC;
    while t < end {
        t += 4 * SEC;
        tl.push((t, Dir::Up, filler(rng, 420)));
        // A 128 KB segment every four seconds (256 kbit/s, a low video rate).
        for k in 0..8 {
            let n = 16 * 1024;
            tl.push((t + SEC / 10 + k * SEC / 100, Dir::Down, filler(rng, n)));
        }
    }
    tl
}

/// A metrics agent writing to its collector over HTTPS, as Telegraf does with its defaults
/// (docs/FACTS.md §N6): one POST of a batch of line protocol every `flush_interval` (10 s) plus
/// up to `flush_jitter` (5 s here), 1–6 KB as the gathered metrics vary, each answered with a
/// bodiless `204 No Content`.
fn metrics_agent(rng: &mut Rng, end: i64) -> Timeline {
    let mut tl = Timeline::new();
    let mut t = SEC;
    loop {
        t += 10 * SEC + (rng.unit() * 5e9) as i64;
        if t >= end {
            break;
        }
        let n = rng.between(1_000, 6_000);
        tl.push((t, Dir::Up, filler(rng, n)));
        let took = SEC / 50 + (rng.unit() * 1e8) as i64;
        tl.push((t + took, Dir::Down, filler(rng, 150)));
    }
    tl
}

/// A chat client on Socket.IO over secure WebSocket (docs/FACTS.md §N6): the server pings every
/// `pingInterval` (25 s), the client pongs at once; chat messages come at random moments from
/// either side, 40–600 bytes, and the server acknowledges what the client sends.
fn socketio_chat(rng: &mut Rng, end: i64) -> Timeline {
    let mut tl = Timeline::new();
    let mut t = SEC;
    while t + 25 * SEC < end {
        t += 25 * SEC;
        tl.push((t, Dir::Down, filler(rng, 3)));
        tl.push((t + SEC / 25, Dir::Up, filler(rng, 7)));
    }
    let mut t = SEC;
    loop {
        t += rng.exp_ns(40.0);
        if t >= end {
            break;
        }
        let n = rng.between(40, 600);
        if rng.unit() < 0.5 {
            tl.push((t, Dir::Up, filler(rng, n)));
            tl.push((t + SEC / 20, Dir::Down, filler(rng, 12)));
        } else {
            tl.push((t, Dir::Down, filler(rng, n)));
        }
    }
    tl
}

fn telemetry(rng: &mut Rng, end: i64) -> Timeline {
    let mut tl = Timeline::new();
    let mut t = SEC;
    loop {
        t += rng.exp_ns(15.0);
        if t >= end {
            break;
        }
        tl.push((t, Dir::Up, filler(rng, 180)));
        tl.push((t + SEC / 20, Dir::Down, filler(rng, 8)));
    }
    let commands = rng.between(0, 3);
    for _ in 0..commands {
        let at = SEC * rng.between(10, ((end / SEC) - 10) as usize) as i64;
        tl.push((at, Dir::Down, filler(rng, 300)));
    }
    tl
}

fn ssh(rng: &mut Rng, end: i64) -> Timeline {
    let mut tl = Timeline::new();
    let mut t = SEC;
    while t < end {
        // A command typed, then its output, then a pause.
        let keys = rng.between(4, 30);
        for _ in 0..keys {
            t += (rng.unit() * 0.3e9) as i64 + 60_000_000;
            tl.push((t, Dir::Up, filler(rng, 36)));
            tl.push((t + SEC / 50, Dir::Down, filler(rng, 36)));
        }
        let n = rng.between(100, 4000);
        tl.push((t + SEC / 5, Dir::Down, filler(rng, n)));
        t += rng.exp_ns(40.0);
    }
    tl
}

/// An encrypted corpus: captures, their truth, and block times per coin (Unix seconds).
pub struct EncryptedCorpus {
    /// One scenario per session.
    pub scenarios: Vec<Scenario>,
    /// `(coin, block times)` for `--block-times`.
    pub blocks: Vec<(String, Vec<i64>)>,
}

/// `sessions` mining and as many look-alike sessions of `minutes` each, sealed by TLS.
pub fn encrypted_corpus(
    seed: u64,
    sessions: usize,
    minutes: i64,
) -> Result<EncryptedCorpus, TlsSynthError> {
    let mut rng = Rng::new(seed);
    let span = (minutes + 1) * 60 * SEC;
    let horizon = T0 + span * (sessions as i64 + 1);
    let btc = block_times(&mut rng, 600.0, T0, horizon);
    let xmr = block_times(&mut rng, 120.0, T0, horizon);
    let mut scenarios = Vec::new();
    let end = minutes * 60 * SEC;
    for i in 0..sessions {
        // Sessions start at staggered times so each meets different blocks.
        let start = T0 + i as i64 * span / 2;
        let shift = |b: &[i64]| -> Vec<i64> { b.iter().map(|s| s - (start - T0) / SEC).collect() };
        let (name, tl, coin) = match i % 3 {
            0 => (
                "btc-stratum-tls",
                stratum_btc(&mut rng, &shift(&btc), end),
                "btc",
            ),
            1 => ("xmrig-tls", xmrig(&mut rng, &shift(&xmr), end), "xmr"),
            _ => (
                "fast-shares-tls",
                fast_shares(&mut rng, &shift(&btc), end),
                "btc",
            ),
        };
        scenarios.push(render(
            &format!("{name}-{i}"),
            (true, Some(coin)),
            start,
            (client_addr(i, true), 40_000 + i as u16),
            (
                IpAddr::V4(Ipv4Addr::new(198, 51, 100, (i % 250) as u8 + 1)),
                443,
            ),
            &tl,
        )?);
        // TLS look-alikes (port 443), then plaintext industrial and IoT protocols on their
        // own ports, in their own framing (`synth::polling`).
        let kinds: [(&str, LookAlike, u16); 13] = [
            ("chat-tls", chat, 443),
            ("push-tls", push_notifications, 443),
            ("dashboard-wss", dashboard, 443),
            ("video-tls", video, 443),
            ("telemetry-tls", telemetry, 443),
            ("ssh-like-tls", ssh, 443),
            ("metrics-agent-tls", metrics_agent, 443),
            ("socketio-chat-tls", socketio_chat, 443),
            ("mqtt-tls", super::polling::mqtt_subscribed, 8883),
            ("dnp3-poll", super::polling::dnp3, 20_000),
            ("modbus-poll", super::polling::modbus, 502),
            ("iec104", super::polling::iec104, 2404),
            ("mqtt", super::polling::mqtt, 1883),
        ];
        let (lname, f, port) = kinds[i % kinds.len()];
        let tl = f(&mut rng, end);
        let client = (client_addr(i, false), 50_000 + i as u16);
        let server = (
            IpAddr::V4(Ipv4Addr::new(192, 0, 2, (i % 250) as u8 + 1)),
            port,
        );
        let name = format!("{lname}-{i}");
        scenarios.push(if port == 8883 {
            // MQTT keeps its own binary framing inside TLS.
            render_raw(&name, (false, None), start, client, server, &tl)?
        } else if port == 443 {
            render(&name, (false, None), start, client, server, &tl)?
        } else {
            plain_scenario(&name, false, start, client, server, &tl)
        });
    }
    Ok(EncryptedCorpus {
        scenarios,
        blocks: vec![("btc".into(), btc), ("xmr".into(), xmr)],
    })
}

fn client_addr(i: usize, mining: bool) -> IpAddr {
    let base = if mining { 20 } else { 120 };
    IpAddr::V4(Ipv4Addr::new(
        10,
        20,
        base + (i / 250) as u8,
        (i % 250) as u8 + 1,
    ))
}

fn render(
    name: &str,
    truth: (bool, Option<&str>),
    start: i64,
    client: (IpAddr, u16),
    server: (IpAddr, u16),
    timeline: &Timeline,
) -> Result<Scenario, TlsSynthError> {
    let lines: Timeline = timeline
        .iter()
        .map(|(t, d, m)| (*t, *d, [&m[..], b"\n"].concat()))
        .collect();
    render_raw(name, truth, start, client, server, &lines)
}

/// A scenario that sends each message of `timeline` (times since `start`) as it is, in
/// plaintext: the industrial look-alikes, and tests that need a conversation of their own.
pub fn plain_scenario(
    name: &str,
    mining: bool,
    start: i64,
    client: (IpAddr, u16),
    server: (IpAddr, u16),
    timeline: &Timeline,
) -> Scenario {
    let shape = Shape::default();
    let linktype = shape.link.linktype();
    let mut c = Conversation::new(client, server, shape);
    c.open(start);
    let mut tl: Vec<&(i64, Dir, Vec<u8>)> = timeline.iter().collect();
    tl.sort_by_key(|m| m.0);
    let mut last = start;
    for (at, dir, bytes) in tl {
        let when = start + at;
        c.send(when, *dir, std::slice::from_ref(bytes));
        last = last.max(when);
    }
    c.close(last + SEC);
    finished(name, (mining, None), linktype, c)
}

/// The scenario of a finished conversation: its frames in time order and its truth.
fn finished(
    name: &str,
    (mining, coin): (bool, Option<&str>),
    linktype: u32,
    c: Conversation,
) -> Scenario {
    let (client, server) = (c.client(), c.server());
    let mut frames = c.frames;
    frames.sort_by_key(|f| f.0);
    Scenario {
        truth: Truth {
            name: name.into(),
            mining,
            client_ip: client.0,
            client_port: client.1,
            server_ip: server.0,
            server_port: server.1,
            dialect: None,
            coin: coin.map(str::to_string),
        },
        linktype,
        frames,
    }
}

/// Seals each message of `timeline` as it is.
fn render_raw(
    name: &str,
    (mining, coin): (bool, Option<&str>),
    start: i64,
    client: (IpAddr, u16),
    server: (IpAddr, u16),
    timeline: &Timeline,
) -> Result<Scenario, TlsSynthError> {
    let shape = Shape::default();
    let linktype = shape.link.linktype();
    let mut c = Conversation::new(client, server, shape);
    c.open(start);
    let mut pair = Pair::new("pool.example.net")?;
    let mut t = start + SEC / 10;
    for (dir, bytes) in pair.handshake()? {
        c.send(t, dir, &[bytes]);
        t += SEC / 20;
    }
    let mut tl: Vec<&(i64, Dir, Vec<u8>)> = timeline.iter().collect();
    tl.sort_by_key(|m| m.0);
    let mut last = t;
    for (at, dir, plain) in tl {
        let sealed = pair.seal(*dir, plain)?;
        let when = start + (*at).max(t - start + 1);
        c.send(when, *dir, &[sealed]);
        last = last.max(when);
    }
    c.close(last + SEC);
    Ok(finished(name, (mining, coin), linktype, c))
}

/// Why a capture could not be replayed.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// The capture could not be read.
    #[error(transparent)]
    Source(#[from] crate::source::SourceError),
    /// Sealing failed.
    #[error(transparent)]
    Tls(#[from] TlsSynthError),
}

/// One TCP conversation of a capture in plaintext: its ends, its first moment and every payload
/// segment with its time since then, from the client's view.
#[derive(Clone, Debug)]
pub struct TcpConversation {
    /// The side that sent the SYN, else the one on the higher port.
    pub client: (IpAddr, u16),
    /// The other side.
    pub server: (IpAddr, u16),
    /// First packet (ns since the epoch).
    pub start: i64,
    /// `(ns since start, direction, payload)`, in capture order.
    pub timeline: Timeline,
}

/// Every TCP conversation of a capture that carries at least `min_messages` payload segments,
/// in the order they began. Retransmitted segments (a sequence range already sent) are left
/// out.
pub fn tcp_conversations(
    path: &std::path::Path,
    bytes: &[u8],
    min_messages: usize,
) -> Result<Vec<TcpConversation>, crate::source::SourceError> {
    use crate::decode::{Transport, decode};
    use crate::flow::table::FlowKey;
    use std::collections::HashMap;
    struct Conv {
        client: Option<(IpAddr, u16)>,
        ends: [(IpAddr, u16); 2],
        sent: [std::collections::HashSet<(u32, u32)>; 2],
        timeline: Timeline,
        start: i64,
    }
    let mut convs: HashMap<FlowKey, Conv> = HashMap::new();
    let mut order = Vec::new();
    crate::source::read_packets(path, bytes, |p| {
        let Ok(d) = decode(p.linktype, p.data) else {
            return;
        };
        let Transport::Tcp { seq, flags, .. } = d.transport else {
            return;
        };
        let (key, side) = FlowKey::new(d.src, d.sport, d.dst, d.dport, 6);
        let c = convs.entry(key).or_insert_with(|| {
            order.push(key);
            Conv {
                client: None,
                ends: [
                    key.endpoint(crate::flow::table::Side::Lo),
                    key.endpoint(crate::flow::table::Side::Hi),
                ],
                sent: Default::default(),
                timeline: Vec::new(),
                start: p.ts_ns,
            }
        });
        if flags & 0x02 != 0 && flags & 0x10 == 0 {
            c.client = Some((d.src, d.sport));
        }
        if d.payload.is_empty() {
            return;
        }
        let i = side.index();
        let range = (seq, seq.wrapping_add(d.payload.len() as u32));
        if !crate::pair::of_mut(&mut c.sent, i).insert(range) {
            return;
        }
        c.timeline.push((
            p.ts_ns - c.start,
            if i == 0 { Dir::Up } else { Dir::Down },
            d.payload.to_vec(),
        ));
    })?;
    let mut out = Vec::new();
    for key in order {
        let Some(mut c) = convs.remove(&key) else {
            continue;
        };
        if c.timeline.len() < min_messages {
            continue;
        }
        let client = c.client.unwrap_or(if c.ends[0].1 >= c.ends[1].1 {
            c.ends[0]
        } else {
            c.ends[1]
        });
        if client != c.ends[0] {
            // Directions were recorded from the low side: turn them to the client's view.
            for m in &mut c.timeline {
                m.1 = if m.1 == Dir::Up { Dir::Down } else { Dir::Up };
            }
        }
        let server = if client == c.ends[0] {
            c.ends[1]
        } else {
            c.ends[0]
        };
        out.push(TcpConversation {
            client,
            server,
            start: c.start,
            timeline: c.timeline,
        });
    }
    Ok(out)
}

/// Replays every TCP conversation of a capture that carries at least `min_messages` payload
/// segments ([`tcp_conversations`]) through real TLS, with its original timing: the plaintext
/// sessions of real captures become the encrypted sessions a TLS miner would have produced.
/// Truth says `mining: true`; the caller knows whether the capture is mining.
pub fn replay_through_tls(
    path: &std::path::Path,
    bytes: &[u8],
    min_messages: usize,
) -> Result<Vec<Scenario>, ReplayError> {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut out = Vec::new();
    for c in tcp_conversations(path, bytes, min_messages)? {
        let name = format!("{stem}-{}-{}-tls", c.client.1, c.server.1);
        // The bytes already carry their own line ends.
        out.push(render_raw(
            &name,
            (true, None),
            c.start,
            c.client,
            c.server,
            &c.timeline,
        )?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_are_real_tls_and_reproducible() {
        let a = encrypted_corpus(5, 2, 6).unwrap();
        let b = encrypted_corpus(5, 2, 6).unwrap();
        assert_eq!(a.scenarios.len(), 4);
        // Same seed, same moments (the ciphertext differs: fresh keys every run).
        let sizes = |c: &EncryptedCorpus| -> Vec<i64> {
            c.scenarios[0].frames.iter().map(|f| f.0).collect()
        };
        assert_eq!(sizes(&a), sizes(&b));
        // Application data records (type 23, TLS 1.2 on the wire) and no plaintext JSON.
        let all: Vec<u8> = a.scenarios[0]
            .frames
            .iter()
            .flat_map(|f| f.1.clone())
            .collect();
        assert!(all.windows(3).any(|w| w == [0x17, 0x03, 0x03]));
        assert!(!all.windows(16).any(|w| w == b"mining.subscribe"));
    }
}
