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
    /// Instead: write `background.pcap` of about this many MB of ordinary traffic with the
    /// Ethernet mining scenarios mixed in (for benchmarks).
    #[arg(long)]
    background_mb: Option<u64>,
    /// Instead: write `encrypted.pcapng` of this many TLS mining sessions and as many
    /// long-lived TLS look-alikes (real TLS 1.3), with `truth.jsonl` and the coins' block
    /// times (`btc.txt`, `xmr.txt`) for `scan --block-times`.
    #[arg(long)]
    encrypted: Option<usize>,
    /// Minutes per encrypted session.
    #[arg(long, default_value_t = 30)]
    minutes: i64,
    /// Seed of the encrypted corpus.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Instead: write `replay.pcapng`, `--copies` copies of these real captures (files or
    /// folders), each readdressed and shifted in time (a benchmark on real traffic at size).
    #[arg(long, num_args = 1..)]
    replay: Vec<PathBuf>,
    /// Copies for `--replay`.
    #[arg(long, default_value_t = 100)]
    copies: usize,
}

/// Writes the captures and `truth.jsonl`.
pub fn run(a: SynthArgs) -> Result<()> {
    std::fs::create_dir_all(&a.out).with_context(|| format!("creating {}", a.out.display()))?;
    if !a.replay.is_empty() {
        let (files, _) = minewatch_net::source::expand_inputs(&a.replay)?;
        let path = a.out.join("replay.pcapng");
        let r = minewatch_net::synth::replay::replay(&files, a.copies, &path)?;
        eprintln!(
            "minewatch: wrote {} copies of {} captures, {} packets ({} without an IP header to readdress) to {}",
            r.copies,
            files.len(),
            r.packets,
            r.not_rewritten,
            path.display()
        );
        return Ok(());
    }
    if let Some(mb) = a.background_mb {
        let path = a.out.join("background.pcap");
        let f =
            std::fs::File::create(&path).with_context(|| format!("creating {}", path.display()))?;
        let mut w = std::io::BufWriter::new(f);
        let n = minewatch_net::synth::background::write_background(&mut w, mb << 20, 0x5eed)
            .with_context(|| format!("writing {}", path.display()))?;
        std::io::Write::flush(&mut w)?;
        eprintln!("minewatch: wrote {n} packets to {}", path.display());
        return Ok(());
    }
    let scenarios = match a.encrypted {
        Some(n) => {
            let c = minewatch_net::synth::encrypted::encrypted_corpus(a.seed, n, a.minutes.max(1))
                .context("sealing sessions with TLS")?;
            for (coin, times) in &c.blocks {
                let path = a.out.join(format!("{coin}.txt"));
                let text: String = times.iter().map(|t| format!("{t}\n")).collect();
                std::fs::write(&path, text)
                    .with_context(|| format!("writing {}", path.display()))?;
            }
            let refs: Vec<&Scenario> = c.scenarios.iter().collect();
            let path = a.out.join("encrypted.pcapng");
            std::fs::write(&path, write_pcapng(&refs))
                .with_context(|| format!("writing {}", path.display()))?;
            c.scenarios
        }
        None => corpus(),
    };
    if a.encrypted.is_some() {
    } else if a.single {
        let refs: Vec<&Scenario> = scenarios.iter().collect();
        let path = a.out.join("sample.pcapng");
        std::fs::write(&path, write_pcapng(&refs))
            .with_context(|| format!("writing {}", path.display()))?;
    } else {
        for s in &scenarios {
            let path = a.out.join(format!("{}.pcap", s.truth.name));
            std::fs::write(&path, write_pcap(s, false, false))
                .with_context(|| format!("writing {}", path.display()))?;
        }
    }
    let truth: Vec<String> = scenarios
        .iter()
        .map(|s| serde_json::to_string(&s.truth))
        .collect::<Result<_, _>>()?;
    let tpath = a.out.join("truth.jsonl");
    std::fs::write(&tpath, truth.join("\n") + "\n")
        .with_context(|| format!("writing {}", tpath.display()))?;
    eprintln!(
        "minewatch: wrote {} scenarios to {}",
        scenarios.len(),
        a.out.display()
    );
    Ok(())
}
