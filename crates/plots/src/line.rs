//! Line chart: several named series, optional log axes, dashed series, legend.

use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use serde::{Deserialize, Serialize};

use crate::common::{data_frame, font, XyChart, NOTE_SIZE};
use crate::util::{min_max, to_axis};
use crate::{Axis, PlotError, Theme};

/// One named series of (x, y) points, drawn in the order given.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Series {
    /// Legend entry; empty for none.
    pub name: String,
    /// The points; non-finite ones (and non-positive ones on a log axis) are skipped and the line
    /// is broken there.
    pub points: Vec<(f64, f64)>,
    /// Dashed line (for bounds and reference curves).
    #[serde(default)]
    pub dashed: bool,
    /// Draw a dot at each point (always done for isolated points).
    #[serde(default)]
    pub markers: bool,
    /// Dots only, no line (for values that are not a curve, e.g. one per eigen-direction).
    #[serde(default)]
    pub points_only: bool,
    /// Palette index of the colour; `None` uses the series' position. Give two series the same
    /// index to pair them (e.g. actual and linearized loss for one λ, one solid, one dashed).
    #[serde(default)]
    pub color: Option<usize>,
}

impl Series {
    /// A solid series without markers, coloured by its position.
    pub fn new(name: impl Into<String>, points: Vec<(f64, f64)>) -> Series {
        Series {
            name: name.into(),
            points,
            ..Default::default()
        }
    }

    /// The series from y values at x = 0, 1, 2, … (e.g. an eigenvalue spectrum).
    pub fn from_values(name: impl Into<String>, values: &[f64]) -> Series {
        Series::new(
            name,
            values
                .iter()
                .enumerate()
                .map(|(i, v)| (i as f64, *v))
                .collect(),
        )
    }

    /// Dashed.
    pub fn dashed(mut self) -> Series {
        self.dashed = true;
        self
    }

    /// With a dot at each point.
    pub fn with_markers(mut self) -> Series {
        self.markers = true;
        self
    }

    /// Dots only, no line.
    pub fn points_only(mut self) -> Series {
        self.points_only = true;
        self
    }

    /// With palette colour `index`.
    pub fn with_color(mut self, index: usize) -> Series {
        self.color = Some(index);
        self
    }
}

/// Where the legend goes (inside the plot).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LegendPosition {
    /// Top right corner.
    #[default]
    UpperRight,
    /// Top left corner.
    UpperLeft,
    /// Bottom right corner.
    LowerRight,
    /// Bottom left corner.
    LowerLeft,
    /// No legend.
    None,
}

/// A line chart. Also the Weyl-bounds view: eigenvalues of K_S and K_S + K_l as solid series,
/// the lower and upper bounds as dashed ones.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LineChart {
    /// Title above the plot; empty for none.
    pub title: String,
    /// The x axis (label with units, log or not).
    pub x: Axis,
    /// The y axis.
    pub y: Axis,
    /// The series, drawn in order (later ones on top).
    pub series: Vec<Series>,
    /// Legend placement.
    #[serde(default)]
    pub legend: LegendPosition,
}

/// Draws a [`LineChart`] on `area`. Each run of consecutive drawable points of a series is one
/// path (one `<polyline>` in SVG when solid); a series without drawable points is left out of
/// the plot and the legend; a chart without any says "no data".
pub fn line_chart<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    chart: &LineChart,
    theme: &Theme,
) -> Result<(), PlotError> {
    let runs: Vec<Vec<Run>> = chart
        .series
        .iter()
        .map(|s| runs(s, &chart.x, &chart.y))
        .collect();
    let all = || runs.iter().flatten().flatten();
    let extent = (min_max(all().map(|p| p.0)), min_max(all().map(|p| p.1)));
    let empty = chart.series.iter().all(|s| s.points.is_empty());
    let axes = (&chart.x, &chart.y);
    let Some(mut ctx) = data_frame(area, theme, &chart.title, axes, extent, (0.02, 0.05), empty)?
    else {
        return Ok(());
    };

    let mut labelled = false;
    for (i, (s, runs)) in chart.series.iter().zip(&runs).enumerate() {
        let color = theme.color(s.color.unwrap_or(i)).rgb();
        for (k, run) in runs.iter().enumerate() {
            let first = k == 0 && !s.name.is_empty();
            labelled |= draw_run(&mut ctx, s, run, color, first)?;
        }
    }
    if labelled {
        draw_legend(&mut ctx, chart.legend, theme)?;
    }
    Ok(())
}

/// Consecutive drawable points of a series, in axis coordinates.
type Run = Vec<(f64, f64)>;

/// The series' points in axis coordinates ([`to_axis`] on the axes `x`, `y`), split into runs
/// at the points that cannot be drawn (which are left out).
fn runs(series: &Series, x: &Axis, y: &Axis) -> Vec<Run> {
    let mut runs = vec![];
    let mut cur: Run = vec![];
    for &(px, py) in &series.points {
        match (to_axis(px, x.log), to_axis(py, y.log)) {
            (Some(px), Some(py)) => cur.push((px, py)),
            _ => {
                if !cur.is_empty() {
                    runs.push(std::mem::take(&mut cur));
                }
            }
        }
    }
    if !cur.is_empty() {
        runs.push(cur);
    }
    runs
}

/// Draws one run of series `s` in `color`: its path, solid or dashed (not for dots only, nor
/// for a single point), then its dots (with markers, dots only, or a single point). The
/// series' first run (`first`, when it has a name) makes its legend entry: a line sample with
/// the path, or a dot with the dots of a dots-only series or a single point. Returns whether
/// it made one.
fn draw_run<DB: DrawingBackend>(
    ctx: &mut XyChart<'_, DB>,
    s: &Series,
    run: &[(f64, f64)],
    color: RGBColor,
    first: bool,
) -> Result<bool, PlotError> {
    let style = color.stroke_width(2);
    let mut labelled = false;
    if run.len() >= 2 && !s.points_only {
        if s.dashed {
            let anno = ctx.draw_series(DashedLineSeries::new(run.iter().copied(), 7, 5, style))?;
            if first {
                anno.label(s.name.clone()).legend(move |(x, y)| {
                    DashedPathElement::new(vec![(x, y), (x + 22, y)], 5, 3, style)
                });
                labelled = true;
            }
        } else {
            let anno = ctx.draw_series(LineSeries::new(run.iter().copied(), style))?;
            if first {
                anno.label(s.name.clone())
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 22, y)], style));
                labelled = true;
            }
        }
    }
    if s.markers || s.points_only || run.len() == 1 {
        let anno = ctx.draw_series(run.iter().map(|&p| Circle::new(p, 3, color.filled())))?;
        if first && (run.len() == 1 || s.points_only) {
            anno.label(s.name.clone())
                .legend(move |(x, y)| Circle::new((x + 11, y), 3, color.filled()));
            labelled = true;
        }
    }
    Ok(labelled)
}

/// The legend in the plot corner `position` asks for (none for [`LegendPosition::None`]), on
/// a translucent box.
fn draw_legend<'a, DB: DrawingBackend + 'a>(
    ctx: &mut XyChart<'a, DB>,
    position: LegendPosition,
    theme: &Theme,
) -> Result<(), PlotError> {
    let position = match position {
        LegendPosition::UpperRight => SeriesLabelPosition::UpperRight,
        LegendPosition::UpperLeft => SeriesLabelPosition::UpperLeft,
        LegendPosition::LowerRight => SeriesLabelPosition::LowerRight,
        LegendPosition::LowerLeft => SeriesLabelPosition::LowerLeft,
        LegendPosition::None => return Ok(()),
    };
    ctx.configure_series_labels()
        .position(position)
        .legend_area_size(30)
        .background_style(theme.background.rgb().mix(0.85))
        .border_style(theme.grid.rgb())
        .label_font(font(theme, NOTE_SIZE, theme.foreground))
        .draw()?;
    Ok(())
}
