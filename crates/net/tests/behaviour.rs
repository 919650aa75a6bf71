//! The behaviour detector on encrypted sessions: mining sealed by real TLS (rustls) against
//! long-lived TLS look-alikes, with and without the coins' block times.

use minewatch_net::behaviour::BlockTimes;
use minewatch_net::synth::encrypted::encrypted_corpus;
use minewatch_net::synth::sessions::{Scenario, write_pcapng};
use minewatch_net::{ScanConfig, scan_files};
use std::sync::Arc;

/// (true positives, false positives, false negatives, detections raised by block rhythm).
fn score(scenarios: &[Scenario], blocks: Vec<BlockTimes>) -> (usize, usize, usize, usize) {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("enc.pcapng");
    let refs: Vec<&Scenario> = scenarios.iter().collect();
    std::fs::write(&p, write_pcapng(&refs)).unwrap();
    let cfg = ScanConfig {
        block_times: Arc::new(blocks),
        ..ScanConfig::default()
    };
    let out = scan_files(&[p], &cfg, &|_| {});
    let (mut tp, mut fp, mut fneg, mut rhythm) = (0, 0, 0, 0);
    for s in scenarios {
        let hit = out
            .detections
            .iter()
            .find(|x| x.source.ip == s.truth.client_ip && x.source.port == s.truth.client_port);
        if let Some(h) = hit {
            assert_eq!(h.mining.detector, "behaviour", "{}", s.truth.name);
            assert!(
                h.mining
                    .evidence
                    .iter()
                    .any(|e| e.starts_with("behaviour:"))
            );
            assert_eq!(h.destination.ip, s.truth.server_ip, "{}", s.truth.name);
            if h.mining.coin_source.as_deref() == Some("block-rhythm") {
                rhythm += 1;
                assert_eq!(
                    h.mining.coin.map(|c| c.to_string().to_lowercase()),
                    s.truth.coin.clone(),
                    "{}",
                    s.truth.name
                );
            }
        }
        match (s.truth.mining, hit.is_some()) {
            (true, true) => tp += 1,
            (false, true) => fp += 1,
            (true, false) => fneg += 1,
            _ => {}
        }
    }
    (tp, fp, fneg, rhythm)
}

#[test]
fn encrypted_miners_are_found_and_look_alikes_are_not() {
    let c = encrypted_corpus(42, 12, 20).unwrap();
    let (tp, fp, fneg, rhythm) = score(&c.scenarios, Vec::new());
    eprintln!("without block times: tp={tp} fp={fp} fn={fneg}");
    assert!(tp >= 10 && fp <= 1, "tp={tp} fp={fp} fn={fneg}");
    assert_eq!(rhythm, 0);
    let blocks = c
        .blocks
        .iter()
        .map(|(coin, t)| BlockTimes::from_seconds(coin, t.iter().copied()))
        .collect();
    let (tp2, fp2, _, rhythm2) = score(&c.scenarios, blocks);
    eprintln!("with block times: tp={tp2} fp={fp2} rhythm={rhythm2}");
    assert!(tp2 >= tp && fp2 <= fp);
    // XMRig sessions (a third of the miners) meet about ten Monero blocks in 20 minutes and
    // must each name their coin; Bitcoin sessions rarely meet three blocks.
    let xmr = c
        .scenarios
        .iter()
        .filter(|s| s.truth.name.starts_with("xmrig"))
        .count();
    assert!(
        rhythm2 >= xmr,
        "block rhythm raised {rhythm2} of {tp2}, {xmr} XMRig"
    );
}

#[test]
fn fast_share_miners_are_found_and_industrial_polling_is_not() {
    // 39 sessions: thirteen of each miner kind, three of each look-alike kind.
    let c = encrypted_corpus(43, 39, 20).unwrap();
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("enc.pcapng");
    let refs: Vec<&Scenario> = c.scenarios.iter().collect();
    std::fs::write(&p, write_pcapng(&refs)).unwrap();
    let out = scan_files(&[p], &ScanConfig::default(), &|_| {});
    let flagged = |prefix: &str| -> (usize, usize) {
        let of_kind: Vec<&Scenario> = c
            .scenarios
            .iter()
            .filter(|s| {
                s.truth
                    .name
                    .rsplit_once('-')
                    .is_some_and(|(k, _)| k == prefix)
            })
            .collect();
        let hits = of_kind
            .iter()
            .filter(|s| {
                out.detections.iter().any(|x| {
                    x.source.ip == s.truth.client_ip && x.source.port == s.truth.client_port
                })
            })
            .count();
        (hits, of_kind.len())
    };
    // A share every 1.3 s, each answered, Poisson: mining, not typing.
    let (hit, n) = flagged("fast-shares-tls");
    assert!(n == 13 && hit == n, "fast shares: {hit} of {n}");
    // Plaintext industrial and IoT protocols say what they are in their framing.
    for kind in ["dnp3-poll", "modbus-poll", "iec104", "mqtt"] {
        let (hit, n) = flagged(kind);
        assert!(n == 3 && hit == 0, "{kind}: {hit} of {n} flagged");
    }
    // The typing session, a hard negative for fast shares, stays quiet.
    assert_eq!(flagged("ssh-like-tls").0, 0);
}

/// Real captures from `../shared/data/net/pcap`: (file, mining?) with labels from its README.
const SHARED: &[(&str, bool)] = &[
    ("ndpi42_monero_stratum.pcap", true),
    ("ndpi_old_zcash.pcap", true),
    ("peafowl_ethereum_jsonrpc.pcap", true),
    ("ndpi_mining.pcapng", true),
    ("ndpi_bitcoin.pcap", false),
    ("peafowl_bitcoin.pcap", false),
];

#[test]
fn real_sessions_replayed_through_tls() {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/net/pcap");
    if !dir.exists() {
        minewatch_model::skip::skipped(&format!(
            "{} absent; real-capture TLS replay skipped",
            dir.display()
        ));
        return;
    }
    let (mut found, mut negatives) = (0, 0);
    let (mut missed, mut false_alarms) = (Vec::new(), Vec::new());
    for &(file, mining) in SHARED {
        let path = dir.join(file);
        let bytes = std::fs::read(&path).unwrap();
        let scenarios =
            minewatch_net::synth::encrypted::replay_through_tls(&path, &bytes, 5).unwrap();
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("replay.pcapng");
        let refs: Vec<&Scenario> = scenarios.iter().collect();
        std::fs::write(&p, write_pcapng(&refs)).unwrap();
        let out = scan_files(&[p], &ScanConfig::default(), &|_| {});
        for s in &scenarios {
            let hit = out
                .detections
                .iter()
                .any(|x| x.source.ip == s.truth.client_ip && x.source.port == s.truth.client_port);
            eprintln!("{file}: {} flagged={hit}", s.truth.name);
            match (mining, hit) {
                (true, true) => found += 1,
                (true, false) => missed.push(s.truth.name.clone()),
                (false, true) => false_alarms.push(s.truth.name.clone()),
                (false, false) => negatives += 1,
            }
        }
    }
    // Measured (docs/DETECTION.md): the sessions missed are too short or too quiet to judge
    // (33 s of getwork; five client messages in 18 minutes).
    assert!(found >= 6, "found {found}, missed {missed:?}");
    assert!(false_alarms.is_empty(), "{false_alarms:?}");
    assert!(negatives >= 7);
}

#[test]
fn a_listed_client_fingerprint_is_evidence_not_a_verdict() {
    use minewatch_net::decode::decode;
    let c = encrypted_corpus(3, 2, 15).unwrap();
    let ch = c.scenarios[0]
        .frames
        .iter()
        .filter_map(|(_, f)| decode(c.scenarios[0].linktype, f).ok())
        .find_map(|d| minewatch_net::proto::tls::client_hello(d.payload))
        .expect("a ClientHello");
    let mut intel = minewatch_intel::Intel::built_in();
    let bad = intel.load_text(
        "fp.csv",
        &format!("ja4,software\n{},rustls-test\n,missing\n", ch.ja4),
        minewatch_intel::Category::Pool,
    );
    assert_eq!(bad.len(), 1, "{bad:?}");
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("enc.pcapng");
    let refs: Vec<&Scenario> = c.scenarios.iter().collect();
    std::fs::write(&p, write_pcapng(&refs)).unwrap();
    let cfg = ScanConfig {
        intel: Some(Arc::new(intel)),
        ..ScanConfig::default()
    };
    let out = scan_files(&[p], &cfg, &|_| {});
    // Every session here is rustls, but only the two that behave like miners are reported.
    assert_eq!(out.detections.len(), 2, "{:?}", out.detections);
    for x in &out.detections {
        assert!(
            x.mining
                .evidence
                .iter()
                .any(|e| e.starts_with("tls-fingerprint:rustls-test:")),
            "{:?}",
            x.mining.evidence
        );
        assert!((x.mining.confidence - 0.70).abs() < 1e-6);
    }
}
