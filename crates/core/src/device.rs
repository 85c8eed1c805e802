//! Choosing the compute backend.
//!
//! The backend is chosen by the shell: wgpu (WebGPU in the browser, Vulkan/Metal natively) when
//! an adapter is found, burn-wgpu initialises and [`check_against_cpu`] agrees, otherwise the CPU
//! through burn's `flex` backend. The choice, and why, is reported as a [`BackendInfo`] so that
//! the user sees what is in use.

use burn::prelude::Device;
use serde::{Deserialize, Serialize};

use crate::CoreError;

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

/// What [`check_against_cpu`] found.
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

/// The NTK (LoRA A and B blocks, non-zero B) of a tiny seeded RoBERTa-family model over three
/// samples of different lengths (padding, chunks of two), on `device`.
async fn check_kernel(device: &Device) -> Result<Vec<f64>, CoreError> {
    use crate::lora::{LoraConfig, LoraModule};
    use crate::model::seeded::seeded_model;
    use crate::model::weights::tensor_from_vec;
    use crate::ntk::{NtkBuilder, NtkOptions};
    use crate::steps::Stepwise;
    use crate::tokenize::Encoded;
    let mut model = seeded_model(crate::model::Family::Roberta, 2, 7, device)?;
    model.apply_lora(
        &LoraConfig::new(2, 4.0, &[LoraModule::Query, LoraModule::Value]),
        3,
    )?;
    let mut rng = crate::rng::SplitMix64::new(11);
    for site in model.lora_sites() {
        if let Some(l) = model.lora_mut(site) {
            let dims = l.b.dims();
            l.b = tensor_from_vec(rng.normal(dims[0] * dims[1], 0.3), dims, device);
        }
    }
    let samples: Vec<Encoded> = [4usize, 7, 9]
        .iter()
        .enumerate()
        .map(|(k, &len)| {
            let ids: Vec<u32> = (0..len)
                .map(|t| 3 + ((7 * t + 13 * k) % 60) as u32)
                .collect();
            Encoded {
                type_ids: vec![0; len],
                ids,
            }
        })
        .collect();
    let options = NtkOptions {
        chunk_size: 2,
        ..NtkOptions::default()
    };
    Ok(NtkBuilder::new(&model, &samples, &[], options)?
        .run()
        .await?
        .total()?
        .to_row_major())
}

/// Computes a small NTK (a tiny seeded model, forward, backward, Jacobians and Gram products)
/// on `device` and on the CPU and compares them, so that a GPU backend whose kernels compute
/// wrong or stale results (e.g. a shader that failed validation) is caught before its results
/// are shown.
pub async fn check_against_cpu(device: &Device) -> Result<BackendCheck, CoreError> {
    let got = check_kernel(device).await?;
    let want = check_kernel(&cpu_device()).await?;
    Ok(compare_kernels(&got, &want))
}

/// How far `got` is from `want`, relative to `want`'s largest entry.
fn compare_kernels(got: &[f64], want: &[f64]) -> BackendCheck {
    let scale = want.iter().fold(0f64, |m, v| m.max(v.abs()));
    let worst = got
        .iter()
        .zip(want)
        .fold(0f64, |m, (g, w)| m.max((g - w).abs()));
    // Different sizes, an all-zero reference or a non-finite entry are never agreement.
    let comparable = got.len() == want.len() && scale > 0.0 && got.iter().all(|v| v.is_finite());
    let max_relative_difference = if !comparable {
        f64::INFINITY
    } else {
        worst / scale
    };
    BackendCheck {
        max_relative_difference,
        tolerance: CHECK_TOLERANCE,
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

    /// The check compares real kernels: the CPU agrees with itself, the check's kernel is not
    /// trivial (positive and negative entries), and a kernel that is off (stale data, a wrong
    /// block, NaN, a missing row) fails.
    #[cfg(not(target_family = "wasm"))]
    #[test]
    fn the_backend_check_passes_the_cpu_and_catches_wrong_kernels() {
        let check = crate::block_on(check_against_cpu(&cpu_device())).unwrap();
        assert!(check.passed(), "{check:?}");
        assert_eq!(check.max_relative_difference, 0.0);
        let k = crate::block_on(check_kernel(&cpu_device())).unwrap();
        assert_eq!(k.len(), 36, "3 samples × 2 classes");
        assert!(
            k.iter().any(|v| *v < 0.0) && k.iter().any(|v| *v > 0.0),
            "{k:?}"
        );
        let scale = k.iter().fold(0f64, |m, v| m.max(v.abs()));
        let mut stale = k.clone();
        stale[7] += 0.01 * scale;
        assert!(!compare_kernels(&stale, &k).passed());
        let mut nudged = k.clone();
        nudged[7] += 1e-6 * scale;
        assert!(compare_kernels(&nudged, &k).passed());
        let mut nan = k.clone();
        nan[0] = f64::NAN;
        assert!(!compare_kernels(&nan, &k).passed());
        assert!(!compare_kernels(&k[..35], &k).passed());
    }
}
