//! Attaching a PEFT adapter to the loaded model (or taking it off); its files are kept so that
//! a restarted worker gets it again after its model.

use crate::page::registry::{ResultKind, Spec};

/// Attaching an adapter.
pub const SPEC: Spec = Spec::device("attaching the adapter", ResultKind::AdapterLoaded);

#[cfg(target_arch = "wasm32")]
pub use handle::AdapterLoad;

#[cfg(target_arch = "wasm32")]
mod handle {
    use js_sys::Uint8Array;
    use leptos::prelude::*;

    use super::super::DroppedFiles;
    use crate::page::compute::{JobSlot, Registered};
    use crate::page::job_state::JobState;
    use crate::page::registry::{Change, Spec};
    use crate::page::Page;
    use crate::protocol::loading::{AdapterJob, AdapterSummary};
    use crate::protocol::{Job, JobResult};

    /// The adapter's slot (its last result: the adapter attached, `None`: none) and its files.
    #[derive(Clone, Copy)]
    pub struct AdapterLoad {
        /// Attaching or taking off.
        pub slot: JobSlot<AdapterSummary>,
        /// The attached adapter's files (resent after a worker restart).
        pub(crate) files: StoredValue<Option<DroppedFiles>, LocalStorage>,
    }

    impl Default for AdapterLoad {
        fn default() -> Self {
            AdapterLoad {
                slot: JobSlot::new(),
                files: StoredValue::new_local(None),
            }
        }
    }

    impl AdapterLoad {

        /// Attaches a PEFT adapter (adapter_config.json, adapter_model.safetensors, in that
        /// order) to the loaded model, keeping its files for restarts.
        pub fn attach(self, page: Page, names: Vec<String>, files: Vec<Uint8Array>) {
            if page.compute.device_busy() {
                return;
            }
            self.files.set_value(Some((names.clone(), files.clone())));
            let job = Job::LoadAdapter(AdapterJob { names });
            page.compute.start_with(self.slot, job, &files, 0);
        }

        /// Takes the attached adapter off (the setup's fresh LoRA applies again).
        pub fn remove(self, page: Page) {
            page.compute
                .start(self.slot, Job::LoadAdapter(AdapterJob { names: vec![] }));
        }
    }

    impl Registered for AdapterLoad {
        fn spec(&self) -> &'static Spec {
            &super::SPEC
        }
        fn state(&self) -> RwSignal<JobState> {
            self.slot.state
        }
        fn receive(&self, page: Page, result: &JobResult) {
            if let JobResult::AdapterLoaded(adapter) = result {
                self.slot.last.set(adapter.clone());
                if adapter.is_none() {
                    self.files.set_value(None);
                }
                // The worker dropped the analyses of the model as it was.
                page.compute.changed(Change::AdapterChanged);
            }
        }
        fn clear(&self) {
            self.slot.last.set(None);
        }
    }
}
