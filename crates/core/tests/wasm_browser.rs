//! The core inside a real browser (headless Chromium through wasm-bindgen-test-runner):
//! the CPU backend computes the self-check exactly, and WebGPU (SwiftShader in CI) starts and
//! passes the probe where the browser offers an adapter.
#![cfg(target_arch = "wasm32")]

use ntk_lens_core::device::{cpu_device, probe};
use ntk_lens_core::selfcheck::{SelfCheck, SelfCheckConfig};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn self_check_on_the_cpu_backend_matches_the_closed_form() {
    let mut check = SelfCheck::new(SelfCheckConfig::default(), &cpu_device()).unwrap();
    while !check.is_done() {
        check.step().await.unwrap();
    }
    let r = check.report().await.unwrap();
    assert!(r.grad_max_abs_error < 1e-5, "{r:?}");
    assert!(
        (r.loss - r.predicted_loss).abs() / r.predicted_loss < 1e-3,
        "{r:?}"
    );
    probe(&cpu_device()).await.unwrap();
}

#[cfg(feature = "wgpu")]
#[wasm_bindgen_test]
async fn webgpu_starts_and_computes_correctly() {
    // tests/webdriver.json starts Chromium with --enable-unsafe-webgpu, which gives SwiftShader.
    let (device, adapter) = ntk_lens_core::device::init_wgpu()
        .await
        .expect("a WebGPU adapter with --enable-unsafe-webgpu");
    assert!(!adapter.is_empty());
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
        check.step().await.unwrap();
    }
    let r = check.report().await.unwrap();
    assert!(r.grad_max_abs_error < 1e-4, "{r:?}");
    assert!(
        (r.loss - r.predicted_loss).abs() / r.predicted_loss < 1e-3,
        "{r:?}"
    );
}
