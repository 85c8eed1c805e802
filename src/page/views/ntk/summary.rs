//! The last NTK's spectrum and conditioning in numbers, the core's notes, what κ means for
//! gradient descent on the linearized model, and the JSON export.

use leptos::prelude::*;
use ntk_lens_core::experiment::NtkReport;
use ntk_lens_core::options::Layout;
use ntk_lens_core::spectrum::SpectrumKind;
use ntk_lens_plots::reports::kappa_text;

use super::super::common::{download, num};
use crate::page::analyses::ntk::Ntk;

/// The labels of κ and of the largest and smallest value: μ for the eigenvalues of K (λ is the
/// proximal penalty); σ for the sign kernel's singular values.
fn spectrum_labels(kind: SpectrumKind) -> (&'static str, &'static str, &'static str) {
    match kind {
        SpectrumKind::Eigenvalues => (
            "condition number κ = μ_max / μ_min",
            "largest eigenvalue μ_max",
            "smallest eigenvalue μ_min",
        ),
        SpectrumKind::SingularValues => (
            "condition number κ = σ_max / σ_min",
            "largest singular value σ_max",
            "smallest singular value σ_min",
        ),
    }
}

/// What κ means for gradient descent on the linearized model, with the κ shown.
fn pace_text(r: &NtkReport) -> String {
    match (r.spectrum_kind, r.layout, r.condition_number) {
        (SpectrumKind::Eigenvalues, Layout::Full, Some(k)) => format!(
            "Gradient descent with step η on the linearized model, with the squared loss and no penalty, removes in each step a fraction η·μ of the training error along each eigenvector of this kernel (μ its eigenvalue): along the eigenvector of μ_min it removes κ = {} times less per step than along that of μ_max. With a penalty λ, each step removes a fraction η·(μ + λ) of the distance to the penalised optimum along each eigenvector, and the spread (μ_max + λ)/(μ_min + λ) is smaller than κ.",
            num(k, 4)
        ),
        _ => "With the plain kernel in the full layout, gradient descent with step η on the linearized model, with the squared loss and no penalty, removes in each step a fraction η·μ of the training error along each eigenvector (μ its eigenvalue), so κ is the ratio of its fastest pace to its slowest.".to_string(),
    }
}

/// The Spectrum and conditioning panel of the last NTK (none before one is in).
#[component]
pub fn NtkSummary(ntk: Ntk) -> impl IntoView {
    let report = move || ntk.slot.last.with(|o| o.as_ref().map(|o| o.report.clone()));
    let export = move |_| {
        if let Some(o) = ntk.slot.last.get_untracked() {
            if let Ok(text) = serde_json::to_string_pretty(&o) {
                download("ntk.json", "application/json", &text);
            }
        }
    };
    move || {
        report().map(|r| {
            let o = ntk.slot.last.get_untracked();
            let (ms, backend) = o.as_ref().map(|o| (o.elapsed_ms, o.backend.clone())).unwrap_or_default();
            let (kappa_label, max_label, min_label) = spectrum_labels(r.spectrum_kind);
            let pace = pace_text(&r);
            view! {
                <section class="panel" data-testid="ntk-summary">
                    <h3>"Spectrum and conditioning"</h3>
                    <table class="results">
                        <tr><th>"samples × classes"</th><td data-testid="ntk-shape">{format!("{} × {} ({} rows)", r.n, r.classes, r.kernel.len())}</td></tr>
                        <tr><th>"parameters in the Jacobian"</th><td data-testid="ntk-params-count">{r.params.to_string()}</td></tr>
                        <tr><th>{kappa_label}</th><td data-testid="ntk-kappa">{r.condition_number.map(|k| num(k, 6)).unwrap_or_else(|| kappa_text(None))}</td></tr>
                        <tr><th>{max_label}</th><td data-testid="ntk-lmax">{num(r.lambda_max, 6)}</td></tr>
                        <tr><th>{min_label}</th><td data-testid="ntk-lmin">{num(r.lambda_min, 6)}</td></tr>
                        <tr><th>"effective rank"</th><td data-testid="ntk-eff-rank">{num(r.effective_rank, 4)}</td></tr>
                        <tr><th>"kernel–label alignment"</th><td data-testid="ntk-alignment">{num(r.alignment, 4)}</td></tr>
                        <tr><th title="the alignment after removing the constant part every kernel and one-hot target share (centred matrices)">"centred alignment"</th><td data-testid="ntk-alignment-centred">{r.alignment_centred.map(|a| num(a, 4)).unwrap_or_else(|| "–".into())}</td></tr>
                        <tr><th>"computed in"</th><td data-testid="ntk-time">{format!("{:.2} s on {backend}", ms / 1000.0)}</td></tr>
                    </table>
                    <ul class="notes" data-testid="ntk-notes">
                        {r.notes.iter().map(|n| view! { <li>{n.clone()}</li> }).collect_view()}
                    </ul>
                    <button data-testid="ntk-export-json" on:click=export>"Export JSON"</button>
                    <p class="explain" data-testid="ntk-explain">
                        {pace}
                        " The effective rank counts how many directions carry most of the kernel. Alignment near 1 means the kernel already groups samples by label."
                    </p>
                </section>
            }
        })
    }
}
