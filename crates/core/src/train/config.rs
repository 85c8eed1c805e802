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
            chunk_size: 16,
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
        if self.chunk_size == 0 || self.chunk_size > 1024 {
            return Err(CoreError::invalid(
                "chunk_size",
                format!("must be between 1 and 1024, got {}", self.chunk_size),
            ));
        }
        Ok(())
    }
}
