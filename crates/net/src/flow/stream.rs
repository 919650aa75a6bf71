//! Per-direction TCP reassembly, good enough for line-delimited protocols.
//!
//! Delivers bytes in sequence order: retransmissions are dropped, overlaps trimmed,
//! out-of-order segments held (a few, bounded) until the hole fills. When a hole does not fill
//! (the capture lost the segment) the stream reports a gap and jumps over it; the line layer
//! above then drops the partial line and resynchronises on the next newline. A capture that starts
//! mid-connection simply starts at the first segment seen.

/// Out-of-order segments held per direction at most.
pub const MAX_HELD_SEGMENTS: usize = 16;
/// Out-of-order bytes held per direction at most.
pub const MAX_HELD_BYTES: usize = 64 * 1024;
/// Segments further ahead than this are not held (they come from another life of the port).
const MAX_AHEAD: u32 = 1 << 20;

/// What the reassembler hands on.
#[derive(Debug, PartialEq, Eq)]
pub enum Delivery<'a> {
    /// In-order bytes.
    Data(&'a [u8]),
    /// Bytes are missing here.
    Gap,
}

/// Reassembly state of one direction.
#[derive(Debug, Default)]
pub struct Reassembler {
    next: Option<u32>,
    held: Vec<(u32, Vec<u8>)>,
    held_bytes: usize,
    /// Bytes dropped as retransmitted duplicates.
    pub duplicate_bytes: u64,
    /// Gaps jumped over.
    pub gaps: u64,
}

fn before(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) < 0
}

impl Reassembler {
    /// Feeds one segment; `out` receives what can be delivered, in order.
    pub fn push(&mut self, seq: u32, syn: bool, payload: &[u8], out: &mut dyn FnMut(Delivery<'_>)) {
        if syn {
            self.next = Some(seq.wrapping_add(1));
            // A SYN with data (TCP Fast Open) carries bytes from seq + 1.
            if payload.is_empty() {
                return;
            }
            return self.push(seq.wrapping_add(1), false, payload, out);
        }
        if payload.is_empty() {
            return;
        }
        let next = *self.next.get_or_insert(seq);
        let end = seq.wrapping_add(payload.len() as u32);
        if !before(next, end) {
            self.duplicate_bytes += payload.len() as u64;
            return;
        }
        if !before(next, seq) {
            // Starts at or before `next`: deliver the new part.
            let skip = next.wrapping_sub(seq) as usize;
            if skip > 0 {
                self.duplicate_bytes += skip as u64;
            }
            // `seq <= next < end`, so `skip` falls inside the payload.
            if let Some(new) = payload.get(skip..) {
                out(Delivery::Data(new));
            }
            self.next = Some(end);
            self.drain(out);
            return;
        }
        // Ahead of `next`: hold it, or give up on the hole.
        let ahead = seq.wrapping_sub(next);
        if ahead < MAX_AHEAD
            && self.held.len() < MAX_HELD_SEGMENTS
            && self.held_bytes + payload.len() <= MAX_HELD_BYTES
        {
            self.held.push((seq, payload.to_vec()));
            self.held_bytes += payload.len();
            return;
        }
        self.flush(out);
        // Still ahead after flushing the held ones: a real hole.
        let next = self.next.unwrap_or(seq);
        if before(next, seq) {
            self.gaps += 1;
            out(Delivery::Gap);
            self.next = Some(seq);
        }
        self.push(seq, false, payload, out);
    }

    fn drain(&mut self, out: &mut dyn FnMut(Delivery<'_>)) {
        loop {
            let Some(next) = self.next else { return };
            let Some(i) = self.held.iter().position(|(s, _)| !before(next, *s)) else {
                return;
            };
            let (seq, data) = self.held.swap_remove(i);
            self.held_bytes -= data.len();
            let end = seq.wrapping_add(data.len() as u32);
            if before(next, end) {
                let skip = next.wrapping_sub(seq) as usize;
                if let Some(new) = data.get(skip..) {
                    out(Delivery::Data(new));
                }
                self.next = Some(end);
            } else {
                self.duplicate_bytes += data.len() as u64;
            }
        }
    }

    /// The peer acknowledged bytes up to `ack`: a hole below it was received by the peer and
    /// only lost by the capture, so waiting for it is pointless.
    pub fn acked(&mut self, ack: u32, out: &mut dyn FnMut(Delivery<'_>)) {
        if let Some(next) = self.next
            && !self.held.is_empty()
            && before(next, ack)
        {
            self.flush(out);
        }
    }

    /// Delivers everything still held, jumping over holes (at the end of the flow, or when the
    /// hold is full).
    pub fn flush(&mut self, out: &mut dyn FnMut(Delivery<'_>)) {
        while !self.held.is_empty() {
            let Some(next) = self.next else { return };
            self.drain(out);
            if self.held.is_empty() {
                break;
            }
            // The lowest held segment is past a hole.
            let lowest = self
                .held
                .iter()
                .map(|(s, _)| *s)
                .min_by_key(|s| s.wrapping_sub(next))
                .unwrap_or(next);
            self.gaps += 1;
            out(Delivery::Gap);
            self.next = Some(lowest);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(segs: &[(u32, bool, &[u8])]) -> (String, Reassembler) {
        let mut r = Reassembler::default();
        let mut s = String::new();
        let mut out = |d: Delivery<'_>| match d {
            Delivery::Data(b) => s.push_str(std::str::from_utf8(b).unwrap()),
            Delivery::Gap => s.push('|'),
        };
        for (seq, syn, p) in segs {
            r.push(*seq, *syn, p, &mut out);
        }
        r.flush(&mut out);
        (s, r)
    }

    #[test]
    fn in_order_with_handshake() {
        assert_eq!(
            run(&[(99, true, b""), (100, false, b"ab"), (102, false, b"cd")]).0,
            "abcd"
        );
    }

    #[test]
    fn retransmissions_and_overlaps() {
        let (s, r) = run(&[
            (100, false, b"abcd"),
            (100, false, b"abcd"),
            (102, false, b"cdef"),
        ]);
        assert_eq!(s, "abcdef");
        assert_eq!(r.duplicate_bytes, 6);
    }

    #[test]
    fn out_of_order_is_reordered() {
        assert_eq!(
            run(&[
                (100, false, b"ab"),
                (104, false, b"ef"),
                (102, false, b"cd")
            ])
            .0,
            "abcdef"
        );
    }

    #[test]
    fn a_lost_segment_is_a_gap() {
        let (s, r) = run(&[(100, false, b"ab"), (110, false, b"zz")]);
        assert_eq!(s, "ab|zz");
        assert_eq!(r.gaps, 1);
    }

    #[test]
    fn an_ack_past_a_hole_releases_what_is_held() {
        let mut r = Reassembler::default();
        let mut s = String::new();
        let mut out = |d: Delivery<'_>| match d {
            Delivery::Data(b) => s.push_str(std::str::from_utf8(b).unwrap()),
            Delivery::Gap => s.push('|'),
        };
        r.push(100, false, b"ab", &mut out);
        r.push(104, false, b"ef", &mut out);
        r.acked(103, &mut out);
        assert_eq!(s, "ab|ef");
    }

    #[test]
    fn sequence_wraps() {
        assert_eq!(
            run(&[(u32::MAX - 1, false, b"ab"), (0, false, b"cd")]).0,
            "abcd"
        );
    }

    #[test]
    fn the_hold_is_bounded() {
        let mut r = Reassembler::default();
        let mut delivered = 0usize;
        let mut out = |d: Delivery<'_>| {
            if let Delivery::Data(b) = d {
                delivered += b.len();
            }
        };
        r.push(0, false, b"x", &mut out);
        // A hole at 1, then many segments behind it.
        for i in 0..1000u32 {
            r.push(2 + i * 100, false, &[b'y'; 100], &mut out);
            assert!(r.held.len() <= MAX_HELD_SEGMENTS && r.held_bytes <= MAX_HELD_BYTES);
        }
        r.flush(&mut out);
        assert_eq!(delivered, 1 + 100_000);
    }
}
