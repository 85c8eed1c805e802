//! An optional PEFT adapter: its two files chosen, read by the browser and attached in the
//! worker, what is attached, and Remove.

use leptos::prelude::*;
use wasm_bindgen::JsCast;

use super::files::read_file;
use crate::page::format::thousands;
use crate::page::job_state::JobState;
use crate::page::loading::adapter::AdapterLoad;
use crate::page::loading::DroppedFiles;

/// Sorts picked adapter files into adapter_config.json and the safetensors, and hands their
/// names and bytes to `attach`; what is missing or cannot be read is said in `error`.
fn load_adapter_files(
    attach: Callback<DroppedFiles>,
    error: RwSignal<Option<String>>,
    files: Option<web_sys::FileList>,
) {
    let Some(list) = files else { return };
    let files: Vec<web_sys::File> = (0..list.length()).filter_map(|i| list.get(i)).collect();
    let config = files
        .iter()
        .find(|f| f.name() == "adapter_config.json")
        .cloned();
    let weights = files
        .iter()
        .find(|f| f.name().ends_with(".safetensors"))
        .cloned();
    let (Some(config), Some(weights)) = (config, weights) else {
        let names: Vec<String> = files.iter().map(|f| f.name()).collect();
        error.set(Some(format!(
            "expected two files: adapter_config.json and adapter_model.safetensors; got: {}",
            names.join(", ")
        )));
        return;
    };
    error.set(None);
    wasm_bindgen_futures::spawn_local(async move {
        let mut bytes = Vec::new();
        for f in [&config, &weights] {
            match read_file(f).await {
                Ok(b) => bytes.push(b),
                Err(e) => return error.set(Some(e)),
            }
        }
        attach.run((vec![config.name(), weights.name()], bytes));
    });
}

/// The PEFT adapter panel. `attach` attaches files' names and bytes, `remove` removes the
/// adapter; `model_busy`: a model loads.
#[component]
pub fn AdapterPanel(
    adapter: AdapterLoad,
    model_busy: Signal<bool>,
    attach: Callback<DroppedFiles>,
    remove: Callback<()>,
) -> impl IntoView {
    let adapter_error = RwSignal::new(None::<String>);
    view! {
        <section class="panel" data-testid="model-adapter">
            <h3>"PEFT adapter (optional)"</h3>
            <p>"Attach a LoRA adapter saved by PEFT (adapter_config.json and adapter_model.safetensors, e.g. one this page exported after a sweep) to analyse the model at its fine-tuned weights. While it is attached, its rank, α, modules and layers replace the LoRA settings below, and a head it carries replaces the model's."</p>
            <div class="controls">
                <label class="filepick">"Choose the two files"
                    <input type="file" multiple accept=".json,.safetensors" data-testid="adapter-file-input"
                        disabled=move || model_busy.get() || adapter.slot.busy()
                        on:change=move |ev| {
                            let input: Option<web_sys::HtmlInputElement> = ev.target().and_then(|t| t.dyn_into().ok());
                            if let Some(input) = input { load_adapter_files(attach, adapter_error, input.files()); input.set_value(""); }
                        }
                    />
                </label>
                <button data-testid="adapter-remove" class="secondary"
                    disabled=move || adapter.slot.last.with(|a| a.is_none()) || adapter.slot.busy()
                    on:click=move |_| remove.run(())>"Remove the adapter"</button>
            </div>
            <p data-testid="adapter-status" aria-live="polite">{move || adapter.slot.last.with(|a| match a {
                None => "No adapter: fresh LoRA from the settings below.".to_string(),
                Some(a) => format!(
                    "Attached {}: r = {}, α = {} (scale {}), {} in layers {}: {} parameters{}.",
                    a.name, a.lora.r, a.lora.alpha, a.lora.scale(), a.modules.join(", "),
                    a.layers.iter().map(|l| l.to_string()).collect::<Vec<_>>().join(", "),
                    thousands(a.parameters),
                    if a.head { ", with its own head" } else { "" }
                ),
            })}</p>
            {move || {
                let failed = adapter.slot.state.with(|s| match s {
                    JobState::Failed(e) => Some(e.clone()),
                    _ => None,
                });
                failed.or(adapter_error.get()).map(|e| view! { <p class="error" data-testid="adapter-error" role="alert">{e}</p> })
            }}
        </section>
    }
}
