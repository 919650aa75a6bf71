//! The cli crate's integration tests in one binary (one link instead of 5), a module
//! per concern.

mod cases;
mod chain;
mod cli;
mod node;
mod power;
