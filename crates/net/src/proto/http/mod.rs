//! HTTP/1.x message heads, for getwork, getblocktemplate and eth-proxy over HTTP.
//!
//! httparse reads the head; this module keeps the few headers mining cares about
//! (bfgminer `util.c` and cgminer send and read them: docs/FACTS.md §N3) and how the body is framed.

use thiserror::Error;

/// Heads longer than this are not HTTP we care about.
pub const MAX_HEAD: usize = 16 * 1024;

/// Mining-relevant facts of one HTTP message head.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Head {
    /// True for a request, false for a response.
    pub request: bool,
    /// Request method (`POST`, `GET`).
    pub method: Option<String>,
    /// Request path.
    pub path: Option<String>,
    /// Response status code.
    pub status: Option<u16>,
    /// Length of the head in bytes, the blank line included.
    pub head_len: usize,
    /// `Content-Length`, when given.
    pub content_length: Option<usize>,
    /// `Transfer-Encoding: chunked`.
    pub chunked: bool,
    /// `Host`.
    pub host: Option<String>,
    /// `User-Agent`.
    pub user_agent: Option<String>,
    /// The user name of `Authorization: Basic` (miners put the worker there).
    pub basic_user: Option<String>,
    /// `X-Mining-Extensions` (request).
    pub mining_extensions: Option<String>,
    /// `X-Mining-Hashrate` in H/s (request).
    pub mining_hashrate: Option<f64>,
    /// Pool-side headers seen: `X-Long-Polling`, `X-Roll-NTime`, `X-Stratum`, `X-Reject-Reason`,
    /// `X-Is-P2Pool`, `X-Blocknum` (lower case).
    pub pool_headers: Vec<String>,
    /// `Upgrade: websocket`.
    pub websocket: bool,
}

/// Why bytes are not an HTTP head.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum HeadError {
    /// More bytes are needed.
    #[error("incomplete HTTP head")]
    Partial,
    /// Not HTTP/1.x.
    #[error("not an HTTP head: {0}")]
    Invalid(String),
}

/// True when `b` starts like an HTTP/1.x request or response.
pub fn looks_like_http(b: &[u8]) -> bool {
    const STARTS: [&[u8]; 8] = [
        b"GET ",
        b"POST ",
        b"PUT ",
        b"HEAD ",
        b"OPTIONS ",
        b"DELETE ",
        b"PATCH ",
        b"HTTP/1.",
    ];
    STARTS
        .iter()
        .any(|s| b.get(..s.len()).is_some_and(|h| h.eq_ignore_ascii_case(s)))
}

const POOL_HEADERS: [&str; 6] = [
    "x-long-polling",
    "x-roll-ntime",
    "x-stratum",
    "x-reject-reason",
    "x-is-p2pool",
    "x-blocknum",
];

/// Parses a request or response head at the start of `b`.
pub fn parse_head(b: &[u8]) -> Result<Head, HeadError> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut head = Head::default();
    let (len, hdrs): (usize, &[httparse::Header]) = if b.starts_with(b"HTTP/") {
        let mut r = httparse::Response::new(&mut headers);
        match r.parse(b) {
            Ok(httparse::Status::Complete(n)) => {
                head.status = r.code;
                (n, r.headers)
            }
            Ok(httparse::Status::Partial) => return partial(b),
            Err(e) => return Err(HeadError::Invalid(e.to_string())),
        }
    } else {
        let mut r = httparse::Request::new(&mut headers);
        match r.parse(b) {
            Ok(httparse::Status::Complete(n)) => {
                head.request = true;
                head.method = r.method.map(str::to_string);
                head.path = r.path.map(str::to_string);
                (n, r.headers)
            }
            Ok(httparse::Status::Partial) => return partial(b),
            Err(e) => return Err(HeadError::Invalid(e.to_string())),
        }
    };
    head.head_len = len;
    for h in hdrs {
        let value = String::from_utf8_lossy(h.value).trim().to_string();
        let name = h.name.to_ascii_lowercase();
        match name.as_str() {
            "content-length" => head.content_length = value.parse().ok(),
            "transfer-encoding" => head.chunked = value.to_ascii_lowercase().contains("chunked"),
            "host" => head.host = Some(value),
            "user-agent" => head.user_agent = Some(value),
            "authorization" => head.basic_user = basic_user(&value),
            "x-mining-extensions" => head.mining_extensions = Some(value),
            "x-mining-hashrate" => head.mining_hashrate = value.parse().ok(),
            "upgrade" => head.websocket = value.eq_ignore_ascii_case("websocket"),
            n if POOL_HEADERS.contains(&n) => head.pool_headers.push(n.to_string()),
            _ => {}
        }
    }
    Ok(head)
}

fn partial(b: &[u8]) -> Result<Head, HeadError> {
    if b.len() > MAX_HEAD {
        Err(HeadError::Invalid("head longer than 16 KiB".into()))
    } else {
        Err(HeadError::Partial)
    }
}

fn basic_user(v: &str) -> Option<String> {
    use base64::Engine;
    let (scheme, cred) = v.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let raw = base64::engine::general_purpose::STANDARD
        .decode(cred.trim())
        .ok()?;
    let text = String::from_utf8(raw).ok()?;
    Some(text.split(':').next().unwrap_or_default().to_string())
}

/// What [`dechunk`] made of the bytes after a head.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Chunked {
    /// The whole body, and the bytes it took (trailers and the closing blank line included).
    Complete(Vec<u8>, usize),
    /// More bytes are needed.
    Partial,
    /// The framing is broken, or the body would pass the limit: no later byte can mend it.
    Invalid,
}

/// Decodes a chunked body (RFC 9112 §7.1) at the start of `b`, keeping at most `limit` bytes of
/// body. Chunk sizes come from the wire, so every sum with one is checked: a size of
/// `ffffffffffffffff` is refused, not added.
pub fn dechunk(b: &[u8], limit: usize) -> Chunked {
    let mut out = Vec::new();
    let mut at = 0;
    loop {
        let Some(line_end) = find_crlf(b, at) else {
            // A size line is a few hex digits and an optional extension: one that runs on
            // past the limit is no chunk framing.
            return if b.len() - at > limit {
                Chunked::Invalid
            } else {
                Chunked::Partial
            };
        };
        let Some(size) = b
            .get(at..line_end)
            .and_then(|l| std::str::from_utf8(l).ok())
            .and_then(|t| t.split(';').next())
            .and_then(|t| usize::from_str_radix(t.trim(), 16).ok())
        else {
            return Chunked::Invalid;
        };
        at = line_end + 2;
        if size == 0 {
            // Trailers end with an empty line.
            return match find_blank_line_end(b, at) {
                Some(end) => Chunked::Complete(out, end),
                None if b.len() - at > limit => Chunked::Invalid,
                None => Chunked::Partial,
            };
        }
        let Some(kept) = out.len().checked_add(size).filter(|&k| k <= limit) else {
            return Chunked::Invalid;
        };
        // The chunk's data and its CRLF; `size <= limit` here, so the sum cannot overflow.
        let end = at + size;
        let (Some(data), Some(crlf)) = (b.get(at..end), b.get(end..end + 2)) else {
            return Chunked::Partial;
        };
        if crlf != b"\r\n" {
            return Chunked::Invalid;
        }
        out.extend_from_slice(data);
        debug_assert_eq!(out.len(), kept);
        at = end + 2;
    }
}

/// The index of the first CRLF at or after `from`.
fn find_crlf(b: &[u8], from: usize) -> Option<usize> {
    b.get(from..)?
        .windows(2)
        .position(|w| w == b"\r\n")
        .map(|i| i + from)
}

/// The end of the trailer section that starts at `from` (the index past its blank line).
fn find_blank_line_end(b: &[u8], from: usize) -> Option<usize> {
    let mut at = from;
    loop {
        let end = find_crlf(b, at)?;
        if end == at {
            return Some(end + 2);
        }
        at = end + 2;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bfgminer_getwork_request() {
        let req = b"POST / HTTP/1.1\r\nAuthorization: Basic d29ya2VyMTp4\r\nHost: pool.example:8332\r\nUser-Agent: bfgminer/5.2.0\r\nContent-Type: application/json\r\nX-Mining-Extensions: longpoll midstate rollntime submitold\r\nX-Mining-Hashrate: 425000000\r\nContent-Length: 44\r\n\r\n{\"method\": \"getwork\", \"params\": [], \"id\": 0}";
        let h = parse_head(req).unwrap();
        assert!(h.request);
        assert_eq!(h.basic_user.as_deref(), Some("worker1"));
        assert_eq!(h.mining_hashrate, Some(425_000_000.0));
        assert_eq!(h.content_length, Some(44));
        assert_eq!(&req[h.head_len..].len(), &44);
    }

    #[test]
    fn pool_response_headers() {
        let resp = b"HTTP/1.1 200 OK\r\nX-Long-Polling: /LP\r\nX-Roll-NTime: Y\r\nContent-Length: 2\r\n\r\n{}";
        let h = parse_head(resp).unwrap();
        assert_eq!(h.status, Some(200));
        assert_eq!(h.pool_headers, vec!["x-long-polling", "x-roll-ntime"]);
    }

    #[test]
    fn partial_and_invalid() {
        assert_eq!(
            parse_head(b"POST / HTTP/1.1\r\nHost: a"),
            Err(HeadError::Partial)
        );
        assert!(matches!(
            parse_head(b"POST / HTTP/1.1\r\n\x01bad\r\n\r\n"),
            Err(HeadError::Invalid(_))
        ));
        assert!(looks_like_http(b"post /x"));
        assert!(!looks_like_http(b"{\"id\":1}"));
    }

    #[test]
    fn chunked_bodies() {
        let b = b"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\nNEXT";
        let Chunked::Complete(body, used) = dechunk(b, 1024) else {
            panic!("not complete")
        };
        assert_eq!(body, b"hello world");
        assert_eq!(&b[used..], b"NEXT");
        assert_eq!(dechunk(b"5\r\nhel", 1024), Chunked::Partial);
        // Trailers are skipped up to their blank line.
        let t = b"1\r\na\r\n0\r\nX-T: 1\r\n\r\nrest";
        assert_eq!(
            dechunk(t, 1024),
            Chunked::Complete(b"a".to_vec(), t.len() - 4)
        );
        assert_eq!(dechunk(b"zz\r\n", 1024), Chunked::Invalid);
        assert_eq!(dechunk(b"2\r\nabcd\r\n", 1024), Chunked::Invalid);
    }

    /// Chunk sizes at the edges of `usize` and of the limit: refused or waited for, never an
    /// overflow or a slice out of bounds.
    #[test]
    fn chunk_sizes_at_the_extremes() {
        let limit = 64;
        for size in [
            "0",
            "1",
            "3f",
            "40",
            "41",
            "7fffffffffffffff",
            "fffffffffffffffe",
            "ffffffffffffffff",
            "10000000000000000",
        ] {
            let b = format!("{size}\r\nabc\r\n0\r\n\r\n");
            let got = dechunk(b.as_bytes(), limit);
            match size {
                // The last chunk, then "abc" and "0" read as trailer lines.
                "0" => assert_eq!(got, Chunked::Complete(Vec::new(), b.len())),
                "1" => assert_eq!(got, Chunked::Invalid, "one byte then no CRLF"),
                "3f" | "40" => assert_eq!(got, Chunked::Partial, "{size}"),
                _ => assert_eq!(got, Chunked::Invalid, "{size}"),
            }
        }
        // Two chunks whose sizes add up past the limit.
        assert_eq!(
            dechunk(b"20\r\n", 0x30),
            Chunked::Partial,
            "one chunk within the limit waits"
        );
        let mut b = format!("30\r\n{}\r\n", "a".repeat(0x30)).into_bytes();
        b.extend_from_slice(b"ffffffffffffffff\r\n");
        assert_eq!(dechunk(&b, 0x30), Chunked::Invalid);
        // A size line that never ends.
        assert_eq!(dechunk(&[b'1'; 100], limit), Chunked::Invalid);
        assert_eq!(dechunk(&[b'1'; 10], limit), Chunked::Partial);
    }

    /// `Content-Length` values at the edges of `usize`: read as given (the framing is the
    /// caller's to check), or not read when they are no number.
    #[test]
    fn content_length_at_the_extremes() {
        for (v, want) in [
            ("0", Some(0)),
            ("1", Some(1)),
            ("18446744073709551614", Some(usize::MAX - 1)),
            ("18446744073709551615", Some(usize::MAX)),
            ("18446744073709551616", None),
            ("-1", None),
        ] {
            let req = format!("POST / HTTP/1.1\r\nContent-Length: {v}\r\n\r\n");
            assert_eq!(
                parse_head(req.as_bytes()).unwrap().content_length,
                want,
                "{v}"
            );
        }
    }
}
