//! The Stratum family: line-delimited JSON-RPC spoken between miners and pools.
//!
//! `json` holds a line's values borrowed from it; `syntax` reads a line's JSON in one pass;
//! `parser` turns one line into JSON-RPC messages; `signal` recognises what each message means
//! for mining (which method, which dialect, which numbers). Both are pure; the per-session
//! state that adds them up lives in `crate::session`.

pub mod json;
pub mod parser;
pub mod signal;
pub mod syntax;

pub use bumpalo::Bump;
pub use parser::{Message, Messages, ParseError, parse_line};
pub use signal::{Dialect, Signal, classify};
