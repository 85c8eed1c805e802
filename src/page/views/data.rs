//! The Data tab: a bundled dataset or an uploaded file (picker or drag and drop), the text and
//! label columns, the split, a preview with label counts and a length histogram. Files are read
//! by the core in the compute worker; a bad file shows the core's message and changes nothing.

use leptos::prelude::*;
use ntk_lens_core::data::limits::{
    MAX_CLASSES, MAX_INPUT_BYTES, MAX_LINE_BYTES, MAX_ROWS, MAX_TEXT_CHARS,
};
use ntk_lens_core::data::{guess_columns, ColumnChoice, Task};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use crate::page::format::thousands;
use crate::page::setup::{DataChoice, Setup};
use crate::page::Page;
use crate::protocol::loading::SplitSummary;
use ntk_lens_core::options::SampleMethod;

/// Reads the first file of a file list and hands it to the worker.
fn read_file(page: Page, files: Option<web_sys::FileList>) {
    let Some(file) = files.and_then(|f| f.get(0)) else {
        return;
    };
    let name = file.name();
    if file.size() > MAX_INPUT_BYTES as f64 {
        // Not even read: the core's limit, said before copying 50+ MB around.
        page.loading.data.error.set(Some(format!(
            "{name}: the file has {} bytes, more than the limit of {MAX_INPUT_BYTES} bytes",
            file.size()
        )));
        return;
    }
    wasm_bindgen_futures::spawn_local(async move {
        match JsFuture::from(file.array_buffer()).await {
            Ok(buffer) => page
                .loading
                .data
                .upload(page, name, js_sys::Uint8Array::new(&buffer)),
            Err(e) => page.loading.data.error.set(Some(format!(
                "{name}: the browser could not read the file ({e:?})"
            ))),
        }
    });
}

/// The Data tab's controls and views.
#[component]
pub fn DataTab() -> impl IntoView {
    let page = expect_context::<Page>();
    let setup = expect_context::<RwSignal<Setup>>();
    let dragging = RwSignal::new(false);

    let bundled_id = move || match setup.with(|s| s.data.choice.clone()) {
        DataChoice::Bundled(id) => id,
        DataChoice::Upload(_) => String::new(),
    };
    let bundled_info = move || {
        let id = bundled_id();
        page.loading.data.index.with(|i| {
            i.as_ref()
                .and_then(|i| i.datasets.iter().find(|d| d.id == id).cloned())
        })
    };
    let columns = move || {
        page.loading
            .data
            .table
            .with(|t| t.as_ref().map(|t| t.columns.clone()).unwrap_or_default())
    };
    // The columns of the table read last: the active dataset's when it came from that table,
    // else the core's guess (first and last column where nothing can be guessed).
    let current_choice = move || {
        let table = page.loading.data.table.get()?;
        let active = page.loading.data.dataset.with(|d| {
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
    };
    // A select changed: rebuild from the table read last with the new columns.
    let choose = move |role: &'static str, value: String| {
        let mut c = current_choice().unwrap_or_else(|| ColumnChoice::single("", ""));
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
        page.loading.data.rechoose(page, Some(c));
    };
    let column_select = move |role: &'static str, testid: &'static str, optional: bool| {
        let selected = move || {
            current_choice()
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
                on:change=move |ev| choose(role, event_target_value(&ev))
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
    };
    let set_split = move |eval: Option<f64>, seed: Option<u64>| {
        setup.update(|s| {
            if let Some(e) = eval {
                s.data.eval_fraction = e;
            }
            if let Some(sd) = seed {
                s.data.split_seed = sd;
            }
        });
        page.loading.data.rechoose(page, current_choice());
    };
    let split_error = RwSignal::new(None::<String>);

    let status = move || {
        let busy = page.loading.data.slot.state.with(|j| j.is_busy());
        if busy {
            return "Reading…".to_string();
        }
        match page.loading.data.dataset.get() {
            Some(d) => format!(
                "Active dataset: {} ({} rows, {}, from {}){}",
                d.name,
                thousands(d.rows),
                match d.task {
                    Task::Classification => format!("{} classes", d.label_names.len()),
                    Task::Regression => "regression on a score".to_string(),
                },
                d.file,
                page.loading
                    .data
                    .slot
                    .last
                    .with(|r| r.as_ref().map(|r| r.read_ms))
                    .map(|ms| format!("; read in {ms:.0} ms"))
                    .unwrap_or_default()
            ),
            None => "No dataset yet.".into(),
        }
    };

    let label_counts = move || {
        page.loading.data.dataset.get().map(|d| {
            if let Some(sc) = d.scores {
                let column = d.label_names.first().cloned().unwrap_or_default();
                return view! {
                    <p data-testid="data-score-summary">{format!(
                        "Regression: column `{column}` holds a numeric score per row (from {} to {}, mean {:.3}). \
                         The model gets one output fitted to the score under the squared loss, and is scored by \
                         Pearson's and Spearman's correlation of output and score.",
                        sc.min, sc.max, sc.mean
                    )}</p>
                }
                .into_any();
            }
            let total = d.rows.max(1);
            let train_counts = match &d.split {
                SplitSummary::Sizes { train_counts, .. } => train_counts.clone(),
                SplitSummary::Error(_) => vec![],
            };
            view! {
                <table class="results" data-testid="data-label-counts">
                    <tr><th>"label"</th><th>"rows"</th><th>"share"</th><th>"in training split"</th></tr>
                    {d.label_names.iter().zip(&d.label_counts).enumerate().map(|(i, (name, count))| {
                        let share = format!("{:.1}%", 100.0 * *count as f64 / total as f64);
                        let train = train_counts.get(i).map(|c| c.to_string()).unwrap_or_default();
                        view! {
                            <tr data-testid="data-label-row" data-label=name.clone()>
                                <td>{name.clone()}</td>
                                <td data-testid="data-label-count">{*count}</td>
                                <td>{share}</td>
                                <td>{train}</td>
                            </tr>
                        }
                    }).collect_view()}
                </table>
            }
            .into_any()
        })
    };

    let split_line = move || {
        page.loading.data.dataset.get().map(|d| match d.split {
            SplitSummary::Sizes { train, eval, .. } => view! {
                <p data-testid="data-split">{format!(
                    "Split: {train} rows for training, {eval} for evaluation ({}).",
                    match d.task { Task::Classification => "stratified by label", Task::Regression => "at random" }
                )}</p>
            }.into_any(),
            SplitSummary::Error(e) => view! { <p class="error" data-testid="data-split">{e}</p> }.into_any(),
        })
    };

    let histogram = move || {
        page.loading.data.dataset.get().map(|d| {
            let h = d.histogram;
            let peak = h.counts.iter().copied().max().unwrap_or(1).max(1);
            view! {
                <figure class="histogram" data-testid="data-length-histogram">
                    <div class="bars">
                        {h.counts.iter().enumerate().map(|(i, &c)| {
                            let r = h.bin_range(i);
                            let height = format!("{}%", (100.0 * c as f64 / peak as f64).max(if c > 0 { 2.0 } else { 0.0 }));
                            view! { <div class="bar" style:height=height title=format!("{}–{} words: {c} rows", r.start, r.end - 1)></div> }
                        }).collect_view()}
                    </div>
                    <figcaption>{format!(
                        "Text length in words (text + pair), {} bins of {} words: shortest {}, longest {}, mean {:.1}.",
                        h.counts.len(), h.bin_width, h.min, h.max, h.mean
                    )}</figcaption>
                </figure>
            }
        })
    };

    let preview = move || {
        page.loading.data.table.get().map(|t| {
            let roles = current_choice();
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
    };

    view! {
        <section class="panel" data-testid="data-source">
            <h3>"Dataset"</h3>
            <div class="controls">
                <label>
                    "Bundled "
                    <select
                        data-testid="data-bundled"
                        on:change=move |ev| {
                            let id = event_target_value(&ev);
                            if !id.is_empty() {
                                setup.update(|s| s.data.task = None);
                                page.loading.data.load_bundled(page, &id, None);
                            }
                        }
                    >
                        <option value="" prop:selected=move || bundled_id().is_empty()>"(an uploaded file)"</option>
                        {move || page.loading.data.index.get().map(|i| i.datasets.into_iter().map(|d| {
                            let id = d.id.clone();
                            view! { <option value=d.id.clone() prop:selected=move || bundled_id() == id>{format!("{} ({} rows)", d.title, d.rows)}</option> }
                        }).collect_view())}
                    </select>
                </label>
            </div>
            {move || bundled_info().map(|d| view! {
                <p class="muted" data-testid="data-bundled-info">
                    {format!("Source: {}. Licence: {}. Cite: {}", d.source, d.licence, d.citation)}
                </p>
            })}
            <div
                class="dropzone"
                class:dragging=move || dragging.get()
                data-testid="data-dropzone"
                on:dragover=move |ev: web_sys::DragEvent| { ev.prevent_default(); dragging.set(true); }
                on:dragleave=move |_| dragging.set(false)
                on:drop=move |ev: web_sys::DragEvent| {
                    ev.prevent_default();
                    dragging.set(false);
                    read_file(page, ev.data_transfer().and_then(|d| d.files()));
                }
            >
                <p>"Drop a CSV, TSV, JSON or JSONL file here, or "
                    <label class="filepick">
                        "choose one"
                        <input
                            type="file"
                            accept=".csv,.tsv,.json,.jsonl,.txt"
                            data-testid="data-file-input"
                            on:change=move |ev| {
                                let input: Option<web_sys::HtmlInputElement> = ev.target().and_then(|t| t.dyn_into().ok());
                                if let Some(input) = input {
                                    read_file(page, input.files());
                                    input.set_value("");
                                }
                            }
                        />
                    </label>
                    "."
                </p>
                <p class="muted" data-testid="data-limits">{format!(
                    "Limits: files up to {} MB, {} rows, {} characters per text, {} MiB per line, {} classes. A header line names the columns; the file is read in the compute worker, so the page stays responsive.",
                    MAX_INPUT_BYTES / (1024 * 1024), thousands(MAX_ROWS), thousands(MAX_TEXT_CHARS), MAX_LINE_BYTES / (1024 * 1024), thousands(MAX_CLASSES)
                )}</p>
            </div>
            <p data-testid="data-status" aria-live="polite">{status}</p>
            {move || page.loading.data.error.get().map(|e| view! {
                <p class="error" data-testid="data-error" role="alert">{e}<br/><span class="muted">"The previous dataset and all settings are kept."</span></p>
            })}
        </section>
        <section class="panel" data-testid="data-columns">
            <h3>"Columns and split"</h3>
            <div class="controls">
                <label>"Text " {column_select("text", "data-col-text", false)}</label>
                <label>"Second text " {column_select("pair", "data-col-pair", true)}</label>
                <label>"Label " {column_select("label", "data-col-label", false)}</label>
                <label title="Detected from the label column: numbers that are not a few integers are a score (regression).">
                    "Task "
                    <select
                        data-testid="data-task"
                        on:change=move |ev| choose("task", event_target_value(&ev))
                        prop:value=move || {
                            // A refused choice (an error) shows the active dataset's task again.
                            page.loading.data.error.track();
                            page.loading.data.dataset.with(|d| d.as_ref().map(|d| d.task.to_string()).unwrap_or_default())
                        }
                    >
                        {[Task::Classification, Task::Regression].map(|t| {
                            let selected = move || page.loading.data.dataset.with(|d| d.as_ref().is_some_and(|d| d.task == t));
                            view! { <option value=t.to_string() selected=selected>{t.to_string()}</option> }
                        }).collect_view()}
                    </select>
                </label>
            </div>
            <div class="controls">
                <label>
                    "Evaluation fraction "
                    <input type="text" inputmode="decimal" data-testid="data-eval-fraction"
                        prop:value=move || setup.with(|s| s.data.eval_fraction.to_string())
                        on:change={move |ev| match event_target_value(&ev).trim().parse::<f64>() {
                            Ok(x) if x > 0.0 && x < 1.0 => { split_error.set(None); set_split(Some(x), None) }
                            _ => split_error.set(Some("Evaluation fraction: expected a number strictly between 0 and 1".into())),
                        }}
                    />
                </label>
                <label>
                    "Split seed "
                    <input type="text" inputmode="numeric" data-testid="data-split-seed"
                        prop:value=move || setup.with(|s| s.data.split_seed.to_string())
                        on:change={move |ev| match event_target_value(&ev).trim().parse::<u64>() {
                            Ok(x) => { split_error.set(None); set_split(None, Some(x)) }
                            _ => split_error.set(Some("Split seed: expected a whole number".into())),
                        }}
                    />
                </label>
            </div>
            {move || split_error.get().map(|e| view! { <p class="error" data-testid="data-split-input-error">{e}</p> })}
            {split_line}
        </section>
        <section class="panel" data-testid="data-overview">
            <h3>"Labels and lengths"</h3>
            <div class="overview">
                {label_counts}
                {histogram}
            </div>
            <h3>"Preview"</h3>
            {preview}
        </section>
    }
}

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
