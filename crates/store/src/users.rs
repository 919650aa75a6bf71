//! People: users with a role and a region scope, their sessions and API tokens, and what they
//! add to cases (notes, inspection outcomes). Secrets are stored only as hashes: passwords as
//! argon2 strings made by the server, session and API tokens as SHA-256 of the token.

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::StoreError;
use crate::db::{Conn, Row};

/// A department role.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// ISP and communications regulator staff: network evidence.
    Network,
    /// Grid company staff: meters, sites, site checks.
    Grid,
    /// Financial regulators: wallets and traces.
    Finance,
    /// Police: everything in their region.
    Police,
    /// The coordination office: runs the cases.
    Coordination,
    /// External evaluator: figures, no personal data, read only.
    Auditor,
    /// Administrators: users and everything else.
    Admin,
}

/// Every role.
pub const ROLES: [Role; 7] = [
    Role::Network,
    Role::Grid,
    Role::Finance,
    Role::Police,
    Role::Coordination,
    Role::Auditor,
    Role::Admin,
];

impl Role {
    /// The role's name.
    pub fn name(self) -> &'static str {
        match self {
            Role::Network => "network",
            Role::Grid => "grid",
            Role::Finance => "finance",
            Role::Police => "police",
            Role::Coordination => "coordination",
            Role::Auditor => "auditor",
            Role::Admin => "admin",
        }
    }
    /// Parses a role's name.
    pub fn parse(s: &str) -> Option<Role> {
        ROLES.into_iter().find(|r| r.name() == s)
    }
}

/// A user.
#[derive(Clone, Debug, Serialize)]
pub struct User {
    /// Number.
    pub user_id: i64,
    /// Log-in name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// Region scope: a GB/T 2260 prefix, empty for everywhere.
    pub region: String,
    /// Disabled users cannot log in.
    pub disabled: bool,
    /// The password is a one-time one: until it is changed, the user may do nothing else.
    pub must_change_password: bool,
}

fn user_from(r: &Row) -> Result<User, StoreError> {
    Ok(User {
        user_id: r.int(0),
        name: r.text(1),
        role: Role::parse(&r.text(2)).ok_or_else(|| {
            StoreError::Invalid(format!("user {} has unknown role {}", r.text(1), r.text(2)))
        })?,
        region: r.text(3),
        disabled: r.int(4) != 0,
        must_change_password: r.int(5) != 0,
    })
}

const USER_COLUMNS: &str =
    "u.user_id, u.name, u.role, u.region, u.disabled, u.must_change_password";

/// SHA-256 of a token, as stored.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Adds a user with an already-made password hash; refuses a name taken.
pub fn add(
    c: &mut Conn,
    name: &str,
    role: Role,
    region: &str,
    password_hash: &str,
    at: i64,
) -> Result<i64, StoreError> {
    if name.trim().is_empty()
        || name.len() > 64
        || name.chars().any(|ch| ch.is_whitespace() || ch.is_control())
    {
        return Err(StoreError::Invalid(format!(
            "user name '{name}' must be 1 to 64 characters without spaces"
        )));
    }
    if !region.is_empty() {
        crate::registry::check_region(region).map_err(StoreError::Invalid)?;
    }
    if c.query_one("SELECT 1 FROM users WHERE name = ?", &[name.into()])?
        .is_some()
    {
        return Err(StoreError::Invalid(format!("user {name} exists already")));
    }
    let r = c
        .query_one(
            "INSERT INTO users (name, role, region, password_hash, created_at, \
             must_change_password) VALUES (?, ?, ?, ?, ?, 0) RETURNING user_id",
            &[
                name.into(),
                role.name().into(),
                region.into(),
                password_hash.into(),
                at.into(),
            ],
        )?
        .ok_or_else(|| StoreError::Invalid("user insert returned no id".into()))?;
    Ok(r.int(0))
}

/// A user and their password hash, by name.
pub fn by_name(c: &mut Conn, name: &str) -> Result<Option<(User, String)>, StoreError> {
    c.query_one(
        &format!("SELECT {USER_COLUMNS}, u.password_hash FROM users u WHERE u.name = ?"),
        &[name.into()],
    )?
    .map(|r| Ok((user_from(&r)?, r.text(6))))
    .transpose()
}

/// Every user.
pub fn list(c: &mut Conn) -> Result<Vec<User>, StoreError> {
    c.query(
        &format!("SELECT {USER_COLUMNS} FROM users u ORDER BY u.name"),
        &[],
    )?
    .iter()
    .map(user_from)
    .collect()
}

/// Starts a session for a token (stored hashed) with its CSRF secret.
pub fn open_session(
    c: &mut Conn,
    token: &str,
    user_id: i64,
    csrf: &str,
    now: i64,
    ttl_s: i64,
) -> Result<(), StoreError> {
    c.execute("DELETE FROM sessions WHERE expires_at < ?", &[now.into()])?;
    c.execute(
        "INSERT INTO sessions (token_hash, user_id, csrf, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
        &[token_hash(token).into(), user_id.into(), csrf.into(), now.into(), (now + ttl_s).into()],
    )?;
    Ok(())
}

/// The user behind a live session token, with its CSRF secret.
pub fn session(c: &mut Conn, token: &str, now: i64) -> Result<Option<(User, String)>, StoreError> {
    c.query_one(
        &format!(
            "SELECT {USER_COLUMNS}, s.csrf FROM sessions s JOIN users u ON u.user_id = s.user_id \
             WHERE s.token_hash = ? AND s.expires_at > ? AND u.disabled = 0"
        ),
        &[token_hash(token).into(), now.into()],
    )?
    .map(|r| Ok((user_from(&r)?, r.text(6))))
    .transpose()
}

/// Ends a session.
pub fn close_session(c: &mut Conn, token: &str) -> Result<(), StoreError> {
    c.execute(
        "DELETE FROM sessions WHERE token_hash = ?",
        &[token_hash(token).into()],
    )?;
    Ok(())
}

/// Records an API token (stored hashed) for a user, valid until `expires_at`; returns its
/// public id (the first 12 hex digits of its hash, which say nothing of the token).
pub fn add_token(
    c: &mut Conn,
    user_id: i64,
    token: &str,
    label: &str,
    now: i64,
    expires_at: i64,
) -> Result<String, StoreError> {
    let hash = token_hash(token);
    c.execute(
        "INSERT INTO api_tokens (token_hash, user_id, label, created_at, expires_at) \
         VALUES (?, ?, ?, ?, ?)",
        &[
            hash.as_str().into(),
            user_id.into(),
            label.into(),
            now.into(),
            expires_at.into(),
        ],
    )?;
    Ok(token_id(&hash))
}

/// The public id of a token from its stored hash.
fn token_id(hash: &str) -> String {
    hash.get(..12).unwrap_or(hash).to_string()
}

/// The user behind a live API token: not revoked, not expired, the user not disabled.
pub fn by_token(c: &mut Conn, token: &str, now: i64) -> Result<Option<User>, StoreError> {
    c.query_one(
        &format!(
            "SELECT {USER_COLUMNS} FROM api_tokens t JOIN users u ON u.user_id = t.user_id \
             WHERE t.token_hash = ? AND u.disabled = 0 AND t.revoked_at IS NULL \
             AND t.expires_at > ?"
        ),
        &[token_hash(token).into(), now.into()],
    )?
    .map(|r| user_from(&r))
    .transpose()
}

/// An API token as listed (never the token itself).
#[derive(Clone, Debug, Serialize)]
pub struct TokenInfo {
    /// Public id (first 12 hex digits of the token's hash).
    pub id: String,
    /// Whose.
    pub user: String,
    /// What it is for.
    pub label: String,
    /// Made at (Unix seconds).
    pub created_at: i64,
    /// Valid until (Unix seconds).
    pub expires_at: i64,
    /// Revoked at, if it was.
    pub revoked_at: Option<i64>,
}

/// The tokens of one user (or everyone's).
pub fn tokens(c: &mut Conn, user: Option<&str>) -> Result<Vec<TokenInfo>, StoreError> {
    let rows = c.query(
        "SELECT t.token_hash, u.name, t.label, t.created_at, COALESCE(t.expires_at, 0), \
         t.revoked_at FROM api_tokens t JOIN users u ON u.user_id = t.user_id \
         WHERE (? = '' OR u.name = ?) ORDER BY u.name, t.created_at",
        &[user.unwrap_or("").into(), user.unwrap_or("").into()],
    )?;
    Ok(rows
        .iter()
        .map(|r| TokenInfo {
            id: token_id(&r.text(0)),
            user: r.text(1),
            label: r.text(2),
            created_at: r.int(3),
            expires_at: r.int(4),
            revoked_at: r.opt_int(5),
        })
        .collect())
}

/// Revokes the live token whose public id is `id`; returns its owner's name, or None when no
/// live token has that id.
pub fn revoke_token(c: &mut Conn, id: &str, now: i64) -> Result<Option<String>, StoreError> {
    if id.len() != 12 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(StoreError::Invalid(format!(
            "token id '{id}' is not the 12 hex digits `users tokens list` shows"
        )));
    }
    let owner = c.query_one(
        "SELECT u.name FROM api_tokens t JOIN users u ON u.user_id = t.user_id \
         WHERE substr(t.token_hash, 1, 12) = ? AND t.revoked_at IS NULL",
        &[id.to_ascii_lowercase().into()],
    )?;
    let Some(owner) = owner else { return Ok(None) };
    c.execute(
        "UPDATE api_tokens SET revoked_at = ? WHERE substr(token_hash, 1, 12) = ? \
         AND revoked_at IS NULL",
        &[now.into(), id.to_ascii_lowercase().into()],
    )?;
    Ok(Some(owner.text(0)))
}

/// Disables or enables a user; disabling also ends their sessions. Returns false when there
/// is no such user.
pub fn set_disabled(c: &mut Conn, name: &str, disabled: bool) -> Result<bool, StoreError> {
    let n = c.execute(
        "UPDATE users SET disabled = ? WHERE name = ?",
        &[i64::from(disabled).into(), name.into()],
    )?;
    if disabled {
        c.execute(
            "DELETE FROM sessions WHERE user_id IN (SELECT user_id FROM users WHERE name = ?)",
            &[name.into()],
        )?;
    }
    Ok(n > 0)
}

/// Sets a user's password hash; `one_time` marks it to be changed at the next log-in. Every
/// session of the user ends. Returns false when there is no such user.
pub fn set_password(
    c: &mut Conn,
    name: &str,
    password_hash: &str,
    one_time: bool,
) -> Result<bool, StoreError> {
    let n = c.execute(
        "UPDATE users SET password_hash = ?, must_change_password = ? WHERE name = ?",
        &[
            password_hash.into(),
            i64::from(one_time).into(),
            name.into(),
        ],
    )?;
    c.execute(
        "DELETE FROM sessions WHERE user_id IN (SELECT user_id FROM users WHERE name = ?)",
        &[name.into()],
    )?;
    Ok(n > 0)
}

/// A note on a case.
#[derive(Clone, Debug, Serialize)]
pub struct Note {
    /// When (RFC 3339).
    pub at: String,
    /// Who.
    pub author: String,
    /// What.
    pub text: String,
}

/// Adds a note to a case.
pub fn add_note(
    c: &mut Conn,
    case_id: i64,
    author: &str,
    text: &str,
    at: i64,
) -> Result<(), StoreError> {
    c.execute(
        "INSERT INTO case_notes (case_id, at, author, text) VALUES (?, ?, ?, ?)",
        &[case_id.into(), at.into(), author.into(), text.into()],
    )?;
    Ok(())
}

/// A case's notes, oldest first.
pub fn notes(c: &mut Conn, case_id: i64) -> Result<Vec<Note>, StoreError> {
    Ok(c.query(
        "SELECT at, author, text FROM case_notes WHERE case_id = ? ORDER BY at, note_id",
        &[case_id.into()],
    )?
    .iter()
    .map(|r| Note {
        at: crate::time::format_instant(r.int(0)),
        author: r.text(1),
        text: r.text(2),
    })
    .collect())
}

/// An inspection outcome.
#[derive(Clone, Debug, Serialize)]
pub struct Inspection {
    /// When (RFC 3339).
    pub at: String,
    /// Who inspected.
    pub inspector: String,
    /// Mining found.
    pub mining: bool,
    /// Machines counted.
    pub machines: Option<i64>,
    /// Load measured on site, kW.
    pub measured_kw: Option<f64>,
    /// Remarks.
    pub notes: String,
}

/// Records an inspection outcome.
pub fn add_inspection(
    c: &mut Conn,
    case_id: i64,
    i: &Inspection,
    at: i64,
) -> Result<(), StoreError> {
    c.execute(
        "INSERT INTO inspections (case_id, at, inspector, mining, machines, measured_kw, notes) \
         VALUES (?, ?, ?, ?, ?, ?, ?)",
        &[
            case_id.into(),
            at.into(),
            i.inspector.as_str().into(),
            i.mining.into(),
            i.machines.into(),
            i.measured_kw.into(),
            i.notes.as_str().into(),
        ],
    )?;
    Ok(())
}

/// Every inspection's outcome by meter, oldest first: (meter, when, mining found), as
/// `power scan --inspections` reads them back.
pub fn inspection_outcomes(c: &mut Conn) -> Result<Vec<(String, i64, bool)>, StoreError> {
    Ok(c.query(
        "SELECT m.meter_id, i.at, i.mining FROM inspections i \
             JOIN cases c ON c.case_id = i.case_id JOIN meters m ON m.site_id = c.site_id \
             ORDER BY i.at, m.meter_id",
        &[],
    )?
    .iter()
    .map(|r| (r.text(0), r.int(1), r.int(2) != 0))
    .collect())
}

/// A case's inspections, oldest first.
pub fn inspections(c: &mut Conn, case_id: i64) -> Result<Vec<Inspection>, StoreError> {
    Ok(c.query(
        "SELECT at, inspector, mining, machines, measured_kw, notes FROM inspections \
             WHERE case_id = ? ORDER BY at, inspection_id",
        &[case_id.into()],
    )?
    .iter()
    .map(|r| Inspection {
        at: crate::time::format_instant(r.int(0)),
        inspector: r.text(1),
        mining: r.int(2) != 0,
        machines: r.opt_int(3),
        measured_kw: r.opt_real(4),
        notes: r.text(5),
    })
    .collect())
}
