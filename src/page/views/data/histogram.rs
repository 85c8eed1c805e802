//! The active dataset's text lengths in words, as a histogram.

use leptos::prelude::*;

use crate::protocol::loading::DatasetSummary;

/// The histogram of the text lengths of the active `dataset`.
#[component]
pub fn LengthHistogram(dataset: RwSignal<Option<DatasetSummary>>) -> impl IntoView {
    move || {
        dataset.get().map(|d| {
            let h = d.histogram;
            let peak = h.counts.iter().copied().max().unwrap_or(1).max(1);
            view! {
                <figure class="histogram" data-testid="data-length-histogram">
                    <div class="bars">
                        {h.counts.iter().enumerate().map(|(i, &c)| {
                            let r = h.bin_range(i);
                            let height = format!("{}%", (100.0 * c as f64 / peak as f64).max(if c > 0 { 2.0 } else { 0.0 }));
                            view! { <div class="bar" style:height=height title=format!("{}–{} words: {c} rows", r.start, r.end - 1)></div> }
                        }).collect_view()}
                    </div>
                    <figcaption>{format!(
                        "Text length in words (text + pair), {} bins of {} words: shortest {}, longest {}, mean {:.1}.",
                        h.counts.len(), h.bin_width, h.min, h.max, h.mean
                    )}</figcaption>
                </figure>
            }
        })
    }
}
