//! Power evidence for minewatch: meter readings to per-customer features to a ranked,
//! explained list of suspected mining sites; transformer-area balances for theft; and a
//! synthetic region generator with its truth.

pub mod read;
pub mod series;
pub mod time;
