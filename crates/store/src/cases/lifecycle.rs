//! The lifecycle: the steps a case may take, who took them and why, each in the history.

use super::State;
use crate::StoreError;
use crate::db::{Conn, Value};

pub(super) fn transition(
    c: &mut Conn,
    case_id: i64,
    from: State,
    to: State,
    actor: &str,
    reason: &str,
    at: i64,
) -> Result<(), StoreError> {
    let stamp = match to {
        State::Rectified => ", rectified_at = ?",
        State::Closed => ", closed_at = ?",
        _ => "",
    };
    let sql = format!("UPDATE cases SET state = ?, updated_at = ?{stamp} WHERE case_id = ?");
    let mut params: Vec<Value> = vec![to.name().into(), at.into()];
    if !stamp.is_empty() {
        params.push(at.into());
    }
    params.push(case_id.into());
    c.execute(&sql, &params)?;
    record(c, case_id, at, actor, (from.name(), to.name()), reason)
}

/// One line of a case's history: who moved it from one state to another (the same state for
/// an assignment), when and why.
fn record(
    c: &mut Conn,
    case_id: i64,
    at: i64,
    actor: &str,
    (from, to): (&str, &str),
    reason: &str,
) -> Result<(), StoreError> {
    c.execute(
        "INSERT INTO case_events (case_id, at, actor, from_state, to_state, reason) \
         VALUES (?, ?, ?, ?, ?, ?)",
        &[
            case_id.into(),
            at.into(),
            actor.into(),
            from.into(),
            to.into(),
            reason.into(),
        ],
    )?;
    Ok(())
}

/// A case's state as stored.
fn state_of(c: &mut Conn, case_id: i64) -> Result<String, StoreError> {
    c.query_one(
        "SELECT state FROM cases WHERE case_id = ?",
        &[case_id.into()],
    )?
    .map(|r| r.text(0))
    .ok_or(StoreError::NoCase(case_id))
}

/// Moves a case to another state, recording who, when and why; refuses what the lifecycle
/// does not allow.
pub fn advance(
    c: &mut Conn,
    case_id: i64,
    to: State,
    actor: &str,
    reason: &str,
    at: i64,
) -> Result<State, StoreError> {
    c.transaction(|c| advance_within(c, case_id, to, actor, reason, at))
}

/// [`advance`] inside a transaction the caller holds, so an audit entry can share it.
pub fn advance_within(
    c: &mut Conn,
    case_id: i64,
    to: State,
    actor: &str,
    reason: &str,
    at: i64,
) -> Result<State, StoreError> {
    // Checked here, not in `advance`: the server's changes come this way too.
    if actor.trim().is_empty() {
        return Err(StoreError::Invalid("a transition needs who made it".into()));
    }
    if reason.trim().is_empty() {
        return Err(StoreError::Invalid("a transition needs a reason".into()));
    }
    let from = State::parse(&state_of(c, case_id)?).unwrap_or(State::Suspected);
    if !from.next().contains(&to) {
        return Err(StoreError::IllegalTransition {
            case: case_id,
            from: from.name().into(),
            to: to.name().into(),
            allowed: from
                .next()
                .iter()
                .map(|s| s.name())
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    transition(c, case_id, from, to, actor, reason, at)?;
    Ok(from)
}

/// Assigns a case to a department or person.
pub fn assign(
    c: &mut Conn,
    case_id: i64,
    to: &str,
    actor: &str,
    at: i64,
) -> Result<(), StoreError> {
    c.transaction(|c| assign_within(c, case_id, to, actor, at))
}

/// [`assign`] inside a transaction the caller holds.
pub fn assign_within(
    c: &mut Conn,
    case_id: i64,
    to: &str,
    actor: &str,
    at: i64,
) -> Result<(), StoreError> {
    let state = state_of(c, case_id)?;
    c.execute(
        "UPDATE cases SET assigned_to = ?, updated_at = ? WHERE case_id = ?",
        &[to.into(), at.into(), case_id.into()],
    )?;
    record(
        c,
        case_id,
        at,
        actor,
        (&state, &state),
        &format!("assigned to {to}"),
    )
}
