//! The Data tab: a bundled dataset or an uploaded file (picker or drag and drop), the text and
//! label columns, the split, a preview with label counts and a length histogram. Files are read
//! by the core in the compute worker; a bad file shows the core's message and changes nothing.
//!
//! * [`source`]: the bundled datasets, [`dropzone`]: a file of one's own, and what was read;
//! * [`columns`]: the text, pair and label columns and the task; [`split`]: the split;
//! * [`labels`], [`histogram`]: the label counts and the text lengths; [`preview`]: the rows,
//!   with the rows picked for the NTK.

mod columns;
mod dropzone;
mod histogram;
mod labels;
mod preview;
mod source;
mod split;

use leptos::prelude::*;
use ntk_lens_core::data::{guess_columns, ColumnChoice};

use crate::page::loading::data::DataLoad;
use crate::page::Page;
use columns::DataColumns;
use histogram::LengthHistogram;
use labels::LabelCounts;
use preview::Preview;
use source::DataSource;

/// The columns of the table read last: the active dataset's when it came from that table, else
/// the core's guess (first and last column where nothing can be guessed).
fn current_choice(data: DataLoad) -> Option<ColumnChoice> {
    let table = data.table.get()?;
    let active = data.dataset.with(|d| {
        d.as_ref()
            .filter(|d| d.file == table.file)
            .map(|d| d.columns.clone())
    });
    active.or_else(|| {
        let g = guess_columns(&table.columns);
        Some(ColumnChoice {
            text: g.text.or_else(|| table.columns.first().cloned())?,
            text_pair: g.text_pair,
            label: g.label.or_else(|| table.columns.last().cloned())?,
            task: None,
        })
    })
}

/// The Data tab's controls and views.
#[component]
pub fn DataTab() -> impl IntoView {
    let page = expect_context::<Page>();
    let data = page.loading.data;
    let load_bundled = Callback::new(move |id: String| data.load_bundled(page, &id, None));
    let upload = Callback::new(move |(name, bytes)| data.upload(page, name, bytes));
    let rechoose = Callback::new(move |columns| data.rechoose(page, columns));
    view! {
        <DataSource setup=page.setup data=data load_bundled=load_bundled upload=upload />
        <DataColumns setup=page.setup data=data rechoose=rechoose />
        <section class="panel" data-testid="data-overview">
            <h3>"Labels and lengths"</h3>
            <div class="overview">
                <LabelCounts dataset=data.dataset />
                <LengthHistogram dataset=data.dataset />
            </div>
            <h3>"Preview"</h3>
            <Preview setup=page.setup data=data />
        </section>
    }
}
