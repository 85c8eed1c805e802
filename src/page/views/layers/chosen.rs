//! The chosen set of blocks: its κ, extreme eigenvalues and parameters, and its spectrum (with
//! Weyl's bounds for the block added last), summed on the page from the cached blocks.

use leptos::prelude::*;
use ntk_lens_core::ntk::{KernelKind, NtkBlocks};
use ntk_lens_core::spectrum::{weyl, SpectrumOptions};
use ntk_lens_plots::reports::{kappa_text, weyl_chart};
use ntk_lens_plots::{Axis, Chart, LineChart, Series};

use super::super::common::{num, ChartCanvas};
use crate::page::setup::Setup;

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

/// The chosen set's summary table and spectrum chart, recomputed when the chosen blocks, the
/// kernel or the block added last (`last`) change.
#[component]
pub fn ChosenBlocks(
    setup: RwSignal<Setup>,
    blocks: RwSignal<Option<NtkBlocks>>,
    last: RwSignal<Option<String>>,
) -> impl IntoView {
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
    let set_chart = Signal::derive(move || current.get().and_then(|r| r.ok()).map(|v| v.chart));
    view! {
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
    }
}
