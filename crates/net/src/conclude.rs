//! The last hop: a finished flow becomes a [`Detection`] (a mining session, a list or answer
//! finding, or a behaviour verdict), behind the fault boundary that costs a panic its flow only.
//! Split from `scan` (issue 17) so that the engine reads packets and this module decides what a
//! flow was.

use crate::behaviour::{BlockTimes, Judgement, Shape};
use crate::decode::Encap;
use crate::flow::table::{FlowKey, Side};
use crate::inspect::Inspector;
use crate::intelflow::{Finding, IntelState, Lookup, lock};
use crate::pair;
use crate::session::REPORT_THRESHOLD;
use crate::stats::ScanStats;
use minewatch_model::detection::{Event, Input, Network, Timestamp};
use minewatch_model::{Detection, Endpoint, Traffic};
use std::sync::{Arc, Mutex};

/// What a flow's inspection came to so far.
pub(crate) enum Inspect {
    /// No payload yet in either direction, with the SYN's sequence number each side sent.
    /// Most flows of real traffic end without a byte of payload (scans, refused and
    /// unanswered connections): they never get an inspector to allocate, fill and free. Until
    /// the first payload a segment changes nothing in an inspector but the SYN's starting
    /// point, which a new one is handed when the payload comes.
    Waiting([Option<u32>; 2]),
    /// Nothing more to learn from the payload.
    Ignored,
    /// Reading the payload.
    Active(Box<Inspector>),
}

/// One connection's state in the flow table.
pub(crate) struct Flow {
    pub(crate) first_ts: i64,
    pub(crate) last_ts: i64,
    pub(crate) first_packet: u64,
    pub(crate) file: u32,
    pub(crate) traffic: [Traffic; 2],
    pub(crate) syn_from: Option<Side>,
    pub(crate) fin: [bool; 2],
    pub(crate) encap: Encap,
    pub(crate) inspect: Inspect,
    /// What pool intelligence found (boxed: few flows have one, and inline it tripled the
    /// size of every flow that is moved into and out of the table).
    pub(crate) finding: Option<Box<Finding>>,
    /// Behaviour of an encrypted or unknown flow (boxed: most flows never need one).
    pub(crate) shape: Option<Box<Shape>>,
    /// The side that sent a TLS ClientHello.
    pub(crate) tls_client: Option<Side>,
    /// Evidence that the ClientHello is a listed miner's.
    pub(crate) fingerprint: Option<Box<str>>,
}

/// Where finished flows go: detections and counters.
#[derive(Default)]
pub(crate) struct Sink {
    pub(crate) files: Vec<Arc<str>>,
    pub(crate) detections: Vec<Detection>,
    pub(crate) stats: ScanStats,
    pub(crate) intel: Option<Arc<Mutex<IntelState>>>,
    pub(crate) blocks: Arc<Vec<BlockTimes>>,
}

/// Takes what an inspector learnt about the flow's counterpart (TLS SNI, HTTP Host) into its
/// finding; a name found in the flow outranks an address known beforehand.
pub(crate) fn absorb(
    intel: &Option<Arc<Mutex<IntelState>>>,
    ins: &Inspector,
    finding: &mut Option<Box<Finding>>,
) {
    if let Some(st) = intel {
        let st = lock(st);
        if let Some(f) = ins.tls.as_ref().and_then(|ch| st.tls(ch)) {
            *finding = Some(Box::new(f));
        } else if let Some(f) = ins
            .http_host
            .as_ref()
            .and_then(|(_, h)| st.http(h, ins.websocket))
        {
            *finding = Some(Box::new(f));
        }
    }
    refused_in_stratum(ins, finding);
}

/// A miner configured for TLS meeting a pool that speaks only plaintext: the client's
/// ClientHello got a Stratum error line back. That answer is a pool's on its own (no list
/// needed); with a listed name it strengthens the name.
fn refused_in_stratum(ins: &Inspector, finding: &mut Option<Box<Finding>>) {
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
            *finding = Some(Box::new(Finding {
                detector: "pool-answer",
                protocol: "tls",
                host: sni.unwrap_or_default(),
                hit: None,
                confidence: POOL_ANSWER_CONFIDENCE,
                evidence,
            }));
        }
    }
}

/// Confidence of a server that answered a TLS ClientHello in Stratum's error shape.
pub const POOL_ANSWER_CONFIDENCE: f32 = 0.8;

impl Sink {
    /// Turns a finished flow into its detection, if any, behind the fault boundary: a panic
    /// while concluding costs this flow's detection and is counted.
    pub(crate) fn finish(&mut self, key: FlowKey, flow: Flow) {
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
                    self.report_finding(key, &flow, *f);
                }
                (Some(mut f), None) => {
                    if let Some(fp) = &flow.fingerprint {
                        f.evidence.push(fp.to_string());
                    }
                    self.report_finding(key, &flow, *f)
                }
                (None, Some(j)) => self.report_behaviour(key, &flow, j),
                (None, None) => {}
            }
            return;
        };
        ins.finish(flow.last_ts);
        absorb(&self.intel, &ins, &mut flow.finding);
        if !ins.is_mining()
            && let Some(f) = flow.finding.take()
        {
            self.stats.junk_lines += ins.junk_lines;
            self.stats.oversized += ins.oversized;
            self.stats.gaps += ins.gaps();
            self.report_finding(key, &flow, *f);
            return;
        }
        self.stats.junk_lines += ins.junk_lines;
        self.stats.oversized += ins.oversized;
        self.stats.gaps += ins.gaps();
        let Some(session) = ins.session().filter(|s| s.is_mining()) else {
            return;
        };
        let miner = session
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
        let mut facts = session.facts(flow.first_ts, seconds, server.clone(), &mut wallet_weight);
        if let Some(f) = &flow.finding {
            // The pool's name from DNS, SNI or a list, where the protocol did not name it.
            if facts.pool.as_deref() == Some(server.as_str()) {
                facts.pool = Some(f.host.clone());
            }
            facts.evidence.extend(f.evidence.iter().cloned());
        }
        facts.mid_session = facts.mid_session && flow.syn_from.is_none();
        facts.confidence = (session.confidence_with(wallet_weight) * 1000.0).round() / 1000.0;
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
            source: endpoint(mip, mport, *pair::of(&flow.traffic, miner.index())),
            destination: endpoint(pip, pport, *pair::of(&flow.traffic, pool.index())),
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
                endpoint(cip, cport, *pair::of(&flow.traffic, client.index())),
                endpoint(sip, sport, *pair::of(&flow.traffic, server.index())),
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
                endpoint(cip, cport, *pair::of(&flow.traffic, client.index())),
                endpoint(sip, sport, *pair::of(&flow.traffic, server.index())),
            ),
            (flow.first_ts, flow.last_ts),
            "tcp",
            flow.encap.names(),
            self.input(flow),
        );
        self.detections.push(d);
    }

    pub(crate) fn report_lookups(&mut self, lookups: Vec<Lookup>) {
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
pub(crate) fn guess_client(key: &FlowKey) -> Side {
    if key.lo().1 >= key.hi().1 {
        Side::Lo
    } else {
        Side::Hi
    }
}
