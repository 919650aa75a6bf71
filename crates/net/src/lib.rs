//! Network evidence for minewatch: packets to flows to mining detections.
//!
//! The pipeline, one module per stage: [`source`] reads pcap and pcapng files in place;
//! [`decode`] peels link layers and tunnels down to TCP or UDP; [`flow`] keeps a bounded table
//! of connections and reassembles TCP per direction; [`inspect`] decides early which flows can
//! be mining and feeds the parsers in [`proto`]; [`session`] adds up what a mining connection
//! said; [`scan`] drives it all, on one thread or several, into
//! [`Detection`](minewatch_model::Detection)s. [`synth`] writes captures for tests and demos.

pub mod behaviour;
mod conclude;
pub mod decode;
pub mod flow;
pub mod inspect;
pub mod intelflow;
pub mod pair;
pub mod proto;
pub mod scan;
pub mod session;
pub mod source;
pub mod stats;
pub mod synth;

pub use scan::{ScanConfig, ScanOutput, ScanStats, Scanner, scan_files};
