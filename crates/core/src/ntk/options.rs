//! What an NTK computation covers: parameters, kernel kind, chunking.

use serde::{Deserialize, Serialize};

use crate::CoreError;

/// The `ε` of the smooth sign `s(z) = z / (|z| + ε)` used by the official code's sign kernel.
pub const SIGN_EPS: f64 = 1e-8;

/// The parameters the Jacobian is taken with respect to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ParamSet {
    /// Every LoRA `A` and `B` (the paper's choice; the head is frozen in the kernel).
    #[default]
    Lora,
    /// LoRA plus the classification head's weights and biases (block `head`).
    LoraAndHead,
}

impl ParamSet {
    /// Parses `lora` or `lora+head`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "lora" => Some(ParamSet::Lora),
            "lora+head" | "lora_and_head" => Some(ParamSet::LoraAndHead),
            _ => None,
        }
    }

    /// `lora` or `lora+head`.
    pub fn name(self) -> &'static str {
        match self {
            ParamSet::Lora => "lora",
            ParamSet::LoraAndHead => "lora+head",
        }
    }
}

/// Which kernel to assemble from the per-sample Jacobians `J`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KernelKind {
    /// The NTK `K = J Jᵀ` (symmetric, positive semi-definite).
    #[default]
    Plain,
    /// The official code's asymmetric smooth-sign kernel `S = J s(J)ᵀ`, which models Adam
    /// (Malladi et al. 2023, A-SignGD); not symmetric, not PSD.
    Sign,
}

impl KernelKind {
    /// Parses `plain` or `sign`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "plain" => Some(KernelKind::Plain),
            "sign" => Some(KernelKind::Sign),
            _ => None,
        }
    }

    /// `plain` or `sign`.
    pub fn name(self) -> &'static str {
        match self {
            KernelKind::Plain => "plain",
            KernelKind::Sign => "sign",
        }
    }
}

/// Options of an NTK computation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NtkOptions {
    /// The parameters of the Jacobian.
    pub params: ParamSet,
    /// Plain or sign kernel.
    pub kernel: KernelKind,
    /// Samples per forward/backward pass (each is replicated `C` times in the pass).
    pub chunk_size: usize,
    /// Only these LoRA blocks (`block.<layer>.<module>`); `None` = every adapted site. The
    /// other adapters stay in the model (they shape the function) but are not differentiated.
    #[serde(default)]
    pub blocks: Option<Vec<String>>,
}

impl Default for NtkOptions {
    fn default() -> Self {
        NtkOptions {
            params: ParamSet::Lora,
            kernel: KernelKind::Plain,
            chunk_size: 8,
            blocks: None,
        }
    }
}

impl NtkOptions {
    /// Checks the chunk size.
    pub fn validate(&self) -> Result<(), CoreError> {
        if self.chunk_size == 0 || self.chunk_size > 1024 {
            return Err(CoreError::invalid(
                "chunk_size",
                format!(
                    "must be between 1 and 1024 samples, got {}",
                    self.chunk_size
                ),
            ));
        }
        Ok(())
    }
}
