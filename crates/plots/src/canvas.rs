//! Drawing on an HTML `<canvas>` (wasm32, feature `canvas`), through `plotters-canvas`.

use plotters::coord::Shift;
use plotters::prelude::{DrawingArea, IntoDrawingArea};
use plotters_canvas::CanvasBackend;
use wasm_bindgen::JsCast;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement};

use crate::{PlotError, Theme};

/// Data attributes where the canvas' size in CSS pixels is remembered between draws.
const CSS_W: &str = "data-plot-css-width";
const CSS_H: &str = "data-plot-css-height";

/// Draws on the `<canvas>` with id `canvas_id`; see [`draw_on_canvas_element`].
pub fn draw_on_canvas<F>(canvas_id: &str, theme: &Theme, draw: F) -> Result<(), PlotError>
where
    F: FnOnce(&DrawingArea<CanvasBackend, Shift>) -> Result<(), PlotError>,
{
    let canvas = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id(canvas_id))
        .ok_or_else(|| PlotError::Canvas(format!("no element with id {canvas_id:?}")))?
        .dyn_into::<HtmlCanvasElement>()
        .map_err(|_| PlotError::Canvas(format!("element {canvas_id:?} is not a <canvas>")))?;
    draw_on_canvas_element(&canvas, theme, draw)
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
    let ctx: CanvasRenderingContext2d = canvas
        .get_context("2d")
        .ok()
        .flatten()
        .and_then(|c| c.dyn_into().ok())
        .ok_or_else(|| PlotError::Canvas("no 2d context".into()))?;
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
