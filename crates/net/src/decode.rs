//! From link-layer frames to a transport flow's addresses, ports and payload.
//!
//! etherparse does the IP and transport headers (IPv6 extension headers included); the link
//! layers and tunnels it does not know (SLL2, BSD null/loopback, PPPoE, GRE, MPLS, IP-in-IP)
//! are peeled here by hand, each a few bytes of fixed header. Tunnels are unwrapped so the
//! inner flow is the one that counts. Nothing is allocated per packet.

use etherparse::{LaxIpSlice, TcpSlice, UdpSlice};
use std::net::IpAddr;

/// Link-layer header types (tcpdump.org/linktypes.html) that the decoder reads.
pub mod linktype {
    /// BSD loopback: a 4-byte address family in host byte order.
    pub const NULL: u32 = 0;
    /// Ethernet II.
    pub const ETHERNET: u32 = 1;
    /// PPP (RFC 1661), with or without HDLC framing bytes.
    pub const PPP: u32 = 9;
    /// Raw IP on some BSDs.
    pub const RAW_BSD12: u32 = 12;
    /// Raw IP on some BSDs.
    pub const RAW_BSD14: u32 = 14;
    /// PPP in HDLC-like framing.
    pub const PPP_HDLC: u32 = 50;
    /// PPPoE session frames without the Ethernet header.
    pub const PPP_ETHER: u32 = 51;
    /// Raw IPv4 or IPv6.
    pub const RAW: u32 = 101;
    /// OpenBSD loopback: a 4-byte address family in network byte order.
    pub const LOOP: u32 = 108;
    /// Linux cooked capture v1.
    pub const LINUX_SLL: u32 = 113;
    /// Raw IPv4.
    pub const IPV4: u32 = 228;
    /// Raw IPv6.
    pub const IPV6: u32 = 229;
    /// Linux cooked capture v2.
    pub const LINUX_SLL2: u32 = 276;
}

const ETH_IPV4: u16 = 0x0800;
const ETH_IPV6: u16 = 0x86dd;
const ETH_VLAN: u16 = 0x8100;
const ETH_QINQ: u16 = 0x88a8;
const ETH_QINQ_OLD: u16 = 0x9100;
const ETH_PPPOE_SESSION: u16 = 0x8864;
const ETH_MPLS: u16 = 0x8847;
const ETH_MPLS_MC: u16 = 0x8848;
const ETH_TEB: u16 = 0x6558;

/// Tunnels and tags nested deeper than this are refused (a crafted packet could loop forever).
const MAX_LAYERS: usize = 16;

/// What carried the packet, as bits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Encap(u8);

impl Encap {
    /// 802.1Q VLAN tag.
    pub const VLAN: Encap = Encap(1);
    /// 802.1ad QinQ (two or more tags).
    pub const QINQ: Encap = Encap(2);
    /// PPPoE session.
    pub const PPPOE: Encap = Encap(4);
    /// GRE tunnel.
    pub const GRE: Encap = Encap(8);
    /// IP-in-IP (4in4, 6in4, 4in6, 6in6).
    pub const IP_IN_IP: Encap = Encap(16);
    /// MPLS labels.
    pub const MPLS: Encap = Encap(32);

    fn add(&mut self, o: Encap) {
        self.0 |= o.0;
    }

    /// True when `o` is among the layers.
    pub fn contains(self, o: Encap) -> bool {
        self.0 & o.0 == o.0
    }

    /// The layers by name, for output.
    pub fn names(self) -> Vec<String> {
        [
            (Encap::VLAN, "vlan"),
            (Encap::QINQ, "qinq"),
            (Encap::PPPOE, "pppoe"),
            (Encap::MPLS, "mpls"),
            (Encap::GRE, "gre"),
            (Encap::IP_IN_IP, "ip-in-ip"),
        ]
        .iter()
        .filter(|(e, _)| self.contains(*e))
        .map(|(_, n)| n.to_string())
        .collect()
    }
}

/// Transport of a decoded packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    /// TCP with its sequence number and flags.
    Tcp {
        /// Sequence number of the first payload byte (or of the SYN).
        seq: u32,
        /// Acknowledgement number (meaningful with the ACK flag).
        ack: u32,
        /// TCP flags byte (FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08, ACK 0x10).
        flags: u8,
    },
    /// UDP.
    Udp,
}

/// TCP flag bits.
pub mod tcp_flags {
    /// FIN.
    pub const FIN: u8 = 0x01;
    /// SYN.
    pub const SYN: u8 = 0x02;
    /// RST.
    pub const RST: u8 = 0x04;
    /// ACK.
    pub const ACK: u8 = 0x10;
}

/// A packet reduced to what flow tracking needs.
#[derive(Clone, Copy, Debug)]
pub struct Decoded<'a> {
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// Source port.
    pub sport: u16,
    /// Destination port.
    pub dport: u16,
    /// TCP or UDP.
    pub transport: Transport,
    /// Transport payload as captured (may be cut short by the snap length).
    pub payload: &'a [u8],
    /// Length of the inner IP packet as captured, for byte counters.
    pub ip_len: u32,
    /// Tunnels and tags around the inner packet.
    pub encap: Encap,
}

/// One IP fragment, handed to reassembly (`flow::defrag`).
#[derive(Clone, Copy, Debug)]
pub struct Fragment<'a> {
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// IP identification (IPv4: 16 bits; IPv6 fragment header: 32 bits).
    pub id: u32,
    /// Offset of this piece in 8-byte units.
    pub offset: u16,
    /// More fragments follow.
    pub more: bool,
    /// IP protocol of the reassembled payload.
    pub proto: u8,
    /// This piece of the payload.
    pub payload: &'a [u8],
    /// Tunnels and tags around it.
    pub encap: Encap,
}

/// What a frame decodes to: a transport packet, or a fragment of one.
#[derive(Clone, Copy, Debug)]
pub enum Decoding<'a> {
    /// A TCP or UDP packet.
    Packet(Decoded<'a>),
    /// An IP fragment.
    Fragment(Fragment<'a>),
}

/// Why a frame yields no flow packet. Every reason is counted by the scanner.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Skip {
    /// The capture's link type is not one the decoder reads.
    UnsupportedLink(u32),
    /// Not IP (ARP, LLDP, STP…).
    NotIp,
    /// A header was cut off or malformed.
    Malformed,
    /// A non-first IP fragment, or a first fragment: payload not reassembled.
    Fragment,
    /// An IP protocol other than TCP and UDP (ICMP, ESP…).
    OtherTransport,
    /// Tunnels nested deeper than the decoder follows.
    TooDeep,
}

impl Skip {
    /// A short name for reports.
    pub fn name(self) -> &'static str {
        match self {
            Skip::UnsupportedLink(_) => "unsupported link type",
            Skip::NotIp => "not IP",
            Skip::Malformed => "malformed or truncated header",
            Skip::Fragment => "IP fragment",
            Skip::OtherTransport => "not TCP or UDP",
            Skip::TooDeep => "tunnels nested too deep",
        }
    }
}

fn be16(d: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([
        *d.get(at)?,
        *d.get(at.checked_add(1)?)?,
    ]))
}

/// The bytes after the first `n`: a header shorter than its fixed part is malformed.
fn after(d: &[u8], n: usize) -> Result<&[u8], Skip> {
    d.get(n..).ok_or(Skip::Malformed)
}

/// Decodes one frame of link type `link`; fragments are a [`Skip::Fragment`].
pub fn decode(link: u32, data: &[u8]) -> Result<Decoded<'_>, Skip> {
    match decode_full(link, data)? {
        Decoding::Packet(d) => Ok(d),
        Decoding::Fragment(_) => Err(Skip::Fragment),
    }
}

/// Decodes one frame of link type `link`, fragments included.
pub fn decode_full(link: u32, data: &[u8]) -> Result<Decoding<'_>, Skip> {
    let mut encap = Encap::default();
    let (ethertype, rest) = match link {
        linktype::ETHERNET => (be16(data, 12).ok_or(Skip::Malformed)?, after(data, 14)?),
        linktype::NULL | linktype::LOOP => {
            let &[f0, f1, f2, f3, ..] = data else {
                return Err(Skip::Malformed);
            };
            // Written in the capturing host's byte order (NULL) or network order (LOOP); the
            // family values are small, so whichever end is non-zero tells.
            let v = if f0 == 0 && f1 == 0 {
                u32::from(f3) | u32::from(f2) << 8
            } else {
                u32::from(f0) | u32::from(f1) << 8
            };
            let t = match v {
                2 => ETH_IPV4,
                // AF_INET6 is 24 (NetBSD, OpenBSD), 28 (FreeBSD), 30 (macOS), 10 (Linux).
                10 | 24 | 28 | 30 => ETH_IPV6,
                _ => return Err(Skip::NotIp),
            };
            (t, after(data, 4)?)
        }
        linktype::RAW
        | linktype::RAW_BSD12
        | linktype::RAW_BSD14
        | linktype::IPV4
        | linktype::IPV6 => (by_version(data)?, data),
        linktype::LINUX_SLL => (
            be16(data, 14).ok_or(Skip::Malformed)?,
            data.get(16..).ok_or(Skip::Malformed)?,
        ),
        linktype::LINUX_SLL2 => (
            be16(data, 0).ok_or(Skip::Malformed)?,
            data.get(20..).ok_or(Skip::Malformed)?,
        ),
        linktype::PPP_ETHER => (ETH_PPPOE_SESSION, data),
        linktype::PPP | linktype::PPP_HDLC => {
            let d = data.strip_prefix(&[0xff, 0x03]).unwrap_or(data);
            (
                ppp_to_ethertype(be16(d, 0).ok_or(Skip::Malformed)?)?,
                after(d, 2)?,
            )
        }
        other => return Err(Skip::UnsupportedLink(other)),
    };
    if link == linktype::ETHERNET && data.len() < 14 {
        return Err(Skip::Malformed);
    }
    from_ethertype(ethertype, rest, &mut encap, 0)
}

fn by_version(d: &[u8]) -> Result<u16, Skip> {
    match d.first().map(|b| b >> 4) {
        Some(4) => Ok(ETH_IPV4),
        Some(6) => Ok(ETH_IPV6),
        Some(_) => Err(Skip::NotIp),
        None => Err(Skip::Malformed),
    }
}

fn ppp_to_ethertype(proto: u16) -> Result<u16, Skip> {
    match proto {
        0x0021 => Ok(ETH_IPV4),
        0x0057 => Ok(ETH_IPV6),
        _ => Err(Skip::NotIp),
    }
}

fn from_ethertype<'a>(
    mut ethertype: u16,
    mut d: &'a [u8],
    encap: &mut Encap,
    depth: usize,
) -> Result<Decoding<'a>, Skip> {
    let mut tags = 0;
    for _ in 0..MAX_LAYERS {
        match ethertype {
            ETH_IPV4 | ETH_IPV6 => return from_ip(d, encap, depth),
            ETH_VLAN | ETH_QINQ | ETH_QINQ_OLD => {
                tags += 1;
                encap.add(if tags > 1 { Encap::QINQ } else { Encap::VLAN });
                ethertype = be16(d, 2).ok_or(Skip::Malformed)?;
                d = after(d, 4)?;
            }
            ETH_PPPOE_SESSION => {
                encap.add(Encap::PPPOE);
                // version/type, code, session id (2), length (2), then the PPP protocol.
                ethertype = ppp_to_ethertype(be16(d, 6).ok_or(Skip::Malformed)?)?;
                d = after(d, 8)?;
            }
            ETH_MPLS | ETH_MPLS_MC => {
                encap.add(Encap::MPLS);
                // Pop labels to the bottom of the stack, then guess IP from the version nibble.
                loop {
                    let (&[_, _, bottom, _], rest) =
                        d.split_first_chunk::<4>().ok_or(Skip::Malformed)?;
                    d = rest;
                    if bottom & 0x01 == 1 {
                        break;
                    }
                }
                ethertype = by_version(d)?;
            }
            ETH_TEB => {
                // Ethernet inside GRE (NVGRE-like bridging).
                ethertype = be16(d, 12).ok_or(Skip::Malformed)?;
                d = after(d, 14)?;
            }
            _ => return Err(Skip::NotIp),
        }
    }
    Err(Skip::TooDeep)
}

fn from_ip<'a>(d: &'a [u8], encap: &mut Encap, depth: usize) -> Result<Decoding<'a>, Skip> {
    if depth >= MAX_LAYERS {
        return Err(Skip::TooDeep);
    }
    if let Some(p) = ipv4_tcp(d, *encap) {
        return Ok(Decoding::Packet(p));
    }
    from_ip_full(d, encap, depth)
}

/// The common case read from its fixed fields: an unfragmented IPv4 packet whose total length
/// lies between its header's and what was captured, carrying TCP with a sound data offset.
/// Anything else (IPv6, fragments, tunnels, UDP, a length out of place, a short header) is
/// `None` and takes etherparse's lax reading, so what it accepts, refuses and cuts is
/// unchanged; in the common case both give the same packet (a test holds them to each other on
/// mutated packets). etherparse's slicing was 7 % of a scan of real traffic's instructions
/// (docs/PERFORMANCE.md), for headers whose fields are at fixed places.
fn ipv4_tcp(d: &[u8], encap: Encap) -> Option<Decoded<'_>> {
    let &[vihl, ..] = d else { return None };
    let ihl = usize::from(vihl & 0x0f) * 4;
    if vihl >> 4 != 4 || ihl < 20 {
        return None;
    }
    let total = usize::from(be16(d, 2)?);
    let frag = be16(d, 6)?;
    // More fragments, or an offset: a fragment. Protocol 6: TCP.
    if total < ihl || total > d.len() || frag & 0x3fff != 0 || *d.get(9)? != 6 {
        return None;
    }
    let ip4 = |at: usize| -> Option<IpAddr> {
        let b: [u8; 4] = d.get(at..at + 4)?.try_into().ok()?;
        Some(IpAddr::from(b))
    };
    let (src, dst) = (ip4(12)?, ip4(16)?);
    let tcp = d.get(ihl..total)?;
    let doff = usize::from(*tcp.get(12)? >> 4) * 4;
    if doff < 20 || doff > tcp.len() {
        return None;
    }
    let be32 = |at: usize| -> Option<u32> {
        Some(u32::from_be_bytes(tcp.get(at..at + 4)?.try_into().ok()?))
    };
    Some(Decoded {
        src,
        dst,
        sport: be16(tcp, 0)?,
        dport: be16(tcp, 2)?,
        transport: Transport::Tcp {
            seq: be32(4)?,
            ack: be32(8)?,
            flags: *tcp.get(13)?,
        },
        payload: tcp.get(doff..)?,
        ip_len: u32::try_from(d.len()).ok()?,
        encap,
    })
}

/// Any IP packet, read by etherparse.
fn from_ip_full<'a>(d: &'a [u8], encap: &mut Encap, depth: usize) -> Result<Decoding<'a>, Skip> {
    let (ip, _ext_err) = LaxIpSlice::from_slice(d).map_err(|_| Skip::Malformed)?;
    let (src, dst) = match &ip {
        LaxIpSlice::Ipv4(v4) => {
            let h = v4.header();
            (
                IpAddr::V4(h.source_addr()),
                IpAddr::V4(h.destination_addr()),
            )
        }
        LaxIpSlice::Ipv6(v6) => {
            let h = v6.header();
            (
                IpAddr::V6(h.source_addr()),
                IpAddr::V6(h.destination_addr()),
            )
        }
    };
    let payload = ip.payload();
    let proto = payload.ip_number.0;
    if payload.fragmented {
        let (id, offset, more) = match &ip {
            LaxIpSlice::Ipv4(v4) => {
                let h = v4.header();
                (
                    u32::from(h.identification()),
                    h.fragments_offset().value(),
                    h.more_fragments(),
                )
            }
            LaxIpSlice::Ipv6(v6) => {
                let frag = v6.extensions().clone().into_iter().find_map(|e| match e {
                    etherparse::Ipv6ExtensionSlice::Fragment(f) => Some(f),
                    _ => None,
                });
                let f = frag.ok_or(Skip::Malformed)?;
                (
                    f.identification(),
                    f.fragment_offset().value(),
                    f.more_fragments(),
                )
            }
        };
        return Ok(Decoding::Fragment(Fragment {
            src,
            dst,
            id,
            offset,
            more,
            proto,
            payload: payload.payload,
            encap: *encap,
        }));
    }
    let ip_len = d.len() as u32;
    match proto {
        6 | 17 => transport(src, dst, proto, payload.payload, ip_len, *encap).map(Decoding::Packet),
        // IP-in-IP: IPv4 (4) or IPv6 (41) inside IP.
        4 | 41 => {
            encap.add(Encap::IP_IN_IP);
            from_ip(payload.payload, encap, depth + 1)
        }
        47 => {
            encap.add(Encap::GRE);
            let g = payload.payload;
            let flags = be16(g, 0).ok_or(Skip::Malformed)?;
            let proto = be16(g, 2).ok_or(Skip::Malformed)?;
            if flags & 0x0007 > 1 {
                // Only GRE versions 0 (RFC 2784) and 1 (PPTP, RFC 2637) exist.
                return Err(Skip::Malformed);
            }
            let mut len = 4;
            if flags & 0x8000 != 0 {
                len += 4; // checksum + reserved
            }
            if flags & 0x2000 != 0 {
                len += 4; // key
            }
            if flags & 0x1000 != 0 {
                len += 4; // sequence number
            }
            if flags & 0x0007 == 1 && flags & 0x0080 != 0 {
                len += 4; // PPTP acknowledgement number
            }
            let inner = g.get(len..).ok_or(Skip::Malformed)?;
            if proto == 0x880b {
                // PPTP carries PPP.
                let p = inner.strip_prefix(&[0xff, 0x03]).unwrap_or(inner);
                let t = ppp_to_ethertype(be16(p, 0).ok_or(Skip::Malformed)?)?;
                return from_ethertype(t, after(p, 2)?, encap, depth + 1);
            }
            from_ethertype(proto, inner, encap, depth + 1)
        }
        _ => Err(Skip::OtherTransport),
    }
}

/// The TCP or UDP packet in an IP payload (also used for reassembled fragments).
pub fn transport(
    src: IpAddr,
    dst: IpAddr,
    proto: u8,
    payload: &[u8],
    ip_len: u32,
    encap: Encap,
) -> Result<Decoded<'_>, Skip> {
    match proto {
        6 => {
            let tcp = TcpSlice::from_slice(payload).map_err(|_| Skip::Malformed)?;
            // The flags byte of a header etherparse has checked to be at least 20 bytes long.
            let flags = tcp.header_slice().get(13).copied().unwrap_or(0);
            Ok(Decoded {
                src,
                dst,
                sport: tcp.source_port(),
                dport: tcp.destination_port(),
                transport: Transport::Tcp {
                    seq: tcp.sequence_number(),
                    ack: tcp.acknowledgment_number(),
                    flags,
                },
                payload: tcp.payload(),
                ip_len,
                encap,
            })
        }
        17 => {
            let udp = UdpSlice::from_slice_lax(payload).map_err(|_| Skip::Malformed)?;
            Ok(Decoded {
                src,
                dst,
                sport: udp.source_port(),
                dport: udp.destination_port(),
                transport: Transport::Udp,
                payload: udp.payload(),
                ip_len,
                encap,
            })
        }
        _ => Err(Skip::OtherTransport),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::frames;

    #[test]
    fn the_short_way_reads_what_etherparse_reads() {
        // Packets with options, padding and payload, their header bytes mutated: wherever the
        // short way gives a packet, etherparse gives the same one.
        let mut rng = crate::synth::rng::Rng::new(0x2545_f491_4f6c_dd1d);
        let mut next = |n: usize| rng.between(0, n - 1);
        let (mut same, mut declined) = (0, 0);
        for payload in [&b""[..], b"x", b"{\"id\":1}\n"] {
            let base =
                frames::ipv4_tcp([10, 0, 0, 1], [10, 0, 0, 2], 40000, 3333, 7, 0x18, payload);
            for _ in 0..20_000 {
                let mut p = base.clone();
                for _ in 0..1 + next(3) {
                    let at = next(40.min(p.len()));
                    p[at] = match next(4) {
                        0 => p[at] ^ (1 << next(8)),
                        1 => next(256) as u8,
                        2 => p[at].wrapping_add(4),
                        _ => p[at].wrapping_sub(4),
                    };
                }
                match next(5) {
                    0 => p.truncate(next(p.len() + 1)),
                    1 => p.extend_from_slice(&[0; 6]),
                    _ => {}
                }
                match ipv4_tcp(&p, Encap::VLAN) {
                    Some(fast) => {
                        let mut encap = Encap::VLAN;
                        let full = from_ip_full(&p, &mut encap, 0);
                        let Ok(Decoding::Packet(full)) = full else {
                            panic!("{p:?}: etherparse gives {full:?}");
                        };
                        assert_eq!(format!("{fast:?}"), format!("{full:?}"), "{p:?}");
                        same += 1;
                    }
                    None => declined += 1,
                }
            }
        }
        assert!(same > 10_000 && declined > 10_000, "{same} {declined}");
    }

    #[test]
    fn ethernet_ipv4_tcp() {
        let f = frames::eth_ipv4_tcp([10, 0, 0, 1], [10, 0, 0, 2], 40000, 3333, 7, 0x18, b"hi\n");
        let d = decode(linktype::ETHERNET, &f).unwrap();
        assert_eq!(d.src.to_string(), "10.0.0.1");
        assert_eq!((d.sport, d.dport), (40000, 3333));
        assert_eq!(d.payload, b"hi\n");
        assert_eq!(
            d.transport,
            Transport::Tcp {
                seq: 7,
                ack: 1,
                flags: 0x18
            }
        );
        assert_eq!(d.encap, Encap::default());
    }

    #[test]
    fn vlan_qinq_pppoe_and_gre_are_peeled() {
        let inner = frames::ipv4_tcp([1, 1, 1, 1], [2, 2, 2, 2], 1, 2, 0, 0x18, b"x");
        for (wrap, expect) in [
            (frames::wrap_vlan(&[5], &inner), Encap::VLAN),
            (
                frames::wrap_vlan(&[5, 6], &inner),
                Encap(Encap::VLAN.0 | Encap::QINQ.0),
            ),
            (frames::wrap_pppoe(&inner), Encap::PPPOE),
            (frames::wrap_gre(&inner), Encap::GRE),
            (frames::wrap_ipip(&inner), Encap::IP_IN_IP),
        ] {
            let d = decode(linktype::ETHERNET, &wrap).unwrap();
            assert_eq!(d.src.to_string(), "1.1.1.1");
            assert_eq!(d.payload, b"x");
            assert_eq!(d.encap, expect);
        }
    }

    #[test]
    fn cooked_null_raw_and_ipv6() {
        let v6 = frames::ipv6_tcp(1, 2, b"six");
        for (link, f) in [
            (linktype::RAW, v6.clone()),
            (linktype::LINUX_SLL, frames::sll(&v6, 0x86dd)),
            (linktype::LINUX_SLL2, frames::sll2(&v6, 0x86dd)),
            (linktype::NULL, [&30u32.to_le_bytes()[..], &v6].concat()),
            (linktype::LOOP, [&24u32.to_be_bytes()[..], &v6].concat()),
        ] {
            let d = decode(link, &f).unwrap_or_else(|e| panic!("link {link}: {e:?}"));
            assert_eq!(d.payload, b"six", "link {link}");
            assert!(d.src.is_ipv6());
        }
    }

    #[test]
    fn ipv6_extension_headers_are_skipped() {
        let f = frames::ipv6_tcp_with_hop_by_hop(1, 2, b"ext");
        let d = decode(linktype::RAW, &f).unwrap();
        assert_eq!(d.payload, b"ext");
    }

    #[test]
    fn junk_is_a_skip_not_a_panic() {
        for len in 0..80 {
            let junk: Vec<u8> = (0..len).map(|i| (i * 31 + 7) as u8).collect();
            for link in [0, 1, 9, 51, 101, 108, 113, 228, 229, 276, 999] {
                let _ = decode(link, &junk);
            }
        }
        assert_eq!(
            decode(999, &[0; 40]).unwrap_err(),
            Skip::UnsupportedLink(999)
        );
    }

    #[test]
    fn fragments_are_counted_skips() {
        let mut f = frames::ipv4_tcp([1, 1, 1, 1], [2, 2, 2, 2], 1, 2, 0, 0x18, b"frag");
        f[6] = 0x20; // more fragments
        assert_eq!(decode(linktype::RAW, &f).unwrap_err(), Skip::Fragment);
    }
}
