//! Both spectra on one chart, and each block's share of the trace in the two setups.

use leptos::prelude::*;
use ntk_lens_plots::reports::{block_label, spectra_compared};

use super::super::common::{num, ChartCanvas};
use crate::page::pin::{aligned_shares, NtkSnapshot};

/// The spectra of the `pinned` and the `current` NTK and their block shares (hidden while
/// nothing is pinned).
#[component]
pub fn CompareCharts(
    pinned: Signal<Option<NtkSnapshot>>,
    current: Signal<Option<NtkSnapshot>>,
) -> impl IntoView {
    let chart = Signal::derive(move || {
        let pinned = pinned.get()?;
        let current = current.get();
        let empty: &[f64] = &[];
        Some(spectra_compared(
            ("pinned", &pinned.eigenvalues),
            (
                "current",
                current.as_ref().map_or(empty, |c| c.eigenvalues.as_slice()),
            ),
        ))
    });
    let shares = move || {
        let pinned = pinned.get().map(|s| s.shares).unwrap_or_default();
        let current = current.get().map(|c| c.shares).unwrap_or_default();
        aligned_shares(&pinned, &current)
    };
    let pct =
        |v: Option<f64>| v.map_or_else(|| "–".to_string(), |v| format!("{}%", num(100.0 * v, 3)));
    view! {
        <div class="charts" class:hidden=move || chart.with(Option::is_none)>
            <div>
                <ChartCanvas id="compare-spectra" chart=chart />
                <p class="explain">"Both spectra from the largest eigenvalue to the smallest (log scale): dashed, the pinned NTK; solid, the current one."</p>
            </div>
            <div>
                <table class="results" data-testid="compare-shares">
                    <tr><th>"block"</th><th>"pinned share"</th><th>"current share"</th></tr>
                    {move || shares().into_iter().map(|r| view! {
                        <tr data-block=r.block.clone()>
                            <th>{block_label(&r.block)}</th>
                            <td>{pct(r.pinned)}</td>
                            <td>{pct(r.current)}</td>
                        </tr>
                    }).collect_view()}
                </table>
                <p class="explain">"Each block's share of the kernel's trace, block by block: “–” where a block is not adapted in that setup."</p>
            </div>
        </div>
    }
}
