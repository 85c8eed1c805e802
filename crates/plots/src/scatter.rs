//! Scatter chart with point labels, a least-squares line and a correlation note.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};
use serde::{Deserialize, Serialize};

use crate::common::{anchored, data_frame, font, XyChart, NOTE_SIZE};
use crate::util::{least_squares, min_max, text_width, to_axis};
use crate::{Axis, PlotError, Theme};

/// One point of a scatter chart.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ScatterPoint {
    /// x value (e.g. κ at init).
    pub x: f64,
    /// y value (e.g. final loss).
    pub y: f64,
    /// Text written next to the point (e.g. the layer set); `None` for none.
    #[serde(default)]
    pub label: Option<String>,
}

/// What the corner note of a scatter chart says.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum Correlation {
    /// No note.
    #[default]
    None,
    /// Given by the caller (the core's layer-selection study computes them: one copy of the
    /// statistics, in `ntk_lens_core::experiment::correlation`).
    Given {
        /// Pearson r.
        pearson: f64,
        /// Spearman ρ.
        spearman: f64,
        /// Number of pairs.
        n: usize,
    },
}

/// A scatter chart.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ScatterChart {
    /// Title above the plot; empty for none.
    pub title: String,
    /// The x axis.
    pub x: Axis,
    /// The y axis.
    pub y: Axis,
    /// The points; non-finite ones (and non-positive ones on a log axis) are skipped.
    pub points: Vec<ScatterPoint>,
    /// Draw the least-squares line (fitted in axis coordinates, so a straight line as drawn).
    #[serde(default)]
    pub fit_line: bool,
    /// The "Pearson r = …, Spearman ρ = …, n = …" note.
    #[serde(default)]
    pub correlation: Correlation,
}

/// Draws a [`ScatterChart`] on `area`: one circle per drawable point, its label, the fit line
/// (one path) and the correlation note in the emptiest corner.
///
/// In drawing order: the frame, the fit line, the circles, the labels, the note.
pub fn scatter<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    chart: &ScatterChart,
    theme: &Theme,
) -> Result<(), PlotError> {
    let pts = axis_points(chart);
    let extent = (
        min_max(pts.iter().map(|p| p.0)),
        min_max(pts.iter().map(|p| p.1)),
    );
    let empty = chart.points.is_empty();
    let axes = (&chart.x, &chart.y);
    let Some(mut ctx) = data_frame(area, theme, &chart.title, axes, extent, (0.06, 0.08), empty)?
    else {
        return Ok(());
    };
    if chart.fit_line {
        draw_fit_line(&mut ctx, &pts, extent.0.unwrap_or_default(), theme)?;
    }
    draw_points(area, &mut ctx, &pts, theme)?;
    if let Some(text) = correlation_text(&chart.correlation) {
        draw_note(area, &ctx, theme, &text, &pts)?;
    }
    Ok(())
}

/// A drawable point in axis coordinates, with its label.
type AxisPoint<'a> = (f64, f64, Option<&'a str>);

/// The chart's points in axis coordinates ([`to_axis`]), those that cannot be drawn left out.
fn axis_points(chart: &ScatterChart) -> Vec<AxisPoint<'_>> {
    chart
        .points
        .iter()
        .filter_map(|p| {
            Some((
                to_axis(p.x, chart.x.log)?,
                to_axis(p.y, chart.y.log)?,
                p.label.as_deref(),
            ))
        })
        .collect()
}

/// The least-squares line through `pts` (axis coordinates), over the points' x range `xs`
/// and cut to the plot's y range, in the second palette colour; nothing without a fit.
fn draw_fit_line<DB: DrawingBackend>(
    ctx: &mut XyChart<'_, DB>,
    pts: &[AxisPoint<'_>],
    xs: (f64, f64),
    theme: &Theme,
) -> Result<(), PlotError> {
    let x: Vec<f64> = pts.iter().map(|p| p.0).collect();
    let y: Vec<f64> = pts.iter().map(|p| p.1).collect();
    let Some((a, b)) = least_squares(&x, &y) else {
        return Ok(());
    };
    let ys = ctx.plotting_area().get_y_range();
    if let Some(seg) = clip_line(a, b, xs, (ys.start, ys.end)) {
        ctx.draw_series(LineSeries::new(seg, theme.color(1).rgb().stroke_width(2)))?;
    }
    Ok(())
}

/// A filled circle per point in the first palette colour, then each non-empty label right of
/// its point, in the muted colour.
fn draw_points<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    ctx: &mut XyChart<'_, DB>,
    pts: &[AxisPoint<'_>],
    theme: &Theme,
) -> Result<(), PlotError> {
    let point_color = theme.color(0).rgb();
    ctx.draw_series(
        pts.iter()
            .map(|p| Circle::new((p.0, p.1), 4, point_color.filled())),
    )?;
    let label_style = anchored(
        font(theme, NOTE_SIZE, theme.muted),
        HPos::Left,
        VPos::Center,
    );
    for p in pts {
        if let Some(label) = p.2.filter(|l| !l.is_empty()) {
            let (px, py) = ctx.backend_coord(&(p.0, p.1));
            let (bx, by) = area.get_base_pixel();
            area.draw(&Text::new(
                label.to_string(),
                (px - bx + 7, py - by),
                label_style.clone(),
            ))?;
        }
    }
    Ok(())
}

/// The note's text, "Pearson r = …, Spearman ρ = …, n = …" (3 decimals, "n/a" for a
/// coefficient that is not finite); `None` for no note.
fn correlation_text(correlation: &Correlation) -> Option<String> {
    let Correlation::Given {
        pearson,
        spearman,
        n,
    } = correlation
    else {
        return None;
    };
    let num = |v: f64| {
        if v.is_finite() {
            format!("{v:.3}")
        } else {
            "n/a".to_string()
        }
    };
    Some(format!(
        "Pearson r = {}, Spearman ρ = {}, n = {n}",
        num(*pearson),
        num(*spearman)
    ))
}

/// The part of `y = a + b·x` over `x ∈ [x0, x1]` inside `y ∈ [yl, yh]`.
fn clip_line(
    a: f64,
    b: f64,
    (x0, x1): (f64, f64),
    (yl, yh): (f64, f64),
) -> Option<Vec<(f64, f64)>> {
    let (mut lo, mut hi) = (x0, x1);
    if b != 0.0 {
        let (ta, tb) = ((yl - a) / b, (yh - a) / b);
        lo = lo.max(ta.min(tb));
        hi = hi.min(ta.max(tb));
    } else if !(yl..=yh).contains(&a) {
        return None;
    }
    let seg = vec![(lo, a + b * lo), (hi, a + b * hi)];
    (lo < hi && seg.iter().all(|p| p.0.is_finite() && p.1.is_finite())).then_some(seg)
}

/// Writes `text` on a translucent box in the plot corner with the fewest points under it.
fn draw_note<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    ctx: &XyChart<'_, DB>,
    theme: &Theme,
    text: &str,
    pts: &[AxisPoint<'_>],
) -> Result<(), PlotError> {
    let (bx, by) = area.get_base_pixel();
    let (px, py) = ctx.plotting_area().get_pixel_range();
    let (px0, px1, py0, py1) = (px.start - bx, px.end - bx, py.start - by, py.end - by);
    let w = text_width(text, NOTE_SIZE / 1.24) + 12;
    let h = 22;
    let corners = [
        (px0 + 4, py0 + 4),
        (px1 - 4 - w, py0 + 4),
        (px0 + 4, py1 - 4 - h),
        (px1 - 4 - w, py1 - 4 - h),
    ];
    let covered = |(cx, cy): (i32, i32)| {
        pts.iter()
            .filter(|p| {
                let (x, y) = ctx.backend_coord(&(p.0, p.1));
                let (x, y) = (x - bx, y - by);
                x >= cx - 6 && x <= cx + w + 6 && y >= cy - 6 && y <= cy + h + 6
            })
            .count()
    };
    let (cx, cy) = corners
        .iter()
        .copied()
        .min_by_key(|c| covered(*c))
        .unwrap_or(corners[0]);
    area.draw(&Rectangle::new(
        [(cx, cy), (cx + w, cy + h)],
        theme.background.rgb().mix(0.85).filled(),
    ))?;
    let style = anchored(
        font(theme, NOTE_SIZE, theme.foreground),
        HPos::Left,
        VPos::Center,
    );
    area.draw(&Text::new(text.to_string(), (cx + 6, cy + h / 2), style))?;
    Ok(())
}
