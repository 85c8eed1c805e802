//! Building an encoder and its head from safetensors bytes with Hugging Face tensor names.
//!
//! Names are accepted with or without the family prefix (`bert.`, `roberta.`), and the old
//! `LayerNorm.gamma`/`beta` spelling is accepted for `weight`/`bias`. Tensors the model does not
//! use (`lm_head.*`, `embeddings.position_ids`, `cls.*`, …) are ignored. fp32, fp16, bf16 and
//! fp64 tensors are upcast to f32.

use burn::prelude::*;

use super::config::{Family, ModelConfig};
use super::encoder::{Embeddings, Encoder, EncoderLayer};
use super::heads::ClassifierHead;
use super::layers::{Dense, LayerNorm};
use super::weights::{tensor_from_vec, WeightFile};
use crate::lora::AdaptedLinear;
use crate::CoreError;

/// Reads tensors for one model: knows the family prefix and the device.
struct Reader<'f, 'a> {
    file: &'f WeightFile<'a>,
    prefix: String,
    device: Device,
}

impl Reader<'_, '_> {
    /// Candidate stored names of the encoder tensor `name` (given without prefix).
    fn candidates(&self, name: &str) -> Vec<String> {
        let mut bases = vec![name.to_string()];
        if let Some(stem) = name.strip_suffix("LayerNorm.weight") {
            bases.push(format!("{stem}LayerNorm.gamma"));
        }
        if let Some(stem) = name.strip_suffix("LayerNorm.bias") {
            bases.push(format!("{stem}LayerNorm.beta"));
        }
        let mut out = Vec::new();
        for b in &bases {
            if !self.prefix.is_empty() {
                out.push(format!("{}.{b}", self.prefix));
            }
            out.push(b.clone());
        }
        out
    }

    fn t1(&self, name: &str, n: usize) -> Result<Tensor<1>, CoreError> {
        let v = self.file.read(&self.candidates(name), &[n])?;
        Ok(tensor_from_vec(v, [n], &self.device))
    }

    fn t2(&self, name: &str, rows: usize, cols: usize) -> Result<Tensor<2>, CoreError> {
        let v = self.file.read(&self.candidates(name), &[rows, cols])?;
        Ok(tensor_from_vec(v, [rows, cols], &self.device))
    }

    fn dense(&self, name: &str, out: usize, inp: usize) -> Result<Dense, CoreError> {
        Ok(Dense {
            weight: self.t2(&format!("{name}.weight"), out, inp)?,
            bias: Some(self.t1(&format!("{name}.bias"), out)?),
        })
    }

    fn norm(&self, name: &str, h: usize, eps: f64) -> Result<LayerNorm, CoreError> {
        Ok(LayerNorm {
            weight: self.t1(&format!("{name}.weight"), h)?,
            bias: self.t1(&format!("{name}.bias"), h)?,
            eps,
        })
    }
}

/// Which prefix the file's encoder tensors carry: the family prefix (`bert`, `roberta`) when
/// `<prefix>.embeddings.word_embeddings.weight` is present, otherwise none.
pub fn detect_prefix(file: &WeightFile<'_>, family: Family) -> String {
    let p = family.prefix();
    let with = [
        format!("{p}.embeddings.word_embeddings.weight"),
        format!("{p}.embeddings.LayerNorm.weight"),
        format!("{p}.embeddings.LayerNorm.gamma"),
    ];
    if file.find(&with).is_some() {
        p.to_string()
    } else {
        String::new()
    }
}

/// Loads the encoder (and the pooler when the file has `pooler.dense.*`). Returns it with the
/// prefix its tensors carried (`bert`, `roberta` or empty), which is also the prefix PEFT
/// uses in adapter keys for this checkpoint.
pub fn load_encoder(
    config: &ModelConfig,
    file: &WeightFile<'_>,
    device: &Device,
) -> Result<(Encoder, String), CoreError> {
    let prefix = detect_prefix(file, config.family);
    let r = Reader {
        file,
        prefix: prefix.clone(),
        device: device.clone(),
    };
    let (h, i, eps) = (
        config.hidden_size,
        config.intermediate_size,
        config.layer_norm_eps,
    );
    let embeddings = Embeddings {
        word: r.t2("embeddings.word_embeddings.weight", config.vocab_size, h)?,
        position: r.t2(
            "embeddings.position_embeddings.weight",
            config.max_position_embeddings,
            h,
        )?,
        token_type: r.t2(
            "embeddings.token_type_embeddings.weight",
            config.type_vocab_size,
            h,
        )?,
        layer_norm: r.norm("embeddings.LayerNorm", h, eps)?,
    };
    let mut layers = Vec::with_capacity(config.num_hidden_layers);
    for l in 0..config.num_hidden_layers {
        let p = format!("encoder.layer.{l}");
        let lin = |name: &str, out: usize, inp: usize| -> Result<AdaptedLinear, CoreError> {
            Ok(AdaptedLinear::new(r.dense(
                &format!("{p}.{name}"),
                out,
                inp,
            )?))
        };
        layers.push(EncoderLayer {
            query: lin("attention.self.query", h, h)?,
            key: lin("attention.self.key", h, h)?,
            value: lin("attention.self.value", h, h)?,
            attn_out: lin("attention.output.dense", h, h)?,
            attn_norm: r.norm(&format!("{p}.attention.output.LayerNorm"), h, eps)?,
            intermediate: lin("intermediate.dense", i, h)?,
            output: lin("output.dense", h, i)?,
            out_norm: r.norm(&format!("{p}.output.LayerNorm"), h, eps)?,
        });
    }
    let pooler = if file.find(&r.candidates("pooler.dense.weight")).is_some() {
        Some(r.dense("pooler.dense", h, h)?)
    } else {
        None
    };
    Ok((
        Encoder {
            config: config.clone(),
            embeddings,
            layers,
            pooler,
        },
        prefix,
    ))
}

/// Loads a classification head from `file` if it holds one: `classifier.out_proj.*` (+
/// `classifier.dense.*`) → RoBERTa head; `classifier.weight` → BERT head. `key_prefix` is
/// prepended to the names (empty for a model file; `base_model.model.` for a PEFT adapter).
/// The number of classes is read from the tensor and checked against `num_labels` when the
/// config gives it.
pub fn load_head(
    config: &ModelConfig,
    file: &WeightFile<'_>,
    key_prefix: &str,
    device: &Device,
) -> Result<Option<ClassifierHead>, CoreError> {
    let h = config.hidden_size;
    let name = |n: &str| format!("{key_prefix}{n}");
    let classes = |weight: &str| -> Result<usize, CoreError> {
        let shape = file.shape(weight).unwrap_or_default();
        let expected_c = config
            .num_labels
            .unwrap_or(shape.first().copied().unwrap_or(0));
        if shape.len() != 2 || shape[1] != h || shape[0] != expected_c || expected_c == 0 {
            return Err(CoreError::TensorShape {
                file: file.file().to_string(),
                name: weight.to_string(),
                expected: vec![expected_c, h],
                found: shape,
            });
        }
        Ok(expected_c)
    };
    let dense = |n: &str, out: usize, inp: usize| -> Result<Dense, CoreError> {
        let w = file.read_exact(&name(&format!("{n}.weight")), &[out, inp])?;
        let b = file.read_exact(&name(&format!("{n}.bias")), &[out])?;
        Ok(Dense {
            weight: tensor_from_vec(w, [out, inp], device),
            bias: Some(tensor_from_vec(b, [out], device)),
        })
    };
    if file.contains(&name("classifier.out_proj.weight")) {
        let c = classes(&name("classifier.out_proj.weight"))?;
        return Ok(Some(ClassifierHead::Roberta {
            dense: dense("classifier.dense", h, h)?,
            out_proj: dense("classifier.out_proj", c, h)?,
        }));
    }
    if file.contains(&name("classifier.weight")) {
        let c = classes(&name("classifier.weight"))?;
        return Ok(Some(ClassifierHead::Bert {
            classifier: dense("classifier", c, h)?,
        }));
    }
    Ok(None)
}
