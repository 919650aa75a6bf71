//! Capture files: pcap and pcapng, read in place from a memory map (guarded against the file
//! shrinking under it: `minewatch_mapped`).
//!
//! pcap-file parses the records; this module adds what a scanner needs around it: format
//! detection by magic, a packet number and byte offset for every record (so every complaint can
//! say where), and the policy for damage: a truncated last record is a warning (captures are
//! often cut), a corrupt record header stops the file with an error that names the offset.

use pcap_file::DataLink;
use pcap_file::pcap::PcapParser;
use pcap_file::pcap::PcapTsResolution;
use pcap_file::pcapng::{Block, PcapNgParseError, PcapNgParser};
use std::borrow::Cow;
use std::fs::File;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use thiserror::Error;

/// Records larger than this are taken as corruption, not as packets (the largest legitimate
/// snap length in common use is 262,144 bytes).
pub const MAX_RECORD: usize = 1 << 20;

/// Resident pages behind the read position are released every this many bytes.
const RELEASE_EVERY: usize = 64 << 20;
/// A reader says how far it has come every this many bytes.
const MARK_EVERY: usize = 1 << 20;
/// The most one of several readers of a map may run ahead of the slowest.
pub const MAX_LEAD: usize = 16 << 20;
/// Alignment of released ranges (a multiple of every common page size).
const RELEASE_ALIGN: usize = 64 << 10;

/// One captured frame, borrowed from the file.
#[derive(Clone, Copy, Debug)]
pub struct RawPacket<'a> {
    /// 1-based number of the packet in its file.
    pub number: u64,
    /// Byte offset of the record in the file.
    pub offset: u64,
    /// Nanoseconds since the Unix epoch.
    pub ts_ns: i64,
    /// Link type of the frame.
    pub linktype: u32,
    /// The captured bytes.
    pub data: &'a [u8],
}

/// Which capture format a file is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CaptureFormat {
    /// libpcap.
    Pcap,
    /// pcapng.
    PcapNg,
}

/// What can go wrong reading a capture.
#[derive(Debug, Error)]
pub enum SourceError {
    /// The file could not be opened or mapped.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The system's error.
        source: std::io::Error,
    },
    /// The first bytes are no capture magic.
    #[error("{path}: not a pcap or pcapng capture (first bytes {magic})")]
    NotCapture {
        /// The file.
        path: PathBuf,
        /// The first bytes in hex.
        magic: String,
    },
    /// The file shrank while it was read (truncated or rewritten under the scan).
    #[error(
        "{path}: the file shrank while it was read: bytes from offset {offset} are gone (packet {packet}); {delivered} packets before it were read"
    )]
    Shrunk {
        /// The file.
        path: PathBuf,
        /// The first byte lost.
        offset: u64,
        /// Number of the first packet not read.
        packet: u64,
        /// Packets read before the loss.
        delivered: u64,
    },
    /// A header or record is damaged beyond reading on.
    #[error("{path}: corrupt capture at byte offset {offset} (packet {packet}): {what}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// Byte offset of the bad record.
        offset: u64,
        /// Number the packet would have had.
        packet: u64,
        /// What is wrong.
        what: String,
    },
}

/// What reading one file came to.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReadReport {
    /// Packets delivered.
    pub packets: u64,
    /// Bytes of packet data delivered.
    pub bytes: u64,
    /// The file ended inside a record: (byte offset, packet number).
    pub truncated_at: Option<(u64, u64)>,
    /// pcapng blocks that could not be decoded and were skipped: (byte offset, reason).
    pub skipped_blocks: Vec<(u64, String)>,
    /// Count of skipped blocks beyond those listed (the list is capped).
    pub skipped_blocks_unlisted: u64,
    /// pcap records whose timestamp fraction was past its unit (≥ 10^6 µs or 10^9 ns):
    /// read with the excess carried into the seconds.
    pub odd_timestamps: u64,
}

impl ReadReport {
    /// Hands `p` to `f`, counting it as delivered unless `f` stops the reading there.
    fn deliver<'a, F: FnMut(RawPacket<'a>) -> ControlFlow<()>>(
        &mut self,
        p: RawPacket<'a>,
        f: &mut F,
    ) -> ControlFlow<()> {
        f(p)?;
        self.packets += 1;
        self.bytes += p.data.len() as u64;
        ControlFlow::Continue(())
    }
}

const SKIPPED_LISTED: usize = 32;

impl ReadReport {
    /// The warnings of reading `path`, a line each: where the file ended inside a packet,
    /// which blocks were skipped and why, timestamps read with their excess carried.
    pub fn warnings(&self, path: &Path) -> Vec<String> {
        let p = path.display();
        let mut out = Vec::new();
        if let Some((off, n)) = self.truncated_at {
            out.push(format!(
                "{p}: capture ends inside packet {n} (byte offset {off}); read up to there"
            ));
        }
        for (off, why) in &self.skipped_blocks {
            out.push(format!("{p}: block at byte offset {off} skipped: {why}"));
        }
        if self.odd_timestamps > 0 {
            out.push(format!(
                "{p}: {} packets with a timestamp fraction past its unit, read with the excess carried into the seconds",
                self.odd_timestamps
            ));
        }
        if self.skipped_blocks_unlisted > 0 {
            out.push(format!(
                "{p}: {} more blocks skipped",
                self.skipped_blocks_unlisted
            ));
        }
        out
    }

    fn skip_block(&mut self, offset: u64, why: String) {
        if self.skipped_blocks.len() < SKIPPED_LISTED {
            self.skipped_blocks.push((offset, why));
        } else {
            self.skipped_blocks_unlisted += 1;
        }
    }
}

/// How far each of several threads reading one [`Capture`] together has come (byte offsets,
/// updated every [`MARK_EVERY`] bytes), and how far the map has been released behind them.
pub struct Readers {
    at: Vec<AtomicUsize>,
    released: AtomicUsize,
    lead: usize,
}

impl Readers {
    /// `n` readers, none started.
    pub fn new(n: usize) -> Readers {
        Readers {
            at: (0..n).map(|_| AtomicUsize::new(0)).collect(),
            released: AtomicUsize::new(0),
            lead: MAX_LEAD,
        }
    }

    /// Reader `me` has read up to `at`: releases what every reader has passed, once there is
    /// [`RELEASE_EVERY`] of it, and waits while `me` is more than the lead allowed
    /// ([`MAX_LEAD`]) ahead.
    fn reached(&self, me: usize, at: usize, map: &minewatch_mapped::MappedFile) {
        self.mark(me, at);
        let mut slowest = self.slowest();
        let upto = slowest.min(at) & !(RELEASE_ALIGN - 1);
        let from = self.released.load(Ordering::Relaxed);
        if upto.saturating_sub(from) >= RELEASE_EVERY {
            // One reader releases each range.
            let prev = self.released.fetch_max(upto, Ordering::Relaxed);
            if prev < upto {
                map.release(prev, upto - prev);
            }
        }
        while at.saturating_sub(slowest) > self.lead {
            std::thread::sleep(std::time::Duration::from_micros(200));
            slowest = self.slowest();
        }
    }

    fn mark(&self, me: usize, at: usize) {
        if let Some(a) = self.at.get(me) {
            a.store(at, Ordering::Relaxed);
        }
    }

    /// The offset every reader has passed.
    fn slowest(&self) -> usize {
        self.at
            .iter()
            .map(|a| a.load(Ordering::Relaxed))
            .min()
            .unwrap_or(0)
    }
}

/// Marks a reader finished when its reading ends, by return or by unwinding.
struct Done<'r>(&'r Readers, usize);

impl Drop for Done<'_> {
    fn drop(&mut self) {
        self.0.mark(self.1, usize::MAX);
    }
}

/// A capture file mapped into memory.
pub struct Capture {
    path: PathBuf,
    map: minewatch_mapped::MappedFile,
}

impl Capture {
    /// Opens and maps a file.
    pub fn open(path: &Path) -> Result<Capture, SourceError> {
        let map = minewatch_mapped::MappedFile::open(path).map_err(|source| SourceError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        map.advise_sequential();
        Ok(Capture {
            path: path.to_path_buf(),
            map,
        })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The whole file.
    pub fn bytes(&self) -> &[u8] {
        self.map.bytes()
    }

    /// Reads every packet, in file order, into `f`. A file that shrinks while it is read (a
    /// capture ring rotating onto it) ends the reading at the first lost byte with
    /// [`SourceError::Shrunk`]; the packets before it were delivered.
    pub fn for_each<'a, F: FnMut(RawPacket<'a>)>(
        &'a self,
        f: F,
    ) -> Result<ReadReport, SourceError> {
        self.for_each_among(&Readers::new(1), 0, f)
    }

    /// Like [`Capture::for_each`], for one of several threads reading this one map together
    /// (`readers.len()` of them, this one numbered `me`): pages are released only behind the
    /// slowest, and a reader more than [`MAX_LEAD`] bytes ahead of the slowest waits for it,
    /// so the resident part of the map stays bounded however unevenly the work falls.
    pub fn for_each_among<'a, F: FnMut(RawPacket<'a>)>(
        &'a self,
        readers: &Readers,
        me: usize,
        mut f: F,
    ) -> Result<ReadReport, SourceError> {
        // Done, however it ends (a panic too): hold nobody back.
        let _done = Done(readers, me);
        let mut marked = 0usize;
        let mut lost: Option<(u64, u64)> = None;
        let base = self.map.bytes().as_ptr() as u64;
        let report = read_packets_until(&self.path, self.map.bytes(), |p| {
            // The guard marks the map when the file shrank under it; a packet reaching into
            // the lost part is not the file's any more.
            let end = p.data.as_ptr() as u64 - base + p.data.len() as u64;
            if !self.map.intact_to(end) {
                lost = Some((self.map.lost_from().unwrap_or(end), p.number));
                return ControlFlow::Break(());
            }
            let at = p.offset as usize;
            if at - marked >= MARK_EVERY {
                marked = at;
                readers.reached(me, at, &self.map);
            }
            f(p);
            ControlFlow::Continue(())
        });
        // A loss found only by the parser (zeros where a record header was) shows after the
        // loop, and outranks whatever the parser made of the zeros.
        let delivered = report.as_ref().map_or(0, |r| r.packets);
        let lost = lost.or_else(|| {
            self.map
                .lost_from()
                .or_else(|| self.map.shrunk_to())
                .map(|at| (at, delivered.saturating_add(1)))
        });
        match lost {
            Some((offset, packet)) => Err(SourceError::Shrunk {
                path: self.path.clone(),
                offset,
                packet,
                delivered,
            }),
            None => report,
        }
    }
}

/// The format of a capture from its first four bytes.
pub fn sniff_format(bytes: &[u8]) -> Option<CaptureFormat> {
    let m = bytes.get(..4)?;
    match m {
        [0xd4, 0xc3, 0xb2, 0xa1]
        | [0xa1, 0xb2, 0xc3, 0xd4]
        | [0x4d, 0x3c, 0xb2, 0xa1]
        | [0xa1, 0xb2, 0x3c, 0x4d] => Some(CaptureFormat::Pcap),
        [0x0a, 0x0d, 0x0d, 0x0a] => Some(CaptureFormat::PcapNg),
        _ => None,
    }
}

/// Reads every packet of an in-memory capture into `f`. `path` names it in errors.
pub fn read_packets<'a, F: FnMut(RawPacket<'a>)>(
    path: &Path,
    bytes: &'a [u8],
    mut f: F,
) -> Result<ReadReport, SourceError> {
    read_packets_until(path, bytes, |p| {
        f(p);
        ControlFlow::Continue(())
    })
}

/// Reads packets of an in-memory capture into `f` until it breaks.
pub fn read_packets_until<'a, F: FnMut(RawPacket<'a>) -> ControlFlow<()>>(
    path: &Path,
    bytes: &'a [u8],
    f: F,
) -> Result<ReadReport, SourceError> {
    match sniff_format(bytes) {
        Some(CaptureFormat::Pcap) => read_pcap(path, bytes, f),
        Some(CaptureFormat::PcapNg) => read_pcapng(path, bytes, f),
        None => Err(SourceError::NotCapture {
            path: path.to_path_buf(),
            magic: hex::encode(bytes.get(..4).unwrap_or(bytes)),
        }),
    }
}

/// The pcapng block type of an Enhanced Packet Block.
const EPB: u32 = 6;
/// The pcapng block type of a Section Header Block.
const SHB: u32 = 0x0a0d_0d0a;
/// The pcapng block type of an Interface Description Block.
const IDB: u32 = 1;

/// What a packet block needs of its interface, kept as plain numbers: asking pcap-file's state
/// for the link type (a `DataLink` matched back to its number) and the time (a 128-bit product
/// made a `Duration`) was two thirds of the reader's work per packet (docs/PERFORMANCE.md).
struct Interfaces {
    /// The section is big-endian.
    big: bool,
    /// Per interface id, in the order the section described them.
    of: Vec<Interface>,
}

/// One interface's link type and clock.
struct Interface {
    linktype: u32,
    /// Nanoseconds per timestamp unit, for decimal resolutions of a second to a nanosecond with
    /// no offset; `None` sends the time to pcap-file's own decoding.
    ns_per_unit: Option<u64>,
}

impl Interfaces {
    /// The parser's section and interfaces as they stand.
    fn of(parser: &PcapNgParser) -> Interfaces {
        use pcap_file::pcapng::blocks::interface_description::InterfaceTsResolution as R;
        let of = parser
            .interfaces()
            .iter()
            .map(|i| {
                let r = i.ts_resolution();
                let ns = [
                    (R::SEC, 1_000_000_000),
                    (R::MILLI, 1_000_000),
                    (R::MICRO, 1_000),
                    (R::NANO, 1),
                ]
                .iter()
                .find(|(res, _)| *res == r)
                .map(|&(_, ns)| ns);
                Interface {
                    linktype: u32::from(i.linktype),
                    ns_per_unit: ns.filter(|_| i.ts_offset() == 0),
                }
            })
            .collect();
        Interfaces {
            big: parser.section().endianness == pcap_file::Endianness::Big,
            of,
        }
    }
}

/// A whole Enhanced Packet Block without options at the start of `rest`, read without
/// pcap-file: `(block length, link type, time in ns, data)`.
///
/// pcap-file's block walk built a `RawBlock` and dispatched on the byte order for every
/// packet, and its `try_into_block` built a `Block` (an options vector, a `Cow`, a `Duration`);
/// the fixed fields of a block without options are seven words, and reading them here was a
/// few per cent of a scan each time (docs/PERFORMANCE.md). The checks are pcap-file's own: the
/// block's length a multiple of four and equal to its trailer, the interface known, the
/// original length not below the captured one, data and padding filling the body exactly (no
/// options). An Enhanced Packet Block changes nothing in the parser's state (only section
/// headers and interface descriptions do), so reading it here leaves the state as the full walk
/// would. Any other block, and one that fails a check, takes the full walk, so errors and
/// skips are unchanged.
fn plain_epb<'a>(
    parser: &PcapNgParser,
    ifaces: &Interfaces,
    rest: &'a [u8],
) -> Option<(usize, u32, i64, &'a [u8])> {
    // The byte order chosen once per block, not once per field: a branch per word cost 1.7 %
    // of a scan of real traffic's instructions (docs/PERFORMANCE.md).
    if ifaces.big {
        plain_epb_in::<true>(parser, ifaces, rest)
    } else {
        plain_epb_in::<false>(parser, ifaces, rest)
    }
}

/// [`plain_epb`] for one byte order.
#[inline(always)]
fn plain_epb_in<'a, const BIG: bool>(
    parser: &PcapNgParser,
    ifaces: &Interfaces,
    rest: &'a [u8],
) -> Option<(usize, u32, i64, &'a [u8])> {
    let word = |b: &[u8; 4]| {
        if BIG {
            u32::from_be_bytes(*b)
        } else {
            u32::from_le_bytes(*b)
        }
    };
    // Type and length, then the body's fixed fields: interface, time (high and low words),
    // captured and original length.
    let (head, _) = rest.first_chunk::<28>()?.as_chunks::<4>();
    let &[ty, len, id, high, low, cap, orig] = head else {
        return None;
    };
    if word(&ty) != EPB {
        return None;
    }
    let (len32, cap, orig) = (word(&len), word(&cap), word(&orig));
    if orig < cap {
        return None;
    }
    let cap = usize::try_from(cap).ok()?;
    if cap > MAX_RECORD {
        return None;
    }
    // No options: the fixed 28 bytes, the data padded to four, the trailer.
    let len = usize::try_from(len32).ok()?;
    if len != cap.checked_add((4 - cap % 4) % 4)?.checked_add(32)? {
        return None;
    }
    let trailer: &[u8; 4] = rest.get(len - 4..len)?.try_into().ok()?;
    if word(trailer) != len32 {
        return None;
    }
    let (id, high, low) = (word(&id), word(&high), word(&low));
    let iface = ifaces.of.get(usize::try_from(id).ok()?)?;
    let raw = u64::from(high) << 32 | u64::from(low);
    let ts = match iface
        .ns_per_unit
        .and_then(|n| raw.checked_mul(n))
        .and_then(|ns| i64::try_from(ns).ok())
    {
        Some(ns) => ns,
        None => duration_ns(parser.state().decode_timestamp(id, high, low).ok()?),
    };
    Some((len, iface.linktype, ts, rest.get(28..28 + cap)?))
}

fn duration_ns(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)
}

fn read_pcap<'a, F: FnMut(RawPacket<'a>) -> ControlFlow<()>>(
    path: &Path,
    bytes: &'a [u8],
    mut f: F,
) -> Result<ReadReport, SourceError> {
    let corrupt = |offset: u64, packet: u64, what: String| SourceError::Corrupt {
        path: path.to_path_buf(),
        offset,
        packet,
        what,
    };
    let (mut rest, parser) =
        PcapParser::new(bytes).map_err(|e| corrupt(0, 0, format!("bad pcap file header: {e}")))?;
    let header = parser.header();
    let linktype = u32::from(header.datalink);
    let nanos = header.ts_resolution == PcapTsResolution::NanoSecond;
    let mut report = ReadReport::default();
    while !rest.is_empty() {
        let offset = (bytes.len() - rest.len()) as u64;
        let number = report.packets + 1;
        match parser.next_raw_packet(rest) {
            Ok((rem, raw)) => {
                if raw.incl_len as usize > MAX_RECORD {
                    return Err(corrupt(
                        offset,
                        number,
                        format!("record length {} is absurd", raw.incl_len),
                    ));
                }
                // A fraction of a second past its unit (some writers put 1,000,000 µs there)
                // is carried into the seconds, as libpcap's `timeval` arithmetic and
                // Wireshark's time normalisation do, and counted. Both parts are u32, so the
                // sum fits an i64 with room to spare.
                let frac = i64::from(raw.ts_frac);
                if frac >= if nanos { 1_000_000_000 } else { 1_000_000 } {
                    report.odd_timestamps += 1;
                }
                let ts_ns =
                    i64::from(raw.ts_sec) * 1_000_000_000 + if nanos { frac } else { frac * 1000 };
                // The record's bytes, borrowed from the file rather than from the parser's value.
                // pcap-file has checked that the record lies inside the buffer.
                let start = offset as usize + 16;
                let Some(data) = start
                    .checked_add(raw.incl_len as usize)
                    .and_then(|end| bytes.get(start..end))
                else {
                    return Err(corrupt(
                        offset,
                        number,
                        "record runs past the end of the file".into(),
                    ));
                };
                let p = RawPacket {
                    number,
                    offset,
                    ts_ns,
                    linktype,
                    data,
                };
                prefetch_ahead(rest, rest.len() - rem.len());
                if report.deliver(p, &mut f).is_break() {
                    break;
                }
                rest = rem;
            }
            Err(_) => {
                // The only error next_raw_packet returns: the buffer ends inside a record.
                if let Some(&field) = rest.get(8..12).and_then(|f| <&[u8; 4]>::try_from(f).ok()) {
                    let len = if header.endianness == pcap_file::Endianness::Big {
                        u32::from_be_bytes(field)
                    } else {
                        u32::from_le_bytes(field)
                    };
                    if len as usize > MAX_RECORD {
                        return Err(corrupt(
                            offset,
                            number,
                            format!("record length {len} is absurd"),
                        ));
                    }
                }
                report.truncated_at = Some((offset, number));
                break;
            }
        }
    }
    Ok(report)
}

/// How far ahead of the reading the file's bytes are asked into the cache.
const PREFETCH_AHEAD: usize = 4096;

/// Asks the CPU to start loading every cache line of the `len` bytes [`PREFETCH_AHEAD`] past
/// the start of `rest`: as the reader takes a record of `len` bytes at `rest`, the bytes a page
/// further on. The hardware's own prefetcher stops at a page's end, so each new page of a
/// capture was a wait for memory at the first record header in it and again at lines the
/// prefetcher had not reached (a record's trailer); hinting the lines a page ahead, as many as
/// the reader moves over, overlaps those waits with the work on the records before them. One
/// hint per record, a page ahead, took 3-5 % off a scan (session 14); a hint for every line
/// took 6 % more off the real row (session 25, docs/PERFORMANCE.md). Only hints: nothing is
/// read, and none is issued past the buffer's end.
#[inline(always)]
fn prefetch_ahead(rest: &[u8], len: usize) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        let mut at = PREFETCH_AHEAD;
        while at < PREFETCH_AHEAD.saturating_add(len) {
            let Some(b) = rest.get(at) else { break };
            // SAFETY: SSE, which the intrinsic needs, is part of every x86_64 CPU; a prefetch
            // reads nothing and cannot fault, and the pointer is inside `rest` besides.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(std::ptr::from_ref(b).cast::<i8>()) };
            at += 64;
        }
    }
}

fn read_pcapng<'a, F: FnMut(RawPacket<'a>) -> ControlFlow<()>>(
    path: &Path,
    bytes: &'a [u8],
    mut f: F,
) -> Result<ReadReport, SourceError> {
    let corrupt = |offset: u64, packet: u64, what: String| SourceError::Corrupt {
        path: path.to_path_buf(),
        offset,
        packet,
        what,
    };
    let (mut rest, mut parser) = PcapNgParser::new(bytes).map_err(|e| match e {
        PcapNgParseError::IncompleteBuffer(..) => {
            corrupt(0, 0, "file ends inside the section header".into())
        }
        e => corrupt(0, 0, format!("bad section header: {e}")),
    })?;
    let mut report = ReadReport::default();
    // Simple packet blocks carry no time: they take the last time seen.
    let mut last_ts = 0i64;
    let mut ifaces = Interfaces::of(&parser);
    while !rest.is_empty() {
        let offset = (bytes.len() - rest.len()) as u64;
        let number = report.packets + 1;
        let (linktype, ts_ns, data) =
            if let Some((len, linktype, ts_ns, data)) = plain_epb(&parser, &ifaces, rest) {
                prefetch_ahead(rest, len);
                rest = rest.get(len..).unwrap_or_default();
                last_ts = ts_ns;
                (linktype, ts_ns, data)
            } else {
                let (rem, raw) = match parser.next_raw_block(rest) {
                    Ok(r) => r,
                    Err(PcapNgParseError::IncompleteBuffer(..)) => {
                        report.truncated_at = Some((offset, number));
                        break;
                    }
                    Err(e) => return Err(corrupt(offset, number, e.to_string())),
                };
                rest = rem;
                if matches!(raw.type_, SHB | IDB) {
                    // A section header or interface description changed what packets mean (no
                    // other block changes pcap-file's state).
                    ifaces = Interfaces::of(&parser);
                }
                // Enhanced Packet Blocks without options were read above; what comes here is every
                // other block, or one that failed a check there and is now refused or skipped by
                // pcap-file's own parse.
                let block = match raw.try_into_block(parser.state()) {
                    Ok(b) => b,
                    Err(e) => {
                        report.skip_block(offset, e.to_string());
                        continue;
                    }
                };
                let (linktype, ts_ns, data) = match block {
                    Block::EnhancedPacket(epb) => {
                        let link = parser
                            .packet_interface(&epb)
                            .map(|i| u32::from(i.linktype))
                            .unwrap_or(u32::from(DataLink::ETHERNET));
                        last_ts = duration_ns(epb.timestamp);
                        (link, last_ts, epb.data)
                    }
                    Block::SimplePacket(spb) => {
                        let link = parser
                            .interfaces()
                            .first()
                            .map(|i| u32::from(i.linktype))
                            .unwrap_or(u32::from(DataLink::ETHERNET));
                        (link, last_ts, spb.data)
                    }
                    Block::Packet(pb) => {
                        let link = parser
                            .interfaces()
                            .get(usize::from(pb.interface_id))
                            .map(|i| u32::from(i.linktype))
                            .unwrap_or(u32::from(DataLink::ETHERNET));
                        last_ts = duration_ns(pb.timestamp);
                        (link, last_ts, pb.data)
                    }
                    _ => continue,
                };
                let Cow::Borrowed(data) = data else {
                    // The parser borrows packet bytes from the input; an owned copy would be a change
                    // in pcap-file, reported rather than guessed at.
                    report.skip_block(offset, "packet data not borrowed from the file".into());
                    continue;
                };
                if data.len() > MAX_RECORD {
                    report.skip_block(offset, format!("packet of {} bytes is absurd", data.len()));
                    continue;
                }
                (linktype, ts_ns, data)
            };
        let p = RawPacket {
            number,
            offset,
            ts_ns,
            linktype,
            data,
        };
        if report.deliver(p, &mut f).is_break() {
            break;
        }
    }
    Ok(report)
}

/// Expands files and folders into the capture files to read, sorted, with the files that were
/// passed over because they are no captures.
pub fn expand_inputs(inputs: &[PathBuf]) -> Result<(Vec<PathBuf>, Vec<PathBuf>), SourceError> {
    let mut files = Vec::new();
    let mut passed_over = Vec::new();
    for input in inputs {
        let meta = std::fs::metadata(input).map_err(|source| SourceError::Io {
            path: input.clone(),
            source,
        })?;
        if meta.is_dir() {
            let mut found = Vec::new();
            walk(input, &mut found)?;
            found.sort();
            for p in found {
                if looks_like_capture(&p) {
                    files.push(p);
                } else {
                    passed_over.push(p);
                }
            }
        } else {
            files.push(input.clone());
        }
    }
    Ok((files, passed_over))
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), SourceError> {
    let io = |source| SourceError::Io {
        path: dir.to_path_buf(),
        source,
    };
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        let ft = entry.file_type().map_err(io)?;
        if ft.is_dir() {
            walk(&entry.path(), out)?;
        } else if ft.is_file() {
            out.push(entry.path());
        }
    }
    Ok(())
}

fn looks_like_capture(p: &Path) -> bool {
    use std::io::Read;
    let mut magic = [0u8; 4];
    File::open(p)
        .and_then(|mut f| f.read_exact(&mut magic))
        .map(|_| sniff_format(&magic).is_some())
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::writer::{CaptureWriter, Format, Interface};

    /// (number, time, link type, bytes) of each packet read.
    type Packets = Vec<(u64, i64, u32, Vec<u8>)>;

    fn collect(bytes: &[u8]) -> (Packets, Result<ReadReport, SourceError>) {
        let mut v = Vec::new();
        let r = read_packets(Path::new("t.pcap"), bytes, |p| {
            v.push((p.number, p.ts_ns, p.linktype, p.data.to_vec()))
        });
        (v, r)
    }

    const T0: i64 = 1_600_000_000_123_456_789;

    /// A little-endian, microsecond pcap writer on Ethernet.
    fn pcap_writer() -> CaptureWriter {
        CaptureWriter::new(
            Format::Pcap {
                big_endian: false,
                nanos: false,
            },
            &[Interface {
                linktype: 1,
                tsresol: 6,
            }],
        )
    }

    #[test]
    fn pcap_both_orders_and_resolutions() {
        for big_endian in [false, true] {
            for nanos in [false, true] {
                let mut w = CaptureWriter::new(
                    Format::Pcap { big_endian, nanos },
                    &[Interface {
                        linktype: 1,
                        tsresol: 6,
                    }],
                );
                w.packet(T0, 0, b"abc");
                w.packet(T0 + 1_000, 0, b"de");
                let (v, r) = collect(&w.finish());
                let r = r.unwrap();
                assert_eq!(r.packets, 2);
                assert_eq!(v[0].3, b"abc");
                let expect = if nanos { T0 } else { T0 / 1000 * 1000 };
                assert_eq!(v[0].1, expect, "be={big_endian} ns={nanos}");
                assert_eq!(v[1].0, 2);
            }
        }
    }

    #[test]
    fn pcapng_interfaces_resolutions_and_simple_blocks() {
        for big_endian in [false, true] {
            let ifaces = [
                Interface {
                    linktype: 1,
                    tsresol: 6,
                },
                Interface {
                    linktype: 101,
                    tsresol: 9,
                },
            ];
            let mut w = CaptureWriter::new(Format::PcapNg { big_endian }, &ifaces);
            w.packet(T0, 0, b"eth");
            w.packet(T0, 1, b"raw");
            w.simple_packet(b"spb");
            let (v, r) = collect(&w.finish());
            assert_eq!(r.unwrap().packets, 3);
            assert_eq!((v[0].2, v[1].2, v[2].2), (1, 101, 1));
            assert_eq!(v[0].1, T0 / 1000 * 1000);
            assert_eq!(v[1].1, T0);
            assert_eq!(v[2].1, T0, "simple packets take the last time");
            assert_eq!(v[2].3, b"spb");
        }
    }

    #[test]
    fn times_read_short_are_pcap_files_times_at_every_resolution() {
        use pcap_file::pcapng::blocks::interface_description::InterfaceTsResolution;
        // Seconds, milli-, micro- and nanoseconds take the short way; tenths and tenths of a
        // microsecond go to pcap-file's decoding.
        let res = [0u8, 1, 3, 6, 7, 9];
        let ifaces: Vec<Interface> = res
            .iter()
            .map(|&tsresol| Interface {
                linktype: 1,
                tsresol,
            })
            .collect();
        for big_endian in [false, true] {
            let mut w = CaptureWriter::new(Format::PcapNg { big_endian }, &ifaces);
            for i in 0..res.len() {
                w.packet(T0, i, b"x");
            }
            let (v, r) = collect(&w.finish());
            assert_eq!(r.unwrap().packets, res.len() as u64);
            for (p, &n) in v.iter().zip(&res) {
                let units = (T0 as u128 * 10u128.pow(u32::from(n)) / 1_000_000_000) as u64;
                let want = InterfaceTsResolution::from_u8(n)
                    .unwrap()
                    .decode_timestamp(units);
                assert_eq!(p.1, duration_ns(want), "10^-{n} s, big-endian {big_endian}");
            }
        }
    }

    #[test]
    fn the_largest_times_a_block_can_carry_are_read_as_pcap_file_reads_them() {
        // Both time words all ones: past what nanoseconds since 1970 hold in an i64 at every
        // resolution, so the short way hands them to pcap-file, whose time is carried to the
        // largest one, never wrapped.
        for tsresol in [0u8, 3, 6, 9] {
            for big_endian in [false, true] {
                let mut w = CaptureWriter::new(
                    Format::PcapNg { big_endian },
                    &[Interface {
                        linktype: 1,
                        tsresol,
                    }],
                );
                w.packet(T0, 0, b"x");
                let mut bytes = w.finish();
                // The section header is 28 bytes, the interface description 20 (or 32 with its
                // resolution option); the time words are the block's fourth and fifth.
                let epb = 28 + if tsresol == 6 { 20 } else { 32 };
                bytes[epb + 12..epb + 20].fill(0xff);
                let (v, r) = collect(&bytes);
                assert_eq!(r.unwrap().packets, 1);
                assert_eq!(v[0].1, i64::MAX, "10^-{tsresol} s, big-endian {big_endian}");
            }
        }
    }

    #[test]
    fn packets_with_and_without_options_read_alike() {
        // Blocks without options take the short way (`plain_epb`), blocks with options the
        // full parse; both must give the same packet.
        let mut w = CaptureWriter::new(
            Format::PcapNg { big_endian: false },
            &[Interface {
                linktype: 1,
                tsresol: 6,
            }],
        );
        w.packet(T0, 0, b"ok");
        let mut bytes = w.finish();
        let us = (T0 / 1000) as u64;
        let mut epb = Vec::new();
        for word in [6u32, 48, 0, (us >> 32) as u32, us as u32, 2, 2] {
            epb.extend_from_slice(&word.to_le_bytes());
        }
        epb.extend_from_slice(b"ok\0\0");
        // epb_flags (code 2, 4 bytes: inbound), then opt_endofopt.
        epb.extend_from_slice(&[2, 0, 4, 0, 1, 0, 0, 0, 0, 0, 0, 0]);
        epb.extend_from_slice(&48u32.to_le_bytes());
        assert_eq!(epb.len(), 48);
        bytes.extend_from_slice(&epb);
        let (v, r) = collect(&bytes);
        assert_eq!(r.unwrap().packets, 2);
        assert_eq!(v[0].1..=v[0].3.len() as i64, v[1].1..=v[1].3.len() as i64);
        assert_eq!((v[0].2, &v[0].3), (v[1].2, &v[1].3));
        // The original length below the captured one is refused on either way.
        let mut bad = epb.clone();
        bad[24..28].copy_from_slice(&1u32.to_le_bytes());
        let mut bytes = {
            let mut w = CaptureWriter::new(
                Format::PcapNg { big_endian: false },
                &[Interface {
                    linktype: 1,
                    tsresol: 6,
                }],
            );
            w.packet(T0, 0, b"ok");
            w.finish()
        };
        let mut plain = bad.clone();
        plain.truncate(28);
        plain.extend_from_slice(b"ok\0\0");
        plain.extend_from_slice(&36u32.to_le_bytes());
        plain[4..8].copy_from_slice(&36u32.to_le_bytes());
        bytes.extend_from_slice(&plain);
        bytes.extend_from_slice(&bad);
        let (v, r) = collect(&bytes);
        let r = r.unwrap();
        assert_eq!(
            (v.len(), r.skipped_blocks.len()),
            (1, 2),
            "{:?}",
            r.skipped_blocks
        );
    }

    /// A capture of `mib` MiB in 1,000-byte frames, as a file.
    fn big_capture(mib: usize) -> (tempfile::TempDir, Capture) {
        let mut w = pcap_writer();
        let frame = vec![0u8; 1000];
        for i in 0..mib * 1048 {
            w.packet(T0 + i as i64, 0, &frame);
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.pcap");
        std::fs::write(&path, w.finish()).unwrap();
        let cap = Capture::open(&path).unwrap();
        (dir, cap)
    }

    /// Two readers of one map, one of them slow: the fast one never runs further ahead than
    /// the lead allowed (plus the step at which readers say where they are), and both read
    /// every packet.
    #[test]
    fn readers_of_one_map_keep_within_their_lead() {
        let (_dir, cap) = big_capture(8);
        let readers = Readers {
            lead: 2 << 20,
            ..Readers::new(2)
        };
        let slow_at = AtomicUsize::new(0);
        let ahead = AtomicUsize::new(0);
        let (a, b) = std::thread::scope(|s| {
            let slow = s.spawn(|| {
                cap.for_each_among(&readers, 0, |p| {
                    slow_at.store(p.offset as usize, Ordering::Relaxed);
                    if p.number % 64 == 0 {
                        std::thread::sleep(std::time::Duration::from_micros(300));
                    }
                })
            });
            let fast = cap.for_each_among(&readers, 1, |p| {
                let lead = (p.offset as usize).saturating_sub(slow_at.load(Ordering::Relaxed));
                ahead.fetch_max(lead, Ordering::Relaxed);
            });
            (slow.join().unwrap(), fast)
        });
        let (a, b) = (a.unwrap(), b.unwrap());
        assert_eq!(a.packets, 8 * 1048);
        assert_eq!(a, b);
        let most = ahead.load(Ordering::Relaxed);
        assert!(most <= (2 << 20) + 2 * MARK_EVERY, "{most}");
        // The fast reader did get ahead: it was held, not merely slow itself.
        assert!(most > MARK_EVERY, "{most}");
    }

    /// A reader that dies (a panic) does not leave the others waiting for it.
    #[test]
    fn a_reader_that_dies_holds_nobody_back() {
        let (_dir, cap) = big_capture(8);
        let readers = Readers {
            lead: 2 << 20,
            ..Readers::new(2)
        };
        let (dead, alive) = std::thread::scope(|s| {
            let dead = s.spawn(|| {
                cap.for_each_among(&readers, 0, |p| {
                    assert!(p.number < 100, "dies at packet 100");
                })
            });
            let alive = cap.for_each_among(&readers, 1, |_| {});
            (dead.join(), alive)
        });
        assert!(dead.is_err());
        assert_eq!(alive.unwrap().packets, 8 * 1048);
    }

    #[test]
    fn truncation_is_reported_with_its_offset() {
        let mut w = pcap_writer();
        w.packet(T0, 0, b"complete");
        w.packet(T0, 0, b"cut-off-here");
        let full = w.finish();
        let cut = &full[..full.len() - 4];
        let (v, r) = collect(cut);
        assert_eq!(v.len(), 1);
        assert_eq!(r.unwrap().truncated_at, Some((24 + 16 + 8, 2)));
    }

    #[test]
    fn wrong_magic_and_absurd_lengths_are_errors() {
        let err = collect(b"GIF89a....").1.unwrap_err();
        assert!(err.to_string().contains("not a pcap or pcapng"), "{err}");
        let mut w = pcap_writer();
        w.packet(T0, 0, b"x");
        let mut b = w.finish();
        b[24 + 8..24 + 12].copy_from_slice(&0x7fff_ffffu32.to_le_bytes());
        let err = collect(&b).1.unwrap_err();
        assert!(
            err.to_string().contains("byte offset 24 (packet 1)"),
            "{err}"
        );
        assert!(err.to_string().contains("absurd"), "{err}");
    }

    /// Microsecond and nanosecond fractions at and past their unit: read, carried into the
    /// seconds, counted; never the end of the file.
    #[test]
    fn timestamp_fractions_past_their_unit_are_carried_and_counted() {
        for nanos in [false, true] {
            let unit: u32 = if nanos { 1_000_000_000 } else { 1_000_000 };
            let mut w = CaptureWriter::new(
                Format::Pcap {
                    big_endian: false,
                    nanos,
                },
                &[Interface {
                    linktype: 1,
                    tsresol: 6,
                }],
            );
            for _ in 0..5 {
                w.packet(T0, 0, b"x");
            }
            let mut b = w.finish();
            let fracs = [0, 1, unit - 1, unit, u32::MAX];
            for (i, frac) in fracs.iter().enumerate() {
                let at = 24 + i * (16 + 1) + 4;
                b[at - 4..at].copy_from_slice(&10u32.to_le_bytes());
                b[at..at + 4].copy_from_slice(&frac.to_le_bytes());
            }
            let (v, r) = collect(&b);
            let r = r.unwrap();
            assert_eq!(r.packets, 5, "nanos={nanos}");
            assert_eq!(r.odd_timestamps, 2, "nanos={nanos}");
            let scale = if nanos { 1 } else { 1000 };
            for (i, frac) in fracs.iter().enumerate() {
                assert_eq!(v[i].1, 10_000_000_000 + i64::from(*frac) * scale);
            }
        }
    }

    /// A capture truncated while mapped (a `tcpdump -W` ring rotating onto it): the packets
    /// before the cut are read, and the reading ends with an error naming the first lost byte,
    /// not with SIGBUS.
    #[test]
    fn a_capture_truncated_under_the_scan_is_an_error_not_a_signal() {
        let mut w = pcap_writer();
        for i in 0..4000 {
            w.packet(T0 + i, 0, &[0x5a; 200]);
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ring.pcap");
        std::fs::write(&path, w.finish()).unwrap();
        let cap = Capture::open(&path).unwrap();
        let keep = 300_000u64;
        std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(keep)
            .unwrap();
        let mut read = 0u64;
        let err = cap.for_each(|p| {
            assert!(p.data.iter().all(|&b| b == 0x5a), "packet {}", p.number);
            read += 1;
        });
        let Err(SourceError::Shrunk {
            offset, delivered, ..
        }) = err
        else {
            panic!("{err:?}")
        };
        assert!(offset >= keep && offset < keep + 64 * 1024, "{offset}");
        let last_end = 24 + read * (16 + 200);
        assert!(last_end <= keep, "every packet read lies before the cut");
        assert_eq!(read, delivered);
        assert!(read > 1000 && read < 1500, "{read}");
    }

    #[test]
    fn random_bytes_never_panic() {
        let mut seed = 0x1234_5678u64;
        for _ in 0..2000 {
            let mut w = CaptureWriter::new(
                Format::PcapNg { big_endian: false },
                &[Interface {
                    linktype: 1,
                    tsresol: 6,
                }],
            );
            w.packet(T0, 0, b"0123456789abcdef");
            let mut b = w.finish();
            for _ in 0..4 {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let i = (seed as usize) % b.len();
                b[i] = (seed >> 32) as u8;
            }
            let _ = collect(&b);
        }
    }
}
