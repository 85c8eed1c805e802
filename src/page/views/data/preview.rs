//! The first rows of the table read last, each column marked with its role, and a checkbox per
//! row to pick exactly the rows the NTK analyses.

use leptos::prelude::*;
use ntk_lens_core::options::SampleMethod;

use super::current_choice;
use crate::page::format::thousands;
use crate::page::loading::data::DataLoad;
use crate::page::setup::Setup;

/// Adds or removes dataset row `row` from the picked samples; no rows left means the default
/// (stratified) sampling again.
fn toggle_pick(setup: RwSignal<Setup>, row: usize, on: bool) {
    setup.update(|s| {
        let mut rows = match s.samples.method {
            SampleMethod::Picked => std::mem::take(&mut s.samples.rows),
            _ => Vec::new(),
        };
        rows.retain(|&r| r != row);
        if on {
            rows.push(row);
            rows.sort_unstable();
        }
        s.samples.method = if rows.is_empty() {
            SampleMethod::Stratified
        } else {
            SampleMethod::Picked
        };
        s.samples.rows = rows;
    });
}

/// The preview of the table read last, with the rows picked in the setup.
#[component]
pub fn Preview(setup: RwSignal<Setup>, data: DataLoad) -> impl IntoView {
    move || {
        data.table.get().map(|t| {
            let roles = current_choice(data);
            let role_of = move |c: &str| match &roles {
                Some(r) if r.text == c => " (text)",
                Some(r) if r.text_pair.as_deref() == Some(c) => " (pair)",
                Some(r) if r.label == c => " (label)",
                _ => "",
            };
            view! {
                <p class="muted">{format!("{}: {} rows, {} format; the first {} are shown.", t.file, thousands(t.rows), format!("{:?}", t.format).to_uppercase(), t.preview.len())}</p>
                <p data-testid="data-picked">{move || match setup.with(|s| (s.samples.method, s.samples.rows.len())) {
                    (SampleMethod::Picked, k) => format!("{k} rows picked: the NTK tab analyses exactly these."),
                    _ => "Tick rows to analyse exactly those in the NTK tab (otherwise the NTK tab draws its samples from the training split).".to_string(),
                }}</p>
                <div class="scroll" data-testid="data-preview">
                    <table class="preview">
                        <thead><tr><th title="pick rows for the NTK">"pick"</th><th>"line"</th>{t.columns.iter().map(|c| view! { <th>{format!("{c}{}", role_of(c))}</th> }).collect_view()}</tr></thead>
                        <tbody>
                            {t.preview.iter().zip(&t.lines).enumerate().map(|(i, (row, line))| view! {
                                <tr>
                                    <td><input type="checkbox" data-testid=format!("data-pick-{i}") aria-label=format!("pick row {}", i + 1)
                                        prop:checked=move || setup.with(|s| s.samples.method == SampleMethod::Picked && s.samples.rows.contains(&i))
                                        on:change=move |ev| toggle_pick(setup, i, event_target_checked(&ev)) /></td>
                                    <td class="muted">{*line}</td>{row.iter().map(|c| view! { <td>{c.clone()}</td> }).collect_view()}
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                </div>
            }
        })
    }
}
