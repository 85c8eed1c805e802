//! Two NTK setups side by side (NTK tab): pin the NTK shown, change the model, the LoRA modules
//! or layers, or the samples, compute again, and see both spectra on one chart, κ, effective
//! rank and alignment in two columns, and the block shares aligned by block.
//!
//! * this module: what is pinned, Pin, Unpin and Use the pinned settings;
//! * [`table`]: the numbers in two columns; [`charts`]: both spectra and the block shares.

mod charts;
mod table;

use leptos::prelude::*;

use crate::page::analyses::ntk::Ntk;
use crate::page::persist::{load_pinned, save_pinned};
use crate::page::pin::{describe, NtkSnapshot, Pinned};
use crate::page::setup::{ModelChoice, Setup};
use crate::protocol::loading::ModelSummary;
use charts::CompareCharts;
use table::CompareTable;

/// What is pinned, as the comparison sees it.
#[derive(Clone, PartialEq)]
enum PinState {
    /// Nothing.
    None,
    /// The pinned setup and its numbers.
    Found(Box<NtkSnapshot>),
    /// The address names a pinned setup whose numbers are not in this browser (a shared link,
    /// or cleared storage).
    Missing(String),
}

/// The comparison panel: the setup's pin (in the address, its numbers in this browser's
/// storage) against the last NTK (`ntk`, described with the loaded `model`'s name for dropped
/// files).
#[component]
pub fn NtkCompare(
    setup: RwSignal<Setup>,
    ntk: Ntk,
    model: RwSignal<Option<ModelSummary>>,
) -> impl IntoView {
    let stored = RwSignal::new(load_pinned());
    let pin_state = Memo::new(move |_| {
        let Some(query) = setup.with(|s| s.workspace.pin.clone()) else {
            return PinState::None;
        };
        stored.with(|p| match p {
            Some(p) if p.setup == query => PinState::Found(Box::new(p.snapshot.clone())),
            _ => PinState::Missing(query),
        })
    });
    let current = Memo::new(move |_| {
        let ntk_setup = ntk.setup.get()?;
        let model_name = match ntk_setup.model.choice {
            ModelChoice::Dropped => model.with(|m| m.as_ref().map(|m| m.name.clone())),
            _ => None,
        };
        let label = describe(&ntk_setup, model_name.as_deref());
        ntk.slot.last.with(|o| {
            o.as_ref()
                .map(|o| (NtkSnapshot::of(&o.report, label), ntk_setup.ntk_query()))
        })
    });
    let pin = move |_| {
        if let Some((snapshot, query)) = current.get_untracked() {
            let pinned = Pinned {
                setup: query.clone(),
                snapshot,
            };
            save_pinned(Some(&pinned));
            stored.set(Some(pinned));
            setup.update(|s| s.workspace.pin = Some(query));
        }
    };
    let unpin = move |_| {
        save_pinned(None);
        stored.set(None);
        setup.update(|s| s.workspace.pin = None);
    };
    let use_pinned = move |_| setup.update(Setup::take_pinned_settings);
    let pinned = Signal::derive(move || match pin_state.get() {
        PinState::Found(s) => Some(*s),
        _ => None,
    });
    let shown = Signal::derive(move || current.get().map(|(c, _)| c));
    view! {
        <section class="panel" data-testid="ntk-compare" class:hidden=move || pin_state.with(|p| *p == PinState::None) && current.with(Option::is_none)>
            <h3>"Compare two setups"</h3>
            <p class="explain">"Pin this NTK, change one thing — the model, the LoRA modules, the layers or the samples — and compute again: both are shown here. A flatter spectrum (a smaller κ) is learned more evenly by gradient descent on the linearized model with no penalty. Try MiniLM against distilroberta, query and value against all six modules, or layers 0–2 against 3–5 (Model tab)."</p>
            <div class="controls">
                <button data-testid="ntk-pin" on:click=pin disabled=move || current.with(Option::is_none)>
                    {move || if pin_state.with(|p| *p == PinState::None) { "Pin this NTK" } else { "Pin this NTK instead" }}
                </button>
                <button data-testid="ntk-unpin" on:click=unpin disabled=move || pin_state.with(|p| *p == PinState::None)>"Unpin"</button>
                <button data-testid="compare-use-pinned" on:click=use_pinned disabled=move || pin_state.with(|p| *p == PinState::None)
                    title="Set the samples, LoRA and kernel of the pinned NTK (the model and the dataset are loaded in their own tabs)">
                    "Use the pinned settings"
                </button>
            </div>
            {move || match pin_state.get() {
                PinState::Missing(query) => Some(view! {
                    <p class="note" data-testid="compare-missing">{format!(
                        "The address names a pinned NTK ({}) whose numbers are not in this browser. Use the pinned settings, compute, and pin it again.",
                        describe(&Setup::from_query(&query).0, None)
                    )}</p>
                }.into_any()),
                PinState::None => Some(view! { <p class="muted">"Nothing pinned yet."</p> }.into_any()),
                PinState::Found(_) => None,
            }}
            <div class:hidden=move || pin_state.with(|p| *p == PinState::None)>
            <CompareTable pinned=pinned current=shown />
            <CompareCharts pinned=pinned current=shown />
            </div>
        </section>
    }
}
