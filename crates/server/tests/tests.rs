//! The server crate's integration tests in one binary (one link instead of 2), a module
//! per concern.

mod api;
mod browser;
