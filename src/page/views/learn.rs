//! The Learn tab: the ideas in plain words and small formulas, each linked to the view that shows
//! it on the user's data, and a step-by-step tour through the three analyses.

use leptos::prelude::*;

use crate::page::setup::Setup;
use crate::page::tab::Tab;
use crate::page::Page;
use ntk_lens_core::options::SampleMethod;

/// One idea: a title, a few sentences, a formula, and the tab that shows it.
struct Idea {
    title: &'static str,
    text: &'static str,
    formula: &'static str,
    tab: Tab,
}

const IDEAS: [Idea; 4] = [
    Idea {
        title: "LoRA",
        text: "Fine-tuning a large model changes millions of weights. LoRA freezes every pretrained weight matrix W₀ and learns a small low-rank correction beside the chosen ones: two thin matrices A (r × in) and B (out × r). B starts at zero, so the adapted model starts exactly at the pretrained one.",
        formula: "W = W₀ + (α/r)·B·A,   A: r × in,   B: out × r,   B₀ = 0",
        tab: Tab::Model,
    },
    Idea {
        title: "The neural tangent kernel",
        text: "A gradient step on one sample moves the outputs on every other sample. How much is measured by the dot product of their gradients with respect to the trainable parameters θ (here the LoRA matrices). Collected over all pairs of samples and output classes, these dot products form the NTK. Its eigenvalues are the speeds at which training can move the outputs along each direction.",
        formula: "K(x, x′) = J(x)·J(x′)ᵀ,   J(x) = ∂f(x; θ)/∂θ at θ₀",
        tab: Tab::Ntk,
    },
    Idea {
        title: "Linearization and the proximal penalty",
        text: "Near θ₀ the model is almost linear in θ. If fine-tuning is kept near θ₀ by a penalty on the distance, training the real model behaves like training its linearization, which is kernel regression with the NTK and has a closed form. The penalty λ bounds how far the linear model's optimum moves from θ₀, by ‖r₀‖/(2√λ) with r₀ = Y − f(X; θ₀) the start residual, and at a given θ the error of the linear picture is of second order in θ − θ₀. By default the Linearization tab trains every λ with the same step: on the page's defaults the gap between the real and the linear model falls as λ grows, and faster than the distance moved.",
        formula: "min_θ Σᵢ ½‖f(xᵢ; θ) − yᵢ‖² + (λ/2)‖θ − θ₀‖²,   f_lin*(x) = f(x; θ₀) + K(x, X)(K + λI)⁻¹ r₀",
        tab: Tab::Linearization,
    },
    Idea {
        title: "Choosing layers and the condition number",
        text: "The NTK is a sum of one block per adapted layer and module, so choosing which layers to fine-tune chooses which blocks are summed. With a step scaled to the largest eigenvalue, η = 1/(μ_max + λ), gradient descent on the linearized model multiplies the error along its slowest direction by 1 − 1/κ per step, where κ = (μ_max + λ)/(μ_min + λ) is the condition number: a large κ means some directions are learned very slowly. The paper's abstract reports that, when linearization is a good model, the eigenvalue spectrum of the NTK correlates strongly with how well fine-tuning adapts the model; the Layer selection tab measures how κ and the outcome go together on your data.",
        formula: "K_S = Σ_{ℓ ∈ S} K_ℓ,   κ(K_S + λI) = (μ_max + λ)/(μ_min + λ)",
        tab: Tab::LayerSelection,
    },
];

/// Opens `target` and scrolls to the panel with test id `panel` (once the tab is laid out).
fn show(tab: RwSignal<Tab>, target: Tab, panel: &'static str) {
    tab.set(target);
    request_animation_frame(move || {
        let element = web_sys::window().and_then(|w| w.document()).and_then(|d| {
            d.query_selector(&format!("[data-testid=\"{panel}\"]"))
                .ok()
                .flatten()
        });
        if let Some(element) = element {
            element.scroll_into_view();
        }
    });
}

/// The Learn tab.
#[component]
pub fn LearnTab() -> impl IntoView {
    let page = expect_context::<Page>();
    let setup = expect_context::<RwSignal<Setup>>();
    let tab = expect_context::<RwSignal<Tab>>();
    let tour_note = RwSignal::new(None::<String>);
    let step_ntk = move |_| {
        setup.update(|s| {
            s.samples.n = 32;
            s.samples.method = SampleMethod::Stratified;
            s.samples.seed = 0;
        });
        tab.set(Tab::Ntk);
        if page.analyses.ntk.not_ready(page).is_some() {
            tour_note.set(Some("Wait until the model and the dataset have loaded (Model and Data tabs), then press this step again.".into()));
            return;
        }
        tour_note.set(None);
        page.analyses.ntk.start(page);
    };
    let step_sweep = move |_| {
        tab.set(Tab::Linearization);
        if page.analyses.ntk.slot.last.with_untracked(|o| o.is_none()) {
            tour_note.set(Some("Do step 2 first: the sweep uses the NTK.".into()));
            return;
        }
        // The page's default sweep (three λ, a few steps): about a minute on one CPU thread.
        setup.update(|s| {
            let d = Setup::default();
            s.training.lambdas = d.training.lambdas;
            s.training.steps = d.training.steps;
        });
        tour_note.set(None);
        let _ = page.analyses.sweep.start(page);
    };
    let step_layers = move |_| tab.set(Tab::LayerSelection);
    // Like every start button, the steps that compute wait while the worker computes (e.g. the
    // eval kernel that follows the NTK): a click then would be refused by the worker.
    let busy_title = move || {
        page.compute
            .device_busy_tracked()
            .then_some("the worker is computing; this step is ready when it is done")
    };
    view! {
        <section class="panel" data-testid="tour">
            <h3>"Guided tour"</h3>
            <ol class="tour">
                <li>"The default model (all-MiniLM-L6-v2, 6 layers) and the Yelp review sentences load by themselves. LoRA of rank 8 sits on the query and value matrices of every layer. "
                    <button data-testid="tour-1" on:click=move |_| tab.set(Tab::Data)>"Look at the data"</button></li>
                <li>"Compute the NTK of 32 sentences and look at its spectrum: a few large eigenvalues, a long tail of small ones, and a condition number in the hundreds or more. "
                    <button data-testid="tour-2" on:click=step_ntk disabled=move || page.compute.device_busy_tracked() title=busy_title>"Compute the NTK"</button></li>
                <li>"Fine-tune the real model with three strengths of the proximal penalty, all with the same step, and compare it with the linearized model: on these defaults the gap shrinks as λ grows, since the penalty holds the parameters near θ₀. Below the sweep, “Training along the kernel's eigen-directions” shows each eigen-direction's own rate: the directions of the largest eigenvalues move fastest, those of the smallest barely move. "
                    <button data-testid="tour-3" on:click=step_sweep disabled=move || page.compute.device_busy_tracked() title=busy_title>"Run the λ sweep"</button></li>
                <li>"Toggle layers on and off and watch κ change; press Suggest for a greedy choice, and Run to test whether κ predicts the outcome. "
                    <button data-testid="tour-4" on:click=step_layers>"Choose layers"</button></li>
            </ol>
            {move || tour_note.get().map(|n| view! { <p class="note" data-testid="tour-note">{n}</p> })}
        </section>
        <section class="panel" data-testid="learn-views">
            <h3>"Two views that show the ideas at work"</h3>
            <ul>
                <li>"Training along the kernel's eigen-directions: after a λ sweep, each eigen-direction's remaining error against its eigenvalue, for the linearized model and for the fine-tuned one. The directions with small eigenvalues are the slow ones. "
                    <button data-testid="learn-eigen" on:click=move |_| show(tab, Tab::Linearization, "sweep-eigen")>"Training along the eigen-directions"</button></li>
                <li>"Two setups side by side: pin an NTK, change the model, the modules or the layers, compute again, and compare their spectra, κ and block shares. "
                    <button data-testid="learn-compare" on:click=move |_| show(tab, Tab::Ntk, "ntk-compare")>"Compare two setups"</button></li>
            </ul>
        </section>
        {IDEAS.iter().map(|idea| {
            let target = idea.tab;
            view! {
                <section class="panel idea">
                    <h3>{idea.title}</h3>
                    <p>{idea.text}</p>
                    <p class="formula"><code>{idea.formula}</code></p>
                    <button on:click=move |_| tab.set(target)>{format!("See it in the {} tab", target.label())}</button>
                </section>
            }
        }).collect_view()}
        <section class="panel">
            <h3>"Where this comes from, and what differs"</h3>
            <p>"The analyses follow “Linearization Explains Fine-Tuning in Large Language Models” (arXiv 2602.08239). Where its official code takes shortcuts, this tool implements the theory: the proximal term is a real penalty λ/2‖θ − θ₀‖² with its exact gradient, the linearized model uses true gradients at θ₀, and the plain NTK J Jᵀ is the default (the code's asymmetric sign kernel J s(J)ᵀ is offered as an option). The details are in docs/theory.md."</p>
        </section>
    }
}
