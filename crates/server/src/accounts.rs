//! Accounts over their life: made with a one-time password that must be changed, disabled and
//! enabled, passwords reset, API tokens made with an expiry and revoked. Each change is one
//! transaction with its audit entry, the same whether the CLI (`minewatch users …`) or an
//! administrator through the API asks for it.

use minewatch_store::users::{self, Role, TokenInfo, User};
use minewatch_store::{Conn, StoreError, audit};

use crate::auth;

/// The shortest password a user may choose.
pub const MIN_PASSWORD: usize = 12;
/// API tokens last this long unless asked otherwise (90 days).
pub const TOKEN_DAYS: i64 = 90;
/// The longest an API token may be asked to last (one year).
pub const MAX_TOKEN_DAYS: i64 = 366;

/// A failure to make a secret is the server's (500), not the request's (400).
fn internal(e: crate::ApiError) -> StoreError {
    StoreError::Internal(e.to_string())
}

fn one_time_password() -> Result<(String, String), StoreError> {
    let password = auth::random_hex(12).map_err(internal)?;
    let hash = auth::hash_password(&password).map_err(internal)?;
    Ok((password, hash))
}

fn no_user(name: &str) -> StoreError {
    StoreError::Missing(format!("no user {name}"))
}

/// Adds a user with a one-time password, which is returned (shown once, changed at the first
/// log-in).
pub fn add_user(
    c: &mut Conn,
    actor: &str,
    name: &str,
    role: Role,
    region: &str,
    now: i64,
) -> Result<String, StoreError> {
    let (password, hash) = one_time_password()?;
    c.transaction(|c| {
        let id = users::add(c, name, role, region, &hash, now)?;
        users::set_password(c, name, &hash, true)?;
        let detail = serde_json::json!({"name": name, "role": role.name(), "region": region});
        audit::append(
            c,
            now,
            actor,
            "user.add",
            &format!("user:{id}"),
            &detail.to_string(),
        )?;
        Ok(())
    })?;
    Ok(password)
}

/// Disables (or enables) a user; disabling ends their sessions, and their tokens stop working
/// while it lasts.
pub fn set_disabled(
    c: &mut Conn,
    actor: &str,
    name: &str,
    disabled: bool,
    now: i64,
) -> Result<(), StoreError> {
    c.transaction(|c| {
        if !users::set_disabled(c, name, disabled)? {
            return Err(no_user(name));
        }
        let action = if disabled {
            "user.disable"
        } else {
            "user.enable"
        };
        audit::append(c, now, actor, action, &format!("user:{name}"), "{}")?;
        Ok(())
    })
}

/// Gives a user a new one-time password (returned), ending their sessions.
pub fn reset_password(
    c: &mut Conn,
    actor: &str,
    name: &str,
    now: i64,
) -> Result<String, StoreError> {
    let (password, hash) = one_time_password()?;
    c.transaction(|c| {
        if !users::set_password(c, name, &hash, true)? {
            return Err(no_user(name));
        }
        audit::append(
            c,
            now,
            actor,
            "user.reset-password",
            &format!("user:{name}"),
            "{}",
        )?;
        Ok(())
    })?;
    Ok(password)
}

/// Checks a new password against the rules: long enough, not the old one.
pub fn check_new_password(old: &str, new: &str) -> Result<(), StoreError> {
    if new.chars().count() < MIN_PASSWORD || new.len() > 1024 {
        return Err(StoreError::Invalid(format!(
            "a password has {MIN_PASSWORD} to 1024 characters"
        )));
    }
    if new == old {
        return Err(StoreError::Invalid(
            "the new password is the old one".into(),
        ));
    }
    Ok(())
}

/// Sets a user's own new password (already checked against the old one by the caller) and
/// lifts the one-time mark; other sessions of the user end.
pub fn change_password(
    c: &mut Conn,
    user: &User,
    new_hash: &str,
    now: i64,
) -> Result<(), StoreError> {
    c.transaction(|c| {
        users::set_password(c, &user.name, new_hash, false)?;
        audit::append(
            c,
            now,
            &user.name,
            "user.change-password",
            &format!("user:{}", user.user_id),
            "{}",
        )?;
        Ok(())
    })
}

/// Makes an API token for a user, lasting `days` (1 to [`MAX_TOKEN_DAYS`]); returns its public
/// id and the token (shown once).
pub fn add_token(
    c: &mut Conn,
    actor: &str,
    name: &str,
    label: &str,
    days: i64,
    now: i64,
) -> Result<(String, String), StoreError> {
    if !(1..=MAX_TOKEN_DAYS).contains(&days) {
        return Err(StoreError::Invalid(format!(
            "a token lasts 1 to {MAX_TOKEN_DAYS} days"
        )));
    }
    let token = auth::random_hex(32).map_err(internal)?;
    let id = c.transaction(|c| {
        let Some((user, _)) = users::by_name(c, name)? else {
            return Err(no_user(name));
        };
        let id = users::add_token(c, user.user_id, &token, label, now, now + days * 86_400)?;
        let detail = serde_json::json!({"label": label, "id": id, "days": days});
        audit::append(
            c,
            now,
            actor,
            "token.add",
            &format!("user:{}", user.user_id),
            &detail.to_string(),
        )?;
        Ok(id)
    })?;
    Ok((id, token))
}

/// Revokes a token by its public id.
pub fn revoke_token(c: &mut Conn, actor: &str, id: &str, now: i64) -> Result<(), StoreError> {
    c.transaction(|c| {
        let Some(owner) = users::revoke_token(c, id, now)? else {
            return Err(StoreError::Missing(format!("no live token {id}")));
        };
        let detail = serde_json::json!({"id": id});
        audit::append(
            c,
            now,
            actor,
            "token.revoke",
            &format!("user:{owner}"),
            &detail.to_string(),
        )?;
        Ok(())
    })
}

/// The tokens of a user (or everyone's), never the tokens themselves.
pub fn tokens(c: &mut Conn, name: Option<&str>) -> Result<Vec<TokenInfo>, StoreError> {
    users::tokens(c, name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_the_server_cannot_make_is_its_own_fault() {
        let e = internal(crate::ApiError::Internal("no randomness".into()));
        assert!(matches!(e, StoreError::Internal(_)), "{e:?}");
        assert!(matches!(
            crate::ApiError::from(e),
            crate::ApiError::Internal(_)
        ));
        // What the caller got wrong stays the caller's.
        let bad = check_new_password("same", "same").unwrap_err();
        assert!(matches!(
            crate::ApiError::from(bad),
            crate::ApiError::BadRequest(_)
        ));
    }
}
