//! Application protocols: pure parsers from bytes to typed messages, one folder each.

pub mod dns;
pub mod http;
pub mod plain;
pub mod stratum;
pub mod sv2;
pub mod tls;
