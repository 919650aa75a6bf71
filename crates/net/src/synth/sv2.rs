//! Stratum V2 message writers (plaintext frames), for tests and scripted sessions.

use crate::proto::sv2::msg;

fn frame(channel: bool, msg_type: u8, payload: &[u8]) -> Vec<u8> {
    let ext: u16 = if channel { 0x8000 } else { 0 };
    let len = payload.len() as u32;
    let mut f = ext.to_le_bytes().to_vec();
    f.push(msg_type);
    f.extend_from_slice(&len.to_le_bytes()[..3]);
    f.extend_from_slice(payload);
    f
}

fn str0(out: &mut Vec<u8>, s: &str) {
    let b = &s.as_bytes()[..s.len().min(255)];
    out.push(b.len() as u8);
    out.extend_from_slice(b);
}

/// `SetupConnection` for the mining protocol, version 2.
pub fn setup_connection(
    host: &str,
    port: u16,
    vendor: &str,
    hw: &str,
    fw: &str,
    device: &str,
) -> Vec<u8> {
    let mut p = vec![0u8];
    p.extend_from_slice(&2u16.to_le_bytes());
    p.extend_from_slice(&2u16.to_le_bytes());
    p.extend_from_slice(&0u32.to_le_bytes());
    str0(&mut p, host);
    p.extend_from_slice(&port.to_le_bytes());
    str0(&mut p, vendor);
    str0(&mut p, hw);
    str0(&mut p, fw);
    str0(&mut p, device);
    frame(false, msg::SETUP_CONNECTION, &p)
}

/// `SetupConnection.Success`.
pub fn setup_success() -> Vec<u8> {
    let mut p = 2u16.to_le_bytes().to_vec();
    p.extend_from_slice(&0u32.to_le_bytes());
    frame(false, msg::SETUP_CONNECTION_SUCCESS, &p)
}

/// `OpenStandardMiningChannel`.
pub fn open_standard_channel(request_id: u32, user: &str, nominal: f32) -> Vec<u8> {
    let mut p = request_id.to_le_bytes().to_vec();
    str0(&mut p, user);
    p.extend_from_slice(&nominal.to_bits().to_le_bytes());
    p.extend_from_slice(&[0xff; 32]);
    frame(false, msg::OPEN_STANDARD_CHANNEL, &p)
}

/// `OpenStandardMiningChannel.Success` (request id, channel id, target, extranonce prefix, group).
pub fn open_channel_success(request_id: u32, channel: u32, target_byte3: u8) -> Vec<u8> {
    let mut p = request_id.to_le_bytes().to_vec();
    p.extend_from_slice(&channel.to_le_bytes());
    p.extend_from_slice(&target_le(target_byte3));
    p.push(4);
    p.extend_from_slice(&[1, 2, 3, 4]);
    p.extend_from_slice(&0u32.to_le_bytes());
    frame(false, msg::OPEN_STANDARD_CHANNEL_SUCCESS, &p)
}

/// A U256 target, little-endian, whose big-endian byte 3 is `b` and above it zero.
fn target_le(b: u8) -> [u8; 32] {
    let mut be = [0xffu8; 32];
    be[0] = 0;
    be[1] = 0;
    be[2] = 0;
    be[3] = b;
    let mut le = [0u8; 32];
    for i in 0..32 {
        le[i] = be[31 - i];
    }
    le
}

/// `SetTarget` on a channel.
pub fn set_target(channel: u32, target_byte3: u8) -> Vec<u8> {
    let mut p = channel.to_le_bytes().to_vec();
    p.extend_from_slice(&target_le(target_byte3));
    frame(true, msg::SET_TARGET, &p)
}

/// `NewMiningJob` on a channel.
pub fn new_mining_job(channel: u32, job: u32) -> Vec<u8> {
    let mut p = channel.to_le_bytes().to_vec();
    p.extend_from_slice(&job.to_le_bytes());
    p.push(0); // no future job: min_ntime present
    p.extend_from_slice(&0x2000_0000u32.to_le_bytes());
    p.extend_from_slice(&[0x5a; 32]);
    frame(true, msg::NEW_MINING_JOB, &p)
}

/// `SubmitSharesStandard`.
pub fn submit_standard(channel: u32, seq: u32, job: u32) -> Vec<u8> {
    let mut p = channel.to_le_bytes().to_vec();
    p.extend_from_slice(&seq.to_le_bytes());
    p.extend_from_slice(&job.to_le_bytes());
    p.extend_from_slice(&0x1234_5678u32.to_le_bytes());
    p.extend_from_slice(&0x65e1_1a00u32.to_le_bytes());
    p.extend_from_slice(&0x2000_0000u32.to_le_bytes());
    frame(true, msg::SUBMIT_SHARES_STANDARD, &p)
}

/// `SubmitShares.Success` accepting `count` submissions up to `last_seq`.
pub fn submit_success(channel: u32, last_seq: u32, count: u32) -> Vec<u8> {
    let mut p = channel.to_le_bytes().to_vec();
    p.extend_from_slice(&last_seq.to_le_bytes());
    p.extend_from_slice(&count.to_le_bytes());
    p.extend_from_slice(&u64::from(count).to_le_bytes());
    frame(true, msg::SUBMIT_SHARES_SUCCESS, &p)
}
