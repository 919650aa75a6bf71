//! The cli crate's integration tests in one binary (one link instead of 5), a module
//! per concern.
// Tests may unwrap, expect and panic: there a panic is the verdict (the library crates may not).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod cases;
mod chain;
mod cli;
mod house;
mod node;
mod outputs;
mod power;
