//! Choosing the compute backend.
//!
//! The backend is chosen once at start: wgpu (WebGPU in the browser, Vulkan/Metal natively) when
//! an adapter is found and burn-wgpu initialises, otherwise the CPU through burn-ndarray. The
//! choice, and why, is reported as a [`BackendInfo`] so that the user sees what is in use.

use burn::prelude::Device;
use serde::{Deserialize, Serialize};

/// Which backend computes, and how to describe it to a person.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum BackendInfo {
    /// burn-wgpu on a WebGPU (browser) or native GPU adapter.
    Wgpu {
        /// The adapter's name as the driver reports it (e.g. "SwiftShader Device (Subzero)").
        adapter: String,
    },
    /// burn-ndarray on the CPU, with the reason the GPU path was not taken.
    Cpu {
        /// Why wgpu is not in use (e.g. "navigator.gpu is undefined"); `None` when the CPU was
        /// asked for explicitly.
        reason: Option<String>,
    },
}

impl BackendInfo {
    /// The status-line text: `WebGPU: <adapter>` or `CPU (WebGPU unavailable: <reason>)`.
    pub fn label(&self) -> String {
        match self {
            BackendInfo::Wgpu { adapter } => format!("WebGPU: {adapter}"),
            BackendInfo::Cpu { reason: Some(r) } => format!("CPU (WebGPU unavailable: {r})"),
            BackendInfo::Cpu { reason: None } => "CPU".to_string(),
        }
    }

    /// True when the computation runs on a GPU adapter.
    pub fn is_gpu(&self) -> bool {
        matches!(self, BackendInfo::Wgpu { .. })
    }
}

/// The CPU device (burn-ndarray).
#[allow(deprecated)] // burn 0.22 marks ndarray deprecated in favour of `flex`; ndarray is our chosen CPU backend.
pub fn cpu_device() -> Device {
    Device::ndarray()
}

/// Starts burn-wgpu asynchronously (the only way in a browser) and returns its device and the
/// adapter's name, or the reason it could not start.
#[cfg(feature = "wgpu")]
pub async fn init_wgpu() -> Result<(Device, String), String> {
    let (device, setup) = Device::wgpu_options()
        .init_with_setup_async()
        .await
        .map_err(|e| format!("{e}"))?;
    let info = setup.adapter.get_info();
    let name = if info.name.is_empty() {
        format!("{:?} adapter", info.backend)
    } else {
        info.name.clone()
    };
    Ok((device, name))
}

/// Checks that a device computes a small matmul correctly (a broken driver shows up here, not
/// in the middle of an analysis). `[[1,2],[3,4]] · [1,1]ᵀ = [3,7]`.
pub async fn probe(device: &Device) -> Result<(), String> {
    use burn::prelude::Tensor;
    use burn::tensor::TensorData;
    let a = Tensor::<2>::from_data(TensorData::new(vec![1.0f32, 2.0, 3.0, 4.0], [2, 2]), device);
    let b = Tensor::<2>::from_data(TensorData::new(vec![1.0f32, 1.0], [2, 1]), device);
    let got = crate::readback::read_f32(a.matmul(b))
        .await
        .map_err(|e| e.to_string())?;
    if got == [3.0, 7.0] {
        Ok(())
    } else {
        Err(format!("[[1,2],[3,4]]·[1,1] gave {got:?}, expected [3, 7]"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_match_the_status_line_format() {
        let gpu = BackendInfo::Wgpu {
            adapter: "SwiftShader".into(),
        };
        assert_eq!(gpu.label(), "WebGPU: SwiftShader");
        assert!(gpu.is_gpu());
        let cpu = BackendInfo::Cpu {
            reason: Some("no adapter".into()),
        };
        assert_eq!(cpu.label(), "CPU (WebGPU unavailable: no adapter)");
        let json = serde_json::to_string(&cpu).unwrap();
        assert_eq!(json, r#"{"kind":"cpu","reason":"no adapter"}"#);
    }

    #[cfg(not(target_family = "wasm"))]
    #[test]
    fn the_cpu_device_passes_the_probe() {
        assert_eq!(crate::block_on(probe(&cpu_device())), Ok(()));
    }
}
