//! The small deterministic generator of the encrypted and polling corpora (xorshift64*), kept
//! as it was so that their seeds give the same sessions as before.

/// A small deterministic generator (xorshift64*), so corpora are reproducible.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// Seeded (0 is replaced).
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }
    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Exponential with the given mean, in ns.
    pub fn exp_ns(&mut self, mean_s: f64) -> i64 {
        (-(1.0 - self.unit()).ln() * mean_s * 1e9) as i64 + 1
    }
    /// Uniform integer in [lo, hi].
    pub fn between(&mut self, lo: usize, hi: usize) -> usize {
        lo + (self.unit() * (hi - lo + 1) as f64) as usize
    }
    /// `n` lower-case hex digits.
    pub fn hex(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b"0123456789abcdef"[self.between(0, 15)]))
            .collect()
    }
}
