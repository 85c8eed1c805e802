//! The NTK's settings, Compute, and the progress of the NTK and of the eval kernel after it.

use leptos::prelude::*;

use super::super::common::JobProgress;
use super::kernel::KernelSelects;
use super::samples::SampleInputs;
use crate::page::analyses::eval_kernel::EvalKernel;
use crate::page::analyses::ntk::Ntk;
use crate::page::compute::Compute;
use crate::page::registry::Change;
use crate::page::setup::Setup;

/// The Samples and kernel panel. `not_ready` says why the NTK cannot start yet, if so;
/// `start` starts it.
#[component]
pub fn NtkControls(
    setup: RwSignal<Setup>,
    compute: Compute,
    ntk: Ntk,
    eval_kernel: EvalKernel,
    not_ready: Callback<(), Option<&'static str>>,
    start: Callback<()>,
) -> impl IntoView {
    let input_error = RwSignal::new(None::<String>);
    let run = move |_| {
        if let Some(reason) = not_ready.run(()) {
            input_error.set(Some(reason.into()));
            return;
        }
        input_error.set(None);
        start.run(());
    };
    let cancel = Callback::new(move |_| compute.cancel(ntk.slot));
    let cancel_eval = Callback::new(move |_| compute.cancel(eval_kernel.slot));
    view! {
        <section class="panel" data-testid="ntk">
            <h3>"Samples and kernel"</h3>
            <div class="controls">
                <SampleInputs setup=setup input_error=input_error />
                <KernelSelects setup=setup />
                <button
                    class="primary" data-testid="ntk-run" on:click=run
                    disabled=move || {
                        compute.device_busy_tracked() && !compute.only_stale_running(Change::NewNtk)
                    }
                >
                    "Compute NTK"
                </button>
            </div>
            {move || input_error.get().map(|e| view! { <p class="error" data-testid="ntk-input-error">{e}</p> })}
            <JobProgress state=ntk.slot.state on_cancel=cancel testid="ntk" />
            // The eval samples' kernels follow the NTK as their own job (for the linearized
            // model's eval predictions), so the NTK is shown as soon as its train part is done.
            <JobProgress state=eval_kernel.slot.state on_cancel=cancel_eval testid="eval-kernel" />
        </section>
    }
}
