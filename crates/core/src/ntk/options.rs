//! What an NTK computation covers: parameters, kernel kind, chunking.

use serde::{Deserialize, Serialize};

use crate::CoreError;

/// The `ε` of the smooth sign `s(z) = z / (|z| + ε)` used by the official code's sign kernel.
pub const SIGN_EPS: f64 = 1e-8;

pub use crate::options::{KernelKind, ParamSet};

/// Options of an NTK computation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NtkOptions {
    /// The parameters of the Jacobian.
    pub params: ParamSet,
    /// Plain or sign kernel.
    pub kernel: KernelKind,
    /// Samples per forward/backward pass (the backward pass carries each sample's `C` classes).
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
