//! The append-only, hash-chained audit log.
//!
//! Entry `n` stores `hash = SHA-256(prev_hash ‖ n ‖ at ‖ actor ‖ action ‖ target ‖ detail)`
//! with `prev_hash` the hash of entry `n − 1` (64 zeros for the first). Editing an entry breaks
//! its own hash; deleting one leaves a gap in `seq` and a `prev_hash` that matches nothing;
//! reordering breaks both. [`verify`] walks the chain and names the first entry that fails.
//! Appends take a lock first (PostgreSQL: a transaction advisory lock; SQLite serialises writers
//! anyway) so two writers cannot fork the chain.

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::StoreError;
use crate::db::{Conn, Dialect, Value};

/// The `prev_hash` of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Advisory-lock key for appends on PostgreSQL ("mwaudit" in ASCII).
const LOCK_KEY: i64 = 0x006d_7761_7564_6974;

fn entry_hash(
    prev: &str,
    seq: i64,
    at: i64,
    actor: &str,
    action: &str,
    target: &str,
    detail: &str,
) -> String {
    let mut h = Sha256::new();
    for part in [
        prev,
        &seq.to_string(),
        &at.to_string(),
        actor,
        action,
        target,
        detail,
    ] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    hex::encode(h.finalize())
}

/// Appends an entry. Call it inside a transaction (the change it records, or one of its own):
/// the lock that keeps the chain from forking lasts as long as the transaction.
pub fn append(
    c: &mut Conn,
    at: i64,
    actor: &str,
    action: &str,
    target: &str,
    detail: &str,
) -> Result<i64, StoreError> {
    if c.dialect() == Dialect::Postgres {
        c.batch(&format!("SELECT pg_advisory_xact_lock({LOCK_KEY})"))?;
    }
    let last = c.query_one(
        "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1",
        &[],
    )?;
    let (seq, prev) = match last {
        Some(r) => (r.int(0) + 1, r.text(1)),
        None => (1, GENESIS.to_string()),
    };
    let hash = entry_hash(&prev, seq, at, actor, action, target, detail);
    c.execute(
        "INSERT INTO audit_log (seq, at, actor, action, target, detail, prev_hash, hash) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        &[
            seq.into(),
            at.into(),
            actor.into(),
            action.into(),
            target.into(),
            detail.into(),
            prev.into(),
            Value::Text(hash),
        ],
    )?;
    Ok(seq)
}

/// What a verification found.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Verification {
    /// Entries checked.
    pub entries: i64,
    /// The first entry that fails, if any.
    pub broken_at: Option<i64>,
    /// Why it fails.
    pub problem: Option<String>,
}

/// Walks the whole chain in `seq` order, streaming.
pub fn verify(c: &mut Conn) -> Result<Verification, StoreError> {
    let mut expected_seq = 1;
    let mut prev = GENESIS.to_string();
    let mut out = Verification {
        entries: 0,
        broken_at: None,
        problem: None,
    };
    c.for_each(
        "SELECT seq, at, actor, action, target, detail, prev_hash, hash FROM audit_log ORDER BY seq",
        &[],
        |r| {
            if out.broken_at.is_some() {
                return Ok(());
            }
            out.entries += 1;
            let seq = r.int(0);
            let problem = if seq != expected_seq {
                Some(format!("entry {expected_seq} is missing (next present is {seq})"))
            } else if r.text(6) != prev {
                Some(format!("entry {seq} does not follow entry {}: its previous hash differs", seq - 1))
            } else if entry_hash(&prev, seq, r.int(1), &r.text(2), &r.text(3), &r.text(4), &r.text(5)) != r.text(7) {
                Some(format!("entry {seq} was altered: its content does not give its hash"))
            } else {
                None
            };
            if let Some(p) = problem {
                out.broken_at = Some(seq.min(expected_seq));
                out.problem = Some(p);
            }
            prev = r.text(7);
            expected_seq = seq + 1;
            Ok(())
        },
    )?;
    Ok(out)
}

/// One entry as listed.
#[derive(Clone, Debug, Serialize)]
pub struct Entry {
    /// Position in the chain.
    pub seq: i64,
    /// When (RFC 3339).
    pub at: String,
    /// Who.
    pub actor: String,
    /// What (`case.advance`, `case.read`, `login` …).
    pub action: String,
    /// On what (`case:42`).
    pub target: String,
    /// Details (JSON).
    pub detail: String,
}

/// The latest entries, newest first.
pub fn latest(c: &mut Conn, limit: i64) -> Result<Vec<Entry>, StoreError> {
    Ok(c.query(
        "SELECT seq, at, actor, action, target, detail FROM audit_log ORDER BY seq DESC LIMIT ?",
        &[limit.into()],
    )?
    .iter()
    .map(|r| Entry {
        seq: r.int(0),
        at: crate::time::format_instant(r.int(1)),
        actor: r.text(2),
        action: r.text(3),
        target: r.text(4),
        detail: r.text(5),
    })
    .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> Conn {
        let mut c = Conn::open(":memory:").unwrap();
        crate::schema::migrate(&mut c).unwrap();
        for i in 0..5 {
            append(
                &mut c,
                100 + i,
                "li.wei",
                "case.advance",
                &format!("case:{i}"),
                "{}",
            )
            .unwrap();
        }
        c
    }

    #[test]
    fn an_intact_chain_verifies() {
        let mut c = store();
        assert_eq!(
            verify(&mut c).unwrap(),
            Verification {
                entries: 5,
                broken_at: None,
                problem: None
            }
        );
    }

    #[test]
    fn edits_deletions_and_reorderings_are_found() {
        let mut c = store();
        c.execute(
            "UPDATE audit_log SET actor = 'someone.else' WHERE seq = 3",
            &[],
        )
        .unwrap();
        let v = verify(&mut c).unwrap();
        assert_eq!(v.broken_at, Some(3), "{v:?}");
        assert!(v.problem.unwrap().contains("altered"));

        let mut c = store();
        c.execute("DELETE FROM audit_log WHERE seq = 2", &[])
            .unwrap();
        let v = verify(&mut c).unwrap();
        assert_eq!(v.broken_at, Some(2), "{v:?}");
        assert!(v.problem.unwrap().contains("missing"));

        let mut c = store();
        // Swap the contents of entries 2 and 4, hashes and all.
        c.batch(
            "UPDATE audit_log SET seq = -2 WHERE seq = 2; UPDATE audit_log SET seq = 2 WHERE seq = 4; \
             UPDATE audit_log SET seq = 4 WHERE seq = -2;",
        )
        .unwrap();
        let v = verify(&mut c).unwrap();
        assert_eq!(v.broken_at, Some(2), "{v:?}");

        let mut c = store();
        // Rewriting an entry and its own hash still breaks the next link.
        let r = c
            .query_one("SELECT prev_hash FROM audit_log WHERE seq = 3", &[])
            .unwrap()
            .unwrap();
        let forged = entry_hash(&r.text(0), 3, 102, "forger", "case.advance", "case:2", "{}");
        c.execute(
            "UPDATE audit_log SET actor = 'forger', hash = ? WHERE seq = 3",
            &[forged.into()],
        )
        .unwrap();
        assert_eq!(verify(&mut c).unwrap().broken_at, Some(4));
    }
}
