//! Shared vocabulary of minewatch.
//!
//! Every stream (network, power, chain) speaks these types, so that output, storage and
//! fusion read one set of shapes. Units are types: a [`HashRate`] is always hashes per second,
//! a [`Watts`] always watts; the conversions between them live next to the types and cite
//! where their constants come from.

pub mod coin;
pub mod detection;
pub mod efficiency;
pub mod lang;
pub mod probe;
pub mod rng;
pub mod skip;
pub mod table;
pub mod units;

pub use coin::{Algorithm, Coin};
pub use detection::{
    Detection, DifficultyChange, Endpoint, Event, Input, MiningFacts, Network, Shares, Timestamp,
    Traffic,
};
pub use efficiency::{PowerEstimate, efficiency};
pub use units::{Confidence, Difficulty, HashRate, Watts};
