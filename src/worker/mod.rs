//! The compute worker: runs inside a dedicated Web Worker (see `web/worker.js`), chooses its
//! backend, then runs the jobs the page sends, one device job at a time, each driven step by
//! step so that progress is posted and a cancel message is seen.
//!
//! * [`backend`]: where it computes (auto, WebGPU, CPU) and switching without losing the model;
//! * [`session`]: what it keeps between jobs (model, dataset, the last NTK), behind small
//!   functions;
//! * [`loading`]: the jobs that read and download (dataset, model, hub probe, adapter);
//!   [`fetch`]: HTTP with byte progress, cancel and a cache;
//! * [`runners`]: the runners of the analysis jobs; [`reporter`]: progress, yield, cancel and
//!   [`reporter::drive`], the one driver of the core's step-by-step computations;
//! * [`threads`]: the pool of Web Workers the CPU work runs on (or one thread, and why);
//! * [`error`]: what can go wrong, typed; [`faults`]: a test hook that forces GPU failures.
//!
//! When the worker cannot go on (a panic, or its WebGPU device failed) it says so with
//! [`Response::Stopped`], and the page starts a fresh one (on the CPU after a GPU failure).

pub mod backend;
pub mod error;
pub mod faults;
pub mod fetch;
pub mod heap;
pub mod loading;
pub mod reporter;
pub mod runners;
pub mod session;
pub mod threads;

use std::cell::Cell;

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

use crate::protocol::{decode, Job, JobId, JobResult, Request, Response};
use error::WorkerError;
use faults::Fault;
use ntk_lens_core::CoreError;
use reporter::{now_ms, post, request_cancel, Reporter};

thread_local! {
    /// The device job running, if any.
    static RUNNING: Cell<Option<JobId>> = const { Cell::new(None) };
}

fn scope() -> DedicatedWorkerGlobalScope {
    js_sys::global().unchecked_into()
}

/// Entry point, called by `web/worker.js` after the wasm module is initialised.
#[wasm_bindgen]
pub fn worker_main() {
    std::panic::set_hook(Box::new(stop_on_panic));
    wasm_bindgen_futures::spawn_local(async {
        faults::arm_from_address();
        // The pool first: rayon's global pool can be built only before anything runs on it.
        let threads = threads::start_pool().await;
        let (device, info) = backend::choose_initial().await;
        backend::set_current(device, info.clone());
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(|event: MessageEvent| {
            let (text, attachments) = unpack(event.data());
            match decode::<Request>(&text) {
                Ok(request) => handle(request, attachments),
                Err(malformed) => post(&Response::Error {
                    id: None,
                    message: malformed.to_string(),
                }),
            }
        });
        scope().set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        on_message.forget();
        post(&Response::Ready {
            backend: info,
            threads,
        });
    });
}

/// Logs a panic to the console and tells the page that the worker is stopping, with the panic's
/// own message (the browser itself only reports "unreachable" when the wasm aborts).
fn stop_on_panic(info: &std::panic::PanicHookInfo) {
    console_error_panic_hook::hook(info);
    let payload = info.payload();
    let message = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| info.to_string());
    post(&Response::Stopped {
        message: format!("the compute worker stopped: {message}"),
        gpu: backend::on_wgpu(),
    });
}

/// A message is either the request's JSON text, or an array `[json, bytes…]` whose byte arrays
/// are the attachments of a job (an uploaded file, dropped model files).
fn unpack(data: JsValue) -> (String, Vec<Vec<u8>>) {
    if let Some(text) = data.as_string() {
        return (text, Vec::new());
    }
    let Ok(array) = data.dyn_into::<js_sys::Array>() else {
        return (String::new(), Vec::new());
    };
    let text = array.get(0).as_string().unwrap_or_default();
    let attachments = array
        .iter()
        .skip(1)
        .map(|v| js_sys::Uint8Array::new(&v).to_vec())
        .collect();
    (text, attachments)
}

fn handle(request: Request, attachments: Vec<Vec<u8>>) {
    match request {
        Request::Cancel { id } => request_cancel(id),
        // Reading a dataset does not use the device: it runs beside other jobs.
        Request::Start {
            id,
            job: Job::LoadDataset(job),
        } => wasm_bindgen_futures::spawn_local(async move {
            let started = now_ms();
            let outcome = loading::load_dataset(job, attachments.into_iter().next())
                .await
                .map(|mut report| {
                    report.read_ms = now_ms() - started;
                    Some(JobResult::Dataset(Box::new(report)))
                });
            answer(id, outcome);
        }),
        // Reading a hub repository's config.json does not use the device either.
        Request::Start {
            id,
            job: Job::ProbeHub(job),
        } => wasm_bindgen_futures::spawn_local(async move {
            let outcome = loading::probe_hub(job)
                .await
                .map(|probe| Some(JobResult::Probe(Box::new(probe))));
            answer(id, outcome);
        }),
        Request::Start { id, job } => {
            if let Some(running) = RUNNING.with(|r| r.get()) {
                post(&Response::Error {
                    id: Some(id),
                    message: format!("job {running} is still running; cancel it first"),
                });
                return;
            }
            RUNNING.with(|r| r.set(Some(id)));
            wasm_bindgen_futures::spawn_local(async move {
                let outcome = run(Reporter::new(id), job, attachments).await;
                RUNNING.with(|r| r.set(None));
                answer(id, outcome);
            });
        }
    }
}

/// Posts a job's end: its result, or its error (a cancelled job has said so already). A device
/// that failed on WebGPU stops the worker: the page restarts it on the CPU.
fn answer(id: JobId, outcome: Result<Option<JobResult>, WorkerError>) {
    match outcome {
        Ok(Some(result)) => post(&Response::Result {
            id,
            result,
            memory_bytes: wasm_memory_bytes(),
            heap: Some(heap::usage()),
        }),
        Ok(None) => {}
        Err(e) if e.is_device_failure() && backend::on_wgpu() => post(&Response::Stopped {
            message: format!("WebGPU failed: {e}"),
            gpu: true,
        }),
        Err(e) => post(&Response::Error {
            id: Some(id),
            message: e.to_string(),
        }),
    }
}

/// The size of this worker's wasm memory, in bytes (an `ArrayBuffer`, or a `SharedArrayBuffer`
/// in the CPU worker's module, whose pool shares it).
fn wasm_memory_bytes() -> Option<u64> {
    let memory = wasm_bindgen::memory()
        .dyn_into::<js_sys::WebAssembly::Memory>()
        .ok()?;
    let length = js_sys::Reflect::get(&memory.buffer(), &JsValue::from_str("byteLength")).ok()?;
    length.as_f64().map(|b| b as u64)
}

/// Runs a device job; `Ok(None)` means it was cancelled (and said so).
async fn run(
    reporter: Reporter,
    job: Job,
    attachments: Vec<Vec<u8>>,
) -> Result<Option<JobResult>, WorkerError> {
    if backend::on_wgpu() && !matches!(job, Job::SetBackend(_)) {
        match faults::take(&[Fault::DeviceLost, Fault::OutOfMemory]) {
            Some(Fault::DeviceLost) => {
                return Err(CoreError::Readback(format!(
                    "DevicePoisoned: Lost: the device was destroyed ({})",
                    faults::FORCED
                ))
                .into())
            }
            Some(Fault::OutOfMemory) => {
                panic!("wgpu error: Out of Memory ({})", faults::FORCED)
            }
            _ => {}
        }
    }
    match job {
        Job::SelfCheck(config) => runners::self_check(reporter, config).await,
        Job::SetBackend(choice) => runners::set_backend(choice).await,
        Job::LoadModel(job) => loading::load_model_job(reporter, job, attachments).await,
        Job::LoadDataset(_) | Job::ProbeHub(_) => Err(WorkerError::NotYet(
            "datasets and hub probes load beside other jobs".into(),
        )),
        Job::LoadAdapter(job) => {
            loading::load_adapter_job(job, attachments).map(|a| Some(JobResult::AdapterLoaded(a)))
        }
        Job::Ntk(job) => runners::ntk(reporter, job).await,
        Job::EvalKernel(_) => runners::eval_kernel(reporter).await,
        Job::Sweep(job) => runners::sweep(reporter, job).await,
        Job::Study(job) => runners::study(reporter, job).await,
        Job::ExportAdapter(job) => runners::export(job).await,
        Job::Radius(job) => runners::radius(reporter, job).await,
    }
}
