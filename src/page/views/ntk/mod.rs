//! The NTK tab: choose samples and kernel options, compute the NTK in the worker, and see the
//! kernel, its spectrum, its conditioning and each block's share.
//!
//! * [`controls`]: the samples ([`samples`]), the kernel ([`kernel`]), Compute and progress;
//! * [`summary`]: the spectrum and conditioning in numbers; [`charts`]: the kernel as a
//!   heatmap, its spectrum and the blocks' shares; the comparison is [`super::compare`].

mod charts;
mod controls;
mod kernel;
mod samples;
mod summary;

use leptos::prelude::*;

use super::compare::NtkCompare;
use crate::page::Page;
use charts::NtkCharts;
use controls::NtkControls;
use summary::NtkSummary;

/// The NTK tab.
#[component]
pub fn NtkTab() -> impl IntoView {
    let page = expect_context::<Page>();
    let ntk = page.analyses.ntk;
    let not_ready = Callback::new(move |_| ntk.not_ready(page));
    let start = Callback::new(move |_| ntk.start(page));
    view! {
        <NtkControls
            setup=page.setup
            compute=page.compute
            ntk=ntk
            eval_kernel=page.analyses.eval_kernel
            not_ready=not_ready
            start=start
        />
        <NtkSummary ntk=ntk />
        <NtkCharts ntk=ntk />
        <NtkCompare setup=page.setup ntk=ntk model=page.loading.model.slot.last />
    }
}
