//! Authentication: argon2 password hashes, sessions (an HttpOnly, SameSite=Strict cookie plus a
//! CSRF secret that every state-changing request made with the cookie must echo in
//! `X-CSRF-Token`), API tokens for machines (`Authorization: Bearer …`), and a bounded
//! rate limit on failed log-ins.

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
/// Failed log-ins allowed per client address within [`WINDOW_S`] (a whole office behind one
/// address mistyping its passwords stays far below it; guessing across many names does not).
pub const MAX_FAILURES_PER_ADDRESS: u32 = 30;
/// The rate-limit window.
pub const WINDOW_S: i64 = 300;
/// Counters per row of each table; two rows of 2^20 four-byte cells: 8 MiB per table, fixed.
/// Sized so that a flood does not hold names it never typed. By the Poisson arithmetic (not
/// measured): with a million failures inside one window (30 each from 33,000 addresses) a
/// bucket holds λ ≈ 1 of them, P(≥ 5) ≈ 0.004, both of a name's buckets ≈ 10^-5; with four
/// million, λ ≈ 4 and one name in seven. Measured: 200,000 names, one failure each from its
/// own address, hold fewer than 5 % of untouched names (the limiter's unit test).
pub const BUCKETS: usize = 1 << 20;

/// Minutes since the epoch, 25 bits of them (wrapping every 63 years).
const MINUTE_BITS: u32 = 25;
const COUNT_BITS: u32 = 7;
const COUNT_MAX: u32 = (1 << COUNT_BITS) - 1;
const MINUTE_MASK: u32 = (1 << MINUTE_BITS) - 1;

/// Failures counted in a fixed table of windows, addressed by two keyed hashes of the key (a
/// count-min sketch): no entry is ever evicted, so a flood of new names cannot empty the table
/// of a locked-out name, and the memory never grows. A flood raises the counters of random
/// buckets instead; a name is held only when both its buckets are full, and the hash keys are
/// random per process, so nobody can aim at another name's buckets. A cell packs the window's
/// first minute (25 bits) and its failures (7 bits, saturating).
struct Sketch {
    keys: [std::collections::hash_map::RandomState; 2],
    cells: Vec<u32>,
}

fn minute(now: i64) -> u32 {
    (now.div_euclid(60) as u64 as u32) & MINUTE_MASK
}

/// Failures in a cell whose window is still open at `now`.
fn live(cell: u32, now: i64) -> u32 {
    let start = cell >> COUNT_BITS;
    let age_min = minute(now).wrapping_sub(start) & MINUTE_MASK;
    if cell != 0 && i64::from(age_min) * 60 < WINDOW_S {
        cell & COUNT_MAX
    } else {
        0
    }
}

impl Sketch {
    fn new() -> Sketch {
        Sketch {
            keys: [Default::default(), Default::default()],
            cells: vec![0; 2 * BUCKETS],
        }
    }

    fn slots(&self, key: &[u8]) -> [usize; 2] {
        use std::hash::BuildHasher;
        let [k0, k1] = &self.keys;
        let at = |row: usize, k: &std::collections::hash_map::RandomState| {
            row * BUCKETS + (k.hash_one(key) as usize % BUCKETS)
        };
        [at(0, k0), at(1, k1)]
    }

    /// Failures within the window for `key` (the smaller of its two buckets).
    fn count(&self, key: &[u8], now: i64) -> u32 {
        self.slots(key)
            .iter()
            .map(|&i| self.cells.get(i).map_or(0, |&c| live(c, now)))
            .min()
            .unwrap_or(0)
    }

    fn add(&mut self, key: &[u8], now: i64) {
        for i in self.slots(key) {
            if let Some(c) = self.cells.get_mut(i) {
                let n = live(*c, now);
                let start = if n == 0 {
                    minute(now)
                } else {
                    *c >> COUNT_BITS
                };
                *c = (start << COUNT_BITS) | (n + 1).min(COUNT_MAX);
            }
        }
    }

    fn clear(&mut self, key: &[u8]) {
        for i in self.slots(key) {
            if let Some(c) = self.cells.get_mut(i) {
                *c = 0;
            }
        }
    }
}

/// Why a log-in attempt is held back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Held {
    /// Too many failures for this name.
    Name,
    /// Too many failures from this client address.
    Address,
}

/// Failed log-ins per name and per client address, in fixed memory (see [`Sketch`]).
pub struct LoginLimiter {
    tables: Mutex<(Sketch, Sketch)>,
}

impl Default for LoginLimiter {
    fn default() -> Self {
        LoginLimiter {
            tables: Mutex::new((Sketch::new(), Sketch::new())),
        }
    }
}

/// The key of a client address: IPv6 clients by their /64, which one host controls whole.
fn address_key(addr: Option<std::net::IpAddr>) -> Vec<u8> {
    match addr {
        Some(std::net::IpAddr::V4(a)) => a.octets().to_vec(),
        Some(std::net::IpAddr::V6(a)) => a.octets()[..8].to_vec(),
        None => Vec::new(),
    }
}

impl LoginLimiter {
    /// Whether `name` may try now from `addr` (None when the connection's address is unknown).
    pub fn check(&self, name: &str, addr: Option<std::net::IpAddr>, now: i64) -> Result<(), Held> {
        let t = self.tables.lock().unwrap_or_else(|e| e.into_inner());
        if t.1.count(&address_key(addr), now) >= MAX_FAILURES_PER_ADDRESS {
            return Err(Held::Address);
        }
        if t.0.count(name.as_bytes(), now) >= MAX_FAILURES {
            return Err(Held::Name);
        }
        Ok(())
    }

    /// Counts a failure against the name and the address.
    pub fn failed(&self, name: &str, addr: Option<std::net::IpAddr>, now: i64) {
        let mut t = self.tables.lock().unwrap_or_else(|e| e.into_inner());
        t.0.add(name.as_bytes(), now);
        t.1.add(&address_key(addr), now);
    }

    /// Forgets a name's failures (after a success); the address keeps its count.
    pub fn succeeded(&self, name: &str) {
        let mut t = self.tables.lock().unwrap_or_else(|e| e.into_inner());
        t.0.clear(name.as_bytes());
    }

    /// Bytes the limiter holds: fixed, whatever it was sent.
    pub fn memory(&self) -> usize {
        let t = self.tables.lock().unwrap_or_else(|e| e.into_inner());
        (t.0.cells.capacity() + t.1.cells.capacity()) * std::mem::size_of::<u32>()
    }
}

/// An argon2id hash of no one's password, made once: names that do not exist are checked
/// against it, so that a wrong name costs the same time as a wrong password.
pub fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| {
        hash_password("no user has this password").unwrap_or_else(|_| {
            // Without randomness the fixed salt still costs a full argon2 run.
            "$argon2id$v=19$m=19456,t=2,p=1$bm8tcmFuZG9tbmVzcw$\
             0000000000000000000000000000000000000000000"
                .into()
        })
    })
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
            let user = state.db(move |c| users::by_token(c, &token, now)).await?;
            // A token is a credential of its own, made for a machine: the one-time password
            // binds the person's sessions, not the tokens an administrator made for them.
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
        must_change_first(
            Principal {
                user,
                csrf: Some(csrf),
            },
            parts,
        )
    }
}

/// What a user whose password is a one-time one may reach: who they are, the change of
/// password, logging out.
pub const BEFORE_PASSWORD_CHANGE: [&str; 3] = ["/api/v1/me", "/api/v1/password", "/api/v1/logout"];

/// Holds a session of a user with a one-time password to changing it: every other request is
/// refused.
fn must_change_first(p: Principal, parts: &Parts) -> Result<Principal, ApiError> {
    if p.user.must_change_password && !BEFORE_PASSWORD_CHANGE.contains(&parts.uri.path()) {
        return Err(ApiError::Forbidden(
            "the password is a one-time password: change it first (POST /api/v1/password)".into(),
        ));
    }
    Ok(p)
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
        let me: Option<std::net::IpAddr> = Some("192.0.2.10".parse().unwrap());
        for _ in 0..MAX_FAILURES {
            assert_eq!(l.check("li", me, 0), Ok(()));
            l.failed("li", me, 0);
        }
        assert_eq!(l.check("li", me, 10), Err(Held::Name));
        assert_eq!(l.check("li", me, WINDOW_S + 60), Ok(()));
        let before = l.memory();
        // Flood it with new names from many addresses: the locked name stays locked, the
        // memory does not move, and other names are not held by the flood's failures.
        for _ in 0..MAX_FAILURES {
            l.failed("wang", me, 1000);
        }
        for i in 0..200_000u32 {
            let from = std::net::IpAddr::from(i.to_be_bytes());
            l.failed(&format!("n{i}"), Some(from), 1000 + i64::from(i % 7));
        }
        assert_eq!(l.check("wang", None, 1100), Err(Held::Name));
        assert_eq!(l.memory(), before);
        let held = (0..1000)
            .filter(|i| l.check(&format!("other{i}"), None, 1100).is_err())
            .count();
        assert!(
            held < 50,
            "{held} of 1000 untouched names held by the flood"
        );
    }

    #[test]
    fn the_limiter_holds_an_address_that_guesses_across_names() {
        let l = LoginLimiter::default();
        let guesser: Option<std::net::IpAddr> = Some("2001:db8::1".parse().unwrap());
        let same_64: Option<std::net::IpAddr> = Some("2001:db8::2".parse().unwrap());
        for i in 0..MAX_FAILURES_PER_ADDRESS {
            assert_eq!(l.check(&format!("name{i}"), guesser, 0), Ok(()));
            l.failed(&format!("name{i}"), guesser, 0);
        }
        assert_eq!(l.check("fresh", guesser, 1), Err(Held::Address));
        assert_eq!(l.check("fresh", same_64, 1), Err(Held::Address));
        assert_eq!(
            l.check("fresh", Some("192.0.2.1".parse().unwrap()), 1),
            Ok(())
        );
    }

    #[test]
    fn unknown_names_are_checked_against_a_real_hash() {
        assert!(dummy_hash().starts_with("$argon2id$"));
        assert!(!check_password("anything", dummy_hash()));
    }
}
