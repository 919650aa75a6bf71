//! Test support: the engines every store test runs on, SQLite always and PostgreSQL when
//! `MINEWATCH_TEST_POSTGRES` names a server (`.ci/run` starts one with scripts/pg-cluster.sh).
//! Public so the binary's end-to-end tests run on the same engines.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test support: an engine that cannot be set up fails the test that asked for it"
)]

use std::path::Path;

/// One engine to test on: a label and the target `Store::open` takes.
pub struct Engine {
    /// `sqlite` or `postgresql`.
    pub label: &'static str,
    /// Path or URL.
    pub target: String,
}

/// A fresh, empty store target per engine for the named test.
pub fn engines(dir: &Path, test: &str) -> Vec<Engine> {
    let mut out = vec![Engine {
        label: "sqlite",
        target: dir.join(format!("{test}.db")).display().to_string(),
    }];
    match std::env::var("MINEWATCH_TEST_POSTGRES") {
        Ok(base) if !base.is_empty() => {
            let db = format!("mw_{test}_{}", std::process::id());
            let mut admin = postgres::Client::connect(&base, postgres::NoTls)
                .unwrap_or_else(|e| panic!("MINEWATCH_TEST_POSTGRES={base}: {e}"));
            // Two statements: CREATE DATABASE may not share a transaction with anything.
            for sql in [
                format!("DROP DATABASE IF EXISTS {db}"),
                format!("CREATE DATABASE {db}"),
            ] {
                admin
                    .batch_execute(&sql)
                    .unwrap_or_else(|e| panic!("{sql}: {e}"));
            }
            let target = match base.rfind('/') {
                Some(i) if i > "postgres://".len() => format!("{}/{db}", &base[..i]),
                _ => format!("{base}/{db}"),
            };
            out.push(Engine {
                label: "postgresql",
                target,
            });
        }
        _ => minewatch_model::skip::skipped(&format!(
            "MINEWATCH_TEST_POSTGRES is not set; {test} runs on SQLite only \
             (scripts/pg-cluster.sh start prints a URL for it)"
        )),
    }
    out
}

/// Writes a file in the test folder and returns its path.
pub fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    p
}
