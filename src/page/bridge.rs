//! The page's side of the compute worker: spawns `worker.js`, sends [`Request`]s, delivers
//! [`Response`]s, and restarts the worker when it crashes or must be stopped by force.

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

struct Live {
    worker: Worker,
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

    fn start(&self, backend: BackendChoice, why: Option<&str>) {
        let options = WorkerOptions::new();
        options.set_type(WorkerType::Module);
        let mut url = format!("./worker.js?backend={backend}");
        if let Some(why) = why {
            url.push_str(&format!("&why={}", js_sys::encode_uri_component(why)));
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
        // First message: this page's compiled wasm module, which web/worker.js instantiates
        // instead of downloading and compiling the same wasm again.
        let _ = worker.post_message(&wasm_bindgen::module());
        *self.live.borrow_mut() = Some(Live {
            worker,
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
