//! The Layer selection tab: toggle (layer, module) blocks and see the spectrum and κ of their
//! kernel at once (sums of cached blocks), with Weyl's bounds for the block added last; a greedy
//! suggestion; and the study of whether κ at initialisation predicts fine-tuning.

use leptos::prelude::*;
use ntk_lens_core::data::Task;
use ntk_lens_core::experiment::study::pooled_train_loss_label;
use ntk_lens_core::experiment::{pool, Correlation, PooledReport, PooledStudy, StudyReport};
use ntk_lens_core::ntk::{KernelKind, NtkBlocks};
use ntk_lens_core::options::Recipe;
use ntk_lens_core::spectrum::{weyl, Objective, SpectrumOptions};
use ntk_lens_plots::reports::{kappa_text, pooled_charts, study_charts, weyl_chart};
use ntk_lens_plots::{Axis, Chart, LineChart, Series};

use super::common::{download, num, ChartCanvas, JobProgress};
use crate::page::analyses::ntk::AfterNtk;
use crate::page::setup::Setup;
use crate::page::Page;

/// The two correlations of a study (or a pool) in words; `loss_label` says which train loss
/// (`StudyReport::train_loss_label`: the final one, or the best epoch's).
fn correlation_text(
    loss: &Correlation,
    eval: &Correlation,
    task: Task,
    loss_label: &str,
) -> String {
    let r = |v: Option<f64>| v.map(|r| num(r, 3)).unwrap_or_else(|| "–".into());
    let metric = match task {
        Task::Classification => "eval accuracy",
        Task::Regression => "eval Pearson r",
    };
    format!(
        "log₁₀ κ vs {loss_label}: Pearson {}, Spearman {} (n = {}). log₁₀ κ vs {metric}: Pearson {}, \
         Spearman {} (n = {}).",
        r(loss.pearson),
        r(loss.spearman),
        loss.n,
        r(eval.pearson),
        r(eval.spearman),
        eval.n
    )
}

/// The pooled studies' names.
fn study_names(r: &PooledReport) -> String {
    r.studies
        .iter()
        .map(|s| s.dataset.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The pool in words: the pooled correlations (within studies), their 95 % bootstrap
/// intervals, and each study's own coefficients.
fn pooled_text(r: &PooledReport) -> String {
    let r2 = |v: Option<f64>| v.map(|r| num(r, 2)).unwrap_or_else(|| "–".into());
    let range = |i: Option<[f64; 2]>| {
        i.map(|[a, b]| format!("[{}, {}]", num(a, 2), num(b, 2)))
            .unwrap_or_else(|| "–".into())
    };
    let per_study = r
        .per_study
        .iter()
        .map(|s| {
            format!(
                "{}: {} / {}",
                s.dataset,
                r2(s.kappa_vs_loss.spearman),
                r2(s.kappa_vs_accuracy.spearman)
            )
        })
        .collect::<Vec<_>>()
        .join("; ");
    let (l, a) = (&r.kappa_vs_loss_interval, &r.kappa_vs_accuracy_interval);
    format!(
        "{} {} ({}), pooled within studies. {} 95 % bootstrap intervals: vs loss Pearson {}, \
         Spearman {}; vs eval Pearson {}, Spearman {}. Each study's own Spearman (vs loss / vs \
         eval): {per_study}.",
        r.studies.len(),
        if r.studies.len() == 1 {
            "study"
        } else {
            "studies"
        },
        study_names(r),
        correlation_text(
            &r.kappa_vs_loss,
            &r.kappa_vs_accuracy,
            r.task,
            &pooled_train_loss_label(r.studies.iter().map(|s| &s.report))
        ),
        range(l.pearson),
        range(l.spearman),
        range(a.pearson),
        range(a.spearman)
    )
}

/// What the page shows for the chosen set.
#[derive(Clone, PartialEq)]
struct SetView {
    kappa: Option<f64>,
    /// The plain kernel (eigenvalues μ), else the sign kernel (singular values σ).
    plain: bool,
    lambda_max: f64,
    lambda_min: f64,
    params: usize,
    chart: Chart,
    ms: f64,
}

fn now_ms() -> f64 {
    window().performance().map(|p| p.now()).unwrap_or(0.0)
}

fn view_of(blocks: &NtkBlocks, chosen: &[String], last: Option<&str>) -> Result<SetView, String> {
    let started = now_ms();
    let k = blocks.subset(chosen).map_err(|e| e.to_string())?;
    let opts = SpectrumOptions::for_f32(k.dim());
    let spec = k.spectrum(&opts).map_err(|e| e.to_string())?;
    let cond = k.conditioning(0.0, &opts).map_err(|e| e.to_string())?;
    let params = chosen
        .iter()
        .filter_map(|b| blocks.train.index_of(b).map(|i| blocks.param_counts[i]))
        .sum();
    // Weyl's inequalities are for symmetric kernels: with the sign kernel the chart shows the
    // singular values of the chosen blocks instead.
    let plain = blocks.kind == KernelKind::Plain;
    let chart = match last.filter(|_| chosen.len() > 1 && plain) {
        Some(l) => {
            let rest: Vec<&String> = chosen.iter().filter(|b| b.as_str() != l).collect();
            let base = blocks.subset(&rest).map_err(|e| e.to_string())?;
            let added = blocks.train.get(l).ok_or("unknown block")?;
            let report = weyl(&base, added, 0.0, &opts).map_err(|e| e.to_string())?;
            weyl_chart(&report, l)
        }
        None => Chart::Line(LineChart {
            title: "Spectrum of the chosen blocks".into(),
            x: Axis::linear("index i (descending)"),
            y: Axis::log(if plain {
                "eigenvalue μ_i"
            } else {
                "singular value σ_i (sign kernel: no Weyl bounds)"
            }),
            series: vec![Series::from_values(
                if plain { "μ_i(K_S)" } else { "σ_i(K_S)" },
                &spec.values,
            )
            .with_markers()],
            ..Default::default()
        }),
    };
    Ok(SetView {
        kappa: cond.kappa,
        plain,
        lambda_max: spec.max,
        lambda_min: spec.min,
        params,
        chart,
        ms: now_ms() - started,
    })
}

/// The Layer selection tab.
#[component]
pub fn LayersTab() -> impl IntoView {
    let page = expect_context::<Page>();
    let setup = expect_context::<RwSignal<Setup>>();
    let blocks = page.analyses.ntk.blocks;
    let last = RwSignal::new(None::<String>);
    let budget = RwSignal::new(2usize);
    let message = RwSignal::new(None::<String>);
    // Keep only chosen blocks that exist in a new kernel; default to all of them.
    Effect::new(move |_| {
        let names = blocks.with(|b| b.as_ref().map(|b| b.train.names().to_vec()));
        if let Some(names) = names {
            setup.update(|s| {
                s.workspace.blocks.retain(|x| names.contains(x));
                if s.workspace.blocks.is_empty() {
                    s.workspace.blocks = names.clone();
                }
            });
        }
    });
    let names = move || {
        blocks.with(|b| {
            b.as_ref()
                .map(|b| b.train.names().to_vec())
                .unwrap_or_default()
        })
    };
    let layers = move || {
        let mut l: Vec<usize> = names()
            .iter()
            .filter_map(|n| n.split('.').nth(1).and_then(|x| x.parse().ok()))
            .collect();
        l.sort();
        l.dedup();
        l
    };
    let modules = move || {
        let mut m: Vec<String> = names()
            .iter()
            .filter_map(|n| n.split('.').nth(2).map(String::from))
            .collect();
        m.sort();
        m.dedup();
        m
    };
    // Recompute only when the chosen blocks change (not on every other setting).
    let chosen = Memo::new(move |_| setup.with(|s| s.workspace.blocks.clone()));
    let current = Memo::new(move |_| {
        let chosen = chosen.get();
        if chosen.is_empty() {
            return None;
        }
        blocks.with(|b| {
            b.as_ref()
                .map(|b| view_of(b, &chosen, last.get().as_deref()))
        })
    });
    let toggle = move |name: String| {
        setup.update(|s| {
            if let Some(i) = s.workspace.blocks.iter().position(|b| *b == name) {
                s.workspace.blocks.remove(i);
                last.set(None);
            } else {
                s.workspace.blocks.push(name.clone());
                last.set(Some(name));
            }
        });
    };
    let suggest = move |_| {
        let k = budget.get_untracked();
        let out = blocks.with_untracked(|b| {
            b.as_ref().map(|b| {
                let opts = SpectrumOptions::for_f32(b.n * b.classes);
                b.train
                    .greedy(k, Objective::MinKappa, 0.0, &opts)
                    .map(|sel| {
                        sel.chosen()
                            .iter()
                            .map(|s| s.to_string())
                            .collect::<Vec<_>>()
                    })
            })
        });
        match out {
            Some(Ok(chosen)) => {
                last.set(chosen.last().cloned());
                setup.update(|s| s.workspace.blocks = chosen);
                message.set(None);
            }
            Some(Err(e)) => message.set(Some(e.to_string())),
            None => message.set(Some("compute the NTK first (NTK tab)".into())),
        }
    };
    let run = move |_| {
        let started = page.analyses.study.start(page, budget.get_untracked());
        message.set(started.err().map(String::from));
    };
    let cancel_waiting = Callback::new(move |_| page.analyses.ntk.cancel_waiting(page));
    let cancel = Callback::new(move |_| page.compute.cancel(page.analyses.study.slot));
    let set_chart = Signal::derive(move || current.get().and_then(|r| r.ok()).map(|v| v.chart));
    let scatter = move |k: usize| {
        Signal::derive(move || {
            page.analyses.study.slot.last.with(|o| {
                o.as_ref()
                    .and_then(|o| study_charts(&o.report).into_iter().nth(k).map(|c| c.1))
            })
        })
    };
    // Studies added to the pooled scatter (several datasets, one correlation): the core pools
    // them within studies; studies of another task, model, κ shift, recipe or step rule are
    // refused with its message.
    let pooled_studies = RwSignal::new(Vec::<PooledStudy>::new());
    let pooled = Memo::new(move |_| {
        pooled_studies.with(|s| (!s.is_empty()).then(|| pool(s.clone()).map_err(|e| e.to_string())))
    });
    let add_to_pool = move |_| {
        let Some(o) = page.analyses.study.slot.last.get_untracked() else {
            return;
        };
        let name = page
            .loading
            .data
            .dataset
            .with_untracked(|d| d.as_ref().map(|d| d.name.clone()))
            .unwrap_or_else(|| "study".into());
        let model = page
            .loading
            .model
            .slot
            .last
            .with_untracked(|m| m.as_ref().map(|m| m.name.clone()))
            .unwrap_or_default();
        pooled_studies.update(|s| {
            let dataset = format!("{name} #{}", s.len() + 1);
            s.push(PooledStudy {
                dataset,
                report: StudyReport { model, ..o.report },
            })
        });
    };
    let pooled_scatter = move |k: usize| {
        Signal::derive(move || {
            pooled.with(|p| match p {
                Some(Ok(r)) => pooled_charts(r).into_iter().nth(k).map(|c| c.1),
                _ => None,
            })
        })
    };
    let export_pooled = move |_| {
        if let Some(Ok(r)) = pooled.get_untracked() {
            if let Ok(text) = serde_json::to_string_pretty(&r) {
                download("pooled-study.json", "application/json", &text);
            }
        }
    };
    let export = move |_| {
        if let Some(o) = page.analyses.study.slot.last.get_untracked() {
            if let Ok(text) = serde_json::to_string_pretty(&o.report) {
                download("layer-study.json", "application/json", &text);
            }
        }
    };
    view! {
        <section class="panel" data-testid="layers">
            <h3>"Choose blocks"</h3>
            <p class="explain">"Each box is one adapted layer and module. The kernel of a set of blocks is the sum of their kernels, so toggling one updates its spectrum at once. Adding a block can only raise every eigenvalue μ (Weyl's inequalities bound by how much), but it need not lower κ: the largest eigenvalue can rise more than the smallest."</p>
            {move || blocks.with(|b| b.is_none()).then(|| view! { <p class="muted" data-testid="layers-empty">"Compute the NTK first (NTK tab)."</p> })}
            <table class="grid" data-testid="layers-grid">
                <tr><th>"layer"</th>{move || modules().into_iter().map(|m| view! { <th>{m}</th> }).collect_view()}</tr>
                {move || layers().into_iter().map(|l| view! {
                    <tr><th>{l}</th>
                    {modules().into_iter().map(|m| {
                        let name = format!("block.{l}.{m}");
                        let exists = names().contains(&name);
                        let n2 = name.clone();
                        let checked = move || setup.with(|s| s.workspace.blocks.contains(&n2));
                        let n3 = name.clone();
                        view! { <td>{exists.then(|| view! {
                            <input type="checkbox" data-testid=format!("block-{l}-{m}") aria-label=format!("layer {l} {m}")
                                prop:checked=checked on:change=move |_| toggle(n3.clone()) />
                        })}</td> }
                    }).collect_view()}
                    </tr>
                }).collect_view()}
            </table>
            {move || current.get().map(|r| match r {
                Ok(v) => view! {
                    <table class="results" data-testid="layers-summary">
                        <tr><th>"blocks chosen"</th><td data-testid="layers-count">{setup.with(|s| s.workspace.blocks.len()).to_string()}</td></tr>
                        <tr><th>"LoRA parameters"</th><td data-testid="layers-params">{v.params.to_string()}</td></tr>
                        <tr><th>"κ of K_S"</th><td data-testid="layers-kappa">{kappa_text(v.kappa)}</td></tr>
                        <tr><th>{if v.plain { "largest, smallest eigenvalue μ_max, μ_min" } else { "largest, smallest singular value σ_max, σ_min (sign kernel)" }}</th><td data-testid="layers-extremes">{format!("{}, {}", num(v.lambda_max, 4), num(v.lambda_min, 4))}</td></tr>
                        <tr><th>"updated in"</th><td data-testid="layers-ms">{format!("{:.1} ms", v.ms)}</td></tr>
                    </table>
                }.into_any(),
                Err(e) => view! { <p class="error" data-testid="layers-set-error">{e}</p> }.into_any(),
            })}
            <ChartCanvas id="layers-spectrum" chart=set_chart />
            <div class="controls">
                <label>"budget k " <input type="number" min="1" max="72" data-testid="layers-budget"
                    prop:value=move || budget.get().to_string()
                    on:change=move |ev| { match event_target_value(&ev).parse::<usize>() { Ok(k) if k >= 1 => budget.set(k), _ => message.set(Some("k must be a whole number ≥ 1".into())) } } /></label>
                <button data-testid="layers-suggest" on:click=suggest>"Suggest (greedy, smallest κ)"</button>
                <label title="How each candidate is fine-tuned, in both cases with the Linearization tab's proximal penalty λ (its slider) and selective gate: the theory's full-batch steps on LoRA (that tab's optimizer, loss and steps), or a recipe after the paper's official code (minibatch Adam at 4e-3, or the rate lr= in the address, 10 epochs, 6 % warm-up, head trained, the epoch with the lowest eval loss). Unlike that code, it keeps the proximal penalty, has no LoRA dropout and takes batches of 8 (the code: no proximal term, LoRA dropout 0.1, batches of 16 × 4 accumulated = 64).">"training "
                    <select data-testid="layers-recipe" on:change=move |ev| { if let Ok(r) = event_target_value(&ev).parse::<Recipe>() { setup.update(|s| s.training.recipe = r) } }>
                        {Recipe::ALL.iter().map(|&r| view! {
                            <option value=r.name() prop:selected=move || setup.with(|s| s.training.recipe == r)>{match r { Recipe::Theory => "theory (full batch)", Recipe::Paper => "after the paper's code" }}</option>
                        }).collect_view()}
                    </select></label>
                <button class="primary" data-testid="layers-run" on:click=run disabled=move || page.compute.device_busy_tracked()>"Run κ vs outcome study"</button>
            </div>
            {move || message.get().map(|e| view! { <p class="error" data-testid="layers-message">{e}</p> })}
            <Show when=move || page.analyses.ntk.waiting.get() == Some(AfterNtk::Study)>
                <p class="muted" data-testid="study-waiting">"No NTK yet: computing it first for the samples chosen in the NTK tab (the study's candidates are sets of its blocks). The study starts when it is in."</p>
                <JobProgress state=page.analyses.ntk.slot.state on_cancel=cancel_waiting testid="study-ntk" />
            </Show>
            <JobProgress state=page.analyses.study.slot.state on_cancel=cancel testid="study" />
        </section>
        <section class="panel" class:hidden=move || page.analyses.study.slot.last.with(|o| o.is_none())>
            <h3>"Does κ at initialisation predict fine-tuning?"</h3>
            <p class="explain">"Each point is one choice of blocks (every single block, the greedy picks, all blocks, your set), fine-tuned for the same steps. The paper's abstract reports, when linearization is a good model, “a strong correlation between the eigenvalue spectrum of the NTK and the performance of model adaptation”. This study measures the sign and strength of one such link on your data: log₁₀ κ at initialisation against the train loss and the eval accuracy (Pearson r for scores). With few points, treat the coefficients as a hint."</p>
            {move || page.analyses.study.slot.last.get().map(|o| view! {
                <p data-testid="study-correlation">{correlation_text(&o.report.kappa_vs_loss, &o.report.kappa_vs_accuracy, o.report.task, o.report.train_loss_label())}</p>
                <ul class="notes">{o.report.notes.iter().map(|n| view! { <li>{n.clone()}</li> }).collect_view()}</ul>
                <button data-testid="study-export-json" on:click=export>"Export JSON"</button>
                <button data-testid="study-pool-add" on:click=add_to_pool title="keep this study and pool it with others (another dataset, with the same model, task and training settings) into one scatter">"Add to pooled scatter"</button>
            })}
            <div class="charts">
                <ChartCanvas id="study-loss" chart=scatter(0) />
                <ChartCanvas id="study-accuracy" chart=scatter(1) />
            </div>
        </section>
        <section class="panel" data-testid="study-pooled" class:hidden=move || pooled_studies.with(Vec::is_empty)>
            <h3>"Pooled over studies"</h3>
            <p class="explain">"Every study you added, in one scatter, pooled within studies: each study's log₁₀ κ and outcome are standardized first (z-scores for Pearson, ranks for Spearman), so that the datasets' levels (a harder dataset, losses summed over more samples) cannot decide the sign; the chart shows these standardized values. Beside the pooled coefficients are their 95 % bootstrap intervals (candidates resampled within each study) and each study's own coefficient. Studies of another task, model, κ shift, recipe or step rule are not pooled."</p>
            {move || pooled.get().map(|p| match p {
                Ok(r) => view! {
                    <p data-testid="study-pooled-correlation">{pooled_text(&r)}</p>
                    <button data-testid="study-pooled-export" on:click=export_pooled>"Export JSON"</button>
                }.into_any(),
                Err(e) => view! { <p class="error" data-testid="study-pooled-error">{e}</p> }.into_any(),
            })}
            <button data-testid="study-pool-clear" on:click=move |_| pooled_studies.set(Vec::new())>"Clear"</button>
            <div class="charts">
                <ChartCanvas id="pooled-loss" chart=pooled_scatter(0) />
                <ChartCanvas id="pooled-accuracy" chart=pooled_scatter(1) />
            </div>
        </section>
    }
}
