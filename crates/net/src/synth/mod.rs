//! Synthetic traffic: frames, capture files and scripted mining sessions with their truth.
//!
//! Used by the tests, the fuzz seeds, the shipped sample capture and `minewatch synth`.

#[allow(
    clippy::indexing_slicing,
    reason = "a generator indexing buffers and tables it builds itself"
)]
pub mod background;
pub mod dir;
pub mod dns;
#[cfg(feature = "tls-synth")]
#[allow(
    clippy::indexing_slicing,
    reason = "a generator indexing buffers and tables it builds itself"
)]
pub mod encrypted;
#[allow(
    clippy::indexing_slicing,
    reason = "a generator indexing buffers and tables it builds itself"
)]
pub mod frames;
#[cfg(feature = "tls-synth")]
#[allow(
    clippy::indexing_slicing,
    reason = "a generator indexing buffers and tables it builds itself"
)]
pub mod polling;
#[allow(
    clippy::indexing_slicing,
    reason = "a generator indexing buffers and tables it builds itself"
)]
pub mod population;
pub mod replay;
#[cfg(feature = "tls-synth")]
#[allow(
    clippy::indexing_slicing,
    reason = "a generator indexing buffers and tables it builds itself"
)]
pub mod rng;
pub mod sessions;
#[allow(
    clippy::indexing_slicing,
    reason = "a generator indexing buffers and tables it builds itself"
)]
pub mod sv2;
#[allow(
    clippy::indexing_slicing,
    reason = "a generator indexing buffers and tables it builds itself"
)]
pub mod tcp;
pub mod tls;
pub mod writer;
