//! The scan engine: decoded packets into flows, flows into mining detections.

use crate::behaviour::BlockTimes;
pub use crate::conclude::POOL_ANSWER_CONFIDENCE;
use crate::conclude::{Flow, Inspect, Sink, absorb};
use crate::decode::{Decoded, Decoding, Skip, Transport, decode_full, tcp_flags, transport};
use crate::flow::defrag::{Datagram, Defragmenter};
use crate::flow::table::{Eviction, FlowKey, FlowTable, Side, share};
use crate::inspect::{Inspector, Verdict};
use crate::intelflow::{IntelState, lock};
use crate::pair;
use crate::source::{Capture, ReadReport, Readers, SourceError};
pub use crate::stats::ScanStats;
use minewatch_model::{Detection, Traffic};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// Settings of a scan.
#[derive(Clone, Debug)]
pub struct ScanConfig {
    /// Flows held at most (per worker thread); the least recently seen make room.
    pub max_flows: usize,
    /// A flow with no packet for this long (capture time, ns) is finished.
    pub idle_timeout_ns: i64,
    /// Worker threads (1: everything on the calling thread).
    pub threads: usize,
    /// Pool intelligence for DNS, TLS SNI, HTTP Host and address evidence (None: Stratum only).
    pub intel: Option<Arc<minewatch_intel::Intel>>,
    /// Block times per coin, for the behaviour detector's block rhythm (may be empty).
    pub block_times: Arc<Vec<BlockTimes>>,
}

impl Default for ScanConfig {
    fn default() -> Self {
        ScanConfig {
            max_flows: 1_000_000,
            // Stratum keeps connections open for hours with a message every few seconds to
            // minutes; ten quiet minutes means the session is over.
            idle_timeout_ns: 600 * 1_000_000_000,
            threads: 1,
            intel: Some(crate::intelflow::built_in()),
            block_times: Arc::new(Vec::new()),
        }
    }
}

/// Runs one flow's (or one DNS message's) inspection behind a fault boundary: a panic in a
/// parser costs that flow, not the scan. The caller drops the flow's state when this is `None`.
/// Nothing is shared across the boundary but the flow's own state and counters, which the
/// caller throws away on a fault, so observing them half-updated cannot happen.
fn guarded<T>(stats: &mut ScanStats, f: impl FnOnce() -> T) -> Option<T> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(v) => Some(v),
        Err(_) => {
            stats.inspector_faults += 1;
            None
        }
    }
}

/// Reads the DNS messages of a packet to or from port 53 into `intel`, behind the fault
/// boundary (a fault counted in `stats`).
fn feed_dns(
    intel: &Option<Arc<Mutex<IntelState>>>,
    stats: &mut ScanStats,
    d: &Decoded<'_>,
    ts: i64,
) {
    let Some(st) = intel else { return };
    let from_server = d.sport == 53;
    guarded(stats, || match d.transport {
        Transport::Udp => lock(st).dns(d.payload, d.src, d.dst, from_server, ts),
        Transport::Tcp { .. } => lock(st).dns_tcp(d.payload, d.src, d.dst, from_server, ts),
    });
}

/// One scanning worker: a flow table and what finished flows produced.
pub struct Scanner {
    cfg: ScanConfig,
    table: FlowTable<Flow>,
    sink: Sink,
    last_sweep: i64,
    defrag: Defragmenter,
    part: Part,
}

/// Which share of a capture's flows a scanner tracks when several read the same capture.
///
/// Every worker reads the whole capture and decodes every frame; it tracks the TCP flows whose
/// direction-independent hash falls to it, and the first worker also everything else (UDP,
/// skipped frames, the fragments' frames). DNS is read by all of them, each into its own
/// intelligence state, so each knows a pool's addresses before its own later flows to them,
/// in file order, whatever the other threads are doing.
#[derive(Clone, Copy, Debug)]
struct Part {
    me: usize,
    of: usize,
}

impl Part {
    const WHOLE: Part = Part { me: 0, of: 1 };

    /// True for the worker that counts what belongs to no flow.
    fn first(self) -> bool {
        self.me == 0
    }

    /// True when the packet `d` is this worker's to count and track.
    fn owns(self, d: &Decoded<'_>) -> bool {
        self.of == 1
            || match d.transport {
                Transport::Tcp { .. } => {
                    share(&d.src, d.sport, &d.dst, d.dport, self.of) == self.me
                }
                Transport::Udp => self.first(),
            }
    }
}

impl Scanner {
    /// A new scanner.
    pub fn new(cfg: &ScanConfig) -> Scanner {
        Scanner::part(cfg, Part::WHOLE)
    }

    /// A scanner tracking `part` of the flows.
    fn part(cfg: &ScanConfig, part: Part) -> Scanner {
        let intel = cfg
            .intel
            .clone()
            .map(|i| Arc::new(Mutex::new(IntelState::new(i))));
        Scanner {
            cfg: cfg.clone(),
            table: FlowTable::new(cfg.max_flows),
            sink: Sink {
                intel,
                blocks: cfg.block_times.clone(),
                ..Sink::default()
            },
            last_sweep: i64::MIN,
            defrag: Defragmenter::default(),
            part,
        }
    }

    /// Registers an input file; packets then name it by the returned index.
    pub fn add_file(&mut self, name: Arc<str>) -> u32 {
        self.sink.files.push(name);
        (self.sink.files.len() - 1) as u32
    }

    /// Counts a frame that could not be decoded.
    pub fn skipped(&mut self, why: Skip, bytes: usize) {
        self.skipped_many(why, 1, bytes as u64);
    }

    /// Counts `count` frames of `bytes` in all that could not be decoded for the same reason.
    pub fn skipped_many(&mut self, why: Skip, count: u64, bytes: u64) {
        self.sink.stats.packets += count;
        self.sink.stats.bytes += bytes;
        self.sink.stats.skip(why, count);
    }

    /// Feeds one captured frame: decoded, fragments reassembled, tracked.
    pub fn frame(&mut self, link: u32, data: &[u8], ts: i64, number: u64, file: u32) {
        match decode_full(link, data) {
            Ok(Decoding::Packet(d)) => self.packet(&d, ts, number, file, data.len()),
            Ok(Decoding::Fragment(f)) => {
                if self.part.first() {
                    self.count_frame(data.len() as u64);
                }
                if let Some(dg) = self.defrag.push(&f, ts) {
                    self.datagram(&dg, ts, number, file);
                }
            }
            Err(why) if self.part.first() => self.skipped(why, data.len()),
            Err(_) => {}
        }
    }

    /// Feeds a datagram reassembled from fragments (its frames are already counted).
    pub fn datagram(&mut self, dg: &Datagram, ts: i64, number: u64, file: u32) {
        let ip_len = (dg.payload.len() + 20) as u32;
        match transport(dg.src, dg.dst, dg.proto, &dg.payload, ip_len, dg.encap) {
            Ok(d) if self.part.owns(&d) => self.track(&d, ts, number, file),
            Ok(d) => self.dns_only(&d, ts),
            Err(why) if self.part.first() => self.sink.stats.skip(why, 1),
            Err(_) => {}
        }
    }

    fn count_frame(&mut self, bytes: u64) {
        self.sink.stats.packets += 1;
        self.sink.stats.bytes += bytes;
    }

    /// Feeds one decoded packet.
    pub fn packet(&mut self, d: &Decoded<'_>, ts: i64, number: u64, file: u32, frame_len: usize) {
        if self.part.owns(d) {
            self.count_frame(frame_len as u64);
            self.track(d, ts, number, file);
        } else {
            self.dns_only(d, ts);
        }
    }

    /// Reads the DNS in a packet another worker tracks: into this worker's own intelligence,
    /// its faults counted by the packet's owner (which reads it too).
    fn dns_only(&mut self, d: &Decoded<'_>, ts: i64) {
        if d.sport == 53 || d.dport == 53 {
            feed_dns(&self.sink.intel, &mut ScanStats::default(), d, ts);
        }
    }

    fn track(&mut self, d: &Decoded<'_>, ts: i64, number: u64, file: u32) {
        let stats = &mut self.sink.stats;
        if d.sport == 53 || d.dport == 53 {
            feed_dns(&self.sink.intel, stats, d, ts);
        }
        let Transport::Tcp { seq, ack, flags } = d.transport else {
            stats.udp_packets += 1;
            return;
        };
        stats.tcp_packets += 1;
        if ts.saturating_sub(self.last_sweep) > 1_000_000_000 {
            self.last_sweep = ts;
            let deadline = ts.saturating_sub(self.cfg.idle_timeout_ns);
            let Scanner { table, sink, .. } = self;
            table.expire(deadline, |f| f.last_ts, &mut |k, f, _| sink.finish(k, f));
        }
        let (key, side) = FlowKey::of(&d.src, d.sport, &d.dst, d.dport, 6);
        let Scanner { table, sink, .. } = self;
        let mut created = false;
        let flow = table.get_or_insert(
            key,
            || {
                created = true;
                Flow {
                    first_ts: ts,
                    last_ts: ts,
                    first_packet: number,
                    file,
                    traffic: [Traffic::default(); 2],
                    syn_from: None,
                    fin: [false; 2],
                    encap: d.encap,
                    inspect: Inspect::Waiting([None; 2]),
                    finding: None,
                    shape: None,
                    tls_client: None,
                    fingerprint: None,
                }
            },
            &mut |k, f, why| {
                debug_assert!(why == Eviction::Capacity);
                sink.finish(k, f)
            },
        );
        if created {
            sink.stats.flows += 1;
            if let Some(st) = &sink.intel {
                let mut st = lock(st);
                flow.finding = st
                    .address(d.dst, d.dport, ts)
                    .or_else(|| st.address(d.src, d.sport, ts))
                    .map(Box::new);
            }
        }
        flow.last_ts = flow.last_ts.max(ts);
        let t = pair::of_mut(&mut flow.traffic, side.index());
        t.packets += 1;
        t.bytes += u64::from(d.ip_len);
        let syn = flags & tcp_flags::SYN != 0;
        if syn && flags & tcp_flags::ACK == 0 {
            flow.syn_from = Some(side);
        }
        if let Inspect::Waiting(syns) = &mut flow.inspect {
            if !d.payload.is_empty() {
                let mut ins = Box::<Inspector>::default();
                for (i, s) in syns.iter().enumerate() {
                    if let Some(seq) = *s {
                        ins.segment(i, seq, None, true, &[], ts);
                    }
                }
                flow.inspect = Inspect::Active(ins);
            } else if syn {
                *pair::of_mut(syns, side.index()) = Some(seq);
            }
        }
        if let Inspect::Active(ins) = &mut flow.inspect {
            let ack = (flags & tcp_flags::ACK != 0).then_some(ack);
            let verdict = guarded(&mut sink.stats, || {
                ins.segment(side.index(), seq, ack, syn, d.payload, ts)
            });
            if verdict.is_none() {
                // The inspector panicked: its state is not to be trusted, so the flow is
                // tracked on as ignored (counted in `inspector_faults`).
                flow.inspect = Inspect::Ignored;
            } else if verdict == Some(Verdict::Ignore) {
                absorb(&sink.intel, ins, &mut flow.finding);
                if let (Some(ch), Some(st)) = (&ins.tls, &sink.intel) {
                    flow.fingerprint = lock(st).fingerprint(ch).map(String::into_boxed_str);
                }
                // A direction in a known plaintext framing says what the flow is; a miner
                // cannot hide there without breaking that framing.
                if ins.opaque && ins.plain.is_none() {
                    flow.shape = Some(Box::default());
                    flow.tls_client = ins
                        .tls_from
                        .map(|i| if i == 0 { Side::Lo } else { Side::Hi });
                }
                sink.stats.junk_lines += ins.junk_lines;
                sink.stats.oversized += ins.oversized;
                sink.stats.ignored_flows += 1;
                flow.inspect = Inspect::Ignored;
            }
        } else if let Some(sh) = &mut flow.shape {
            sh.packet(side.index(), d.payload.len(), ts, &sink.blocks);
        }
        if flags & tcp_flags::FIN != 0 {
            *pair::of_mut(&mut flow.fin, side.index()) = true;
        }
        if (flags & tcp_flags::RST != 0 || flow.fin == [true, true])
            && let Some(f) = table.remove(&key)
        {
            sink.finish(key, f);
        }
    }

    /// Finishes every flow still open and returns the detections and counters.
    pub fn finish(mut self) -> (Vec<Detection>, ScanStats) {
        let lookups_elsewhere = !self.part.first();
        let Scanner {
            table,
            sink,
            defrag,
            ..
        } = &mut self;
        table.drain(&mut |k, f| sink.finish(k, f));
        let lookups = if lookups_elsewhere {
            Vec::new()
        } else {
            sink.intel
                .as_ref()
                .map(|i| {
                    let mut i = lock(i);
                    sink.stats.dns_tcp_split += std::mem::take(&mut i.dns_tcp_split);
                    i.drain()
                })
                .unwrap_or_default()
        };
        sink.report_lookups(lookups);
        sink.stats.evicted_capacity += table.evicted_capacity;
        sink.stats.evicted_idle += table.evicted_idle;
        // Every worker reassembles every fragment; the first counts them.
        if !lookups_elsewhere {
            sink.stats.add_defrag(&defrag.stats);
        }
        (
            std::mem::take(&mut sink.detections),
            std::mem::take(&mut sink.stats),
        )
    }

    /// Flows currently held.
    pub fn flows_held(&self) -> usize {
        self.table.len()
    }
}

/// Result of scanning a set of files.
pub struct ScanOutput {
    /// Mining sessions, in order of first packet.
    pub detections: Vec<Detection>,
    /// Counters.
    pub stats: ScanStats,
    /// Per file: what reading it came to.
    pub files: Vec<(PathBuf, Result<ReadReport, SourceError>)>,
}

/// Scans capture files in the order given (a session may run on from one file into the next).
/// `progress` is called with the bytes read so far.
pub fn scan_files(
    files: &[PathBuf],
    cfg: &ScanConfig,
    progress: &(dyn Fn(u64) + Sync),
) -> ScanOutput {
    let threads = cfg.threads.max(1);
    let mut scanners: Vec<Scanner> = (0..threads)
        .map(|me| Scanner::part(cfg, Part { me, of: threads }))
        .collect();
    let mut reports = Vec::new();
    let mut done = 0u64;
    for path in files {
        let name: Arc<str> = Arc::from(path.display().to_string());
        let mut idx = 0;
        for s in &mut scanners {
            idx = s.add_file(name.clone());
        }
        let cap = match Capture::open(path) {
            Ok(c) => c,
            Err(e) => {
                reports.push((path.clone(), Err(e)));
                continue;
            }
        };
        let r = match &mut scanners[..] {
            [one] => scan_one(&cap, one, idx, done, progress),
            [first, rest @ ..] => scan_parallel(&cap, first, rest, idx, done, progress),
            [] => unreachable!("at least one scanner"),
        };
        done += cap.bytes().len() as u64;
        progress(done);
        reports.push((path.clone(), r));
    }
    let mut detections = Vec::new();
    let mut stats = ScanStats::default();
    for s in scanners {
        let (d, st) = s.finish();
        detections.extend(d);
        stats.merge(&st);
    }
    detections.sort_by(|a, b| {
        (
            a.event.start,
            a.source.ip,
            a.source.port,
            a.destination.ip,
            a.destination.port,
        )
            .cmp(&(
                b.event.start,
                b.source.ip,
                b.source.port,
                b.destination.ip,
                b.destination.port,
            ))
    });
    ScanOutput {
        detections,
        stats,
        files: reports,
    }
}

const PROGRESS_EVERY: u64 = 4 << 20;

fn scan_one(
    cap: &Capture,
    s: &mut Scanner,
    file: u32,
    base: u64,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<ReadReport, SourceError> {
    let mut next_progress = PROGRESS_EVERY;
    cap.for_each(|p| {
        if p.offset > next_progress {
            next_progress = p.offset + PROGRESS_EVERY;
            progress(base + p.offset);
        }
        s.frame(p.linktype, p.data, p.ts_ns, p.number, file);
    })
}

/// Scans one capture with several workers, each on a thread of its own reading the whole
/// capture through a map of its own (`rest`), the first on the calling thread (it shows the
/// progress and its reading's report is the file's).
///
/// Each reads and decodes every frame and tracks its part of the flows (see [`Part`]): no
/// packet crosses between threads, which costs every worker the reading and decoding of the
/// whole capture (a fifth of a scan of real traffic) but no hand-off. A reader thread handing
/// decoded packets to workers over channels was tried first: its hand-off cost a third more
/// CPU than scanning on one thread (docs/PERFORMANCE.md).
fn scan_parallel(
    cap: &Capture,
    first: &mut Scanner,
    rest: &mut [Scanner],
    file: u32,
    base: u64,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<ReadReport, SourceError> {
    let readers = &Readers::new(rest.len() + 1);
    let (mine, others) = std::thread::scope(|scope| {
        let others: Vec<_> = rest
            .iter_mut()
            .zip(1..)
            .map(|(s, me)| {
                scope.spawn(move || {
                    cap.for_each_among(readers, me, |p| {
                        s.frame(p.linktype, p.data, p.ts_ns, p.number, file)
                    })
                })
            })
            .collect();
        let mut next_progress = PROGRESS_EVERY;
        let mine = cap.for_each_among(readers, 0, |p| {
            if p.offset > next_progress {
                next_progress = p.offset + PROGRESS_EVERY;
                progress(base + p.offset);
            }
            first.frame(p.linktype, p.data, p.ts_ns, p.number, file);
        });
        let others: Vec<_> = others
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect();
        (mine, others)
    });
    // A worker that could not read the whole file (it shrank, or vanished before its map was
    // made) tracked less than its part: the file's report says so.
    match others.into_iter().find_map(Result::err) {
        Some(e) if mine.is_ok() => Err(e),
        _ => mine,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::decode;
    use crate::inspect::TEST_FAULT;
    use crate::synth::sessions::corpus;
    use crate::synth::tcp::{Conversation, Dir, Shape};
    use std::net::IpAddr;

    /// Scans frames and writes the detections as JSON lines, without the times of the
    /// difficulties (a line is read when its last byte comes).
    fn scanned(linktype: u32, frames: &[(i64, Vec<u8>)]) -> (String, ScanStats) {
        let mut s = Scanner::new(&ScanConfig::default());
        for (i, (t, f)) in frames.iter().enumerate() {
            s.frame(linktype, f, *t, i as u64 + 1, 0);
        }
        let (detections, stats) = s.finish();
        let lines = detections
            .iter()
            .map(|d| {
                let mut v = serde_json::to_value(d).unwrap();
                for w in v["mining"]["difficulty"].as_array_mut().unwrap() {
                    w["at"] = serde_json::Value::Null;
                }
                v.to_string() + "\n"
            })
            .collect();
        (lines, stats)
    }

    /// A flow gets its inspector with its first byte of payload, and the SYN before it still
    /// says where the stream starts: the client's first two segments swapped in flight are
    /// put back in order, so every session of the corpus reads as it did in order.
    #[test]
    fn the_inspector_made_at_the_first_payload_starts_from_the_syn() {
        let mut swapped_any = 0;
        for sc in corpus() {
            let (want, in_order) = scanned(sc.linktype, &sc.frames);
            // The first two frames in a row with payload from one side (with nothing from
            // the other between: its acknowledgement would say the first was lost).
            let payload_from = |f: &[u8]| match decode(sc.linktype, f) {
                Ok(d) if !d.payload.is_empty() => Some(d.src),
                _ => None,
            };
            let from: Vec<Option<IpAddr>> =
                sc.frames.iter().map(|(_, f)| payload_from(f)).collect();
            let Some(first) =
                (1..from.len()).find(|&i| from[i].is_some() && from[i] == from[i - 1])
            else {
                continue;
            };
            // Joined mid-session, the stream starts where the capture does: nothing to say.
            let syn_from = |f: &[u8]| {
                decode(sc.linktype, f).is_ok_and(|d| {
                    matches!(d.transport, Transport::Tcp { flags, .. } if flags & tcp_flags::SYN != 0)
                        && Some(d.src) == from[first]
                })
            };
            if !sc.frames.iter().any(|(_, f)| syn_from(f)) {
                continue;
            }
            // The bytes swapped, the capture's times kept.
            let mut frames = sc.frames.clone();
            let (a, b) = (frames[first - 1].1.clone(), frames[first].1.clone());
            (frames[first - 1].1, frames[first].1) = (b, a);
            let (got, stats) = scanned(sc.linktype, &frames);
            assert_eq!(got, want, "{:?}", sc.truth);
            assert_eq!(stats.gaps, in_order.gaps);
            swapped_any += 1;
        }
        assert!(swapped_any > 10, "{swapped_any} sessions swapped");
    }

    /// A parser that panics on one flow costs that flow: every mining session of the corpus is
    /// still reported and the fault is counted.
    #[test]
    fn a_panicking_inspector_costs_its_flow_not_the_scan() {
        let scenarios = corpus();
        let mut bad = Conversation::new(
            ("192.0.2.66".parse().unwrap(), 40000),
            ("198.51.100.66".parse().unwrap(), 3333),
            Shape::default(),
        );
        bad.open(1_000);
        bad.send(2_000, Dir::Up, &[TEST_FAULT.to_vec()]);
        bad.send(3_000, Dir::Up, &[b"more after the fault".to_vec()]);
        bad.close(4_000);
        let reference = {
            let mut s = Scanner::new(&ScanConfig::default());
            for sc in &scenarios {
                for (i, (t, f)) in sc.frames.iter().enumerate() {
                    s.frame(sc.linktype, f, *t, i as u64 + 1, 0);
                }
            }
            s.finish()
        };
        assert!(!reference.0.is_empty());
        assert_eq!(reference.1.inspector_faults, 0);
        let mut s = Scanner::new(&ScanConfig::default());
        for (i, (t, f)) in bad.frames.iter().enumerate() {
            s.frame(crate::decode::linktype::ETHERNET, f, *t, i as u64 + 1, 0);
        }
        for sc in &scenarios {
            for (i, (t, f)) in sc.frames.iter().enumerate() {
                s.frame(sc.linktype, f, *t, i as u64 + 1, 0);
            }
        }
        let (detections, stats) = s.finish();
        assert_eq!(stats.inspector_faults, 1);
        assert_eq!(detections.len(), reference.0.len());
        assert_eq!(stats.flows, reference.1.flows + 1);
    }
}
