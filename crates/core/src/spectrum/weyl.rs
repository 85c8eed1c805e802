//! Weyl perturbation bounds when a kernel block is added: `K = K_S + K_l`.
//!
//! For symmetric `K_S`, `K_l` with eigenvalues in descending order, Weyl's inequalities give
//! `λ_i(K_S) + λ_min(K_l) ≤ λ_i(K_S + K_l) ≤ λ_i(K_S) + λ_max(K_l)` for every `i`. For PSD
//! blocks this yields the condition-number bound
//! `κ(K_S + K_l + λI) ≤ (λ_max(K_S) + λ_max(K_l) + λ) / (λ_min(K_S) + λ_min(K_l) + λ)`.

use serde::{Deserialize, Serialize};

use super::decompose::{clamp_round_off, sym_eigenvalues};
use super::kernel::{check_lambda, Kernel};
use super::summary::{Conditioning, SpectrumOptions};
use crate::CoreError;

/// Eigenvalues of `K_S`, `K_l`, `K_S + K_l`, the per-index Weyl bounds and the κ bound.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WeylReport {
    /// The shift `λ ≥ 0` used for the condition numbers.
    pub lambda: f64,
    /// `λ_i(K_S)`, descending, as computed (not clamped).
    pub base: Vec<f64>,
    /// `λ_i(K_l)`, descending, as computed.
    pub added: Vec<f64>,
    /// `λ_i(K_S + K_l)`, descending, as computed.
    pub sum: Vec<f64>,
    /// Lower bounds `λ_i(K_S) + λ_min(K_l)`.
    pub lower: Vec<f64>,
    /// Upper bounds `λ_i(K_S) + λ_max(K_l)`.
    pub upper: Vec<f64>,
    /// True when all three matrices are PSD up to the round-off tolerance.
    pub psd: bool,
    /// `κ(K_S + λI)` (clamped eigenvalues); `None` when numerically singular.
    pub kappa_base: Option<f64>,
    /// `κ(K_S + K_l + λI)`; `None` when numerically singular.
    pub kappa_sum: Option<f64>,
    /// `(λ_max(K_S) + λ_max(K_l) + λ) / (λ_min(K_S) + λ_min(K_l) + λ)` on clamped eigenvalues;
    /// `None` when a block is not PSD or the denominator is `≤ τ ·` numerator.
    pub kappa_bound: Option<f64>,
    /// The relative tolerance `τ` used.
    pub tolerance: f64,
}

/// How far the computed eigenvalues are from satisfying the bounds (0 means they hold).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WeylCheck {
    /// `max_i max(0, lower_i − λ_i(sum), λ_i(sum) − upper_i)`.
    pub worst_violation: f64,
    /// The index of the worst violation; `None` when every bound holds exactly.
    pub worst_index: Option<usize>,
    /// `worst_violation / max_i |λ_i(sum)|` (0 for the zero matrix).
    pub relative_violation: f64,
    /// `max(0, κ_sum − κ_bound)`; `None` when either is unavailable.
    pub kappa_violation: Option<f64>,
}

impl WeylReport {
    /// The worst violation of the per-index bounds and of the κ bound.
    pub fn check(&self) -> WeylCheck {
        let mut worst = 0.0;
        let mut worst_index = None;
        for (i, &s) in self.sum.iter().enumerate() {
            let v = (self.lower[i] - s).max(s - self.upper[i]);
            if v > worst {
                worst = v;
                worst_index = Some(i);
            }
        }
        let scale = self.sum.iter().fold(0.0_f64, |a, v| a.max(v.abs()));
        WeylCheck {
            worst_violation: worst,
            worst_index,
            relative_violation: if scale > 0.0 { worst / scale } else { 0.0 },
            kappa_violation: self
                .kappa_sum
                .zip(self.kappa_bound)
                .map(|(k, b)| (k - b).max(0.0)),
        }
    }
}

/// Weyl report for adding `added` (`K_l`) to `base` (`K_S`), with shift `λ ≥ 0` for the
/// condition numbers. Both kernels must have the same shape and be symmetric within
/// `options.symmetry_tol` (the symmetric parts are decomposed).
pub fn weyl(
    base: &Kernel,
    added: &Kernel,
    lambda: f64,
    options: &SpectrumOptions,
) -> Result<WeylReport, CoreError> {
    options.validate()?;
    check_lambda(lambda, false)?;
    base.check_same_shape(added, "Weyl blocks")?;
    for (name, k) in [("base kernel", base), ("added kernel", added)] {
        let a = k.asymmetry();
        if a > options.symmetry_tol {
            return Err(CoreError::invalid(
                name,
                format!(
                    "Weyl bounds need a symmetric kernel; relative asymmetry {a:.3e} exceeds {:.3e}",
                    options.symmetry_tol
                ),
            ));
        }
    }
    let tol = options.resolved_tol(base.dim());
    let sum_kernel = base.add(added)?;
    let ev_base = sym_eigenvalues(&base.symmetrised())?;
    let ev_added = sym_eigenvalues(&added.symmetrised())?;
    let ev_sum = sym_eigenvalues(&sum_kernel.symmetrised())?;

    let (added_max, added_min) = (ev_added[0], ev_added[ev_added.len() - 1]);
    let lower = ev_base.iter().map(|b| b + added_min).collect();
    let upper = ev_base.iter().map(|b| b + added_max).collect();

    let mut cb = ev_base.clone();
    let mut ca = ev_added.clone();
    let mut cs = ev_sum.clone();
    let psd = [&mut cb, &mut ca, &mut cs]
        .into_iter()
        .all(|v| clamp_round_off(v, tol).negative_beyond_tolerance == 0);
    let kappa_base = Conditioning::from_eigenvalues(&cb, lambda, tol).kappa;
    let kappa_sum = Conditioning::from_eigenvalues(&cs, lambda, tol).kappa;
    let num = cb[0] + ca[0] + lambda;
    let den = cb[cb.len() - 1] + ca[ca.len() - 1] + lambda;
    let kappa_bound = (psd && num > 0.0 && den > tol * num).then(|| num / den);

    Ok(WeylReport {
        lambda,
        base: ev_base,
        added: ev_added,
        sum: ev_sum,
        lower,
        upper,
        psd,
        kappa_base,
        kappa_sum,
        kappa_bound,
        tolerance: tol,
    })
}
