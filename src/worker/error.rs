//! What can go wrong in the worker, typed; turned into one message for the page at the edge.

use ntk_lens_core::CoreError;

use super::fetch::FetchError;

/// Why a job failed.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    /// The core refused or failed (its message names the input or the field).
    #[error(transparent)]
    Core(#[from] CoreError),
    /// A data file could not be read (the message names the file, line and column).
    #[error(transparent)]
    Data(#[from] ntk_lens_core::data::DataError),
    /// A tokenizer could not be loaded or used.
    #[error(transparent)]
    Tokenize(#[from] ntk_lens_core::tokenize::TokenizeError),
    /// A download failed.
    #[error(transparent)]
    Fetch(#[from] FetchError),
    /// A file could not be used (the message names it and says why).
    #[error("{0}")]
    File(String),
    /// Something must happen first (e.g. "compute the NTK first").
    #[error("{0}")]
    NotYet(String),
}

impl WorkerError {
    /// Whether the compute device itself failed (a read-back of a lost GPU device), rather than
    /// the job's input or the job.
    pub fn is_device_failure(&self) -> bool {
        matches!(self, WorkerError::Core(CoreError::Readback(_)))
    }
}
