//! The views of the explorer: one module per tab, a folder with one file per panel for large tabs.

pub mod common;
pub mod compare;
pub mod data;
pub mod layers;
pub mod learn;
pub mod linearization;
pub mod model;
pub mod ntk;
pub mod selfcheck;

use leptos::prelude::*;

use super::tab::Tab;

/// What each tab shows, in a few plain sentences, and what of it exists yet.
fn intro(tab: Tab) -> (&'static str, &'static str, &'static str) {
    match tab {
        Tab::Model => (
            "Model",
            "A small transformer encoder runs here in the page: all-MiniLM-L6-v2 by default, or distilroberta-base or another BERT/RoBERTa-family model from the Hugging Face hub or your files. LoRA adds two small matrices A and B beside chosen weight matrices; by default only they are trained, and the classification head stays frozen.",
            "The default model loads by itself. Below: the architecture and parameter counts, the LoRA setup, and a small least-squares fit whose result is known in closed form, which checks that the compute backend's results agree with it.",
        ),
        Tab::Data => (
            "Data",
            "A small labelled text dataset: bundled sentiment sentences, or your own CSV, TSV, JSON or JSONL file. The analyses use a few dozen of its rows.",
            "Pick a bundled dataset or drop your own file, then check the columns, the label counts and the text lengths. A file that cannot be used is explained line by line and changes nothing.",
        ),
        Tab::Ntk => (
            "Neural tangent kernel",
            "For every pair of samples, the NTK is the dot product of the gradients of the model's outputs with respect to the LoRA parameters. Its eigenvalues tell which directions training can move the outputs in quickly, and which slowly.",
            "Choose how many samples and which kernel, then Compute. The worker computes every per-sample gradient of the LoRA parameters and their dot products, block by block.",
        ),
        Tab::Linearization => (
            "Linearization",
            "Training the linearized model f(x; θ₀) + J(x)(θ − θ₀) with the squared loss and a penalty λ/2·‖θ − θ₀‖² that pulls θ toward the start θ₀ is kernel ridge regression with the NTK. This view compares it with the real model trained with the same penalty, as λ varies.",
            "Move λ to see the linearized model's predictions at once; Run trains the real model for a grid of λ and shows how close the two are.",
        ),
        Tab::LayerSelection => (
            "Layer selection",
            "The NTK is a sum of one block per adapted layer and module, so choosing which layers to fine-tune changes the kernel and its spectrum. The paper reports that, when linearization is a good model, the eigenvalue spectrum of the NTK correlates strongly with how well fine-tuning adapts the model.",
            "Toggle blocks to see the spectrum of their kernel instantly, get a greedy suggestion, or test whether κ at initialisation predicts fine-tuning on your data.",
        ),
        Tab::Learn => (
            "Learn",
            "Fine-tuning starts at the pretrained parameters θ₀ (LoRA's B starts at zero, which leaves the model unchanged) and moves them to θ. Near θ₀ the model is almost linear in θ: f(x; θ) ≈ f(x; θ₀) + J(x)(θ − θ₀). Training that linear model with the squared loss is kernel regression with K = J Jᵀ, the neural tangent kernel.",
            "Start with the guided tour below, or read the four ideas, each with a link to the view that shows it on your data.",
        ),
    }
}

/// The heading and explanation at the top of a tab.
#[component]
pub fn TabIntro(tab: Tab) -> impl IntoView {
    let (title, what, status) = intro(tab);
    view! {
        <section class="intro" data-testid=format!("intro-{}", tab.slug())>
            <h2>{title}</h2>
            <p>{what}</p>
            <p class="muted">{status}</p>
        </section>
    }
}
