//! The loaded model's architecture and parameter counts: pretrained, LoRA (with the adapter's
//! settings when one is attached) and the head.

use leptos::prelude::*;

use crate::page::format::{millions, thousands};
use crate::page::setup::Setup;
use crate::protocol::loading::{AdapterSummary, DatasetSummary, ModelSummary};

/// The Architecture and parameters panel of the loaded `model`, with the LoRA of the attached
/// `adapter` (else the setup's) and the head for the active `dataset`'s classes.
#[component]
pub fn ArchitecturePanel(
    setup: RwSignal<Setup>,
    model: RwSignal<Option<ModelSummary>>,
    adapter: RwSignal<Option<AdapterSummary>>,
    dataset: RwSignal<Option<DatasetSummary>>,
) -> impl IntoView {
    let summary = move || {
        model.get().map(|m| {
            let lora = adapter
                .with(|a| a.as_ref().map(|a| a.lora.clone()))
                .unwrap_or_else(|| setup.with(|s| s.lora.config()));
            let classes = dataset.with(|d| d.as_ref().map(|d| d.label_names.len())).unwrap_or(2);
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
    view! {
        <section class="panel" data-testid="model-architecture">
            <h3>"Architecture and parameters"</h3>
            {summary}
        </section>
    }
}
