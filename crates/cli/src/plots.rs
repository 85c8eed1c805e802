//! SVG charts of `sweep` and `select` (`--plots DIR`), from the shared chart definitions.

use std::path::Path;

use ntk_lens_core::experiment::{PooledReport, StudyReport, SweepReport};
use ntk_lens_plots::reports::{pooled_charts, study_charts, sweep_charts};
use ntk_lens_plots::{svg_string, Chart, Theme};

use crate::error::Failure;

const WIDTH: u32 = 720;
const HEIGHT: u32 = 480;

fn write_all(charts: &[(&str, Chart)], dir: &Path) -> Result<(), Failure> {
    std::fs::create_dir_all(dir)
        .map_err(|e| Failure::Compute(format!("cannot create {}: {e}", dir.display())))?;
    let theme = Theme::light();
    for (stem, chart) in charts {
        let svg = svg_string(WIDTH, HEIGHT, |area| chart.draw(area, &theme))
            .map_err(|e| Failure::Compute(format!("cannot draw {stem}: {e}")))?;
        let path = dir.join(format!("{stem}.svg"));
        std::fs::write(&path, svg)
            .map_err(|e| Failure::Compute(format!("cannot write {}: {e}", path.display())))?;
    }
    Ok(())
}

/// Charts of a λ sweep: gap, distance with the bound, accuracy, loss curves.
pub fn sweep(report: &SweepReport, dir: &Path) -> Result<(), Failure> {
    write_all(&sweep_charts(report), dir)
}

/// Charts of a selection study: κ at init vs loss and vs accuracy.
pub fn select(report: &StudyReport, dir: &Path) -> Result<(), Failure> {
    write_all(&study_charts(report), dir)
}

/// The pooled scatter of several studies (`select` with several `--data`).
pub fn pooled(report: &PooledReport, dir: &Path) -> Result<(), Failure> {
    write_all(&pooled_charts(report), dir)
}
