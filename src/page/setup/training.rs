//! The training section: the sweep's λ values (`lambdas`), the λ of the slider and of the study
//! (`lambda`), steps, optimizer (`opt`), loss, the selective gate (`selective`), the step size
//! (`lr`, 0 = the default), how a sweep's GD chooses its step (`step_rule`) and the study's
//! recipe (`recipe`). [`TrainingSection::sweep_config`] is the core's [`SweepConfig`].

use ntk_lens_core::experiment::SweepConfig;
use ntk_lens_core::options::{LossKind, OptimizerKind, Recipe, SweepStepRule};
use serde::{Deserialize, Serialize};

use super::query::{in_range, join, option, positive_f64};
use super::Section;

/// Training steps of the page's default sweep (and of each candidate of the layer study).
pub const DEFAULT_STEPS: usize = 8;
/// Largest number of training steps (in the address and in the sweep's steps box alike).
pub const MAX_STEPS: usize = 2000;
/// Most λ values in one sweep (the page trains them side by side), in the address and in the
/// text box alike.
pub const MAX_LAMBDAS: usize = 20;

/// How the actual model is fine-tuned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TrainingSection {
    /// The λ values of a sweep.
    pub lambdas: Vec<f64>,
    /// The λ of the slider (and of the layer study's training).
    pub lambda: f64,
    /// Training steps.
    pub steps: usize,
    /// Optimizer.
    pub optimizer: OptimizerKind,
    /// Loss.
    pub loss: LossKind,
    /// The selective proximal gate of the paper's Eq. 8.
    pub selective: bool,
    /// Step size; 0 = the default (GD: as `step_rule` says, from the NTK; Adam: 1e-3).
    pub learning_rate: f64,
    /// How a sweep's GD chooses each λ's step: one shared step (the default) or one per λ.
    pub step_rule: SweepStepRule,
    /// How the layer study trains each candidate: the theory's full batch or the paper's
    /// recipe.
    pub recipe: Recipe,
}

impl Default for TrainingSection {
    fn default() -> Self {
        TrainingSection {
            // Small, middle and large λ for 8 steps, all with one shared step: the page's
            // default sweep takes about half a minute in one wasm thread (docs/performance.md);
            // the CLI's default is 7 λ × 100. λ = 100 is large against μ_max (about 1.2 on the
            // default 32 Yelp sentences), so that the penalty, not the step, holds the model
            // near θ0: measured (CLI, shared η = 0.0099) gap_train 1.33 / 0.77 / 0.0095.
            lambdas: vec![1e-3, 10.0, 100.0],
            lambda: 1e-2,
            steps: DEFAULT_STEPS,
            optimizer: OptimizerKind::Gd,
            loss: LossKind::Mse,
            selective: false,
            learning_rate: 0.0,
            step_rule: SweepStepRule::Shared,
            recipe: Recipe::Theory,
        }
    }
}

/// λ values from a comma-separated text (the address and the sweep's text box): 1 to
/// [`MAX_LAMBDAS`] numbers > 0; the error names the first bad one.
pub fn parse_lambdas(v: &str) -> Result<Vec<f64>, String> {
    let values = v
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| positive_f64(s).ok_or_else(|| format!("`{s}` is not a number > 0")))
        .collect::<Result<Vec<f64>, String>>()?;
    match values.len() {
        0 => Err("give at least one λ".into()),
        n if n > MAX_LAMBDAS => Err(format!("at most {MAX_LAMBDAS} values")),
        _ => Ok(values),
    }
}

impl TrainingSection {
    /// The sweep of this section (all λ side by side, `chunk_size` samples per pass). A
    /// learning rate ≤ 0 means the default step.
    pub fn sweep_config(&self, chunk_size: usize) -> SweepConfig {
        SweepConfig {
            lambdas: self.lambdas.clone(),
            steps: self.steps,
            optimizer: self.optimizer,
            loss: self.loss,
            selective: self.selective,
            lr: self.given_lr(),
            step_rule: self.step_rule,
            chunk_size,
            lambda_batch: None,
        }
    }

    /// The step size the person gave, if any (0 = the default).
    pub fn given_lr(&self) -> Option<f64> {
        (self.learning_rate > 0.0).then_some(self.learning_rate)
    }
}

impl Section for TrainingSection {
    const KEYS: &'static [&'static str] = &[
        "lambdas",
        "lambda",
        "steps",
        "opt",
        "loss",
        "selective",
        "lr",
        "step_rule",
        "recipe",
    ];

    fn set(&mut self, key: &str, v: &str) -> Result<(), String> {
        match key {
            "lambdas" => {
                self.lambdas = parse_lambdas(v).map_err(|_| {
                    format!("expected 1 to {MAX_LAMBDAS} positive numbers, comma-separated")
                })?
            }
            "lambda" => self.lambda = positive_f64(v).ok_or("expected a positive number")?,
            "steps" => self.steps = in_range(v, 1, MAX_STEPS)?,
            "opt" => self.optimizer = option(v)?,
            "loss" => self.loss = option(v)?,
            "selective" => match v {
                "1" | "true" | "yes" => self.selective = true,
                "0" | "false" | "no" => self.selective = false,
                _ => return Err("expected 1 or 0".into()),
            },
            "lr" => {
                self.learning_rate = v
                    .parse::<f64>()
                    .ok()
                    .filter(|x| x.is_finite() && *x >= 0.0)
                    .ok_or("expected a number ≥ 0 (0 = the default step)")?
            }
            "step_rule" => self.step_rule = option(v)?,
            _ => self.recipe = option(v)?,
        }
        Ok(())
    }

    fn pairs(&self) -> Vec<(&'static str, String)> {
        vec![
            ("lambdas", join(&self.lambdas)),
            ("lambda", self.lambda.to_string()),
            ("steps", self.steps.to_string()),
            ("opt", self.optimizer.to_string()),
            ("loss", self.loss.to_string()),
            ("selective", if self.selective { "1" } else { "0" }.into()),
            ("lr", self.learning_rate.to_string()),
            ("step_rule", self.step_rule.to_string()),
            ("recipe", self.recipe.to_string()),
        ]
    }
}
