//! A flow table with a hard cap: least-recently-seen flows make room for new ones, idle flows
//! expire. Both evictions hand the flow back so the caller can finish it (report a session).

use std::hash::BuildHasher;
use std::net::IpAddr;

/// Direction-independent identity of a transport connection.
///
/// Held as integers, not as `IpAddr`s: every packet builds, hashes and compares a key, and
/// matching the address enums at each step was 3 % of a scan of real traffic's instructions
/// (docs/PERFORMANCE.md). An IPv4 address is its 32 bits in the low end of the word, told
/// from the IPv6 address of the same number by the family flags.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlowKey {
    lo_ip: u128,
    hi_ip: u128,
    lo_port: u16,
    hi_port: u16,
    proto: u8,
    /// Bit 1: the lower endpoint is IPv6; bit 0: the higher one is.
    v6: u8,
}

/// An address as the word a [`FlowKey`] keeps, and whether it is IPv6.
#[inline(always)]
fn word(ip: &IpAddr) -> (u128, bool) {
    // Read through a reference, field by field: an address passed by value was copied whole to
    // the stack and read back at an odd offset, which the CPU cannot forward from the store (a
    // stall on every packet: `Scanner::track` was 21 % of a scan of real traffic's time with
    // it, 17 % without, docs/PERFORMANCE.md).
    match ip {
        IpAddr::V4(a) => (u128::from(u32::from_be_bytes(a.octets())), false),
        IpAddr::V6(a) => (u128::from_be_bytes(a.octets()), true),
    }
}

/// The address a [`FlowKey`] word stands for.
fn address(w: u128, v6: bool) -> IpAddr {
    if v6 {
        IpAddr::V6(w.into())
    } else {
        // Built from a u32, so the high bits are zero.
        IpAddr::V4((w as u32).into())
    }
}

/// Two 128-bit words and one 64-bit word for the hasher, where the derived hash wrote each
/// address's variant, its bytes, each port and the protocol one by one: hashing was a few per
/// cent of a scan of real traffic (docs/PERFORMANCE.md). Equal keys still hash equal.
impl std::hash::Hash for FlowKey {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        h.write_u128(self.lo_ip);
        h.write_u128(self.hi_ip);
        h.write_u64(
            u64::from(self.lo_port) << 32
                | u64::from(self.hi_port) << 16
                | u64::from(self.proto) << 2
                | u64::from(self.v6),
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
    #[inline(always)]
    pub fn new(src: IpAddr, sport: u16, dst: IpAddr, dport: u16, proto: u8) -> (FlowKey, Side) {
        FlowKey::of(&src, sport, &dst, dport, proto)
    }

    /// [`FlowKey::new`] from borrowed addresses (the per-packet path: see `word`).
    #[inline(always)]
    pub fn of(src: &IpAddr, sport: u16, dst: &IpAddr, dport: u16, proto: u8) -> (FlowKey, Side) {
        let ((a, a6), (b, b6)) = (word(src), word(dst));
        // The order of `(IpAddr, u16)` (IPv4 before IPv6, then the address's bytes, then the
        // port) compared as integers: the derived comparison of enums and tuples was a per cent
        // of a scan of real traffic.
        let key = |lo: (u128, bool, u16), hi: (u128, bool, u16)| FlowKey {
            lo_ip: lo.0,
            hi_ip: hi.0,
            lo_port: lo.2,
            hi_port: hi.2,
            proto,
            v6: u8::from(lo.1) << 1 | u8::from(hi.1),
        };
        if (a6, a, sport) <= (b6, b, dport) {
            (key((a, a6, sport), (b, b6, dport)), Side::Lo)
        } else {
            (key((b, b6, dport), (a, a6, sport)), Side::Hi)
        }
    }

    /// The lower endpoint (address, port).
    pub fn lo(&self) -> (IpAddr, u16) {
        (address(self.lo_ip, self.v6 & 2 != 0), self.lo_port)
    }

    /// The higher endpoint.
    pub fn hi(&self) -> (IpAddr, u16) {
        (address(self.hi_ip, self.v6 & 1 != 0), self.hi_port)
    }

    /// IP protocol number.
    pub fn proto(&self) -> u8 {
        self.proto
    }

    /// The endpoint on `side`.
    pub fn endpoint(&self, side: Side) -> (IpAddr, u16) {
        match side {
            Side::Lo => self.lo(),
            Side::Hi => self.hi(),
        }
    }
}

/// Which of `of` workers a packet between `(a, ap)` and `(b, bp)` falls to: the same for both
/// directions and every run.
///
/// Not a [`FlowKey`]'s hash: every worker computes this for every packet of a capture it reads
/// with others, and ordering the endpoints, hashing the key with a seeded hasher and dividing
/// by `of` was an eighth of a two-thread scan of real traffic (docs/PERFORMANCE.md). Each
/// endpoint is mixed on its own and the two added, which is symmetric; the mixer is
/// MurmurHash3's `fmix64` finaliser (public domain; it spreads every input bit over the word),
/// and the top bits of a 64×64-bit product pick the share without a division (Lemire, "A fast
/// alternative to the modulo reduction", 2016). The endpoints were once combined by exclusive
/// or before one mix: neighbouring addresses (10.0.0.1 with 10.0.0.2, 10.0.0.3 with 10.0.0.4)
/// give only a handful of values that way, and a replay of real captures put four fifths of
/// its flows on one of two workers.
pub fn share(a: &IpAddr, ap: u16, b: &IpAddr, bp: u16, of: usize) -> usize {
    let x = endpoint_mix(a, ap).wrapping_add(endpoint_mix(b, bp));
    // The high word of x * of is below `of`.
    ((u128::from(x) * of as u128) >> 64) as usize
}

/// One endpoint of [`share`], mixed.
#[inline(always)]
fn endpoint_mix(ip: &IpAddr, port: u16) -> u64 {
    let w = word(ip).0;
    let mut x = (w as u64) ^ ((w >> 64) as u64).rotate_left(17) ^ u64::from(port) << 48;
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    x ^ x >> 33
}

/// Why a flow left the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Eviction {
    /// The table was full and this flow was the least recently seen.
    Capacity,
    /// No packet for longer than the idle timeout.
    Idle,
}

/// No slot: the end of the recency list.
const NIL: u32 = u32::MAX;

/// One flow's place in the slab: its key, its hash (kept so that eviction and removal never
/// hash again), its neighbours in the recency list, and the flow itself (`None` while free).
struct Slot<V> {
    key: FlowKey,
    hash: u64,
    /// The next more recently seen slot, or [`NIL`].
    newer: u32,
    /// The next less recently seen slot, or [`NIL`].
    older: u32,
    value: Option<V>,
}

/// The bounded table.
///
/// Hand-written rather than `lru::LruCache` because that cache allocates a list node per entry
/// and our use hashed each packet's key two or three times (contains, put, get). Here flows live
/// in a slab that grows up to the cap and is then reused slot by slot; the index is a
/// `hashbrown::HashTable` of slot numbers, so a packet of a known flow costs one hash and one
/// probe, and a new flow allocates nothing once the slab has grown (docs/PERFORMANCE.md).
pub struct FlowTable<V> {
    index: hashbrown::HashTable<u32>,
    slots: Vec<Slot<V>>,
    /// Free slots, reused before the slab grows.
    free: Vec<u32>,
    /// Most recently seen.
    newest: u32,
    /// Least recently seen: the first to go.
    oldest: u32,
    cap: usize,
    hasher: foldhash::fast::RandomState,
    /// Flows evicted to make room.
    pub evicted_capacity: u64,
    /// Flows expired for idleness.
    pub evicted_idle: u64,
}

// Slot numbers are made here: slots only grow, and every number kept in the index, the free
// list and the recency links names a slot pushed before it was stored. Checked indexing on this
// path (every packet) would only restate that.
#[allow(
    clippy::indexing_slicing,
    reason = "slot numbers come from this table and slots never shrink"
)]
impl<V> FlowTable<V> {
    /// A table holding at most `cap` flows (at least one, and at most `u32::MAX - 1`).
    pub fn new(cap: usize) -> FlowTable<V> {
        FlowTable {
            index: hashbrown::HashTable::new(),
            slots: Vec::new(),
            free: Vec::new(),
            newest: NIL,
            oldest: NIL,
            cap: cap.clamp(1, (NIL - 1) as usize),
            hasher: foldhash::fast::RandomState::default(),
            evicted_capacity: 0,
            evicted_idle: 0,
        }
    }

    /// Flows in the table.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// The most flows the table holds.
    pub fn cap(&self) -> usize {
        self.cap
    }

    /// Takes slot `i` out of the recency list.
    fn unlink(&mut self, i: u32) {
        let (newer, older) = {
            let s = &self.slots[i as usize];
            (s.newer, s.older)
        };
        match newer {
            NIL => self.newest = older,
            n => self.slots[n as usize].older = older,
        }
        match older {
            NIL => self.oldest = newer,
            o => self.slots[o as usize].newer = newer,
        }
    }

    /// Puts slot `i` at the most recent end of the list.
    fn link_newest(&mut self, i: u32) {
        let old_newest = self.newest;
        {
            let s = &mut self.slots[i as usize];
            s.newer = NIL;
            s.older = old_newest;
        }
        match old_newest {
            NIL => self.oldest = i,
            n => self.slots[n as usize].newer = i,
        }
        self.newest = i;
    }

    /// Removes slot `i` from the index and the list and frees it.
    fn take_slot(&mut self, i: u32) -> (FlowKey, V) {
        let (hash, key) = {
            let s = &self.slots[i as usize];
            (s.hash, s.key)
        };
        if let Ok(entry) = self.index.find_entry(hash, |&j| j == i) {
            entry.remove();
        }
        self.unlink(i);
        self.free.push(i);
        let value = self.slots[i as usize].value.take();
        // A linked slot always holds a flow; `None` here would be a bug in this file.
        (
            key,
            value.unwrap_or_else(|| unreachable!("a linked slot holds a flow")),
        )
    }

    /// The flow for `key`, created by `make` when new. When creating it needs room, the least
    /// recently seen flow goes to `evicted`.
    pub fn get_or_insert(
        &mut self,
        key: FlowKey,
        make: impl FnOnce() -> V,
        evicted: &mut dyn FnMut(FlowKey, V, Eviction),
    ) -> &mut V {
        let hash = self.hasher.hash_one(key);
        let slots = &self.slots;
        let found = self
            .index
            .find(hash, |&i| slots[i as usize].key == key)
            .copied();
        let i = match found {
            Some(i) => {
                if self.newest != i {
                    self.unlink(i);
                    self.link_newest(i);
                }
                i
            }
            None => {
                if self.index.len() >= self.cap && self.oldest != NIL {
                    let (k, v) = self.take_slot(self.oldest);
                    self.evicted_capacity += 1;
                    evicted(k, v, Eviction::Capacity);
                }
                let slot = Slot {
                    key,
                    hash,
                    newer: NIL,
                    older: NIL,
                    value: Some(make()),
                };
                let i = match self.free.pop() {
                    Some(i) => {
                        self.slots[i as usize] = slot;
                        i
                    }
                    None => {
                        self.slots.push(slot);
                        (self.slots.len() - 1) as u32
                    }
                };
                let slots = &self.slots;
                self.index
                    .insert_unique(hash, i, |&j| slots[j as usize].hash);
                self.link_newest(i);
                i
            }
        };
        match &mut self.slots[i as usize].value {
            Some(v) => v,
            None => unreachable!("a linked slot holds a flow"),
        }
    }

    /// Removes a flow (it ended).
    pub fn remove(&mut self, key: &FlowKey) -> Option<V> {
        let hash = self.hasher.hash_one(key);
        let slots = &self.slots;
        let i = *self.index.find(hash, |&i| slots[i as usize].key == *key)?;
        Some(self.take_slot(i).1)
    }

    /// Expires flows whose last packet is older than `deadline`, oldest first. The table is in
    /// order of last touch, so this stops at the first flow still alive.
    pub fn expire(
        &mut self,
        deadline: i64,
        last_seen: impl Fn(&V) -> i64,
        evicted: &mut dyn FnMut(FlowKey, V, Eviction),
    ) {
        while self.oldest != NIL {
            let alive = match &self.slots[self.oldest as usize].value {
                Some(v) => last_seen(v) >= deadline,
                None => true,
            };
            if alive {
                break;
            }
            let (k, v) = self.take_slot(self.oldest);
            self.evicted_idle += 1;
            evicted(k, v, Eviction::Idle);
        }
    }

    /// Empties the table, handing every flow to `f`, least recently seen first.
    pub fn drain(&mut self, f: &mut dyn FnMut(FlowKey, V)) {
        while self.oldest != NIL {
            let (k, v) = self.take_slot(self.oldest);
            f(k, v);
        }
        self.slots.clear();
        self.free.clear();
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
    fn the_lower_endpoint_is_the_one_ip_addr_orders_first() {
        let eps: Vec<(IpAddr, u16)> = [
            ("10.0.0.1", 5),
            ("10.0.0.1", 6),
            ("9.255.255.255", 65535),
            ("255.255.255.255", 0),
            ("::", 0),
            ("::1", 1),
            ("fe80::1", 80),
            ("::ffff:10.0.0.1", 5),
        ]
        .iter()
        .map(|(a, p)| (a.parse().unwrap(), *p))
        .collect();
        for &a in &eps {
            for &b in &eps {
                let (k, side) = FlowKey::new(a.0, a.1, b.0, b.1, 6);
                assert_eq!(k.lo(), a.min(b));
                assert_eq!(k.hi(), a.max(b));
                assert_eq!(side == Side::Lo, a <= b);
            }
        }
    }

    #[test]
    fn both_directions_share_a_key() {
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let (k1, s1) = FlowKey::new(a, 5, b, 6, 6);
        let (k2, s2) = FlowKey::new(b, 6, a, 5, 6);
        assert_eq!(k1, k2);
        assert_ne!(s1, s2);
        for of in [2, 3, 8] {
            assert_eq!(share(&a, 5, &b, 6, of), share(&b, 6, &a, 5, of));
        }
    }

    /// Flows between many clients and a few servers spread evenly over the workers.
    #[test]
    fn flows_share_out_evenly() {
        let server: IpAddr = "198.51.100.7".parse().unwrap();
        for of in [2usize, 3, 4] {
            let mut n = vec![0u32; of];
            for i in 0..30_000u32 {
                let client = IpAddr::from(std::net::Ipv4Addr::from(0x0a00_0000 + i / 7));
                let w = share(&client, 40_000 + (i % 7) as u16, &server, 3333, of);
                n[w] += 1;
            }
            let even = 30_000 / of as u32;
            assert!(
                n.iter().all(|&c| c.abs_diff(even) < even / 20),
                "{of}: {n:?}"
            );
        }
    }

    /// Pairs of neighbouring addresses (a readdressed replay, one subnet's hosts talking among
    /// themselves) spread evenly too: their exclusive or takes only a handful of values.
    #[test]
    fn neighbouring_pairs_share_out_evenly() {
        for of in [2usize, 3, 4] {
            let mut n = vec![0u32; of];
            for i in 0..30_000u32 {
                let a = IpAddr::from(std::net::Ipv4Addr::from(0x0a00_0000 + 2 * i + 1));
                let b = IpAddr::from(std::net::Ipv4Addr::from(0x0a00_0000 + 2 * i + 2));
                n[share(&a, 50_000, &b, 3333, of)] += 1;
            }
            let even = 30_000 / of as u32;
            assert!(
                n.iter().all(|&c| c.abs_diff(even) < even / 20),
                "{of}: {n:?}"
            );
        }
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

    #[test]
    fn a_touched_flow_is_evicted_last_and_freed_slots_are_reused() {
        let mut t: FlowTable<u32> = FlowTable::new(3);
        let mut gone = Vec::new();
        for i in 0..3 {
            *t.get_or_insert(key(i), || 0, &mut |_, _, _| {}) = i;
        }
        // Touch the oldest: 1 becomes the least recently seen.
        assert_eq!(*t.get_or_insert(key(0), || 99, &mut |_, _, _| {}), 0);
        *t.get_or_insert(key(3), || 3, &mut |_, v, _| gone.push(v)) = 3;
        assert_eq!(gone, vec![1]);
        assert_eq!(t.remove(&key(2)), Some(2));
        assert_eq!(t.remove(&key(2)), None);
        *t.get_or_insert(key(4), || 4, &mut |_, v, _| gone.push(v)) = 4;
        assert_eq!(gone, vec![1], "a removed flow made room");
        assert_eq!(t.slots.len(), 3, "the freed slot was reused");
        let mut order = Vec::new();
        t.drain(&mut |_, v| order.push(v));
        assert_eq!(order, vec![0, 3, 4]);
        assert!(t.is_empty());
    }
}
