//! The BERT / RoBERTa encoder: embeddings, transformer layers (post-LayerNorm), pooler.

use burn::prelude::*;
use burn::tensor::activation::softmax;
use burn::tensor::TensorData;

use super::adapted::AdaptedLinear;
use super::config::ModelConfig;
use super::gelu::gelu_exact;
use super::input::TokenBatch;
use super::layers::{Dense, LayerNorm};
use crate::lora::{LoraModule, LoraSite};
use crate::CoreError;

/// Observers of the forward pass at the six linear layers of every transformer layer. They
/// let the NTK code form per-sample Jacobians from each adapted layer's input `x` and the
/// gradient of the output with respect to that layer's output `y` (e.g. by adding a zero
/// probe tensor that requires grad in [`ForwardHooks::site_output`]).
pub trait ForwardHooks {
    /// Called with the input `x` `[B, T, in]` of every linear site (adapted or not), before
    /// the layer is applied.
    fn site_input(&mut self, _site: LoraSite, _x: &Tensor<3>) {}

    /// Called with the output `y = x W₀ᵀ + b + s (x Aᵀ) Bᵀ` `[B, T, out]` of every linear
    /// site; the returned tensor replaces it. The default returns `y` unchanged.
    fn site_output(&mut self, _site: LoraSite, y: Tensor<3>) -> Tensor<3> {
        y
    }

    /// Applies layer `layer`'s GELU to `x` `[B, T, intermediate]` (the intermediate site's
    /// output). The default is [`gelu_exact`].
    fn gelu(&mut self, _layer: usize, x: Tensor<3>) -> Tensor<3> {
        gelu_exact(x)
    }

    /// Called at each dense layer of the classification head (`name` as in
    /// [`ClassifierHead::named_tensors`](super::ClassifierHead::named_tensors)) with its input
    /// `x` `[B, in]` and output `y` `[B, out]`; the returned tensor replaces `y`.
    fn head_dense(&mut self, _name: &str, _x: &Tensor<2>, y: Tensor<2>) -> Tensor<2> {
        y
    }
}

/// Hooks that do nothing.
pub struct NoHooks;

impl ForwardHooks for NoHooks {}

/// Word, position and token-type embeddings followed by LayerNorm.
#[derive(Debug, Clone)]
pub struct Embeddings {
    /// `[vocab_size, H]`.
    pub word: Tensor<2>,
    /// `[max_position_embeddings, H]`.
    pub position: Tensor<2>,
    /// `[type_vocab_size, H]`.
    pub token_type: Tensor<2>,
    /// The embedding LayerNorm.
    pub layer_norm: LayerNorm,
}

fn lookup(table: &Tensor<2>, ids: &[u32], b: usize, t: usize) -> Tensor<3> {
    let device = table.device();
    let idx: Vec<i64> = ids.iter().map(|&i| i as i64).collect();
    let idx = Tensor::<1, Int>::from_data(TensorData::new(idx, [b * t]), &device);
    let h = table.dims()[1];
    table.clone().select(0, idx).reshape([b, t, h])
}

impl Embeddings {
    /// `LayerNorm(word[ids] + position[pos] + token_type[types])`, `[B, T, H]`.
    pub fn forward(&self, batch: &TokenBatch, positions: &[u32]) -> Tensor<3> {
        let (b, t) = (batch.batch, batch.seq_len);
        let x = lookup(&self.word, &batch.input_ids, b, t)
            + lookup(&self.position, positions, b, t)
            + lookup(&self.token_type, &batch.token_type_ids, b, t);
        self.layer_norm.forward(x)
    }
}

/// One transformer layer (BERT post-LN layout).
#[derive(Debug, Clone)]
pub struct EncoderLayer {
    /// `attention.self.query`.
    pub query: AdaptedLinear,
    /// `attention.self.key`.
    pub key: AdaptedLinear,
    /// `attention.self.value`.
    pub value: AdaptedLinear,
    /// `attention.output.dense`.
    pub attn_out: AdaptedLinear,
    /// `attention.output.LayerNorm`.
    pub attn_norm: LayerNorm,
    /// `intermediate.dense`.
    pub intermediate: AdaptedLinear,
    /// `output.dense`.
    pub output: AdaptedLinear,
    /// `output.LayerNorm`.
    pub out_norm: LayerNorm,
}

impl EncoderLayer {
    /// The linear layer of `module`.
    pub fn linear(&self, module: LoraModule) -> &AdaptedLinear {
        match module {
            LoraModule::Query => &self.query,
            LoraModule::Key => &self.key,
            LoraModule::Value => &self.value,
            LoraModule::AttnOut => &self.attn_out,
            LoraModule::Intermediate => &self.intermediate,
            LoraModule::Output => &self.output,
        }
    }

    /// The linear layer of `module`, mutably (to attach or replace an adapter).
    pub fn linear_mut(&mut self, module: LoraModule) -> &mut AdaptedLinear {
        match module {
            LoraModule::Query => &mut self.query,
            LoraModule::Key => &mut self.key,
            LoraModule::Value => &mut self.value,
            LoraModule::AttnOut => &mut self.attn_out,
            LoraModule::Intermediate => &mut self.intermediate,
            LoraModule::Output => &mut self.output,
        }
    }

    fn site(
        &self,
        layer: usize,
        module: LoraModule,
        x: Tensor<3>,
        hooks: &mut dyn ForwardHooks,
    ) -> Tensor<3> {
        let site = LoraSite { layer, module };
        hooks.site_input(site, &x);
        let y = self.linear(module).forward(x);
        hooks.site_output(site, y)
    }

    /// Runs the layer on `x` `[B, T, H]` with the additive key mask `[B, 1, 1, T]`.
    pub fn forward(
        &self,
        layer: usize,
        x: Tensor<3>,
        mask: &Tensor<4>,
        heads: usize,
        hooks: &mut dyn ForwardHooks,
    ) -> Tensor<3> {
        let [b, t, h] = x.dims();
        let hd = h / heads;
        let split = |y: Tensor<3>| y.reshape([b, t, heads, hd]).swap_dims(1, 2);
        let q = split(self.site(layer, LoraModule::Query, x.clone(), hooks));
        let k = split(self.site(layer, LoraModule::Key, x.clone(), hooks));
        let v = split(self.site(layer, LoraModule::Value, x.clone(), hooks));
        let scores = q
            .matmul(k.swap_dims(2, 3))
            .mul_scalar(1.0 / (hd as f64).sqrt())
            + mask.clone();
        let probs = softmax(scores, 3);
        let ctx = probs.matmul(v).swap_dims(1, 2).reshape([b, t, h]);
        let attn = self.site(layer, LoraModule::AttnOut, ctx, hooks);
        let attn = self.attn_norm.forward(attn + x);
        let inter = self.site(layer, LoraModule::Intermediate, attn.clone(), hooks);
        let inter = hooks.gelu(layer, inter);
        let out = self.site(layer, LoraModule::Output, inter, hooks);
        self.out_norm.forward(out + attn)
    }
}

/// What the encoder computes for a batch.
#[derive(Debug, Clone)]
pub struct EncoderOutput {
    /// Hidden states after the last layer, `[B, T, H]` (padded positions hold values too; use
    /// only where the mask is 1).
    pub last_hidden_state: Tensor<3>,
    /// `tanh(W h[:, 0] + b)`, `[B, H]`, when the model has a pooler.
    pub pooler_output: Option<Tensor<2>>,
    /// The embedding output and each layer's output (`num_hidden_layers + 1` tensors).
    pub hidden_states: Vec<Tensor<3>>,
    /// The attention mask as floats, `[B, T]` (for mean pooling).
    pub mask: Tensor<2>,
}

/// A BERT- or RoBERTa-family encoder (weights frozen; LoRA adapters live in the layers).
#[derive(Debug, Clone)]
pub struct Encoder {
    /// The validated configuration.
    pub config: ModelConfig,
    /// The embedding block.
    pub embeddings: Embeddings,
    /// The transformer layers.
    pub layers: Vec<EncoderLayer>,
    /// The pooler dense layer (`pooler.dense`), when the checkpoint has one.
    pub pooler: Option<Dense>,
}

impl Encoder {
    /// The device the weights live on.
    pub fn device(&self) -> Device {
        self.embeddings.word.device()
    }

    /// Runs the encoder.
    pub fn forward(&self, batch: &TokenBatch) -> Result<EncoderOutput, CoreError> {
        self.forward_with_hooks(batch, &mut NoHooks)
    }

    /// Runs the encoder, calling `hooks` at every linear site.
    pub fn forward_with_hooks(
        &self,
        batch: &TokenBatch,
        hooks: &mut dyn ForwardHooks,
    ) -> Result<EncoderOutput, CoreError> {
        let positions = batch.validate_for(&self.config)?;
        let device = self.device();
        let (b, t) = (batch.batch, batch.seq_len);
        let additive = Tensor::<4>::from_data(
            TensorData::new(batch.additive_mask(), [b, 1, 1, t]),
            &device,
        );
        let mask_values: Vec<f32> = batch.attention_mask.iter().map(|&m| m as f32).collect();
        let mask = Tensor::<2>::from_data(TensorData::new(mask_values, [b, t]), &device);
        let mut x = self.embeddings.forward(batch, &positions);
        let mut hidden_states = Vec::with_capacity(self.layers.len() + 1);
        hidden_states.push(x.clone());
        for (i, layer) in self.layers.iter().enumerate() {
            x = layer.forward(i, x, &additive, self.config.num_attention_heads, hooks);
            hidden_states.push(x.clone());
        }
        let pooler_output = self.pooler.as_ref().map(|p| {
            let h = self.config.hidden_size;
            let first = x.clone().narrow(1, 0, 1).reshape([b, h]);
            p.forward(first).tanh()
        });
        Ok(EncoderOutput {
            last_hidden_state: x,
            pooler_output,
            hidden_states,
            mask,
        })
    }
}

/// The attention-masked mean over tokens, `Σ_t m_t h_t / Σ_t m_t`, `[B, H]` (the
/// sentence-transformers pooling).
pub fn mean_pool(hidden: Tensor<3>, mask: Tensor<2>) -> Tensor<2> {
    let [b, t, h] = hidden.dims();
    let m = mask.reshape([b, t, 1]);
    let summed = (hidden * m.clone()).sum_dim(1).reshape([b, h]);
    let count = m.sum_dim(1).reshape([b, 1]).clamp_min(1e-9);
    summed / count
}
