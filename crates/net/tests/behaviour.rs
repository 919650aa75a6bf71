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
    assert!(rhythm2 >= tp2 / 2, "block rhythm raised {rhythm2} of {tp2}");
}
