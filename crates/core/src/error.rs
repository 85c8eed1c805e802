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
    /// A dataset could not be read, or a sample or split of it could not be drawn.
    #[error(transparent)]
    Data(#[from] crate::data::DataError),
}

impl CoreError {
    /// Shorthand for [`CoreError::InvalidConfig`].
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        CoreError::InvalidConfig {
            field: field.to_string(),
            message: message.into(),
        }
    }
}
