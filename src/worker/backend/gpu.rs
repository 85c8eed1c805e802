//! WebGPU in the worker (the page's module only): the adapter, burn-wgpu, and the check
//! against the CPU.

use std::cell::RefCell;

use ntk_lens_core::burn::prelude::Device;
use ntk_lens_core::device::{init_wgpu, probe, BackendInfo};
use ntk_lens_core::options::BackendChoice;
use ntk_lens_core::selfcheck::check_against_cpu;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::DedicatedWorkerGlobalScope;

use super::cpu;
use crate::worker::faults::{self, Fault};

thread_local! {
    /// burn's wgpu runtime, once started (it starts once per worker), with its adapter's name.
    static WGPU: RefCell<Option<(Device, String)>> = const { RefCell::new(None) };
}

/// WebGPU for `choice` (auto or WebGPU), checked, or the CPU and why.
pub async fn choose(choice: BackendChoice) -> (Device, BackendInfo) {
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
