//! Scripted TCP conversations rendered as frames, with the knobs real captures turn: a
//! handshake or none (joined mid-session), odd segmentation, retransmissions, reordering, loss,
//! and the link layers and tunnels around the packets.

use super::frames;
use crate::decode::linktype;
use std::net::IpAddr;

/// Link layer and tunnels around every packet of a conversation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Link {
    /// Plain Ethernet II.
    Ethernet,
    /// Ethernet with 802.1Q tags (two or more: QinQ).
    Vlan(Vec<u16>),
    /// Ethernet PPPoE session.
    Pppoe,
    /// Ethernet, IPv4 GRE, inner packet.
    Gre,
    /// Ethernet, IPv4, IP-in-IP.
    IpInIp,
    /// Linux cooked capture v1.
    Sll,
    /// Linux cooked capture v2.
    Sll2,
    /// BSD loopback.
    Null,
    /// Raw IP.
    Raw,
}

impl Link {
    /// The capture link type for frames of this kind.
    pub fn linktype(&self) -> u32 {
        match self {
            Link::Sll => linktype::LINUX_SLL,
            Link::Sll2 => linktype::LINUX_SLL2,
            Link::Null => linktype::NULL,
            Link::Raw => linktype::RAW,
            _ => linktype::ETHERNET,
        }
    }

    /// Wraps an IP packet.
    pub fn wrap(&self, ip: &[u8]) -> Vec<u8> {
        let v6 = ip.first().map(|b| b >> 4) == Some(6);
        let et = if v6 { 0x86dd } else { 0x0800 };
        match self {
            Link::Ethernet => frames::ethernet(ip),
            Link::Vlan(ids) => frames::wrap_vlan(ids, ip),
            Link::Pppoe => frames::wrap_pppoe(ip),
            Link::Gre => frames::wrap_gre(ip),
            Link::IpInIp => frames::wrap_ipip(ip),
            Link::Sll => frames::sll(ip, et),
            Link::Sll2 => frames::sll2(ip, et),
            Link::Null => [&(if v6 { 30u32 } else { 2 }).to_le_bytes()[..], ip].concat(),
            Link::Raw => ip.to_vec(),
        }
    }
}

/// Which way a message goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dir {
    /// Miner (client) to pool (server).
    Up,
    /// Pool to miner.
    Down,
}

/// How messages are cut into segments.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Segmenting {
    /// One segment per message (up to the MSS).
    PerMessage,
    /// Every message cut in two at an odd place.
    Split,
    /// Consecutive messages in the same direction share segments.
    Batched,
}

/// Options of one conversation.
#[derive(Clone, Debug)]
pub struct Shape {
    /// Send SYN / SYN-ACK / ACK first.
    pub handshake: bool,
    /// Send FINs at the end.
    pub close: bool,
    /// Segmentation.
    pub segmenting: Segmenting,
    /// Retransmit every n-th data segment (0: never).
    pub retransmit_every: usize,
    /// Swap every n-th pair of data segments (0: never).
    pub reorder_every: usize,
    /// Drop every n-th data segment, a real loss (0: never).
    pub drop_every: usize,
    /// Link layer.
    pub link: Link,
    /// Leave out one direction entirely (asymmetric routing).
    pub only: Option<Dir>,
    /// Fragment IPv4 packets whose payload exceeds this many bytes (a small path MTU).
    pub fragment_over: Option<usize>,
}

impl Default for Shape {
    fn default() -> Self {
        Shape {
            handshake: true,
            close: true,
            segmenting: Segmenting::PerMessage,
            retransmit_every: 0,
            reorder_every: 0,
            drop_every: 0,
            link: Link::Ethernet,
            only: None,
            fragment_over: None,
        }
    }
}

const MSS: usize = 1400;

/// One TCP conversation being rendered.
pub struct Conversation {
    client: (IpAddr, u16),
    server: (IpAddr, u16),
    seq: [u32; 2],
    shape: Shape,
    data_segments: usize,
    /// Frames with their time (ns), in send order.
    pub frames: Vec<(i64, Vec<u8>)>,
}

impl Conversation {
    /// A conversation between two endpoints.
    pub fn new(client: (IpAddr, u16), server: (IpAddr, u16), shape: Shape) -> Conversation {
        let seed = u32::from(client.1) * 7919 + u32::from(server.1);
        Conversation {
            client,
            server,
            seq: [
                seed.wrapping_mul(2_654_435_761),
                seed.wrapping_mul(40_503).wrapping_add(99),
            ],
            shape,
            data_segments: 0,
            frames: Vec::new(),
        }
    }

    fn packet(&self, dir: Dir, seq: u32, flags: u8, payload: &[u8]) -> Vec<Vec<u8>> {
        let (src, dst, ack) = match dir {
            Dir::Up => (self.client, self.server, self.seq[1]),
            Dir::Down => (self.server, self.client, self.seq[0]),
        };
        let ip = match (src.0, dst.0) {
            (IpAddr::V4(s), IpAddr::V4(d)) => frames::ipv4_tcp_ack(
                s.octets(),
                d.octets(),
                src.1,
                dst.1,
                seq,
                ack,
                flags,
                payload,
            ),
            (IpAddr::V6(s), IpAddr::V6(d)) => frames::ipv6_tcp_full(
                s.octets(),
                d.octets(),
                src.1,
                dst.1,
                seq,
                ack,
                flags,
                payload,
            ),
            _ => Vec::new(),
        };
        match self.shape.fragment_over {
            Some(max) if ip.first().map(|b| b >> 4) == Some(4) => {
                // Every other datagram arrives last piece first.
                let reverse = seq % 2 == 1;
                frames::fragment_ipv4(&ip, max, seq as u16, reverse)
                    .iter()
                    .map(|f| self.shape.link.wrap(f))
                    .collect()
            }
            _ => vec![self.shape.link.wrap(&ip)],
        }
    }

    fn emit(&mut self, t: i64, dir: Dir, seq: u32, flags: u8, payload: &[u8]) {
        if self.shape.only.is_some_and(|o| o != dir) {
            return;
        }
        for (i, f) in self
            .packet(dir, seq, flags, payload)
            .into_iter()
            .enumerate()
        {
            self.frames.push((t + i as i64 * 1_000, f));
        }
    }

    /// The client's endpoint.
    pub fn client(&self) -> (IpAddr, u16) {
        self.client
    }

    /// The server's endpoint.
    pub fn server(&self) -> (IpAddr, u16) {
        self.server
    }

    /// SYN, SYN-ACK, ACK at time `t`.
    pub fn open(&mut self, t: i64) {
        if !self.shape.handshake {
            return;
        }
        let (c, s) = (self.seq[0], self.seq[1]);
        self.emit(t, Dir::Up, c, 0x02, b"");
        self.seq[0] = c.wrapping_add(1);
        self.emit(t + 20_000_000, Dir::Down, s, 0x12, b"");
        self.seq[1] = s.wrapping_add(1);
        self.emit(t + 40_000_000, Dir::Up, c.wrapping_add(1), 0x10, b"");
    }

    /// Sends the messages of one burst at time `t` in direction `dir`.
    pub fn send(&mut self, t: i64, dir: Dir, msgs: &[Vec<u8>]) {
        let i = match dir {
            Dir::Up => 0,
            Dir::Down => 1,
        };
        let mut segments: Vec<Vec<u8>> = Vec::new();
        match self.shape.segmenting {
            Segmenting::PerMessage => {
                segments.extend(msgs.iter().flat_map(|m| m.chunks(MSS).map(<[u8]>::to_vec)))
            }
            Segmenting::Split => {
                for m in msgs {
                    let cut = (m.len() / 3).max(1).min(m.len());
                    segments.push(m[..cut].to_vec());
                    if cut < m.len() {
                        segments.extend(m[cut..].chunks(MSS).map(<[u8]>::to_vec));
                    }
                }
            }
            Segmenting::Batched => {
                let all: Vec<u8> = msgs.concat();
                segments.extend(all.chunks(MSS).map(<[u8]>::to_vec));
            }
        }
        let mut out: Vec<(u32, Vec<u8>)> = Vec::new();
        for s in segments {
            out.push((self.seq[i], s.clone()));
            self.seq[i] = self.seq[i].wrapping_add(s.len() as u32);
        }
        let n = self.shape.reorder_every;
        if n > 0 {
            let mut k = 0;
            while k + 1 < out.len() {
                if (self.data_segments + k) % n == n - 1 {
                    out.swap(k, k + 1);
                }
                k += 2;
            }
        }
        let mut dt = 0;
        for (seq, s) in out {
            self.data_segments += 1;
            let ds = self.data_segments;
            if self.shape.drop_every > 0 && ds.is_multiple_of(self.shape.drop_every) {
                continue;
            }
            self.emit(t + dt, dir, seq, 0x18, &s);
            if self.shape.retransmit_every > 0 && ds.is_multiple_of(self.shape.retransmit_every) {
                self.emit(t + dt + 200_000_000, dir, seq, 0x18, &s);
            }
            dt += 1_000_000;
        }
    }

    /// FIN from both sides at `t`.
    pub fn close(&mut self, t: i64) {
        if !self.shape.close {
            return;
        }
        let (c, s) = (self.seq[0], self.seq[1]);
        self.emit(t, Dir::Up, c, 0x11, b"");
        self.emit(t + 10_000_000, Dir::Down, s, 0x11, b"");
    }
}
