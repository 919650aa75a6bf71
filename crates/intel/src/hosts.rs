//! Pool intelligence: domain suffixes and IP prefixes of mining pools and browser miners, with
//! allow-lists, loaded from the formats users keep.
//!
//! Domains match on whole labels: `xmr.nanopool.org` matches an entry `nanopool.org`,
//! `notnanopool.org` does not. Names are normalised first (lower case, trailing dot dropped,
//! internationalised names to punycode), so `Nanopool.ORG.` and `例子.网络` are found. IPs match the
//! longest prefix; an entry may also name a port (maltrail's `ip:port` trails). The allow-list
//! wins over every list.

/// The tables' map: foldhash, randomly seeded. Every new flow looks up both its addresses at
/// each prefix length and port, and SipHash over those keys was a visible share of a scan of
/// real traffic (docs/PERFORMANCE.md); the keys inserted are the project's own lists.
type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
use std::net::IpAddr;

/// What kind of host an entry names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// A mining pool (or its stratum proxy).
    Pool,
    /// A hash-power marketplace (NiceHash).
    Marketplace,
    /// A browser-miner script host or WebSocket relay.
    BrowserMiner,
}

/// One list entry.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Entry {
    /// Pool name, when the list gives one.
    pub pool: Option<String>,
    /// Coin ticker, when known.
    pub coin: Option<String>,
    /// Kind of host.
    pub category: Category,
    /// Which list it came from (file name or `built-in:…`).
    pub source: String,
}

/// A match of a host or address.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Hit {
    /// The list entry (domain or prefix) that matched.
    pub matched: String,
    /// The entry.
    pub entry: Entry,
}

impl Hit {
    /// The hit as `intel check` prints it, tab-separated: category, pool, coin (`-` when
    /// unknown), and which entry of which list matched.
    pub fn text(&self) -> String {
        format!(
            "{:?}\t{}\t{}\tmatched {} in {}",
            self.entry.category,
            self.entry.pool.as_deref().unwrap_or("-"),
            self.entry.coin.as_deref().unwrap_or("-"),
            self.matched,
            self.entry.source
        )
    }
}

/// A domain, normalised: lower case, no trailing dot, punycode for non-ASCII labels.
pub fn normalise(name: &str) -> Option<String> {
    let n = name.trim().trim_end_matches('.');
    if n.is_empty() || n.len() > 253 {
        return None;
    }
    let ascii = if n.is_ascii() {
        n.to_ascii_lowercase()
    } else {
        idna::domain_to_ascii(n).ok()?
    };
    if ascii.split('.').any(|l| l.is_empty() || l.len() > 63) {
        return None;
    }
    Some(ascii)
}

fn to_bits(ip: IpAddr) -> (u128, u8) {
    match ip {
        IpAddr::V4(a) => (u128::from(u32::from(a)), 32),
        IpAddr::V6(a) => (u128::from(a), 128),
    }
}

fn mask(bits: u128, width: u8, len: u8) -> u128 {
    if len == 0 {
        0
    } else {
        let shift = u32::from(width - len);
        (bits >> shift) << shift
    }
}

/// Domain suffixes and IP prefixes with their entries, and the allow-list.
#[derive(Clone, Debug, Default)]
pub struct Intel {
    domains: HashMap<String, Entry>,
    /// (width 32 or 128, prefix length, masked address, port or 0) → entry.
    prefixes: HashMap<(u8, u8, u128, u16), Entry>,
    prefix_lengths: Vec<(u8, u8)>,
    /// One bit for each IPv4 /16 that a listed prefix covers (empty while none is listed).
    /// Every new flow looks up both its addresses, nearly always unlisted: one bit answers
    /// them instead of two hash probes for each listed prefix length.
    v4_cover: Vec<u64>,
    allow_domains: HashMap<String, ()>,
    allow_prefixes: Vec<(u8, u8, u128)>,
    /// TLS client fingerprints (JA3 MD5 in lower-case hex, or JA4) → (software, source).
    fingerprints: HashMap<String, (String, String)>,
}

/// A line that could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadLine {
    /// The file.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// What is wrong.
    pub what: String,
}

impl std::fmt::Display for BadLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.what)
    }
}

impl Intel {
    /// The built-in lists (see `crates/intel/data/README.md`).
    pub fn built_in() -> Intel {
        const BUILT_IN: [(&str, &str, Category); 4] = [
            (
                "built-in:pools.csv",
                include_str!("../data/pools.csv"),
                Category::Pool,
            ),
            (
                "built-in:maltrail-crypto_mining.txt",
                include_str!("../data/maltrail-crypto_mining.txt"),
                Category::Pool,
            ),
            (
                "built-in:nocoin-hosts.txt",
                include_str!("../data/nocoin-hosts.txt"),
                Category::BrowserMiner,
            ),
            (
                "built-in:nocoin-adblock-reviewed.txt",
                include_str!("../data/nocoin-adblock-reviewed.txt"),
                Category::BrowserMiner,
            ),
        ];
        let mut i = Intel::default();
        for (name, text, category) in BUILT_IN {
            let _ = i.load_text(name, text, category);
        }
        i
    }

    /// The listed domains (normalised), in no particular order.
    pub fn domains(&self) -> impl Iterator<Item = &str> {
        self.domains.keys().map(String::as_str)
    }

    /// The software a TLS client fingerprint (JA3 hash or JA4) is listed as, and the list.
    pub fn fingerprint(&self, fp: &str) -> Option<&(String, String)> {
        self.fingerprints.get(&fp.to_ascii_lowercase())
    }

    /// TLS fingerprints held.
    pub fn fingerprint_count(&self) -> usize {
        self.fingerprints.len()
    }

    /// Domains and prefixes held.
    pub fn counts(&self) -> (usize, usize) {
        (self.domains.len(), self.prefixes.len())
    }

    /// Adds a domain (and so all its subdomains).
    pub fn add_domain(&mut self, domain: &str, entry: Entry) -> bool {
        match normalise(domain) {
            Some(d) => {
                // A named entry (with a pool) is kept over a bare one for the same domain.
                let keep_old = self
                    .domains
                    .get(&d)
                    .is_some_and(|old| old.pool.is_some() && entry.pool.is_none());
                if !keep_old {
                    self.domains.insert(d, entry);
                }
                true
            }
            None => false,
        }
    }

    /// Adds an address or CIDR prefix, optionally only for one port.
    pub fn add_prefix(&mut self, ip: IpAddr, len: u8, port: u16, entry: Entry) {
        let (bits, width) = to_bits(ip);
        let len = len.min(width);
        let masked = mask(bits, width, len);
        self.prefixes.insert((width, len, masked, port), entry);
        if width == 32 {
            if self.v4_cover.is_empty() {
                self.v4_cover = vec![0; (1 << 16) / 64];
            }
            // The /16s under the prefix: one, or 2^(16 - len) of a shorter one.
            let first = (masked >> 16) as usize;
            let count = 1usize << 16u8.saturating_sub(len);
            for top in first..first + count {
                if let Some(w) = self.v4_cover.get_mut(top / 64) {
                    *w |= 1 << (top % 64);
                }
            }
        }
        if !self.prefix_lengths.contains(&(width, len)) {
            self.prefix_lengths.push((width, len));
            // Longest first.
            self.prefix_lengths.sort_by_key(|p| std::cmp::Reverse(p.1));
        }
    }

    /// Puts a domain or prefix on the allow-list.
    pub fn allow(&mut self, item: &str) -> bool {
        if let Some((ip, len)) = parse_prefix(item) {
            let (bits, width) = to_bits(ip);
            self.allow_prefixes
                .push((width, len, mask(bits, width, len)));
            return true;
        }
        match normalise(item) {
            Some(d) => {
                self.allow_domains.insert(d, ());
                true
            }
            None => false,
        }
    }

    fn allowed_domain(&self, d: &str) -> bool {
        suffixes(d).any(|s| self.allow_domains.contains_key(s))
    }

    /// Looks a host name up: the longest listed suffix of it, unless allow-listed.
    pub fn domain(&self, name: &str) -> Option<Hit> {
        let d = normalise(name)?;
        if self.allowed_domain(&d) {
            return None;
        }
        let mut found = suffixes(&d).filter_map(|s| self.domains.get(s).map(|e| (s, e)));
        let (s, e) = found.next()?;
        let mut entry = e.clone();
        // A bare entry from one list takes the pool and coin a parent domain has in another.
        for (_, parent) in found {
            if entry.pool.is_none() {
                entry.pool = parent.pool.clone();
            }
            if entry.coin.is_none() {
                entry.coin = parent.coin.clone();
            }
        }
        Some(Hit {
            matched: s.to_string(),
            entry,
        })
    }

    /// Looks an address (and port) up: the longest listed prefix, unless allow-listed.
    pub fn ip(&self, ip: IpAddr, port: u16) -> Option<Hit> {
        let (bits, width) = to_bits(ip);
        if width == 32 {
            let top = (bits >> 16) as usize;
            let covered = self
                .v4_cover
                .get(top / 64)
                .is_some_and(|w| w & (1 << (top % 64)) != 0);
            if !covered {
                return None;
            }
        }
        if self
            .allow_prefixes
            .iter()
            .any(|&(w, l, m)| w == width && mask(bits, width, l) == m)
        {
            return None;
        }
        for &(w, len) in &self.prefix_lengths {
            if w != width {
                continue;
            }
            let m = mask(bits, width, len);
            for p in [port, 0] {
                if let Some(e) = self.prefixes.get(&(w, len, m, p)) {
                    let shown = if len == width {
                        ip.to_string()
                    } else {
                        format!("{ip}/{len}")
                    };
                    return Some(Hit {
                        matched: if p != 0 {
                            format!("{shown}:{p}")
                        } else {
                            shown
                        },
                        entry: e.clone(),
                    });
                }
            }
        }
        None
    }

    /// Looks up a host name or an address.
    pub fn check(&self, host: &str) -> Option<Hit> {
        let h = host.trim();
        if let Ok(ip) = h.parse::<IpAddr>() {
            return self.ip(ip, 0);
        }
        if let Some((a, p)) = h.rsplit_once(':')
            && let (Ok(ip), Ok(port)) = (
                a.trim_matches(['[', ']']).parse::<IpAddr>(),
                p.parse::<u16>(),
            )
        {
            return self.ip(ip, port);
        }
        self.domain(h)
    }

    /// Adds a TLS client fingerprint (JA3 MD5 or JA4) with its software label.
    pub(crate) fn add_fingerprint(&mut self, fp: &str, label: &str, source: &str) {
        self.fingerprints.insert(
            fp.to_ascii_lowercase(),
            (label.to_string(), source.to_string()),
        );
    }
}

pub(crate) fn parse_prefix(s: &str) -> Option<(IpAddr, u8)> {
    let (a, l) = match s.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (s, None),
    };
    let ip: IpAddr = a.trim().parse().ok()?;
    let width = if ip.is_ipv4() { 32 } else { 128 };
    let len = match l {
        Some(l) => l.trim().parse::<u8>().ok().filter(|x| *x <= width)?,
        None => width,
    };
    Some((ip, len))
}

/// A domain and each of its parent domains, longest first (`a.b.c`, `b.c`, `c`).
fn suffixes(d: &str) -> impl Iterator<Item = &str> {
    std::iter::successors(Some(d), |s| s.split_once('.').map(|(_, r)| r))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e() -> Entry {
        Entry {
            pool: Some("P".into()),
            coin: None,
            category: Category::Pool,
            source: "t".into(),
        }
    }

    #[test]
    fn suffixes_match_whole_labels() {
        let mut i = Intel::default();
        i.add_domain("pool.com", e());
        assert_eq!(i.domain("xmr.eu.pool.com").unwrap().matched, "pool.com");
        assert!(i.domain("pool.com").is_some());
        assert!(i.domain("notpool.com").is_none());
        assert!(i.domain("pool.com.evil.net").is_none());
        assert!(i.domain("Pool.COM.").is_some(), "case and trailing dot");
    }

    #[test]
    fn idn_names_become_punycode() {
        let mut i = Intel::default();
        i.add_domain("矿池.com", e());
        assert!(i.domain("xn--7ot42c.com").is_some() || i.domain("矿池.com").is_some());
        assert_eq!(
            normalise("矿池.com").unwrap(),
            i.domain("矿池.com").unwrap().matched
        );
    }

    /// The /16 bitmap in front of the prefix table: every address inside a listed prefix of
    /// any length is still found, and the ones just outside are not.
    #[test]
    fn prefixes_of_every_length_pass_the_quick_test() {
        let mut i = Intel::default();
        for (net, len) in [
            ("0.0.0.0", 0u8),
            ("10.0.0.0", 8),
            ("172.16.0.0", 15),
            ("192.168.0.0", 16),
            ("198.51.128.0", 17),
            ("203.0.113.0", 24),
            ("192.0.2.7", 32),
        ] {
            let mut one = Intel::default();
            one.add_prefix(net.parse().unwrap(), len, 0, e());
            let base = u32::from(net.parse::<std::net::Ipv4Addr>().unwrap());
            let size = 1u64 << (32 - len);
            // The first and last addresses inside, and the neighbours outside.
            let first = u64::from(base);
            let last = first + size - 1;
            for (a, inside) in [
                (first, true),
                (last, true),
                (first.wrapping_sub(1), false),
                (last + 1, false),
            ] {
                let Ok(a) = u32::try_from(a) else { continue };
                let ip = IpAddr::from(std::net::Ipv4Addr::from(a));
                assert_eq!(
                    one.ip(ip, 0).is_some(),
                    inside || len == 0,
                    "{net}/{len}: {ip}"
                );
            }
            if len > 0 {
                i.add_prefix(net.parse().unwrap(), len, 0, e());
            }
        }
        assert!(i.ip("172.17.255.255".parse().unwrap(), 0).is_some());
        assert!(i.ip("172.18.0.0".parse().unwrap(), 0).is_none());
        assert!(i.ip("11.0.0.0".parse().unwrap(), 0).is_none());
        // Addresses of the other family go their own way.
        assert!(i.ip("2001:db8::1".parse().unwrap(), 0).is_none());
        assert!(
            Intel::default()
                .ip("10.0.0.1".parse().unwrap(), 0)
                .is_none()
        );
    }

    #[test]
    fn longest_prefix_and_ports() {
        let mut i = Intel::default();
        i.add_prefix(
            "10.0.0.0".parse().unwrap(),
            8,
            0,
            Entry {
                pool: Some("wide".into()),
                ..e()
            },
        );
        i.add_prefix(
            "10.1.2.0".parse().unwrap(),
            24,
            0,
            Entry {
                pool: Some("narrow".into()),
                ..e()
            },
        );
        i.add_prefix("192.0.2.7".parse().unwrap(), 32, 3333, e());
        assert_eq!(
            i.ip("10.1.2.3".parse().unwrap(), 80)
                .unwrap()
                .entry
                .pool
                .as_deref(),
            Some("narrow")
        );
        assert_eq!(
            i.ip("10.9.9.9".parse().unwrap(), 80)
                .unwrap()
                .entry
                .pool
                .as_deref(),
            Some("wide")
        );
        assert!(i.ip("11.0.0.1".parse().unwrap(), 80).is_none());
        assert!(i.ip("192.0.2.7".parse().unwrap(), 3333).is_some());
        assert!(i.ip("192.0.2.7".parse().unwrap(), 443).is_none());
        i.add_prefix("2001:db8::".parse().unwrap(), 32, 0, e());
        assert!(i.ip("2001:db8:1::5".parse().unwrap(), 1).is_some());
    }

    #[test]
    fn allow_list_wins() {
        let mut i = Intel::default();
        i.add_domain("pool.com", e());
        i.add_prefix("10.0.0.0".parse().unwrap(), 8, 0, e());
        assert!(i.allow("corp.pool.com"));
        assert!(i.allow("10.5.0.0/16"));
        assert!(i.domain("a.corp.pool.com").is_none());
        assert!(i.domain("xmr.pool.com").is_some());
        assert!(i.ip("10.5.1.1".parse().unwrap(), 0).is_none());
    }

    #[test]
    fn list_formats_and_bad_lines() {
        let mut i = Intel::default();
        let text = "# comment\n0.0.0.0 miner.example\n||coinhive.example^$third-party\nplain.example\n203.0.113.0/24\n198.51.100.9:14444\nnot a host!\n";
        let bad = i.load_text("l.txt", text, Category::Pool);
        assert_eq!(bad.len(), 1);
        assert_eq!(
            bad[0].to_string(),
            "l.txt:7: \"not\" is no domain, address or prefix"
        );
        for h in [
            "miner.example",
            "x.coinhive.example",
            "plain.example",
            "203.0.113.77",
            "198.51.100.9:14444",
        ] {
            assert!(i.check(h).is_some(), "{h}");
        }
        let mut c = Intel::default();
        let bad = c.load_text("c.csv", "domain,pool,coin,category\nxmr.example,ExPool,XMR,pool\n,,,\njs.example,Js,XMR,browser_miner\n", Category::Pool);
        assert_eq!(bad.len(), 1);
        let h = c.check("eu.xmr.example").unwrap();
        assert_eq!(
            (h.entry.pool.as_deref(), h.entry.coin.as_deref()),
            (Some("ExPool"), Some("XMR"))
        );
        assert_eq!(
            c.check("js.example").unwrap().entry.category,
            Category::BrowserMiner
        );
    }

    #[test]
    fn built_in_lists_know_the_pools_and_not_ordinary_sites() {
        let i = Intel::built_in();
        let (d, p) = i.counts();
        assert!(d > 500 && p > 100, "{d} {p}");
        for h in [
            "xmr-eu1.nanopool.org",
            "eu1-zcash.flypool.org",
            "pool.supportxmr.com",
            "coinhive.com",
            // From the reviewed rules of NoCoin's adblock form.
            "cloudflane.com",
            "nimiq.surf",
        ] {
            assert!(i.check(h).is_some(), "{h}");
        }
        // Rules the review left out: a site that ran a miner on its own pages, a cloud address.
        for h in ["filmoljupci.com", "35.194.26.233"] {
            assert!(i.check(h).is_none(), "{h}");
        }
        for h in [
            "www.google.com",
            "github.com",
            "www.baidu.com",
            "api.binance.com",
            "www.bitcoin.org",
            "ntp.ubuntu.com",
        ] {
            assert!(i.check(h).is_none(), "{h}: {:?}", i.check(h));
        }
    }
}
