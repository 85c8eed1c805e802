//! Steppable assembly of the per-block kernels, chunk by chunk.
//!
//! Train samples are processed first, then eval samples, each set sorted by token length so that
//! a chunk pads its sequences as little as possible (the rows go back to the caller's order at
//! [`NtkBuilder::finish`]). Each train chunk's per-sample
//! gradients are kept (they are needed for every later pair of chunks: `n·C × P` floats, with `P`
//! the LoRA parameter count, which is small by design) and multiplied with every train row seen
//! so far; each eval chunk is multiplied with all train rows (the cross kernel) and dropped. The
//! layer activations of a chunk are freed once its gradients are formed. Grams are computed on
//! the device in `f32` and stored in `f64`.

use burn::prelude::*;

use super::factor::{gram, BlockFactor};
use super::jacobian::{block_names, block_param_counts, chunk_jacobian_with, zero_b_sites};
use super::options::{KernelKind, NtkOptions, ParamSet};
use crate::model::{ClassifierHead, Model};
use crate::readback::read_f32;
use crate::spectrum::{BlockSet, Kernel, Layout};
use crate::steps::{self, Stepwise};
use crate::tokenize::{length_order, restore_order, Encoded};
use crate::CoreError;

/// The NTK blocks over train samples, the cross blocks eval × train, and the initial logits.
#[derive(Debug, Clone)]
pub struct NtkBlocks {
    /// Number of train samples `n`.
    pub n: usize,
    /// Number of eval samples `m` (0 when none were given).
    pub n_eval: usize,
    /// Number of classes `C`.
    pub classes: usize,
    /// Plain or sign kernel.
    pub kind: KernelKind,
    /// The parameters of the Jacobian (with the head, its block is `head`).
    pub params: ParamSet,
    /// Number of parameters of each block (order of `train.names()`).
    pub param_counts: Vec<usize>,
    /// One `nC × nC` kernel per block (full layout, sample-major).
    pub train: BlockSet,
    /// One row-major `mC × nC` cross kernel per block (same order).
    pub cross: Vec<Vec<f64>>,
    /// Initial train logits `f0(X)`, `nC`, sample-major.
    pub f0_train: Vec<f64>,
    /// Initial eval logits, `mC`.
    pub f0_eval: Vec<f64>,
}

impl NtkBlocks {
    /// Total number of parameters.
    pub fn params(&self) -> usize {
        self.param_counts.iter().sum()
    }

    /// The kernel of all blocks.
    pub fn total(&self) -> Result<Kernel, CoreError> {
        self.train.total()
    }

    /// The kernel of the named blocks (`K_S = Σ_{b∈S} K_b`).
    pub fn subset<S: AsRef<str>>(&self, names: &[S]) -> Result<Kernel, CoreError> {
        self.train.sum(names)
    }

    /// The cross kernel (`mC × nC`, row-major) of the named blocks.
    pub fn cross_subset<S: AsRef<str>>(&self, names: &[S]) -> Result<Vec<f64>, CoreError> {
        let mut out = vec![0.0; self.n_eval * self.classes * self.n * self.classes];
        for name in names {
            let k = self.train.index_of(name.as_ref()).ok_or_else(|| {
                CoreError::invalid("blocks", format!("no block named `{}`", name.as_ref()))
            })?;
            for (o, v) in out.iter_mut().zip(&self.cross[k]) {
                *o += v;
            }
        }
        Ok(out)
    }

    /// The cross kernel of all blocks.
    pub fn cross_total(&self) -> Vec<f64> {
        let names: Vec<&str> = self.train.names().iter().map(String::as_str).collect();
        self.cross_subset(&names).unwrap_or_default()
    }
}

/// A row-major `[rows·C, cols·C]` matrix over sorted samples, back in the callers' order:
/// sorted row sample `k` is sample `rows[k]`, sorted column sample `l` is `cols[l]`.
fn unsort(sorted: &[f64], rows: &[usize], cols: &[usize], c: usize) -> Vec<f64> {
    let width = cols.len() * c;
    let mut out = vec![0.0; sorted.len()];
    for (k, &i) in rows.iter().enumerate() {
        for a in 0..c {
            let src = &sorted[(k * c + a) * width..(k * c + a + 1) * width];
            let dst = &mut out[(i * c + a) * width..(i * c + a + 1) * width];
            for (l, &j) in cols.iter().enumerate() {
                dst[j * c..(j + 1) * c].copy_from_slice(&src[l * c..(l + 1) * c]);
            }
        }
    }
    out
}

/// The number of class logits of `model`'s head, which an NTK differentiates.
///
/// Errors: a model without a classification head.
pub(crate) fn head_classes(model: &Model) -> Result<usize, CoreError> {
    model
        .head
        .as_ref()
        .map(ClassifierHead::num_classes)
        .ok_or_else(|| {
            CoreError::invalid(
                "model",
                "the NTK of class logits needs a classification head",
            )
        })
}

/// Computes [`NtkBlocks`] one chunk per [`NtkBuilder::step`].
///
/// The empirical NTK of a tiny seeded model with LoRA over 4 samples, its trace and largest
/// eigenvalue:
///
/// ```
/// use ntk_lens_core::device::cpu_device;
/// use ntk_lens_core::model::Family;
/// use ntk_lens_core::ntk::{NtkBuilder, NtkOptions};
/// use ntk_lens_core::spectrum::SpectrumOptions;
/// use ntk_lens_core::steps::Stepwise;
/// use ntk_lens_core::test_model::{tiny_lora_model_on, token_samples};
///
/// // 2 layers of width 16, 2 classes, LoRA r = 2 on query and value with B drawn (seed 11).
/// let model = tiny_lora_model_on(Family::Bert, 7, Some(11), &cpu_device())?;
/// let samples = token_samples(&[4, 6, 5, 8], (7, 13));
/// let builder = NtkBuilder::new(&model, &samples, &[], NtkOptions::default())?;
/// let ntk = ntk_lens_core::block_on(builder.run())?; // one step per chunk of samples
/// let k = ntk.total()?; // J Jᵀ over every LoRA block: 4 samples × 2 classes
/// let spectrum = k.spectrum(&SpectrumOptions::for_f32(k.dim()))?;
/// println!("{} × {}: tr K = {:.4e}, λ_max = {:.4e}", k.dim(), k.dim(), k.trace(), spectrum.max);
/// assert_eq!((k.dim(), ntk.train.names().len()), (8, 4));
/// assert!(spectrum.max > 0.0 && spectrum.max <= k.trace());
/// # Ok::<(), ntk_lens_core::CoreError>(())
/// ```
pub struct NtkBuilder {
    model: Model,
    /// Train samples, then eval samples, each sorted by length.
    samples: Vec<Encoded>,
    /// `order[k]` = the caller's index (within its set) of sorted sample `k`.
    order: Vec<usize>,
    /// Per differentiated site: `B = 0`, found at the first step.
    zero_b: Option<Vec<bool>>,
    n: usize,
    classes: usize,
    options: NtkOptions,
    names: Vec<String>,
    param_counts: Vec<usize>,
    next: usize,
    cache: Vec<Option<BlockFactor>>,
    train: Vec<Vec<f64>>,
    cross: Vec<Vec<f64>>,
    logits: Vec<f64>,
}

impl NtkBuilder {
    /// Prepares the kernel of `model` (with its head and LoRA adapters) over the tokenized
    /// `train` samples, plus cross kernels for `eval`.
    pub fn new(
        model: &Model,
        train: &[Encoded],
        eval: &[Encoded],
        options: NtkOptions,
    ) -> Result<Self, CoreError> {
        options.validate()?;
        let classes = head_classes(model)?;
        if train.is_empty() {
            return Err(CoreError::invalid(
                "n",
                "the NTK needs at least one train sample; n is 0",
            ));
        }
        if let Some(i) = train.iter().chain(eval).position(|s| s.ids.is_empty()) {
            return Err(CoreError::input(
                "samples",
                format!("sample {i} has no tokens"),
            ));
        }
        let names = block_names(model, &options)?;
        let param_counts = block_param_counts(model, &options);
        let (n, m) = (train.len(), eval.len());
        let blocks = names.len();
        let mut order = length_order(train);
        order.extend(length_order(eval));
        let samples = order
            .iter()
            .enumerate()
            .map(|(k, &i)| if k < n { &train[i] } else { &eval[i] })
            .cloned()
            .collect();
        Ok(NtkBuilder {
            model: model.clone(),
            samples,
            order,
            zero_b: None,
            n,
            classes,
            options,
            names,
            param_counts,
            next: 0,
            cache: vec![None; blocks],
            train: vec![vec![0.0; n * classes * n * classes]; blocks],
            cross: vec![vec![0.0; m * classes * n * classes]; blocks],
            logits: vec![0.0; (n + m) * classes],
        })
    }

    /// Chunks of train samples in all.
    pub fn train_chunks(&self) -> usize {
        self.n.div_ceil(self.options.chunk_size)
    }

    /// Whether every train chunk is done (the train kernel is complete; eval chunks may remain).
    pub fn train_done(&self) -> bool {
        self.next >= self.n
    }

    /// The block names (`block.<layer>.<module>`, then `head`).
    pub fn block_names(&self) -> &[String] {
        &self.names
    }

    /// Processes the next chunk. Does nothing when done.
    async fn step(&mut self) -> Result<(), CoreError> {
        if self.next >= self.samples.len() {
            return Ok(());
        }
        let start = self.next;
        let limit = if start < self.n {
            self.n
        } else {
            self.samples.len()
        };
        let end = (start + self.options.chunk_size).min(limit);
        if self.zero_b.is_none() {
            self.zero_b = Some(zero_b_sites(&self.model, &self.options).await?);
        }
        let zero_b = self.zero_b.as_deref().unwrap_or_default();
        let chunk = chunk_jacobian_with(
            &self.model,
            &self.samples[start..end],
            &self.options,
            zero_b,
        )
        .await?;
        let c = self.classes;
        for (k, v) in chunk.logits.iter().enumerate() {
            self.logits[start * c + k] = f64::from(*v);
        }
        let rows = (end - start) * c;
        let kind = self.options.kernel;
        if start < self.n {
            // Append to the train rows, then Gram of the new rows with all train rows so far.
            for (slot, f) in self.cache.iter_mut().zip(chunk.blocks) {
                *slot = Some(match slot.take() {
                    Some(prev) => prev.append(f),
                    None => f,
                });
            }
            let seen = end * c;
            let new_rows: Vec<Tensor<2>> = self
                .cache
                .iter()
                .flatten()
                .map(|all| {
                    let own = all.narrow_rows(start * c, rows);
                    gram(&own, all, kind)
                })
                .collect();
            let values = read_f32(Tensor::cat(new_rows, 0)).await?; // [blocks·rows, seen]
            let transposed = if kind == KernelKind::Sign && start > 0 {
                // S[prev, new] = J_prev s(J_new)ᵀ is not the transpose of S[new, prev].
                let cols: Vec<Tensor<2>> = self
                    .cache
                    .iter()
                    .flatten()
                    .map(|all| {
                        let own = all.narrow_rows(start * c, rows);
                        let prev = all.narrow_rows(0, start * c);
                        gram(&prev, &own, kind)
                    })
                    .collect();
                Some(read_f32(Tensor::cat(cols, 0)).await?) // [blocks·start·c, rows]
            } else {
                None
            };
            let dim = self.n * c;
            for (b, kernel) in self.train.iter_mut().enumerate() {
                for r in 0..rows {
                    for col in 0..seen {
                        let v = f64::from(values[(b * rows + r) * seen + col]);
                        let row = start * c + r;
                        kernel[row * dim + col] = v;
                        if kind == KernelKind::Plain {
                            kernel[col * dim + row] = v;
                        }
                    }
                }
                if let Some(t) = &transposed {
                    let prev = start * c;
                    for pr in 0..prev {
                        for r in 0..rows {
                            kernel[pr * dim + start * c + r] =
                                f64::from(t[(b * prev + pr) * rows + r]);
                        }
                    }
                }
            }
        } else {
            let grams: Vec<Tensor<2>> = chunk
                .blocks
                .iter()
                .zip(self.cache.iter().flatten())
                .map(|(own, all)| gram(own, all, kind))
                .collect();
            let values = read_f32(Tensor::cat(grams, 0)).await?; // [blocks·rows, nC]
            let dim = self.n * c;
            let first = (start - self.n) * c;
            for (b, cross) in self.cross.iter_mut().enumerate() {
                for r in 0..rows {
                    let src = &values[(b * rows + r) * dim..(b * rows + r + 1) * dim];
                    for (o, v) in cross[(first + r) * dim..(first + r + 1) * dim]
                        .iter_mut()
                        .zip(src)
                    {
                        *o = f64::from(*v);
                    }
                }
            }
        }
        self.next = end;
        Ok(())
    }

    /// The train kernel blocks once [`NtkBuilder::train_done`] (no cross kernels, `n_eval` 0),
    /// while the eval chunks may still be to come: the page shows the NTK before its cross
    /// kernels for the eval predictions are done.
    pub fn train_blocks(&self) -> Result<NtkBlocks, CoreError> {
        if !self.train_done() {
            return Err(steps::unfinished(
                "ntk",
                self.steps_done(),
                self.train_chunks(),
            ));
        }
        self.assemble(0)
    }

    /// The blocks over the train samples and the first `m` eval samples.
    fn assemble(&self, m: usize) -> Result<NtkBlocks, CoreError> {
        let (n, c) = (self.n, self.classes);
        let (train_order, eval_order) = self.order.split_at(n);
        let eval_order = &eval_order[..m];
        let mut train = BlockSet::new();
        for (name, k) in self.names.iter().zip(&self.train) {
            let k = unsort(k, train_order, train_order, c);
            train.insert(
                name.clone(),
                Kernel::from_row_major(n, c, Layout::Full, &k)?,
            )?;
        }
        let cross: Vec<Vec<f64>> = self
            .cross
            .iter()
            .map(|k| unsort(&k[..m * c * n * c], eval_order, train_order, c))
            .collect();
        if let Some(v) = cross.iter().flatten().find(|v| !v.is_finite()) {
            return Err(CoreError::NonFinite(format!("cross kernel entry {v}")));
        }
        let (f0_train, f0_eval) = self.logits.split_at(n * c);
        let f0_eval = &f0_eval[..m * c];
        Ok(NtkBlocks {
            n,
            n_eval: m,
            classes: c,
            kind: self.options.kernel,
            params: self.options.params,
            param_counts: self.param_counts.clone(),
            train,
            cross,
            f0_train: restore_order(f0_train, train_order, c),
            f0_eval: restore_order(f0_eval, eval_order, c),
        })
    }
}

/// The train chunks of an [`NtkBuilder`] as a computation of their own: its result is the
/// builder with the train kernel complete ([`NtkBuilder::train_blocks`]) and the eval chunks
/// still to come, so that the train kernel can be shown before the eval samples' kernels.
pub struct TrainPart(pub NtkBuilder);

impl Stepwise for TrainPart {
    type Output = NtkBuilder;

    fn total_steps(&self) -> usize {
        self.0.train_chunks()
    }

    fn steps_done(&self) -> usize {
        self.0.steps_done().min(self.0.train_chunks())
    }

    fn is_done(&self) -> bool {
        self.0.train_done()
    }

    fn describe(&self) -> String {
        self.0.describe()
    }

    async fn advance(&mut self) -> Result<(), CoreError> {
        self.0.step().await
    }

    async fn finish(self) -> Result<NtkBuilder, CoreError> {
        Ok(self.0)
    }
}

/// The eval chunks of an [`NtkBuilder`] whose train part is done, as a computation of their own
/// (the page's second job after an NTK): its steps count the eval chunks only, so that its
/// progress starts at zero. Its result is the builder's.
pub struct EvalPart(pub NtkBuilder);

impl Stepwise for EvalPart {
    type Output = NtkBlocks;

    fn total_steps(&self) -> usize {
        self.0.total_steps() - self.0.train_chunks()
    }

    fn steps_done(&self) -> usize {
        self.0.steps_done().saturating_sub(self.0.train_chunks())
    }

    fn is_done(&self) -> bool {
        self.0.is_done()
    }

    fn describe(&self) -> String {
        self.0.describe()
    }

    async fn advance(&mut self) -> Result<(), CoreError> {
        self.0.step().await
    }

    async fn finish(self) -> Result<NtkBlocks, CoreError> {
        self.0.finish().await
    }
}

impl Stepwise for NtkBuilder {
    type Output = NtkBlocks;

    fn total_steps(&self) -> usize {
        let c = self.options.chunk_size;
        self.n.div_ceil(c) + (self.samples.len() - self.n).div_ceil(c)
    }

    fn steps_done(&self) -> usize {
        let c = self.options.chunk_size;
        if self.next <= self.n {
            self.next.div_ceil(c)
        } else {
            self.n.div_ceil(c) + (self.next - self.n).div_ceil(c)
        }
    }

    fn describe(&self) -> String {
        let (k, train) = (self.steps_done() + 1, self.train_chunks());
        if self.train_done() {
            format!(
                "the eval samples' kernels, for the eval predictions: chunk {} of {}",
                k - train,
                self.total_steps() - train
            )
        } else {
            format!("Jacobians and kernel blocks: chunk {k} of {train}")
        }
    }

    async fn advance(&mut self) -> Result<(), CoreError> {
        self.step().await
    }

    /// Errors when chunks remain or a kernel entry is not finite.
    async fn finish(self) -> Result<NtkBlocks, CoreError> {
        if !self.is_done() {
            return Err(steps::unfinished(
                "ntk",
                self.steps_done(),
                self.total_steps(),
            ));
        }
        self.assemble(self.samples.len() - self.n)
    }
}

#[cfg(all(test, not(target_family = "wasm")))]
mod tests {
    use super::*;
    use crate::block_on;
    use crate::model::Family;
    use crate::test_model::{samples_of_lengths, tiny_lora_model};

    #[test]
    fn progress_names_the_phase_and_counts_its_own_chunks() {
        let model = tiny_lora_model(Family::Bert, 1, None);
        let train = samples_of_lengths(&[3, 4, 5]);
        let eval = samples_of_lengths(&[2, 6]);
        let options = NtkOptions {
            chunk_size: 2,
            ..NtkOptions::default()
        };
        let mut builder = NtkBuilder::new(&model, &train, &eval, options).unwrap();
        let mut seen = Vec::new();
        while !builder.is_done() {
            seen.push(builder.describe());
            block_on(builder.advance()).unwrap();
        }
        assert_eq!(
            seen,
            [
                "Jacobians and kernel blocks: chunk 1 of 2",
                "Jacobians and kernel blocks: chunk 2 of 2",
                "the eval samples' kernels, for the eval predictions: chunk 1 of 1",
            ]
        );
    }

    #[test]
    fn the_parts_count_their_own_chunks_and_give_the_whole_kernel() {
        let model = tiny_lora_model(Family::Bert, 2, Some(5));
        let train = samples_of_lengths(&[3, 4, 5]);
        let eval = samples_of_lengths(&[2, 6, 4]);
        let options = NtkOptions {
            chunk_size: 2,
            ..NtkOptions::default()
        };
        let whole = NtkBuilder::new(&model, &train, &eval, options.clone()).unwrap();
        let whole = block_on(whole.run()).unwrap();

        let builder = NtkBuilder::new(&model, &train, &eval, options).unwrap();
        let mut part = TrainPart(builder);
        assert_eq!((part.steps_done(), part.total_steps()), (0, 2));
        while !part.is_done() {
            block_on(part.advance()).unwrap();
        }
        let mut eval_part = EvalPart(block_on(part.finish()).unwrap());
        assert_eq!((eval_part.steps_done(), eval_part.total_steps()), (0, 2));
        block_on(eval_part.advance()).unwrap();
        assert_eq!(eval_part.steps_done(), 1);
        let parts = block_on(eval_part.run()).unwrap();
        assert_eq!(parts.cross_total(), whole.cross_total());
        assert_eq!(parts.total().unwrap(), whole.total().unwrap());
    }
}
