//! The NTK over the train samples: its job from the setup, what it needs (a model and a
//! dataset), and what follows it (the eval kernel; a sweep or study that waited for it). It
//! keeps the setup it was computed with and its blocks, decoded once for the views that sum
//! blocks and fit the linearized model on the page.

use super::{CHUNK, EVAL_SAMPLES};
use crate::page::registry::{Change, ResultKind, Spec};
use crate::page::setup::Setup;
use crate::protocol::analysis::{NtkJob, SampleJob};

/// The NTK; stale after an adapter was attached or taken off.
pub const SPEC: Spec = Spec {
    stale_after: &[Change::AdapterChanged],
    ..Spec::device("the NTK", ResultKind::Ntk)
};

/// The NTK job the setup describes.
pub fn job(setup: &Setup) -> NtkJob {
    NtkJob {
        samples: SampleJob {
            choice: setup.samples.choice(),
            eval_fraction: setup.data.eval_fraction,
            split_seed: setup.data.split_seed,
            eval_n: EVAL_SAMPLES,
        },
        lora: setup.lora.setup(),
        options: setup.kernel.options(CHUNK),
        layout: setup.kernel.layout,
    }
}

/// An analysis that waits for the NTK started for it: the sweep and the study start from a
/// computed NTK, and their Run computes one first when there is none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterNtk {
    /// The λ sweep (Linearization tab).
    Sweep,
    /// The layer study (Layer selection tab).
    Study,
}

#[cfg(target_arch = "wasm32")]
pub use handle::Ntk;

#[cfg(target_arch = "wasm32")]
mod handle {
    use leptos::prelude::*;
    use ntk_lens_core::ntk::NtkBlocks;

    use super::AfterNtk;
    use crate::page::compute::{JobSlot, Registered};
    use crate::page::job_state::JobState;
    use crate::page::registry::{Change, Spec};
    use crate::page::setup::Setup;
    use crate::page::Page;
    use crate::protocol::analysis::{EvalKernelJob, NtkOutcome};
    use crate::protocol::{Job, JobResult};

    /// The NTK's slot and what the views and the analyses after it read.
    #[derive(Clone, Copy)]
    pub struct Ntk {
        /// The NTK and its last outcome.
        pub slot: JobSlot<NtkOutcome>,
        /// The setup the shown NTK was computed with (for its description and to pin it).
        pub setup: RwSignal<Option<Setup>>,
        /// The last NTK's blocks (with cross kernels once the eval kernel is in).
        pub blocks: RwSignal<Option<NtkBlocks>>,
        /// The analysis that starts once the NTK computed for it (and its eval kernel) is in.
        pub waiting: RwSignal<Option<AfterNtk>>,
        /// The setup of the NTK job in flight.
        started: StoredValue<Option<Setup>>,
        /// The job of [`Self::waiting`].
        queued: StoredValue<Option<Job>, LocalStorage>,
        /// Whether the worker holds the NTK the page shows (a restarted worker, or one that
        /// loaded a model since, does not: the sweep and the study then compute it again).
        in_worker: StoredValue<bool>,
    }

    impl Default for Ntk {
        fn default() -> Self {
            Ntk {
                slot: JobSlot::new(),
                setup: RwSignal::new(None),
                blocks: RwSignal::new(None),
                waiting: RwSignal::new(None),
                started: StoredValue::new(None),
                queued: StoredValue::new_local(None),
                in_worker: StoredValue::new(false),
            }
        }
    }

    impl Ntk {

        /// Why the NTK cannot start yet (the model or the dataset still loading), if so.
        pub fn not_ready(self, page: Page) -> Option<&'static str> {
            if page.loading.model.slot.last.with_untracked(Option::is_none) {
                Some("the model is still loading (Model tab)")
            } else if page.loading.data.dataset.with_untracked(Option::is_none) {
                Some("no dataset yet: choose one in the Data tab")
            } else {
                None
            }
        }

        /// Starts the NTK of the setup as it is now (cancelling what it makes stale).
        pub fn start(self, page: Page) {
            let setup = page.setup.get_untracked();
            self.started.set_value(Some(setup.clone()));
            // The eval kernel of the previous NTK, or a sweep on it, is cancelled rather than
            // waited for: the new NTK makes their results stale.
            let job = Job::Ntk(super::job(&setup));
            page.compute
                .start_replacing(self.slot, job, Change::NewNtk);
        }

        /// The worker loaded another model: it no longer holds the NTK shown.
        pub fn forget_worker_ntk(self) {
            self.in_worker.set_value(false);
        }

        /// Whether an NTK is shown and the worker holds it (what the sweep and the study start
        /// from).
        fn in_worker(self) -> bool {
            self.slot.last.with_untracked(Option::is_some) && self.in_worker.get_value()
        }

        /// Starts the sweep or the study (`job`): at once when an NTK is in (in the worker
        /// too), otherwise after computing the setup's NTK and its eval kernel first. Errors:
        /// why the NTK cannot start.
        pub fn start_after(self, page: Page, which: AfterNtk, job: Job) -> Result<(), &'static str> {
            if self.in_worker() {
                start_now(page, which, job);
                return Ok(());
            }
            if let Some(reason) = self.not_ready(page) {
                return Err(reason);
            }
            if page.compute.device_busy() {
                return Ok(());
            }
            self.queued.set_value(Some(job));
            self.waiting.set(Some(which));
            self.start(page);
            Ok(())
        }

        /// Gives up the waiting analysis and cancels the NTK (or eval kernel) computed for it.
        pub fn cancel_waiting(self, page: Page) {
            self.forget_waiting();
            page.compute.cancel(self.slot);
            page.compute.cancel(page.analyses.eval_kernel.slot);
        }

        fn forget_waiting(self) {
            self.waiting.set(None);
            self.queued.set_value(None);
        }

        /// The NTK computed for the waiting analysis has ended: start it if the NTK is in (it
        /// failed or was cancelled otherwise, and its message is shown in the NTK's place).
        fn start_waiting(self, page: Page) {
            let which = self.waiting.get_untracked();
            let job = self.queued.try_update_value(Option::take).flatten();
            self.waiting.set(None);
            if let (Some(which), Some(job)) = (which, job) {
                if self.in_worker() {
                    start_now(page, which, job);
                }
            }
        }
    }

    fn start_now(page: Page, which: AfterNtk, job: Job) {
        match which {
            AfterNtk::Sweep => page.compute.start(page.analyses.sweep.slot, job),
            AfterNtk::Study => page.compute.start(page.analyses.study.slot, job),
        }
    }

    impl Registered for Ntk {
        fn spec(&self) -> &'static Spec {
            &super::SPEC
        }
        fn state(&self) -> RwSignal<JobState> {
            self.slot.state
        }
        fn receive(&self, page: Page, result: &JobResult) {
            let JobResult::Ntk(outcome) = result else {
                return;
            };
            self.in_worker.set_value(true);
            self.setup.set(self.started.get_value());
            self.blocks.set(NtkBlocks::from_data(&outcome.blocks).ok());
            self.slot.last.set(Some((**outcome).clone()));
            page.compute.changed(Change::NewNtk);
            // The eval predictions of the linearized model need the eval samples' kernels;
            // they follow the NTK as their own job, so the NTK is shown at once.
            let eval = page.analyses.eval_kernel.slot;
            page.compute.start(eval, Job::EvalKernel(EvalKernelJob {}));
        }
        fn clear(&self) {
            self.blocks.set(None);
            self.slot.last.set(None);
        }
        fn after_response(&self, page: Page) {
            if self.waiting.get_untracked().is_some() && !page.compute.device_busy() {
                self.start_waiting(page);
            }
        }
        fn worker_restarted(&self, _page: Page) {
            self.forget_waiting();
            self.in_worker.set_value(false);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_job_follows_the_setup_and_round_trips() {
        let mut s = Setup::default();
        s.samples.n = 12;
        let j = job(&s);
        assert_eq!(j.samples.choice, s.samples.choice());
        assert_eq!(j.lora.config.r, s.lora.r);
        let back: NtkJob = serde_json::from_str(&serde_json::to_string(&j).unwrap()).unwrap();
        assert_eq!(back, j);
    }
}
