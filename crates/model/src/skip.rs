//! Tests that need something the machine may lack (shared data, PostgreSQL, Chromium, a node,
//! schemathesis) skip with a notice; CI provides all of them and must not skip any. Test output
//! is captured, so a notice alone would go unseen: [`skipped`] also appends the reason to the
//! file named by `MINEWATCH_SKIP_LOG`, which `.ci/run` reads after the tests and fails on.

use std::io::Write;

/// The environment variable naming the file skips are recorded in.
pub const SKIP_LOG: &str = "MINEWATCH_SKIP_LOG";

/// Says why a test skipped (on standard error, and in the skip log when one is named).
pub fn skipped(why: &str) {
    eprintln!("notice: {why}");
    if let Ok(path) = std::env::var(SKIP_LOG)
        && let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
    {
        // One write of the whole line: appends from tests running at once stay whole lines.
        let _ = f.write_all(format!("{why}\n").as_bytes());
    }
}
