//! A tiny seeded generator for tests (SplitMix64), so test matrices are reproducible.

use faer::Mat;

/// SplitMix64 (Steele, Lea, Flood 2014).
pub(crate) struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator with the given seed.
    pub(crate) fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    /// The next 64 random bits.
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)` (53 random bits).
    pub(crate) fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in `[-1, 1)`.
    pub(crate) fn symmetric(&mut self) -> f64 {
        2.0 * self.uniform() - 1.0
    }

    /// A `rows × cols` matrix with entries uniform in `[-1, 1)`.
    pub(crate) fn matrix(&mut self, rows: usize, cols: usize) -> Mat<f64> {
        let mut m = Mat::zeros(rows, cols);
        for i in 0..rows {
            for j in 0..cols {
                m[(i, j)] = self.symmetric();
            }
        }
        m
    }

    /// A random PSD matrix `J Jᵀ` of size `dim` and rank at most `rank`.
    pub(crate) fn psd(&mut self, dim: usize, rank: usize) -> Mat<f64> {
        let j = self.matrix(dim, rank);
        &j * j.transpose()
    }
}
