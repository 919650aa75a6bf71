//! A TLS 1.3-style ClientHello, for tests and scripted sessions (as XMRig's TLS client sends).

fn ext(t: u16, body: &[u8]) -> Vec<u8> {
    let mut e = t.to_be_bytes().to_vec();
    e.extend_from_slice(&(body.len() as u16).to_be_bytes());
    e.extend_from_slice(body);
    e
}

/// A ClientHello record for `sni` offering `alpn`, with a GREASE cipher and extension.
pub fn client_hello(sni: &str, alpn: &[&str]) -> Vec<u8> {
    let mut exts = Vec::new();
    exts.extend(ext(0x0a0a, &[]));
    let name = sni.as_bytes();
    let mut sn = ((name.len() + 3) as u16).to_be_bytes().to_vec();
    sn.push(0);
    sn.extend_from_slice(&(name.len() as u16).to_be_bytes());
    sn.extend_from_slice(name);
    exts.extend(ext(0, &sn));
    exts.extend(ext(10, &[0, 4, 0, 0x1d, 0, 0x17]));
    exts.extend(ext(11, &[1, 0]));
    exts.extend(ext(13, &[0, 4, 4, 3, 8, 4]));
    if !alpn.is_empty() {
        let mut l = Vec::new();
        for a in alpn {
            l.push(a.len() as u8);
            l.extend_from_slice(a.as_bytes());
        }
        let mut body = (l.len() as u16).to_be_bytes().to_vec();
        body.extend(l);
        exts.extend(ext(16, &body));
    }
    exts.extend(ext(43, &[4, 3, 4, 3, 3]));
    let mut hello = vec![3, 3];
    hello.extend_from_slice(&[0x42; 32]);
    hello.push(0);
    let ciphers: [u16; 4] = [0x0a0a, 0x1301, 0x1302, 0x1303];
    hello.extend_from_slice(&((ciphers.len() * 2) as u16).to_be_bytes());
    for c in ciphers {
        hello.extend_from_slice(&c.to_be_bytes());
    }
    hello.extend_from_slice(&[1, 0]);
    hello.extend_from_slice(&(exts.len() as u16).to_be_bytes());
    hello.extend(exts);
    let mut hs = vec![1];
    hs.extend_from_slice(&(hello.len() as u32).to_be_bytes()[1..]);
    hs.extend(hello);
    let mut rec = vec![0x16, 3, 1];
    rec.extend_from_slice(&(hs.len() as u16).to_be_bytes());
    rec.extend(hs);
    rec
}

/// A ServerHello-shaped record followed by opaque application data (what a TLS server sends).
pub fn server_reply(len: usize) -> Vec<u8> {
    let mut r = vec![0x16, 3, 3, 0, 6, 2, 0, 0, 2, 3, 3];
    r.extend_from_slice(&[0x17, 3, 3]);
    r.extend_from_slice(&(len as u16).to_be_bytes());
    r.extend(std::iter::repeat_n(0x5a, len));
    r
}
