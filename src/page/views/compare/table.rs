//! The pinned and the current NTK's numbers in two columns, and how their κ compare.

use leptos::prelude::*;
use ntk_lens_plots::reports::kappa_text;

use super::super::common::num;
use crate::page::pin::NtkSnapshot;

/// How the current κ compares with the pinned one's, for gradient descent on the linearized
/// model (none while either is missing).
fn kappa_ratio(pinned: Option<NtkSnapshot>, current: Option<NtkSnapshot>) -> Option<String> {
    let (p, c) = (pinned?, current?);
    let ratio = c.condition_number? / p.condition_number?;
    if (ratio - 1.0).abs() < 1e-3 {
        return Some("Both setups have the same κ: gradient descent on the linearized model, with no penalty, learns their slowest directions equally slowly relative to their fastest.".to_string());
    }
    Some(format!(
        "The current setup's κ is {} times the pinned one's: gradient descent on the linearized model, with no penalty, learns its slowest direction {} relative to its fastest.",
        num(ratio, 3),
        if ratio > 1.0 { "more slowly" } else { "faster" }
    ))
}

/// The two-column table of the `pinned` and the `current` NTK, and the ratio of their κ.
#[component]
pub fn CompareTable(
    pinned: Signal<Option<NtkSnapshot>>,
    current: Signal<Option<NtkSnapshot>>,
) -> impl IntoView {
    // One row of the two-column table: the label, and each snapshot's value as text.
    let row = move |label: &'static str, id: &'static str, f: fn(&NtkSnapshot) -> String| {
        view! {
            <tr>
                <th>{label}</th>
                <td data-testid=format!("compare-pinned-{id}")>{move || pinned.get().map(|s| f(&s)).unwrap_or_else(|| "–".into())}</td>
                <td data-testid=format!("compare-current-{id}")>{move || current.get().map(|c| f(&c)).unwrap_or_else(|| "–".into())}</td>
            </tr>
        }
    };
    view! {
        <table class="results compare">
            <tr><th></th><th>"pinned"</th><th>"current"</th></tr>
            <tr>
                <th>"setup"</th>
                <td data-testid="compare-pinned-label">{move || pinned.get().map(|s| s.label).unwrap_or_else(|| "–".into())}</td>
                <td data-testid="compare-current-label">{move || current.get().map(|c| c.label).unwrap_or_else(|| "compute an NTK".into())}</td>
            </tr>
            {row("samples × classes", "shape", |s| format!("{} × {}", s.n, s.classes))}
            {row("parameters in the Jacobian", "params", |s| s.params.to_string())}
            {row("condition number κ", "kappa", |s| s.condition_number.map(|k| num(k, 6)).unwrap_or_else(|| kappa_text(None)))}
            {row("largest eigenvalue μ_max (singular value with the sign kernel)", "lmax", |s| num(s.lambda_max, 6))}
            {row("smallest eigenvalue μ_min (singular value with the sign kernel)", "lmin", |s| num(s.lambda_min, 6))}
            {row("effective rank", "eff-rank", |s| num(s.effective_rank, 4))}
            {row("kernel–label alignment", "alignment", |s| num(s.alignment, 4))}
            {row("centred alignment", "alignment-centred", |s| s.alignment_centred.map(|a| num(a, 4)).unwrap_or_else(|| "–".into()))}
        </table>
        {move || kappa_ratio(pinned.get(), current.get()).map(|t| view! { <p data-testid="compare-kappa-ratio">{t}</p> })}
    }
}
