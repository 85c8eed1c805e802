//! The CLI's one driver of the core's step-by-step computations ([`Stepwise`]).

use ntk_lens_core::block_on;
use ntk_lens_core::steps::Stepwise;

use crate::error::Failure;

/// Takes every step of `work`, calling `after_step` after each (e.g. to print what finished),
/// then finishes it.
pub fn drive<S: Stepwise>(
    mut work: S,
    mut after_step: impl FnMut(&S),
) -> Result<S::Output, Failure> {
    while !work.is_done() {
        block_on(work.advance())?;
        after_step(&work);
    }
    Ok(block_on(work.finish())?)
}
