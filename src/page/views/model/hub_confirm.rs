//! What a hub probe found: the architecture and counts from config.json, the download size and
//! the button that downloads; or why the repository cannot be used.

use leptos::prelude::*;

use crate::page::format::{millions, thousands};
use crate::page::setup::Setup;
use crate::protocol::hub::{HubModel, HubProbe};

/// Bytes in MB: one decimal below 10 MB, whole above.
fn megabytes(bytes: u64) -> String {
    let mb = bytes as f64 / 1e6;
    if mb < 10.0 {
        format!("{mb:.1} MB")
    } else {
        format!("{mb:.0} MB")
    }
}

/// How much a download of the probed repository is (or that it is cached).
fn download_size(probe: &HubProbe) -> String {
    match (probe.cached, probe.download_bytes, probe.announced_bytes()) {
        (true, _, _) => "already in this browser's cache: no download".to_string(),
        (false, Some(b), _) => format!("{} to download", megabytes(b)),
        (false, None, Some(b)) => {
            format!("about {:.0} MB to download (the server did not state the size; 4 bytes per parameter)", b as f64 / 1e6)
        }
        _ => String::new(),
    }
}

/// The probe's answer for `probe`; its buttons clear `shown` (the probe shown), and Download
/// hands the repository to `load_hub`. `busy`: a model loads.
#[component]
pub fn HubConfirm(
    setup: RwSignal<Setup>,
    probe: HubProbe,
    shown: RwSignal<Option<HubProbe>>,
    busy: Signal<bool>,
    load_hub: Callback<HubModel>,
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
    let size = download_size(&probe);
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
            <button data-testid="model-hub-download" disabled=move || busy.get()
                on:click=move |_| { shown.set(None); load_hub.run(model.clone()) }>
                {button}
            </button>
            " "
            <button data-testid="model-hub-cancel" class="secondary" on:click=move |_| shown.set(None)>"Not now"</button>
        </div>
    }
    .into_any()
}
