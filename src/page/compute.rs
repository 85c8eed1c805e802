//! The page's link with the compute worker: the bridge, job ids, which job runs, cancel and
//! restart, and the routing of the worker's answers to the registered jobs (see
//! [`super::registry`]). It knows no analysis by name: each job's handle ([`Registered`]) takes
//! its own result and says what it clears.

use std::rc::Rc;
use std::time::Duration;

use js_sys::Uint8Array;
use leptos::prelude::*;
use ntk_lens_core::device::BackendInfo;
use ntk_lens_core::options::BackendChoice;

use super::bridge::{WorkerBridge, WorkerModule};
use super::job_state::JobState;
use super::registry::{Change, ResultKind, Spec};
use super::setup::Setup;
use super::Page;
use crate::protocol::{HeapUse, Job, JobResult, Request, Response, Threads};

/// How long the worker gets to answer a cancel before it is stopped by force.
const CANCEL_GRACE: Duration = Duration::from_millis(3000);

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
    /// An idle slot with no result.
    pub fn new() -> Self {
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

/// A registered job's handle, as the link sees it: its spec, its state, and what it does when
/// its result arrives or the worker changes. Implemented once per job module.
pub trait Registered {
    /// What the page knows of this job (its module's `SPEC`).
    fn spec(&self) -> &'static Spec;
    /// The job's state.
    fn state(&self) -> RwSignal<JobState>;
    /// Its result arrived (the job's state is already `Done`).
    fn receive(&self, page: Page, result: &JobResult);
    /// It failed with `message` (the state shows it; a job may keep it elsewhere too).
    fn failed(&self, _page: Page, _message: &str) {}
    /// Clears its last result (a [`Change`] in its spec's `stale_after` happened).
    fn clear(&self);
    /// Any answer of the worker was handled (e.g. start what waited for the device).
    fn after_response(&self, _page: Page) {}
    /// A fresh worker replaced the old one (it holds nothing the old one computed).
    fn worker_restarted(&self, _page: Page) {}
}

/// The page and every registered job's handle.
type Jobs = (Page, Vec<Rc<dyn Registered>>);

/// The link with the worker, shared by every view.
#[derive(Clone, Copy)]
pub struct Compute {
    /// The backend the worker uses; `None` while it starts.
    pub backend: RwSignal<Option<BackendInfo>>,
    /// The threads the worker's CPU work runs on; `None` while it starts.
    pub threads: RwSignal<Option<Threads>>,
    /// How many times a worker said it is ready: a fresh worker (at start or after a restart)
    /// needs the model and the dataset again.
    pub ready: RwSignal<u32>,
    /// A message about the worker itself (crash, restart).
    pub worker_note: RwSignal<Option<String>>,
    /// Losses reported by the running job (the sweep's or the study's live curve).
    pub live_loss: RwSignal<Vec<f64>>,
    /// The worker's wasm memory in bytes when its last job ended (its high-water mark).
    pub worker_memory: RwSignal<Option<u64>>,
    /// The worker's heap when its last job ended (bytes in use, growths of its memory).
    pub worker_heap: RwSignal<Option<HeapUse>>,
    /// The setup (its backend is the worker's).
    setup: RwSignal<Setup>,
    /// The page the answers are routed to, and every registered job's handle.
    jobs: StoredValue<Option<Jobs>, LocalStorage>,
    bridge: StoredValue<Option<Rc<WorkerBridge>>, LocalStorage>,
    next_id: StoredValue<u32>,
    /// A start that waits for the jobs it makes stale to stop (see [`Self::start_replacing`]).
    pending: StoredValue<Option<Rc<dyn Fn()>>, LocalStorage>,
}

impl Compute {
    /// The link, not yet connected (see [`Self::connect`]).
    pub fn new(setup: RwSignal<Setup>) -> Self {
        Compute {
            setup,
            backend: RwSignal::new(None),
            threads: RwSignal::new(None),
            ready: RwSignal::new(0),
            worker_note: RwSignal::new(None),
            live_loss: RwSignal::new(Vec::new()),
            worker_memory: RwSignal::new(None),
            worker_heap: RwSignal::new(None),
            jobs: StoredValue::new_local(None),
            bridge: StoredValue::new_local(None),
            next_id: StoredValue::new(1),
            pending: StoredValue::new_local(None),
        }
    }

    /// Registers `jobs` and spawns the worker (on the setup's backend).
    pub fn connect(self, page: Page, jobs: Vec<Rc<dyn Registered>>) {
        self.jobs.set_value(Some((page, jobs)));
        let on_response = Rc::new(move |response: Response| self.receive(response));
        let on_crash = Rc::new(move |message: String| self.crashed(message));
        let backend = self.setup.with_untracked(|s| s.workspace.backend);
        let bridge = WorkerBridge::spawn(backend, on_response, on_crash);
        self.bridge.set_value(Some(bridge));
    }

    /// The page and every registered handle (a copy: a handle may route further while `f`
    /// runs, e.g. clear what its result makes stale).
    fn jobs(self) -> Option<Jobs> {
        self.jobs.with_value(Clone::clone)
    }

    /// Calls `f` with the page and every registered handle.
    fn each(self, mut f: impl FnMut(Page, &dyn Registered)) {
        if let Some((page, jobs)) = self.jobs() {
            for job in &jobs {
                f(page, job.as_ref());
            }
        }
    }

    /// Routes a worker message: every job's state follows it; a result goes to the job that
    /// asked for it, an error to the job that failed, a loss to the live curve.
    fn receive(self, response: Response) {
        match &response {
            Response::Stopped { message, gpu } => return self.stopped(message.clone(), *gpu),
            Response::Ready {
                backend: BackendInfo::Cpu { reason },
                ..
            } if self.moves_to_cpu_module(reason.as_deref()) => {
                // The page's module chose the CPU (auto found no usable adapter, or WebGPU
                // failed its check): the CPU worker's module computes there, on every core.
                let why = reason.clone().unwrap_or_else(|| "chosen".into());
                let backend = self.setup.with_untracked(|s| s.workspace.backend);
                self.with_bridge(|b| b.restart(backend, Some(&why)));
                return;
            }
            Response::Ready { backend, threads } => {
                self.backend.set(Some(backend.clone()));
                self.threads.set(Some(threads.clone()));
                self.ready.update(|n| *n += 1);
            }
            Response::Error { id: None, message } => self.worker_note.set(Some(message.clone())),
            Response::Result {
                memory_bytes, heap, ..
            } => {
                if memory_bytes.is_some() {
                    self.worker_memory.set(*memory_bytes);
                }
                if heap.is_some() {
                    self.worker_heap.set(*heap);
                }
            }
            _ => {}
        }
        let Some((page, jobs)) = self.jobs() else {
            return;
        };
        // The job this answer is for, found while its state still says it runs.
        let id = match &response {
            Response::Result { id, .. }
            | Response::Error { id: Some(id), .. }
            | Response::Progress { id, .. } => Some(*id),
            _ => None,
        };
        let target = id.and_then(|id| {
            jobs.iter()
                .find(|j| j.state().with_untracked(JobState::active_id) == Some(id))
        });
        for job in &jobs {
            job.state()
                .update(|s| *s = std::mem::take(s).apply(&response));
        }
        match (target, &response) {
            (Some(job), Response::Result { result, .. })
                if ResultKind::of(result) == job.spec().result =>
            {
                job.receive(page, result)
            }
            (Some(job), Response::Error { message, .. }) => job.failed(page, message),
            (
                Some(job),
                Response::Progress {
                    loss: Some(loss), ..
                },
            ) if job.spec().reports_loss => self.live_loss.update(|v| v.push(*loss)),
            _ => {}
        }
        self.each(|page, job| job.after_response(page));
        if !self.device_busy() {
            if let Some(start) = self.pending.try_update_value(Option::take).flatten() {
                start();
            }
        }
    }

    /// Clears the result of every job that `change` makes stale.
    pub fn changed(self, change: Change) {
        self.each(|_, job| {
            if job.spec().stale_after.contains(&change) {
                job.clear();
            }
        });
    }

    /// Whether a device job whose spec `counts` accepts runs; `tracked`: whether reading the
    /// states subscribes the caller (a button) to them.
    fn device_job_running(self, tracked: bool, counts: impl Fn(&Spec) -> bool) -> bool {
        let mut running = false;
        self.each(|_, job| {
            let spec = job.spec();
            if spec.uses_device && counts(spec) {
                running |= if tracked {
                    job.state().with(JobState::is_busy)
                } else {
                    job.state().with_untracked(JobState::is_busy)
                };
            }
        });
        running
    }

    /// Whether a job that uses the device runs (the worker runs one at a time). Untracked.
    pub fn device_busy(self) -> bool {
        self.device_job_running(false, |_| true)
    }

    /// [`Self::device_busy`], tracked: for a button that must wait, e.g. the self-check while
    /// the model loads at start.
    pub fn device_busy_tracked(self) -> bool {
        self.device_job_running(true, |_| true)
    }

    /// Whether every device job that runs is one whose result `change` makes stale, so that a
    /// job bringing `change` may cancel them instead of waiting (tracked: for buttons).
    pub fn only_stale_running(self, change: Change) -> bool {
        !self.device_job_running(true, |spec| !spec.stale_after.contains(&change))
    }

    /// Starts `job` in `slot`, which brings `change`: device jobs running whose results
    /// `change` makes stale (the eval kernel of the previous NTK, a sweep on it) are cancelled
    /// and `job` starts as soon as they have stopped; it never waits behind them. Nothing
    /// happens while another device job runs.
    pub fn start_replacing<T: Send + Sync + 'static>(
        self,
        slot: JobSlot<T>,
        job: Job,
        change: Change,
    ) {
        if !self.device_busy() {
            return self.start(slot, job);
        }
        if !untrack(|| self.only_stale_running(change)) {
            return;
        }
        self.each(|_, running| {
            if running.spec().uses_device && running.state().with_untracked(JobState::is_busy) {
                self.cancel_state(running.state(), true);
            }
        });
        let start: Rc<dyn Fn()> = Rc::new(move || self.start(slot, job.clone()));
        self.pending.set_value(Some(start));
    }

    /// A fresh job id.
    pub fn new_id(self) -> u32 {
        let id = self.next_id.get_value();
        self.next_id.set_value(id + 1);
        id
    }

    /// Starts `job` in `slot` (nothing happens while another device job runs).
    pub fn start<T: Send + Sync + 'static>(self, slot: JobSlot<T>, job: Job) {
        if self.device_busy() {
            return;
        }
        self.start_with(slot, job, &[], 0);
    }

    /// Starts `job` in `slot` at once with `files` attached (`total`: its units of progress, 0
    /// when unknown), whether or not the device is free: for the loading jobs, which check
    /// what they need themselves.
    pub fn start_with<T: Send + Sync + 'static>(
        self,
        slot: JobSlot<T>,
        job: Job,
        files: &[Uint8Array],
        total: usize,
    ) {
        let id = self.new_id();
        slot.state.set(JobState::started(id, total));
        self.live_loss.set(Vec::new());
        let request = Request::Start { id, job };
        self.with_bridge(|b| {
            if files.is_empty() {
                b.send(&request)
            } else {
                b.send_with(&request, files)
            }
        });
    }

    /// Asks the job in `slot` to stop; restarts the worker if it does not answer in time.
    pub fn cancel<T: Send + Sync + 'static>(self, slot: JobSlot<T>) {
        self.cancel_state(slot.state, true);
    }

    /// Asks the job of `state` to stop; with `force`, restarts the worker if it does not answer
    /// in time (a download is only asked).
    pub fn cancel_state(self, state: RwSignal<JobState>, force: bool) {
        let Some(id) = state.with_untracked(JobState::active_id) else {
            return;
        };
        state.update(|s| *s = std::mem::take(s).cancel_requested());
        self.with_bridge(|b| b.send(&Request::Cancel { id }));
        if !force {
            return;
        }
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

    /// The worker said it cannot go on: it panicked, or its WebGPU device failed (`gpu`). After
    /// a GPU failure the fresh worker computes on the CPU, and the backend line says why.
    fn stopped(self, message: String, gpu: bool) {
        if !gpu {
            return self.crashed(message);
        }
        self.setup
            .update(|s| s.workspace.backend = ntk_lens_core::options::BackendChoice::Cpu);
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
        self.each(|_, job| {
            job.state().update(|s| {
                if s.is_busy() {
                    let name = job.spec().name;
                    lost.push(name);
                    *s = JobState::Failed(format!(
                        "{message}: {name} was lost; the worker was restarted{on}, start it again"
                    ));
                }
            })
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

    /// Whether a worker of the page's module that reports the CPU (with `reason`) should give way
    /// to the CPU worker's module.
    fn moves_to_cpu_module(self, reason: Option<&str>) -> bool {
        let mut page_module = false;
        self.with_bridge(|b| page_module = b.module() == Some(WorkerModule::Page));
        page_module
            && WorkerModule::for_start(BackendChoice::Cpu, reason.or(Some("chosen")))
                == WorkerModule::Cpu
    }

    /// Whether switching to `choice` needs the other module (a fresh worker, which then loads
    /// the model and the dataset again) rather than a switch inside the running worker.
    pub fn switch_needs_restart(self, choice: BackendChoice) -> bool {
        let mut running = None;
        self.with_bridge(|b| running = b.module());
        running.is_some_and(|m| m != WorkerModule::for_start(choice, None))
    }

    /// Starts a fresh worker on the setup's backend (see [`Self::switch_needs_restart`]).
    pub fn restart_on_setup_backend(self) {
        self.restart_worker(None);
    }

    /// Stops the worker and starts a fresh one on the setup's backend (`fallback`: why it is
    /// the CPU, which the fresh worker reports); the page then loads the model and the dataset
    /// into it again (see the app's effects).
    fn restart_worker(self, fallback: Option<&str>) {
        // A fresh worker first gets the model and the dataset again.
        self.pending.set_value(None);
        self.each(|page, job| job.worker_restarted(page));
        self.backend.set(None);
        self.worker_memory.set(None);
        self.worker_heap.set(None);
        let backend = self.setup.with_untracked(|s| s.workspace.backend);
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
