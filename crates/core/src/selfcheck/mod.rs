//! A small, exactly checkable computation that proves the compute path end to end.
//!
//! Least squares by gradient descent through burn autodiff: minimise
//! `L(w) = 1/(2n) ||X w - y||²` from `w = 0`, with a deterministic `X` (n × d) and
//! `y = X w*`. Everything about this problem is known in closed form, so the result can be
//! checked, not just looked at:
//! * the autodiff gradient at step 0 must equal `Xᵀ(X·0 − y)/n`;
//! * with the step size `η = 1/μ_max` (μ the eigenvalues of `H = XᵀX/n`, computed with faer),
//!   the loss after `t` steps is `½ Σ_i μ_i (1 − η μ_i)^{2t} c_i²`, where `c = Uᵀ(w₀ − w*)`.
//!
//! The page runs it in the compute worker (progress, cancel); the tests run it natively.
//!
//! Beside it, [`check_against_cpu`] checks a GPU backend's NTK against the CPU's before the
//! backend is trusted ([`kernel_check`]).

use burn::prelude::*;
use burn::tensor::TensorData;
use serde::{Deserialize, Serialize};

use crate::readback::{read_f32, read_scalar};
use crate::steps::Stepwise;
use crate::CoreError;

pub mod kernel_check;

pub use kernel_check::check_against_cpu;

/// Size of the self-check problem.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SelfCheckConfig {
    /// Number of rows of `X` (samples).
    pub samples: usize,
    /// Number of columns of `X` (features).
    pub features: usize,
    /// Gradient-descent steps to take.
    pub steps: usize,
}

impl Default for SelfCheckConfig {
    fn default() -> Self {
        SelfCheckConfig {
            samples: 64,
            features: 16,
            steps: 200,
        }
    }
}

impl SelfCheckConfig {
    /// Largest accepted size on either axis (keeps the page responsive).
    pub const MAX_DIM: usize = 4096;
    /// Largest accepted number of steps.
    pub const MAX_STEPS: usize = 10_000_000;

    /// Checks the sizes; names the offending field.
    pub fn validate(&self) -> Result<(), CoreError> {
        if self.samples == 0 || self.samples > Self::MAX_DIM {
            return Err(CoreError::invalid(
                "samples",
                format!("expected 1..={}, got {}", Self::MAX_DIM, self.samples),
            ));
        }
        if self.features == 0 || self.features > Self::MAX_DIM {
            return Err(CoreError::invalid(
                "features",
                format!("expected 1..={}, got {}", Self::MAX_DIM, self.features),
            ));
        }
        if self.steps > Self::MAX_STEPS {
            return Err(CoreError::invalid(
                "steps",
                format!("expected at most {}, got {}", Self::MAX_STEPS, self.steps),
            ));
        }
        Ok(())
    }
}

/// What the self-check measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SelfCheckReport {
    /// Steps actually taken.
    pub steps_done: usize,
    /// Loss after `steps_done` steps, computed on the device.
    pub loss: f64,
    /// The loss predicted in closed form (f64) for the same number of steps.
    pub predicted_loss: f64,
    /// Loss at `w = 0`.
    pub initial_loss: f64,
    /// max |autodiff gradient − analytic gradient| at step 0.
    pub grad_max_abs_error: f64,
    /// The step size used, `1/μ_max`.
    pub learning_rate: f64,
}

/// Deterministic design matrix entry: smooth, full rank, moderately conditioned.
fn design_entry(i: usize, j: usize) -> f64 {
    let (i, j) = (i as f64, j as f64);
    (0.37 * (i + 1.0) * (j + 1.0)).sin() + 0.5 * (0.11 * i + 0.7 * j).cos()
}

/// The true weights `w*_j = 1/(j+1)`.
fn true_weight(j: usize) -> f64 {
    1.0 / (j as f64 + 1.0)
}

/// The closed-form side of the check, in f64 on the host.
#[derive(Debug, Clone)]
struct Analytic {
    /// Eigenvalues μ_i of H = XᵀX/n.
    mu: Vec<f64>,
    /// c_i = u_iᵀ(w₀ − w*) with w₀ = 0.
    c: Vec<f64>,
    /// Gradient at w = 0: −Xᵀy/n.
    grad0: Vec<f64>,
    lr: f64,
}

impl Analytic {
    fn new(cfg: &SelfCheckConfig) -> Result<Self, CoreError> {
        let (n, d) = (cfg.samples, cfg.features);
        let x = faer::Mat::<f64>::from_fn(n, d, design_entry);
        let w_star = faer::Mat::<f64>::from_fn(d, 1, |j, _| true_weight(j));
        let y = &x * &w_star;
        let h = x.transpose() * &x * faer::Scale(1.0 / n as f64);
        let eig = h
            .self_adjoint_eigen(faer::Side::Lower)
            .map_err(|e| CoreError::invalid("features", format!("eigensolver failed: {e:?}")))?;
        let mu: Vec<f64> = eig.S().column_vector().iter().map(|v| v.max(0.0)).collect();
        let u = eig.U();
        let c: Vec<f64> = (0..d)
            .map(|i| (0..d).map(|k| -u[(k, i)] * w_star[(k, 0)]).sum())
            .collect();
        let grad0_m = x.transpose() * &y * faer::Scale(-1.0 / n as f64);
        let grad0 = (0..d).map(|k| grad0_m[(k, 0)]).collect();
        let mu_max = mu.iter().cloned().fold(0.0, f64::max);
        if mu_max <= 0.0 {
            return Err(CoreError::invalid("features", "the design matrix is zero"));
        }
        Ok(Analytic {
            mu,
            c,
            grad0,
            lr: 1.0 / mu_max,
        })
    }

    fn loss_after(&self, t: usize) -> f64 {
        self.mu
            .iter()
            .zip(&self.c)
            .map(|(&m, &c)| 0.5 * m * (1.0 - self.lr * m).powi(2 * t as i32) * c * c)
            .sum()
    }
}

/// The self-check as a steppable computation.
pub struct SelfCheck {
    cfg: SelfCheckConfig,
    x: Tensor<2>,
    y: Tensor<2>,
    w: Tensor<2>,
    analytic: Analytic,
    steps_done: usize,
    grad_max_abs_error: Option<f64>,
}

impl SelfCheck {
    /// Builds the problem on `device` (autodiff is enabled internally).
    pub fn new(cfg: SelfCheckConfig, device: &Device) -> Result<Self, CoreError> {
        cfg.validate()?;
        let (n, d) = (cfg.samples, cfg.features);
        let analytic = Analytic::new(&cfg)?;
        let xs: Vec<f32> = (0..n * d)
            .map(|k| design_entry(k / d, k % d) as f32)
            .collect();
        let ws: Vec<f32> = (0..d).map(|j| true_weight(j) as f32).collect();
        let x = Tensor::<2>::from_data(TensorData::new(xs, [n, d]), device);
        let w_star = Tensor::<2>::from_data(TensorData::new(ws, [d, 1]), device);
        let y = x.clone().matmul(w_star);
        let w = Tensor::<2>::zeros([d, 1], device);
        Ok(SelfCheck {
            cfg,
            x,
            y,
            w,
            analytic,
            steps_done: 0,
            grad_max_abs_error: None,
        })
    }

    fn loss_of(&self, w: Tensor<2>, x: Tensor<2>, y: Tensor<2>) -> Tensor<1> {
        let n = self.cfg.samples as f64;
        let r = x.matmul(w) - y;
        (r.clone() * r).sum().div_scalar(2.0 * n)
    }

    /// Takes one gradient step through autodiff. At step 0 it also checks the gradient.
    async fn step(&mut self) -> Result<(), CoreError> {
        if self.is_done() {
            return Ok(());
        }
        let w = self.w.clone().autodiff().require_grad();
        let loss = self.loss_of(
            w.clone(),
            self.x.clone().autodiff(),
            self.y.clone().autodiff(),
        );
        let grads = loss.backward();
        let grad = w
            .grad(&grads)
            .ok_or_else(|| CoreError::Numerical("autodiff returned no gradient for w".into()))?;
        if self.steps_done == 0 {
            let g = read_f32(grad.clone()).await?;
            let err = g
                .iter()
                .zip(&self.analytic.grad0)
                .map(|(&a, &b)| (a as f64 - b).abs())
                .fold(0.0, f64::max);
            self.grad_max_abs_error = Some(err);
        }
        self.w = self.w.clone() - grad.mul_scalar(self.analytic.lr);
        self.steps_done += 1;
        Ok(())
    }

    /// The current loss, read back from the device.
    pub async fn current_loss(&self) -> Result<f64, CoreError> {
        let loss = self.loss_of(self.w.clone(), self.x.clone(), self.y.clone());
        Ok(read_scalar(loss).await? as f64)
    }

    /// The loss the closed form predicts after `t` steps.
    pub fn predicted_loss(&self, t: usize) -> f64 {
        self.analytic.loss_after(t)
    }

    /// The report for the steps taken so far.
    pub async fn report(&self) -> Result<SelfCheckReport, CoreError> {
        Ok(SelfCheckReport {
            steps_done: self.steps_done,
            loss: self.current_loss().await?,
            predicted_loss: self.predicted_loss(self.steps_done),
            initial_loss: self.predicted_loss(0),
            grad_max_abs_error: self.grad_max_abs_error.unwrap_or(f64::NAN),
            learning_rate: self.analytic.lr,
        })
    }
}

impl Stepwise for SelfCheck {
    type Output = SelfCheckReport;

    fn total_steps(&self) -> usize {
        self.cfg.steps
    }

    fn steps_done(&self) -> usize {
        self.steps_done
    }

    fn describe(&self) -> String {
        format!(
            "gradient step {} of {}",
            self.steps_done + 1,
            self.cfg.steps
        )
    }

    async fn advance(&mut self) -> Result<(), CoreError> {
        self.step().await
    }

    async fn loss(&self) -> Option<f64> {
        self.current_loss().await.ok()
    }

    async fn finish(self) -> Result<SelfCheckReport, CoreError> {
        self.report().await
    }
}

#[cfg(all(test, not(target_family = "wasm")))]
mod tests {
    use super::*;
    use crate::{block_on, device::cpu_device};

    fn run(cfg: SelfCheckConfig) -> SelfCheckReport {
        let mut check = SelfCheck::new(cfg, &cpu_device()).unwrap();
        while !check.is_done() {
            block_on(check.step()).unwrap();
        }
        block_on(check.report()).unwrap()
    }

    #[test]
    fn autodiff_gradient_matches_the_analytic_gradient() {
        let r = run(SelfCheckConfig {
            samples: 32,
            features: 8,
            steps: 1,
        });
        // f32 arithmetic on O(1) entries summed over 32 rows: a few ulps of ~1.
        assert!(r.grad_max_abs_error < 1e-5, "{r:?}");
    }

    #[test]
    fn loss_follows_the_closed_form_trajectory() {
        let r = run(SelfCheckConfig::default());
        assert!(r.initial_loss > 0.1, "{r:?}");
        assert!(r.loss < r.initial_loss * 0.5, "{r:?}");
        // f32 device arithmetic vs f64 closed form: relative error well under 1e-3.
        let rel = (r.loss - r.predicted_loss).abs() / r.predicted_loss.max(1e-12);
        assert!(rel < 1e-3, "relative error {rel}: {r:?}");
        // And the initial loss is the device's loss at w = 0.
        let check = SelfCheck::new(SelfCheckConfig::default(), &cpu_device()).unwrap();
        let l0 = block_on(check.current_loss()).unwrap();
        assert!((l0 - r.initial_loss).abs() / r.initial_loss < 1e-5);
    }

    #[test]
    fn bad_sizes_are_rejected_with_the_field_name() {
        let err = SelfCheck::new(
            SelfCheckConfig {
                samples: 0,
                features: 4,
                steps: 1,
            },
            &cpu_device(),
        )
        .err()
        .unwrap();
        assert!(err.to_string().contains("`samples`"), "{err}");
    }
}
