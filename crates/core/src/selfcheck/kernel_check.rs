//! The check of a GPU backend against the CPU: a small NTK of the tiny seeded model
//! ([`crate::test_model`]) computed on both, so that a backend whose kernels compute wrong or
//! stale results (e.g. a shader that failed validation) is caught before its results are shown.

use burn::prelude::Device;

use crate::device::{cpu_device, BackendCheck, CHECK_TOLERANCE};
use crate::model::Family;
use crate::ntk::{NtkBuilder, NtkOptions};
use crate::steps::Stepwise;
use crate::test_model::{tiny_lora_model_on, token_samples};
use crate::CoreError;

/// The NTK (LoRA A and B blocks, non-zero B) of a tiny seeded RoBERTa-family model over three
/// samples of different lengths (padding, chunks of two), on `device`.
async fn check_kernel(device: &Device) -> Result<Vec<f64>, CoreError> {
    let model = tiny_lora_model_on(Family::Roberta, 7, Some(11), device)?;
    let samples = token_samples(&[4, 7, 9], (7, 13));
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
