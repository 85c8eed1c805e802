//! The grid of (layer, module) blocks of the last NTK, one checkbox each.

use leptos::prelude::*;
use ntk_lens_core::ntk::NtkBlocks;

use crate::page::setup::Setup;

/// The names of the blocks of the last NTK (none before one is in).
fn block_names(blocks: RwSignal<Option<NtkBlocks>>) -> Vec<String> {
    blocks.with(|b| {
        b.as_ref()
            .map(|b| b.train.names().to_vec())
            .unwrap_or_default()
    })
}

/// The layers that `names` (`block.{layer}.{module}`) name, in order, once each.
fn layers_of(names: &[String]) -> Vec<usize> {
    let mut l: Vec<usize> = names
        .iter()
        .filter_map(|n| n.split('.').nth(1).and_then(|x| x.parse().ok()))
        .collect();
    l.sort();
    l.dedup();
    l
}

/// The modules that `names` (`block.{layer}.{module}`) name, in order, once each.
fn modules_of(names: &[String]) -> Vec<String> {
    let mut m: Vec<String> = names
        .iter()
        .filter_map(|n| n.split('.').nth(2).map(String::from))
        .collect();
    m.sort();
    m.dedup();
    m
}

/// One row per layer, one column per module: a checkbox where the block exists. Toggling one
/// changes the setup's chosen blocks; `last` is the block added, if one was.
#[component]
pub fn BlockGrid(
    setup: RwSignal<Setup>,
    blocks: RwSignal<Option<NtkBlocks>>,
    last: RwSignal<Option<String>>,
) -> impl IntoView {
    let names = move || block_names(blocks);
    let layers = move || layers_of(&names());
    let modules = move || modules_of(&names());
    let toggle = move |name: String| {
        setup.update(|s| {
            if let Some(i) = s.workspace.blocks.iter().position(|b| *b == name) {
                s.workspace.blocks.remove(i);
                last.set(None);
            } else {
                s.workspace.blocks.push(name.clone());
                last.set(Some(name));
            }
        });
    };
    view! {
        <table class="grid" data-testid="layers-grid">
            <tr><th>"layer"</th>{move || modules().into_iter().map(|m| view! { <th>{m}</th> }).collect_view()}</tr>
            {move || layers().into_iter().map(|l| view! {
                <tr><th>{l}</th>
                {modules().into_iter().map(|m| {
                    let name = format!("block.{l}.{m}");
                    let exists = names().contains(&name);
                    let n2 = name.clone();
                    let checked = move || setup.with(|s| s.workspace.blocks.contains(&n2));
                    let n3 = name.clone();
                    view! { <td>{exists.then(|| view! {
                        <input type="checkbox" data-testid=format!("block-{l}-{m}") aria-label=format!("layer {l} {m}")
                            prop:checked=checked on:change=move |_| toggle(n3.clone()) />
                    })}</td> }
                }).collect_view()}
                </tr>
            }).collect_view()}
        </table>
    }
}
