//! The study's outcome: does κ at initialisation predict fine-tuning? The correlations in
//! words, the notes, the two scatters, the export, and adding the study to the pool.

use leptos::prelude::*;
use ntk_lens_core::data::Task;
use ntk_lens_core::experiment::{Correlation, PooledStudy, StudyReport};
use ntk_lens_plots::reports::study_charts;

use super::super::common::{download, num, ChartCanvas};
use crate::page::analyses::study::Study;
use crate::protocol::loading::{DatasetSummary, ModelSummary};

/// The two correlations of a study (or a pool) in words; `loss_label` says which train loss
/// (`StudyReport::train_loss_label`: the final one, or the best epoch's).
pub(super) fn correlation_text(
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

/// The last study (hidden until one is in). "Add to pooled scatter" adds it to `pooled`,
/// named after the active `dataset` and tagged with the loaded `model`.
#[component]
pub fn StudyPanel(
    study: Study,
    dataset: RwSignal<Option<DatasetSummary>>,
    model: RwSignal<Option<ModelSummary>>,
    pooled: RwSignal<Vec<PooledStudy>>,
) -> impl IntoView {
    let scatter = move |k: usize| {
        Signal::derive(move || {
            study.slot.last.with(|o| {
                o.as_ref()
                    .and_then(|o| study_charts(&o.report).into_iter().nth(k).map(|c| c.1))
            })
        })
    };
    let add_to_pool = move |_| {
        let Some(o) = study.slot.last.get_untracked() else {
            return;
        };
        let name = dataset
            .with_untracked(|d| d.as_ref().map(|d| d.name.clone()))
            .unwrap_or_else(|| "study".into());
        let model_name = model
            .with_untracked(|m| m.as_ref().map(|m| m.name.clone()))
            .unwrap_or_default();
        pooled.update(|s| {
            let dataset = format!("{name} #{}", s.len() + 1);
            s.push(PooledStudy {
                dataset,
                report: StudyReport {
                    model: model_name,
                    ..o.report
                },
            })
        });
    };
    let export = move |_| {
        if let Some(o) = study.slot.last.get_untracked() {
            if let Ok(text) = serde_json::to_string_pretty(&o.report) {
                download("layer-study.json", "application/json", &text);
            }
        }
    };
    view! {
        <section class="panel" class:hidden=move || study.slot.last.with(|o| o.is_none())>
            <h3>"Does κ at initialisation predict fine-tuning?"</h3>
            <p class="explain">"Each point is one choice of blocks (every single block, the greedy picks, all blocks, your set), fine-tuned for the same steps. The paper's abstract reports, when linearization is a good model, “a strong correlation between the eigenvalue spectrum of the NTK and the performance of model adaptation”. This study measures the sign and strength of one such link on your data: log₁₀ κ at initialisation against the train loss and the eval accuracy (Pearson r for scores). With few points, treat the coefficients as a hint."</p>
            {move || study.slot.last.get().map(|o| view! {
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
    }
}
