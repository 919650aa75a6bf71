//! Authentication: argon2 password hashes, sessions (an HttpOnly, SameSite=Strict cookie plus a
//! CSRF secret that every state-changing request made with the cookie must echo in
//! `X-CSRF-Token`), API tokens for machines (`Authorization: Bearer …`), and a bounded
//! rate limit on failed log-ins.

use std::collections::HashMap;
use std::sync::Mutex;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{Method, header};
use minewatch_store::users::{self, User};

use crate::{ApiError, AppState};

/// Name of the session cookie.
pub const COOKIE: &str = "mw_session";
/// Header carrying the CSRF secret.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// Session lifetime.
pub const SESSION_TTL_S: i64 = 8 * 3600;

/// `n` random bytes as hex.
pub fn random_hex(n: usize) -> Result<String, ApiError> {
    let mut b = vec![0u8; n];
    getrandom::fill(&mut b).map_err(|e| ApiError::Internal(format!("no randomness: {e}")))?;
    Ok(hex::encode(b))
}

/// An argon2id hash of a password (PHC string).
pub fn hash_password(password: &str) -> Result<String, ApiError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| ApiError::Internal(format!("no randomness: {e}")))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| ApiError::Internal(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ApiError::Internal(e.to_string()))
}

/// True when the password matches the stored hash.
pub fn check_password(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Failed log-ins allowed per name within [`WINDOW_S`].
pub const MAX_FAILURES: u32 = 5;
/// The rate-limit window.
pub const WINDOW_S: i64 = 300;
/// Names tracked at most; when full, the oldest windows are dropped.
pub const TRACKED_NAMES: usize = 10_000;

/// Failed log-ins per name, bounded.
#[derive(Default)]
pub struct LoginLimiter {
    failures: Mutex<HashMap<String, (u32, i64)>>,
}

impl LoginLimiter {
    /// True when the name may try now.
    pub fn allowed(&self, name: &str, now: i64) -> bool {
        self.failures
            .lock()
            .map(|m| match m.get(name) {
                Some(&(n, start)) => n < MAX_FAILURES || now - start >= WINDOW_S,
                None => true,
            })
            .unwrap_or(false)
    }
    /// Counts a failure.
    pub fn failed(&self, name: &str, now: i64) {
        if let Ok(mut m) = self.failures.lock() {
            if m.len() >= TRACKED_NAMES && !m.contains_key(name) {
                m.retain(|_, (_, start)| now - *start < WINDOW_S);
                if m.len() >= TRACKED_NAMES {
                    // Still full of live windows: drop the oldest half rather than grow.
                    let mut starts: Vec<i64> = m.values().map(|v| v.1).collect();
                    starts.sort_unstable();
                    let cut = starts[starts.len() / 2];
                    m.retain(|_, (_, start)| *start > cut);
                }
            }
            let e = m.entry(name.to_string()).or_insert((0, now));
            if now - e.1 >= WINDOW_S {
                *e = (0, now);
            }
            e.0 += 1;
        }
    }
    /// Forgets a name's failures (after a success).
    pub fn succeeded(&self, name: &str) {
        if let Ok(mut m) = self.failures.lock() {
            m.remove(name);
        }
    }
    /// Names tracked now.
    pub fn tracked(&self) -> usize {
        self.failures.lock().map(|m| m.len()).unwrap_or(0)
    }
}

/// The authenticated caller of a request.
#[derive(Clone, Debug)]
pub struct Principal {
    /// Who.
    pub user: User,
    /// The session's CSRF secret (None for API tokens).
    pub csrf: Option<String>,
}

/// A cookie's value from request headers.
pub fn cookie(headers: &axum::http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// The session token from the request's cookies.
pub fn session_cookie(headers: &axum::http::HeaderMap) -> Option<String> {
    cookie(headers, COOKIE)
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let now = minewatch_store::time::now();
        let bearer = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::to_string);
        if let Some(token) = bearer {
            let user = state.db(move |c| users::by_token(c, &token)).await?;
            return user
                .map(|user| Principal { user, csrf: None })
                .ok_or(ApiError::Unauthenticated);
        }
        let Some(token) = session_cookie(&parts.headers) else {
            return Err(ApiError::Unauthenticated);
        };
        let (user, csrf) = state
            .db(move |c| users::session(c, &token, now))
            .await?
            .ok_or(ApiError::Unauthenticated)?;
        // A cookie rides along with any request the browser makes; only a page of ours
        // knows the CSRF secret to echo.
        if !matches!(parts.method, Method::GET | Method::HEAD) {
            let sent = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
            if sent != Some(csrf.as_str()) {
                return Err(ApiError::Forbidden("missing or wrong CSRF token".into()));
            }
        }
        Ok(Principal {
            user,
            csrf: Some(csrf),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_and_verify() {
        let h = hash_password("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(check_password("correct horse", &h));
        assert!(!check_password("wrong", &h));
        assert!(!check_password("x", "not a hash"));
    }

    #[test]
    fn the_limiter_blocks_after_failures_and_stays_bounded() {
        let l = LoginLimiter::default();
        for _ in 0..MAX_FAILURES {
            assert!(l.allowed("li", 0));
            l.failed("li", 0);
        }
        assert!(!l.allowed("li", 10));
        assert!(l.allowed("li", WINDOW_S));
        // Flood it with names: it never tracks more than its cap.
        for i in 0..(TRACKED_NAMES + 5000) {
            l.failed(&format!("n{i}"), 100 + (i as i64 % 7));
        }
        assert!(l.tracked() <= TRACKED_NAMES, "{}", l.tracked());
    }
}
