//! The `minewatch` command.

mod chain;
mod config;
mod intel;
mod output;
mod power;
mod scan;
mod synth;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Find cryptocurrency mining and follow it through.
#[derive(Parser)]
#[command(name = "minewatch", version, about, long_about = None)]
struct Cli {
    /// Configuration file (default: $MINEWATCH_CONFIG, ./minewatch.toml,
    /// ~/.config/minewatch/config.toml, when present).
    #[arg(long, global = true)]
    config: Option<std::path::PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Find mining sessions in pcap and pcapng captures (exit 0: none, 1: found, 2: error).
    Scan(scan::ScanArgs),
    /// Write synthetic captures of every mining dialect and of look-alikes, with their truth.
    Synth(synth::SynthArgs),
    /// Find mining sites and theft in smart-meter data.
    #[command(subcommand)]
    Power(Box<power::PowerCommand>),
    /// Blocks, mining pools, fees (Bitcoin Core block files and block dumps).
    #[command(subcommand)]
    Chain(chain::ChainCommand),
    /// Pool intelligence: check hosts against the lists, count them.
    #[command(subcommand)]
    Intel(intel::IntelCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = config::Config::load(cli.config.as_deref()).and_then(|cfg| match cli.command {
        Command::Scan(a) => scan::run(a, &cfg),
        Command::Synth(a) => synth::run(a).map(|()| ExitCode::SUCCESS),
        Command::Power(c) => power::run(*c),
        Command::Chain(c) => chain::run(c),
        Command::Intel(c) => intel::run(c, &cfg),
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("minewatch: error: {e:#}");
            ExitCode::from(2)
        }
    }
}
