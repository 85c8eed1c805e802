//! Bar chart over named categories (per-block trace shares).
//!
//! [`bar_chart`] lays the chart out once (`Bars`: the value range, the number of ticks, the
//! room for the names), sets up the title and value axis the same way for both orientations
//! (`value_axes`, `draw_value_mesh`), then draws the bars, the names and the values; bars and
//! values are placed by `Bars::at`, which turns (category position, value) into plot
//! coordinates for the orientation drawn.

use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};
use plotters::style::FontTransform;
use serde::{Deserialize, Serialize};

use crate::common::{anchored, font, no_data, DESC_SIZE, NOTE_SIZE, TICK_SIZE, TITLE_SIZE};
use crate::util::{format_sig, key_points, min_max, text_width, tick_formatter, truncate};
use crate::{PlotError, Theme};

/// Which way the bars point.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Orientation {
    /// Bars grow to the right, categories listed top to bottom (good for long names).
    #[default]
    Horizontal,
    /// Bars grow upwards, categories left to right.
    Vertical,
}

/// A bar chart: one bar per category.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct BarChart {
    /// Title above the plot; empty for none.
    pub title: String,
    /// Label of the value axis (with units); empty for none.
    pub value_label: String,
    /// Category names (e.g. `"layer 3 · value"`), in drawing order.
    pub categories: Vec<String>,
    /// One value per category; a missing or non-finite value draws no bar and says "n/a".
    pub values: Vec<f64>,
    /// Bar direction.
    #[serde(default)]
    pub orientation: Orientation,
    /// Values are fractions shown as percentages (0.25 → "25%").
    #[serde(default)]
    pub percent: bool,
    /// Write each value at the end of its bar.
    #[serde(default)]
    pub show_values: bool,
}

/// Draws a [`BarChart`] on `area`: one filled rectangle per finite value.
///
/// In drawing order: the background, the title with the value axis (its ticks, grid lines and
/// label; the same set-up for both orientations), the bars, then for each category its name and,
/// when asked for or missing, its value.
pub fn bar_chart<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    chart: &BarChart,
    theme: &Theme,
) -> Result<(), PlotError> {
    let n = chart.len();
    let scale = chart.scale();
    let scaled = (0..n)
        .filter_map(|i| chart.value(i))
        .map(|v| (v * scale).clamp(-1e300, 1e300));
    let Some(extent) = min_max(scaled) else {
        let reason = if n == 0 { "" } else { "no finite values" };
        return no_data(area, theme, &chart.title, reason);
    };
    area.fill(&theme.background.rgb())?;
    let bars = Bars::new(chart, area.dim_in_pixel(), extent);
    let mut plot = value_axes(area, &bars, theme)?;
    draw_bars(&mut plot, &bars, theme)?;
    for i in 0..n {
        draw_name(area, &plot, &bars, i, theme)?;
        if chart.show_values || chart.value(i).is_none() {
            draw_value(area, &plot, &bars, i, theme)?;
        }
    }
    Ok(())
}

impl BarChart {
    /// Number of categories: of names or values, whichever are more.
    fn len(&self) -> usize {
        self.categories.len().max(self.values.len())
    }

    /// 100 for percentages, else 1: values are multiplied by it before they are drawn.
    fn scale(&self) -> f64 {
        if self.percent {
            100.0
        } else {
            1.0
        }
    }

    /// Category `i`'s value, `None` when missing or not finite.
    fn value(&self, i: usize) -> Option<f64> {
        self.values.get(i).copied().filter(|v| v.is_finite())
    }

    /// Category `i`'s name (empty when missing).
    fn name(&self, i: usize) -> &str {
        self.categories.get(i).map(String::as_str).unwrap_or("")
    }
}

/// A bar chart laid out on an area, in the orientation drawn.
struct Bars<'c> {
    chart: &'c BarChart,
    /// Number of categories ([`BarChart::len`]).
    n: usize,
    /// Bars grow to the right (categories from the top down).
    horizontal: bool,
    /// [`BarChart::scale`].
    scale: f64,
    /// The value axis' range ([`value_range`]), scaled.
    lo: f64,
    hi: f64,
    /// About how many ticks the value axis has: one per 80 pixels of it, 2 to 8.
    hint: usize,
    /// Room for the category names across the plot's edge, in pixels: the widest name (at most
    /// 35% of the width beside horizontal bars, 30% of the height below vertical ones) + 12.
    name_area: i32,
    /// Room for the value axis' label, in pixels (0 without one).
    desc_room: i32,
    /// Vertical bars whose names do not all fit under their slots: the names are turned upright.
    rotate: bool,
}

impl<'c> Bars<'c> {
    /// The layout of `chart` on an area of `(w, h)` pixels, for scaled values spanning `extent`.
    fn new(chart: &'c BarChart, (w, h): (u32, u32), extent: (f64, f64)) -> Bars<'c> {
        let (w, h) = (w as i32, h as i32);
        let n = chart.len();
        let horizontal = chart.orientation == Orientation::Horizontal;
        let (lo, hi) = value_range(extent, chart.show_values);
        let name_px = |i: usize| text_width(chart.name(i), TICK_SIZE / 1.24);
        let widest = (0..n).map(name_px).max().unwrap_or(0);
        let max_name_px = if horizontal {
            w * 35 / 100
        } else {
            h * 30 / 100
        };
        let slot = (w - 90) / (n as i32).max(1);
        Bars {
            chart,
            n,
            horizontal,
            scale: chart.scale(),
            lo,
            hi,
            hint: ((if horizontal { w } else { h }) as usize / 80).clamp(2, 8),
            name_area: widest.min(max_name_px) + 12,
            desc_room: if chart.value_label.is_empty() { 0 } else { 26 },
            rotate: !horizontal && (0..n).any(|i| name_px(i) > slot - 4),
        }
    }

    /// The plot coordinates `(x, y)` of category position `c` and value `v`.
    fn at(&self, c: f64, v: f64) -> (f64, f64) {
        if self.horizontal {
            (v, c)
        } else {
            (c, v)
        }
    }

    /// `"%"` for percentages, else nothing.
    fn unit(&self) -> &'static str {
        if self.chart.percent {
            "%"
        } else {
            ""
        }
    }

    /// A value's label at the end of its bar: 3 significant digits, scaled, with the unit.
    fn value_text(&self, v: f64) -> String {
        format!("{}{}", format_sig(v * self.scale, 3), self.unit())
    }

    /// The value axis' tick labels, with the unit.
    fn tick_format(&self) -> impl Fn(&f64) -> String {
        let fmt = tick_formatter(self.lo, self.hi, self.hint, false);
        let unit = self.unit();
        move |v: &f64| format!("{}{unit}", fmt(v))
    }
}

/// The value axis' range over the scaled values' `(min, max)`: always including 0, widened when
/// it is (nearly) a single value, and padded on each side away from 0 that has bars, by 16% of
/// the span with room for the value labels, else by 4%.
fn value_range((vmin, vmax): (f64, f64), show_values: bool) -> (f64, f64) {
    let (mut lo, mut hi) = (vmin.min(0.0), vmax.max(0.0));
    if hi - lo <= hi.abs().max(lo.abs()) * 1e-12 || hi - lo < 1e-300 {
        hi = if hi == 0.0 { 1.0 } else { hi.abs() * 1.1 };
        lo = lo.min(0.0);
    }
    let pad = (hi - lo) * if show_values { 0.16 } else { 0.04 };
    if hi > 0.0 {
        hi += pad;
    }
    if lo < 0.0 {
        lo -= pad;
    }
    (lo, hi)
}

/// A bar chart's plot: (value, category position) for horizontal bars, categories from the top
/// down; (category position, value) for vertical ones. Category `i` is the slot `[i, i + 1]`.
type BarPlot<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// The title and the plot with its value axis ([`draw_value_mesh`]), in either orientation:
/// the value axis below horizontal bars and left of vertical ones, the names' room
/// ([`label_areas`]) across the other edge.
fn value_axes<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    bars: &Bars<'_>,
    theme: &Theme,
) -> Result<BarPlot<'a, DB>, PlotError> {
    let fmt = bars.tick_format();
    let (value_area, name_area) = label_areas(bars, &fmt);
    let mut builder = ChartBuilder::on(area);
    builder.margin(10).margin_right(20);
    if !bars.chart.title.is_empty() {
        builder.caption(&bars.chart.title, font(theme, TITLE_SIZE, theme.foreground));
    }
    let (values, nf) = (bars.lo..bars.hi, bars.n as f64);
    let mut plot = if bars.horizontal {
        builder
            .x_label_area_size(value_area)
            .y_label_area_size(name_area)
            .build_cartesian_2d(values, nf..0.0)?
    } else {
        builder
            .x_label_area_size(name_area)
            .y_label_area_size(value_area)
            .build_cartesian_2d(0.0..nf, values)?
    };
    draw_value_mesh(&mut plot, bars, &fmt, theme)?;
    Ok(plot)
}

/// The label areas' sizes in pixels, `(value axis, category axis)`. The value axis has 30
/// pixels of tick labels below horizontal bars, the widest tick label + 14 left of vertical
/// ones, each + the axis label's room; the category axis has the names' room beside horizontal
/// bars, and below vertical ones the names' room when turned upright, else 30, + the value
/// axis label's room.
fn label_areas(bars: &Bars<'_>, fmt: &dyn Fn(&f64) -> String) -> (i32, i32) {
    if bars.horizontal {
        return (30 + bars.desc_room, bars.name_area);
    }
    let widest_tick = key_points(bars.lo, bars.hi, bars.hint)
        .iter()
        .map(|v| text_width(&fmt(v), TICK_SIZE / 1.24))
        .max()
        .unwrap_or(20);
    let names = if bars.rotate { bars.name_area } else { 30 };
    (widest_tick + 14 + bars.desc_room, names + bars.desc_room)
}

/// The value axis: about [`Bars::hint`] ticks labelled by `fmt`, grid lines across the plot,
/// and the axis label; none on the category axis (the names are written by [`draw_name`]).
fn draw_value_mesh<DB: DrawingBackend>(
    plot: &mut BarPlot<'_, DB>,
    bars: &Bars<'_>,
    fmt: &dyn Fn(&f64) -> String,
    theme: &Theme,
) -> Result<(), PlotError> {
    let mut mesh = plot.configure_mesh();
    if bars.horizontal {
        mesh.disable_y_mesh()
            .y_labels(0)
            .x_labels(bars.hint)
            .x_label_formatter(fmt);
    } else {
        mesh.disable_x_mesh()
            .x_labels(0)
            .y_labels(bars.hint)
            .y_label_formatter(fmt);
    }
    mesh.label_style(font(theme, TICK_SIZE, theme.foreground))
        .axis_desc_style(font(theme, DESC_SIZE, theme.foreground))
        .axis_style(theme.muted.rgb())
        .bold_line_style(theme.grid.rgb())
        .light_line_style(theme.grid.blend(theme.background, 0.6).rgb());
    let label = &bars.chart.value_label;
    if !label.is_empty() {
        if bars.horizontal {
            mesh.x_desc(label);
        } else {
            mesh.y_desc(label);
        }
    }
    mesh.draw()?;
    Ok(())
}

/// One filled rectangle per finite value, from 0 to the value, across the middle 70% of its
/// category's slot.
fn draw_bars<DB: DrawingBackend>(
    plot: &mut BarPlot<'_, DB>,
    bars: &Bars<'_>,
    theme: &Theme,
) -> Result<(), PlotError> {
    let color = theme.color(0).rgb();
    plot.draw_series((0..bars.n).filter_map(|i| {
        let v = bars.chart.value(i)?.clamp(-1e300, 1e300) * bars.scale;
        let c = i as f64;
        Some(Rectangle::new(
            [bars.at(c + 0.15, 0.0), bars.at(c + 0.85, v)],
            color.filled(),
        ))
    }))?;
    Ok(())
}

/// How many characters of a name fit in `px` pixels (estimated widths).
fn chars_for(px: i32) -> usize {
    ((px as f64) / (TICK_SIZE / 1.24 * 0.5)).floor().max(1.0) as usize
}

/// Category `i`'s name beside its slot: left of the plot, right-aligned and cut to the names'
/// room, for horizontal bars; below the plot for vertical ones, centred, or turned upright and
/// cut when [`Bars::rotate`].
fn draw_name<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    plot: &BarPlot<'_, DB>,
    bars: &Bars<'_>,
    i: usize,
    theme: &Theme,
) -> Result<(), PlotError> {
    let label = font(theme, TICK_SIZE, theme.foreground);
    let (bx, by) = area.get_base_pixel();
    let (px, py) = plot.plotting_area().get_pixel_range();
    let (cx, cy) = plot.backend_coord(&bars.at(i as f64 + 0.5, 0.0));
    let name = bars.chart.name(i);
    let cut = || truncate(name, chars_for(bars.name_area - 12));
    let below = (cx - bx, py.end - by + 6);
    let (text, at, style) = if bars.horizontal {
        let style = anchored(label, HPos::Right, VPos::Center);
        (cut(), (px.start - bx - 6, cy - by), style)
    } else if bars.rotate {
        let style = anchored(label, HPos::Left, VPos::Center).transform(FontTransform::Rotate90);
        (cut(), below, style)
    } else {
        let style = anchored(label, HPos::Center, VPos::Top);
        (name.to_string(), below, style)
    };
    area.draw(&Text::new(text, at, style))?;
    Ok(())
}

/// Category `i`'s value in the muted colour, just past its bar's end away from 0 (clamped to
/// the plot), or "n/a" at 0 when it has none.
fn draw_value<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    plot: &BarPlot<'_, DB>,
    bars: &Bars<'_>,
    i: usize,
    theme: &Theme,
) -> Result<(), PlotError> {
    let (text, at, negative) = match bars.chart.value(i) {
        Some(v) => (
            bars.value_text(v),
            (v * bars.scale).clamp(bars.lo, bars.hi),
            v < 0.0,
        ),
        None => ("n/a".to_string(), 0.0, false),
    };
    let (bx, by) = area.get_base_pixel();
    let (x, y) = plot.backend_coord(&bars.at(i as f64 + 0.5, at));
    let ((dx, dy), hpos, vpos) = match (bars.horizontal, negative) {
        (true, true) => ((-4, 0), HPos::Right, VPos::Center),
        (true, false) => ((4, 0), HPos::Left, VPos::Center),
        (false, true) => ((0, 4), HPos::Center, VPos::Top),
        (false, false) => ((0, -4), HPos::Center, VPos::Bottom),
    };
    let style = anchored(font(theme, NOTE_SIZE, theme.muted), hpos, vpos);
    area.draw(&Text::new(text, (x - bx + dx, y - by + dy), style))?;
    Ok(())
}
