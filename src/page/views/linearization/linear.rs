//! The linearized model at the slider's λ, fitted on the page from the last NTK (closed form).

use leptos::prelude::*;
use ntk_lens_core::data::Task;
use ntk_lens_core::experiment::{linear_point, LinearPoint, Samples};
use ntk_lens_core::ntk::NtkBlocks;

use super::super::common::num;
use crate::page::analyses::eval_kernel::EvalKernel;
use crate::page::analyses::ntk::Ntk;
use crate::page::setup::Setup;
use crate::protocol::analysis::NtkOutcome;

fn samples(rows: &[usize], labels: &[usize], scores: Option<&[f64]>) -> Samples {
    Samples {
        rows: rows.to_vec(),
        encoded: vec![],
        labels: labels.to_vec(),
        scores: scores.map(<[f64]>::to_vec),
    }
}

/// The linearized model at `lambda` from the last NTK (eval predictions once the eval
/// samples' kernels are in).
fn linear_at(o: &NtkOutcome, blocks: &NtkBlocks, lambda: f64) -> Result<LinearPoint, String> {
    let eval = if blocks.n_eval == o.eval_rows.len() {
        samples(&o.eval_rows, &o.eval_labels, o.eval_scores.as_deref())
    } else {
        samples(&[], &[], o.eval_scores.as_ref().map(|_| &[][..]))
    };
    let train = samples(&o.rows, &o.labels, o.scores.as_deref());
    linear_point(blocks, &train, &eval, lambda).map_err(|e| e.to_string())
}

/// The task's headline measure: accuracy, or Pearson's r of output and score.
fn metric_name(ntk: Ntk) -> &'static str {
    ntk.slot
        .last
        .with(|o| match o.as_ref().map(|o| o.report.task) {
            Some(Task::Regression) => "Pearson r",
            _ => "accuracy",
        })
}

/// The λ slider and the linearized model's numbers at that λ.
#[component]
pub fn LinearPanel(setup: RwSignal<Setup>, ntk: Ntk, eval_kernel: EvalKernel) -> impl IntoView {
    // Refit only when λ or the kernel changes (not on every other setting of the setup).
    let lambda = Memo::new(move |_| setup.with(|s| s.training.lambda));
    let point = Memo::new(move |_| {
        let lambda = lambda.get();
        ntk.slot.last.with(|o| {
            ntk.blocks.with(|b| match (o, b) {
                (Some(o), Some(b)) => Some(linear_at(o, b, lambda)),
                _ => None,
            })
        })
    });
    view! {
        <section class="panel" data-testid="linear">
            <h3>"The linearized model at λ"</h3>
            <p class="explain">
                "Move the slider: the kernel-regression prediction of fine-tuning with penalty λ/2·‖θ − θ₀‖² is recomputed at once from the NTK. Larger λ keeps θ closer to θ₀ (the distance is bounded by ‖r₀‖/(2√λ)), where the linear model is most trustworthy, but it also fits the labels less."
            </p>
            <label class="slider">
                "log₁₀ λ "
                <input
                    type="range" min="-4" max="2" step="0.1" data-testid="lambda-slider"
                    prop:value=move || setup.with(|s| format!("{:.1}", s.training.lambda.log10()))
                    on:input=move |ev| {
                        if let Ok(v) = event_target_value(&ev).parse::<f64>() {
                            setup.update(|s| s.training.lambda = 10f64.powf(v));
                        }
                    }
                />
                <output data-testid="lambda-value">{move || format!("λ = {}", num(setup.with(|s| s.training.lambda), 3))}</output>
            </label>
            {move || match point.get() {
                None => view! { <p class="muted" data-testid="linear-empty">"Compute the NTK first (NTK tab)."</p> }.into_any(),
                Some(Err(e)) => view! { <p class="error" data-testid="linear-error">{e}</p> }.into_any(),
                Some(Ok(p)) => view! {
                    <table class="results" data-testid="linear-point">
                        <tr><th>"train loss Σ½‖f − y‖²"</th><td data-testid="lin-train-loss">{num(p.train_loss, 5)}</td></tr>
                        <tr><th>{format!("train {}", metric_name(ntk))}</th><td data-testid="lin-train-acc">{p.train_quality.headline().map(|a| num(a, 3)).unwrap_or_else(|| "–".into())}</td></tr>
                        <tr><th>{format!("eval {}", metric_name(ntk))}</th><td data-testid="lin-eval-acc">{p.eval_quality.as_ref().and_then(|q| q.headline()).map(|a| num(a, 3)).unwrap_or_else(|| if eval_kernel.slot.busy() { "computing…".into() } else { "–".into() })}</td></tr>
                        <tr><th>"‖θ − θ₀‖ of the linear model"</th><td data-testid="lin-distance">{num(p.param_distance, 4)}</td></tr>
                        <tr><th>"bound ‖r₀‖/(2√λ)"</th><td data-testid="lin-bound">{num(p.param_distance_bound, 4)}</td></tr>
                        <tr><th>"κ(K + λI)"</th><td data-testid="lin-kappa">{num(p.condition_number, 4)}</td></tr>
                    </table>
                }.into_any(),
            }}
        </section>
    }
}
