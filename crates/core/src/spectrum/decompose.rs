//! Thin wrappers around faer's decompositions, returning values in descending order, and the
//! clamping of round-off negatives.

use faer::{Mat, Side};
use serde::{Deserialize, Serialize};

use crate::CoreError;

/// A symmetric eigendecomposition `A = U diag(μ) Uᵀ` with `μ` descending.
#[derive(Debug, Clone)]
pub(crate) struct SymEigen {
    /// Eigenvalues, descending, exactly as computed (not clamped).
    pub values: Vec<f64>,
    /// Orthonormal eigenvectors; column `i` belongs to `values[i]`.
    pub vectors: Mat<f64>,
}

/// Eigendecomposition of a symmetric matrix (only its lower triangle is read).
pub(crate) fn sym_eigen(m: &Mat<f64>) -> Result<SymEigen, CoreError> {
    let eig = m
        .self_adjoint_eigen(Side::Lower)
        .map_err(|e| CoreError::Numerical(format!("eigensolver did not converge: {e:?}")))?;
    let s = eig.S().column_vector();
    let u = eig.U();
    let d = m.nrows();
    // faer sorts ascending; reverse both.
    let values = (0..d).map(|i| s[d - 1 - i]).collect();
    let vectors = Mat::from_fn(d, d, |r, c| u[(r, d - 1 - c)]);
    Ok(SymEigen { values, vectors })
}

/// Eigenvalues of a symmetric matrix (lower triangle read), descending.
pub(crate) fn sym_eigenvalues(m: &Mat<f64>) -> Result<Vec<f64>, CoreError> {
    let mut v = m
        .self_adjoint_eigenvalues(Side::Lower)
        .map_err(|e| CoreError::Numerical(format!("eigensolver did not converge: {e:?}")))?;
    v.reverse();
    Ok(v)
}

/// Singular values of a square matrix, descending.
pub(crate) fn singular_values(m: &Mat<f64>) -> Result<Vec<f64>, CoreError> {
    m.singular_values()
        .map_err(|e| CoreError::Numerical(format!("SVD did not converge: {e:?}")))
}

/// What clamping round-off negatives did to a list of eigenvalues.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClampReport {
    /// How many eigenvalues in `[−tol·scale, 0)` were set to 0 (`scale = max_i |μ_i|`).
    pub clamped: usize,
    /// The most negative eigenvalue before clamping; `None` when none was negative.
    pub most_negative: Option<f64>,
    /// How many eigenvalues are below `−tol·scale`; these are kept (the matrix is not PSD).
    pub negative_beyond_tolerance: usize,
}

/// Clamps eigenvalues `μ` with `−tol·max_i|μ_i| ≤ μ < 0` to 0, in place, and reports it.
pub(crate) fn clamp_round_off(values: &mut [f64], rel_tol: f64) -> ClampReport {
    let scale = values.iter().fold(0.0_f64, |a, v| a.max(v.abs()));
    let threshold = rel_tol * scale;
    let mut report = ClampReport {
        clamped: 0,
        most_negative: None,
        negative_beyond_tolerance: 0,
    };
    for v in values.iter_mut() {
        if *v < 0.0 {
            report.most_negative = Some(report.most_negative.map_or(*v, |m: f64| m.min(*v)));
            if -*v <= threshold {
                *v = 0.0;
                report.clamped += 1;
            } else {
                report.negative_beyond_tolerance += 1;
            }
        }
    }
    report
}

/// The numerical rank: the count of values with `|μ| > tol·max_i|μ_i|` (the others are
/// round-off in a numerical null space, either sign).
pub(crate) fn numerical_rank(values: &[f64], rel_tol: f64) -> usize {
    let scale = values.iter().fold(0.0_f64, |a, v| a.max(v.abs()));
    let threshold = rel_tol * scale;
    values.iter().filter(|v| v.abs() > threshold).count()
}

/// The default relative tolerance for a `dim × dim` matrix: `dim · ε_f64`.
pub(crate) fn default_rel_tol(dim: usize) -> f64 {
    dim.max(1) as f64 * f64::EPSILON
}
