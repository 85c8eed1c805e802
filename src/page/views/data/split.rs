//! The split into training and evaluation rows: its fraction and seed, and the split made.

use leptos::prelude::*;
use ntk_lens_core::data::{ColumnChoice, Task};

use super::current_choice;
use crate::page::loading::data::DataLoad;
use crate::page::setup::Setup;
use crate::protocol::loading::SplitSummary;

/// The evaluation fraction and split seed (a change rebuilds the dataset from the table read
/// last with `rechoose`), what cannot be used of them, and the split of the active dataset.
#[component]
pub fn SplitSettings(
    setup: RwSignal<Setup>,
    data: DataLoad,
    rechoose: Callback<Option<ColumnChoice>>,
) -> impl IntoView {
    let set_split = move |eval: Option<f64>, seed: Option<u64>| {
        setup.update(|s| {
            if let Some(e) = eval {
                s.data.eval_fraction = e;
            }
            if let Some(sd) = seed {
                s.data.split_seed = sd;
            }
        });
        rechoose.run(current_choice(data));
    };
    let split_error = RwSignal::new(None::<String>);
    let split_line = move || {
        data.dataset.get().map(|d| match d.split {
            SplitSummary::Sizes { train, eval, .. } => view! {
                <p data-testid="data-split">{format!(
                    "Split: {train} rows for training, {eval} for evaluation ({}).",
                    match d.task { Task::Classification => "stratified by label", Task::Regression => "at random" }
                )}</p>
            }.into_any(),
            SplitSummary::Error(e) => view! { <p class="error" data-testid="data-split">{e}</p> }.into_any(),
        })
    };
    view! {
        <div class="controls">
            <label>
                "Evaluation fraction "
                <input type="text" inputmode="decimal" data-testid="data-eval-fraction"
                    prop:value=move || setup.with(|s| s.data.eval_fraction.to_string())
                    on:change={move |ev| match event_target_value(&ev).trim().parse::<f64>() {
                        Ok(x) if x > 0.0 && x < 1.0 => { split_error.set(None); set_split(Some(x), None) }
                        _ => split_error.set(Some("Evaluation fraction: expected a number strictly between 0 and 1".into())),
                    }}
                />
            </label>
            <label>
                "Split seed "
                <input type="text" inputmode="numeric" data-testid="data-split-seed"
                    prop:value=move || setup.with(|s| s.data.split_seed.to_string())
                    on:change={move |ev| match event_target_value(&ev).trim().parse::<u64>() {
                        Ok(x) => { split_error.set(None); set_split(None, Some(x)) }
                        _ => split_error.set(Some("Split seed: expected a whole number".into())),
                    }}
                />
            </label>
        </div>
        {move || split_error.get().map(|e| view! { <p class="error" data-testid="data-split-input-error">{e}</p> })}
        {split_line}
    }
}
