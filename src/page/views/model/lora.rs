//! The LoRA settings: rank, α, layers and the adapted matrices, kept as typed where they do
//! not parse.

use leptos::prelude::*;
use ntk_lens_core::lora::LoraModule;

use crate::page::setup::{Setup, MAX_RANK};

/// The layers of the setup's LoRA as the Layers box shows them.
fn layers_of(s: &Setup) -> String {
    s.lora.layers.as_ref().map_or("all".to_string(), |l| {
        l.iter()
            .map(|x| x.to_string())
            .collect::<Vec<_>>()
            .join(",")
    })
}

/// The checkbox of one adapted matrix.
#[component]
fn LoraTarget(setup: RwSignal<Setup>, module: LoraModule) -> impl IntoView {
    let m = module;
    let checked = move || setup.with(|s| s.lora.targets.contains(&m));
    view! {
        <label class="check">
            <input type="checkbox" data-testid=format!("lora-target-{}", m.short_name())
                prop:checked=checked
                on:change=move |ev| {
                    let on = event_target_checked(&ev);
                    setup.update(|s| {
                        s.lora.targets.retain(|x| *x != m);
                        if on { s.lora.targets.push(m); s.lora.targets.sort(); }
                    });
                }
            />
            {m.short_name()}
        </label>
    }
}

/// The LoRA panel.
#[component]
pub fn LoraPanel(setup: RwSignal<Setup>) -> impl IntoView {
    // What is typed in Layers (kept as typed when it does not parse), following the setup when
    // its layers change elsewhere (the layer study, the pinned settings of a comparison).
    let layers_text = RwSignal::new(setup.with_untracked(layers_of));
    let setup_layers = Memo::new(move |_| setup.with(layers_of));
    Effect::new(move |_| layers_text.set(setup_layers.get()));
    let lora_input_error = RwSignal::new(None::<String>);
    view! {
        <section class="panel" data-testid="lora-setup">
            <h3>"LoRA"</h3>
            <p>"Each adapted weight matrix W gets W + (α/r)·B·A, with A (r × in) drawn at random and B (out × r) starting at zero, so training starts from the pretrained model. By default training changes only A and B; the classification head stays frozen."</p>
            <div class="controls">
                <label>"Rank r "
                    <input type="number" min="1" max=MAX_RANK.to_string() data-testid="lora-rank"
                        prop:value=move || setup.with(|s| s.lora.r.to_string())
                        on:change={move |ev| match event_target_value(&ev).trim().parse::<usize>() {
                            Ok(r) if (1..=MAX_RANK).contains(&r) => { lora_input_error.set(None); setup.update(|s| s.lora.r = r) }
                            _ => lora_input_error.set(Some(format!("Rank: expected a whole number from 1 to {MAX_RANK}"))),
                        }}
                    />
                </label>
                <label>"Alpha α "
                    <input type="text" inputmode="decimal" data-testid="lora-alpha"
                        prop:value=move || setup.with(|s| s.lora.alpha.to_string())
                        on:change={move |ev| match event_target_value(&ev).trim().parse::<f64>() {
                            Ok(a) if a.is_finite() && a > 0.0 => { lora_input_error.set(None); setup.update(|s| s.lora.alpha = a) }
                            _ => lora_input_error.set(Some("Alpha: expected a positive number".into())),
                        }}
                    />
                </label>
                <label>"Layers "
                    <input type="text" data-testid="lora-layers" title="all, or layer numbers such as 0,1,5"
                        prop:value=move || layers_text.get()
                        on:change=move |ev| {
                            let text = event_target_value(&ev);
                            layers_text.set(text.clone());
                            let t = text.trim();
                            if t == "all" || t.is_empty() {
                                lora_input_error.set(None);
                                setup.update(|s| s.lora.layers = None);
                                return;
                            }
                            let parsed: Option<Vec<usize>> = t.split(',').map(|x| x.trim().parse().ok()).collect();
                            match parsed {
                                Some(mut l) if !l.is_empty() => { l.sort_unstable(); l.dedup(); lora_input_error.set(None); setup.update(|s| s.lora.layers = Some(l)) }
                                _ => lora_input_error.set(Some(format!("Layers: expected all, or layer numbers such as 0,1,5; got \"{text}\""))),
                            }
                        }
                    />
                </label>
            </div>
            <div class="controls" data-testid="lora-targets">
                "Adapted matrices: "
                {LoraModule::ALL.into_iter().map(|m| view! { <LoraTarget setup=setup module=m /> }).collect_view()}
            </div>
            {move || lora_input_error.get().map(|e| view! { <p class="error" data-testid="lora-input-error">{e}</p> })}
        </section>
    }
}
