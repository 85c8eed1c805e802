//! Pieces shared by the charts: fonts, the "no data" panel and the x/y frame.

use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::theme::{Rgb, Theme};
use crate::util::{padded_range, text_width, ticks};
use crate::{Axis, PlotError};

/// Plotters font sizes (the SVG backend writes `size / 1.24` px, the canvas `size` px).
pub(crate) const TITLE_SIZE: f64 = 22.0;
pub(crate) const DESC_SIZE: f64 = 17.0;
pub(crate) const TICK_SIZE: f64 = 15.0;
pub(crate) const NOTE_SIZE: f64 = 15.0;

/// The text shown where a chart has nothing to draw.
pub const NO_DATA: &str = "no data";

pub(crate) fn font(theme: &Theme, size: f64, color: Rgb) -> TextStyle<'_> {
    (theme.font_family.as_str(), size)
        .into_font()
        .color(&color.rgb())
}

pub(crate) fn anchored(style: TextStyle<'_>, h: HPos, v: VPos) -> TextStyle<'_> {
    style.pos(Pos::new(h, v))
}

/// Fills the area and writes the title (if any) and "no data" (with a reason) in its middle.
pub(crate) fn no_data<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    theme: &Theme,
    title: &str,
    reason: &str,
) -> Result<(), PlotError> {
    area.fill(&theme.background.rgb())?;
    let (w, h) = area.dim_in_pixel();
    let (cx, cy) = ((w / 2) as i32, (h / 2) as i32);
    if !title.is_empty() {
        let style = anchored(
            font(theme, TITLE_SIZE, theme.foreground),
            HPos::Center,
            VPos::Top,
        );
        area.draw(&Text::new(title.to_string(), (cx, 10), style))?;
    }
    let style = anchored(
        font(theme, DESC_SIZE, theme.muted),
        HPos::Center,
        VPos::Center,
    );
    area.draw(&Text::new(NO_DATA.to_string(), (cx, cy), style))?;
    if !reason.is_empty() {
        let style = anchored(font(theme, NOTE_SIZE, theme.muted), HPos::Center, VPos::Top);
        area.draw(&Text::new(format!("({reason})"), (cx, cy + 14), style))?;
    }
    Ok(())
}

/// One axis of an x/y chart in axis coordinates (log10 of the value on a log axis).
pub(crate) struct Frame<'s> {
    pub lo: f64,
    pub hi: f64,
    pub log: bool,
    pub label: &'s str,
}

/// A linear f64 axis with the ticks of [`ticks`] (plotters' `WithKeyPoints` over f64 lacks the
/// value formatter that `configure_mesh` asks for, hence this small coordinate).
pub(crate) struct TickedAxis {
    inner: RangedCoordf64,
    bold: Vec<f64>,
    light: Vec<f64>,
}

impl TickedAxis {
    fn new(lo: f64, hi: f64, t: &crate::util::Ticks) -> TickedAxis {
        TickedAxis {
            inner: (lo..hi).into(),
            bold: t.bold.clone(),
            light: t.light.clone(),
        }
    }
}

impl Ranged for TickedAxis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        self.inner.map(value, limit)
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            self.light.clone()
        } else {
            self.bold.clone()
        }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.inner.range()
    }
}

pub(crate) type XyChart<'a, DB> = ChartContext<'a, DB, Cartesian2d<TickedAxis, TickedAxis>>;

/// Builds the title, axes, grid, tick labels and axis descriptions of an x/y chart.
pub(crate) fn xy_frame<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, plotters::coord::Shift>,
    theme: &Theme,
    title: &str,
    x: &Frame<'_>,
    y: &Frame<'_>,
) -> Result<XyChart<'a, DB>, PlotError> {
    let (w, h) = area.dim_in_pixel();
    let x_hint = (w as usize / 90).clamp(2, 10);
    let y_hint = (h as usize / 60).clamp(2, 10);
    let tx = ticks(x.lo, x.hi, x_hint, x.log);
    let ty = ticks(y.lo, y.hi, y_hint, y.log);
    let fx = |v: &f64| tx.label(*v);
    let fy = |v: &f64| ty.label(*v);
    let widest = ty
        .bold
        .iter()
        .map(|v| text_width(&fy(v), TICK_SIZE / 1.24))
        .max()
        .unwrap_or(20);
    let desc_room = if y.label.is_empty() { 0 } else { 26 };
    let y_area = (widest + desc_room + 14).clamp(30, (w as i32 / 3).max(30));
    let x_area = if x.label.is_empty() { 30 } else { 52 };

    let mut builder = ChartBuilder::on(area);
    builder
        .margin(10)
        .margin_right(20)
        .x_label_area_size(x_area)
        .y_label_area_size(y_area);
    if !title.is_empty() {
        builder.caption(title, font(theme, TITLE_SIZE, theme.foreground));
    }
    let mut chart = builder.build_cartesian_2d(
        TickedAxis::new(x.lo, x.hi, &tx),
        TickedAxis::new(y.lo, y.hi, &ty),
    )?;
    let mut mesh = chart.configure_mesh();
    mesh.x_labels(x_hint)
        .y_labels(y_hint)
        .x_label_formatter(&fx)
        .y_label_formatter(&fy)
        .label_style(font(theme, TICK_SIZE, theme.foreground))
        .axis_desc_style(font(theme, DESC_SIZE, theme.foreground))
        .axis_style(theme.muted.rgb())
        .bold_line_style(theme.grid.rgb())
        .light_line_style(theme.grid.blend(theme.background, 0.6).rgb());
    if !x.label.is_empty() {
        mesh.x_desc(x.label);
    }
    if !y.label.is_empty() {
        mesh.y_desc(y.label);
    }
    mesh.draw()?;
    Ok(chart)
}

/// A data range `(min, max)`, `None` when there is no finite value to show.
pub(crate) type Extent = Option<(f64, f64)>;

/// The x–y chart over the data's extent `x`, `y` (each `(min, max)`, padded by the fractions
/// `pad` of its span), with its title, axes and grid; or, when there is no extent, the "no
/// data" panel saying why (`Ok(None)`). Shared by the line and scatter charts.
#[allow(clippy::too_many_arguments)]
pub(crate) fn data_frame<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, plotters::coord::Shift>,
    theme: &Theme,
    title: &str,
    axes: (&Axis, &Axis),
    extent: (Extent, Extent),
    pad: (f64, f64),
    empty: bool,
) -> Result<Option<XyChart<'a, DB>>, PlotError> {
    let (ax, ay) = axes;
    let (Some((x0, x1)), Some((y0, y1))) = extent else {
        let reason = if empty {
            ""
        } else if ax.log || ay.log {
            "no finite positive values for the log axis"
        } else {
            "no finite values"
        };
        no_data(area, theme, title, reason)?;
        return Ok(None);
    };
    area.fill(&theme.background.rgb())?;
    let (xl, xh) = padded_range(x0, x1, pad.0, ax.log);
    let (yl, yh) = padded_range(y0, y1, pad.1, ay.log);
    let fx = Frame {
        lo: xl,
        hi: xh,
        log: ax.log,
        label: &ax.label,
    };
    let fy = Frame {
        lo: yl,
        hi: yh,
        log: ay.log,
        label: &ay.label,
    };
    Ok(Some(xy_frame(area, theme, title, &fx, &fy)?))
}
