//! The changes people make to cases, one function each, behind the API's handlers (the UI's
//! pages send their changes to the API): the role check, the input check, the region scope, the
//! change and its audit entry, in one transaction.

use minewatch_store::cases::{self, State as CaseState};
use minewatch_store::users::{self, User};
use minewatch_store::{Conn, StoreError, audit, time};
use serde_json::{Value, json};

use crate::{ApiError, AppState, access};

/// Runs `f` on case `id` for `user` inside one transaction: the case must lie in the user's
/// region (else it does not exist for them), and the audit entry `action` with the detail `f`
/// returns is written beside the change.
pub async fn on_case<T: Send + 'static>(
    s: &AppState,
    user: &User,
    id: i64,
    action: &'static str,
    f: impl FnOnce(&mut Conn, &User, i64) -> Result<(T, Value), StoreError> + Send + 'static,
) -> Result<T, ApiError> {
    let user = user.clone();
    let done = s
        .db(move |c| {
            c.transaction(|c| {
                let case = cases::get(c, id)?;
                if !access::in_scope(&user, &case.region_code) {
                    return Err(StoreError::NoCase(id));
                }
                let now = time::now();
                let (out, detail) = f(c, &user, now)?;
                audit::append(
                    c,
                    now,
                    &user.name,
                    action,
                    &format!("case:{id}"),
                    &detail.to_string(),
                )?;
                Ok(out)
            })
        })
        .await;
    // Lifecycle steps move cases between the report's columns.
    s.changed();
    done
}

/// How changes reach these functions, as the audit log records it: every change, the UI's
/// included, arrives through the API.
const VIA: &str = "api";

fn forbid(user: &User, what: &str) -> ApiError {
    ApiError::Forbidden(format!("the {} role cannot {what}", user.role.name()))
}

/// White space as the OpenAPI document's patterns (ECMAScript `\s`) know it, so that the
/// handler refuses exactly the texts the contract calls blank.
fn ecma_space(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n' | '\u{b}' | '\u{c}' | '\r' | ' ' | '\u{a0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200a}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202f}'
                | '\u{205f}'
                | '\u{3000}'
                | '\u{feff}'
    )
}

/// Checks a free text: not blank, at most `max` characters (code points, as the contract's
/// `maxLength` counts them).
fn text_of(value: &str, what: &str, max: usize) -> Result<(), ApiError> {
    if value.chars().all(ecma_space) || value.chars().count() > max {
        return Err(ApiError::BadRequest(format!(
            "{what} of 1 to {max} characters is required"
        )));
    }
    Ok(())
}

/// Moves a case to another state.
pub async fn advance(
    s: &AppState,
    user: &User,
    id: i64,
    to: &str,
    reason: String,
) -> Result<(), ApiError> {
    if !access::may_advance(user.role) {
        return Err(forbid(user, "advance cases"));
    }
    let to =
        CaseState::parse(to).ok_or_else(|| ApiError::BadRequest(format!("unknown state {to}")))?;
    text_of(&reason, "a reason", 2000)?;
    on_case(s, user, id, "case.advance", move |c, u, now| {
        let from = cases::advance_within(c, id, to, &u.name, &reason, now)?;
        Ok((
            (),
            json!({"from": from.name(), "to": to.name(), "reason": reason, "via": VIA}),
        ))
    })
    .await
}

/// Adds a note.
pub async fn note(s: &AppState, user: &User, id: i64, text: String) -> Result<(), ApiError> {
    if !access::may_annotate(user.role) {
        return Err(forbid(user, "add notes"));
    }
    text_of(&text, "a note", 10_000)?;
    on_case(s, user, id, "case.note", move |c, u, now| {
        users::add_note(c, id, &u.name, &text, now)?;
        Ok(((), json!({"via": VIA})))
    })
    .await
}

/// Assigns a case to a department or person.
pub async fn assign(s: &AppState, user: &User, id: i64, to: String) -> Result<(), ApiError> {
    if !access::may_assign(user.role) {
        return Err(forbid(user, "assign cases"));
    }
    text_of(&to, "an assignee", 64)?;
    on_case(s, user, id, "case.assign", move |c, u, now| {
        cases::assign_within(c, id, &to, &u.name, now)?;
        Ok(((), json!({"to": to, "via": VIA})))
    })
    .await
}

/// What an inspection found, as handed in.
pub struct Found {
    /// Mining on site.
    pub mining: bool,
    /// Machines counted.
    pub machines: Option<i64>,
    /// Load measured, kW.
    pub measured_kw: Option<f64>,
    /// Remarks.
    pub notes: String,
}

/// Records an inspection outcome.
pub async fn inspect(s: &AppState, user: &User, id: i64, found: Found) -> Result<(), ApiError> {
    if !access::may_advance(user.role) {
        return Err(forbid(user, "record inspections"));
    }
    if found
        .machines
        .is_some_and(|m| !(0..=1_000_000).contains(&m))
        || found.measured_kw.is_some_and(|k| !(0.0..=1e6).contains(&k))
        || found.notes.len() > 10_000
    {
        return Err(ApiError::BadRequest(
            "machines, measured_kw or notes out of range".into(),
        ));
    }
    on_case(s, user, id, "case.inspection", move |c, u, now| {
        let i = users::Inspection {
            at: time::format_instant(now),
            inspector: u.name.clone(),
            mining: found.mining,
            machines: found.machines,
            measured_kw: found.measured_kw,
            notes: found.notes,
        };
        users::add_inspection(c, id, &i, now)?;
        Ok((
            (),
            json!({"mining": i.mining, "machines": i.machines, "via": VIA}),
        ))
    })
    .await
}
