//! Hugging Face `config.json` for the BERT family (BERT, MiniLM, sentence-transformers; model
//! type `bert`) and the RoBERTa family (RoBERTa, DistilRoBERTa; model type `roberta`).
//!
//! Only the fields the encoder needs are read; unknown fields are ignored. Missing optional
//! fields take the Hugging Face defaults of the family. Every validation error names the field.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::CoreError;

/// Which architecture family a model belongs to. The families differ in how position ids are
/// formed, the head of `…ForSequenceClassification`, and the weight-name prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Family {
    /// `model_type = "bert"`: positions `0..T`, pooler + linear classifier, prefix `bert.`.
    Bert,
    /// `model_type = "roberta"`: positions `padding_idx + 1 + cumsum`, classifier
    /// `dense → tanh → out_proj` on the first token, prefix `roberta.`.
    Roberta,
}

impl Family {
    /// The prefix of the encoder's tensors in `…ForSequenceClassification` checkpoints
    /// (`bert` or `roberta`), also used in PEFT adapter keys.
    pub fn prefix(self) -> &'static str {
        match self {
            Family::Bert => "bert",
            Family::Roberta => "roberta",
        }
    }
}

/// Activation of the feed-forward block. Only the exact (erf) GELU is supported, which is what
/// Hugging Face means by `"gelu"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    /// `x · Φ(x) = x/2 · (1 + erf(x/√2))`.
    Gelu,
}

/// The validated model configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelConfig {
    /// Architecture family (from `model_type`).
    pub family: Family,
    /// Rows of the word-embedding table.
    pub vocab_size: usize,
    /// Width of the hidden states `H`.
    pub hidden_size: usize,
    /// Number of transformer layers.
    pub num_hidden_layers: usize,
    /// Attention heads per layer; divides `hidden_size`.
    pub num_attention_heads: usize,
    /// Width of the feed-forward block.
    pub intermediate_size: usize,
    /// Feed-forward activation.
    pub hidden_act: Activation,
    /// Rows of the position-embedding table.
    pub max_position_embeddings: usize,
    /// Rows of the token-type table (2 for BERT, 1 for RoBERTa).
    pub type_vocab_size: usize,
    /// LayerNorm epsilon (1e-12 for BERT, 1e-5 for RoBERTa).
    pub layer_norm_eps: f64,
    /// Id of the padding token (BERT 0, RoBERTa 1). RoBERTa's position ids depend on it.
    pub pad_token_id: u32,
    /// Number of classes of a classification head, if the config declares one
    /// (`num_labels`, or the size of `id2label`).
    pub num_labels: Option<usize>,
    /// Class names by index, when `id2label` is given.
    pub id2label: Vec<String>,
    /// The `architectures` list (e.g. `["BertForSequenceClassification"]`).
    pub architectures: Vec<String>,
}

/// The raw JSON, before validation; every field optional so that the error can name what is
/// missing.
#[derive(Debug, Deserialize)]
struct RawConfig {
    model_type: Option<String>,
    vocab_size: Option<i64>,
    hidden_size: Option<i64>,
    num_hidden_layers: Option<i64>,
    num_attention_heads: Option<i64>,
    intermediate_size: Option<i64>,
    hidden_act: Option<String>,
    max_position_embeddings: Option<i64>,
    type_vocab_size: Option<i64>,
    layer_norm_eps: Option<f64>,
    pad_token_id: Option<i64>,
    num_labels: Option<i64>,
    id2label: Option<BTreeMap<String, String>>,
    architectures: Option<Vec<String>>,
    position_embedding_type: Option<String>,
}

fn required(field: &str, v: Option<i64>) -> Result<usize, CoreError> {
    let v = v.ok_or_else(|| CoreError::model_config(field, "missing"))?;
    positive(field, v)
}

fn positive(field: &str, v: i64) -> Result<usize, CoreError> {
    if v <= 0 {
        return Err(CoreError::model_config(
            field,
            format!("expected a positive integer, got {v}"),
        ));
    }
    usize::try_from(v).map_err(|_| CoreError::model_config(field, format!("{v} is too large")))
}

/// The largest sizes accepted in a `config.json`, far beyond any encoder this tool can run: a
/// config past them is refused before anything is allocated.
pub const CONFIG_LIMITS: [(&str, usize); 6] = [
    ("num_hidden_layers", 1_024),
    ("hidden_size", 65_536),
    ("num_attention_heads", 1_024),
    ("intermediate_size", 1_048_576),
    ("vocab_size", 10_000_000),
    ("max_position_embeddings", 1_048_576),
];

fn within_limit(field: &str, v: usize) -> Result<usize, CoreError> {
    match CONFIG_LIMITS.iter().find(|(f, _)| *f == field) {
        Some((_, max)) if v > *max => Err(CoreError::model_config(
            field,
            format!("{v} is past the largest this tool accepts ({max})"),
        )),
        _ => Ok(v),
    }
}

impl ModelConfig {
    /// Parses and validates a Hugging Face `config.json`.
    pub fn from_json(json: &str) -> Result<Self, CoreError> {
        let raw: RawConfig = serde_json::from_str(json)
            .map_err(|e| CoreError::model_config("config.json", format!("not valid JSON: {e}")))?;
        Self::from_raw(raw)
    }

    /// Parses a `config.json` given as bytes (UTF-8).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CoreError> {
        let text = std::str::from_utf8(bytes)
            .map_err(|e| CoreError::model_config("config.json", format!("not UTF-8: {e}")))?;
        Self::from_json(text)
    }

    fn from_raw(raw: RawConfig) -> Result<Self, CoreError> {
        let family = match raw.model_type.as_deref() {
            Some("bert") => Family::Bert,
            Some("roberta") => Family::Roberta,
            Some(other) => {
                return Err(CoreError::model_config(
                    "model_type",
                    format!("`{other}` is not supported; expected `bert` or `roberta`"),
                ))
            }
            None => return Err(CoreError::model_config("model_type", "missing")),
        };
        let hidden_act = match raw.hidden_act.as_deref() {
            None | Some("gelu") => Activation::Gelu,
            Some(other) => {
                return Err(CoreError::model_config(
                    "hidden_act",
                    format!("`{other}` is not supported; only `gelu` (exact erf GELU) is"),
                ))
            }
        };
        if let Some(p) = raw.position_embedding_type.as_deref() {
            if p != "absolute" {
                return Err(CoreError::model_config(
                    "position_embedding_type",
                    format!("`{p}` is not supported; only `absolute` is"),
                ));
            }
        }
        let (default_types, default_eps, default_pad) = match family {
            Family::Bert => (2, 1e-12, 0),
            Family::Roberta => (1, 1e-5, 1),
        };
        let limited = |field: &str, v: Option<i64>| within_limit(field, required(field, v)?);
        let hidden_size = limited("hidden_size", raw.hidden_size)?;
        let num_attention_heads = limited("num_attention_heads", raw.num_attention_heads)?;
        if hidden_size % num_attention_heads != 0 {
            return Err(CoreError::model_config(
                "hidden_size",
                format!(
                    "{hidden_size} is not divisible by num_attention_heads = {num_attention_heads}"
                ),
            ));
        }
        let vocab_size = limited("vocab_size", raw.vocab_size)?;
        let pad = raw.pad_token_id.unwrap_or(default_pad);
        if pad < 0 || pad as u64 >= vocab_size as u64 {
            return Err(CoreError::model_config(
                "pad_token_id",
                format!("{pad} is outside the vocabulary 0..{vocab_size}"),
            ));
        }
        let max_position_embeddings =
            limited("max_position_embeddings", raw.max_position_embeddings)?;
        if family == Family::Roberta && max_position_embeddings <= pad as usize + 1 {
            return Err(CoreError::model_config(
                "max_position_embeddings",
                format!(
                    "{max_position_embeddings} leaves no usable position after padding_idx + 1 = {}",
                    pad + 1
                ),
            ));
        }
        let layer_norm_eps = raw.layer_norm_eps.unwrap_or(default_eps);
        if !(layer_norm_eps.is_finite() && layer_norm_eps > 0.0) {
            return Err(CoreError::model_config(
                "layer_norm_eps",
                format!("expected a positive number, got {layer_norm_eps}"),
            ));
        }
        let id2label = match raw.id2label {
            None => Vec::new(),
            Some(map) => {
                let mut labels = vec![None; map.len()];
                for (k, v) in map {
                    let i: usize = k.parse().map_err(|_| {
                        CoreError::model_config("id2label", format!("key `{k}` is not an index"))
                    })?;
                    let slot = labels.get_mut(i).ok_or_else(|| {
                        CoreError::model_config(
                            "id2label",
                            format!("index {i} is not below the number of labels"),
                        )
                    })?;
                    *slot = Some(v);
                }
                labels.into_iter().flatten().collect()
            }
        };
        let num_labels = match raw.num_labels {
            Some(n) => Some(positive("num_labels", n)?),
            None if !id2label.is_empty() => Some(id2label.len()),
            None => None,
        };
        if let Some(n) = num_labels {
            if !id2label.is_empty() && id2label.len() != n {
                return Err(CoreError::model_config(
                    "num_labels",
                    format!(
                        "{n} differs from the {} entries of id2label",
                        id2label.len()
                    ),
                ));
            }
        }
        Ok(ModelConfig {
            family,
            vocab_size,
            hidden_size,
            num_hidden_layers: limited("num_hidden_layers", raw.num_hidden_layers)?,
            num_attention_heads,
            intermediate_size: limited("intermediate_size", raw.intermediate_size)?,
            hidden_act,
            max_position_embeddings,
            type_vocab_size: positive(
                "type_vocab_size",
                raw.type_vocab_size.unwrap_or(default_types),
            )?,
            layer_norm_eps,
            pad_token_id: pad as u32,
            num_labels,
            id2label,
            architectures: raw.architectures.unwrap_or_default(),
        })
    }

    /// Width of one attention head, `hidden_size / num_attention_heads`.
    pub fn head_dim(&self) -> usize {
        self.hidden_size / self.num_attention_heads
    }

    /// Largest sequence length the position table allows: `max_position_embeddings` for BERT,
    /// `max_position_embeddings − pad_token_id − 1` for RoBERTa (positions start at
    /// `padding_idx + 1`).
    pub fn max_sequence_length(&self) -> usize {
        match self.family {
            Family::Bert => self.max_position_embeddings,
            Family::Roberta => self.max_position_embeddings - self.pad_token_id as usize - 1,
        }
    }

    /// True when `architectures` names a `…ForSequenceClassification` model.
    pub fn is_sequence_classifier(&self) -> bool {
        self.architectures
            .iter()
            .any(|a| a.ends_with("ForSequenceClassification"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BERT: &str = r#"{"architectures":["BertForSequenceClassification"],"hidden_act":"gelu",
        "hidden_size":32,"id2label":{"0":"neg","1":"pos","2":"mid"},"intermediate_size":64,
        "layer_norm_eps":1e-12,"max_position_embeddings":64,"model_type":"bert",
        "num_attention_heads":4,"num_hidden_layers":2,"pad_token_id":0,"type_vocab_size":2,
        "vocab_size":140}"#;

    #[test]
    fn parses_a_bert_classifier_config() {
        let c = ModelConfig::from_json(BERT).unwrap();
        assert_eq!(c.family, Family::Bert);
        assert_eq!(c.head_dim(), 8);
        assert_eq!(c.num_labels, Some(3));
        assert_eq!(c.id2label, ["neg", "pos", "mid"]);
        assert_eq!(c.layer_norm_eps, 1e-12);
        assert!(c.is_sequence_classifier());
        assert_eq!(c.max_sequence_length(), 64);
    }

    /// Sizes past [`CONFIG_LIMITS`] are refused naming the field, before any weight is read;
    /// the limits themselves are accepted.
    #[test]
    fn absurd_sizes_are_refused_naming_the_field() {
        for (field, max) in CONFIG_LIMITS {
            let at = BERT.replacen(
                &format!("\"{field}\":"),
                &format!("\"{field}\":{max},\"x_{field}\":"),
                1,
            );
            let past = BERT.replacen(
                &format!("\"{field}\":"),
                &format!("\"{field}\":{},\"x_{field}\":", max + 1),
                1,
            );
            assert_ne!(at, BERT, "{field} is in the fixture");
            if let Err(e) = ModelConfig::from_json(&at) {
                assert!(!e.to_string().contains("past the largest"), "{field}: {e}");
            }
            let e = ModelConfig::from_json(&past).unwrap_err().to_string();
            assert!(
                e.contains(&format!("`{field}`")) && e.contains("past the largest"),
                "{field}: {e}"
            );
        }
    }

    #[test]
    fn roberta_defaults_and_sequence_length() {
        let json = r#"{"model_type":"roberta","vocab_size":50,"hidden_size":8,
            "num_hidden_layers":1,"num_attention_heads":2,"intermediate_size":16,
            "max_position_embeddings":66}"#;
        let c = ModelConfig::from_json(json).unwrap();
        assert_eq!(c.family, Family::Roberta);
        assert_eq!((c.pad_token_id, c.type_vocab_size), (1, 1));
        assert_eq!(c.layer_norm_eps, 1e-5);
        assert_eq!(c.max_sequence_length(), 64);
        assert_eq!(c.num_labels, None);
    }

    fn err_field(json: &str) -> String {
        match ModelConfig::from_json(json) {
            Err(CoreError::ModelConfig { field, .. }) => field,
            other => panic!("expected a ModelConfig error, got {other:?}"),
        }
    }

    #[test]
    fn errors_name_the_field() {
        let heads = BERT.replace("\"num_attention_heads\":4", "\"num_attention_heads\":5");
        assert_eq!(err_field(&heads), "hidden_size");
        let act = BERT.replace("\"gelu\"", "\"relu\"");
        assert_eq!(err_field(&act), "hidden_act");
        let ty = BERT.replace("\"bert\"", "\"gpt2\"");
        assert_eq!(err_field(&ty), "model_type");
        let missing = BERT.replace("\"vocab_size\":140", "\"x\":1");
        assert_eq!(err_field(&missing), "vocab_size");
        let neg = BERT.replace("\"intermediate_size\":64", "\"intermediate_size\":-1");
        assert_eq!(err_field(&neg), "intermediate_size");
        assert_eq!(err_field("{not json"), "config.json");
        let pad = BERT.replace("\"pad_token_id\":0", "\"pad_token_id\":500");
        assert_eq!(err_field(&pad), "pad_token_id");
        let labels = BERT.replace("\"model_type\"", "\"num_labels\":2,\"model_type\"");
        assert_eq!(err_field(&labels), "num_labels");
    }
}
