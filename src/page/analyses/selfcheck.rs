//! The compute check: the model's outputs, LoRA and the NTK on this backend against values
//! computed once by the reference libraries.

use crate::page::registry::{ResultKind, Spec};

/// The self-check.
pub const SPEC: Spec = Spec::device("the compute check", ResultKind::SelfCheck);

#[cfg(target_arch = "wasm32")]
pub use handle::SelfCheck;

#[cfg(target_arch = "wasm32")]
mod handle {
    use ntk_lens_core::selfcheck::{SelfCheckConfig, SelfCheckReport};

    use crate::page::compute::{Compute, JobSlot};
    use crate::protocol::Job;

    /// The self-check's slot.
    #[derive(Clone, Copy)]
    pub struct SelfCheck {
        /// The check and its last report.
        pub slot: JobSlot<SelfCheckReport>,
    }

    impl Default for SelfCheck {
        fn default() -> Self {
            SelfCheck {
                slot: JobSlot::new(),
            }
        }
    }

    impl SelfCheck {

        /// Starts the check on the worker of `compute`.
        pub fn start(self, compute: Compute, config: SelfCheckConfig) {
            compute.start(self.slot, Job::SelfCheck(config));
        }
    }

    super::super::slot_only_registered!(SelfCheck, SelfCheck);
}
