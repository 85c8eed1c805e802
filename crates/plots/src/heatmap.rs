//! Heatmap of a square matrix (kernel), optionally grouped, with a colour bar.
//!
//! [`heatmap_with`] draws it in steps of one job each: the colour scale and range (`Colors`),
//! the rows' display order and groups (`Arrangement`), the layout below the title (`Layout`,
//! `plot_square`), then the cells, the group separators, the row and column labels, and the
//! colour bar with its ticks and value label.

use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};
use plotters::style::FontTransform;
use serde::{Deserialize, Serialize};

use crate::common::{anchored, font, no_data, DESC_SIZE, TICK_SIZE, TITLE_SIZE};
use crate::theme::Rgb;
use crate::util::{key_points, min_max, padded_range, text_width, tick_formatter, truncate};
use crate::{PlotError, Theme};

/// Steps of a heatmap's colour bar (one filled rectangle each).
pub const COLORBAR_STEPS: usize = 64;

/// The colour scale of a heatmap.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ColorScale {
    /// Diverging if the values have both signs, else sequential.
    #[default]
    Auto,
    /// Viridis from min to max.
    Sequential,
    /// Blue – white – red, symmetric around 0 (`[-m, m]`, m = max |value|).
    Diverging,
}

/// How rows and columns are grouped (e.g. by class label): the display order and where groups
/// start. Display position `p` shows original index `order[p]`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Grouping {
    /// A permutation of `0..n`: display position → original row/column index.
    pub order: Vec<usize>,
    /// Display positions where a new group starts (0 and n are implied), increasing.
    pub boundaries: Vec<usize>,
    /// One label per group (`boundaries.len() + 1`), in display order.
    pub labels: Vec<String>,
}

impl Grouping {
    /// Groups samples by their label: a stable order with the groups in order of first appearance.
    pub fn from_labels<S: AsRef<str>>(labels: &[S]) -> Grouping {
        let mut names: Vec<&str> = vec![];
        for l in labels {
            if !names.contains(&l.as_ref()) {
                names.push(l.as_ref());
            }
        }
        let mut order = Vec::with_capacity(labels.len());
        let mut boundaries = vec![];
        for (g, name) in names.iter().enumerate() {
            if g > 0 {
                boundaries.push(order.len());
            }
            order.extend(
                labels
                    .iter()
                    .enumerate()
                    .filter(|(_, l)| l.as_ref() == *name)
                    .map(|(i, _)| i),
            );
        }
        Grouping {
            order,
            boundaries,
            labels: names.iter().map(|s| s.to_string()).collect(),
        }
    }

    /// `true` if `order` is a permutation of `0..n`.
    fn valid_for(&self, n: usize) -> bool {
        if self.order.len() != n {
            return false;
        }
        let mut seen = vec![false; n];
        self.order
            .iter()
            .all(|&i| i < n && !std::mem::replace(&mut seen[i], true))
    }

    /// The groups as `(start, end, label)` display ranges (boundaries outside `1..n` ignored).
    fn spans(&self, n: usize) -> Vec<(usize, usize, &str)> {
        let mut cuts: Vec<usize> = self
            .boundaries
            .iter()
            .copied()
            .filter(|&b| b > 0 && b < n)
            .collect();
        cuts.sort_unstable();
        cuts.dedup();
        let mut starts = vec![0];
        starts.extend(&cuts);
        let mut ends = cuts.clone();
        ends.push(n);
        starts
            .into_iter()
            .zip(ends)
            .enumerate()
            .map(|(g, (s, e))| (s, e, self.labels.get(g).map(String::as_str).unwrap_or("")))
            .collect()
    }
}

/// A heatmap of a square matrix.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Heatmap {
    /// Title above the plot; empty for none.
    pub title: String,
    /// The matrix, `values[row][column]`; missing entries of ragged rows and NaN/inf are drawn in
    /// the theme's grid colour. n = number of rows.
    pub values: Vec<Vec<f64>>,
    /// Colour scale.
    #[serde(default)]
    pub scale: ColorScale,
    /// Fixed colour range `(min, max)`; `None` (or an unusable one) fits the data.
    #[serde(default)]
    pub range: Option<(f64, f64)>,
    /// Row/column grouping: order, separator lines and group labels.
    #[serde(default)]
    pub groups: Option<Grouping>,
    /// Label of the colour bar (e.g. `"K(x, x')"`); empty for none.
    #[serde(default)]
    pub value_label: String,
}

const VIRIDIS: [Rgb; 9] = [
    Rgb(0x44, 0x01, 0x54),
    Rgb(0x47, 0x2d, 0x7b),
    Rgb(0x3b, 0x52, 0x8b),
    Rgb(0x2c, 0x72, 0x8e),
    Rgb(0x21, 0x91, 0x8c),
    Rgb(0x28, 0xae, 0x80),
    Rgb(0x5e, 0xc9, 0x62),
    Rgb(0xad, 0xdc, 0x30),
    Rgb(0xfd, 0xe7, 0x25),
];

const RDBU: [Rgb; 9] = [
    Rgb(0x21, 0x66, 0xac),
    Rgb(0x43, 0x93, 0xc3),
    Rgb(0x92, 0xc5, 0xde),
    Rgb(0xd1, 0xe5, 0xf0),
    Rgb(0xf7, 0xf7, 0xf7),
    Rgb(0xfd, 0xdb, 0xc7),
    Rgb(0xf4, 0xa5, 0x82),
    Rgb(0xd6, 0x60, 0x4d),
    Rgb(0xb2, 0x18, 0x2b),
];

fn ramp(stops: &[Rgb], t: f64) -> Rgb {
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.5
    };
    let x = t * (stops.len() - 1) as f64;
    let i = (x.floor() as usize).min(stops.len() - 2);
    stops[i].blend(stops[i + 1], x - i as f64)
}

/// A heatmap's cells as pixels: the `n × n` grid fills the rectangle at `origin` (backend
/// pixels) of `width × height`; `colors` are the cells row-major in display order.
#[derive(Debug, Clone, PartialEq)]
pub struct CellGrid {
    /// Top-left corner of the grid in backend pixels.
    pub origin: (i32, i32),
    /// Width and height of the grid in backend pixels.
    pub size: (i32, i32),
    /// Cells per side.
    pub n: usize,
    /// `n × n` colours, row-major.
    pub colors: Vec<Rgb>,
}

/// Paints a [`CellGrid`] in one go (e.g. a canvas image), instead of one rectangle per cell.
pub type CellPainter<'a> = &'a mut dyn FnMut(&CellGrid) -> Result<(), PlotError>;

/// Draws a [`Heatmap`] on `area`: n×n cells (one filled rectangle each), group separators and
/// labels (or index ticks), and a colour bar of [`COLORBAR_STEPS`] rectangles with its numbers.
pub fn heatmap<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    data: &Heatmap,
    theme: &Theme,
) -> Result<(), PlotError> {
    heatmap_with(area, data, theme, None)
}

/// [`heatmap`], with the cells painted by `cells` when given (the page paints a 128 × 128
/// kernel as one image: tens of thousands of canvas rectangles take seconds).
///
/// In drawing order: the background, the title, the cells, the group separators, the row and
/// column labels and the colour bar with its ticks and value label; an area too small for the
/// cells gets only the first two.
pub fn heatmap_with<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    data: &Heatmap,
    theme: &Theme,
    cells: Option<CellPainter<'_>>,
) -> Result<(), PlotError> {
    let n = data.values.len();
    let finite = (0..n).flat_map(|r| (0..n).filter_map(move |c| data.cell(r, c)));
    let Some(extent) = min_max(finite) else {
        let reason = if n == 0 { "" } else { "no finite values" };
        return no_data(area, theme, &data.title, reason);
    };
    let colors = Colors::new(data, extent, theme);
    let rows = Arrangement::new(data);

    area.fill(&theme.background.rgb())?;
    let body = if data.title.is_empty() {
        area.clone()
    } else {
        area.titled(&data.title, font(theme, TITLE_SIZE, theme.foreground))?
    };
    let Some(layout) = Layout::new(&body, data, &rows) else {
        return Ok(()); // too small to draw cells
    };
    let mut square = plot_square(&body, &layout, n)?;
    draw_cells(&mut square, data, &rows.order, &colors, cells)?;
    draw_separators(&square, &rows, theme)?;
    draw_labels(
        &body,
        &square,
        &layout,
        &axis_labels(&rows, layout.side),
        theme,
    )?;
    draw_colorbar(&body, &square, &layout, &colors, &data.value_label, theme)
}

impl Heatmap {
    /// The value at `(row, column)` (original indices, `row < n`), `None` when missing or not
    /// finite.
    fn cell(&self, row: usize, column: usize) -> Option<f64> {
        self.values[row]
            .get(column)
            .copied()
            .filter(|v| v.is_finite())
    }
}

/// A heatmap's colours: values in `[lo, hi]` along a ramp of colour stops.
struct Colors {
    lo: f64,
    hi: f64,
    /// [`RDBU`] for a diverging scale, [`VIRIDIS`] for a sequential one.
    stops: &'static [Rgb],
    /// The colour of missing and non-finite cells (the theme's grid colour).
    missing: Rgb,
}

impl Colors {
    /// The colours of `data`, whose finite values span `(dmin, dmax)`: diverging when
    /// [`ColorScale`] says so (or, for `Auto`, when the values have both signs), over
    /// [`colour_range`].
    fn new(data: &Heatmap, (dmin, dmax): (f64, f64), theme: &Theme) -> Colors {
        let diverging = match data.scale {
            ColorScale::Auto => dmin < 0.0 && dmax > 0.0,
            ColorScale::Sequential => false,
            ColorScale::Diverging => true,
        };
        let (lo, hi) = colour_range(data.range, (dmin, dmax), diverging);
        Colors {
            lo,
            hi,
            stops: if diverging { &RDBU } else { &VIRIDIS },
            missing: theme.grid,
        }
    }

    /// The colour of a cell's value (`None`: missing or not finite).
    fn of(&self, v: Option<f64>) -> Rgb {
        match v {
            Some(v) => ramp(self.stops, (v - self.lo) / (self.hi - self.lo)),
            None => self.missing,
        }
    }
}

/// The value range the colours span: `fixed` when usable (finite, increasing); else, diverging,
/// `[-m, m]` with `m` the largest magnitude of the data (`[-1, 1]` for all zeros); else the
/// data's range, widened when it is (nearly) a single value.
fn colour_range(
    fixed: Option<(f64, f64)>,
    (dmin, dmax): (f64, f64),
    diverging: bool,
) -> (f64, f64) {
    match fixed {
        Some((a, b)) if a.is_finite() && b.is_finite() && a < b => (a, b),
        _ if diverging => {
            let m = dmin.abs().max(dmax.abs()).min(1e300);
            if m > 0.0 {
                (-m, m)
            } else {
                (-1.0, 1.0)
            }
        }
        _ => {
            let (a, b) = (dmin.clamp(-1e300, 1e300), dmax.clamp(-1e300, 1e300));
            if b - a > a.abs().max(b.abs()) * 1e-12 {
                (a, b)
            } else {
                padded_range(a, b, 0.0, false)
            }
        }
    }
}

/// The display order of a heatmap's rows and columns, and its groups.
struct Arrangement<'a> {
    /// Display position → original row/column index (`0..n` without a valid grouping).
    order: Vec<usize>,
    /// The groups as display ranges `(start, end, label)` ([`Grouping::spans`]); `None` when
    /// the heatmap has no grouping, or one that is not a permutation of its rows.
    groups: Option<Vec<(usize, usize, &'a str)>>,
}

impl<'a> Arrangement<'a> {
    /// The arrangement of `data`'s rows: its grouping when valid, else the plain order.
    fn new(data: &'a Heatmap) -> Arrangement<'a> {
        let n = data.values.len();
        let groups = data.groups.as_ref().filter(|g| g.valid_for(n));
        Arrangement {
            order: match groups {
                Some(g) => g.order.clone(),
                None => (0..n).collect(),
            },
            groups: groups.map(|g| g.spans(n)),
        }
    }

    /// The groups' spans (none when ungrouped).
    fn spans(&self) -> &[(usize, usize, &'a str)] {
        self.groups.as_deref().unwrap_or(&[])
    }
}

/// Room for the column labels below the square, in pixels.
const BOTTOM: i32 = 28;

/// Where a heatmap's parts go on the area below its title: a column of `bar_w` pixels on the
/// right for the colour bar; in what is left, the square plot of `side` pixels with the row
/// labels' column (`left`) on its left and the column labels' row ([`BOTTOM`]) below it,
/// centred (the room left over, `spare`, split evenly on both sides) within a 10 px margin.
struct Layout {
    /// Width of the colour bar's column: wider with a value label.
    bar_w: i32,
    /// Width of the row labels' column.
    left: i32,
    /// Side of the square, in pixels.
    side: i32,
    /// Room left over beside the square: (width, height).
    spare: (i32, i32),
}

impl Layout {
    /// The layout of `data` (arranged as `rows`) on `body`; `None` when `body` is too small to
    /// hold cells.
    fn new<DB: DrawingBackend>(
        body: &DrawingArea<DB, Shift>,
        data: &Heatmap,
        rows: &Arrangement<'_>,
    ) -> Option<Layout> {
        let (bw, bh) = body.dim_in_pixel();
        let (bw, bh) = (bw as i32, bh as i32);
        let bar_w = if data.value_label.is_empty() { 80 } else { 100 };
        if bw <= bar_w + 40 || bh <= 40 {
            return None;
        }
        let (mw, mh) = (bw - bar_w, bh);
        // Group names (at most a quarter of the width), or the largest index.
        let left = match &rows.groups {
            Some(spans) => spans
                .iter()
                .map(|s| text_width(s.2, TICK_SIZE / 1.24))
                .max()
                .unwrap_or(0)
                .min(mw / 4),
            None => text_width(&rows.order.len().to_string(), TICK_SIZE / 1.24),
        } + 12;
        let avail_w = mw - left - 10;
        let avail_h = mh - BOTTOM - 10;
        let side = avail_w.min(avail_h);
        (side >= 4).then_some(Layout {
            bar_w,
            left,
            side,
            spare: (avail_w - side, avail_h - side),
        })
    }
}

/// The heatmap's square: display coordinates (column, row) over `0..n` each way, row 0 at the
/// top.
type Square<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// Places the `n × n` square on `body` as `layout` says (no mesh or axis is drawn: the labels
/// are the heatmap's own).
fn plot_square<'a, DB: DrawingBackend>(
    body: &'a DrawingArea<DB, Shift>,
    layout: &Layout,
    n: usize,
) -> Result<Square<'a, DB>, PlotError> {
    let (ew, eh) = layout.spare;
    let nf = n as f64;
    Ok(ChartBuilder::on(body)
        .margin_left(ew / 2)
        .margin_right(10 + ew - ew / 2 + layout.bar_w)
        .margin_top(10 + eh / 2)
        .margin_bottom(eh - eh / 2)
        .x_label_area_size(BOTTOM)
        .y_label_area_size(layout.left)
        .build_cartesian_2d(0.0..nf, nf..0.0)?)
}

/// The cells, in display order (`order`): one filled rectangle each, or, given a painter, one
/// [`CellGrid`] of the square's pixels handed to it.
fn draw_cells<DB: DrawingBackend>(
    square: &mut Square<'_, DB>,
    data: &Heatmap,
    order: &[usize],
    colors: &Colors,
    painter: Option<CellPainter<'_>>,
) -> Result<(), PlotError> {
    let n = order.len();
    let nf = n as f64;
    match painter {
        Some(paint) => {
            let (x0, y0) = square.backend_coord(&(0.0, 0.0));
            let (x1, y1) = square.backend_coord(&(nf, nf));
            let colors = order
                .iter()
                .flat_map(|&i| order.iter().map(move |&j| (i, j)))
                .map(|(i, j)| colors.of(data.cell(i, j)))
                .collect();
            paint(&CellGrid {
                origin: (x0, y0),
                size: (x1 - x0, y1 - y0),
                n,
                colors,
            })
        }
        None => {
            let cells = order.iter().enumerate().flat_map(|(r, &i)| {
                order
                    .iter()
                    .enumerate()
                    .map(move |(c, &j)| (r as f64, c as f64, i, j))
            });
            square.draw_series(cells.map(|(y0, x0, i, j)| {
                Rectangle::new(
                    [(x0, y0), (x0 + 1.0, y0 + 1.0)],
                    colors.of(data.cell(i, j)).rgb().filled(),
                )
            }))?;
            Ok(())
        }
    }
}

/// A line across the whole square along each boundary between groups, vertical then
/// horizontal.
fn draw_separators<DB: DrawingBackend>(
    square: &Square<'_, DB>,
    rows: &Arrangement<'_>,
    theme: &Theme,
) -> Result<(), PlotError> {
    let nf = rows.order.len() as f64;
    let sep = theme.foreground.rgb().stroke_width(2);
    for &(s, _, _) in rows.spans().iter().skip(1) {
        let s = s as f64;
        square
            .plotting_area()
            .draw(&PathElement::new(vec![(s, 0.0), (s, nf)], sep))?;
        square
            .plotting_area()
            .draw(&PathElement::new(vec![(0.0, s), (nf, s)], sep))?;
    }
    Ok(())
}

/// A label of the rows and columns: its display position (the middle of what it names), its
/// text, and how wide it may be below the square in pixels (`usize::MAX`: no limit).
type AxisLabel = (f64, String, usize);

/// The labels of the rows and columns of a square of `side` pixels: each group's name, as wide
/// as its span; or, ungrouped, every 1st, 2nd, 5th, 10th, … index, at most 6 of them.
fn axis_labels(rows: &Arrangement<'_>, side: i32) -> Vec<AxisLabel> {
    let n = rows.order.len();
    let nf = n as f64;
    match &rows.groups {
        Some(spans) => spans
            .iter()
            .map(|&(s, e, label)| {
                let width_px = ((e - s) as f64 / nf * side as f64) as i32;
                (
                    (s + e) as f64 / 2.0,
                    label.to_string(),
                    width_px.max(0) as usize,
                )
            })
            .collect(),
        None => {
            let step = [
                1usize, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000,
            ]
            .into_iter()
            .find(|s| n.div_ceil(*s) <= 6)
            .unwrap_or(n.max(1));
            (0..n)
                .step_by(step)
                .map(|i| (i as f64 + 0.5, i.to_string(), usize::MAX))
                .collect()
        }
    }
}

/// Writes each label twice: left of its row (cut to the labels' column) and below its column
/// (cut to its width), one after the other.
fn draw_labels<DB: DrawingBackend>(
    body: &DrawingArea<DB, Shift>,
    square: &Square<'_, DB>,
    layout: &Layout,
    labels: &[AxisLabel],
    theme: &Theme,
) -> Result<(), PlotError> {
    let tick = font(theme, TICK_SIZE, theme.foreground);
    let char_px = TICK_SIZE / 1.24 * 0.5;
    let (mbx, mby) = body.get_base_pixel();
    let (px, py) = square.plotting_area().get_pixel_range();
    let (plot_left, plot_bottom) = (px.start - mbx, py.end - mby);
    let at = |x: f64, y: f64| {
        let (a, b) = square.backend_coord(&(x, y));
        (a - mbx, b - mby)
    };
    let left_style = anchored(tick.clone(), HPos::Right, VPos::Center);
    let bottom_style = anchored(tick.clone(), HPos::Center, VPos::Top);
    let left_room = ((layout.left - 12) as f64 / char_px).floor().max(1.0) as usize;
    for (pos, text, width_px) in labels {
        let (_, y) = at(0.0, *pos);
        body.draw(&Text::new(
            truncate(text, left_room),
            (plot_left - 6, y),
            left_style.clone(),
        ))?;
        let (x, _) = at(*pos, 0.0);
        let room = if *width_px == usize::MAX {
            usize::MAX
        } else {
            ((*width_px as f64) / char_px).floor().max(1.0) as usize
        };
        body.draw(&Text::new(
            truncate(text, room),
            (x, plot_bottom + 6),
            bottom_style.clone(),
        ))?;
    }
    Ok(())
}

/// The colour bar right of the square and as high: [`COLORBAR_STEPS`] filled rectangles from
/// the range's low end (bottom) to its high end, then its ticks ([`draw_colorbar_ticks`]) and
/// the value label, turned upright, at the right of the bar's column.
fn draw_colorbar<DB: DrawingBackend>(
    body: &DrawingArea<DB, Shift>,
    square: &Square<'_, DB>,
    layout: &Layout,
    colors: &Colors,
    value_label: &str,
    theme: &Theme,
) -> Result<(), PlotError> {
    let (mbx, mby) = body.get_base_pixel();
    let (px, py) = square.plotting_area().get_pixel_range();
    let (top, bot) = (py.start - mby, py.end - mby);
    let (x0, x1) = (px.end - mbx + 16, px.end - mbx + 32);
    let span = (bot - top).max(1) as f64;
    for k in 0..COLORBAR_STEPS {
        let t0 = k as f64 / COLORBAR_STEPS as f64;
        let t1 = (k + 1) as f64 / COLORBAR_STEPS as f64;
        let (ya, yb) = (
            bot - (t1 * span).round() as i32,
            bot - (t0 * span).round() as i32,
        );
        let c = ramp(colors.stops, (k as f64 + 0.5) / COLORBAR_STEPS as f64);
        body.draw(&Rectangle::new([(x0, ya), (x1, yb)], c.rgb().filled()))?;
    }
    draw_colorbar_ticks(body, colors, (x1, bot), span, theme)?;
    if !value_label.is_empty() {
        let style = anchored(
            font(theme, DESC_SIZE, theme.foreground),
            HPos::Center,
            VPos::Center,
        )
        .transform(FontTransform::Rotate270);
        body.draw(&Text::new(
            value_label.to_string(),
            (x0 + layout.bar_w - 12, (top + bot) / 2),
            style,
        ))?;
    }
    Ok(())
}

/// The colour bar's ticks, about 5, on its right edge (`x1`, from the bottom `bot` up `span`
/// pixels): a short mark and the value each.
fn draw_colorbar_ticks<DB: DrawingBackend>(
    body: &DrawingArea<DB, Shift>,
    colors: &Colors,
    (x1, bot): (i32, i32),
    span: f64,
    theme: &Theme,
) -> Result<(), PlotError> {
    let (lo, hi) = (colors.lo, colors.hi);
    let fmt = tick_formatter(lo, hi, 5, false);
    let tick_style = anchored(
        font(theme, TICK_SIZE, theme.foreground),
        HPos::Left,
        VPos::Center,
    );
    for v in key_points(lo, hi, 5) {
        let y = bot - (((v - lo) / (hi - lo)) * span).round() as i32;
        body.draw(&PathElement::new(
            vec![(x1, y), (x1 + 4, y)],
            theme.muted.rgb(),
        ))?;
        body.draw(&Text::new(fmt(&v), (x1 + 6, y), tick_style.clone()))?;
    }
    Ok(())
}
