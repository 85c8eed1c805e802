//! The λ sweep: the linearized model against real proximal fine-tuning at each λ, all λ
//! trained side by side. It starts from the NTK (computing it first when there is none).

use super::CHUNK;
use crate::page::registry::{Change, ResultKind, Spec};
use crate::page::setup::Setup;
use crate::protocol::analysis::SweepJob;

/// The sweep; stale after a new NTK or adapter; reports its training loss.
pub const SPEC: Spec = Spec {
    stale_after: &[Change::NewNtk, Change::AdapterChanged],
    reports_loss: true,
    ..Spec::device("the λ sweep", ResultKind::Sweep)
};

/// The sweep the setup describes (all λ side by side). A learning rate ≤ 0 means the default
/// step.
pub fn job(setup: &Setup) -> SweepJob {
    SweepJob {
        config: setup.training.sweep_config(CHUNK),
    }
}

#[cfg(target_arch = "wasm32")]
pub use handle::Sweep;

#[cfg(target_arch = "wasm32")]
mod handle {
    use leptos::prelude::*;

    use super::super::ntk::AfterNtk;
    use crate::page::compute::JobSlot;
    use crate::page::Page;
    use crate::protocol::analysis::SweepOutcome;
    use crate::protocol::Job;

    /// The sweep's slot.
    #[derive(Clone, Copy)]
    pub struct Sweep {
        /// The sweep and its last outcome.
        pub slot: JobSlot<SweepOutcome>,
    }

    impl Default for Sweep {
        fn default() -> Self {
            Sweep {
                slot: JobSlot::new(),
            }
        }
    }

    impl Sweep {

        /// Starts the setup's sweep, after computing the NTK when the worker holds none.
        /// Errors: why the NTK cannot start.
        pub fn start(self, page: Page) -> Result<(), &'static str> {
            let job = Job::Sweep(super::job(&page.setup.get_untracked()));
            page.analyses.ntk.start_after(page, AfterNtk::Sweep, job)
        }
    }

    super::super::slot_only_registered!(Sweep, Sweep, boxed);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_job_follows_the_setup() {
        let s = Setup::default();
        let sw = job(&s);
        assert_eq!(sw.config.lambdas, s.training.lambdas);
        assert_eq!(sw.config.lr, None, "lr 0 means the default step");
    }
}
