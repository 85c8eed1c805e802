//! The typed messages between the page and its compute worker. Neither side is imported here:
//! both import this.
//!
//! Every computation a user can start runs in a Web Worker as a *job*: one [`Job`] sent with
//! [`Request::Start`] under a [`JobId`] the page chooses, ending with exactly one of
//! [`Response::Result`], [`Response::Error`] or [`Response::Cancelled`];
//! [`Response::Progress`] may come in between. Messages are serde types sent as JSON strings
//! with `postMessage`.
//!
//! * [`loading`]: the dataset, model and adapter jobs and the summaries they return.
//! * [`hub`]: hub checkpoints (endpoint, repository, revision) and the probe of `config.json`.
//! * [`analysis`]: the analysis jobs (NTK, eval kernel, sweep, study, radius probe, adapter
//!   export) and their results.

pub mod analysis;
pub mod hub;
pub mod loading;

use ntk_lens_core::device::BackendInfo;
use ntk_lens_core::options::BackendChoice;
use ntk_lens_core::selfcheck::{SelfCheckConfig, SelfCheckReport};
use serde::{Deserialize, Serialize};

use analysis::{
    AdapterFiles, EvalKernelJob, EvalKernelOutcome, ExportJob, NtkJob, NtkOutcome, RadiusJob,
    RadiusOutcome, StudyJob, StudyOutcome, SweepJob, SweepOutcome,
};
use hub::{HubProbe, ProbeJob};
use loading::{AdapterJob, AdapterSummary, DataJob, DataReport, ModelJob, ModelSummary};

/// The threads the worker's CPU work runs on: its pool of Web Workers sharing the wasm memory,
/// or one thread and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Threads {
    /// How many threads compute (1 without a pool).
    pub count: usize,
    /// Why there is no pool, or why it is smaller than the machine's cores.
    pub reason: Option<String>,
}

impl Default for Threads {
    fn default() -> Self {
        Threads {
            count: 1,
            reason: None,
        }
    }
}

impl Threads {
    /// The most threads a pool starts, whatever the machine has: beyond this the page's analyses
    /// (a few dozen samples) gain little, and each thread is a Web Worker with its own stack.
    pub const MAX: usize = 8;

    /// The pool to ask for: `requested` threads (`?threads=` in the address) or else the
    /// machine's logical `cores`, at most [`Threads::MAX`], at least 1; with why it is fewer
    /// than the cores, where it is.
    pub fn planned(cores: usize, requested: Option<usize>) -> Threads {
        let cores = cores.max(1);
        let (count, reason) = match requested {
            Some(n) => (
                n.clamp(1, Self::MAX),
                Some(format!("threads={n} in the address")),
            ),
            None if cores > Self::MAX => (Self::MAX, Some(format!("at most {}", Self::MAX))),
            None => (cores, None),
        };
        Threads { count, reason }
    }

    /// The status line's text: `2 threads`, or `one thread (<reason>)`.
    pub fn label(&self) -> String {
        match (self.count, &self.reason) {
            (1, Some(r)) => format!("one thread ({r})"),
            (1, None) => "one thread".to_string(),
            (n, Some(r)) => format!("{n} threads ({r})"),
            (n, None) => format!("{n} threads"),
        }
    }
}

/// Identifies one job; chosen by the page, echoed by the worker.
pub type JobId = u32;

/// A computation the worker can run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "config", rename_all = "snake_case")]
pub enum Job {
    /// Least squares by gradient descent through autodiff, checked against its closed form.
    SelfCheck(SelfCheckConfig),
    /// Read a dataset into the worker's session (see [`DataJob`]). Runs beside other jobs: it
    /// does not use the device.
    LoadDataset(DataJob),
    /// Load a model and tokenizer into the worker's session (see [`ModelJob`]); progress counts
    /// bytes downloaded.
    LoadModel(ModelJob),
    /// Read a hub repository's `config.json` and file sizes. Runs beside other jobs.
    ProbeHub(ProbeJob),
    /// Attach a PEFT adapter to the loaded model, or take it off (see [`AdapterJob`]).
    LoadAdapter(AdapterJob),
    /// Switch the backend (the loaded model moves along; results already shown stay).
    SetBackend(BackendChoice),
    /// The NTK over the chosen train samples (kept in the worker for the eval kernel, the sweep
    /// and the study).
    Ntk(NtkJob),
    /// The eval samples' kernels against the train samples of the NTK computed last.
    EvalKernel(EvalKernelJob),
    /// Linearized vs actual fine-tuning over a λ grid, on the NTK computed last.
    Sweep(SweepJob),
    /// Layer selection and κ vs outcome, on the NTK computed last.
    Study(StudyJob),
    /// The model fine-tuned at one λ of the last sweep, as a PEFT adapter.
    ExportAdapter(ExportJob),
    /// How fast the kernel changes around θ0 (Algorithm 1).
    Radius(RadiusJob),
}

/// The result of a finished [`Job`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "report", rename_all = "snake_case")]
pub enum JobResult {
    /// Report of a [`Job::SelfCheck`].
    SelfCheck(SelfCheckReport),
    /// Report of a [`Job::LoadDataset`] (boxed: the reports differ much in size).
    Dataset(Box<DataReport>),
    /// Report of a [`Job::LoadModel`].
    Model(Box<ModelSummary>),
    /// Report of a [`Job::ProbeHub`].
    Probe(Box<HubProbe>),
    /// The adapter now attached (`None`: taken off), after a [`Job::LoadAdapter`].
    AdapterLoaded(Option<AdapterSummary>),
    /// The backend now in use, after a [`Job::SetBackend`].
    Backend(BackendInfo),
    /// Result of a [`Job::Ntk`].
    Ntk(Box<NtkOutcome>),
    /// Result of a [`Job::EvalKernel`].
    EvalKernel(Box<EvalKernelOutcome>),
    /// Result of a [`Job::Sweep`].
    Sweep(Box<SweepOutcome>),
    /// Result of a [`Job::Study`].
    Study(Box<StudyOutcome>),
    /// Result of a [`Job::ExportAdapter`].
    Adapter(Box<AdapterFiles>),
    /// Result of a [`Job::Radius`].
    Radius(RadiusOutcome),
}

/// Page → worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Request {
    /// Start a job. The worker runs one job at a time and answers a second start with an error.
    Start {
        /// The job's id.
        id: JobId,
        /// What to compute.
        job: Job,
    },
    /// Ask the running job to stop at its next step boundary.
    Cancel {
        /// The job to cancel.
        id: JobId,
    },
}

/// The worker's heap when a job ended: what a leak keeps, and what grew the wasm memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeapUse {
    /// Bytes handed out by the allocator and not yet taken back (the same after each run of the
    /// same work, unless something leaks).
    pub live_bytes: u64,
    /// How many allocations have grown the wasm memory since the worker started.
    pub growths: u64,
    /// The size of the last request that grew it, in bytes.
    pub last_growth_request_bytes: u64,
}

/// Worker → page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Response {
    /// The worker has chosen its backend and accepts jobs.
    Ready {
        /// The backend in use.
        backend: BackendInfo,
        /// The CPU threads the worker computes on.
        #[serde(default)]
        threads: Threads,
    },
    /// A running job's progress.
    Progress {
        /// The job.
        id: JobId,
        /// Units of work done.
        done: usize,
        /// Units of work in all.
        total: usize,
        /// What is being done, for the progress line.
        message: String,
        /// The current loss, where the job has one.
        loss: Option<f64>,
    },
    /// A job finished.
    Result {
        /// The job.
        id: JobId,
        /// Its result.
        result: JobResult,
        /// The size of the worker's wasm memory when the job ended, in bytes: its high-water
        /// mark, since wasm memory only grows (`None` from a worker that does not say).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        memory_bytes: Option<u64>,
        /// The worker's heap when the job ended (`None` from a worker that does not say).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        heap: Option<HeapUse>,
    },
    /// A job failed, or a request could not be understood (`id` is then `None`).
    Error {
        /// The job, if known.
        id: Option<JobId>,
        /// What went wrong, for the person who started it.
        message: String,
    },
    /// A job stopped because it was cancelled.
    Cancelled {
        /// The job.
        id: JobId,
        /// Units of work done before it stopped.
        done: usize,
    },
    /// The worker cannot go on: it panicked (and is about to stop), or its WebGPU device failed
    /// (lost, out of memory, a read-back that failed). The page restarts it, on the CPU when
    /// `gpu`, and loads the model and the dataset into it again.
    Stopped {
        /// What happened, for the person.
        message: String,
        /// Whether it happened on WebGPU (a fresh worker then computes on the CPU).
        gpu: bool,
    },
}

/// Encodes a message for `postMessage`.
pub fn encode<T: Serialize>(message: &T) -> String {
    // Serialising these plain data types cannot fail (no maps with non-string keys, no
    // non-finite floats are rejected by serde_json's writer: they become `null`).
    serde_json::to_string(message).unwrap_or_else(|e| {
        format!(r#"{{"type":"error","id":null,"message":"could not encode a message: {e}"}}"#)
    })
}

/// A message that is not one of this protocol's.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("malformed worker message ({reason}): {text:.200}")]
pub struct Malformed {
    /// What the JSON reader found wrong.
    pub reason: String,
    /// The message (its first 200 characters are shown).
    pub text: String,
}

/// Decodes a message received from the other side, naming what was wrong with it.
pub fn decode<T: for<'de> Deserialize<'de>>(text: &str) -> Result<T, Malformed> {
    serde_json::from_str(text).map_err(|e| Malformed {
        reason: e.to_string(),
        text: text.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_round_trip_and_have_a_stable_wire_form() {
        let start = Request::Start {
            id: 7,
            job: Job::SelfCheck(SelfCheckConfig {
                samples: 8,
                features: 2,
                steps: 3,
            }),
        };
        let text = encode(&start);
        assert_eq!(
            text,
            r#"{"type":"start","id":7,"job":{"kind":"self_check","config":{"samples":8,"features":2,"steps":3}}}"#
        );
        assert_eq!(decode::<Request>(&text).unwrap(), start);
        let cancel = Request::Cancel { id: 7 };
        assert_eq!(encode(&cancel), r#"{"type":"cancel","id":7}"#);
    }

    #[test]
    fn dataset_and_model_jobs_round_trip() {
        use super::loading::{DataSource, ModelSource};
        use ntk_lens_core::lora::{LoraConfig, LoraModule};
        let data = Request::Start {
            id: 2,
            job: Job::LoadDataset(DataJob {
                source: DataSource::Upload {
                    file_name: "a.csv".into(),
                },
                columns: None,
                task: Some(ntk_lens_core::data::Task::Regression),
                eval_fraction: 0.2,
                split_seed: 0,
            }),
        };
        let text = encode(&data);
        assert!(
            text.starts_with(
                r#"{"type":"start","id":2,"job":{"kind":"load_dataset","config":{"source":{"kind":"upload","file_name":"a.csv"}"#
            ),
            "{text}"
        );
        assert_eq!(decode::<Request>(&text).unwrap(), data);
        let model = Request::Start {
            id: 3,
            job: Job::LoadModel(ModelJob {
                source: ModelSource::distilroberta(),
                max_len: 128,
                num_classes: Some(2),
                lora: LoraConfig::new(8, 16.0, &[LoraModule::Query]),
                expected_bytes: Some(331_000_000),
            }),
        };
        assert_eq!(decode::<Request>(&encode(&model)).unwrap(), model);
    }

    #[test]
    fn the_pool_takes_the_cores_up_to_a_cap_or_what_the_address_asks() {
        assert_eq!(
            Threads::planned(2, None),
            Threads {
                count: 2,
                reason: None
            }
        );
        assert_eq!(Threads::planned(0, None).count, 1);
        assert_eq!(Threads::planned(32, None).count, Threads::MAX);
        let one = Threads::planned(2, Some(1));
        assert_eq!(one.label(), "one thread (threads=1 in the address)");
        assert_eq!(Threads::planned(2, Some(100)).count, Threads::MAX);
    }

    #[test]
    fn threads_say_how_many_and_why_not_more() {
        let one = |reason: Option<&str>| Threads {
            count: 1,
            reason: reason.map(str::to_string),
        };
        assert_eq!(one(None).label(), "one thread");
        assert_eq!(
            one(Some("the page is not cross-origin isolated")).label(),
            "one thread (the page is not cross-origin isolated)"
        );
        let two = Threads {
            count: 2,
            reason: None,
        };
        assert_eq!(two.label(), "2 threads");
        // A worker of an older page says nothing of threads: one thread.
        let old: Response =
            decode(r#"{"type":"ready","backend":{"kind":"cpu","reason":null}}"#).unwrap();
        assert_eq!(
            old,
            Response::Ready {
                backend: BackendInfo::Cpu { reason: None },
                threads: one(None)
            }
        );
    }

    #[test]
    fn responses_round_trip() {
        let msgs = vec![
            Response::Ready {
                backend: BackendInfo::Cpu {
                    reason: Some("no adapter".into()),
                },
                threads: Threads {
                    count: 2,
                    reason: None,
                },
            },
            Response::Progress {
                id: 1,
                done: 5,
                total: 10,
                message: "step".into(),
                loss: Some(0.5),
            },
            Response::Cancelled { id: 1, done: 5 },
            Response::Stopped {
                message: "wgpu error: Out of Memory".into(),
                gpu: true,
            },
            Response::Error {
                id: None,
                message: "x".into(),
            },
        ];
        for m in msgs {
            assert_eq!(decode::<Response>(&encode(&m)).unwrap(), m);
        }
    }

    #[test]
    fn malformed_messages_are_errors_not_panics() {
        let err = decode::<Request>(r#"{"type":"start","id":"seven"}"#).unwrap_err();
        assert!(
            err.to_string().contains("malformed worker message"),
            "{err}"
        );
        assert!(decode::<Request>("not json").is_err());
    }
}
