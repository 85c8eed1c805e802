//! Transformer encoders of the BERT and RoBERTa families, with optional classification head and
//! LoRA adapters.
//!
//! * [`config`]: Hugging Face `config.json` → [`ModelConfig`].
//! * [`input`]: [`TokenBatch`] (ids, mask, token types), position ids, additive mask.
//! * [`encoder`]: embeddings, layers, pooler; [`ForwardHooks`] for Jacobian code.
//! * [`heads`]: BERT / RoBERTa / mean-pool classification heads.
//! * [`adapted`]: [`AdaptedLinear`], a linear layer with an optional LoRA adapter
//!   ([`LoraWeights`]).
//! * [`loading`] and [`weights`]: safetensors bytes → tensors.
//! * [`peft`]: PEFT adapter files (import into a model, export from it).
//! * [`counts`]: [`ParameterCounts`] (encoder, head, LoRA).
//! * [`transfer`]: every tensor in a fixed order; [`Model::to_device`].
//! * [`seeded`]: a tiny model with seeded weights (backend checks, tests).
//!
//! [`Model`] ties them together: load from bytes, run, attach LoRA.

pub mod adapted;
pub mod config;
pub mod counts;
pub mod encoder;
pub mod gelu;
pub mod heads;
pub mod input;
pub mod layers;
pub mod loading;
pub mod peft;
pub mod seeded;
pub mod transfer;
pub mod weight_stream;
pub mod weights;

pub use adapted::{AdaptedLinear, LoraWeights};
pub use config::{Family, ModelConfig};
pub use counts::{lora_parameter_count, ParameterCounts};
pub use encoder::{mean_pool, Encoder, EncoderOutput, ForwardHooks, NoHooks};
pub use heads::{ClassifierHead, HeadKind};
pub use input::TokenBatch;

use burn::prelude::*;

use crate::lora::{LoraConfig, LoraSite};
use crate::rng::SplitMix64;
use crate::CoreError;
use weights::WeightFile;

/// What [`Model::forward`] returns.
#[derive(Debug, Clone)]
pub struct ModelOutput {
    /// The encoder's outputs (hidden states, pooler output, mask).
    pub encoder: EncoderOutput,
    /// Logits `[B, C]` when the model has a head.
    pub logits: Option<Tensor<2>>,
}

impl ModelOutput {
    /// The outputs of two batches as those of one: `self`'s rows, then `other`'s (both at the
    /// same padded length).
    pub fn join(self, other: ModelOutput) -> ModelOutput {
        let (a, b) = (self.encoder, other.encoder);
        let both = |x: Option<Tensor<2>>, y: Option<Tensor<2>>| Some(Tensor::cat(vec![x?, y?], 0));
        ModelOutput {
            encoder: EncoderOutput {
                last_hidden_state: Tensor::cat(vec![a.last_hidden_state, b.last_hidden_state], 0),
                pooler_output: both(a.pooler_output, b.pooler_output),
                hidden_states: a
                    .hidden_states
                    .into_iter()
                    .zip(b.hidden_states)
                    .map(|(x, y)| Tensor::cat(vec![x, y], 0))
                    .collect(),
                mask: Tensor::cat(vec![a.mask, b.mask], 0),
            },
            logits: both(self.logits, other.logits),
        }
    }
}

/// An encoder with an optional classification head and LoRA adapters.
#[derive(Debug, Clone)]
pub struct Model {
    /// The validated configuration.
    pub config: ModelConfig,
    /// The encoder (LoRA adapters live inside its layers).
    pub encoder: Encoder,
    /// The classification head, if any.
    pub head: Option<ClassifierHead>,
    /// The LoRA configuration last applied (by [`Model::apply_lora`] or a PEFT import).
    pub lora_config: Option<LoraConfig>,
    /// Prefix of the encoder in Hugging Face / PEFT names: `bert`, `roberta`, or empty for a
    /// bare `BertModel` checkpoint such as all-MiniLM-L6-v2.
    pub hf_prefix: String,
}

impl Model {
    /// Loads a model from the bytes of `config.json` and `model.safetensors`. A head is loaded
    /// when the file has one (`classifier.*`); a config whose `architectures` names a
    /// `…ForSequenceClassification` model must have it.
    pub fn from_bytes(
        config_json: &[u8],
        safetensors: &[u8],
        device: &Device,
    ) -> Result<Self, CoreError> {
        let config = ModelConfig::from_bytes(config_json)?;
        let file = WeightFile::parse("model.safetensors", safetensors)?;
        Model::from_weights(config, &file, device)
    }

    /// Loads a model from its architecture and its weights, read whole
    /// ([`WeightFile::parse`]) or decoded while downloading
    /// ([`weight_stream::WeightStream`]). Errors as [`Model::from_bytes`].
    pub fn from_weights(
        config: ModelConfig,
        file: &WeightFile<'_>,
        device: &Device,
    ) -> Result<Self, CoreError> {
        let (encoder, hf_prefix) = loading::load_encoder(&config, file, device)?;
        let head = loading::load_head(&config, file, "", device)?;
        if head.is_none() && config.is_sequence_classifier() {
            let name = match config.family {
                Family::Bert => "classifier.weight",
                Family::Roberta => "classifier.out_proj.weight",
            };
            return Err(CoreError::MissingTensor {
                file: file.file().to_string(),
                name: name.into(),
                expected: vec![config.num_labels.unwrap_or(0), config.hidden_size],
            });
        }
        if matches!(head, Some(ClassifierHead::Bert { .. })) && encoder.pooler.is_none() {
            return Err(CoreError::MissingTensor {
                file: file.file().to_string(),
                name: "pooler.dense.weight".into(),
                expected: vec![config.hidden_size, config.hidden_size],
            });
        }
        Ok(Model {
            config,
            encoder,
            head,
            lora_config: None,
            hf_prefix,
        })
    }

    /// Loads `config.json` and `model.safetensors` from a directory (native only).
    #[cfg(not(target_family = "wasm"))]
    pub fn from_dir(dir: impl AsRef<std::path::Path>, device: &Device) -> Result<Self, CoreError> {
        let dir = dir.as_ref();
        let read = |name: &str| {
            std::fs::read(dir.join(name)).map_err(|e| CoreError::Io {
                file: dir.join(name).display().to_string(),
                message: e.to_string(),
            })
        };
        Model::from_bytes(&read("config.json")?, &read("model.safetensors")?, device)
    }

    /// The device the weights live on.
    pub fn device(&self) -> Device {
        self.encoder.device()
    }

    /// Runs encoder and head.
    pub fn forward(&self, batch: &TokenBatch) -> Result<ModelOutput, CoreError> {
        self.forward_with_hooks(batch, &mut NoHooks)
    }

    /// Runs encoder and head where no gradient is wanted. On the CPU with a pool of threads a
    /// batch of two or more sequences runs as two halves side by side ([`crate::parallel`]), its
    /// outputs then joined (the same numbers to f32 round-off); elsewhere this is
    /// [`Model::forward`].
    pub fn infer(&self, batch: &TokenBatch) -> Result<ModelOutput, CoreError> {
        if crate::parallel::passes_side_by_side(&self.device()) {
            if let Some((top, bottom)) = batch.split_at(batch.batch / 2) {
                let (top, bottom) = crate::parallel::pair_side_by_side(&top, &bottom, |half| {
                    std::future::ready(self.forward(half))
                });
                return Ok(top?.join(bottom?));
            }
        }
        self.forward(batch)
    }

    /// Runs encoder and head, calling `hooks` at every linear site of the encoder.
    pub fn forward_with_hooks(
        &self,
        batch: &TokenBatch,
        hooks: &mut dyn ForwardHooks,
    ) -> Result<ModelOutput, CoreError> {
        let encoder = self.encoder.forward_with_hooks(batch, hooks)?;
        let logits = match &self.head {
            Some(h) => {
                Some(h.forward_probed(&encoder, &mut |name, x, y| hooks.head_dense(name, x, y))?)
            }
            None => None,
        };
        Ok(ModelOutput { encoder, logits })
    }

    /// Replaces the head with a new one for `num_classes` classes, initialised from `seed`.
    pub fn set_new_head(
        &mut self,
        kind: HeadKind,
        num_classes: usize,
        seed: u64,
    ) -> Result<(), CoreError> {
        if kind == HeadKind::Bert && self.encoder.pooler.is_none() {
            return Err(CoreError::invalid(
                "head",
                "a BERT head needs the pooler, which this checkpoint lacks; use the \
                 mean-pool head",
            ));
        }
        self.head = Some(ClassifierHead::new_seeded(
            kind,
            self.config.hidden_size,
            num_classes,
            seed,
            &self.device(),
        )?);
        Ok(())
    }

    /// Attaches fresh LoRA adapters (PEFT init: `A` Kaiming-uniform from `seed`, `B = 0`) to
    /// the sites `config` selects, removing any previous adapters. Each site's `A` is drawn
    /// from its own stream of `seed` (keyed by layer and module), so it does not depend on
    /// which other sites are adapted. Returns the adapted sites.
    pub fn apply_lora(
        &mut self,
        config: &LoraConfig,
        seed: u64,
    ) -> Result<Vec<LoraSite>, CoreError> {
        let sites = config.resolve(self.encoder.layers.len(), &self.hf_prefix)?;
        for &site in &sites {
            let base = &self.encoder.layers[site.layer].linear(site.module).base;
            let width = base.in_features().min(base.out_features());
            if config.r > width {
                return Err(CoreError::adapter(
                    "r",
                    format!(
                        "rank {} is larger than the width {width} of {}; LoRA needs r ≤ min(in, out)",
                        config.r,
                        site.block_name()
                    ),
                ));
            }
        }
        self.remove_lora();
        let device = self.device();
        for &site in &sites {
            let lin = self.encoder.layers[site.layer].linear_mut(site.module);
            let mut rng = SplitMix64::derived(seed, &[site.layer as u64, site.module as u64]);
            lin.lora = Some(LoraWeights::init(
                &mut rng,
                lin.base.in_features(),
                lin.base.out_features(),
                config.r,
                config.scale(),
                &device,
            ));
        }
        self.lora_config = Some(config.clone());
        Ok(sites)
    }

    /// Removes every LoRA adapter.
    pub fn remove_lora(&mut self) {
        for layer in &mut self.encoder.layers {
            for m in crate::lora::LoraModule::ALL {
                layer.linear_mut(m).lora = None;
            }
        }
        self.lora_config = None;
    }

    /// Keeps the adapters of `sites` trainable and folds every other adapter into its frozen
    /// base weight (`W₀ ← W₀ + s·BA`), so that the model computes the same function (up to
    /// `f32` round-off) with fewer trainable blocks. Errors when a site has no adapter.
    pub fn freeze_lora_outside(&mut self, sites: &[LoraSite]) -> Result<(), CoreError> {
        if let Some(missing) = sites.iter().find(|s| self.lora(**s).is_none()) {
            return Err(CoreError::invalid(
                "blocks",
                format!("{} has no LoRA adapter", missing.block_name()),
            ));
        }
        for (layer, l) in self.encoder.layers.iter_mut().enumerate() {
            for module in crate::lora::LoraModule::ALL {
                if sites.contains(&LoraSite { layer, module }) {
                    continue;
                }
                let linear = l.linear_mut(module);
                if let Some(adapter) = linear.lora.take() {
                    linear.base.weight = linear.base.weight.clone() + adapter.delta_weight();
                }
            }
        }
        Ok(())
    }

    /// The adapted sites, sorted by layer then module.
    pub fn lora_sites(&self) -> Vec<LoraSite> {
        let mut out = Vec::new();
        for (layer, l) in self.encoder.layers.iter().enumerate() {
            for module in crate::lora::LoraModule::ALL {
                if l.linear(module).lora.is_some() {
                    out.push(LoraSite { layer, module });
                }
            }
        }
        out
    }

    /// The PEFT adapter-file key of `site`'s `lora_A` (`lora_B` when `b`) tensor for this
    /// model, e.g. `base_model.model.bert.encoder.layer.0.attention.self.query.lora_A.weight`
    /// (the `tensor.<key>` / `jac.<key>` names of the NTK fixtures).
    pub fn peft_key(&self, site: LoraSite, b: bool) -> String {
        site.peft_key(&self.hf_prefix, b)
    }

    /// The adapter at `site`, if that site is adapted.
    pub fn lora(&self, site: LoraSite) -> Option<&LoraWeights> {
        self.encoder
            .layers
            .get(site.layer)?
            .linear(site.module)
            .lora
            .as_ref()
    }

    /// The adapter at `site`, mutably (e.g. to swap `B` for a tensor that requires grad).
    pub fn lora_mut(&mut self, site: LoraSite) -> Option<&mut LoraWeights> {
        self.encoder
            .layers
            .get_mut(site.layer)?
            .linear_mut(site.module)
            .lora
            .as_mut()
    }
}

#[cfg(all(test, not(target_family = "wasm")))]
mod tests {
    use super::*;
    use crate::block_on;
    use crate::device::cpu_device;
    use crate::readback::read_f32;
    use crate::test_model::samples_of_lengths;

    /// [`Model::infer`] (two halves side by side on a pool of threads) gives
    /// [`Model::forward`]'s outputs over the whole batch, to f32 round-off: last hidden states, every layer's, the mask and
    /// the logits.
    #[test]
    fn infer_in_halves_matches_one_forward_pass() {
        let model = seeded::seeded_model(Family::Bert, 3, 2, &cpu_device()).unwrap();
        let sequences: Vec<Vec<u32>> = samples_of_lengths(&[6, 2, 9, 4, 7])
            .into_iter()
            .map(|s| s.ids)
            .collect();
        let batch = TokenBatch::from_sequences(&sequences, None, 1).unwrap();
        let whole = model.forward(&batch).unwrap();
        let halves = model.infer(&batch).unwrap();
        let logits = |o: &ModelOutput| block_on(read_f32(o.logits.clone().unwrap())).unwrap();
        let (whole_logits, halves_logits) = (logits(&whole), logits(&halves));
        let close = |a: Vec<f32>, b: Vec<f32>| {
            assert_eq!(a.len(), b.len());
            let scale = a.iter().fold(0f32, |m, v| m.max(v.abs()));
            assert!(scale > 1e-2, "not all zero: {scale}");
            for (x, y) in a.iter().zip(&b) {
                assert!((x - y).abs() <= 1e-5 * scale, "{x} vs {y}");
            }
        };
        let read = |t: Tensor<3>| block_on(read_f32(t)).unwrap();
        close(
            read(whole.encoder.last_hidden_state),
            read(halves.encoder.last_hidden_state),
        );
        assert_eq!(whole.encoder.hidden_states.len(), 3);
        for (a, b) in whole
            .encoder
            .hidden_states
            .into_iter()
            .zip(halves.encoder.hidden_states)
        {
            close(read(a), read(b));
        }
        close(
            block_on(read_f32(whole.encoder.mask)).unwrap(),
            block_on(read_f32(halves.encoder.mask)).unwrap(),
        );
        assert_eq!(whole_logits.len(), 5 * 3);
        close(whole_logits, halves_logits);
    }
}
