//! The greedy suggestion (budget k, smallest κ) and the study's training recipe and Run, with
//! the NTK computed first when there is none.

use leptos::prelude::*;
use ntk_lens_core::ntk::NtkBlocks;
use ntk_lens_core::options::Recipe;
use ntk_lens_core::spectrum::{Objective, SpectrumOptions};

use super::super::common::JobProgress;
use crate::page::analyses::ntk::{AfterNtk, Ntk};
use crate::page::analyses::study::Study;
use crate::page::compute::Compute;
use crate::page::setup::Setup;

/// The greedy choice of `k` blocks with the smallest κ, in the order they were picked.
fn greedy_blocks(b: &NtkBlocks, k: usize) -> Result<Vec<String>, String> {
    let opts = SpectrumOptions::for_f32(b.n * b.classes);
    b.train
        .greedy(k, Objective::MinKappa, 0.0, &opts)
        .map(|sel| {
            sel.chosen()
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>()
        })
        .map_err(|e| e.to_string())
}

/// The budget, Suggest, the recipe and Run, what went wrong, and the progress of the study
/// (and of the NTK computed for it). `start` starts the study with a budget (errors: why it
/// cannot); `cancel_waiting` gives up the NTK computed for it.
#[component]
pub fn StudyControls(
    setup: RwSignal<Setup>,
    compute: Compute,
    ntk: Ntk,
    study: Study,
    last: RwSignal<Option<String>>,
    start: Callback<usize, Result<(), &'static str>>,
    cancel_waiting: Callback<()>,
) -> impl IntoView {
    let budget = RwSignal::new(2usize);
    let message = RwSignal::new(None::<String>);
    let suggest = move |_| {
        let k = budget.get_untracked();
        let out = ntk
            .blocks
            .with_untracked(|b| b.as_ref().map(|b| greedy_blocks(b, k)));
        match out {
            Some(Ok(chosen)) => {
                last.set(chosen.last().cloned());
                setup.update(|s| s.workspace.blocks = chosen);
                message.set(None);
            }
            Some(Err(e)) => message.set(Some(e)),
            None => message.set(Some("compute the NTK first (NTK tab)".into())),
        }
    };
    let run = move |_| {
        let started = start.run(budget.get_untracked());
        message.set(started.err().map(String::from));
    };
    let cancel = Callback::new(move |_| compute.cancel(study.slot));
    view! {
        <div class="controls">
            <label>"budget k " <input type="number" min="1" max="72" data-testid="layers-budget"
                prop:value=move || budget.get().to_string()
                on:change=move |ev| { match event_target_value(&ev).parse::<usize>() { Ok(k) if k >= 1 => budget.set(k), _ => message.set(Some("k must be a whole number ≥ 1".into())) } } /></label>
            <button data-testid="layers-suggest" on:click=suggest>"Suggest (greedy, smallest κ)"</button>
            <label title="How each candidate is fine-tuned, in both cases with the Linearization tab's proximal penalty λ (its slider) and selective gate: the theory's full-batch steps on LoRA (that tab's optimizer, loss and steps), or a recipe after the paper's official code (minibatch Adam at 4e-3, or the rate lr= in the address, 10 epochs, 6 % warm-up, head trained, the epoch with the lowest eval loss). Unlike that code, it keeps the proximal penalty, has no LoRA dropout and takes batches of 8 (the code: no proximal term, LoRA dropout 0.1, batches of 16 × 4 accumulated = 64).">"training "
                <select data-testid="layers-recipe" on:change=move |ev| { if let Ok(r) = event_target_value(&ev).parse::<Recipe>() { setup.update(|s| s.training.recipe = r) } }>
                    {Recipe::ALL.iter().map(|&r| view! {
                        <option value=r.name() prop:selected=move || setup.with(|s| s.training.recipe == r)>{match r { Recipe::Theory => "theory (full batch)", Recipe::Paper => "after the paper's code" }}</option>
                    }).collect_view()}
                </select></label>
            <button class="primary" data-testid="layers-run" on:click=run disabled=move || compute.device_busy_tracked()>"Run κ vs outcome study"</button>
        </div>
        {move || message.get().map(|e| view! { <p class="error" data-testid="layers-message">{e}</p> })}
        <Show when=move || ntk.waiting.get() == Some(AfterNtk::Study)>
            <p class="muted" data-testid="study-waiting">"No NTK yet: computing it first for the samples chosen in the NTK tab (the study's candidates are sets of its blocks). The study starts when it is in."</p>
            <JobProgress state=ntk.slot.state on_cancel=cancel_waiting testid="study-ntk" />
        </Show>
        <JobProgress state=study.slot.state on_cancel=cancel testid="study" />
    }
}
