//! Which kernel the NTK is: plain or sign, its layout, and the parameters it is taken over.

use leptos::prelude::*;
use ntk_lens_core::options::{KernelKind, Layout, ParamSet};

use crate::page::setup::Setup;

/// The kernel, layout and parameters selects.
#[component]
pub fn KernelSelects(setup: RwSignal<Setup>) -> impl IntoView {
    view! {
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
    }
}
