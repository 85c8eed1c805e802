//! A test hook that forces the GPU failures a machine without a real GPU cannot produce, so that
//! the page's fallback to the CPU is tested end to end.
//!
//! A test sets `self.ntkLensFault` in the worker's global scope (e.g. Playwright's
//! `worker.evaluate`) to one of the names below. The hook fires once, where that failure would
//! happen, and is then cleared:
//!
//! * `"check"`: the next WebGPU check against the CPU reports a difference of 1 (as a WebGPU
//!   kernel that returned stale data would), so the backend stays on the CPU;
//! * `"lost"`: the next device job on WebGPU fails as cubecl reports a lost device (a read-back
//!   of a poisoned device fails);
//! * `"oom"`: the next device job on WebGPU panics as cubecl's uncaptured-error handler does on
//!   a GPU out-of-memory.
//!
//! A fault armed on the page instead (`self.ntkLensFault` in the page) reaches the next worker the
//! page starts, as `?fault=` in its address ([`arm_from_address`]): a switch to WebGPU from the
//! CPU worker's module starts a fresh worker, whose check is then the one that fails.
//!
//! Nothing sets it but a test: an ordinary page never has the global.

use wasm_bindgen::JsValue;

/// A failure the hook can force.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The check against the CPU finds WebGPU's results wrong.
    CheckDiffers,
    /// The WebGPU device is lost.
    DeviceLost,
    /// The GPU runs out of memory.
    OutOfMemory,
}

impl Fault {
    fn name(self) -> &'static str {
        match self {
            Fault::CheckDiffers => "check",
            Fault::DeviceLost => "lost",
            Fault::OutOfMemory => "oom",
        }
    }
}

const HOOK: &str = "ntkLensFault";

/// Arms the hook with `?fault=` of the worker's address, if the page passed one.
pub fn arm_from_address() {
    if let Some(fault) = super::backend::url_param("fault") {
        let _ = js_sys::Reflect::set(
            &js_sys::global(),
            &JsValue::from_str(HOOK),
            &JsValue::from_str(&fault),
        );
    }
}

/// The fault the hook asks for, if it is one of `wanted`; it is then cleared (it fires once).
pub fn take(wanted: &[Fault]) -> Option<Fault> {
    let global = js_sys::global();
    let key = JsValue::from_str(HOOK);
    let asked = js_sys::Reflect::get(&global, &key).ok()?.as_string()?;
    let fault = wanted.iter().copied().find(|f| f.name() == asked)?;
    let _ = js_sys::Reflect::delete_property(&global, &key);
    Some(fault)
}

/// Where a forced fault says it came from, in its message.
pub const FORCED: &str = "forced by the test hook `ntkLensFault`";
