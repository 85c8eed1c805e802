//! The λ sweep's table: one row per λ (gaps, losses, distances, the step, the adapter), the
//! notes of the report under it, and its JSON export.

use leptos::prelude::*;

use super::super::common::{download, num};
use crate::page::analyses::sweep::Sweep;

/// The last sweep's table, its notes and its export. `export_adapter` exports the LoRA trained
/// at a row's λ.
#[component]
pub fn SweepTable(sweep: Sweep, export_adapter: Callback<usize>) -> impl IntoView {
    let export = move |_| {
        if let Some(o) = sweep.slot.last.get_untracked() {
            if let Ok(text) = serde_json::to_string_pretty(&o.report) {
                download("sweep.json", "application/json", &text);
            }
        }
    };
    view! {
        {move || sweep.slot.last.get().map(|o| view! {
            <table class="results wide" data-testid="sweep-table">
                <tr><th>"λ"</th><th>"gap train"</th><th>"gap eval"</th><th>"agreement"</th><th>"loss actual"</th><th>"loss linear"</th><th>"‖θ−θ₀‖ actual"</th><th>"linear"</th><th title="‖r₀‖/(2√λ) bounds the linearized model's distance: at the ridge optimum, and for gradient descent without the selective gate while η(μ_max + λ) ≤ 1; – where it does not hold. It does not bound the actual model.">"bound (linear)"</th><th title="the step η this λ trained with">"η"</th>
                    {o.report.config.selective.then(|| view! { <th title="steps whose update applied a nonzero proximal penalty (the selective gate was on and θ ≠ θ₀), actual / linearized">"penalty steps"</th> })}
                    <th>"adapter"</th></tr>
                {o.report.results.iter().enumerate().map(|(i, p)| view! {
                    <tr data-testid=format!("sweep-row-{i}")>
                        <td>{num(p.lambda, 3)}</td><td data-testid=format!("sweep-gap-{i}")>{num(p.gap_train, 3)}</td>
                        <td>{p.gap_eval.map(|g| num(g, 3)).unwrap_or_default()}</td><td>{p.agreement_train.map(|a| num(a, 3)).unwrap_or_else(|| "–".into())}</td>
                        <td>{num(p.train_loss_actual, 4)}</td><td>{num(p.train_loss_linear, 4)}</td>
                        <td data-testid=format!("sweep-dist-actual-{i}")>{num(p.param_distance_actual, 3)}</td><td data-testid=format!("sweep-dist-linear-{i}")>{num(p.param_distance_linear, 3)}</td><td data-testid=format!("sweep-bound-{i}")>{p.param_distance_bound.map(|b| num(b, 3)).unwrap_or_else(|| "–".into())}</td><td data-testid=format!("sweep-lr-{i}")>{num(p.lr, 3)}</td>
                        {o.report.config.selective.then(|| view! { <td data-testid=format!("sweep-gate-{i}")>{format!("{} / {}", p.gate_steps_actual, p.gate_steps_linear.map(|g| g.to_string()).unwrap_or_else(|| "–".into()))}</td> })}
                        <td><button data-testid=format!("sweep-adapter-{i}") title="the LoRA trained at this λ, as a PEFT adapter folder (zip)"
                            on:click=move |_| export_adapter.run(i)>"zip"</button></td>
                    </tr>
                }).collect_view()}
            </table>
            <p data-testid="sweep-step">{o.report.notes.first().cloned().unwrap_or_default()}</p>
            <p class="muted" data-testid="sweep-time">{format!("{} λ values × {} steps in {:.1} s. {}", o.report.results.len(), o.report.config.steps, o.elapsed_ms / 1000.0, o.report.notes.get(1..).unwrap_or_default().join(" "))}</p>
            <button data-testid="sweep-export-json" on:click=export>"Export JSON"</button>
        })}
    }
}
