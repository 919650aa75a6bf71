//! Servers on loopback for the probe's tests: pools that play the pool side of the project's
//! scripted sessions (answering only the probe of their own dialect, as a strict pool closes on
//! anything else), optionally behind TLS, and servers that are not pools.

use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ServerConfig, ServerConnection, StreamOwned};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What a server does with a connection.
#[derive(Clone)]
pub enum Behaviour {
    /// A pool of `dialect` (the scan's names) sending `lines` to its own dialect's opening.
    Pool {
        dialect: &'static str,
        lines: Vec<Vec<u8>>,
    },
    /// A web server: 400 to anything.
    Http,
    /// An SSH server: its banner first.
    Ssh,
    /// Sends back what it gets.
    Echo,
    /// A JSON-RPC 2.0 wallet API: "method not found" to every line or POST.
    WalletApi,
    /// Accepts and never says anything.
    Silent,
    /// Sends bytes without end.
    Endless,
    /// A plaintext Stratum pool that answers what it cannot parse with a Stratum error line.
    PlainStratumErrors,
    /// Reads what comes and hangs up, as an MQTT broker or a SCADA outstation does with a
    /// first packet not of its protocol.
    HangsUp,
    /// Plays back a captured server's first messages to whatever the client sends: the stand-in
    /// for a server seen only in a capture.
    Parrot(Vec<Vec<u8>>),
}

/// Starts a server on 127.0.0.1 for the rest of the test process; its address.
pub fn serve(b: Behaviour, tls: bool) -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    let config = tls.then(server_config);
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            let b = b.clone();
            let config = config.clone();
            std::thread::spawn(move || {
                let _ = s.set_read_timeout(Some(Duration::from_secs(3)));
                match config {
                    None => {
                        let mut s = s;
                        handle(&b, &mut s);
                    }
                    Some(c) => {
                        let Ok(conn) = ServerConnection::new(c) else {
                            return;
                        };
                        let mut t = StreamOwned::new(conn, s);
                        while t.conn.is_handshaking() {
                            if t.conn.complete_io(&mut t.sock).is_err() {
                                // Say so the way TLS does (an alert), then go.
                                let _ = t.conn.write_tls(&mut t.sock);
                                return;
                            }
                        }
                        handle(&b, &mut t);
                    }
                }
            });
        }
    });
    addr
}

fn server_config() -> Arc<ServerConfig> {
    let ck = rcgen::generate_simple_self_signed(vec!["pool.test".to_string()]).unwrap();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(ck.key_pair.serialize_der()));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Arc::new(
        ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![ck.cert.der().clone()], key)
            .unwrap(),
    )
}

/// Reads what the client sends first: until a line ends, a frame's worth, or a short while.
fn opening<S: Read>(s: &mut S) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let until = Instant::now() + Duration::from_millis(500);
    while Instant::now() < until && got.len() < 65536 {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
        let http_done = got.starts_with(b"POST")
            && got
                .windows(4)
                .position(|w| w == b"\r\n\r\n")
                .is_some_and(|p| got.len() > p + 4);
        if http_done || (!got.starts_with(b"POST") && got.contains(&b'\n')) || sv2_setup(&got) {
            break;
        }
    }
    got
}

fn sv2_setup(b: &[u8]) -> bool {
    b.len() >= 6 && b[0] == 0 && b[1] == 0 && b[2] == 0x00 && !b.starts_with(b"{")
}

/// True when `req` opens `dialect` the way a miner of it would.
fn speaks(dialect: &str, req: &[u8]) -> bool {
    let t = String::from_utf8_lossy(req);
    match dialect {
        "bitcoin" | "equihash" => t.contains("mining.subscribe") && !t.contains("EthereumStratum"),
        "ethereumstratum" => t.contains("EthereumStratum/1.0.0"),
        "eth-proxy" => t.contains("eth_submitLogin"),
        "cryptonote" => t.contains(r#""method":"login""#),
        "getwork" => t.starts_with("POST") && t.contains(r#""method":"getwork""#),
        "getblocktemplate" => t.starts_with("POST") && t.contains("getblocktemplate"),
        "stratum-v2" => sv2_setup(req),
        _ => false,
    }
}

fn handle<S: Read + Write>(b: &Behaviour, s: &mut S) {
    match b {
        Behaviour::Pool { dialect, lines } => {
            let req = opening(s);
            if !speaks(dialect, &req) {
                return;
            }
            // HTTP pools answer with their first response; line and frame pools with their
            // opening exchange (a handful of messages).
            let n = if dialect.starts_with("get") { 1 } else { 6 };
            for l in lines.iter().take(n) {
                if s.write_all(l).is_err() {
                    return;
                }
            }
            let _ = s.flush();
            // Stay a moment, as a pool keeps its miners.
            std::thread::sleep(Duration::from_millis(300));
        }
        Behaviour::Http => {
            let _ = opening(s);
            let _ = s.write_all(
                b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: 11\r\nConnection: close\r\n\r\nBad Request",
            );
        }
        Behaviour::Ssh => {
            let _ = s.write_all(b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n");
            let _ = opening(s);
            let _ = s.write_all(b"Invalid SSH identification string.\r\n");
        }
        Behaviour::Echo => {
            let mut buf = [0u8; 4096];
            while let Ok(n) = s.read(&mut buf) {
                if n == 0 || s.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        }
        Behaviour::WalletApi => {
            let req = opening(s);
            let err =
                r#"{"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"Method not found"}}"#;
            if req.starts_with(b"POST") {
                let _ = write!(
                    s,
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{err}",
                    err.len()
                );
            } else {
                for _ in req.split(|&c| c == b'\n').filter(|l| !l.is_empty()) {
                    let _ = s.write_all(err.as_bytes());
                    let _ = s.write_all(b"\n");
                }
            }
        }
        Behaviour::Silent => {
            let _ = opening(s);
            std::thread::sleep(Duration::from_secs(5));
        }
        Behaviour::Endless => {
            let chunk = [b'A'; 8192];
            let until = Instant::now() + Duration::from_secs(10);
            while Instant::now() < until && s.write_all(&chunk).is_ok() {}
        }
        Behaviour::HangsUp => {
            let _ = opening(s);
        }
        Behaviour::Parrot(lines) => {
            if opening(s).is_empty() {
                return;
            }
            for l in lines {
                if s.write_all(l).is_err() {
                    return;
                }
            }
            let _ = s.flush();
            std::thread::sleep(Duration::from_millis(300));
        }
        Behaviour::PlainStratumErrors => {
            let req = opening(s);
            if !req.is_empty() {
                let _ = s.write_all(
                    b"{\"id\":null,\"result\":null,\"error\":[20,\"Unsupported request\",null]}\n",
                );
            }
            std::thread::sleep(Duration::from_millis(300));
        }
    }
}
