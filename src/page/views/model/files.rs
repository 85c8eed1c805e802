//! A model of one's own files: config.json, the weights and tokenizer.json, dropped or chosen
//! together, read by the browser and handed to the worker.

use js_sys::Uint8Array;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use crate::page::loading::DroppedFiles;

/// Reads a picked file's bytes.
pub(super) async fn read_file(f: &web_sys::File) -> Result<Uint8Array, String> {
    JsFuture::from(f.array_buffer())
        .await
        .map(|b| Uint8Array::new(&b))
        .map_err(|e| format!("{}: could not be read ({e:?})", f.name()))
}

/// Sorts dropped files into config.json, the weights and tokenizer.json, and hands their names
/// and bytes to `load`; what is missing or cannot be read is said in `error`.
fn load_files(
    load: Callback<DroppedFiles>,
    error: RwSignal<Option<String>>,
    files: Option<web_sys::FileList>,
) {
    let Some(list) = files else { return };
    let files: Vec<web_sys::File> = (0..list.length()).filter_map(|i| list.get(i)).collect();
    let find = |pred: &dyn Fn(&str) -> bool| files.iter().find(|f| pred(&f.name())).cloned();
    let config = find(&|n| n == "config.json");
    let weights = find(&|n| n.ends_with(".safetensors"));
    let tokenizer = find(&|n| n == "tokenizer.json");
    let (Some(config), Some(weights), Some(tokenizer)) = (config, weights, tokenizer) else {
        let names: Vec<String> = files.iter().map(|f| f.name()).collect();
        error.set(Some(format!(
            "expected three files: config.json, a .safetensors file and tokenizer.json; got: {}",
            names.join(", ")
        )));
        return;
    };
    error.set(None);
    wasm_bindgen_futures::spawn_local(async move {
        let mut bytes = Vec::new();
        let mut names = Vec::new();
        for f in [config, weights, tokenizer] {
            names.push(f.name());
            match JsFuture::from(f.array_buffer()).await {
                Ok(b) => bytes.push(Uint8Array::new(&b)),
                Err(e) => {
                    error.set(Some(format!("{}: could not be read ({e:?})", f.name())));
                    return;
                }
            }
        }
        load.run((names, bytes));
    });
}

/// The drop zone and file picker for a model's files. `load` loads the files' names and bytes;
/// `error` says what went wrong; `busy`: a model loads; `ready`: the worker is up.
#[component]
pub fn ModelDropzone(
    busy: Signal<bool>,
    ready: Signal<bool>,
    error: RwSignal<Option<String>>,
    load: Callback<DroppedFiles>,
) -> impl IntoView {
    let dragging = RwSignal::new(false);
    view! {
        <div class="dropzone" class:dragging=move || dragging.get() data-testid="model-dropzone"
            on:dragover=move |ev: web_sys::DragEvent| { ev.prevent_default(); dragging.set(true); }
            on:dragleave=move |_| dragging.set(false)
            on:drop=move |ev: web_sys::DragEvent| {
                ev.prevent_default();
                dragging.set(false);
                if busy.get() || !ready.get() {
                    error.set(Some("A model is loading: drop the files again once it has loaded, or press Cancel first.".into()));
                    return;
                }
                load_files(load, error, ev.data_transfer().and_then(|d| d.files()));
            }
        >
            <p>"Or drop a BERT- or RoBERTa-family model here: config.json, model.safetensors (fp32, fp16 or bf16) and tokenizer.json together, or "
                <label class="filepick">"choose them"
                    <input type="file" multiple accept=".json,.safetensors" data-testid="model-file-input"
                        disabled=move || busy.get() || !ready.get()
                        on:change=move |ev| {
                            let input: Option<web_sys::HtmlInputElement> = ev.target().and_then(|t| t.dyn_into().ok());
                            if let Some(input) = input { load_files(load, error, input.files()); input.set_value(""); }
                        }
                    />
                </label>"."
            </p>
        </div>
    }
}
