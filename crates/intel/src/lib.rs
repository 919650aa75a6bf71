//! Mining intelligence shared by every detector.
//!
//! Payout wallet addresses recognised by their own format and checksum (a miner's login
//! `4AdU…hK.rig1` yields a verified Monero wallet and a worker name), and pool intelligence:
//! domains and IP prefixes of mining pools and browser miners, with allow-lists.

pub mod files;
pub mod hosts;
pub mod lists;
pub mod login;
pub mod monero_base58;
pub mod wallet;

pub use hosts::{BadLine, Category, Entry, Hit, Intel};
pub use lists::{Columns, ListFormat, Loaded, is_documentation};
pub use login::{LoginParts, split_login};
pub use wallet::{AddressKind, Wallet, recognize};
