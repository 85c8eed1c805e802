//! The last NTK's charts: the kernel as a heatmap (with the two samples under the pointer and
//! its order), its spectrum, and each block's share of the trace.

use leptos::prelude::*;
use ntk_lens_core::options::Layout;
use ntk_lens_plots::reports::{
    heatmap_grouping, ntk_block_shares, ntk_heatmap, ntk_spectrum, HeatmapOrder,
};

use super::super::common::{num, ChartCanvas};
use crate::page::analyses::ntk::Ntk;

/// What the heatmap cell under the pointer is: its value, and the two (sample, output class)
/// pairs it joins (the sentences cut to 60 characters).
fn hover_text(ntk: Ntk, order: HeatmapOrder, ev: &web_sys::MouseEvent) -> Option<String> {
    use wasm_bindgen::JsCast;
    let canvas: web_sys::HtmlCanvasElement = ev.target()?.dyn_into().ok()?;
    let (r, c) = ntk_lens_plots::heatmap_cell_at(
        &canvas,
        f64::from(ev.offset_x()),
        f64::from(ev.offset_y()),
    )?;
    ntk.slot.last.with_untracked(|o| {
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

/// The charts of the last NTK (hidden before one is in).
#[component]
pub fn NtkCharts(ntk: Ntk) -> impl IntoView {
    let heatmap_order = RwSignal::new(HeatmapOrder::ByOutput);
    let hover = RwSignal::new(None::<String>);
    let heatmap = Signal::derive(move || {
        ntk.slot.last.with(|o| {
            o.as_ref()
                .map(|o| ntk_heatmap(&o.report, &o.class_names, heatmap_order.get()))
        })
    });
    let spectrum = Signal::derive(move || {
        ntk.slot
            .last
            .with(|o| o.as_ref().map(|o| ntk_spectrum(&o.report)))
    });
    let shares = Signal::derive(move || {
        ntk.slot
            .last
            .with(|o| o.as_ref().map(|o| ntk_block_shares(&o.report)))
    });
    view! {
        <section class="panel charts" class:hidden=move || ntk.slot.last.with(|o| o.is_none())>
            <div>
                <div on:mousemove=move |ev: web_sys::MouseEvent| hover.set(hover_text(ntk, heatmap_order.get_untracked(), &ev))
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
    }
}
