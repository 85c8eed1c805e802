//! Exporting the adapter fine-tuned at one λ of the last sweep, as a PEFT folder in a zip the
//! person downloads.

use crate::page::registry::{ResultKind, Spec};

/// The adapter export.
pub const SPEC: Spec = Spec::device("the adapter export", ResultKind::Adapter);

#[cfg(target_arch = "wasm32")]
pub use handle::Export;

#[cfg(target_arch = "wasm32")]
mod handle {
    use leptos::prelude::*;

    use crate::page::adapter_zip::adapter_zip;
    use crate::page::compute::{JobSlot, Registered};
    use crate::page::download::download_bytes;
    use crate::page::job_state::JobState;
    use crate::page::registry::Spec;
    use crate::page::Page;
    use crate::protocol::analysis::{AdapterFiles, ExportJob};
    use crate::protocol::{Job, JobResult};

    /// The export's slot.
    #[derive(Clone, Copy)]
    pub struct Export {
        /// The export and the files exported last.
        pub slot: JobSlot<AdapterFiles>,
    }

    impl Default for Export {
        fn default() -> Self {
            Export {
                slot: JobSlot::new(),
            }
        }
    }

    impl Export {

        /// Exports the adapter of the last sweep's λ number `index`.
        pub fn start(self, page: Page, index: usize) {
            page.compute
                .start(self.slot, Job::ExportAdapter(ExportJob { index }));
        }
    }

    impl Registered for Export {
        fn spec(&self) -> &'static Spec {
            &super::SPEC
        }
        fn state(&self) -> RwSignal<JobState> {
            self.slot.state
        }
        /// Keeps the files and offers them as a zip.
        fn receive(&self, page: Page, result: &JobResult) {
            let JobResult::Adapter(files) = result else {
                return;
            };
            self.slot.last.set(Some((**files).clone()));
            match adapter_zip(files) {
                Ok(zip) => download_bytes(
                    &format!("lora-adapter-lambda-{}.zip", files.lambda),
                    "application/zip",
                    &zip,
                ),
                Err(e) => page
                    .compute
                    .worker_note
                    .set(Some(format!("the adapter zip failed: {e}"))),
            }
        }
        fn clear(&self) {
            self.slot.last.set(None);
        }
    }
}
