//! The active dataset's labels: each label's rows, share and rows in the training split, or
//! the score's range for a regression task.

use leptos::prelude::*;

use crate::protocol::loading::{DatasetSummary, SplitSummary};

/// The label counts of the active `dataset` (or its score summary).
#[component]
pub fn LabelCounts(dataset: RwSignal<Option<DatasetSummary>>) -> impl IntoView {
    move || {
        dataset.get().map(|d| {
            if let Some(sc) = d.scores {
                let column = d.label_names.first().cloned().unwrap_or_default();
                return view! {
                    <p data-testid="data-score-summary">{format!(
                        "Regression: column `{column}` holds a numeric score per row (from {} to {}, mean {:.3}). \
                         The model gets one output fitted to the score under the squared loss, and is scored by \
                         Pearson's and Spearman's correlation of output and score.",
                        sc.min, sc.max, sc.mean
                    )}</p>
                }
                .into_any();
            }
            let total = d.rows.max(1);
            let train_counts = match &d.split {
                SplitSummary::Sizes { train_counts, .. } => train_counts.clone(),
                SplitSummary::Error(_) => vec![],
            };
            view! {
                <table class="results" data-testid="data-label-counts">
                    <tr><th>"label"</th><th>"rows"</th><th>"share"</th><th>"in training split"</th></tr>
                    {d.label_names.iter().zip(&d.label_counts).enumerate().map(|(i, (name, count))| {
                        let share = format!("{:.1}%", 100.0 * *count as f64 / total as f64);
                        let train = train_counts.get(i).map(|c| c.to_string()).unwrap_or_default();
                        view! {
                            <tr data-testid="data-label-row" data-label=name.clone()>
                                <td>{name.clone()}</td>
                                <td data-testid="data-label-count">{*count}</td>
                                <td>{share}</td>
                                <td>{train}</td>
                            </tr>
                        }
                    }).collect_view()}
                </table>
            }
            .into_any()
        })
    }
}
