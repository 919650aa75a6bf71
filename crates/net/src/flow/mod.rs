//! Flows: a bounded table of connections and per-direction TCP reassembly.

pub mod defrag;
pub mod stream;
pub mod table;

pub use stream::{Delivery, Reassembler};
pub use table::{FlowKey, FlowTable, Side};
