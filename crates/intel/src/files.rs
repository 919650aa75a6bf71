//! Lists and allow-lists from files and folders, as users hand them over: a folder of lists
//! is read file by file (sorted, hidden files left out), documentation beside the lists
//! (README, LICENSE…) and files that hold no list are passed over and named, never refused.

use crate::hosts::{Category, Intel};
use crate::lists::{Columns, ListFormat, is_documentation};
use std::path::{Path, PathBuf};

/// A list file or folder that could not be read.
#[derive(Debug, thiserror::Error)]
#[error("reading {}: {source}", path.display())]
pub struct FileError {
    /// The file or folder.
    pub path: PathBuf,
    /// What the system said.
    pub source: std::io::Error,
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> FileError + '_ {
    move |source| FileError {
        path: path.to_path_buf(),
        source,
    }
}

/// Files, and every file in folders (recursively, sorted, hidden ones left out). Files given by
/// name are always read; in folders, documentation is passed over into `passed_over`.
pub fn expand(
    paths: &[PathBuf],
    passed_over: &mut Vec<PathBuf>,
) -> Result<Vec<PathBuf>, FileError> {
    let mut out = Vec::new();
    for p in paths {
        if !p.is_dir() {
            out.push(p.clone());
            continue;
        }
        let mut inner: Vec<PathBuf> = Vec::new();
        for e in std::fs::read_dir(p).map_err(io(p))? {
            let q = e.map_err(io(p))?.path();
            let name = q
                .file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default();
            if name.starts_with('.') {
                continue;
            }
            if q.is_file() && is_documentation(&name) {
                passed_over.push(q);
                continue;
            }
            inner.push(q);
        }
        inner.sort();
        out.extend(expand(&inner, passed_over)?);
    }
    Ok(out)
}

/// What loading list files came to, for the user.
#[derive(Debug, Default)]
pub struct LoadReport {
    /// Lines of lists that should have named a host and did not (`file:line: what`).
    pub skipped: Vec<String>,
    /// Files among the lists that are no lists.
    pub passed_over: Vec<PathBuf>,
    /// Adblock rules that name no host.
    pub not_hosts: usize,
    /// Lines of allow-lists that name no domain or prefix (`file:line: what`).
    pub skipped_allow: Vec<String>,
}

/// Lines of a list file shown at most; the rest are counted.
const SHOWN: usize = 10;

impl LoadReport {
    /// What a user should read of the load, a line each.
    pub fn lines(&self) -> Vec<String> {
        let mut out = self.skipped.clone();
        if !self.passed_over.is_empty() {
            let names: Vec<String> = self
                .passed_over
                .iter()
                .map(|p| {
                    p.file_name()
                        .map(|n| n.to_string_lossy().to_string())
                        .unwrap_or_default()
                })
                .collect();
            out.push(format!(
                "{} file(s) among the lists are not lists and were passed over: {}",
                names.len(),
                names.join(", ")
            ));
        }
        if self.not_hosts > 0 {
            out.push(format!(
                "{} adblock rule(s) name no host (paths, wildcards, cosmetic filters) and were not used",
                self.not_hosts
            ));
        }
        out.extend(self.skipped_allow.iter().cloned());
        out
    }
}

impl Intel {
    /// The built-in lists plus the pool lists of `lists` and the allow-lists of `allow` (files
    /// or folders). `columns` names the columns of CSV lists whose header names none we know.
    /// Bad lines are reported with file and line; the allow-list's bad lines come after the
    /// report's other lines, as they are read.
    pub fn load_files(
        lists: &[PathBuf],
        allow: &[PathBuf],
        columns: Option<&Columns>,
    ) -> Result<(Intel, LoadReport), FileError> {
        let mut i = Intel::built_in();
        let mut rep = LoadReport::default();
        let lists = expand(lists, &mut rep.passed_over)?;
        let allow = expand(allow, &mut rep.passed_over)?;
        for f in &lists {
            let text = std::fs::read_to_string(f).map_err(io(f))?;
            let loaded = i.load_list(&f.display().to_string(), &text, Category::Pool, columns);
            rep.not_hosts += loaded.not_hosts;
            if loaded.format == ListFormat::NotAList {
                rep.passed_over.push(f.clone());
                continue;
            }
            rep.skipped.extend(
                loaded
                    .bad
                    .iter()
                    .take(SHOWN)
                    .map(|b| format!("skipped {b}")),
            );
            if loaded.bad.len() > SHOWN {
                rep.skipped.push(format!(
                    "skipped {} more lines of {}",
                    loaded.bad.len() - SHOWN,
                    f.display()
                ));
            }
        }
        for f in &allow {
            let text = std::fs::read_to_string(f).map_err(io(f))?;
            for (n, l) in text.lines().enumerate() {
                let t = l.trim();
                if !t.is_empty() && !t.starts_with('#') && !i.allow(t) {
                    rep.skipped_allow.push(format!(
                        "skipped {}:{}: {t:?} is no domain or prefix",
                        f.display(),
                        n + 1
                    ));
                }
            }
        }
        Ok((i, rep))
    }
}
