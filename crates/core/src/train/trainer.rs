//! The steppable fine-tuning loop.

use burn::prelude::*;
use burn::tensor::activation::log_softmax;
use burn::tensor::TensorData;
use serde::{Deserialize, Serialize};

use super::config::{LossKind, OptimizerKind, TrainConfig};
use super::params::Params;
use super::targets::Targets;
use crate::model::{Model, TokenBatch};
use crate::readback::read_f32;
use crate::rng::SplitMix64;
use crate::steps::{self, Stepwise};
use crate::tokenize::{length_order, restore_order, Encoded};
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
    /// Train accuracy at `θ_t` (`None` for regression).
    pub accuracy: Option<f64>,
    /// `⟨∇Σℓ(θ_t), θ_t − θ0⟩`, the quantity the selective gate looks at.
    pub grad_dot_displacement: f64,
    /// Whether the proximal gradient was applied in this step's update (always true unless
    /// selective; with the gate: when `grad_dot_displacement ≥ 0`).
    pub proximal_on: bool,
}

/// What a finished run of a [`Trainer`] gives.
#[derive(Debug, Clone)]
pub struct TrainedRun {
    /// The run.
    pub run: Run,
    /// The model at the run's final parameters (plain adapters).
    pub model: Model,
    /// `‖θ_T − θ0‖`.
    pub param_distance: f64,
    /// One record per step.
    pub history: Vec<StepRecord>,
}

/// What a finished [`Trainer`] gives: its runs, in order.
#[derive(Debug, Clone)]
pub struct Trained {
    /// Every run.
    pub runs: Vec<TrainedRun>,
}

/// One run of a [`Trainer`]: its proximal strength and step size.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Run {
    /// Proximal strength `λ ≥ 0`.
    pub lambda: f64,
    /// Step size `η > 0`.
    pub lr: f64,
}

/// Full-batch proximal fine-tuning, one step per [`Trainer::step`].
///
/// A trainer can carry several runs that differ only in `λ` and the step size (a sweep's λ
/// grid): they train side by side in one batch, each on its own copy of the LoRA tensors
/// (stacked adapters, see [`crate::model::LoraWeights`]), sharing every pass over the frozen
/// weights. Each run's numbers are those it would have alone (up to f32 summation order).
pub struct Trainer {
    model: Model,
    config: TrainConfig,
    runs: Vec<Run>,
    params: Params,
    theta0: Vec<Tensor<2>>,
    theta: Vec<Tensor<2>>,
    adam: Option<(Vec<Tensor<2>>, Vec<Tensor<2>>)>,
    /// Per slot: the runs' step sizes and λ as `[R, 1, 1]` (broadcast over a run's rows).
    run_scalars: Vec<(Tensor<3>, Tensor<3>)>,
    /// Every sample, for a full-batch step (its targets are in the caller's order).
    full: StepData,
    /// The samples in the caller's order (minibatches are drawn from them).
    samples: Vec<Encoded>,
    classes: usize,
    step: usize,
    history: Vec<Vec<StepRecord>>,
}

/// One chunk's gradient per slot of θ and its logits (see [`Trainer::chunk_pass`]).
type ChunkPass = (Vec<Tensor<2>>, Vec<f32>);

/// The samples of one step, in chunks of similar length (each chunk holds its samples once per
/// run, run-major, all through one pass).
struct StepData {
    chunks: Vec<(TokenBatch, Tensor<2>)>,
    /// `order[k]` = the index (into the step's samples) of the `k`-th sample in chunk order.
    order: Vec<usize>,
    /// The step's targets, in the step's sample order.
    targets: Targets,
}

impl StepData {
    /// The samples `index` of `samples` with their `targets`, chunked for `replicas` runs.
    fn new(
        model: &Model,
        samples: &[Encoded],
        targets: &Targets,
        index: &[usize],
        config: &TrainConfig,
        replicas: usize,
    ) -> Result<StepData, CoreError> {
        let picked: Vec<Encoded> = index.iter().map(|&i| samples[i].clone()).collect();
        let targets = targets.reordered(index);
        let classes = targets.outputs();
        let order = length_order(&picked);
        let sorted: Vec<Encoded> = order.iter().map(|&i| picked[i].clone()).collect();
        let sorted_y: Vec<f32> = targets
            .reordered(&order)
            .matrix()
            .into_iter()
            .map(|v| v as f32)
            .collect();
        let device = model.device();
        let mut chunks = Vec::new();
        for (part, ys) in sorted
            .chunks(config.chunk_size)
            .zip(sorted_y.chunks(config.chunk_size * classes))
        {
            let y = TensorData::new(ys.to_vec(), [part.len(), classes]);
            let y = Tensor::<2>::from_data(y, &device);
            let all: Vec<Encoded> = (0..replicas).flat_map(|_| part.iter().cloned()).collect();
            chunks.push((batch_of(model, &all)?, Tensor::cat(vec![y; replicas], 0)));
        }
        Ok(StepData {
            chunks,
            order,
            targets,
        })
    }

    fn len(&self) -> usize {
        self.order.len()
    }
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
    let order = length_order(samples);
    let sorted: Vec<Encoded> = order.iter().map(|&i| samples[i].clone()).collect();
    let mut out = Vec::new();
    let mut classes = 0;
    for part in sorted.chunks(chunk.max(1)) {
        let logits = model
            .infer(&batch_of(model, part)?)?
            .logits
            .ok_or_else(|| CoreError::invalid("model", "the model has no head"))?;
        classes = logits.dims()[1];
        out.extend(read_f32(logits).await?.into_iter().map(f64::from));
    }
    Ok(restore_order(&out, &order, classes))
}

impl Trainer {
    /// Prepares fine-tuning of `model`'s LoRA (and head, if configured) on `samples` with
    /// `targets`; `θ0` is the model's current value.
    pub fn new(
        model: &Model,
        samples: &[Encoded],
        targets: &Targets,
        config: TrainConfig,
    ) -> Result<Trainer, CoreError> {
        let run = Run {
            lambda: config.lambda,
            lr: config.lr,
        };
        Trainer::batched(model, samples, targets, config, &[run])
    }

    /// Prepares the `runs` side by side (`config.lambda` and `config.lr` are ignored; each run
    /// brings its own). Training the head is for one run at a time.
    pub fn batched(
        model: &Model,
        samples: &[Encoded],
        targets: &Targets,
        config: TrainConfig,
        runs: &[Run],
    ) -> Result<Trainer, CoreError> {
        let replicas = runs.len();
        if replicas == 0 {
            return Err(CoreError::invalid("lambdas", "give at least one run"));
        }
        for run in runs {
            TrainConfig {
                lambda: run.lambda,
                lr: run.lr,
                ..config
            }
            .validate()?;
        }
        if replicas > 1 && config.train_head {
            return Err(CoreError::invalid(
                "train_head",
                "runs that train the head cannot share a batch; train them one at a time",
            ));
        }
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
        targets.check(samples.len(), classes, config.loss)?;
        let mut model = model.clone();
        if replicas > 1 {
            for site in model.lora_sites() {
                if let Some(l) = model.lora_mut(site) {
                    *l = l.stacked(replicas);
                }
            }
        }
        let params = Params::from_model(&model, config.train_head)?;
        let device = model.device();
        // Chunks of samples of similar length pad least; the sum over chunks is the same.
        let all: Vec<usize> = (0..samples.len()).collect();
        let full = StepData::new(&model, samples, targets, &all, &config, replicas)?;
        let theta0 = params.values.clone();
        let adam = (config.optimizer == OptimizerKind::Adam).then(|| {
            let zeros: Vec<Tensor<2>> = theta0.iter().map(Tensor::zeros_like).collect();
            (zeros.clone(), zeros)
        });
        let per_run = |f: fn(&Run) -> f64| {
            let v: Vec<f32> = runs.iter().map(|r| f(r) as f32).collect();
            Tensor::<3>::from_data(TensorData::new(v, [replicas, 1, 1]), &device)
        };
        let run_scalars = theta0
            .iter()
            .map(|_| (per_run(|r| r.lr), per_run(|r| r.lambda)))
            .collect();
        Ok(Trainer {
            model,
            config,
            runs: runs.to_vec(),
            theta: theta0.clone(),
            theta0,
            params,
            adam,
            run_scalars,
            full,
            samples: samples.to_vec(),
            classes,
            step: 0,
            history: vec![Vec::new(); replicas],
        })
    }

    /// The runs.
    pub fn runs(&self) -> &[Run] {
        &self.runs
    }

    /// The records of the first run's steps so far.
    pub fn history(&self) -> &[StepRecord] {
        self.history_of(0)
    }

    /// The records of run `k`'s steps so far (empty for a run that does not exist).
    pub fn history_of(&self, k: usize) -> &[StepRecord] {
        self.history.get(k).map_or(&[], Vec::as_slice)
    }

    /// The model at the first run's current parameters.
    pub fn model(&self) -> Result<Model, CoreError> {
        self.model_of(0)
    }

    /// The model at run `k`'s current parameters (plain adapters).
    pub fn model_of(&self, k: usize) -> Result<Model, CoreError> {
        if k >= self.runs.len() {
            return Err(CoreError::invalid("run", format!("no run {k}")));
        }
        let mut m = self.model.clone();
        self.params.write(&mut m, &self.theta)?;
        if self.runs.len() > 1 {
            for site in m.lora_sites() {
                if let Some(l) = m.lora_mut(site) {
                    *l = l.replica(k);
                }
            }
        }
        Ok(m)
    }

    /// Number of trained scalars (of one run).
    pub fn param_count(&self) -> usize {
        self.params.count() / self.runs.len()
    }

    /// `‖θ − θ0‖` of the first run now.
    pub async fn param_distance(&self) -> Result<f64, CoreError> {
        Ok(self.per_run_sums(&self.diffs(), None).await?.0[0].sqrt())
    }

    /// `‖θ_k − θ0‖` of every run now.
    pub async fn param_distances(&self) -> Result<Vec<f64>, CoreError> {
        let (sq, _) = self.per_run_sums(&self.diffs(), None).await?;
        Ok(sq.into_iter().map(f64::sqrt).collect())
    }

    fn diffs(&self) -> Vec<Tensor<2>> {
        self.theta
            .iter()
            .zip(&self.theta0)
            .map(|(t, t0)| t.clone() - t0.clone())
            .collect()
    }

    /// A slot's tensor `[R·k, m]` as `[R, k, m]` (run `r` is row block `r`).
    fn by_run(&self, t: Tensor<2>) -> Tensor<3> {
        let [rows, cols] = t.dims();
        let rep = self.runs.len();
        t.reshape([rep, rows / rep, cols])
    }

    /// Per run: `Σ ‖d‖²` over the slots, and with `grads` also `Σ ⟨g, d⟩`. One read-back.
    async fn per_run_sums(
        &self,
        diffs: &[Tensor<2>],
        grads: Option<&[Tensor<2>]>,
    ) -> Result<(Vec<f64>, Vec<f64>), CoreError> {
        let rep = self.runs.len();
        let reduce = |t: Tensor<3>| t.sum_dim(2).sum_dim(1).reshape([rep]);
        let mut parts: Vec<Tensor<1>> = diffs
            .iter()
            .map(|d| reduce(self.by_run(d.clone().powi_scalar(2))))
            .collect();
        if let Some(g) = grads {
            parts.extend(
                g.iter()
                    .zip(diffs)
                    .map(|(g, d)| reduce(self.by_run(g.clone() * d.clone()))),
            );
        }
        let v = read_f32(Tensor::cat(parts, 0)).await?;
        let sum_over_slots = |part: &[f32]| -> Vec<f64> {
            (0..rep)
                .map(|r| part.chunks(rep).map(|c| f64::from(c[r])).sum())
                .collect()
        };
        let k = diffs.len() * rep;
        Ok((sum_over_slots(&v[..k]), sum_over_slots(&v[k..])))
    }

    /// The minibatch of the current step (`None`: full batch): epoch `e` shuffles the samples
    /// with a generator derived from the seed and `e`, and takes consecutive slices.
    fn minibatch(&self) -> Result<Option<StepData>, CoreError> {
        let n = self.samples.len();
        let Some(b) = self.config.batch_size.filter(|&b| b < n) else {
            return Ok(None);
        };
        let per_epoch = n.div_ceil(b);
        let (epoch, k) = (self.step / per_epoch, self.step % per_epoch);
        let mut order: Vec<usize> = (0..n).collect();
        SplitMix64::derived(self.config.seed, &[epoch as u64]).shuffle(&mut order);
        let index = &order[k * b..((k + 1) * b).min(n)];
        let data = StepData::new(
            &self.model,
            &self.samples,
            &self.full.targets,
            index,
            &self.config,
            self.runs.len(),
        )?;
        Ok(Some(data))
    }

    /// Optimisation steps per pass over the samples (1 in full batch).
    pub fn steps_per_epoch(&self) -> usize {
        let n = self.samples.len();
        self.config
            .batch_size
            .filter(|&b| b < n)
            .map_or(1, |b| n.div_ceil(b))
    }

    /// The data-loss gradient `Σ_i ∇ℓ_i` over `data`'s samples at `θ_t` (summed over chunks, in
    /// chunk order) and every run's logits (`[m, C]` in `data`'s sample order).
    async fn data_gradient(
        &self,
        data: &StepData,
    ) -> Result<(Vec<Tensor<2>>, Vec<Vec<f64>>), CoreError> {
        let rep = self.runs.len();
        let mut total: Option<Vec<Tensor<2>>> = None;
        let mut logits_all = vec![Vec::new(); rep];
        for pass in self.chunk_passes(data).await {
            let (g, values) = pass?;
            let per_run = values.len() / rep;
            for (r, out) in logits_all.iter_mut().enumerate() {
                out.extend(
                    values[r * per_run..(r + 1) * per_run]
                        .iter()
                        .map(|&v| f64::from(v)),
                );
            }
            total = Some(match total {
                None => g,
                Some(acc) => acc.into_iter().zip(g).map(|(a, b)| a + b).collect(),
            });
        }
        let total = total.ok_or_else(|| CoreError::invalid("samples", "no samples"))?;
        let logits = logits_all
            .iter()
            .map(|l| restore_order(l, &data.order, self.classes))
            .collect();
        Ok((total, logits))
    }

    /// [`Trainer::chunk_pass`] of every chunk of `data`, in chunk order: side by side on the CPU
    /// with a pool of threads ([`crate::parallel`]; each chunk has its own leaves, so its own
    /// graph), one after the other elsewhere. Either way the same numbers, summed in the same
    /// order.
    async fn chunk_passes(&self, data: &StepData) -> Vec<Result<ChunkPass, CoreError>> {
        if data.chunks.len() >= 2 && crate::parallel::passes_side_by_side(&self.model.device()) {
            return self.chunk_passes_side_by_side(data);
        }
        self.chunk_passes_in_order(data).await
    }

    fn chunk_passes_side_by_side(&self, data: &StepData) -> Vec<Result<ChunkPass, CoreError>> {
        crate::parallel::map_side_by_side(&data.chunks, |(batch, y)| self.chunk_pass(batch, y))
    }

    async fn chunk_passes_in_order(&self, data: &StepData) -> Vec<Result<ChunkPass, CoreError>> {
        let mut out = Vec::with_capacity(data.chunks.len());
        for (batch, y) in &data.chunks {
            out.push(self.chunk_pass(batch, y).await);
        }
        out
    }

    /// One chunk's forward and backward pass at `θ_t`: the gradient of its data loss for each
    /// slot of θ, and its logits (`[rows, C]`, run-major).
    async fn chunk_pass(&self, batch: &TokenBatch, y: &Tensor<2>) -> Result<ChunkPass, CoreError> {
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
        let values = read_f32(logits.clone().inner()).await?;
        let y = y.clone().autodiff();
        let loss = match self.config.loss {
            LossKind::Mse => (logits - y).powi_scalar(2).sum().mul_scalar(0.5),
            LossKind::Ce => (log_softmax(logits, 1) * y).sum().neg(),
        };
        let grads = loss.backward();
        // A tensor that does not reach the loss has a zero gradient.
        let g = leaves
            .iter()
            .zip(&self.theta)
            .map(|(leaf, t)| leaf.grad(&grads).unwrap_or_else(|| Tensor::zeros_like(t)))
            .collect();
        Ok((g, values))
    }

    /// One optimisation step of the first run (of every run; see [`Trainer::step_all`]);
    /// returns the first run's record.
    pub async fn step(&mut self) -> Result<StepRecord, CoreError> {
        let mut records = self.step_all().await?;
        Ok(records.swap_remove(0))
    }

    /// One optimisation step of every run; returns their records, in run order.
    pub async fn step_all(&mut self) -> Result<Vec<StepRecord>, CoreError> {
        let rep = self.runs.len();
        let batch = self.minibatch()?;
        let data = batch.as_ref().unwrap_or(&self.full);
        let (mut grad, logits) = self.data_gradient(data).await?;
        // A minibatch's sum, scaled to estimate the sum over all samples.
        let scale = self.samples.len() as f64 / data.len() as f64;
        if batch.is_some() {
            grad = grad
                .into_iter()
                .map(|g| g.mul_scalar(scale as f32))
                .collect();
        }
        let data_loss: Vec<f64> = logits
            .iter()
            .map(|l| scale * data.targets.loss(self.config.loss, l))
            .collect();
        let factor = self.config.schedule.factor(self.step, self.config.steps) as f32;
        if let Some(k) = data_loss.iter().position(|l| !l.is_finite()) {
            return Err(CoreError::NonFinite(format!(
                "the training loss diverged at step {} (λ {}, lr {} may be too large)",
                self.step, self.runs[k].lambda, self.runs[k].lr
            )));
        }
        let diffs = self.diffs();
        // One read-back for every run's ‖θ − θ0‖² and ⟨∇Σℓ, θ − θ0⟩.
        let (dist_sq, inner) = self.per_run_sums(&diffs, Some(&grad)).await?;
        let proximal_on: Vec<bool> = inner
            .iter()
            .map(|&i| !self.config.selective || i >= 0.0)
            .collect();
        let device = self.model.device();
        let gate: Vec<f32> = proximal_on
            .iter()
            .map(|&on| f32::from(u8::from(on)))
            .collect();
        let gate = Tensor::<3>::from_data(TensorData::new(gate, [rep, 1, 1]), &device);
        let full: Vec<Tensor<3>> = grad
            .into_iter()
            .zip(&diffs)
            .zip(&self.run_scalars)
            .map(|((g, d), (_, lambda))| {
                let prox = self.by_run(d.clone()) * lambda.clone() * gate.clone();
                self.by_run(g) + prox
            })
            .collect();
        let t = (self.step + 1) as i32;
        let mut next = Vec::with_capacity(full.len());
        match &mut self.adam {
            None => {
                for ((th, g), (lr, _)) in self.theta.iter().zip(full).zip(&self.run_scalars) {
                    let [rows, cols] = th.dims();
                    let th3 = th.clone().reshape([rep, rows / rep, cols]);
                    next.push((th3 - g * lr.clone().mul_scalar(factor)).reshape([rows, cols]));
                }
            }
            Some((m, v)) => {
                let c1 = 1.0 - ADAM_BETA1.powi(t);
                let c2 = 1.0 - ADAM_BETA2.powi(t);
                for (((th, g), (mi, vi)), (lr, _)) in self
                    .theta
                    .iter()
                    .zip(full)
                    .zip(m.iter_mut().zip(v.iter_mut()))
                    .zip(&self.run_scalars)
                {
                    let [rows, cols] = th.dims();
                    let g = g.reshape([rows, cols]);
                    *mi =
                        mi.clone().mul_scalar(ADAM_BETA1) + g.clone().mul_scalar(1.0 - ADAM_BETA1);
                    *vi = vi.clone().mul_scalar(ADAM_BETA2)
                        + g.powi_scalar(2).mul_scalar(1.0 - ADAM_BETA2);
                    let update = mi.clone().div_scalar(c1)
                        / vi.clone().div_scalar(c2).sqrt().add_scalar(ADAM_EPS);
                    let th3 = th.clone().reshape([rep, rows / rep, cols]);
                    let u3 = update.reshape([rep, rows / rep, cols]);
                    next.push((th3 - u3 * lr.clone().mul_scalar(factor)).reshape([rows, cols]));
                }
            }
        }
        self.theta = next;
        let mut records = Vec::with_capacity(rep);
        for (k, run) in self.runs.iter().enumerate() {
            let proximal_loss = 0.5 * run.lambda * dist_sq[k];
            let record = StepRecord {
                step: self.step,
                data_loss: data_loss[k],
                proximal_loss,
                loss: data_loss[k] + proximal_loss,
                param_distance: dist_sq[k].sqrt(),
                accuracy: data.targets.quality(&logits[k]).accuracy,
                grad_dot_displacement: inner[k],
                proximal_on: proximal_on[k],
            };
            self.history[k].push(record.clone());
            records.push(record);
        }
        self.step += 1;
        Ok(records)
    }

    /// The first run's parameters now, as host vectors (slot order of the model's LoRA sites,
    /// `A` then `B`).
    pub async fn parameters(&self) -> Result<Vec<Vec<f32>>, CoreError> {
        let rep = self.runs.len();
        let mut out = Vec::with_capacity(self.theta.len());
        for t in &self.theta {
            let [rows, cols] = t.dims();
            out.push(
                read_f32(
                    t.clone()
                        .narrow(0, 0, rows / rep)
                        .reshape([rows / rep, cols]),
                )
                .await?,
            );
        }
        Ok(out)
    }
}

impl Stepwise for Trainer {
    type Output = Trained;

    fn total_steps(&self) -> usize {
        self.config.steps
    }

    /// Steps done (by every run).
    fn steps_done(&self) -> usize {
        self.step
    }

    fn describe(&self) -> String {
        format!("gradient step {} of {}", self.step + 1, self.config.steps)
    }

    async fn advance(&mut self) -> Result<(), CoreError> {
        if !self.is_done() {
            self.step_all().await?;
        }
        Ok(())
    }

    /// The first run's loss at its last step.
    async fn loss(&self) -> Option<f64> {
        self.history.first()?.last().map(|r| r.loss)
    }

    async fn finish(self) -> Result<Trained, CoreError> {
        if !self.is_done() {
            return Err(steps::unfinished(
                "training",
                self.steps_done(),
                self.total_steps(),
            ));
        }
        let distances = self.param_distances().await?;
        let mut runs = Vec::with_capacity(self.runs.len());
        for (k, run) in self.runs.iter().enumerate() {
            runs.push(TrainedRun {
                run: *run,
                model: self.model_of(k)?,
                param_distance: distances[k],
                history: self.history[k].clone(),
            });
        }
        Ok(Trained { runs })
    }
}

#[cfg(all(test, not(target_family = "wasm")))]
mod tests {
    use super::*;
    use crate::block_on;
    use crate::model::Family;
    use crate::test_model::{samples_of_lengths, tiny_lora_model};

    /// The chunks' passes side by side give the very numbers of the passes in order (each chunk
    /// is the same computation either way, and the sum runs in chunk order).
    #[test]
    fn chunks_side_by_side_give_the_in_order_gradients_and_logits() {
        let model = tiny_lora_model(Family::Bert, 5, None);
        let targets = Targets::Classes {
            labels: vec![0, 1, 1, 0, 1],
            classes: 2,
        };
        let config = TrainConfig {
            chunk_size: 2,
            ..TrainConfig::default()
        };
        let samples = samples_of_lengths(&[7, 3, 11, 5, 9]);
        let tr = Trainer::new(&model, &samples, &targets, config).unwrap();
        assert_eq!(tr.full.chunks.len(), 3);
        let read = |passes: Vec<Result<ChunkPass, CoreError>>| -> Vec<(Vec<Vec<f32>>, Vec<f32>)> {
            passes
                .into_iter()
                .map(|p| {
                    let (g, logits) = p.unwrap();
                    let g = g
                        .into_iter()
                        .map(|t| block_on(read_f32(t)).unwrap())
                        .collect();
                    (g, logits)
                })
                .collect()
        };
        let apart = read(tr.chunk_passes_side_by_side(&tr.full));
        let in_order = read(block_on(tr.chunk_passes_in_order(&tr.full)));
        assert_eq!(apart, in_order);
        let moved: f32 = in_order
            .iter()
            .flat_map(|(g, _)| g.iter().flatten())
            .map(|v| v.abs())
            .sum();
        assert!(moved > 1e-4, "the gradients are not all zero: {moved}");
        assert_eq!(in_order.iter().map(|(_, l)| l.len()).sum::<usize>(), 5 * 2);
    }
}
