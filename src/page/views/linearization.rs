//! The Linearization tab: the linearized model at any λ instantly (closed form, on the page),
//! and actual proximal fine-tuning over a λ grid in the worker, compared.

use leptos::prelude::*;
use ntk_lens_core::experiment::{linear_point, LinearPoint, Samples};
use ntk_lens_core::ntk::NtkBlocks;
use ntk_lens_plots::reports::{radius_chart, residual_by_eigen_at, sweep_charts};
use ntk_lens_plots::{Axis, Chart, LineChart, Series};

use super::common::{download, num, ChartCanvas, JobProgress};
use crate::page::analyses::ntk::AfterNtk;
use crate::page::setup::{parse_lambdas, Setup};
use crate::page::Page;
use crate::protocol::analysis::NtkOutcome;
use ntk_lens_core::data::Task;
use ntk_lens_core::options::{LossKind, OptimizerKind, SweepStepRule};

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

/// The Linearization tab.
#[component]
pub fn LinearizationTab() -> impl IntoView {
    let page = expect_context::<Page>();
    let setup = expect_context::<RwSignal<Setup>>();
    let blocks = page.analyses.ntk.blocks;
    // Refit only when λ or the kernel changes (not on every other setting of the setup).
    let lambda = Memo::new(move |_| setup.with(|s| s.training.lambda));
    let point = Memo::new(move |_| {
        let lambda = lambda.get();
        page.analyses.ntk.slot.last.with(|o| {
            blocks.with(|b| match (o, b) {
                (Some(o), Some(b)) => Some(linear_at(o, b, lambda)),
                _ => None,
            })
        })
    });
    // The task's headline measure: accuracy, or Pearson's r of output and score.
    let metric_name = move || {
        page.analyses
            .ntk
            .slot
            .last
            .with(|o| match o.as_ref().map(|o| o.report.task) {
                Some(Task::Regression) => "Pearson r",
                _ => "accuracy",
            })
    };
    let input_error = RwSignal::new(None::<String>);
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
        input_error.set(page.analyses.sweep.start(page).err().map(String::from));
    };
    let cancel_waiting = Callback::new(move |_| page.analyses.ntk.cancel_waiting(page));
    let cancel = Callback::new(move |_| page.compute.cancel(page.analyses.sweep.slot));
    let live = Signal::derive(move || {
        let v = page.compute.live_loss.get();
        (page.analyses.sweep.slot.busy() && !v.is_empty()).then(|| {
            Chart::Line(LineChart {
                title: "Actual training loss, live (the first λ; every λ trains side by side)"
                    .into(),
                x: Axis::linear("step"),
                y: Axis::log("loss"),
                series: vec![Series::from_values("loss", &v)],
                ..Default::default()
            })
        })
    });
    let chart = move |k: usize| {
        Signal::derive(move || {
            page.analyses.sweep.slot.last.with(|o| {
                o.as_ref()
                    .and_then(|o| sweep_charts(&o.report).into_iter().nth(k).map(|c| c.1))
            })
        })
    };
    // The eigen-direction chart at a step of the runs (`None`: the last).
    let eigen_step = RwSignal::new(None::<u64>);
    let eigen_steps = move || {
        page.analyses
            .sweep
            .slot
            .last
            .with(|o| o.as_ref().map_or(0, |o| o.report.config.steps as u64))
    };
    Effect::new(move |_| {
        page.analyses.sweep.slot.last.track();
        eigen_step.set(None);
    });
    let eigen_chart = Signal::derive(move || {
        let step = eigen_step.get();
        page.analyses.sweep.slot.last.with(|o| {
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
    let radii_text = RwSignal::new("0.01,0.1,1".to_string());
    let radius_error = RwSignal::new(None::<String>);
    let run_radius = move |_| match parse_lambdas(&radii_text.get_untracked()) {
        Ok(radii) => {
            let started = page.analyses.radius.start(page, radii);
            radius_error.set(started.err().map(String::from));
        }
        Err(e) => radius_error.set(Some(format!("radii: {e}"))),
    };
    let cancel_radius = Callback::new(move |_| page.compute.cancel(page.analyses.radius.slot));
    let radius_plot = Signal::derive(move || {
        page.analyses
            .radius
            .slot
            .last
            .with(|r| r.as_ref().map(|p| radius_chart(p)))
    });
    let export = move |_| {
        if let Some(o) = page.analyses.sweep.slot.last.get_untracked() {
            if let Ok(text) = serde_json::to_string_pretty(&o.report) {
                download("sweep.json", "application/json", &text);
            }
        }
    };
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
                        <tr><th>{format!("train {}", metric_name())}</th><td data-testid="lin-train-acc">{p.train_quality.headline().map(|a| num(a, 3)).unwrap_or_else(|| "–".into())}</td></tr>
                        <tr><th>{format!("eval {}", metric_name())}</th><td data-testid="lin-eval-acc">{p.eval_quality.as_ref().and_then(|q| q.headline()).map(|a| num(a, 3)).unwrap_or_else(|| if page.analyses.eval_kernel.slot.busy() { "computing…".into() } else { "–".into() })}</td></tr>
                        <tr><th>"‖θ − θ₀‖ of the linear model"</th><td data-testid="lin-distance">{num(p.param_distance, 4)}</td></tr>
                        <tr><th>"bound ‖r₀‖/(2√λ)"</th><td data-testid="lin-bound">{num(p.param_distance_bound, 4)}</td></tr>
                        <tr><th>"κ(K + λI)"</th><td data-testid="lin-kappa">{num(p.condition_number, 4)}</td></tr>
                    </table>
                }.into_any(),
            }}
        </section>
        <section class="panel" data-testid="sweep">
            <h3>"Actual fine-tuning vs the linearized model"</h3>
            <p class="explain">
                "Run trains the real LoRA model with the proximal penalty for every λ below and compares it with the linearized model after the same gradient steps. By default every λ trains with the same step, so the runs differ only in their penalty; the line under the table says which step and why. On the page's defaults the gap between the two models' outputs shrinks as λ grows, and at the largest λ it is under a third of the gap at the smallest: the penalty keeps the parameters near θ₀, where the first-order picture holds."
            </p>
            <div class="controls">
                <label>"λ values " <input type="text" size="34" data-testid="sweep-lambdas" prop:value=move || lambdas_text.get() on:change=move |ev| lambdas_text.set(event_target_value(&ev)) /></label>
                <label>"steps " <input type="number" min="1" max="2000" data-testid="sweep-steps"
                    prop:value=move || setup.with(|s| s.training.steps.to_string())
                    on:change=move |ev| { match event_target_value(&ev).parse::<usize>() {
                        Ok(n) if (1..=2000).contains(&n) => setup.update(|s| s.training.steps = n),
                        _ => input_error.set(Some("steps must be a whole number from 1 to 2000".into())),
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
                <button class="primary" data-testid="sweep-run" on:click=run disabled=move || page.compute.device_busy_tracked()>"Run"</button>
            </div>
            {move || input_error.get().map(|e| view! { <p class="error" data-testid="sweep-input-error">{e}</p> })}
            <Show when=move || page.analyses.ntk.waiting.get() == Some(AfterNtk::Sweep)>
                <p class="muted" data-testid="sweep-waiting">"No NTK yet: computing it first for the samples chosen in the NTK tab (the sweep compares the model with its linearization). The sweep starts when it is in."</p>
                <JobProgress state=page.analyses.ntk.slot.state on_cancel=cancel_waiting testid="sweep-ntk" />
            </Show>
            <JobProgress state=page.analyses.sweep.slot.state on_cancel=cancel testid="sweep" />
            <ChartCanvas id="sweep-live" chart=live height=300 />
            {move || page.analyses.sweep.slot.last.get().map(|o| view! {
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
                                on:click=move |_| page.analyses.export.start(page, i)>"zip"</button></td>
                        </tr>
                    }).collect_view()}
                </table>
                <p data-testid="sweep-step">{o.report.notes.first().cloned().unwrap_or_default()}</p>
                <p class="muted" data-testid="sweep-time">{format!("{} λ values × {} steps in {:.1} s. {}", o.report.results.len(), o.report.config.steps, o.elapsed_ms / 1000.0, o.report.notes.get(1..).unwrap_or_default().join(" "))}</p>
                <button data-testid="sweep-export-json" on:click=export>"Export JSON"</button>
            })}
        </section>
        <section class="panel charts" class:hidden=move || page.analyses.sweep.slot.last.with(|o| o.is_none())>
            <div><ChartCanvas id="sweep-gap" chart=chart(0) /><p class="explain">"Relative distance between the actual and the linearized model's logits. With the default step rule every λ trains with the same step, so what differs between the λ is the penalty alone."</p></div>
            <div><ChartCanvas id="sweep-distance" chart=chart(1) /><p class="explain">"How far training moved the parameters. Dashed: ‖r₀‖/(2√λ), drawn only where it bounds the linearized model's distance (gradient descent without the selective gate while η(μ_max + λ) ≤ 1, or the ridge optimum); it does not bound the actual model."</p></div>
            <div><ChartCanvas id="sweep-accuracy" chart=chart(2) /><p class="explain">"Accuracy of both models on the training samples and on held-out samples (Pearson’s r of output and score for a regression task)."</p></div>
            <div><ChartCanvas id="sweep-loss" chart=chart(3) /><p class="explain">"Loss per step: solid the actual model, dashed the linearized one, one colour per λ."</p></div>
        </section>
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
        <section class="panel" data-testid="radius">
            <h3>"How far does the linear picture hold? (the paper's Algorithm 1, reconstructed)"</h3>
            <p class="explain">"The parameters are moved from θ₀ by a random direction of length r, and the kernel is recomputed. The linearized model assumes the kernel stays as it is at θ₀: if it barely changes over the distances that fine-tuning travels (compare ‖θ − θ₀‖ above), that assumption holds along random directions. Training moves along particular directions, so the sweep's gap is the direct test. Two random directions per radius."</p>
            <div class="controls">
                <label>"radii " <input type="text" size="20" data-testid="radius-radii" prop:value=move || radii_text.get() on:change=move |ev| radii_text.set(event_target_value(&ev)) /></label>
                <button class="primary" data-testid="radius-run" on:click=run_radius disabled=move || page.compute.device_busy_tracked()>"Probe"</button>
            </div>
            {move || radius_error.get().map(|e| view! { <p class="error" data-testid="radius-error">{e}</p> })}
            <JobProgress state=page.analyses.radius.slot.state on_cancel=cancel_radius testid="radius" />
            {move || page.analyses.radius.slot.last.get().map(|points| view! {
                <table class="results wide" data-testid="radius-table">
                    <tr><th>"r"</th><th>"L_avg"</th><th>"L_upper"</th><th>"‖ΔK‖/‖K‖"</th></tr>
                    {points.iter().enumerate().map(|(i, p)| view! {
                        <tr data-testid=format!("radius-row-{i}")><td>{num(p.radius, 3)}</td><td>{num(p.l_avg, 4)}</td><td>{num(p.l_upper, 4)}</td><td data-testid=format!("radius-change-{i}")>{num(p.relative_change, 4)}</td></tr>
                    }).collect_view()}
                </table>
            })}
            <ChartCanvas id="radius-chart" chart=radius_plot height=360 />
        </section>
    }
}
