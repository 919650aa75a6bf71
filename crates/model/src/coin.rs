//! Coins and their proof-of-work algorithms.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A mined cryptocurrency, named by its usual ticker.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Coin {
    /// Bitcoin.
    Btc,
    /// Bitcoin Cash.
    Bch,
    /// Litecoin.
    Ltc,
    /// Dogecoin.
    Doge,
    /// Dash.
    Dash,
    /// Zcash.
    Zec,
    /// Horizen (Equihash 200,9 like Zcash).
    Zen,
    /// Ethereum (proof of work until September 2022).
    Eth,
    /// Ethereum Classic.
    Etc,
    /// Monero.
    Xmr,
    /// Wownero (RandomX variant).
    Wow,
    /// Ravencoin.
    Rvn,
    /// Kaspa.
    Kas,
    /// Ergo.
    Erg,
    /// Raptoreum (GhostRider).
    Rtm,
}

impl Coin {
    /// Every coin, for listings and tests.
    pub const ALL: [Coin; 15] = [
        Coin::Btc,
        Coin::Bch,
        Coin::Ltc,
        Coin::Doge,
        Coin::Dash,
        Coin::Zec,
        Coin::Zen,
        Coin::Eth,
        Coin::Etc,
        Coin::Xmr,
        Coin::Wow,
        Coin::Rvn,
        Coin::Kas,
        Coin::Erg,
        Coin::Rtm,
    ];

    /// The ticker, upper case.
    pub fn ticker(self) -> &'static str {
        match self {
            Coin::Btc => "BTC",
            Coin::Bch => "BCH",
            Coin::Ltc => "LTC",
            Coin::Doge => "DOGE",
            Coin::Dash => "DASH",
            Coin::Zec => "ZEC",
            Coin::Zen => "ZEN",
            Coin::Eth => "ETH",
            Coin::Etc => "ETC",
            Coin::Xmr => "XMR",
            Coin::Wow => "WOW",
            Coin::Rvn => "RVN",
            Coin::Kas => "KAS",
            Coin::Erg => "ERG",
            Coin::Rtm => "RTM",
        }
    }

    /// A coin from its ticker or common name, any case.
    pub fn from_name(s: &str) -> Option<Coin> {
        let l = s.trim().to_ascii_lowercase();
        let c = match l.as_str() {
            "btc" | "bitcoin" => Coin::Btc,
            "bch" | "bitcoincash" | "bitcoin-cash" => Coin::Bch,
            "ltc" | "litecoin" => Coin::Ltc,
            "doge" | "dogecoin" => Coin::Doge,
            "dash" => Coin::Dash,
            "zec" | "zcash" => Coin::Zec,
            "zen" | "horizen" | "zencash" => Coin::Zen,
            "eth" | "ethereum" => Coin::Eth,
            "etc" | "ethereumclassic" | "ethereum-classic" => Coin::Etc,
            "xmr" | "monero" => Coin::Xmr,
            "wow" | "wownero" => Coin::Wow,
            "rvn" | "ravencoin" => Coin::Rvn,
            "kas" | "kaspa" => Coin::Kas,
            "erg" | "ergo" => Coin::Erg,
            "rtm" | "raptoreum" => Coin::Rtm,
            _ => return None,
        };
        Some(c)
    }

    /// The proof-of-work algorithm the coin is mined with.
    pub fn algorithm(self) -> Algorithm {
        match self {
            Coin::Btc | Coin::Bch => Algorithm::Sha256d,
            Coin::Ltc | Coin::Doge => Algorithm::Scrypt,
            Coin::Dash => Algorithm::X11,
            Coin::Zec | Coin::Zen => Algorithm::Equihash,
            Coin::Eth => Algorithm::Ethash,
            Coin::Etc => Algorithm::Etchash,
            Coin::Xmr | Coin::Wow => Algorithm::RandomX,
            Coin::Rvn => Algorithm::KawPow,
            Coin::Kas => Algorithm::KHeavyHash,
            Coin::Erg => Algorithm::Autolykos2,
            Coin::Rtm => Algorithm::GhostRider,
        }
    }
}

impl fmt::Display for Coin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.ticker())
    }
}

/// A proof-of-work algorithm; it decides what a share is worth and what hardware mines it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Algorithm {
    /// Double SHA-256 (Bitcoin and forks); ASICs.
    Sha256d,
    /// Scrypt (Litecoin, Dogecoin); ASICs.
    Scrypt,
    /// X11 (Dash); ASICs.
    X11,
    /// Equihash 200,9 (Zcash, Horizen); GPUs and ASICs. Rates are solutions per second.
    Equihash,
    /// Ethash (Ethereum before the Merge); GPUs.
    Ethash,
    /// Etchash (Ethereum Classic); GPUs.
    Etchash,
    /// RandomX (Monero); CPUs.
    RandomX,
    /// The older CryptoNight family (Monero before November 2019 and its forks); CPUs and GPUs.
    CryptoNight,
    /// KawPow (Ravencoin); GPUs.
    KawPow,
    /// kHeavyHash (Kaspa); ASICs.
    KHeavyHash,
    /// Autolykos v2 (Ergo); GPUs.
    Autolykos2,
    /// GhostRider (Raptoreum); CPUs.
    GhostRider,
}

impl Algorithm {
    /// The algorithm's usual short name.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Sha256d => "sha256d",
            Algorithm::Scrypt => "scrypt",
            Algorithm::X11 => "x11",
            Algorithm::Equihash => "equihash",
            Algorithm::Ethash => "ethash",
            Algorithm::Etchash => "etchash",
            Algorithm::RandomX => "randomx",
            Algorithm::CryptoNight => "cryptonight",
            Algorithm::KawPow => "kawpow",
            Algorithm::KHeavyHash => "kheavyhash",
            Algorithm::Autolykos2 => "autolykos2",
            Algorithm::GhostRider => "ghostrider",
        }
    }

    /// An algorithm, and the coin it implies when it implies one, from the `algo` names that
    /// XMRig and its pools send (`rx/0`, `cn/r`, `kawpow`…; xmrig `src/base/crypto/Algorithm.cpp`).
    pub fn from_miner_name(s: &str) -> Option<(Algorithm, Option<Coin>)> {
        let l = s.trim().to_ascii_lowercase();
        let r = match l.as_str() {
            "rx/0" | "randomx" | "rx" | "randomxmonero" => (Algorithm::RandomX, Some(Coin::Xmr)),
            "rx/wow" | "randomwow" => (Algorithm::RandomX, Some(Coin::Wow)),
            "kawpow" | "kawpow/rvn" => (Algorithm::KawPow, Some(Coin::Rvn)),
            "ethash" => (Algorithm::Ethash, Some(Coin::Eth)),
            "etchash" => (Algorithm::Etchash, Some(Coin::Etc)),
            "ghostrider" | "gr" => (Algorithm::GhostRider, Some(Coin::Rtm)),
            "autolykos2" | "autolykos" => (Algorithm::Autolykos2, Some(Coin::Erg)),
            "kheavyhash" | "heavyhash" => (Algorithm::KHeavyHash, Some(Coin::Kas)),
            "sha256d" | "sha256" => (Algorithm::Sha256d, None),
            "scrypt" => (Algorithm::Scrypt, None),
            "equihash" | "equihash200_9" | "equihash/200_9" => (Algorithm::Equihash, None),
            // CryptoNight variants were Monero's before RandomX; many forks kept them.
            "cn/r" | "cn/2" | "cn/1" | "cn/0" | "cryptonight" => {
                (Algorithm::CryptoNight, Some(Coin::Xmr))
            }
            other if other.starts_with("cn") || other.starts_with("cryptonight") => {
                (Algorithm::CryptoNight, None)
            }
            other if other.starts_with("rx/") => (Algorithm::RandomX, None),
            _ => return None,
        };
        Some(r)
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tickers_round_trip() {
        for c in Coin::ALL {
            assert_eq!(Coin::from_name(c.ticker()), Some(c));
        }
        assert_eq!(Coin::from_name("Monero"), Some(Coin::Xmr));
        assert_eq!(Coin::from_name("nope"), None);
    }

    #[test]
    fn miner_algo_names() {
        assert_eq!(
            Algorithm::from_miner_name("rx/0"),
            Some((Algorithm::RandomX, Some(Coin::Xmr)))
        );
        assert_eq!(
            Algorithm::from_miner_name("cn-heavy/xhv"),
            Some((Algorithm::CryptoNight, None))
        );
        assert_eq!(Algorithm::from_miner_name("bogus"), None);
    }

    #[test]
    fn serde_uses_tickers() {
        assert_eq!(serde_json::to_string(&Coin::Xmr).unwrap(), "\"XMR\"");
        for a in [
            Algorithm::KHeavyHash,
            Algorithm::RandomX,
            Algorithm::Sha256d,
        ] {
            assert_eq!(
                serde_json::to_string(&a).unwrap(),
                format!("\"{}\"", a.name())
            );
        }
    }
}
