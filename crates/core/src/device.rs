//! Choosing the compute backend.
//!
//! The backend is chosen by the shell: wgpu (WebGPU in the browser, Vulkan/Metal natively) when
//! an adapter is found, burn-wgpu initialises and the check against the CPU
//! ([`crate::selfcheck::check_against_cpu`]) agrees, otherwise the CPU through burn's `flex`
//! backend. The choice, and why, is reported as a [`BackendInfo`] so that the user sees what is
//! in use.

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
        /// How its results compared with the CPU's at start, when checked.
        #[serde(default)]
        check: Option<BackendCheck>,
    },
    /// burn-flex on the CPU, with the reason the GPU path was not taken.
    Cpu {
        /// Why the CPU is in use, for the status line (e.g. "WebGPU unavailable:
        /// navigator.gpu is undefined"); `None` when the CPU was simply asked for.
        reason: Option<String>,
    },
}

impl BackendInfo {
    /// The status-line text: `WebGPU: <adapter>` (with the check's result) or `CPU (<reason>)`.
    pub fn label(&self) -> String {
        match self {
            BackendInfo::Wgpu {
                adapter,
                check: Some(c),
            } => format!(
                "WebGPU: {adapter} (agrees with the CPU to {:.0e})",
                c.max_relative_difference
            ),
            BackendInfo::Wgpu { adapter, .. } => format!("WebGPU: {adapter}"),
            BackendInfo::Cpu { reason: Some(r) } => format!("CPU ({r})"),
            BackendInfo::Cpu { reason: None } => "CPU".to_string(),
        }
    }

    /// True when the computation runs on a GPU adapter.
    pub fn is_gpu(&self) -> bool {
        matches!(self, BackendInfo::Wgpu { .. })
    }
}

/// The CPU device: burn's `flex` backend (gemm matrix products: AVX2/AVX-512 natively, SIMD128
/// in the browser; multi-threaded natively). Measured against burn-ndarray on this project's
/// workloads (docs/performance.md): about 1.5x faster natively, as fast in wasm.
pub fn cpu_device() -> Device {
    Device::flex()
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

/// How far a backend's results may be from the CPU's before they are not trusted: the largest
/// kernel-entry difference relative to the largest entry. Both compute in f32 with different
/// summation orders (observed differences are ~1e-6); a kernel that returns stale or wrong
/// data is off by O(1).
pub const CHECK_TOLERANCE: f64 = 1e-3;

/// What the check against the CPU ([`crate::selfcheck::check_against_cpu`]) found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BackendCheck {
    /// `max |K_device − K_cpu| / max |K_cpu|` over the check's kernel.
    pub max_relative_difference: f64,
    /// [`CHECK_TOLERANCE`].
    pub tolerance: f64,
}

impl BackendCheck {
    /// Whether the device agrees with the CPU within the tolerance.
    pub fn passed(&self) -> bool {
        self.max_relative_difference <= self.tolerance
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_match_the_status_line_format() {
        let gpu = BackendInfo::Wgpu {
            adapter: "SwiftShader".into(),
            check: None,
        };
        assert_eq!(gpu.label(), "WebGPU: SwiftShader");
        assert!(gpu.is_gpu());
        let checked = BackendInfo::Wgpu {
            adapter: "NVIDIA H100".into(),
            check: Some(BackendCheck {
                max_relative_difference: 3.2e-7,
                tolerance: CHECK_TOLERANCE,
            }),
        };
        assert_eq!(
            checked.label(),
            "WebGPU: NVIDIA H100 (agrees with the CPU to 3e-7)"
        );
        let cpu = BackendInfo::Cpu {
            reason: Some("WebGPU unavailable: no adapter".into()),
        };
        assert_eq!(cpu.label(), "CPU (WebGPU unavailable: no adapter)");
        let json = serde_json::to_string(&cpu).unwrap();
        assert_eq!(
            json,
            r#"{"kind":"cpu","reason":"WebGPU unavailable: no adapter"}"#
        );
    }

    #[cfg(not(target_family = "wasm"))]
    #[test]
    fn the_cpu_device_passes_the_probe() {
        assert_eq!(crate::block_on(probe(&cpu_device())), Ok(()));
    }
}
