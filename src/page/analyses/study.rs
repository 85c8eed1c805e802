//! The layer study: greedy block choices by condition number, each candidate trained, to see
//! whether κ at initialization predicts the training loss and accuracy. It starts from the NTK
//! (computing it first when there is none).

use ntk_lens_core::experiment::StudyConfig;
use ntk_lens_core::options::{StepRule, Strategy};
use ntk_lens_core::train::TrainConfig;

use super::CHUNK;
use crate::page::registry::{Change, ResultKind, Spec};
use crate::page::setup::Setup;
use crate::protocol::analysis::StudyJob;

/// The study; stale after a new NTK or adapter; reports its training loss.
pub const SPEC: Spec = Spec {
    stale_after: &[Change::NewNtk, Change::AdapterChanged],
    reports_loss: true,
    ..Spec::device("the layer study", ResultKind::Study)
};

/// The study the setup describes (greedy κ with `budget` blocks, trained), with the user's
/// chosen blocks. Without a learning rate each candidate gets its own step (the core takes it
/// from the plain kernel); with one, that step is shared by every candidate.
pub fn job(setup: &Setup, budget: usize) -> StudyJob {
    let lr = setup.training.given_lr();
    StudyJob {
        config: StudyConfig {
            budget,
            strategy: Strategy::GreedyKappa,
            kappa_lambda: 0.0,
            train: true,
            training: TrainConfig {
                lambda: setup.training.lambda,
                // Replaced per candidate by the core (step_rule, lr).
                lr: lr.unwrap_or(1e-3),
                steps: setup.training.steps,
                optimizer: setup.training.optimizer,
                loss: setup.training.loss,
                selective: setup.training.selective,
                train_head: false,
                chunk_size: CHUNK,
                ..TrainConfig::default()
            },
            step_rule: if lr.is_some() {
                StepRule::Shared
            } else {
                StepRule::PerSubset
            },
            lr,
            recipe: setup.training.recipe,
        },
        user: if setup.workspace.blocks.is_empty() {
            vec![]
        } else {
            vec![setup.workspace.blocks.clone()]
        },
    }
}

#[cfg(target_arch = "wasm32")]
pub use handle::Study;

#[cfg(target_arch = "wasm32")]
mod handle {
    use leptos::prelude::*;

    use super::super::ntk::AfterNtk;
    use crate::page::compute::JobSlot;
    use crate::page::Page;
    use crate::protocol::analysis::StudyOutcome;
    use crate::protocol::Job;

    /// The study's slot.
    #[derive(Clone, Copy)]
    pub struct Study {
        /// The study and its last outcome.
        pub slot: JobSlot<StudyOutcome>,
    }

    impl Default for Study {
        fn default() -> Self {
            Study {
                slot: JobSlot::new(),
            }
        }
    }

    impl Study {

        /// Starts the setup's study with `budget` blocks, after computing the NTK when the
        /// worker holds none. Errors: why the NTK cannot start.
        pub fn start(self, page: Page, budget: usize) -> Result<(), &'static str> {
            let job = Job::Study(super::job(&page.setup.get_untracked(), budget));
            page.analyses.ntk.start_after(page, AfterNtk::Study, job)
        }
    }

    super::super::slot_only_registered!(Study, Study, boxed);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_job_follows_the_setup_and_its_step_rule() {
        let mut s = Setup::default();
        s.training.learning_rate = 0.0;
        s.workspace.blocks = vec!["block.0.query".into()];
        let st = job(&s, 2);
        assert_eq!(st.user, vec![vec!["block.0.query".to_string()]]);
        assert_eq!(st.config.step_rule, StepRule::PerSubset);
        assert_eq!(st.config.lr, None);
        s.training.learning_rate = 0.02;
        let given = job(&s, 2);
        assert_eq!(given.config.step_rule, StepRule::Shared);
        assert_eq!(given.config.lr, Some(0.02));
    }
}
