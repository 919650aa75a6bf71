//! Frame builders: IP packets and the link layers and tunnels around them.

use etherparse::{PacketBuilder, PacketBuilderStep, TcpHeader};

/// Sets the TCP flags (FIN, SYN, RST, PSH, ACK bits of `flags`) and writes the packet.
fn tcp_packet(step: PacketBuilderStep<TcpHeader>, flags: u8, ack: u32, payload: &[u8]) -> Vec<u8> {
    let mut s = step;
    if flags & 0x01 != 0 {
        s = s.fin();
    }
    if flags & 0x02 != 0 {
        s = s.syn();
    }
    if flags & 0x04 != 0 {
        s = s.rst();
    }
    if flags & 0x08 != 0 {
        s = s.psh();
    }
    if flags & 0x10 != 0 {
        s = s.ack(ack);
    }
    let mut out = Vec::with_capacity(s.size(payload.len()));
    #[allow(
        clippy::expect_used,
        reason = "the generator's payloads fit an IP packet; a writer error is a bug in the generator"
    )]
    s.write(&mut out, payload)
        .expect("writing to a Vec cannot fail");
    out
}

/// An IPv4 TCP packet (no link layer) with valid checksums, acknowledging 1.
pub fn ipv4_tcp(
    src: [u8; 4],
    dst: [u8; 4],
    sport: u16,
    dport: u16,
    seq: u32,
    flags: u8,
    payload: &[u8],
) -> Vec<u8> {
    ipv4_tcp_ack(src, dst, sport, dport, seq, 1, flags, payload)
}

/// An IPv4 TCP packet with its acknowledgement number.
#[allow(clippy::too_many_arguments)]
pub fn ipv4_tcp_ack(
    src: [u8; 4],
    dst: [u8; 4],
    sport: u16,
    dport: u16,
    seq: u32,
    ack: u32,
    flags: u8,
    payload: &[u8],
) -> Vec<u8> {
    tcp_packet(
        PacketBuilder::ipv4(src, dst, 64).tcp(sport, dport, seq, 64240),
        flags,
        ack,
        payload,
    )
}

/// An IPv6 TCP packet (no link layer) between `::n` style addresses `2001:db8::src` and `2001:db8::dst`.
pub fn ipv6_tcp(src: u8, dst: u8, payload: &[u8]) -> Vec<u8> {
    ipv6_tcp_full(v6(src), v6(dst), 40000, 3333, 1, 1, 0x18, payload)
}

/// The documentation-prefix IPv6 address `2001:db8::n`.
pub fn v6(n: u8) -> [u8; 16] {
    let mut a = [0u8; 16];
    a[0] = 0x20;
    a[1] = 0x01;
    a[2] = 0x0d;
    a[3] = 0xb8;
    a[15] = n;
    a
}

/// An IPv6 TCP packet with every field chosen.
#[allow(clippy::too_many_arguments)]
pub fn ipv6_tcp_full(
    src: [u8; 16],
    dst: [u8; 16],
    sport: u16,
    dport: u16,
    seq: u32,
    ack: u32,
    flags: u8,
    payload: &[u8],
) -> Vec<u8> {
    tcp_packet(
        PacketBuilder::ipv6(src, dst, 64).tcp(sport, dport, seq, 64240),
        flags,
        ack,
        payload,
    )
}

/// An IPv4 UDP packet.
pub fn ipv4_udp(src: [u8; 4], dst: [u8; 4], sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let b = PacketBuilder::ipv4(src, dst, 64).udp(sport, dport);
    let mut out = Vec::with_capacity(b.size(payload.len()));
    #[allow(
        clippy::expect_used,
        reason = "the generator's payloads fit an IP packet; a writer error is a bug in the generator"
    )]
    b.write(&mut out, payload)
        .expect("writing to a Vec cannot fail");
    out
}

/// An IPv6 TCP packet with a hop-by-hop options header before TCP.
pub fn ipv6_tcp_with_hop_by_hop(src: u8, dst: u8, payload: &[u8]) -> Vec<u8> {
    let plain = ipv6_tcp(src, dst, payload);
    let (hdr, tcp) = plain.split_at(40);
    let mut out = hdr.to_vec();
    // Next header 0 = hop-by-hop; it then points at TCP (6), length 0 (8 bytes), PadN.
    out[6] = 0;
    let pl = u16::from_be_bytes([out[4], out[5]]) + 8;
    out[4..6].copy_from_slice(&pl.to_be_bytes());
    out.extend_from_slice(&[6, 0, 1, 4, 0, 0, 0, 0]);
    out.extend_from_slice(tcp);
    out
}

/// Ethernet II around an IP packet (ethertype from the IP version).
pub fn ethernet(ip: &[u8]) -> Vec<u8> {
    let et: u16 = if ip.first().map(|b| b >> 4) == Some(6) {
        0x86dd
    } else {
        0x0800
    };
    ethernet_with(et, ip)
}

/// Ethernet II with a given ethertype.
pub fn ethernet_with(ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01];
    f.extend_from_slice(&ethertype.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

/// Ethernet IPv4 TCP in one call.
pub fn eth_ipv4_tcp(
    src: [u8; 4],
    dst: [u8; 4],
    sport: u16,
    dport: u16,
    seq: u32,
    flags: u8,
    payload: &[u8],
) -> Vec<u8> {
    ethernet(&ipv4_tcp(src, dst, sport, dport, seq, flags, payload))
}

/// Ethernet with one or more 802.1Q tags (the first outermost, as 802.1ad when more than one).
pub fn wrap_vlan(ids: &[u16], ip: &[u8]) -> Vec<u8> {
    let inner_type: u16 = if ip.first().map(|b| b >> 4) == Some(6) {
        0x86dd
    } else {
        0x0800
    };
    let mut body = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        let next = if i + 1 < ids.len() {
            0x8100
        } else {
            inner_type
        };
        body.extend_from_slice(&(id & 0x0fff).to_be_bytes());
        body.extend_from_slice(&u16::to_be_bytes(next));
    }
    body.extend_from_slice(ip);
    let outer = if ids.len() > 1 { 0x88a8 } else { 0x8100 };
    ethernet_with(outer, &body)
}

/// Ethernet PPPoE session around an IP packet.
pub fn wrap_pppoe(ip: &[u8]) -> Vec<u8> {
    let ppp: u16 = if ip.first().map(|b| b >> 4) == Some(6) {
        0x0057
    } else {
        0x0021
    };
    let mut body = vec![0x11, 0x00, 0x12, 0x34];
    body.extend_from_slice(&((ip.len() + 2) as u16).to_be_bytes());
    body.extend_from_slice(&ppp.to_be_bytes());
    body.extend_from_slice(ip);
    ethernet_with(0x8864, &body)
}

/// Ethernet, outer IPv4 GRE (with a key) around an IP packet.
pub fn wrap_gre(ip: &[u8]) -> Vec<u8> {
    let et: u16 = if ip.first().map(|b| b >> 4) == Some(6) {
        0x86dd
    } else {
        0x0800
    };
    let mut gre = vec![0x20, 0x00];
    gre.extend_from_slice(&et.to_be_bytes());
    gre.extend_from_slice(&[0, 0, 0, 42]);
    gre.extend_from_slice(ip);
    ethernet(&outer_ipv4(47, &gre))
}

/// Ethernet, outer IPv4 with protocol 4 or 41 around an IP packet.
pub fn wrap_ipip(ip: &[u8]) -> Vec<u8> {
    let proto = if ip.first().map(|b| b >> 4) == Some(6) {
        41
    } else {
        4
    };
    ethernet(&outer_ipv4(proto, ip))
}

fn outer_ipv4(proto: u8, payload: &[u8]) -> Vec<u8> {
    let total = (20 + payload.len()) as u16;
    let mut h = vec![
        0x45, 0, 0, 0, 0, 1, 0x40, 0, 64, proto, 0, 0, 192, 0, 2, 1, 192, 0, 2, 2,
    ];
    h[2..4].copy_from_slice(&total.to_be_bytes());
    let sum = ipv4_checksum(&h);
    h[10..12].copy_from_slice(&sum.to_be_bytes());
    h.extend_from_slice(payload);
    h
}

/// Cuts an IPv4 packet into fragments whose payloads are at most `max_payload` bytes (rounded
/// down to a multiple of 8), last piece first when `reverse` (receivers must cope with any order).
pub fn fragment_ipv4(ip: &[u8], max_payload: usize, id: u16, reverse: bool) -> Vec<Vec<u8>> {
    let hl = usize::from(ip.first().map_or(5, |b| b & 0x0f)) * 4;
    if ip.len() <= hl + max_payload || ip.len() < 20 {
        return vec![ip.to_vec()];
    }
    let step = (max_payload / 8).max(1) * 8;
    let payload = &ip[hl..];
    let mut out = Vec::new();
    let mut off = 0;
    while off < payload.len() {
        let end = (off + step).min(payload.len());
        let more = end < payload.len();
        let mut h = ip[..hl].to_vec();
        h[2..4].copy_from_slice(&((hl + end - off) as u16).to_be_bytes());
        h[4..6].copy_from_slice(&id.to_be_bytes());
        let flags_off = ((off / 8) as u16) | if more { 0x2000 } else { 0 };
        h[6..8].copy_from_slice(&flags_off.to_be_bytes());
        h[10] = 0;
        h[11] = 0;
        let sum = ipv4_checksum(&h);
        h[10..12].copy_from_slice(&sum.to_be_bytes());
        h.extend_from_slice(&payload[off..end]);
        out.push(h);
        off = end;
    }
    if reverse {
        out.reverse();
    }
    out
}

fn ipv4_checksum(h: &[u8]) -> u16 {
    let mut s: u32 = h
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], c[1]])))
        .sum();
    while s > 0xffff {
        s = (s & 0xffff) + (s >> 16);
    }
    !(s as u16)
}

/// Linux cooked capture v1 header around a payload.
pub fn sll(payload: &[u8], proto: u16) -> Vec<u8> {
    let mut f = vec![0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0];
    f.extend_from_slice(&proto.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

/// Linux cooked capture v2 header around a payload.
pub fn sll2(payload: &[u8], proto: u16) -> Vec<u8> {
    let mut f = proto.to_be_bytes().to_vec();
    f.extend_from_slice(&[0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0]);
    f.extend_from_slice(payload);
    f
}
