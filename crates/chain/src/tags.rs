//! Address tags: GraphSense TagPacks (YAML) and simple CSV (`address,label,category`).
//!
//! TagPacks are read by a small line reader for the subset they use (a header of `key: value`
//! lines inherited by every tag, then `tags:` with `- address: …` items and indented `key:
//! value` lines): the maintained YAML crates for Rust have churned, and this subset is all a
//! TagPack holds (graphsense/graphsense-tagpacks README).

use std::collections::HashMap;
use std::path::Path;

/// A tag on an address.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Tag {
    /// Label (entity name).
    pub label: String,
    /// Category (exchange, miner, mixing, sanctioned…).
    pub category: String,
    /// The tag file.
    pub source: String,
}

/// Tags by address.
#[derive(Clone, Debug, Default)]
pub struct Tags {
    /// Address → tag.
    pub by_address: HashMap<String, Tag>,
}

fn unquote(v: &str) -> String {
    v.trim().trim_matches(|c| c == '"' || c == '\'').to_string()
}

/// A tag file that could not be read.
#[derive(Debug, thiserror::Error)]
#[error("reading {}: {source}", path.display())]
pub struct TagsError {
    /// The file.
    pub path: std::path::PathBuf,
    /// What the system said.
    pub source: std::io::Error,
}

impl Tags {
    /// The tags of every file of `paths` (TagPack YAML or CSV), and the lines skipped.
    pub fn load_all(paths: &[std::path::PathBuf]) -> Result<(Tags, Vec<String>), TagsError> {
        let mut tags = Tags::default();
        let mut skipped = Vec::new();
        for p in paths {
            skipped.extend(tags.load(p).map_err(|source| TagsError {
                path: p.clone(),
                source,
            })?);
        }
        Ok((tags, skipped))
    }

    /// Loads a TagPack YAML or a CSV file; returns the lines that could not be read.
    pub fn load(&mut self, path: &Path) -> std::io::Result<Vec<String>> {
        let text = std::fs::read_to_string(path)?;
        let source = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("csv"))
        {
            return Ok(self.load_csv(&source, &text));
        }
        Ok(self.load_tagpack(&source, &text))
    }

    fn load_csv(&mut self, source: &str, text: &str) -> Vec<String> {
        let mut bad = Vec::new();
        for (n, l) in text.lines().enumerate().skip(1) {
            let f: Vec<&str> = l.split(',').map(str::trim).collect();
            match f.as_slice() {
                [a, label, rest @ ..] if !a.is_empty() => {
                    self.by_address.insert(
                        a.to_string(),
                        Tag {
                            label: label.to_string(),
                            category: rest.first().map_or(String::new(), |c| c.to_string()),
                            source: source.into(),
                        },
                    );
                }
                _ if l.trim().is_empty() => {}
                _ => bad.push(format!("{source}:{}: need address,label[,category]", n + 1)),
            }
        }
        bad
    }

    fn load_tagpack(&mut self, source: &str, text: &str) -> Vec<String> {
        let mut header: HashMap<String, String> = HashMap::new();
        let mut in_tags = false;
        let mut cur: Option<(String, HashMap<String, String>)> = None;
        let mut bad = Vec::new();
        let flush = |cur: &mut Option<(String, HashMap<String, String>)>,
                     header: &HashMap<String, String>,
                     by: &mut HashMap<String, Tag>| {
            if let Some((addr, kv)) = cur.take() {
                let get = |k: &str| {
                    kv.get(k)
                        .or_else(|| header.get(k))
                        .cloned()
                        .unwrap_or_default()
                };
                by.insert(
                    addr,
                    Tag {
                        label: get("label"),
                        category: get("category"),
                        source: source.into(),
                    },
                );
            }
        };
        for (n, line) in text.lines().enumerate() {
            if line.trim().is_empty() || line.trim_start().starts_with('#') {
                continue;
            }
            if !in_tags {
                if line.trim() == "tags:" {
                    in_tags = true;
                } else if let Some((k, v)) = line.split_once(':')
                    && !line.starts_with(' ')
                {
                    header.insert(k.trim().to_string(), unquote(v));
                }
                continue;
            }
            let t = line.trim_start();
            if let Some(item) = t.strip_prefix("- ") {
                flush(&mut cur, &header, &mut self.by_address);
                match item.split_once(':') {
                    Some(("address", v)) => cur = Some((unquote(v), HashMap::new())),
                    Some((k, v)) => {
                        // An item that starts with another key; the address follows.
                        let mut kv = HashMap::new();
                        kv.insert(k.trim().to_string(), unquote(v));
                        cur = Some((String::new(), kv));
                    }
                    None => bad.push(format!("{source}:{}: list item without a key", n + 1)),
                }
            } else if let Some((k, v)) = t.split_once(':') {
                match cur.as_mut() {
                    Some((addr, _)) if k.trim() == "address" => *addr = unquote(v),
                    Some((_, kv)) => {
                        kv.insert(k.trim().to_string(), unquote(v));
                    }
                    None => bad.push(format!("{source}:{}: a key outside any tag", n + 1)),
                }
            }
        }
        flush(&mut cur, &header, &mut self.by_address);
        self.by_address.remove("");
        bad
    }

    /// The tag of an address.
    pub fn get(&self, address: &str) -> Option<&Tag> {
        self.by_address.get(address)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tagpack_header_inheritance_and_csv() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("x.yaml");
        std::fs::write(&p, "title: T\ncategory: exchange\ntags:\n- address: 1A\n  label: Ex One\n- address: 1B\n  label: Mixer\n  category: mixing\n").unwrap();
        let mut t = Tags::default();
        assert!(t.load(&p).unwrap().is_empty());
        assert_eq!(t.get("1A").unwrap().category, "exchange");
        assert_eq!(t.get("1B").unwrap().category, "mixing");
        let c = d.path().join("y.csv");
        std::fs::write(
            &c,
            "address,label,category\n1C,Sanctioned,sanctioned\nbad\n",
        )
        .unwrap();
        assert_eq!(t.load(&c).unwrap().len(), 1);
        assert_eq!(t.get("1C").unwrap().label, "Sanctioned");
    }
}
