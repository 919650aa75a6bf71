//! Real captures replayed many times over, for benchmarks on real traffic at a size worth
//! timing: every copy of every file gets its own addresses (the IP headers' address bytes
//! rewritten per copy, so flows stay apart in any flow table) and its own time (shifted past
//! the copy before). The packets are otherwise the captures' own bytes, so the mix of flow
//! sizes, protocols, fragments and malformed frames is the real one.

use crate::decode::linktype;
use crate::source::{SourceError, read_packets};
use crate::synth::writer::{CaptureWriter, Format, Interface};
use std::io::Write;
use std::path::{Path, PathBuf};

/// What a replay wrote.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Replayed {
    /// Copies of the inputs written.
    pub copies: usize,
    /// Packets written.
    pub packets: u64,
    /// Packets whose IP header could not be found (written unchanged).
    pub not_rewritten: u64,
}

/// The byte offset of the IP header in a frame of `link`, past any 802.1Q tags.
fn ip_offset(link: u32, frame: &[u8]) -> Option<usize> {
    match link {
        linktype::ETHERNET => {
            let mut at = 12;
            loop {
                let et = u16::from_be_bytes([*frame.get(at)?, *frame.get(at + 1)?]);
                match et {
                    0x8100 | 0x88a8 | 0x9100 => at += 4,
                    0x0800 | 0x86dd => return Some(at + 2),
                    _ => return None,
                }
            }
        }
        linktype::RAW
        | linktype::RAW_BSD12
        | linktype::RAW_BSD14
        | linktype::IPV4
        | linktype::IPV6 => Some(0),
        linktype::LINUX_SLL => Some(16),
        linktype::LINUX_SLL2 => Some(20),
        linktype::NULL | linktype::LOOP => Some(4),
        _ => None,
    }
}

/// New addresses for each (copy, file, original address), handed out in order: IPv4 from
/// 10.0.0.0/8 and IPv6 from fd00::/8, so that no two copies' flows can meet in a flow table
/// while each copy keeps its own structure (the same hosts talk to the same hosts).
#[derive(Default)]
struct Addresses {
    given: std::collections::HashMap<(u32, Vec<u8>), Vec<u8>>,
    next_v4: u32,
    next_v6: u64,
}

impl Addresses {
    fn map(&mut self, tag: u32, orig: &[u8]) -> Vec<u8> {
        let key = (tag, orig.to_vec());
        if let Some(a) = self.given.get(&key) {
            return a.clone();
        }
        let a = if orig.len() == 4 {
            self.next_v4 = self.next_v4.wrapping_add(1) & 0x00ff_ffff;
            (0x0a00_0000 | self.next_v4).to_be_bytes().to_vec()
        } else {
            self.next_v6 = self.next_v6.wrapping_add(1);
            // fd00::/8 (unique local), the copy's number in the low half.
            let mut v = vec![0xfd];
            v.extend_from_slice(&[0; 7]);
            v.extend_from_slice(&self.next_v6.to_be_bytes());
            v
        };
        self.given.insert(key, a.clone());
        a
    }
}

/// Gives the frame's addresses to (copy, file) `tag` (the IPv4 header checksum is recomputed
/// so that the header stays valid). Returns false when no IP header was found.
fn readdress(link: u32, frame: &mut [u8], tag: u32, addrs: &mut Addresses) -> bool {
    let Some(ip) = ip_offset(link, frame).and_then(|at| frame.get_mut(at..)) else {
        return false;
    };
    // The address fields: IPv4 source and destination at 12 and 16, IPv6 at 8 and 24.
    let (fields, width): ([usize; 2], usize) = match ip.first().map(|b| b >> 4) {
        Some(4) if ip.len() >= 20 => ([12, 16], 4),
        Some(6) if ip.len() >= 40 => ([8, 24], 16),
        _ => return false,
    };
    for a in fields {
        if let Some(field) = ip.get_mut(a..a + width) {
            let new = addrs.map(tag, field);
            field.copy_from_slice(&new);
        }
    }
    if width == 4 {
        let ihl = usize::from(ip.first().copied().unwrap_or(0) & 0x0f) * 4;
        if let Some(header) = ip.get_mut(..ihl).filter(|_| ihl >= 20) {
            if let Some(c) = header.get_mut(10..12) {
                c.copy_from_slice(&[0, 0]);
            }
            let mut sum = 0u32;
            for w in header.chunks(2) {
                let hi = w.first().copied().unwrap_or(0);
                sum += u32::from(u16::from_be_bytes([hi, w.get(1).copied().unwrap_or(0)]));
            }
            while sum > 0xffff {
                sum = (sum & 0xffff) + (sum >> 16);
            }
            if let Some(c) = header.get_mut(10..12) {
                c.copy_from_slice(&(!(sum as u16)).to_be_bytes());
            }
        }
    }
    true
}

/// Writes `copies` copies of every capture in `inputs` (in order) to `out` as pcapng, one
/// interface per link type, each copy readdressed and shifted in time past the one before.
pub fn replay(inputs: &[PathBuf], copies: usize, out: &Path) -> Result<Replayed, SourceError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| SourceError::Io { path, source }
    };
    let files: Vec<(PathBuf, Vec<u8>)> = inputs
        .iter()
        .map(|p| std::fs::read(p).map(|b| (p.clone(), b)).map_err(io(p)))
        .collect::<Result<_, _>>()?;
    // Link types, and each file's first time and length, from one pass. Every file is laid
    // from a common start (captures of different years would otherwise push copies past the
    // end of time); a copy takes the longest file's length and a second more.
    let mut links: Vec<u32> = Vec::new();
    let mut starts = Vec::with_capacity(files.len());
    let mut slot = 0i64;
    for (path, bytes) in &files {
        let (mut first, mut last) = (i64::MAX, i64::MIN);
        read_packets(path, bytes, |p| {
            if !links.contains(&p.linktype) {
                links.push(p.linktype);
            }
            first = first.min(p.ts_ns);
            last = last.max(p.ts_ns);
        })?;
        starts.push(if first <= last { first } else { 0 });
        slot = slot.max(last.saturating_sub(first));
    }
    let base = starts.iter().copied().min().unwrap_or(0);
    let slot = slot.saturating_add(1_000_000_000);
    let ifaces: Vec<Interface> = links
        .iter()
        .map(|&linktype| Interface {
            linktype,
            tsresol: 9,
        })
        .collect();
    let mut w = CaptureWriter::new(Format::PcapNg { big_endian: false }, &ifaces);
    let mut file =
        std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(out).map_err(io(out))?);
    let mut done = Replayed {
        copies,
        ..Replayed::default()
    };
    let mut frame = Vec::new();
    let mut addrs = Addresses::default();
    for copy in 0..copies {
        let at = base.saturating_add(slot.saturating_mul(copy as i64));
        for (f, ((path, bytes), start)) in files.iter().zip(&starts).enumerate() {
            let shift = at.saturating_sub(*start);
            let tag = (copy * files.len() + f) as u32;
            read_packets(path, bytes, |p| {
                frame.clear();
                frame.extend_from_slice(p.data);
                if !readdress(p.linktype, &mut frame, tag, &mut addrs) {
                    done.not_rewritten += 1;
                }
                let iface = links.iter().position(|&l| l == p.linktype).unwrap_or(0);
                w.packet(p.ts_ns.saturating_add(shift), iface, &frame);
                done.packets += 1;
            })?;
        }
        file.write_all(&w.drain()).map_err(io(out))?;
    }
    file.write_all(&w.finish()).map_err(io(out))?;
    file.flush().map_err(io(out))?;
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::{Decoding, decode_full};
    use crate::synth::frames;

    #[test]
    fn copies_get_their_own_addresses_with_valid_checksums() {
        let ip = frames::ipv4_tcp([10, 1, 2, 3], [192, 0, 2, 9], 40000, 3333, 1, 0x18, b"{}\n");
        let eth = frames::ethernet(&ip);
        let mut addrs = Addresses::default();
        let mut seen = std::collections::HashSet::new();
        for tag in 0..3 {
            let mut f = eth.clone();
            assert!(readdress(linktype::ETHERNET, &mut f, tag, &mut addrs));
            let Ok(Decoding::Packet(d)) = decode_full(linktype::ETHERNET, &f) else {
                panic!("the rewritten frame decodes")
            };
            assert!(seen.insert((d.src, d.dst)), "a copy of its own");
            let h = etherparse::Ipv4HeaderSlice::from_slice(&f[14..]).unwrap();
            assert_eq!(h.header_checksum(), h.to_header().calc_header_checksum());
        }
        // The same original address in the same copy maps to the same new one.
        let mut a = eth.clone();
        let mut b = eth.clone();
        readdress(linktype::ETHERNET, &mut a, 7, &mut addrs);
        readdress(linktype::ETHERNET, &mut b, 7, &mut addrs);
        assert_eq!(a, b);
    }

    #[test]
    fn a_replay_holds_every_copy_shifted_in_time() {
        let dir = tempfile::tempdir().unwrap();
        let c = crate::synth::sessions::corpus();
        let input = dir.path().join("in.pcap");
        std::fs::write(
            &input,
            crate::synth::sessions::write_pcap(&c[0], false, false),
        )
        .unwrap();
        let out = dir.path().join("out.pcapng");
        let r = replay(std::slice::from_ref(&input), 3, &out).unwrap();
        let bytes = std::fs::read(&out).unwrap();
        let mut times = Vec::new();
        read_packets(&out, &bytes, |p| times.push(p.ts_ns)).unwrap();
        assert_eq!(times.len() as u64, r.packets);
        assert_eq!(r.packets, 3 * c[0].frames.len() as u64);
        assert!(
            times.windows(2).all(|w| w[0] <= w[1]),
            "copies follow each other"
        );
        let scan = crate::scan_files(&[out], &crate::ScanConfig::default(), &|_| {});
        assert_eq!(scan.detections.len(), 3, "each copy's session is its own");
    }
}
