//! Actual fine-tuning of the LoRA model with the proximal penalty.
//!
//! Objective (sum over the `n` train samples, the convention of [`crate::linear`]):
//! `L(θ) = Σ_i ℓ(f_θ(x_i), y_i) + (λ/2)‖θ − θ0‖²`, with `ℓ` the squared loss `½‖f − y‖²`
//! (the theory's; `y` one-hot for classes, the score for regression) or cross-entropy
//! (practice, classes only). `θ` are the LoRA `A` and `B` (and optionally the head); `θ0` is
//! their value at the start. The gradient of the proximal term is exactly `λ(θ − θ0)`; with the *selective* gate of the paper's Eq. 8 it is applied only when
//! `⟨∇Σℓ, θ − θ0⟩ ≥ 0`. Full-batch gradient descent (the theory's setting) or Adam.
//!
//! The gradient of a step is accumulated over chunks of samples, so a full-batch step over many
//! samples needs the activation memory of one chunk only.

pub mod config;
pub mod metrics;
pub mod params;
pub mod targets;
pub mod trainer;

pub use config::{
    default_gd_lr, monotone_step_limit, shared_gd_lr, LossKind, OptimizerKind, Schedule,
    TrainConfig, TRAIN_CHUNK,
};
pub use targets::{Quality, Targets};
pub use trainer::{Run, StepRecord, Trained, TrainedRun, Trainer};
