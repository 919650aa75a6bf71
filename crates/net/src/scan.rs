//! The scan engine: decoded packets into flows, flows into mining detections.

use crate::behaviour::{BlockTimes, Judgement, Shape};
use crate::decode::{Decoded, Decoding, Encap, Skip, Transport, decode_full, tcp_flags, transport};
use crate::flow::defrag::{Datagram, DefragStats, Defragmenter};
use crate::flow::table::{Eviction, FlowKey, FlowTable, Side};
use crate::inspect::{Inspector, Verdict};
use crate::intelflow::{Finding, IntelState, Lookup};
use crate::session::REPORT_THRESHOLD;
use crate::source::{Capture, ReadReport, SourceError};
use minewatch_model::detection::{Event, Input, Network, Timestamp};
use minewatch_model::{Detection, Endpoint, Traffic};
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

    fn add_defrag(&mut self, d: &DefragStats) {
        self.fragments += d.fragments;
        self.reassembled += d.completed;
        self.reassembly_dropped += d.evicted + d.expired + d.invalid;
    }

    /// Frames skipped in all.
    pub fn skipped_total(&self) -> u64 {
        self.skipped.values().sum()
    }

    fn skip(&mut self, why: Skip, count: u64) {
        let key = match why {
            Skip::UnsupportedLink(l) => format!("unsupported link type {l}"),
            other => other.name().to_string(),
        };
        *self.skipped.entry(key).or_default() += count;
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

/// Locks the shared intelligence state, taking it over from a worker that panicked while
/// holding it (the fault boundary already counted that panic; DNS maps stay consistent
/// because each insert is one call).
fn lock(st: &Mutex<IntelState>) -> std::sync::MutexGuard<'_, IntelState> {
    st.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

enum Inspect {
    Ignored,
    Active(Box<Inspector>),
}

struct Flow {
    first_ts: i64,
    last_ts: i64,
    first_packet: u64,
    file: u32,
    traffic: [Traffic; 2],
    syn_from: Option<Side>,
    fin: [bool; 2],
    encap: Encap,
    inspect: Inspect,
    finding: Option<Finding>,
    /// Behaviour of an encrypted or unknown flow (boxed: most flows never need one).
    shape: Option<Box<Shape>>,
    /// The side that sent a TLS ClientHello.
    tls_client: Option<Side>,
    /// Evidence that the ClientHello is a listed miner's.
    fingerprint: Option<Box<str>>,
}

/// Where finished flows go: detections and counters.
#[derive(Default)]
struct Sink {
    files: Vec<Arc<str>>,
    detections: Vec<Detection>,
    stats: ScanStats,
    intel: Option<Arc<Mutex<IntelState>>>,
    blocks: Arc<Vec<BlockTimes>>,
}

/// Takes what an inspector learnt about the flow's counterpart (TLS SNI, HTTP Host) into its
/// finding; a name found in the flow outranks an address known beforehand.
fn absorb(intel: &Option<Arc<Mutex<IntelState>>>, ins: &Inspector, finding: &mut Option<Finding>) {
    if let Some(st) = intel {
        let st = lock(st);
        if let Some(f) = ins.tls.as_ref().and_then(|ch| st.tls(ch)) {
            *finding = Some(f);
        } else if let Some(f) = ins
            .http_host
            .as_ref()
            .and_then(|(_, h)| st.http(h, ins.websocket))
        {
            *finding = Some(f);
        }
    }
    refused_in_stratum(ins, finding);
}

/// A miner configured for TLS meeting a pool that speaks only plaintext: the client's
/// ClientHello got a Stratum error line back. That answer is a pool's on its own (no list
/// needed); with a listed name it strengthens the name.
fn refused_in_stratum(ins: &Inspector, finding: &mut Option<Finding>) {
    let Some(msg) = &ins.stratum_refusal else {
        return;
    };
    let clean: String = msg
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let code = format!("answer:stratum-error-to-tls:{clean}");
    match finding {
        Some(f) => {
            f.confidence = (f.confidence + 0.1).min(0.95);
            f.evidence.push(code);
        }
        None => {
            let sni = ins.tls.as_ref().and_then(|ch| ch.sni.clone());
            let mut evidence = Vec::new();
            if let Some(s) = &sni {
                evidence.push(format!("sni:{s}"));
            }
            evidence.push(code);
            *finding = Some(Finding {
                detector: "pool-answer",
                protocol: "tls",
                host: sni.unwrap_or_default(),
                hit: None,
                confidence: POOL_ANSWER_CONFIDENCE,
                evidence,
            });
        }
    }
}

/// Confidence of a server that answered a TLS ClientHello in Stratum's error shape.
pub const POOL_ANSWER_CONFIDENCE: f32 = 0.8;

impl Sink {
    /// Turns a finished flow into its detection, if any, behind the fault boundary: a panic
    /// while concluding costs this flow's detection and is counted.
    fn finish(&mut self, key: FlowKey, flow: Flow) {
        let concluded =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.conclude(key, flow)));
        if concluded.is_err() {
            self.stats.inspector_faults += 1;
        }
    }

    fn conclude(&mut self, key: FlowKey, mut flow: Flow) {
        let inspect = std::mem::replace(&mut flow.inspect, Inspect::Ignored);
        let Inspect::Active(mut ins) = inspect else {
            let judged = flow.shape.take().and_then(|mut sh| {
                sh.close(&self.blocks);
                let client = flow
                    .syn_from
                    .or(flow.tls_client)
                    .unwrap_or_else(|| guess_client(&key));
                sh.judge(client.index(), &self.blocks)
            });
            let judged = judged.map(|mut j| {
                if let Some(fp) = &flow.fingerprint {
                    // Listed miner software behaving like a miner.
                    j.confidence = (j.confidence + 0.15).min(0.9);
                    j.evidence.push(fp.to_string());
                }
                j
            });
            match (flow.finding.take(), judged) {
                (Some(mut f), Some(j)) => {
                    // A listed counterpart that also behaves like a pool.
                    f.confidence = (f.confidence.max(j.confidence) + 0.1).min(0.95);
                    f.evidence.extend(j.evidence);
                    self.report_finding(key, &flow, f);
                }
                (Some(mut f), None) => {
                    if let Some(fp) = &flow.fingerprint {
                        f.evidence.push(fp.to_string());
                    }
                    self.report_finding(key, &flow, f)
                }
                (None, Some(j)) => self.report_behaviour(key, &flow, j),
                (None, None) => {}
            }
            return;
        };
        ins.finish(flow.last_ts);
        absorb(&self.intel, &ins, &mut flow.finding);
        if !ins.session.is_mining()
            && let Some(f) = flow.finding.take()
        {
            self.stats.junk_lines += ins.junk_lines;
            self.stats.oversized += ins.oversized;
            self.stats.gaps += ins.gaps();
            self.report_finding(key, &flow, f);
            return;
        }
        self.stats.junk_lines += ins.junk_lines;
        self.stats.oversized += ins.oversized;
        self.stats.gaps += ins.gaps();
        if !ins.session.is_mining() {
            return;
        }
        let miner = ins
            .session
            .miner_side()
            .map(|i| if i == 0 { Side::Lo } else { Side::Hi })
            .or(flow.syn_from)
            .unwrap_or_else(|| guess_client(&key));
        let pool = miner.other();
        let (mip, mport) = key.endpoint(miner);
        let (pip, pport) = key.endpoint(pool);
        let server = match pip {
            std::net::IpAddr::V6(a) => format!("[{a}]:{pport}"),
            a => format!("{a}:{pport}"),
        };
        let seconds = (flow.last_ts - flow.first_ts) as f64 / 1e9;
        let mut wallet_weight = 0.0;
        let mut facts =
            ins.session
                .facts(flow.first_ts, seconds, server.clone(), &mut wallet_weight);
        if let Some(f) = &flow.finding {
            // The pool's name from DNS, SNI or a list, where the protocol did not name it.
            if facts.pool.as_deref() == Some(server.as_str()) {
                facts.pool = Some(f.host.clone());
            }
            facts.evidence.extend(f.evidence.iter().cloned());
        }
        facts.mid_session = facts.mid_session && flow.syn_from.is_none();
        facts.confidence = (ins.session.confidence_with(wallet_weight) * 1000.0).round() / 1000.0;
        if facts.confidence < REPORT_THRESHOLD {
            return;
        }
        let file = self
            .files
            .get(flow.file as usize)
            .map(|f| f.to_string())
            .unwrap_or_default();
        self.detections.push(Detection {
            timestamp: Timestamp(flow.first_ts),
            event: Event {
                kind: "alert".into(),
                category: vec!["network".into(), "intrusion_detection".into()],
                kind_type: vec!["connection".into()],
                dataset: "minewatch.scan".into(),
                start: Timestamp(flow.first_ts),
                end: Timestamp(flow.last_ts),
                duration: flow.last_ts - flow.first_ts,
            },
            source: endpoint(mip, mport, flow.traffic[miner.index()]),
            destination: endpoint(pip, pport, flow.traffic[pool.index()]),
            network: Network {
                transport: "tcp".into(),
                protocol: match facts.detector.as_str() {
                    "getwork" => "http".into(),
                    "stratum-v2" => "stratum-v2".into(),
                    _ => "stratum".into(),
                },
                encapsulation: flow.encap.names(),
            },
            mining: facts,
            input: Input {
                file,
                first_packet: flow.first_packet,
            },
        });
    }
}

impl Sink {
    fn report_behaviour(&mut self, key: FlowKey, flow: &Flow, j: Judgement) {
        let client = flow
            .syn_from
            .or(flow.tls_client)
            .unwrap_or_else(|| guess_client(&key));
        let server = client.other();
        let (cip, cport) = key.endpoint(client);
        let (sip, sport) = key.endpoint(server);
        let coin = j.coin.as_deref().and_then(minewatch_model::Coin::from_name);
        let facts = minewatch_model::MiningFacts {
            detector: "behaviour".into(),
            protocol: if flow.tls_client.is_some() {
                "tls"
            } else {
                "unknown"
            }
            .into(),
            dialect: "unknown".into(),
            coin,
            coin_source: coin.map(|_| "block-rhythm".to_string()),
            algorithm: coin.map(|c| c.algorithm()),
            pool: Some(match sip {
                std::net::IpAddr::V6(a) => format!("[{a}]:{sport}"),
                a => format!("{a}:{sport}"),
            }),
            confidence: j.confidence,
            evidence: j.evidence,
            ..minewatch_model::MiningFacts::default()
        };
        let d = alert(
            facts,
            (
                endpoint(cip, cport, flow.traffic[client.index()]),
                endpoint(sip, sport, flow.traffic[server.index()]),
            ),
            (flow.first_ts, flow.last_ts),
            flow.encap.names(),
            self.input(flow),
        );
        self.detections.push(d);
    }

    fn input(&self, flow: &Flow) -> Input {
        Input {
            file: self
                .files
                .get(flow.file as usize)
                .map(|f| f.to_string())
                .unwrap_or_default(),
            first_packet: flow.first_packet,
        }
    }

    fn report_finding(&mut self, key: FlowKey, flow: &Flow, f: Finding) {
        let client = flow.syn_from.unwrap_or_else(|| {
            // The side whose address the finding names is the server.
            let (lo, _) = key.endpoint(Side::Lo);
            if f.host == lo.to_string() {
                Side::Hi
            } else {
                guess_client(&key)
            }
        });
        let server = client.other();
        let (cip, cport) = key.endpoint(client);
        let (sip, sport) = key.endpoint(server);
        let d = intel_detection(
            &f,
            (
                endpoint(cip, cport, flow.traffic[client.index()]),
                endpoint(sip, sport, flow.traffic[server.index()]),
            ),
            (flow.first_ts, flow.last_ts),
            "tcp",
            flow.encap.names(),
            self.input(flow),
        );
        self.detections.push(d);
    }

    fn report_lookups(&mut self, lookups: Vec<Lookup>) {
        for l in lookups {
            let mut evidence = vec![format!("dns-query:{}", l.name)];
            evidence.extend(l.addresses.iter().map(|a| format!("dns-answer:{a}")));
            let f = Finding {
                detector: "pool-dns",
                protocol: "dns",
                host: l.name.clone(),
                hit: Some(l.hit.clone()),
                // A lookup says a machine meant to reach a pool, not that it mined.
                confidence: 0.6,
                evidence,
            };
            let d = intel_detection(
                &f,
                (
                    Endpoint {
                        ip: l.client,
                        port: 0,
                        packets: l.count,
                        bytes: 0,
                    },
                    Endpoint {
                        ip: l.server,
                        port: 53,
                        packets: 0,
                        bytes: 0,
                    },
                ),
                (l.first, l.last),
                "udp",
                Vec::new(),
                Input {
                    file: self
                        .files
                        .first()
                        .map(|f| f.to_string())
                        .unwrap_or_default(),
                    first_packet: 0,
                },
            );
            self.detections.push(d);
        }
    }
}

/// A detection from who a flow talked to (no mining protocol seen).
fn intel_detection(
    f: &Finding,
    (source, destination): (Endpoint, Endpoint),
    (start, end): (i64, i64),
    transport: &str,
    encap: Vec<String>,
    input: Input,
) -> Detection {
    let coin = f
        .hit
        .as_ref()
        .and_then(|h| h.entry.coin.as_deref())
        .and_then(minewatch_model::Coin::from_name)
        .map(|c| (c, "pool-list"))
        .or_else(|| crate::session::coin_from_host(&f.host).map(|c| (c, "pool-host")));
    let mut evidence = f.evidence.clone();
    if let Some(h) = &f.hit {
        evidence.push(format!("intel:{}:{}", h.entry.source, h.matched));
    }
    let facts = minewatch_model::MiningFacts {
        detector: f.detector.into(),
        protocol: f.protocol.into(),
        dialect: "unknown".into(),
        coin: coin.map(|c| c.0),
        coin_source: coin.map(|c| c.1.to_string()),
        algorithm: coin.map(|c| c.0.algorithm()),
        pool: (f.hit.is_some() || !f.host.is_empty()).then(|| {
            f.hit
                .as_ref()
                .and_then(|h| h.entry.pool.clone())
                .map_or(f.host.clone(), |p| format!("{p} ({})", f.host))
        }),
        confidence: f.confidence,
        evidence,
        ..minewatch_model::MiningFacts::default()
    };
    let mut d = alert(facts, (source, destination), (start, end), encap, input);
    d.network.transport = transport.into();
    d
}

/// A detection of a connection from its facts; the network protocol is the facts' own.
fn alert(
    facts: minewatch_model::MiningFacts,
    (source, destination): (Endpoint, Endpoint),
    (start, end): (i64, i64),
    encap: Vec<String>,
    input: Input,
) -> Detection {
    Detection {
        timestamp: Timestamp(start),
        event: Event {
            kind: "alert".into(),
            category: vec!["network".into(), "intrusion_detection".into()],
            kind_type: vec!["connection".into()],
            dataset: "minewatch.scan".into(),
            start: Timestamp(start),
            end: Timestamp(end),
            duration: end - start,
        },
        source,
        destination,
        network: Network {
            transport: "tcp".into(),
            protocol: facts.protocol.clone(),
            encapsulation: encap,
        },
        mining: facts,
        input,
    }
}

fn endpoint(ip: std::net::IpAddr, port: u16, t: Traffic) -> Endpoint {
    Endpoint {
        ip,
        port,
        packets: t.packets,
        bytes: t.bytes,
    }
}

/// Without a handshake or a telling message, the side on the higher (ephemeral) port is
/// taken for the client.
fn guess_client(key: &FlowKey) -> Side {
    if key.lo.1 >= key.hi.1 {
        Side::Lo
    } else {
        Side::Hi
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
                    .or_else(|| st.address(d.src, d.sport, ts));
            }
        }
        flow.last_ts = flow.last_ts.max(ts);
        let t = &mut flow.traffic[side.index()];
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
            flow.fin[side.index()] = true;
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
        let r = if threads == 1 {
            scan_one(&cap, &mut scanners[0], idx, done, progress)
        } else {
            scan_parallel(&cap, &mut scanners, idx, done, progress)
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
    let intel = scanners[0].sink.intel.clone();
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
            if let Some((w, job)) = job {
                batches[w].push(job);
                if batches[w].len() >= BATCH {
                    let full = std::mem::replace(&mut batches[w], Vec::with_capacity(BATCH));
                    // A worker only stops when its channel closes, so send cannot fail.
                    let _ = senders[w].send(full);
                }
            }
        });
        for (w, b) in batches.into_iter().enumerate() {
            if !b.is_empty() {
                let _ = senders[w].send(b);
            }
        }
        drop(senders);
        (r, skips, (defrag.stats, fragment_frames, reader_stats))
    });
    for (why, count, bytes) in skips.into_values() {
        scanners[0].skipped_many(why, count, bytes);
    }
    let (dstats, (frames, bytes), reader_stats) = reader;
    scanners[0].sink.stats.merge(&reader_stats);
    scanners[0].sink.stats.packets += frames;
    scanners[0].sink.stats.bytes += bytes;
    scanners[0].sink.stats.add_defrag(&dstats);
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
