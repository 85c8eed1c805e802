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

use ntk_lens_core::burn::prelude::Device;
use ntk_lens_core::device::{cpu_device, init_wgpu, probe, BackendInfo};
use ntk_lens_core::options::BackendChoice;
use ntk_lens_core::selfcheck::check_against_cpu;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::DedicatedWorkerGlobalScope;

use super::faults::{self, Fault};

thread_local! {
    /// The device in use and how it is described.
    static CURRENT: RefCell<Option<(Device, BackendInfo)>> = const { RefCell::new(None) };
    /// burn's wgpu runtime, once started (it starts once per worker), with its adapter's name.
    static WGPU: RefCell<Option<(Device, String)>> = const { RefCell::new(None) };
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
fn url_param(key: &str) -> Option<String> {
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

/// Chooses the device for `choice` (see the module documentation) and says why.
pub async fn choose(choice: BackendChoice) -> (Device, BackendInfo) {
    if choice == BackendChoice::Cpu {
        return cpu("chosen");
    }
    let adapter = match describe_adapter().await {
        Ok(a) => a,
        Err(reason) => return cpu(format!("WebGPU unavailable: {reason}")),
    };
    if choice == BackendChoice::Auto && adapter.software {
        return cpu(format!(
            "auto: the WebGPU adapter ({}) is a software renderer, slower than the CPU; choose \
             WebGPU to use it anyway",
            adapter.name
        ));
    }
    let device = match wgpu_device().await {
        Ok(d) => d,
        Err(e) => return cpu(format!("WebGPU unavailable: burn-wgpu did not start: {e}")),
    };
    if let Err(e) = probe(&device).await {
        return cpu(format!(
            "WebGPU unavailable: the adapter {} computed a wrong result: {e}",
            adapter.name
        ));
    }
    let check = check_against_cpu(&device).await.map(|mut check| {
        if faults::take(&[Fault::CheckDiffers]).is_some() {
            check.max_relative_difference = 1.0;
        }
        check
    });
    match check {
        Ok(check) if check.passed() => (
            device,
            BackendInfo::Wgpu {
                adapter: adapter.name,
                check: Some(check),
            },
        ),
        Ok(check) => cpu(format!(
            "WebGPU's results differ from the CPU's by {:.1e} (more than {:.0e}): not trusted",
            check.max_relative_difference, check.tolerance
        )),
        Err(e) => cpu(format!("WebGPU failed the check against the CPU: {e}")),
    }
}

/// burn's wgpu device, started on first use.
async fn wgpu_device() -> Result<Device, String> {
    if let Some((d, _)) = WGPU.with(|w| w.borrow().clone()) {
        return Ok(d);
    }
    let (device, name) = init_wgpu().await?;
    WGPU.with(|w| *w.borrow_mut() = Some((device.clone(), name)));
    Ok(device)
}

/// The browser's WebGPU adapter, as the person would name it.
struct Adapter {
    /// Vendor, architecture, device and description from `GPUAdapter.info`.
    name: String,
    /// A software (CPU) implementation: `isFallbackAdapter`, or a known software renderer.
    software: bool,
}

/// Names of software WebGPU/Vulkan implementations, as they appear in `GPUAdapter.info`.
const SOFTWARE: [&str; 5] = [
    "swiftshader",
    "llvmpipe",
    "lavapipe",
    "basic render",
    "software",
];

/// Asks `navigator.gpu` for an adapter and describes it from `GPUAdapter.info` (wgpu sees no
/// adapter name in a browser).
async fn describe_adapter() -> Result<Adapter, String> {
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let get = |obj: &JsValue, key: &str| js_sys::Reflect::get(obj, &JsValue::from_str(key));
    let gpu = get(&scope.navigator(), "gpu").unwrap_or(JsValue::UNDEFINED);
    if gpu.is_undefined() || gpu.is_null() {
        return Err("navigator.gpu is undefined in this browser".into());
    }
    let request: js_sys::Function = get(&gpu, "requestAdapter")
        .ok()
        .and_then(|f| f.dyn_into().ok())
        .ok_or("navigator.gpu.requestAdapter is missing")?;
    let promise: js_sys::Promise = request
        .call0(&gpu)
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
    let fallback = [&info, &adapter]
        .iter()
        .any(|o| get(o, "isFallbackAdapter").ok().and_then(|v| v.as_bool()) == Some(true));
    let lower = parts.join(" ").to_lowercase();
    Ok(Adapter {
        software: fallback || SOFTWARE.iter().any(|s| lower.contains(s)),
        name: if parts.is_empty() {
            "adapter (no description)".into()
        } else {
            parts.join(" ")
        },
    })
}
