//! Evidence from who a flow talks to: pool names in DNS, TLS SNI and HTTP Host, and pool
//! addresses (listed, or learnt from DNS answers for pool names). Encrypted and proxied mining
//! shows no Stratum, but it still connects to a pool.

use crate::proto::dns;
use crate::proto::tls::ClientHello;
use lru::LruCache;
use minewatch_intel::{Category, Hit, Intel};
use std::net::IpAddr;
use std::num::NonZeroUsize;
use std::sync::{Arc, OnceLock};

/// Addresses learnt from DNS answers held at most.
pub const MAX_RESOLVED: usize = 200_000;
/// DNS lookups of pool names (per client and name) held at most before they are reported.
pub const MAX_LOOKUPS: usize = 100_000;

/// The built-in intelligence, parsed once per process.
pub fn built_in() -> Arc<Intel> {
    static I: OnceLock<Arc<Intel>> = OnceLock::new();
    I.get_or_init(|| Arc::new(Intel::built_in())).clone()
}

/// What a flow's counterpart is known as.
#[derive(Clone, Debug, PartialEq)]
pub struct Finding {
    /// `pool-sni`, `pool-http`, `pool-ip`, `browser-miner`.
    pub detector: &'static str,
    /// `tls`, `http` or `tcp`.
    pub protocol: &'static str,
    /// The host name or address it was found by.
    pub host: String,
    /// The list entry (none when the finding comes from what the server said, not a list).
    pub hit: Option<Hit>,
    /// How sure (see docs/DETECTION.md).
    pub confidence: f32,
    /// Extra evidence codes.
    pub evidence: Vec<String>,
}

/// A pool name looked up by a client.
#[derive(Clone, Debug)]
pub struct Lookup {
    /// The client.
    pub client: IpAddr,
    /// Its DNS server.
    pub server: IpAddr,
    /// The name.
    pub name: String,
    /// The list entry.
    pub hit: Hit,
    /// First and last time seen (ns).
    pub first: i64,
    /// Last time seen.
    pub last: i64,
    /// Queries and answers seen.
    pub count: u64,
    /// Addresses the name resolved to.
    pub addresses: Vec<IpAddr>,
}

/// Per-scanner state: the intelligence, what DNS taught, and the lookups seen.
pub struct IntelState {
    /// The lists.
    pub intel: Arc<Intel>,
    resolved: LruCache<IpAddr, (String, Hit, i64)>,
    lookups: LruCache<(IpAddr, String), Lookup>,
    /// Lookups pushed out of the table (reported at once).
    pub evicted: Vec<Lookup>,
    /// DNS-over-TCP messages not read because they continued in another segment.
    pub dns_tcp_split: u64,
}

fn browser(hit: &Hit) -> bool {
    hit.entry.category == Category::BrowserMiner
}

impl IntelState {
    /// State over `intel`.
    pub fn new(intel: Arc<Intel>) -> IntelState {
        IntelState {
            intel,
            resolved: LruCache::new(NonZeroUsize::new(MAX_RESOLVED).unwrap_or(NonZeroUsize::MIN)),
            lookups: LruCache::new(NonZeroUsize::new(MAX_LOOKUPS).unwrap_or(NonZeroUsize::MIN)),
            evicted: Vec::new(),
            dns_tcp_split: 0,
        }
    }

    /// Reads a DNS message between `client` and `server` at `ts`.
    pub fn dns(&mut self, payload: &[u8], src: IpAddr, dst: IpAddr, from_server: bool, ts: i64) {
        let Some(m) = dns::parse(payload) else { return };
        let (client, server) = if from_server { (dst, src) } else { (src, dst) };
        for q in &m.questions {
            if let Some(hit) = self.intel.domain(q) {
                let key = (client, q.clone());
                if let Some(l) = self.lookups.get_mut(&key) {
                    l.last = ts;
                    l.count += 1;
                } else if let Some((_, old)) = self.lookups.push(
                    key,
                    Lookup {
                        client,
                        server,
                        name: q.clone(),
                        hit,
                        first: ts,
                        last: ts,
                        count: 1,
                        addresses: Vec::new(),
                    },
                ) {
                    self.evicted.push(old);
                }
            }
        }
        for (ip, name, ttl) in &m.answers {
            if let Some(hit) = self.intel.domain(name) {
                // Keep the mapping at least an hour: clients cache longer than TTLs say.
                let until = ts + i64::from((*ttl).max(3600)) * 1_000_000_000;
                self.resolved.put(*ip, (name.clone(), hit, until));
                if let Some(l) = self.lookups.get_mut(&(client, name.clone()))
                    && !l.addresses.contains(ip)
                    && l.addresses.len() < 16
                {
                    l.addresses.push(*ip);
                }
            }
        }
    }

    /// Reads the DNS messages of one TCP segment (RFC 1035 §4.2.2: each message after a
    /// two-byte length). A message continued in a later segment is counted in
    /// [`IntelState::dns_tcp_split`] and not read: resolvers answer in one segment unless the
    /// answer is larger than the MSS, which pool names' answers are not.
    pub fn dns_tcp(
        &mut self,
        payload: &[u8],
        src: IpAddr,
        dst: IpAddr,
        from_server: bool,
        ts: i64,
    ) {
        let mut rest = payload;
        while let Some((&[hi, lo], body)) = rest.split_first_chunk::<2>() {
            let Some((msg, next)) =
                body.split_at_checked(usize::from(u16::from_be_bytes([hi, lo])))
            else {
                self.dns_tcp_split += 1;
                return;
            };
            self.dns(msg, src, dst, from_server, ts);
            rest = next;
        }
        if !rest.is_empty() {
            self.dns_tcp_split += 1;
        }
    }

    /// Evidence that a ClientHello's JA3 or JA4 is a listed miner's.
    pub fn fingerprint(&self, ch: &ClientHello) -> Option<String> {
        [&ch.ja4, &ch.ja3_hash].into_iter().find_map(|fp| {
            self.intel
                .fingerprint(fp)
                .map(|(label, src)| format!("tls-fingerprint:{label}:{fp}:{src}"))
        })
    }

    /// What the server address of a new flow is known as.
    pub fn address(&mut self, ip: IpAddr, port: u16, ts: i64) -> Option<Finding> {
        if let Some((name, hit, until)) = self.resolved.get(&ip).cloned()
            && ts <= until
        {
            return Some(Finding {
                detector: if browser(&hit) {
                    "browser-miner"
                } else {
                    "pool-ip"
                },
                protocol: "tcp",
                host: name.clone(),
                hit: Some(hit),
                confidence: 0.8,
                evidence: vec![format!("dns-resolved:{name}")],
            });
        }
        let hit = self.intel.ip(ip, port)?;
        Some(Finding {
            detector: if browser(&hit) {
                "browser-miner"
            } else {
                "pool-ip"
            },
            protocol: "tcp",
            host: ip.to_string(),
            evidence: vec![format!("ip-list:{}", hit.matched)],
            hit: Some(hit),
            // Addresses go stale: a listed address alone is weaker than a name.
            confidence: 0.6,
        })
    }

    /// What a ClientHello's server name is known as.
    pub fn tls(&self, ch: &ClientHello) -> Option<Finding> {
        let sni = ch.sni.as_deref()?;
        let hit = self.intel.domain(sni)?;
        // A browser visiting the pool's web pages offers HTTP in ALPN; miners (XMRig, ethminer)
        // offer none. Browser miners are browser traffic by nature.
        let web = ch.alpn.iter().any(|a| a == "h2" || a.starts_with("http/"));
        if web && !browser(&hit) {
            return None;
        }
        let b = browser(&hit);
        Some(Finding {
            detector: if b { "browser-miner" } else { "pool-sni" },
            protocol: "tls",
            host: sni.to_string(),
            evidence: vec![
                format!("sni:{sni}"),
                format!("ja3:{}", ch.ja3_hash),
                format!("ja4:{}", ch.ja4),
            ],
            hit: Some(hit),
            confidence: if b { 0.7 } else { 0.85 },
        })
    }

    /// What an HTTP Host is known as.
    pub fn http(&self, host: &str, websocket: bool) -> Option<Finding> {
        let name = host.rsplit_once(':').map_or(host, |(h, p)| {
            if p.chars().all(|c| c.is_ascii_digit()) {
                h
            } else {
                host
            }
        });
        let hit = self.intel.domain(name)?;
        let mut evidence = vec![format!("http-host:{name}")];
        if websocket {
            evidence.push("websocket-upgrade".into());
        }
        Some(Finding {
            detector: if browser(&hit) {
                "browser-miner"
            } else {
                "pool-http"
            },
            protocol: "http",
            host: name.to_string(),
            hit: Some(hit),
            confidence: if websocket { 0.85 } else { 0.7 },
            evidence,
        })
    }

    /// Every lookup still held (the scan is ending).
    pub fn drain(&mut self) -> Vec<Lookup> {
        let mut v = std::mem::take(&mut self.evicted);
        while let Some((_, l)) = self.lookups.pop_lru() {
            v.push(l);
        }
        v
    }
}

/// Locks the shared intelligence state, taking it over from a worker that panicked while
/// holding it (the fault boundary already counted that panic; DNS maps stay consistent
/// because each insert is one call).
pub(crate) fn lock(st: &std::sync::Mutex<IntelState>) -> std::sync::MutexGuard<'_, IntelState> {
    st.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::dns;

    fn framed(m: &[u8]) -> Vec<u8> {
        [&(m.len() as u16).to_be_bytes()[..], m].concat()
    }

    #[test]
    fn dns_over_tcp_teaches_addresses_and_counts_split_messages() {
        let mut st = IntelState::new(built_in());
        let (client, resolver): (IpAddr, IpAddr) =
            ("10.0.0.5".parse().unwrap(), "10.0.0.53".parse().unwrap());
        let pool: IpAddr = "198.51.100.77".parse().unwrap();
        let q = framed(&dns::query(7, "xmr-eu1.nanopool.org"));
        // Two messages in one segment (pipelined), then the answer.
        st.dns_tcp(&[q.clone(), q].concat(), client, resolver, false, 1);
        let a = framed(&dns::response(7, "xmr-eu1.nanopool.org", None, &[pool]));
        st.dns_tcp(&a, resolver, client, true, 2);
        let f = st.address(pool, 443, 3).expect("learnt from DNS over TCP");
        assert_eq!(f.detector, "pool-ip");
        assert_eq!(st.dns_tcp_split, 0);
        let lookups = st.drain();
        assert_eq!(lookups.len(), 1);
        assert_eq!(lookups[0].count, 3);
        // A message cut by the segment end is counted, not guessed.
        st.dns_tcp(&a[..a.len() - 4], resolver, client, true, 4);
        st.dns_tcp(&[0x00], resolver, client, true, 5);
        assert_eq!(st.dns_tcp_split, 2);
    }
}
