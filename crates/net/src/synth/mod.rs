//! Synthetic traffic: frames, capture files and scripted mining sessions with their truth.
//!
//! Used by the tests, the fuzz seeds, the shipped sample capture and `minewatch demo`.

pub mod frames;
pub mod writer;
