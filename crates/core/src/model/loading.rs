//! Building an encoder and its head from safetensors bytes with Hugging Face tensor names.
//!
//! Names are accepted with or without the family prefix (`bert.`, `roberta.`), and the old
//! `LayerNorm.gamma`/`beta` spelling is accepted for `weight`/`bias`. Tensors the model does not
//! use (`lm_head.*`, `embeddings.position_ids`, `cls.*`, …) are ignored. fp32, fp16, bf16 and
//! fp64 tensors are upcast to f32.

use burn::prelude::*;

use super::adapted::AdaptedLinear;
use super::config::{Family, ModelConfig};
use super::encoder::{Embeddings, Encoder, EncoderLayer};
use super::heads::ClassifierHead;
use super::layers::{Dense, LayerNorm};
use super::weights::{tensor_from_vec, WeightFile};
use crate::lora::LoraModule;
use crate::CoreError;

/// Reads the tensors of one module: knows the module's path in the file (`encoder.layer.3`),
/// the family prefix the file's names may carry, and the device. [`Reader::pp`] descends into a
/// sub-module, so each module is loaded by a reader of its own path (as candle's `VarBuilder`).
struct Reader<'f, 'a> {
    file: &'f WeightFile<'a>,
    /// The family prefix (`bert`, `roberta`) of the file's names, or empty.
    prefix: String,
    /// This module's path, e.g. `encoder.layer.3.attention.self.query` (empty at the top).
    path: String,
    device: Device,
}

impl<'f, 'a> Reader<'f, 'a> {
    /// The reader of sub-module `name`.
    fn pp(&self, name: &str) -> Reader<'f, 'a> {
        Reader {
            file: self.file,
            prefix: self.prefix.clone(),
            path: self.name(name),
            device: self.device.clone(),
        }
    }

    /// The full name of `name` under this module.
    fn name(&self, name: &str) -> String {
        if self.path.is_empty() {
            name.to_string()
        } else {
            format!("{}.{name}", self.path)
        }
    }

    /// Candidate stored names of the tensor `name` of this module.
    fn candidates(&self, name: &str) -> Vec<String> {
        let name = self.name(name);
        let mut bases = vec![name.clone()];
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

    /// This module as a dense layer (`weight`, `bias`).
    fn dense(&self, out: usize, inp: usize) -> Result<Dense, CoreError> {
        Ok(Dense {
            weight: self.t2("weight", out, inp)?,
            bias: Some(self.t1("bias", out)?),
        })
    }

    /// This module as a LayerNorm (`weight`/`gamma`, `bias`/`beta`).
    fn norm(&self, h: usize, eps: f64) -> Result<LayerNorm, CoreError> {
        Ok(LayerNorm {
            weight: self.t1("weight", h)?,
            bias: self.t1("bias", h)?,
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
        path: String::new(),
        device: device.clone(),
    };
    let (h, i, eps) = (
        config.hidden_size,
        config.intermediate_size,
        config.layer_norm_eps,
    );
    let e = r.pp("embeddings");
    let embeddings = Embeddings {
        word: e.t2("word_embeddings.weight", config.vocab_size, h)?,
        position: e.t2(
            "position_embeddings.weight",
            config.max_position_embeddings,
            h,
        )?,
        token_type: e.t2("token_type_embeddings.weight", config.type_vocab_size, h)?,
        layer_norm: e.pp("LayerNorm").norm(h, eps)?,
    };
    let mut layers = Vec::new();
    for l in 0..config.num_hidden_layers {
        let layer = r.pp(&format!("encoder.layer.{l}"));
        // The six linear layers, at the paths `LoraModule::hf_path` names.
        let lin = |m: LoraModule| -> Result<AdaptedLinear, CoreError> {
            let (out, inp) = match m {
                LoraModule::Intermediate => (i, h),
                LoraModule::Output => (h, i),
                _ => (h, h),
            };
            Ok(AdaptedLinear::new(layer.pp(m.hf_path()).dense(out, inp)?))
        };
        layers.push(EncoderLayer {
            query: lin(LoraModule::Query)?,
            key: lin(LoraModule::Key)?,
            value: lin(LoraModule::Value)?,
            attn_out: lin(LoraModule::AttnOut)?,
            attn_norm: layer.pp("attention.output.LayerNorm").norm(h, eps)?,
            intermediate: lin(LoraModule::Intermediate)?,
            output: lin(LoraModule::Output)?,
            out_norm: layer.pp("output.LayerNorm").norm(h, eps)?,
        });
    }
    let pooler = if file.find(&r.candidates("pooler.dense.weight")).is_some() {
        Some(r.pp("pooler.dense").dense(h, h)?)
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
