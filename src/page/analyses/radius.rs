//! The radius probe: how far the fine-tuned parameters may move before the linearization
//! breaks, measured from the NTK's model.

use crate::page::registry::{Change, ResultKind, Spec};

/// The radius probe; stale after a new NTK or adapter.
pub const SPEC: Spec = Spec {
    stale_after: &[Change::NewNtk, Change::AdapterChanged],
    ..Spec::device("the radius probe", ResultKind::Radius)
};

#[cfg(target_arch = "wasm32")]
pub use handle::Radius;

#[cfg(target_arch = "wasm32")]
mod handle {
    use leptos::prelude::*;
    use ntk_lens_core::experiment::RadiusConfig;

    use crate::page::compute::JobSlot;
    use crate::page::Page;
    use crate::protocol::analysis::{RadiusJob, RadiusOutcome};
    use crate::protocol::Job;

    /// The probe's slot.
    #[derive(Clone, Copy)]
    pub struct Radius {
        /// The probe and its last points.
        pub slot: JobSlot<RadiusOutcome>,
    }

    impl Default for Radius {
        fn default() -> Self {
            Radius {
                slot: JobSlot::new(),
            }
        }
    }

    impl Radius {

        /// Probes `radii` (two draws each) around the NTK's model. Errors: why it cannot start.
        pub fn start(self, page: Page, radii: Vec<f64>) -> Result<(), &'static str> {
            if page.analyses.ntk.slot.last.with_untracked(Option::is_none) {
                return Err("compute the NTK first (NTK tab)");
            }
            let config = RadiusConfig {
                radii,
                draws: 2,
                seed: 0,
            };
            page.compute
                .start(self.slot, Job::Radius(RadiusJob { config }));
            Ok(())
        }
    }

    super::super::slot_only_registered!(Radius, Radius);
}
