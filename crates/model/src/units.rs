//! Quantities with their unit in the type.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Hashes (or, for Equihash, solutions) per second.
#[derive(Clone, Copy, Debug, Default, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(transparent)]
pub struct HashRate(pub f64);

impl HashRate {
    /// The rate in hashes per second.
    pub fn hashes_per_second(self) -> f64 {
        self.0
    }
}

impl fmt::Display for HashRate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const PREFIXES: [&str; 7] = ["", "k", "M", "G", "T", "P", "E"];
        let mut v = self.0;
        let mut prefix = "";
        for p in PREFIXES {
            prefix = p;
            if v.abs() < 1000.0 || p == "E" {
                break;
            }
            v /= 1000.0;
        }
        write!(f, "{v:.2} {prefix}H/s")
    }
}

/// Electrical power in watts.
#[derive(Clone, Copy, Debug, Default, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Watts(pub f64);

impl Watts {
    /// The power in kilowatts.
    pub fn kilowatts(self) -> f64 {
        self.0 / 1000.0
    }
}

impl fmt::Display for Watts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.abs() >= 1.0e6 {
            write!(f, "{:.2} MW", self.0 / 1.0e6)
        } else if self.0.abs() >= 1.0e3 {
            write!(f, "{:.2} kW", self.0 / 1.0e3)
        } else if self.0.abs() >= 1.0 {
            write!(f, "{:.1} W", self.0)
        } else {
            write!(f, "{:.3} W", self.0)
        }
    }
}

/// A pool share difficulty as the pool states it (its meaning depends on the dialect).
#[derive(Clone, Copy, Debug, Default, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Difficulty(pub f64);

/// How sure a detector is, from 0 (no idea) to 1 (certain).
#[derive(Clone, Copy, Debug, Default, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Confidence(f32);

impl Confidence {
    /// A confidence clamped into 0..=1; NaN becomes 0.
    pub fn new(v: f32) -> Self {
        if v.is_nan() {
            Confidence(0.0)
        } else {
            Confidence(v.clamp(0.0, 1.0))
        }
    }

    /// The value in 0..=1.
    pub fn value(self) -> f32 {
        self.0
    }
}

/// Expected hashes for one share whose target is the big-endian 256-bit number `target`.
///
/// A hash meets the target with probability target / 2^256, so a share costs 2^256 / target
/// hashes on average. Returns `None` for a zero target.
pub fn hashes_for_target_be(target: &[u8; 32]) -> Option<f64> {
    let t = be_bytes_to_f64(target);
    if t <= 0.0 {
        return None;
    }
    Some(2f64.powi(256) / t)
}

/// A big-endian unsigned integer of any length as an f64 (precision is plenty for rates).
pub fn be_bytes_to_f64(bytes: &[u8]) -> f64 {
    bytes.iter().fold(0.0, |acc, &b| acc * 256.0 + f64::from(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashrate_display_uses_si_prefixes() {
        assert_eq!(HashRate(30_444_129.0).to_string(), "30.44 MH/s");
        assert_eq!(HashRate(12.0).to_string(), "12.00 H/s");
        assert_eq!(HashRate(1.5e18).to_string(), "1.50 EH/s");
    }

    #[test]
    fn watts_display() {
        assert_eq!(Watts(3250.0).to_string(), "3.25 kW");
        assert_eq!(Watts(12.0).to_string(), "12.0 W");
    }

    #[test]
    fn confidence_is_clamped() {
        assert_eq!(Confidence::new(2.0).value(), 1.0);
        assert_eq!(Confidence::new(-1.0).value(), 0.0);
        assert_eq!(Confidence::new(f32::NAN).value(), 0.0);
    }

    #[test]
    fn target_to_hashes() {
        // Bitcoin difficulty-1 target 0x00000000ffff0000... costs 2^48/0xffff hashes (docs/FACTS.md §N4).
        let mut t = [0u8; 32];
        t[4] = 0xff;
        t[5] = 0xff;
        let h = hashes_for_target_be(&t).unwrap();
        let expect = 2f64.powi(48) / 65535.0;
        assert!((h - expect).abs() / expect < 1e-12);
        assert!(hashes_for_target_be(&[0u8; 32]).is_none());
    }
}
