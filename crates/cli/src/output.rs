//! Output formats shared by the commands: a table on a terminal, JSON lines, CSV.

use clap::ValueEnum;
use std::io::IsTerminal;

/// How results are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A readable table (the default on a terminal).
    Table,
    /// One JSON object per line (the default in a pipe).
    Jsonl,
    /// Comma-separated values with a header row.
    Csv,
}

impl Format {
    /// The format asked for, or the default for where stdout goes.
    pub fn resolve(asked: Option<Format>) -> Format {
        asked.unwrap_or_else(|| {
            if std::io::stdout().is_terminal() {
                Format::Table
            } else {
                Format::Jsonl
            }
        })
    }
}

/// A record's cells under its columns.
pub type Cells<T> = fn(&T) -> Vec<String>;

/// Exit code `code` when `cond` holds, else success (the commands' convention: 1 found, 2
/// some input could not be read).
pub fn exit_if(cond: bool, code: u8) -> std::process::ExitCode {
    if cond {
        std::process::ExitCode::from(code)
    } else {
        std::process::ExitCode::SUCCESS
    }
}

/// Says `lines` on stderr, each after `minewatch: ` unless indented (the details of the line
/// before).
pub fn say(lines: &[String]) {
    for l in lines {
        if l.starts_with(' ') {
            eprintln!("{l}");
        } else {
            eprintln!("minewatch: {l}");
        }
    }
}

/// True when progress bars may be drawn (stderr is a terminal).
pub fn progress_allowed() -> bool {
    std::io::stderr().is_terminal()
}

/// A progress bar of `len` (0: set later) drawn on a terminal unless `quiet`; hidden in pipes.
pub fn bar(len: u64, quiet: bool) -> indicatif::ProgressBar {
    if progress_allowed() && !quiet {
        indicatif::ProgressBar::new(len)
    } else {
        indicatif::ProgressBar::hidden()
    }
}

/// Writes records to stdout: each record serialised whole as a JSON line, or the chosen
/// cells of each as a CSV row or a table row.
pub fn write_records<T: serde::Serialize>(
    format: Format,
    items: &[T],
    header: &[&str],
    cells: impl Fn(&T) -> Vec<String>,
) -> anyhow::Result<()> {
    print_formats(format, items, (header, &cells), (header, &cells))
}

/// Writes `items` as JSON lines, each whole.
pub fn write_jsonl<T: serde::Serialize>(
    w: &mut dyn std::io::Write,
    items: &[T],
) -> anyhow::Result<()> {
    // Each line is made in memory and written in one call: serialising straight into the
    // writer made a dynamic call per token, about 400 a detection (3 % of a scan of real
    // traffic's instructions, docs/PERFORMANCE.md).
    let mut line = Vec::with_capacity(2048);
    for it in items {
        line.clear();
        serde_json::to_writer(&mut line, it)?;
        line.push(b'\n');
        w.write_all(&line)?;
    }
    Ok(())
}

/// Writes `items` as CSV under `header`, a row of `cells` each.
pub fn write_csv<T>(
    w: &mut dyn std::io::Write,
    header: &[&str],
    items: &[T],
    cells: impl Fn(&T) -> Vec<String>,
) -> anyhow::Result<()> {
    let mut c = csv::Writer::from_writer(w);
    c.write_record(header)?;
    for it in items {
        c.write_record(cells(it))?;
    }
    c.flush()?;
    Ok(())
}

/// Writes `items` as a table under `header`, a row of `cells` each.
pub fn write_table<T>(
    w: &mut dyn std::io::Write,
    header: &[&str],
    items: &[T],
    cells: impl Fn(&T) -> Vec<String>,
) -> anyhow::Result<()> {
    let mut t = comfy_table::Table::new();
    t.load_style(comfy_table::presets::UTF8_FULL_CONDENSED);
    t.set_header(header.to_vec());
    for it in items {
        t.add_row(cells(it));
    }
    writeln!(w, "{t}")?;
    Ok(())
}

/// Writes `items` in `format`: each whole as a JSON line, or the CSV cells under the CSV
/// header, or the table cells under the table header (a table may say less, or say it in the
/// reader's language).
pub fn write_formats<T: serde::Serialize>(
    w: &mut dyn std::io::Write,
    format: Format,
    items: &[T],
    csv: (&[&str], impl Fn(&T) -> Vec<String>),
    table: (&[&str], impl Fn(&T) -> Vec<String>),
) -> anyhow::Result<()> {
    match format {
        Format::Jsonl => write_jsonl(w, items),
        Format::Csv => write_csv(w, csv.0, items, csv.1),
        Format::Table => write_table(w, table.0, items, table.1),
    }
}

/// [`write_formats`] to standard output, buffered.
pub fn print_formats<T: serde::Serialize>(
    format: Format,
    items: &[T],
    csv: (&[&str], impl Fn(&T) -> Vec<String>),
    table: (&[&str], impl Fn(&T) -> Vec<String>),
) -> anyhow::Result<()> {
    use std::io::Write;
    let stdout = std::io::stdout();
    let mut w = std::io::BufWriter::new(stdout.lock());
    write_formats(&mut w, format, items, csv, table)?;
    w.flush()?;
    Ok(())
}
