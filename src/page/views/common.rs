//! Pieces the analysis views share: a job's progress and Cancel, a chart on a canvas with PNG
//! and SVG export, number formatting.

use leptos::prelude::*;
use ntk_lens_plots::{svg_string, Chart, Theme};
use wasm_bindgen::JsCast;

pub use crate::page::download::download;
use crate::page::download::download_url;
use crate::page::job_state::JobState;
use crate::page::tab::Tab;

/// Progress bar, message, Cancel button and the error of a job.
#[component]
pub fn JobProgress(
    state: RwSignal<JobState>,
    on_cancel: Callback<()>,
    testid: &'static str,
) -> impl IntoView {
    let busy = move || state.with(|s| s.is_busy());
    let fraction = move || state.with(|s| s.fraction()).unwrap_or(0.0);
    let message = move || {
        state.with(|s| match s {
            JobState::Running { message, loss, .. } => match loss {
                Some(l) => format!("{message} (loss {l:.4})"),
                None => message.clone(),
            },
            JobState::Cancelling { .. } => "stopping…".into(),
            JobState::Cancelled { done, total } => format!("cancelled after {done} of {total}"),
            JobState::Failed(m) => m.clone(),
            _ => String::new(),
        })
    };
    let failed = move || state.with(|s| matches!(s, JobState::Failed(_)));
    view! {
        <div class="job" data-testid=format!("{testid}-job")>
            <progress
                data-testid=format!("{testid}-progress")
                max="1"
                value=move || fraction().to_string()
                class:hidden=move || !busy()
            ></progress>
            <button
                data-testid=format!("{testid}-cancel")
                class:hidden=move || !busy()
                on:click=move |_| on_cancel.run(())
            >
                "Cancel"
            </button>
            <span
                class:error=failed
                class="job-message"
                data-testid=format!("{testid}-message")
                role="status"
            >
                {message}
            </span>
        </div>
    }
}

/// Whether the page prefers dark colours.
pub fn prefers_dark() -> bool {
    window()
        .match_media("(prefers-color-scheme: dark)")
        .ok()
        .flatten()
        .is_some_and(|m| m.matches())
}

fn theme() -> Theme {
    Theme::for_dark_mode(prefers_dark())
}

/// Bumped when the window is resized, so that every chart redraws at its new size.
#[derive(Debug, Clone, Copy)]
pub struct LayoutEpoch(pub RwSignal<u32>);

impl LayoutEpoch {
    /// A new epoch counter, bumped on every window resize (for the page's lifetime).
    pub fn on_window_resize() -> Self {
        let epoch = LayoutEpoch(RwSignal::new(0));
        // The page lives as long as the listener: the handle is never removed.
        let _listener = window_event_listener(leptos::ev::resize, move |_| {
            epoch.0.update(|e| *e = e.wrapping_add(1));
        });
        epoch
    }
}

/// A chart drawn on a canvas whenever `chart` changes, with PNG and SVG export.
///
/// A canvas in a hidden tab has no size, and a chart drawn there would be stretched from a
/// default backing store when shown (blurry and clipped). So the chart is drawn only while its
/// canvas is laid out, one animation frame after a change, and drawn again when its tab is shown
/// or the window is resized and its size differs from the last drawing.
#[component]
pub fn ChartCanvas(
    id: &'static str,
    chart: Signal<Option<Chart>>,
    #[prop(default = 640)] width: u32,
    #[prop(default = 400)] height: u32,
) -> impl IntoView {
    let error = RwSignal::new(None::<String>);
    let tab = use_context::<RwSignal<Tab>>();
    let epoch = use_context::<LayoutEpoch>();
    // Whether the current chart still has to be drawn, and the CSS size it was last drawn at.
    let stale = StoredValue::new(true);
    let drawn_at = StoredValue::new(None::<(i32, i32)>);
    Effect::new(move |_| {
        chart.track();
        stale.set_value(true);
    });
    Effect::new(move |_| {
        chart.track();
        if let Some(t) = tab {
            t.track();
        }
        if let Some(e) = epoch {
            e.0.track();
        }
        // After this change is laid out (a tab's `hidden` class is removed in the same tick).
        request_animation_frame(move || {
            let Some(canvas) = document()
                .get_element_by_id(id)
                .and_then(|e| e.dyn_into::<web_sys::HtmlCanvasElement>().ok())
            else {
                return;
            };
            let size = (canvas.client_width(), canvas.client_height());
            if size.0 <= 0 || size.1 <= 0 {
                return;
            }
            if !stale.get_value() && drawn_at.get_value() == Some(size) {
                return;
            }
            let Some(c) = chart.get_untracked() else {
                return;
            };
            let drawn = ntk_lens_plots::draw_chart_on_canvas(id, &theme(), &c);
            error.set(drawn.err().map(|e| e.to_string()));
            stale.set_value(false);
            drawn_at.set_value(Some(size));
        });
    });
    let png = move |_| {
        let url = document()
            .get_element_by_id(id)
            .and_then(|e| e.dyn_into::<web_sys::HtmlCanvasElement>().ok())
            .and_then(|c| c.to_data_url().ok());
        if let Some(url) = url {
            download_url(&format!("{id}.png"), &url);
        }
    };
    let svg = move |_| {
        if let Some(c) = chart.get_untracked() {
            let theme = Theme::light();
            if let Ok(text) = svg_string(width, height, |area| c.draw(area, &theme)) {
                download(&format!("{id}.svg"), "image/svg+xml", &text);
            }
        }
    };
    view! {
        <figure class="chart" class:hidden=move || chart.with(|c| c.is_none())>
            <canvas
                id=id
                data-testid=id
                style=format!("width: min(100%, {width}px); aspect-ratio: {width} / {height};")
            ></canvas>
            <figcaption>
                <button data-testid=format!("{id}-png") on:click=png>"PNG"</button>
                <button data-testid=format!("{id}-svg") on:click=svg>"SVG"</button>
                {move || error.get().map(|e| view! { <span class="error">{e}</span> })}
            </figcaption>
        </figure>
    }
}

/// A number with `sig` significant digits (scientific when very large or small).
pub fn num(v: f64, sig: usize) -> String {
    ntk_lens_plots::format_sig(v, sig)
}
