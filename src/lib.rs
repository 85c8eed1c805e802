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

#[cfg(target_arch = "wasm32")]
unsafe extern "C" {
    /// Runs the static constructors (cubecl's `inventory` registrations), synthesized by wasm-ld.
    fn __wasm_call_ctors();
}

/// Mounts the page when loaded in a window; does nothing in the worker (which calls
/// [`worker::worker_main`] itself).
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen(start)]
pub fn start() {
    use wasm_bindgen::JsCast;
    // Run the constructors once, here, at instantiation (page and worker). Calling them from an
    // export tells wasm-ld this is not a "command" module; otherwise it wraps *every* export
    // (each closure call, each externref allocation) in a call to all constructors, which cost
    // the page seconds of main-thread time (inventory's docs, "WebAssembly").
    // SAFETY: called once per instance, before anything reads the registrations.
    unsafe { __wasm_call_ctors() };
    if js_sys::global().dyn_into::<web_sys::Window>().is_ok() {
        console_error_panic_hook::set_once();
        leptos::mount::mount_to_body(app::App);
    }
}
