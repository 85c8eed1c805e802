//! The linearized model at its optimum: kernel ridge regression solved through the
//! eigendecomposition `K = U diag(μ) Uᵀ`.

use serde::{Deserialize, Serialize};

use crate::spectrum::{
    check_finite_slice, check_lambda, clamp_round_off, numerical_rank, sym_eigen, ClampReport,
    Kernel, SpectrumOptions, SymEigen,
};
use crate::CoreError;

/// A fitted linearized model `f̄(x) = f0(x) + J0(x)(θ̄ − θ0)` with the proximal squared loss
/// `L(θ̄) = ½‖f̄(X) − Y‖² + (λ/2)‖θ̄ − θ0‖²`, held in the eigenbasis of the train kernel.
///
/// With `r0 = Y − f0(X)` and `c = Uᵀ r0`, the optimum is `θ̄* − θ0 = J0ᵀ α`,
/// `α = (K + λI)⁻¹ r0 = U diag(1/(μ_i + λ)) c`.
///
/// Fitted on a 3-sample kernel with one output, then a prediction at a new point:
///
/// ```
/// use ntk_lens_core::linear::KernelRidge;
/// use ntk_lens_core::spectrum::{Kernel, Layout, SpectrumOptions};
///
/// let k = [2.0, 1.0, 0.0, 1.0, 2.0, 1.0, 0.0, 1.0, 2.0]; // K = J0 J0ᵀ, row-major
/// let kernel = Kernel::from_row_major(3, 1, Layout::Full, &k)?;
/// let (f0, y, lambda) = ([0.0; 3], [1.0, 0.0, -1.0], 0.1);
/// let ridge = KernelRidge::fit(&kernel, &f0, &y, lambda, &SpectrumOptions::default())?;
/// // f̄*(x*) = f0(x*) + K(x*, X) α with K(x*, X) = [1, 0.5, 0] and f0(x*) = 0.
/// let prediction = ridge.predict(&[1.0, 0.5, 0.0], &[0.0])?;
/// println!("f̄*(x*) = {:.4}, κ(K + λI) = {:.2}", prediction[0], ridge.condition_number());
/// // (K + 0.1 I) [1, 0, −1] = 2.1 [1, 0, −1], so α = [1, 0, −1] / 2.1.
/// assert!((prediction[0] - 1.0 / 2.1).abs() < 1e-12);
/// # Ok::<(), ntk_lens_core::CoreError>(())
/// ```
#[derive(Debug, Clone)]
pub struct KernelRidge {
    pub(crate) lambda: f64,
    /// Eigenpairs of the symmetric part of `K`, round-off negatives clamped to 0 (descending),
    /// as in the NTK report's spectrum, so that `κ(K + λI)` agrees with it.
    pub(crate) eigen: SymEigen,
    pub(crate) clamp: ClampReport,
    pub(crate) rank: usize,
    pub(crate) tolerance: f64,
    pub(crate) f0: Vec<f64>,
    pub(crate) residual0: Vec<f64>,
    /// `c = Uᵀ r0`.
    pub(crate) coeffs: Vec<f64>,
}

/// Summary of the optimum of the linearized model (serde result).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RidgeFit {
    /// The regularisation strength `λ > 0`.
    pub lambda: f64,
    /// Condition number of the solved system, `κ(K + λI) = (μ_max + λ)/(μ_min + λ)`.
    pub condition_number: f64,
    /// Clamping of round-off negative eigenvalues of `K`.
    pub clamp: ClampReport,
    /// Numerical rank of `K`: the eigenvalues with `|μ| > τ μ_max` (the smaller ones are kept as
    /// computed: with `λ > 0` they are harmless, and zeroing them would make `κ(K + λI)`
    /// disagree with the NTK report's at the same `λ`).
    pub rank: usize,
    /// `α = (K + λI)⁻¹ r0` (dual coefficients).
    pub alpha: Vec<f64>,
    /// Train predictions `f0(X) + K α`.
    pub train_predictions: Vec<f64>,
    /// Train residual at the optimum `r* = Y − f̄*(X) = λ (K + λI)⁻¹ r0`.
    pub train_residual: Vec<f64>,
    /// Data term at the optimum `½‖r*‖² = ½ Σ_i (λ c_i/(μ_i + λ))²`.
    pub data_loss: f64,
    /// Proximal term at the optimum `(λ/2)‖θ̄* − θ0‖²`.
    pub proximal_loss: f64,
    /// `‖θ̄* − θ0‖`, from `‖θ̄* − θ0‖² = r0ᵀ(K+λI)⁻¹K(K+λI)⁻¹r0 = Σ_i μ_i c_i²/(μ_i + λ)²`.
    pub param_distance: f64,
    /// The bound `‖r0‖ / (2√λ) ≥ ‖θ̄* − θ0‖` (from `μ/(μ+λ)² ≤ 1/(4λ)`).
    pub param_distance_bound: f64,
    /// Largest stable gradient-descent step, `2/(μ_max + λ)`.
    pub max_stable_step: f64,
}

impl KernelRidge {
    /// Fits the linearized model: `kernel` is the symmetric PSD train kernel `K = J0 J0ᵀ`
    /// (`d × d`, any layout), `f0` the initial train outputs and `targets` the train targets `Y`
    /// (both length `d`, in the kernel's index), `λ > 0`.
    ///
    /// The symmetric part of `K` is decomposed; negative eigenvalues with `|μ| ≤ τ μ_max` (τ
    /// from `options`) are round-off and are clamped to 0 (reported in the clamp report), exactly
    /// as [`Kernel::spectrum`] does, so that [`KernelRidge::condition_number`] equals the NTK
    /// report's `κ(K + λI)` at the same `λ`. Errors when `K` is asymmetric beyond `options.symmetry_tol`
    /// or has an eigenvalue below `−τ μ_max` (not a valid NTK).
    pub fn fit(
        kernel: &Kernel,
        f0: &[f64],
        targets: &[f64],
        lambda: f64,
        options: &SpectrumOptions,
    ) -> Result<Self, CoreError> {
        options.validate()?;
        check_lambda(lambda, true)?;
        let d = kernel.dim();
        if f0.len() != d {
            return Err(CoreError::mismatch("initial outputs f0", d, f0.len()));
        }
        if targets.len() != d {
            return Err(CoreError::mismatch("targets", d, targets.len()));
        }
        check_finite_slice("initial outputs f0", f0)?;
        check_finite_slice("targets", targets)?;
        let asym = kernel.asymmetry();
        if asym > options.symmetry_tol {
            return Err(CoreError::invalid(
                "kernel",
                format!(
                    "the linearized model needs a symmetric kernel; relative asymmetry {asym:.3e} \
                     exceeds {:.3e}",
                    options.symmetry_tol
                ),
            ));
        }
        let tolerance = options.resolved_tol(d);
        let mut eigen = sym_eigen(&kernel.symmetrised())?;
        let clamp = clamp_round_off(&mut eigen.values, tolerance);
        if clamp.negative_beyond_tolerance > 0 {
            return Err(CoreError::Numerical(format!(
                "the kernel is not positive semi-definite: {} eigenvalue(s) below −τ·μ_max \
                 (most negative {:e}, τ = {tolerance:e}); raise rel_tol for f32 kernels",
                clamp.negative_beyond_tolerance,
                clamp.most_negative.unwrap_or(0.0)
            )));
        }
        let rank = numerical_rank(&eigen.values, tolerance);
        let residual0: Vec<f64> = targets.iter().zip(f0).map(|(y, f)| y - f).collect();
        let u = &eigen.vectors;
        let coeffs = (0..d)
            .map(|i| (0..d).map(|k| u[(k, i)] * residual0[k]).sum())
            .collect();
        Ok(KernelRidge {
            lambda,
            eigen,
            clamp,
            rank,
            tolerance,
            f0: f0.to_vec(),
            residual0,
            coeffs,
        })
    }

    /// The regularisation strength `λ`.
    pub fn lambda(&self) -> f64 {
        self.lambda
    }

    /// Eigenvalues `μ_i` of `K` used by the model (round-off negatives clamped to 0), descending.
    pub fn eigenvalues(&self) -> &[f64] {
        &self.eigen.values
    }

    /// The initial residual `r0 = Y − f0(X)`.
    pub fn residual0(&self) -> &[f64] {
        &self.residual0
    }

    /// The relative round-off tolerance `τ` used for clamping.
    pub fn tolerance(&self) -> f64 {
        self.tolerance
    }

    /// `U diag(w) c` for per-mode weights `w_i` (maps eigen coordinates back).
    pub(crate) fn modes_to_vector(&self, weights: impl Fn(usize) -> f64) -> Vec<f64> {
        let z: Vec<f64> = (0..self.coeffs.len())
            .map(|i| weights(i) * self.coeffs[i])
            .collect();
        self.eigen_to_vector(&z)
    }

    /// `U z`: a vector given by its eigen coordinates `z`.
    pub(crate) fn eigen_to_vector(&self, z: &[f64]) -> Vec<f64> {
        let u = &self.eigen.vectors;
        (0..z.len())
            .map(|k| z.iter().enumerate().map(|(i, zi)| u[(k, i)] * zi).sum())
            .collect()
    }

    /// `α = (K + λI)⁻¹ r0`.
    pub fn alpha(&self) -> Vec<f64> {
        let (mu, l) = (&self.eigen.values, self.lambda);
        self.modes_to_vector(|i| 1.0 / (mu[i] + l))
    }

    /// `‖θ̄* − θ0‖² = Σ_i μ_i c_i² / (μ_i + λ)²`.
    pub fn param_distance_sq(&self) -> f64 {
        let (mu, l) = (&self.eigen.values, self.lambda);
        self.coeffs
            .iter()
            .zip(mu)
            .map(|(c, m)| m * c * c / ((m + l) * (m + l)))
            .sum()
    }

    /// The bound `‖r0‖ / (2√λ)` on `‖θ̄* − θ0‖`.
    pub fn param_distance_bound(&self) -> f64 {
        norm(&self.residual0) / (2.0 * self.lambda.sqrt())
    }

    /// `κ(K + λI) = (μ_max + λ)/(μ_min + λ)` (finite, since `λ > 0` and `μ ≥ 0`).
    pub fn condition_number(&self) -> f64 {
        let mu = &self.eigen.values;
        (mu[0] + self.lambda) / (mu[mu.len() - 1] + self.lambda)
    }

    /// Largest stable gradient-descent step `2/(μ_max + λ)`.
    pub fn max_stable_step(&self) -> f64 {
        2.0 / (self.eigen.values[0] + self.lambda)
    }

    /// Predictions at new points: `f0(x*) + K(x*, X) v` for dual coefficients `v`, with `cross`
    /// the row-major cross kernel `[m × d]` (`m = f0_eval.len()`).
    pub(crate) fn predict_with(
        &self,
        coefficients: &[f64],
        cross: &[f64],
        f0_eval: &[f64],
    ) -> Result<Vec<f64>, CoreError> {
        let d = self.coeffs.len();
        let m = f0_eval.len();
        if cross.len() != m * d {
            return Err(CoreError::mismatch(
                "cross kernel entries",
                m * d,
                cross.len(),
            ));
        }
        check_finite_slice("cross kernel", cross)?;
        check_finite_slice("eval initial outputs f0", f0_eval)?;
        Ok((0..m)
            .map(|r| {
                let row = &cross[r * d..(r + 1) * d];
                f0_eval[r]
                    + row
                        .iter()
                        .zip(coefficients)
                        .map(|(k, a)| k * a)
                        .sum::<f64>()
            })
            .collect())
    }

    /// Eval predictions at the optimum, `f̄*(x*) = f0(x*) + K(x*, X) α`, with `cross` the
    /// row-major cross kernel `[mC × nC]` and `f0_eval` the initial eval outputs (length `mC`).
    pub fn predict(&self, cross: &[f64], f0_eval: &[f64]) -> Result<Vec<f64>, CoreError> {
        self.predict_with(&self.alpha(), cross, f0_eval)
    }

    /// Train predictions at the optimum `f0(X) + K α` (with the clamped `K = U diag(μ) Uᵀ`).
    pub fn train_predictions(&self) -> Vec<f64> {
        let (mu, l) = (&self.eigen.values, self.lambda);
        let k_alpha = self.modes_to_vector(|i| mu[i] / (mu[i] + l));
        self.f0.iter().zip(k_alpha).map(|(f, k)| f + k).collect()
    }

    /// The serde summary of the optimum.
    pub fn summary(&self) -> RidgeFit {
        let (mu, l) = (&self.eigen.values, self.lambda);
        let train_residual = self.modes_to_vector(|i| l / (mu[i] + l));
        let data_loss = 0.5 * norm(&train_residual).powi(2);
        let dist_sq = self.param_distance_sq();
        RidgeFit {
            lambda: l,
            condition_number: self.condition_number(),
            clamp: self.clamp.clone(),
            rank: self.rank,
            alpha: self.alpha(),
            train_predictions: self.train_predictions(),
            train_residual,
            data_loss,
            proximal_loss: 0.5 * l * dist_sq,
            param_distance: dist_sq.max(0.0).sqrt(),
            param_distance_bound: self.param_distance_bound(),
            max_stable_step: self.max_stable_step(),
        }
    }
}

/// Euclidean norm, accumulated in `f64`.
pub(crate) fn norm(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}
