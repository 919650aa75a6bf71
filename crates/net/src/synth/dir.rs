//! Synthetic corpora written into a folder with their truth, as `minewatch synth` leaves them:
//! the scenario captures (one pcap each, or one pcapng), the TLS corpus with its block times,
//! background traffic for benchmarks.

use crate::synth::sessions::{Scenario, write_pcap, write_pcapng};
use std::path::{Path, PathBuf};

/// Why a corpus could not be written.
#[derive(Debug, thiserror::Error)]
pub enum DirError {
    /// A file could not be written.
    #[error("writing {}: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// The TLS sessions could not be sealed.
    #[cfg(feature = "tls-synth")]
    #[error("sealing sessions with TLS: {0}")]
    Tls(#[from] crate::synth::encrypted::TlsSynthError),
}

fn write(path: PathBuf, data: impl AsRef<[u8]>) -> Result<(), DirError> {
    std::fs::write(&path, data).map_err(|source| DirError::Write { path, source })
}

/// Writes `scenarios` into `out`: all in `sample.pcapng` when `single`, else one
/// `<name>.pcap` each; and `truth.jsonl`, a line of truth per scenario.
pub fn write_scenarios(out: &Path, scenarios: &[Scenario], single: bool) -> Result<(), DirError> {
    if single {
        let refs: Vec<&Scenario> = scenarios.iter().collect();
        write(out.join("sample.pcapng"), write_pcapng(&refs))?;
    } else {
        for s in scenarios {
            write(
                out.join(format!("{}.pcap", s.truth.name)),
                write_pcap(s, false, false),
            )?;
        }
    }
    write_truth(out, scenarios)
}

/// Writes `truth.jsonl` into `out`, a line of truth per scenario.
pub fn write_truth(out: &Path, scenarios: &[Scenario]) -> Result<(), DirError> {
    let lines: Vec<String> = scenarios
        .iter()
        .map(|s| serde_json::to_string(&s.truth).unwrap_or_default())
        .collect();
    write(out.join("truth.jsonl"), lines.join("\n") + "\n")
}

/// Writes `encrypted.pcapng` (`sessions` mining and as many look-alike TLS sessions of
/// `minutes` each), `truth.jsonl` and each coin's block times (`btc.txt`, `xmr.txt`) into
/// `out`; returns the scenarios written.
#[cfg(feature = "tls-synth")]
pub fn write_encrypted(
    out: &Path,
    seed: u64,
    sessions: usize,
    minutes: i64,
) -> Result<usize, DirError> {
    let c = crate::synth::encrypted::encrypted_corpus(seed, sessions, minutes.max(1))?;
    for (coin, times) in &c.blocks {
        let text: String = times.iter().map(|t| format!("{t}\n")).collect();
        write(out.join(format!("{coin}.txt")), text)?;
    }
    let refs: Vec<&Scenario> = c.scenarios.iter().collect();
    write(out.join("encrypted.pcapng"), write_pcapng(&refs))?;
    write_truth(out, &c.scenarios)?;
    Ok(c.scenarios.len())
}

/// Streams a capture of about `mb` MiB into `out/name` with `write`; returns its path and what
/// `write` reports.
fn stream<T>(
    out: &Path,
    name: &str,
    write: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<T>,
) -> Result<(PathBuf, T), DirError> {
    let path = out.join(name);
    let err = |source| DirError::Write {
        path: path.clone(),
        source,
    };
    let f = std::fs::File::create(&path).map_err(err)?;
    let mut w = std::io::BufWriter::new(f);
    let t = write(&mut w).map_err(err)?;
    std::io::Write::flush(&mut w).map_err(err)?;
    Ok((path, t))
}

/// Writes `background.pcap`, about `mb` MiB of ordinary traffic with the Ethernet mining
/// scenarios mixed in, into `out`; returns its path and packets.
pub fn write_background(out: &Path, mb: u64) -> Result<(PathBuf, u64), DirError> {
    stream(out, "background.pcap", |w| {
        crate::synth::background::write_background(w, mb << 20, 0x5eed)
    })
}

/// Writes `population.pcap`: about `mb` MiB shaped like a link's population
/// ([`crate::synth::population`]); returns its path and what it holds.
pub fn write_population(
    out: &Path,
    mb: u64,
) -> Result<(PathBuf, crate::synth::population::Population), DirError> {
    stream(out, "population.pcap", |w| {
        crate::synth::population::write_population(w, mb << 20, 0x5eed)
    })
}
