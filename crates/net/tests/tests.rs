//! The net crate's integration tests in one binary (one link instead of 5), a module
//! per concern.

mod bad_input;
#[cfg(feature = "tls-synth")]
mod behaviour;
mod corpus;
mod extremes;
mod shared_data;
