//! The jobs the page's setup describes (pure: unit-tested natively).

use ntk_lens_core::experiment::{LoraSetup, StudyConfig, SweepConfig};
use ntk_lens_core::ntk::NtkOptions;
use ntk_lens_core::options::{StepRule, Strategy};
use ntk_lens_core::train::TrainConfig;

use super::setup::Setup;
use crate::protocol::analysis::{NtkJob, SampleJob, StudyJob, SweepJob};

/// Maximum eval samples the page scores (from the dataset's eval split, in file order).
pub const EVAL_SAMPLES: usize = 64;

/// Samples per pass of the page's NTK and training (of each λ trained side by side). Measured in
/// one wasm thread (docs/performance.md): the default sweep took 97 s with 32, 66 s with 16,
/// 47 s with 8 and 45 s with 4; the NTK of 64 samples 9.3 s, 8.0 s, 6.5 s and 7.5 s. Small
/// passes pad less (samples are sorted by length) and stay in cache.
const CHUNK: usize = 8;

/// The NTK job the setup describes.
pub fn ntk_job(setup: &Setup) -> NtkJob {
    NtkJob {
        samples: SampleJob {
            choice: setup.sample_choice(),
            eval_fraction: setup.eval_fraction,
            split_seed: setup.split_seed,
            eval_n: EVAL_SAMPLES,
        },
        lora: LoraSetup {
            config: setup.lora_config(),
            seed: setup.lora_seed,
        },
        options: NtkOptions {
            params: setup.params,
            kernel: setup.kernel,
            chunk_size: CHUNK,
            blocks: None,
        },
        layout: setup.layout,
    }
}

/// The sweep the setup describes (all λ side by side). A learning rate ≤ 0 means the default
/// step.
pub fn sweep_job(setup: &Setup) -> SweepJob {
    SweepJob {
        config: SweepConfig {
            lambdas: setup.lambdas.clone(),
            steps: setup.steps,
            optimizer: setup.optimizer,
            loss: setup.loss,
            selective: setup.selective,
            lr: (setup.learning_rate > 0.0).then_some(setup.learning_rate),
            step_rule: setup.step_rule,
            chunk_size: CHUNK,
            lambda_batch: None,
        },
    }
}

/// The study the setup describes (greedy κ with `budget` blocks, trained), with the user's
/// chosen blocks. Without a learning rate each candidate gets its own step (the core takes it
/// from the plain kernel); with one, that step is shared by every candidate.
pub fn study_job(setup: &Setup, budget: usize) -> StudyJob {
    let lr = (setup.learning_rate > 0.0).then_some(setup.learning_rate);
    StudyJob {
        config: StudyConfig {
            budget,
            strategy: Strategy::GreedyKappa,
            kappa_lambda: 0.0,
            train: true,
            training: TrainConfig {
                lambda: setup.lambda,
                // Replaced per candidate by the core (step_rule, lr).
                lr: lr.unwrap_or(1e-3),
                steps: setup.steps,
                optimizer: setup.optimizer,
                loss: setup.loss,
                selective: setup.selective,
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
            recipe: setup.recipe,
        },
        user: if setup.blocks.is_empty() {
            vec![]
        } else {
            vec![setup.blocks.clone()]
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_follow_the_setup_and_round_trip() {
        let s = Setup {
            n: 12,
            learning_rate: 0.0,
            blocks: vec!["block.0.query".into()],
            ..Setup::default()
        };
        let j = ntk_job(&s);
        assert_eq!(j.samples.choice, s.sample_choice());
        assert_eq!(j.lora.config.r, s.lora_r);
        let back: NtkJob = serde_json::from_str(&serde_json::to_string(&j).unwrap()).unwrap();
        assert_eq!(back, j);
        let sw = sweep_job(&s);
        assert_eq!(sw.config.lambdas, s.lambdas);
        assert_eq!(sw.config.lr, None, "lr 0 means the default step");
        let st = study_job(&s, 2);
        assert_eq!(st.user, vec![vec!["block.0.query".to_string()]]);
        assert_eq!(st.config.step_rule, StepRule::PerSubset);
        assert_eq!(st.config.lr, None);
        let given = study_job(
            &Setup {
                learning_rate: 0.02,
                ..s
            },
            2,
        );
        assert_eq!(given.config.step_rule, StepRule::Shared);
        assert_eq!(given.config.lr, Some(0.02));
    }
}
