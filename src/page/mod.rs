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
//!   local storage), `download`, `tab`, `views` (one module per tab, a folder of panels for
//!   the large tabs): wasm only.

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

/// Every kind of job the page starts: the loading jobs, then the analyses (each list is written
/// once, by `register_jobs!` in `loading/mod.rs` and `analyses/mod.rs`).
pub fn registered() -> impl Iterator<Item = &'static registry::Spec> {
    loading::SPECS.iter().chain(analyses::SPECS)
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::page::registry::{Change, ResultKind};

    #[test]
    fn every_result_has_exactly_one_registered_job_and_names_are_unique() {
        for kind in ResultKind::ALL {
            let takers: Vec<_> = registered().filter(|s| s.result == kind).collect();
            assert_eq!(takers.len(), 1, "{kind:?} is taken by {takers:?}");
        }
        let all: Vec<_> = registered().collect();
        for (i, a) in all.iter().enumerate() {
            assert!(!a.name.is_empty(), "{a:?}");
            for b in &all[i + 1..] {
                assert_ne!(a.name, b.name);
            }
        }
    }

    #[test]
    fn what_an_ntk_feeds_is_stale_after_a_new_ntk_and_all_of_it_after_an_adapter() {
        let stale = |c: Change| -> Vec<ResultKind> {
            registered()
                .filter(|s| s.stale_after.contains(&c))
                .map(|s| s.result)
                .collect()
        };
        use ResultKind::*;
        assert_eq!(stale(Change::NewNtk), [EvalKernel, Sweep, Study, Radius]);
        assert_eq!(
            stale(Change::AdapterChanged),
            [Ntk, EvalKernel, Sweep, Study, Radius]
        );
        let losses: Vec<_> = registered()
            .filter(|s| s.reports_loss)
            .map(|s| s.result)
            .collect();
        assert_eq!(losses, [Sweep, Study]);
        let off_device: Vec<_> = registered()
            .filter(|s| !s.uses_device)
            .map(|s| s.result)
            .collect();
        assert_eq!(off_device, [Probe, Dataset]);
    }
}
