//! `minewatch power`: meter data to suspected mining sites and theft areas.

use crate::output::{self, Format};
use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand, ValueEnum};
use indicatif::ProgressBar;
use minewatch_power::areas::{AREA_COLUMNS, AreaBalance, AreaConfig};
use minewatch_power::customers::{Register, read_customers};
use minewatch_power::generate::{RegionConfig, generate};
use minewatch_power::pipeline;
use minewatch_power::read::{ReadStats, ReadingsOptions};
use minewatch_power::score::{SUSPECT_COLUMNS, ScoreConfig, Suspect, read_weather};
use minewatch_power::series::{Register as RegisterKind, SeriesReport, Unit};
use minewatch_power::time::parse_offset;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// `minewatch power` subcommands.
#[derive(Subcommand)]
pub enum PowerCommand {
    /// Rank meters by how much their load looks like mining, with reasons.
    Scan(ScanArgs),
    /// Balance transformer areas: feeder energy against the customers' meters.
    Areas(AreasArgs),
    /// Write a realistic synthetic region with hidden miners and its truth.
    Generate(GenerateArgs),
    /// Change points of one series (PELT, change in mean): a CSV of values, one per line
    /// (`value` or `index,value`), without a header.
    Changepoints(ChangepointArgs),
}

/// Arguments of `minewatch power changepoints`.
#[derive(Args)]
pub struct ChangepointArgs {
    /// The series file.
    file: PathBuf,
    /// Penalty per change (default: 2·2σ²·ln n with σ from the MAD of first differences).
    #[arg(long)]
    penalty: Option<f64>,
    /// Shortest segment.
    #[arg(long, default_value_t = 5)]
    min_size: usize,
    /// `mean` (a change in level, as mining onsets are) or `normal` (level or variance).
    #[arg(long, default_value = "mean")]
    model: String,
}

use minewatch_model::lang::Lang;

/// A `--lang` value: zh-CN or en.
fn parse_lang(s: &str) -> std::result::Result<Lang, String> {
    Lang::parse(s).ok_or_else(|| format!("'{s}': zh-CN or en"))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum RegisterArg {
    Auto,
    Interval,
    Cumulative,
}

/// How readings files are laid out.
#[derive(Args, Clone)]
pub struct ReadingArgs {
    /// Readings CSV files or folders (long `meter_id,timestamp,kwh`, or wide one column per day).
    #[arg(required = true)]
    readings: Vec<PathBuf>,
    /// Customer register CSV (`meter_id,customer_id,tariff_class,capacity_kva,area_id,region_code`).
    #[arg(long)]
    customers: Option<PathBuf>,
    /// Meter id column, when not `meter_id`.
    #[arg(long)]
    meter_column: Option<String>,
    /// Timestamp column, when not `timestamp`.
    #[arg(long)]
    time_column: Option<String>,
    /// Value column, when not `kwh`.
    #[arg(long)]
    value_column: Option<String>,
    /// Unit of the values: kwh, wh, kw, w.
    #[arg(long, default_value = "kwh")]
    unit: String,
    /// Values are interval energies, cumulative registers, or decide per meter.
    #[arg(long, value_enum, default_value = "auto")]
    register: RegisterArg,
    /// Offset for timestamps written without one (e.g. +08:00).
    #[arg(long, default_value = "+08:00")]
    utc_offset: String,
    /// Output format (default: table on a terminal, jsonl in a pipe).
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// Language of reasons in the table: zh-CN or en.
    #[arg(long, value_parser = parse_lang, default_value = "en")]
    lang: Lang,
    /// No summary or warnings on stderr.
    #[arg(long, short)]
    quiet: bool,
}

/// Arguments of `minewatch power scan`.
#[derive(Args)]
pub struct ScanArgs {
    #[command(flatten)]
    io: ReadingArgs,
    /// Daily temperatures (`region_code,date,temp_c`).
    #[arg(long)]
    weather: Option<PathBuf>,
    /// Registers of known legitimate loads to leave unsuspected: one meter per line, optionally
    /// `meter_id,category` (base_station, data_room, aquaculture_permit, greenhouse_permit…);
    /// the summary says how many alarms each category removed.
    #[arg(long)]
    allow: Option<PathBuf>,
    /// Show only the first N meters.
    #[arg(long)]
    top: Option<usize>,
    /// Score at or above which a meter is suspected.
    #[arg(long, default_value_t = 0.6)]
    threshold: f64,
    /// Known truth (`meter_id,mining`, as `power generate` writes it): print precision and recall.
    #[arg(long)]
    truth: Option<PathBuf>,
    /// Past inspection outcomes (`meter_id,date,mining` yes/no): each inspected meter carries
    /// its outcome, flags like one found clean are weighed down, groups found mostly clean are
    /// corrected, and with enough outcomes a calibrated model reorders the flags (what changed
    /// is printed).
    #[arg(long)]
    inspections: Option<PathBuf>,
}

/// Arguments of `minewatch power areas`.
#[derive(Args)]
pub struct AreasArgs {
    #[command(flatten)]
    io: ReadingArgs,
    /// Feeder (area) readings `area_id,timestamp,kwh` (default: feeders.csv beside the readings).
    #[arg(long)]
    feeders: Option<PathBuf>,
    /// Loss rate above which an area is abnormal.
    #[arg(long, default_value_t = 0.06)]
    abnormal_loss: f64,
}

/// Arguments of `minewatch power generate`.
#[derive(Args)]
pub struct GenerateArgs {
    /// Meters.
    #[arg(long, default_value_t = 1000)]
    meters: usize,
    /// Days.
    #[arg(long, default_value_t = 365)]
    days: usize,
    /// First day (YYYY-MM-DD).
    #[arg(long, default_value = "2024-01-01")]
    start: String,
    /// Interval: 15m, 30m or 1h.
    #[arg(long, default_value = "1h")]
    interval: String,
    /// Share of meters hiding a miner.
    #[arg(long, default_value_t = 0.02)]
    miner_share: f64,
    /// Meters per transformer area.
    #[arg(long, default_value_t = 100)]
    area_size: usize,
    /// Random seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Which sites: `classic` (the first generator's mix) or `realistic` (adds legitimate flat
    /// and night loads, and subtle miners).
    #[arg(long, value_enum, default_value = "classic")]
    mix: MixArg,
    /// Output folder.
    #[arg(long)]
    out: PathBuf,
}

/// The site mix of a generated region.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum MixArg {
    /// The first generator's mix.
    Classic,
    /// With aerators, greenhouse lighting, electric boilers, office server rooms, base
    /// stations, GPUs at home and rigs behind shop counters.
    Realistic,
    /// The realistic mix with every business keeping hours and levels of its own.
    Varied,
}

/// Runs a power subcommand.
pub fn run(c: PowerCommand) -> Result<ExitCode> {
    match c {
        PowerCommand::Scan(a) => scan(a),
        PowerCommand::Areas(a) => areas(a),
        PowerCommand::Changepoints(a) => {
            use minewatch_power::changepoint::{Model, read_values, segment};
            let Some(model) = Model::from_name(&a.model) else {
                bail!("--model {}: use mean or normal", a.model);
            };
            let x = read_values(&a.file)?;
            let t = std::time::Instant::now();
            let (cps, penalty) = segment(&x, model, a.penalty, a.min_size);
            let secs = t.elapsed().as_secs_f64();
            println!(
                "{}",
                serde_json::json!({"n": x.len(), "penalty": penalty, "min_size": a.min_size, "change_points": cps, "seconds": secs})
            );
            Ok(ExitCode::SUCCESS)
        }
        PowerCommand::Generate(a) => {
            use minewatch_power::generate::{Mix, interval_s, start_day};
            let start_day = start_day(&a.start).context("--start must be YYYY-MM-DD")?;
            let Some(step) = interval_s(&a.interval) else {
                bail!("--interval {}: use 15m, 30m or 1h", a.interval);
            };
            let cfg = RegionConfig {
                meters: a.meters,
                days: a.days,
                start_day,
                step,
                miner_share: a.miner_share,
                seed: a.seed,
                area_size: a.area_size,
                mix: match a.mix {
                    MixArg::Classic => Mix::Classic,
                    MixArg::Realistic => Mix::Realistic,
                    MixArg::Varied => Mix::Varied,
                },
            };
            let g =
                generate(&cfg, &a.out).with_context(|| format!("writing {}", a.out.display()))?;
            eprintln!(
                "minewatch: wrote {} meters ({} hiding a miner), {} readings to {}",
                g.meters,
                g.miners,
                g.rows,
                a.out.display()
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn options(io: &ReadingArgs) -> Result<ReadingsOptions> {
    let mut o = ReadingsOptions {
        meter_column: io.meter_column.clone(),
        time_column: io.time_column.clone(),
        value_column: io.value_column.clone(),
        default_offset: parse_offset(&io.utc_offset)
            .with_context(|| format!("--utc-offset {}", io.utc_offset))?,
        ..ReadingsOptions::default()
    };
    o.build.unit = Unit::parse(&io.unit)
        .with_context(|| format!("--unit {}: use kwh, wh, kw or w", io.unit))?;
    o.build.register = match io.register {
        RegisterArg::Auto => RegisterKind::Auto,
        RegisterArg::Interval => RegisterKind::Interval,
        RegisterArg::Cumulative => RegisterKind::Cumulative,
    };
    Ok(o)
}

fn register(io: &ReadingArgs) -> Result<Register> {
    match &io.customers {
        Some(p) => {
            let (reg, st) =
                read_customers(p).with_context(|| format!("reading {}", p.display()))?;
            report(&format!("customers {}", p.display()), &st, None, io.quiet);
            Ok(reg)
        }
        None => Ok(Register::default()),
    }
}

fn report(what: &str, st: &ReadStats, quality: Option<&SeriesReport>, quiet: bool) {
    for line in st.lines(what, quality).iter().filter(|_| !quiet) {
        eprintln!("minewatch: {line}");
    }
}

/// Moves the spinner by a reader's meters (taken back when negative).
fn on_spinner(bar: &ProgressBar) -> impl Fn(i64) + '_ {
    move |n| {
        if n >= 0 {
            bar.inc(n.unsigned_abs());
        } else {
            bar.set_position(bar.position().saturating_sub(n.unsigned_abs()));
        }
    }
}

fn spinner(quiet: bool) -> ProgressBar {
    let b = output::bar(0, quiet);
    b.set_style(indicatif::ProgressStyle::default_spinner());
    b.set_message("reading meters");
    // A file not grouped by meter hands its meters on only at its end: the spinner turns on
    // its own meanwhile.
    if !b.is_hidden() {
        b.enable_steady_tick(std::time::Duration::from_millis(150));
    }
    b
}

fn scan(a: ScanArgs) -> Result<ExitCode> {
    let mut reg = register(&a.io)?;
    if let Some(p) = &a.allow {
        let text =
            std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
        reg.allow(minewatch_power::customers::parse_allow_list(&text));
    }
    let weather = match &a.weather {
        Some(p) => {
            let (w, st) = read_weather(p).with_context(|| format!("reading {}", p.display()))?;
            report(&format!("weather {}", p.display()), &st, None, a.io.quiet);
            Some(w)
        }
        None => None,
    };
    let cfg = ScoreConfig {
        threshold: a.threshold,
        ..ScoreConfig::default()
    };
    let opts = options(&a.io)?;
    let files = minewatch_power::input::expand_readings(&a.io.readings)?;
    let bar = spinner(a.io.quiet);
    let run = pipeline::scan(
        &files,
        &opts,
        &reg,
        weather.as_ref(),
        cfg,
        &on_spinner(&bar),
    )
    .context("reading meter data")?;
    bar.finish_and_clear();
    report("readings", &run.stats, Some(&run.quality), a.io.quiet);
    if !a.io.quiet {
        eprintln!("minewatch: {}", run.timing());
    }
    let (st, mut out) = (run.stats, run.suspects);
    if let Some(p) = &a.inspections {
        learn(p, &mut out, a.threshold, a.io.quiet)?;
    }
    let truth = a.truth.as_deref();
    let quality = minewatch_power::eval::quality_lines(&out, truth, &st.labels)
        .with_context(|| format!("reading {}", truth.unwrap_or(Path::new("")).display()))?;
    output::say(&quality);
    let suspected = out.iter().filter(|s| s.suspected).count();
    let removed = minewatch_power::score::removed_by_allow_list(&out, &reg, a.threshold);
    if let Some(n) = a.top {
        out.truncate(n);
    }
    output::print_formats(
        Format::resolve(a.io.format),
        &out,
        (&SUSPECT_COLUMNS, Suspect::csv_cells),
        (&Suspect::table_header(a.io.lang), |s| {
            s.table_cells(a.io.lang)
        }),
    )?;
    if !a.io.quiet {
        eprintln!(
            "minewatch: {suspected} of {} meters suspected (score >= {})",
            st.meters, a.threshold
        );
        if let Some(line) = minewatch_power::score::allow_list_line(&removed) {
            eprintln!("minewatch: {line}");
        }
    }
    Ok(crate::output::exit_if(suspected > 0, 1))
}

fn learn(path: &Path, out: &mut [Suspect], threshold: f64, quiet: bool) -> Result<()> {
    let (labels, bad) = minewatch_power::eval::read_inspections(path)
        .with_context(|| format!("reading {}", path.display()))?;
    if !quiet {
        for b in bad.iter().take(5) {
            eprintln!("minewatch: skipped {b}");
        }
    }
    let rep = minewatch_power::learn::apply_inspections(out, &labels, threshold);
    if !quiet {
        output::say(&rep.lines());
    }
    Ok(())
}

fn areas(a: AreasArgs) -> Result<ExitCode> {
    let reg = register(&a.io)?;
    let opts = options(&a.io)?;
    let files = minewatch_power::input::expand_readings(&a.io.readings)?;
    let feeders = match a
        .feeders
        .clone()
        .or_else(|| pipeline::feeders_beside(&files))
    {
        Some(f) => f,
        None => bail!(
            "no feeder readings: give --feeders FILE (area_id,timestamp,kwh), or put feeders.csv beside the readings"
        ),
    };
    let bar = spinner(a.io.quiet);
    let cfg = AreaConfig {
        abnormal_loss: a.abnormal_loss,
        ..AreaConfig::default()
    };
    let run = pipeline::areas(&files, &feeders, &opts, &reg, &cfg, &on_spinner(&bar))
        .context("reading meter data")?;
    bar.finish_and_clear();
    report("readings", &run.stats, None, a.io.quiet);
    let what = format!("feeders {}", feeders.display());
    report(&what, &run.feeder_stats, None, a.io.quiet);
    let out = run.areas;
    let abnormal = out.iter().filter(|x| x.abnormal).count();
    output::print_formats(
        Format::resolve(a.io.format),
        &out,
        (&AREA_COLUMNS, AreaBalance::csv_cells),
        (&AreaBalance::table_header(a.io.lang), |x| {
            x.table_cells(a.io.lang)
        }),
    )?;
    if !a.io.quiet {
        eprintln!("minewatch: {abnormal} of {} areas abnormal", out.len());
    }
    Ok(crate::output::exit_if(abnormal > 0, 1))
}
