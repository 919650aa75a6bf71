//! Every length, offset and count a decoder reads from the wire or a file, set to the values
//! that break arithmetic: 0, 1, the true value minus one, the true value, plus one, and the
//! field's maximum minus one and maximum. Each decoder must answer (a value, a refusal, a
//! counted skip), never panic, and read the true value as before. HTTP's Content-Length and
//! chunk sizes are held the same way in `inspect` and `proto::http`'s own tests.

use minewatch_net::decode::{Decoding, decode_full};
use minewatch_net::inspect::Inspector;
use minewatch_net::proto::{dns, sv2, tls};
use minewatch_net::source::read_packets;
use minewatch_net::synth::frames;
use minewatch_net::synth::writer::{CaptureWriter, Format, Interface};
use std::path::Path;

/// The values to try for a field `bits` wide whose true value is `truth`.
fn extremes(truth: u64, bits: u32) -> Vec<u64> {
    let max = if bits >= 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    };
    let mut v = vec![
        0,
        1,
        truth.saturating_sub(1),
        truth,
        truth.saturating_add(1).min(max),
        max - 1,
        max,
    ];
    v.dedup();
    v
}

/// Writes `value` big-endian into `b[at..at + width]`.
fn put_be(b: &mut [u8], at: usize, width: usize, value: u64) {
    let bytes = value.to_be_bytes();
    b[at..at + width].copy_from_slice(&bytes[8 - width..]);
}

/// Reads a big-endian field of `width` bytes at `at`.
fn get_be(b: &[u8], at: usize, width: usize) -> u64 {
    b[at..at + width]
        .iter()
        .fold(0u64, |v, &x| v << 8 | u64::from(x))
}

/// Writes `value` little-endian into `b[at..at + width]`.
fn put_le(b: &mut [u8], at: usize, width: usize, value: u64) {
    b[at..at + width].copy_from_slice(&value.to_le_bytes()[..width]);
}

/// Feeds a client's bytes to a flow's inspector in one segment and finishes it.
fn inspect(bytes: &[u8]) {
    let mut ins = Inspector::default();
    let _ = ins.segment(0, 1, None, false, bytes, 1);
    ins.finish(2);
}

#[test]
fn dns_counts_label_lengths_and_record_lengths() {
    let good = minewatch_net::synth::dns::response(
        7,
        "pool.example",
        None,
        &["203.0.113.9".parse().unwrap()],
    );
    assert!(dns::parse(&good).is_some());
    // The four section counts (u16 at 4, 6, 8, 10).
    for at in [4, 6, 8, 10] {
        let truth = u64::from(u16::from_be_bytes([good[at], good[at + 1]]));
        for v in extremes(truth, 16) {
            let mut b = good.clone();
            put_be(&mut b, at, 2, v);
            let _ = dns::parse(&b);
        }
    }
    // The first label's length byte (12), and the answer's RDLENGTH (the last u16 before the
    // four address bytes).
    let rdlen = good.len() - 6;
    for (at, width) in [(12, 1), (rdlen, 2)] {
        let truth = get_be(&good, at, width);
        for v in extremes(truth, 8 * width as u32) {
            let mut b = good.clone();
            put_be(&mut b, at, width, v);
            let _ = dns::parse(&b);
        }
    }
    // DNS over TCP: the two-byte length prefix.
    let mut st = minewatch_net::intelflow::IntelState::new(minewatch_net::intelflow::built_in());
    for v in extremes(good.len() as u64, 16) {
        let mut b = (v as u16).to_be_bytes().to_vec();
        b.extend_from_slice(&good);
        st.dns_tcp(
            &b,
            "192.0.2.53".parse().unwrap(),
            "192.0.2.1".parse().unwrap(),
            true,
            1,
        );
    }
}

#[test]
fn tls_record_handshake_and_extension_lengths() {
    let good = minewatch_net::synth::tls::client_hello("pool.example", &["http/1.1"]);
    assert_eq!(
        tls::client_hello(&good).and_then(|c| c.sni),
        Some("pool.example".into())
    );
    // Record length (u16 at 3), handshake length (u24 at 6), session id length (u8 at 43),
    // cipher suites length (u16 at 44), compression length (u8 at 54), extensions length (u16
    // at 56), the first extension's length (u16 at 60).
    for (at, width) in [(3, 2), (6, 3), (43, 1), (44, 2), (54, 1), (56, 2), (60, 2)] {
        let truth = get_be(&good, at, width);
        for v in extremes(truth, 8 * width as u32) {
            let mut b = good.clone();
            put_be(&mut b, at, width, v);
            let _ = tls::client_hello(&b);
            let _ = tls::looks_like_tls(&b);
            inspect(&b);
        }
    }
}

#[test]
fn sv2_frame_length_and_string_lengths() {
    // SetupConnection: protocol, versions, flags, then STR0_255 fields.
    let mut payload = vec![0u8, 2, 0, 2, 0, 0, 0, 0, 0];
    payload.push(9);
    payload.extend_from_slice(b"pool.host");
    payload.extend_from_slice(&3333u16.to_le_bytes());
    for s in ["vendor", "hw", "fw", "dev"] {
        payload.push(s.len() as u8);
        payload.extend_from_slice(s.as_bytes());
    }
    let mut good = vec![0, 0, sv2::msg::SETUP_CONNECTION];
    good.extend_from_slice(&(payload.len() as u32).to_le_bytes()[..3]);
    good.extend_from_slice(&payload);
    assert!(sv2::frame(&good).is_ok());
    for v in extremes(payload.len() as u64, 24) {
        let mut b = good.clone();
        put_le(&mut b, 3, 3, v);
        if let Ok((f, _)) = sv2::frame(&b) {
            let _ = sv2::classify(&f);
        }
        inspect(&b);
    }
    // The endpoint string's own length byte (first STR0_255, at 6 + 9).
    for v in extremes(9, 8) {
        let mut b = good.clone();
        b[6 + 9] = v as u8;
        if let Ok((f, _)) = sv2::frame(&b) {
            let _ = sv2::classify(&f);
        }
    }
}

/// A capture of two small Stratum-ish TCP frames in `format`.
fn capture(format: Format) -> Vec<u8> {
    let mut w = CaptureWriter::new(
        format,
        &[Interface {
            linktype: 1,
            tsresol: 9,
        }],
    );
    let frame = frames::eth_ipv4_tcp(
        [192, 0, 2, 1],
        [192, 0, 2, 2],
        40000,
        3333,
        1,
        0x18,
        b"{}\n",
    );
    w.packet(1_600_000_000_000_000_000, 0, &frame);
    w.packet(1_600_000_000_000_000_001, 0, &frame);
    w.finish()
}

#[test]
fn pcap_record_lengths() {
    let good = capture(Format::Pcap {
        big_endian: false,
        nanos: false,
    });
    let frame_len = (good.len() - 24) / 2 - 16;
    // The first record's captured and original lengths (u32 LE at 24 + 8 and 24 + 12).
    for at in [24 + 8, 24 + 12] {
        for v in extremes(frame_len as u64, 32) {
            let mut b = good.clone();
            put_le(&mut b, at, 4, v);
            let r = read_packets(Path::new("x.pcap"), &b, |p| {
                let _ = decode_full(p.linktype, p.data);
            });
            if at == 24 + 12 || v == frame_len as u64 {
                assert_eq!(r.unwrap().packets, 2, "orig_len {v} changes nothing");
            }
        }
    }
}

#[test]
fn pcapng_block_and_captured_lengths() {
    let good = capture(Format::PcapNg { big_endian: false });
    let shb_len = u32::from_le_bytes([good[4], good[5], good[6], good[7]]) as usize;
    let idb_len = u32::from_le_bytes(good[shb_len + 4..shb_len + 8].try_into().unwrap()) as usize;
    let epb = shb_len + idb_len;
    let epb_len = u32::from_le_bytes(good[epb + 4..epb + 8].try_into().unwrap());
    let caplen = u32::from_le_bytes(good[epb + 20..epb + 24].try_into().unwrap());
    let fields = [
        (4usize, u64::from(shb_len as u32)),
        (16, u64::MAX),
        (shb_len + 4, idb_len as u64),
        (epb + 4, u64::from(epb_len)),
        (epb + 20, u64::from(caplen)),
        (epb + 24, u64::from(caplen)),
    ];
    for (at, truth) in fields {
        let width = if at == 16 { 8 } else { 4 };
        for v in extremes(truth, 8 * width as u32) {
            let mut b = good.clone();
            put_le(&mut b, at, width, v);
            let _ = read_packets(Path::new("x.pcapng"), &b, |p| {
                let _ = decode_full(p.linktype, p.data);
            });
        }
    }
}

/// (byte offset, width) of the fields to try in a frame.
type Fields = Vec<(usize, usize)>;

#[test]
fn tunnel_and_ip_header_lengths() {
    let inner = frames::ipv4_tcp([10, 0, 0, 1], [10, 0, 0, 2], 40000, 3333, 1, 0x18, b"{}\n");
    let cases: Vec<(&str, Vec<u8>, Fields)> = vec![
        // Ethernet + outer IPv4: total length (16), IHL nibble (14); GRE flags (34) claim
        // checksum, key, sequence and acknowledgement words that may not be there.
        (
            "gre",
            frames::wrap_gre(&inner),
            vec![(16, 2), (14, 1), (34, 2)],
        ),
        // PPPoE payload length (18).
        ("pppoe", frames::wrap_pppoe(&inner), vec![(18, 2)]),
        // IP-in-IP: outer and inner total lengths.
        ("ipip", frames::wrap_ipip(&inner), vec![(16, 2), (36, 2)]),
        // 802.1Q: the tag's ethertype.
        ("vlan", frames::wrap_vlan(&[7], &inner), vec![(16, 2)]),
        // IPv6: payload length (18 in the frame).
        (
            "ipv6",
            frames::ethernet(&frames::ipv6_tcp(1, 2, b"{}\n")),
            vec![(18, 2)],
        ),
        // TCP data offset nibble (Ethernet 14 + IPv4 20 + 12).
        ("tcp", frames::ethernet(&inner), vec![(46, 1)]),
    ];
    for (name, good, fields) in cases {
        assert!(
            matches!(decode_full(1, &good), Ok(Decoding::Packet(_))),
            "{name}: the untouched frame decodes"
        );
        for (at, width) in fields {
            let truth = get_be(&good, at, width);
            for v in extremes(truth, 8 * width as u32) {
                let mut b = good.clone();
                put_be(&mut b, at, width, v);
                let _ = decode_full(1, &b);
                // Cut short at every length too.
                for cut in [0, 1, b.len() / 2, b.len() - 1] {
                    let _ = decode_full(1, &b[..cut]);
                }
            }
        }
    }
}
