//! The core inside a real browser (headless Chromium through wasm-bindgen-test-runner):
//! the CPU backend computes the self-check exactly, and WebGPU (SwiftShader in CI) starts and
//! passes the probe where the browser offers an adapter.
#![cfg(target_arch = "wasm32")]

use ntk_lens_core::device::{cpu_device, probe};
use ntk_lens_core::selfcheck::{SelfCheck, SelfCheckConfig};
use ntk_lens_core::steps::Stepwise;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

thread_local! {
    /// burn-wgpu registers one runtime per page, so the WebGPU tests share one device.
    static WEBGPU: std::cell::RefCell<Option<ntk_lens_core::burn::prelude::Device>> =
        const { std::cell::RefCell::new(None) };
}

/// The page's WebGPU device (started on first use); tests/webdriver.json starts Chromium with
/// --enable-unsafe-webgpu, which gives SwiftShader.
async fn webgpu() -> ntk_lens_core::burn::prelude::Device {
    if let Some(d) = WEBGPU.with(|w| w.borrow().clone()) {
        return d;
    }
    let (device, adapter) = ntk_lens_core::device::init_wgpu()
        .await
        .expect("a WebGPU adapter with --enable-unsafe-webgpu");
    assert!(!adapter.is_empty());
    WEBGPU.with(|w| *w.borrow_mut() = Some(device.clone()));
    device
}

#[wasm_bindgen_test]
async fn self_check_on_the_cpu_backend_matches_the_closed_form() {
    let mut check = SelfCheck::new(SelfCheckConfig::default(), &cpu_device()).unwrap();
    while !check.is_done() {
        check.advance().await.unwrap();
    }
    let r = check.report().await.unwrap();
    assert!(r.grad_max_abs_error < 1e-5, "{r:?}");
    assert!(
        (r.loss - r.predicted_loss).abs() / r.predicted_loss < 1e-3,
        "{r:?}"
    );
    probe(&cpu_device()).await.unwrap();
}

/// The page's check of a WebGPU adapter before it is trusted: a small NTK on WebGPU agrees with
/// the CPU's within the tolerance (SwiftShader here).
#[wasm_bindgen_test]
async fn webgpu_passes_the_check_against_the_cpu() {
    let check = ntk_lens_core::selfcheck::check_against_cpu(&webgpu().await)
        .await
        .unwrap();
    assert!(check.passed(), "{check:?}");
    assert!(check.max_relative_difference < 1e-5, "{check:?}");
}

#[wasm_bindgen_test]
async fn webgpu_starts_and_computes_correctly() {
    let device = webgpu().await;
    probe(&device).await.unwrap();
    let mut check = SelfCheck::new(
        SelfCheckConfig {
            steps: 50,
            ..SelfCheckConfig::default()
        },
        &device,
    )
    .unwrap();
    while !check.is_done() {
        check.advance().await.unwrap();
    }
    let r = check.report().await.unwrap();
    assert!(r.grad_max_abs_error < 1e-4, "{r:?}");
    assert!(
        (r.loss - r.predicted_loss).abs() / r.predicted_loss < 1e-3,
        "{r:?}"
    );
}

/// The empirical NTK of a tiny BERT classifier with a PEFT adapter (B ≠ 0), on the CPU backend
/// and on WebGPU, against torch.func (`tests/fixtures/ntk/bert_cls_qv`): relative Frobenius
/// error ≤ 1e-4, initial logits within 1e-4. This is the model + LoRA + Jacobian path on the
/// browser's GPU backend.
async fn ntk_matches_torch_func_on(device: &ntk_lens_core::burn::prelude::Device) -> f64 {
    use ntk_lens_core::model::peft::load_adapter;
    use ntk_lens_core::model::Model;
    use ntk_lens_core::ntk::{NtkBuilder, NtkOptions};
    use ntk_lens_core::tokenize::Encoded;

    let config = include_bytes!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/models/bert_cls/config.json"
    ));
    let weights = include_bytes!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/models/bert_cls/model.safetensors"
    ));
    let adapter_config = include_bytes!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/adapters/bert_cls_qv/adapter_config.json"
    ));
    let adapter = include_bytes!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/adapters/bert_cls_qv/adapter_model.safetensors"
    ));
    let expected = include_bytes!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/ntk/bert_cls_qv/ntk.safetensors"
    ));
    let mut model = Model::from_bytes(config, weights, device).unwrap();
    load_adapter(&mut model, adapter_config, adapter).unwrap();
    let st = safetensors::SafeTensors::deserialize(expected).unwrap();
    let f32s = |name: &str| -> Vec<f64> {
        st.tensor(name)
            .unwrap()
            .data()
            .chunks_exact(4)
            .map(|c| f64::from(f32::from_le_bytes([c[0], c[1], c[2], c[3]])))
            .collect()
    };
    let samples: Vec<Encoded> = (0..5)
        .map(|i| {
            let ids: Vec<u32> = st
                .tensor(&format!("input_ids.{i}"))
                .unwrap()
                .data()
                .chunks_exact(8)
                .map(|c| i64::from_le_bytes(c.try_into().unwrap()) as u32)
                .collect();
            Encoded {
                type_ids: vec![0; ids.len()],
                ids,
            }
        })
        .collect();
    let opts = NtkOptions {
        chunk_size: 2,
        ..NtkOptions::default()
    };
    let ntk = NtkBuilder::new(&model, &samples, &[], opts)
        .unwrap()
        .run()
        .await
        .unwrap();
    let got = ntk.total().unwrap().to_row_major();
    let want = f32s("kernel_full");
    let num: f64 = got.iter().zip(&want).map(|(a, b)| (a - b).powi(2)).sum();
    let den: f64 = want.iter().map(|b| b * b).sum();
    let rel = (num / den).sqrt();
    assert!(rel <= 1e-4, "kernel rel Frobenius error {rel}");
    for (g, w) in ntk.f0_train.iter().zip(f32s("logits")) {
        assert!((g - w).abs() <= 1e-4, "logit {g} vs {w}");
    }
    rel
}

#[wasm_bindgen_test]
async fn ntk_matches_torch_func_on_the_cpu_backend() {
    let rel = ntk_matches_torch_func_on(&cpu_device()).await;
    web_sys::console::log_1(&format!("CPU: NTK rel error {rel:.2e}").into());
}

#[wasm_bindgen_test]
async fn ntk_matches_torch_func_on_webgpu() {
    let rel = ntk_matches_torch_func_on(&webgpu().await).await;
    web_sys::console::log_1(&format!("WebGPU: NTK rel error {rel:.2e}").into());
}
