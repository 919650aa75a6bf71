//! Counters of a scan: what was read, skipped and dropped.

use crate::decode::Skip;
use crate::flow::defrag::DefragStats;
use std::collections::BTreeMap;

/// Counters of what a scan read, skipped and dropped. Nothing is lost without a count here.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ScanStats {
    /// Packets read from the captures.
    pub packets: u64,
    /// Bytes of packet data read.
    pub bytes: u64,
    /// TCP packets.
    pub tcp_packets: u64,
    /// UDP packets (no UDP detector yet: counted, not inspected).
    pub udp_packets: u64,
    /// Frames not decoded, by reason.
    pub skipped: BTreeMap<String, u64>,
    /// Flows created.
    pub flows: u64,
    /// Flows evicted because the table was full.
    pub evicted_capacity: u64,
    /// Flows finished for idleness.
    pub evicted_idle: u64,
    /// Flows given up as not mining after inspection.
    pub ignored_flows: u64,
    /// Lines in JSON streams that were not JSON-RPC.
    pub junk_lines: u64,
    /// Lines or HTTP messages too large to keep.
    pub oversized: u64,
    /// TCP gaps (missing bytes) jumped over in inspected flows.
    pub gaps: u64,
    /// IP fragments read.
    pub fragments: u64,
    /// Datagrams reassembled from fragments.
    pub reassembled: u64,
    /// Datagrams given up in reassembly (table full, too old, or inconsistent pieces).
    pub reassembly_dropped: u64,
    /// DNS-over-TCP messages not read because they continued in another segment.
    pub dns_tcp_split: u64,
    /// Panics caught at the fault boundary around one flow's inspection or one DNS message:
    /// that flow's state was dropped and the scan went on. Each is a bug to report.
    pub inspector_faults: u64,
}

impl ScanStats {
    /// Adds another worker's counters.
    pub fn merge(&mut self, o: &ScanStats) {
        self.packets += o.packets;
        self.bytes += o.bytes;
        self.tcp_packets += o.tcp_packets;
        self.udp_packets += o.udp_packets;
        for (k, v) in &o.skipped {
            *self.skipped.entry(k.clone()).or_default() += v;
        }
        self.flows += o.flows;
        self.evicted_capacity += o.evicted_capacity;
        self.evicted_idle += o.evicted_idle;
        self.ignored_flows += o.ignored_flows;
        self.junk_lines += o.junk_lines;
        self.oversized += o.oversized;
        self.gaps += o.gaps;
        self.fragments += o.fragments;
        self.reassembled += o.reassembled;
        self.reassembly_dropped += o.reassembly_dropped;
        self.dns_tcp_split += o.dns_tcp_split;
        self.inspector_faults += o.inspector_faults;
    }

    pub(crate) fn add_defrag(&mut self, d: &DefragStats) {
        self.fragments += d.fragments;
        self.reassembled += d.completed;
        self.reassembly_dropped += d.evicted + d.expired + d.invalid;
    }

    /// Frames skipped in all.
    pub fn skipped_total(&self) -> u64 {
        self.skipped.values().sum()
    }

    /// One line of what a scan of `files` files that found `sessions` mining sessions read,
    /// skipped and dropped.
    pub fn summary(&self, files: usize, sessions: usize) -> String {
        let skipped = if self.skipped.is_empty() {
            String::new()
        } else {
            let parts: Vec<String> = self
                .skipped
                .iter()
                .map(|(k, v)| format!("{v} {k}"))
                .collect();
            format!(" (skipped: {})", parts.join(", "))
        };
        format!(
            "{files} file(s), {} packets, {} bytes, {} TCP flows, {sessions} mining session(s); {} packets not decoded{skipped}; flows evicted: {} for capacity, {} idle; IP fragments: {} read, {} datagrams reassembled, {} given up",
            self.packets,
            self.bytes,
            self.flows,
            self.skipped_total(),
            self.evicted_capacity,
            self.evicted_idle,
            self.fragments,
            self.reassembled,
            self.reassembly_dropped
        )
    }

    /// The notes beside the summary, a line each: inspector faults (a warning), DNS-over-TCP
    /// messages not read.
    pub fn notes(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.inspector_faults > 0 {
            out.push(format!(
                "warning: {} inspector fault(s): a parser failed on a flow, whose state was dropped; please report this with the capture",
                self.inspector_faults
            ));
        }
        if self.dns_tcp_split > 0 {
            out.push(format!(
                "{} DNS-over-TCP message(s) spanning segments were not read",
                self.dns_tcp_split
            ));
        }
        out
    }

    pub(crate) fn skip(&mut self, why: Skip, count: u64) {
        let key = match why {
            Skip::UnsupportedLink(l) => format!("unsupported link type {l}"),
            other => other.name().to_string(),
        };
        *self.skipped.entry(key).or_default() += count;
    }
}
