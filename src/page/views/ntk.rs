//! The NTK tab: choose samples and kernel options, compute the NTK in the worker, and see the
//! kernel, its spectrum, its conditioning and each block's share.

use leptos::prelude::*;
use ntk_lens_plots::reports::{
    heatmap_grouping, kappa_text, ntk_block_shares, ntk_heatmap, ntk_spectrum, HeatmapOrder,
};

use super::common::{download, num, ChartCanvas, JobProgress};
use super::compare::NtkCompare;
use crate::page::setup::Setup;
use crate::page::Page;
use ntk_lens_core::options::{KernelKind, Layout, ParamSet, SampleMethod, MAX_SAMPLES};
use ntk_lens_core::spectrum::SpectrumKind;

fn parse_n(v: &str) -> Option<usize> {
    v.parse().ok().filter(|n| (1..=MAX_SAMPLES).contains(n))
}

/// The NTK tab.
/// What the heatmap cell under the pointer is: its value, and the two (sample, output class)
/// pairs it joins (the sentences cut to 60 characters).
fn hover_text(page: Page, order: HeatmapOrder, ev: &web_sys::MouseEvent) -> Option<String> {
    use wasm_bindgen::JsCast;
    let canvas: web_sys::HtmlCanvasElement = ev.target()?.dyn_into().ok()?;
    let (r, c) = ntk_lens_plots::heatmap_cell_at(
        &canvas,
        f64::from(ev.offset_x()),
        f64::from(ev.offset_y()),
    )?;
    page.analyses.ntk.slot.last.with_untracked(|o| {
        let o = o.as_ref()?;
        let report = &o.report;
        let per_row = match report.layout {
            Layout::Full => report.classes,
            Layout::Trace => 1,
        };
        let grouping = heatmap_grouping(report, &o.class_names, order);
        let (i, j) = (*grouping.order.get(r)?, *grouping.order.get(c)?);
        let name = |k: usize| {
            o.class_names
                .get(k)
                .cloned()
                .unwrap_or_else(|| format!("class {k}"))
        };
        let side = |k: usize| {
            let sample = k / per_row;
            let text: String = o.texts.get(sample)?.chars().take(60).collect();
            let output = match report.layout {
                Layout::Full if report.classes > 1 => format!(", output {}", name(k % per_row)),
                _ => String::new(),
            };
            let label = report
                .labels
                .get(sample)
                .map(|&l| format!(" (label {}{output})", name(l)))
                .unwrap_or_default();
            Some(format!("sample {sample} “{text}”{label}"))
        };
        let value = report.kernel.get(i)?.get(j)?;
        Some(format!(
            "K = {}: {} × {}",
            num(*value, 4),
            side(i)?,
            side(j)?
        ))
    })
}

#[component]
pub fn NtkTab() -> impl IntoView {
    let page = expect_context::<Page>();
    let setup = expect_context::<RwSignal<Setup>>();
    let input_error = RwSignal::new(None::<String>);
    let run = move |_| {
        if let Some(reason) = page.analyses.ntk.not_ready(page) {
            input_error.set(Some(reason.into()));
            return;
        }
        input_error.set(None);
        page.analyses.ntk.start(page);
    };
    let cancel = Callback::new(move |_| page.compute.cancel(page.analyses.ntk.slot));
    let cancel_eval = Callback::new(move |_| page.compute.cancel(page.analyses.eval_kernel.slot));
    let report = move || {
        page.analyses
            .ntk
            .slot
            .last
            .with(|o| o.as_ref().map(|o| o.report.clone()))
    };
    let heatmap_order = RwSignal::new(HeatmapOrder::ByOutput);
    let hover = RwSignal::new(None::<String>);
    let heatmap = Signal::derive(move || {
        page.analyses.ntk.slot.last.with(|o| {
            o.as_ref()
                .map(|o| ntk_heatmap(&o.report, &o.class_names, heatmap_order.get()))
        })
    });
    let spectrum = Signal::derive(move || {
        page.analyses
            .ntk
            .slot
            .last
            .with(|o| o.as_ref().map(|o| ntk_spectrum(&o.report)))
    });
    let shares = Signal::derive(move || {
        page.analyses
            .ntk
            .slot
            .last
            .with(|o| o.as_ref().map(|o| ntk_block_shares(&o.report)))
    });
    let export = move |_| {
        if let Some(o) = page.analyses.ntk.slot.last.get_untracked() {
            if let Ok(text) = serde_json::to_string_pretty(&o) {
                download("ntk.json", "application/json", &text);
            }
        }
    };
    let stratified = move || setup.with(|s| s.samples.method == SampleMethod::Stratified);
    let picked = move || {
        setup.with(|s| (s.samples.method == SampleMethod::Picked).then_some(s.samples.rows.len()))
    };
    view! {
        <section class="panel" data-testid="ntk">
            <h3>"Samples and kernel"</h3>
            <div class="controls">
                <label>
                    "Samples n "
                    <input
                        type="number" min="1" max=MAX_SAMPLES data-testid="ntk-n"
                        prop:value=move || setup.with(|s| s.samples.n.to_string())
                        on:change=move |ev| { match parse_n(&event_target_value(&ev)) {
                            Some(n) => { setup.update(|s| s.samples.n = n); input_error.set(None) }
                            None => input_error.set(Some(format!("n must be a whole number from 1 to {MAX_SAMPLES}"))),
                        } }
                    />
                </label>
                <label>
                    "chosen "
                    <select data-testid="ntk-sample" on:change=move |ev| {
                        let v = event_target_value(&ev);
                        if let Ok(m) = v.parse::<SampleMethod>() { setup.update(|s| s.samples.method = m) }
                    }>
                        <option value="stratified" prop:selected=stratified>"stratified at random"</option>
                        <option value="first" prop:selected=move || setup.with(|s| s.samples.method == SampleMethod::First)>"first n of the training split"</option>
                        {move || picked().map(|k| view! { <option value="picked" selected=true>{format!("the {k} rows picked in the Data tab")}</option> })}
                    </select>
                </label>
                <label>
                    "kernel "
                    <select data-testid="ntk-kernel" on:change=move |ev| {
                        let v = event_target_value(&ev);
                        if let Ok(k) = v.parse::<KernelKind>() { setup.update(|s| s.kernel.kind = k) }
                    }>
                        <option value="plain" prop:selected=move || setup.with(|s| s.kernel.kind == KernelKind::Plain)>"plain J Jᵀ"</option>
                        <option value="sign" prop:selected=move || setup.with(|s| s.kernel.kind == KernelKind::Sign)>"sign J s(J)ᵀ (official code)"</option>
                    </select>
                </label>
                <label>
                    "layout "
                    <select data-testid="ntk-layout" on:change=move |ev| {
                        let v = event_target_value(&ev);
                        if let Ok(l) = v.parse::<Layout>() { setup.update(|s| s.kernel.layout = l) }
                    }>
                        <option value="full" prop:selected=move || setup.with(|s| s.kernel.layout == Layout::Full)>"full nC × nC"</option>
                        <option value="trace" prop:selected=move || setup.with(|s| s.kernel.layout == Layout::Trace)>"class trace n × n"</option>
                    </select>
                </label>
                <label>
                    "parameters "
                    <select data-testid="ntk-params" on:change=move |ev| {
                        let v = event_target_value(&ev);
                        if let Ok(p) = v.parse::<ParamSet>() { setup.update(|s| s.kernel.params = p) }
                    }>
                        <option value="lora" prop:selected=move || setup.with(|s| s.kernel.params == ParamSet::Lora)>"LoRA A and B"</option>
                        <option value="lora+head" prop:selected=move || setup.with(|s| s.kernel.params == ParamSet::LoraAndHead)>"LoRA + head"</option>
                    </select>
                </label>
                <button
                    class="primary" data-testid="ntk-run" on:click=run
                    disabled=move || page.compute.device_busy_tracked()
                >
                    "Compute NTK"
                </button>
            </div>
            {move || input_error.get().map(|e| view! { <p class="error" data-testid="ntk-input-error">{e}</p> })}
            <JobProgress state=page.analyses.ntk.slot.state on_cancel=cancel testid="ntk" />
            // The eval samples' kernels follow the NTK as their own job (for the linearized
            // model's eval predictions), so the NTK is shown as soon as its train part is done.
            <JobProgress state=page.analyses.eval_kernel.slot.state on_cancel=cancel_eval testid="eval-kernel" />
        </section>
        {move || report().map(|r| {
            let o = page.analyses.ntk.slot.last.get_untracked();
            let (ms, backend) = o.as_ref().map(|o| (o.elapsed_ms, o.backend.clone())).unwrap_or_default();
            // μ for the eigenvalues of K (λ is the proximal penalty); σ for the sign kernel's
            // singular values.
            let (kappa_label, max_label, min_label) = match r.spectrum_kind {
                SpectrumKind::Eigenvalues => ("condition number κ = μ_max / μ_min", "largest eigenvalue μ_max", "smallest eigenvalue μ_min"),
                SpectrumKind::SingularValues => ("condition number κ = σ_max / σ_min", "largest singular value σ_max", "smallest singular value σ_min"),
            };
            // What κ means for gradient descent on the linearized model, with the κ shown.
            let pace = match (r.spectrum_kind, r.layout, r.condition_number) {
                (SpectrumKind::Eigenvalues, Layout::Full, Some(k)) => format!(
                    "Gradient descent with step η on the linearized model, with the squared loss and no penalty, removes in each step a fraction η·μ of the training error along each eigenvector of this kernel (μ its eigenvalue): along the eigenvector of μ_min it removes κ = {} times less per step than along that of μ_max. With a penalty λ, each step removes a fraction η·(μ + λ) of the distance to the penalised optimum along each eigenvector, and the spread (μ_max + λ)/(μ_min + λ) is smaller than κ.",
                    num(k, 4)
                ),
                _ => "With the plain kernel in the full layout, gradient descent with step η on the linearized model, with the squared loss and no penalty, removes in each step a fraction η·μ of the training error along each eigenvector (μ its eigenvalue), so κ is the ratio of its fastest pace to its slowest.".to_string(),
            };
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
        })}
        <section class="panel charts" class:hidden=move || page.analyses.ntk.slot.last.with(|o| o.is_none())>
            <div>
                <div on:mousemove=move |ev: web_sys::MouseEvent| hover.set(hover_text(page, heatmap_order.get_untracked(), &ev))
                    on:mouseleave=move |_| hover.set(None)>
                    <ChartCanvas id="ntk-heatmap" chart=heatmap width=560 height=520 />
                </div>
                <p class="muted" data-testid="ntk-heatmap-hover">{move || hover.get().unwrap_or_else(|| "Point at a cell to see its two samples and output classes.".into())}</p>
                <label>"Order "
                    <select data-testid="ntk-heatmap-order" on:change=move |ev| {
                        heatmap_order.set(if event_target_value(&ev) == "sample" { HeatmapOrder::BySample } else { HeatmapOrder::ByOutput })
                    }>
                        <option value="output" prop:selected=move || heatmap_order.get() == HeatmapOrder::ByOutput>"by output class, then label"</option>
                        <option value="sample" prop:selected=move || heatmap_order.get() == HeatmapOrder::BySample>"by sample (as computed)"</option>
                    </select>
                </label>
                <p class="explain" data-testid="ntk-heatmap-caption">"Each cell is the kernel between two (sample, output class) pairs: how much a gradient step on one output moves the other. Ordered by output class, then label (the default order): the large blocks on the diagonal pair an output with itself, and those off the diagonal pair two different outputs: they show how a step on one output moves another. Inside each large block, the smaller blocks pair two labels, the same label on its diagonal: bright ones there mean the samples of a label move together."</p>
            </div>
            <div>
                <ChartCanvas id="ntk-spectrum" chart=spectrum />
                <p class="explain">"The eigenvalues from largest to smallest, on a log scale. A steep fall means a few directions dominate training and the rest are learned slowly."</p>
            </div>
            <div>
                <ChartCanvas id="ntk-blocks" chart=shares height=440 />
                <p class="explain">"The kernel is a sum of one block per adapted layer and module; this is each block's share of the trace. At PEFT initialisation only the B matrices contribute."</p>
            </div>
        </section>
        <NtkCompare />
    }
}
