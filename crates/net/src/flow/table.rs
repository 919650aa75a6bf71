//! A flow table with a hard cap: least-recently-seen flows make room for new ones, idle flows
//! expire. Both evictions hand the flow back so the caller can finish it (report a session).

use lru::LruCache;
use std::hash::{BuildHasher, Hash};
use std::net::IpAddr;
use std::num::NonZeroUsize;

/// Direction-independent identity of a transport connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlowKey {
    /// The lower endpoint (address, port).
    pub lo: (IpAddr, u16),
    /// The higher endpoint.
    pub hi: (IpAddr, u16),
    /// IP protocol number.
    pub proto: u8,
}

/// Two 128-bit words and one 64-bit word for the hasher, where the derived hash wrote each
/// address's variant, its bytes, each port and the protocol one by one: hashing was a few per
/// cent of a scan of real traffic (docs/PERFORMANCE.md). Equal keys still hash equal.
impl std::hash::Hash for FlowKey {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        let word = |ip: IpAddr| match ip {
            IpAddr::V4(a) => u128::from(u32::from(a)),
            IpAddr::V6(a) => u128::from(a),
        };
        let v6 = |ip: IpAddr| u64::from(ip.is_ipv6());
        h.write_u128(word(self.lo.0));
        h.write_u128(word(self.hi.0));
        h.write_u64(
            u64::from(self.lo.1) << 32
                | u64::from(self.hi.1) << 16
                | u64::from(self.proto) << 2
                | v6(self.lo.0) << 1
                | v6(self.hi.0),
        );
    }
}

/// Which endpoint of a [`FlowKey`] sent a packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Side {
    /// The lower endpoint.
    Lo,
    /// The higher endpoint.
    Hi,
}

impl Side {
    /// The other side.
    pub fn other(self) -> Side {
        match self {
            Side::Lo => Side::Hi,
            Side::Hi => Side::Lo,
        }
    }

    /// 0 for `Lo`, 1 for `Hi`, for indexing per-direction arrays.
    pub fn index(self) -> usize {
        match self {
            Side::Lo => 0,
            Side::Hi => 1,
        }
    }
}

impl FlowKey {
    /// The key of a packet and which side sent it.
    pub fn new(src: IpAddr, sport: u16, dst: IpAddr, dport: u16, proto: u8) -> (FlowKey, Side) {
        let a = (src, sport);
        let b = (dst, dport);
        if a <= b {
            (
                FlowKey {
                    lo: a,
                    hi: b,
                    proto,
                },
                Side::Lo,
            )
        } else {
            (
                FlowKey {
                    lo: b,
                    hi: a,
                    proto,
                },
                Side::Hi,
            )
        }
    }

    /// The endpoint on `side`.
    pub fn endpoint(&self, side: Side) -> (IpAddr, u16) {
        match side {
            Side::Lo => self.lo,
            Side::Hi => self.hi,
        }
    }

    /// A hash equal for both directions, stable across runs, for spreading flows over workers.
    pub fn spread_hash(&self) -> u64 {
        foldhash::fast::FixedState::with_seed(0x6d69_6e65_7761_7463).hash_one(self)
    }
}

/// Why a flow left the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Eviction {
    /// The table was full and this flow was the least recently seen.
    Capacity,
    /// No packet for longer than the idle timeout.
    Idle,
}

/// The bounded table.
pub struct FlowTable<V> {
    lru: LruCache<FlowKey, V, foldhash::fast::RandomState>,
    /// Flows evicted to make room.
    pub evicted_capacity: u64,
    /// Flows expired for idleness.
    pub evicted_idle: u64,
}

impl<V> FlowTable<V> {
    /// A table holding at most `cap` flows (at least one).
    pub fn new(cap: usize) -> FlowTable<V> {
        let cap = NonZeroUsize::new(cap.max(1)).unwrap_or(NonZeroUsize::MIN);
        FlowTable {
            lru: LruCache::with_hasher(cap, foldhash::fast::RandomState::default()),
            evicted_capacity: 0,
            evicted_idle: 0,
        }
    }

    /// Flows in the table.
    pub fn len(&self) -> usize {
        self.lru.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.lru.is_empty()
    }

    /// The most flows the table holds.
    pub fn cap(&self) -> usize {
        self.lru.cap().get()
    }

    /// The flow for `key`, created by `make` when new. When creating it needs room, the least
    /// recently seen flow goes to `evicted`.
    pub fn get_or_insert(
        &mut self,
        key: FlowKey,
        make: impl FnOnce() -> V,
        evicted: &mut dyn FnMut(FlowKey, V, Eviction),
    ) -> &mut V {
        if !self.lru.contains(&key) {
            if self.lru.len() >= self.lru.cap().get()
                && let Some((k, v)) = self.lru.pop_lru()
            {
                self.evicted_capacity += 1;
                evicted(k, v, Eviction::Capacity);
            }
            self.lru.put(key, make());
        }
        self.lru
            .get_mut(&key)
            .expect("the key was inserted just above")
    }

    /// Removes a flow (it ended).
    pub fn remove(&mut self, key: &FlowKey) -> Option<V> {
        self.lru.pop(key)
    }

    /// Expires flows whose last packet is older than `deadline`, oldest first. The table is in
    /// order of last touch, so this stops at the first flow still alive.
    pub fn expire(
        &mut self,
        deadline: i64,
        last_seen: impl Fn(&V) -> i64,
        evicted: &mut dyn FnMut(FlowKey, V, Eviction),
    ) {
        while let Some((_, v)) = self.lru.peek_lru() {
            if last_seen(v) >= deadline {
                break;
            }
            if let Some((k, v)) = self.lru.pop_lru() {
                self.evicted_idle += 1;
                evicted(k, v, Eviction::Idle);
            }
        }
    }

    /// Empties the table, handing every flow to `f`.
    pub fn drain(&mut self, f: &mut dyn FnMut(FlowKey, V)) {
        while let Some((k, v)) = self.lru.pop_lru() {
            f(k, v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn key(i: u32) -> FlowKey {
        FlowKey::new(
            IpAddr::V4(Ipv4Addr::from(i)),
            1000,
            IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
            80,
            6,
        )
        .0
    }

    #[test]
    fn both_directions_share_a_key() {
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let (k1, s1) = FlowKey::new(a, 5, b, 6, 6);
        let (k2, s2) = FlowKey::new(b, 6, a, 5, 6);
        assert_eq!(k1, k2);
        assert_ne!(s1, s2);
        assert_eq!(k1.spread_hash(), k2.spread_hash());
    }

    #[test]
    fn a_flood_of_flows_never_exceeds_the_cap() {
        let mut t: FlowTable<i64> = FlowTable::new(10_000);
        let mut evicted = 0u64;
        for i in 0..1_000_000u32 {
            *t.get_or_insert(key(i), || 0, &mut |_, _, why| {
                assert_eq!(why, Eviction::Capacity);
                evicted += 1;
            }) = i64::from(i);
            assert!(t.len() <= 10_000);
        }
        assert_eq!(evicted, 990_000);
        assert_eq!(t.evicted_capacity, 990_000);
    }

    #[test]
    fn idle_flows_expire_oldest_first() {
        let mut t: FlowTable<i64> = FlowTable::new(100);
        for i in 0..10 {
            *t.get_or_insert(key(i), || 0, &mut |_, _, _| {}) = i64::from(i);
        }
        let mut gone = Vec::new();
        t.expire(5, |v| *v, &mut |_, v, why| {
            assert_eq!(why, Eviction::Idle);
            gone.push(v)
        });
        assert_eq!(gone, vec![0, 1, 2, 3, 4]);
        assert_eq!(t.len(), 5);
    }
}
