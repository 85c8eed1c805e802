//! The Model tab: which encoder (bundled MiniLM, any BERT/RoBERTa-family repository of the hub
//! or a mirror, or dropped files), its architecture and parameter counts (from config.json
//! before a hub download), an optional PEFT adapter, and the LoRA setup. Loading runs in the
//! worker with byte progress; a failure shows the core's message and keeps the model loaded.
//!
//! * [`hub`]: a hub repository, checked before its download ([`hub_confirm`]);
//! * [`files`]: a model of one's own files; [`status`]: the loading's progress and status;
//! * [`architecture`]: the architecture and parameter counts; [`adapter`]: a PEFT adapter;
//! * [`lora`]: the LoRA settings.

mod adapter;
mod architecture;
mod files;
mod hub;
mod hub_confirm;
mod lora;
mod status;

use leptos::prelude::*;

use crate::page::setup::ModelChoice;
use crate::page::Page;
use crate::protocol::hub::HubModel;
use crate::protocol::loading::ModelSource;
use adapter::AdapterPanel;
use architecture::ArchitecturePanel;
use files::ModelDropzone;
use hub::HubForm;
use lora::LoraPanel;
use status::LoadStatus;

/// The Model tab's panels.
#[component]
pub fn ModelTab() -> impl IntoView {
    let page = expect_context::<Page>();
    let (model, adapter) = (page.loading.model, page.loading.adapter);
    let busy = Signal::derive(move || model.slot.state.with(|s| s.is_busy()));
    let ready = Signal::derive(move || page.compute.backend.with(|b| b.is_some()));
    let probe = Callback::new(move |m| page.loading.probe.probe(page, m));
    let load_hub = Callback::new(move |m| model.load_hub(page, m));
    let load_dropped = Callback::new(move |(names, bytes)| model.load_dropped(page, names, bytes));
    let attach = Callback::new(move |(names, bytes)| adapter.attach(page, names, bytes));
    let remove = Callback::new(move |_| adapter.remove(page));
    let drop_error = RwSignal::new(None::<String>);
    view! {
        <section class="panel" data-testid="model-source">
            <h3>"Encoder"</h3>
            <div class="controls">
                <button data-testid="model-load-minilm" disabled=move || busy.get() || !ready.get()
                    on:click=move |_| model.load(page, ModelChoice::Minilm, ModelSource::Bundled, vec![])>
                    "all-MiniLM-L6-v2 (bundled, 22.7M)"
                </button>
                // The design's model: its config.json is read first, and the confirmation
                // below says its size before anything large is downloaded.
                <button data-testid="model-load-distilroberta"
                    title="distilbert/distilroberta-base at a pinned revision, from the hub (or the mirror of ?hub=)"
                    disabled=move || busy.get() || !ready.get() || page.loading.probe.slot.busy()
                    on:click=move |_| probe.run(HubModel::distilroberta())>
                    "distilroberta-base (from the hub)"
                </button>
                <button data-testid="model-cancel" disabled=move || !busy.get() on:click=move |_| model.cancel(page)>"Cancel"</button>
            </div>
            <HubForm setup=page.setup probe_job=page.loading.probe busy=busy ready=ready probe=probe load_hub=load_hub />
            <ModelDropzone busy=busy ready=ready error=drop_error load=load_dropped />
            <LoadStatus model=model drop_error=drop_error />
        </section>
        <ArchitecturePanel
            setup=page.setup
            model=model.slot.last
            adapter=adapter.slot.last
            dataset=page.loading.data.dataset
        />
        <AdapterPanel adapter=adapter model_busy=busy attach=attach remove=remove />
        <LoraPanel setup=page.setup />
    }
}
