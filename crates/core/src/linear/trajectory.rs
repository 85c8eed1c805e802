//! Gradient descent on the linearized model in closed form.
//!
//! Gradient descent with step `η` from `θ̄_0 = θ0` on
//! `L(θ̄) = Σ_i ½‖f̄(x_i) − y_i‖² + (λ/2)‖θ̄ − θ0‖²`, `f̄ = f0 + J0 (θ̄ − θ0)`:
//!
//! `θ̄_{t+1} = θ̄_t − η [J0ᵀ(f̄_t − Y) + λ(θ̄_t − θ0)]`.
//!
//! With `δ_t = θ̄_t − θ0` and the residual `r_t = Y − f̄_t(X) = r0 − J0 δ_t`:
//! `δ_{t+1} = (1 − ηλ) δ_t + η J0ᵀ r_t`. Multiplying by `J0` (`K = J0 J0ᵀ`) and substituting
//! `J0 δ_t = r0 − r_t`:
//!
//! `r_{t+1} = r_t − η[(K + λI) r_t − λ r0]`, fixed point `r* = λ(K + λI)⁻¹ r0`, so
//! `r_t − r* = (I − η(K + λI))^t (r0 − r*) = U diag(q_i^t) Uᵀ (r0 − r*)`,
//! `q_i = 1 − η(μ_i + λ)`.
//!
//! In eigen coordinates (`c = Uᵀ r0`): `(Uᵀ r_t)_i = c_i (λ + μ_i q_i^t)/(μ_i + λ)`.
//! Since `δ_0 = 0`, `δ_t = J0ᵀ β_t` stays in the row space of `J0`, with
//! `β_{t+1} = (1 − ηλ) β_t + η r_t`, solved by `(Uᵀ β_t)_i = c_i (1 − q_i^t)/(μ_i + λ)`
//! (also for `μ_i = 0`). Hence `‖δ_t‖² = β_tᵀ K β_t = Σ_i μ_i c_i² (1 − q_i^t)²/(μ_i + λ)²`,
//! and `f̄_t(x*) = f0(x*) + K(x*, X) β_t`. All modes contract iff `|q_i| < 1` for all `i`,
//! i.e. `0 < η < 2/(μ_max + λ)`.

use serde::{Deserialize, Serialize};

use super::ridge::KernelRidge;
use crate::CoreError;

/// Losses and distances after `t` gradient steps (serde result).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GdStep {
    /// The step count `t` (0 is the start `θ̄ = θ0`).
    pub step: u64,
    /// Data term `½‖r_t‖²`.
    pub data_loss: f64,
    /// Proximal term `(λ/2)‖θ̄_t − θ0‖²`.
    pub proximal_loss: f64,
    /// `data_loss + proximal_loss`.
    pub total_loss: f64,
    /// `‖r_t‖`.
    pub residual_norm: f64,
    /// `‖θ̄_t − θ0‖`.
    pub param_distance: f64,
}

/// A closed-form gradient-descent trajectory (serde result).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trajectory {
    /// The step size `η`.
    pub eta: f64,
    /// The regularisation strength `λ`.
    pub lambda: f64,
    /// `2/(μ_max + λ)`.
    pub max_stable_step: f64,
    /// True when `η < 2/(μ_max + λ)` (every mode contracts).
    pub stable: bool,
    /// The slowest contraction factor `max_i |1 − η(μ_i + λ)|`.
    pub contraction: f64,
    /// The requested steps, in the order requested.
    pub steps: Vec<GdStep>,
    /// The limit `t → ∞` when stable (the ridge optimum); its `step` is `u64::MAX`.
    pub limit: Option<GdStep>,
}

/// `q^t` for a step count that may exceed `i32`.
fn pow_steps(q: f64, t: u64) -> f64 {
    match i32::try_from(t) {
        Ok(t) => q.powi(t),
        Err(_) => q.powf(t as f64),
    }
}

impl KernelRidge {
    fn check_eta(eta: f64) -> Result<(), CoreError> {
        if !(eta.is_finite() && eta > 0.0) {
            return Err(CoreError::invalid(
                "eta",
                format!("expected a finite step size η > 0, got {eta}"),
            ));
        }
        Ok(())
    }

    /// `q_i^t` per mode, `q_i = 1 − η(μ_i + λ)`.
    fn mode_powers(&self, eta: f64, t: u64) -> Vec<f64> {
        self.eigen
            .values
            .iter()
            .map(|m| pow_steps(1.0 - eta * (m + self.lambda), t))
            .collect()
    }

    /// The train residual `r_t = Y − f̄_t(X)` after `t` steps of size `η`.
    pub fn residual_at(&self, eta: f64, t: u64) -> Result<Vec<f64>, CoreError> {
        Self::check_eta(eta)?;
        let (mu, l) = (&self.eigen.values, self.lambda);
        let p = self.mode_powers(eta, t);
        Ok(self.modes_to_vector(|i| (l + mu[i] * p[i]) / (mu[i] + l)))
    }

    /// Dual coefficients `β_t` with `θ̄_t − θ0 = J0ᵀ β_t` after `t` steps of size `η`.
    pub fn dual_coefficients_at(&self, eta: f64, t: u64) -> Result<Vec<f64>, CoreError> {
        Self::check_eta(eta)?;
        let (mu, l) = (&self.eigen.values, self.lambda);
        let p = self.mode_powers(eta, t);
        Ok(self.modes_to_vector(|i| (1.0 - p[i]) / (mu[i] + l)))
    }

    /// Eval predictions after `t` steps, `f̄_t(x*) = f0(x*) + K(x*, X) β_t` (`cross` row-major
    /// `[m × d]`, `m = f0_eval.len()`).
    pub fn predict_at(
        &self,
        eta: f64,
        t: u64,
        cross: &[f64],
        f0_eval: &[f64],
    ) -> Result<Vec<f64>, CoreError> {
        let beta = self.dual_coefficients_at(eta, t)?;
        self.predict_with(&beta, cross, f0_eval)
    }

    /// One step's losses from per-mode powers `p_i` (`q_i^t`, or 0 for the limit).
    fn step_from_powers(&self, step: u64, p: &[f64]) -> GdStep {
        let (mu, l) = (&self.eigen.values, self.lambda);
        let mut res_sq = 0.0;
        let mut dist_sq = 0.0;
        for (i, &c) in self.coeffs.iter().enumerate() {
            let denom = mu[i] + l;
            let rho = c * (l + mu[i] * p[i]) / denom;
            let b = c * (1.0 - p[i]) / denom;
            res_sq += rho * rho;
            dist_sq += mu[i] * b * b;
        }
        let data_loss = 0.5 * res_sq;
        let proximal_loss = 0.5 * l * dist_sq;
        GdStep {
            step,
            data_loss,
            proximal_loss,
            total_loss: data_loss + proximal_loss,
            residual_norm: res_sq.sqrt(),
            param_distance: dist_sq.sqrt(),
        }
    }

    /// Losses at each requested step count of gradient descent with step `η > 0`, plus the
    /// limit when the iteration is stable.
    pub fn trajectory(&self, eta: f64, steps: &[u64]) -> Result<Trajectory, CoreError> {
        Self::check_eta(eta)?;
        let max_stable_step = self.max_stable_step();
        let contraction = self
            .eigen
            .values
            .iter()
            .fold(0.0_f64, |a, m| a.max((1.0 - eta * (m + self.lambda)).abs()));
        let stable = contraction < 1.0;
        let steps = steps
            .iter()
            .map(|&t| self.step_from_powers(t, &self.mode_powers(eta, t)))
            .collect();
        let limit = stable.then(|| self.step_from_powers(u64::MAX, &vec![0.0; self.coeffs.len()]));
        Ok(Trajectory {
            eta,
            lambda: self.lambda,
            max_stable_step,
            stable,
            contraction,
            steps,
            limit,
        })
    }
}

/// Gradient descent on the linearized model with the selective proximal gate (the paper's
/// Eq. 8), step by step (serde result): the gate depends on the iterate, so there is no closed
/// form, but each step costs `O(d)` in the eigenbasis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GatedTrajectory {
    /// The step size `η`.
    pub eta: f64,
    /// The regularisation strength `λ`.
    pub lambda: f64,
    /// Per step `t = 0..T−1`: whether its update applied the proximal term.
    pub gate: Vec<bool>,
    /// Losses at `t = 0..=T` (`T + 1` entries, the last after the final update).
    pub steps: Vec<GdStep>,
    /// Dual coefficients `β_T` with `θ̄_T − θ0 = J0ᵀ β_T`.
    pub dual: Vec<f64>,
    /// The train residual `r_T = Y − f̄_T(X)`.
    pub residual: Vec<f64>,
}

impl GatedTrajectory {
    /// How many of the `T` updates applied the proximal term.
    pub fn gate_steps(&self) -> usize {
        self.gate.iter().filter(|&&on| on).count()
    }

    /// How many of the `T` updates applied a nonzero penalty: the gate was on and
    /// `θ̄_t ≠ θ0` (at `t = 0` the penalty is zero whatever the gate says).
    pub fn penalised_steps(&self) -> usize {
        self.gate
            .iter()
            .zip(&self.steps)
            .filter(|(&on, step)| on && step.param_distance > 0.0)
            .count()
    }
}

impl KernelRidge {
    /// `T` steps of gradient descent with step `η` and the selective gate: the proximal
    /// gradient `λ(θ̄_t − θ0)` is applied at step `t` only when
    /// `⟨∇_θ ½‖r_t‖², θ̄_t − θ0⟩ ≥ 0`, exactly the test of [`crate::train::Trainer`].
    ///
    /// With `δ_t = J0ᵀ β_t` the data gradient is `−J0ᵀ r_t`, so the gate's inner product is
    /// `−r_tᵀ K β_t = −Σ_i μ_i ρ_i b_i` in eigen coordinates (`ρ = Uᵀ r_t`, `b = Uᵀ β_t`), and
    /// one step is `b ← (1 − ηλg_t) b + η ρ`, `ρ = c − μ ⊙ b` (`c = Uᵀ r0`).
    pub fn gated_trajectory(&self, eta: f64, steps: u64) -> Result<GatedTrajectory, CoreError> {
        Self::check_eta(eta)?;
        let (mu, l) = (&self.eigen.values, self.lambda);
        let c = &self.coeffs;
        let mut b = vec![0.0; c.len()];
        let mut gate = Vec::new();
        let mut records = Vec::new();
        let record = |t: u64, b: &[f64]| {
            let (mut res_sq, mut dist_sq) = (0.0, 0.0);
            for i in 0..c.len() {
                let rho = c[i] - mu[i] * b[i];
                res_sq += rho * rho;
                dist_sq += mu[i] * b[i] * b[i];
            }
            let (data_loss, proximal_loss) = (0.5 * res_sq, 0.5 * l * dist_sq);
            GdStep {
                step: t,
                data_loss,
                proximal_loss,
                total_loss: data_loss + proximal_loss,
                residual_norm: res_sq.sqrt(),
                param_distance: dist_sq.max(0.0).sqrt(),
            }
        };
        for t in 0..steps {
            records.push(record(t, &b));
            let inner: f64 = -(0..c.len())
                .map(|i| mu[i] * (c[i] - mu[i] * b[i]) * b[i])
                .sum::<f64>();
            let on = inner >= 0.0;
            gate.push(on);
            let shrink = if on { 1.0 - eta * l } else { 1.0 };
            for i in 0..c.len() {
                let rho = c[i] - mu[i] * b[i];
                b[i] = shrink * b[i] + eta * rho;
            }
        }
        records.push(record(steps, &b));
        let rho: Vec<f64> = (0..c.len()).map(|i| c[i] - mu[i] * b[i]).collect();
        let dual = self.eigen_to_vector(&b);
        let residual = self.eigen_to_vector(&rho);
        Ok(GatedTrajectory {
            eta,
            lambda: l,
            gate,
            steps: records,
            dual,
            residual,
        })
    }
}

/// How training moves the residual along each eigen-direction of the kernel, at one λ: for the
/// linearized model in closed form, and for the actual fine-tuned model from its outputs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResidualByEigen {
    /// The kernel's eigenvalues `μ_i`, descending.
    pub eigenvalues: Vec<f64>,
    /// The step size `η` and the number of steps `T` of the runs.
    pub lr: f64,
    /// Steps `T`.
    pub steps: u64,
    /// The linearized model's remaining fraction of the start residual along eigenvector `i`
    /// after `T` proximal GD steps: `λ/(μ_i+λ) + μ_i/(μ_i+λ)·(1 − η(μ_i+λ))^T`.
    pub linear: Vec<f64>,
    /// The floor `λ/(μ_i+λ)` that the linear fraction tends to.
    pub floor: Vec<f64>,
    /// The actual model's remaining fraction, `(u_iᵀ r_T)/(u_iᵀ r_0)` with `r = Y − f(X)`;
    /// `None` where the start residual has almost no component (`|u_iᵀ r_0| ≤ 1e-9 ‖r_0‖`).
    pub actual: Vec<Option<f64>>,
    /// The start residual's share along each eigenvector, `|u_iᵀ r_0| / ‖r_0‖` (their squares
    /// sum to 1). Where it is small, the actual fraction divides by little and mostly shows
    /// f32 round-off and the nonlinear part moved there from other directions.
    #[serde(default)]
    pub start_share: Vec<f64>,
}

impl KernelRidge {
    /// The remaining fractions along each eigen-direction after `steps` GD steps of size `lr`
    /// (see [`ResidualByEigen`]); `actual` are the actual model's train outputs after them
    /// (sample-major, like `f0`).
    ///
    /// Errors: an unstable or non-finite step (as [`KernelRidge::residual_at`]); outputs of the
    /// wrong length.
    pub fn residual_by_eigen(
        &self,
        lr: f64,
        steps: u64,
        actual: &[f64],
    ) -> Result<ResidualByEigen, CoreError> {
        Self::check_eta(lr)?;
        let d = self.coeffs.len();
        if actual.len() != d {
            return Err(CoreError::invalid(
                "outputs",
                format!("expected {d} train outputs, got {}", actual.len()),
            ));
        }
        let (mu, l) = (&self.eigen.values, self.lambda);
        let p = self.mode_powers(lr, steps);
        let floor: Vec<f64> = (0..d).map(|i| l / (mu[i] + l)).collect();
        let linear = (0..d)
            .map(|i| floor[i] + mu[i] / (mu[i] + l) * p[i])
            .collect();
        // r_T = Y − f_T = r0 − (f_T − f0), in eigen coordinates.
        let r_t: Vec<f64> = (0..d)
            .map(|k| self.residual0[k] - (actual[k] - self.f0[k]))
            .collect();
        let u = &self.eigen.vectors;
        let norm0 = self.residual0.iter().map(|v| v * v).sum::<f64>().sqrt();
        let actual = (0..d)
            .map(|i| {
                let c = self.coeffs[i];
                let proj: f64 = (0..d).map(|k| u[(k, i)] * r_t[k]).sum();
                (c.abs() > 1e-9 * norm0).then(|| proj / c)
            })
            .collect();
        let start_share = self
            .coeffs
            .iter()
            .map(|c| if norm0 > 0.0 { c.abs() / norm0 } else { 0.0 })
            .collect();
        Ok(ResidualByEigen {
            eigenvalues: mu.clone(),
            lr,
            steps,
            linear,
            floor,
            actual,
            start_share,
        })
    }
}
