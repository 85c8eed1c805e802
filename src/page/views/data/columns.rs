//! The columns of the table read last (text, second text, label) and the task; a change
//! rebuilds the dataset from that table.

use leptos::prelude::*;
use ntk_lens_core::data::{ColumnChoice, Task};

use super::current_choice;
use super::split::SplitSettings;
use crate::page::loading::data::DataLoad;
use crate::page::setup::Setup;

/// A select changed: rebuild from the table read last with the new columns (`role`: text,
/// pair, task or label).
fn choose(
    data: DataLoad,
    rechoose: Callback<Option<ColumnChoice>>,
    role: &'static str,
    value: String,
) {
    let mut c = current_choice(data).unwrap_or_else(|| ColumnChoice::single("", ""));
    match role {
        "text" => c.text = value,
        "pair" => c.text_pair = (!value.is_empty()).then_some(value),
        "task" => c.task = value.parse::<Task>().ok(),
        _ => {
            // Another label column: its own task is detected again.
            c.label = value;
            c.task = None;
        }
    }
    rechoose.run(Some(c));
}

/// The select of one column's role (text, pair or label) among the table's columns;
/// `optional`: with a "(none)" choice.
#[component]
fn ColumnSelect(
    data: DataLoad,
    rechoose: Callback<Option<ColumnChoice>>,
    role: &'static str,
    testid: &'static str,
    optional: bool,
) -> impl IntoView {
    let columns = move || {
        data.table
            .with(|t| t.as_ref().map(|t| t.columns.clone()).unwrap_or_default())
    };
    let selected = move || {
        current_choice(data)
            .map(|c| match role {
                "text" => c.text,
                "pair" => c.text_pair.unwrap_or_default(),
                _ => c.label,
            })
            .unwrap_or_default()
    };
    view! {
        <select
            data-testid=testid
            on:change=move |ev| choose(data, rechoose, role, event_target_value(&ev))
            prop:value=selected
        >
            {optional.then(|| view! { <option value="">"(none: single sentences)"</option> })}
            {move || {
                columns()
                    .into_iter()
                    .map(|c| {
                        let sel = c == selected();
                        view! { <option value=c.clone() selected=sel>{c.clone()}</option> }
                    })
                    .collect_view()
            }}
        </select>
    }
}

/// The Columns and split panel. `rechoose` rebuilds the dataset from the table read last with
/// other columns.
#[component]
pub fn DataColumns(
    setup: RwSignal<Setup>,
    data: DataLoad,
    rechoose: Callback<Option<ColumnChoice>>,
) -> impl IntoView {
    view! {
        <section class="panel" data-testid="data-columns">
            <h3>"Columns and split"</h3>
            <div class="controls">
                <label>"Text " <ColumnSelect data=data rechoose=rechoose role="text" testid="data-col-text" optional=false /></label>
                <label>"Second text " <ColumnSelect data=data rechoose=rechoose role="pair" testid="data-col-pair" optional=true /></label>
                <label>"Label " <ColumnSelect data=data rechoose=rechoose role="label" testid="data-col-label" optional=false /></label>
                <label title="Detected from the label column: numbers that are not a few integers are a score (regression).">
                    "Task "
                    <select
                        data-testid="data-task"
                        on:change=move |ev| choose(data, rechoose, "task", event_target_value(&ev))
                        prop:value=move || {
                            // A refused choice (an error) shows the active dataset's task again.
                            data.error.track();
                            data.dataset.with(|d| d.as_ref().map(|d| d.task.to_string()).unwrap_or_default())
                        }
                    >
                        {[Task::Classification, Task::Regression].map(|t| {
                            let selected = move || data.dataset.with(|d| d.as_ref().is_some_and(|d| d.task == t));
                            view! { <option value=t.to_string() selected=selected>{t.to_string()}</option> }
                        }).collect_view()}
                    </select>
                </label>
            </div>
            <SplitSettings setup=setup data=data rechoose=rechoose />
        </section>
    }
}
