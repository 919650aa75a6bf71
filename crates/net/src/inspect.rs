//! Per-flow inspection: decide early whether a connection can be mining, and if so parse it.
//!
//! Each direction is sniffed once, on its first bytes: JSON (`{` or `[`) goes to the Stratum
//! line parser, an HTTP head to the HTTP parser, anything else is not for us. A flow whose
//! directions are both not for us, or that spends its inspection budget without a mining
//! message, is dropped to "ignored" and costs one table lookup per packet from then on (the
//! Retina lesson). Mining flows are parsed to the end, with bounded buffers.

use crate::flow::stream::{Delivery, Reassembler};
use crate::pair;
use crate::proto::http::{self, Head, HeadError};
use crate::proto::stratum::parser::Id;
use crate::proto::stratum::{Signal, classify, parse_line};
use crate::proto::sv2;
use crate::session::Session;
use bumpalo::Bump;
use std::cell::RefCell;

thread_local! {
    /// The arena a line's arrays and objects are read into (`proto::stratum::json`), one per
    /// scanning thread, reset line by line: nothing is allocated or freed per line once it has
    /// grown to the lines' size.
    static ARENA: RefCell<Bump> = RefCell::new(Bump::new());
}

/// An arena larger than this after a line is given back and started afresh.
const ARENA_KEPT: usize = 256 * 1024;

/// Bytes per direction looked at before a flow with no mining message is ignored.
pub const INSPECT_BUDGET: u64 = 64 * 1024;
/// Messages per flow parsed before a flow with no mining message is ignored.
pub const MESSAGE_BUDGET: u32 = 24;
/// Packets with payload after which a flow still undecided is ignored.
pub const PACKET_BUDGET: u32 = 64;
/// The longest line or HTTP message kept while waiting for its end.
pub const MAX_BUFFER: usize = 256 * 1024;

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum Mode {
    #[default]
    Unknown,
    Lines,
    Http,
    Sv2,
    Tls,
    /// A plaintext protocol that is not mining ([`crate::proto::plain`]).
    Other,
    Off,
}

#[derive(Debug, Default)]
struct Direction {
    mode: Mode,
    buf: Vec<u8>,
    /// Dropping bytes until the next newline (after a gap or an over-long line).
    resync: bool,
    /// HTTP: body bytes still to skip of a message too large to keep.
    skip_body: usize,
    seen: u64,
}

/// Inspection state of one flow: each direction's framing and reassembly, and what the
/// messages said ([`Core`], which derefs from it).
#[derive(Debug, Default)]
pub struct Inspector {
    dirs: [Direction; 2],
    reasm: [Reassembler; 2],
    core: Core,
}

/// What an [`Inspector`] learnt from the flow's messages, apart from the per-direction
/// state: split off so that a direction's reassembly can deliver into it while both are
/// borrowed (moving the direction out and back in was 3.7 % of a scan of real traffic's
/// instructions, docs/PERFORMANCE.md).
#[derive(Debug, Default)]
pub struct Core {
    /// What the flow said about mining so far; made at the first message that says anything
    /// (boxed: most flows never carry one, and inline it was more than half of every flow's
    /// inspector, made and dropped for each new flow).
    session: Option<Box<Session>>,
    messages: u32,
    packets: u32,
    /// Lines that were not JSON-RPC, after the direction was taken for JSON.
    pub junk_lines: u64,
    /// Lines or messages dropped for exceeding the buffer.
    pub oversized: u64,
    /// The client's TLS ClientHello, when the flow opened with one.
    pub tls: Option<crate::proto::tls::ClientHello>,
    /// The side (0 or 1) that sent the ClientHello.
    pub tls_from: Option<usize>,
    /// HTTP Host of the first request, and the side that sent it.
    pub http_host: Option<(usize, String)>,
    /// An HTTP request asked to upgrade to WebSocket.
    pub websocket: bool,
    /// A direction opened with TLS or bytes no parser knows: only behaviour can tell more.
    pub opaque: bool,
    /// The other side opened with a TLS ClientHello and this side answered with a Stratum
    /// error array (`[code, "message", data]`): a pool that speaks only plaintext, refusing
    /// a miner configured for TLS. The error's message, clipped.
    pub stratum_refusal: Option<String>,
    /// A direction opened in the framing of a plaintext protocol that is not mining
    /// (Modbus/TCP, DNP3, IEC 104, MQTT): the flow is what it says, not a case for behaviour.
    pub plain: Option<&'static str>,
}

/// A payload that makes an inspector panic, in this crate's own tests only: the proof that the
/// scanner's fault boundary contains a parser bug to its flow.
#[cfg(test)]
pub(crate) const TEST_FAULT: &[u8] = b"MINEWATCH-TEST-INSPECTOR-FAULT";

/// What a packet did to the inspection.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Keep looking.
    Continue,
    /// Nothing here: stop inspecting this flow.
    Ignore,
}

impl Inspector {
    /// Feeds one TCP segment sent by side `from` (0 or 1); `ack` is its acknowledgement number
    /// when it carries one.
    pub fn segment(
        &mut self,
        from: usize,
        seq: u32,
        ack: Option<u32>,
        syn: bool,
        payload: &[u8],
        ts: i64,
    ) -> Verdict {
        #[cfg(test)]
        if payload.starts_with(TEST_FAULT) {
            panic!("injected inspector fault");
        }
        if !payload.is_empty() {
            self.packets += 1;
        }
        let from = usize::from(from != 0);
        let Inspector { dirs, reasm, core } = self;
        if let Some(ack) = ack {
            let to = pair::other(from);
            let dir = pair::of_mut(dirs, to);
            pair::of_mut(reasm, to).acked(ack, &mut |d| core.deliver(dir, to, d, ts));
        }
        let dir = pair::of_mut(dirs, from);
        pair::of_mut(reasm, from).push(seq, syn, payload, &mut |d| core.deliver(dir, from, d, ts));
        self.verdict()
    }

    /// Delivers whatever reassembly still holds (the flow is ending).
    pub fn finish(&mut self, ts: i64) {
        let Inspector { dirs, reasm, core } = self;
        for from in 0..2 {
            let dir = pair::of_mut(dirs, from);
            pair::of_mut(reasm, from).flush(&mut |d| core.deliver(dir, from, d, ts));
        }
    }

    /// Gaps jumped over in both directions.
    pub fn gaps(&self) -> u64 {
        self.reasm[0].gaps + self.reasm[1].gaps
    }

    fn verdict(&self) -> Verdict {
        if self.is_mining() {
            return Verdict::Continue;
        }
        let off = |d: &Direction| matches!(d.mode, Mode::Off | Mode::Other);
        let spent = |d: &Direction| d.seen > INSPECT_BUDGET;
        if (off(&self.dirs[0]) && off(&self.dirs[1]))
            || self.dirs.iter().any(spent)
            || self.messages > MESSAGE_BUDGET
            || self.packets > PACKET_BUDGET
        {
            Verdict::Ignore
        } else {
            Verdict::Continue
        }
    }
}

impl std::ops::Deref for Inspector {
    type Target = Core;
    fn deref(&self) -> &Core {
        &self.core
    }
}

impl std::ops::DerefMut for Inspector {
    fn deref_mut(&mut self) -> &mut Core {
        &mut self.core
    }
}

impl Core {
    /// What the flow said about mining, when it said anything.
    pub fn session(&self) -> Option<&Session> {
        self.session.as_deref()
    }

    /// Whether the flow has shown itself to be mining.
    pub fn is_mining(&self) -> bool {
        self.session.as_ref().is_some_and(|s| s.is_mining())
    }

    /// The session, made now if no message said anything before.
    fn session_mut(&mut self) -> &mut Session {
        self.session.get_or_insert_with(Box::default)
    }

    fn deliver(&mut self, dir: &mut Direction, from: usize, d: Delivery<'_>, ts: i64) {
        let data = match d {
            Delivery::Gap => {
                dir.buf.clear();
                dir.skip_body = 0;
                dir.resync = dir.mode == Mode::Lines;
                if matches!(dir.mode, Mode::Http | Mode::Sv2) {
                    // Length-framed streams cannot be resynchronised reliably: stop here.
                    dir.mode = Mode::Off;
                }
                return;
            }
            Delivery::Data(b) => b,
        };
        if matches!(dir.mode, Mode::Off | Mode::Other)
            || (!self.is_mining() && dir.seen > INSPECT_BUDGET)
        {
            dir.seen += data.len() as u64;
            return;
        }
        dir.seen += data.len() as u64;
        if dir.mode == Mode::Unknown {
            dir.mode = sniff(data);
            self.opaque |= matches!(dir.mode, Mode::Tls | Mode::Off);
            if dir.mode == Mode::Other {
                self.plain = self.plain.or(crate::proto::plain::framing(data));
            }
            if dir.mode == Mode::Lines
                && !data.trim_ascii_start().starts_with(b"{")
                && !data.trim_ascii_start().starts_with(b"[")
            {
                // Joined mid-line: drop up to the first newline.
                dir.resync = true;
            }
            if matches!(dir.mode, Mode::Off | Mode::Other) {
                return;
            }
        }
        match dir.mode {
            Mode::Lines => self.lines(dir, from, data, ts),
            Mode::Http => self.http(dir, from, data, ts),
            Mode::Sv2 => self.sv2(dir, from, data, ts),
            Mode::Tls => self.tls(dir, from, data),
            Mode::Unknown | Mode::Other | Mode::Off => {}
        }
    }

    fn lines(&mut self, dir: &mut Direction, from: usize, mut data: &[u8], ts: i64) {
        if dir.resync && matches!(data.trim_ascii_start().first(), Some(b'{' | b'[')) {
            // The bytes after the hole start a message: nothing to drop.
            dir.resync = false;
        }
        if dir.resync {
            match memchr::memchr(b'\n', data).and_then(|i| data.get(i + 1..)) {
                Some(after) => {
                    data = after;
                    dir.resync = false;
                }
                None => return,
            }
        }
        while let Some(i) = memchr::memchr(b'\n', data) {
            let (line, rest) = data.split_at(i);
            data = rest.get(1..).unwrap_or_default();
            if dir.buf.is_empty() {
                self.line(from, line, ts);
            } else {
                dir.buf.extend_from_slice(line);
                let whole = std::mem::take(&mut dir.buf);
                self.line(from, &whole, ts);
                dir.buf = whole;
                dir.buf.clear();
            }
        }
        if dir.buf.len() + data.len() > MAX_BUFFER {
            self.oversized += 1;
            dir.buf.clear();
            dir.resync = true;
            return;
        }
        dir.buf.extend_from_slice(data);
    }

    fn line(&mut self, from: usize, line: &[u8], ts: i64) {
        ARENA.with_borrow_mut(|arena| {
            arena.reset();
            self.line_in(from, line, ts, arena);
            if arena.allocated_bytes() > ARENA_KEPT {
                // A huge line does not keep its memory.
                *arena = Bump::new();
            }
        });
    }

    fn line_in(&mut self, from: usize, line: &[u8], ts: i64, arena: &Bump) {
        match parse_line(line, arena) {
            Ok(msgs) => {
                for m in msgs.iter() {
                    self.messages += 1;
                    if self.tls_from == Some(1 - from.min(1))
                        && self.stratum_refusal.is_none()
                        && let Some(msg) = m.error.as_ref().and_then(stratum_error_message)
                    {
                        self.stratum_refusal = Some(msg.chars().take(80).collect());
                    }
                    if let Some(sig) = classify(m) {
                        self.signal(from, &sig, &m.id, ts);
                    }
                }
            }
            Err(crate::proto::stratum::ParseError::Empty) => {}
            Err(_) => self.junk_lines += 1,
        }
    }

    fn signal(&mut self, from: usize, sig: &Signal, id: &Id, ts: i64) {
        let session = self.session_mut();
        session.apply(from, sig, ts);
        match sig {
            Signal::Submit { .. }
            | Signal::CnSubmit { .. }
            | Signal::EthSubmitWork
            | Signal::Getwork { submit: true }
            | Signal::Sv2Submit => session.submitted(sig, id),
            Signal::Reply { id, ok, .. } => session.replied(id, *ok),
            _ => {}
        }
    }

    fn http(&mut self, dir: &mut Direction, from: usize, data: &[u8], ts: i64) {
        let mut data = data;
        if dir.skip_body > 0 {
            let n = dir.skip_body.min(data.len());
            dir.skip_body -= n;
            data = data.get(n..).unwrap_or_default();
        }
        if !self.gather(dir, data) {
            return;
        }
        loop {
            let head = match http::parse_head(&dir.buf) {
                Ok(h) => h,
                Err(HeadError::Partial) => return,
                Err(HeadError::Invalid(_)) => {
                    dir.buf.clear();
                    dir.mode = Mode::Off;
                    return;
                }
            };
            self.messages += 1;
            self.session_mut().apply_http(from, &head);
            if head.request {
                if let Some(h) = &head.host {
                    self.http_host.get_or_insert_with(|| (from, h.clone()));
                }
                self.websocket |= head.websocket;
            }
            let body_start = head.head_len;
            let consumed = if head.chunked {
                match http::dechunk(dir.buf.get(body_start..).unwrap_or_default(), MAX_BUFFER) {
                    http::Chunked::Complete(body, used) => {
                        self.body(from, &head, &body, ts);
                        body_start + used
                    }
                    http::Chunked::Partial => return,
                    http::Chunked::Invalid => {
                        self.oversized += 1;
                        dir.buf.clear();
                        dir.mode = Mode::Off;
                        return;
                    }
                }
            } else {
                // The length comes from the wire: a sum with it is checked, and a body that
                // would not fit the buffer is looked at as far as it came and skipped after.
                let len = head.content_length.unwrap_or(0);
                let end = body_start.checked_add(len).filter(|&e| e <= MAX_BUFFER);
                match end {
                    Some(end) if end <= dir.buf.len() => {
                        let body = dir.buf.get(body_start..end).unwrap_or_default().to_vec();
                        self.body(from, &head, &body, ts);
                        end
                    }
                    Some(_) => return,
                    None => {
                        let have = dir.buf.len().saturating_sub(body_start);
                        let body = std::mem::take(&mut dir.buf);
                        self.body(from, &head, body.get(body_start..).unwrap_or_default(), ts);
                        dir.skip_body = len.saturating_sub(have);
                        self.oversized += 1;
                        return;
                    }
                }
            };
            dir.buf.drain(..consumed);
            if dir.buf.is_empty() {
                return;
            }
        }
    }

    /// Appends `data` to a length-framed direction's buffer; a direction whose message would
    /// pass [`MAX_BUFFER`] is given up (counted), and false says so.
    fn gather(&mut self, dir: &mut Direction, data: &[u8]) -> bool {
        if dir.buf.len() + data.len() > MAX_BUFFER {
            self.oversized += 1;
            dir.buf.clear();
            dir.mode = Mode::Off;
            return false;
        }
        dir.buf.extend_from_slice(data);
        true
    }

    fn sv2(&mut self, dir: &mut Direction, from: usize, data: &[u8], ts: i64) {
        if !self.gather(dir, data) {
            return;
        }
        let mut at = 0;
        loop {
            match sv2::frame(dir.buf.get(at..).unwrap_or_default()) {
                Ok((f, used)) => {
                    self.messages += 1;
                    if let Some(sig) = sv2::classify(&f) {
                        self.signal(from, &sig, &Id::Absent, ts);
                    }
                    at += used;
                }
                Err(sv2::FrameError::Partial) => break,
                Err(sv2::FrameError::Invalid) => {
                    dir.mode = Mode::Off;
                    dir.buf.clear();
                    return;
                }
            }
        }
        dir.buf.drain(..at);
    }

    fn tls(&mut self, dir: &mut Direction, from: usize, data: &[u8]) {
        // A ClientHello can span segments (post-quantum key shares make it ~1.8 KB): gather the
        // record, parse it once, then stop: the rest is encrypted.
        dir.buf.extend_from_slice(data);
        let need = match dir.buf.get(3..5) {
            Some(&[hi, lo]) => 5 + usize::from(u16::from_be_bytes([hi, lo])),
            _ => 5,
        };
        if dir.buf.len() < need && dir.buf.len() < 16 * 1024 {
            return;
        }
        if let Some(ch) = crate::proto::tls::client_hello(&dir.buf) {
            self.tls = Some(ch);
            self.tls_from = Some(from);
        }
        dir.buf = Vec::new();
        dir.mode = Mode::Off;
    }

    fn body(&mut self, from: usize, _head: &Head, body: &[u8], ts: i64) {
        // A JSON-RPC body, possibly several lines.
        for line in body.split(|&b| b == b'\n') {
            if !line.trim_ascii().is_empty() {
                self.line(from, line, ts);
            }
        }
    }
}

/// The message of an error in Stratum's shape, `[code, "message"]` or `[code, "message",
/// data]` (JSON-RPC 2.0 servers send an object instead).
fn stratum_error_message<'a>(e: &'a crate::proto::stratum::json::Json<'_>) -> Option<&'a str> {
    use crate::proto::stratum::json::Json;
    let a = e.as_array()?;
    if !(2..=3).contains(&a.len()) || !matches!(a.first(), Some(Json::Num(_))) {
        return None;
    }
    a.get(1)?.as_str()
}

fn sniff(data: &[u8]) -> Mode {
    let t = data.trim_ascii_start();
    match t.first() {
        None => return Mode::Unknown,
        Some(b'{' | b'[') => return Mode::Lines,
        Some(_) => {}
    }
    if http::looks_like_http(t) {
        return Mode::Http;
    }
    if sv2::looks_like_sv2(data) {
        return Mode::Sv2;
    }
    if crate::proto::tls::looks_like_tls(data) {
        return Mode::Tls;
    }
    if crate::proto::plain::framing(data).is_some() {
        return Mode::Other;
    }
    // Joined mid-stream: a JSON line may start after the first newline.
    // Looked for newline by newline (`memchr`): a byte pair at a time over 4 KiB of encrypted
    // data was 3 % of a scan of real traffic's instructions.
    let window = data.get(..4096).unwrap_or(data);
    if memchr::memchr_iter(b'\n', window).any(|i| window.get(i + 1) == Some(&b'{')) {
        return Mode::Lines;
    }
    Mode::Off
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(ins: &mut Inspector, from: usize, seq: &mut [u32; 2], data: &[u8]) -> Verdict {
        let v = ins.segment(from, seq[from], None, false, data, 0);
        seq[from] = seq[from].wrapping_add(data.len() as u32);
        v
    }

    #[test]
    fn split_and_batched_lines() {
        let mut ins = Inspector::default();
        let mut seq = [1000, 5000];
        feed(&mut ins, 0, &mut seq, br#"{"id":1,"method":"mining.subscr"#);
        feed(&mut ins, 0, &mut seq, b"ibe\",\"params\":[\"bfgminer/5.2.0\"]}\n{\"id\":2,\"method\":\"mining.authorize\",\"params\":[\"a.b\",\"x\"]}\n");
        assert!(ins.is_mining());
        assert_eq!(ins.session().and_then(Session::miner_side), Some(0));
    }

    #[test]
    fn binary_and_tls_are_ignored_at_once() {
        let mut ins = Inspector::default();
        let mut seq = [0, 0];
        assert_eq!(
            feed(&mut ins, 0, &mut seq, &[0x16, 3, 1, 0, 5, 1, 2, 3, 4, 5]),
            Verdict::Continue
        );
        assert_eq!(
            feed(&mut ins, 1, &mut seq, &[0xf9, 0xbe, 0xb4, 0xd9, 0x76]),
            Verdict::Ignore
        );
    }

    #[test]
    fn plain_json_rpc_spends_its_budget_and_is_ignored() {
        let mut ins = Inspector::default();
        let mut seq = [0, 0];
        let mut last = Verdict::Continue;
        for i in 0..40 {
            let l =
                format!("{{\"jsonrpc\":\"2.0\",\"method\":\"textDocument/hover\",\"id\":{i}}}\n");
            last = feed(&mut ins, 0, &mut seq, l.as_bytes());
        }
        assert_eq!(last, Verdict::Ignore);
        assert!(!ins.is_mining());
    }

    #[test]
    fn joining_mid_line_resynchronises() {
        let mut ins = Inspector::default();
        let mut seq = [0, 0];
        feed(&mut ins, 1, &mut seq, b"00000000\"],\"id\":null}\n{\"id\":null,\"method\":\"mining.notify\",\"params\":[\"1\",\"00\",\"01\",\"02\",[],\"20000000\",\"1a01\",\"5f5e1000\",true]}\n");
        assert!(ins.is_mining());
        assert_eq!(ins.junk_lines, 0);
    }

    #[test]
    fn getwork_over_http_with_keep_alive() {
        let mut ins = Inspector::default();
        let mut seq = [0, 0];
        let body = br#"{"method": "getwork", "params": [], "id": 0}"#;
        let req = format!(
            "POST / HTTP/1.1\r\nHost: pool:8332\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        feed(
            &mut ins,
            0,
            &mut seq,
            &[req.as_bytes(), body, req.as_bytes()].concat(),
        );
        feed(&mut ins, 0, &mut seq, body);
        assert!(ins.is_mining());
    }

    /// One request declaring a body near 2^64 bytes, then a getwork request: no panic, the
    /// huge body is skipped as far as it came and counted.
    #[test]
    fn content_length_at_the_extremes_costs_no_scan() {
        for len in [
            0usize,
            1,
            MAX_BUFFER - 1,
            MAX_BUFFER,
            MAX_BUFFER + 1,
            usize::MAX - 1,
            usize::MAX,
        ] {
            let mut ins = Inspector::default();
            let mut seq = [0, 0];
            let req = format!("POST / HTTP/1.1\r\nHost: pool\r\nContent-Length: {len}\r\n\r\n");
            feed(&mut ins, 0, &mut seq, req.as_bytes());
            feed(
                &mut ins,
                0,
                &mut seq,
                br#"{"method": "getwork", "params": [], "id": 0}"#,
            );
            assert!(ins.dirs[0].buf.len() <= MAX_BUFFER, "{len}");
            if len > MAX_BUFFER {
                assert_eq!(ins.oversized, 1, "{len}");
            }
        }
    }

    /// A chunk size of `ffffffffffffffff` in a request: the direction is given up, no panic.
    #[test]
    fn a_chunk_size_at_the_extreme_costs_no_scan() {
        for size in [
            "ffffffffffffffff",
            "fffffffffffffffe",
            "10000000000000000",
            "40001",
        ] {
            let mut ins = Inspector::default();
            let mut seq = [0, 0];
            let req = format!(
                "POST / HTTP/1.1\r\nHost: pool\r\nTransfer-Encoding: chunked\r\n\r\n{size}\r\nabc\r\n"
            );
            feed(&mut ins, 0, &mut seq, req.as_bytes());
            assert_eq!(ins.dirs[0].mode, Mode::Off, "{size}");
            assert!(ins.dirs[0].buf.is_empty());
        }
    }

    #[test]
    fn an_endless_line_is_bounded() {
        let mut ins = Inspector::default();
        let mut seq = [0, 0];
        feed(
            &mut ins,
            0,
            &mut seq,
            b"{\"method\":\"mining.subscribe\",\"params\":[\"",
        );
        for _ in 0..100 {
            feed(&mut ins, 0, &mut seq, &[b'a'; 8192]);
            assert!(ins.dirs[0].buf.len() <= MAX_BUFFER);
        }
    }
}
