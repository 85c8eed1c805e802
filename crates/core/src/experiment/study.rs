//! Layer selection from the NTK at initialisation, and whether κ at initialisation predicts the
//! outcome of fine-tuning (the paper's central claim), on the user's data.
//!
//! Candidates (block subsets) are scored from the kernel alone (sums of cached blocks); then each
//! candidate is actually fine-tuned with LoRA on its blocks only (the other adapters folded into
//! the frozen weights, so a loaded adapter with `B ≠ 0` keeps its effect), and κ(K_S + λI) is
//! correlated with the final train loss and eval accuracy.

use serde::{Deserialize, Serialize};

use super::correlation::{correlate, Correlation};
use super::prepare::Samples;
use crate::data::Task;
use crate::lora::LoraSite;
use crate::model::Model;
use crate::ntk::{KernelKind, NtkBlocks};
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
    /// True when `kappa` is the lower bound `(1 − τ)·λ_max/(λ_min + τ·λ_max)` of a numerically
    /// singular `K_S + λI` (the kernel's round-off, `τ·λ_max`, hides its smallest eigenvalue).
    #[serde(default)]
    pub kappa_lower_bound: bool,
    /// The gradient step this candidate is (or would be) trained with (see
    /// [`StudyConfig::step_rule`]).
    #[serde(default)]
    pub lr: Option<f64>,
    /// `λ_min(K_S + λI)`.
    pub lambda_min: f64,
    /// `λ_max(K_S + λI)`.
    pub lambda_max: f64,
    /// Final train data loss after fine-tuning (None until trained).
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

    /// What the report and the chart say of the steps.
    pub fn step_description(&self) -> String {
        if self.recipe == Recipe::Paper {
            return format!(
                "the paper's recipe: Adam at {:e}, batches of {PAPER_BATCH}, {} steps \
                 ({PAPER_EPOCHS} epochs), linear schedule with {:.0} % warm-up, {} loss, head \
                 trained, the epoch with the lowest eval loss (the train loss without eval \
                 samples)",
                self.lr.unwrap_or(PAPER_LR),
                self.training.steps,
                100.0 * PAPER_WARMUP,
                self.training.loss
            );
        }
        match (self.training.optimizer, self.step_rule, self.lr) {
            (OptimizerKind::Adam, _, lr) => {
                format!(
                    "Adam with one step for every candidate ({:e})",
                    lr.unwrap_or(1e-3)
                )
            }
            (OptimizerKind::Gd, StepRule::PerSubset, _) => "GD with a step per candidate, \
                η_S = 0.05/(μ_max(K_S) + λ): κ(K_S + λI) alone sets how fast its slowest \
                direction converges"
                .into(),
            (OptimizerKind::Gd, StepRule::Shared, Some(lr)) => {
                format!("GD with one given step for every candidate ({lr:e})")
            }
            (OptimizerKind::Gd, StepRule::Shared, None) => "GD with one step for every \
                candidate, 0.05/(μ_max(K_all) + λ): subsets with a large trace converge faster \
                whatever their κ"
                .into(),
        }
    }
}

/// `κ` of a conditioning, or its lower bound when the kernel's round-off (`τ·λ_max`) hides the
/// smallest eigenvalue: the true `λ_min` is at most `smallest + τ·largest` and the true `λ_max`
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
    /// The settings.
    pub config: StudyConfig,
    /// The selected blocks.
    pub selected: Vec<String>,
    /// The greedy path, for greedy strategies.
    pub greedy: Option<Selection>,
    /// Every candidate, scored (and trained when configured).
    pub candidates: Vec<Candidate>,
    /// log10 κ against final train loss.
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

/// log10 κ against the final train loss and against the eval headline measure (accuracy, or
/// Pearson's r for regression), over the candidates that have both.
pub fn kappa_correlations<'a>(
    candidates: impl Iterator<Item = &'a Candidate>,
) -> (Correlation, Correlation) {
    let (mut log_kappa, mut loss, mut eval) = (Vec::new(), Vec::new(), Vec::new());
    for c in candidates {
        log_kappa.push(c.kappa.map(f64::log10));
        loss.push(c.train_loss);
        eval.push(c.eval_quality.as_ref().and_then(Quality::headline));
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
    /// `train`; the head's block, if any, is never a candidate); `user` adds user-chosen
    /// subsets.
    pub fn new(
        model: &Model,
        train: Samples,
        eval: Samples,
        ntk: &NtkBlocks,
        config: StudyConfig,
        user: &[Vec<String>],
    ) -> Result<Study, CoreError> {
        if ntk.kind != KernelKind::Plain {
            return Err(CoreError::invalid(
                "kernel",
                "the layer study scores and trains with the plain NTK J Jᵀ; compute it with \
                 kernel = plain",
            ));
        }
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
                "{bounded} candidate(s) have a K_S + λI whose smallest eigenvalue is below the \
                 f32 kernel's round-off: their κ is a lower bound (marked ≥), and it enters the \
                 correlations at that bound; a shift λ > 0 (kappa_lambda) resolves it."
            ));
        }
        if self.candidates.iter().any(|c| c.kappa.is_none()) {
            notes.push("A candidate with a zero kernel has no κ and is left out.".into());
        }
        if self.config.train {
            notes.push(format!("Steps: {}.", self.config.step_description()));
        }
        for (what, c) in [
            ("final train loss", &kappa_vs_loss),
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
                    "log10 κ vs {what}: weak correlation (Spearman {r:.2}, n = {}); κ at \
                     initialisation does not predict it on this data.",
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
