//! How much memory an analysis holds at its peak, estimated before it starts, so that a shell
//! can shrink its chunks or refuse it with a message instead of running out (a browser tab's
//! wasm32 worker has at most 4 GiB, and the tab dies when it runs out). The budget is the shell's
//! to give ([`NtkMemory::fit`], [`NtkMemory::check`], [`check_training`]): the page's worker
//! gives a tab's share of wasm32's memory, the CLI the memory its machine has available.
//!
//! The model is an upper bound fitted to measurements of the CLI's peak resident memory
//! (all-MiniLM-L6-v2, `ntk`, 128-token samples, chunks of 1 to 16 samples, n up to 256; see
//! docs/performance.md): per row of a forward and backward pass and per layer, autodiff keeps
//! about `T·(14·H + 2·I) + 3·heads·T²` floats for `T` tokens (the activations of the linear
//! layers, LayerNorms, GELU and the attention probabilities). It was fitted when the pass ran
//! through autodiff on every sample replicated once per class; the hand-written backward pass
//! ([`super::backward`]) records one copy and peaked lower (n = 64: 243 MB instead of 306 MB), so
//! the estimate is an upper bound.

use serde::{Deserialize, Serialize};

use super::builder::head_classes;
use super::jacobian::{block_names, block_param_counts};
use super::options::NtkOptions;
use crate::model::{Model, ModelConfig};
use crate::tokenize::Encoded;
use crate::CoreError;

const F32: u64 = 4;
const F64: u64 = 8;

/// Bytes autodiff keeps for a forward and backward pass over `rows` sequences of `tokens`
/// tokens (padded) through an encoder of architecture `config`.
pub fn pass_bytes(config: &ModelConfig, rows: usize, tokens: usize) -> u64 {
    let (h, i, heads) = (
        config.hidden_size as u64,
        config.intermediate_size as u64,
        config.num_attention_heads as u64,
    );
    let t = tokens as u64;
    let per_layer = t * (14 * h + 2 * i) + 3 * heads * t * t;
    // The embeddings' output and LayerNorm, as one more layer's worth of hidden states.
    let embeddings = 2 * t * h;
    F32 * rows as u64 * (config.num_hidden_layers as u64 * per_layer + embeddings)
}

/// The longest of `samples` in tokens (0 when there are none).
pub fn longest(samples: &[Encoded]) -> usize {
    samples.iter().map(|s| s.ids.len()).max().unwrap_or(0)
}

/// The peak memory of an NTK computation, by part.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct NtkMemory {
    /// The model's weights in f32 (encoder, head and LoRA).
    pub weights: u64,
    /// What one chunk's pass keeps, counted as autodiff would for its samples replicated once
    /// per class, padded to the longest sample (an upper bound, see the module docs).
    pub activations: u64,
    /// The per-sample gradients kept: every train row's (`n·C × P` f32) and one eval chunk's.
    pub gradients: u64,
    /// The kernels: per block, the `nC × nC` train kernel and the `mC × nC` cross kernel in
    /// f64.
    pub kernels: u64,
}

/// The sizes an NTK estimate needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NtkShape {
    /// Train samples `n`.
    pub n: usize,
    /// Eval samples `m`.
    pub n_eval: usize,
    /// Outputs per sample `C`.
    pub classes: usize,
    /// Parameters of the Jacobian `P`.
    pub params: usize,
    /// Kernel blocks.
    pub blocks: usize,
    /// Samples per pass.
    pub chunk: usize,
    /// Tokens of the longest sample.
    pub tokens: usize,
}

impl NtkMemory {
    /// The estimate for a model of architecture `config` with `weights` parameters in all.
    pub fn of(config: &ModelConfig, weights: usize, shape: NtkShape) -> NtkMemory {
        let rows = shape.chunk.min(shape.n.max(shape.n_eval)).max(1) * shape.classes;
        let (n, m, c) = (shape.n as u64, shape.n_eval as u64, shape.classes as u64);
        let eval_chunk = shape.chunk.min(shape.n_eval) as u64;
        NtkMemory {
            weights: F32 * weights as u64,
            activations: pass_bytes(config, rows, shape.tokens),
            gradients: F32 * (n + eval_chunk) * c * shape.params as u64,
            kernels: F64 * shape.blocks as u64 * (n * c) * (n * c + m * c),
        }
    }

    /// The estimate for the NTK of `model` (its head, LoRA and weights) over `train` and
    /// `eval` with `options`, computed before anything large is allocated.
    ///
    /// Errors: a model without a head, blocks that are not adapted.
    pub fn estimate(
        model: &Model,
        train: &[Encoded],
        eval: &[Encoded],
        options: &NtkOptions,
    ) -> Result<NtkMemory, CoreError> {
        let (weights, shape) = shape_of(model, train, eval, options)?;
        Ok(NtkMemory::of(&model.config, weights, shape))
    }

    /// The largest chunk size, at most `options.chunk_size`, whose estimate fits in `budget`,
    /// with that estimate.
    ///
    /// Errors: those of [`NtkMemory::estimate`]; past the budget even with one sample per
    /// pass, the error of [`NtkMemory::check`].
    pub fn fit(
        model: &Model,
        train: &[Encoded],
        eval: &[Encoded],
        options: &NtkOptions,
        budget: u64,
    ) -> Result<(usize, NtkMemory), CoreError> {
        let (weights, shape) = shape_of(model, train, eval, options)?;
        let config = &model.config;
        match fitting_chunk(config, weights, shape, budget) {
            Some(chunk) => Ok((
                chunk,
                NtkMemory::of(config, weights, NtkShape { chunk, ..shape }),
            )),
            None => {
                NtkMemory::of(config, weights, NtkShape { chunk: 1, ..shape }).check(budget)?;
                Err(CoreError::invalid("memory", "past the budget"))
            }
        }
    }

    /// All parts together.
    pub fn total(&self) -> u64 {
        self.weights + self.activations + self.gradients + self.kernels
    }

    /// The parts in words, e.g. `about 758 MB (weights 91 MB, one chunk's activations 648 MB,
    /// gradients 19 MB, kernels 0 MB)` (MiniLM, 32 samples of 128 tokens).
    pub fn describe(&self) -> String {
        let mb = |b: u64| format!("{:.0} MB", b as f64 / 1e6);
        format!(
            "about {} (weights {}, one chunk's activations {}, gradients {}, kernels {})",
            mb(self.total()),
            mb(self.weights),
            mb(self.activations),
            mb(self.gradients),
            mb(self.kernels)
        )
    }

    /// `Ok` when the estimate fits in `budget` bytes; otherwise an error that says what it
    /// needs and what to change.
    pub fn check(&self, budget: u64) -> Result<(), CoreError> {
        if self.total() <= budget {
            return Ok(());
        }
        Err(CoreError::invalid(
            "memory",
            format!(
                "this NTK needs {}, more than the {:.1} GB budget; choose fewer samples, a \
                 shorter max length or fewer adapted blocks",
                self.describe(),
                budget as f64 / 1e9
            ),
        ))
    }
}

/// The parameters of `model` and the sizes of its NTK over `train` and `eval`.
fn shape_of(
    model: &Model,
    train: &[Encoded],
    eval: &[Encoded],
    options: &NtkOptions,
) -> Result<(usize, NtkShape), CoreError> {
    let classes = head_classes(model)?;
    let shape = NtkShape {
        n: train.len(),
        n_eval: eval.len(),
        classes,
        params: block_param_counts(model, options).iter().sum(),
        blocks: block_names(model, options)?.len(),
        chunk: options.chunk_size,
        tokens: longest(train).max(longest(eval)),
    };
    Ok((model.parameter_counts().total(), shape))
}

/// The largest chunk size, at most `shape.chunk`, whose estimate fits in `budget` (`None` when not
/// even one sample per pass fits).
pub fn fitting_chunk(
    config: &ModelConfig,
    weights: usize,
    shape: NtkShape,
    budget: u64,
) -> Option<usize> {
    let mut chunk = shape.chunk.max(1);
    loop {
        let estimate = NtkMemory::of(config, weights, NtkShape { chunk, ..shape });
        if estimate.total() <= budget {
            return Some(chunk);
        }
        if chunk == 1 {
            return None;
        }
        chunk = chunk.div_ceil(2);
    }
}

/// The peak memory of full-batch training on `rows` samples of at most `tokens` tokens (the
/// sweep's and the study's step): the weights and one pass over all rows.
pub fn training_bytes(config: &ModelConfig, weights: usize, rows: usize, tokens: usize) -> u64 {
    F32 * weights as u64 + pass_bytes(config, rows, tokens)
}

/// `Ok(bytes)` when full-batch training on `rows` samples (see [`training_bytes`]) fits in
/// `budget`; otherwise an error that says what it needs and what to change.
pub fn check_training(
    config: &ModelConfig,
    weights: usize,
    rows: usize,
    tokens: usize,
    budget: u64,
) -> Result<u64, CoreError> {
    let bytes = training_bytes(config, weights, rows, tokens);
    if bytes <= budget {
        return Ok(bytes);
    }
    Err(CoreError::invalid(
        "memory",
        format!(
            "a training step on {rows} samples of up to {tokens} tokens needs about {:.0} MB, \
             more than the {:.1} GB budget; choose fewer samples or a shorter max length",
            bytes as f64 / 1e6,
            budget as f64 / 1e9
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minilm() -> ModelConfig {
        ModelConfig::from_json(
            r#"{"model_type":"bert","vocab_size":30522,"hidden_size":384,"num_hidden_layers":6,
                "num_attention_heads":12,"intermediate_size":1536,"max_position_embeddings":512,
                "type_vocab_size":2}"#,
        )
        .unwrap()
    }

    fn shape(n: usize, chunk: usize) -> NtkShape {
        NtkShape {
            n,
            n_eval: 0,
            classes: 2,
            params: 73_728,
            blocks: 12,
            chunk,
            tokens: 128,
        }
    }

    #[test]
    fn parts_follow_the_formulas() {
        let c = minilm();
        // One 128-token row through one layer: 128·(14·384 + 2·1536) + 3·12·128² floats.
        let per_layer = 128 * (14 * 384 + 2 * 1536) + 3 * 12 * 128 * 128;
        assert_eq!(
            pass_bytes(&c, 1, 128),
            4 * (6 * per_layer + 2 * 128 * 384) as u64
        );
        assert_eq!(pass_bytes(&c, 16, 128), 16 * pass_bytes(&c, 1, 128));
        let m = NtkMemory::of(&c, 22_713_216 + 73_728 + 770, shape(256, 8));
        assert_eq!(m.weights, 4 * 22_787_714);
        assert_eq!(m.activations, pass_bytes(&c, 16, 128));
        assert_eq!(m.gradients, 4 * 256 * 2 * 73_728);
        assert_eq!(m.kernels, 8 * 12 * 512 * 512);
        assert_eq!(
            m.total(),
            m.weights + m.activations + m.gradients + m.kernels
        );
        // Fewer samples than a chunk: the pass holds only them.
        assert_eq!(
            NtkMemory::of(&c, 0, shape(3, 8)).activations,
            pass_bytes(&c, 6, 128)
        );
        // An eval set adds its cross kernels and one eval chunk's gradients.
        let with_eval = NtkMemory::of(
            &c,
            0,
            NtkShape {
                n_eval: 4,
                ..shape(8, 8)
            },
        );
        assert_eq!(with_eval.kernels, 8 * 12 * 16 * (16 + 8));
        assert_eq!(with_eval.gradients, 4 * (8 + 4) * 2 * 73_728);
    }

    /// The peaks measured with the CLI (docs/performance.md), less what it holds besides the
    /// NTK (111 MB: the process, tokenizer and allocator, and the fp32 weights; the weight file
    /// is freed before): the estimate of the chunk's pass bounds them from above, within 25 %.
    #[test]
    fn activations_bound_the_measured_peaks() {
        let c = minilm();
        for (chunk, measured_mb) in [(8usize, 749.0 - 111.0), (16, 1348.0 - 111.0)] {
            let estimate = pass_bytes(&c, 2 * chunk, 128) as f64 / 1e6;
            assert!(
                estimate >= measured_mb && estimate <= 1.25 * measured_mb,
                "chunk {chunk}: estimate {estimate:.0} MB vs measured {measured_mb} MB"
            );
        }
    }

    /// A budget for the tests: the page's (2 GiB, set by the web crate's worker).
    const BUDGET: u64 = 2 << 30;

    #[test]
    fn chunks_shrink_to_fit_and_past_the_budget_is_refused() {
        let c = minilm();
        let weights = 22_787_714;
        let big = NtkMemory::of(&c, weights, shape(64, 64));
        assert!(big.total() > BUDGET, "{}", big.describe());
        let chunk = fitting_chunk(&c, weights, shape(64, 64), BUDGET).unwrap();
        assert_eq!(chunk, 16);
        assert!(NtkMemory::of(&c, weights, shape(64, chunk))
            .check(BUDGET)
            .is_ok());
        let e = big.check(BUDGET).unwrap_err().to_string();
        assert!(e.contains("more than the 2.1 GB budget"), "{e}");
        assert!(e.contains("one chunk's activations"), "{e}");
        assert_eq!(fitting_chunk(&c, weights, shape(64, 8), 100_000_000), None);
        assert!(training_bytes(&c, weights, 32, 128) > pass_bytes(&c, 32, 128));
        assert_eq!(
            check_training(&c, weights, 32, 128, BUDGET).unwrap(),
            training_bytes(&c, weights, 32, 128)
        );
        let e = check_training(&c, weights, 512, 128, BUDGET).unwrap_err();
        assert!(
            e.to_string().contains("on 512 samples of up to 128 tokens"),
            "{e}"
        );
    }

    /// The estimate of a real model reads its head, blocks and samples.
    #[test]
    #[cfg(not(target_family = "wasm"))]
    fn estimates_read_the_model_and_samples() {
        use crate::lora::{LoraConfig, LoraModule};
        let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/fixtures/models/roberta_cls");
        let mut model = Model::from_dir(&dir, &crate::device::cpu_device()).unwrap();
        let lora = LoraConfig::new(4, 8.0, &[LoraModule::Query, LoraModule::Value]);
        model.apply_lora(&lora, 0).unwrap();
        let sample = |len: usize| Encoded {
            ids: vec![5; len],
            type_ids: vec![0; len],
        };
        let train = [sample(7), sample(12), sample(3)];
        let eval = [sample(20)];
        let options = NtkOptions::default();
        let m = NtkMemory::estimate(&model, &train, &eval, &options).unwrap();
        let shape = NtkShape {
            n: 3,
            n_eval: 1,
            classes: 2,
            params: 1024,
            blocks: 4,
            chunk: 8,
            tokens: 20,
        };
        assert_eq!(
            m,
            NtkMemory::of(&model.config, model.parameter_counts().total(), shape)
        );
        // A budget that holds the weights and kernels but not 8 samples per pass: chunks of 2.
        let weights = 4 * model.parameter_counts().total() as u64;
        let per_row = pass_bytes(&model.config, 1, 20);
        let budget = m.total() - m.activations + 2 * 2 * per_row;
        let (chunk, fitted) = NtkMemory::fit(&model, &train, &eval, &options, budget).unwrap();
        assert_eq!((chunk, fitted.weights), (2, weights));
        assert!(fitted.total() <= budget);
        let e = NtkMemory::fit(&model, &train, &eval, &options, weights).unwrap_err();
        assert!(e.to_string().contains("more than the"), "{e}");
        model.head = None;
        assert!(NtkMemory::estimate(&model, &train, &eval, &options).is_err());
    }
}
