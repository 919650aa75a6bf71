//! TLS ClientHello: server name (SNI), ALPN, and the JA3 and JA4 fingerprints.
//!
//! tls-parser reads the record and the ClientHello; the extensions are walked here for the
//! fields the fingerprints need in wire order. JA3 (Salesforce, 2017): `version,ciphers,
//! extensions,groups,point formats` in decimal, GREASE values (RFC 8701) dropped, MD5.
//! JA4 (FoxIO, 2023, `ja4/technical_details`): `t`+version+`d|i`+cipher count+extension count+
//! first and last ALPN characters, then the first 12 hex digits of SHA-256 over the sorted
//! ciphers, and over the sorted extensions (SNI and ALPN left out) with the signature algorithms.

use md5::{Digest as _, Md5};
use sha2::Sha256;
use tls_parser::{TlsMessage, TlsMessageHandshake, parse_tls_plaintext};

/// What a ClientHello says.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientHello {
    /// Server name indication.
    pub sni: Option<String>,
    /// ALPN protocols offered.
    pub alpn: Vec<String>,
    /// JA3 string.
    pub ja3: String,
    /// JA3 hash (MD5 of the string, hex).
    pub ja3_hash: String,
    /// JA4 fingerprint.
    pub ja4: String,
}

fn grease(v: u16) -> bool {
    v & 0x0f0f == 0x0a0a && v >> 8 == v & 0xff
}

fn be16(b: &[u8], i: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(i)?, *b.get(i.checked_add(1)?)?]))
}

/// True when `b` starts like a TLS record: a ClientHello or ServerHello opening a connection,
/// or (joined mid-session) a change-cipher-spec, alert, handshake or application-data record
/// of a plausible length (RFC 8446 §5.1: at most 2^14 + 256 bytes of ciphertext).
pub fn looks_like_tls(b: &[u8]) -> bool {
    let &[kind, major, minor, hi, lo, first, ..] = b else {
        return false;
    };
    if major != 0x03 || minor > 0x04 {
        return false;
    }
    let len = usize::from(u16::from_be_bytes([hi, lo]));
    match kind {
        0x16 => matches!(first, 0x01 | 0x02) || (len > 0 && len <= (1 << 14) + 256),
        0x14 => len == 1,
        0x15 | 0x17 => len > 0 && len <= (1 << 14) + 256,
        _ => false,
    }
}

/// Parses a ClientHello at the start of a client's stream.
pub fn client_hello(b: &[u8]) -> Option<ClientHello> {
    let (_, rec) = parse_tls_plaintext(b).ok()?;
    let ch = rec.msg.iter().find_map(|m| match m {
        TlsMessage::Handshake(TlsMessageHandshake::ClientHello(c)) => Some(c),
        _ => None,
    })?;
    let ciphers: Vec<u16> = ch
        .ciphers
        .iter()
        .map(|c| c.0)
        .filter(|c| !grease(*c))
        .collect();
    let mut exts: Vec<u16> = Vec::new();
    let (mut groups, mut formats, mut sigs, mut versions) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut out = ClientHello::default();
    let e = ch.ext.unwrap_or(&[]);
    let mut i = 0;
    while i + 4 <= e.len() {
        let t = be16(e, i)?;
        let len = usize::from(be16(e, i + 2)?);
        let body = e.get(i + 4..i + 4 + len)?;
        i += 4 + len;
        if grease(t) {
            continue;
        }
        exts.push(t);
        match t {
            0
                // server_name_list: u16 len, then (type u8, u16 len, name).
                if body.len() >= 5 && body.get(2) == Some(&0) => {
                    let n = usize::from(be16(body, 3)?);
                    out.sni = body
                        .get(5..5 + n)
                        .map(|s| String::from_utf8_lossy(s).into_owned());
                }
            10 => {
                groups = (2..body.len())
                    .step_by(2)
                    .filter_map(|j| be16(body, j))
                    .filter(|g| !grease(*g))
                    .collect()
            }
            11 => formats = body.iter().skip(1).map(|f| u16::from(*f)).collect(),
            13 => {
                sigs = (2..body.len())
                    .step_by(2)
                    .filter_map(|j| be16(body, j))
                    .collect()
            }
            16 => {
                let mut j = 2;
                while let Some(&n) = body.get(j) {
                    let n = usize::from(n);
                    if let Some(p) = body.get(j + 1..j + 1 + n) {
                        out.alpn.push(String::from_utf8_lossy(p).into_owned());
                    }
                    j += 1 + n;
                }
            }
            43 => {
                versions = (1..body.len())
                    .step_by(2)
                    .filter_map(|j| be16(body, j))
                    .filter(|v| !grease(*v))
                    .collect()
            }
            _ => {}
        }
    }
    let join = |v: &[u16]| v.iter().map(u16::to_string).collect::<Vec<_>>().join("-");
    let version = ch.version.0;
    out.ja3 = format!(
        "{},{},{},{},{}",
        version,
        join(&ciphers),
        join(&exts),
        join(&groups),
        join(&formats)
    );
    out.ja3_hash = hex::encode(Md5::digest(out.ja3.as_bytes()));
    let best = versions.iter().copied().max().unwrap_or(version);
    let v = match best {
        0x0304 => "13",
        0x0303 => "12",
        0x0302 => "11",
        0x0301 => "10",
        _ => "00",
    };
    let alpn = out.alpn.first().map_or("00".to_string(), |a| {
        let c: Vec<char> = a.chars().collect();
        match (c.first(), c.last()) {
            (Some(f), Some(l)) if f.is_ascii_alphanumeric() && l.is_ascii_alphanumeric() => {
                format!("{f}{l}")
            }
            _ => "99".into(),
        }
    });
    let hex4 = |v: &[u16]| {
        v.iter()
            .map(|x| format!("{x:04x}"))
            .collect::<Vec<_>>()
            .join(",")
    };
    let h12 = |s: &str| {
        if s.is_empty() {
            "000000000000".to_string()
        } else {
            hex::encode(Sha256::digest(s.as_bytes()))[..12].to_string()
        }
    };
    let mut sc = ciphers.clone();
    sc.sort_unstable();
    let mut se: Vec<u16> = exts
        .iter()
        .copied()
        .filter(|t| *t != 0 && *t != 16)
        .collect();
    se.sort_unstable();
    let ext_part = if sigs.is_empty() {
        hex4(&se)
    } else {
        format!("{}_{}", hex4(&se), hex4(&sigs))
    };
    out.ja4 = format!(
        "t{v}{}{:02}{:02}{alpn}_{}_{}",
        if out.sni.is_some() { 'd' } else { 'i' },
        ciphers.len().min(99),
        exts.len().min(99),
        h12(&hex4(&sc)),
        h12(&ext_part)
    );
    Some(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn record_starts() {
        use super::looks_like_tls;
        assert!(looks_like_tls(&[0x16, 3, 1, 0, 200, 1]));
        assert!(looks_like_tls(&[0x16, 3, 3, 0, 90, 2]));
        assert!(looks_like_tls(&[0x17, 3, 3, 0x40, 0x11, 0xaa]));
        assert!(looks_like_tls(&[0x14, 3, 3, 0, 1, 1]));
        assert!(!looks_like_tls(&[0x17, 3, 3, 0x50, 0, 0]));
        assert!(!looks_like_tls(b"{\"id\":1"));
    }

    use super::*;
    use crate::synth::tls::client_hello as build;

    #[test]
    fn sni_alpn_and_fingerprints() {
        let b = build("xmr.pool.example", &["h2", "http/1.1"]);
        assert!(looks_like_tls(&b));
        let ch = client_hello(&b).unwrap();
        assert_eq!(ch.sni.as_deref(), Some("xmr.pool.example"));
        assert_eq!(ch.alpn, vec!["h2", "http/1.1"]);
        assert!(ch.ja3.starts_with("771,4865-4866-4867,"), "{}", ch.ja3);
        assert_eq!(ch.ja3_hash.len(), 32);
        assert!(ch.ja4.starts_with("t13d0306h2_"), "{}", ch.ja4);
        // GREASE is ignored.
        assert!(!ch.ja3.contains("2570"));
    }

    #[test]
    fn junk_is_no_hello() {
        assert!(client_hello(b"\x16\x03\x01\x00\x05hello").is_none());
        assert!(client_hello(b"GET / HTTP/1.1").is_none());
        for n in 0..200 {
            let junk: Vec<u8> = (0..n).map(|i| (i * 29 + 3) as u8).collect();
            let _ = client_hello(&junk);
        }
    }
}
