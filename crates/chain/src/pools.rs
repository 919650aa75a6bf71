//! Mining pool identities: coinbase tags and payout addresses (docs/FACTS.md §C3).
//!
//! The built-in list is bitcoin-data/mining-pools' `pool-list.json` (MIT, see
//! `data/README.md`); lists in the same format, or in the legacy `{coinbase_tags,
//! payout_addresses}` layout, load from files. Matching order, verified on real blocks: a payout
//! address on any coinbase output first, then the longest tag found in the coinbase scriptSig
//! (bytes, so UTF-8 tags such as 七彩神仙鱼 match).

use serde::Deserialize;
use std::collections::HashMap;

const BUILT_IN: &str = include_str!("../data/pool-list.json");

/// How a block was attributed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchedBy {
    /// A coinbase output pays a known pool address.
    Address,
    /// The coinbase scriptSig carries a known tag.
    Tag,
}

/// A pool list that could not be read.
#[derive(Debug, thiserror::Error)]
#[error("{}: {why}", path.display())]
pub struct PoolsError {
    /// The file.
    pub path: std::path::PathBuf,
    /// What is wrong.
    pub why: String,
}

/// A pool match.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PoolMatch {
    /// The pool's name.
    pub name: String,
    /// What matched.
    pub by: MatchedBy,
    /// The address or tag that matched.
    pub evidence: String,
}

#[derive(Deserialize)]
struct Entry {
    name: String,
    #[serde(default)]
    addresses: Vec<String>,
    #[serde(default)]
    tags: Vec<String>,
}

#[derive(Deserialize)]
struct Legacy {
    coinbase_tags: HashMap<String, Named>,
    payout_addresses: HashMap<String, Named>,
}

#[derive(Deserialize)]
struct Named {
    name: String,
}

/// A pool list.
#[derive(Clone, Debug, Default)]
pub struct Pools {
    by_address: HashMap<String, String>,
    tags: Vec<(Vec<u8>, String)>,
}

impl Pools {
    /// The built-in list.
    pub fn built_in() -> Pools {
        Pools::from_json(BUILT_IN).unwrap_or_default()
    }
    /// The built-in list, extended by the list in `path` when one is given (bitcoin-data or
    /// mempool JSON layout).
    pub fn with_file(path: Option<&std::path::Path>) -> Result<Pools, PoolsError> {
        let mut p = Pools::built_in();
        if let Some(f) = path {
            let err = |why: String| PoolsError {
                path: f.to_path_buf(),
                why,
            };
            let text = std::fs::read_to_string(f).map_err(|e| err(e.to_string()))?;
            p.extend(Pools::from_json(&text).map_err(|e| err(format!("not a pool list: {e}")))?);
        }
        Ok(p)
    }

    /// Pools from JSON in either layout.
    pub fn from_json(text: &str) -> Result<Pools, serde_json::Error> {
        let mut p = Pools::default();
        if let Ok(list) = serde_json::from_str::<Vec<Entry>>(text) {
            for e in list {
                for a in e.addresses {
                    p.by_address.insert(a, e.name.clone());
                }
                for t in e.tags {
                    if !t.is_empty() {
                        p.tags.push((t.into_bytes(), e.name.clone()));
                    }
                }
            }
        } else {
            let l: Legacy = serde_json::from_str(text)?;
            for (a, n) in l.payout_addresses {
                p.by_address.insert(a, n.name);
            }
            for (t, n) in l.coinbase_tags {
                if !t.is_empty() {
                    p.tags.push((t.into_bytes(), n.name));
                }
            }
        }
        // Longest first: the most specific tag wins.
        p.tags
            .sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.1.cmp(&b.1)));
        Ok(p)
    }

    /// Adds another list's entries (a user's newer list over the built-in one).
    pub fn extend(&mut self, other: Pools) {
        self.by_address.extend(other.by_address);
        self.tags.extend(other.tags);
        self.tags
            .sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.1.cmp(&b.1)));
    }

    /// Pools and entries known.
    pub fn counts(&self) -> (usize, usize) {
        (self.by_address.len(), self.tags.len())
    }

    /// The pool of a block from its coinbase payout addresses and scriptSig.
    pub fn attribute(&self, payout_addresses: &[String], script_sig: &[u8]) -> Option<PoolMatch> {
        for a in payout_addresses {
            if let Some(n) = self.by_address.get(a) {
                return Some(PoolMatch {
                    name: n.clone(),
                    by: MatchedBy::Address,
                    evidence: a.clone(),
                });
            }
        }
        self.tags
            .iter()
            .find(|(t, _)| contains(script_sig, t))
            .map(|(t, n)| PoolMatch {
                name: n.clone(),
                by: MatchedBy::Tag,
                evidence: String::from_utf8_lossy(t).into_owned(),
            })
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    needle.len() <= hay.len() && hay.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_list_loads() {
        let p = Pools::built_in();
        let (a, t) = p.counts();
        assert!(a >= 150 && t >= 150, "{a} {t}");
    }

    #[test]
    fn address_before_tag_and_longest_tag() {
        let p = Pools::from_json(r#"[{"id":1,"name":"A","addresses":["1A"],"tags":["/x/"]},{"id":2,"name":"B","addresses":[],"tags":["/x/y/"]}]"#).unwrap();
        assert_eq!(p.attribute(&["1A".into()], b"../x/y/..").unwrap().name, "A");
        let m = p.attribute(&[], b"../x/y/..").unwrap();
        assert_eq!((m.name.as_str(), m.by), ("B", MatchedBy::Tag));
        assert!(p.attribute(&[], b"nothing").is_none());
    }

    #[test]
    fn legacy_layout_and_utf8_tags() {
        let p = Pools::from_json(
            r#"{"coinbase_tags":{"七彩神仙鱼":{"name":"F2Pool","link":""}},"payout_addresses":{}}"#,
        )
        .unwrap();
        assert_eq!(
            p.attribute(&[], "xx七彩神仙鱼yy".as_bytes()).unwrap().name,
            "F2Pool"
        );
    }
}
