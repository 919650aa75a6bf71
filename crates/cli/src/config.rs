//! The configuration file: lists and block times a site always uses, so they need not be
//! given on every command line. Command-line options add to it.
//!
//! Found at `--config FILE`, else `$MINEWATCH_CONFIG`, else `./minewatch.toml`, else
//! `$XDG_CONFIG_HOME/minewatch/config.toml` (`~/.config/minewatch/config.toml`). Relative paths
//! in it are relative to the file.
//!
//! ```toml
//! [intel]
//! lists = ["lists/", "isp-pools.csv"]   # files or folders of pool lists
//! allow = ["our-services.txt"]
//!
//! [scan]
//! block_times = ["btc.txt", "xmr.txt"]
//! ```

use anyhow::{Context, Result};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The configuration.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Pool intelligence.
    #[serde(default)]
    pub intel: IntelSection,
    /// The capture scan.
    #[serde(default)]
    pub scan: ScanSection,
}

/// `[intel]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntelSection {
    /// Pool lists: files or folders.
    #[serde(default)]
    pub lists: Vec<PathBuf>,
    /// Allow-lists.
    #[serde(default)]
    pub allow: Vec<PathBuf>,
}

/// `[scan]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScanSection {
    /// Block-time files per coin.
    #[serde(default)]
    pub block_times: Vec<PathBuf>,
}

fn default_path() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("MINEWATCH_CONFIG") {
        return Some(PathBuf::from(p));
    }
    let local = PathBuf::from("minewatch.toml");
    if local.is_file() {
        return Some(local);
    }
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    let p = base.join("minewatch").join("config.toml");
    p.is_file().then_some(p)
}

impl Config {
    /// Loads the configuration: `explicit` must exist; the default places may not.
    pub fn load(explicit: Option<&Path>) -> Result<Config> {
        let Some(path) = explicit.map(Path::to_path_buf).or_else(default_path) else {
            return Ok(Config::default());
        };
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        Config::parse(&path, &text)
    }

    /// Parses `text` read from `path`; relative paths become relative to its folder.
    pub fn parse(path: &Path, text: &str) -> Result<Config> {
        // toml's message names the line and column.
        let mut c: Config =
            toml::from_str(text).with_context(|| format!("in {}", path.display()))?;
        let dir = path.parent().unwrap_or(Path::new("."));
        for p in c
            .intel
            .lists
            .iter_mut()
            .chain(c.intel.allow.iter_mut())
            .chain(c.scan.block_times.iter_mut())
        {
            if p.is_relative() {
                *p = dir.join(&*p);
            }
        }
        Ok(c)
    }
}
