//! Power evidence for minewatch: meter readings to per-customer features to a ranked,
//! explained list of suspected mining sites; transformer-area balances for theft; and a
//! synthetic region generator with its truth.

pub mod areas;
pub mod changepoint;
pub mod customers;
pub mod eval;
mod fastcsv;
pub mod features;
pub mod generate;
pub mod input;
pub mod learn;
pub mod likeness;
#[cfg(feature = "parquet")]
pub mod parquet;
pub mod pipeline;
pub mod read;
pub mod score;
pub mod series;
pub mod sun;
pub mod time;
