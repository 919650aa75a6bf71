//! Stratum V2 frames, for the plaintext case (a farm LAN, or a proxy's upstream without the
//! optional encryption). Encrypted SV2 shows only sizes and timing: that is behaviour, not
//! content, and belongs to the behaviour detector.
//!
//! Layout from the SV2 specification (github.com/stratum-mining/sv2-spec, §3.2 framing, §3.6
//! common messages, §5 mining protocol, §8 message types): a 6-byte header
//! `extension_type: U16, msg_type: U8, msg_length: U24` (little-endian; the top bit of
//! `extension_type` marks a channel message whose payload starts with a U32 channel id), then the
//! payload. Strings are `STR0_255` (a length byte, then the bytes).

use crate::proto::stratum::Signal;

/// Frame header length.
pub const HEADER: usize = 6;
/// Frames longer than this are not taken for SV2 (real mining messages are small).
pub const MAX_FRAME: usize = 1 << 16;

/// Message types of the common and mining protocols (§8).
pub mod msg {
    /// SetupConnection.
    pub const SETUP_CONNECTION: u8 = 0x00;
    /// SetupConnection.Success.
    pub const SETUP_CONNECTION_SUCCESS: u8 = 0x01;
    /// SetupConnection.Error.
    pub const SETUP_CONNECTION_ERROR: u8 = 0x02;
    /// OpenStandardMiningChannel.
    pub const OPEN_STANDARD_CHANNEL: u8 = 0x10;
    /// OpenStandardMiningChannel.Success.
    pub const OPEN_STANDARD_CHANNEL_SUCCESS: u8 = 0x11;
    /// OpenExtendedMiningChannel.
    pub const OPEN_EXTENDED_CHANNEL: u8 = 0x13;
    /// OpenExtendedMiningChannel.Success.
    pub const OPEN_EXTENDED_CHANNEL_SUCCESS: u8 = 0x14;
    /// NewMiningJob.
    pub const NEW_MINING_JOB: u8 = 0x15;
    /// SubmitSharesStandard.
    pub const SUBMIT_SHARES_STANDARD: u8 = 0x1a;
    /// SubmitSharesExtended.
    pub const SUBMIT_SHARES_EXTENDED: u8 = 0x1b;
    /// SubmitShares.Success.
    pub const SUBMIT_SHARES_SUCCESS: u8 = 0x1c;
    /// SubmitShares.Error.
    pub const SUBMIT_SHARES_ERROR: u8 = 0x1d;
    /// NewExtendedMiningJob.
    pub const NEW_EXTENDED_MINING_JOB: u8 = 0x1f;
    /// SetNewPrevHash.
    pub const SET_NEW_PREV_HASH: u8 = 0x20;
    /// SetTarget.
    pub const SET_TARGET: u8 = 0x21;
}

/// One frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Frame<'a> {
    /// Extension type without the channel bit (0 for the base protocols).
    pub extension: u16,
    /// The channel bit.
    pub channel_msg: bool,
    /// Message type.
    pub msg_type: u8,
    /// The payload.
    pub payload: &'a [u8],
}

/// Why bytes are not (yet) a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameError {
    /// More bytes needed.
    Partial,
    /// Not an SV2 frame.
    Invalid,
}

/// Reads one frame at the start of `b`: the frame and the bytes it takes.
pub fn frame(b: &[u8]) -> Result<(Frame<'_>, usize), FrameError> {
    let Some(&[e0, e1, msg_type, l0, l1, l2]) = b.first_chunk::<HEADER>() else {
        return Err(FrameError::Partial);
    };
    let ext = u16::from_le_bytes([e0, e1]);
    let len = usize::from(l0) | usize::from(l1) << 8 | usize::from(l2) << 16;
    if len > MAX_FRAME {
        return Err(FrameError::Invalid);
    }
    // HEADER + MAX_FRAME cannot overflow; the frame must be all there.
    let end = HEADER + len;
    let Some(payload) = b.get(HEADER..end) else {
        return Err(FrameError::Partial);
    };
    Ok((
        Frame {
            extension: ext & 0x7fff,
            channel_msg: ext & 0x8000 != 0,
            msg_type,
            payload,
        },
        end,
    ))
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (h, t) = self.0.split_at(n);
        self.0 = t;
        Some(h)
    }
    /// The next `N` bytes as an array.
    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        let (h, t) = self.0.split_first_chunk::<N>()?;
        self.0 = t;
        Some(*h)
    }
    fn u8(&mut self) -> Option<u8> {
        self.array::<1>().map(|[b]| b)
    }
    fn u16(&mut self) -> Option<u16> {
        self.array().map(u16::from_le_bytes)
    }
    fn u32(&mut self) -> Option<u32> {
        self.array().map(u32::from_le_bytes)
    }
    fn u64(&mut self) -> Option<u64> {
        self.take(8)
            .map(|b| u64::from_le_bytes(b.try_into().unwrap_or_default()))
    }
    fn f32(&mut self) -> Option<f32> {
        self.u32().map(f32::from_bits)
    }
    fn str0_255(&mut self) -> Option<String> {
        let n = usize::from(self.u8()?);
        let b = self.take(n)?;
        // Strings here are ASCII by the specification; anything else is no SV2.
        if b.iter().all(|c| (0x20..0x7f).contains(c)) {
            Some(String::from_utf8_lossy(b).into_owned())
        } else {
            None
        }
    }
    fn done(&self) -> bool {
        self.0.is_empty()
    }
}

/// `SetupConnection` (§3.6.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SetupConnection {
    /// 0 mining, 1 job declaration, 2 template distribution, 3 job distribution.
    pub protocol: u8,
    /// Lowest version the client speaks.
    pub min_version: u16,
    /// Highest version the client speaks.
    pub max_version: u16,
    /// Feature flags.
    pub flags: u32,
    /// The host the client connected to, as it names it.
    pub endpoint_host: String,
    /// The port it connected to.
    pub endpoint_port: u16,
    /// Device vendor (e.g. "Bitmain").
    pub vendor: String,
    /// Hardware (e.g. "S9i 13.5").
    pub hardware_version: String,
    /// Firmware.
    pub firmware: String,
    /// Device id.
    pub device_id: String,
}

/// Parses a `SetupConnection` payload strictly: known protocol, version 2 in range, ASCII
/// strings, nothing left over.
pub fn setup_connection(p: &[u8]) -> Option<SetupConnection> {
    let mut r = Reader(p);
    let s = SetupConnection {
        protocol: r.u8()?,
        min_version: r.u16()?,
        max_version: r.u16()?,
        flags: r.u32()?,
        endpoint_host: r.str0_255()?,
        endpoint_port: r.u16()?,
        vendor: r.str0_255()?,
        hardware_version: r.str0_255()?,
        firmware: r.str0_255()?,
        device_id: r.str0_255()?,
    };
    (r.done() && s.protocol <= 3 && s.min_version <= 2 && s.max_version >= 2 && s.max_version < 16)
        .then_some(s)
}

/// `OpenStandardMiningChannel` / `OpenExtendedMiningChannel` (§5.3.2, §5.3.4): the user
/// identity (the pool account and worker) and the hash rate the device declares.
#[derive(Clone, Debug, PartialEq)]
pub struct OpenChannel {
    /// Request id.
    pub request_id: u32,
    /// `user_identity`.
    pub user: String,
    /// `nominal_hash_rate`, H/s as the device claims it.
    pub nominal_hash_rate: f32,
}

/// Parses an open-channel request (standard or extended).
pub fn open_channel(p: &[u8], extended: bool) -> Option<OpenChannel> {
    let mut r = Reader(p);
    let request_id = r.u32()?;
    let user = r.str0_255()?;
    let nominal_hash_rate = r.f32()?;
    r.take(32)?; // max_target
    if extended {
        r.u16()?; // min_extranonce_size
    }
    (r.done() && nominal_hash_rate.is_finite() && nominal_hash_rate >= 0.0).then_some(OpenChannel {
        request_id,
        user,
        nominal_hash_rate,
    })
}

/// `SetTarget` (§5.3.19): the channel's maximum target, U256 little-endian.
pub fn set_target(p: &[u8]) -> Option<[u8; 32]> {
    let mut r = Reader(p);
    r.u32()?;
    let mut be: [u8; 32] = r.array()?;
    if !r.done() {
        return None;
    }
    // Little-endian on the wire.
    be.reverse();
    Some(be)
}

/// `SubmitShares.Success` (§5.3.15): how many submissions the pool newly accepted.
pub fn submit_success(p: &[u8]) -> Option<u32> {
    let mut r = Reader(p);
    r.u32()?; // channel id
    r.u32()?; // last sequence number
    let accepted = r.u32()?;
    r.u64()?; // new shares sum
    r.done().then_some(accepted)
}

/// What a frame means for mining, when anything.
pub fn classify(f: &Frame<'_>) -> Option<Signal<'static>> {
    if f.extension != 0 {
        return None;
    }
    let sig = match f.msg_type {
        msg::SETUP_CONNECTION => {
            let s = setup_connection(f.payload)?;
            if s.protocol != 0 {
                return None;
            }
            Signal::Sv2Setup {
                device: [s.vendor, s.hardware_version, s.firmware]
                    .into_iter()
                    .filter(|x| !x.is_empty())
                    .collect::<Vec<_>>()
                    .join(" ")
                    .into(),
                endpoint: format!("{}:{}", s.endpoint_host, s.endpoint_port).into(),
            }
        }
        msg::SETUP_CONNECTION_SUCCESS if f.payload.len() == 6 => Signal::Sv2SetupSuccess,
        msg::OPEN_STANDARD_CHANNEL | msg::OPEN_EXTENDED_CHANNEL => {
            let o = open_channel(f.payload, f.msg_type == msg::OPEN_EXTENDED_CHANNEL)?;
            Signal::Sv2OpenChannel {
                user: o.user.into(),
                nominal: f64::from(o.nominal_hash_rate),
            }
        }
        msg::OPEN_STANDARD_CHANNEL_SUCCESS | msg::OPEN_EXTENDED_CHANNEL_SUCCESS => {
            // request id, channel id, then the target.
            let mut be: [u8; 32] = f.payload.get(8..40)?.try_into().ok()?;
            be.reverse();
            Signal::Sv2Target(be)
        }
        msg::SET_TARGET if f.channel_msg => Signal::Sv2Target(set_target(f.payload)?),
        msg::NEW_MINING_JOB | msg::NEW_EXTENDED_MINING_JOB | msg::SET_NEW_PREV_HASH => {
            Signal::Sv2Job
        }
        msg::SUBMIT_SHARES_STANDARD | msg::SUBMIT_SHARES_EXTENDED if f.channel_msg => {
            Signal::Sv2Submit
        }
        msg::SUBMIT_SHARES_SUCCESS if f.channel_msg => {
            Signal::Sv2Accepted(submit_success(f.payload)?)
        }
        msg::SUBMIT_SHARES_ERROR if f.channel_msg => Signal::Sv2Rejected,
        _ => return None,
    };
    Some(sig)
}

/// True when `b` starts with an SV2 frame that opens a mining connection (either side).
pub fn looks_like_sv2(b: &[u8]) -> bool {
    match frame(b) {
        Ok((f, _)) => matches!(
            classify(&f),
            Some(Signal::Sv2Setup { .. } | Signal::Sv2SetupSuccess)
        ),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::sv2 as w;

    #[test]
    fn setup_connection_round_trip() {
        let bytes = w::setup_connection(
            "pool.example.com",
            34254,
            "Bitmain",
            "S19j Pro",
            "braiins-os-2023-10",
            "dev-7",
        );
        let (f, used) = frame(&bytes).unwrap();
        assert_eq!(used, bytes.len());
        assert_eq!(
            (f.extension, f.msg_type, f.channel_msg),
            (0, msg::SETUP_CONNECTION, false)
        );
        let s = setup_connection(f.payload).unwrap();
        assert_eq!(s.vendor, "Bitmain");
        assert_eq!(s.endpoint_host, "pool.example.com");
        assert_eq!((s.min_version, s.max_version), (2, 2));
    }

    #[test]
    fn channel_and_share_messages() {
        let open = w::open_standard_channel(7, "acct.rig1", 110e12);
        let (f, _) = frame(&open).unwrap();
        let o = open_channel(f.payload, false).unwrap();
        assert_eq!(o.user, "acct.rig1");
        assert!((f64::from(o.nominal_hash_rate) - 110e12).abs() / 110e12 < 1e-6);
        let st = w::set_target(1, 0x1d);
        let (f, _) = frame(&st).unwrap();
        assert!(f.channel_msg);
        let t = set_target(f.payload).unwrap();
        assert_eq!(t[3], 0x1d);
        let ok = w::submit_success(1, 9, 3);
        let (f, _) = frame(&ok).unwrap();
        assert_eq!(submit_success(f.payload), Some(3));
    }

    #[test]
    fn strictness() {
        assert_eq!(frame(&[0, 0, 0, 1, 0]), Err(FrameError::Partial));
        assert_eq!(
            frame(&[0, 0, 0, 0xff, 0xff, 0xff]),
            Err(FrameError::Invalid)
        );
        // Version 1 only, or trailing bytes: not SV2.
        let mut b = w::setup_connection("h", 1, "v", "h", "f", "d");
        b[7] = 1;
        b[9] = 1;
        assert!(setup_connection(frame(&b).unwrap().0.payload).is_none());
        let mut b = w::setup_connection("h", 1, "v", "h", "f", "d");
        b.push(0);
        b[3] += 1;
        assert!(setup_connection(frame(&b).unwrap().0.payload).is_none());
    }
}
