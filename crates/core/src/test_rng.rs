//! A tiny seeded generator for tests (SplitMix64), so test matrices are reproducible.

use faer::Mat;

/// The core's generator ([`crate::rng::SplitMix64`]) with helpers for random test matrices.
pub(crate) struct SplitMix64(crate::rng::SplitMix64);

impl SplitMix64 {
    /// A generator with the given seed.
    pub(crate) fn new(seed: u64) -> Self {
        SplitMix64(crate::rng::SplitMix64::new(seed))
    }

    /// Uniform in `[0, 1)` (53 random bits).
    pub(crate) fn uniform(&mut self) -> f64 {
        self.0.next_f64()
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
