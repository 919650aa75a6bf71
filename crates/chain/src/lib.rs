//! Chain evidence for minewatch: Bitcoin-family blocks from Core's block files, raw and hex
//! block files; the best chain; pool attribution by coinbase tags and payout addresses; fees.

pub mod blocks;
pub mod economy;
pub mod graph;
pub mod index;
pub mod pools;
pub mod read;
pub mod rows;
pub mod rpc;
pub mod synth;
pub mod tags;
pub mod write;
