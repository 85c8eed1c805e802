//! Line chart: several named series, optional log axes, dashed series, legend.

use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use serde::{Deserialize, Serialize};

use crate::common::{data_frame, font, NOTE_SIZE};
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
    // Axis coordinates, split into runs at skipped points.
    let runs: Vec<Vec<Vec<(f64, f64)>>> = chart
        .series
        .iter()
        .map(|s| {
            let mut runs = vec![];
            let mut cur: Vec<(f64, f64)> = vec![];
            for &(x, y) in &s.points {
                match (to_axis(x, chart.x.log), to_axis(y, chart.y.log)) {
                    (Some(x), Some(y)) => cur.push((x, y)),
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
        })
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
        let style = color.stroke_width(2);
        for (k, run) in runs.iter().enumerate() {
            let first = k == 0 && !s.name.is_empty();
            if run.len() >= 2 && !s.points_only {
                if s.dashed {
                    let anno =
                        ctx.draw_series(DashedLineSeries::new(run.iter().copied(), 7, 5, style))?;
                    if first {
                        anno.label(s.name.clone()).legend(move |(x, y)| {
                            DashedPathElement::new(vec![(x, y), (x + 22, y)], 5, 3, style)
                        });
                        labelled = true;
                    }
                } else {
                    let anno = ctx.draw_series(LineSeries::new(run.iter().copied(), style))?;
                    if first {
                        anno.label(s.name.clone()).legend(move |(x, y)| {
                            PathElement::new(vec![(x, y), (x + 22, y)], style)
                        });
                        labelled = true;
                    }
                }
            }
            if s.markers || s.points_only || run.len() == 1 {
                let anno =
                    ctx.draw_series(run.iter().map(|&p| Circle::new(p, 3, color.filled())))?;
                if first && (run.len() == 1 || s.points_only) {
                    anno.label(s.name.clone())
                        .legend(move |(x, y)| Circle::new((x + 11, y), 3, color.filled()));
                    labelled = true;
                }
            }
        }
    }

    let position = match chart.legend {
        LegendPosition::UpperRight => Some(SeriesLabelPosition::UpperRight),
        LegendPosition::UpperLeft => Some(SeriesLabelPosition::UpperLeft),
        LegendPosition::LowerRight => Some(SeriesLabelPosition::LowerRight),
        LegendPosition::LowerLeft => Some(SeriesLabelPosition::LowerLeft),
        LegendPosition::None => None,
    };
    if let (true, Some(position)) = (labelled, position) {
        ctx.configure_series_labels()
            .position(position)
            .legend_area_size(30)
            .background_style(theme.background.rgb().mix(0.85))
            .border_style(theme.grid.rgb())
            .label_font(font(theme, NOTE_SIZE, theme.foreground))
            .draw()?;
    }
    Ok(())
}
