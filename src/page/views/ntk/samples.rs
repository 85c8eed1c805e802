//! Which samples the NTK is computed on: how many, and how they are chosen.

use leptos::prelude::*;
use ntk_lens_core::options::{SampleMethod, MAX_SAMPLES};

use crate::page::setup::Setup;

fn parse_n(v: &str) -> Option<usize> {
    v.parse().ok().filter(|n| (1..=MAX_SAMPLES).contains(n))
}

/// The number of samples n and how they are chosen (the rows picked in the Data tab, if
/// any); what cannot be used is said in `input_error`.
#[component]
pub fn SampleInputs(
    setup: RwSignal<Setup>,
    input_error: RwSignal<Option<String>>,
) -> impl IntoView {
    let stratified = move || setup.with(|s| s.samples.method == SampleMethod::Stratified);
    let picked = move || {
        setup.with(|s| (s.samples.method == SampleMethod::Picked).then_some(s.samples.rows.len()))
    };
    view! {
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
    }
}
