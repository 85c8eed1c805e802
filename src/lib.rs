//! # ntk-lens-web
//!
//! The browser explorer: a Leptos (CSR) page and its compute worker, both in this one wasm
//! module, as thin shells around `ntk-lens-core`. Three folders, one job each:
//!
//! * [`protocol`]: the typed messages between page and worker (it depends on neither side);
//! * [`page`]: the Leptos app: views, page state (one slot per job), the setup in the address,
//!   the bridge to the worker;
//! * `worker` (wasm only): the compute worker: backend choice, loading (datasets, models,
//!   downloads), the session (model, dataset, last NTK), the jobs' runners driven step by step
//!   (progress, yield, cancel).
//!
//! The page never imports the worker nor the worker the page. Natively only the pure parts
//! (the protocol, the page's setup, job state and job builders) are compiled, so that
//! `cargo test` covers them. docs/architecture.md draws the data path and the message flow.

#[cfg(any(not(target_arch = "wasm32"), feature = "page"))]
pub mod page;
pub mod protocol;
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
    #[cfg(feature = "page")]
    use wasm_bindgen::JsCast;
    // Run the constructors once, here, at instantiation (page and worker). Calling them from an
    // export tells wasm-ld this is not a "command" module; otherwise it wraps *every* export
    // (each closure call, each externref allocation) in a call to all constructors, which cost
    // the page seconds of main-thread time (inventory's docs, "WebAssembly").
    // The compute worker's pool threads instantiate the module on the worker's shared memory,
    // where the constructors already ran: running them again would register cubecl's entries
    // twice (a cycle in inventory's list). Once per memory, then.
    static CONSTRUCTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if !CONSTRUCTED.swap(true, std::sync::atomic::Ordering::SeqCst) {
        // SAFETY: called once per memory, before anything reads the registrations.
        unsafe { __wasm_call_ctors() };
    }
    #[cfg(feature = "page")]
    if js_sys::global().dyn_into::<web_sys::Window>().is_ok() {
        console_error_panic_hook::set_once();
        leptos::mount::mount_to_body(page::App);
    }
}
