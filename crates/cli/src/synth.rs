//! `minewatch synth`: the project's own captures, for demos, fixtures and evaluation.

use anyhow::{Context, Result};
use clap::Args;
use minewatch_net::synth::sessions::{Scenario, corpus, write_pcap, write_pcapng};
use std::path::PathBuf;

/// Arguments of `minewatch synth`.
#[derive(Args)]
pub struct SynthArgs {
    /// Folder to write into (created if missing).
    #[arg(long, default_value = "synth")]
    out: PathBuf,
    /// Write all scenarios into one pcapng (`sample.pcapng`) instead of one pcap each.
    #[arg(long)]
    single: bool,
}

/// Writes the captures and `truth.jsonl`.
pub fn run(a: SynthArgs) -> Result<()> {
    std::fs::create_dir_all(&a.out).with_context(|| format!("creating {}", a.out.display()))?;
    let scenarios = corpus();
    if a.single {
        let refs: Vec<&Scenario> = scenarios.iter().collect();
        let path = a.out.join("sample.pcapng");
        std::fs::write(&path, write_pcapng(&refs)).with_context(|| format!("writing {}", path.display()))?;
    } else {
        for s in &scenarios {
            let path = a.out.join(format!("{}.pcap", s.truth.name));
            std::fs::write(&path, write_pcap(s, false, false)).with_context(|| format!("writing {}", path.display()))?;
        }
    }
    let truth: Vec<String> = scenarios
        .iter()
        .map(|s| serde_json::to_string(&s.truth))
        .collect::<Result<_, _>>()?;
    let tpath = a.out.join("truth.jsonl");
    std::fs::write(&tpath, truth.join("\n") + "\n").with_context(|| format!("writing {}", tpath.display()))?;
    eprintln!("minewatch: wrote {} scenarios to {}", scenarios.len(), a.out.display());
    Ok(())
}
