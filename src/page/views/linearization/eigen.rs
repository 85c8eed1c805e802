//! Training along the kernel's eigen-directions: after a sweep, the error left along each
//! eigenvector at a chosen step, for the linearized and the fine-tuned model.

use leptos::prelude::*;
use ntk_lens_plots::reports::residual_by_eigen_at;

use super::super::common::ChartCanvas;
use crate::page::analyses::sweep::Sweep;

/// The eigen-direction chart of the last sweep with its step slider (hidden until a sweep
/// with residuals is in).
#[component]
pub fn EigenPanel(sweep: Sweep) -> impl IntoView {
    // The eigen-direction chart at a step of the runs (`None`: the last).
    let eigen_step = RwSignal::new(None::<u64>);
    let eigen_steps = move || {
        sweep
            .slot
            .last
            .with(|o| o.as_ref().map_or(0, |o| o.report.config.steps as u64))
    };
    Effect::new(move |_| {
        sweep.slot.last.track();
        eigen_step.set(None);
    });
    let eigen_chart = Signal::derive(move || {
        let step = eigen_step.get();
        sweep.slot.last.with(|o| {
            o.as_ref()
                .filter(|o| {
                    o.report
                        .results
                        .iter()
                        .any(|p| p.residual_by_eigen.is_some())
                })
                .map(|o| residual_by_eigen_at(&o.report, step))
        })
    });
    view! {
        <section class="panel" data-testid="sweep-eigen" class:hidden=move || eigen_chart.with(|c| c.is_none())>
            <h3>"Training along the kernel's eigen-directions"</h3>
            <ChartCanvas id="sweep-eigen-chart" chart=eigen_chart height=440 />
            <div class="controls slider">
                <label>"after step "
                    <input type="range" min="0" max=move || eigen_steps().to_string() step="1" data-testid="sweep-eigen-step"
                        prop:value=move || eigen_step.get().unwrap_or_else(eigen_steps).to_string()
                        on:input=move |ev| eigen_step.set(event_target_value(&ev).parse().ok())
                    />
                </label>
                <span data-testid="sweep-eigen-step-value">{move || format!("{} of {}", eigen_step.get().unwrap_or_else(eigen_steps).min(eigen_steps()), eigen_steps())}</span>
            </div>
            <p class="explain">"Gradient descent on the linearized model shrinks the error along each eigenvector of the NTK on its own, by the factor 1 − η(μᵢ + λ) per step, towards the floor λ/(μᵢ + λ) that the penalty keeps. Directions with large eigenvalues (right) move fastest; those with small eigenvalues (left) barely move: At penalty λ their per-step rates η(μᵢ + λ) differ by at most the factor (μ_max + λ)/(μ_min + λ) = κ(K + λI), the κ of the table above at that λ. Dashed: the linearized model, in closed form; dots: the fine-tuned model's own error projected on the same eigenvectors after the last step, for the directions that carry a real part of the start error (at least a tenth of an even share; along the others the fraction divides by almost nothing). Where the dots leave the dashed line, the real model has left the linear picture. Move the slider to watch the steps."</p>
        </section>
    }
}
