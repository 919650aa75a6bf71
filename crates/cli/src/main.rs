//! The `minewatch` command.

mod cases;
mod chain;
mod config;
mod confirm;
mod demo;
mod intel;
mod output;
mod power;
mod scan;
mod serve;
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
    /// Ask suspected servers whether they are mining pools (active probes; opt-in, paced,
    /// logged; exit 0: none is, 1: a pool confirmed, 2: error).
    Confirm(confirm::ConfirmArgs),
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
    /// The registry: sites, subscribers and their IP assignments, meters, wallets, regions.
    #[command(subcommand)]
    Registry(cases::RegistryCommand),
    /// Store evidence from `scan` or `power scan` output and fold it into one case per site.
    Ingest(cases::IngestArgs),
    /// Cases: list, show, advance through the lifecycle, assign, export, print documents.
    #[command(subcommand)]
    Cases(cases::CasesCommand),
    /// Regional figures: cases by state, mining power and energy against the peak.
    #[command(subcommand)]
    Report(cases::ReportCommand),
    /// The whole job on a generated region: captures, meters, registry, detectors, cases, report.
    Demo(demo::DemoArgs),
    /// Serve the REST API (/api/v1, OpenAPI at /api/openapi.json) over the store.
    Serve(serve::ServeArgs),
    /// Users of the server: add (one-time password), API tokens, list.
    #[command(subcommand)]
    Users(serve::UsersCommand),
    /// The tamper-evident audit log: verify the chain, list entries.
    #[command(subcommand)]
    Audit(serve::AuditCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = config::Config::load(cli.config.as_deref()).and_then(|cfg| match cli.command {
        Command::Scan(a) => scan::run(a, &cfg),
        Command::Synth(a) => synth::run(a).map(|()| ExitCode::SUCCESS),
        Command::Confirm(a) => confirm::run(a),
        Command::Power(c) => power::run(*c),
        Command::Chain(c) => chain::run(c),
        Command::Intel(c) => intel::run(c, &cfg),
        Command::Registry(c) => cases::registry(c),
        Command::Ingest(a) => cases::ingest(a),
        Command::Cases(c) => cases::run(c),
        Command::Report(c) => cases::report(c),
        Command::Demo(a) => demo::run(a, &cfg),
        Command::Serve(a) => serve::serve(a),
        Command::Users(c) => serve::users(c),
        Command::Audit(c) => serve::audit(c),
    });
    match result {
        Ok(code) => code,
        // The reader of the output went away (`| head`): what it wanted it has; no error.
        Err(e) if closed_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("minewatch: error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Whether `e` comes from writing to a pipe whose reader has closed it.
fn closed_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            || c.downcast_ref::<serde_json::Error>()
                .and_then(|j| j.io_error_kind())
                .is_some_and(|k| k == std::io::ErrorKind::BrokenPipe)
            || c.downcast_ref::<csv::Error>().is_some_and(|c| {
                matches!(c.kind(), csv::ErrorKind::Io(io) if io.kind() == std::io::ErrorKind::BrokenPipe)
            })
    })
}
