//! Drawing on an HTML `<canvas>` (wasm32, feature `canvas`), through `plotters-canvas`.

use plotters::coord::Shift;
use plotters::prelude::{DrawingArea, IntoDrawingArea};
use plotters_canvas::CanvasBackend;
use wasm_bindgen::JsCast;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement};

use crate::{heatmap_with, CellGrid, Chart, PlotError, Theme};

/// Data attributes where the canvas' size in CSS pixels is remembered between draws.
const CSS_W: &str = "data-plot-css-width";
const CSS_H: &str = "data-plot-css-height";
/// Data attribute where a heatmap's cell grid is recorded, `x,y,width,height,n` in CSS pixels of
/// the canvas, so that a page can tell which cell the pointer is over ([`heatmap_cell_at`]).
pub const HEATMAP_GRID: &str = "data-heatmap-grid";

/// The display cell `(row, column)` of the heatmap last drawn on `canvas` under the point
/// `(x, y)` (CSS pixels from the canvas' top-left corner), if any.
pub fn heatmap_cell_at(canvas: &HtmlCanvasElement, x: f64, y: f64) -> Option<(usize, usize)> {
    let grid: Vec<f64> = canvas
        .get_attribute(HEATMAP_GRID)?
        .split(',')
        .filter_map(|v| v.parse().ok())
        .collect();
    let [gx, gy, gw, gh, n] = grid[..] else {
        return None;
    };
    if gw <= 0.0 || gh <= 0.0 || n < 1.0 {
        return None;
    }
    let (col, row) = ((x - gx) / gw * n, (y - gy) / gh * n);
    (col >= 0.0 && row >= 0.0 && col < n && row < n).then_some((row as usize, col as usize))
}

/// Draws `chart` on the `<canvas>` with id `canvas_id`. A heatmap's cells are painted as one
/// image (one pixel per cell, scaled without smoothing) rather than one rectangle per cell: a
/// 128 × 128 kernel is 16 384 rectangles, which took 13 s of canvas calls from wasm in headless
/// Chromium, against milliseconds for the image.
pub fn draw_chart_on_canvas(
    canvas_id: &str,
    theme: &Theme,
    chart: &Chart,
) -> Result<(), PlotError> {
    let canvas = find_canvas(canvas_id)?;
    let Chart::Heatmap(data) = chart else {
        return draw_on_canvas_element(&canvas, theme, |area| chart.draw(area, theme));
    };
    let ctx = context(&canvas)?;
    let _ = canvas.remove_attribute(HEATMAP_GRID);
    draw_on_canvas_element(&canvas, theme, |area| {
        heatmap_with(
            area,
            data,
            theme,
            Some(&mut |grid| {
                let _ = canvas.set_attribute(
                    HEATMAP_GRID,
                    &format!(
                        "{},{},{},{},{}",
                        grid.origin.0, grid.origin.1, grid.size.0, grid.size.1, grid.n
                    ),
                );
                paint_cells(&ctx, grid)
            }),
        )
    })
}

/// Paints the grid through an `n × n` offscreen canvas drawn scaled, without smoothing.
fn paint_cells(ctx: &CanvasRenderingContext2d, grid: &CellGrid) -> Result<(), PlotError> {
    let err = |e: wasm_bindgen::JsValue| PlotError::Canvas(format!("{e:?}"));
    let n = grid.n as u32;
    if n == 0 {
        return Ok(());
    }
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or_else(|| PlotError::Canvas("no document".into()))?;
    let image: HtmlCanvasElement = document
        .create_element("canvas")
        .map_err(err)?
        .dyn_into()
        .map_err(|_| PlotError::Canvas("not a canvas".into()))?;
    image.set_width(n);
    image.set_height(n);
    let mut rgba = Vec::with_capacity(grid.colors.len() * 4);
    for c in &grid.colors {
        rgba.extend_from_slice(&[c.0, c.1, c.2, 255]);
    }
    let data =
        web_sys::ImageData::new_with_u8_clamped_array_and_sh(wasm_bindgen::Clamped(&rgba), n, n)
            .map_err(err)?;
    context(&image)?
        .put_image_data(&data, 0.0, 0.0)
        .map_err(err)?;
    ctx.set_image_smoothing_enabled(false);
    ctx.draw_image_with_html_canvas_element_and_dw_and_dh(
        &image,
        f64::from(grid.origin.0),
        f64::from(grid.origin.1),
        f64::from(grid.size.0),
        f64::from(grid.size.1),
    )
    .map_err(err)
}

fn context(canvas: &HtmlCanvasElement) -> Result<CanvasRenderingContext2d, PlotError> {
    canvas
        .get_context("2d")
        .ok()
        .flatten()
        .and_then(|c| c.dyn_into().ok())
        .ok_or_else(|| PlotError::Canvas("no 2d context".into()))
}

fn find_canvas(canvas_id: &str) -> Result<HtmlCanvasElement, PlotError> {
    web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id(canvas_id))
        .ok_or_else(|| PlotError::Canvas(format!("no element with id {canvas_id:?}")))?
        .dyn_into::<HtmlCanvasElement>()
        .map_err(|_| PlotError::Canvas(format!("element {canvas_id:?} is not a <canvas>")))
}

/// Draws on the `<canvas>` with id `canvas_id`; see [`draw_on_canvas_element`].
pub fn draw_on_canvas<F>(canvas_id: &str, theme: &Theme, draw: F) -> Result<(), PlotError>
where
    F: FnOnce(&DrawingArea<CanvasBackend, Shift>) -> Result<(), PlotError>,
{
    draw_on_canvas_element(&find_canvas(canvas_id)?, theme, draw)
}

/// Clears `canvas` to the theme's background and runs `draw` on an area of the canvas' CSS size
/// (its laid-out size; if it is not laid out, e.g. hidden, the size of the previous draw or its
/// `width`/`height` attributes). The backing store is `devicePixelRatio` times larger and the
/// context is scaled, so lines and text are crisp on high-DPI screens while the chart code works in
/// CSS pixels. Give the canvas a CSS size (e.g. `width: 100%; height: 400px`); a canvas sized only
/// by its attributes gets that size as an inline style, so that it does not grow.
pub fn draw_on_canvas_element<F>(
    canvas: &HtmlCanvasElement,
    theme: &Theme,
    draw: F,
) -> Result<(), PlotError>
where
    F: FnOnce(&DrawingArea<CanvasBackend, Shift>) -> Result<(), PlotError>,
{
    let dpr = web_sys::window()
        .map(|w| w.device_pixel_ratio())
        .unwrap_or(1.0);
    let dpr = if dpr.is_finite() && dpr > 0.0 {
        dpr.clamp(1.0, 4.0)
    } else {
        1.0
    };
    let remembered = |name: &str| {
        canvas
            .get_attribute(name)
            .and_then(|v| v.parse::<u32>().ok())
    };
    let (cw, ch) = (
        canvas.client_width().max(0) as u32,
        canvas.client_height().max(0) as u32,
    );
    let (w, h) = if cw > 0 && ch > 0 {
        (cw, ch)
    } else if let (Some(w), Some(h)) = (remembered(CSS_W), remembered(CSS_H)) {
        (w, h)
    } else {
        (canvas.width(), canvas.height())
    };
    if w == 0 || h == 0 {
        return Err(PlotError::InvalidSize {
            width: w,
            height: h,
        });
    }
    let first = remembered(CSS_W).is_none();
    if first && cw == canvas.width() && ch == canvas.height() {
        // Sized by its attributes only: keep that size when the backing store grows.
        let style = canvas.style();
        let _ = style.set_property("width", &format!("{w}px"));
        let _ = style.set_property("height", &format!("{h}px"));
    }
    let _ = canvas.set_attribute(CSS_W, &w.to_string());
    let _ = canvas.set_attribute(CSS_H, &h.to_string());

    // Resizing the backing store resets the context, so the scale is set afterwards.
    canvas.set_width((f64::from(w) * dpr).round() as u32);
    canvas.set_height((f64::from(h) * dpr).round() as u32);
    let ctx = context(canvas)?;
    ctx.set_transform(dpr, 0.0, 0.0, dpr, 0.0, 0.0)
        .map_err(|e| PlotError::Canvas(format!("{e:?}")))?;

    let backend = CanvasBackend::with_canvas_object(canvas.clone())
        .ok_or_else(|| PlotError::Canvas("no 2d context".into()))?;
    let root = backend.into_drawing_area();
    let area = root.shrink((0, 0), (w, h));
    area.fill(&theme.background.rgb())?;
    draw(&area)?;
    area.present()?;
    Ok(())
}
