//! The Model tab: which encoder (bundled MiniLM, any BERT/RoBERTa-family repository of the hub
//! or a mirror, or dropped files), its architecture and parameter counts (from config.json
//! before a hub download), an optional PEFT adapter, and the LoRA setup. Loading runs in the
//! worker with byte progress; a failure shows the core's message and keeps the model loaded.

use leptos::prelude::*;
use ntk_lens_core::lora::LoraModule;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use crate::page::format::{millions, thousands};
use crate::page::job_state::JobState;
use crate::page::setup::{ModelChoice, Setup, MAX_RANK};
use crate::page::Page;
use crate::protocol::hub::{HubModel, HubProbe, DEFAULT_HUB, SUGGESTIONS};
use crate::protocol::loading::ModelSource;

/// Bytes in MB: one decimal below 10 MB, whole above.
fn megabytes(bytes: u64) -> String {
    let mb = bytes as f64 / 1e6;
    if mb < 10.0 {
        format!("{mb:.1} MB")
    } else {
        format!("{mb:.0} MB")
    }
}

/// Reads a picked file's bytes.
async fn read_file(f: &web_sys::File) -> Result<js_sys::Uint8Array, String> {
    JsFuture::from(f.array_buffer())
        .await
        .map(|b| js_sys::Uint8Array::new(&b))
        .map_err(|e| format!("{}: could not be read ({e:?})", f.name()))
}

/// Sorts picked adapter files into adapter_config.json and the safetensors, and attaches them.
fn load_adapter_files(
    page: Page,
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
        page.loading
            .adapter
            .attach(page, vec![config.name(), weights.name()], bytes);
    });
}

/// What a probe found: the architecture and counts from config.json, the download size and
/// the button that downloads; or why the repository cannot be used.
fn probe_view(
    page: Page,
    setup: RwSignal<Setup>,
    probe: HubProbe,
    busy: impl Fn() -> bool + Send + Sync + Copy + 'static,
) -> impl IntoView {
    let model = probe.job.model.clone();
    let config = match &probe.config {
        Ok(c) => c.clone(),
        Err(e) => {
            return view! { <p class="error" data-testid="model-hub-probe-error" role="alert">{e.clone()}</p> }
                .into_any()
        }
    };
    let counts = probe.counts().unwrap_or_default();
    let family = match config.family {
        ntk_lens_core::model::Family::Bert => "BERT family",
        ntk_lens_core::model::Family::Roberta => "RoBERTa family",
    };
    let arch = config
        .architectures
        .first()
        .cloned()
        .unwrap_or_else(|| "(none named)".into());
    let size = match (probe.cached, probe.download_bytes, probe.announced_bytes()) {
        (true, _, _) => "already in this browser's cache: no download".to_string(),
        (false, Some(b), _) => format!("{} to download", megabytes(b)),
        (false, None, Some(b)) => {
            format!("about {:.0} MB to download (the server did not state the size; 4 bytes per parameter)", b as f64 / 1e6)
        }
        _ => String::new(),
    };
    let button = if probe.cached {
        "Load from the cache".to_string()
    } else {
        format!(
            "Download {:.0} MB",
            probe.announced_bytes().unwrap_or(0) as f64 / 1e6
        )
    };
    let lora = move || {
        let lora = setup.with(|s| s.lora.config());
        match probe.lora_count(&lora) {
            Ok(n) => thousands(n),
            Err(e) => e,
        }
    };
    view! {
        <div class="confirm" data-testid="model-hub-confirm">
            <p data-testid="model-hub-about">{format!(
                "{} at {}: {family} ({arch}), {} layers, hidden size {}, {} heads.",
                model.repo, model.revision, config.num_hidden_layers, config.hidden_size, config.num_attention_heads
            )}</p>
            <table class="results">
                <tr><th>"parameters, from config.json"</th><td data-testid="model-hub-params">{format!("{} ({})", thousands(counts.total()), millions(counts.total()))}</td></tr>
                <tr><th>"LoRA trainable with the settings below"</th><td data-testid="model-hub-lora">{lora}</td></tr>
                <tr><th>"download"</th><td data-testid="model-hub-size">{size}</td></tr>
            </table>
            <p class="muted">"It is kept in the browser's cache afterwards, so later loads need no network. No referrer is sent."</p>
            <button data-testid="model-hub-download" disabled=busy
                on:click=move |_| { page.loading.probe.slot.last.set(None); page.loading.model.load_hub(page, model.clone()) }>
                {button}
            </button>
            " "
            <button data-testid="model-hub-cancel" class="secondary" on:click=move |_| page.loading.probe.slot.last.set(None)>"Not now"</button>
        </div>
    }
    .into_any()
}

/// Sorts dropped files into config.json, the weights and tokenizer.json, and loads them.
fn load_files(page: Page, error: RwSignal<Option<String>>, files: Option<web_sys::FileList>) {
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
        page.loading.model.load_dropped(page, names, bytes);
    });
}

/// The Model tab's panels.
#[component]
pub fn ModelTab() -> impl IntoView {
    let page = expect_context::<Page>();
    let setup = expect_context::<RwSignal<Setup>>();
    // The repository in the address (or distilroberta-base) fills the form; a link that
    // names a hub model reads its config.json and asks before downloading the weights.
    let linked = setup.with_untracked(|s| match &s.model.choice {
        ModelChoice::Hub(m) => Some(m.clone()),
        _ => None,
    });
    let start = linked.clone().unwrap_or_else(HubModel::distilroberta);
    let hub_repo = RwSignal::new(start.repo.clone());
    let hub_revision = RwSignal::new(start.revision.clone());
    let hub_error = RwSignal::new(None::<String>);
    if let Some(m) = linked {
        Effect::new(move |done: Option<bool>| {
            if done == Some(true) || page.compute.backend.with(|b| b.is_none()) {
                return done.unwrap_or(false);
            }
            page.loading.probe.probe(page, m.clone());
            true
        });
    }
    let check =
        move || match HubModel::new(&hub_repo.get_untracked(), &hub_revision.get_untracked()) {
            Ok(m) => {
                hub_error.set(None);
                page.loading.probe.probe(page, m);
            }
            Err(e) => hub_error.set(Some(e)),
        };
    let endpoint = move || setup.with(|s| s.model.hub_endpoint().to_string());
    let adapter_error = RwSignal::new(None::<String>);
    let drop_error = RwSignal::new(None::<String>);
    let dragging = RwSignal::new(false);
    // What is typed in Layers (kept as typed when it does not parse), following the setup when
    // its layers change elsewhere (the layer study, the pinned settings of a comparison).
    let layers_of = move |s: &Setup| {
        s.lora.layers.as_ref().map_or("all".to_string(), |l| {
            l.iter()
                .map(|x| x.to_string())
                .collect::<Vec<_>>()
                .join(",")
        })
    };
    let layers_text = RwSignal::new(setup.with_untracked(layers_of));
    let setup_layers = Memo::new(move |_| setup.with(layers_of));
    Effect::new(move |_| layers_text.set(setup_layers.get()));
    let lora_input_error = RwSignal::new(None::<String>);
    let state = page.loading.model.slot.state;
    let busy = move || state.with(|s| s.is_busy());
    let ready = move || page.compute.backend.with(|b| b.is_some());

    let status = move || {
        state.with(|s| match s {
            JobState::Idle => "Waiting for the compute worker…".to_string(),
            JobState::Running { message, .. } => format!("Loading: {message}"),
            JobState::Cancelling { .. } => "Cancelling the download…".into(),
            JobState::Done(_) => page
                .loading
                .model
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
        page.loading.model.slot.last.get().map(|m| {
            let lora = page.loading.adapter.slot.last
                .with(|a| a.as_ref().map(|a| a.lora.clone()))
                .unwrap_or_else(|| setup.with(|s| s.lora.config()));
            let classes = page.loading.data.dataset.with(|d| d.as_ref().map(|d| d.label_names.len())).unwrap_or(2);
            let lora_count = m.lora_count(&lora);
            let head = m.head_count(classes);
            let c = &m.config;
            let base = m.counts.base();
            let trainable = lora_count.as_ref().map(|l| l + head).ok();
            view! {
                <table class="results" data-testid="model-summary">
                    <tr><th>"model"</th><td data-testid="model-name">{m.name.clone()}</td></tr>
                    <tr><th>"from"</th><td data-testid="model-origin">{m.origin.clone()}</td></tr>
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
                    <tr><th>"LoRA + head (if the head is trained)"</th><td data-testid="model-params-trainable">{trainable.map(thousands).unwrap_or_default()}</td></tr>
                </table>
                <p class="muted">{format!(
                    "LoRA adds r·(in + out) parameters per adapted matrix: {} matrices here, scale α/r = {}.",
                    lora.resolve(c.num_hidden_layers, "").map(|s| s.len()).unwrap_or(0), lora.scale()
                )}</p>
            }
        })
    };

    let target_box = move |m: LoraModule| {
        let checked = move || setup.with(|s| s.lora.targets.contains(&m));
        view! {
            <label class="check">
                <input type="checkbox" data-testid=format!("lora-target-{}", m.short_name())
                    prop:checked=checked
                    on:change=move |ev| {
                        let on = event_target_checked(&ev);
                        setup.update(|s| {
                            s.lora.targets.retain(|x| *x != m);
                            if on { s.lora.targets.push(m); s.lora.targets.sort(); }
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
                    on:click=move |_| page.loading.model.load(page, ModelChoice::Minilm, ModelSource::Bundled, vec![])>
                    "all-MiniLM-L6-v2 (bundled, 22.7M)"
                </button>
                <button data-testid="model-cancel" disabled=move || !busy() on:click=move |_| page.loading.model.cancel(page)>"Cancel"</button>
            </div>
            <div class="controls" data-testid="model-hub">
                <label>"From a hub: repository "
                    <input type="text" list="hub-suggestions" class="wide" data-testid="model-hub-repo"
                        prop:value=move || hub_repo.get()
                        on:change=move |ev| {
                            let v = event_target_value(&ev);
                            if let Some(s) = SUGGESTIONS.iter().find(|s| s.repo == v.trim()) {
                                hub_revision.set(s.revision.to_string());
                            }
                            hub_repo.set(v);
                        }
                        on:keydown=move |ev: web_sys::KeyboardEvent| if ev.key() == "Enter" { check() }
                    />
                </label>
                <datalist id="hub-suggestions">
                    {SUGGESTIONS.iter().map(|s| view! { <option value=s.repo>{s.about}</option> }).collect_view()}
                </datalist>
                <label>"revision "
                    <input type="text" size="14" data-testid="model-hub-revision" title="a commit, branch or tag; empty = main"
                        prop:value=move || hub_revision.get()
                        on:change=move |ev| hub_revision.set(event_target_value(&ev))
                        on:keydown=move |ev: web_sys::KeyboardEvent| if ev.key() == "Enter" { check() }
                    />
                </label>
                <button data-testid="model-hub-check" disabled=move || !ready() || page.loading.probe.slot.busy()
                    on:click=move |_| check()>"Check"</button>
            </div>
            <p class="muted" data-testid="model-hub-endpoint">{move || {
                let e = endpoint();
                if e == DEFAULT_HUB {
                    format!("Hub: {e}. BERT- and RoBERTa-family encoders with model.safetensors and tokenizer.json work (MiniLM, distilroberta, BERT, RoBERTa); Check reads config.json and says the size before anything large is downloaded. A mirror: add ?hub=<its URL> to the address.")
                } else {
                    format!("Hub: {e} (a mirror, from ?hub= in the address). BERT- and RoBERTa-family encoders with model.safetensors and tokenizer.json work.")
                }
            }}</p>
            {move || hub_error.get().map(|e| view! { <p class="error" data-testid="model-hub-input-error">{e}</p> })}
            {move || page.loading.probe.slot.state.with(|s| match s {
                crate::page::job_state::JobState::Failed(e) => Some(view! { <p class="error" data-testid="model-hub-probe-error" role="alert">{e.clone()}</p> }.into_any()),
                crate::page::job_state::JobState::Running { .. } => Some(view! { <p class="muted">"Reading config.json…"</p> }.into_any()),
                _ => None,
            })}
            {move || page.loading.probe.slot.last.get().map(|p| probe_view(page, setup, p, busy))}
            <div class="dropzone" class:dragging=move || dragging.get() data-testid="model-dropzone"
                on:dragover=move |ev: web_sys::DragEvent| { ev.prevent_default(); dragging.set(true); }
                on:dragleave=move |_| dragging.set(false)
                on:drop=move |ev: web_sys::DragEvent| {
                    ev.prevent_default();
                    dragging.set(false);
                    if busy() || !ready() {
                        drop_error.set(Some("A model is loading: drop the files again once it has loaded, or press Cancel first.".into()));
                        return;
                    }
                    load_files(page, drop_error, ev.data_transfer().and_then(|d| d.files()));
                }
            >
                <p>"Or drop a BERT- or RoBERTa-family model here: config.json, model.safetensors (fp32, fp16 or bf16) and tokenizer.json together, or "
                    <label class="filepick">"choose them"
                        <input type="file" multiple accept=".json,.safetensors" data-testid="model-file-input"
                            disabled=move || busy() || !ready()
                            on:change=move |ev| {
                                let input: Option<web_sys::HtmlInputElement> = ev.target().and_then(|t| t.dyn_into().ok());
                                if let Some(input) = input { load_files(page, drop_error, input.files()); input.set_value(""); }
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
        <section class="panel" data-testid="model-adapter">
            <h3>"PEFT adapter (optional)"</h3>
            <p>"Attach a LoRA adapter saved by PEFT (adapter_config.json and adapter_model.safetensors, e.g. one this page exported after a sweep) to analyse the model at its fine-tuned weights. While it is attached, its rank, α, modules and layers replace the LoRA settings below, and a head it carries replaces the model's."</p>
            <div class="controls">
                <label class="filepick">"Choose the two files"
                    <input type="file" multiple accept=".json,.safetensors" data-testid="adapter-file-input"
                        disabled=move || busy() || page.loading.adapter.slot.busy()
                        on:change=move |ev| {
                            let input: Option<web_sys::HtmlInputElement> = ev.target().and_then(|t| t.dyn_into().ok());
                            if let Some(input) = input { load_adapter_files(page, adapter_error, input.files()); input.set_value(""); }
                        }
                    />
                </label>
                <button data-testid="adapter-remove" class="secondary"
                    disabled=move || page.loading.adapter.slot.last.with(|a| a.is_none()) || page.loading.adapter.slot.busy()
                    on:click=move |_| page.loading.adapter.remove(page)>"Remove the adapter"</button>
            </div>
            <p data-testid="adapter-status" aria-live="polite">{move || page.loading.adapter.slot.last.with(|a| match a {
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
                let failed = page.loading.adapter.slot.state.with(|s| match s {
                    crate::page::job_state::JobState::Failed(e) => Some(e.clone()),
                    _ => None,
                });
                failed.or(adapter_error.get()).map(|e| view! { <p class="error" data-testid="adapter-error" role="alert">{e}</p> })
            }}
        </section>
        <section class="panel" data-testid="lora-setup">
            <h3>"LoRA"</h3>
            <p>"Each adapted weight matrix W gets W + (α/r)·B·A, with A (r × in) drawn at random and B (out × r) starting at zero, so training starts from the pretrained model. By default training changes only A and B; the classification head stays frozen."</p>
            <div class="controls">
                <label>"Rank r "
                    <input type="number" min="1" max=MAX_RANK.to_string() data-testid="lora-rank"
                        prop:value=move || setup.with(|s| s.lora.r.to_string())
                        on:change={move |ev| match event_target_value(&ev).trim().parse::<usize>() {
                            Ok(r) if (1..=MAX_RANK).contains(&r) => { lora_input_error.set(None); setup.update(|s| s.lora.r = r) }
                            _ => lora_input_error.set(Some(format!("Rank: expected a whole number from 1 to {MAX_RANK}"))),
                        }}
                    />
                </label>
                <label>"Alpha α "
                    <input type="text" inputmode="decimal" data-testid="lora-alpha"
                        prop:value=move || setup.with(|s| s.lora.alpha.to_string())
                        on:change={move |ev| match event_target_value(&ev).trim().parse::<f64>() {
                            Ok(a) if a.is_finite() && a > 0.0 => { lora_input_error.set(None); setup.update(|s| s.lora.alpha = a) }
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
                                setup.update(|s| s.lora.layers = None);
                                return;
                            }
                            let parsed: Option<Vec<usize>> = t.split(',').map(|x| x.trim().parse().ok()).collect();
                            match parsed {
                                Some(mut l) if !l.is_empty() => { l.sort_unstable(); l.dedup(); lora_input_error.set(None); setup.update(|s| s.lora.layers = Some(l)) }
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
