//! Where the worker computes: the choice (auto, WebGPU, CPU), why, and switching without
//! losing the loaded model.
//!
//! Auto takes WebGPU only on a hardware adapter whose results agree with the CPU's: a software
//! adapter (SwiftShader, llvmpipe, a "fallback" adapter) runs every shader on the CPU and was
//! measured far slower than the CPU path (an n = 16 NTK did not finish in 400 s on SwiftShader),
//! and a WebGPU kernel that failed validation returns stale data, which the check catches
//! ([`ntk_lens_core::selfcheck::check_against_cpu`]). Choosing WebGPU explicitly uses any adapter,
//! still checked.

use std::cell::RefCell;

#[cfg(feature = "webgpu")]
mod gpu;

use ntk_lens_core::burn::prelude::Device;
use ntk_lens_core::device::{cpu_device, BackendInfo};
use ntk_lens_core::options::BackendChoice;
use wasm_bindgen::JsCast;
use web_sys::DedicatedWorkerGlobalScope;

thread_local! {
    /// The device in use and how it is described.
    static CURRENT: RefCell<Option<(Device, BackendInfo)>> = const { RefCell::new(None) };
}

/// The device in use (the CPU until a backend was chosen).
pub fn device() -> Device {
    CURRENT
        .with(|c| c.borrow().as_ref().map(|(d, _)| d.clone()))
        .unwrap_or_else(cpu_device)
}

/// The backend in use, as the status line shows it.
pub fn label() -> String {
    CURRENT
        .with(|c| c.borrow().as_ref().map(|(_, i)| i.label()))
        .unwrap_or_default()
}

/// Whether the device in use is WebGPU. Safe to call from the panic hook (it never panics).
pub fn on_wgpu() -> bool {
    CURRENT
        .try_with(|c| {
            c.try_borrow()
                .is_ok_and(|c| c.as_ref().is_some_and(|(_, info)| info.is_gpu()))
        })
        .unwrap_or(false)
}

/// Makes `device` the one in use.
pub fn set_current(device: Device, info: BackendInfo) {
    CURRENT.with(|c| *c.borrow_mut() = Some((device, info)));
}

/// The value of `key` in the worker's own URL (the page passes its settings there).
pub fn url_param(key: &str) -> Option<String> {
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let search = scope.location().search();
    let prefix = format!("{key}=");
    let raw = search
        .trim_start_matches('?')
        .split('&')
        .find_map(|p| p.strip_prefix(prefix.as_str()).map(str::to_string))?;
    js_sys::decode_uri_component(&raw).ok().map(String::from)
}

/// Chooses the backend the worker was started on: `?backend=` of its own URL (the page passes
/// its setup's choice), auto by default. A CPU chosen by the page after a GPU failure says so
/// (`?why=`) instead of "chosen".
pub async fn choose_initial() -> (Device, BackendInfo) {
    let choice = url_param("backend")
        .and_then(|v| v.parse().ok())
        .unwrap_or_default();
    match (choose(choice).await, url_param("why")) {
        ((device, BackendInfo::Cpu { .. }), Some(why)) => {
            (device, BackendInfo::Cpu { reason: Some(why) })
        }
        (chosen, _) => chosen,
    }
}

fn cpu(reason: impl Into<String>) -> (Device, BackendInfo) {
    (
        cpu_device(),
        BackendInfo::Cpu {
            reason: Some(reason.into()),
        },
    )
}

/// Chooses the device for `choice` (see the module documentation) and says why. In the CPU
/// worker's module (no `webgpu` feature) this is always the CPU.
pub async fn choose(choice: BackendChoice) -> (Device, BackendInfo) {
    if choice == BackendChoice::Cpu {
        return cpu("chosen");
    }
    #[cfg(feature = "webgpu")]
    {
        gpu::choose(choice).await
    }
    #[cfg(not(feature = "webgpu"))]
    {
        cpu("WebGPU is not in the CPU worker's module")
    }
}
