//! Two NTK setups side by side (NTK tab): pin the NTK shown, change the model, the LoRA modules
//! or layers, or the samples, compute again, and see both spectra on one chart, κ, effective
//! rank and alignment in two columns, and the block shares aligned by block.

use leptos::prelude::*;
use ntk_lens_plots::reports::{block_label, kappa_text, spectra_compared};

use super::common::{num, ChartCanvas};
use crate::page::persist::{load_pinned, save_pinned};
use crate::page::pin::{aligned_shares, describe, NtkSnapshot, Pinned};
use crate::page::setup::{ModelChoice, Setup};
use crate::page::Page;

/// What is pinned, as the comparison sees it.
#[derive(Clone, PartialEq)]
enum PinState {
    /// Nothing.
    None,
    /// The pinned setup and its numbers.
    Found(Box<NtkSnapshot>),
    /// The address names a pinned setup whose numbers are not in this browser (a shared link,
    /// or cleared storage).
    Missing(String),
}

/// The comparison panel.
#[component]
pub fn NtkCompare() -> impl IntoView {
    let page = expect_context::<Page>();
    let setup = expect_context::<RwSignal<Setup>>();
    let stored = RwSignal::new(load_pinned());
    let pin_state = Memo::new(move |_| {
        let Some(query) = setup.with(|s| s.workspace.pin.clone()) else {
            return PinState::None;
        };
        stored.with(|p| match p {
            Some(p) if p.setup == query => PinState::Found(Box::new(p.snapshot.clone())),
            _ => PinState::Missing(query),
        })
    });
    let current = Memo::new(move |_| {
        let ntk_setup = page.analyses.ntk.setup.get()?;
        let model_name = match ntk_setup.model.choice {
            ModelChoice::Dropped => page
                .loading
                .model
                .slot
                .last
                .with(|m| m.as_ref().map(|m| m.name.clone())),
            _ => None,
        };
        let label = describe(&ntk_setup, model_name.as_deref());
        page.analyses.ntk.slot.last.with(|o| {
            o.as_ref()
                .map(|o| (NtkSnapshot::of(&o.report, label), ntk_setup.ntk_query()))
        })
    });
    let pin = move |_| {
        if let Some((snapshot, query)) = current.get_untracked() {
            let pinned = Pinned {
                setup: query.clone(),
                snapshot,
            };
            save_pinned(Some(&pinned));
            stored.set(Some(pinned));
            setup.update(|s| s.workspace.pin = Some(query));
        }
    };
    let unpin = move |_| {
        save_pinned(None);
        stored.set(None);
        setup.update(|s| s.workspace.pin = None);
    };
    let use_pinned = move |_| setup.update(Setup::take_pinned_settings);
    let found = move || match pin_state.get() {
        PinState::Found(s) => Some(*s),
        _ => None,
    };
    let chart = Signal::derive(move || {
        let pinned = found()?;
        let current = current.get().map(|(c, _)| c);
        let empty: &[f64] = &[];
        Some(spectra_compared(
            ("pinned", &pinned.eigenvalues),
            (
                "current",
                current.as_ref().map_or(empty, |c| c.eigenvalues.as_slice()),
            ),
        ))
    });
    // One row of the two-column table: the label, and each snapshot's value as text.
    let row = move |label: &'static str, id: &'static str, f: fn(&NtkSnapshot) -> String| {
        view! {
            <tr>
                <th>{label}</th>
                <td data-testid=format!("compare-pinned-{id}")>{move || found().map(|s| f(&s)).unwrap_or_else(|| "–".into())}</td>
                <td data-testid=format!("compare-current-{id}")>{move || current.get().map(|(c, _)| f(&c)).unwrap_or_else(|| "–".into())}</td>
            </tr>
        }
    };
    let kappa_ratio = move || {
        let (p, c) = (found()?, current.get()?.0);
        let ratio = c.condition_number? / p.condition_number?;
        if (ratio - 1.0).abs() < 1e-3 {
            return Some("Both setups have the same κ: gradient descent on the linearized model, with no penalty, learns their slowest directions equally slowly relative to their fastest.".to_string());
        }
        Some(format!(
            "The current setup's κ is {} times the pinned one's: gradient descent on the linearized model, with no penalty, learns its slowest direction {} relative to its fastest.",
            num(ratio, 3),
            if ratio > 1.0 { "more slowly" } else { "faster" }
        ))
    };
    let shares = move || {
        let pinned = found().map(|s| s.shares).unwrap_or_default();
        let current = current.get().map(|(c, _)| c.shares).unwrap_or_default();
        aligned_shares(&pinned, &current)
    };
    let pct =
        |v: Option<f64>| v.map_or_else(|| "–".to_string(), |v| format!("{}%", num(100.0 * v, 3)));
    view! {
        <section class="panel" data-testid="ntk-compare" class:hidden=move || pin_state.with(|p| *p == PinState::None) && current.with(Option::is_none)>
            <h3>"Compare two setups"</h3>
            <p class="explain">"Pin this NTK, change one thing — the model, the LoRA modules, the layers or the samples — and compute again: both are shown here. A flatter spectrum (a smaller κ) is learned more evenly by gradient descent on the linearized model with no penalty. Try MiniLM against distilroberta, query and value against all six modules, or layers 0–2 against 3–5 (Model tab)."</p>
            <div class="controls">
                <button data-testid="ntk-pin" on:click=pin disabled=move || current.with(Option::is_none)>
                    {move || if pin_state.with(|p| *p == PinState::None) { "Pin this NTK" } else { "Pin this NTK instead" }}
                </button>
                <button data-testid="ntk-unpin" on:click=unpin disabled=move || pin_state.with(|p| *p == PinState::None)>"Unpin"</button>
                <button data-testid="compare-use-pinned" on:click=use_pinned disabled=move || pin_state.with(|p| *p == PinState::None)
                    title="Set the samples, LoRA and kernel of the pinned NTK (the model and the dataset are loaded in their own tabs)">
                    "Use the pinned settings"
                </button>
            </div>
            {move || match pin_state.get() {
                PinState::Missing(query) => Some(view! {
                    <p class="note" data-testid="compare-missing">{format!(
                        "The address names a pinned NTK ({}) whose numbers are not in this browser. Use the pinned settings, compute, and pin it again.",
                        describe(&Setup::from_query(&query).0, None)
                    )}</p>
                }.into_any()),
                PinState::None => Some(view! { <p class="muted">"Nothing pinned yet."</p> }.into_any()),
                PinState::Found(_) => None,
            }}
            <div class:hidden=move || pin_state.with(|p| *p == PinState::None)>
            <table class="results compare">
                <tr><th></th><th>"pinned"</th><th>"current"</th></tr>
                <tr>
                    <th>"setup"</th>
                    <td data-testid="compare-pinned-label">{move || found().map(|s| s.label).unwrap_or_else(|| "–".into())}</td>
                    <td data-testid="compare-current-label">{move || current.get().map(|(c, _)| c.label).unwrap_or_else(|| "compute an NTK".into())}</td>
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
            {move || kappa_ratio().map(|t| view! { <p data-testid="compare-kappa-ratio">{t}</p> })}
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
            </div>
        </section>
    }
}
