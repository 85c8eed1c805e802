//! Training settings.

use serde::{Deserialize, Serialize};

use crate::CoreError;

pub use crate::options::{LossKind, OptimizerKind};

/// The default gradient-descent step for a kernel with largest eigenvalue `mu_max` at
/// proximal strength `lambda`: `0.05 / (μ_max + λ)`.
///
/// `2/(μ_max + λ)` is the stability limit of the *linearized* model, but the actual LoRA model's
/// kernel grows during training: at PEFT initialisation only `B` has a gradient, and once
/// `B ≠ 0` the `A` part of the kernel appears. Measured on all-MiniLM-L6-v2 (16 samples, r = 8
/// on query/value): steps of `0.25/(μ_max + λ)` and above made the actual loss jump and
/// oscillate after the first step, `0.07/(μ_max + λ)` still spiked once, `0.035/(μ_max + λ)`
/// decreased smoothly.
pub fn default_gd_lr(mu_max: f64, lambda: f64) -> f64 {
    0.05 / (mu_max.max(0.0) + lambda).max(f64::MIN_POSITIVE)
}

/// The one gradient-descent step a λ sweep gives every λ of `lambdas` by default
/// ([`SweepStepRule::Shared`]): `min(0.05/(μ_max + λ_min), 1/(μ_max + λ_max))`.
///
/// - `0.05/(μ_max + λ_min)` is [`default_gd_lr`] at the smallest λ: the data term's step, small
///   enough for the actual model, whose kernel grows during training.
/// - `1/(μ_max + λ_max)` keeps `η(μ_max + λ) ≤ 1` for every λ of the grid, so that on the
///   linearized model every eigen-direction moves monotonically from `θ0` towards the ridge
///   optimum: no direction overshoots, the data loss never rises, and `‖θ̄_t − θ0‖` stays below
///   `‖r0‖/(2√λ)`. The proximal term is exactly quadratic, so this is what "stable for the
///   largest λ" means for it.
///
/// With one step for all, the runs differ only in their penalty: the smallest λ is in effect
/// the unpenalised run.
///
/// [`SweepStepRule::Shared`]: crate::options::SweepStepRule::Shared
pub fn shared_gd_lr(mu_max: f64, lambdas: &[f64]) -> f64 {
    let mu = mu_max.max(0.0);
    let (lo, hi) = lambdas
        .iter()
        .fold((f64::INFINITY, 0.0_f64), |(lo, hi), &l| {
            (lo.min(l), hi.max(l))
        });
    default_gd_lr(mu, if lo.is_finite() { lo } else { 0.0 }).min(monotone_step_limit(mu, hi))
}

/// The largest step for which the step condition `η(μ_max + λ) ≤ 1` holds: under it, gradient
/// descent on the linearized model from `θ0` moves every eigen-direction of the residual
/// monotonically towards the ridge optimum, so its data loss never rises and its distance
/// stays within `‖r0‖/(2√λ)` (docs/theory.md).
pub fn monotone_step_limit(mu_max: f64, lambda: f64) -> f64 {
    1.0 / (mu_max.max(0.0) + lambda).max(f64::MIN_POSITIVE)
}

/// The default samples per training pass (of each λ trained side by side). Natively, at 2
/// threads, the sweep bench (64 samples, 7 λ × 10 steps) took 24.5–25.0 s with 8 against
/// 29.3–29.5 s with 16, and peaked at 0.7–1.0 GB against 1.1–1.3 GB; one λ alone 5.0 s against
/// 5.3 s. The page uses 8 too (docs/performance.md).
pub const TRAIN_CHUNK: usize = 8;

/// Settings of one fine-tuning run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// Proximal strength `λ ≥ 0`.
    pub lambda: f64,
    /// Step size `η > 0`.
    pub lr: f64,
    /// Number of steps.
    pub steps: usize,
    /// GD or Adam.
    pub optimizer: OptimizerKind,
    /// Squared loss or cross-entropy.
    pub loss: LossKind,
    /// Apply the proximal term only when `⟨∇Σℓ, θ − θ0⟩ ≥ 0` (Eq. 8).
    pub selective: bool,
    /// Train the classification head too (else only LoRA).
    pub train_head: bool,
    /// Samples per forward/backward pass (gradients are summed over chunks).
    pub chunk_size: usize,
    /// Samples per optimisation step: `None` takes all of them (full batch, the theory's
    /// setting); `Some(b)` draws minibatches of `b` without replacement, reshuffled every epoch
    /// from `seed` (the last batch of an epoch may be smaller). A batch's gradient is scaled by
    /// `n/b`, an unbiased estimate of the full sum, so λ means the same as in full batch.
    #[serde(default)]
    pub batch_size: Option<usize>,
    /// How the step size changes over the steps.
    #[serde(default)]
    pub schedule: Schedule,
    /// Seed of the minibatch shuffles.
    #[serde(default)]
    pub seed: u64,
}

/// How the step size changes over the `T` steps of a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Schedule {
    /// The same step throughout (the theory's setting).
    #[default]
    Constant,
    /// Hugging Face's linear schedule: the factor rises linearly from 0 over the first
    /// `⌈warmup·T⌉` steps, then falls linearly to 0 at step `T` (as
    /// `get_linear_schedule_with_warmup`; step 0 of a warm-up has factor 0, as there).
    LinearWarmupDecay {
        /// Fraction of the steps spent warming up, in `[0, 1)`.
        warmup: f64,
    },
}

impl Schedule {
    /// The factor on the step size at step `step` (0-based) of `total`.
    pub fn factor(self, step: usize, total: usize) -> f64 {
        match self {
            Schedule::Constant => 1.0,
            Schedule::LinearWarmupDecay { warmup } => {
                let warm = (warmup * total as f64).ceil() as usize;
                if step < warm {
                    step as f64 / warm.max(1) as f64
                } else {
                    (total.saturating_sub(step)) as f64 / total.saturating_sub(warm).max(1) as f64
                }
            }
        }
    }
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            lambda: 0.01,
            lr: 0.01,
            steps: 100,
            optimizer: OptimizerKind::Gd,
            loss: LossKind::Mse,
            selective: false,
            train_head: false,
            chunk_size: TRAIN_CHUNK,
            batch_size: None,
            schedule: Schedule::Constant,
            seed: 0,
        }
    }
}

impl TrainConfig {
    /// Checks every field; the error names it.
    pub fn validate(&self) -> Result<(), CoreError> {
        if !(self.lambda.is_finite() && self.lambda >= 0.0) {
            return Err(CoreError::invalid(
                "lambda",
                format!("must be a finite number ≥ 0, got {}", self.lambda),
            ));
        }
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return Err(CoreError::invalid(
                "lr",
                format!("must be a finite number > 0, got {}", self.lr),
            ));
        }
        if self.steps == 0 || self.steps > 100_000 {
            return Err(CoreError::invalid(
                "steps",
                format!("must be between 1 and 100000, got {}", self.steps),
            ));
        }
        if self.batch_size == Some(0) {
            return Err(CoreError::invalid("batch_size", "must be at least 1"));
        }
        if let Schedule::LinearWarmupDecay { warmup } = self.schedule {
            if !(0.0..1.0).contains(&warmup) {
                return Err(CoreError::invalid(
                    "warmup",
                    format!("must be a fraction in [0, 1), got {warmup}"),
                ));
            }
        }
        if self.chunk_size == 0 || self.chunk_size > 1024 {
            return Err(CoreError::invalid(
                "chunk_size",
                format!("must be between 1 and 1024, got {}", self.chunk_size),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_schedule_as_hugging_face() {
        // T = 100, warm-up 6 %: 6 steps up from 0, then down to 0 at step 100, as
        // transformers' get_linear_schedule_with_warmup(6, 100).
        let s = Schedule::LinearWarmupDecay { warmup: 0.06 };
        let f: Vec<f64> = [0, 3, 6, 53, 99]
            .iter()
            .map(|&t| s.factor(t, 100))
            .collect();
        assert_eq!(f, [0.0, 0.5, 1.0, 47.0 / 94.0, 1.0 / 94.0]);
        assert_eq!(Schedule::Constant.factor(7, 10), 1.0);
        // No warm-up: linear decay from 1.
        let s = Schedule::LinearWarmupDecay { warmup: 0.0 };
        assert_eq!((s.factor(0, 4), s.factor(3, 4)), (1.0, 0.25));
        let bad = TrainConfig {
            schedule: Schedule::LinearWarmupDecay { warmup: 1.0 },
            ..TrainConfig::default()
        };
        assert!(bad.validate().is_err());
    }

    #[test]
    fn shared_step_is_the_smaller_of_the_data_and_penalty_limits() {
        // μ_max = 1.5: the smallest λ's data step 0.05/1.501 is below 1/(1.5 + 10).
        let eta = shared_gd_lr(1.5, &[1e-3, 1e-1, 10.0]);
        assert!((eta - 0.05 / 1.501).abs() < 1e-15, "{eta}");
        // A grid up to λ = 100: 1/(1.5 + 100) is the smaller, and η(μ_max + λ) ≤ 1 for all.
        let eta = shared_gd_lr(1.5, &[1e-3, 100.0]);
        assert!((eta - 1.0 / 101.5).abs() < 1e-15, "{eta}");
        assert!(eta * (1.5 + 100.0) <= 1.0 + 1e-12);
        // The order of the grid does not matter.
        assert_eq!(
            shared_gd_lr(2.0, &[10.0, 0.1]),
            shared_gd_lr(2.0, &[0.1, 10.0])
        );
    }
}
