//! `minewatch power` end to end: a generated region through scan and areas, in every format,
//! and bad input named by file, line and column.

use std::path::Path;
use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_minewatch"))
}

fn region(dir: &Path) {
    let st = bin()
        .args([
            "power",
            "generate",
            "--meters",
            "300",
            "--days",
            "60",
            "--miner-share",
            "0.08",
            "--area-size",
            "50",
            "--seed",
            "9",
            "--out",
        ])
        .arg(dir)
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    for f in [
        "readings.csv",
        "customers.csv",
        "feeders.csv",
        "weather.csv",
        "truth.csv",
        "inspections.csv",
    ] {
        assert!(dir.join(f).exists(), "{f}");
    }
}

#[test]
fn scan_in_every_format_with_truth_and_inspections() {
    let d = tempfile::tempdir().unwrap();
    region(d.path());
    let r = d.path().join("readings.csv");
    let c = d.path().join("customers.csv");
    let out = bin()
        .args(["power", "scan"])
        .arg(&r)
        .arg("--customers")
        .arg(&c)
        .arg("--truth")
        .arg(d.path().join("truth.csv"))
        .args(["--format", "jsonl"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "suspects found: exit 1");
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 300);
    for k in [
        "meter_id",
        "score",
        "suspected",
        "reasons",
        "onset",
        "mining_kw",
        "rank",
        "features",
    ] {
        assert!(lines[0].get(k).is_some(), "{k}");
    }
    assert_eq!(lines[0]["rank"], 1);
    // Shares of energy are shares: never above 100 %, even when a step falls in the window.
    for l in &lines {
        for r in l["reasons"].as_array().unwrap() {
            if r["code"] == "floor_carries_load" {
                let en = r["en"].as_str().unwrap();
                let pct: f64 = en.split('%').next().unwrap().parse().unwrap();
                assert!(pct <= 100.0, "{en}");
            }
        }
    }
    assert!(
        lines[0]["reasons"][0]["zh"]
            .as_str()
            .unwrap()
            .chars()
            .any(|c| c > '\u{4e00}')
    );
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("against 300 labels") && err.contains("AUC"),
        "{err}"
    );

    let csv_out = bin()
        .args(["power", "scan"])
        .arg(&r)
        .arg("--customers")
        .arg(&c)
        .args(["--format", "csv", "--top", "5", "-q"])
        .output()
        .unwrap();
    let text = String::from_utf8(csv_out.stdout).unwrap();
    assert!(text.starts_with("rank,meter_id,customer_id,tariff_class"));
    assert_eq!(text.lines().count(), 6);

    let zh = bin()
        .args(["power", "scan"])
        .arg(&r)
        .arg("--customers")
        .arg(&c)
        .args(["--format", "table", "--lang", "zh", "--top", "3", "-q"])
        .output()
        .unwrap();
    assert!(String::from_utf8(zh.stdout).unwrap().contains("原因"));

    let learned = bin()
        .args(["power", "scan"])
        .arg(&r)
        .arg("--customers")
        .arg(&c)
        .arg("--inspections")
        .arg(d.path().join("inspections.csv"))
        .args(["--format", "jsonl"])
        .output()
        .unwrap();
    let err = String::from_utf8(learned.stderr).unwrap();
    // The summary says what the outcomes did: how many, the flags before and after, whether
    // the full model was used and why not.
    assert!(err.contains("inspected meters in the scan ("), "{err}");
    assert!(
        err.contains("flagged ") && err.contains(" before, "),
        "{err}"
    );
    assert!(
        err.contains("model not used: ") || err.contains("model used: "),
        "{err}"
    );
    // Each inspected meter carries its outcome in its reasons.
    let out = String::from_utf8(learned.stdout).unwrap();
    assert!(out.contains("\"code\":\"inspected\""), "{out}");
}

#[test]
fn areas_find_the_stolen_load() {
    let d = tempfile::tempdir().unwrap();
    region(d.path());
    let out = bin()
        .args(["power", "areas"])
        .arg(d.path().join("readings.csv"))
        .arg("--customers")
        .arg(d.path().join("customers.csv"))
        .args(["--format", "jsonl"])
        .output()
        .unwrap();
    let areas: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(areas.len(), 6);
    for a in &areas {
        assert!(a["loss_rate"].as_f64().is_some());
    }
    // Exit 1 exactly when some area is abnormal.
    let any = areas.iter().any(|a| a["abnormal"] == true);
    assert_eq!(out.status.code(), Some(if any { 1 } else { 0 }));
}

#[test]
fn bad_rows_are_named_and_counted() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("r.csv");
    let mut text = String::from("meter_id,timestamp,kwh\n");
    for h in 0..48 {
        text.push_str(&format!(
            "m1,2024-01-{:02}T{:02}:00:00+08:00,1.0\n",
            1 + h / 24,
            h % 24
        ));
    }
    text.push_str("m2,2024-01-01T00:00:00+08:00,abc\nm2,yesterday,1\n");
    std::fs::write(&p, text).unwrap();
    let out = bin()
        .args(["power", "scan"])
        .arg(&p)
        .args(["--format", "jsonl"])
        .output()
        .unwrap();
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("skipped 2 row(s)"), "{err}");
    assert!(
        err.contains("r.csv:50: column kwh: unreadable value"),
        "{err}"
    );
    assert!(
        err.contains("r.csv:51: column timestamp: unreadable timestamp"),
        "{err}"
    );
    let missing = bin()
        .args(["power", "scan", "/nonexistent/readings.csv"])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
}

#[test]
fn change_points_of_a_series() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("s.csv");
    let vals: Vec<String> = (0..200)
        .map(|i| {
            format!(
                "{}",
                if i < 120 { 1.0 } else { 5.0 } + ((i * 37) % 11) as f64 * 0.01
            )
        })
        .collect();
    std::fs::write(&p, vals.join("\n")).unwrap();
    let out = bin()
        .args(["power", "changepoints"])
        .arg(&p)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["change_points"], serde_json::json!([120]));
}

#[test]
fn a_reader_that_stops_early_is_no_error() {
    // `minewatch power scan … | head -1`: the pipe closes under the writer, in each format.
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    let d = tempfile::tempdir().unwrap();
    region(d.path());
    for format in ["csv", "jsonl", "table"] {
        let mut child = bin()
            .args(["power", "scan"])
            .arg(d.path().join("readings.csv"))
            .arg("--customers")
            .arg(d.path().join("customers.csv"))
            .args(["-q", "--format", format])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        assert!(!first.is_empty(), "{format}");
        // The reader is gone (dropped above) before the 300 meters were written.
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("error"), "{format}: {err}");
        assert!(out.status.success(), "{format}: {:?} {err}", out.status);
    }
}
