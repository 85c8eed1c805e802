//! A small, seeded, platform-independent random number generator (SplitMix64).
//!
//! Initial LoRA values, new heads, dataset samples and splits must be the same on native and in
//! the browser, on every backend, for the same seed; so they all draw from this generator rather
//! than from an OS- or crate-version-dependent one. Not cryptographic.

/// The SplitMix64 generator of Steele, Lea and Flood (2014), as used to seed xoshiro.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        SplitMix64 { state: seed }
    }

    /// A generator for one named stream derived from `seed` (e.g. one per LoRA site), so that
    /// each stream does not depend on which other streams are drawn.
    pub fn derived(seed: u64, stream: &[u64]) -> Self {
        let mut s = seed;
        for &k in stream {
            s = SplitMix64::new(s ^ k.wrapping_mul(0xD1B5_4A32_D192_ED03)).next_u64();
        }
        SplitMix64::new(s)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)` with 53 random bits.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// `n` values uniform in `[-bound, bound)`.
    pub fn uniform(&mut self, n: usize, bound: f64) -> Vec<f32> {
        (0..n)
            .map(|_| ((2.0 * self.next_f64() - 1.0) * bound) as f32)
            .collect()
    }

    /// `n` values from `N(0, std²)` (Box–Muller).
    pub fn normal(&mut self, n: usize, std: f64) -> Vec<f32> {
        let mut out = Vec::with_capacity(n);
        while out.len() < n {
            let u1 = 1.0 - self.next_f64(); // (0, 1]
            let u2 = self.next_f64();
            let r = (-2.0 * u1.ln()).sqrt() * std;
            let t = 2.0 * core::f64::consts::PI * u2;
            out.push((r * t.cos()) as f32);
            if out.len() < n {
                out.push((r * t.sin()) as f32);
            }
        }
        out
    }

    /// A uniform integer in `0..bound` (no modulo bias); `0` when `bound` is `0`.
    pub fn below(&mut self, bound: u64) -> u64 {
        if bound == 0 {
            return 0;
        }
        // Rejection sampling on the top of the range keeps every value equally likely.
        let zone = u64::MAX - (u64::MAX % bound);
        loop {
            let x = self.next_u64();
            if x < zone {
                return x % bound;
            }
        }
    }

    /// Shuffles `items` in place (Fisher–Yates).
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            items.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_reference_sequence() {
        // Reference values of SplitMix64 for seed 1234567 (Vigna's splitmix64.c).
        let mut rng = SplitMix64::new(1_234_567);
        let got: Vec<u64> = (0..3).map(|_| rng.next_u64()).collect();
        assert_eq!(
            got,
            vec![
                6_457_827_717_110_365_317,
                3_203_168_211_198_807_973,
                9_817_491_932_198_370_423
            ]
        );
    }

    #[test]
    fn below_stays_in_range_and_shuffle_permutes() {
        let mut rng = SplitMix64::new(7);
        assert!((0..1000).all(|_| rng.below(3) < 3));
        assert_eq!(rng.below(0), 0);
        let mut v: Vec<u32> = (0..50).collect();
        rng.shuffle(&mut v);
        assert_ne!(v, (0..50).collect::<Vec<_>>());
        v.sort_unstable();
        assert_eq!(v, (0..50).collect::<Vec<_>>());
    }

    #[test]
    fn uniform_and_normal_have_the_right_moments() {
        let mut rng = SplitMix64::new(7);
        let n = 200_000;
        let u = rng.uniform(n, 0.5);
        assert!(u.iter().all(|&v| (-0.5..0.5).contains(&v)));
        let mean = u.iter().map(|&v| v as f64).sum::<f64>() / n as f64;
        let var = u.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / n as f64;
        // U(-b, b): mean 0, variance b²/3 = 1/12. Standard error of the mean ≈ 6.5e-4.
        assert!(mean.abs() < 3e-3, "{mean}");
        assert!((var - 1.0 / 12.0).abs() < 2e-3, "{var}");
        let z = rng.normal(n, 2.0);
        let mean = z.iter().map(|&v| v as f64).sum::<f64>() / n as f64;
        let var = z.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / n as f64;
        assert!(mean.abs() < 0.02, "{mean}");
        assert!((var - 4.0).abs() < 0.05, "{var}");
    }

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let a = SplitMix64::derived(1, &[0, 3]).uniform(4, 1.0);
        assert_eq!(a, SplitMix64::derived(1, &[0, 3]).uniform(4, 1.0));
        assert_ne!(a, SplitMix64::derived(1, &[0, 4]).uniform(4, 1.0));
        assert_ne!(a, SplitMix64::derived(2, &[0, 3]).uniform(4, 1.0));
    }
}
