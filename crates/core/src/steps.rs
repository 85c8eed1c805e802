//! Work done in steps: the one interface of every long computation of the core.
//!
//! The NTK builder, the λ sweep, the layer study, the radius probe, the self-check and
//! fine-tuning all advance one step at a time, so that a caller can report progress between
//! steps, let its event loop run (a web worker must, to see a cancel message) and stop early.
//! Each implements [`Stepwise`]; a shell drives any of them with one loop (the worker's driver
//! yields, posts progress and checks for cancel; the CLI's just loops).

use crate::CoreError;

/// A computation that advances in steps.
// The futures are not `Send`: the callers are single-threaded (a web worker, a CLI).
#[allow(async_fn_in_trait)]
pub trait Stepwise {
    /// What the finished computation gives.
    type Output;

    /// Steps in all.
    fn total_steps(&self) -> usize;

    /// Steps done so far.
    fn steps_done(&self) -> usize;

    /// Whether every step is done.
    fn is_done(&self) -> bool {
        self.steps_done() >= self.total_steps()
    }

    /// What the next step does, for a progress line (e.g. "chunk 3 of 8").
    fn describe(&self) -> String;

    /// Takes the next step (nothing when done).
    async fn advance(&mut self) -> Result<(), CoreError>;

    /// The current loss, where the computation has one (for a live curve; asked for only when
    /// progress is reported, so it may cost a read-back).
    async fn loss(&self) -> Option<f64> {
        None
    }

    /// The result; an error when steps remain.
    async fn finish(self) -> Result<Self::Output, CoreError>;

    /// Takes every remaining step, then finishes (for callers with nothing to do in between:
    /// tests, and the CLI where no progress is shown).
    async fn run(mut self) -> Result<Self::Output, CoreError>
    where
        Self: Sized,
    {
        while !self.is_done() {
            self.advance().await?;
        }
        self.finish().await
    }
}

/// The error of [`Stepwise::finish`] called with steps remaining.
pub fn unfinished(what: &str, done: usize, total: usize) -> CoreError {
    CoreError::invalid(
        what,
        format!(
            "{} of {total} steps are not done yet",
            total.saturating_sub(done)
        ),
    )
}
