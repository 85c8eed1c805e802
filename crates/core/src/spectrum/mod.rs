//! Spectral analysis of assembled kernels (host `f64` matrices; no device, no threads).
//!
//! * [`Kernel`]: a square matrix with its layout ([`Layout::Full`] `nC × nC`, sample-major index
//!   `i*C + a`, or [`Layout::Trace`] `n × n`), class-trace conversion and a symmetry check.
//! * [`Spectrum`]: eigenvalues (descending, round-off negatives clamped and reported) or
//!   singular values for the asymmetric sign kernel, `κ(K + λI)`, effective ranks.
//! * [`Alignment`]: kernel-target alignment with one-hot targets.
//! * [`WeylReport`]: eigenvalue and condition-number bounds when a block is added.
//! * [`BlockSet`]: named blocks, subset sums, and block selection ([`Selection`]).

mod alignment;
mod blocks;
mod decompose;
mod kernel;
mod select;
mod summary;
mod weyl;

#[cfg(test)]
mod tests;

pub use alignment::{
    label_alignment, one_hot_target, target_alignment, vector_alignment, Alignment,
};
pub use blocks::BlockSet;
pub use decompose::ClampReport;
pub use kernel::{Kernel, Layout};
pub use select::{GreedyStep, Objective, Selection, SubsetScore};
pub use summary::{Conditioning, Spectrum, SpectrumKind, SpectrumMethod, SpectrumOptions};
pub use weyl::{weyl, WeylCheck, WeylReport};

pub(crate) use decompose::{clamp_round_off, numerical_rank, sym_eigen, SymEigen};
pub(crate) use kernel::{check_finite_slice, check_lambda};
