//! IP fragment reassembly with hard limits.
//!
//! etherparse's `IpDefragBuf` puts the pieces together (overlaps, conflicting ends and the
//! 8-byte alignment rule are its checks); this table bounds what an attacker can make us hold:
//! at most `max_datagrams` datagrams in reassembly, each at most 64 KiB by construction, the least
//! recently touched evicted first, and any older than the timeout dropped. Every drop is counted.

use crate::decode::{Encap, Fragment};
use etherparse::defrag::IpDefragBuf;
use etherparse::{IpFragOffset, IpNumber};
use lru::LruCache;
use std::net::IpAddr;
use std::num::NonZeroUsize;

/// Datagrams held in reassembly at most.
pub const DEFAULT_MAX_DATAGRAMS: usize = 1024;
/// A datagram not completed within this many nanoseconds of capture time is dropped
/// (RFC 791 suggests 15 s as a lower bound; Linux uses 30 s).
pub const DEFAULT_TIMEOUT_NS: i64 = 30_000_000_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Key {
    src: IpAddr,
    dst: IpAddr,
    id: u32,
    proto: u8,
}

/// A reassembled datagram: the transport payload with the addresses it travelled between.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Datagram {
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// IP protocol.
    pub proto: u8,
    /// The whole transport payload (TCP or UDP header included).
    pub payload: Vec<u8>,
    /// Tunnels and tags around the first fragment.
    pub encap: Encap,
}

/// Counters of reassembly.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DefragStats {
    /// Fragments received.
    pub fragments: u64,
    /// Datagrams completed.
    pub completed: u64,
    /// Datagrams dropped because the table was full.
    pub evicted: u64,
    /// Datagrams dropped as too old.
    pub expired: u64,
    /// Fragments refused (overlap conflicts, misaligned pieces, too large).
    pub invalid: u64,
}

/// The bounded reassembly table.
pub struct Defragmenter {
    table: LruCache<Key, (IpDefragBuf, i64, Encap)>,
    timeout_ns: i64,
    /// Counters.
    pub stats: DefragStats,
}

impl Default for Defragmenter {
    fn default() -> Self {
        Defragmenter::new(DEFAULT_MAX_DATAGRAMS, DEFAULT_TIMEOUT_NS)
    }
}

impl Defragmenter {
    /// A table holding at most `max_datagrams` datagrams for at most `timeout_ns`.
    pub fn new(max_datagrams: usize, timeout_ns: i64) -> Defragmenter {
        Defragmenter {
            table: LruCache::new(
                NonZeroUsize::new(max_datagrams.max(1)).unwrap_or(NonZeroUsize::MIN),
            ),
            timeout_ns,
            stats: DefragStats::default(),
        }
    }

    /// Datagrams in reassembly.
    pub fn len(&self) -> usize {
        self.table.len()
    }

    /// True when nothing is in reassembly.
    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    /// Adds a fragment seen at `ts`; returns the datagram when this piece completes it.
    pub fn push(&mut self, f: &Fragment<'_>, ts: i64) -> Option<Datagram> {
        self.stats.fragments += 1;
        let deadline = ts.saturating_sub(self.timeout_ns);
        while let Some((_, (_, first, _))) = self.table.peek_lru() {
            if *first >= deadline {
                break;
            }
            self.table.pop_lru();
            self.stats.expired += 1;
        }
        let key = Key {
            src: f.src,
            dst: f.dst,
            id: f.id,
            proto: f.proto,
        };
        if !self.table.contains(&key) {
            if self.table.len() >= self.table.cap().get() {
                self.table.pop_lru();
                self.stats.evicted += 1;
            }
            self.table.put(
                key,
                (
                    IpDefragBuf::new(IpNumber(f.proto), Vec::new(), Vec::new()),
                    ts,
                    f.encap,
                ),
            );
        }
        let (buf, _, _) = self.table.get_mut(&key)?;
        let offset = IpFragOffset::try_new(f.offset).ok()?;
        if buf.add(offset, f.more, f.payload).is_err() {
            self.table.pop(&key);
            self.stats.invalid += 1;
            return None;
        }
        if !buf.is_complete() {
            return None;
        }
        let (buf, _, encap) = self.table.pop(&key)?;
        self.stats.completed += 1;
        let (payload, _) = buf.take_bufs();
        Some(Datagram {
            src: f.src,
            dst: f.dst,
            proto: f.proto,
            payload,
            encap,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frag(id: u32, offset: u16, more: bool, payload: &[u8]) -> Fragment<'_> {
        Fragment {
            src: "10.0.0.1".parse().unwrap(),
            dst: "10.0.0.2".parse().unwrap(),
            id,
            offset,
            more,
            proto: 6,
            payload,
            encap: Encap::default(),
        }
    }

    #[test]
    fn pieces_in_any_order_make_the_datagram() {
        let mut d = Defragmenter::default();
        let a = [1u8; 16];
        let b = [2u8; 16];
        let c = [3u8; 5];
        assert!(d.push(&frag(7, 4, false, &c), 0).is_none());
        assert!(d.push(&frag(7, 0, true, &a), 1).is_none());
        let done = d.push(&frag(7, 2, true, &b), 2).unwrap();
        assert_eq!(done.payload, [&a[..], &b[..], &c[..]].concat());
        assert!(d.is_empty());
    }

    #[test]
    fn a_flood_of_unfinished_datagrams_is_bounded() {
        let mut d = Defragmenter::new(100, DEFAULT_TIMEOUT_NS);
        let piece = [0u8; 1480];
        for id in 0..100_000u32 {
            assert!(d.push(&frag(id, 0, true, &piece), i64::from(id)).is_none());
            assert!(d.len() <= 100);
        }
        assert_eq!(d.stats.evicted, 100_000 - 100);
    }

    #[test]
    fn old_pieces_expire_and_bad_pieces_are_refused() {
        let mut d = Defragmenter::new(100, 1_000);
        d.push(&frag(1, 0, true, &[0u8; 8]), 0);
        assert!(d.push(&frag(2, 0, true, &[0u8; 8]), 5_000).is_none());
        assert_eq!(d.stats.expired, 1);
        // Misaligned middle piece.
        assert!(d.push(&frag(3, 0, true, &[0u8; 7]), 5_001).is_none());
        assert_eq!(d.stats.invalid, 1);
    }
}
