//! Mining intelligence shared by every detector.
//!
//! For now: recognising payout wallet addresses by their own format and checksum, so a miner's
//! login `4AdU…hK.rig1` yields a verified Monero wallet and a worker name. Pool domains, IP sets
//! and coinbase tags join this crate as their detectors arrive.

pub mod login;
pub mod monero_base58;
pub mod wallet;

pub use login::{LoginParts, split_login};
pub use wallet::{AddressKind, Wallet, recognize};
