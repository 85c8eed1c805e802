//! The application shell: header with the backend status and control, the tab bar, and the
//! shared state provided to the views.

use leptos::prelude::*;
use ntk_lens_core::options::BackendChoice;

use super::tab::Tab;
use super::views::{
    data::DataTab, layers::LayersTab, learn::LearnTab, linearization::LinearizationTab,
    model::ModelTab, ntk::NtkTab, selfcheck::SelfCheckPanel, TabIntro,
};
use super::Page;

/// The whole page.
#[component]
pub fn App() -> impl IntoView {
    let (restored, warnings) = super::persist::restore();
    let setup = RwSignal::new(restored);
    provide_context(setup);
    let page = Page::start(setup);
    provide_context(page);
    super::persist::keep(setup);
    super::persist::fetch_index(page.loading.data.index);
    // A fresh worker (at start, or after a restart) gets the model and the dataset again. (A
    // backend switch keeps them: the worker moves the model itself.)
    Effect::new(move |_| {
        if page.compute.ready.get() > 0 {
            page.loading.model.reload(page);
        }
    });
    Effect::new(move |_| {
        if page.compute.ready.get() > 0 && page.loading.data.index.with(|i| i.is_some()) {
            page.loading.data.reload(page);
        }
    });
    let tab = RwSignal::new(Tab::Model);
    provide_context(tab);
    provide_context(super::views::common::LayoutEpoch::on_window_resize());

    let status = move || match page.compute.backend.get() {
        Some(info) => info.label(),
        None => "starting the compute worker…".to_string(),
    };
    let status_class = move || match page.compute.backend.get() {
        Some(info) if info.is_gpu() => "backend gpu",
        Some(_) => "backend cpu",
        None => "backend pending",
    };

    view! {
        <header class="top">
            <div class="brand">
                <h1>"ntk-lens"</h1>
                <p class="tagline">
                    "See LoRA fine-tuning of a small transformer through its linearization: the neural tangent kernel, its spectrum, and how well a kernel model predicts real training."
                </p>
            </div>
            <div class="backend-box">
                <label title="Where the computations run. Auto: a hardware GPU (WebGPU) whose results agree with the CPU's, else the CPU.">
                    "Backend "
                    <select
                        data-testid="backend-choice"
                        disabled=move || page.compute.device_busy_tracked()
                        on:change=move |ev| {
                            if let Ok(choice) = event_target_value(&ev).parse::<BackendChoice>() {
                                page.loading.backend.set(page, choice);
                            }
                        }
                    >
                        {BackendChoice::ALL
                            .iter()
                            .map(|&c| {
                                let label = match c {
                                    BackendChoice::Auto => "Auto",
                                    BackendChoice::Wgpu => "WebGPU",
                                    BackendChoice::Cpu => "CPU",
                                };
                                view! {
                                    <option value=c.name() prop:selected=move || setup.with(|s| s.workspace.backend == c)>
                                        {label}
                                    </option>
                                }
                            })
                            .collect_view()}
                    </select>
                </label>
                <div class=status_class data-testid="backend-status" title="The compute backend in use, and why"
                    data-worker-memory-bytes=move || page.compute.worker_memory.get().map(|b| b.to_string())
                    data-worker-heap-bytes=move || page.compute.worker_heap.get().map(|h| h.live_bytes.to_string())
                    data-worker-memory-growths=move || page.compute.worker_heap.get().map(|h| h.growths.to_string())
                    data-worker-growth-request-bytes=move || page.compute.worker_heap.get().map(|h| h.last_growth_request_bytes.to_string())>
                    {status}
                </div>
                <div class="threads" data-testid="cpu-threads"
                    title="The CPU threads the compute worker runs on (a pool of Web Workers sharing its memory), and why not more"
                    data-count=move || page.compute.threads.get().map(|t| t.count.to_string())>
                    {move || page.compute.threads.get().map(|t| t.label())}
                </div>
            </div>
        </header>
        <nav class="tabs" role="tablist" aria-label="Views">
            {Tab::ALL
                .iter()
                .map(|&t| {
                    view! {
                        <button
                            role="tab"
                            id=format!("tab-{}", t.slug())
                            data-testid=format!("tab-{}", t.slug())
                            aria-selected=move || (tab.get() == t).to_string()
                            class:active=move || tab.get() == t
                            on:click=move |_| tab.set(t)
                        >
                            {t.label()}
                        </button>
                    }
                })
                .collect_view()}
        </nav>
        <main>
            // Every tab stays mounted (only hidden), so nothing typed or computed in one tab is
            // lost when another is opened.
            {Tab::ALL
                .iter()
                .map(|&t| {
                    view! {
                        <section
                            role="tabpanel"
                            data-testid=format!("panel-{}", t.slug())
                            aria-labelledby=format!("tab-{}", t.slug())
                            class:hidden=move || tab.get() != t
                        >
                            <TabIntro tab=t />
                            {(t == Tab::Model).then(|| view! { <ModelTab /> <SelfCheckPanel compute=page.compute selfcheck=page.analyses.selfcheck /> })}
                            {(t == Tab::Data).then(|| view! { <DataTab /> })}
                            {(t == Tab::Ntk).then(|| view! { <NtkTab /> })}
                            {(t == Tab::Linearization).then(|| view! { <LinearizationTab /> })}
                            {(t == Tab::LayerSelection).then(|| view! { <LayersTab /> })}
                            {(t == Tab::Learn).then(|| view! { <LearnTab /> })}
                        </section>
                    }
                })
                .collect_view()}
        </main>
        {(!warnings.is_empty()).then(|| view! {
            <footer class="note" data-testid="setup-warnings">
                <p>"Some settings in the link could not be used and were left at their defaults:"</p>
                <ul>{warnings.into_iter().map(|w| view! { <li>{w}</li> }).collect_view()}</ul>
            </footer>
        })}
        <footer class="note" data-testid="worker-note">
            {move || page.compute.worker_note.get().unwrap_or_default()}
        </footer>
    }
}
