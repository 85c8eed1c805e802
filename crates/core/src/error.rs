//! The error type of the core. Every fallible public function returns [`CoreError`]; nothing in
//! the core panics on user input.

use thiserror::Error;

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
    /// Reading a tensor back from the device failed (e.g. the GPU device was lost).
    #[error("could not read a result back from the compute device: {0}")]
    Readback(String),
    /// The compute backend could not be started.
    #[error("compute backend unavailable: {0}")]
    BackendUnavailable(String),
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
}

impl CoreError {
    /// Shorthand for [`CoreError::InvalidConfig`].
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        CoreError::InvalidConfig {
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
