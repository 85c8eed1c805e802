//! Linearization quality as λ varies: the linearized model (closed form) against actual
//! proximal fine-tuning of the LoRA model, for each λ of a grid.
//!
//! Both minimise `Σ_i ½‖f(x_i) − y_i‖² + (λ/2)‖θ − θ0‖²` from `θ0` (sum over samples, see
//! [`crate::train`]). With gradient descent and the squared loss (the theory's setting) the
//! linear side is the linearized model after the *same* number of steps with the same step
//! size, in closed form ([`KernelRidge::residual_at`]); with Adam or cross-entropy it is the
//! linearized model's optimum (kernel ridge regression), since those runs have no closed form.

use std::collections::BTreeMap;

use burn::prelude::*;
use serde::{Deserialize, Serialize};

use super::needs::{needs, NtkUse};
use super::prepare::Samples;
use crate::data::Task;
use crate::linear::{GdStep, KernelRidge, ResidualByEigen};
use crate::model::Model;
use crate::ntk::NtkBlocks;
use crate::options::SweepStepRule;
use crate::readback::read_f32;
use crate::spectrum::SpectrumOptions;
use crate::steps::Stepwise;
use crate::train::trainer::logits_of;
use crate::train::{
    default_gd_lr, metrics, monotone_step_limit, shared_gd_lr, LossKind, OptimizerKind, Quality,
    Run, StepRecord, TrainConfig, Trainer,
};
use crate::CoreError;

/// Settings of a sweep.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepConfig {
    /// The λ grid, in the order to run.
    pub lambdas: Vec<f64>,
    /// Steps per λ.
    pub steps: usize,
    /// GD or Adam.
    pub optimizer: OptimizerKind,
    /// Squared loss or cross-entropy for the actual model.
    pub loss: LossKind,
    /// Selective proximal gate (Eq. 8).
    pub selective: bool,
    /// Step size for every λ; `None` = for GD as `step_rule` says, for Adam 1e-3.
    pub lr: Option<f64>,
    /// How GD chooses each λ's step when no `lr` is given: one [`shared_gd_lr`] for every λ
    /// (the default, so that the runs differ only in their penalty), or
    /// [`default_gd_lr`] `= 0.05/(μ_max + λ)` per λ.
    #[serde(default)]
    pub step_rule: SweepStepRule,
    /// Samples per forward/backward pass (of each λ trained side by side).
    pub chunk_size: usize,
    /// How many λ train side by side in one batch (stacked adapters sharing every pass over
    /// the frozen weights); `None` = all of them. Runs that train the head go one at a time.
    #[serde(default)]
    pub lambda_batch: Option<usize>,
}

impl Default for SweepConfig {
    fn default() -> Self {
        SweepConfig {
            lambdas: vec![1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0, 100.0],
            steps: 100,
            optimizer: OptimizerKind::Gd,
            loss: LossKind::Mse,
            selective: false,
            lr: None,
            step_rule: SweepStepRule::Shared,
            chunk_size: crate::train::TRAIN_CHUNK,
            lambda_batch: None,
        }
    }
}

impl SweepConfig {
    /// Whether the linear side is the linearized model after the same gradient steps (GD with
    /// the squared loss); otherwise it is the linearized optimum.
    pub fn linear_side_follows_steps(&self) -> bool {
        self.optimizer == OptimizerKind::Gd && self.loss == LossKind::Mse
    }

    /// The step each λ trains with, for a kernel whose largest eigenvalue is `mu_max`.
    pub fn lr_for(&self, mu_max: f64, lambda: f64) -> f64 {
        match (self.lr, self.optimizer, self.step_rule) {
            (Some(lr), _, _) => lr,
            (None, OptimizerKind::Adam, _) => 1e-3,
            (None, OptimizerKind::Gd, SweepStepRule::Shared) => shared_gd_lr(mu_max, &self.lambdas),
            (None, OptimizerKind::Gd, SweepStepRule::PerLambda) => default_gd_lr(mu_max, lambda),
        }
    }

    /// What the report and the page say of the steps, for a kernel with largest eigenvalue
    /// `mu_max`.
    pub fn step_description(&self, mu_max: f64) -> String {
        let smallest = self.lambdas.iter().copied().fold(f64::INFINITY, f64::min);
        let shared = |lr: f64, how: &str| {
            // The smallest λ is the unpenalised run to within 1 % when ηλT < 0.01 (its penalty
            // shrinks θ − θ0 by (1 − ηλ)^T ≥ 1 − ηλT).
            let unpenalised = if lr * smallest * self.steps as f64 <= 0.01 {
                " The smallest λ is in effect the unpenalised run (η·λ·T < 0.01)."
            } else {
                ""
            };
            format!(
                "Every λ trained with the same step η = {}{how}, so the runs differ only in \
                 their penalty.{unpenalised}",
                sig4(lr)
            )
        };
        match (self.lr, self.optimizer, self.step_rule) {
            (Some(lr), _, _) => shared(lr, " (given)"),
            (None, OptimizerKind::Adam, _) => shared(1e-3, " (Adam)"),
            (None, OptimizerKind::Gd, SweepStepRule::Shared) => shared(
                shared_gd_lr(mu_max, &self.lambdas),
                &format!(
                    " = min(0.05/(μ_max + smallest λ), 1/(μ_max + largest λ)), with \
                     μ_max = {} the kernel's largest eigenvalue: the smallest λ's own step, \
                     lowered where needed so that η(μ_max + λ) ≤ 1 at every λ and no direction \
                     of the linearized model overshoots",
                    sig4(mu_max)
                ),
            ),
            (None, OptimizerKind::Gd, SweepStepRule::PerLambda) => format!(
                "Each λ trained with its own step η = 0.05/(μ_max + λ) (μ_max = {}, the kernel's \
                 largest eigenvalue): the step shrinks as λ grows, so the runs differ in their \
                 step as well as their penalty.",
                sig4(mu_max)
            ),
        }
    }
}

/// `x` with 4 significant digits: plain between 10⁻³ and 10⁴, else in exponent notation.
fn sig4(x: f64) -> String {
    let a = x.abs();
    if (1e-3..1e4).contains(&a) {
        let decimals = (3 - a.log10().floor() as i32).max(0) as usize;
        format!("{x:.decimals$}")
    } else {
        format!("{x:.3e}")
    }
}

/// Relative rise of the actual model's data loss still taken as round-off: the loss is summed in
/// `f32` over the samples (relative error about `nC·ε_f32` for a few hundred terms).
const LOSS_RISE_TOL: f64 = 1e-6;

/// What the linear side of one λ gives.
struct LinearSide {
    train: Vec<f64>,
    eval: Vec<f64>,
    distance: f64,
    curve: Vec<f64>,
    /// Data loss at `t = 0..=T` (empty for the ridge optimum).
    data_losses: Vec<f64>,
    gate_steps: Option<usize>,
    /// `‖r0‖/(2√λ)` where it bounds this side's distance.
    bound: Option<f64>,
}

impl LinearSide {
    /// The linearized model after `T` gradient steps: train outputs `Y − r_T`, and the losses at
    /// `t = 0..=T` (`steps`, `T + 1` entries; the curve is the totals before each update).
    fn gradient_descent(
        targets: &[f64],
        residual: &[f64],
        eval: Vec<f64>,
        steps: &[GdStep],
        gate_steps: usize,
        bound: Option<f64>,
    ) -> Self {
        let before_updates = &steps[..steps.len().saturating_sub(1)];
        LinearSide {
            train: targets.iter().zip(residual).map(|(y, r)| y - r).collect(),
            eval,
            distance: steps.last().map_or(0.0, |s| s.param_distance),
            curve: before_updates.iter().map(|s| s.total_loss).collect(),
            data_losses: steps.iter().map(|s| s.data_loss).collect(),
            gate_steps: Some(gate_steps),
            bound,
        }
    }
}

/// The linearized model at one λ (instant: closed form from the kernel).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinearPoint {
    /// λ.
    pub lambda: f64,
    /// Train logits, `[n][C]`.
    pub train_logits: Vec<Vec<f64>>,
    /// Eval logits, `[m][C]`.
    pub eval_logits: Vec<Vec<f64>>,
    /// `Σ ½‖f̄ − y‖²` on train.
    pub train_loss: f64,
    /// Train accuracy (`None` for regression).
    pub train_acc: Option<f64>,
    /// Eval accuracy (`None` without eval samples, or for regression).
    pub eval_acc: Option<f64>,
    /// Train quality: accuracy and MCC, or Pearson and Spearman for regression.
    pub train_quality: Quality,
    /// Eval quality (`None` without eval samples).
    pub eval_quality: Option<Quality>,
    /// `‖θ̄ − θ0‖`.
    pub param_distance: f64,
    /// `‖r0‖ / (2√λ)`.
    pub param_distance_bound: f64,
    /// `κ(K + λI)`.
    pub condition_number: f64,
}

/// One λ of the sweep (serde result; field names as the CLI's JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepPoint {
    /// λ.
    pub lambda: f64,
    /// The step size used.
    pub lr: f64,
    /// `‖f_actual − f_lin‖ / ‖f_lin‖` over the train logits.
    pub gap_train: f64,
    /// The same on eval.
    pub gap_eval: Option<f64>,
    /// Mean `KL(softmax f_actual ‖ softmax f_lin)` on train (`None` for regression, where
    /// there is no softmax).
    pub kl_train: Option<f64>,
    /// The same on eval.
    pub kl_eval: Option<f64>,
    /// Fraction of train samples where both predict the same class (`None` for regression).
    pub agreement_train: Option<f64>,
    /// The same on eval.
    pub agreement_eval: Option<f64>,
    /// Final train data loss of the actual model (`Σ ½‖f − y‖²`, or Σ CE with `--loss ce`).
    pub train_loss_actual: f64,
    /// Final train data loss `Σ ½‖f̄ − y‖²` of the linearized model.
    pub train_loss_linear: f64,
    /// Train accuracy, actual (`None` for regression).
    pub train_acc_actual: Option<f64>,
    /// Train accuracy, linearized (`None` for regression).
    pub train_acc_linear: Option<f64>,
    /// Eval accuracy, actual.
    pub eval_acc_actual: Option<f64>,
    /// Eval accuracy, linearized.
    pub eval_acc_linear: Option<f64>,
    /// Train quality of the actual model: accuracy and MCC, or Pearson and Spearman for
    /// regression.
    #[serde(default)]
    pub train_quality_actual: Quality,
    /// The same for the linearized model.
    #[serde(default)]
    pub train_quality_linear: Quality,
    /// Eval quality of the actual model (`None` without eval samples).
    #[serde(default)]
    pub eval_quality_actual: Option<Quality>,
    /// The same for the linearized model.
    #[serde(default)]
    pub eval_quality_linear: Option<Quality>,
    /// `‖θ_T − θ0‖`, actual.
    pub param_distance_actual: f64,
    /// `‖θ̄_T − θ0‖`, linearized.
    pub param_distance_linear: f64,
    /// `‖r0‖ / (2√λ)`: a bound on the linearized model's distance `‖θ̄ − θ0‖`, reported only
    /// where it holds: for the ridge optimum (the linear side of Adam and cross-entropy runs),
    /// and for ungated GD from `θ0` with `η(μ_max + λ) ≤ 1`. `None` otherwise: with the selective
    /// gate the linearized run can go past it, and so can a larger step. It bounds neither the
    /// actual model's distance nor gated runs.
    pub param_distance_bound: Option<f64>,
    /// `‖s·BA‖_F / ‖W0‖_F` per adapted module after training.
    pub update_norms: BTreeMap<String, f64>,
    /// Total loss per step of the actual run (data + proximal).
    pub loss_curve_actual: Vec<f64>,
    /// Total loss per step of the linearized model (GD + squared loss only; else empty).
    pub loss_curve_linear: Vec<f64>,
    /// Training along the kernel's eigen-directions: per eigenvalue, the fraction of the start
    /// residual left after the run, for the linearized model (closed form) and the actual model
    /// (its residual projected on the same eigenvectors). Only where the linear side follows the
    /// same ungated GD steps (MSE, GD, no selective gate).
    #[serde(default)]
    pub residual_by_eigen: Option<ResidualByEigen>,
    /// How many of the steps applied a nonzero proximal term in the actual run: the gate was on
    /// (always, without the selective gate) and `θ_t ≠ θ0` (at `t = 0` the penalty is zero
    /// whatever the gate says).
    #[serde(default)]
    pub gate_steps_actual: usize,
    /// The same for the linearized model, run step by step with the same gate (`None` when
    /// the linear side is the ridge optimum: Adam or cross-entropy). From `θ0` with
    /// `η μ_max ≤ 1` the gate never applies a nonzero penalty there (docs/theory.md), so with
    /// the gate this is 0.
    #[serde(default)]
    pub gate_steps_linear: Option<usize>,
    /// The largest step for which the step condition `η(μ_max + λ) ≤ 1` holds
    /// ([`monotone_step_limit`]).
    #[serde(default)]
    pub monotone_step_limit: f64,
    /// Whether this λ's step `lr` met that condition.
    #[serde(default)]
    pub step_within_limit: bool,
    /// Whether the actual model's data loss never rose (`loss_increases_actual` is empty):
    /// the half of Theorem 1's check that can fail, since the actual model is not linear.
    #[serde(default)]
    pub monotone_actual: bool,
    /// Steps `t` after which the actual data loss rose (`R(θ_{t+1}) > R(θ_t)`, beyond a
    /// relative 1e-6 for f32 round-off): empty when training was monotone, which Theorem 1
    /// promises under the squared loss with the selective gate and a small enough step.
    #[serde(default)]
    pub loss_increases_actual: Vec<usize>,
    /// The same for the linearized model (GD + squared loss only).
    #[serde(default)]
    pub loss_increases_linear: Vec<usize>,
}

/// The steps `t` with `losses[t + 1] > losses[t]·(1 + tol)` (`tol` absorbs round-off).
fn increases(losses: &[f64], tol: f64) -> Vec<usize> {
    losses
        .windows(2)
        .enumerate()
        .filter(|(_, w)| w[1] > w[0] + tol * w[0].abs())
        .map(|(t, _)| t)
        .collect()
}

/// The sweep's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepReport {
    /// One entry per λ, in the order given.
    pub results: Vec<SweepPoint>,
    /// Number of train samples.
    pub n: usize,
    /// Number of eval samples.
    pub n_eval: usize,
    /// Classes (model outputs; 1 for regression).
    pub classes: usize,
    /// The task (classification or regression).
    #[serde(default)]
    pub task: Task,
    /// The settings.
    pub config: SweepConfig,
    /// What the linear side is, and other notes.
    pub notes: Vec<String>,
    /// The radius probe (Algorithm 1) around θ0, when it was run.
    #[serde(default)]
    pub radius: Option<Vec<super::radius::RadiusPoint>>,
}

/// Closed-form linearized predictions at `lambda` from NTK blocks (plain kernel).
pub fn linear_point(
    ntk: &NtkBlocks,
    train: &Samples,
    eval: &Samples,
    lambda: f64,
) -> Result<LinearPoint, CoreError> {
    let kernel = ntk.total()?;
    let c = ntk.classes;
    let opts = SpectrumOptions::for_f32(kernel.dim());
    let targets = train.targets(c);
    let ridge = KernelRidge::fit(&kernel, &ntk.f0_train, &targets.matrix(), lambda, &opts)?;
    let tr = ridge.train_predictions();
    let ev = if eval.is_empty() {
        Vec::new()
    } else {
        ridge.predict(&ntk.cross_total(), &ntk.f0_eval)?
    };
    let train_quality = targets.quality(&tr);
    let eval_quality = (!eval.is_empty()).then(|| eval.targets(c).quality(&ev));
    Ok(LinearPoint {
        lambda,
        train_logits: tr.chunks(c).map(<[f64]>::to_vec).collect(),
        eval_logits: ev.chunks(c).map(<[f64]>::to_vec).collect(),
        train_loss: targets.loss(LossKind::Mse, &tr),
        train_acc: train_quality.accuracy,
        eval_acc: eval_quality.as_ref().and_then(|q| q.accuracy),
        train_quality,
        eval_quality,
        param_distance: ridge.param_distance_sq().sqrt(),
        param_distance_bound: ridge.param_distance_bound(),
        condition_number: ridge.condition_number(),
    })
}

/// `‖s·BA‖_F / ‖W0‖_F` for every adapted module of `model`.
pub async fn update_norms(model: &Model) -> Result<BTreeMap<String, f64>, CoreError> {
    let sites = model.lora_sites();
    let mut parts = Vec::new();
    for &s in &sites {
        let l = model
            .lora(s)
            .ok_or_else(|| CoreError::invalid("lora", "adapter vanished"))?;
        let base = &model.encoder.layers[s.layer].linear(s.module).base;
        parts.push(l.delta_weight().powi_scalar(2).sum());
        parts.push(base.weight.clone().powi_scalar(2).sum());
    }
    if parts.is_empty() {
        return Ok(BTreeMap::new());
    }
    let v = read_f32(Tensor::cat(parts, 0)).await?;
    Ok(sites
        .iter()
        .zip(v.chunks(2))
        .map(|(s, p)| {
            let ratio = (f64::from(p[0]) / f64::from(p[1]).max(f64::MIN_POSITIVE)).sqrt();
            (s.block_name(), ratio)
        })
        .collect())
}

/// A finished sweep: the report, and the model fine-tuned at each λ (they share the frozen
/// weights; only the LoRA tensors differ), e.g. to export one as a PEFT adapter.
#[derive(Debug, Clone)]
pub struct FinishedSweep {
    /// The report.
    pub report: SweepReport,
    /// `(λ, model)` per λ, in the order of the report.
    pub trained: Vec<(f64, Model)>,
}

/// The sweep, one training step per [`Sweep::step`].
///
/// Two λ, two gradient steps each, on a tiny seeded model with LoRA and 4 labelled samples: the
/// gap between the linearized model and actual fine-tuning at each λ.
///
/// ```
/// use ntk_lens_core::block_on;
/// use ntk_lens_core::device::cpu_device;
/// use ntk_lens_core::experiment::{needs, NtkUse, Samples, Sweep, SweepConfig};
/// use ntk_lens_core::model::Family;
/// use ntk_lens_core::ntk::{NtkBuilder, ParamSet};
/// use ntk_lens_core::steps::Stepwise;
/// use ntk_lens_core::test_model::{tiny_lora_model_on, token_samples};
///
/// let model = tiny_lora_model_on(Family::Bert, 7, Some(11), &cpu_device())?;
/// let train = Samples {
///     rows: vec![0, 1, 2, 3],
///     encoded: token_samples(&[4, 6, 5, 8], (7, 13)),
///     labels: vec![0, 1, 0, 1],
///     scores: None,
/// };
/// let eval = Samples { rows: vec![], encoded: vec![], labels: vec![], scores: None };
/// // The NTK the sweep needs: the plain kernel over LoRA, at θ0.
/// let options = needs(NtkUse::Sweep, ParamSet::Lora).options();
/// let ntk = block_on(NtkBuilder::new(&model, &train.encoded, &[], options)?.run())?;
/// let config = SweepConfig { lambdas: vec![0.1, 1.0], steps: 2, ..SweepConfig::default() };
/// let finished = block_on(Sweep::new(&model, train, eval, ntk, config)?.run())?;
/// for p in &finished.report.results {
///     println!("λ = {}: gap_train = {:.3e}", p.lambda, p.gap_train);
/// }
/// assert_eq!(finished.report.results.len(), 2);
/// assert!(finished.report.results.iter().all(|p| p.gap_train.is_finite()));
/// # Ok::<(), ntk_lens_core::CoreError>(())
/// ```
pub struct Sweep {
    model: Model,
    train: Samples,
    eval: Samples,
    ntk: NtkBlocks,
    config: SweepConfig,
    train_head: bool,
    mu_max: f64,
    /// The λ of each batch trained side by side (indices into `config.lambdas`, in order).
    groups: Vec<Vec<usize>>,
    /// The batch being trained.
    group: usize,
    trainer: Option<Trainer>,
    last_loss: Option<f64>,
    results: Vec<SweepPoint>,
    trained: Vec<(f64, Model)>,
}

impl Sweep {
    /// Prepares a sweep of `model` (LoRA attached, `θ0` = its current value) on `train`, with
    /// `ntk` the plain NTK blocks over the same samples ([`needs`] with [`NtkUse::Sweep`]; other
    /// blocks are refused with [`CoreError::NtkNeeds`]). The head is trained when `ntk.params`
    /// include it.
    pub fn new(
        model: &Model,
        train: Samples,
        eval: Samples,
        ntk: NtkBlocks,
        config: SweepConfig,
    ) -> Result<Sweep, CoreError> {
        let needs = needs(NtkUse::Sweep, ntk.params);
        needs.check(&ntk)?;
        if config.lambdas.is_empty() {
            return Err(CoreError::invalid("lambdas", "give at least one λ"));
        }
        if let Some(l) = config
            .lambdas
            .iter()
            .find(|l| !(l.is_finite() && **l > 0.0))
        {
            return Err(CoreError::invalid(
                "lambdas",
                format!("every λ must be a finite number > 0, got {l}"),
            ));
        }
        if config.lr.is_some() && config.step_rule == SweepStepRule::PerLambda {
            return Err(CoreError::invalid(
                "step_rule",
                "a given learning rate is one step for every λ; choose the step rule `shared`, \
                 or leave the rate out for a step per λ",
            ));
        }
        if ntk.n != train.len() || ntk.n_eval != eval.len() {
            return Err(CoreError::mismatch("NTK samples", train.len(), ntk.n));
        }
        train
            .targets(ntk.classes)
            .check(train.len(), ntk.classes, config.loss)?;
        let train_head = needs.head();
        let spec = ntk
            .total()?
            .spectrum(&SpectrumOptions::for_f32(ntk.n * ntk.classes))?;
        let per_batch = if train_head {
            1
        } else {
            config.lambda_batch.unwrap_or(config.lambdas.len()).max(1)
        };
        let indices: Vec<usize> = (0..config.lambdas.len()).collect();
        let groups = indices.chunks(per_batch).map(<[usize]>::to_vec).collect();
        let sweep = Sweep {
            model: model.clone(),
            train,
            eval,
            mu_max: spec.max.max(0.0),
            ntk,
            config,
            train_head,
            groups,
            group: 0,
            trainer: None,
            last_loss: None,
            results: Vec::new(),
            trained: Vec::new(),
        };
        sweep.train_config(sweep.config.lambdas[0])?.validate()?;
        Ok(sweep)
    }

    fn lr_for(&self, lambda: f64) -> f64 {
        self.config.lr_for(self.mu_max, lambda)
    }

    /// The kernel's largest eigenvalue `μ_max` at `θ0` (the steps are chosen from it).
    pub fn mu_max(&self) -> f64 {
        self.mu_max
    }

    fn train_config(&self, lambda: f64) -> Result<TrainConfig, CoreError> {
        Ok(TrainConfig {
            lambda,
            lr: self.lr_for(lambda),
            steps: self.config.steps,
            optimizer: self.config.optimizer,
            loss: self.config.loss,
            selective: self.config.selective,
            train_head: self.train_head,
            chunk_size: self.config.chunk_size,
            ..TrainConfig::default()
        })
    }

    /// The λ being trained (side by side).
    pub fn current_lambdas(&self) -> Vec<f64> {
        self.groups
            .get(self.group)
            .map(|g| g.iter().map(|&i| self.config.lambdas[i]).collect())
            .unwrap_or_default()
    }

    /// The finished λ points so far.
    pub fn results(&self) -> &[SweepPoint] {
        &self.results
    }

    /// One training step of the λ being trained side by side (their records, in λ order);
    /// when their last step is done, their points are computed and appended to
    /// [`Sweep::results`].
    pub async fn step(&mut self) -> Result<Vec<StepRecord>, CoreError> {
        if self.is_done() {
            return Ok(Vec::new());
        }
        let lambdas = self.current_lambdas();
        if lambdas.is_empty() {
            return Ok(Vec::new());
        }
        if self.trainer.is_none() {
            let runs: Vec<Run> = lambdas
                .iter()
                .map(|&lambda| Run {
                    lambda,
                    lr: self.lr_for(lambda),
                })
                .collect();
            self.trainer = Some(Trainer::batched(
                &self.model,
                &self.train.encoded,
                &self.train.targets(self.ntk.classes),
                self.train_config(lambdas[0])?,
                &runs,
            )?);
        }
        let trainer = self
            .trainer
            .as_mut()
            .ok_or_else(|| CoreError::invalid("sweep", "no trainer"))?;
        let records = trainer.step_all().await?;
        if trainer.is_done() {
            if let Some(t) = self.trainer.take() {
                for run in t.finish().await?.runs {
                    let point = self
                        .finish_lambda(run.run.lambda, &run.model, run.param_distance, &run.history)
                        .await?;
                    self.results.push(point);
                    self.trained.push((run.run.lambda, run.model));
                }
            }
            self.group += 1;
        }
        Ok(records)
    }

    async fn finish_lambda(
        &self,
        lambda: f64,
        model: &Model,
        param_distance: f64,
        history: &[StepRecord],
    ) -> Result<SweepPoint, CoreError> {
        let c = self.ntk.classes;
        let chunk = self.config.chunk_size;
        let act_train = logits_of(model, &self.train.encoded, chunk).await?;
        let act_eval = logits_of(model, &self.eval.encoded, chunk).await?;
        let kernel = self.ntk.total()?;
        let opts = SpectrumOptions::for_f32(kernel.dim());
        let targets = self.train.targets(c);
        let eval_targets = self.eval.targets(c);
        let y = targets.matrix();
        let ridge = KernelRidge::fit(&kernel, &self.ntk.f0_train, &y, lambda, &opts)?;
        let lr = self.lr_for(lambda);
        let step_limit = monotone_step_limit(self.mu_max, lambda);
        let step_within_limit = lr <= step_limit * (1.0 + 1e-12);
        let steps = self.config.steps as u64;
        let same_dynamics = self.config.linear_side_follows_steps();
        let has_eval = !self.eval.is_empty();
        let residual_by_eigen = if same_dynamics && !self.config.selective {
            Some(ridge.residual_by_eigen(lr, steps, &act_train)?)
        } else {
            None
        };
        let lin = if same_dynamics && self.config.selective {
            let run = ridge.gated_trajectory(lr, steps)?;
            let beta = &run.dual;
            let ev = if has_eval {
                ridge.predict_with(beta, &self.ntk.cross_total(), &self.ntk.f0_eval)?
            } else {
                Vec::new()
            };
            LinearSide::gradient_descent(
                &y,
                &run.residual,
                ev,
                &run.steps,
                run.penalised_steps(),
                None,
            )
        } else if same_dynamics {
            let r = ridge.residual_at(lr, steps)?;
            let ev = if has_eval {
                ridge.predict_at(lr, steps, &self.ntk.cross_total(), &self.ntk.f0_eval)?
            } else {
                Vec::new()
            };
            let ts: Vec<u64> = (0..=steps).collect();
            let traj = ridge.trajectory(lr, &ts)?;
            // Every step but the first (at θ0, where the penalty is zero) applies it.
            LinearSide::gradient_descent(
                &y,
                &r,
                ev,
                &traj.steps,
                self.config.steps.saturating_sub(1),
                step_within_limit.then(|| ridge.param_distance_bound()),
            )
        } else {
            let ev = if has_eval {
                ridge.predict(&self.ntk.cross_total(), &self.ntk.f0_eval)?
            } else {
                Vec::new()
            };
            LinearSide {
                train: ridge.train_predictions(),
                eval: ev,
                distance: ridge.param_distance_sq().sqrt(),
                curve: Vec::new(),
                data_losses: Vec::new(),
                gate_steps: None,
                bound: Some(ridge.param_distance_bound()),
            }
        };
        let train_loss_actual = targets.loss(self.config.loss, &act_train);
        let opt = |v: f64| has_eval.then_some(v);
        let classes = targets.labels().is_some();
        let train_quality_actual = targets.quality(&act_train);
        let train_quality_linear = targets.quality(&lin.train);
        let eval_quality_actual = has_eval.then(|| eval_targets.quality(&act_eval));
        let eval_quality_linear = has_eval.then(|| eval_targets.quality(&lin.eval));
        let acc = |q: &Option<Quality>| q.as_ref().and_then(|q| q.accuracy);
        // R(θ_t) for t = 0..T: the records' losses, then the final model's.
        let mut actual_data_losses: Vec<f64> = history.iter().map(|r| r.data_loss).collect();
        actual_data_losses.push(train_loss_actual);
        let loss_increases_actual = increases(&actual_data_losses, LOSS_RISE_TOL);
        Ok(SweepPoint {
            lambda,
            lr,
            gap_train: metrics::relative_l2(&act_train, &lin.train),
            gap_eval: opt(metrics::relative_l2(&act_eval, &lin.eval)),
            kl_train: classes.then(|| metrics::mean_kl(&act_train, &lin.train, c)),
            kl_eval: opt(metrics::mean_kl(&act_eval, &lin.eval, c)).filter(|_| classes),
            agreement_train: metrics::agreement(&act_train, &lin.train, c).filter(|_| classes),
            agreement_eval: metrics::agreement(&act_eval, &lin.eval, c).filter(|_| classes),
            train_loss_actual,
            train_loss_linear: targets.loss(LossKind::Mse, &lin.train),
            train_acc_actual: train_quality_actual.accuracy,
            train_acc_linear: train_quality_linear.accuracy,
            eval_acc_actual: acc(&eval_quality_actual),
            eval_acc_linear: acc(&eval_quality_linear),
            train_quality_actual,
            train_quality_linear,
            eval_quality_actual,
            eval_quality_linear,
            param_distance_actual: param_distance,
            param_distance_linear: lin.distance,
            param_distance_bound: lin.bound,
            update_norms: update_norms(model).await?,
            loss_curve_actual: history.iter().map(|r| r.loss).collect(),
            loss_curve_linear: lin.curve,
            residual_by_eigen,
            gate_steps_actual: history
                .iter()
                .filter(|r| r.proximal_on && r.param_distance > 0.0)
                .count(),
            gate_steps_linear: lin.gate_steps,
            monotone_step_limit: step_limit,
            step_within_limit,
            monotone_actual: loss_increases_actual.is_empty(),
            loss_increases_actual,
            loss_increases_linear: increases(&lin.data_losses, 1e-12),
        })
    }
}

impl Stepwise for Sweep {
    type Output = FinishedSweep;

    /// Training steps in all (a step of `k` λ side by side counts `k`).
    fn total_steps(&self) -> usize {
        self.config.lambdas.len() * self.config.steps
    }

    fn steps_done(&self) -> usize {
        let finished: usize = self.groups[..self.group].iter().map(Vec::len).sum();
        let current = self
            .trainer
            .as_ref()
            .map_or(0, |t| t.steps_done() * t.runs().len());
        finished * self.config.steps + current
    }

    fn is_done(&self) -> bool {
        self.group >= self.groups.len()
    }

    fn describe(&self) -> String {
        let lambdas: Vec<String> = self
            .current_lambdas()
            .iter()
            .map(|l| format!("{l:e}"))
            .collect();
        format!("training at λ = {}", lambdas.join(", "))
    }

    async fn advance(&mut self) -> Result<(), CoreError> {
        self.last_loss = self.step().await?.first().map(|r| r.loss);
        Ok(())
    }

    /// The loss of the first λ of the last step.
    async fn loss(&self) -> Option<f64> {
        self.last_loss
    }

    /// The report and the trained models; errors when λ values remain.
    async fn finish(self) -> Result<FinishedSweep, CoreError> {
        if !self.is_done() {
            return Err(CoreError::invalid(
                "sweep",
                format!(
                    "{} of {} λ values are not trained yet",
                    self.config.lambdas.len() - self.results.len(),
                    self.config.lambdas.len()
                ),
            ));
        }
        let mut notes = vec![self.config.step_description(self.mu_max)];
        let same_dynamics = self.config.linear_side_follows_steps();
        if same_dynamics && self.config.selective {
            notes.push(format!(
                "Linear side: the linearized model after the same {} gradient steps with the \
                 same step size and the same selective gate (gate_steps_actual and \
                 gate_steps_linear count the steps that applied a nonzero penalty on each \
                 side). From θ0 with η·μ_max ≤ 1 the gate never applies a nonzero penalty to \
                 the linearized model, so its linear side is the unpenalised run; only on the \
                 actual model can the gate apply it.",
                self.config.steps
            ));
        } else if same_dynamics {
            notes.push(format!(
                "Linear side: the linearized model after the same {} gradient steps with the \
                 same step size (closed form).",
                self.config.steps
            ));
        } else {
            notes.push(
                "Linear side: the linearized model's optimum (kernel ridge regression with the \
                 squared loss); Adam and cross-entropy runs have no closed-form linear \
                 counterpart."
                    .into(),
            );
        }
        if self.config.loss == LossKind::Mse {
            for p in &self.results {
                if !p.step_within_limit {
                    notes.push(format!(
                        "λ = {:e}: the step {:.3e} is above 1/(μ_max + λ) = {:.3e}, the step \
                         condition under which the linearized model descends monotonically \
                         from θ0; no distance bound is drawn for it.",
                        p.lambda, p.lr, p.monotone_step_limit
                    ));
                }
                if let Some(&first) = p.loss_increases_actual.first() {
                    notes.push(format!(
                        "λ = {:e}: the actual data loss rose after {} of {} steps (first at step \
                         {first}): the actual model did not descend monotonically.",
                        p.lambda,
                        p.loss_increases_actual.len(),
                        self.config.steps,
                    ));
                }
            }
        }
        let report = SweepReport {
            n: self.train.len(),
            n_eval: self.eval.len(),
            classes: self.ntk.classes,
            task: self.train.task(),
            results: self.results,
            config: self.config,
            notes,
            radius: None,
        };
        Ok(FinishedSweep {
            report,
            trained: self.trained,
        })
    }
}
