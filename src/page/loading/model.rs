//! Loading a model into the worker's session: the bundled MiniLM, a hub repository or dropped
//! files. After a worker restart the model loaded before is loaded again, then its adapter.

use crate::page::registry::{ResultKind, Spec};

/// Loading a model.
pub const SPEC: Spec = Spec::device("loading the model", ResultKind::Model);

#[cfg(target_arch = "wasm32")]
pub use handle::ModelLoad;

#[cfg(target_arch = "wasm32")]
mod handle {
    use std::time::Duration;

    use js_sys::Uint8Array;
    use leptos::prelude::*;

    use super::super::DroppedFiles;
    use crate::page::compute::{JobSlot, Registered};
    use crate::page::job_state::JobState;
    use crate::page::registry::Spec;
    use crate::page::setup::ModelChoice;
    use crate::page::Page;
    use crate::protocol::hub::HubModel;
    use crate::protocol::loading::{ModelJob, ModelSource, ModelSummary};
    use crate::protocol::{Job, JobResult};

    /// The model's slot (its last result: the model in the worker's session) and what a
    /// restart needs to load it again.
    #[derive(Clone, Copy)]
    pub struct ModelLoad {
        /// Loading.
        pub slot: JobSlot<ModelSummary>,
        /// The dropped model files (resent after a worker restart).
        dropped: StoredValue<Option<DroppedFiles>, LocalStorage>,
        /// Whether the job in flight restores the model after a restart (the adapter then
        /// follows it).
        restoring: StoredValue<bool>,
        /// The choice of the job in flight, committed to the setup when it succeeds.
        pending: StoredValue<Option<ModelChoice>>,
    }

    impl Default for ModelLoad {
        fn default() -> Self {
            ModelLoad {
                slot: JobSlot::new(),
                dropped: StoredValue::new_local(None),
                restoring: StoredValue::new(false),
                pending: StoredValue::new(None),
            }
        }
    }

    impl ModelLoad {

        /// Loads a model into the worker's session.
        pub fn load(self, page: Page, choice: ModelChoice, source: ModelSource, files: Vec<Uint8Array>) {
            self.restoring.set_value(false);
            self.send(page, choice, source, files);
        }

        fn send(self, page: Page, choice: ModelChoice, source: ModelSource, files: Vec<Uint8Array>) {
            if self.slot.state.with_untracked(|s| s.is_busy()) {
                return;
            }
            let (max_len, lora) = page.setup.with_untracked(|s| (s.samples.max_len, s.lora.config()));
            let expected_bytes = match &source {
                ModelSource::Hub { endpoint, model } => {
                    page.loading.probe.slot.last.with_untracked(|p| {
                        p.as_ref()
                            .filter(|p| p.job.model == *model && p.job.endpoint == *endpoint)
                            .and_then(|p| p.announced_bytes())
                            .map(|b| b as usize)
                    })
                }
                _ => None,
            };
            let num_classes = page
                .loading
                .data
                .dataset
                .with_untracked(|d| d.as_ref().map(|d| d.label_names.len()));
            self.pending.set_value(Some(choice));
            let job = Job::LoadModel(ModelJob {
                source,
                max_len,
                num_classes,
                lora,
                expected_bytes,
            });
            // The loading jobs start as soon as they are asked (the worker queues nothing: the
            // model is loaded at start, before any analysis can run).
            page.compute.start_with(self.slot, job, &files, 0);
        }

        /// Downloads `model` from the setup's hub and loads it.
        pub fn load_hub(self, page: Page, model: HubModel) {
            let endpoint = page.setup.with_untracked(|s| s.model.hub_endpoint().to_string());
            self.load(
                page,
                ModelChoice::Hub(model.clone()),
                ModelSource::Hub { endpoint, model },
                vec![],
            );
        }

        /// Loads dropped model files (config.json, weights, tokenizer.json, in that order).
        pub fn load_dropped(self, page: Page, names: Vec<String>, files: Vec<Uint8Array>) {
            self.dropped.set_value(Some((names.clone(), files.clone())));
            self.load(page, ModelChoice::Dropped, ModelSource::Dropped { names }, files);
        }

        /// Asks the running model download to stop.
        pub fn cancel(self, page: Page) {
            page.compute.cancel_state(self.slot.state, false);
        }

        /// (Re)loads the setup's model into a fresh worker, and then its adapter. A hub model
        /// is only loaded when it was loaded in this page before (a restart), never unasked at
        /// start: MiniLM stands in.
        pub fn reload(self, page: Page) {
            let (choice, endpoint) = page
                .setup
                .with_untracked(|s| (s.model.choice.clone(), s.model.hub_endpoint().to_string()));
            let had = self.slot.last.with_untracked(|m| m.is_some());
            self.restoring.set_value(had);
            match choice {
                ModelChoice::Hub(model) if had => self.send(
                    page,
                    ModelChoice::Hub(model.clone()),
                    ModelSource::Hub { endpoint, model },
                    vec![],
                ),
                ModelChoice::Dropped if self.dropped.with_value(|d| d.is_some()) => {
                    let (names, files) = self.dropped.get_value().unwrap_or_default();
                    self.send(page, choice, ModelSource::Dropped { names }, files);
                }
                _ => self.send(page, ModelChoice::Minilm, ModelSource::Bundled, vec![]),
            }
        }
    }

    impl Registered for ModelLoad {
        fn spec(&self) -> &'static Spec {
            &super::SPEC
        }
        fn state(&self) -> RwSignal<JobState> {
            self.slot.state
        }
        fn receive(&self, page: Page, result: &JobResult) {
            let JobResult::Model(summary) = result else {
                return;
            };
            self.slot.last.set(Some((**summary).clone()));
            page.analyses.ntk.forget_worker_ntk();
            if let Some(choice) = self.pending.get_value() {
                page.setup.update(|s| s.model.choice = choice);
            }
            let adapter = page.loading.adapter;
            adapter.slot.last.set(None);
            if !self.restoring.get_value() {
                adapter.files.set_value(None);
            } else if let Some((names, files)) = adapter.files.get_value() {
                // After a restart the adapter follows its model (once the model job has ended:
                // the worker runs one device job at a time).
                set_timeout(move || adapter.attach(page, names, files), Duration::ZERO);
            }
        }
        fn clear(&self) {
            self.slot.last.set(None);
        }
    }
}
