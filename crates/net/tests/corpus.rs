//! End to end over the project's own scripted captures: every mining dialect found with the
//! right endpoints, dialect and coin; every look-alike left alone.

use minewatch_model::Detection;
use minewatch_net::synth::sessions::{Scenario, corpus, write_pcap, write_pcapng};
use minewatch_net::{ScanConfig, scan_files};
use std::path::PathBuf;

fn scan_bytes(name: &str, bytes: &[u8], threads: usize) -> Vec<Detection> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    let cfg = ScanConfig {
        threads,
        ..ScanConfig::default()
    };
    let out = scan_files(&[path], &cfg, &|_| {});
    for (p, r) in &out.files {
        let r = r
            .as_ref()
            .unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        assert!(r.truncated_at.is_none());
    }
    out.detections
}

fn check(s: &Scenario, found: &[Detection]) {
    let t = &s.truth;
    let mine: Vec<&Detection> = found
        .iter()
        .filter(|d| {
            (d.source.ip, d.source.port) == (t.client_ip, t.client_port)
                || (d.destination.ip, d.destination.port) == (t.client_ip, t.client_port)
        })
        .collect();
    if !t.mining {
        assert!(
            mine.is_empty(),
            "{}: look-alike flagged: {:#?}",
            t.name,
            mine
        );
        return;
    }
    assert_eq!(
        mine.len(),
        1,
        "{}: expected one session, got {:#?}",
        t.name,
        mine
    );
    let d = mine[0];
    assert_eq!(
        (d.source.ip, d.source.port),
        (t.client_ip, t.client_port),
        "{}: miner side",
        t.name
    );
    assert_eq!(
        (d.destination.ip, d.destination.port),
        (t.server_ip, t.server_port),
        "{}",
        t.name
    );
    assert_eq!(
        Some(d.mining.dialect.clone()),
        t.dialect,
        "{}: dialect",
        t.name
    );
    assert_eq!(
        d.mining.coin.map(|c| c.to_string()),
        t.coin,
        "{}: coin ({:?})",
        t.name,
        d.mining.coin_source
    );
    assert!(d.mining.confidence >= 0.8, "{}", t.name);
}

#[test]
fn each_scenario_alone_in_every_pcap_flavour() {
    for (i, s) in corpus().iter().enumerate() {
        let bytes = write_pcap(s, i % 2 == 1, i % 3 == 0);
        let found = scan_bytes(&format!("{}.pcap", s.truth.name), &bytes, 1);
        check(s, &found);
        if !s.truth.mining {
            assert!(found.is_empty(), "{}: {:#?}", s.truth.name, found);
        }
    }
}

#[test]
fn all_scenarios_in_one_pcapng_on_one_and_two_threads() {
    let c = corpus();
    let refs: Vec<&Scenario> = c.iter().collect();
    let bytes = write_pcapng(&refs);
    let one = scan_bytes("all.pcapng", &bytes, 1);
    for s in &c {
        check(s, &one);
    }
    // Sessions, plus one DNS lookup of a pool name (reported per client and name, not per flow).
    assert_eq!(
        one.iter()
            .filter(|d| d.mining.detector != "pool-dns")
            .count(),
        c.iter().filter(|s| s.truth.mining).count()
    );
    assert_eq!(
        one.iter()
            .filter(|d| d.mining.detector == "pool-dns")
            .count(),
        1
    );
    let mut two = scan_bytes("all.pcapng", &bytes, 2);
    for (a, b) in one.iter().zip(two.iter_mut()) {
        b.input.file = a.input.file.clone();
    }
    assert_eq!(one, two, "threads must not change results");
}

/// Every worker reads the whole capture and counts only its part: one, two or three workers
/// report the same sessions and the same counters, fragments, DNS, UDP and undecodable frames
/// included.
#[test]
fn threads_change_neither_findings_nor_counters() {
    let c = corpus();
    let mut refs: Vec<&Scenario> = c.iter().collect();
    // Frames cut short inside their IP header: skipped, and counted once.
    let cut = Scenario {
        truth: c[0].truth.clone(),
        linktype: c[0].linktype,
        frames: c[0]
            .frames
            .iter()
            .map(|(t, f)| (*t, f[..f.len().min(20)].to_vec()))
            .collect(),
    };
    refs.push(&cut);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("all.pcapng");
    std::fs::write(&path, write_pcapng(&refs)).unwrap();
    let run = |threads| {
        let cfg = ScanConfig {
            threads,
            ..ScanConfig::default()
        };
        scan_files(std::slice::from_ref(&path), &cfg, &|_| {})
    };
    let one = run(1);
    assert!(one.stats.skipped_total() > 0 && one.stats.fragments > 0 && one.stats.udp_packets > 0);
    for threads in [2, 3] {
        let many = run(threads);
        assert_eq!(one.detections, many.detections, "{threads} threads");
        assert_eq!(one.stats, many.stats, "{threads} threads");
        assert_eq!(
            one.files[0].1.as_ref().ok(),
            many.files[0].1.as_ref().ok(),
            "{threads} threads"
        );
    }
}

#[test]
fn facts_of_the_xmrig_session() {
    let c = corpus();
    let s = c.iter().find(|s| s.truth.name == "xmr-xmrig-rx0").unwrap();
    let d = &scan_bytes("x.pcap", &write_pcap(s, false, false), 1)[0];
    let m = &d.mining;
    assert_eq!(
        m.wallet.as_deref(),
        Some(minewatch_net::synth::sessions::XMR_WALLET)
    );
    assert_eq!(m.worker.as_deref(), Some("rig9"));
    assert!(m.agent.as_deref().unwrap().starts_with("XMRig/6.21.0"));
    assert_eq!(m.coin_source.as_deref(), Some("algo-field"));
    assert_eq!(m.shares.submitted, 30);
    assert_eq!(m.shares.accepted, 30);
    // 30 shares of difficulty 20,000 over the session's length.
    let secs = d.event.duration as f64 / 1e9;
    let expect = 30.0 * 20_000.0 / secs;
    assert!(
        (m.hashrate_hs.unwrap() / expect - 1.0).abs() < 0.01,
        "{:?} vs {expect}",
        m.hashrate_hs
    );
    let p = m.power_w.unwrap();
    assert!(m.power_w_low.unwrap() < p && p < m.power_w_high.unwrap());
    assert!(!m.mid_session);
}

#[test]
fn facts_of_the_bitcoin_sessions() {
    let c = corpus();
    let s = c
        .iter()
        .find(|s| s.truth.name == "btc-cgminer-spaced")
        .unwrap();
    let d = &scan_bytes("b.pcap", &write_pcap(s, false, true), 1)[0];
    let m = &d.mining;
    assert_eq!(
        m.wallet.as_deref(),
        Some(minewatch_net::synth::sessions::BTC_WALLET)
    );
    assert_eq!(m.worker.as_deref(), Some("farm1"));
    assert_eq!(m.coin_source.as_deref(), Some("wallet"));
    assert_eq!(
        (m.shares.submitted, m.shares.accepted, m.shares.rejected),
        (24, 23, 1)
    );
    let secs = d.event.duration as f64 / 1e9;
    let expect = 23.0 * 8192.0 * 4_294_967_296.0 / secs;
    assert!((m.hashrate_hs.unwrap() / expect - 1.0).abs() < 0.01);

    let l = c
        .iter()
        .find(|s| s.truth.name == "ltc-scrypt-qinq-batched")
        .unwrap();
    let d = &scan_bytes("l.pcap", &write_pcap(l, false, false), 1)[0];
    assert_eq!(d.mining.coin_source.as_deref(), Some("job-shape"));
    let secs = d.event.duration as f64 / 1e9;
    let expect = 23.0 * 4096.0 * 65_536.0 / secs;
    assert!(
        (d.mining.hashrate_hs.unwrap() / expect - 1.0).abs() < 0.01,
        "scrypt uses 2^16"
    );
    assert_eq!(d.network.encapsulation, vec!["vlan", "qinq"]);

    let m = c
        .iter()
        .find(|s| s.truth.name == "btc-mid-session-pushes-only")
        .unwrap();
    let d = &scan_bytes("m.pcap", &write_pcap(m, false, false), 1)[0];
    assert!(d.mining.mid_session);
    assert!(
        d.mining
            .evidence
            .iter()
            .any(|e| e.starts_with("coinbase-tag:"))
    );
}

#[test]
fn a_folder_is_every_capture_in_it() {
    let dir = tempfile::tempdir().unwrap();
    let c = corpus();
    for s in c.iter().take(3) {
        std::fs::write(
            dir.path().join(format!("{}.pcap", s.truth.name)),
            write_pcap(s, false, false),
        )
        .unwrap();
    }
    std::fs::write(dir.path().join("notes.txt"), b"not a capture").unwrap();
    let (files, passed) =
        minewatch_net::source::expand_inputs(&[PathBuf::from(dir.path())]).unwrap();
    assert_eq!(files.len(), 3);
    assert_eq!(passed.len(), 1);
    let out = scan_files(&files, &ScanConfig::default(), &|_| {});
    assert_eq!(out.detections.len(), 3);
}

#[test]
fn fragmented_datagrams_are_reassembled_on_one_and_two_threads() {
    let c = corpus();
    let s = c
        .iter()
        .find(|s| s.truth.name == "zec-equihash-ip-fragments")
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("frag.pcap");
    std::fs::write(&path, write_pcap(s, false, false)).unwrap();
    for threads in [1, 2] {
        let out = scan_files(
            std::slice::from_ref(&path),
            &ScanConfig {
                threads,
                ..ScanConfig::default()
            },
            &|_| {},
        );
        assert!(
            out.stats.fragments > 0 && out.stats.reassembled > 0,
            "{:?}",
            out.stats
        );
        assert_eq!(out.stats.reassembly_dropped, 0);
        let d = &out.detections[0];
        // Every 2.7 KB Equihash submission crossed the small MTU in pieces.
        assert_eq!(d.mining.shares.submitted, 12, "threads {threads}");
        assert_eq!(d.mining.shares.accepted, 12);
    }
}

#[test]
fn mining_without_stratum_is_found_by_who_it_talks_to() {
    let c = corpus();
    let refs: Vec<&Scenario> = c.iter().collect();
    let found = scan_bytes("all.pcapng", &write_pcapng(&refs), 1);
    let by = |port: u16| {
        found
            .iter()
            .find(|d| d.source.port == port)
            .unwrap_or_else(|| panic!("{port}"))
    };
    let sni = by(40018);
    assert_eq!(sni.mining.detector, "pool-sni");
    assert_eq!(sni.network.protocol, "tls");
    assert!(
        sni.mining
            .pool
            .as_deref()
            .unwrap()
            .contains("pool.supportxmr.com")
    );
    assert!(
        sni.mining.evidence.iter().any(|e| e.starts_with("ja4:t13")),
        "{:?}",
        sni.mining.evidence
    );
    assert_eq!(by(40019).mining.detector, "browser-miner");
    assert!(
        by(40019)
            .mining
            .evidence
            .contains(&"websocket-upgrade".to_string())
    );
    let ip = by(40020);
    assert_eq!(ip.mining.detector, "pool-ip");
    assert!(
        ip.mining
            .evidence
            .iter()
            .any(|e| e == "dns-resolved:zec-eu1.nanopool.org"),
        "{:?}",
        ip.mining.evidence
    );
    let dns = found
        .iter()
        .find(|d| d.mining.detector == "pool-dns")
        .unwrap();
    assert_eq!(dns.source.ip.to_string(), "192.168.10.30");
    assert_eq!(dns.destination.port, 53);
    assert!(dns.mining.pool.as_deref().unwrap().contains("Nanopool"));
    // The browser on the pool's web site and the ordinary TLS and DNS are left alone.
    assert!(
        found
            .iter()
            .all(|d| d.source.port != 40049 && d.source.port != 40050)
    );
    // With two threads the reader's DNS still names the pool of a worker's flow.
    let two = scan_bytes("all.pcapng", &write_pcapng(&refs), 2);
    assert!(two.iter().any(|d| {
        d.source.port == 40020
            && d.mining.detector == "pool-ip"
            && d.mining
                .evidence
                .iter()
                .any(|e| e.starts_with("dns-resolved:"))
    }));
}

/// A detection's evidence codes alone support its confidence: what the server recomputes for
/// an uploaded detection is never above what the scan said, and still above the report
/// threshold for every protocol-level session of the corpus.
#[test]
fn evidence_codes_alone_support_each_protocol_sessions_confidence() {
    use minewatch_net::proto::stratum::signal::confidence_of_codes;
    let c = corpus();
    let refs: Vec<&Scenario> = c.iter().collect();
    let found = scan_bytes("all.pcapng", &write_pcapng(&refs), 1);
    let mut checked = 0;
    for d in &found {
        let m = &d.mining;
        if !matches!(m.detector.as_str(), "stratum" | "getwork" | "stratum-v2") {
            continue;
        }
        let from_codes = confidence_of_codes(m.evidence.iter().map(String::as_str));
        assert!(
            from_codes <= m.confidence + 1e-3,
            "{:?}: codes {from_codes} above {}",
            m.evidence,
            m.confidence
        );
        assert!(
            from_codes >= minewatch_net::session::REPORT_THRESHOLD,
            "{:?}: codes support only {from_codes}",
            m.evidence
        );
        checked += 1;
    }
    assert!(checked >= 15, "{checked}");
}

/// A miner that opens TLS to a pool that speaks only plaintext: the ClientHello names the
/// pool, the pool answers with a Stratum error line.
fn tls_to_a_plaintext_pool(sni: &str, answer: &[u8]) -> Scenario {
    use minewatch_net::synth::tcp::Dir;
    use std::net::{IpAddr, Ipv4Addr};
    minewatch_net::synth::encrypted::plain_scenario(
        &format!("tls-to-plaintext-{sni}"),
        true,
        1_709_251_200_000_000_000,
        (IpAddr::V4(Ipv4Addr::new(192, 168, 7, 7)), 41_000),
        (IpAddr::V4(Ipv4Addr::new(198, 51, 100, 77)), 14_444),
        &vec![
            (
                100_000_000,
                Dir::Up,
                minewatch_net::synth::tls::client_hello(sni, &[]),
            ),
            (150_000_000, Dir::Down, answer.to_vec()),
        ],
    )
}

#[test]
fn tls_to_a_plaintext_pool_is_reported_by_its_name_and_by_its_answer() {
    let refusal = b"{\"id\":null,\"result\":null,\"error\":[20,\"Unsupported request\",null]}\n";
    let code = "answer:stratum-error-to-tls:Unsupported request";
    // A listed name: the SNI finding, strengthened by the answer.
    let s = tls_to_a_plaintext_pool("xmr.f2pool.com", refusal);
    let found = scan_bytes("t.pcapng", &write_pcapng(&[&s]), 1);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].mining.detector, "pool-sni");
    assert!(found[0].mining.evidence.iter().any(|e| e == code));
    assert!((found[0].mining.confidence - 0.95).abs() < 1e-6);
    // An unlisted name: the answer alone.
    let s = tls_to_a_plaintext_pool("pool.unlisted-miner.example", refusal);
    let found = scan_bytes("t.pcapng", &write_pcapng(&[&s]), 1);
    assert_eq!(found.len(), 1, "{found:?}");
    let d = &found[0];
    assert_eq!(d.mining.detector, "pool-answer");
    assert_eq!(
        d.mining.pool.as_deref(),
        Some("pool.unlisted-miner.example")
    );
    assert_eq!(d.destination.ip, s.truth.server_ip);
    assert_eq!(d.source.ip, s.truth.client_ip);
    assert!(d.mining.evidence.iter().any(|e| e == code));
    // Answers that are not a pool's: a JSON-RPC 2.0 error object, an HTTP error page.
    for answer in [
        &b"{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32700,\"message\":\"Parse error\"}}\n"[..],
        b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n",
    ] {
        let s = tls_to_a_plaintext_pool("api.unlisted.example", answer);
        let found = scan_bytes("t.pcapng", &write_pcapng(&[&s]), 1);
        assert!(found.is_empty(), "{found:?}");
    }
}
