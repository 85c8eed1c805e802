//! Studies pooled over several datasets into one scatter: the pooled correlations (within
//! studies) with their bootstrap intervals, each study's own, the two scatters and the export.

use leptos::prelude::*;
use ntk_lens_core::experiment::study::pooled_train_loss_label;
use ntk_lens_core::experiment::{pool, PooledReport, PooledStudy};
use ntk_lens_plots::reports::pooled_charts;

use super::super::common::{download, num, ChartCanvas};
use super::study::correlation_text;

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

/// The pool of `studies` (hidden while it is empty), with Clear.
#[component]
pub fn PooledPanel(studies: RwSignal<Vec<PooledStudy>>) -> impl IntoView {
    let pooled = Memo::new(move |_| {
        studies.with(|s| (!s.is_empty()).then(|| pool(s.clone()).map_err(|e| e.to_string())))
    });
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
    view! {
        <section class="panel" data-testid="study-pooled" class:hidden=move || studies.with(Vec::is_empty)>
            <h3>"Pooled over studies"</h3>
            <p class="explain">"Every study you added, in one scatter, pooled within studies: each study's log₁₀ κ and outcome are standardized first (z-scores for Pearson, ranks for Spearman), so that the datasets' levels (a harder dataset, losses summed over more samples) cannot decide the sign; the chart shows these standardized values. Beside the pooled coefficients are their 95 % bootstrap intervals (candidates resampled within each study) and each study's own coefficient. Studies of another task, model, κ shift, recipe or step rule are not pooled."</p>
            {move || pooled.get().map(|p| match p {
                Ok(r) => view! {
                    <p data-testid="study-pooled-correlation">{pooled_text(&r)}</p>
                    <button data-testid="study-pooled-export" on:click=export_pooled>"Export JSON"</button>
                }.into_any(),
                Err(e) => view! { <p class="error" data-testid="study-pooled-error">{e}</p> }.into_any(),
            })}
            <button data-testid="study-pool-clear" on:click=move |_| studies.set(Vec::new())>"Clear"</button>
            <div class="charts">
                <ChartCanvas id="pooled-loss" chart=pooled_scatter(0) />
                <ChartCanvas id="pooled-accuracy" chart=pooled_scatter(1) />
            </div>
        </section>
    }
}
