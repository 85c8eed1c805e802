//! A tiny model with seeded random weights (2 layers, width 16), for checking a backend
//! against the CPU before its results are trusted, and for tests.

use super::adapted::AdaptedLinear;
use super::config::{Family, ModelConfig};
use super::encoder::{Embeddings, Encoder, EncoderLayer};
use super::heads::{ClassifierHead, HeadKind};
use super::layers::{Dense, LayerNorm};
use super::weights::tensor_from_vec;
use super::Model;
use crate::rng::SplitMix64;
use crate::CoreError;
use burn::prelude::{Device, Tensor};

/// Draws the weights, in a fixed order.
struct Draw<'a> {
    rng: SplitMix64,
    device: &'a Device,
    eps: f64,
}

impl Draw<'_> {
    fn matrix(&mut self, rows: usize, cols: usize) -> Tensor<2> {
        tensor_from_vec(self.rng.normal(rows * cols, 0.2), [rows, cols], self.device)
    }

    fn vector(&mut self, len: usize, around: f32) -> Tensor<1> {
        let v: Vec<f32> = self
            .rng
            .normal(len, 0.1)
            .iter()
            .map(|x| x + around)
            .collect();
        tensor_from_vec(v, [len], self.device)
    }

    fn norm(&mut self, h: usize) -> LayerNorm {
        LayerNorm {
            weight: self.vector(h, 1.0),
            bias: self.vector(h, 0.0),
            eps: self.eps,
        }
    }

    fn linear(&mut self, out: usize, inp: usize) -> AdaptedLinear {
        AdaptedLinear::new(Dense {
            weight: self.matrix(out, inp),
            bias: Some(self.vector(out, 0.0)),
        })
    }
}

/// The configuration of [`seeded_model`]: vocabulary 64, hidden 16, 2 layers of 2 heads,
/// feed-forward 32, 32 positions.
pub fn tiny_config(family: Family) -> Result<ModelConfig, CoreError> {
    let model_type = match family {
        Family::Bert => "bert",
        Family::Roberta => "roberta",
    };
    ModelConfig::from_json(&format!(
        r#"{{"model_type": "{model_type}", "vocab_size": 64, "hidden_size": 16,
            "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 32,
            "hidden_act": "gelu", "max_position_embeddings": 40, "type_vocab_size": 2,
            "layer_norm_eps": 1e-5, "pad_token_id": 1}}"#
    ))
}

/// A tiny model of `family` with weights drawn from `seed` (`N(0, 0.2²)`; LayerNorm scales
/// around 1 and shifts around 0, so no part is an identity) and a mean-pool head for
/// `classes` classes. The same seed gives the same numbers on every device.
pub fn seeded_model(
    family: Family,
    classes: usize,
    seed: u64,
    device: &Device,
) -> Result<Model, CoreError> {
    let config = tiny_config(family)?;
    let (h, ff) = (config.hidden_size, config.intermediate_size);
    let mut draw = Draw {
        rng: SplitMix64::new(seed),
        device,
        eps: config.layer_norm_eps,
    };
    let embeddings = Embeddings {
        word: draw.matrix(config.vocab_size, h),
        position: draw.matrix(config.max_position_embeddings, h),
        token_type: draw.matrix(config.type_vocab_size, h),
        layer_norm: draw.norm(h),
    };
    let mut layers = Vec::new();
    for _ in 0..config.num_hidden_layers {
        layers.push(EncoderLayer {
            query: draw.linear(h, h),
            key: draw.linear(h, h),
            value: draw.linear(h, h),
            attn_out: draw.linear(h, h),
            attn_norm: draw.norm(h),
            intermediate: draw.linear(ff, h),
            output: draw.linear(h, ff),
            out_norm: draw.norm(h),
        });
    }
    let encoder = Encoder {
        config: config.clone(),
        embeddings,
        layers,
        pooler: None,
    };
    let head =
        ClassifierHead::new_seeded(HeadKind::MeanPoolLinear, h, classes, seed ^ 0x5eed, device)?;
    Ok(Model {
        config,
        encoder,
        head: Some(head),
        lora_config: None,
        hf_prefix: String::new(),
    })
}
