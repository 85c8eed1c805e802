//! The compute worker: runs inside a dedicated Web Worker (see `web/worker.js`), chooses the
//! backend once, then runs the jobs the page sends, yielding to its event loop between steps so
//! that progress is posted and a cancel message is seen.

use std::cell::{Cell, RefCell};

use ntk_lens_core::burn::prelude::Device;
use ntk_lens_core::device::{cpu_device, init_wgpu, BackendInfo};
use ntk_lens_core::selfcheck::{SelfCheck, SelfCheckConfig};
use ntk_lens_core::CoreError;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

use crate::protocol::{decode, encode, Job, JobId, JobResult, Request, Response};

/// How long a job may compute before it yields to the event loop (ms).
pub(crate) const YIELD_EVERY_MS: f64 = 40.0;

thread_local! {
    static DEVICE: RefCell<Option<Device>> = const { RefCell::new(None) };
    static RUNNING: Cell<Option<JobId>> = const { Cell::new(None) };
    static CANCELLED: Cell<Option<JobId>> = const { Cell::new(None) };
    static BACKEND: RefCell<String> = const { RefCell::new(String::new()) };
}

fn scope() -> DedicatedWorkerGlobalScope {
    js_sys::global().unchecked_into()
}

/// Posts a message to the page.
pub(crate) fn post(response: &Response) {
    let _ = scope().post_message(&JsValue::from_str(&encode(response)));
}

/// Milliseconds since the worker started (performance.now()).
pub(crate) fn now_ms() -> f64 {
    scope().performance().map(|p| p.now()).unwrap_or(0.0)
}

/// Lets the worker's event loop run (delivering queued messages), then resumes.
/// Lets the worker's event loop run (messages, cancel) before continuing.
pub(crate) async fn yield_now() {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let _ = scope().set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 0);
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

/// Entry point, called by `web/worker.js` after the wasm module is initialised.
#[wasm_bindgen]
pub fn worker_main() {
    console_error_panic_hook::set_once();
    wasm_bindgen_futures::spawn_local(async {
        let (device, backend) = choose_backend().await;
        DEVICE.with(|d| *d.borrow_mut() = Some(device));
        BACKEND.with(|b| *b.borrow_mut() = backend.label());
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(|event: MessageEvent| {
            let (text, attachments) = unpack(event.data());
            match decode::<Request>(&text) {
                Ok(request) => handle(request, attachments),
                Err(message) => post(&Response::Error { id: None, message }),
            }
        });
        scope().set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        on_message.forget();
        post(&Response::Ready { backend });
    });
}

/// The backend in use, as shown to the user.
fn backend_label() -> String {
    BACKEND.with(|b| b.borrow().clone())
}

/// Reads `?backend=cpu` from the worker's URL (the page passes its own query on).
fn cpu_forced() -> bool {
    scope().location().search().contains("backend=cpu")
}

/// WebGPU if the browser offers an adapter and burn-wgpu starts and computes correctly, else CPU.
async fn choose_backend() -> (Device, BackendInfo) {
    let cpu = |reason: String| {
        (
            cpu_device(),
            BackendInfo::Cpu {
                reason: Some(reason),
            },
        )
    };
    if cpu_forced() {
        return (
            cpu_device(),
            BackendInfo::Cpu {
                reason: Some("CPU chosen with ?backend=cpu".into()),
            },
        );
    }
    let navigator = scope().navigator();
    let gpu =
        js_sys::Reflect::get(&navigator, &JsValue::from_str("gpu")).unwrap_or(JsValue::UNDEFINED);
    if gpu.is_undefined() || gpu.is_null() {
        return cpu("navigator.gpu is undefined in this browser".into());
    }
    let described = match describe_adapter(&gpu).await {
        Ok(d) => d,
        Err(reason) => return cpu(reason),
    };
    match init_wgpu().await {
        Ok((device, _)) => match ntk_lens_core::device::probe(&device).await {
            Ok(()) => (device, BackendInfo::Wgpu { adapter: described }),
            Err(e) => cpu(format!(
                "the WebGPU adapter {described} computed a wrong result: {e}"
            )),
        },
        Err(e) => cpu(e),
    }
}

/// Asks `navigator.gpu` for an adapter and describes it from `GPUAdapter.info` (vendor,
/// architecture, device, description), since wgpu sees no adapter name in a browser.
async fn describe_adapter(gpu: &JsValue) -> Result<String, String> {
    let get = |obj: &JsValue, key: &str| js_sys::Reflect::get(obj, &JsValue::from_str(key));
    let request: js_sys::Function = get(gpu, "requestAdapter")
        .ok()
        .and_then(|f| f.dyn_into().ok())
        .ok_or("navigator.gpu.requestAdapter is missing")?;
    let promise: js_sys::Promise = request
        .call0(gpu)
        .ok()
        .and_then(|p| p.dyn_into().ok())
        .ok_or("navigator.gpu.requestAdapter() failed")?;
    let adapter = wasm_bindgen_futures::JsFuture::from(promise)
        .await
        .map_err(|e| format!("navigator.gpu.requestAdapter() failed: {e:?}"))?;
    if adapter.is_null() || adapter.is_undefined() {
        return Err("navigator.gpu.requestAdapter() found no adapter".into());
    }
    let info = get(&adapter, "info").unwrap_or(JsValue::UNDEFINED);
    let parts: Vec<String> = ["vendor", "architecture", "device", "description"]
        .iter()
        .filter_map(|k| get(&info, k).ok().and_then(|v| v.as_string()))
        .filter(|v| !v.is_empty())
        .collect();
    Ok(if parts.is_empty() {
        "adapter (no description)".into()
    } else {
        parts.join(" ")
    })
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
        Request::Cancel { id } => CANCELLED.with(|c| c.set(Some(id))),
        // Reading a dataset does not use the device: it runs beside other jobs.
        Request::Start {
            id,
            job: Job::LoadDataset(job),
        } => wasm_bindgen_futures::spawn_local(async move {
            let started = now_ms();
            match crate::session::load_dataset(job, attachments.into_iter().next()).await {
                Ok(mut report) => {
                    report.read_ms = now_ms() - started;
                    post(&Response::Result {
                        id,
                        result: JobResult::Dataset(Box::new(report)),
                    })
                }
                Err(message) => post(&Response::Error {
                    id: Some(id),
                    message,
                }),
            }
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
                let outcome = run(id, job, attachments).await;
                RUNNING.with(|r| r.set(None));
                match outcome {
                    Ok(Some(result)) => post(&Response::Result { id, result }),
                    Ok(None) => {}
                    Err(e) => post(&Response::Error {
                        id: Some(id),
                        message: e.to_string(),
                    }),
                }
            });
        }
    }
}

/// Whether the page asked job `id` to stop.
pub(crate) fn is_cancelled(id: JobId) -> bool {
    CANCELLED.with(|c| c.get()) == Some(id)
}

/// Runs a job; `Ok(None)` means it was cancelled (and said so).
async fn run(
    id: JobId,
    job: Job,
    attachments: Vec<Vec<u8>>,
) -> Result<Option<JobResult>, CoreError> {
    let device = DEVICE
        .with(|d| d.borrow().clone())
        .ok_or_else(|| CoreError::BackendUnavailable("the worker has no device yet".into()))?;
    match job {
        Job::SelfCheck(cfg) => run_self_check(id, cfg, &device).await,
        Job::LoadModel(job) => run_load_model(id, job, attachments, &device).await,
        Job::LoadDataset(_) => Err(CoreError::invalid("job", "datasets load beside other jobs")),
        Job::Ntk(job) => crate::analysis::run_ntk(id, job, backend_label()).await,
        Job::Sweep(job) => crate::analysis::run_sweep(id, job).await,
        Job::Study(job) => crate::analysis::run_study(id, job).await,
        Job::ExportAdapter(job) => crate::analysis::run_export(job).await,
        Job::Radius(job) => crate::analysis::run_radius(id, job).await,
    }
}

/// Loads a model into the session, reporting bytes downloaded; cancellable between chunks.
async fn run_load_model(
    id: JobId,
    job: crate::jobs::ModelJob,
    attachments: Vec<Vec<u8>>,
    device: &Device,
) -> Result<Option<JobResult>, CoreError> {
    let mut last_post = 0.0;
    let mut progress = |done: usize, total: usize, file: &str| {
        if now_ms() - last_post > 100.0 || done == total {
            last_post = now_ms();
            post(&Response::Progress {
                id,
                done,
                total,
                message: format!(
                    "downloading {file}: {:.1} of {:.1} MB",
                    done as f64 / 1e6,
                    total as f64 / 1e6
                ),
                loss: None,
            });
        }
        !is_cancelled(id)
    };
    match crate::session::load_model(job, attachments, device, &mut progress).await {
        Ok(Some(summary)) => Ok(Some(JobResult::Model(Box::new(summary)))),
        Ok(None) => {
            post(&Response::Cancelled { id, done: 0 });
            Ok(None)
        }
        // The session's messages already name the file; they are shown as they are.
        Err(message) => {
            post(&Response::Error {
                id: Some(id),
                message,
            });
            Ok(None)
        }
    }
}

async fn run_self_check(
    id: JobId,
    cfg: SelfCheckConfig,
    device: &Device,
) -> Result<Option<JobResult>, CoreError> {
    let mut check = SelfCheck::new(cfg, device)?;
    let mut last_yield = now_ms();
    while !check.is_done() {
        check.step().await?;
        if now_ms() - last_yield > YIELD_EVERY_MS || check.is_done() {
            let loss = check.current_loss().await.ok();
            post(&Response::Progress {
                id,
                done: check.steps_done(),
                total: check.total_steps(),
                message: format!(
                    "gradient step {} of {}",
                    check.steps_done(),
                    check.total_steps()
                ),
                loss,
            });
            yield_now().await;
            if is_cancelled(id) {
                post(&Response::Cancelled {
                    id,
                    done: check.steps_done(),
                });
                return Ok(None);
            }
            last_yield = now_ms();
        }
    }
    Ok(Some(JobResult::SelfCheck(check.report().await?)))
}
