//! HTTP messages built from fields (method, headers, a Content-Length or chunked body whose
//! sizes sit at the edges of `usize`), cut into segments and fed to a flow's inspector, and
//! their heads and bodies to the parser alone.
#![no_main]
#[path = "common.rs"]
mod common;
use arbitrary::Arbitrary;
use common::{Len, inspect, segments};
use libfuzzer_sys::fuzz_target;
use minewatch_net::proto::http;

#[derive(Arbitrary, Debug)]
enum Body {
    Plain { length: Option<Len>, bytes: Vec<u8> },
    Chunked { chunks: Vec<(Len, Vec<u8>, bool)>, trailers: Vec<String> },
}

#[derive(Arbitrary, Debug)]
struct Message {
    response: bool,
    method: u8,
    path: String,
    headers: Vec<(u8, String)>,
    body: Body,
}

const METHODS: [&str; 4] = ["POST", "GET", "PUT", "OPTIONS"];
const NAMES: [&str; 10] = [
    "Host",
    "User-Agent",
    "Authorization",
    "X-Mining-Extensions",
    "X-Mining-Hashrate",
    "Upgrade",
    "X-Long-Polling",
    "Content-Type",
    "Content-Length",
    "Transfer-Encoding",
];

impl Message {
    fn bytes(&self) -> Vec<u8> {
        let mut out = if self.response {
            b"HTTP/1.1 200 OK\r\n".to_vec()
        } else {
            let m = METHODS[usize::from(self.method) % METHODS.len()];
            format!("{m} /{} HTTP/1.1\r\n", self.path.replace(['\r', '\n', ' '], "")).into_bytes()
        };
        for (n, v) in &self.headers {
            let n = NAMES[usize::from(*n) % NAMES.len()];
            out.extend_from_slice(format!("{n}: {}\r\n", v.replace(['\r', '\n'], "")).as_bytes());
        }
        match &self.body {
            Body::Plain { length, bytes } => {
                if let Some(l) = length {
                    let v = l.value(bytes.len(), 64);
                    out.extend_from_slice(format!("Content-Length: {v}\r\n").as_bytes());
                }
                out.extend_from_slice(b"\r\n");
                out.extend_from_slice(bytes);
            }
            Body::Chunked { chunks, trailers } => {
                out.extend_from_slice(b"Transfer-Encoding: chunked\r\n\r\n");
                for (l, data, ext) in chunks {
                    let v = l.value(data.len(), 64);
                    let ext = if *ext { ";name=value" } else { "" };
                    out.extend_from_slice(format!("{v:x}{ext}\r\n").as_bytes());
                    out.extend_from_slice(data);
                    out.extend_from_slice(b"\r\n");
                }
                out.extend_from_slice(b"0\r\n");
                for t in trailers {
                    out.extend_from_slice(format!("{}\r\n", t.replace(['\r', '\n'], "")).as_bytes());
                }
                out.extend_from_slice(b"\r\n");
            }
        }
        out
    }
}

fuzz_target!(|input: (Vec<Message>, Vec<u16>, Vec<Message>, Vec<u16>)| {
    let (requests, cuts_up, responses, cuts_down) = input;
    let up: Vec<u8> = requests.iter().flat_map(Message::bytes).collect();
    let down: Vec<u8> = responses.iter().flat_map(Message::bytes).collect();
    for m in requests.iter().chain(&responses) {
        let b = m.bytes();
        if let Ok(h) = http::parse_head(&b) {
            let _ = http::dechunk(&b[h.head_len..], 1 << 18);
        }
    }
    inspect(&segments(&up, &cuts_up), &segments(&down, &cuts_down));
});
