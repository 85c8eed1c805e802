//! Kernel-target alignment `A(K, T) = ⟨K, T⟩_F / (‖K‖_F ‖T‖_F)` with one-hot targets.

use faer::Mat;
use serde::{Deserialize, Serialize};

use super::kernel::{check_finite_slice, frobenius, Kernel, Layout};
use crate::CoreError;

/// Kernel-target alignment, plain and centred (serde result).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alignment {
    /// `A(K, T) = ⟨K, T⟩_F / (‖K‖_F ‖T‖_F)`.
    pub alignment: f64,
    /// `A(HKH, HTH)` with the centring matrix `H = I − 11ᵀ/d`; `None` when either centred
    /// matrix is zero (e.g. all labels equal).
    pub centred: Option<f64>,
}

/// The one-hot target Gram matrix in the layout of `kernel`.
///
/// Full layout: `y ∈ ℝ^{nC}` with `y[i*C + a] = [a = label_i]` and `T = yyᵀ`, i.e.
/// `T[iC+a, jC+b] = [a = l_i][b = l_j]`. Trace layout: `T = YYᵀ` with `Y ∈ ℝ^{n×C}` one-hot,
/// i.e. `T[i, j] = [l_i = l_j]` (the class trace of the full target).
pub fn one_hot_target(kernel: &Kernel, labels: &[usize]) -> Result<Mat<f64>, CoreError> {
    let (n, c) = (kernel.samples(), kernel.classes());
    if labels.len() != n {
        return Err(CoreError::mismatch("labels", n, labels.len()));
    }
    if let Some(&bad) = labels.iter().find(|&&l| l >= c) {
        return Err(CoreError::invalid(
            "labels",
            format!("label {bad} is out of range for {c} classes"),
        ));
    }
    Ok(match kernel.layout() {
        Layout::Full => {
            let y: Vec<f64> = (0..n * c)
                .map(|k| f64::from(u8::from(labels[k / c] == k % c)))
                .collect();
            Mat::from_fn(n * c, n * c, |r, s| y[r] * y[s])
        }
        Layout::Trace => Mat::from_fn(n, n, |i, j| f64::from(u8::from(labels[i] == labels[j]))),
    })
}

/// Alignment of `kernel` with the one-hot targets of `labels` (see [`one_hot_target`]).
pub fn label_alignment(kernel: &Kernel, labels: &[usize]) -> Result<Alignment, CoreError> {
    let target = one_hot_target(kernel, labels)?;
    alignment_with(kernel.matrix(), &target)
}

/// Alignment of `kernel` with targets `Y` (`n × C` sample-major: one-hot rows, or one score
/// per sample): `T = vec(Y) vec(Y)ᵀ` in the full layout, `T = YYᵀ` in the trace layout. With
/// one-hot rows this is [`label_alignment`].
pub fn target_alignment(kernel: &Kernel, y: &[f64]) -> Result<Alignment, CoreError> {
    let (n, c) = (kernel.samples(), kernel.classes());
    if y.len() != n * c {
        return Err(CoreError::mismatch("targets", n * c, y.len()));
    }
    check_finite_slice("targets", y)?;
    let target = match kernel.layout() {
        Layout::Full => Mat::from_fn(n * c, n * c, |r, s| y[r] * y[s]),
        Layout::Trace => Mat::from_fn(n, n, |i, j| {
            (0..c).map(|a| y[i * c + a] * y[j * c + a]).sum::<f64>()
        }),
    };
    alignment_with(kernel.matrix(), &target)
}

/// Alignment of `kernel` with `T = yyᵀ` for a real target vector `y` in the kernel's index
/// (length `dim`), e.g. a residual `r0 = Y − f0(X)`.
pub fn vector_alignment(kernel: &Kernel, y: &[f64]) -> Result<Alignment, CoreError> {
    if y.len() != kernel.dim() {
        return Err(CoreError::mismatch("target vector", kernel.dim(), y.len()));
    }
    check_finite_slice("target vector", y)?;
    let target = Mat::from_fn(y.len(), y.len(), |r, s| y[r] * y[s]);
    alignment_with(kernel.matrix(), &target)
}

/// `A(K, T)` and `A(HKH, HTH)` for two matrices of the same size.
fn alignment_with(k: &Mat<f64>, t: &Mat<f64>) -> Result<Alignment, CoreError> {
    let alignment = cosine(k, t).ok_or_else(|| {
        CoreError::Numerical("alignment is undefined: the kernel or the target is zero".into())
    })?;
    let centred = cosine(&centre(k), &centre(t));
    Ok(Alignment { alignment, centred })
}

/// `⟨A, B⟩_F / (‖A‖_F ‖B‖_F)`, `None` when a norm is 0.
fn cosine(a: &Mat<f64>, b: &Mat<f64>) -> Option<f64> {
    let mut dot = 0.0;
    for j in 0..a.ncols() {
        for i in 0..a.nrows() {
            dot += a[(i, j)] * b[(i, j)];
        }
    }
    let (na, nb) = (frobenius(a), frobenius(b));
    (na > 0.0 && nb > 0.0).then(|| dot / (na * nb))
}

/// `HAH` with `H = I − 11ᵀ/d`: subtract row and column means, add back the grand mean.
fn centre(a: &Mat<f64>) -> Mat<f64> {
    let d = a.nrows();
    let inv = 1.0 / d as f64;
    let row: Vec<f64> = (0..d)
        .map(|i| (0..d).map(|j| a[(i, j)]).sum::<f64>() * inv)
        .collect();
    let col: Vec<f64> = (0..d)
        .map(|j| (0..d).map(|i| a[(i, j)]).sum::<f64>() * inv)
        .collect();
    let grand = row.iter().sum::<f64>() * inv;
    Mat::from_fn(d, d, |i, j| a[(i, j)] - row[i] - col[j] + grand)
}
