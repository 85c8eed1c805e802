//! The λ sweep's four charts: the gap, the distance moved, the accuracy and the loss per step.

use leptos::prelude::*;
use ntk_lens_plots::reports::sweep_charts;

use super::super::common::ChartCanvas;
use crate::page::analyses::sweep::Sweep;

/// The last sweep's charts, each with what it shows (hidden until a sweep is in).
#[component]
pub fn SweepCharts(sweep: Sweep) -> impl IntoView {
    let chart = move |k: usize| {
        Signal::derive(move || {
            sweep.slot.last.with(|o| {
                o.as_ref()
                    .and_then(|o| sweep_charts(&o.report).into_iter().nth(k).map(|c| c.1))
            })
        })
    };
    view! {
        <section class="panel charts" class:hidden=move || sweep.slot.last.with(|o| o.is_none())>
            <div><ChartCanvas id="sweep-gap" chart=chart(0) /><p class="explain">"Relative distance between the actual and the linearized model's logits. With the default step rule every λ trains with the same step, so what differs between the λ is the penalty alone."</p></div>
            <div><ChartCanvas id="sweep-distance" chart=chart(1) /><p class="explain">"How far training moved the parameters. Dashed: ‖r₀‖/(2√λ), drawn only where it bounds the linearized model's distance (gradient descent without the selective gate while η(μ_max + λ) ≤ 1, or the ridge optimum); it does not bound the actual model."</p></div>
            <div><ChartCanvas id="sweep-accuracy" chart=chart(2) /><p class="explain">"Accuracy of both models on the training samples and on held-out samples (Pearson’s r of output and score for a regression task)."</p></div>
            <div><ChartCanvas id="sweep-loss" chart=chart(3) /><p class="explain">"Loss per step: solid the actual model, dashed the linearized one, one colour per λ."</p></div>
        </section>
    }
}
