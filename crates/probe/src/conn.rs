//! One probe connection: connect, (shake hands,) send the request, read a bounded answer
//! until it shows enough, the deadline passes or the server closes.

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, ClientConnection, DigitallySignedStruct, SignatureScheme, StreamOwned};
use serde::Serialize;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How the probe reaches the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    /// Plain TCP.
    Tcp,
    /// TLS over TCP (no certificate trust required: pools use self-signed certificates).
    Tls,
}

impl Transport {
    /// `tcp` or `tls`.
    pub fn name(self) -> &'static str {
        match self {
            Transport::Tcp => "tcp",
            Transport::Tls => "tls",
        }
    }
}

/// What one connection brought back.
#[derive(Debug, Default)]
pub struct Exchange {
    /// The TCP connection was made.
    pub connected: bool,
    /// Why it ended early (connect, handshake or read error), when it did.
    pub error: Option<String>,
    /// The TLS handshake failed.
    pub handshake_failed: bool,
    /// The answer's bytes (for TLS: the plaintext inside; when the handshake failed: the raw
    /// bytes the server sent instead, at most the answer bound).
    pub answer: Vec<u8>,
    /// Bytes sent (the request; for TLS, before encryption).
    pub sent: usize,
    /// The deadline ended it (the server held the connection open without closing it).
    pub timed_out: bool,
}

/// Limits of one connection.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Connecting at most this long.
    pub connect: Duration,
    /// The whole exchange after connecting at most this long.
    pub answer: Duration,
    /// The most answer bytes kept; reading stops there.
    pub max_answer: usize,
}

/// Connects to `addr`, sends `request`, and reads until `enough` says the answer suffices.
pub fn exchange(
    addr: SocketAddr,
    transport: Transport,
    sni: Option<&str>,
    request: &[u8],
    limits: Limits,
    enough: &mut dyn FnMut(&[u8]) -> bool,
) -> Exchange {
    let mut ex = Exchange::default();
    let tcp = match TcpStream::connect_timeout(&addr, limits.connect) {
        Ok(s) => s,
        Err(e) => {
            ex.error = Some(format!("connect: {e}"));
            return ex;
        }
    };
    ex.connected = true;
    let _ = tcp.set_nodelay(true);
    let deadline = Instant::now() + limits.answer;
    match transport {
        Transport::Tcp => {
            let mut s = tcp;
            run(
                &mut s,
                &tcp_timeout,
                request,
                deadline,
                limits,
                enough,
                &mut ex,
            );
        }
        Transport::Tls => {
            let name = match sni.map(|n| ServerName::try_from(n.to_string())) {
                Some(Ok(n)) => n,
                _ => ServerName::IpAddress(addr.ip().into()),
            };
            let conn = match ClientConnection::new(tls_config(), name) {
                Ok(c) => c,
                Err(e) => {
                    ex.error = Some(format!("tls: {e}"));
                    return ex;
                }
            };
            let mut stream = StreamOwned::new(
                conn,
                Recorder {
                    inner: tcp,
                    seen: Vec::new(),
                    keep: limits.max_answer,
                },
            );
            // The handshake, under the same deadline.
            while stream.conn.is_handshaking() {
                if set_timeout(&stream.sock.inner, deadline).is_err() {
                    ex.error = Some("tls: handshake timed out".into());
                    ex.handshake_failed = true;
                    ex.timed_out = true;
                    ex.answer = std::mem::take(&mut stream.sock.seen);
                    return ex;
                }
                if let Err(e) = stream.conn.complete_io(&mut stream.sock) {
                    ex.timed_out = matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    );
                    ex.error = Some(format!("tls handshake: {e}"));
                    ex.handshake_failed = true;
                    ex.answer = std::mem::take(&mut stream.sock.seen);
                    return ex;
                }
            }
            let timeout =
                |s: &StreamOwned<ClientConnection, Recorder>, d| set_timeout(&s.sock.inner, d);
            run(
                &mut stream,
                &timeout,
                request,
                deadline,
                limits,
                enough,
                &mut ex,
            );
        }
    }
    ex
}

fn tcp_timeout(s: &TcpStream, deadline: Instant) -> io::Result<()> {
    set_timeout(s, deadline)
}

/// Sends and reads on an established stream.
fn run<S: Read + Write>(
    s: &mut S,
    timeout: &dyn Fn(&S, Instant) -> io::Result<()>,
    request: &[u8],
    deadline: Instant,
    limits: Limits,
    enough: &mut dyn FnMut(&[u8]) -> bool,
    ex: &mut Exchange,
) {
    if let Err(e) = timeout(s, deadline)
        .and_then(|()| s.write_all(request))
        .and_then(|()| s.flush())
    {
        ex.error = Some(format!("send: {e}"));
        return;
    }
    ex.sent = request.len();
    let mut buf = [0u8; 4096];
    while ex.answer.len() < limits.max_answer {
        if timeout(s, deadline).is_err() {
            ex.timed_out = true;
            break;
        }
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                let room = limits.max_answer.saturating_sub(ex.answer.len());
                ex.answer
                    .extend_from_slice(buf.get(..n.min(room)).unwrap_or_default());
                if enough(&ex.answer) {
                    break;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                ex.timed_out = true;
                break;
            }
            Err(e) => {
                ex.error = Some(format!("read: {e}"));
                break;
            }
        }
    }
}

/// Sets the socket's timeouts to what is left before `deadline` (an error once it passed).
fn set_timeout(s: &TcpStream, deadline: Instant) -> io::Result<()> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return Err(io::Error::new(io::ErrorKind::TimedOut, "deadline"));
    }
    s.set_read_timeout(Some(left))?;
    s.set_write_timeout(Some(left))
}

/// A socket that keeps a copy of the first bytes it reads: when a TLS handshake fails, they
/// are what the server said instead (a plaintext pool answers a ClientHello with Stratum
/// errors).
struct Recorder {
    inner: TcpStream,
    seen: Vec<u8>,
    keep: usize,
}

impl Read for Recorder {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let room = self.keep.saturating_sub(self.seen.len());
        self.seen
            .extend_from_slice(buf.get(..n.min(room)).unwrap_or_default());
        Ok(n)
    }
}

impl Write for Recorder {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.inner.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// The client configuration: ring, TLS 1.2 and 1.3, any certificate (signatures over the
/// handshake are still checked against the certificate presented).
fn tls_config() -> Arc<ClientConfig> {
    static CONFIG: std::sync::OnceLock<Arc<ClientConfig>> = std::sync::OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let verifier = Arc::new(AnyCertificate(provider.clone()));
            let config = ClientConfig::builder_with_provider(provider)
                .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
                .map(|b| {
                    b.dangerous()
                        .with_custom_certificate_verifier(verifier)
                        .with_no_client_auth()
                });
            match config {
                Ok(c) => Arc::new(c),
                // Both versions are built into rustls with ring: this cannot fail.
                Err(e) => unreachable!("rustls refused its own protocol versions: {e}"),
            }
        })
        .clone()
}

/// Accepts any server certificate: the probe asks what the server is, not whom to trust.
#[derive(Debug)]
struct AnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
