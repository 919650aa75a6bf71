//! `minewatch synth`: the project's own captures, for demos, fixtures and evaluation.

use anyhow::{Context, Result};
use clap::Args;
use minewatch_net::synth::dir;
use minewatch_net::synth::sessions::corpus;
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
    /// Instead: write `population.pcap` of about this many MB shaped like a link's
    /// population (published flow lengths, DNS, scans, fragments, thousands of mining probes and
    /// sessions overlapping in time; for the speed benchmark).
    #[arg(long)]
    population_mb: Option<u64>,
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
    if let Some(mb) = a.population_mb {
        let (path, p) = dir::write_population(&a.out, mb)?;
        eprintln!(
            "minewatch: wrote {} packets to {}: {} TCP connections, {} UDP flows, {} DNS lookups, \
             {} port probes, {} lone datagrams, {} mining probes and {} mining sessions ({} \
             packets), {} fragments",
            p.packets,
            path.display(),
            p.tcp_connections,
            p.udp_flows,
            p.dns_lookups,
            p.port_probes,
            p.lone_datagrams,
            p.mining_probes,
            p.mining_sessions,
            p.mining_packets,
            p.fragments
        );
        return Ok(());
    }
    if let Some(mb) = a.background_mb {
        let (path, n) = dir::write_background(&a.out, mb)?;
        eprintln!("minewatch: wrote {n} packets to {}", path.display());
        return Ok(());
    }
    let n = match a.encrypted {
        Some(n) => dir::write_encrypted(&a.out, a.seed, n, a.minutes)?,
        None => {
            let scenarios = corpus();
            dir::write_scenarios(&a.out, &scenarios, a.single)?;
            scenarios.len()
        }
    };
    eprintln!("minewatch: wrote {n} scenarios to {}", a.out.display());
    Ok(())
}
