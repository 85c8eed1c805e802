//! The λ sweep's panel: its settings, the NTK computed first when there is none, the progress
//! with the live loss, and the table of the outcome.

use leptos::prelude::*;
use ntk_lens_plots::{Axis, Chart, LineChart, Series};

use super::super::common::{ChartCanvas, JobProgress};
use super::sweep_controls::SweepControls;
use super::sweep_table::SweepTable;
use crate::page::analyses::ntk::{AfterNtk, Ntk};
use crate::page::analyses::sweep::Sweep;
use crate::page::compute::Compute;
use crate::page::setup::Setup;

/// The live chart of the first λ's training loss `v`.
fn live_chart(v: &[f64]) -> Chart {
    Chart::Line(LineChart {
        title: "Actual training loss, live (the first λ; every λ trains side by side)".into(),
        x: Axis::linear("step"),
        y: Axis::log("loss"),
        series: vec![Series::from_values("loss", v)],
        ..Default::default()
    })
}

/// Actual fine-tuning against the linearized model over a λ grid. `start` starts the sweep
/// (errors: why it cannot), `cancel_waiting` gives up the NTK computed for it, and
/// `export_adapter` exports the LoRA trained at a row's λ.
#[component]
pub fn SweepPanel(
    setup: RwSignal<Setup>,
    compute: Compute,
    ntk: Ntk,
    sweep: Sweep,
    start: Callback<(), Result<(), &'static str>>,
    cancel_waiting: Callback<()>,
    export_adapter: Callback<usize>,
) -> impl IntoView {
    let input_error = RwSignal::new(None::<String>);
    let cancel = Callback::new(move |_| compute.cancel(sweep.slot));
    let live = Signal::derive(move || {
        let v = compute.live_loss.get();
        (sweep.slot.busy() && !v.is_empty()).then(|| live_chart(&v))
    });
    view! {
        <section class="panel" data-testid="sweep">
            <h3>"Actual fine-tuning vs the linearized model"</h3>
            <p class="explain">
                "Run trains the real LoRA model with the proximal penalty for every λ below and compares it with the linearized model after the same gradient steps. By default every λ trains with the same step, so the runs differ only in their penalty; the line under the table says which step and why. On the page's defaults the gap between the two models' outputs shrinks as λ grows, and at the largest λ it is under a third of the gap at the smallest: the penalty keeps the parameters near θ₀, where the first-order picture holds."
            </p>
            <SweepControls setup=setup compute=compute input_error=input_error start=start />
            {move || input_error.get().map(|e| view! { <p class="error" data-testid="sweep-input-error">{e}</p> })}
            <Show when=move || ntk.waiting.get() == Some(AfterNtk::Sweep)>
                <p class="muted" data-testid="sweep-waiting">"No NTK yet: computing it first for the samples chosen in the NTK tab (the sweep compares the model with its linearization). The sweep starts when it is in."</p>
                <JobProgress state=ntk.slot.state on_cancel=cancel_waiting testid="sweep-ntk" />
            </Show>
            <JobProgress state=sweep.slot.state on_cancel=cancel testid="sweep" />
            <ChartCanvas id="sweep-live" chart=live height=300 />
            <SweepTable sweep=sweep export_adapter=export_adapter />
        </section>
    }
}
