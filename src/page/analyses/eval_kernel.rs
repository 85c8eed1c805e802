//! The eval samples' kernels against the train samples: started after each NTK (from the
//! builder the worker kept), so that the NTK is shown before they are done; the linearized
//! model's eval predictions need them.

use crate::page::registry::{Change, ResultKind, Spec};

/// The eval kernel; stale after a new NTK or adapter.
pub const SPEC: Spec = Spec {
    stale_after: &[Change::NewNtk, Change::AdapterChanged],
    ..Spec::device("the eval kernel", ResultKind::EvalKernel)
};

#[cfg(target_arch = "wasm32")]
pub use handle::EvalKernel;

#[cfg(target_arch = "wasm32")]
mod handle {
    use leptos::prelude::*;
    use ntk_lens_core::ntk::NtkBlocks;

    use crate::page::compute::{JobSlot, Registered};
    use crate::page::job_state::JobState;
    use crate::page::registry::Spec;
    use crate::page::Page;
    use crate::protocol::analysis::EvalKernelOutcome;
    use crate::protocol::JobResult;

    /// The eval kernel's slot.
    #[derive(Clone, Copy)]
    pub struct EvalKernel {
        /// The eval kernel and its last outcome.
        pub slot: JobSlot<EvalKernelOutcome>,
    }

    impl Default for EvalKernel {
        fn default() -> Self {
            EvalKernel {
                slot: JobSlot::new(),
            }
        }
    }


    impl Registered for EvalKernel {
        fn spec(&self) -> &'static Spec {
            &super::SPEC
        }
        fn state(&self) -> RwSignal<JobState> {
            self.slot.state
        }
        fn receive(&self, page: Page, result: &JobResult) {
            if let JobResult::EvalKernel(outcome) = result {
                // The blocks now hold the cross kernels too.
                page.analyses
                    .ntk
                    .blocks
                    .set(NtkBlocks::from_data(&outcome.blocks).ok());
                self.slot.last.set(Some((**outcome).clone()));
            }
        }
        fn clear(&self) {
            self.slot.last.set(None);
        }
    }
}
