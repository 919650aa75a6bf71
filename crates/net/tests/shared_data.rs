//! Over the real captures in `../shared/data/net/pcap` when they are there: every mining
//! session found with its dialect and coin, nothing in the captures of crypto traffic that is
//! not mining. Skipped, with a notice, on a machine without the shared data.

use minewatch_net::{ScanConfig, scan_files};
use std::path::{Path, PathBuf};

fn dir() -> Option<PathBuf> {
    let d = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/net/pcap");
    if d.is_dir() {
        Some(d)
    } else {
        minewatch_model::skip::skipped(&format!(
            "{} not present; shared-data capture test skipped",
            d.display()
        ));
        None
    }
}

/// A labelled session: miner ip:port, dialect, coin.
type Session = (&'static str, &'static str, &'static str);

/// (file, sessions); an empty list means not mining.
const LABELS: &[(&str, &[Session])] = &[
    (
        "ndpi_mining.pcapng",
        &[
            ("147.229.13.222:49307", "eth-proxy", "ETH"),
            ("192.168.2.92:55190", "cryptonote", "XMR"),
            ("192.168.2.148:46838", "equihash", "ZEC"),
            ("192.168.2.148:53846", "equihash", "ZEC"),
        ],
    ),
    (
        "ndpi42_monero_stratum.pcap",
        &[
            ("192.168.2.148:46838", "equihash", "ZEC"),
            ("192.168.2.148:53846", "equihash", "ZEC"),
        ],
    ),
    (
        "ndpi_old_zcash.pcap",
        &[("192.168.2.92:55190", "cryptonote", "XMR")],
    ),
    (
        "peafowl_ethereum_jsonrpc.pcap",
        &[
            ("192.168.2.92:57726", "eth-proxy", "ETH"),
            ("192.168.2.92:41680", "eth-proxy", "ETH"),
        ],
    ),
    ("ndpi_bitcoin.pcap", &[]),
    ("peafowl_bitcoin.pcap", &[]),
    ("ndpi_ethereum.pcap", &[]),
    ("ndpi_monero.pcap", &[]),
    ("ndpi_nano.pcapng", &[]),
    ("ndpi_jsonrpc_negative.pcap", &[]),
    ("peafowl_ethereum-js-http.pcap", &[]),
];

#[test]
fn real_captures_are_labelled_right() {
    let Some(d) = dir() else { return };
    for (file, expect) in LABELS {
        let path = d.join(file);
        if !path.exists() {
            minewatch_model::skip::skipped(&format!("{} missing; skipped", path.display()));
            continue;
        }
        let out = scan_files(std::slice::from_ref(&path), &ScanConfig::default(), &|_| {});
        assert!(
            out.files[0].1.is_ok(),
            "{file}: {:?}",
            out.files[0].1.as_ref().err()
        );
        let mut got: Vec<(String, String, String)> = out
            .detections
            .iter()
            .map(|x| {
                (
                    format!("{}:{}", x.source.ip, x.source.port),
                    x.mining.dialect.clone(),
                    x.mining.coin.map(|c| c.to_string()).unwrap_or_default(),
                )
            })
            .collect();
        got.sort();
        let mut want: Vec<(String, String, String)> = expect
            .iter()
            .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
            .collect();
        want.sort();
        assert_eq!(got, want, "{file}");
    }
}

#[test]
fn real_capture_facts() {
    let Some(d) = dir() else { return };
    let path = d.join("ndpi_mining.pcapng");
    if !path.exists() {
        return;
    }
    let out = scan_files(&[path], &ScanConfig::default(), &|_| {});
    let zec = out
        .detections
        .iter()
        .find(|x| x.source.port == 46838)
        .unwrap();
    assert_eq!(
        zec.mining.pool.as_deref(),
        Some("eu1-zcash.flypool.org:3333")
    );
    assert_eq!(zec.mining.worker.as_deref(), Some("rig4"));
    assert_eq!(zec.mining.agent.as_deref(), Some("EWBF 0.3.4b"));
    // docs/FACTS.md §N4: flypool's target is worth 16,000 solutions per share.
    assert!((zec.mining.difficulty[0].hashes_per_share - 16_000.0).abs() < 1.0);
    let eth = out
        .detections
        .iter()
        .find(|x| x.source.port == 49307)
        .unwrap();
    // eth_submitHashrate 0x1d0a... is a claim, kept apart from the estimate.
    assert!(eth.mining.hashrate_claimed_hs.unwrap() > 3.0e7);
    let xmr = out
        .detections
        .iter()
        .find(|x| x.source.port == 55190)
        .unwrap();
    assert_eq!(
        xmr.mining.wallet_coin.map(|c| c.to_string()).as_deref(),
        Some("XMR")
    );
    assert_eq!(
        xmr.mining.algorithm.map(|a| a.to_string()).as_deref(),
        Some("cryptonight")
    );
}

/// Where the digests of the scan's output on every real capture are kept.
fn digests_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/scan_output.sha256")
}

/// The scan's JSON lines on one capture, the capture's path written as its file name (the
/// path differs between machines), and their SHA-256.
fn output_digest(path: &Path) -> (usize, String) {
    use sha2::Digest;
    let out = scan_files(
        std::slice::from_ref(&path.to_path_buf()),
        &ScanConfig::default(),
        &|_| {},
    );
    assert!(out.files[0].1.is_ok(), "{}", path.display());
    let full = serde_json::to_string(&path.display().to_string()).unwrap();
    let name = serde_json::to_string(&path.file_name().unwrap().to_string_lossy()).unwrap();
    let mut h = sha2::Sha256::new();
    for d in &out.detections {
        h.update(serde_json::to_string(d).unwrap().replace(&full, &name));
        h.update(b"\n");
    }
    (out.detections.len(), hex::encode(h.finalize()))
}

/// Work on the scan's speed must leave what it reports unchanged, byte for byte: the JSON
/// lines of every real capture are held to digests kept in the repository. An intended change
/// of the output rewrites them with `MINEWATCH_BLESS=1` and says why in its commit.
#[test]
fn scan_output_on_real_captures_is_unchanged() {
    let Some(d) = dir() else { return };
    let mut names: Vec<String> = std::fs::read_dir(&d)
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".pcap") || n.ends_with(".pcapng"))
        .collect();
    names.sort();
    let got: String = names
        .iter()
        .map(|n| {
            let (lines, digest) = output_digest(&d.join(n));
            format!("{n} {lines} {digest}\n")
        })
        .collect();
    if std::env::var_os("MINEWATCH_BLESS").is_some() {
        std::fs::write(digests_path(), &got).unwrap();
        return;
    }
    let want = std::fs::read_to_string(digests_path()).unwrap();
    // Captures added to the shared data later have no digest yet: only the kept ones count.
    for line in want.lines() {
        let name = line.split(' ').next().unwrap_or_default();
        let now = got.lines().find(|l| l.split(' ').next() == Some(name));
        assert_eq!(now, Some(line), "the scan's output on {name} changed");
    }
}
