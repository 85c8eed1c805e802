//! The Model tab: which encoder (bundled MiniLM, distilroberta-base from the hub, or dropped
//! files), its architecture and parameter counts, and the LoRA setup. Loading runs in the
//! worker with byte progress; a failure shows the core's message and keeps the model loaded.

use leptos::prelude::*;
use ntk_lens_core::lora::LoraModule;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use crate::page::compute::Compute;
use crate::page::format::{millions, thousands};
use crate::page::job_state::JobState;
use crate::page::setup::{ModelChoice, Setup, MAX_RANK};
use crate::protocol::loading::{ModelSource, DISTILROBERTA_BYTES, DISTILROBERTA_REVISION};

/// Sorts dropped files into config.json, the weights and tokenizer.json, and loads them.
fn load_files(compute: Compute, error: RwSignal<Option<String>>, files: Option<web_sys::FileList>) {
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
                Ok(b) => bytes.push(js_sys::Uint8Array::new(&b)),
                Err(e) => {
                    error.set(Some(format!("{}: could not be read ({e:?})", f.name())));
                    return;
                }
            }
        }
        compute.load_dropped(names, bytes);
    });
}

/// The Model tab's panels.
#[component]
pub fn ModelTab() -> impl IntoView {
    let compute = expect_context::<Compute>();
    let setup = expect_context::<RwSignal<Setup>>();
    // A link that names distilroberta asks before downloading it.
    let confirm_hub =
        RwSignal::new(setup.with_untracked(|s| s.model == ModelChoice::Distilroberta));
    let drop_error = RwSignal::new(None::<String>);
    let dragging = RwSignal::new(false);
    let layers_text = RwSignal::new(setup.with_untracked(|s| {
        s.lora_layers.as_ref().map_or("all".to_string(), |l| {
            l.iter()
                .map(|x| x.to_string())
                .collect::<Vec<_>>()
                .join(",")
        })
    }));
    let lora_input_error = RwSignal::new(None::<String>);
    let state = compute.model.state;
    let busy = move || state.with(|s| s.is_busy());
    let ready = move || compute.backend.with(|b| b.is_some());

    let status = move || {
        state.with(|s| match s {
            JobState::Idle => "Waiting for the compute worker…".to_string(),
            JobState::Running { message, .. } => format!("Loading: {message}"),
            JobState::Cancelling { .. } => "Cancelling the download…".into(),
            JobState::Done(_) => compute
                .model
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
    };
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

    let summary = move || {
        compute.model.last.get().map(|m| {
            let lora = setup.with(|s| s.lora_config());
            let classes = compute.dataset.with(|d| d.as_ref().map(|d| d.label_names.len())).unwrap_or(2);
            let lora_count = m.lora_count(&lora);
            let head = m.head_count(classes);
            let c = &m.config;
            let base = m.counts.base();
            let trainable = lora_count.as_ref().map(|l| l + head).ok();
            view! {
                <table class="results" data-testid="model-summary">
                    <tr><th>"model"</th><td data-testid="model-name">{m.name.clone()}</td></tr>
                    <tr><th>"family"</th><td data-testid="model-family">{m.family_label()}</td></tr>
                    <tr><th>"layers"</th><td data-testid="model-layers">{c.num_hidden_layers}</td></tr>
                    <tr><th>"hidden size"</th><td data-testid="model-hidden">{c.hidden_size}</td></tr>
                    <tr><th>"attention heads"</th><td data-testid="model-heads">{c.num_attention_heads}</td></tr>
                    <tr><th>"feed-forward size"</th><td data-testid="model-intermediate">{c.intermediate_size}</td></tr>
                    <tr><th>"vocabulary"</th><td data-testid="model-vocab">{thousands(c.vocab_size)}</td></tr>
                    <tr><th>"max positions"</th><td data-testid="model-max-positions">{c.max_position_embeddings}</td></tr>
                    <tr><th>"parameters (pretrained)"</th><td data-testid="model-params-total">{format!("{} ({})", thousands(base), millions(base))}</td></tr>
                    <tr><th>"LoRA trainable"</th><td data-testid="model-params-lora">{match &lora_count { Ok(n) => thousands(*n), Err(e) => e.clone() }}</td></tr>
                    <tr><th>{format!("head ({:?}, {classes} classes{})", m.head_kind, if m.own_head { ", the checkpoint's" } else { ", new" })}</th>
                        <td data-testid="model-params-head">{thousands(head)}</td></tr>
                    <tr><th>"trainable in all"</th><td data-testid="model-params-trainable">{trainable.map(thousands).unwrap_or_default()}</td></tr>
                </table>
                <p class="muted">{format!(
                    "LoRA adds r·(in + out) parameters per adapted matrix: {} matrices here, scale α/r = {}.",
                    lora.resolve(c.num_hidden_layers, "").map(|s| s.len()).unwrap_or(0), lora.scale()
                )}</p>
            }
        })
    };

    let target_box = move |m: LoraModule| {
        let checked = move || setup.with(|s| s.lora_targets.contains(&m));
        view! {
            <label class="check">
                <input type="checkbox" data-testid=format!("lora-target-{}", m.short_name())
                    prop:checked=checked
                    on:change=move |ev| {
                        let on = event_target_checked(&ev);
                        setup.update(|s| {
                            s.lora_targets.retain(|x| *x != m);
                            if on { s.lora_targets.push(m); s.lora_targets.sort(); }
                        });
                    }
                />
                {m.short_name()}
            </label>
        }
    };

    view! {
        <section class="panel" data-testid="model-source">
            <h3>"Encoder"</h3>
            <div class="controls">
                <button data-testid="model-load-minilm" disabled=move || busy() || !ready()
                    on:click=move |_| compute.load_model(ModelChoice::Minilm, ModelSource::Bundled, vec![])>
                    "all-MiniLM-L6-v2 (bundled, 22.7M)"
                </button>
                <button data-testid="model-load-hub" disabled=move || busy() || !ready()
                    on:click=move |_| confirm_hub.set(true)>
                    "distilroberta-base from Hugging Face…"
                </button>
                <button data-testid="model-cancel" disabled=move || !busy() on:click=move |_| compute.cancel_model()>"Cancel"</button>
            </div>
            {move || confirm_hub.get().then(|| view! {
                <div class="confirm" data-testid="model-hub-confirm">
                    <p>{format!(
                        "distilroberta-base (82M parameters) is downloaded from huggingface.co at revision {}: about {} MB. It is kept in the browser's cache afterwards, so later loads need no network. No referrer is sent.",
                        &DISTILROBERTA_REVISION[..10], DISTILROBERTA_BYTES / 1_000_000
                    )}</p>
                    <button data-testid="model-hub-download" disabled=move || busy() || !ready()
                        on:click=move |_| { confirm_hub.set(false); compute.load_model(ModelChoice::Distilroberta, ModelSource::distilroberta(), vec![]) }>
                        {format!("Download {} MB", DISTILROBERTA_BYTES / 1_000_000)}
                    </button>
                    " "
                    <button data-testid="model-hub-cancel" class="secondary" on:click=move |_| confirm_hub.set(false)>"Not now"</button>
                </div>
            })}
            <div class="dropzone" class:dragging=move || dragging.get() data-testid="model-dropzone"
                on:dragover=move |ev: web_sys::DragEvent| { ev.prevent_default(); dragging.set(true); }
                on:dragleave=move |_| dragging.set(false)
                on:drop=move |ev: web_sys::DragEvent| {
                    ev.prevent_default();
                    dragging.set(false);
                    load_files(compute, drop_error, ev.data_transfer().and_then(|d| d.files()));
                }
            >
                <p>"Or drop a BERT- or RoBERTa-family model here: config.json, model.safetensors (fp32, fp16 or bf16) and tokenizer.json together, or "
                    <label class="filepick">"choose them"
                        <input type="file" multiple accept=".json,.safetensors" data-testid="model-file-input"
                            on:change=move |ev| {
                                let input: Option<web_sys::HtmlInputElement> = ev.target().and_then(|t| t.dyn_into().ok());
                                if let Some(input) = input { load_files(compute, drop_error, input.files()); input.set_value(""); }
                            }
                        />
                    </label>"."
                </p>
            </div>
            <progress data-testid="model-progress" max="100" value=move || percent().to_string()></progress>
            <p data-testid="model-status" aria-live="polite">{status}</p>
            {move || error().or(drop_error.get()).map(|e| view! { <p class="error" data-testid="model-error" role="alert">{e}</p> })}
        </section>
        <section class="panel" data-testid="model-architecture">
            <h3>"Architecture and parameters"</h3>
            {summary}
        </section>
        <section class="panel" data-testid="lora-setup">
            <h3>"LoRA"</h3>
            <p>"Each adapted weight matrix W gets W + (α/r)·B·A, with A (r × in) drawn at random and B (out × r) starting at zero, so training starts from the pretrained model. Only A and B (and the new head) are trained."</p>
            <div class="controls">
                <label>"Rank r "
                    <input type="number" min="1" max=MAX_RANK.to_string() data-testid="lora-rank"
                        prop:value=move || setup.with(|s| s.lora_r.to_string())
                        on:change={move |ev| match event_target_value(&ev).trim().parse::<usize>() {
                            Ok(r) if (1..=MAX_RANK).contains(&r) => { lora_input_error.set(None); setup.update(|s| s.lora_r = r) }
                            _ => lora_input_error.set(Some(format!("Rank: expected a whole number from 1 to {MAX_RANK}"))),
                        }}
                    />
                </label>
                <label>"Alpha α "
                    <input type="text" inputmode="decimal" data-testid="lora-alpha"
                        prop:value=move || setup.with(|s| s.lora_alpha.to_string())
                        on:change={move |ev| match event_target_value(&ev).trim().parse::<f64>() {
                            Ok(a) if a.is_finite() && a > 0.0 => { lora_input_error.set(None); setup.update(|s| s.lora_alpha = a) }
                            _ => lora_input_error.set(Some("Alpha: expected a positive number".into())),
                        }}
                    />
                </label>
                <label>"Layers "
                    <input type="text" data-testid="lora-layers" title="all, or layer numbers such as 0,1,5"
                        prop:value=move || layers_text.get()
                        on:change=move |ev| {
                            let text = event_target_value(&ev);
                            layers_text.set(text.clone());
                            let t = text.trim();
                            if t == "all" || t.is_empty() {
                                lora_input_error.set(None);
                                setup.update(|s| s.lora_layers = None);
                                return;
                            }
                            let parsed: Option<Vec<usize>> = t.split(',').map(|x| x.trim().parse().ok()).collect();
                            match parsed {
                                Some(mut l) if !l.is_empty() => { l.sort_unstable(); l.dedup(); lora_input_error.set(None); setup.update(|s| s.lora_layers = Some(l)) }
                                _ => lora_input_error.set(Some(format!("Layers: expected all, or layer numbers such as 0,1,5; got \"{text}\""))),
                            }
                        }
                    />
                </label>
            </div>
            <div class="controls" data-testid="lora-targets">
                "Adapted matrices: "
                {LoraModule::ALL.into_iter().map(target_box).collect_view()}
            </div>
            {move || lora_input_error.get().map(|e| view! { <p class="error" data-testid="lora-input-error">{e}</p> })}
        </section>
    }
}
