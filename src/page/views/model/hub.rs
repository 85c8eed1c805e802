//! A model from a hub (or a mirror): the repository and revision, Check (which reads its
//! config.json in the worker), and what the check found.

use leptos::prelude::*;

use super::hub_confirm::HubConfirm;
use crate::page::job_state::JobState;
use crate::page::loading::probe::HubProbeJob;
use crate::page::setup::{ModelChoice, Setup};
use crate::protocol::hub::{HubModel, DEFAULT_HUB, SUGGESTIONS};

/// The hub form, the hub it reads, its errors and the probe's answer. `probe` checks a
/// repository (`probe_job` shows the check); `load_hub` downloads one; `busy`: a model loads;
/// `ready`: the worker is up.
#[component]
pub fn HubForm(
    setup: RwSignal<Setup>,
    probe_job: HubProbeJob,
    busy: Signal<bool>,
    ready: Signal<bool>,
    probe: Callback<HubModel>,
    load_hub: Callback<HubModel>,
) -> impl IntoView {
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
            if done == Some(true) || !ready.get() {
                return done.unwrap_or(false);
            }
            probe.run(m.clone());
            true
        });
    }
    let check =
        move || match HubModel::new(&hub_repo.get_untracked(), &hub_revision.get_untracked()) {
            Ok(m) => {
                hub_error.set(None);
                probe.run(m);
            }
            Err(e) => hub_error.set(Some(e)),
        };
    let endpoint = move || setup.with(|s| s.model.hub_endpoint().to_string());
    view! {
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
            <button data-testid="model-hub-check" disabled=move || !ready.get() || probe_job.slot.busy()
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
        {move || probe_job.slot.state.with(|s| match s {
            JobState::Failed(e) => Some(view! { <p class="error" data-testid="model-hub-probe-error" role="alert">{e.clone()}</p> }.into_any()),
            JobState::Running { .. } => Some(view! { <p class="muted">"Reading config.json…"</p> }.into_any()),
            _ => None,
        })}
        {move || probe_job.slot.last.get().map(|p| view! {
            <HubConfirm setup=setup probe=p shown=probe_job.slot.last busy=busy load_hub=load_hub />
        })}
    }
}
