//! A dataset file of one's own: dropped or chosen, checked against the size limit, read by the
//! browser and handed to the worker.

use js_sys::Uint8Array;
use leptos::prelude::*;
use ntk_lens_core::data::limits::{
    MAX_CLASSES, MAX_INPUT_BYTES, MAX_LINE_BYTES, MAX_ROWS, MAX_TEXT_CHARS,
};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use crate::page::format::thousands;

/// Reads the first file of a file list and hands its name and bytes to `upload`; what cannot
/// be read is said in `error`.
fn read_file(
    error: RwSignal<Option<String>>,
    upload: Callback<(String, Uint8Array)>,
    files: Option<web_sys::FileList>,
) {
    let Some(file) = files.and_then(|f| f.get(0)) else {
        return;
    };
    let name = file.name();
    if file.size() > MAX_INPUT_BYTES as f64 {
        // Not even read: the core's limit, said before copying 50+ MB around.
        error.set(Some(format!(
            "{name}: the file has {} bytes, more than the limit of {MAX_INPUT_BYTES} bytes",
            file.size()
        )));
        return;
    }
    wasm_bindgen_futures::spawn_local(async move {
        match JsFuture::from(file.array_buffer()).await {
            Ok(buffer) => upload.run((name, Uint8Array::new(&buffer))),
            Err(e) => error.set(Some(format!(
                "{name}: the browser could not read the file ({e:?})"
            ))),
        }
    });
}

/// The drop zone with its file picker and the limits of a file. `upload` reads a file's name
/// and bytes; `error` is the dataset's error line.
#[component]
pub fn DataDropzone(
    error: RwSignal<Option<String>>,
    upload: Callback<(String, Uint8Array)>,
) -> impl IntoView {
    let dragging = RwSignal::new(false);
    view! {
        <div
            class="dropzone"
            class:dragging=move || dragging.get()
            data-testid="data-dropzone"
            on:dragover=move |ev: web_sys::DragEvent| { ev.prevent_default(); dragging.set(true); }
            on:dragleave=move |_| dragging.set(false)
            on:drop=move |ev: web_sys::DragEvent| {
                ev.prevent_default();
                dragging.set(false);
                read_file(error, upload, ev.data_transfer().and_then(|d| d.files()));
            }
        >
            <p>"Drop a CSV, TSV, JSON or JSONL file here, or "
                <label class="filepick">
                    "choose one"
                    <input
                        type="file"
                        accept=".csv,.tsv,.json,.jsonl,.txt"
                        data-testid="data-file-input"
                        on:change=move |ev| {
                            let input: Option<web_sys::HtmlInputElement> = ev.target().and_then(|t| t.dyn_into().ok());
                            if let Some(input) = input {
                                read_file(error, upload, input.files());
                                input.set_value("");
                            }
                        }
                    />
                </label>
                "."
            </p>
            <p class="muted" data-testid="data-limits">{format!(
                "Limits: files up to {} MB, {} rows, {} characters per text, {} MiB per line, {} classes. A header line names the columns; the file is read in the compute worker, so the page stays responsive.",
                MAX_INPUT_BYTES / (1024 * 1024), thousands(MAX_ROWS), thousands(MAX_TEXT_CHARS), MAX_LINE_BYTES / (1024 * 1024), thousands(MAX_CLASSES)
            )}</p>
        </div>
    }
}
