//! Persistence and fusion: the registry, evidence from every stream, one case per site, the
//! case lifecycle and the regional figures, on embedded SQLite or on PostgreSQL.
//!
//! Data flows one way: [`ingest`] turns the JSON lines of `minewatch scan` and `minewatch power
//! scan` into [`evidence::Evidence`] rows (content-addressed, so a second import is a no-op),
//! attributes each to a site through the [`registry`], and [`cases::fuse`] folds what is new
//! into one case per site. Reports and documents only read.

pub mod audit;
pub mod cases;
pub mod db;
pub mod documents;
pub mod evidence;
pub mod ingest;
pub mod penalties;
pub mod probes;
pub mod registry;
pub mod report;
pub mod rows;
pub mod schema;
/// Test engines (a throwaway PostgreSQL database per test, `DROP DATABASE` by name): never in
/// a build that ships, only in tests and with the `testing` feature that test crates turn on.
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod time;
pub mod users;

pub use db::{Conn, Dialect, Row, Value};

/// What can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be opened.
    #[error("cannot open the store {target}: {message}")]
    Open {
        /// Path or URL (password removed).
        target: String,
        /// The engine's message.
        message: String,
    },
    /// SQLite said no.
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// PostgreSQL said no.
    #[error("postgresql: {0}")]
    Postgres(#[from] postgres::Error),
    /// A file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// A file as a whole is unusable (its header, its kind).
    #[error("{path}: {message}")]
    File {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// A case that does not exist.
    #[error("no case {0}")]
    NoCase(i64),
    /// Something else that does not exist (a user, a token), named.
    #[error("{0}")]
    Missing(String),
    /// The process itself failed its part (no randomness for a secret): never the caller's
    /// fault, and an answer of 500 from the server.
    #[error("{0}")]
    Internal(String),
    /// A transition the lifecycle does not allow.
    #[error("case {case} is {from}; it cannot go to {to} (allowed: {allowed})")]
    IllegalTransition {
        /// The case.
        case: i64,
        /// Its state.
        from: String,
        /// The state asked for.
        to: String,
        /// The states it may go to.
        allowed: String,
    },
    /// Anything else that is wrong with a request or with stored data.
    #[error("{0}")]
    Invalid(String),
}

/// A store: one connection with its schema brought up to date.
pub struct Store {
    /// The connection.
    pub conn: Conn,
}

impl Store {
    /// Opens (creating when needed) the store at a path or `postgres://` URL and migrates it.
    pub fn open(target: &str) -> Result<Store, StoreError> {
        let mut conn = Conn::open(target)?;
        schema::migrate(&mut conn)?;
        penalties::seed(&mut conn)?;
        Ok(Store { conn })
    }

    /// The engine behind the store.
    pub fn dialect(&self) -> Dialect {
        self.conn.dialect()
    }
}
