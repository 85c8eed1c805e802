//! The Layer selection tab: toggle (layer, module) blocks and see the spectrum and κ of their
//! kernel at once (sums of cached blocks), with Weyl's bounds for the block added last; a greedy
//! suggestion; and the study of whether κ at initialisation predicts fine-tuning.
//!
//! * [`grid`]: the blocks to toggle; [`chosen`]: the chosen set's numbers and spectrum;
//! * [`study_controls`]: the greedy suggestion and the study's settings and Run;
//! * [`study`]: the study's outcome; [`pooled`]: studies pooled into one scatter.

mod chosen;
mod grid;
mod pooled;
mod study;
mod study_controls;

use leptos::prelude::*;
use ntk_lens_core::experiment::PooledStudy;

use crate::page::Page;
use chosen::ChosenBlocks;
use grid::BlockGrid;
use pooled::PooledPanel;
use study::StudyPanel;
use study_controls::StudyControls;

/// The Layer selection tab.
#[component]
pub fn LayersTab() -> impl IntoView {
    let page = expect_context::<Page>();
    let setup = page.setup;
    let ntk = page.analyses.ntk;
    let blocks = ntk.blocks;
    // The block added last (for Weyl's bounds), if the last change added one.
    let last = RwSignal::new(None::<String>);
    // Keep only chosen blocks that exist in a new kernel; default to all of them.
    Effect::new(move |_| {
        let names = blocks.with(|b| b.as_ref().map(|b| b.train.names().to_vec()));
        if let Some(names) = names {
            setup.update(|s| {
                s.workspace.blocks.retain(|x| names.contains(x));
                if s.workspace.blocks.is_empty() {
                    s.workspace.blocks = names.clone();
                }
            });
        }
    });
    let start_study = Callback::new(move |budget| page.analyses.study.start(page, budget));
    let cancel_waiting = Callback::new(move |_| ntk.cancel_waiting(page));
    // Studies added to the pooled scatter (several datasets, one correlation): the core pools
    // them within studies; studies of another task, model, κ shift, recipe or step rule are
    // refused with its message.
    let pooled_studies = RwSignal::new(Vec::<PooledStudy>::new());
    view! {
        <section class="panel" data-testid="layers">
            <h3>"Choose blocks"</h3>
            <p class="explain">"Each box is one adapted layer and module. The kernel of a set of blocks is the sum of their kernels, so toggling one updates its spectrum at once. Adding a block can only raise every eigenvalue μ (Weyl's inequalities bound by how much), but it need not lower κ: the largest eigenvalue can rise more than the smallest."</p>
            {move || blocks.with(|b| b.is_none()).then(|| view! { <p class="muted" data-testid="layers-empty">"Compute the NTK first (NTK tab)."</p> })}
            <BlockGrid setup=setup blocks=blocks last=last />
            <ChosenBlocks setup=setup blocks=blocks last=last />
            <StudyControls
                setup=setup
                compute=page.compute
                ntk=ntk
                study=page.analyses.study
                last=last
                start=start_study
                cancel_waiting=cancel_waiting
            />
        </section>
        <StudyPanel
            study=page.analyses.study
            dataset=page.loading.data.dataset
            model=page.loading.model.slot.last
            pooled=pooled_studies
        />
        <PooledPanel studies=pooled_studies />
    }
}
