//! minewatch-probe's integration tests: real sockets on loopback, pool simulators that play the
//! pool side of the project's scripted mining sessions (`synth::sessions::pool_sides`), the same
//! behind TLS, and servers that are not pools.
// Tests may unwrap, expect and panic: there a panic is the verdict (the library crates may not).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod confirmation;
mod simulators;

use minewatch_probe::{
    Attempt, Config, Dialect, Limits, Pace, Request, Target, Transport, Transports, Verdict,
    confirm_all,
};
use simulators::{Behaviour, serve};
use std::sync::Mutex;
use std::time::Duration;

/// Probing as a test does: loopback allowed, short deadlines, no pacing to wait for.
fn config() -> Config {
    Config {
        limits: Limits {
            connect: Duration::from_secs(2),
            answer: Duration::from_millis(800),
            max_answer: 64 * 1024,
        },
        pace: Pace {
            per_second: 1000.0,
            per_target: 16,
            target_gap: Duration::ZERO,
        },
        allow_private: true,
        parallel: 8,
        ..Config::default()
    }
}

/// The Bitcoin pool simulator (the corpus's cgminer session), plain or behind TLS.
fn bitcoin_pool(tls: bool) -> std::net::SocketAddr {
    serve(
        Behaviour::Pool {
            dialect: "bitcoin",
            lines: minewatch_net::synth::sessions::pool_sides()[0].1.clone(),
        },
        tls,
    )
}

fn request(addr: std::net::SocketAddr) -> Request {
    Request {
        target: Target::parse(&addr.to_string()).unwrap(),
        sni: Some("pool.test".into()),
    }
}

fn run(cfg: &Config, reqs: &[Request]) -> (Vec<minewatch_probe::Outcome>, Vec<Attempt>) {
    let log = Mutex::new(Vec::new());
    let out = confirm_all(reqs, cfg, &|a: &Attempt| {
        log.lock().unwrap().push(a.clone())
    });
    (out, log.into_inner().unwrap())
}

/// The probe that each simulator answers, and the dialect the answer must show.
fn expected(dialect: &str) -> (Dialect, &'static str) {
    match dialect {
        "bitcoin" => (Dialect::Stratum, "bitcoin"),
        "equihash" => (Dialect::Stratum, "equihash"),
        "ethereumstratum" => (Dialect::EthereumStratum, "ethereumstratum"),
        "eth-proxy" => (Dialect::EthProxy, "eth-proxy"),
        "cryptonote" => (Dialect::CryptoNote, "cryptonote"),
        "getwork" => (Dialect::Getwork, "getwork"),
        "getblocktemplate" => (Dialect::GetBlockTemplate, "getblocktemplate"),
        "stratum-v2" => (Dialect::StratumV2, "stratum-v2"),
        other => panic!("no expectation for {other}"),
    }
}

#[test]
fn every_dialect_simulator_is_confirmed_over_tcp_and_tls() {
    let sides = minewatch_net::synth::sessions::pool_sides();
    assert_eq!(sides.len(), 8);
    for tls in [false, true] {
        let servers: Vec<_> = sides
            .iter()
            .map(|(d, lines)| {
                (
                    *d,
                    serve(
                        Behaviour::Pool {
                            dialect: d,
                            lines: lines.clone(),
                        },
                        tls,
                    ),
                )
            })
            .collect();
        let reqs: Vec<Request> = servers.iter().map(|(_, a)| request(*a)).collect();
        let (out, log) = run(&config(), &reqs);
        for ((d, _), o) in servers.iter().zip(&out) {
            let (probe, dialect) = expected(d);
            assert_eq!(o.verdict, Verdict::Pool, "{d} tls={tls}: {o:?}");
            assert_eq!(o.probe, Some(probe), "{d} tls={tls}: {o:?}");
            assert_eq!(o.dialect.as_deref(), Some(dialect), "{d} tls={tls}: {o:?}");
            let transport = if tls { Transport::Tls } else { Transport::Tcp };
            assert_eq!(o.transport, Some(transport), "{d}: {o:?}");
            assert!(
                !o.answer.is_empty() && o.answer.len() <= 240 * 4,
                "{d}: {o:?}"
            );
            assert!(o.connections <= 16);
        }
        // The coin where the answer shows it.
        let coin = |d: &str| {
            let i = servers.iter().position(|(x, _)| *x == d).unwrap();
            out[i].coin.map(|c| c.to_string())
        };
        assert_eq!(coin("cryptonote").as_deref(), Some("XMR"), "{out:?}");
        // Every connection is in the log, with what it sent.
        let total: u32 = out.iter().map(|o| o.connections).sum();
        assert_eq!(log.len() as u32, total);
        assert!(log.iter().all(|a| a.sent > 0 || a.error.is_some()));
        assert_eq!(log.iter().filter(|a| a.pool).count(), servers.len());
    }
}

#[test]
fn servers_that_are_not_pools_are_refused() {
    let cases = [
        ("http", Behaviour::Http),
        ("ssh", Behaviour::Ssh),
        ("echo", Behaviour::Echo),
        ("wallet-api", Behaviour::WalletApi),
        ("silent", Behaviour::Silent),
        ("endless", Behaviour::Endless),
    ];
    let servers: Vec<_> = cases
        .into_iter()
        .map(|(n, b)| (n, serve(b, false)))
        .collect();
    let reqs: Vec<Request> = servers.iter().map(|(_, a)| request(*a)).collect();
    let (out, _) = run(&config(), &reqs);
    for ((n, _), o) in servers.iter().zip(&out) {
        assert_eq!(o.verdict, Verdict::NotPool, "{n}: {o:?}");
        assert!(o.connections <= 16, "{n}: {o:?}");
        assert!(
            o.answer.len() <= 240 * 4,
            "{n}: answer bounded: {}",
            o.answer.len()
        );
    }
    let silent = &out[4];
    assert!(
        silent.connections <= 4,
        "a silent server is given up after two held probes per transport: {silent:?}"
    );
}

#[test]
fn a_plaintext_pool_answering_a_client_hello_with_stratum_errors_is_a_pool() {
    let addr = serve(Behaviour::PlainStratumErrors, false);
    let cfg = Config {
        transports: Transports::Tls,
        ..config()
    };
    let (out, _) = run(&cfg, &[request(addr)]);
    let o = &out[0];
    assert_eq!(o.verdict, Verdict::Pool, "{o:?}");
    assert_eq!(o.transport, Some(Transport::Tls));
    assert!(o.reason.contains("TLS ClientHello in plaintext"), "{o:?}");
    assert_eq!(o.connections, 1);
}

#[test]
fn closed_ports_are_unreachable_and_private_addresses_are_not_probed() {
    // A port that was just free: nothing listens there.
    let free = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let (out, log) = run(&config(), &[request(free)]);
    assert_eq!(out[0].verdict, Verdict::Unreachable, "{:?}", out[0]);
    assert_eq!(out[0].connections, 1, "a refused port is tried once");
    assert_eq!(log.len(), 1);

    let pool = bitcoin_pool(false);
    let cfg = Config {
        allow_private: false,
        ..config()
    };
    let (out, log) = run(&cfg, &[request(pool)]);
    assert_eq!(out[0].verdict, Verdict::Unreachable);
    assert!(out[0].reason.contains("--allow-private"), "{:?}", out[0]);
    assert!(log.is_empty(), "nothing was sent to a private address");
}

#[test]
fn the_per_target_cap_holds_against_a_server_that_never_says_anything_useful() {
    let addr = serve(Behaviour::Http, false);
    let cfg = Config {
        pace: Pace {
            per_target: 3,
            ..config().pace
        },
        ..config()
    };
    let (out, log) = run(&cfg, &[request(addr)]);
    assert_eq!(out[0].connections, 3);
    assert_eq!(log.len(), 3);
    assert!(out[0].reason.contains("cap"), "{:?}", out[0]);
}

#[test]
fn a_scans_guesses_are_confirmed_and_its_protocol_findings_left_alone() {
    // The detections of the sample that ships with the project, as the scanner writes them.
    let sample =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../samples/sample.pcapng");
    let out = minewatch_net::scan_files(&[sample], &minewatch_net::ScanConfig::default(), &|_| {});
    let mut dets = out.detections;
    let guessed: Vec<usize> = (0..dets.len())
        .filter(|&i| minewatch_probe::detections::is_guess(&dets[i].mining.detector))
        .collect();
    assert!(guessed.len() >= 2, "the sample has list detections");
    // Their servers, moved to loopback: the first is a pool, the rest are web servers.
    let pool = bitcoin_pool(false);
    let web = serve(Behaviour::Http, false);
    for (k, &i) in guessed.iter().enumerate() {
        let to = if k == 0 { pool } else { web };
        dets[i].destination.ip = to.ip();
        dets[i].destination.port = to.port();
    }
    let before = dets.clone();
    let (c, outcomes) = minewatch_probe::confirm_detections(&mut dets, &config(), &|_| {});
    assert_eq!(c.servers, 2, "{outcomes:?}");
    assert_eq!((c.pools, c.not_pools, c.unreachable), (1, 1, 0));
    assert_eq!(c.detections, guessed.len());
    for (i, (d, b)) in dets.iter().zip(&before).enumerate() {
        if !guessed.contains(&i) {
            assert_eq!(d, b, "a protocol finding is not touched");
        } else if i == guessed[0] {
            assert!(
                d.mining
                    .evidence
                    .contains(&"probe:pool:bitcoin".to_string()),
                "{:?}",
                d.mining.evidence
            );
            assert!(d.mining.confidence > b.mining.confidence);
            // When, and the pool's own words (its subscribe answer names mining.notify).
            let ev = &d.mining.evidence;
            assert!(ev.iter().any(|e| e.starts_with("probe:at:20")), "{ev:?}");
            let answer = ev.iter().find(|e| e.starts_with("probe:answer:")).unwrap();
            assert!(answer.contains("mining.notify"), "{answer}");
            assert!(answer.chars().count() <= "probe:answer:".len() + 160);
        } else {
            assert!(d.mining.evidence.contains(&"probe:not-pool".to_string()));
            assert!(d.mining.confidence < b.mining.confidence);
        }
    }
}

#[test]
fn behaviour_alone_reaches_the_output_only_with_a_confirmed_pool() {
    let sample =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../samples/sample.pcapng");
    let out = minewatch_net::scan_files(&[sample], &minewatch_net::ScanConfig::default(), &|_| {});
    // Two behaviour-only detections made from the sample's list ones: one towards a pool,
    // one towards a web server; and the protocol findings, untouched.
    let mut dets: Vec<_> = out.detections;
    let listed: Vec<usize> = (0..dets.len())
        .filter(|&i| dets[i].mining.detector == "pool-ip" || dets[i].mining.detector == "pool-sni")
        .take(2)
        .collect();
    assert_eq!(listed.len(), 2);
    let pool = bitcoin_pool(false);
    let web = serve(Behaviour::Http, false);
    for (k, &i) in listed.iter().enumerate() {
        let to = if k == 0 { pool } else { web };
        let d = &mut dets[i];
        d.mining.detector = "behaviour".into();
        d.mining.pool = None;
        d.destination.ip = to.ip();
        d.destination.port = to.port();
    }
    let total = dets.len();
    minewatch_probe::confirm_detections(&mut dets, &config(), &|_| {});
    let held = minewatch_probe::withhold_unconfirmed(&mut dets);
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].destination.port, web.port());
    assert!(
        held[0]
            .mining
            .evidence
            .contains(&"probe:not-pool".to_string())
    );
    assert_eq!(dets.len(), total - 1);
    assert!(dets.iter().any(|d| {
        d.mining.detector == "behaviour"
            && d.mining
                .evidence
                .contains(&"probe:pool:bitcoin".to_string())
    }));
}

#[test]
fn plain_tcp_only_does_not_turn_to_tls_and_says_why() {
    let addr = bitcoin_pool(true);
    let cfg = Config {
        transports: Transports::Tcp,
        ..config()
    };
    let (out, log) = run(&cfg, &[request(addr)]);
    assert_eq!(out[0].verdict, Verdict::NotPool, "{:?}", out[0]);
    assert!(out[0].reason.contains("speaks TLS"), "{:?}", out[0]);
    assert!(log.iter().all(|a| a.transport == Transport::Tcp));
    assert_eq!(log.len(), 1, "one plaintext probe met TLS; none followed");
}
