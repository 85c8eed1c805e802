//! The model loading's progress, status and error.

use leptos::prelude::*;

use crate::page::job_state::JobState;
use crate::page::loading::model::ModelLoad;

/// What the status line says about the model's loading.
fn status_text(model: ModelLoad) -> String {
    model.slot.state.with(|s| match s {
        JobState::Idle => "Waiting for the compute worker…".to_string(),
        JobState::Running { message, .. } => format!("Loading: {message}"),
        JobState::Cancelling { .. } => "Cancelling the download…".into(),
        JobState::Done(_) => model
            .slot
            .last
            .with(|m| {
                m.as_ref().map(|m| {
                    format!(
                        "Loaded {} ({}, {:.1} MB).",
                        m.name,
                        m.weights_file,
                        m.bytes as f64 / 1e6
                    )
                })
            })
            .unwrap_or_default(),
        JobState::Cancelled { .. } => {
            "Download cancelled; the model loaded before stays in use.".into()
        }
        JobState::Failed(_) => "Loading failed; the model loaded before stays in use.".into(),
    })
}

/// The progress bar, the status line and the error of the model's loading (or of files
/// dropped, `drop_error`).
#[component]
pub fn LoadStatus(model: ModelLoad, drop_error: RwSignal<Option<String>>) -> impl IntoView {
    let state = model.slot.state;
    let error = move || {
        state.with(|s| match s {
            JobState::Failed(e) => Some(e.clone()),
            _ => None,
        })
    };
    let percent = move || {
        state
            .with(|s| s.fraction())
            .map(|f| (f * 100.0).round() as u32)
            .unwrap_or(0)
    };
    view! {
        <progress data-testid="model-progress" max="100" value=move || percent().to_string()></progress>
        <p data-testid="model-status" aria-live="polite">{move || status_text(model)}</p>
        {move || error().or(drop_error.get()).map(|e| view! { <p class="error" data-testid="model-error" role="alert">{e}</p> })}
    }
}
