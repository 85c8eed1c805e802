//! The error type of the core. Fallible public functions return [`CoreError`], or the typed error
//! of their part that [`CoreError`] wraps ([`crate::data::DataError`],
//! [`crate::tokenize::TokenizeError`]); only the start of a wgpu device and its probe
//! ([`crate::device`]) report a reason as text, which the shells show as it is. Nothing in the
//! core panics on user input.

use thiserror::Error;

use crate::options::{KernelKind, ParamSet};

/// What went wrong in a core computation, worded for the person who started it.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum CoreError {
    /// A configuration value is out of its valid range; names the field and what was expected.
    #[error("invalid value for `{field}`: {message}")]
    InvalidConfig {
        /// The configuration field, as the user sees it (e.g. `steps`).
        field: String,
        /// What was expected and what was found.
        message: String,
    },
    /// Reading a tensor back from the device failed: the device itself failed (e.g. a GPU that
    /// was lost; the page then falls back to the CPU).
    #[error("could not read a result back from the compute device: {0}")]
    Readback(String),
    /// The compute backend could not be started.
    #[error("compute backend unavailable: {0}")]
    BackendUnavailable(String),
    /// A model's `config.json` is unreadable or one of its values is invalid; names the field.
    #[error("invalid model config, field `{field}`: {message}")]
    ModelConfig {
        /// The `config.json` key (e.g. `hidden_size`).
        field: String,
        /// What was expected and what was found.
        message: String,
    },
    /// A file could not be read at all (missing, unreadable).
    #[error("cannot read `{file}`: {message}")]
    Io {
        /// The file.
        file: String,
        /// The operating system's message (e.g. not found, permission denied).
        message: String,
    },
    /// A safetensors file could not be parsed (truncated, corrupt, unsupported dtype).
    #[error("cannot read safetensors `{file}`: {message}")]
    Safetensors {
        /// Which file (e.g. `model.safetensors`, `adapter_model.safetensors`).
        file: String,
        /// What is wrong with it.
        message: String,
    },
    /// A tensor the model needs is not in the weights file.
    #[error("tensor `{name}` (shape {expected:?}) is missing from `{file}`")]
    MissingTensor {
        /// The file searched.
        file: String,
        /// The tensor name the model expected (without optional prefixes).
        name: String,
        /// The shape it should have.
        expected: Vec<usize>,
    },
    /// A tensor has the wrong shape.
    #[error("tensor `{name}` in `{file}` has shape {found:?}, expected {expected:?}")]
    TensorShape {
        /// The file read.
        file: String,
        /// The tensor name as stored in the file.
        name: String,
        /// The shape the model config implies.
        expected: Vec<usize>,
        /// The shape stored in the file.
        found: Vec<usize>,
    },
    /// A LoRA adapter cannot be applied (bad `adapter_config.json`, targets that match nothing,
    /// unsupported options).
    #[error("invalid LoRA adapter, `{field}`: {message}")]
    Adapter {
        /// The adapter-config key or adapter tensor concerned (e.g. `target_modules`).
        field: String,
        /// What is wrong.
        message: String,
    },
    /// Model inputs (token ids, masks) are inconsistent; names the input.
    #[error("invalid model input `{field}`: {message}")]
    InvalidInput {
        /// The input concerned (e.g. `input_ids`).
        field: String,
        /// What is wrong.
        message: String,
    },
    /// Two inputs that must agree in size do not; names what was being compared.
    #[error("dimension mismatch in {what}: expected {expected}, found {found}")]
    DimensionMismatch {
        /// What was being checked (e.g. `residual length`).
        what: String,
        /// The size that was required.
        expected: usize,
        /// The size that was given.
        found: usize,
    },
    /// An input contained NaN or an infinity; names the input.
    #[error("{0} contains a NaN or infinite value")]
    NonFinite(String),
    /// A linear-algebra step failed or its precondition does not hold (e.g. a kernel that must
    /// be positive semi-definite has a clearly negative eigenvalue).
    #[error("numerical failure: {0}")]
    Numerical(String),
    /// An analysis was given an NTK other than the one it needs
    /// ([`crate::experiment::NtkNeeds`]): the sign kernel where it needs the plain one, or other
    /// parameters.
    #[error(
        "the {analysis} needs the NTK with kernel = {kernel}, params = {params}; the one given has \
         kernel = {given_kernel}, params = {given_params}"
    )]
    NtkNeeds {
        /// The analysis, as a person names it (`λ sweep`, `layer study`, `radius probe`).
        analysis: &'static str,
        /// The kernel it needs.
        kernel: KernelKind,
        /// The parameters it needs.
        params: ParamSet,
        /// The kernel of the NTK given.
        given_kernel: KernelKind,
        /// The parameters of the NTK given.
        given_params: ParamSet,
    },
    /// A dataset could not be read, or a sample or split of it could not be drawn.
    #[error(transparent)]
    Data(#[from] crate::data::DataError),
    /// A text could not be tokenized, or the tokenizer file is invalid.
    #[error(transparent)]
    Tokenize(#[from] crate::tokenize::TokenizeError),
}

impl CoreError {
    /// Shorthand for [`CoreError::InvalidConfig`].
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        CoreError::InvalidConfig {
            field: field.to_string(),
            message: message.into(),
        }
    }

    /// Shorthand for [`CoreError::ModelConfig`].
    pub fn model_config(field: &str, message: impl Into<String>) -> Self {
        CoreError::ModelConfig {
            field: field.to_string(),
            message: message.into(),
        }
    }

    /// Shorthand for [`CoreError::Adapter`].
    pub fn adapter(field: &str, message: impl Into<String>) -> Self {
        CoreError::Adapter {
            field: field.to_string(),
            message: message.into(),
        }
    }

    /// Shorthand for [`CoreError::InvalidInput`].
    pub fn input(field: &str, message: impl Into<String>) -> Self {
        CoreError::InvalidInput {
            field: field.to_string(),
            message: message.into(),
        }
    }

    /// Shorthand for [`CoreError::DimensionMismatch`].
    pub fn mismatch(what: &str, expected: usize, found: usize) -> Self {
        CoreError::DimensionMismatch {
            what: what.to_string(),
            expected,
            found,
        }
    }
}
