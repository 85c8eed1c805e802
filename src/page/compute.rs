//! The page's handle on the compute worker: one [`JobSlot`] per kind of job (its state and last
//! result), the requests that start and cancel jobs, and the routing of the worker's answers.
//! Adding an analysis is a slot here and an arm in [`Compute::receive`].

use std::rc::Rc;
use std::time::Duration;

use js_sys::Uint8Array;
use leptos::prelude::*;
use ntk_lens_core::data::{BundledIndex, ColumnChoice};
use ntk_lens_core::device::BackendInfo;
use ntk_lens_core::ntk::NtkBlocks;
use ntk_lens_core::options::BackendChoice;
use ntk_lens_core::selfcheck::{SelfCheckConfig, SelfCheckReport};

use super::bridge::WorkerBridge;
use super::job_state::JobState;
use super::jobs::ntk_job;
use super::setup::{DataChoice, ModelChoice, Setup, DEFAULT_DATASET};
use crate::protocol::analysis::{
    AdapterFiles, EvalKernelJob, EvalKernelOutcome, NtkOutcome, RadiusOutcome, StudyOutcome,
    SweepOutcome,
};
use crate::protocol::hub::{HubModel, HubProbe, ProbeJob};
use crate::protocol::loading::{
    AdapterJob, AdapterSummary, DataJob, DataReport, DataSource, DatasetSummary, ModelJob,
    ModelSource, ModelSummary, TableSummary,
};
use crate::protocol::{Job, JobResult, Request, Response};

/// Dropped model files: their names and bytes.
type DroppedFiles = (Vec<String>, Vec<Uint8Array>);

/// How long the worker gets to answer a cancel before it is stopped by force.
const CANCEL_GRACE: Duration = Duration::from_millis(3000);

/// An analysis that waits for the NTK started for it: the sweep and the study start from a
/// computed NTK, and their Run computes one first when there is none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterNtk {
    /// The λ sweep (Linearization tab).
    Sweep,
    /// The layer study (Layer selection tab).
    Study,
}

/// One kind of job's place in the page state: its life ([`JobState`]) and its last result.
pub struct JobSlot<T: Send + Sync + 'static> {
    /// The job's state.
    pub state: RwSignal<JobState>,
    /// The last result (kept while a new job runs, cleared when it no longer applies).
    pub last: RwSignal<Option<T>>,
}

impl<T: Send + Sync + 'static> Clone for JobSlot<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: Send + Sync + 'static> Copy for JobSlot<T> {}

impl<T: Send + Sync + 'static> JobSlot<T> {
    fn new() -> Self {
        JobSlot {
            state: RwSignal::new(JobState::Idle),
            last: RwSignal::new(None),
        }
    }

    /// Whether the job runs (tracked: for buttons and progress bars).
    pub fn busy(self) -> bool {
        self.state.with(JobState::is_busy)
    }
}

/// Shared handles for the views: the worker and what it reported.
#[derive(Clone, Copy)]
pub struct Compute {
    /// The backend the worker uses; `None` while it starts.
    pub backend: RwSignal<Option<BackendInfo>>,
    /// How many times a worker said it is ready: a fresh worker (at start or after a restart)
    /// needs the model and the dataset again.
    pub ready: RwSignal<u32>,
    /// A message about the worker itself (crash, restart).
    pub worker_note: RwSignal<Option<String>>,
    /// The bundled datasets (`datasets/index.json`), once fetched.
    pub index: RwSignal<Option<BundledIndex>>,
    /// The whole setup (also provided as context on its own).
    pub setup: RwSignal<Setup>,
    /// The self-check.
    pub selfcheck: JobSlot<SelfCheckReport>,
    /// A backend switch.
    pub switch: JobSlot<BackendInfo>,
    /// Model loading; its last result is the model in the worker's session.
    pub model: JobSlot<ModelSummary>,
    /// Reading a hub repository's config.json before downloading it.
    pub probe: JobSlot<HubProbe>,
    /// Attaching a PEFT adapter; its last result is the adapter attached (`None`: none).
    pub adapter: JobSlot<AdapterSummary>,
    /// Reading a dataset; its last result is the last table read.
    pub data: JobSlot<DataReport>,
    /// The table read last.
    pub table: RwSignal<Option<TableSummary>>,
    /// The active dataset (the last that was built).
    pub dataset: RwSignal<Option<DatasetSummary>>,
    /// Why the last dataset attempt failed (the active dataset is unchanged).
    pub data_error: RwSignal<Option<String>>,
    /// The NTK over the train samples.
    pub ntk: JobSlot<NtkOutcome>,
    /// The setup the shown NTK was computed with (for its description and to pin it).
    pub ntk_setup: RwSignal<Option<Setup>>,
    /// The setup of the NTK job in flight.
    ntk_started: StoredValue<Option<Setup>>,
    /// The last NTK's blocks, decoded once for the views that sum blocks and fit the
    /// linearized model on the page (with cross kernels once the eval kernel is in).
    pub ntk_blocks: RwSignal<Option<NtkBlocks>>,
    /// The eval samples' kernels against the train samples (started after each NTK).
    pub eval_kernel: JobSlot<EvalKernelOutcome>,
    /// The λ sweep.
    pub sweep: JobSlot<SweepOutcome>,
    /// The layer study.
    pub study: JobSlot<StudyOutcome>,
    /// The radius probe.
    pub radius: JobSlot<RadiusOutcome>,
    /// Exporting a fine-tuned adapter (its result is downloaded).
    pub export: JobSlot<AdapterFiles>,
    /// Losses reported by the running sweep or study (live curve).
    pub live_loss: RwSignal<Vec<f64>>,
    /// The analysis that starts once the NTK computed for it (and its eval kernel) is in.
    pub waiting: RwSignal<Option<AfterNtk>>,
    /// The job of [`Self::waiting`].
    queued: StoredValue<Option<Job>, LocalStorage>,
    /// Whether the worker holds the NTK the page shows (a restarted worker, or one that loaded
    /// a model since, does not: the sweep and the study then compute it again first).
    worker_has_ntk: StoredValue<bool>,
    /// Every slot's state, whether its job uses the device (all but dataset reading and hub
    /// probes), and its name for messages.
    states: StoredValue<Vec<(RwSignal<JobState>, bool, &'static str)>>,
    bridge: StoredValue<Option<Rc<WorkerBridge>>, LocalStorage>,
    next_id: StoredValue<u32>,
    /// The last upload's name and bytes (resent after a worker restart).
    upload: StoredValue<Option<(String, Uint8Array)>, LocalStorage>,
    /// The dropped model files (resent after a worker restart).
    dropped: StoredValue<Option<DroppedFiles>, LocalStorage>,
    /// The attached adapter's files (resent after a worker restart).
    adapter_files: StoredValue<Option<DroppedFiles>, LocalStorage>,
    /// Whether the model job in flight restores the model after a restart (the adapter then
    /// follows it).
    restoring: StoredValue<bool>,
    /// The data choice of the job in flight, committed to the setup when it succeeds.
    pending_data: StoredValue<Option<DataChoice>>,
    /// The model choice of the job in flight, committed to the setup when it succeeds.
    pending_model: StoredValue<Option<ModelChoice>>,
}

impl Compute {
    /// Spawns the worker (it starts on the setup's backend) and wires its answers.
    pub fn new(setup: RwSignal<Setup>) -> Self {
        let compute = Compute {
            backend: RwSignal::new(None),
            ready: RwSignal::new(0),
            worker_note: RwSignal::new(None),
            index: RwSignal::new(None),
            setup,
            selfcheck: JobSlot::new(),
            switch: JobSlot::new(),
            model: JobSlot::new(),
            probe: JobSlot::new(),
            adapter: JobSlot::new(),
            data: JobSlot::new(),
            table: RwSignal::new(None),
            dataset: RwSignal::new(None),
            data_error: RwSignal::new(None),
            ntk: JobSlot::new(),
            ntk_setup: RwSignal::new(None),
            ntk_started: StoredValue::new(None),
            ntk_blocks: RwSignal::new(None),
            eval_kernel: JobSlot::new(),
            sweep: JobSlot::new(),
            study: JobSlot::new(),
            radius: JobSlot::new(),
            export: JobSlot::new(),
            live_loss: RwSignal::new(Vec::new()),
            waiting: RwSignal::new(None),
            queued: StoredValue::new_local(None),
            worker_has_ntk: StoredValue::new(false),
            states: StoredValue::new(Vec::new()),
            bridge: StoredValue::new_local(None),
            next_id: StoredValue::new(1),
            upload: StoredValue::new_local(None),
            dropped: StoredValue::new_local(None),
            adapter_files: StoredValue::new_local(None),
            restoring: StoredValue::new(false),
            pending_data: StoredValue::new(None),
            pending_model: StoredValue::new(None),
        };
        compute.states.set_value(vec![
            (compute.selfcheck.state, true, "the compute check"),
            (compute.switch.state, true, "the backend switch"),
            (compute.model.state, true, "loading the model"),
            (compute.probe.state, false, "reading the hub"),
            (compute.adapter.state, true, "attaching the adapter"),
            (compute.data.state, false, "reading the dataset"),
            (compute.ntk.state, true, "the NTK"),
            (compute.eval_kernel.state, true, "the eval kernel"),
            (compute.sweep.state, true, "the λ sweep"),
            (compute.study.state, true, "the layer study"),
            (compute.radius.state, true, "the radius probe"),
            (compute.export.state, true, "the adapter export"),
        ]);
        let on_response = Rc::new(move |response: Response| compute.receive(response));
        let on_crash = Rc::new(move |message: String| compute.crashed(message));
        let backend = setup.with_untracked(|s| s.backend);
        let bridge = WorkerBridge::spawn(backend, on_response, on_crash);
        compute.bridge.set_value(Some(bridge));
        compute
    }

    /// Routes a worker message: results to their slot, then every slot's state.
    fn receive(self, response: Response) {
        match &response {
            Response::Stopped { message, gpu } => {
                self.stopped(message.clone(), *gpu);
                return;
            }
            Response::Ready { backend } => {
                self.backend.set(Some(backend.clone()));
                self.ready.update(|n| *n += 1);
            }
            Response::Error { id: None, message } => self.worker_note.set(Some(message.clone())),
            _ => {}
        }
        let active = |slot: RwSignal<JobState>| slot.with_untracked(JobState::active_id);
        match &response {
            Response::Result { id, result } => match result {
                JobResult::Dataset(report) if Some(*id) == active(self.data.state) => {
                    self.dataset_read(report)
                }
                JobResult::Model(summary) if Some(*id) == active(self.model.state) => {
                    self.model.last.set(Some((**summary).clone()));
                    self.worker_has_ntk.set_value(false);
                    if let Some(choice) = self.pending_model.get_value() {
                        self.setup.update(|s| s.model = choice);
                    }
                    self.adapter.last.set(None);
                    if !self.restoring.get_value() {
                        self.adapter_files.set_value(None);
                    } else if let Some((names, files)) = self.adapter_files.get_value() {
                        // After a restart the adapter follows its model (once the model job
                        // has ended: the worker runs one device job at a time).
                        set_timeout(move || self.load_adapter(names, files), Duration::ZERO);
                    }
                }
                JobResult::Probe(probe) if Some(*id) == active(self.probe.state) => {
                    self.probe.last.set(Some((**probe).clone()))
                }
                JobResult::AdapterLoaded(adapter) => {
                    self.adapter.last.set(adapter.clone());
                    if adapter.is_none() {
                        self.adapter_files.set_value(None);
                    }
                    // The worker dropped the analyses of the model as it was.
                    self.ntk_blocks.set(None);
                    self.ntk.last.set(None);
                    self.eval_kernel.last.set(None);
                    self.sweep.last.set(None);
                    self.study.last.set(None);
                    self.radius.last.set(None);
                }
                JobResult::SelfCheck(report) => self.selfcheck.last.set(Some(report.clone())),
                JobResult::Backend(info) => {
                    self.backend.set(Some(info.clone()));
                    self.switch.last.set(Some(info.clone()));
                }
                JobResult::Ntk(outcome) => {
                    self.worker_has_ntk.set_value(true);
                    self.ntk_setup.set(self.ntk_started.get_value());
                    self.ntk_blocks
                        .set(NtkBlocks::from_data(&outcome.blocks).ok());
                    self.ntk.last.set(Some((**outcome).clone()));
                    self.eval_kernel.last.set(None);
                    self.sweep.last.set(None);
                    self.study.last.set(None);
                    self.radius.last.set(None);
                }
                JobResult::EvalKernel(outcome) => {
                    self.ntk_blocks
                        .set(NtkBlocks::from_data(&outcome.blocks).ok());
                    self.eval_kernel.last.set(Some((**outcome).clone()));
                }
                JobResult::Sweep(outcome) => self.sweep.last.set(Some((**outcome).clone())),
                JobResult::Study(outcome) => self.study.last.set(Some((**outcome).clone())),
                JobResult::Radius(points) => self.radius.last.set(Some(points.clone())),
                JobResult::Adapter(files) => {
                    self.export.last.set(Some((**files).clone()));
                    match super::adapter_zip::adapter_zip(files) {
                        Ok(zip) => super::views::common::download_bytes(
                            &format!("lora-adapter-lambda-{}.zip", files.lambda),
                            "application/zip",
                            &zip,
                        ),
                        Err(e) => self
                            .worker_note
                            .set(Some(format!("the adapter zip failed: {e}"))),
                    }
                }
                _ => {}
            },
            Response::Error {
                id: Some(id),
                message,
            } if Some(*id) == active(self.data.state) => self.data_error.set(Some(message.clone())),
            Response::Progress {
                id,
                loss: Some(loss),
                ..
            } if [self.sweep.state, self.study.state]
                .iter()
                .any(|s| active(*s) == Some(*id)) =>
            {
                self.live_loss.update(|v| v.push(*loss))
            }
            _ => {}
        }
        let finished_ntk = matches!(
            &response,
            Response::Result { id, result: JobResult::Ntk(_) } if Some(*id) == active(self.ntk.state)
        );
        self.states.with_value(|states| {
            for (state, _, _) in states {
                state.update(|s| *s = std::mem::take(s).apply(&response));
            }
        });
        if finished_ntk {
            // The eval predictions of the linearized model need the eval samples' kernels;
            // they follow the NTK as their own job, so the NTK is shown at once.
            self.start(self.eval_kernel, Job::EvalKernel(EvalKernelJob {}));
        }
        if self.waiting.get_untracked().is_some() && !self.device_busy() {
            self.start_waiting();
        }
    }

    /// Why the NTK cannot start yet (the model or the dataset still loading), if so.
    pub fn ntk_not_ready(self) -> Option<&'static str> {
        if self.model.last.with_untracked(Option::is_none) {
            Some("the model is still loading (Model tab)")
        } else if self.dataset.with_untracked(Option::is_none) {
            Some("no dataset yet: choose one in the Data tab")
        } else {
            None
        }
    }

    /// Starts the sweep or the study (`job`): at once when an NTK is in (in the worker too),
    /// otherwise after computing the setup's NTK and its eval kernel first. Errors: why the NTK
    /// cannot start.
    pub fn start_after_ntk(self, which: AfterNtk, job: Job) -> Result<(), &'static str> {
        if self.ntk_in_worker() {
            self.start_now(which, job);
            return Ok(());
        }
        if let Some(reason) = self.ntk_not_ready() {
            return Err(reason);
        }
        if self.device_busy() {
            return Ok(());
        }
        self.queued.set_value(Some(job));
        self.waiting.set(Some(which));
        self.start_ntk();
        Ok(())
    }

    /// Whether an NTK is shown and the worker holds it (what the sweep and the study start
    /// from).
    fn ntk_in_worker(self) -> bool {
        self.ntk.last.with_untracked(Option::is_some) && self.worker_has_ntk.get_value()
    }

    /// Starts the NTK of the setup as it is now.
    pub fn start_ntk(self) {
        let setup = self.setup.get_untracked();
        self.ntk_started.set_value(Some(setup.clone()));
        self.start(self.ntk, Job::Ntk(ntk_job(&setup)));
    }

    /// Gives up the waiting analysis and cancels the NTK (or eval kernel) computed for it.
    pub fn cancel_waiting(self) {
        self.forget_waiting();
        self.cancel(self.ntk);
        self.cancel(self.eval_kernel);
    }

    fn forget_waiting(self) {
        self.waiting.set(None);
        self.queued.set_value(None);
    }

    /// The NTK computed for the waiting analysis has ended: start it if the NTK is in (it
    /// failed or was cancelled otherwise, and its message is shown in the NTK's place).
    fn start_waiting(self) {
        let which = self.waiting.get_untracked();
        let job = self.queued.try_update_value(Option::take).flatten();
        self.waiting.set(None);
        if let (Some(which), Some(job)) = (which, job) {
            if self.ntk_in_worker() {
                self.start_now(which, job);
            }
        }
    }

    fn start_now(self, which: AfterNtk, job: Job) {
        match which {
            AfterNtk::Sweep => self.start(self.sweep, job),
            AfterNtk::Study => self.start(self.study, job),
        }
    }

    /// A dataset report: the table read, and the dataset when its columns gave one.
    fn dataset_read(self, report: &DataReport) {
        self.data.last.set(Some(report.clone()));
        self.table.set(Some(report.table.clone()));
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
                    s.task = d.columns.task;
                });
            }
            Err(m) => self.data_error.set(Some(m.clone())),
        }
    }

    /// Whether a job that uses the device runs (the worker runs one at a time). Untracked.
    pub fn device_busy(self) -> bool {
        self.states.with_value(|states| {
            states
                .iter()
                .any(|(s, device, _)| *device && s.with_untracked(JobState::is_busy))
        })
    }

    /// [`Self::device_busy`], tracked: for a button that must wait, e.g. the self-check while
    /// the model loads at start.
    pub fn device_busy_tracked(self) -> bool {
        self.states.with_value(|states| {
            states
                .iter()
                .any(|(s, device, _)| *device && s.with(JobState::is_busy))
        })
    }

    /// Starts `job` in `slot` (nothing happens while another device job runs).
    pub fn start<T: Send + Sync + 'static>(self, slot: JobSlot<T>, job: Job) {
        if self.device_busy() {
            return;
        }
        let id = self.new_id();
        slot.state.set(JobState::started(id, 0));
        self.live_loss.set(Vec::new());
        self.with_bridge(|b| b.send(&Request::Start { id, job }));
    }

    /// Asks the job in `slot` to stop; restarts the worker if it does not answer in time.
    pub fn cancel<T: Send + Sync + 'static>(self, slot: JobSlot<T>) {
        let state = slot.state;
        let Some(id) = state.with_untracked(JobState::active_id) else {
            return;
        };
        state.update(|s| *s = std::mem::take(s).cancel_requested());
        self.with_bridge(|b| b.send(&Request::Cancel { id }));
        set_timeout(
            move || {
                if state.with_untracked(JobState::active_id) == Some(id) {
                    state.update(|s| *s = std::mem::take(s).force_cancelled());
                    self.worker_note.set(Some(
                        "the worker did not stop in time and was restarted".into(),
                    ));
                    self.restart_worker(None);
                }
            },
            CANCEL_GRACE,
        );
    }

    /// Switches the worker's backend (the model and dataset stay loaded; results stay shown).
    pub fn set_backend(self, choice: BackendChoice) {
        self.setup.update(|s| s.backend = choice);
        self.start(self.switch, Job::SetBackend(choice));
    }

    /// Starts the self-check.
    pub fn start_selfcheck(self, config: SelfCheckConfig) {
        self.start(self.selfcheck, Job::SelfCheck(config));
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
        // Guessed columns take the setup's task (from the address); chosen ones carry theirs.
        let (eval_fraction, split_seed, task) = self
            .setup
            .with_untracked(|s| (s.eval_fraction, s.split_seed, s.task));
        let task = task.filter(|_| columns.is_none());
        self.pending_data.set_value(Some(choice));
        self.data.state.set(JobState::started(id, 1));
        let request = Request::Start {
            id,
            job: Job::LoadDataset(DataJob {
                source,
                columns,
                task,
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
        self.setup.update(|s| s.task = None);
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
        self.restoring.set_value(false);
        self.send_model(choice, source, files);
    }

    fn send_model(self, choice: ModelChoice, source: ModelSource, files: Vec<Uint8Array>) {
        if self.model.state.with_untracked(|s| s.is_busy()) {
            return;
        }
        let id = self.new_id();
        let (max_len, lora) = self.setup.with_untracked(|s| (s.max_len, s.lora_config()));
        let expected_bytes = match &source {
            ModelSource::Hub { endpoint, model } => self.probe.last.with_untracked(|p| {
                p.as_ref()
                    .filter(|p| p.job.model == *model && p.job.endpoint == *endpoint)
                    .and_then(|p| p.announced_bytes())
                    .map(|b| b as usize)
            }),
            _ => None,
        };
        let num_classes = self
            .dataset
            .with_untracked(|d| d.as_ref().map(|d| d.label_names.len()));
        self.pending_model.set_value(Some(choice));
        self.model.state.set(JobState::started(id, 0));
        let request = Request::Start {
            id,
            job: Job::LoadModel(ModelJob {
                source,
                max_len,
                num_classes,
                lora,
                expected_bytes,
            }),
        };
        self.with_bridge(|b| b.send_with(&request, &files));
    }

    /// Reads `model`'s config.json and file sizes from the setup's hub (beside other jobs).
    pub fn probe_hub(self, model: HubModel) {
        let id = self.new_id();
        let endpoint = self.setup.with_untracked(|s| s.hub_endpoint().to_string());
        self.probe.last.set(None);
        self.probe.state.set(JobState::started(id, 1));
        let job = Job::ProbeHub(ProbeJob { endpoint, model });
        self.with_bridge(|b| b.send(&Request::Start { id, job }));
    }

    /// Downloads `model` from the setup's hub and loads it.
    pub fn load_hub(self, model: HubModel) {
        let endpoint = self.setup.with_untracked(|s| s.hub_endpoint().to_string());
        self.load_model(
            ModelChoice::Hub(model.clone()),
            ModelSource::Hub { endpoint, model },
            vec![],
        );
    }

    /// Attaches a PEFT adapter (adapter_config.json, adapter_model.safetensors, in that order)
    /// to the loaded model, keeping its files for restarts.
    pub fn load_adapter(self, names: Vec<String>, files: Vec<Uint8Array>) {
        if self.device_busy() {
            return;
        }
        self.adapter_files
            .set_value(Some((names.clone(), files.clone())));
        let id = self.new_id();
        self.adapter.state.set(JobState::started(id, 0));
        let request = Request::Start {
            id,
            job: Job::LoadAdapter(AdapterJob { names }),
        };
        self.with_bridge(|b| b.send_with(&request, &files));
    }

    /// Takes the attached adapter off (the setup's fresh LoRA applies again).
    pub fn remove_adapter(self) {
        self.start(self.adapter, Job::LoadAdapter(AdapterJob { names: vec![] }));
    }

    /// Loads dropped model files (config.json, weights, tokenizer.json, in that order).
    pub fn load_dropped(self, names: Vec<String>, files: Vec<Uint8Array>) {
        self.dropped.set_value(Some((names.clone(), files.clone())));
        self.load_model(ModelChoice::Dropped, ModelSource::Dropped { names }, files);
    }

    /// Asks the running model download to stop.
    pub fn cancel_model(self) {
        if let Some(id) = self.model.state.with_untracked(|s| s.active_id()) {
            self.model
                .state
                .update(|s| *s = std::mem::take(s).cancel_requested());
            self.with_bridge(|b| b.send(&Request::Cancel { id }));
        }
    }

    /// (Re)loads the setup's model into a fresh worker, and then its adapter. A hub model is
    /// only loaded when it was loaded in this page before (a restart), never unasked at start:
    /// MiniLM stands in.
    pub fn reload_model(self) {
        let (choice, endpoint) = self
            .setup
            .with_untracked(|s| (s.model.clone(), s.hub_endpoint().to_string()));
        let had = self.model.last.with_untracked(|m| m.is_some());
        self.restoring.set_value(had);
        match choice {
            ModelChoice::Hub(model) if had => self.send_model(
                ModelChoice::Hub(model.clone()),
                ModelSource::Hub { endpoint, model },
                vec![],
            ),
            ModelChoice::Dropped if self.dropped.with_value(|d| d.is_some()) => {
                let (names, files) = self.dropped.get_value().unwrap_or_default();
                self.send_model(choice, ModelSource::Dropped { names }, files);
            }
            _ => self.send_model(ModelChoice::Minilm, ModelSource::Bundled, vec![]),
        }
    }

    /// (Re)reads the setup's dataset into a fresh worker, with the setup's columns. A dataset
    /// the person chose that is still being read (the worker restarted, or the bundled index
    /// arrived, meanwhile) is read again instead, its columns guessed: it is not lost.
    pub fn reload_data(self) {
        let asked = self
            .pending_data
            .get_value()
            .filter(|_| self.data.state.with_untracked(|s| s.is_busy()))
            .filter(|p| self.setup.with_untracked(|s| *p != s.data));
        match asked {
            Some(DataChoice::Upload(name)) => {
                if let Some((kept, bytes)) = self.upload.get_value().filter(|(k, _)| *k == name) {
                    let source = DataSource::Upload { file_name: kept };
                    return self.load_data(DataChoice::Upload(name), source, None, Some(bytes));
                }
            }
            Some(DataChoice::Bundled(id)) => return self.load_bundled(&id, None),
            None => {}
        }
        let (data, columns) = self.setup.with_untracked(|s| {
            let columns = match (&s.text_column, &s.label_column) {
                (Some(t), Some(l)) => Some(ColumnChoice {
                    text: t.clone(),
                    text_pair: s.pair_column.clone(),
                    label: l.clone(),
                    task: s.task,
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
                    self.load_bundled(DEFAULT_DATASET, None);
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
                    self.load_bundled(DEFAULT_DATASET, None);
                }
            }
        }
    }

    /// The worker said it cannot go on: it panicked, or its WebGPU device failed (`gpu`). After
    /// a GPU failure the fresh worker computes on the CPU, and the backend line says why.
    fn stopped(self, message: String, gpu: bool) {
        if !gpu {
            return self.crashed(message);
        }
        self.setup.update(|s| s.backend = BackendChoice::Cpu);
        let why = format!("WebGPU failed: {}", gpu_failure_kind(&message));
        self.restart_after(message, Some(&why));
    }

    /// The worker died (a wasm trap, out of memory, an uncaught error): every running job fails
    /// with a message naming it, the note says what was lost, and a fresh worker gets the model,
    /// its adapter and the dataset again (the setup, and so everything typed, stays).
    fn crashed(self, message: String) {
        self.restart_after(message, None);
    }

    /// [`Self::crashed`]; `fallback`: why the fresh worker computes on the CPU.
    fn restart_after(self, message: String, fallback: Option<&str>) {
        let on = if fallback.is_some() {
            " on the CPU"
        } else {
            ""
        };
        let mut lost = Vec::new();
        self.states.with_value(|states| {
            for (state, _, name) in states {
                state.update(|s| {
                    if s.is_busy() {
                        lost.push(*name);
                        *s = JobState::Failed(format!(
                            "{message}: {name} was lost; the worker was restarted{on}, start \
                             it again"
                        ));
                    }
                });
            }
        });
        let during = if lost.is_empty() {
            String::new()
        } else {
            format!(" during {}", lost.join(" and "))
        };
        self.worker_note.set(Some(format!(
            "{message}{during}. It was restarted{on} with the model and the dataset loaded \
             again; your settings and results are kept."
        )));
        self.restart_worker(fallback);
    }

    /// Stops the worker and starts a fresh one on the setup's backend (`fallback`: why it is
    /// the CPU, which the fresh worker reports); the page then loads the
    /// model and the dataset into it again (see the app's effects).
    fn restart_worker(self, fallback: Option<&str>) {
        self.forget_waiting();
        self.worker_has_ntk.set_value(false);
        self.backend.set(None);
        let backend = self.setup.with_untracked(|s| s.backend);
        self.with_bridge(|b| b.restart(backend, fallback));
    }

    fn with_bridge(self, f: impl FnOnce(&WorkerBridge)) {
        self.bridge.with_value(|b| {
            if let Some(b) = b {
                f(b)
            }
        });
    }
}

/// What failed on WebGPU, in a few words for the backend line, from the worker's message
/// (cubecl reports a lost device as a poisoned one, and an out-of-memory as a wgpu error).
fn gpu_failure_kind(message: &str) -> &'static str {
    let m = message.to_lowercase();
    if m.contains("out of memory") || m.contains("outofmemory") {
        "out of GPU memory"
    } else if m.contains("lost") || m.contains("poison") {
        "the device was lost"
    } else if m.contains("could not read a result back") {
        "a result could not be read back"
    } else {
        "the worker stopped on it"
    }
}
