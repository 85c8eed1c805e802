//! # ntk-lens-web
//!
//! The browser explorer: a Leptos (CSR) page and its compute worker, both in this one wasm
//! module. The page and the worker are thin shells around `ntk-lens-core`; they arrange calls and
//! show results, and speak to each other only through [`protocol`] messages.
//!
//! Natively only the pure parts ([`protocol`], [`job_state`]) are compiled, so that they are
//! unit-tested by `cargo test`.

pub mod analysis_jobs;
pub mod job_state;
pub mod jobs;
pub mod protocol;
pub mod setup;

#[cfg(target_arch = "wasm32")]
mod analysis;
#[cfg(target_arch = "wasm32")]
mod app;
#[cfg(target_arch = "wasm32")]
mod bridge;
#[cfg(target_arch = "wasm32")]
pub mod fetch;
#[cfg(target_arch = "wasm32")]
mod persist;
#[cfg(target_arch = "wasm32")]
pub mod session;
#[cfg(target_arch = "wasm32")]
mod views;
#[cfg(target_arch = "wasm32")]
pub mod worker;

/// Mounts the page when loaded in a window; does nothing in the worker (which calls
/// [`worker::worker_main`] itself).
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen(start)]
pub fn start() {
    use wasm_bindgen::JsCast;
    if js_sys::global().dyn_into::<web_sys::Window>().is_ok() {
        console_error_panic_hook::set_once();
        leptos::mount::mount_to_body(app::App);
    }
}
