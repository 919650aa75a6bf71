//! The scan engine: decoded packets into flows, flows into mining detections.

use crate::behaviour::BlockTimes;
pub use crate::conclude::POOL_ANSWER_CONFIDENCE;
use crate::conclude::{Flow, Inspect, Sink, absorb};
use crate::decode::{Decoded, Decoding, Skip, Transport, decode_full, tcp_flags, transport};
use crate::flow::defrag::{Datagram, Defragmenter};
use crate::flow::table::{Eviction, FlowKey, FlowTable, Side};
use crate::inspect::Verdict;
use crate::intelflow::{IntelState, lock};
use crate::pair;
use crate::source::{Capture, ReadReport, SourceError};
pub use crate::stats::ScanStats;
use minewatch_model::{Detection, Traffic};
use std::collections::BTreeMap;
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

/// One scanning worker: a flow table and what finished flows produced.
pub struct Scanner {
    cfg: ScanConfig,
    table: FlowTable<Flow>,
    sink: Sink,
    last_sweep: i64,
    defrag: Defragmenter,
    dns_elsewhere: bool,
    lookups_elsewhere: bool,
}

impl Scanner {
    /// A new scanner.
    pub fn new(cfg: &ScanConfig) -> Scanner {
        let shared = cfg
            .intel
            .clone()
            .map(|i| Arc::new(Mutex::new(IntelState::new(i))));
        Scanner::with_shared(cfg, shared, false)
    }

    /// A scanner sharing intelligence state with others; `dns_elsewhere` when a reader thread
    /// feeds DNS to the shared state itself.
    fn with_shared(
        cfg: &ScanConfig,
        intel: Option<Arc<Mutex<IntelState>>>,
        dns_elsewhere: bool,
    ) -> Scanner {
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
            dns_elsewhere,
            lookups_elsewhere: false,
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
                self.count_frame(data.len() as u64);
                if let Some(dg) = self.defrag.push(&f, ts) {
                    self.datagram(&dg, ts, number, file);
                }
            }
            Err(why) => self.skipped(why, data.len()),
        }
    }

    /// Feeds a datagram reassembled from fragments (its frames are already counted).
    pub fn datagram(&mut self, dg: &Datagram, ts: i64, number: u64, file: u32) {
        let ip_len = (dg.payload.len() + 20) as u32;
        match transport(dg.src, dg.dst, dg.proto, &dg.payload, ip_len, dg.encap) {
            Ok(d) => self.track(&d, ts, number, file),
            Err(why) => self.sink.stats.skip(why, 1),
        }
    }

    fn count_frame(&mut self, bytes: u64) {
        self.sink.stats.packets += 1;
        self.sink.stats.bytes += bytes;
    }

    /// Feeds one decoded packet.
    pub fn packet(&mut self, d: &Decoded<'_>, ts: i64, number: u64, file: u32, frame_len: usize) {
        self.count_frame(frame_len as u64);
        self.track(d, ts, number, file);
    }

    fn track(&mut self, d: &Decoded<'_>, ts: i64, number: u64, file: u32) {
        let stats = &mut self.sink.stats;
        let Transport::Tcp { seq, ack, flags } = d.transport else {
            stats.udp_packets += 1;
            if !self.dns_elsewhere
                && (d.sport == 53 || d.dport == 53)
                && let Some(st) = &self.sink.intel
            {
                guarded(stats, || {
                    lock(st).dns(d.payload, d.src, d.dst, d.sport == 53, ts)
                });
            }
            return;
        };
        stats.tcp_packets += 1;
        if !self.dns_elsewhere
            && (d.sport == 53 || d.dport == 53)
            && let Some(st) = &self.sink.intel
        {
            guarded(stats, || {
                lock(st).dns_tcp(d.payload, d.src, d.dst, d.sport == 53, ts)
            });
        }
        if ts.saturating_sub(self.last_sweep) > 1_000_000_000 {
            self.last_sweep = ts;
            let deadline = ts.saturating_sub(self.cfg.idle_timeout_ns);
            let Scanner { table, sink, .. } = self;
            table.expire(deadline, |f| f.last_ts, &mut |k, f, _| sink.finish(k, f));
        }
        let (key, side) = FlowKey::new(d.src, d.sport, d.dst, d.dport, 6);
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
                    inspect: Inspect::Active(Box::default()),
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
        let lookups_elsewhere = self.lookups_elsewhere;
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
        sink.stats.add_defrag(&defrag.stats);
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
    // One intelligence state for all workers: DNS answers the reader sees name the pools of flows
    // that any worker tracks. Only the first worker reports the DNS lookups.
    let shared = cfg
        .intel
        .clone()
        .map(|i| Arc::new(Mutex::new(IntelState::new(i))));
    let mut scanners: Vec<Scanner> = (0..threads)
        .map(|w| {
            let mut s = Scanner::with_shared(cfg, shared.clone(), threads > 1);
            s.lookups_elsewhere = w > 0;
            s
        })
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
            many => scan_parallel(&cap, many, idx, done, progress),
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

enum Job<'a> {
    /// A packet borrowed from the capture.
    Packet {
        d: Decoded<'a>,
        ts: i64,
        number: u64,
        len: usize,
    },
    /// A datagram the reader reassembled from fragments.
    Datagram { dg: Datagram, ts: i64, number: u64 },
}

fn worker_for(d: &Decoded<'_>, n: usize) -> usize {
    match d.transport {
        Transport::Tcp { .. } => {
            (FlowKey::new(d.src, d.sport, d.dst, d.dport, 6)
                .0
                .spread_hash()
                % n as u64) as usize
        }
        Transport::Udp => 0,
    }
}

const BATCH: usize = 512;

fn scan_parallel(
    cap: &Capture,
    scanners: &mut [Scanner],
    file: u32,
    base: u64,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<ReadReport, SourceError> {
    let n = scanners.len();
    let intel = scanners.first().and_then(|s| s.sink.intel.clone());
    let (r, skips, reader) = std::thread::scope(|scope| {
        let mut senders = Vec::with_capacity(n);
        for s in scanners.iter_mut() {
            let (tx, rx) = crossbeam_channel::bounded::<Vec<Job<'_>>>(16);
            senders.push(tx);
            scope.spawn(move || {
                for batch in rx {
                    for j in batch {
                        match j {
                            Job::Packet { d, ts, number, len } => {
                                s.packet(&d, ts, number, file, len)
                            }
                            Job::Datagram { dg, ts, number } => s.datagram(&dg, ts, number, file),
                        }
                    }
                }
            });
        }
        let mut batches: Vec<Vec<Job<'_>>> = (0..n).map(|_| Vec::with_capacity(BATCH)).collect();
        let mut skips: BTreeMap<SkipKey, (Skip, u64, u64)> = BTreeMap::new();
        // Fragments carry no ports, so the reader reassembles them before it can dispatch.
        let mut defrag = Defragmenter::default();
        let mut fragment_frames = (0u64, 0u64);
        // The reader's own counters (faults caught around the DNS it reads).
        let mut reader_stats = ScanStats::default();
        let mut next_progress = PROGRESS_EVERY;
        let r = cap.for_each(|p| {
            if p.offset > next_progress {
                next_progress = p.offset + PROGRESS_EVERY;
                progress(base + p.offset);
            }
            let job = match decode_full(p.linktype, p.data) {
                Ok(Decoding::Packet(d))
                    if d.transport == Transport::Udp && (d.sport == 53 || d.dport == 53) =>
                {
                    // DNS feeds the shared state here, before any later flow is dispatched.
                    if let Some(st) = &intel {
                        guarded(&mut reader_stats, || {
                            lock(st).dns(d.payload, d.src, d.dst, d.sport == 53, p.ts_ns)
                        });
                    }
                    Some((
                        0,
                        Job::Packet {
                            d,
                            ts: p.ts_ns,
                            number: p.number,
                            len: p.data.len(),
                        },
                    ))
                }
                Ok(Decoding::Packet(d)) => Some((
                    {
                        if d.sport == 53 || d.dport == 53 {
                            // DNS over TCP, like UDP above, before later flows are dispatched.
                            if let Some(st) = &intel {
                                guarded(&mut reader_stats, || {
                                    lock(st).dns_tcp(
                                        d.payload,
                                        d.src,
                                        d.dst,
                                        d.sport == 53,
                                        p.ts_ns,
                                    )
                                });
                            }
                        }
                        worker_for(&d, n)
                    },
                    Job::Packet {
                        d,
                        ts: p.ts_ns,
                        number: p.number,
                        len: p.data.len(),
                    },
                )),
                Ok(Decoding::Fragment(f)) => {
                    fragment_frames.0 += 1;
                    fragment_frames.1 += p.data.len() as u64;
                    defrag.push(&f, p.ts_ns).map(|dg| {
                        let w = transport(dg.src, dg.dst, dg.proto, &dg.payload, 0, dg.encap)
                            .map(|d| worker_for(&d, n))
                            .unwrap_or(0);
                        (
                            w,
                            Job::Datagram {
                                dg,
                                ts: p.ts_ns,
                                number: p.number,
                            },
                        )
                    })
                }
                Err(why) => {
                    let e = skips.entry(SkipKey::of(why)).or_insert((why, 0, 0));
                    e.1 += 1;
                    e.2 += p.data.len() as u64;
                    None
                }
            };
            // `w` is a hash modulo the worker count: every worker has a batch and a sender.
            if let Some((w, job)) = job
                && let (Some(batch), Some(to)) = (batches.get_mut(w), senders.get(w))
            {
                batch.push(job);
                if batch.len() >= BATCH {
                    let full = std::mem::replace(batch, Vec::with_capacity(BATCH));
                    // A worker only stops when its channel closes, so send cannot fail.
                    let _ = to.send(full);
                }
            }
        });
        for (b, to) in batches.into_iter().zip(&senders) {
            if !b.is_empty() {
                let _ = to.send(b);
            }
        }
        drop(senders);
        (r, skips, (defrag.stats, fragment_frames, reader_stats))
    });
    // The reader's own counts go to the first worker (there is always one).
    if let Some(first) = scanners.first_mut() {
        for (why, count, bytes) in skips.into_values() {
            first.skipped_many(why, count, bytes);
        }
        let (dstats, (frames, bytes), reader_stats) = reader;
        first.sink.stats.merge(&reader_stats);
        first.sink.stats.packets += frames;
        first.sink.stats.bytes += bytes;
        first.sink.stats.add_defrag(&dstats);
    }
    r
}

/// An orderable key for counting skips by reason (and link type).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct SkipKey(u8, u32);

impl SkipKey {
    fn of(s: Skip) -> SkipKey {
        match s {
            Skip::UnsupportedLink(l) => SkipKey(0, l),
            Skip::NotIp => SkipKey(1, 0),
            Skip::Malformed => SkipKey(2, 0),
            Skip::Fragment => SkipKey(3, 0),
            Skip::OtherTransport => SkipKey(4, 0),
            Skip::TooDeep => SkipKey(5, 0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inspect::TEST_FAULT;
    use crate::synth::sessions::corpus;
    use crate::synth::tcp::{Conversation, Dir, Shape};

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
