//! The chain crate's integration tests in one binary (one link instead of 3), a module
//! per concern.

mod blocks;
mod clusters;
mod money;
