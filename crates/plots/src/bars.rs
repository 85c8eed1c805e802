//! Bar chart over named categories (per-block trace shares).

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
pub fn bar_chart<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    chart: &BarChart,
    theme: &Theme,
) -> Result<(), PlotError> {
    let n = chart.categories.len().max(chart.values.len());
    let value = |i: usize| chart.values.get(i).copied().filter(|v| v.is_finite());
    let name = |i: usize| chart.categories.get(i).map(String::as_str).unwrap_or("");
    let scale = if chart.percent { 100.0 } else { 1.0 };
    let Some((vmin, vmax)) = min_max(
        (0..n)
            .filter_map(value)
            .map(|v| (v * scale).clamp(-1e300, 1e300)),
    ) else {
        let reason = if n == 0 { "" } else { "no finite values" };
        return no_data(area, theme, &chart.title, reason);
    };
    area.fill(&theme.background.rgb())?;
    let (w, h) = area.dim_in_pixel();
    let (w, h) = (w as i32, h as i32);
    let horizontal = chart.orientation == Orientation::Horizontal;

    // Value range: always includes 0, room for the value labels on the outer side.
    let (mut lo, mut hi) = (vmin.min(0.0), vmax.max(0.0));
    if hi - lo <= hi.abs().max(lo.abs()) * 1e-12 || hi - lo < 1e-300 {
        hi = if hi == 0.0 { 1.0 } else { hi.abs() * 1.1 };
        lo = lo.min(0.0);
    }
    let pad = (hi - lo) * if chart.show_values { 0.16 } else { 0.04 };
    if hi > 0.0 {
        hi += pad;
    }
    if lo < 0.0 {
        lo -= pad;
    }
    let unit = if chart.percent { "%" } else { "" };
    let value_text = |v: f64| format!("{}{unit}", format_sig(v * scale, 3));

    // Category label room.
    let names: Vec<&str> = (0..n).map(name).collect();
    let name_px = |s: &str| text_width(s, TICK_SIZE / 1.24);
    let widest = names.iter().map(|s| name_px(s)).max().unwrap_or(0);
    let max_name_px = if horizontal {
        w * 35 / 100
    } else {
        h * 30 / 100
    };
    let name_area = widest.min(max_name_px) + 12;
    let desc_room = if chart.value_label.is_empty() { 0 } else { 26 };

    let value_hint = ((if horizontal { w } else { h }) as usize / 80).clamp(2, 8);
    let fmt = tick_formatter(lo, hi, value_hint, false);
    let fmt = move |v: &f64| format!("{}{unit}", fmt(v));

    let mut builder = ChartBuilder::on(area);
    builder.margin(10).margin_right(20);
    if !chart.title.is_empty() {
        builder.caption(&chart.title, font(theme, TITLE_SIZE, theme.foreground));
    }
    let label = font(theme, TICK_SIZE, theme.foreground);
    let desc = font(theme, DESC_SIZE, theme.foreground);
    let bar_color = theme.color(0).rgb();
    let (bx, by) = area.get_base_pixel();
    let nf = n as f64;
    // Name labels longer than the room are cut (estimated widths).
    let chars_for = |px: i32| ((px as f64) / (TICK_SIZE / 1.24 * 0.5)).floor().max(1.0) as usize;

    if horizontal {
        builder
            .x_label_area_size(30 + desc_room)
            .y_label_area_size(name_area);
        let mut ctx = builder.build_cartesian_2d(lo..hi, nf..0.0)?;
        let mut mesh = ctx.configure_mesh();
        mesh.disable_y_mesh()
            .y_labels(0)
            .x_labels(value_hint)
            .x_label_formatter(&fmt)
            .label_style(label.clone())
            .axis_desc_style(desc)
            .axis_style(theme.muted.rgb())
            .bold_line_style(theme.grid.rgb())
            .light_line_style(theme.grid.blend(theme.background, 0.6).rgb());
        if !chart.value_label.is_empty() {
            mesh.x_desc(&chart.value_label);
        }
        mesh.draw()?;
        ctx.draw_series((0..n).filter_map(|i| {
            let v = value(i)?.clamp(-1e300, 1e300) * scale;
            let y = i as f64;
            Some(Rectangle::new(
                [(0.0, y + 0.15), (v, y + 0.85)],
                bar_color.filled(),
            ))
        }))?;
        let (px, _) = ctx.plotting_area().get_pixel_range();
        let name_style = anchored(label.clone(), HPos::Right, VPos::Center);
        for (i, nm) in names.iter().enumerate() {
            let (_, cy) = ctx.backend_coord(&(0.0, i as f64 + 0.5));
            let text = truncate(nm, chars_for(name_area - 12));
            area.draw(&Text::new(
                text,
                (px.start - bx - 6, cy - by),
                name_style.clone(),
            ))?;
            if chart.show_values || value(i).is_none() {
                let (text, at, right) = match value(i) {
                    Some(v) => (value_text(v), (v * scale).clamp(lo, hi), v < 0.0),
                    None => ("n/a".to_string(), 0.0, false),
                };
                let (x, y) = ctx.backend_coord(&(at, i as f64 + 0.5));
                let (dx, hpos) = if right {
                    (-4, HPos::Right)
                } else {
                    (4, HPos::Left)
                };
                let style = anchored(font(theme, NOTE_SIZE, theme.muted), hpos, VPos::Center);
                area.draw(&Text::new(text, (x - bx + dx, y - by), style))?;
            }
        }
    } else {
        let slot = (w - 90) / (n as i32).max(1);
        let rotate = names.iter().any(|s| name_px(s) > slot - 4);
        let bottom = if rotate { name_area } else { 30 } + desc_room;
        let widest_tick = key_points(lo, hi, value_hint)
            .iter()
            .map(|v| text_width(&fmt(v), TICK_SIZE / 1.24))
            .max()
            .unwrap_or(20);
        builder
            .x_label_area_size(bottom)
            .y_label_area_size(widest_tick + 14 + desc_room);
        let mut ctx = builder.build_cartesian_2d(0.0..nf, lo..hi)?;
        let mut mesh = ctx.configure_mesh();
        mesh.disable_x_mesh()
            .x_labels(0)
            .y_labels(value_hint)
            .y_label_formatter(&fmt)
            .label_style(label.clone())
            .axis_desc_style(desc)
            .axis_style(theme.muted.rgb())
            .bold_line_style(theme.grid.rgb())
            .light_line_style(theme.grid.blend(theme.background, 0.6).rgb());
        if !chart.value_label.is_empty() {
            mesh.y_desc(&chart.value_label);
        }
        mesh.draw()?;
        ctx.draw_series((0..n).filter_map(|i| {
            let v = value(i)?.clamp(-1e300, 1e300) * scale;
            let x = i as f64;
            Some(Rectangle::new(
                [(x + 0.15, 0.0), (x + 0.85, v)],
                bar_color.filled(),
            ))
        }))?;
        let (_, py) = ctx.plotting_area().get_pixel_range();
        for (i, nm) in names.iter().enumerate() {
            let (cx, _) = ctx.backend_coord(&(i as f64 + 0.5, 0.0));
            let (text, style) = if rotate {
                (
                    truncate(nm, chars_for(name_area - 12)),
                    anchored(label.clone(), HPos::Left, VPos::Center)
                        .transform(FontTransform::Rotate90),
                )
            } else {
                (
                    nm.to_string(),
                    anchored(label.clone(), HPos::Center, VPos::Top),
                )
            };
            area.draw(&Text::new(text, (cx - bx, py.end - by + 6), style))?;
            if chart.show_values || value(i).is_none() {
                let (text, at, below) = match value(i) {
                    Some(v) => (value_text(v), (v * scale).clamp(lo, hi), v < 0.0),
                    None => ("n/a".to_string(), 0.0, false),
                };
                let (x, y) = ctx.backend_coord(&(i as f64 + 0.5, at));
                let (dy, vpos) = if below {
                    (4, VPos::Top)
                } else {
                    (-4, VPos::Bottom)
                };
                let style = anchored(font(theme, NOTE_SIZE, theme.muted), HPos::Center, vpos);
                area.draw(&Text::new(text, (x - bx, y - by + dy), style))?;
            }
        }
    }
    Ok(())
}
