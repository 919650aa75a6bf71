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
