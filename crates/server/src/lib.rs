//! The departments' REST API over the store, with authentication, role and region scope,
//! masking of personal data and the audit log.
//!
//! Every request passes through [`auth::Principal`]: no handler runs for an unknown caller, and
//! a handler receives the caller's role and region scope with the request, so the checks in
//! [`access`] are made where the data is chosen. Store calls are synchronous and run on the
//! blocking pool, one pooled connection each.

pub mod access;
pub mod accounts;
pub mod api;
pub mod auth;
pub mod cache;
pub mod changes;
pub mod extract;
pub mod pool;
pub mod ui;
pub mod upload;

use std::sync::Arc;

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use minewatch_store::{Conn, StoreError};
use serde::Serialize;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    /// Store connections.
    pub pool: Arc<pool::Pool>,
    /// Log-in attempts by name, for rate limiting.
    pub limiter: Arc<auth::LoginLimiter>,
    /// Regional reports by region scope.
    pub reports: Arc<cache::FreshCache<Option<String>, Arc<minewatch_store::report::Report>>>,
    /// Numbers of cases matching a list filter, by the filter's text.
    pub counts: Arc<cache::FreshCache<String, i64>>,
    /// Served over TLS: cookies are `Secure` and answers carry HSTS.
    pub secure: bool,
}

/// Region scopes whose reports are kept at most.
pub const REPORT_SCOPES: usize = 64;
/// List filters whose counts are kept at most.
pub const COUNTED_FILTERS: usize = 1024;

impl AppState {
    /// Something changed through the server: cached figures are stale.
    pub fn changed(&self) {
        self.reports.invalidate();
        self.counts.invalidate();
    }

    /// Opens the store (migrating it once) and prepares the state.
    pub fn new(target: &str) -> Result<AppState, StoreError> {
        minewatch_store::Store::open(target)?;
        Ok(AppState {
            pool: Arc::new(pool::Pool::new(target, pool::MAX_IDLE)),
            limiter: Arc::new(auth::LoginLimiter::default()),
            reports: Arc::new(cache::FreshCache::new(REPORT_SCOPES)),
            counts: Arc::new(cache::FreshCache::new(COUNTED_FILTERS)),
            secure: false,
        })
    }

    /// Runs store work on the blocking pool with a pooled connection.
    pub async fn db<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Conn) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            let mut c = pool.get()?;
            let r = f(&mut c);
            pool.put(c);
            r
        })
        .await
        .map_err(|e| ApiError::Internal(format!("store task failed: {e}")))?
        .map_err(ApiError::from)
    }
}

/// An error as the API answers it: a status and `{"error": "…"}`.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the request is malformed or asks for something impossible.
    #[error("{0}")]
    BadRequest(String),
    /// 401: no valid credentials.
    #[error("authentication required")]
    Unauthenticated,
    /// 403: authenticated, but not allowed.
    #[error("{0}")]
    Forbidden(String),
    /// 404: no such thing (or not in the caller's scope).
    #[error("{0}")]
    NotFound(String),
    /// 405: the path does not take the method.
    #[error("{0}")]
    MethodNotAllowed(String),
    /// 409: the lifecycle refuses the change.
    #[error("{0}")]
    Conflict(String),
    /// 415: a body in a content type the operation does not take.
    #[error("{0}")]
    UnsupportedMedia(String),
    /// 429: too many attempts.
    #[error("{0}")]
    TooMany(String),
    /// 500: our fault.
    #[error("{0}")]
    Internal(String),
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::NoCase(id) => ApiError::NotFound(format!("no case {id}")),
            StoreError::Missing(m) => ApiError::NotFound(m),
            e @ StoreError::IllegalTransition { .. } => ApiError::Conflict(e.to_string()),
            StoreError::Invalid(m) => ApiError::BadRequest(m),
            e => ApiError::Internal(e.to_string()),
        }
    }
}

/// The body of an error answer.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// What went wrong.
    pub error: String,
    /// For a server fault: the id under which the server's log has the details (which are
    /// never sent: they may hold store or SQL text).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// A fresh id for a server fault, to match an answer with the log line.
fn fault_id() -> String {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let salt = auth::random_hex(4).unwrap_or_default();
    format!("{salt}-{n}")
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = match &self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthenticated => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::UnsupportedMedia(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::TooMany(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        let body = match self {
            ApiError::Internal(detail) => {
                let id = fault_id();
                eprintln!("minewatch serve: request {id}: internal error: {detail}");
                ErrorBody {
                    error: format!(
                        "internal error (request {id}; the server's log has the details)"
                    ),
                    request_id: Some(id),
                }
            }
            other => ErrorBody {
                error: other.to_string(),
                request_id: None,
            },
        };
        (status, Json(body)).into_response()
    }
}

/// The application: API routes, the OpenAPI document, the pages, shared state.
pub fn app(state: AppState) -> axum::Router {
    let secure = state.secure;
    api::routes()
        .merge(ui::router())
        .fallback(|| async { ApiError::NotFound("no such page or operation".into()) })
        .method_not_allowed_fallback(|| async {
            ApiError::MethodNotAllowed("this path does not take that method".into())
        })
        // Evidence uploads are read whole: bounded at 64 MiB (larger files: `minewatch ingest`).
        .layer(axum::extract::DefaultBodyLimit::max(api::UPLOAD_LIMIT))
        .with_state(state)
        .layer(axum::middleware::map_response(move |res: Response| {
            security_headers(res, secure)
        }))
}

/// The policy every answer carries: scripts, styles, images and requests only from this server
/// (the page script is a file, never inline; styles and drawings are inline), no framing by
/// other sites, no content-type guessing, no referrer beyond this server.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
    style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
    frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'";

/// `Strict-Transport-Security` when serving over TLS: a year, this host only.
pub const HSTS: &str = "max-age=31536000";

async fn security_headers(mut res: Response, secure: bool) -> Response {
    use axum::http::{HeaderValue, header};
    let h = res.headers_mut();
    if secure {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(HSTS),
        );
        // Every cookie this server sets travels over TLS only.
        let cookies: Vec<HeaderValue> = h.get_all(header::SET_COOKIE).iter().cloned().collect();
        if !cookies.is_empty() {
            h.remove(header::SET_COOKIE);
            for c in cookies {
                let secured = c
                    .to_str()
                    .ok()
                    .map(|v| format!("{v}; Secure"))
                    .and_then(|v| HeaderValue::from_str(&v).ok())
                    .unwrap_or(c);
                h.append(header::SET_COOKIE, secured);
            }
        }
    }
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    res
}

/// A certificate chain and its private key, PEM files, for serving over TLS.
#[derive(Clone, Debug)]
pub struct TlsFiles {
    /// The certificate chain.
    pub cert: std::path::PathBuf,
    /// The private key.
    pub key: std::path::PathBuf,
}

/// True when the address is a loopback one (plain HTTP there reaches no one else).
pub fn is_loopback(addr: &std::net::SocketAddr) -> bool {
    addr.ip().is_loopback()
}

/// The warning due when serving on `listen` without TLS reaches other hosts: passwords and
/// session cookies would cross the network readable; none over TLS or on loopback.
pub fn plain_http_warning(listen: &str, tls: bool) -> Option<String> {
    let loopback = listen
        .parse::<std::net::SocketAddr>()
        .is_ok_and(|s| is_loopback(&s));
    (!tls && !loopback).then(|| {
        format!(
            "WARNING: serving plain HTTP on {listen}, which is not a loopback address: \
             passwords and session cookies cross the network readable by anyone on the path. \
             Use --tls-cert and --tls-key, or a TLS proxy in front on the same host."
        )
    })
}

/// Serves the application on `listen` until the process is stopped; over TLS (rustls) when
/// given a certificate and key, with `Secure` cookies and HSTS.
pub async fn serve(target: &str, listen: &str, tls: Option<TlsFiles>) -> Result<(), ApiError> {
    let listener = std::net::TcpListener::bind(listen)
        .map_err(|e| ApiError::Internal(format!("cannot listen on {listen}: {e}")))?;
    serve_on(target, listener, tls).await
}

/// Serves the application on a bound listener (tests bind port 0 and read it back).
pub async fn serve_on(
    target: &str,
    listener: std::net::TcpListener,
    tls: Option<TlsFiles>,
) -> Result<(), ApiError> {
    // The store's clients are synchronous (PostgreSQL's runs its own runtime): never on ours.
    let t = target.to_string();
    let mut state = tokio::task::spawn_blocking(move || AppState::new(&t))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))??;
    state.secure = tls.is_some();
    listener
        .set_nonblocking(true)
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let service = app(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    match tls {
        Some(files) => {
            let config = tls_config(&files)?;
            axum_server::from_tcp_rustls(listener, config)
                .map_err(|e| ApiError::Internal(format!("cannot serve: {e}")))?
                .serve(service)
                .await
                .map_err(|e| ApiError::Internal(e.to_string()))
        }
        None => {
            let listener = tokio::net::TcpListener::from_std(listener)
                .map_err(|e| ApiError::Internal(e.to_string()))?;
            axum::serve(listener, service)
                .await
                .map_err(|e| ApiError::Internal(e.to_string()))
        }
    }
}

/// The rustls configuration from PEM files, with ring as the provider, HTTP/1.1 and HTTP/2.
fn tls_config(files: &TlsFiles) -> Result<axum_server::tls_rustls::RustlsConfig, ApiError> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let bad = |what: &str, p: &std::path::Path, e: &dyn std::fmt::Display| {
        ApiError::BadRequest(format!("{}: {what}: {e}", p.display()))
    };
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&files.cert)
        .map_err(|e| bad("not a PEM certificate file", &files.cert, &e))?
        .collect::<Result<_, _>>()
        .map_err(|e| bad("unreadable certificate", &files.cert, &e))?;
    if certs.is_empty() {
        return Err(bad("no certificate in the file", &files.cert, &"empty"));
    }
    let key = PrivateKeyDer::from_pem_file(&files.key)
        .map_err(|e| bad("no private key", &files.key, &e))?;
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| bad("certificate and key do not fit", &files.key, &e))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(axum_server::tls_rustls::RustlsConfig::from_config(
        std::sync::Arc::new(config),
    ))
}
