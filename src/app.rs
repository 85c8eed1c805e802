//! The application shell: header with the backend status line, the tab bar, and the shared
//! state (the compute worker and what it reported).

use std::rc::Rc;
use std::time::Duration;

use leptos::prelude::*;
use ntk_lens_core::device::BackendInfo;

use js_sys::Uint8Array;
use ntk_lens_core::data::{BundledIndex, ColumnChoice};

use crate::analysis_jobs::{NtkOutcome, StudyOutcome, SweepOutcome};
use crate::bridge::WorkerBridge;
use crate::job_state::JobState;
use crate::jobs::{
    DataJob, DataSource, DatasetSummary, ModelJob, ModelSource, ModelSummary, TableSummary,
};
use crate::protocol::{Job, JobResult, Request, Response};
use crate::setup::{DataChoice, ModelChoice, Setup};
use crate::views::{
    data::DataTab, layers::LayersTab, learn::LearnTab, linearization::LinearizationTab,
    model::ModelTab, ntk::NtkTab, selfcheck::SelfCheckPanel, TabIntro,
};

/// The tabs of the explorer, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    /// Model and backend.
    Model,
    /// Dataset choice and preview.
    Data,
    /// Empirical NTK and its spectrum.
    Ntk,
    /// Linearized vs actual fine-tuning as lambda varies.
    Linearization,
    /// Layer selection and spectral perturbation.
    LayerSelection,
    /// Plain-language explanations.
    Learn,
}

impl Tab {
    /// All tabs in display order.
    pub const ALL: [Tab; 6] = [
        Tab::Model,
        Tab::Data,
        Tab::Ntk,
        Tab::Linearization,
        Tab::LayerSelection,
        Tab::Learn,
    ];

    /// The tab's label.
    pub fn label(self) -> &'static str {
        match self {
            Tab::Model => "Model",
            Tab::Data => "Data",
            Tab::Ntk => "NTK",
            Tab::Linearization => "Linearization",
            Tab::LayerSelection => "Layer selection",
            Tab::Learn => "Learn",
        }
    }

    /// The stable id used in `data-testid` and element ids.
    pub fn slug(self) -> &'static str {
        match self {
            Tab::Model => "model",
            Tab::Data => "data",
            Tab::Ntk => "ntk",
            Tab::Linearization => "linearization",
            Tab::LayerSelection => "layers",
            Tab::Learn => "learn",
        }
    }
}

/// Dropped model files: their names and bytes.
type DroppedFiles = (Vec<String>, Vec<Uint8Array>);

/// How long the worker gets to answer a cancel before it is stopped by force.
const CANCEL_GRACE: Duration = Duration::from_millis(3000);

/// Shared handles for the views: the worker and the job states it updates.
#[derive(Clone, Copy)]
pub struct Compute {
    /// The backend the worker chose; `None` while it starts.
    pub backend: RwSignal<Option<BackendInfo>>,
    /// The self-check job.
    pub selfcheck: RwSignal<JobState>,
    /// A message about the worker itself (crash, restart).
    pub worker_note: RwSignal<Option<String>>,
    /// The model-loading job.
    pub model_job: RwSignal<JobState>,
    /// The model in the worker's session (the last that loaded).
    pub model: RwSignal<Option<ModelSummary>>,
    /// The dataset-reading job.
    pub data_job: RwSignal<JobState>,
    /// The table read last.
    pub table: RwSignal<Option<TableSummary>>,
    /// The active dataset (the last that was built).
    pub dataset: RwSignal<Option<DatasetSummary>>,
    /// Why the last dataset attempt failed (the active dataset is unchanged).
    pub data_error: RwSignal<Option<String>>,
    /// How long the worker took to read the last file (ms).
    pub data_read_ms: RwSignal<Option<f64>>,
    /// The bundled datasets (`datasets/index.json`), once fetched.
    pub index: RwSignal<Option<BundledIndex>>,
    /// The whole setup (also provided as context on its own).
    pub setup: RwSignal<Setup>,
    /// The NTK job.
    pub ntk_job: RwSignal<JobState>,
    /// The last NTK computed.
    pub ntk: RwSignal<Option<NtkOutcome>>,
    /// The last NTK's blocks, decoded once for the views that sum blocks and fit the
    /// linearized model on the page.
    pub ntk_blocks: RwSignal<Option<ntk_lens_core::ntk::NtkBlocks>>,
    /// The λ-sweep job.
    pub sweep_job: RwSignal<JobState>,
    /// The last sweep.
    pub sweep: RwSignal<Option<SweepOutcome>>,
    /// The layer-study job.
    pub study_job: RwSignal<JobState>,
    /// The adapter-export job.
    pub export_job: RwSignal<JobState>,
    /// The radius-probe job.
    pub radius_job: RwSignal<JobState>,
    /// The last radius probe.
    pub radius: RwSignal<Option<Vec<ntk_lens_core::experiment::RadiusPoint>>>,
    /// The last study.
    pub study: RwSignal<Option<StudyOutcome>>,
    /// Losses reported by the running sweep or study (live curve).
    pub live_loss: RwSignal<Vec<f64>>,
    bridge: StoredValue<Option<Rc<WorkerBridge>>, LocalStorage>,
    next_id: StoredValue<u32>,
    /// The last upload's name and bytes (resent after a worker restart).
    upload: StoredValue<Option<(String, Uint8Array)>, LocalStorage>,
    /// The dropped model files (resent after a worker restart).
    dropped: StoredValue<Option<DroppedFiles>, LocalStorage>,
    /// The data choice of the job in flight, committed to the setup when it succeeds.
    pending_data: StoredValue<Option<DataChoice>>,
    /// The model choice of the job in flight, committed to the setup when it succeeds.
    pending_model: StoredValue<Option<ModelChoice>>,
}

impl Compute {
    fn new(setup: RwSignal<Setup>) -> Self {
        let compute = Compute {
            backend: RwSignal::new(None),
            selfcheck: RwSignal::new(JobState::Idle),
            worker_note: RwSignal::new(None),
            model_job: RwSignal::new(JobState::Idle),
            model: RwSignal::new(None),
            data_job: RwSignal::new(JobState::Idle),
            table: RwSignal::new(None),
            dataset: RwSignal::new(None),
            data_error: RwSignal::new(None),
            data_read_ms: RwSignal::new(None),
            index: RwSignal::new(None),
            setup,
            ntk_job: RwSignal::new(JobState::Idle),
            ntk: RwSignal::new(None),
            ntk_blocks: RwSignal::new(None),
            sweep_job: RwSignal::new(JobState::Idle),
            sweep: RwSignal::new(None),
            study_job: RwSignal::new(JobState::Idle),
            export_job: RwSignal::new(JobState::Idle),
            radius_job: RwSignal::new(JobState::Idle),
            radius: RwSignal::new(None),
            study: RwSignal::new(None),
            live_loss: RwSignal::new(Vec::new()),
            bridge: StoredValue::new_local(None),
            next_id: StoredValue::new(1),
            upload: StoredValue::new_local(None),
            dropped: StoredValue::new_local(None),
            pending_data: StoredValue::new(None),
            pending_model: StoredValue::new(None),
        };
        let on_response = Rc::new(move |response: Response| compute.receive(response));
        let on_crash = Rc::new(move |message: String| compute.crashed(message));
        let bridge = WorkerBridge::spawn(on_response, on_crash);
        compute.bridge.set_value(Some(bridge));
        compute
    }

    fn receive(self, response: Response) {
        match &response {
            Response::Ready { backend } => self.backend.set(Some(backend.clone())),
            Response::Error { id: None, message } => self.worker_note.set(Some(message.clone())),
            _ => {}
        }
        let data_id = self.data_job.with_untracked(|s| s.active_id());
        let model_id = self.model_job.with_untracked(|s| s.active_id());
        match &response {
            Response::Result {
                id,
                result: JobResult::Dataset(report),
            } if Some(*id) == data_id => {
                self.table.set(Some(report.table.clone()));
                self.data_read_ms.set(Some(report.read_ms));
                match &report.dataset {
                    Ok(d) => {
                        self.dataset.set(Some(d.clone()));
                        self.data_error.set(None);
                        let choice = self.pending_data.get_value();
                        self.setup.update(|s| {
                            if let Some(c) = choice {
                                s.data = c;
                            }
                            s.text_column = Some(d.columns.text.clone());
                            s.pair_column = d.columns.text_pair.clone();
                            s.label_column = Some(d.columns.label.clone());
                        });
                    }
                    Err(m) => self.data_error.set(Some(m.clone())),
                }
            }
            Response::Error {
                id: Some(id),
                message,
            } if Some(*id) == data_id => self.data_error.set(Some(message.clone())),
            Response::Result {
                id,
                result: JobResult::Model(summary),
            } if Some(*id) == model_id => {
                self.model.set(Some((**summary).clone()));
                if let Some(choice) = self.pending_model.get_value() {
                    self.setup.update(|s| s.model = choice);
                }
            }
            Response::Result {
                result: JobResult::Ntk(outcome),
                ..
            } => {
                self.ntk_blocks
                    .set(ntk_lens_core::ntk::NtkBlocks::from_data(&outcome.blocks).ok());
                self.ntk.set(Some((**outcome).clone()));
                self.sweep.set(None);
                self.study.set(None);
                self.radius.set(None);
            }
            Response::Result {
                result: JobResult::Sweep(outcome),
                ..
            } => self.sweep.set(Some((**outcome).clone())),
            Response::Result {
                result: JobResult::Study(outcome),
                ..
            } => self.study.set(Some((**outcome).clone())),
            Response::Result {
                result: JobResult::Radius(points),
                ..
            } => self.radius.set(Some(points.clone())),
            Response::Result {
                result: JobResult::Adapter(files),
                ..
            } => match crate::analysis_jobs::adapter_zip(files) {
                Ok(zip) => crate::views::common::download_bytes(
                    &format!("lora-adapter-lambda-{}.zip", files.lambda),
                    "application/zip",
                    &zip,
                ),
                Err(e) => self
                    .worker_note
                    .set(Some(format!("the adapter zip failed: {e}"))),
            },
            Response::Progress {
                id,
                loss: Some(loss),
                ..
            } if [self.sweep_job, self.study_job]
                .iter()
                .any(|j| j.with_untracked(|s| s.active_id()) == Some(*id)) =>
            {
                self.live_loss.update(|v| v.push(*loss))
            }
            _ => {}
        }
        for job in self.jobs() {
            job.update(|s| *s = std::mem::take(s).apply(&response));
        }
    }

    fn jobs(self) -> [RwSignal<JobState>; 8] {
        [
            self.radius_job,
            self.export_job,
            self.selfcheck,
            self.data_job,
            self.model_job,
            self.ntk_job,
            self.sweep_job,
            self.study_job,
        ]
    }

    fn device_jobs(self) -> [RwSignal<JobState>; 6] {
        [
            self.selfcheck,
            self.model_job,
            self.radius_job,
            self.ntk_job,
            self.sweep_job,
            self.study_job,
        ]
    }

    /// Whether a device job (model load, self-check, NTK, sweep, study) is running.
    pub fn device_busy(self) -> bool {
        self.device_jobs()
            .iter()
            .any(|j| j.with_untracked(|s| s.is_busy()))
    }

    /// [`Self::device_busy`], tracked: for a button that must wait, e.g. the self-check while
    /// the model loads at start (the worker runs one device job at a time and refuses others).
    pub fn device_busy_tracked(self) -> bool {
        self.device_jobs().iter().any(|j| j.with(|s| s.is_busy()))
    }

    /// Starts an analysis job on `state` (nothing happens while another device job runs).
    pub fn start_analysis(self, state: RwSignal<JobState>, job: Job) {
        if self.device_busy() {
            return;
        }
        let id = self.new_id();
        state.set(JobState::started(id, 0));
        self.live_loss.set(Vec::new());
        self.with_bridge(|b| b.send(&Request::Start { id, job }));
    }

    /// Asks the analysis job on `state` to stop; restarts the worker if it does not answer.
    pub fn cancel_job(self, state: RwSignal<JobState>) {
        let Some(id) = state.with_untracked(|s| s.active_id()) else {
            return;
        };
        state.update(|s| *s = std::mem::take(s).cancel_requested());
        self.with_bridge(|b| b.send(&Request::Cancel { id }));
        set_timeout(
            move || {
                if state.with_untracked(|s| s.active_id()) == Some(id) {
                    state.update(|s| *s = std::mem::take(s).force_cancelled());
                    self.worker_note.set(Some(
                        "the worker did not stop in time and was restarted".into(),
                    ));
                    self.backend.set(None);
                    self.with_bridge(|b| b.restart());
                }
            },
            CANCEL_GRACE,
        );
    }

    fn new_id(self) -> u32 {
        let id = self.next_id.get_value();
        self.next_id.set_value(id + 1);
        id
    }

    /// Reads a dataset in the worker; on success it becomes active and `choice` is written to
    /// the setup. `bytes` are an upload's.
    pub fn load_data(
        self,
        choice: DataChoice,
        source: DataSource,
        columns: Option<ColumnChoice>,
        bytes: Option<Uint8Array>,
    ) {
        let id = self.new_id();
        let (eval_fraction, split_seed) = self
            .setup
            .with_untracked(|s| (s.eval_fraction, s.split_seed));
        self.pending_data.set_value(Some(choice));
        self.data_job.set(JobState::started(id, 1));
        let request = Request::Start {
            id,
            job: Job::LoadDataset(DataJob {
                source,
                columns,
                eval_fraction,
                split_seed,
            }),
        };
        self.with_bridge(|b| match &bytes {
            Some(bytes) => b.send_with(&request, std::slice::from_ref(bytes)),
            None => b.send(&request),
        });
    }

    /// Loads a bundled dataset by id (guessing columns unless `columns`).
    pub fn load_bundled(self, id: &str, columns: Option<ColumnChoice>) {
        let file = self.index.with_untracked(|i| {
            i.as_ref()
                .and_then(|i| i.datasets.iter().find(|d| d.id == id))
                .map(|d| d.file.clone())
        });
        match file {
            Some(file) => self.load_data(
                DataChoice::Bundled(id.to_string()),
                DataSource::Bundled {
                    id: id.to_string(),
                    file,
                },
                columns,
                None,
            ),
            None => self.data_error.set(Some(format!(
                "no bundled dataset `{id}`; choose one from the list"
            ))),
        }
    }

    /// Reads an uploaded file (its columns guessed), keeping its bytes for restarts.
    pub fn upload(self, name: String, bytes: Uint8Array) {
        self.upload.set_value(Some((name.clone(), bytes.clone())));
        self.load_data(
            DataChoice::Upload(name.clone()),
            DataSource::Upload { file_name: name },
            None,
            Some(bytes),
        );
    }

    /// Rebuilds the dataset from the table read last with other columns or another split.
    pub fn rechoose(self, columns: Option<ColumnChoice>) {
        let choice = self.setup.with_untracked(|s| s.data.clone());
        self.load_data(choice, DataSource::Current, columns, None);
    }

    /// Loads a model into the worker's session.
    pub fn load_model(self, choice: ModelChoice, source: ModelSource, files: Vec<Uint8Array>) {
        if self.model_job.with_untracked(|s| s.is_busy()) {
            return;
        }
        let id = self.new_id();
        let (max_len, lora) = self.setup.with_untracked(|s| (s.max_len, s.lora_config()));
        let num_classes = self
            .dataset
            .with_untracked(|d| d.as_ref().map(|d| d.label_names.len()));
        self.pending_model.set_value(Some(choice));
        self.model_job.set(JobState::started(id, 0));
        let request = Request::Start {
            id,
            job: Job::LoadModel(ModelJob {
                source,
                max_len,
                num_classes,
                lora,
            }),
        };
        self.with_bridge(|b| b.send_with(&request, &files));
    }

    /// Loads dropped model files (config.json, weights, tokenizer.json, in that order).
    pub fn load_dropped(self, names: Vec<String>, files: Vec<Uint8Array>) {
        self.dropped.set_value(Some((names.clone(), files.clone())));
        self.load_model(ModelChoice::Dropped, ModelSource::Dropped { names }, files);
    }

    /// Asks the running model download to stop.
    pub fn cancel_model(self) {
        if let Some(id) = self.model_job.with_untracked(|s| s.active_id()) {
            self.model_job
                .update(|s| *s = std::mem::take(s).cancel_requested());
            self.with_bridge(|b| b.send(&Request::Cancel { id }));
        }
    }

    /// (Re)loads the setup's model into a fresh worker. distilroberta is only loaded when it
    /// was loaded in this page before (a restart), never unasked at start: MiniLM stands in.
    fn reload_model(self) {
        let choice = self.setup.with_untracked(|s| s.model);
        let had = self.model.with_untracked(|m| m.is_some());
        match choice {
            ModelChoice::Distilroberta if had => {
                self.load_model(choice, ModelSource::distilroberta(), vec![])
            }
            ModelChoice::Dropped if self.dropped.with_value(|d| d.is_some()) => {
                let (names, files) = self.dropped.get_value().unwrap_or_default();
                self.load_model(choice, ModelSource::Dropped { names }, files);
            }
            _ => self.load_model(ModelChoice::Minilm, ModelSource::Bundled, vec![]),
        }
    }

    /// (Re)reads the setup's dataset into a fresh worker, with the setup's columns.
    fn reload_data(self) {
        let (data, columns) = self.setup.with_untracked(|s| {
            let columns = match (&s.text_column, &s.label_column) {
                (Some(t), Some(l)) => Some(ColumnChoice {
                    text: t.clone(),
                    text_pair: s.pair_column.clone(),
                    label: l.clone(),
                }),
                _ => None,
            };
            (s.data.clone(), columns)
        });
        match data {
            DataChoice::Upload(name) => match self.upload.get_value() {
                Some((kept, bytes)) if kept == name => self.load_data(
                    DataChoice::Upload(name.clone()),
                    DataSource::Upload { file_name: name },
                    columns,
                    Some(bytes),
                ),
                _ => {
                    self.data_error.set(Some(format!(
                        "the uploaded file `{name}` is not kept across reloads; upload it again. \
                         The default dataset is shown meanwhile."
                    )));
                    self.load_bundled(crate::setup::DEFAULT_DATASET, None);
                }
            },
            DataChoice::Bundled(id) => {
                let known = self.index.with_untracked(|i| {
                    i.as_ref()
                        .is_some_and(|i| i.datasets.iter().any(|d| d.id == id))
                });
                if known {
                    self.load_bundled(&id, columns);
                } else {
                    self.data_error.set(Some(format!(
                        "no bundled dataset `{id}`; the default is shown instead"
                    )));
                    self.load_bundled(crate::setup::DEFAULT_DATASET, None);
                }
            }
        }
    }

    fn crashed(self, message: String) {
        self.worker_note.set(Some(format!("{message} (restarted)")));
        for job in self.jobs() {
            job.update(|s| {
                if s.is_busy() {
                    *s = JobState::Failed(message.clone());
                }
            });
        }
        self.backend.set(None);
        self.with_bridge(|b| b.restart());
    }

    fn with_bridge(self, f: impl FnOnce(&WorkerBridge)) {
        self.bridge.with_value(|b| {
            if let Some(b) = b {
                f(b)
            }
        });
    }

    /// Starts the self-check with `steps` gradient steps.
    pub fn start_selfcheck(self, config: ntk_lens_core::selfcheck::SelfCheckConfig) {
        if self.device_busy() {
            return;
        }
        let id = self.new_id();
        self.selfcheck.set(JobState::started(id, config.steps));
        self.with_bridge(|b| {
            b.send(&Request::Start {
                id,
                job: Job::SelfCheck(config),
            })
        });
    }

    /// Asks the running self-check to stop; stops the worker by force if it does not answer.
    pub fn cancel_selfcheck(self) {
        self.cancel_job(self.selfcheck);
    }
}

/// The whole page.
#[component]
pub fn App() -> impl IntoView {
    let (restored, warnings) = crate::persist::restore();
    let setup = RwSignal::new(restored);
    provide_context(setup);
    let compute = Compute::new(setup);
    provide_context(compute);
    crate::persist::keep(setup);
    crate::persist::fetch_index(compute.index);
    // A fresh worker (at start, or after a restart) gets the model and the dataset again.
    Effect::new(move |_| {
        if compute.backend.with(|b| b.is_some()) {
            compute.reload_model();
        }
    });
    Effect::new(move |_| {
        if compute.backend.with(|b| b.is_some()) && compute.index.with(|i| i.is_some()) {
            compute.reload_data();
        }
    });
    let tab = RwSignal::new(Tab::Model);
    provide_context(tab);

    let status = move || match compute.backend.get() {
        Some(info) => info.label(),
        None => "starting the compute worker…".to_string(),
    };
    let status_class = move || match compute.backend.get() {
        Some(info) if info.is_gpu() => "backend gpu",
        Some(_) => "backend cpu",
        None => "backend pending",
    };

    view! {
        <header class="top">
            <div class="brand">
                <h1>"ntk-lens"</h1>
                <p class="tagline">
                    "See LoRA fine-tuning of a small transformer through its linearization: the neural tangent kernel, its spectrum, and how well a kernel model predicts real training."
                </p>
            </div>
            <div class=status_class data-testid="backend-status" title="The compute backend in use">
                {status}
            </div>
        </header>
        <nav class="tabs" role="tablist" aria-label="Views">
            {Tab::ALL
                .iter()
                .map(|&t| {
                    view! {
                        <button
                            role="tab"
                            id=format!("tab-{}", t.slug())
                            data-testid=format!("tab-{}", t.slug())
                            aria-selected=move || (tab.get() == t).to_string()
                            class:active=move || tab.get() == t
                            on:click=move |_| tab.set(t)
                        >
                            {t.label()}
                        </button>
                    }
                })
                .collect_view()}
        </nav>
        <main>
            // Every tab stays mounted (only hidden), so nothing typed or computed in one tab is
            // lost when another is opened.
            {Tab::ALL
                .iter()
                .map(|&t| {
                    view! {
                        <section
                            role="tabpanel"
                            data-testid=format!("panel-{}", t.slug())
                            aria-labelledby=format!("tab-{}", t.slug())
                            class:hidden=move || tab.get() != t
                        >
                            <TabIntro tab=t />
                            {(t == Tab::Model).then(|| view! { <ModelTab /> <SelfCheckPanel /> })}
                            {(t == Tab::Data).then(|| view! { <DataTab /> })}
                            {(t == Tab::Ntk).then(|| view! { <NtkTab /> })}
                            {(t == Tab::Linearization).then(|| view! { <LinearizationTab /> })}
                            {(t == Tab::LayerSelection).then(|| view! { <LayersTab /> })}
                            {(t == Tab::Learn).then(|| view! { <LearnTab /> })}
                        </section>
                    }
                })
                .collect_view()}
        </main>
        {(!warnings.is_empty()).then(|| view! {
            <footer class="note" data-testid="setup-warnings">
                <p>"Some settings in the link could not be used and were left at their defaults:"</p>
                <ul>{warnings.into_iter().map(|w| view! { <li>{w}</li> }).collect_view()}</ul>
            </footer>
        })}
        <footer class="note" data-testid="worker-note">
            {move || compute.worker_note.get().unwrap_or_default()}
        </footer>
    }
}
