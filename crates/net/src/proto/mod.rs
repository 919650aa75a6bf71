//! Application protocols: pure parsers from bytes to typed messages, one folder each.

pub mod http;
pub mod stratum;
pub mod sv2;
