//! The Linearization tab: the linearized model at any λ instantly (closed form, on the page),
//! and actual proximal fine-tuning over a λ grid in the worker, compared.
//!
//! * [`linear`]: the linearized model at the slider's λ;
//! * [`sweep`], [`sweep_controls`], [`sweep_table`]: the λ sweep, its settings and its table;
//! * [`sweep_charts`]: the sweep's four charts; [`eigen`]: training along the eigen-directions;
//! * [`radius`]: the radius probe (how fast the kernel changes around θ₀).

mod eigen;
mod linear;
mod radius;
mod sweep;
mod sweep_charts;
mod sweep_controls;
mod sweep_table;

use leptos::prelude::*;

use crate::page::Page;
use eigen::EigenPanel;
use linear::LinearPanel;
use radius::RadiusPanel;
use sweep::SweepPanel;
use sweep_charts::SweepCharts;

/// The Linearization tab.
#[component]
pub fn LinearizationTab() -> impl IntoView {
    let page = expect_context::<Page>();
    let analyses = page.analyses;
    let start_sweep = Callback::new(move |_| analyses.sweep.start(page));
    let cancel_waiting = Callback::new(move |_| analyses.ntk.cancel_waiting(page));
    let export_adapter = Callback::new(move |i| analyses.export.start(page, i));
    let start_radius = Callback::new(move |radii| analyses.radius.start(page, radii));
    view! {
        <LinearPanel setup=page.setup ntk=analyses.ntk eval_kernel=analyses.eval_kernel />
        <SweepPanel
            setup=page.setup
            compute=page.compute
            ntk=analyses.ntk
            sweep=analyses.sweep
            start=start_sweep
            cancel_waiting=cancel_waiting
            export_adapter=export_adapter
        />
        <SweepCharts sweep=analyses.sweep />
        <EigenPanel sweep=analyses.sweep />
        <RadiusPanel compute=page.compute radius=analyses.radius start=start_radius />
    }
}
