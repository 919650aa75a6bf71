//! Blocks from a running node over JSON-RPC or REST (Bitcoin Core and its forks, Litecoin Core).
//!
//! Only three requests are needed, the same in every fork. JSON-RPC (Bitcoin Core RPC
//! reference): `getblockchaininfo` (which chain), `getblockhash HEIGHT` and `getblock HASH 0`
//! (the raw block as hex). REST (Bitcoin Core doc/REST-interface.md; the node runs with
//! `-rest`, unauthenticated, on the RPC port): `/rest/chaininfo.json`,
//! `/rest/blockhashbyheight/HEIGHT.hex` and `/rest/block/HASH.bin`. Blocks fetched are written as
//! a Core-style block file (magic, length, block), so everything that reads block directories
//! (`blocks`, `pools`, `index`) reads a node too.

use std::io::{Read, Write};
use std::path::Path;

use base64::Engine;
use serde_json::{Value, json};

/// A node's JSON-RPC endpoint.
#[derive(Clone, Debug)]
pub struct Node {
    url: String,
    auth: Option<String>,
}

/// What went wrong talking to the node.
#[derive(Debug, thiserror::Error)]
pub enum RpcError {
    /// The node could not be reached or answered outside JSON-RPC.
    #[error("{url}: {what}")]
    Transport {
        /// The endpoint.
        url: String,
        /// What happened.
        what: String,
    },
    /// The node answered with an error.
    #[error("{url}: {method}: {what}")]
    Node {
        /// The endpoint.
        url: String,
        /// The call.
        method: String,
        /// The node's message.
        what: String,
    },
    /// A cookie file could not be read.
    #[error("{path}: {source}")]
    Cookie {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// Writing the block file failed.
    #[error("{path}: {source}")]
    Write {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}

impl Node {
    /// An endpoint with `user:password` credentials, if any.
    pub fn new(url: &str, credentials: Option<&str>) -> Node {
        Node {
            url: url.trim_end_matches('/').to_string(),
            auth: credentials.map(|c| {
                format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(c.trim())
                )
            }),
        }
    }

    /// An endpoint with the credentials of a node's `.cookie` file.
    pub fn with_cookie(url: &str, cookie: &Path) -> Result<Node, RpcError> {
        let c = std::fs::read_to_string(cookie).map_err(|source| RpcError::Cookie {
            path: cookie.display().to_string(),
            source,
        })?;
        Ok(Node::new(url, Some(&c)))
    }

    /// One call.
    pub fn call(&self, method: &str, params: Value) -> Result<Value, RpcError> {
        let mut req = ureq::post(&self.url).timeout(std::time::Duration::from_secs(120));
        if let Some(a) = &self.auth {
            req = req.set("Authorization", a);
        }
        let body = json!({"jsonrpc": "1.0", "id": "minewatch", "method": method, "params": params});
        let resp = match req.send_json(body) {
            Ok(r) => r,
            // Core answers RPC errors with HTTP 500 and a JSON body.
            Err(ureq::Error::Status(code, r)) if code == 500 || code == 404 => r,
            Err(ureq::Error::Status(code, _)) => {
                return Err(RpcError::Transport {
                    url: self.url.clone(),
                    what: format!(
                        "HTTP {code}{}",
                        if code == 401 {
                            " (wrong credentials)"
                        } else {
                            ""
                        }
                    ),
                });
            }
            Err(e) => {
                return Err(RpcError::Transport {
                    url: self.url.clone(),
                    what: e.to_string(),
                });
            }
        };
        let v: Value = resp.into_json().map_err(|e| RpcError::Transport {
            url: self.url.clone(),
            what: format!("answer is not JSON: {e}"),
        })?;
        if let Some(err) = v.get("error").filter(|e| !e.is_null()) {
            return Err(RpcError::Node {
                url: self.url.clone(),
                method: method.into(),
                what: err
                    .get("message")
                    .and_then(Value::as_str)
                    .unwrap_or("error")
                    .to_string(),
            });
        }
        Ok(v.get("result").cloned().unwrap_or(Value::Null))
    }

    fn text(&self, method: &str, params: Value) -> Result<String, RpcError> {
        let v = self.call(method, params)?;
        v.as_str()
            .map(str::to_string)
            .ok_or_else(|| RpcError::Node {
                url: self.url.clone(),
                method: method.into(),
                what: format!("expected a string, got {v}"),
            })
    }

    /// The chain (`main`, `test`, `testnet4`, `signet`, `regtest`) and its height.
    pub fn chain(&self) -> Result<(String, u64), RpcError> {
        let v = self.call("getblockchaininfo", json!([]))?;
        let chain = v
            .get("chain")
            .and_then(Value::as_str)
            .unwrap_or("main")
            .to_string();
        let height = v.get("blocks").and_then(Value::as_u64).unwrap_or(0);
        Ok((chain, height))
    }

    /// The raw block at `height` on the node's best chain.
    pub fn block_at(&self, height: u64) -> Result<Vec<u8>, RpcError> {
        let hash = self.text("getblockhash", json!([height]))?;
        let hex_block = self.text("getblock", json!([hash, 0]))?;
        hex::decode(hex_block.trim()).map_err(|e| RpcError::Node {
            url: self.url.clone(),
            method: "getblock".into(),
            what: format!("block {hash} is not hex: {e}"),
        })
    }
}

/// Where a node's blocks are read from: JSON-RPC ([`Node`]) or REST ([`Rest`]).
pub trait BlockSource {
    /// The chain (`main`, `test`, `regtest` …) and the height of its tip.
    fn chain(&self) -> Result<(String, u64), RpcError>;
    /// The raw block at a height of the best chain.
    fn block_at(&self, height: u64) -> Result<Vec<u8>, RpcError>;
}

impl BlockSource for Node {
    fn chain(&self) -> Result<(String, u64), RpcError> {
        Node::chain(self)
    }
    fn block_at(&self, height: u64) -> Result<Vec<u8>, RpcError> {
        Node::block_at(self, height)
    }
}

/// A node's REST interface.
#[derive(Clone, Debug)]
pub struct Rest {
    url: String,
}

/// Largest block accepted from a node (Bitcoin's weight limit allows 4 MB; forks stay below).
const MAX_BLOCK: u64 = 32 << 20;

impl Rest {
    /// The interface at a node's base URL (`http://127.0.0.1:8332`).
    pub fn new(url: &str) -> Rest {
        Rest {
            url: url.trim_end_matches('/').to_string(),
        }
    }

    fn get(&self, path: &str) -> Result<Vec<u8>, RpcError> {
        let url = format!("{}/rest/{path}", self.url);
        let resp = ureq::get(&url)
            .timeout(std::time::Duration::from_secs(120))
            .call()
            .map_err(|e| RpcError::Transport {
                url: url.clone(),
                what: match e {
                    ureq::Error::Status(404, _) => {
                        "HTTP 404 (is the node running with -rest?)".to_string()
                    }
                    e => e.to_string(),
                },
            })?;
        let mut body = Vec::new();
        std::io::Read::read_to_end(&mut resp.into_reader().take(MAX_BLOCK), &mut body).map_err(
            |e| RpcError::Transport {
                url: url.clone(),
                what: e.to_string(),
            },
        )?;
        Ok(body)
    }
}

impl BlockSource for Rest {
    fn chain(&self) -> Result<(String, u64), RpcError> {
        let body = self.get("chaininfo.json")?;
        let v: Value = serde_json::from_slice(&body).map_err(|e| RpcError::Node {
            url: self.url.clone(),
            method: "chaininfo".into(),
            what: format!("not JSON: {e}"),
        })?;
        let chain = v
            .get("chain")
            .and_then(Value::as_str)
            .unwrap_or("main")
            .to_string();
        Ok((chain, v.get("blocks").and_then(Value::as_u64).unwrap_or(0)))
    }

    fn block_at(&self, height: u64) -> Result<Vec<u8>, RpcError> {
        let hash = String::from_utf8_lossy(&self.get(&format!("blockhashbyheight/{height}.hex"))?)
            .trim()
            .to_string();
        if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(RpcError::Node {
                url: self.url.clone(),
                method: "blockhashbyheight".into(),
                what: format!("height {height}: '{hash}' is not a block hash"),
            });
        }
        self.get(&format!("block/{hash}.bin"))
    }
}

/// A node as a command line names it: JSON-RPC (credentials from a cookie file or
/// `user:password`) or REST.
#[derive(Clone, Debug, Default)]
pub struct NodeSpec {
    /// JSON-RPC URL.
    pub rpc: Option<String>,
    /// REST base URL (when no RPC URL is given).
    pub rest: Option<String>,
    /// The node's `.cookie` file, for RPC.
    pub cookie: Option<std::path::PathBuf>,
    /// `user:password`, for RPC without a cookie.
    pub auth: Option<String>,
    /// First height to fetch (default: the caller's).
    pub from_height: Option<u64>,
    /// Last height to fetch (default: the tip).
    pub to_height: Option<u64>,
}

/// What [`NodeSpec::fetch_into`] fetched.
#[derive(Clone, Debug)]
pub struct Fetched {
    /// The node's URL.
    pub url: String,
    /// The chain it serves.
    pub chain: String,
    /// Blocks written.
    pub blocks: u64,
}

impl NodeSpec {
    /// Fetches the node's blocks (from `from_height`, else `from`) into `dir/blk00000.dat`;
    /// `None` when no node is named.
    pub fn fetch_into(
        &self,
        dir: &Path,
        from: u64,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<Option<Fetched>, RpcError> {
        let (url, node): (&String, Box<dyn BlockSource>) = match (&self.rpc, &self.rest) {
            (Some(url), _) => (
                url,
                match (&self.cookie, &self.auth) {
                    (Some(c), _) => Box::new(Node::with_cookie(url, c)?),
                    (None, a) => Box::new(Node::new(url, a.as_deref())),
                },
            ),
            (None, Some(url)) => (url, Box::new(Rest::new(url))),
            (None, None) => return Ok(None),
        };
        let (chain, blocks) = fetch_to_blk(
            node.as_ref(),
            self.from_height.unwrap_or(from),
            self.to_height,
            &dir.join("blk00000.dat"),
            progress,
        )?;
        Ok(Some(Fetched {
            url: url.clone(),
            chain,
            blocks,
        }))
    }

    /// Whether a node is named.
    pub fn named(&self) -> bool {
        self.rpc.is_some() || self.rest.is_some()
    }
}

/// The record magic of a chain name as `getblockchaininfo` gives it.
pub fn magic_of(chain: &str) -> [u8; 4] {
    match chain {
        "test" => [0x0b, 0x11, 0x09, 0x07],
        "testnet4" => [0x1c, 0x16, 0x3f, 0x28],
        "signet" => [0x0a, 0x03, 0xcf, 0x40],
        "regtest" => [0xfa, 0xbf, 0xb5, 0xda],
        _ => [0xf9, 0xbe, 0xb4, 0xd9],
    }
}

/// Fetches blocks `from..=to` (to: the node's tip when `None`) into `out` as a Core-style block
/// file; calls `progress` after each block. Returns the chain name and the blocks written.
pub fn fetch_to_blk(
    node: &dyn BlockSource,
    from: u64,
    to: Option<u64>,
    out: &Path,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<(String, u64), RpcError> {
    let (chain, tip) = node.chain()?;
    let to = to.unwrap_or(tip).min(tip);
    let werr = |source| RpcError::Write {
        path: out.display().to_string(),
        source,
    };
    let f = std::fs::File::create(out).map_err(werr)?;
    let mut w = std::io::BufWriter::new(f);
    let magic = magic_of(&chain);
    let mut n = 0;
    for h in from..=to {
        let b = node.block_at(h)?;
        crate::write::write_record(&mut w, magic, &b).map_err(werr)?;
        n += 1;
        progress(h - from + 1, to.saturating_sub(from) + 1);
    }
    w.flush().map_err(werr)?;
    Ok((chain, n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unreachable_nodes_are_named() {
        let n = Node::new("http://127.0.0.1:9/", Some("u:p"));
        let e = n.chain().unwrap_err().to_string();
        assert!(e.starts_with("http://127.0.0.1:9: "), "{e}");
        let missing = Node::with_cookie("http://x", Path::new("/nonexistent/.cookie"));
        assert!(
            missing
                .unwrap_err()
                .to_string()
                .starts_with("/nonexistent/.cookie")
        );
    }
}
