//! From hash rate to electrical power: energy per hash per algorithm, with bounds.
//!
//! Method after the Cambridge Bitcoin Electricity Consumption Index (CCAF, ccaf.io/cbnsi/cbeci/
//! methodology): the low bound assumes the most efficient hardware still sold, the high bound
//! the least efficient hardware still run, the best guess the hardware most seen in the field;
//! each is then multiplied by a facility overhead (PUE 1.01 / 1.10 / 1.20, CCAF's bounds).
//! Rows marked "unverified" in `docs/DETECTION.md` come from vendor pages that were not
//! cross-checked; they are data, not code, and are meant to be revised.

use crate::coin::Algorithm;
use crate::units::{HashRate, Watts};
use serde::{Deserialize, Serialize};

/// Energy per hash (joules) for an algorithm: most efficient, typical, least efficient hardware.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Efficiency {
    /// Joules per hash on the most efficient hardware.
    pub low: f64,
    /// Joules per hash on the hardware most seen in the field.
    pub best: f64,
    /// Joules per hash on the least efficient hardware still in use.
    pub high: f64,
    /// Where the figures come from.
    pub source: &'static str,
}

/// Facility overhead (power usage effectiveness) bounds, from CCAF's CBECI methodology.
pub const PUE: (f64, f64, f64) = (1.01, 1.10, 1.20);

const TERA: f64 = 1e12;
const GIGA: f64 = 1e9;
const MEGA: f64 = 1e6;
const KILO: f64 = 1e3;

/// The efficiency row for an algorithm.
pub fn efficiency(algo: Algorithm) -> Efficiency {
    match algo {
        // S21 XP 13.5 J/TH; S19 Pro 29.55 J/TH (the fleet's workhorse); S9 98 J/TH.
        Algorithm::Sha256d => Efficiency {
            low: 13.5 / TERA,
            best: 29.55 / TERA,
            high: 98.0 / TERA,
            source: "CCAF CBECI miners list (S9 98, S19 Pro 29.55 J/TH); Bitmain S21 XP spec 13.5 J/TH",
        },
        // Antminer L9 16 GH/s at 3,360 W (0.21 J/MH); L7 9.5 GH/s at 3,425 W (0.36 J/MH);
        // L3+ 504 MH/s at 800 W (1.59 J/MH).
        Algorithm::Scrypt => Efficiency {
            low: 0.21 / MEGA,
            best: 0.36 / MEGA,
            high: 1.59 / MEGA,
            source: "Bitmain Antminer L9, L7, L3+ vendor specifications",
        },
        // Antminer D9 1.77 TH/s at 2,839 W (1.6 J/GH); D7 1.286 TH/s at 3,148 W (2.45 J/GH);
        // D3 19.3 GH/s at 1,350 W (70 J/GH).
        Algorithm::X11 => Efficiency {
            low: 1.6 / GIGA,
            best: 2.45 / GIGA,
            high: 70.0 / GIGA,
            source: "Bitmain Antminer D9, D7, D3 vendor specifications",
        },
        // Per solution. Antminer Z15 420 kSol/s at 1,510 W (3.6 mJ/Sol); GPU rigs of the EWBF era
        // about 0.25-0.5 J/Sol (GTX 1080 Ti ~750 Sol/s at ~250 W).
        Algorithm::Equihash => Efficiency {
            low: 3.6e-3,
            best: 0.33,
            high: 0.5,
            source: "Bitmain Antminer Z15 spec; GTX 1080 Ti Equihash benchmarks",
        },
        // GPUs 0.2-0.5 MH/J (RTX 3070 ~60 MH/s at ~125 W); Innosilicon A11 / Antminer E9 ASICs
        // ~0.8 J/MH.
        Algorithm::Ethash | Algorithm::Etchash => Efficiency {
            low: 0.8 / MEGA,
            best: 2.1 / MEGA,
            high: 5.0 / MEGA,
            source: "CCAF Ethereum PoW index method; RTX 3070 / RX 580 figures; Antminer E9 spec",
        },
        // CPUs 50-150 H/J (XMRig benchmarks); best guess a desktop at ~100 H/J.
        Algorithm::RandomX => Efficiency {
            low: 1.0 / 150.0,
            best: 1.0 / 100.0,
            high: 1.0 / 50.0,
            source: "XMRig RandomX benchmarks (desktop CPUs 10-20 kH/s at 100-200 W)",
        },
        // CryptoNight was ~10x slower per joule than RandomX on CPUs: 5-30 H/J.
        Algorithm::CryptoNight => Efficiency {
            low: 1.0 / 30.0,
            best: 1.0 / 10.0,
            high: 1.0 / 5.0,
            source: "xmr-stak CPU and GPU benchmark tables (2018)",
        },
        // GPUs ~20-30 MH/s at 120-220 W.
        Algorithm::KawPow => Efficiency {
            low: 4.0 / MEGA,
            best: 6.0 / MEGA,
            high: 10.0 / MEGA,
            source: "KawPow GPU benchmarks (RTX 3070 ~24 MH/s at ~140 W)",
        },
        // Antminer KS5 Pro 21 TH/s at 3,150 W (0.15 J/GH); KS3 9.4 TH/s at 3,500 W (0.37 J/GH);
        // GPUs ~1 GH/s at 150 W (150 J/GH).
        Algorithm::KHeavyHash => Efficiency {
            low: 0.15 / GIGA,
            best: 0.37 / GIGA,
            high: 150.0 / GIGA,
            source: "Bitmain Antminer KS5 Pro, KS3 vendor specifications; GPU benchmarks",
        },
        // GPUs ~150-250 MH/s at 120-200 W.
        Algorithm::Autolykos2 => Efficiency {
            low: 0.6 / MEGA,
            best: 0.8 / MEGA,
            high: 1.5 / MEGA,
            source: "Autolykos2 GPU benchmarks (RTX 3070 ~160 MH/s at ~125 W)",
        },
        // CPUs ~1-5 kH/s at 100-200 W.
        Algorithm::GhostRider => Efficiency {
            low: 20.0 / KILO,
            best: 50.0 / KILO,
            high: 150.0 / KILO,
            source: "XMRig GhostRider benchmarks (desktop CPUs 1-5 kH/s)",
        },
    }
}

/// Estimated electrical power of a miner, with low and high bounds.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct PowerEstimate {
    /// Lower bound: efficient hardware, lean facility.
    pub low: Watts,
    /// Best guess.
    pub best: Watts,
    /// Upper bound: old hardware, wasteful facility.
    pub high: Watts,
}

impl PowerEstimate {
    /// The power needed to sustain `rate` of `algo`.
    pub fn from_hashrate(algo: Algorithm, rate: HashRate) -> PowerEstimate {
        let e = efficiency(algo);
        let h = rate.hashes_per_second().max(0.0);
        PowerEstimate {
            low: Watts(h * e.low * PUE.0),
            best: Watts(h * e.best * PUE.1),
            high: Watts(h * e.high * PUE.2),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_are_ordered_for_every_algorithm() {
        for a in [
            Algorithm::Sha256d,
            Algorithm::Scrypt,
            Algorithm::X11,
            Algorithm::Equihash,
            Algorithm::Ethash,
            Algorithm::Etchash,
            Algorithm::RandomX,
            Algorithm::CryptoNight,
            Algorithm::KawPow,
            Algorithm::KHeavyHash,
            Algorithm::Autolykos2,
            Algorithm::GhostRider,
        ] {
            let p = PowerEstimate::from_hashrate(a, HashRate(1e9));
            assert!(
                p.low.0 > 0.0 && p.low.0 < p.best.0 && p.best.0 < p.high.0,
                "{a}"
            );
        }
    }

    #[test]
    fn an_s19_pro_draws_about_its_nameplate() {
        // 110 TH/s at 29.55 J/TH = 3,250 W at the wall before facility overhead (docs/FACTS.md §P5).
        let p = PowerEstimate::from_hashrate(Algorithm::Sha256d, HashRate(110e12));
        assert!((p.best.0 / 1.10 - 3250.5).abs() < 1.0, "{:?}", p);
    }

    #[test]
    fn a_desktop_cpu_on_randomx_is_about_a_hundred_watts() {
        let p = PowerEstimate::from_hashrate(Algorithm::RandomX, HashRate(10_000.0));
        assert!(p.best.0 > 90.0 && p.best.0 < 130.0, "{:?}", p);
    }
}
