//! The charts of ntk-lens, written once over plotters' [`DrawingBackend`]: the CLI renders them to
//! SVG files ([`svg_string`]), the page draws them on a `<canvas>` (`draw_on_canvas`, feature
//! `canvas`, wasm32 only). Every chart is fed by a small serde data struct, takes a [`Theme`] and
//! the drawing area (whose size the caller chooses), and returns `Result<(), PlotError>`; bad input
//! (empty data, NaN/inf, a single point, all-equal values, huge ranges, non-positive values on a
//! log axis) never panics: it is skipped, or the chart says "no data".
//!
//! | chart | data | used for |
//! | --- | --- | --- |
//! | [`heatmap`] | [`Heatmap`] | kernel matrices, grouped by class label |
//! | [`line_chart`] | [`LineChart`] | eigenvalue spectra, loss curves, gap / distance / accuracy vs λ, Weyl bounds |
//! | [`scatter`] | [`ScatterChart`] | κ at init vs final loss or accuracy, with Pearson / Spearman |
//! | [`bar_chart`] | [`BarChart`] | per-block trace shares |
//!
//! Text is written as SVG `<text>` (or canvas `fillText`); no font files are needed.
//!
//! # The CLI: a spectrum as an SVG file
//!
//! ```
//! use ntk_lens_plots::{line_chart, svg_string, Axis, LineChart, Series, Theme};
//!
//! let eigenvalues = [3.2, 1.1, 0.25, 0.01, 1e-6, 0.0]; // 0.0 is skipped on the log axis
//! let chart = LineChart {
//!     title: "NTK spectrum".into(),
//!     x: Axis::linear("index"),
//!     y: Axis::log("eigenvalue"),
//!     series: vec![Series::new(
//!         "K_S",
//!         eigenvalues.iter().enumerate().map(|(i, v)| (i as f64, *v)).collect(),
//!     )
//!     .with_markers()],
//!     ..Default::default()
//! };
//! let svg = svg_string(600, 400, |area| line_chart(area, &chart, &Theme::light()))?;
//! assert!(svg.contains("NTK spectrum"));
//! // std::fs::write(dir.join("spectrum.svg"), svg)?;
//! # Ok::<(), ntk_lens_plots::PlotError>(())
//! ```
//!
//! # The page: the same chart on a canvas
//!
//! ```ignore
//! // wasm32 with the `canvas` feature; `<canvas id="spectrum" style="width:600px;height:400px">`.
//! use ntk_lens_plots::{draw_on_canvas, line_chart, Theme};
//! let theme = Theme::for_dark_mode(prefers_dark);
//! draw_on_canvas("spectrum", &theme, |area| line_chart(area, &chart, &theme))?;
//! // "Export SVG": the same closure through svg_string(600, 400, ...).
//! ```
//!
//! [`Chart`] wraps all four data structs in one serde enum, for code that passes charts around.

#![warn(missing_docs)]

use plotters::coord::Shift;
use plotters::prelude::{
    DrawingArea, DrawingAreaErrorKind, DrawingBackend, IntoDrawingArea, SVGBackend,
};
use serde::{Deserialize, Serialize};

mod bars;
#[cfg(all(feature = "canvas", target_arch = "wasm32"))]
mod canvas;
mod common;
mod heatmap;
mod line;
#[cfg(feature = "reports")]
pub mod reports;
mod scatter;
mod theme;
mod util;

pub use bars::{bar_chart, BarChart, Orientation};
#[cfg(all(feature = "canvas", target_arch = "wasm32"))]
pub use canvas::{
    draw_chart_on_canvas, draw_on_canvas, draw_on_canvas_element, heatmap_cell_at, HEATMAP_GRID,
};
pub use common::NO_DATA;
pub use heatmap::{
    heatmap, heatmap_with, CellGrid, CellPainter, ColorScale, Grouping, Heatmap, COLORBAR_STEPS,
};
pub use line::{line_chart, LegendPosition, LineChart, Series};
pub use scatter::{scatter, Correlation, ScatterChart, ScatterPoint};
pub use theme::{Rgb, Theme};
pub use util::{format_sig, least_squares};

/// Re-exported so that callers can name the drawing area and backends without their own
/// `plotters` dependency.
pub use plotters;

/// Why a chart could not be drawn. Bad data is never an error (the chart says "no data"); only
/// the backend failing or an unusable size is.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// The drawing backend (SVG writer, canvas) reported an error.
    #[error("drawing failed: {0}")]
    Drawing(String),
    /// The requested chart size has a zero side.
    #[error("invalid chart size {width}x{height}")]
    InvalidSize {
        /// Requested width in pixels.
        width: u32,
        /// Requested height in pixels.
        height: u32,
    },
    /// The canvas could not be found or used (page only).
    #[error("canvas: {0}")]
    Canvas(String),
}

impl<E: std::error::Error + Send + Sync> From<DrawingAreaErrorKind<E>> for PlotError {
    fn from(e: DrawingAreaErrorKind<E>) -> Self {
        PlotError::Drawing(e.to_string())
    }
}

/// One axis of an x/y chart: its label (with units, e.g. `"λ"`, `"loss (nats)"`) and whether it
/// is logarithmic (base 10). On a log axis, points with a non-positive coordinate are skipped.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Axis {
    /// Axis description drawn next to the tick labels; empty for none.
    pub label: String,
    /// Log10 scale.
    #[serde(default)]
    pub log: bool,
}

impl Axis {
    /// A linear axis with this label.
    pub fn linear(label: impl Into<String>) -> Axis {
        Axis {
            label: label.into(),
            log: false,
        }
    }

    /// A log10 axis with this label.
    pub fn log(label: impl Into<String>) -> Axis {
        Axis {
            label: label.into(),
            log: true,
        }
    }
}

/// Any chart of this crate, as one serde value (`{"kind": "line", ...}`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Chart {
    /// See [`heatmap`].
    Heatmap(Heatmap),
    /// See [`line_chart`].
    Line(LineChart),
    /// See [`scatter`].
    Scatter(ScatterChart),
    /// See [`bar_chart`].
    Bars(BarChart),
}

impl Chart {
    /// Draws the chart on `area`.
    pub fn draw<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        theme: &Theme,
    ) -> Result<(), PlotError> {
        match self {
            Chart::Heatmap(c) => heatmap(area, c, theme),
            Chart::Line(c) => line_chart(area, c, theme),
            Chart::Scatter(c) => scatter(area, c, theme),
            Chart::Bars(c) => bar_chart(area, c, theme),
        }
    }

    /// The chart's title.
    pub fn title(&self) -> &str {
        match self {
            Chart::Heatmap(c) => &c.title,
            Chart::Line(c) => &c.title,
            Chart::Scatter(c) => &c.title,
            Chart::Bars(c) => &c.title,
        }
    }
}

/// Renders `draw` on a `width`×`height` SVG and returns the document, e.g.
/// `svg_string(600, 400, |area| heatmap(area, &data, &theme))`.
pub fn svg_string<F>(width: u32, height: u32, draw: F) -> Result<String, PlotError>
where
    F: FnOnce(&DrawingArea<SVGBackend<'_>, Shift>) -> Result<(), PlotError>,
{
    if width == 0 || height == 0 {
        return Err(PlotError::InvalidSize { width, height });
    }
    let mut out = String::new();
    {
        let area = SVGBackend::with_string(&mut out, (width, height)).into_drawing_area();
        draw(&area)?;
        area.present()?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
