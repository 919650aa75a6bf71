//! Payout wallet addresses: which coin a string belongs to, checked by its own checksum.
//!
//! Formats (facts from each coin's specification):
//! - Base58Check with a version prefix (Bitcoin wiki "List of address prefixes"; Zcash protocol
//!   spec §5.6.1 for `t1`/`t3`; chainparams.cpp of Litecoin, Dogecoin, Dash, Ravencoin, Horizen).
//! - Bech32 / Bech32m segwit addresses (BIP 173, BIP 350) and Zcash Sapling `zs1` (ZIP 173).
//! - Monero block Base58 with a Keccak-256 checksum and a varint network prefix
//!   (18 standard, 19 integrated, 42 subaddress; Monero `cryptonote_config.h`).
//! - Ethereum hex, EIP-55 mixed-case checksum when the case is mixed.

use crate::monero_base58;
use minewatch_model::Coin;
use sha3::{Digest, Keccak256};

/// The address format a wallet was recognised by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddressKind {
    /// Base58Check pay-to-public-key-hash (or a coin's transparent equivalent).
    Base58PubkeyHash,
    /// Base58Check pay-to-script-hash.
    Base58ScriptHash,
    /// Segwit Bech32 (version 0) or Bech32m (version 1 and later).
    Segwit,
    /// Zcash Sapling shielded address.
    SaplingShielded,
    /// Monero standard address.
    MoneroStandard,
    /// Monero integrated address (carries a payment id).
    MoneroIntegrated,
    /// Monero subaddress.
    MoneroSubaddress,
    /// Ethereum account with an EIP-55 checksum (mixed case).
    EthereumChecksummed,
    /// Ethereum account in one case: well-formed, no checksum to check.
    EthereumPlain,
}

/// A wallet address whose format and checksum verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Wallet {
    /// The address as written.
    pub address: String,
    /// The coin its format implies (Ethereum hex fits ETH and ETC alike: reported as ETH).
    pub coin: Coin,
    /// The format.
    pub kind: AddressKind,
}

/// Recognises `s` as a wallet address of a known coin, checksum included.
pub fn recognize(s: &str) -> Option<Wallet> {
    let s = s.trim();
    if s.len() < 26 || s.len() > 120 || !s.is_ascii() {
        return None;
    }
    let (coin, kind) = if s.starts_with("0x") || s.starts_with("0X") {
        ethereum(s)?
    } else if let Some(r) = segwit(s) {
        r
    } else if s.len() >= 95 && (s.starts_with('4') || s.starts_with('8')) {
        monero(s)?
    } else {
        base58check(s)?
    };
    Some(Wallet {
        address: s.to_string(),
        coin,
        kind,
    })
}

fn base58check(s: &str) -> Option<(Coin, AddressKind)> {
    let data = bs58::decode(s).with_check(None).into_vec().ok()?;
    use AddressKind::{Base58PubkeyHash as Pkh, Base58ScriptHash as Sh};
    // Two-byte prefixes (Zcash and Horizen transparent addresses): 2 + 20 bytes.
    if let &[p0, p1, ..] = &data[..]
        && data.len() == 22
    {
        let r = match (p0, p1) {
            (0x1c, 0xb8) => (Coin::Zec, Pkh),
            (0x1c, 0xbd) => (Coin::Zec, Sh),
            (0x20, 0x89) => (Coin::Zen, Pkh),
            (0x20, 0x96) => (Coin::Zen, Sh),
            _ => return None,
        };
        return Some(r);
    }
    let (&[prefix], _) = data.split_first_chunk::<1>()?;
    if data.len() != 21 {
        return None;
    }
    let r = match prefix {
        0x00 => (Coin::Btc, Pkh),
        // 0x05 is shared by Bitcoin and Litecoin's legacy P2SH; Bitcoin is the likelier payout.
        0x05 => (Coin::Btc, Sh),
        0x30 => (Coin::Ltc, Pkh),
        0x32 => (Coin::Ltc, Sh),
        0x1e => (Coin::Doge, Pkh),
        0x16 => (Coin::Doge, Sh),
        0x4c => (Coin::Dash, Pkh),
        0x10 => (Coin::Dash, Sh),
        0x3c => (Coin::Rvn, Pkh),
        0x7a => (Coin::Rvn, Sh),
        _ => return None,
    };
    Some(r)
}

fn segwit(s: &str) -> Option<(Coin, AddressKind)> {
    let lower = s.to_ascii_lowercase();
    if lower.starts_with("zs1") {
        let (hrp, data) = bech32::decode(s).ok()?;
        // Sapling payment address: 11-byte diversifier + 32-byte pk_d (ZIP 173).
        return (hrp.as_str() == "zs" && data.len() == 43)
            .then_some((Coin::Zec, AddressKind::SaplingShielded));
    }
    let (hrp, _version, _program) = bech32::segwit::decode(s).ok()?;
    let coin = match hrp.as_str() {
        "bc" => Coin::Btc,
        "ltc" => Coin::Ltc,
        _ => return None,
    };
    Some((coin, AddressKind::Segwit))
}

fn monero(s: &str) -> Option<(Coin, AddressKind)> {
    let data = monero_base58::decode(s)?;
    if data.len() < 5 {
        return None;
    }
    let (body, check) = data.split_at_checked(data.len().checked_sub(4)?)?;
    let digest = Keccak256::digest(body);
    if digest.get(..4) != Some(check) {
        return None;
    }
    // Prefix is a varint; the three mainnet prefixes are all below 0x80, so one byte.
    let kind = match (*body.first()?, body.len()) {
        (18, 65) => AddressKind::MoneroStandard,
        (19, 73) => AddressKind::MoneroIntegrated,
        (42, 65) => AddressKind::MoneroSubaddress,
        _ => return None,
    };
    Some((Coin::Xmr, kind))
}

fn ethereum(s: &str) -> Option<(Coin, AddressKind)> {
    let hex = s.get(2..)?;
    if hex.len() != 40 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let has_upper = hex.bytes().any(|b| b.is_ascii_uppercase());
    let has_lower = hex.bytes().any(|b| b.is_ascii_lowercase());
    if !(has_upper && has_lower) {
        return Some((Coin::Eth, AddressKind::EthereumPlain));
    }
    // EIP-55: a letter is upper case exactly when the matching nibble of
    // keccak256(lower-case hex) is 8 or more.
    let digest = Keccak256::digest(hex.to_ascii_lowercase().as_bytes());
    for (i, c) in hex.bytes().enumerate() {
        if c.is_ascii_alphabetic() {
            let byte = digest.get(i / 2).copied().unwrap_or(0);
            let nibble = (byte >> (if i % 2 == 0 { 4 } else { 0 })) & 0x0f;
            if (nibble >= 8) != c.is_ascii_uppercase() {
                return None;
            }
        }
    }
    Some((Coin::Eth, AddressKind::EthereumChecksummed))
}

#[cfg(test)]
mod tests {
    use super::*;
    use bech32::{Fe32, Hrp};

    fn b58check(prefix: &[u8], fill: u8) -> String {
        let mut v = prefix.to_vec();
        v.extend(std::iter::repeat_n(fill, 20));
        bs58::encode(v).with_check().into_string()
    }

    #[test]
    fn bitcoin_genesis_and_bip13_examples() {
        let w = recognize("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa").unwrap();
        assert_eq!((w.coin, w.kind), (Coin::Btc, AddressKind::Base58PubkeyHash));
        let w = recognize("3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy").unwrap();
        assert_eq!(w.kind, AddressKind::Base58ScriptHash);
        // One character changed: the checksum fails.
        assert!(recognize("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb").is_none());
    }

    #[test]
    fn base58_prefixes_map_to_coins() {
        for (prefix, coin) in [
            (&[0x30][..], Coin::Ltc),
            (&[0x1e], Coin::Doge),
            (&[0x4c], Coin::Dash),
            (&[0x3c], Coin::Rvn),
            (&[0x1c, 0xb8], Coin::Zec),
            (&[0x20, 0x89], Coin::Zen),
        ] {
            let a = b58check(prefix, 0x42);
            assert_eq!(recognize(&a).map(|w| w.coin), Some(coin), "{a}");
        }
        assert!(recognize(&b58check(&[0x99], 1)).is_none());
    }

    #[test]
    fn segwit_v0_and_taproot() {
        let v0 = bech32::segwit::encode(Hrp::parse("bc").unwrap(), Fe32::Q, &[7u8; 20]).unwrap();
        assert_eq!(recognize(&v0).map(|w| w.kind), Some(AddressKind::Segwit));
        let v1 = bech32::segwit::encode(Hrp::parse("bc").unwrap(), Fe32::P, &[9u8; 32]).unwrap();
        assert_eq!(recognize(&v1).map(|w| w.coin), Some(Coin::Btc));
        let ltc = bech32::segwit::encode(Hrp::parse("ltc").unwrap(), Fe32::Q, &[1u8; 20]).unwrap();
        assert_eq!(recognize(&ltc).map(|w| w.coin), Some(Coin::Ltc));
        // BIP 350 test vector.
        assert!(
            recognize("bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0").is_some()
        );
        let mut bad = v0.clone();
        bad.pop();
        bad.push(if v0.ends_with('q') { 'p' } else { 'q' });
        assert!(recognize(&bad).is_none());
    }

    fn monero_address(prefix: u8, body_len: usize) -> String {
        let mut body = vec![prefix];
        body.extend((1..body_len).map(|i| (i * 7) as u8));
        let check = Keccak256::digest(&body);
        body.extend_from_slice(&check[..4]);
        monero_base58::encode(&body)
    }

    #[test]
    fn monero_standard_sub_and_integrated() {
        let a = monero_address(18, 65);
        assert_eq!(a.len(), 95);
        assert!(a.starts_with('4'));
        assert_eq!(
            recognize(&a).map(|w| w.kind),
            Some(AddressKind::MoneroStandard)
        );
        let s = monero_address(42, 65);
        assert!(s.starts_with('8'));
        assert_eq!(
            recognize(&s).map(|w| w.kind),
            Some(AddressKind::MoneroSubaddress)
        );
        let i = monero_address(19, 73);
        assert_eq!(i.len(), 106);
        assert_eq!(
            recognize(&i).map(|w| w.kind),
            Some(AddressKind::MoneroIntegrated)
        );
        let mut broken = a.into_bytes();
        broken[50] = if broken[50] == b'a' { b'b' } else { b'a' };
        assert!(recognize(std::str::from_utf8(&broken).unwrap()).is_none());
    }

    #[test]
    fn monero_general_fund_address() {
        // The Monero project's published donation address.
        let a = "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A";
        assert_eq!(recognize(a).map(|w| w.coin), Some(Coin::Xmr));
    }

    #[test]
    fn ethereum_eip55() {
        // EIP-55 example.
        let good = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed";
        assert_eq!(
            recognize(good).map(|w| w.kind),
            Some(AddressKind::EthereumChecksummed)
        );
        assert!(recognize("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD").is_none());
        let lower = good.to_ascii_lowercase();
        assert_eq!(
            recognize(&lower).map(|w| w.kind),
            Some(AddressKind::EthereumPlain)
        );
        assert!(recognize("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beae").is_none());
    }

    #[test]
    fn ordinary_words_are_no_wallets() {
        for s in [
            "",
            "worker1",
            "x",
            "myaccount.rig01",
            "0x12",
            "password123456789012345678",
        ] {
            assert!(recognize(s).is_none(), "{s}");
        }
    }
}
