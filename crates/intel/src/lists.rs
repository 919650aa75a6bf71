//! Lists as users get them: the formats of pool and browser-miner lists, told by their content.
//!
//! - plain lists of domains, addresses, CIDR prefixes, `ip:port` (maltrail's trails) and
//!   `host:port` (a pool's stratum endpoint: the port is dropped, the host kept);
//! - hosts files (`0.0.0.0 name`);
//! - adblock lists (`||host^$options`): only host rules name hosts; the other rules (URL
//!   paths, wildcards, cosmetic filters, exceptions) are counted, not reported line by line;
//! - CSV whose header names its columns in any of the ways published pool lists do (`domain`,
//!   `fqdn`, `ipv4_addresses`, `pool_name`, `coin`…; a cell may hold several values, and URLs
//!   such as `stratum+tcp://host:port`), or whose columns the user names ([`Columns`]);
//! - CSV of TLS client fingerprints (`ja3`/`ja4` and `label`).
//!
//! A file that yields nothing and only bad lines is not a list (a README, a licence): the
//! caller passes it over and says so once ([`Loaded::format`]). Documentation files are also
//! told by their names ([`is_documentation`]).

use crate::hosts::{BadLine, Category, Entry, Intel, parse_prefix};
use std::net::IpAddr;

/// What a list turned out to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListFormat {
    /// One item a line (plain, hosts file or adblock).
    Lines,
    /// CSV with host columns.
    Csv,
    /// CSV of TLS fingerprints.
    Fingerprints,
    /// Nothing in it reads as a list.
    NotAList,
}

/// What loading one list came to.
#[derive(Clone, Debug)]
pub struct Loaded {
    /// The format found.
    pub format: ListFormat,
    /// Entries added (domains, prefixes or fingerprints; a cell with three values adds three).
    pub added: usize,
    /// Lines that should have named a host and did not.
    pub bad: Vec<BadLine>,
    /// Adblock rules that are not about hosts (paths, wildcards, cosmetic): not for us.
    pub not_hosts: usize,
}

impl Loaded {
    /// Adds `item` of line `line` to `intel`, counted, or notes it as not a host.
    fn add(&mut self, intel: &mut Intel, item: &str, entry: &Entry, line: usize) {
        if add_item(intel, item, entry.clone()) {
            self.added += 1;
        } else {
            self.bad.push(BadLine {
                file: entry.source.clone(),
                line,
                what: format!("{item:?} is no domain, address or prefix"),
            });
        }
    }

    /// Nothing loaded yet, in `format`.
    fn nothing(format: ListFormat) -> Loaded {
        Loaded {
            format,
            added: 0,
            bad: Vec::new(),
            not_hosts: 0,
        }
    }
}

/// Columns of a CSV list named by the user (`--intel-columns host=1,pool=2,coin=3`, 1-based),
/// for lists whose header names none we recognise or that have no header.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Columns {
    /// Columns holding hosts, addresses or prefixes (0-based).
    pub hosts: Vec<usize>,
    /// The pool name's column.
    pub pool: Option<usize>,
    /// The coin's column.
    pub coin: Option<usize>,
    /// The category's column.
    pub category: Option<usize>,
    /// The first line is a header to skip.
    pub header: bool,
}

impl Columns {
    /// Reads `host=1,host=4,pool=2,coin=3,category=5,header` (columns counted from 1).
    pub fn parse(spec: &str) -> Result<Columns, String> {
        let mut c = Columns::default();
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            if part == "header" {
                c.header = true;
                continue;
            }
            let (name, n) = part
                .split_once('=')
                .ok_or_else(|| format!("{part:?}: expected name=column, e.g. host=1"))?;
            let n: usize = n
                .trim()
                .parse()
                .ok()
                .filter(|&n| n >= 1)
                .ok_or_else(|| format!("{part:?}: columns are counted from 1"))?;
            let i = n - 1;
            match name.trim() {
                "host" | "domain" | "ip" | "address" => c.hosts.push(i),
                "pool" => c.pool = Some(i),
                "coin" => c.coin = Some(i),
                "category" => c.category = Some(i),
                other => {
                    return Err(format!(
                        "{other:?}: the columns are host, pool, coin, category (and header)"
                    ));
                }
            }
        }
        if c.hosts.is_empty() {
            return Err("name at least one host column, e.g. host=1".into());
        }
        Ok(c)
    }
}

/// True for a file name that is documentation, not a list: README, LICENSE, COPYING, NOTICE,
/// CHANGELOG, AUTHORS, CONTRIBUTING (anywhere in the name, as in `nocoin-list_README.md`), or
/// a document's extension (`.md`, `.rst`, `.html`, `.pdf`, `.adoc`).
pub fn is_documentation(file_name: &str) -> bool {
    let n = file_name.to_ascii_lowercase();
    const WORDS: [&str; 8] = [
        "readme",
        "license",
        "licence",
        "copying",
        "notice",
        "changelog",
        "authors",
        "contributing",
    ];
    const DOCS: [&str; 6] = [".md", ".rst", ".html", ".htm", ".pdf", ".adoc"];
    WORDS.iter().any(|w| n.contains(w)) || DOCS.iter().any(|e| n.ends_with(e))
}

/// The role a CSV header gives a column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Host,
    Pool,
    Coin,
    Category,
    Fingerprint,
    Label,
}

/// What a header cell names, in the ways published lists name it.
fn role(h: &str) -> Option<Role> {
    let h = h.trim().trim_start_matches('\u{feff}').to_ascii_lowercase();
    let h = h.trim_matches('"');
    Some(match h {
        "ja3" | "ja4" | "fingerprint" | "ja3_hash" | "ja4_hash" => Role::Fingerprint,
        "label" | "software" => Role::Label,
        "domain" | "domains" | "host" | "hosts" | "hostname" | "hostnames" | "fqdn" | "server"
        | "servers" | "url" | "urls" | "stratum" | "endpoint" | "endpoints" | "address"
        | "addresses" | "ip" | "ips" | "ipv4" | "ipv6" | "cidr" | "prefix" | "subnet" => Role::Host,
        "pool" | "name" | "pool_name" | "poolname" | "pool name" | "operator" | "organisation"
        | "organization" | "owner" => Role::Pool,
        "coin" | "coins" | "currency" | "symbol" | "ticker" => Role::Coin,
        "category" | "type" | "kind" => Role::Category,
        _ if h.starts_with("ipv4") || h.starts_with("ipv6") => Role::Host,
        _ if [
            "_addresses",
            "_address",
            "_ips",
            "_domains",
            "_hosts",
            "_fqdn",
            "_fqdns",
        ]
        .iter()
        .any(|s| h.ends_with(s)) =>
        {
            Role::Host
        }
        _ if h.contains("coin") => Role::Coin,
        _ => return None,
    })
}

impl Intel {
    /// Loads a list file (format told by its content), returning the lines it could not read.
    pub fn load_file(
        &mut self,
        path: &std::path::Path,
        category: Category,
    ) -> std::io::Result<Vec<BadLine>> {
        let text = std::fs::read_to_string(path)?;
        Ok(self.load_text(&path.display().to_string(), &text, category))
    }

    /// Loads list text in any format of this module; the lines it could not read.
    pub fn load_text(&mut self, source: &str, text: &str, category: Category) -> Vec<BadLine> {
        self.load_list(source, text, category, None).bad
    }

    /// Loads list text; `columns` names a CSV's columns when its header names none we know.
    /// A text that adds nothing and has bad lines is [`ListFormat::NotAList`]: nothing of it is
    /// kept and its lines are not reported.
    pub fn load_list(
        &mut self,
        source: &str,
        text: &str,
        category: Category,
        columns: Option<&Columns>,
    ) -> Loaded {
        let content = || {
            text.lines().enumerate().filter(|(_, l)| {
                let t = l.trim();
                !t.is_empty() && !t.starts_with('#') && !t.starts_with('!') && !t.starts_with('[')
            })
        };
        let Some((_, first)) = content().next() else {
            return Loaded::nothing(ListFormat::Lines);
        };
        let roles: Vec<Option<Role>> = if first.contains(',') {
            split_csv(first).iter().map(|h| role(h)).collect()
        } else {
            Vec::new()
        };
        let mut loaded = if let Some(fc) = roles.iter().position(|r| *r == Some(Role::Fingerprint))
        {
            let lc = roles.iter().position(|r| *r == Some(Role::Label));
            self.fingerprint_rows(source, content().skip(1), fc, lc)
        } else if roles.contains(&Some(Role::Host)) && roles.len() > 1 {
            let pick = |want: Role| roles.iter().position(|r| *r == Some(want));
            let c = Columns {
                hosts: (0..roles.len())
                    .filter(|&i| roles.get(i) == Some(&Some(Role::Host)))
                    .collect(),
                pool: pick(Role::Pool),
                coin: pick(Role::Coin),
                category: pick(Role::Category),
                header: true,
            };
            self.csv_rows(source, content().skip(1), &c, category)
        } else if let Some(c) = columns.filter(|_| first.contains(',')) {
            // Columns named by the user, for CSV whose header names none we know.
            let rows = content().skip(usize::from(c.header));
            self.csv_rows(source, rows, c, category)
        } else {
            self.line_items(source, content(), category)
        };
        if loaded.added == 0 && !loaded.bad.is_empty() {
            loaded.format = ListFormat::NotAList;
            loaded.bad.clear();
        }
        loaded
    }

    fn fingerprint_rows<'a>(
        &mut self,
        source: &str,
        rows: impl Iterator<Item = (usize, &'a str)>,
        fc: usize,
        lc: Option<usize>,
    ) -> Loaded {
        let mut out = Loaded::nothing(ListFormat::Fingerprints);
        for (no, l) in rows {
            let f = split_csv(l);
            match (f.get(fc), lc.and_then(|c| f.get(c))) {
                (Some(fp), Some(label)) if !fp.is_empty() && !label.is_empty() => {
                    self.add_fingerprint(fp, label, source);
                    out.added += 1;
                }
                _ => out.bad.push(BadLine {
                    file: source.to_string(),
                    line: no + 1,
                    what: "need a fingerprint and a label".into(),
                }),
            }
        }
        out
    }

    fn csv_rows<'a>(
        &mut self,
        source: &str,
        rows: impl Iterator<Item = (usize, &'a str)>,
        c: &Columns,
        category: Category,
    ) -> Loaded {
        let mut out = Loaded::nothing(ListFormat::Csv);
        for (no, l) in rows {
            let f = split_csv(l);
            let get = |i: Option<usize>| {
                i.and_then(|i| f.get(i))
                    .map(|s| s.trim())
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
            };
            let cat = match get(c.category).map(|s| s.to_ascii_lowercase()).as_deref() {
                Some("browser_miner" | "browser-miner" | "browser miner") => Category::BrowserMiner,
                Some("marketplace") => Category::Marketplace,
                _ => category,
            };
            let entry = Entry {
                pool: get(c.pool),
                coin: get(c.coin).and_then(|s| coin_of(&s)),
                category: cat,
                source: source.to_string(),
            };
            let values: Vec<&str> = c
                .hosts
                .iter()
                .filter_map(|&i| f.get(i))
                .flat_map(|cell| cell.split([';', '|', ' ', '\t', ',']))
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .collect();
            if values.is_empty() {
                out.bad.push(BadLine {
                    file: source.into(),
                    line: no + 1,
                    what: "no host in the host column(s)".into(),
                });
                continue;
            }
            for v in values {
                out.add(self, v, &entry, no + 1);
            }
        }
        out
    }

    fn line_items<'a>(
        &mut self,
        source: &str,
        rows: impl Iterator<Item = (usize, &'a str)>,
        category: Category,
    ) -> Loaded {
        let mut out = Loaded::nothing(ListFormat::Lines);
        let entry = Entry {
            pool: None,
            coin: None,
            category,
            source: source.to_string(),
        };
        for (no, l) in rows {
            let mut t = l.trim();
            // hosts file: "0.0.0.0 name" / "127.0.0.1 name".
            if let Some((a, rest)) = t.split_once(char::is_whitespace)
                && a.parse::<IpAddr>().is_ok()
                && !rest.trim().is_empty()
            {
                t = rest.trim();
            }
            // adblock: "||host^$options" names a host; other rules do not.
            if let Some(r) = t.strip_prefix("||") {
                t = r.split(['^', '$', '/']).next().unwrap_or(r);
            } else if is_other_adblock_rule(t) {
                out.not_hosts += 1;
                continue;
            }
            let t = t.split_whitespace().next().unwrap_or(t);
            if t.contains('*') {
                out.not_hosts += 1;
                continue;
            }
            out.add(self, t, &entry, no + 1);
        }
        out
    }
}

/// An adblock rule that is not a host rule: a URL path or fragment, an exception, a cosmetic
/// filter, an option-only rule (Adblock Plus filter syntax).
fn is_other_adblock_rule(t: &str) -> bool {
    t.starts_with(['/', '-', '.', '$', '&', '?', '=', '_', '|', '*'])
        || t.starts_with("@@")
        || t.contains("##")
        || t.contains("#@#")
        || t.contains("#?#")
        || (t.contains('$') && !t.starts_with("||"))
}

/// A coin from a cell: a ticker (`XMR`), or the coin of a `port:coin` pair (`3333:BTC`).
fn coin_of(cell: &str) -> Option<String> {
    let last = cell
        .split([';', '|', ' '])
        .next()?
        .rsplit(':')
        .next()?
        .trim();
    (!last.is_empty() && last.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
        .then(|| last.to_string())
}

/// Splits a CSV line, honouring double quotes (a quoted cell may hold commas; `""` is a quote).
fn split_csv(line: &str) -> Vec<String> {
    let mut cells = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => cells.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    cells.push(cur);
    cells.into_iter().map(|c| c.trim().to_string()).collect()
}

/// Adds one item: a prefix, `ip:port`, a URL, `host:port`, or a domain.
pub(crate) fn add_item(intel: &mut Intel, item: &str, e: Entry) -> bool {
    let mut item = item.trim();
    if let Some((_, rest)) = item.split_once("://") {
        // stratum+tcp://host:port/path → host:port
        item = rest.split('/').next().unwrap_or(rest);
    }
    if let Some((ip, len)) = parse_prefix(item) {
        intel.add_prefix(ip, len, 0, e);
        return true;
    }
    if let Some((a, p)) = item.rsplit_once(':')
        && let Ok(port) = p.parse::<u16>()
    {
        if let Ok(ip) = a.trim_matches(['[', ']']).parse::<IpAddr>() {
            let len = if ip.is_ipv4() { 32 } else { 128 };
            intel.add_prefix(ip, len, port, e);
            return true;
        }
        // host:port: the host is the pool's; the port does not narrow a name.
        if !a.contains(':') {
            item = a;
        }
    }
    // A domain needs a dot and only host characters.
    if !item.contains('.')
        || item.chars().any(|c| {
            c.is_ascii() && !(c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == '_')
        })
    {
        return false;
    }
    intel.add_domain(item, e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_pool_csvs_by_their_own_column_names() {
        let mut i = Intel::default();
        let csv = "pool_name,fqdn,ipv4_addresses,ports_coin\n\
                   ExPool,xmr.expool.example,\"198.51.100.1;198.51.100.2\",3333:XMR\n\
                   Other,stratum+tcp://btc.other.example:3333,,BTC\n";
        let l = i.load_list("pools.csv", csv, Category::Pool, None);
        assert_eq!(l.format, ListFormat::Csv);
        assert!(l.bad.is_empty(), "{:?}", l.bad);
        assert_eq!(l.added, 4);
        let h = i.check("eu.xmr.expool.example").unwrap();
        assert_eq!(h.entry.pool.as_deref(), Some("ExPool"));
        assert_eq!(h.entry.coin.as_deref(), Some("XMR"));
        assert_eq!(
            i.check("198.51.100.2").unwrap().entry.pool.as_deref(),
            Some("ExPool")
        );
        assert_eq!(
            i.check("btc.other.example").unwrap().entry.coin.as_deref(),
            Some("BTC")
        );
    }

    #[test]
    fn columns_named_by_the_user() {
        let c = Columns::parse("host=2,pool=1,coin=3").unwrap();
        assert_eq!(
            (c.hosts.clone(), c.pool, c.coin),
            (vec![1], Some(0), Some(2))
        );
        let mut i = Intel::default();
        let l = i.load_list(
            "x.csv",
            "Ex,pool.ex.example:4444,LTC\n",
            Category::Pool,
            Some(&c),
        );
        assert_eq!((l.format, l.added), (ListFormat::Csv, 1));
        assert_eq!(
            i.check("pool.ex.example").unwrap().entry.coin.as_deref(),
            Some("LTC")
        );
        for bad in ["", "pool=1", "host=0", "host=x", "port=2"] {
            assert!(Columns::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn host_port_entries_and_adblock_rules_that_are_not_hosts() {
        let mut i = Intel::default();
        let text = "[Adblock Plus 2.0]\n! Title: x\n||coin.example^\n/authedminer.js\n-monero-miner-\nminero-proxy-*.now.sh\n@@||ok.example^\nexample.com##.miner\npool.example.org:3333\n";
        let l = i.load_list("nocoin.txt", text, Category::BrowserMiner, None);
        assert!(l.bad.is_empty(), "{:?}", l.bad);
        assert_eq!((l.added, l.not_hosts), (2, 5));
        assert!(i.check("pool.example.org").is_some());
        assert!(i.check("x.coin.example").is_some());
    }

    #[test]
    fn a_readme_is_not_a_list() {
        let mut i = Intel::default();
        let text = "# NoCoin adblock list\nThis is an adblock list to block mining.\n\n## Installation\nCopy the URL into your blocker.\n";
        let l = i.load_list("README.md", text, Category::Pool, None);
        assert_eq!(l.format, ListFormat::NotAList);
        assert!(l.bad.is_empty());
        assert_eq!(i.counts(), (0, 0));
        assert!(is_documentation("nocoin-list_2025-12-30_README.md"));
        assert!(is_documentation("maltrail_LICENSE.txt"));
        assert!(!is_documentation("maltrail_crypto_mining.txt"));
    }
}
