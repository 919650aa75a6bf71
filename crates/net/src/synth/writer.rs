//! A capture file writer for tests, fixtures and demos.
//!
//! Written by hand rather than with pcap-file's writers on purpose: the reader uses pcap-file,
//! and an independent writer is what lets the tests catch a reader that misreads a byte order,
//! a timestamp resolution or a block layout. Formats: pcap (libpcap file format, both byte
//! orders, micro- and nanosecond magic) and pcapng (IETF draft-ietf-opsawg-pcapng: section
//! header, interface description with `if_tsresol`, enhanced and simple packet blocks).

/// Which file format and byte order to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Classic pcap.
    Pcap {
        /// Big-endian headers (as written by SPARC or PowerPC hosts).
        big_endian: bool,
        /// Nanosecond timestamps (magic 0xa1b23c4d) instead of microseconds.
        nanos: bool,
    },
    /// pcapng.
    PcapNg {
        /// Big-endian blocks.
        big_endian: bool,
    },
}

/// One capture interface: its link type and, for pcapng, its timestamp resolution exponent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Interface {
    /// Link type (see `decode::linktype`).
    pub linktype: u32,
    /// pcapng `if_tsresol`: timestamps in units of 10^-n seconds (6 when absent).
    pub tsresol: u8,
}

/// Builds a capture in memory.
pub struct CaptureWriter {
    format: Format,
    ifaces: Vec<Interface>,
    buf: Vec<u8>,
}

impl CaptureWriter {
    /// A classic pcap of Ethernet frames, little-endian, microseconds: the bulk captures'.
    pub fn ethernet_pcap() -> CaptureWriter {
        CaptureWriter::new(
            Format::Pcap {
                big_endian: false,
                nanos: false,
            },
            &[Interface {
                linktype: crate::decode::linktype::ETHERNET,
                tsresol: 6,
            }],
        )
    }

    /// A new capture; pcap files take the first interface's link type for every packet.
    pub fn new(format: Format, ifaces: &[Interface]) -> CaptureWriter {
        let mut w = CaptureWriter {
            format,
            ifaces: ifaces.to_vec(),
            buf: Vec::new(),
        };
        match format {
            Format::Pcap { nanos, .. } => {
                let magic: u32 = if nanos { 0xa1b2_3c4d } else { 0xa1b2_c3d4 };
                w.u32(magic);
                w.u16(2);
                w.u16(4);
                w.u32(0);
                w.u32(0);
                w.u32(262_144);
                w.u32(ifaces.first().map_or(1, |i| i.linktype));
            }
            Format::PcapNg { .. } => {
                // Section header block: type, length, byte-order magic, version 1.0,
                // section length unknown (-1), no options, length again.
                w.u32(0x0a0d_0d0a);
                w.u32(28);
                w.u32(0x1a2b_3c4d);
                w.u16(1);
                w.u16(0);
                w.u64(u64::MAX);
                w.u32(28);
                for i in ifaces {
                    let has_opt = i.tsresol != 6;
                    let len = 20 + if has_opt { 12 } else { 0 };
                    w.u32(1);
                    w.u32(len);
                    w.u16(i.linktype as u16);
                    w.u16(0);
                    w.u32(262_144);
                    if has_opt {
                        w.u16(9); // if_tsresol
                        w.u16(1);
                        w.buf.extend_from_slice(&[i.tsresol, 0, 0, 0]);
                        w.u16(0); // opt_endofopt
                        w.u16(0);
                    }
                    w.u32(len);
                }
            }
        }
        w
    }

    fn big(&self) -> bool {
        match self.format {
            Format::Pcap { big_endian, .. } | Format::PcapNg { big_endian } => big_endian,
        }
    }

    fn u16(&mut self, v: u16) {
        let b = if self.big() {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        };
        self.buf.extend_from_slice(&b);
    }

    fn u32(&mut self, v: u32) {
        let b = if self.big() {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        };
        self.buf.extend_from_slice(&b);
    }

    fn u64(&mut self, v: u64) {
        let b = if self.big() {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        };
        self.buf.extend_from_slice(&b);
    }

    /// Appends a packet seen at `ts_ns` (nanoseconds since the epoch) on interface `iface`.
    pub fn packet(&mut self, ts_ns: i64, iface: usize, data: &[u8]) {
        let ts = ts_ns.max(0) as u64;
        match self.format {
            Format::Pcap { nanos, .. } => {
                let frac = if nanos {
                    ts % 1_000_000_000
                } else {
                    ts % 1_000_000_000 / 1000
                };
                self.u32((ts / 1_000_000_000) as u32);
                self.u32(frac as u32);
                self.u32(data.len() as u32);
                self.u32(data.len() as u32);
                self.buf.extend_from_slice(data);
            }
            Format::PcapNg { .. } => {
                let res = self.ifaces.get(iface).map_or(6, |i| i.tsresol);
                let units = u128::from(ts) * 10u128.pow(u32::from(res)) / 1_000_000_000;
                let pad = (4 - data.len() % 4) % 4;
                let len = 32 + data.len() + pad;
                self.u32(6);
                self.u32(len as u32);
                self.u32(iface as u32);
                self.u32((units >> 32) as u32);
                self.u32(units as u32);
                self.u32(data.len() as u32);
                self.u32(data.len() as u32);
                self.buf.extend_from_slice(data);
                self.buf.extend(std::iter::repeat_n(0u8, pad));
                self.u32(len as u32);
            }
        }
    }

    /// Appends a pcapng simple packet block (interface 0, no timestamp).
    pub fn simple_packet(&mut self, data: &[u8]) {
        let pad = (4 - data.len() % 4) % 4;
        let len = 16 + data.len() + pad;
        self.u32(3);
        self.u32(len as u32);
        self.u32(data.len() as u32);
        self.buf.extend_from_slice(data);
        self.buf.extend(std::iter::repeat_n(0u8, pad));
        self.u32(len as u32);
    }

    /// Takes the bytes written so far (for streaming large captures to a file); later calls
    /// continue the same file.
    pub fn drain(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.buf)
    }

    /// The finished file.
    pub fn finish(self) -> Vec<u8> {
        self.buf
    }
}
