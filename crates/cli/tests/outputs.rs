//! Every command's output, byte for byte: the safety net under refactoring (issue 17). Each
//! command runs on inputs that ship with the project or that the project generates from a fixed
//! seed (and on the shared block files when present); its standard output, with the temporary
//! directory's path taken out, is held to a digest kept in `tests/outputs.txt`. An intended
//! change of an output rewrites the file with `MINEWATCH_BLESS=1` and says why in its commit.

use sha2::Digest;
use std::path::Path;
use std::process::Command;

fn digests_path() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/outputs.txt")
}

/// Runs `minewatch args`; its standard output (exit code 0 or 1: 1 is "found something") with
/// `dir` written as `<dir>` and the shared data's folder as `<shared>`, as lines and digest.
fn run(dir: &Path, args: &[String]) -> (usize, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_minewatch"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(
        matches!(o.status.code(), Some(0 | 1)),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    // Paths differ from machine to machine: the temporary folder and where the checkout is.
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared");
    let out = String::from_utf8(o.stdout)
        .unwrap()
        .replace(&dir.display().to_string(), "<dir>")
        .replace(&shared.display().to_string(), "<shared>");
    (out.lines().count(), hex::encode(sha2::Sha256::digest(out)))
}

fn args(a: &[&str]) -> Vec<String> {
    a.iter().map(|s| s.to_string()).collect()
}

#[test]
fn every_command_prints_what_it_printed_before() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    let p = |rel: &str| dir.join(rel).display().to_string();
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../samples/sample.pcapng");
    std::fs::copy(&sample, dir.join("sample.pcapng")).unwrap();
    // Generated inputs, from fixed seeds.
    for a in [
        args(&[
            "power",
            "generate",
            "--meters",
            "150",
            "--days",
            "60",
            "--seed",
            "3",
            "--mix",
            "realistic",
            "--miner-share",
            "0.1",
            "--out",
            &p("power"),
        ]),
        args(&[
            "chain",
            "generate",
            "--blocks",
            "60",
            "--seed",
            "2",
            "--out",
            &p("chain"),
        ]),
        args(&["synth", "--single", "--out", &p("synth")]),
    ] {
        run(dir, &a);
    }
    // `power <command>` on the generated region's readings and customers, then `extra`.
    let on_region = |command: &str, extra: &[&str]| {
        let mut v = args(&[
            "power",
            command,
            &p("power/readings.csv"),
            "--customers",
            &p("power/customers.csv"),
        ]);
        v.extend(args(extra));
        v
    };
    let areas = |extra: &[&str]| on_region("areas", extra);
    let weather = p("power/weather.csv");
    let power = |extra: &[&str]| {
        let mut v = on_region("scan", &["--weather", &weather, "--quiet"]);
        v.extend(args(extra));
        v
    };
    let mut runs: Vec<(&str, Vec<String>)> = vec![
        (
            "scan jsonl",
            args(&["scan", "-q", "--format", "jsonl", &p("sample.pcapng")]),
        ),
        (
            "scan csv",
            args(&["scan", "-q", "--format", "csv", &p("sample.pcapng")]),
        ),
        (
            "scan table",
            args(&["scan", "-q", "--format", "table", &p("sample.pcapng")]),
        ),
        ("power scan jsonl", power(&["--format", "jsonl"])),
        ("power scan csv", power(&["--format", "csv"])),
        (
            "power scan table zh",
            power(&["--format", "table", "--lang", "zh-CN"]),
        ),
        (
            "power scan with inspections",
            power(&[
                "--format",
                "jsonl",
                "--inspections",
                &p("power/inspections.csv"),
            ]),
        ),
        ("power areas jsonl", areas(&["--format", "jsonl"])),
        ("power areas csv", areas(&["--format", "csv"])),
        (
            "power areas table zh",
            areas(&["--format", "table", "--lang", "zh-CN"]),
        ),
        (
            "chain blocks jsonl",
            args(&["chain", "blocks", &p("chain"), "--format", "jsonl"]),
        ),
        (
            "chain blocks csv",
            args(&["chain", "blocks", &p("chain"), "--format", "csv"]),
        ),
        (
            "chain pools csv",
            args(&["chain", "pools", &p("chain"), "--format", "csv"]),
        ),
        (
            "intel check",
            args(&["intel", "check", "xmr-eu1.nanopool.org", "example.org"]),
        ),
    ];
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/chain/blocks");
    let blkdir = shared.join("blkdir-mainnet-0-255");
    let blkdir = blkdir.display().to_string();
    if shared.exists() {
        runs.push((
            "chain blocks on mainnet 0-255",
            args(&["chain", "blocks", &blkdir, "--format", "jsonl"]),
        ));
    } else {
        minewatch_model::skip::skipped(&format!(
            "{} absent; chain blocks on real block files not held to a digest",
            shared.display()
        ));
    }
    let got: String = runs
        .iter()
        .map(|(name, a)| {
            let (lines, digest) = run(dir, a);
            format!("{name}\t{lines}\t{digest}\n")
        })
        .collect();
    // The truth of the generated region and sessions: the generators' own output.
    let truth = |f: &str| {
        let t = std::fs::read_to_string(dir.join(f)).unwrap();
        format!(
            "{f}\t{}\t{}\n",
            t.lines().count(),
            hex::encode(sha2::Sha256::digest(t))
        )
    };
    let got = got + &truth("power/truth.csv") + &truth("synth/truth.jsonl");
    if std::env::var_os("MINEWATCH_BLESS").is_some() {
        std::fs::write(digests_path(), &got).unwrap();
        return;
    }
    let want = std::fs::read_to_string(digests_path()).unwrap();
    for line in want.lines() {
        let name = line.split('\t').next().unwrap_or_default();
        let now = got.lines().find(|l| l.split('\t').next() == Some(name));
        // A run that needs the shared data is only checked where that data is.
        if now.is_none() && name.contains("mainnet") && !shared.exists() {
            continue;
        }
        assert_eq!(now, Some(line), "the output of `{name}` changed");
    }
}
