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

/// True when progress bars may be drawn (stderr is a terminal).
pub fn progress_allowed() -> bool {
    std::io::stderr().is_terminal()
}
