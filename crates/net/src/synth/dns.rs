//! DNS queries and responses (RFC 1035 wire format), for tests and scripted captures.

use std::net::IpAddr;

fn name(out: &mut Vec<u8>, n: &str) {
    for label in n.trim_end_matches('.').split('.') {
        out.push(label.len() as u8);
        out.extend_from_slice(label.as_bytes());
    }
    out.push(0);
}

/// A standard query for the A record of `host`.
pub fn query(id: u16, host: &str) -> Vec<u8> {
    let mut m = id.to_be_bytes().to_vec();
    m.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
    name(&mut m, host);
    m.extend_from_slice(&[0, 1, 0, 1]);
    m
}

/// A response for `host`, through an optional CNAME, with the given addresses (TTL 300).
pub fn response(id: u16, host: &str, cname: Option<&str>, addrs: &[IpAddr]) -> Vec<u8> {
    let answers = addrs.len() + usize::from(cname.is_some());
    let mut m = id.to_be_bytes().to_vec();
    m.extend_from_slice(&[0x81, 0x80, 0, 1]);
    m.extend_from_slice(&(answers as u16).to_be_bytes());
    m.extend_from_slice(&[0, 0, 0, 0]);
    name(&mut m, host);
    m.extend_from_slice(&[0, 1, 0, 1]);
    let owner = if let Some(c) = cname {
        // host CNAME c
        m.extend_from_slice(&[0xc0, 0x0c, 0, 5, 0, 1, 0, 0, 1, 0x2c]);
        let mut target = Vec::new();
        name(&mut target, c);
        m.extend_from_slice(&(target.len() as u16).to_be_bytes());
        let at = m.len();
        m.extend(target);
        Some(at)
    } else {
        None
    };
    for a in addrs {
        match owner {
            Some(at) => m.extend_from_slice(&[0xc0 | (at >> 8) as u8, at as u8]),
            None => m.extend_from_slice(&[0xc0, 0x0c]),
        }
        match a {
            IpAddr::V4(v4) => {
                m.extend_from_slice(&[0, 1, 0, 1, 0, 0, 1, 0x2c, 0, 4]);
                m.extend_from_slice(&v4.octets());
            }
            IpAddr::V6(v6) => {
                m.extend_from_slice(&[0, 28, 0, 1, 0, 0, 1, 0x2c, 0, 16]);
                m.extend_from_slice(&v6.octets());
            }
        }
    }
    m
}
