//! `minewatch chain index | cluster | trace | payouts` end to end on the project's own chain
//! (`synth::payout_chain`): answers known by construction, and a missing index named.

use std::path::Path;
use std::process::{Command, Output};

use minewatch_chain::synth::{address, blk_file, payout_chain};

fn run(args: &[&str], db: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_minewatch"))
        .args(args)
        .arg("--db")
        .arg(db)
        .output()
        .unwrap()
}

fn lines(o: &Output) -> Vec<serde_json::Value> {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn index_then_follow_the_money() {
    let d = tempfile::tempdir().unwrap();
    let blocks = payout_chain();
    let refs: Vec<&bitcoin::Block> = blocks.iter().collect();
    let dir = d.path().join("blocks");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(
        dir.join("blk00000.dat"),
        blk_file(&refs, [0xf9, 0xbe, 0xb4, 0xd9], [0; 8]),
    )
    .unwrap();
    let pools = d.path().join("pools.json");
    std::fs::write(
        &pools,
        r#"[{"id":1,"name":"PoolX","addresses":[],"tags":["/poolx/"]}]"#,
    )
    .unwrap();
    let tags = d.path().join("tags.csv");
    std::fs::write(
        &tags,
        format!(
            "address,label,category\n{},Exchange A,exchange\n",
            address(30)
        ),
    )
    .unwrap();
    let db = d.path().join("chain.db");

    let missing = run(&["chain", "trace", &address(11)], &db);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no index here"));

    let dir_s = dir.to_str().unwrap();
    let pools_s = pools.to_str().unwrap();
    for _ in 0..2 {
        // The second run resumes and adds nothing, and must still succeed.
        let o = run(&["chain", "index", dir_s, "--pools", pools_s], &db);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }

    let c = lines(&run(
        &["chain", "cluster", &address(11), "--format", "jsonl"],
        &db,
    ));
    let mut got: Vec<String> = c
        .iter()
        .filter(|v| v["cluster_of"] == address(11))
        .filter_map(|v| v["address"].as_str().map(str::to_string))
        .collect();
    got.sort();
    let mut want = vec![address(11), address(17)];
    want.sort();
    assert_eq!(got, want, "{c:?}");

    let t = lines(&run(
        &[
            "chain",
            "trace",
            &address(11),
            "--tags",
            tags.to_str().unwrap(),
            "--format",
            "jsonl",
        ],
        &db,
    ));
    assert!(
        t.iter()
            .any(|e| e["to_label"] == "Exchange A" && e["value_sat"] == 14 * 100_000_000i64 - 2000),
        "{t:?}"
    );
    trace_becomes_case_evidence(d.path(), &t);

    let dot = run(&["chain", "trace", &address(11), "--format", "dot"], &db);
    assert!(dot.status.success());
    let dot = String::from_utf8_lossy(&dot.stdout);
    assert!(
        dot.starts_with("digraph") && dot.contains(&address(30)),
        "{dot}"
    );

    let p = lines(&run(
        &["chain", "payouts", "--pool", "PoolX", "--format", "jsonl"],
        &db,
    ));
    let miners: Vec<&serde_json::Value> = p.iter().filter(|x| x["address"] != address(1)).collect();
    assert_eq!(miners.len(), 7, "{p:?}");
    assert!(
        miners
            .iter()
            .all(|x| x["payments"] == 1 && x["total_sat"] == 7 * 100_000_000i64)
    );
}

#[test]
fn generate_index_and_cluster_with_truth() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("gen");
    let o = Command::new(env!("CARGO_BIN_EXE_minewatch"))
        .args([
            "chain", "generate", "--blocks", "40", "--txs", "20", "--users", "100", "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(out.join("blk00000.dat").exists() && out.join("owners.csv").exists());
    // Pool shares of the generated blocks: every block counted once, most blocks first.
    let o = Command::new(env!("CARGO_BIN_EXE_minewatch"))
        .args(["chain", "pools", "--format", "jsonl"])
        .arg(&out)
        .output()
        .unwrap();
    let shares = lines(&o);
    let blocks: u64 = shares.iter().map(|r| r["blocks"].as_u64().unwrap()).sum();
    assert_eq!(blocks, 41, "40 blocks and the genesis block: {shares:?}");
    let total: f64 = shares.iter().map(|r| r["share"].as_f64().unwrap()).sum();
    assert!((total - 1.0).abs() < 1e-9);
    assert!(
        shares
            .windows(2)
            .all(|w| w[0]["blocks"].as_u64() >= w[1]["blocks"].as_u64())
    );
    let db = d.path().join("c.db");
    let o = run(&["chain", "index", out.to_str().unwrap(), "-q"], &db);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let truth = out.join("owners.csv");
    let o = run(
        &[
            "chain",
            "clusters",
            "--format",
            "jsonl",
            "--truth",
            truth.to_str().unwrap(),
        ],
        &db,
    );
    let rows = lines(&o);
    assert!(rows.len() > 100);
    assert!(rows.iter().all(|r| r["cluster"].is_string()));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("pairwise precision 1.0000"), "{err}");
}

/// The wallet a miner's session paid to links the wallet's trace to that site's case, whichever
/// arrives first.
fn trace_becomes_case_evidence(dir: &Path, trace: &[serde_json::Value]) {
    let store = dir.join("cases.db");
    let store_s = store.to_str().unwrap();
    let mw = |args: &[&str]| {
        let o = Command::new(env!("CARGO_BIN_EXE_minewatch"))
            .args(args)
            .args(["--db", store_s])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stdout).to_string()
    };
    let file = |name: &str, text: String| {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p.to_str().unwrap().to_string()
    };
    let registry = [
        file(
            "sites.csv",
            "site_id,address,region_code\nS1,No. 1 Road,150202\n".into(),
        ),
        file("subscribers.csv", "subscriber_id,site_id\nU1,S1\n".into()),
        file(
            "leases.csv",
            "ip,start,end,subscriber_id\n10.0.0.7,2024-03-01,2024-03-02,U1\n".into(),
        ),
    ];
    mw(&[
        &["registry", "import"][..],
        &registry.iter().map(String::as_str).collect::<Vec<_>>(),
    ]
    .concat());
    let trace_file = file(
        "trace.jsonl",
        trace.iter().map(|v| v.to_string() + "\n").collect(),
    );
    // The trace first: no registry entry knows the wallet yet, so it waits, unattributed.
    mw(&["ingest", &trace_file]);
    assert_eq!(mw(&["cases", "list", "--format", "jsonl"]), "");
    // A session from the leased address paying to that wallet ties both to S1.
    let session = format!(
        r#"{{"event":{{"dataset":"minewatch.scan","start":"2024-03-01T10:00:00+08:00","end":"2024-03-01T10:05:00+08:00"}},"source":{{"ip":"10.0.0.7","port":40001}},"destination":{{"ip":"203.0.113.1","port":3333}},"mining":{{"detector":"stratum","coin":"BTC","wallet":"{}","confidence":1.0}}}}"#,
        address(11)
    );
    let session_file = file("session.jsonl", session + "\n");
    mw(&["ingest", &session_file]);
    let case: serde_json::Value =
        serde_json::from_str(mw(&["cases", "export", "--format", "jsonl"]).trim()).unwrap();
    assert_eq!(case["site_id"], "S1");
    assert_eq!(
        case["streams"],
        serde_json::json!(["network", "chain"]),
        "{case}"
    );
    let chain: Vec<&serde_json::Value> = case["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["stream"] == "chain")
        .collect();
    assert!(
        chain.iter().any(|e| e["detector"] == "tagged-flow"
            && e["department"] == "finance"
            && e["summary"].as_str().unwrap().contains("Exchange A")
            && e["attributed_by"] == "wallet-in-session"),
        "{chain:?}"
    );
}
