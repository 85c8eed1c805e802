//! Where the dataset comes from: a bundled one (with its source, licence and citation) or a
//! file of one's own, and what was read (or why it could not be).

use js_sys::Uint8Array;
use leptos::prelude::*;
use ntk_lens_core::data::Task;

use super::dropzone::DataDropzone;
use crate::page::format::thousands;
use crate::page::loading::data::DataLoad;
use crate::page::setup::{DataChoice, Setup};

/// What the status line says: reading, the active dataset, or none yet.
fn status_text(data: DataLoad) -> String {
    let busy = data.slot.state.with(|j| j.is_busy());
    if busy {
        return "Reading…".to_string();
    }
    match data.dataset.get() {
        Some(d) => format!(
            "Active dataset: {} ({} rows, {}, from {}){}",
            d.name,
            thousands(d.rows),
            match d.task {
                Task::Classification => format!("{} classes", d.label_names.len()),
                Task::Regression => "regression on a score".to_string(),
            },
            d.file,
            data.slot
                .last
                .with(|r| r.as_ref().map(|r| r.read_ms))
                .map(|ms| format!("; read in {ms:.0} ms"))
                .unwrap_or_default()
        ),
        None => "No dataset yet.".into(),
    }
}

/// The Dataset panel: the bundled datasets, the drop zone, the status and the error.
/// `load_bundled` reads a bundled dataset by id; `upload` reads a file's name and bytes.
#[component]
pub fn DataSource(
    setup: RwSignal<Setup>,
    data: DataLoad,
    load_bundled: Callback<String>,
    upload: Callback<(String, Uint8Array)>,
) -> impl IntoView {
    let bundled_id = move || match setup.with(|s| s.data.choice.clone()) {
        DataChoice::Bundled(id) => id,
        DataChoice::Upload(_) => String::new(),
    };
    let bundled_info = move || {
        let id = bundled_id();
        data.index.with(|i| {
            i.as_ref()
                .and_then(|i| i.datasets.iter().find(|d| d.id == id).cloned())
        })
    };
    view! {
        <section class="panel" data-testid="data-source">
            <h3>"Dataset"</h3>
            <div class="controls">
                <label>
                    "Bundled "
                    <select
                        data-testid="data-bundled"
                        on:change=move |ev| {
                            let id = event_target_value(&ev);
                            if !id.is_empty() {
                                setup.update(|s| s.data.task = None);
                                load_bundled.run(id);
                            }
                        }
                    >
                        <option value="" prop:selected=move || bundled_id().is_empty()>"(an uploaded file)"</option>
                        {move || data.index.get().map(|i| i.datasets.into_iter().map(|d| {
                            let id = d.id.clone();
                            view! { <option value=d.id.clone() prop:selected=move || bundled_id() == id>{format!("{} ({} rows)", d.title, d.rows)}</option> }
                        }).collect_view())}
                    </select>
                </label>
            </div>
            {move || bundled_info().map(|d| view! {
                <p class="muted" data-testid="data-bundled-info">
                    {format!("Source: {}. Licence: {}. Cite: {}", d.source, d.licence, d.citation)}
                </p>
            })}
            <DataDropzone error=data.error upload=upload />
            <p data-testid="data-status" aria-live="polite">{move || status_text(data)}</p>
            {move || data.error.get().map(|e| view! {
                <p class="error" data-testid="data-error" role="alert">{e}<br/><span class="muted">"The previous dataset and all settings are kept."</span></p>
            })}
        </section>
    }
}
