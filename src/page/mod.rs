//! The page: a Leptos (CSR) app that shows the analyses and sends jobs to the compute worker.
//!
//! * [`analyses`]: one module per analysis (NTK, eval kernel, sweep, study, radius, self-check,
//!   export): its job from the setup, what it needs, its slot and what its result changes;
//! * [`loading`]: one module per loading job (backend, model, hub probe, adapter, dataset);
//! * [`registry`]: what the page knows of every job (its spec), and the one line that
//!   registers a job;
//! * [`setup`]: everything the person chose, as one value and as the page's address;
//!   [`pin`]: a pinned NTK to compare with; [`job_state`]: the life of a job as the page shows
//!   it; [`format`], [`adapter_zip`]: small pure helpers;
//! * `app` (the shell: header, tabs), `compute` (the link with the worker: routing, busy,
//!   cancel, restart), `bridge` (spawning and talking to the worker), `persist` (address and
//!   local storage), `download`, `tab`, `views` (one module per panel): wasm only.

pub mod adapter_zip;
pub mod analyses;
pub mod format;
pub mod job_state;
pub mod loading;
pub mod pin;
pub mod registry;
pub mod setup;

#[cfg(target_arch = "wasm32")]
mod app;
#[cfg(target_arch = "wasm32")]
mod bridge;
#[cfg(target_arch = "wasm32")]
mod compute;
#[cfg(target_arch = "wasm32")]
mod download;
#[cfg(target_arch = "wasm32")]
mod persist;
#[cfg(target_arch = "wasm32")]
mod tab;
#[cfg(target_arch = "wasm32")]
mod views;

#[cfg(target_arch = "wasm32")]
pub use app::App;

/// The page's state as its parts: the link with the worker, the setup, the loading jobs and
/// the analyses. Views take the part they need; job handles take the page to reach the others.
#[cfg(target_arch = "wasm32")]
#[derive(Clone, Copy)]
pub struct Page {
    /// The link with the worker.
    pub compute: compute::Compute,
    /// Everything the person chose.
    pub setup: leptos::prelude::RwSignal<setup::Setup>,
    /// The loading jobs.
    pub loading: loading::Loading,
    /// The analyses.
    pub analyses: analyses::Analyses,
}

#[cfg(target_arch = "wasm32")]
impl Page {
    /// Every job idle, and the worker spawned on the setup's backend.
    pub fn start(setup: leptos::prelude::RwSignal<setup::Setup>) -> Page {
        let page = Page {
            compute: compute::Compute::new(setup),
            setup,
            loading: loading::Loading::default(),
            analyses: analyses::Analyses::default(),
        };
        let mut jobs = page.loading.registered();
        jobs.extend(page.analyses.registered());
        page.compute.connect(page, jobs);
        page
    }
}
