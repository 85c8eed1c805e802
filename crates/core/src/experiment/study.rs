//! Layer selection from the NTK at initialisation, and whether κ at initialisation predicts the
//! outcome of fine-tuning (the paper's central claim), on the user's data.
//!
//! Candidates (block subsets) are scored from the kernel alone (sums of cached blocks); then each
//! candidate is actually fine-tuned with LoRA on its blocks only (the other adapters folded into
//! the frozen weights, so a loaded adapter with `B ≠ 0` keeps its effect), and κ(K_S + λI) (λ the
//! κ shift `kappa_lambda`) is correlated with the train loss (the final one, or the best epoch's
//! under [`Recipe::Paper`]: see [`StudyReport::train_loss_label`]) and eval accuracy.
//!
//! Eigenvalues of the kernel are written μ in every text a learner reads; λ is the proximal
//! penalty of the training or the κ shift. (The JSON fields `lambda_min` and `lambda_max` of a
//! [`Candidate`] keep their names.)

use serde::{Deserialize, Serialize};

use super::correlation::{correlate, Correlation};
use super::needs::{needs, NtkUse};
use super::prepare::Samples;
use crate::data::Task;
use crate::lora::LoraSite;
use crate::model::Model;
use crate::ntk::NtkBlocks;
use crate::options::{Recipe, PAPER_BATCH, PAPER_EPOCHS, PAPER_LR, PAPER_WARMUP};
use crate::spectrum::{BlockSet, Conditioning, Objective, Selection, SpectrumOptions};
use crate::steps::{self, Stepwise};
use crate::train::trainer::logits_of;
use crate::train::{
    default_gd_lr, LossKind, OptimizerKind, Quality, Schedule, StepRecord, TrainConfig, Trainer,
};
use crate::CoreError;

pub use crate::options::{StepRule, Strategy};

/// A block subset, its spectral score and (after training) its outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    /// Why it is a candidate: `single`, `greedy-<k>`, `selected`, `all`, `user`.
    pub label: String,
    /// The blocks.
    pub blocks: Vec<String>,
    /// Number of LoRA parameters.
    pub params: usize,
    /// `κ(K_S + λI)`; a lower bound when `kappa_lower_bound` (beyond what the `f32` kernel
    /// resolves); `None` only for a zero kernel.
    pub kappa: Option<f64>,
    /// True when `kappa` is the lower bound `(1 − τ)·μ_max/(μ_min + τ·μ_max)` of a numerically
    /// singular `K_S + λI` (the kernel's round-off, `τ·μ_max`, hides its smallest eigenvalue).
    #[serde(default)]
    pub kappa_lower_bound: bool,
    /// The gradient step this candidate is (or would be) trained with (see
    /// [`StudyConfig::step_rule`]).
    #[serde(default)]
    pub lr: Option<f64>,
    /// `μ_min(K_S + λI) = μ_min(K_S) + λ`, the smallest eigenvalue (λ the κ shift).
    pub lambda_min: f64,
    /// `μ_max(K_S + λI) = μ_max(K_S) + λ`, the largest eigenvalue.
    pub lambda_max: f64,
    /// Train data loss after fine-tuning (None until trained): the final one, or under
    /// [`Recipe::Paper`] the best epoch's (see [`Candidate::best_epoch`]).
    pub train_loss: Option<f64>,
    /// Final train accuracy (None for regression).
    pub train_acc: Option<f64>,
    /// Final eval accuracy (None without eval samples, or for regression).
    pub eval_acc: Option<f64>,
    /// Final train quality: accuracy and MCC, or Pearson and Spearman for regression.
    #[serde(default)]
    pub train_quality: Option<Quality>,
    /// Final eval quality (None without eval samples).
    #[serde(default)]
    pub eval_quality: Option<Quality>,
    /// The epoch (1-based) whose model counts, under the paper's recipe: the one with the
    /// lowest eval loss (train loss without eval samples).
    #[serde(default)]
    pub best_epoch: Option<usize>,
}

/// Settings of a selection study.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StudyConfig {
    /// Number of blocks to select.
    pub budget: usize,
    /// How to select.
    pub strategy: Strategy,
    /// The shift of the condition number `κ(K_S + λI)` (0: the NTK itself).
    pub kappa_lambda: f64,
    /// Fine-tune every candidate (else only score them).
    pub train: bool,
    /// The fine-tuning of each candidate (its `train_head` is ignored: LoRA only; its `lr` is
    /// replaced per candidate as `step_rule` and `lr` say).
    pub training: TrainConfig,
    /// Gradient descent: one step per candidate normalised by its own kernel (the default), or
    /// one shared step. Adam always uses one step (`lr`, else 1e-3).
    #[serde(default)]
    pub step_rule: StepRule,
    /// The shared step, when the person gave one (only with [`StepRule::Shared`] or Adam);
    /// `None`: `0.05/(μ_max(K_all) + λ)` from the plain kernel of all blocks (GD), 1e-3 (Adam).
    #[serde(default)]
    pub lr: Option<f64>,
    /// The theory's full-batch training, or the paper's recipe (which replaces the optimizer,
    /// batches, steps, schedule, loss and step rule of `training`: see
    /// [`StudyConfig::with_recipe`]).
    #[serde(default)]
    pub recipe: Recipe,
}

impl StudyConfig {
    /// This configuration with its recipe applied for `n` train samples of `task`: the paper's
    /// recipe trains with Adam at the given rate (else [`PAPER_LR`]), minibatches of
    /// [`PAPER_BATCH`] for [`PAPER_EPOCHS`] epochs under a linear schedule with
    /// [`PAPER_WARMUP`] warm-up, cross-entropy for classes (squared loss for scores), and the
    /// head; the theory's keeps `training` and trains LoRA alone.
    pub fn with_recipe(mut self, n: usize, task: Task) -> StudyConfig {
        match self.recipe {
            Recipe::Theory => self.training.train_head = false,
            Recipe::Paper => {
                let t = &mut self.training;
                t.optimizer = OptimizerKind::Adam;
                t.batch_size = Some(PAPER_BATCH);
                t.schedule = Schedule::LinearWarmupDecay {
                    warmup: PAPER_WARMUP,
                };
                t.steps = PAPER_EPOCHS * n.div_ceil(PAPER_BATCH).max(1);
                t.loss = match task {
                    Task::Classification => LossKind::Ce,
                    Task::Regression => LossKind::Mse,
                };
                t.train_head = true;
                self.lr = Some(self.lr.unwrap_or(PAPER_LR));
                self.step_rule = StepRule::Shared;
            }
        }
        self
    }

    /// The condition number this study scores, with its shift written out: `κ(K_S)` for
    /// `kappa_lambda = 0`, else e.g. `κ(K_S + 0.01·I)`.
    pub fn kappa_symbol(&self) -> String {
        format!("κ({})", shifted_kernel(self.kappa_lambda))
    }

    /// What the report and the chart say of the steps.
    ///
    /// The pace it names is that of gradient descent on the linearized model with the squared
    /// loss and the training penalty `λ` (`training.lambda`), from the start: the error to its
    /// optimum along eigen-direction `i` of `K_S` shrinks by `1 − η(μ_i(K_S) + λ)` per step
    /// ([`crate::linear`]). With a step per candidate, `η_S = 0.05/(μ_max(K_S) + λ)`, the
    /// slowest direction's factor is `1 − 0.05/κ(K_S + λI)`: κ at the *training* λ, which is the
    /// κ the study scores only when `kappa_lambda` equals it.
    pub fn step_description(&self) -> String {
        let train_lambda = self.training.lambda;
        if self.recipe == Recipe::Paper {
            let lr = self.lr.unwrap_or(PAPER_LR);
            let mut unlike = Vec::new();
            if train_lambda > 0.0 {
                unlike.push(format!(
                    "it keeps the proximal penalty λ = {train_lambda}{} (the code has none)",
                    if self.training.selective {
                        " behind the selective gate"
                    } else {
                        ""
                    }
                ));
            }
            unlike.push("it has no LoRA dropout (the code: 0.1)".to_string());
            unlike.push(format!(
                "it takes batches of {PAPER_BATCH}, not 64 (the code: 16 × 4 accumulated)"
            ));
            if lr != PAPER_LR {
                unlike.push(format!("its rate is {lr:e} (the code: {PAPER_LR:e})"));
            }
            return format!(
                "a recipe after the paper's official code: Adam at {lr:e}, batches of \
                 {PAPER_BATCH}, {} steps ({PAPER_EPOCHS} epochs), linear schedule with {:.0} % \
                 warm-up, {} loss, head trained, the epoch with the lowest eval loss (the lowest \
                 train loss without eval samples). Unlike that code, {}",
                self.training.steps,
                100.0 * PAPER_WARMUP,
                self.training.loss,
                unlike.join("; ")
            );
        }
        let gate = if self.training.selective {
            " while the penalty is on (the selective gate can switch it off)"
        } else {
            ""
        };
        match (self.training.optimizer, self.step_rule, self.lr) {
            (OptimizerKind::Adam, _, lr) => {
                format!(
                    "Adam with one step for every candidate ({:e})",
                    lr.unwrap_or(1e-3)
                )
            }
            (OptimizerKind::Gd, StepRule::PerSubset, _) => {
                let paced = format!("κ({})", shifted_kernel(train_lambda));
                let shown = if self.kappa_lambda == train_lambda {
                    "the κ shown".to_string()
                } else {
                    format!("not the {} shown", self.kappa_symbol())
                };
                format!(
                    "GD with a step per candidate, η_S = 0.05/(μ_max(K_S) + λ), λ = {train_lambda} \
                     the training penalty: on the linearized model with the squared loss, the error \
                     along K_S's slowest eigen-direction shrinks by the factor 1 − η_S(μ_min(K_S) + \
                     λ) = 1 − 0.05/{paced} per step{}, so {paced}, {shown}, sets that pace",
                    gate
                )
            }
            (OptimizerKind::Gd, StepRule::Shared, Some(lr)) => {
                format!("GD with one given step for every candidate ({lr:e})")
            }
            (OptimizerKind::Gd, StepRule::Shared, None) => format!(
                "GD with one step for every candidate, η = 0.05/(μ_max(K_all) + λ), λ = \
                 {train_lambda} the training penalty: on the linearized model with the squared \
                 loss, the error along a candidate's slowest eigen-direction shrinks by \
                 1 − η(μ_min(K_S) + λ) per step{}, so candidates with a larger smallest \
                 eigenvalue μ_min(K_S) converge faster there, whatever their κ",
                gate
            ),
        }
    }
}

/// `K_S`, or `K_S + l·I` for a shift `l ≠ 0` (e.g. `K_S + 0.01·I`).
fn shifted_kernel(l: f64) -> String {
    if l == 0.0 {
        "K_S".into()
    } else if (1e-3..1e4).contains(&l.abs()) {
        format!("K_S + {l}·I")
    } else {
        format!("K_S + {l:e}·I")
    }
}

/// `κ` of a conditioning, or its lower bound when the kernel's round-off (`τ·μ_max`) hides the
/// smallest eigenvalue: the true `μ_min` is at most `smallest + τ·largest` and the true `μ_max`
/// at least `(1 − τ)·largest`.
fn kappa_or_bound(c: &Conditioning, tol: f64) -> (Option<f64>, bool) {
    match c.kappa {
        Some(k) => (Some(k), false),
        None if c.largest > 0.0 => (
            Some((1.0 - tol) * c.largest / (c.smallest.max(0.0) + tol * c.largest)),
            true,
        ),
        None => (None, false),
    }
}

/// The study's result (serde).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StudyReport {
    /// The model studied, as whoever ran the study names it (the CLI: the model directory's
    /// name; the page: the loaded model's name); empty when not given. Pooling compares it.
    #[serde(default)]
    pub model: String,
    /// The settings.
    pub config: StudyConfig,
    /// The selected blocks.
    pub selected: Vec<String>,
    /// The greedy path, for greedy strategies.
    pub greedy: Option<Selection>,
    /// Every candidate, scored (and trained when configured).
    pub candidates: Vec<Candidate>,
    /// log10 κ against the candidates' train loss (see [`StudyReport::train_loss_label`]).
    pub kappa_vs_loss: Correlation,
    /// log10 κ against eval accuracy (against eval Pearson's r for regression: see `task`).
    pub kappa_vs_accuracy: Correlation,
    /// The task: classification (accuracy) or regression (Pearson's r as the eval metric).
    #[serde(default)]
    pub task: Task,
    /// Plain-language notes (e.g. a weak correlation).
    pub notes: Vec<String>,
    /// How the candidates' steps were chosen, in words (also on the page's chart).
    #[serde(default)]
    pub steps: String,
}

/// The labels of the train loss that [`Candidate::train_loss`] holds: the final one, or under
/// [`Recipe::Paper`] the best epoch's, chosen by eval loss (by train loss without eval samples).
const FINAL_LOSS: &str = "final train loss";
const BEST_BY_EVAL: &str = "train loss at the best epoch (by eval loss)";
const BEST_BY_TRAIN: &str = "train loss at the best epoch (by train loss)";

impl StudyReport {
    /// What its candidates' `train_loss` is, for a chart axis or a sentence: `final train loss`;
    /// under [`Recipe::Paper`], `train loss at the best epoch (by eval loss)`, or `(by train
    /// loss)` when the study had no eval samples (no candidate has an eval quality).
    pub fn train_loss_label(&self) -> &'static str {
        loss_label(
            self.config.recipe,
            self.candidates.iter().any(|c| c.eval_quality.is_some()),
        )
    }
}

/// The label of the train loss a study of `recipe` reports, with or without eval samples.
fn loss_label(recipe: Recipe, has_eval: bool) -> &'static str {
    match (recipe, has_eval) {
        (Recipe::Theory, _) => FINAL_LOSS,
        (Recipe::Paper, true) => BEST_BY_EVAL,
        (Recipe::Paper, false) => BEST_BY_TRAIN,
    }
}

/// [`StudyReport::train_loss_label`] of pooled studies: theirs when they agree, else a label
/// that covers each (studies of one recipe, some with eval samples and some without).
pub fn pooled_train_loss_label<'a>(reports: impl IntoIterator<Item = &'a StudyReport>) -> String {
    let mut labels: Vec<&str> = reports.into_iter().map(|r| r.train_loss_label()).collect();
    labels.dedup();
    match labels.as_slice() {
        [] => FINAL_LOSS.into(),
        [one] => (*one).into(),
        many if !many.contains(&FINAL_LOSS) => {
            "train loss at the best epoch (by eval loss, or by train loss without eval samples)"
                .into()
        }
        _ => "train loss (the final one, or the best epoch's, as each study's recipe says)".into(),
    }
}

/// The outcome κ is correlated with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The train loss ([`StudyReport::train_loss_label`]: the final one, or the best epoch's).
    Loss,
    /// The eval headline measure: accuracy, or Pearson's r for regression.
    Eval,
}

impl Outcome {
    /// The candidate's value of this outcome, if it has one.
    pub fn of(self, c: &Candidate) -> Option<f64> {
        match self {
            Outcome::Loss => c.train_loss,
            Outcome::Eval => c.eval_quality.as_ref().and_then(Quality::headline),
        }
    }
}

/// log10 κ against the final train loss and against the eval headline measure (accuracy, or
/// Pearson's r for regression), over the candidates that have both.
pub fn kappa_correlations<'a>(
    candidates: impl Iterator<Item = &'a Candidate>,
) -> (Correlation, Correlation) {
    let (mut log_kappa, mut loss, mut eval) = (Vec::new(), Vec::new(), Vec::new());
    for c in candidates {
        log_kappa.push(c.kappa.map(f64::log10));
        loss.push(Outcome::Loss.of(c));
        eval.push(Outcome::Eval.of(c));
    }
    (correlate(&log_kappa, &loss), correlate(&log_kappa, &eval))
}

/// The epoch of a candidate's training with the lowest selection loss, and its logits.
struct BestEpoch {
    loss: f64,
    /// 1-based.
    epoch: usize,
    train: Vec<f64>,
    eval: Vec<f64>,
}

/// The selection study, one training step per [`Study::step`].
///
/// The block of smallest `κ(K_S)` among the 4 LoRA blocks of a tiny seeded model, from the NTK
/// at θ0 (scored only; `train: true` would also fine-tune every candidate):
///
/// ```
/// use ntk_lens_core::block_on;
/// use ntk_lens_core::device::cpu_device;
/// use ntk_lens_core::experiment::{needs, NtkUse, Samples, Study, StudyConfig};
/// use ntk_lens_core::model::Family;
/// use ntk_lens_core::ntk::{NtkBuilder, ParamSet};
/// use ntk_lens_core::options::{Recipe, StepRule, Strategy};
/// use ntk_lens_core::steps::Stepwise;
/// use ntk_lens_core::test_model::{tiny_lora_model_on, token_samples};
/// use ntk_lens_core::train::TrainConfig;
///
/// let model = tiny_lora_model_on(Family::Bert, 7, Some(11), &cpu_device())?;
/// let train = Samples {
///     rows: vec![0, 1, 2, 3],
///     encoded: token_samples(&[4, 6, 5, 8], (7, 13)),
///     labels: vec![0, 1, 0, 1],
///     scores: None,
/// };
/// let eval = Samples { rows: vec![], encoded: vec![], labels: vec![], scores: None };
/// let options = needs(NtkUse::Study, ParamSet::Lora).options();
/// let ntk = block_on(NtkBuilder::new(&model, &train.encoded, &[], options)?.run())?;
/// let config = StudyConfig {
///     budget: 1,
///     strategy: Strategy::GreedyKappa,
///     kappa_lambda: 1e-3,
///     train: false,
///     training: TrainConfig::default(),
///     step_rule: StepRule::PerSubset,
///     lr: None,
///     recipe: Recipe::Theory,
/// };
/// let report = block_on(Study::new(&model, train, eval, &ntk, config, &[])?.run())?;
/// for c in &report.candidates {
///     println!("{}: κ(K_S + λI) = {:?}", c.label, c.kappa);
/// }
/// println!("selected: {:?}", report.selected);
/// assert_eq!(report.selected.len(), 1);
/// # Ok::<(), ntk_lens_core::CoreError>(())
/// ```
pub struct Study {
    model: Model,
    /// The best epoch so far of the candidate being trained (the paper's recipe).
    best: Option<BestEpoch>,
    /// The model's outputs `C`.
    classes: usize,
    train: Samples,
    eval: Samples,
    config: StudyConfig,
    selected: Vec<String>,
    greedy: Option<Selection>,
    candidates: Vec<Candidate>,
    index: usize,
    trainer: Option<Trainer>,
    last_loss: Option<f64>,
}

fn sites_of(blocks: &[String]) -> Result<Vec<LoraSite>, CoreError> {
    blocks
        .iter()
        .map(|b| {
            LoraSite::from_block_name(b).ok_or_else(|| {
                CoreError::invalid(
                    "blocks",
                    format!("`{b}` is not a LoRA block (block.<layer>.<module>)"),
                )
            })
        })
        .collect()
}

impl Study {
    /// Scores the candidates of `config` from `ntk` (plain NTK blocks of `model`'s LoRA over
    /// `train`, as [`needs`] with [`NtkUse::Study`] says, else [`CoreError::NtkNeeds`]; the
    /// head's block, if any, is never a candidate); `user` adds user-chosen subsets.
    pub fn new(
        model: &Model,
        train: Samples,
        eval: Samples,
        ntk: &NtkBlocks,
        config: StudyConfig,
        user: &[Vec<String>],
    ) -> Result<Study, CoreError> {
        needs(NtkUse::Study, ntk.params).check(ntk)?;
        let task = train.task();
        let config = config.with_recipe(train.len(), task);
        if config.step_rule == StepRule::PerSubset
            && config.training.optimizer == OptimizerKind::Gd
            && config.lr.is_some()
        {
            return Err(CoreError::invalid(
                "lr",
                "a given learning rate is one step for every candidate; choose the step rule \
                 `shared`, or leave the rate out for a step per candidate",
            ));
        }
        let names: Vec<String> = ntk
            .train
            .names()
            .iter()
            .filter(|n| *n != "head")
            .cloned()
            .collect();
        let mut lora_blocks = BlockSet::new();
        for n in &names {
            if let Some(k) = ntk.train.get(n) {
                lora_blocks.insert(n.clone(), k.clone())?;
            }
        }
        let blocks = &lora_blocks;
        if config.budget == 0 || config.budget > names.len() {
            return Err(CoreError::invalid(
                "budget",
                format!("expected 1..={} blocks, got {}", names.len(), config.budget),
            ));
        }
        let opts = SpectrumOptions::for_f32(ntk.n * ntk.classes);
        let tol = opts.resolved_tol(ntk.n * ntk.classes);
        let lambda = config.kappa_lambda;
        let train_lambda = config.training.lambda;
        let shared_lr = match (config.training.optimizer, config.lr) {
            (_, Some(lr)) => lr,
            (OptimizerKind::Adam, None) => 1e-3,
            (OptimizerKind::Gd, None) => {
                default_gd_lr(blocks.total()?.spectrum(&opts)?.max, train_lambda)
            }
        };
        let mut greedy = None;
        let selected: Vec<String> = match config.strategy {
            Strategy::GreedyKappa | Strategy::GreedyLmin => {
                let objective = if config.strategy == Strategy::GreedyKappa {
                    Objective::MinKappa
                } else {
                    Objective::MaxLambdaMin
                };
                let sel = blocks.greedy(config.budget, objective, lambda, &opts)?;
                let chosen = sel.chosen().iter().map(|s| s.to_string()).collect();
                greedy = Some(sel);
                chosen
            }
            Strategy::Trace => blocks
                .top_by_trace(config.budget)?
                .into_iter()
                .map(|(n, _)| n)
                .collect(),
            Strategy::AllSingles => {
                let mut singles = blocks.singles(lambda, &opts)?;
                singles.sort_by(|a, b| {
                    b.key(Objective::MinKappa)
                        .total_cmp(&a.key(Objective::MinKappa))
                });
                singles
                    .into_iter()
                    .take(config.budget)
                    .flat_map(|s| s.blocks)
                    .collect()
            }
        };
        let mut sets: Vec<(String, Vec<String>)> = names
            .iter()
            .map(|n| ("single".to_string(), vec![n.clone()]))
            .collect();
        if let Some(g) = &greedy {
            for k in 2..=g.steps.len() {
                let prefix = g.steps[..k].iter().map(|s| s.chosen.clone()).collect();
                sets.push((format!("greedy-{k}"), prefix));
            }
        }
        sets.push(("selected".into(), selected.clone()));
        sets.push(("all".into(), names.clone()));
        for u in user {
            sets.push(("user".into(), u.clone()));
        }
        let mut candidates: Vec<Candidate> = Vec::new();
        for (label, set) in sets {
            let mut sorted = set.clone();
            sorted.sort();
            if candidates.iter().any(|c| {
                let mut b = c.blocks.clone();
                b.sort();
                b == sorted
            }) {
                continue;
            }
            sites_of(&set)?;
            let score = blocks.score(&set, lambda, &opts)?;
            let (kappa, kappa_lower_bound) = kappa_or_bound(&score.conditioning, tol);
            let lr = match (config.training.optimizer, config.step_rule) {
                (OptimizerKind::Gd, StepRule::PerSubset) => {
                    default_gd_lr(score.lambda_max - lambda, train_lambda)
                }
                _ => shared_lr,
            };
            let params = set
                .iter()
                .filter_map(|b| blocks.index_of(b).map(|i| ntk.param_counts[i]))
                .sum();
            candidates.push(Candidate {
                label,
                blocks: set,
                params,
                kappa,
                kappa_lower_bound,
                lr: Some(lr),
                lambda_min: score.lambda_min,
                lambda_max: score.lambda_max,
                train_loss: None,
                train_acc: None,
                eval_acc: None,
                train_quality: None,
                eval_quality: None,
                best_epoch: None,
            });
        }
        if config.train {
            for c in &candidates {
                TrainConfig {
                    lr: c.lr.unwrap_or(shared_lr),
                    ..config.training
                }
                .validate()?;
            }
        }
        if config.train {
            train
                .targets(ntk.classes)
                .check(train.len(), ntk.classes, config.training.loss)?;
        }
        Ok(Study {
            model: model.clone(),
            best: None,
            classes: ntk.classes,
            train,
            eval,
            index: if config.train { 0 } else { candidates.len() },
            config,
            selected,
            greedy,
            candidates,
            trainer: None,
            last_loss: None,
        })
    }

    /// The scored candidates (trained ones carry their outcome).
    pub fn candidates(&self) -> &[Candidate] {
        &self.candidates
    }

    /// The candidate being trained.
    pub fn current(&self) -> Option<&Candidate> {
        self.candidates.get(self.index)
    }

    /// One training step of the current candidate.
    async fn step(&mut self) -> Result<Option<StepRecord>, CoreError> {
        let Some(cand) = self.candidates.get(self.index) else {
            return Ok(None);
        };
        if self.trainer.is_none() {
            let mut m = self.model.clone();
            m.freeze_lora_outside(&sites_of(&cand.blocks)?)?;
            let cfg = TrainConfig {
                lr: cand.lr.unwrap_or(self.config.training.lr),
                ..self.config.training
            };
            self.trainer = Some(Trainer::new(
                &m,
                &self.train.encoded,
                &self.train.targets(self.classes),
                cfg,
            )?);
        }
        let trainer = self
            .trainer
            .as_mut()
            .ok_or_else(|| CoreError::invalid("study", "no trainer"))?;
        let record = trainer.step().await?;
        let (steps_done, per_epoch) = (trainer.steps_done(), trainer.steps_per_epoch());
        let done = trainer.is_done();
        if self.config.recipe == Recipe::Paper && steps_done % per_epoch == 0 {
            let model = trainer.model()?;
            let (tr, ev) = self.logits(&model).await?;
            // The eval loss picks the epoch (the train loss without eval samples).
            let loss = if self.eval.is_empty() {
                self.train
                    .targets(self.classes)
                    .loss(self.config.training.loss, &tr)
            } else {
                self.eval
                    .targets(self.classes)
                    .loss(self.config.training.loss, &ev)
            };
            if self.best.as_ref().is_none_or(|b| loss < b.loss) {
                self.best = Some(BestEpoch {
                    loss,
                    epoch: steps_done / per_epoch,
                    train: tr,
                    eval: ev,
                });
            }
        }
        if done {
            if let Some(t) = self.trainer.take() {
                let classes = self.classes;
                let (tr, ev, best_epoch) = match self.best.take() {
                    Some(b) => (b.train, b.eval, Some(b.epoch)),
                    None => {
                        let (tr, ev) = self.logits(&t.model()?).await?;
                        (tr, ev, None)
                    }
                };
                let targets = self.train.targets(classes);
                let train_quality = targets.quality(&tr);
                let eval_quality =
                    (!self.eval.is_empty()).then(|| self.eval.targets(classes).quality(&ev));
                let cand = &mut self.candidates[self.index];
                cand.train_loss = Some(targets.loss(self.config.training.loss, &tr));
                cand.train_acc = train_quality.accuracy;
                cand.eval_acc = eval_quality.as_ref().and_then(|q| q.accuracy);
                cand.train_quality = Some(train_quality);
                cand.eval_quality = eval_quality;
                cand.best_epoch = best_epoch;
            }
            self.index += 1;
        }
        Ok(Some(record))
    }

    /// The train and eval logits of `model`.
    async fn logits(&self, model: &Model) -> Result<(Vec<f64>, Vec<f64>), CoreError> {
        let chunk = self.config.training.chunk_size;
        let tr = logits_of(model, &self.train.encoded, chunk).await?;
        let ev = logits_of(model, &self.eval.encoded, chunk).await?;
        Ok((tr, ev))
    }

    /// The report with the correlations over the trained candidates.
    fn report(self) -> StudyReport {
        let (kappa_vs_loss, kappa_vs_accuracy) = kappa_correlations(self.candidates.iter());
        let mut notes = Vec::new();
        let bounded = self
            .candidates
            .iter()
            .filter(|c| c.kappa_lower_bound)
            .count();
        if bounded > 0 {
            notes.push(format!(
                "{bounded} candidate(s) have a kernel {} whose smallest eigenvalue μ_min is below \
                 the f32 kernel's round-off: their κ is a lower bound (marked ≥), and it enters \
                 the correlations at that bound; a κ shift well above that round-off (the CLI's \
                 --kappa-lambda) resolves it.",
                shifted_kernel(self.config.kappa_lambda)
            ));
        }
        if self.candidates.iter().any(|c| c.kappa.is_none()) {
            notes.push("A candidate with a zero kernel has no κ and is left out.".into());
        }
        if self.config.train {
            notes.push(format!("Steps: {}.", self.config.step_description()));
        }
        let loss_label = loss_label(self.config.recipe, !self.eval.is_empty());
        for (what, c) in [
            (loss_label, &kappa_vs_loss),
            (
                match self.train.task() {
                    Task::Classification => "eval accuracy",
                    Task::Regression => "eval Pearson r",
                },
                &kappa_vs_accuracy,
            ),
        ] {
            match c.spearman {
                None if self.config.train => notes.push(format!(
                    "log10 κ vs {what}: too few pairs ({}) or a constant outcome; no correlation.",
                    c.n
                )),
                Some(r) if r.abs() < 0.3 => notes.push(format!(
                    "log10 κ vs {what}: weak correlation on this data (Spearman {r:.2}, n = {}).",
                    c.n
                )),
                Some(r) if c.n < 8 => notes.push(format!(
                    "log10 κ vs {what}: Spearman {r:.2} rests on only {} configurations.",
                    c.n
                )),
                _ => {}
            }
        }
        StudyReport {
            model: String::new(),
            task: self.train.task(),
            steps: self.config.step_description(),
            config: self.config,
            selected: self.selected,
            greedy: self.greedy,
            candidates: self.candidates,
            kappa_vs_loss,
            kappa_vs_accuracy,
            notes,
        }
    }
}

impl Stepwise for Study {
    type Output = StudyReport;

    /// Training steps in all (0 without training).
    fn total_steps(&self) -> usize {
        if self.config.train {
            self.candidates.len() * self.config.training.steps
        } else {
            0
        }
    }

    fn steps_done(&self) -> usize {
        if !self.config.train {
            return 0;
        }
        self.index.min(self.candidates.len()) * self.config.training.steps
            + self.trainer.as_ref().map_or(0, Trainer::steps_done)
    }

    /// Whether every candidate is trained (or training is off).
    fn is_done(&self) -> bool {
        self.index >= self.candidates.len()
    }

    fn describe(&self) -> String {
        self.current()
            .map(|c| format!("fine-tuning {}", c.blocks.join(" + ")))
            .unwrap_or_default()
    }

    async fn advance(&mut self) -> Result<(), CoreError> {
        self.last_loss = self.step().await?.map(|r| r.loss);
        Ok(())
    }

    async fn loss(&self) -> Option<f64> {
        self.last_loss
    }

    /// The report with the correlations over the trained candidates.
    async fn finish(self) -> Result<StudyReport, CoreError> {
        if !self.is_done() {
            return Err(steps::unfinished(
                "study",
                self.steps_done(),
                self.total_steps(),
            ));
        }
        Ok(self.report())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::linear::KernelRidge;
    use crate::spectrum::{Kernel, Layout};
    use crate::test_rng::SplitMix64;
    use crate::train::Quality;

    /// The page's study: κ of K_S without a shift, GD with a step per candidate at the
    /// training λ = 10⁻², 8 steps, the theory recipe.
    fn page_config() -> StudyConfig {
        StudyConfig {
            budget: 2,
            strategy: Strategy::GreedyKappa,
            kappa_lambda: 0.0,
            train: true,
            training: TrainConfig {
                lambda: 0.01,
                steps: 8,
                ..TrainConfig::default()
            },
            step_rule: StepRule::PerSubset,
            lr: None,
            recipe: Recipe::Theory,
        }
    }

    fn report(recipe: Recipe, eval: bool) -> StudyReport {
        let quality = Quality {
            accuracy: Some(0.5),
            ..Quality::default()
        };
        StudyReport {
            model: String::new(),
            config: StudyConfig {
                recipe,
                ..page_config()
            },
            selected: vec![],
            greedy: None,
            candidates: vec![Candidate {
                label: "all".into(),
                blocks: vec!["block.0.query".into()],
                params: 1,
                kappa: Some(10.0),
                kappa_lower_bound: false,
                lr: None,
                lambda_min: 0.1,
                lambda_max: 1.0,
                train_loss: Some(1.0),
                train_acc: None,
                eval_acc: None,
                train_quality: None,
                eval_quality: eval.then(|| quality.clone()),
                best_epoch: (recipe == Recipe::Paper).then_some(3),
            }],
            kappa_vs_loss: correlate(&[], &[]),
            kappa_vs_accuracy: correlate(&[], &[]),
            task: Task::Classification,
            notes: vec![],
            steps: String::new(),
        }
    }

    /// A random full-rank PSD kernel of `dim` rows (trace layout).
    fn kernel(seed: u64, dim: usize, scale: f64) -> Kernel {
        let m = SplitMix64::new(seed).psd(dim, dim);
        Kernel::from_mat(dim, 1, Layout::Trace, m * faer::Scale(scale)).unwrap()
    }

    /// The slowest contraction factor of GD with step `eta` on the linearized model with the
    /// squared loss and penalty `lambda` over kernel `k` (closed form, checked against explicit
    /// GD in `linear::tests`).
    fn slowest_factor(k: &Kernel, lambda: f64, eta: f64) -> f64 {
        let d = k.dim();
        let targets: Vec<f64> = (0..d).map(|i| (i % 2) as f64).collect();
        let fit = KernelRidge::fit(
            k,
            &vec![0.0; d],
            &targets,
            lambda,
            &SpectrumOptions::default(),
        )
        .unwrap();
        fit.trajectory(eta, &[1]).unwrap().contraction
    }

    #[test]
    fn a_step_per_candidate_paces_the_slowest_direction_by_kappa_at_the_training_lambda() {
        let config = page_config();
        let text = config.step_description();
        assert!(text.starts_with("GD with a step per candidate"), "{text}");
        assert!(text.contains("λ = 0.01 the training penalty"), "{text}");
        assert!(text.contains("1 − 0.05/κ(K_S + 0.01·I) per step"), "{text}");
        assert!(
            text.contains("so κ(K_S + 0.01·I), not the κ(K_S) shown, sets that pace"),
            "{text}"
        );
        assert_eq!(config.kappa_symbol(), "κ(K_S)");
        // Scored at the training λ, the κ shown is the one that sets the pace.
        let same = StudyConfig {
            kappa_lambda: 0.01,
            ..page_config()
        };
        assert!(same
            .step_description()
            .contains("so κ(K_S + 0.01·I), the κ shown, sets that pace"));
        // The maths, on the linearized model: with η_S = 0.05/(μ_max(K_S) + λ) the slowest
        // direction contracts by 1 − 0.05/κ(K_S + λI), whatever the scale of K_S; with λ = 0.01
        // that is not 1 − 0.05/κ(K_S).
        let opts = SpectrumOptions::default();
        for (seed, scale) in [(1, 1.0), (2, 0.05), (3, 30.0)] {
            let k = kernel(seed, 12, scale);
            let spec = k.spectrum(&opts).unwrap();
            let eta = default_gd_lr(spec.max, 0.01);
            let kappa_train = k.conditioning(0.01, &opts).unwrap().kappa.unwrap();
            let kappa_shown = k.conditioning(0.0, &opts).unwrap().kappa.unwrap();
            let factor = slowest_factor(&k, 0.01, eta);
            assert!(
                (factor - (1.0 - 0.05 / kappa_train)).abs() <= 1e-12,
                "{factor} vs κ(K_S + 0.01·I) = {kappa_train}"
            );
            assert!((factor - (1.0 - 0.05 / kappa_shown)).abs() > 1e-6);
        }
    }

    #[test]
    fn one_shared_step_paces_candidates_by_their_smallest_eigenvalue_not_their_kappa() {
        let config = StudyConfig {
            step_rule: StepRule::Shared,
            ..page_config()
        };
        let text = config.step_description();
        assert!(
            text.contains("shrinks by 1 − η(μ_min(K_S) + λ) per step"),
            "{text}"
        );
        assert!(
            text.contains(
                "a larger smallest eigenvalue μ_min(K_S) converge faster there, whatever their κ"
            ),
            "{text}"
        );
        assert!(!text.contains("trace"), "{text}");
        // Two candidates with the same κ(K_S) (one kernel 4 times the other) under one step:
        // the larger one's slowest direction converges faster; and a candidate with a larger
        // κ but a larger μ_min converges faster still.
        let opts = SpectrumOptions::default();
        let small = kernel(5, 10, 1.0);
        let large = kernel(5, 10, 4.0);
        let diag = |v: &[f64]| {
            let n = v.len();
            Kernel::from_mat(
                n,
                1,
                Layout::Trace,
                faer::Mat::from_fn(n, n, |i, j| if i == j { v[i] } else { 0.0 }),
            )
            .unwrap()
        };
        let mu_max_all = large.spectrum(&opts).unwrap().max;
        let eta = default_gd_lr(mu_max_all, 0.01);
        let kappa = |k: &Kernel| k.conditioning(0.0, &opts).unwrap().kappa.unwrap();
        assert!((kappa(&small) - kappa(&large)).abs() <= 1e-9 * kappa(&small));
        assert!(slowest_factor(&large, 0.01, eta) < slowest_factor(&small, 0.01, eta));
        let mu_min_small = small.spectrum(&opts).unwrap().min;
        let wide = diag(&[mu_max_all, 2.0 * mu_min_small]);
        assert!(kappa(&wide) > kappa(&small));
        assert!(slowest_factor(&wide, 0.01, eta) < slowest_factor(&small, 0.01, eta));
    }

    #[test]
    fn the_paper_recipe_says_how_it_differs_from_the_official_code() {
        let config = StudyConfig {
            recipe: Recipe::Paper,
            ..page_config()
        }
        .with_recipe(32, Task::Classification);
        let text = config.step_description();
        assert!(
            text.starts_with("a recipe after the paper's official code: Adam at 4e-3, batches of 8, 40 steps (10 epochs)"),
            "{text}"
        );
        assert!(!text.contains("paper's recipe"), "{text}");
        for part in [
            "the epoch with the lowest eval loss",
            "Unlike that code, it keeps the proximal penalty λ = 0.01 (the code has none)",
            "it has no LoRA dropout (the code: 0.1)",
            "it takes batches of 8, not 64",
        ] {
            assert!(text.contains(part), "{part}: {text}");
        }
        assert!(!text.contains("its rate"), "{text}");
        let given = StudyConfig {
            lr: Some(1e-3),
            ..config.clone()
        };
        assert!(given
            .step_description()
            .contains("its rate is 1e-3 (the code: 4e-3)"));
        assert!(!text.contains("  "), "{text}");
    }

    #[test]
    fn the_train_loss_label_says_which_epoch_counts() {
        assert_eq!(
            report(Recipe::Theory, true).train_loss_label(),
            "final train loss"
        );
        assert_eq!(
            report(Recipe::Paper, true).train_loss_label(),
            "train loss at the best epoch (by eval loss)"
        );
        assert_eq!(
            report(Recipe::Paper, false).train_loss_label(),
            "train loss at the best epoch (by train loss)"
        );
        let (a, b) = (report(Recipe::Paper, true), report(Recipe::Paper, false));
        assert_eq!(
            pooled_train_loss_label([&a, &a]),
            "train loss at the best epoch (by eval loss)"
        );
        assert_eq!(
            pooled_train_loss_label([&a, &b]),
            "train loss at the best epoch (by eval loss, or by train loss without eval samples)"
        );
        assert_eq!(loss_label(Recipe::Paper, false), BEST_BY_TRAIN);
    }

    #[test]
    fn texts_write_mu_for_eigenvalues_and_lambda_only_for_the_penalty_or_the_shift() {
        for config in [
            page_config(),
            StudyConfig {
                step_rule: StepRule::Shared,
                ..page_config()
            },
        ] {
            let text = config.step_description();
            // λ only as "λ = 0.01 the training penalty", "+ λ)" and "κ(K_S + 0.01·I)".
            assert!(!text.contains("λ_"), "{text}");
            assert!(
                text.contains("μ_max(") && text.contains("μ_min(K_S)"),
                "{text}"
            );
        }
    }
}
