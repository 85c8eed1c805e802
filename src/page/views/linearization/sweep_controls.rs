//! The λ sweep's settings (λ grid, steps, optimizer, loss, step rule, selective penalty) and
//! its Run button.

use leptos::prelude::*;
use ntk_lens_core::options::{LossKind, OptimizerKind, SweepStepRule};

use crate::page::compute::Compute;
use crate::page::setup::{parse_lambdas, Setup, MAX_STEPS};

/// The sweep's controls. The λ values are kept as typed and parsed when Run is pressed; what
/// cannot be used is said in `input_error`. `start` starts the sweep (errors: why it cannot).
#[component]
pub fn SweepControls(
    setup: RwSignal<Setup>,
    compute: Compute,
    input_error: RwSignal<Option<String>>,
    start: Callback<(), Result<(), &'static str>>,
) -> impl IntoView {
    let lambdas_text = RwSignal::new(setup.with_untracked(|s| {
        s.training
            .lambdas
            .iter()
            .map(|l| format!("{l}"))
            .collect::<Vec<_>>()
            .join(",")
    }));
    let run = move |_| {
        match parse_lambdas(&lambdas_text.get_untracked()) {
            Ok(l) => setup.update(|s| s.training.lambdas = l),
            Err(e) => {
                input_error.set(Some(format!("λ values: {e}")));
                return;
            }
        }
        input_error.set(start.run(()).err().map(String::from));
    };
    view! {
        <div class="controls">
            <label>"λ values " <input type="text" size="34" data-testid="sweep-lambdas" prop:value=move || lambdas_text.get() on:change=move |ev| lambdas_text.set(event_target_value(&ev)) /></label>
            <label>"steps " <input type="number" min="1" max=MAX_STEPS data-testid="sweep-steps"
                prop:value=move || setup.with(|s| s.training.steps.to_string())
                on:change=move |ev| { match event_target_value(&ev).parse::<usize>() {
                    Ok(n) if (1..=MAX_STEPS).contains(&n) => setup.update(|s| s.training.steps = n),
                    _ => input_error.set(Some(format!("steps must be a whole number from 1 to {MAX_STEPS}"))),
                } } /></label>
            <label>"optimizer "
                <select data-testid="sweep-optimizer" on:change=move |ev| { let v = event_target_value(&ev); if let Ok(o) = v.parse::<OptimizerKind>() { setup.update(|s| s.training.optimizer = o) } }>
                    <option value="gd" prop:selected=move || setup.with(|s| s.training.optimizer == OptimizerKind::Gd)>"gradient descent"</option>
                    <option value="adam" prop:selected=move || setup.with(|s| s.training.optimizer == OptimizerKind::Adam)>"Adam"</option>
                </select></label>
            <label>"loss "
                <select data-testid="sweep-loss" on:change=move |ev| { let v = event_target_value(&ev); if let Ok(l) = v.parse::<LossKind>() { setup.update(|s| s.training.loss = l) } }>
                    <option value="mse" prop:selected=move || setup.with(|s| s.training.loss == LossKind::Mse)>"squared"</option>
                    <option value="ce" prop:selected=move || setup.with(|s| s.training.loss == LossKind::Ce)>"cross-entropy"</option>
                </select></label>
            <label title="how gradient descent chooses each λ's step when no learning rate is given">"step "
                <select data-testid="sweep-step-rule" on:change=move |ev| { let v = event_target_value(&ev); if let Ok(r) = v.parse::<SweepStepRule>() { setup.update(|s| s.training.step_rule = r) } }>
                    <option value="shared" prop:selected=move || setup.with(|s| s.training.step_rule == SweepStepRule::Shared)>"one for every λ"</option>
                    <option value="per-lambda" prop:selected=move || setup.with(|s| s.training.step_rule == SweepStepRule::PerLambda)>"one per λ (shrinks as λ grows)"</option>
                </select></label>
            <label title="apply the penalty only when ⟨∇R, θ − θ₀⟩ ≥ 0 (Eq. 8). On the linearized model started at θ₀ with η·μ_max ≤ 1 (the default step) the gate never applies a nonzero penalty, so the linear side is then the unpenalised run; only on the actual model can the gate apply it, where the nonlinearity turns ⟨∇R, θ − θ₀⟩ positive."><input type="checkbox" data-testid="sweep-selective" prop:checked=move || setup.with(|s| s.training.selective) on:change=move |ev| setup.update(|s| s.training.selective = event_target_checked(&ev)) />" selective penalty (Eq. 8)"</label>
            <button class="primary" data-testid="sweep-run" on:click=run disabled=move || compute.device_busy_tracked()>"Run"</button>
        </div>
    }
}
