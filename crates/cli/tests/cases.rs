//! The store's commands end to end: the demo region, imports killed halfway, the case
//! commands, on SQLite and (when `MINEWATCH_TEST_POSTGRES` is set) PostgreSQL.

use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use minewatch_store::Store;
use minewatch_store::cases::{self, Filter};
use minewatch_store::testing::{engines, write};

fn minewatch(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_minewatch"))
        .args(args)
        .output()
        .expect("minewatch runs")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// What a store holds, without the wall-clock stamps of when things were imported.
fn snapshot(target: &str) -> (Vec<String>, i64, i64, i64) {
    let mut s = Store::open(target).unwrap();
    let list = cases::list(&mut s.conn, &Filter::default()).unwrap();
    let rows = list
        .iter()
        .map(|c| {
            format!(
                "{} {} {} {:.4} {:.4} {:?} {:?} {}",
                c.site_id,
                c.state,
                c.streams.join("+"),
                c.power_kw,
                c.confidence,
                c.first_seen,
                c.last_seen,
                c.evidence_count
            )
        })
        .collect::<Vec<String>>();
    // Case numbers follow the order sites were folded in; compare contents, not numbering.
    let mut rows = rows;
    rows.sort();
    let count = |s: &mut Store, t: &str| {
        s.conn
            .query_one(&format!("SELECT COUNT(*) FROM {t}"), &[])
            .unwrap()
            .unwrap()
            .int(0)
    };
    let ev = count(&mut s, "evidence");
    let ips = count(&mut s, "ip_assignments");
    let events = count(&mut s, "case_events");
    (rows, ev, ips, events)
}

#[test]
fn demo_fuses_a_generated_region_into_one_case_per_mining_site() {
    let dir = tempfile::tempdir().unwrap();
    for e in engines(dir.path(), "demo") {
        let out = dir.path().join(format!("demo-{}", e.label));
        let out_s = out.display().to_string();
        let args = [
            "demo", "--out", &out_s, "--db", &e.target, "--meters", "240", "--days", "70",
            "--quiet",
        ];
        let o = minewatch(&args);
        assert!(o.status.success(), "{}: {}", e.label, text(&o));
        let score: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("score.json")).unwrap())
                .unwrap();
        // Every site whose mining crossed the probe has its case, on the right site: the
        // leases change daily, so a wrong time lookup would name a neighbour.
        for kind in ["meter and network", "network only"] {
            let (n, found) = (&score["by_stream"][kind][0], &score["by_stream"][kind][1]);
            assert_eq!(n, found, "{}: {kind}: {score}", e.label);
        }
        assert!(
            score["by_stream"]["network only"][0].as_u64().unwrap() >= 1,
            "{score}"
        );
        // A rig wired ahead of its meter shows only at the feeder: every such site the probe
        // does not see lies in a transformer area that the area balance flags.
        let theft = &score["theft_in_flagged_area"];
        assert!(theft[0].as_u64().unwrap() >= 1, "{score}");
        assert_eq!(theft[0], theft[1], "{}: {score}", e.label);
        // Cases on clean sites come only from the meter scores; the stated bound is 2 %.
        assert!(
            score["clean_case_rate"].as_f64().unwrap() <= 0.02,
            "{}: {score}",
            e.label
        );
        // Mining from unleased addresses is kept, not dropped: one stray session a day.
        assert_eq!(score["unattributed_evidence"], 7, "{}: {score}", e.label);
        let stdout = String::from_utf8_lossy(&o.stdout);
        assert!(
            stdout.contains("regional report as of") && stdout.contains("Inner Mongolia"),
            "{stdout}"
        );
        assert!(out.join("regions.svg").exists());

        // The same demo again: the same store.
        let before = snapshot(&e.target);
        let o = minewatch(&args);
        assert!(o.status.success(), "{}: {}", e.label, text(&o));
        assert_eq!(
            snapshot(&e.target),
            before,
            "{}: a second run changed the store",
            e.label
        );

        // The case commands on it.
        let db = ["--db", e.target.as_str()];
        // Who held a leased address, asked the way a carrier's analyst would.
        let leases = std::fs::read_to_string(out.join("ip-assignments.csv")).unwrap();
        let lease: Vec<&str> = leases.lines().nth(1).unwrap().split(',').collect();
        let subs = std::fs::read_to_string(out.join("subscribers.csv")).unwrap();
        let site = subs
            .lines()
            .find(|l| l.starts_with(&format!("{},", lease[3])))
            .and_then(|l| l.rsplit(',').next())
            .unwrap()
            .to_string();
        let o = minewatch(
            &[
                &[
                    "registry", "lookup", "--ip", lease[0], "--at", lease[1], "--format", "jsonl",
                ][..],
                &db,
            ]
            .concat(),
        );
        assert_eq!(o.status.code(), Some(1), "{}", text(&o));
        let found: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(found["site_id"], site.as_str(), "{found}");
        assert_eq!(found["by"], format!("ip-assignment:{}", lease[3]));
        let o = minewatch(
            &[
                &["registry", "lookup", "--ip", lease[0], "--at", "2020-01-01"][..],
                &db,
            ]
            .concat(),
        );
        assert_eq!(o.status.code(), Some(0), "before any lease: {}", text(&o));
        let o = minewatch(
            &[
                &[
                    "cases",
                    "list",
                    "--state",
                    "suspected",
                    "--region",
                    "15",
                    "--format",
                    "jsonl",
                ][..],
                &db,
            ]
            .concat(),
        );
        assert!(o.status.success(), "{}", text(&o));
        let first: serde_json::Value =
            serde_json::from_str(String::from_utf8_lossy(&o.stdout).lines().next().unwrap())
                .unwrap();
        assert!(first["region_code"].as_str().unwrap().starts_with("15"));
        let id = first["case_id"].to_string();
        let o = minewatch(
            &[
                &[
                    "cases",
                    "advance",
                    &id,
                    "--to",
                    "verified",
                    "--by",
                    "li.wei",
                    "--reason",
                    "site visit: 16 machines",
                ][..],
                &db,
            ]
            .concat(),
        );
        assert!(o.status.success(), "{}", text(&o));
        let o = minewatch(
            &[
                &[
                    "cases", "advance", &id, "--to", "closed", "--by", "li.wei", "--reason", "x",
                ][..],
                &db,
            ]
            .concat(),
        );
        assert!(
            o.status.success(),
            "verified → closed is dismissal: {}",
            text(&o)
        );
        let o = minewatch(
            &[
                &[
                    "cases",
                    "advance",
                    &id,
                    "--to",
                    "rectified",
                    "--by",
                    "li.wei",
                    "--reason",
                    "x",
                ][..],
                &db,
            ]
            .concat(),
        );
        assert_eq!(o.status.code(), Some(2));
        assert!(
            text(&o).contains("cannot go to rectified (allowed: relapsed)"),
            "{}",
            text(&o)
        );
        // Inspection outcomes go back to the power model in its own input format.
        {
            let mut s = Store::open(&e.target).unwrap();
            let i = minewatch_store::users::Inspection {
                at: String::new(),
                inspector: "li.wei".into(),
                mining: true,
                machines: Some(16),
                measured_kw: None,
                notes: String::new(),
            };
            let at = minewatch_store::time::parse_date("2024-03-31").unwrap();
            minewatch_store::users::add_inspection(&mut s.conn, id.parse().unwrap(), &i, at)
                .unwrap();
        }
        let o = minewatch(&[&["cases", "inspections"][..], &db].concat());
        let csv = String::from_utf8_lossy(&o.stdout).to_string();
        assert!(
            csv.starts_with("meter_id,date,mining\n") && csv.contains(",2024-03-31,yes"),
            "{csv}"
        );
        let o = minewatch(&[&["cases", "show", &id, "--format", "table"][..], &db].concat());
        let shown = text(&o);
        assert!(
            shown.contains("li.wei")
                && shown.contains("site visit: 16 machines")
                && shown.contains("evidence:"),
            "{shown}"
        );
        let html = out.join("notice.html");
        let o = minewatch(
            &[
                &[
                    "cases",
                    "document",
                    &id,
                    "--lang",
                    "en",
                    "--out",
                    &html.display().to_string(),
                ][..],
                &db,
            ]
            .concat(),
        );
        assert!(o.status.success(), "{}", text(&o));
        assert!(
            std::fs::read_to_string(&html)
                .unwrap()
                .contains("Notice to rectify")
        );
        let o = minewatch(
            &[
                &[
                    "report",
                    "regions",
                    "--format",
                    "csv",
                    "--chart",
                    &out.join("r.svg").display().to_string(),
                ][..],
                &db,
            ]
            .concat(),
        );
        assert!(o.status.success(), "{}", text(&o));
        let csv = String::from_utf8_lossy(&o.stdout);
        assert!(csv.starts_with("level,code,name,open,"), "{csv}");
        assert!(
            std::fs::read_to_string(out.join("r.svg"))
                .unwrap()
                .contains("<svg")
        );
        let o = minewatch(&[&["cases", "unattributed", "--format", "csv"][..], &db].concat());
        assert_eq!(
            String::from_utf8_lossy(&o.stdout).lines().count(),
            8,
            "{}",
            text(&o)
        );
    }
}

/// Waits until the store has at least one row in `table`, then kills the child.
fn kill_when_started(child: &mut std::process::Child, target: &str, table: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            panic!(
                "{table}: the import finished ({status}) before it could be killed; make the file bigger"
            );
        }
        let n = Store::open(target)
            .ok()
            .and_then(|mut s| {
                s.conn
                    .query_one(&format!("SELECT COUNT(*) FROM {table}"), &[])
                    .ok()
                    .flatten()
            })
            .map_or(0, |r| r.int(0));
        if n > 0 {
            // SIGKILL: no destructor, no rollback, no goodbye.
            child.kill().unwrap();
            child.wait().unwrap();
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{table}: nothing written within a minute"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn imports_killed_halfway_lose_and_duplicate_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (subs, days) = (300, 40);
    let mut sites = String::from("site_id,address,region_code\n");
    let mut subscribers = String::from("subscriber_id,site_id\n");
    for i in 0..subs {
        let _ = writeln!(sites, "S{i},No. {i} Road,150202");
        let _ = writeln!(subscribers, "U{i},S{i}");
    }
    // A lease per subscriber per day, addresses rotating: 12,000 rows.
    let day0 = 1_709_222_400; // 2024-03-01T00:00:00+08:00
    let mut leases = String::from("ip,start,end,subscriber_id\n");
    for d in 0..days {
        for i in 0..subs {
            let ip = (i + d * 7) % subs;
            let _ = writeln!(
                leases,
                "10.1.{}.{},{},{},U{i}",
                ip / 200,
                ip % 200 + 1,
                day0 + d * 86_400,
                day0 + (d + 1) * 86_400
            );
        }
    }
    // Sessions from those addresses: 12,000 lines.
    let mut detections = String::new();
    for k in 0..12_000i64 {
        let (d, i) = (k % days, (k * 13) % subs);
        let ip = (i + d * 7) % subs;
        let t = day0 + d * 86_400 + 3_600 + k % 80_000;
        let start = time_rfc3339(t);
        let _ = writeln!(
            detections,
            r#"{{"event":{{"dataset":"minewatch.scan","start":"{start}","end":"{start}"}},"source":{{"ip":"10.1.{}.{}","port":{}}},"destination":{{"ip":"203.0.113.9","port":3333}},"mining":{{"detector":"stratum","coin":"BTC","worker":"w{i}","power_w":100.0,"power_w_low":50.0,"power_w_high":200.0,"confidence":1.0}}}}"#,
            ip / 200,
            ip % 200 + 1,
            20_000 + k % 40_000
        );
    }
    let files = [
        write(dir.path(), "sites.csv", &sites),
        write(dir.path(), "subscribers.csv", &subscribers),
        write(dir.path(), "ip-assignments.csv", &leases),
    ];
    let det = write(dir.path(), "detections.jsonl", &detections);
    let f = |p: &Path| p.display().to_string();
    for e in engines(dir.path(), "killed") {
        // The reference: everything imported once, in one go, in a separate store.
        let clean = match e.label {
            "sqlite" => dir.path().join("clean.db").display().to_string(),
            _ => engines(dir.path(), "killed_ref").pop().unwrap().target,
        };
        let o = minewatch(&[
            "registry",
            "import",
            &f(&files[0]),
            &f(&files[1]),
            &f(&files[2]),
            "--db",
            &clean,
        ]);
        assert!(o.status.success(), "{}", text(&o));
        let o = minewatch(&["ingest", &f(&det), "--db", &clean]);
        assert!(o.status.success(), "{}", text(&o));
        let want = snapshot(&clean);
        assert_eq!((want.1, want.2), (12_000, 12_000), "{}", e.label);

        // Kill the registry import once it has written something, then run it again.
        let o = minewatch(&[
            "registry",
            "import",
            &f(&files[0]),
            &f(&files[1]),
            "--db",
            &e.target,
        ]);
        assert!(o.status.success(), "{}", text(&o));
        let mut child = Command::new(env!("CARGO_BIN_EXE_minewatch"))
            .args(["registry", "import", &f(&files[2]), "--db", &e.target])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        kill_when_started(&mut child, &e.target, "ip_assignments");
        let partial = snapshot(&e.target).2;
        assert!(
            partial < 12_000,
            "{}: the kill came too late ({partial} rows)",
            e.label
        );
        let o = minewatch(&["registry", "import", &f(&files[2]), "--db", &e.target]);
        assert!(o.status.success(), "{}", text(&o));

        // Kill the ingest the same way.
        let mut child = Command::new(env!("CARGO_BIN_EXE_minewatch"))
            .args(["ingest", &f(&det), "--db", &e.target])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        kill_when_started(&mut child, &e.target, "evidence");
        let partial = snapshot(&e.target).1;
        assert!(
            partial < 12_000,
            "{}: the kill came too late ({partial} rows)",
            e.label
        );
        let o = minewatch(&["ingest", &f(&det), "--db", &e.target]);
        assert!(o.status.success(), "{}", text(&o));
        assert_eq!(
            snapshot(&e.target),
            want,
            "{}: the resumed store differs from the clean one",
            e.label
        );
        // And once more: nothing changes.
        let o = minewatch(&["ingest", &f(&det), "--db", &e.target]);
        assert!(
            text(&o).contains("0 new pieces of evidence"),
            "{}",
            text(&o)
        );
        assert_eq!(snapshot(&e.target), want, "{}", e.label);
    }
}

fn time_rfc3339(t: i64) -> String {
    minewatch_store::time::format_instant(t)
}
