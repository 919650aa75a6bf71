//! One connection type over the two engines.
//!
//! The store speaks a small common subset of SQL (`INSERT … ON CONFLICT`, `RETURNING`, integer
//! seconds for time, text for everything else) so that one set of statements runs on SQLite and
//! PostgreSQL alike. Statements are written with `?` placeholders; for PostgreSQL they are
//! rewritten to `$1, $2, …` once and the prepared statement is cached. An enum rather than a
//! trait object: there are exactly two engines, and `match` keeps their differences in one place.

use std::collections::HashMap;
use std::fmt;

use bytes::BytesMut;
use postgres::types::{IsNull, ToSql as PgToSql, Type, to_sql_checked};
use rusqlite::types::{ToSqlOutput, ValueRef};

use crate::StoreError;

/// A value bound to or read from a statement.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// SQL NULL.
    Null,
    /// A 64-bit integer (also booleans and times in Unix seconds).
    Int(i64),
    /// A double.
    Real(f64),
    /// Text.
    Text(String),
}

impl From<i64> for Value {
    fn from(v: i64) -> Value {
        Value::Int(v)
    }
}
impl From<f64> for Value {
    fn from(v: f64) -> Value {
        Value::Real(v)
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Value {
        Value::Int(i64::from(v))
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Value {
        Value::Text(v.to_string())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Value {
        Value::Text(v)
    }
}
impl From<&String> for Value {
    fn from(v: &String) -> Value {
        Value::Text(v.clone())
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Value {
        v.map_or(Value::Null, Into::into)
    }
}

/// One result row.
#[derive(Clone, Debug)]
pub struct Row(pub Vec<Value>);

impl Row {
    fn at(&self, i: usize) -> &Value {
        self.0.get(i).unwrap_or(&Value::Null)
    }
    /// Column `i` as an integer (0 when NULL).
    pub fn int(&self, i: usize) -> i64 {
        self.opt_int(i).unwrap_or(0)
    }
    /// Column `i` as an integer, if not NULL.
    pub fn opt_int(&self, i: usize) -> Option<i64> {
        match self.at(i) {
            Value::Int(v) => Some(*v),
            Value::Real(v) => Some(*v as i64),
            Value::Text(s) => s.parse().ok(),
            Value::Null => None,
        }
    }
    /// Column `i` as a double (0 when NULL).
    pub fn real(&self, i: usize) -> f64 {
        self.opt_real(i).unwrap_or(0.0)
    }
    /// Column `i` as a double, if not NULL.
    pub fn opt_real(&self, i: usize) -> Option<f64> {
        match self.at(i) {
            Value::Int(v) => Some(*v as f64),
            Value::Real(v) => Some(*v),
            Value::Text(s) => s.parse().ok(),
            Value::Null => None,
        }
    }
    /// Column `i` as text ("" when NULL).
    pub fn text(&self, i: usize) -> String {
        self.opt_text(i).unwrap_or_default()
    }
    /// Column `i` as text, if not NULL.
    pub fn opt_text(&self, i: usize) -> Option<String> {
        match self.at(i) {
            Value::Text(s) => Some(s.clone()),
            Value::Int(v) => Some(v.to_string()),
            Value::Real(v) => Some(v.to_string()),
            Value::Null => None,
        }
    }
}

/// Which engine a connection talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// Embedded SQLite.
    Sqlite,
    /// PostgreSQL server.
    Postgres,
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Dialect::Sqlite => "sqlite",
            Dialect::Postgres => "postgresql",
        })
    }
}

/// Prepared PostgreSQL statements kept per connection; the store uses a fixed set of
/// statements, so the cap only guards against a caller that builds SQL dynamically.
const PG_STATEMENT_CAP: usize = 256;

/// A connection to SQLite or PostgreSQL.
pub enum Conn {
    /// Embedded SQLite file.
    Sqlite(rusqlite::Connection),
    /// PostgreSQL client with its prepared statements.
    Postgres {
        /// The client.
        client: Box<postgres::Client>,
        /// Prepared statements by their `?` text.
        prepared: HashMap<String, postgres::Statement>,
        /// Transactions open on this connection (nested ones are savepoints).
        depth: usize,
    },
}

impl Conn {
    /// Opens `target`: a `postgres://` or `postgresql://` URL, else a SQLite file path.
    pub fn open(target: &str) -> Result<Conn, StoreError> {
        if is_postgres_url(target) {
            let client = postgres::Client::connect(target, postgres::NoTls).map_err(|e| {
                StoreError::Open {
                    target: redact(target),
                    message: e.to_string(),
                }
            })?;
            let mut conn = Conn::Postgres {
                client: Box::new(client),
                prepared: HashMap::new(),
                depth: 0,
            };
            conn.batch("SET client_min_messages = warning")?;
            Ok(conn)
        } else {
            let c = rusqlite::Connection::open(target).map_err(|e| StoreError::Open {
                target: target.to_string(),
                message: e.to_string(),
            })?;
            // WAL lets readers (the server, a report) run beside an import; NORMAL sync is
            // durable across process kills, which is what the idempotent imports rely on.
            // A 64 MiB page cache: evidence ids are content hashes, so inserts land all over
            // the primary-key index, and SQLite's 2 MiB default re-reads those pages for every
            // batch (457,540 reads for 50,000 lines against 135,821 with it; docs/PERFORMANCE.md).
            c.execute_batch(
                "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                 PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; \
                 PRAGMA cache_size = -65536; PRAGMA temp_store = MEMORY;",
            )?;
            c.set_prepared_statement_cache_capacity(128);
            Ok(Conn::Sqlite(c))
        }
    }

    /// The engine behind this connection.
    pub fn dialect(&self) -> Dialect {
        match self {
            Conn::Sqlite(_) => Dialect::Sqlite,
            Conn::Postgres { .. } => Dialect::Postgres,
        }
    }

    /// Runs one or more statements without parameters.
    pub fn batch(&mut self, sql: &str) -> Result<(), StoreError> {
        match self {
            Conn::Sqlite(c) => c.execute_batch(sql)?,
            Conn::Postgres { client, .. } => client.batch_execute(sql)?,
        }
        Ok(())
    }

    /// Runs one statement and returns the number of rows it changed.
    pub fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, StoreError> {
        match self {
            Conn::Sqlite(c) => {
                let mut st = c.prepare_cached(sql)?;
                Ok(st.execute(rusqlite::params_from_iter(params.iter()))? as u64)
            }
            Conn::Postgres {
                client, prepared, ..
            } => {
                let st = pg_statement(client, prepared, sql)?;
                let refs: Vec<&(dyn PgToSql + Sync)> =
                    params.iter().map(|p| p as &(dyn PgToSql + Sync)).collect();
                Ok(client.execute(&st, &refs)?)
            }
        }
    }

    /// Runs one query and returns all its rows.
    pub fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, StoreError> {
        match self {
            Conn::Sqlite(c) => {
                let mut st = c.prepare_cached(sql)?;
                let n = st.column_count();
                let mut rows = st.query(rusqlite::params_from_iter(params.iter()))?;
                let mut out = Vec::new();
                while let Some(r) = rows.next()? {
                    let mut row = Vec::with_capacity(n);
                    for i in 0..n {
                        row.push(sqlite_value(r.get_ref(i)?));
                    }
                    out.push(Row(row));
                }
                Ok(out)
            }
            Conn::Postgres {
                client, prepared, ..
            } => {
                let st = pg_statement(client, prepared, sql)?;
                let refs: Vec<&(dyn PgToSql + Sync)> =
                    params.iter().map(|p| p as &(dyn PgToSql + Sync)).collect();
                let rows = client.query(&st, &refs)?;
                rows.iter().map(pg_row).collect()
            }
        }
    }

    /// Runs a query and hands its rows to `f` one at a time as they arrive, so a large result
    /// never sits in memory whole.
    pub fn for_each(
        &mut self,
        sql: &str,
        params: &[Value],
        mut f: impl FnMut(Row) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        match self {
            Conn::Sqlite(c) => {
                let mut st = c.prepare_cached(sql)?;
                let n = st.column_count();
                let mut rows = st.query(rusqlite::params_from_iter(params.iter()))?;
                while let Some(r) = rows.next()? {
                    let mut row = Vec::with_capacity(n);
                    for i in 0..n {
                        row.push(sqlite_value(r.get_ref(i)?));
                    }
                    f(Row(row))?;
                }
                Ok(())
            }
            Conn::Postgres {
                client, prepared, ..
            } => {
                use postgres::fallible_iterator::FallibleIterator;
                let st = pg_statement(client, prepared, sql)?;
                let mut rows = client.query_raw(&st, params.iter())?;
                while let Some(r) = rows.next()? {
                    f(pg_row(&r)?)?;
                }
                Ok(())
            }
        }
    }

    /// The first row of a query, if any.
    pub fn query_one(&mut self, sql: &str, params: &[Value]) -> Result<Option<Row>, StoreError> {
        Ok(self.query(sql, params)?.into_iter().next())
    }

    /// Whether a transaction is open on this connection.
    fn in_transaction(&self) -> bool {
        match self {
            Conn::Sqlite(c) => !c.is_autocommit(),
            Conn::Postgres { depth, .. } => *depth > 0,
        }
    }

    fn set_depth(&mut self, by: isize) {
        if let Conn::Postgres { depth, .. } = self {
            *depth = depth.saturating_add_signed(by);
        }
    }

    /// Runs `f` inside one transaction: committed when it returns `Ok`, rolled back otherwise.
    /// Inside another transaction it is a savepoint of it, so that a step that is atomic on its
    /// own (a batch of an import) can also be one part of a larger change that is atomic as a
    /// whole (an upload with its fusion and its audit entry).
    pub fn transaction<T>(
        &mut self,
        f: impl FnOnce(&mut Conn) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        if self.in_transaction() {
            self.batch("SAVEPOINT minewatch_nested")?;
            return match f(self) {
                Ok(v) => {
                    self.batch("RELEASE SAVEPOINT minewatch_nested")?;
                    Ok(v)
                }
                Err(e) => {
                    let _ = self.batch(
                        "ROLLBACK TO SAVEPOINT minewatch_nested; RELEASE SAVEPOINT minewatch_nested",
                    );
                    Err(e)
                }
            };
        }
        // SQLite: take the write lock at BEGIN. A deferred transaction that reads and then
        // writes fails at once with "database is locked" when another writer got in between
        // (the busy timeout does not cover that upgrade); IMMEDIATE waits its turn instead.
        self.batch(match self.dialect() {
            Dialect::Sqlite => "BEGIN IMMEDIATE",
            Dialect::Postgres => "BEGIN",
        })?;
        self.set_depth(1);
        let r = match f(self) {
            Ok(v) => self.batch("COMMIT").map(|()| v),
            Err(e) => {
                // The original error is what the caller needs; a failed rollback on a broken
                // connection adds nothing to it.
                let _ = self.batch("ROLLBACK");
                Err(e)
            }
        };
        self.set_depth(-1);
        r
    }
}

/// True for `postgres://` and `postgresql://` URLs.
pub fn is_postgres_url(target: &str) -> bool {
    target.starts_with("postgres://") || target.starts_with("postgresql://")
}

/// The URL without its password, for messages.
pub fn redact(target: &str) -> String {
    match (target.find("://"), target.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let userinfo = &target[s + 3..at];
            match userinfo.find(':') {
                Some(c) => format!(
                    "{}{}:***{}",
                    &target[..s + 3],
                    &userinfo[..c],
                    &target[at..]
                ),
                None => target.to_string(),
            }
        }
        _ => target.to_string(),
    }
}

/// Rewrites `?` placeholders as `$1, $2, …`, leaving quoted text alone.
pub fn numbered_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut n = 0;
    let mut quoted = false;
    for ch in sql.chars() {
        match ch {
            '\'' => {
                quoted = !quoted;
                out.push(ch);
            }
            '?' if !quoted => {
                n += 1;
                out.push('$');
                out.push_str(&n.to_string());
            }
            _ => out.push(ch),
        }
    }
    out
}

fn pg_statement(
    client: &mut postgres::Client,
    prepared: &mut HashMap<String, postgres::Statement>,
    sql: &str,
) -> Result<postgres::Statement, StoreError> {
    if let Some(st) = prepared.get(sql) {
        return Ok(st.clone());
    }
    if prepared.len() >= PG_STATEMENT_CAP {
        prepared.clear();
    }
    let st = client.prepare(&numbered_placeholders(sql))?;
    prepared.insert(sql.to_string(), st.clone());
    Ok(st)
}

fn sqlite_value(v: ValueRef<'_>) -> Value {
    match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(v) => Value::Int(v),
        ValueRef::Real(v) => Value::Real(v),
        ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into()),
        ValueRef::Blob(b) => Value::Text(hex::encode(b)),
    }
}

fn pg_row(r: &postgres::Row) -> Result<Row, StoreError> {
    let mut out = Vec::with_capacity(r.len());
    for (i, col) in r.columns().iter().enumerate() {
        let ty = col.type_();
        let v = if *ty == Type::INT8 {
            r.try_get::<_, Option<i64>>(i)?.map(Value::Int)
        } else if *ty == Type::INT4 {
            r.try_get::<_, Option<i32>>(i)?
                .map(|v| Value::Int(v.into()))
        } else if *ty == Type::INT2 {
            r.try_get::<_, Option<i16>>(i)?
                .map(|v| Value::Int(v.into()))
        } else if *ty == Type::FLOAT8 {
            r.try_get::<_, Option<f64>>(i)?.map(Value::Real)
        } else if *ty == Type::FLOAT4 {
            r.try_get::<_, Option<f32>>(i)?
                .map(|v| Value::Real(v.into()))
        } else if *ty == Type::BOOL {
            r.try_get::<_, Option<bool>>(i)?
                .map(|v| Value::Int(v.into()))
        } else if *ty == Type::TEXT || *ty == Type::VARCHAR || *ty == Type::NAME {
            r.try_get::<_, Option<String>>(i)?.map(Value::Text)
        } else {
            return Err(StoreError::Invalid(format!(
                "column {} has type {ty}, which the store does not read (cast it in the query)",
                col.name()
            )));
        };
        out.push(v.unwrap_or(Value::Null));
    }
    Ok(Row(out))
}

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Value::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            Value::Int(v) => ToSqlOutput::Borrowed(ValueRef::Integer(*v)),
            Value::Real(v) => ToSqlOutput::Borrowed(ValueRef::Real(*v)),
            Value::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
        })
    }
}

type BoxError = Box<dyn std::error::Error + Sync + Send>;

impl PgToSql for Value {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        // PostgreSQL infers each parameter's type from the statement; SQLite does not care.
        // Converting here lets the same `Value` feed a BIGINT, DOUBLE PRECISION or TEXT column.
        match self {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(v) => {
                if *ty == Type::INT8 {
                    v.to_sql(ty, out)
                } else if *ty == Type::INT4 {
                    i32::try_from(*v)?.to_sql(ty, out)
                } else if *ty == Type::INT2 {
                    i16::try_from(*v)?.to_sql(ty, out)
                } else if *ty == Type::FLOAT8 {
                    (*v as f64).to_sql(ty, out)
                } else if *ty == Type::FLOAT4 {
                    (*v as f32).to_sql(ty, out)
                } else if *ty == Type::BOOL {
                    (*v != 0).to_sql(ty, out)
                } else {
                    v.to_string().to_sql(ty, out)
                }
            }
            Value::Real(v) => {
                if *ty == Type::FLOAT8 {
                    v.to_sql(ty, out)
                } else if *ty == Type::FLOAT4 {
                    (*v as f32).to_sql(ty, out)
                } else if *ty == Type::INT8 {
                    (v.round() as i64).to_sql(ty, out)
                } else {
                    v.to_string().to_sql(ty, out)
                }
            }
            Value::Text(s) => s.as_str().to_sql(ty, out),
        }
    }

    fn accepts(ty: &Type) -> bool {
        [
            Type::INT8,
            Type::INT4,
            Type::INT2,
            Type::FLOAT8,
            Type::FLOAT4,
            Type::BOOL,
            Type::TEXT,
            Type::VARCHAR,
            Type::NAME,
            Type::BPCHAR,
            Type::UNKNOWN,
        ]
        .contains(ty)
    }

    to_sql_checked!();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_outside_quotes() {
        assert_eq!(
            numbered_placeholders("SELECT '?' , a FROM t WHERE a = ? AND b = ?"),
            "SELECT '?' , a FROM t WHERE a = $1 AND b = $2"
        );
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact("postgres://mw:secret@127.0.0.1:5432/db"),
            "postgres://mw:***@127.0.0.1:5432/db"
        );
        assert_eq!(redact("postgres://mw@h/db"), "postgres://mw@h/db");
        assert_eq!(redact("minewatch.db"), "minewatch.db");
    }

    #[test]
    fn sqlite_round_trips_values() {
        let mut c = Conn::open(":memory:").unwrap();
        c.batch("CREATE TABLE t (a INTEGER, b REAL, c TEXT)")
            .unwrap();
        c.execute(
            "INSERT INTO t VALUES (?, ?, ?)",
            &[Value::Int(7), Value::Real(1.5), Value::Null],
        )
        .unwrap();
        let r = c.query_one("SELECT a, b, c FROM t", &[]).unwrap().unwrap();
        assert_eq!((r.int(0), r.real(1), r.opt_text(2)), (7, 1.5, None));
    }
}
