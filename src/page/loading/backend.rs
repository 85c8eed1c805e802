//! Switching the worker's backend (the model and the dataset stay loaded; results stay shown).

use crate::page::registry::{ResultKind, Spec};

/// The backend switch.
pub const SPEC: Spec = Spec::device("the backend switch", ResultKind::Backend);

#[cfg(target_arch = "wasm32")]
pub use handle::BackendSwitch;

#[cfg(target_arch = "wasm32")]
mod handle {
    use leptos::prelude::*;
    use ntk_lens_core::device::BackendInfo;
    use ntk_lens_core::options::BackendChoice;

    use crate::page::compute::{JobSlot, Registered};
    use crate::page::job_state::JobState;
    use crate::page::registry::Spec;
    use crate::page::Page;
    use crate::protocol::{Job, JobResult};

    /// The backend switch's slot; its last result is the backend switched to.
    #[derive(Clone, Copy)]
    pub struct BackendSwitch {
        /// The switch.
        pub slot: JobSlot<BackendInfo>,
    }

    impl Default for BackendSwitch {
        fn default() -> Self {
            BackendSwitch {
                slot: JobSlot::new(),
            }
        }
    }

    impl BackendSwitch {

        /// Switches to `choice` and writes it to the setup: inside the running worker, or in a
        /// fresh one where the choice needs the other module (the CPU's pool, or WebGPU).
        pub fn set(self, page: Page, choice: BackendChoice) {
            page.setup.update(|s| s.workspace.backend = choice);
            if page.compute.switch_needs_restart(choice) {
                page.compute.restart_on_setup_backend();
            } else {
                page.compute.start(self.slot, Job::SetBackend(choice));
            }
        }
    }

    impl Registered for BackendSwitch {
        fn spec(&self) -> &'static Spec {
            &super::SPEC
        }
        fn state(&self) -> RwSignal<JobState> {
            self.slot.state
        }
        fn receive(&self, page: Page, result: &JobResult) {
            if let JobResult::Backend(info) = result {
                page.compute.backend.set(Some(info.clone()));
                self.slot.last.set(Some(info.clone()));
            }
        }
        fn clear(&self) {
            self.slot.last.set(None);
        }
    }
}
