//! The `minewatch` binary end to end: formats, exit codes, errors, and the output schema
//! written down in docs/DETECTION.md.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_minewatch"))
}

fn synth(dir: &Path, single: bool) {
    let mut c = bin();
    c.args(["synth", "--out"]).arg(dir);
    if single {
        c.arg("--single");
    }
    let st = c.status().unwrap();
    assert!(st.success());
}

#[test]
fn jsonl_csv_and_table_agree_and_exit_one_on_mining() {
    let d = tempfile::tempdir().unwrap();
    synth(d.path(), true);
    let cap = d.path().join("sample.pcapng");
    let j = bin()
        .args(["scan", "--format", "jsonl"])
        .arg(&cap)
        .output()
        .unwrap();
    assert_eq!(j.status.code(), Some(1));
    let lines: Vec<serde_json::Value> = String::from_utf8(j.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let truth = std::fs::read_to_string(d.path().join("truth.jsonl")).unwrap();
    let mining = truth
        .lines()
        .filter(|l| l.contains("\"mining\":true"))
        .count();
    // Every mining session, plus the DNS lookup of a pool name (one per client and name).
    assert_eq!(
        lines
            .iter()
            .filter(|l| l["mining"]["detector"] != "pool-dns")
            .count(),
        mining
    );
    let mining = lines.len();
    let stderr = String::from_utf8(j.stderr).unwrap();
    assert!(
        stderr.contains(&format!("{mining} mining session(s)")),
        "{stderr}"
    );

    let c = bin()
        .args(["scan", "--format", "csv", "--threads", "2"])
        .arg(&cap)
        .output()
        .unwrap();
    assert_eq!(c.status.code(), Some(1));
    let text = String::from_utf8(c.stdout).unwrap();
    let mut rows = csv::Reader::from_reader(text.as_bytes());
    assert_eq!(rows.headers().unwrap().get(1), Some("source.ip"));
    assert_eq!(rows.records().count(), mining);

    let t = bin()
        .args(["scan", "--format", "table", "-q"])
        .arg(&cap)
        .output()
        .unwrap();
    let table = String::from_utf8(t.stdout).unwrap();
    assert!(table.contains("Per miner host") && table.contains("cryptonote"));
    assert!(t.stderr.is_empty(), "quiet means quiet");
}

#[test]
fn exit_zero_on_nothing_and_two_on_a_bad_file() {
    let d = tempfile::tempdir().unwrap();
    synth(d.path(), false);
    let neg = d.path().join("not-bitcoin-p2p.pcap");
    let st = bin()
        .args(["scan", "--format", "jsonl"])
        .arg(&neg)
        .output()
        .unwrap();
    assert_eq!(st.status.code(), Some(0));
    assert!(st.stdout.is_empty());

    let bad = d.path().join("bad.pcap");
    std::fs::write(&bad, b"this is not a capture at all").unwrap();
    let st = bin().args(["scan"]).arg(&neg).arg(&bad).output().unwrap();
    assert_eq!(st.status.code(), Some(2));
    let err = String::from_utf8(st.stderr).unwrap();
    assert!(
        err.contains("bad.pcap") && err.contains("not a pcap"),
        "{err}"
    );

    let st = bin()
        .args(["scan", "/nonexistent/x.pcap"])
        .output()
        .unwrap();
    assert_eq!(st.status.code(), Some(2));
}

#[test]
fn a_folder_scan_finds_every_labelled_session() {
    let d = tempfile::tempdir().unwrap();
    synth(d.path(), false);
    let out = bin()
        .args(["scan", "--format", "jsonl"])
        .arg(d.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let found: BTreeSet<(String, u64)> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (
                v["source"]["ip"].as_str().unwrap().to_string(),
                v["source"]["port"].as_u64().unwrap(),
            )
        })
        .collect();
    for l in std::fs::read_to_string(d.path().join("truth.jsonl"))
        .unwrap()
        .lines()
    {
        let t: serde_json::Value = serde_json::from_str(l).unwrap();
        let key = (
            t["client_ip"].as_str().unwrap().to_string(),
            t["client_port"].as_u64().unwrap(),
        );
        assert_eq!(found.contains(&key), t["mining"].as_bool().unwrap(), "{l}");
    }
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("no captures and were passed over"),
        "truth.jsonl is named: {err}"
    );
}

fn flatten(prefix: &str, v: &serde_json::Value, out: &mut BTreeSet<String>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, x) in m {
                let p = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&p, x, out);
            }
        }
        // An empty list says nothing about its items' fields.
        serde_json::Value::Array(a) if a.is_empty() => {}
        serde_json::Value::Array(a) if a.iter().any(|x| x.is_object()) => {
            for x in a {
                flatten(&format!("{prefix}[]"), x, out);
            }
        }
        _ => {
            out.insert(prefix.to_string());
        }
    }
}

#[test]
fn the_output_schema_is_the_documented_one() {
    let doc = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/DETECTION.md"),
    )
    .unwrap();
    let start = doc
        .find("<!-- schema:start -->")
        .expect("schema markers in DETECTION.md");
    let end = doc.find("<!-- schema:end -->").unwrap();
    let documented: BTreeSet<String> = doc[start..end]
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split('`').next())
        .map(str::to_string)
        .collect();
    let d = tempfile::tempdir().unwrap();
    synth(d.path(), true);
    let j = bin()
        .args(["scan", "--format", "jsonl"])
        .arg(d.path().join("sample.pcapng"))
        .output()
        .unwrap();
    let mut seen = BTreeSet::new();
    for l in String::from_utf8(j.stdout).unwrap().lines() {
        flatten("", &serde_json::from_str(l).unwrap(), &mut seen);
    }
    let undocumented: Vec<_> = seen.difference(&documented).collect();
    let unseen: Vec<_> = documented.difference(&seen).collect();
    assert!(
        undocumented.is_empty(),
        "fields missing from docs/DETECTION.md: {undocumented:?}"
    );
    assert!(
        unseen.is_empty(),
        "documented fields never produced: {unseen:?}"
    );
}

#[test]
fn the_shipped_sample_is_what_the_generator_writes() {
    let d = tempfile::tempdir().unwrap();
    synth(d.path(), true);
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../samples");
    for f in ["sample.pcapng", "truth.jsonl"] {
        let shipped = std::fs::read(root.join(f)).unwrap();
        let fresh = std::fs::read(d.path().join(f)).unwrap();
        assert!(
            shipped == fresh,
            "samples/{f} is stale: run `minewatch synth --single --out samples`"
        );
    }
}

#[test]
fn lists_from_a_config_file_and_a_folder() {
    let d = tempfile::tempdir().unwrap();
    let lists = d.path().join("lists");
    std::fs::create_dir(&lists).unwrap();
    std::fs::write(lists.join("isp.txt"), "||pool.isp-internal.example^\n").unwrap();
    std::fs::write(
        lists.join("more.csv"),
        "domain,pool\nrig.example.net,Rigs\nnot a line,\n",
    )
    .unwrap();
    std::fs::write(lists.join("LICENSE"), "not a list\n").unwrap();
    let cfg = d.path().join("mw.toml");
    std::fs::write(&cfg, "[intel]\nlists = [\"lists\"]\n").unwrap();
    let o = bin()
        .args([
            "intel",
            "check",
            "a.pool.isp-internal.example",
            "x.rig.example.net",
            "example.org",
        ])
        .arg("--config")
        .arg(&cfg)
        .env_remove("MINEWATCH_CONFIG")
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("a.pool.isp-internal.example\tPool"), "{out}");
    assert!(out.contains("x.rig.example.net\tPool\tRigs"), "{out}");
    assert!(out.contains("example.org\tnot listed"), "{out}");
    // The bad CSV line is named by file and line; the licence was not read as a list, and
    // that is said once.
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("more.csv:3"), "{err}");
    let licence: Vec<&str> = err.lines().filter(|l| l.contains("LICENSE")).collect();
    assert_eq!(licence.len(), 1, "{err}");
    assert!(
        licence[0].contains("not lists and were passed over"),
        "{err}"
    );
    // A mistake in the configuration is named by file and line.
    std::fs::write(&cfg, "[intel]\nlist = [\"lists\"]\n").unwrap();
    let o = bin()
        .args(["intel", "stats", "--config"])
        .arg(&cfg)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("mw.toml") && err.contains("line 2"), "{err}");
}

/// A one-connection-at-a-time Stratum pool on loopback: a subscribe result to any subscribe.
fn tiny_pool() -> std::net::SocketAddr {
    use std::io::{Read, Write};
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    std::thread::spawn(move || {
        for mut s in l.incoming().flatten() {
            let mut buf = [0u8; 4096];
            let n = s.read(&mut buf).unwrap_or(0);
            if buf[..n].windows(16).any(|w| w == b"mining.subscribe") {
                let _ = s.write_all(b"{\"id\":1,\"result\":[[[\"mining.set_difficulty\",\"1\"],[\"mining.notify\",\"1\"]],\"08000002\",4],\"error\":null}\n");
            }
        }
    });
    addr
}

#[test]
fn confirm_asks_a_pool_writes_its_verdict_and_logs_every_connection() {
    let pool = tiny_pool().to_string();
    let d = tempfile::tempdir().unwrap();
    let log = d.path().join("probes.jsonl");
    let o = bin()
        .args([
            "confirm",
            &pool,
            "--allow-private",
            "--timeout",
            "2",
            "--format",
            "jsonl",
        ])
        .arg("--probe-log")
        .arg(&log)
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["target"], pool.as_str());
    assert_eq!(v["verdict"], "pool");
    assert_eq!(v["transport"], "tcp");
    assert_eq!(v["dialect"], "bitcoin");
    assert!(v["answer"].as_str().unwrap().contains("mining.notify"));
    let logged = std::fs::read_to_string(&log).unwrap();
    assert_eq!(logged.lines().count(), 1);
    assert!(logged.contains("\"probe\":\"stratum\""));

    // Without --allow-private nothing is sent, and the reason says how to allow it.
    let o = bin()
        .args(["confirm", &pool, "--format", "csv"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0));
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(text.starts_with("target,transport,verdict,dialect,coin,reason,answer,at"));
    assert!(
        text.contains("unreachable") && text.contains("--allow-private"),
        "{text}"
    );
    // A target that is not host:port is an error (exit 2) naming it.
    let o = bin()
        .args(["confirm", "pool.example.org"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("pool.example.org"));
}

#[test]
fn a_list_folder_with_docs_and_a_pool_csv_of_its_own_column_names() {
    let d = tempfile::tempdir().unwrap();
    let lists = d.path().join("lists");
    std::fs::create_dir(&lists).unwrap();
    std::fs::write(lists.join("README.md"), "# Pools\nThis list names pools.\n").unwrap();
    std::fs::write(
        lists.join("LICENSE"),
        "MIT License\nPermission is hereby granted\n",
    )
    .unwrap();
    std::fs::write(lists.join("notes.txt"), "Some words here\nand more words\n").unwrap();
    std::fs::write(
        lists.join("pools.csv"),
        "pool_name,fqdn,ipv4_addresses,ports_coin\nExPool,xmr.expool.example,\"198.51.100.1;198.51.100.2\",3333:XMR\n",
    )
    .unwrap();
    std::fs::write(lists.join("endpoints.txt"), "btc.other.example:3333\n").unwrap();
    let o = bin()
        .args([
            "intel",
            "check",
            "eu.xmr.expool.example",
            "198.51.100.2",
            "btc.other.example",
            "--intel",
        ])
        .arg(&lists)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let out = String::from_utf8(o.stdout).unwrap();
    assert!(out.contains("ExPool\tXMR"), "{out}");
    assert!(!out.contains("not listed"), "{out}");
    let err = String::from_utf8(o.stderr).unwrap();
    let said: Vec<&str> = err.lines().filter(|l| l.contains("not lists")).collect();
    assert_eq!(said.len(), 1, "said once: {err}");
    for f in ["README.md", "LICENSE", "notes.txt"] {
        assert!(said[0].contains(f), "{err}");
    }
    assert!(!err.contains("skipped"), "no line-by-line noise: {err}");

    // A headerless CSV, its columns named.
    let raw = d.path().join("raw.csv");
    std::fs::write(&raw, "ZPool,zec.zpool.example,ZEC\n").unwrap();
    let o = bin()
        .args([
            "intel",
            "check",
            "zec.zpool.example",
            "--intel-columns",
            "host=2,pool=1,coin=3",
            "--intel",
        ])
        .arg(&raw)
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(String::from_utf8(o.stdout).unwrap().contains("ZPool\tZEC"));
}

#[test]
fn confirm_pending_asks_what_the_store_suspects_once_until_it_expires() {
    let pool = tiny_pool();
    let d = tempfile::tempdir().unwrap();
    let db = d.path().join("mw.db");
    let line = format!(
        r#"{{"@timestamp":"2024-03-01T00:00:00Z","event":{{"kind":"alert","dataset":"minewatch.scan","start":"2024-03-01T00:00:00Z","end":"2024-03-01T00:30:00Z"}},"source":{{"ip":"10.1.1.1","port":40001}},"destination":{{"ip":"{}","port":{}}},"mining":{{"detector":"behaviour","confidence":0.55}}}}"#,
        pool.ip(),
        pool.port()
    );
    let lines = d.path().join("scan.jsonl");
    std::fs::write(&lines, format!("{line}\n")).unwrap();
    let o = bin()
        .arg("ingest")
        .arg(&lines)
        .arg("--db")
        .arg(&db)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let confirm = || {
        bin()
            .args([
                "confirm",
                "--pending",
                "--allow-private",
                "--timeout",
                "2",
                "--format",
                "jsonl",
                "--db",
            ])
            .arg(&db)
            .output()
            .unwrap()
    };
    let o = confirm();
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["target"], pool.to_string().as_str());
    assert_eq!(v["verdict"], "pool");
    assert_eq!(v["connections"], 1);
    // Asked again: nothing is pending, nothing is sent.
    let o = confirm();
    assert_eq!(o.status.code(), Some(0));
    assert!(o.stdout.is_empty());
    // Named explicitly: the standing outcome, cached, no connection.
    let named = |extra: &[&str]| {
        bin()
            .args(["confirm", &pool.to_string(), "--allow-private"])
            .args(extra)
            .args(["--format", "jsonl", "--db"])
            .arg(&db)
            .output()
            .unwrap()
    };
    let o = named(&[]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["verdict"], "pool");
    assert_eq!(v["connections"], 0);
    assert!(v["reason"].as_str().unwrap().starts_with("cached until"));
    // --refresh asks again although the outcome stands.
    let o = named(&["--refresh"]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["verdict"], "pool");
    assert!(v["connections"].as_u64().unwrap() >= 1, "{v}");
}
