//! Splitting a miner's login into account or wallet, worker, and extras.
//!
//! Pools document many shapes (collected from public pool "getting started" pages): `account.worker`
//! (Bitcoin pools), `wallet.worker` and `wallet/worker/email` (Ethereum pools, eth-proxy),
//! `wallet+difficulty` and `wallet.paymentid.worker` (CryptoNote pools), `wallet:worker`.

use crate::wallet::{Wallet, recognize};

/// What a login string holds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LoginParts {
    /// The account or wallet part as written (before the first separator).
    pub account: String,
    /// The worker (rig) name, when the login names one.
    pub worker: Option<String>,
    /// A wallet whose checksum verified, from any part of the login.
    pub wallet: Option<Wallet>,
}

/// Splits a login on the separators pools use and finds a wallet among the parts.
pub fn split_login(login: &str) -> LoginParts {
    let login = login.trim();
    // A fixed difficulty or e-mail suffix after `+` is no part of the identity.
    let ident = login.split('+').next().unwrap_or(login);
    let parts: Vec<&str> = ident
        .split(['.', '/', ':', '@'])
        .filter(|p| !p.is_empty())
        .collect();
    let account = parts.first().copied().unwrap_or_default().to_string();
    let wallet = recognize(ident).or_else(|| parts.iter().find_map(|p| recognize(p)));
    let worker = match parts.len() {
        0 | 1 => None,
        // `wallet.paymentid.worker`: the last part; `wallet/worker/email`: the second part.
        _ if ident.contains('/') => parts.get(1).map(|s| s.to_string()),
        _ => parts.last().map(|s| s.to_string()),
    }
    .filter(|w| !w.contains('@') && recognize(w).is_none());
    LoginParts {
        account,
        worker,
        wallet,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use minewatch_model::Coin;

    #[test]
    fn account_and_worker() {
        let p = split_login("slush.worker1");
        assert_eq!(p.account, "slush");
        assert_eq!(p.worker.as_deref(), Some("worker1"));
        assert!(p.wallet.is_none());
        assert_eq!(split_login("alone").worker, None);
    }

    #[test]
    fn wallet_with_worker_and_email() {
        let p = split_login("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed/rig7/me@example.org");
        assert_eq!(p.worker.as_deref(), Some("rig7"));
        assert_eq!(p.wallet.map(|w| w.coin), Some(Coin::Eth));
    }

    #[test]
    fn bitcoin_wallet_dot_worker_and_difficulty_suffix() {
        let p = split_login("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa.farm3+65536");
        assert_eq!(p.worker.as_deref(), Some("farm3"));
        assert_eq!(p.wallet.map(|w| w.coin), Some(Coin::Btc));
    }
}
