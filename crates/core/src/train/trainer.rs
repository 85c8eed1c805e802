//! The steppable fine-tuning loop.

use burn::prelude::*;
use burn::tensor::activation::log_softmax;
use burn::tensor::TensorData;
use serde::{Deserialize, Serialize};

use super::config::{LossKind, OptimizerKind, TrainConfig};
use super::metrics;
use super::params::Params;
use crate::model::{Model, TokenBatch};
use crate::readback::read_f32;
use crate::tokenize::Encoded;
use crate::CoreError;

const ADAM_BETA1: f64 = 0.9;
const ADAM_BETA2: f64 = 0.999;
const ADAM_EPS: f64 = 1e-8;

/// What one step saw (at `θ_t`, before its update).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepRecord {
    /// The step index `t`.
    pub step: usize,
    /// `Σ_i ℓ(f_{θ_t}(x_i), y_i)`.
    pub data_loss: f64,
    /// `(λ/2)‖θ_t − θ0‖²`.
    pub proximal_loss: f64,
    /// `data_loss + proximal_loss`.
    pub loss: f64,
    /// `‖θ_t − θ0‖`.
    pub param_distance: f64,
    /// Train accuracy at `θ_t`.
    pub accuracy: f64,
    /// `⟨∇Σℓ(θ_t), θ_t − θ0⟩`, the quantity the selective gate looks at.
    pub grad_dot_displacement: f64,
    /// Whether the proximal gradient was applied in this step's update (always true unless
    /// selective; with the gate: when `grad_dot_displacement ≥ 0`).
    pub proximal_on: bool,
}

/// Full-batch proximal fine-tuning, one step per [`Trainer::step`].
pub struct Trainer {
    model: Model,
    config: TrainConfig,
    params: Params,
    theta0: Vec<Tensor<2>>,
    theta: Vec<Tensor<2>>,
    adam: Option<(Vec<Tensor<2>>, Vec<Tensor<2>>)>,
    chunks: Vec<(TokenBatch, Tensor<2>, Vec<usize>)>,
    labels: Vec<usize>,
    classes: usize,
    step: usize,
    history: Vec<StepRecord>,
}

fn batch_of(model: &Model, samples: &[Encoded]) -> Result<TokenBatch, CoreError> {
    let ids: Vec<Vec<u32>> = samples.iter().map(|s| s.ids.clone()).collect();
    let types: Vec<Vec<u32>> = samples.iter().map(|s| s.type_ids.clone()).collect();
    TokenBatch::from_sequences(&ids, Some(&types), model.config.pad_token_id)
}

/// The logits of `model` on `samples`, `[n, C]` row-major, in chunks of `chunk` samples.
pub async fn logits_of(
    model: &Model,
    samples: &[Encoded],
    chunk: usize,
) -> Result<Vec<f64>, CoreError> {
    let mut out = Vec::new();
    for part in samples.chunks(chunk.max(1)) {
        let logits = model
            .forward(&batch_of(model, part)?)?
            .logits
            .ok_or_else(|| CoreError::invalid("model", "the model has no head"))?;
        out.extend(read_f32(logits).await?.into_iter().map(f64::from));
    }
    Ok(out)
}

impl Trainer {
    /// Prepares fine-tuning of `model`'s LoRA (and head, if configured) on `samples` with
    /// class indices `labels`; `θ0` is the model's current value.
    pub fn new(
        model: &Model,
        samples: &[Encoded],
        labels: &[usize],
        config: TrainConfig,
    ) -> Result<Trainer, CoreError> {
        config.validate()?;
        let classes = model
            .head
            .as_ref()
            .map(|h| h.num_classes())
            .ok_or_else(|| CoreError::invalid("model", "training needs a classification head"))?;
        if samples.is_empty() {
            return Err(CoreError::invalid(
                "samples",
                "training needs at least one sample",
            ));
        }
        if labels.len() != samples.len() {
            return Err(CoreError::mismatch("labels", samples.len(), labels.len()));
        }
        if let Some(&bad) = labels.iter().find(|&&l| l >= classes) {
            return Err(CoreError::invalid(
                "labels",
                format!("label {bad} is out of range for {classes} classes"),
            ));
        }
        let params = Params::from_model(model, config.train_head)?;
        let device = model.device();
        let mut chunks = Vec::new();
        for (part, ys) in samples
            .chunks(config.chunk_size)
            .zip(labels.chunks(config.chunk_size))
        {
            let mut y = vec![0f32; part.len() * classes];
            for (i, &l) in ys.iter().enumerate() {
                y[i * classes + l] = 1.0;
            }
            let y = Tensor::<2>::from_data(TensorData::new(y, [part.len(), classes]), &device);
            chunks.push((batch_of(model, part)?, y, ys.to_vec()));
        }
        let theta0 = params.values.clone();
        let adam = (config.optimizer == OptimizerKind::Adam).then(|| {
            let zeros: Vec<Tensor<2>> = theta0.iter().map(Tensor::zeros_like).collect();
            (zeros.clone(), zeros)
        });
        Ok(Trainer {
            model: model.clone(),
            config,
            theta: theta0.clone(),
            theta0,
            params,
            adam,
            chunks,
            labels: labels.to_vec(),
            classes,
            step: 0,
            history: Vec::new(),
        })
    }

    /// Steps done.
    pub fn steps_done(&self) -> usize {
        self.step
    }

    /// Whether all configured steps are done.
    pub fn is_done(&self) -> bool {
        self.step >= self.config.steps
    }

    /// The records of the steps so far.
    pub fn history(&self) -> &[StepRecord] {
        &self.history
    }

    /// The model at the current parameters.
    pub fn model(&self) -> Result<Model, CoreError> {
        let mut m = self.model.clone();
        self.params.write(&mut m, &self.theta)?;
        Ok(m)
    }

    /// Number of trained scalars.
    pub fn param_count(&self) -> usize {
        self.params.count()
    }

    /// `‖θ − θ0‖` now.
    pub async fn param_distance(&self) -> Result<f64, CoreError> {
        Ok(self.distance_sq().await?.sqrt())
    }

    async fn distance_sq(&self) -> Result<f64, CoreError> {
        let parts: Vec<Tensor<1>> = self
            .theta
            .iter()
            .zip(&self.theta0)
            .map(|(t, t0)| (t.clone() - t0.clone()).powi_scalar(2).sum())
            .collect();
        let v = read_f32(Tensor::cat(parts, 0)).await?;
        Ok(v.iter().map(|&x| f64::from(x)).sum())
    }

    /// The data-loss gradient `Σ_i ∇ℓ_i` at `θ_t` (summed over chunks) and the logits.
    async fn data_gradient(&self) -> Result<(Vec<Tensor<2>>, Vec<f64>), CoreError> {
        let mut total: Option<Vec<Tensor<2>>> = None;
        let mut logits_all = Vec::new();
        for (batch, y, _) in &self.chunks {
            let leaves: Vec<Tensor<2>> = self
                .theta
                .iter()
                .map(|t| t.clone().autodiff().require_grad())
                .collect();
            let mut m = self.model.clone();
            self.params.write(&mut m, &leaves)?;
            let logits = m
                .forward(batch)?
                .logits
                .ok_or_else(|| CoreError::invalid("model", "no head"))?;
            logits_all.extend(
                read_f32(logits.clone().inner())
                    .await?
                    .into_iter()
                    .map(f64::from),
            );
            let y = y.clone().autodiff();
            let loss = match self.config.loss {
                LossKind::Mse => (logits - y).powi_scalar(2).sum().mul_scalar(0.5),
                LossKind::Ce => (log_softmax(logits, 1) * y).sum().neg(),
            };
            let grads = loss.backward();
            let mut g = Vec::with_capacity(leaves.len());
            for (leaf, t) in leaves.iter().zip(&self.theta) {
                // A tensor that does not reach the loss has a zero gradient.
                g.push(leaf.grad(&grads).unwrap_or_else(|| Tensor::zeros_like(t)));
            }
            total = Some(match total {
                None => g,
                Some(acc) => acc.into_iter().zip(g).map(|(a, b)| a + b).collect(),
            });
        }
        let total = total.ok_or_else(|| CoreError::invalid("samples", "no samples"))?;
        Ok((total, logits_all))
    }

    /// One optimisation step; returns its record.
    pub async fn step(&mut self) -> Result<StepRecord, CoreError> {
        let lambda = self.config.lambda;
        let (grad, logits) = self.data_gradient().await?;
        let data_loss = match self.config.loss {
            LossKind::Mse => metrics::mse_loss(&logits, &self.labels, self.classes),
            LossKind::Ce => metrics::ce_loss(&logits, &self.labels, self.classes),
        };
        if !data_loss.is_finite() {
            return Err(CoreError::NonFinite(format!(
                "the training loss diverged at step {} (lr {} may be too large)",
                self.step, self.config.lr
            )));
        }
        let diffs: Vec<Tensor<2>> = self
            .theta
            .iter()
            .zip(&self.theta0)
            .map(|(t, t0)| t.clone() - t0.clone())
            .collect();
        // One read-back for ‖θ − θ0‖² and ⟨∇Σℓ, θ − θ0⟩.
        let mut parts: Vec<Tensor<1>> = diffs
            .iter()
            .map(|d| d.clone().powi_scalar(2).sum())
            .collect();
        parts.extend(
            grad.iter()
                .zip(&diffs)
                .map(|(g, d)| (g.clone() * d.clone()).sum()),
        );
        let sums = read_f32(Tensor::cat(parts, 0)).await?;
        let k = diffs.len();
        let dist_sq: f64 = sums[..k].iter().map(|&v| f64::from(v)).sum();
        let inner: f64 = sums[k..].iter().map(|&v| f64::from(v)).sum();
        let proximal_on = !self.config.selective || inner >= 0.0;
        let full: Vec<Tensor<2>> = grad
            .into_iter()
            .zip(&diffs)
            .map(|(g, d)| {
                if proximal_on && lambda > 0.0 {
                    g + d.clone().mul_scalar(lambda)
                } else {
                    g
                }
            })
            .collect();
        let lr = self.config.lr;
        let t = (self.step + 1) as i32;
        self.theta = match &mut self.adam {
            None => self
                .theta
                .iter()
                .zip(full)
                .map(|(th, g)| th.clone() - g.mul_scalar(lr))
                .collect(),
            Some((m, v)) => {
                let c1 = 1.0 - ADAM_BETA1.powi(t);
                let c2 = 1.0 - ADAM_BETA2.powi(t);
                let mut next = Vec::with_capacity(full.len());
                for ((th, g), (mi, vi)) in self
                    .theta
                    .iter()
                    .zip(full)
                    .zip(m.iter_mut().zip(v.iter_mut()))
                {
                    *mi =
                        mi.clone().mul_scalar(ADAM_BETA1) + g.clone().mul_scalar(1.0 - ADAM_BETA1);
                    *vi = vi.clone().mul_scalar(ADAM_BETA2)
                        + g.powi_scalar(2).mul_scalar(1.0 - ADAM_BETA2);
                    let update = mi.clone().div_scalar(c1)
                        / vi.clone().div_scalar(c2).sqrt().add_scalar(ADAM_EPS);
                    next.push(th.clone() - update.mul_scalar(lr));
                }
                next
            }
        };
        let proximal_loss = 0.5 * lambda * dist_sq;
        let record = StepRecord {
            step: self.step,
            data_loss,
            proximal_loss,
            loss: data_loss + proximal_loss,
            param_distance: dist_sq.sqrt(),
            accuracy: metrics::accuracy(&logits, &self.labels, self.classes).unwrap_or(0.0),
            grad_dot_displacement: inner,
            proximal_on,
        };
        self.step += 1;
        self.history.push(record.clone());
        Ok(record)
    }

    /// The parameters now, as host vectors (slot order of the model's LoRA sites, `A` then `B`).
    pub async fn parameters(&self) -> Result<Vec<Vec<f32>>, CoreError> {
        let mut out = Vec::with_capacity(self.theta.len());
        for t in &self.theta {
            out.push(read_f32(t.clone()).await?);
        }
        Ok(out)
    }
}
