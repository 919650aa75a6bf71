//! Targets as users write them (`host:port`, `[v6]:port`), their addresses, and which
//! addresses a probe may never reach without being told to.

use crate::ProbeError;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};

/// One endpoint to confirm, as given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// The text as given (`pool.example.org:443`).
    pub text: String,
    /// The host part: a name or an address.
    pub host: String,
    /// The port.
    pub port: u16,
}

impl Target {
    /// Reads `host:port` or `[v6-address]:port`.
    pub fn parse(text: &str) -> Result<Target, ProbeError> {
        let bad = |why: &str| ProbeError::Target {
            target: text.to_string(),
            why: why.to_string(),
        };
        let t = text.trim();
        let (host, port) = if let Some(rest) = t.strip_prefix('[') {
            let (h, p) = rest
                .split_once("]:")
                .ok_or_else(|| bad("expected [address]:port"))?;
            (h, p)
        } else {
            let (h, p) = t
                .rsplit_once(':')
                .ok_or_else(|| bad("expected host:port"))?;
            if h.contains(':') {
                return Err(bad("an IPv6 address goes in brackets: [address]:port"));
            }
            (h, p)
        };
        if host.is_empty() {
            return Err(bad("no host"));
        }
        let port: u16 = port
            .parse()
            .map_err(|_| bad("the port is not a number from 1 to 65535"))?;
        if port == 0 {
            return Err(bad("port 0"));
        }
        Ok(Target {
            text: t.to_string(),
            host: host.to_string(),
            port,
        })
    }

    /// The host when it is a name (for TLS SNI); `None` for an address.
    pub fn name(&self) -> Option<&str> {
        self.host
            .parse::<IpAddr>()
            .is_err()
            .then_some(self.host.as_str())
    }

    /// The addresses the host resolves to (the system resolver; an address is itself).
    pub fn resolve(&self) -> Result<Vec<SocketAddr>, ProbeError> {
        if let Ok(ip) = self.host.parse::<IpAddr>() {
            return Ok(vec![SocketAddr::new(ip, self.port)]);
        }
        let addrs: Vec<SocketAddr> = (self.host.as_str(), self.port)
            .to_socket_addrs()
            .map_err(|e| ProbeError::Resolve {
                target: self.text.clone(),
                why: e.to_string(),
            })?
            .collect();
        if addrs.is_empty() {
            return Err(ProbeError::Resolve {
                target: self.text.clone(),
                why: "no address".into(),
            });
        }
        Ok(addrs)
    }
}

/// True for an address on the public Internet: not private, loopback, link-local, shared
/// (CGNAT), documentation, benchmarking, multicast, reserved or unspecified (the special-purpose
/// registries of RFC 6890, IANA's IPv4 and IPv6 Special-Purpose Address Registries). A probe
/// goes elsewhere only with `--allow-private`: an operator's own network is not ours to knock on.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => is_public_v4(a),
        IpAddr::V6(a) => {
            if let Some(v4) = a.to_ipv4_mapped() {
                return is_public_v4(v4);
            }
            is_public_v6(a)
        }
    }
}

fn is_public_v4(a: Ipv4Addr) -> bool {
    let [o0, o1, o2, _] = a.octets();
    !(a.is_private()
        || a.is_loopback()
        || a.is_link_local()
        || a.is_multicast()
        || a.is_broadcast()
        || a.is_documentation()
        || a.is_unspecified()
        || o0 == 0
        // 100.64.0.0/10, shared address space (RFC 6598).
        || (o0 == 100 && (o1 & 0xc0) == 64)
        // 192.0.0.0/24, IETF protocol assignments.
        || (o0 == 192 && o1 == 0 && o2 == 0)
        // 198.18.0.0/15, benchmarking (RFC 2544).
        || (o0 == 198 && (o1 & 0xfe) == 18)
        // 240.0.0.0/4, reserved.
        || o0 >= 240)
}

fn is_public_v6(a: Ipv6Addr) -> bool {
    let s = a.segments();
    !(a.is_loopback()
        || a.is_unspecified()
        || a.is_multicast()
        // fc00::/7 unique local, fe80::/10 link-local.
        || (s[0] & 0xfe00) == 0xfc00
        || (s[0] & 0xffc0) == 0xfe80
        // 2001:db8::/32 documentation.
        || (s[0] == 0x2001 && s[1] == 0x0db8)
        // 64:ff9b:1::/48 local-use translation, 100::/64 discard.
        || (s[0] == 0x64 && s[1] == 0xff9b && s[2] == 1)
        || (s[0] == 0x100 && s[1] == 0 && s[2] == 0 && s[3] == 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_as_users_write_them() {
        let t = Target::parse("pool.example.org:443").unwrap();
        assert_eq!((t.host.as_str(), t.port), ("pool.example.org", 443));
        assert_eq!(t.name(), Some("pool.example.org"));
        let t = Target::parse("[2001:db8::7]:3333").unwrap();
        assert_eq!((t.host.as_str(), t.port), ("2001:db8::7", 3333));
        assert_eq!(t.name(), None);
        for bad in [
            "pool",
            "pool:",
            "pool:x",
            ":80",
            "2001:db8::7:3333",
            "pool:0",
            "pool:70000",
        ] {
            assert!(Target::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn private_and_reserved_addresses_are_not_public() {
        for a in [
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "127.0.0.1",
            "169.254.1.1",
            "100.64.0.1",
            "100.127.255.255",
            "192.0.0.8",
            "192.0.2.1",
            "198.18.0.1",
            "198.51.100.7",
            "203.0.113.7",
            "224.0.0.1",
            "240.0.0.1",
            "255.255.255.255",
            "0.1.2.3",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "ff02::1",
            "2001:db8::1",
            "::ffff:10.0.0.1",
        ] {
            assert!(!is_public(a.parse().unwrap()), "{a}");
        }
        for a in [
            "8.8.8.8",
            "100.128.0.1",
            "198.20.0.1",
            "2a01:4f8::1",
            "::ffff:8.8.8.8",
        ] {
            assert!(is_public(a.parse().unwrap()), "{a}");
        }
    }
}
