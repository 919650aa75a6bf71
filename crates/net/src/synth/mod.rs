//! Synthetic traffic: frames, capture files and scripted mining sessions with their truth.
//!
//! Used by the tests, the fuzz seeds, the shipped sample capture and `minewatch synth`.

pub mod background;
pub mod dns;
#[cfg(feature = "tls-synth")]
pub mod encrypted;
pub mod frames;
#[cfg(feature = "tls-synth")]
pub mod polling;
pub mod replay;
#[cfg(feature = "tls-synth")]
pub mod rng;
pub mod sessions;
pub mod sv2;
pub mod tcp;
pub mod tls;
pub mod writer;
