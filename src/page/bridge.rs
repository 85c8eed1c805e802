//! The page's side of the compute worker: spawns it, sends [`Request`]s, delivers
//! [`Response`]s, and restarts the worker when it crashes or must be stopped by force.
//!
//! The worker runs one of two wasm modules ([`WorkerModule`]): the page's own (`worker.js`:
//! WebGPU, or the CPU on one thread) or the CPU worker's (`cpu-worker.js`: a pool of threads, no
//! WebGPU; wgpu cannot live in a module with a shared memory). The CPU's runs whenever the CPU
//! computes on a cross-origin isolated page.

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{ErrorEvent, MessageEvent, Worker, WorkerOptions, WorkerType};

use ntk_lens_core::options::BackendChoice;

use crate::protocol::{decode, encode, Request, Response};

/// Callback for every message from the worker.
pub type OnResponse = Rc<dyn Fn(Response)>;
/// Callback when the worker died (a panic or a load failure), with the browser's message.
pub type OnCrash = Rc<dyn Fn(String)>;

/// Which wasm module a worker runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkerModule {
    /// The page's own module (posted to the worker, not downloaded again): WebGPU, or the CPU on
    /// one thread.
    Page,
    /// The CPU worker's module (`dist/cpu/`, built with atomics): the CPU on a pool of threads.
    Cpu,
}

impl WorkerModule {
    /// The module for a worker started on `backend`, with `why` the reason it must be the CPU
    /// (e.g. a GPU failure, or auto found no usable adapter): the CPU's wherever the CPU computes
    /// and the page is cross-origin isolated (its pool needs a shared memory), else the page's.
    pub fn for_start(backend: BackendChoice, why: Option<&str>) -> Self {
        if (backend == BackendChoice::Cpu || why.is_some()) && cross_origin_isolated() {
            WorkerModule::Cpu
        } else {
            WorkerModule::Page
        }
    }
}

/// Whether the page is cross-origin isolated (COOP/COEP), which a shared wasm memory needs.
fn cross_origin_isolated() -> bool {
    js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str("crossOriginIsolated"))
        .ok()
        .and_then(|v| v.as_bool())
        .unwrap_or(false)
}

struct Live {
    worker: Worker,
    module: WorkerModule,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_error: Closure<dyn FnMut(ErrorEvent)>,
}

/// A handle on the compute worker.
pub struct WorkerBridge {
    live: RefCell<Option<Live>>,
    on_response: OnResponse,
    on_crash: OnCrash,
}

impl WorkerBridge {
    /// Spawns the worker, which starts on `backend`. Messages arrive through `on_response`,
    /// starting with `Ready`.
    pub fn spawn(backend: BackendChoice, on_response: OnResponse, on_crash: OnCrash) -> Rc<Self> {
        let bridge = Rc::new(WorkerBridge {
            live: RefCell::new(None),
            on_response,
            on_crash,
        });
        bridge.start(backend, None);
        bridge
    }

    /// The module the running worker runs, if one runs.
    pub fn module(&self) -> Option<WorkerModule> {
        self.live.borrow().as_ref().map(|l| l.module)
    }

    fn start(&self, backend: BackendChoice, why: Option<&str>) {
        let options = WorkerOptions::new();
        options.set_type(WorkerType::Module);
        let module = WorkerModule::for_start(backend, why);
        let script = match module {
            WorkerModule::Page => "./worker.js",
            WorkerModule::Cpu => "./cpu-worker.js",
        };
        let mut url = format!("{script}?backend={backend}");
        if let Some(why) = why {
            url.push_str(&format!("&why={}", js_sys::encode_uri_component(why)));
        }
        if let Some(threads) = threads_asked() {
            url.push_str(&format!("&threads={threads}"));
        }
        if let Some(fault) = take_fault_for_next_worker() {
            url.push_str(&format!("&fault={}", js_sys::encode_uri_component(&fault)));
        }
        let worker = match Worker::new_with_options(&url, &options) {
            Ok(w) => w,
            Err(e) => {
                (self.on_crash)(format!("could not start the compute worker: {e:?}"));
                return;
            }
        };
        let on_response = self.on_response.clone();
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            let text = event.data().as_string().unwrap_or_default();
            match decode::<Response>(&text) {
                Ok(response) => on_response(response),
                Err(malformed) => on_response(Response::Error {
                    id: None,
                    message: malformed.to_string(),
                }),
            }
        });
        let on_crash = self.on_crash.clone();
        let on_error = Closure::<dyn FnMut(ErrorEvent)>::new(move |event: ErrorEvent| {
            on_crash(format!("the compute worker stopped: {}", event.message()));
        });
        worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        // First message to a worker of the page's module: this page's compiled wasm module,
        // which web/worker.js instantiates instead of downloading and compiling it again. The
        // CPU worker fetches its own module.
        if module == WorkerModule::Page {
            let _ = worker.post_message(&wasm_bindgen::module());
        }
        *self.live.borrow_mut() = Some(Live {
            worker,
            module,
            _on_message: on_message,
            _on_error: on_error,
        });
    }

    /// Sends a request to the worker (dropped if the worker is not running).
    pub fn send(&self, request: &Request) {
        if let Some(live) = self.live.borrow().as_ref() {
            let _ = live
                .worker
                .post_message(&JsValue::from_str(&encode(request)));
        }
    }

    /// Sends a request with byte attachments (posted as `[json, bytes…]`; the bytes are copied,
    /// so the page keeps its own to resend after a restart).
    pub fn send_with(&self, request: &Request, attachments: &[js_sys::Uint8Array]) {
        if let Some(live) = self.live.borrow().as_ref() {
            let message = js_sys::Array::new();
            message.push(&JsValue::from_str(&encode(request)));
            for a in attachments {
                message.push(a);
            }
            let _ = live.worker.post_message(&message);
        }
    }

    /// Stops the worker at once, whatever it is doing, and starts a fresh one on `backend`
    /// (`why`: the reason for it that the fresh worker reports, e.g. a GPU failure).
    /// The old worker's handlers are detached first: a worker that said it is stopping (a
    /// panic) still reports its error event, which must not restart the fresh one.
    pub fn restart(&self, backend: BackendChoice, why: Option<&str>) {
        if let Some(live) = self.live.borrow_mut().take() {
            live.worker.set_onmessage(None);
            live.worker.set_onerror(None);
            live.worker.terminate();
        }
        self.start(backend, why);
    }
}

/// `?threads=N` of the page's address (digits only), for the worker's pool
/// (`worker::threads`): a way to compare one thread with the pool, not a setting of the setup.
fn threads_asked() -> Option<String> {
    let search = web_sys::window()?.location().search().ok()?;
    let value = search
        .trim_start_matches('?')
        .split('&')
        .find_map(|p| p.strip_prefix("threads="))?;
    (!value.is_empty() && value.bytes().all(|b| b.is_ascii_digit())).then(|| value.to_string())
}

/// The test hook of `worker::faults`, armed on the page (`self.ntkLensFault`) for the next worker
/// it starts (a backend switch that needs the other module starts a fresh one); cleared here.
fn take_fault_for_next_worker() -> Option<String> {
    let global = js_sys::global();
    let key = JsValue::from_str("ntkLensFault");
    let fault = js_sys::Reflect::get(&global, &key).ok()?.as_string()?;
    let _ = js_sys::Reflect::delete_property(&global, &key);
    Some(fault)
}
