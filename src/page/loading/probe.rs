//! Reading a hub repository's config.json and file sizes before downloading it (beside other
//! jobs: it does not use the device).

use crate::page::registry::{ResultKind, Spec};

/// The hub probe.
pub const SPEC: Spec = Spec {
    uses_device: false,
    ..Spec::device("reading the hub", ResultKind::Probe)
};

#[cfg(target_arch = "wasm32")]
pub use handle::HubProbeJob;

#[cfg(target_arch = "wasm32")]
mod handle {
    use leptos::prelude::*;

    use crate::page::compute::{JobSlot, Registered};
    use crate::page::job_state::JobState;
    use crate::page::registry::Spec;
    use crate::page::Page;
    use crate::protocol::hub::{HubModel, HubProbe, ProbeJob};
    use crate::protocol::{Job, JobResult};

    /// The probe's slot; its last result describes the repository probed last.
    #[derive(Clone, Copy)]
    pub struct HubProbeJob {
        /// The probe.
        pub slot: JobSlot<HubProbe>,
    }

    impl Default for HubProbeJob {
        fn default() -> Self {
            HubProbeJob {
                slot: JobSlot::new(),
            }
        }
    }

    impl HubProbeJob {

        /// Reads `model`'s config.json and file sizes from the setup's hub.
        pub fn probe(self, page: Page, model: HubModel) {
            let endpoint = page.setup.with_untracked(|s| s.model.hub_endpoint().to_string());
            self.slot.last.set(None);
            let job = Job::ProbeHub(ProbeJob { endpoint, model });
            page.compute.start_with(self.slot, job, &[], 1);
        }
    }

    impl Registered for HubProbeJob {
        fn spec(&self) -> &'static Spec {
            &super::SPEC
        }
        fn state(&self) -> RwSignal<JobState> {
            self.slot.state
        }
        fn receive(&self, _page: Page, result: &JobResult) {
            if let JobResult::Probe(probe) = result {
                self.slot.last.set(Some((**probe).clone()));
            }
        }
        fn clear(&self) {
            self.slot.last.set(None);
        }
    }
}
