//! `minewatch chain` against a real node: Debian's litecoind on a regtest chain this test mines
//! itself, read over JSON-RPC and REST. Skipped with a notice when litecoind is not installed (`.ci/run`
//! installs it).

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use bitcoin::hashes::Hash;

struct NodeGuard(Child);

impl Drop for NodeGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap()
}

fn address(n: u8) -> String {
    let h = bitcoin::PubkeyHash::from_byte_array([n; 20]);
    bitcoin::Address::p2pkh(h, bitcoin::Network::Regtest).to_string()
}

fn mw(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_minewatch"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn blocks_and_index_from_a_litecoin_regtest_node() {
    if Command::new("litecoind").arg("-version").output().is_err() {
        minewatch_model::skip::skipped("litecoind is not installed; the node test is skipped");
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("node");
    std::fs::create_dir(&data).unwrap();
    let rpc_port = free_port();
    let child = Command::new("litecoind")
        .arg("-regtest")
        .arg(format!("-datadir={}", data.display()))
        .arg(format!("-rpcport={rpc_port}"))
        .args([
            "-rpcbind=127.0.0.1",
            "-rpcallowip=127.0.0.1",
            "-listen=0",
            "-server=1",
            "-disablewallet=1",
            "-printtoconsole=0",
            "-dnsseed=0",
            "-rest=1",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _guard = NodeGuard(child);
    let url = format!("http://127.0.0.1:{rpc_port}");
    let cookie = data.join("regtest").join(".cookie");
    let start = Instant::now();
    let node = loop {
        if cookie.exists()
            && let Ok(n) = minewatch_chain::rpc::Node::with_cookie(&url, &cookie)
            && n.chain().is_ok()
        {
            break n;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "litecoind did not answer"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    // The test's own chain: 60 blocks to the "pool", 40 to someone else.
    for (n, to) in [(60, address(1)), (40, address(2))] {
        node.call("generatetoaddress", serde_json::json!([n, to]))
            .unwrap();
    }
    let pools = d.path().join("pools.json");
    std::fs::write(
        &pools,
        format!(
            r#"[{{"id":1,"name":"TestPool","addresses":["{}"],"tags":[]}}]"#,
            address(1)
        ),
    )
    .unwrap();
    let cookie_s = cookie.to_str().unwrap();
    let pools_s = pools.to_str().unwrap();
    let o = mw(&[
        "chain",
        "blocks",
        "--rpc",
        &url,
        "--rpc-cookie",
        cookie_s,
        "--pools",
        pools_s,
        "--format",
        "jsonl",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let blocks: Vec<serde_json::Value> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(blocks.len(), 101, "genesis and the 100 mined");
    for b in &blocks {
        let h = b["height"].as_u64().unwrap();
        let want = if (1..=60).contains(&h) {
            Some("TestPool")
        } else {
            None
        };
        assert_eq!(b["pool"].as_str(), want, "block {h}");
        assert_eq!(b["best_chain"], true);
    }
    // Regtest halves every 150 blocks: 50 coins each here.
    assert_eq!(blocks[100]["subsidy_sat"], 5_000_000_000u64);

    // The same blocks over the node's REST interface.
    let o = mw(&[
        "chain", "blocks", "--rest", &url, "--pools", pools_s, "--format", "jsonl",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let rest: Vec<serde_json::Value> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // The same blocks, but for the temporary file each fetch wrote them to.
    let without_file = |v: &[serde_json::Value]| -> Vec<serde_json::Value> {
        v.iter()
            .map(|b| {
                let mut b = b.clone();
                b.as_object_mut().map(|o| o.remove("file"));
                b
            })
            .collect()
    };
    assert!(
        without_file(&rest) == without_file(&blocks),
        "REST and JSON-RPC differ"
    );
    let o = mw(&[
        "chain",
        "blocks",
        "--rest",
        &url,
        "--from-height",
        "95",
        "--format",
        "jsonl",
    ]);
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).lines().count(),
        6,
        "heights 95..=100"
    );

    // Index, mine more, index again: the second run fetches only the new blocks.
    let db = d.path().join("chain.db");
    let db_s = db.to_str().unwrap();
    let index = || {
        mw(&[
            "chain",
            "index",
            "--rpc",
            &url,
            "--rpc-cookie",
            cookie_s,
            "--db",
            db_s,
        ])
    };
    let o = index();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    node.call("generatetoaddress", serde_json::json!([5, address(3)]))
        .unwrap();
    let o = index();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(err.contains("fetched 5 blocks of regtest"), "{err}");
    let idx = minewatch_chain::index::Index::open(Path::new(&db)).unwrap();
    assert_eq!(idx.tip_height().unwrap(), Some(105));
    // Wrong credentials are named, not a panic.
    let o = mw(&["chain", "blocks", "--rpc", &url, "--rpc-auth", "x:y"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("wrong credentials"));
}
