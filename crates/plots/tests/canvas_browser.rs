//! `draw_on_canvas` on a real `<canvas>` in headless Chromium:
//! `cargo test -p ntk-lens-plots --target wasm32-unknown-unknown --features canvas --test canvas_browser`
//! (with `CHROMEDRIVER` set, as in scripts/test.sh). Natively this file is empty.
#![cfg(target_arch = "wasm32")]

use ntk_lens_plots::{
    draw_on_canvas, draw_on_canvas_element, heatmap, line_chart, Axis, Heatmap, LineChart,
    PlotError, Series, Theme,
};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement};

wasm_bindgen_test_configure!(run_in_browser);

fn canvas(id: &str, style: &str) -> HtmlCanvasElement {
    let doc = web_sys::window().unwrap().document().unwrap();
    let c: HtmlCanvasElement = doc.create_element("canvas").unwrap().dyn_into().unwrap();
    c.set_id(id);
    if !style.is_empty() {
        c.set_attribute("style", style).unwrap();
    }
    doc.body().unwrap().append_child(&c).unwrap();
    c
}

fn pixel(c: &HtmlCanvasElement, x: f64, y: f64) -> Vec<u8> {
    let ctx: CanvasRenderingContext2d = c.get_context("2d").unwrap().unwrap().dyn_into().unwrap();
    ctx.get_image_data(x, y, 1.0, 1.0).unwrap().data().to_vec()
}

#[wasm_bindgen_test]
fn draws_a_line_chart_at_device_resolution() {
    let c = canvas("plots-line", "width: 600px; height: 400px");
    let theme = Theme::dark();
    let chart = LineChart {
        title: "spectrum".into(),
        x: Axis::linear("index"),
        y: Axis::log("eigenvalue"),
        series: vec![Series::from_values("K", &[3.0, 1.0, 0.1, 0.0])],
        ..Default::default()
    };
    for _ in 0..2 {
        draw_on_canvas("plots-line", &theme, |a| line_chart(a, &chart, &theme)).unwrap();
        let dpr = web_sys::window().unwrap().device_pixel_ratio().max(1.0);
        assert_eq!(c.width(), (600.0 * dpr).round() as u32);
        assert_eq!(c.height(), (400.0 * dpr).round() as u32);
        assert_eq!(c.client_width(), 600, "the CSS size stays");
    }
    let bg = theme.background;
    assert_eq!(pixel(&c, 1.0, 1.0)[..3], [bg.0, bg.1, bg.2]);
    // the far corner is filled too (the scaled area covers the whole backing store)
    assert_eq!(
        pixel(&c, f64::from(c.width()) - 2.0, f64::from(c.height()) - 2.0)[..3],
        [bg.0, bg.1, bg.2]
    );
}

#[wasm_bindgen_test]
fn attribute_sized_canvas_does_not_grow_and_heatmap_draws() {
    let c = canvas("plots-heat", "");
    c.set_width(300);
    c.set_height(200);
    let theme = Theme::light();
    let data = Heatmap {
        values: vec![vec![1.0, -1.0], vec![-1.0, 1.0]],
        ..Default::default()
    };
    for _ in 0..3 {
        draw_on_canvas_element(&c, &theme, |a| heatmap(a, &data, &theme)).unwrap();
        assert_eq!((c.client_width(), c.client_height()), (300, 200));
    }
}

#[wasm_bindgen_test]
fn missing_canvas_is_an_error() {
    let r = draw_on_canvas("no-such-canvas", &Theme::light(), |_| Ok(()));
    assert!(matches!(r, Err(PlotError::Canvas(_))));
}
