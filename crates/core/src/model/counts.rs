//! Parameter counts: of a loaded model (from its tensors), of the LoRA adapters a configuration
//! would add (from the architecture alone), and of a new classification head.
//!
//! The formula for LoRA is `r · (in + out)` per adapted linear layer (`A: [r, in]`,
//! `B: [out, r]`); a new head has the weights and biases of its dense layers.

use serde::{Deserialize, Serialize};

use super::config::{Family, ModelConfig};
use super::heads::{ClassifierHead, HeadKind};
use super::layers::{Dense, LayerNorm};
use super::Model;
use crate::lora::{LoraConfig, LoraModule};
use crate::CoreError;

/// How many scalar parameters a model holds, by part.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ParameterCounts {
    /// Word, position and token-type embeddings and their LayerNorm.
    pub embeddings: usize,
    /// All transformer layers (base weights only, without LoRA).
    pub layers: usize,
    /// The pooler, when the checkpoint has one.
    pub pooler: usize,
    /// The classification head, when the model has one.
    pub head: usize,
    /// The LoRA adapters (`A` and `B` of every adapted layer).
    pub lora: usize,
}

impl ParameterCounts {
    /// Everything but LoRA and head: the pretrained checkpoint's encoder (what "22.7M" means
    /// for all-MiniLM-L6-v2).
    pub fn base(&self) -> usize {
        self.embeddings + self.layers + self.pooler
    }

    /// Everything, adapters and head included.
    pub fn total(&self) -> usize {
        self.base() + self.head + self.lora
    }

    /// The counts a checkpoint of architecture `config` has, from `config.json` alone (no
    /// LoRA): what [`Model::parameter_counts`] gives once its weights are loaded, so that the
    /// page can show them before downloading. The pooler and the head follow the class that
    /// `architectures` names, as transformers builds it: `BertModel`, `RobertaModel` and the
    /// BERT classes other than `…ForMaskedLM` have a pooler; `…ForSequenceClassification`
    /// has its family's head for `num_labels` (default 2) classes. Without `architectures`, a
    /// BERT has a pooler and a RoBERTa none.
    pub fn from_config(config: &ModelConfig) -> ParameterCounts {
        let (h, i) = (config.hidden_size, config.intermediate_size);
        let embeddings =
            (config.vocab_size + config.max_position_embeddings + config.type_vocab_size) * h
                + 2 * h;
        // Q, K, V, attention output (H×H + H each), the feed-forward pair, two LayerNorms.
        let per_layer = 4 * (h * h + h) + (h * i + i) + (i * h + h) + 4 * h;
        let names = &config.architectures;
        let pooler = if names.is_empty() {
            config.family == Family::Bert
        } else {
            names.iter().any(|a| {
                a == "RobertaModel" || (a.starts_with("Bert") && !a.ends_with("ForMaskedLM"))
            })
        };
        let head = if config.is_sequence_classifier() {
            let kind = match config.family {
                Family::Bert => HeadKind::Bert,
                Family::Roberta => HeadKind::Roberta,
            };
            kind.parameter_count(h, config.num_labels.unwrap_or(2))
        } else {
            0
        };
        ParameterCounts {
            embeddings,
            layers: config.num_hidden_layers * per_layer,
            pooler: if pooler { h * h + h } else { 0 },
            head,
            lora: 0,
        }
    }
}

fn dense_count(d: &Dense) -> usize {
    d.weight.dims().iter().product::<usize>() + d.bias.as_ref().map_or(0, |b| b.dims()[0])
}

fn norm_count(n: &LayerNorm) -> usize {
    n.weight.dims()[0] + n.bias.dims()[0]
}

fn head_count(head: &ClassifierHead) -> usize {
    match head {
        ClassifierHead::Bert { classifier } | ClassifierHead::MeanPoolLinear { classifier } => {
            dense_count(classifier)
        }
        ClassifierHead::Roberta { dense, out_proj } => dense_count(dense) + dense_count(out_proj),
    }
}

impl Model {
    /// Counts the parameters of the loaded tensors, by part.
    pub fn parameter_counts(&self) -> ParameterCounts {
        let e = &self.encoder.embeddings;
        let embeddings = [&e.word, &e.position, &e.token_type]
            .iter()
            .map(|t| t.dims().iter().product::<usize>())
            .sum::<usize>()
            + norm_count(&e.layer_norm);
        let mut layers = 0;
        let mut lora = 0;
        for layer in &self.encoder.layers {
            for m in LoraModule::ALL {
                let lin = layer.linear(m);
                layers += dense_count(&lin.base);
                if let Some(w) = &lin.lora {
                    lora += w.rank() * (lin.base.in_features() + lin.base.out_features());
                }
            }
            layers += norm_count(&layer.attn_norm) + norm_count(&layer.out_norm);
        }
        ParameterCounts {
            embeddings,
            layers,
            pooler: self.encoder.pooler.as_ref().map_or(0, dense_count),
            head: self.head.as_ref().map_or(0, head_count),
            lora,
        }
    }
}

impl HeadKind {
    /// The head this tool puts on a checkpoint without one: RoBERTa-style (dense + tanh +
    /// out_proj on the first token) for the RoBERTa family, a linear layer on the mean-pooled
    /// output for the BERT family (sentence-transformers models such as all-MiniLM-L6-v2 have
    /// no trained pooler). The one place where this choice is made.
    pub fn default_for(family: Family) -> HeadKind {
        match family {
            Family::Bert => HeadKind::MeanPoolLinear,
            Family::Roberta => HeadKind::Roberta,
        }
    }

    /// The number of parameters of a new head of this kind for `hidden` inputs and
    /// `num_classes` classes (weights and biases).
    pub fn parameter_count(self, hidden: usize, num_classes: usize) -> usize {
        match self {
            HeadKind::Bert | HeadKind::MeanPoolLinear => num_classes * hidden + num_classes,
            HeadKind::Roberta => hidden * hidden + hidden + num_classes * hidden + num_classes,
        }
    }
}

/// `(in_features, out_features)` of `module` in an encoder with hidden size `hidden` and
/// feed-forward width `intermediate`.
pub fn module_shape(module: LoraModule, hidden: usize, intermediate: usize) -> (usize, usize) {
    match module {
        LoraModule::Intermediate => (hidden, intermediate),
        LoraModule::Output => (intermediate, hidden),
        _ => (hidden, hidden),
    }
}

/// The number of trainable LoRA parameters `lora` adds to a model of architecture `config`:
/// `r · (in + out)` summed over the adapted sites (as [`LoraConfig::resolve`] selects them; a
/// bare checkpoint's module keys have no prefix).
///
/// Errors: those of [`LoraConfig::resolve`] (rank 0, a layer out of range, no site matched).
pub fn lora_parameter_count(config: &ModelConfig, lora: &LoraConfig) -> Result<usize, CoreError> {
    let sites = lora.resolve(config.num_hidden_layers, "")?;
    Ok(sites
        .iter()
        .map(|s| {
            let (i, o) = module_shape(s.module, config.hidden_size, config.intermediate_size);
            lora.r * (i + o)
        })
        .sum())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::cpu_device;

    fn tiny_config() -> ModelConfig {
        ModelConfig::from_json(
            r#"{"model_type":"bert","vocab_size":50,"hidden_size":8,"num_hidden_layers":2,
                "num_attention_heads":2,"intermediate_size":12,"max_position_embeddings":16,
                "type_vocab_size":2}"#,
        )
        .unwrap()
    }

    #[test]
    fn lora_count_is_r_times_in_plus_out_per_site() {
        let c = tiny_config();
        let lora = LoraConfig::new(3, 6.0, &[LoraModule::Query, LoraModule::Value]);
        assert_eq!(
            lora_parameter_count(&c, &lora).unwrap(),
            2 * 2 * 3 * (8 + 8)
        );
        let mut ffn = LoraConfig::new(2, 2.0, &[LoraModule::Intermediate, LoraModule::Output]);
        ffn.layers_to_transform = Some(vec![1]);
        assert_eq!(lora_parameter_count(&c, &ffn).unwrap(), 2 * (8 + 12) * 2);
        ffn.layers_to_transform = Some(vec![5]);
        assert!(lora_parameter_count(&c, &ffn).is_err());
        // MiniLM-L6 (H 384), r 8, query + value in all 6 layers: 6·2·8·(384+384).
        let mini = ModelConfig::from_json(
            r#"{"model_type":"bert","vocab_size":30522,"hidden_size":384,"num_hidden_layers":6,
                "num_attention_heads":12,"intermediate_size":1536,"max_position_embeddings":512,
                "type_vocab_size":2}"#,
        )
        .unwrap();
        let qv = LoraConfig::new(8, 16.0, &[LoraModule::Query, LoraModule::Value]);
        assert_eq!(lora_parameter_count(&mini, &qv).unwrap(), 73_728);
    }

    #[test]
    fn head_counts_and_default_kinds() {
        assert_eq!(
            HeadKind::default_for(Family::Bert),
            HeadKind::MeanPoolLinear
        );
        assert_eq!(HeadKind::default_for(Family::Roberta), HeadKind::Roberta);
        assert_eq!(HeadKind::MeanPoolLinear.parameter_count(384, 2), 770);
        assert_eq!(
            HeadKind::Roberta.parameter_count(768, 2),
            768 * 769 + 2 * 769
        );
    }

    fn fixture(name: &str) -> std::path::PathBuf {
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/fixtures/models")
            .join(name)
    }

    #[test]
    #[cfg(not(target_family = "wasm"))]
    fn counts_of_loaded_models_match_the_formulas() {
        for name in ["bert_base", "roberta_cls"] {
            let mut model = Model::from_dir(fixture(name), &cpu_device()).unwrap();
            let c = model.config.clone();
            let counts = model.parameter_counts();
            let (h, i, l) = (c.hidden_size, c.intermediate_size, c.num_hidden_layers);
            let emb = (c.vocab_size + c.max_position_embeddings + c.type_vocab_size) * h + 2 * h;
            assert_eq!(counts.embeddings, emb, "{name}");
            // 4 H×H + H×I + I×H weights, their biases, two LayerNorms.
            let per_layer = 4 * (h * h + h) + (h * i + i) + (i * h + h) + 4 * h;
            assert_eq!(counts.layers, l * per_layer, "{name}");
            assert_eq!(counts.lora, 0);
            let lora = LoraConfig::new(4, 8.0, &LoraModule::ALL);
            model.apply_lora(&lora, 1).unwrap();
            let with = model.parameter_counts();
            assert_eq!(
                with.lora,
                lora_parameter_count(&c, &lora).unwrap(),
                "{name}"
            );
            assert_eq!(with.total(), counts.total() + with.lora);
            let kind = HeadKind::default_for(c.family);
            model.set_new_head(kind, 3, 7).unwrap();
            assert_eq!(model.parameter_counts().head, kind.parameter_count(h, 3));
        }
    }

    #[test]
    #[cfg(not(target_family = "wasm"))]
    fn totals_equal_pytorch_numel_sums() {
        let bert = Model::from_dir(fixture("bert_cls"), &cpu_device()).unwrap();
        let (h, c) = (bert.config.hidden_size, 3);
        let p = bert.parameter_counts();
        assert_eq!(p.head, c * h + c);
        assert_eq!((p.lora, p.total()), (0, p.base() + p.head));
        // sum(p.numel() for p in BertForSequenceClassification(...).parameters()) on the fixture.
        assert_eq!(p.total(), 24_899);

        let roberta = Model::from_dir(fixture("roberta_cls"), &cpu_device()).unwrap();
        let p = roberta.parameter_counts();
        let h = roberta.config.hidden_size;
        assert_eq!(p.head, (h * h + h) + (2 * h + 2));
        assert_eq!(p.total(), 31_970);
    }

    /// `config.json` alone gives the counts of the loaded tensors, and both equal what
    /// transformers reports (`tests/reference/make_counts.py`: `num_parameters()` of the class
    /// in `architectures`, its embeddings, pooler and head), exactly: counts are integers.
    #[test]
    #[cfg(not(target_family = "wasm"))]
    fn counts_from_config_equal_loaded_tensors_and_transformers() {
        let path = fixture("counts.json");
        let text = std::fs::read_to_string(&path).unwrap();
        let expected: serde_json::Value = serde_json::from_str(&text).unwrap();
        let models = ["bert_base", "bert_cls", "roberta_base", "roberta_cls"];
        for name in models {
            let hf = &expected[name];
            let num = |k: &str| hf[k].as_u64().unwrap_or_else(|| panic!("{name}.{k}")) as usize;
            let model = Model::from_dir(fixture(name), &cpu_device()).unwrap();
            let from_config = ParameterCounts::from_config(&model.config);
            assert_eq!(from_config, model.parameter_counts(), "{name}");
            assert_eq!(from_config.total(), num("num_parameters"), "{name}");
            assert_eq!(from_config.base(), num("num_parameters_encoder"), "{name}");
            assert_eq!(from_config.embeddings, num("embeddings"), "{name}");
            assert_eq!(from_config.pooler, num("pooler"), "{name}");
            assert_eq!(from_config.head, num("head"), "{name}");
        }
        // distilroberta-base is a RobertaForMaskedLM: transformers builds it without a pooler
        // (its lm_head is downloaded but not an encoder parameter).
        let distil = ModelConfig::from_json(
            r#"{"architectures":["RobertaForMaskedLM"],"model_type":"roberta","vocab_size":50265,
                "hidden_size":768,"num_hidden_layers":6,"num_attention_heads":12,
                "intermediate_size":3072,"max_position_embeddings":514,"type_vocab_size":1,
                "pad_token_id":1}"#,
        )
        .unwrap();
        let c = ParameterCounts::from_config(&distil);
        assert_eq!((c.pooler, c.head), (0, 0));
        // transformers 4.57.6: RobertaForMaskedLM(config).roberta.num_parameters() = 81,527,808
        // (82,170,201 with the lm_head).
        assert_eq!(c.total(), 81_527_808);
    }

    #[test]
    #[cfg(not(target_family = "wasm"))]
    fn minilm_has_22_7_million_parameters() {
        let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../web/models/all-MiniLM-L6-v2");
        if !dir.join("model.safetensors").exists() {
            eprintln!("skipped: {} not fetched", dir.display());
            return;
        }
        let model = Model::from_dir(dir, &cpu_device()).unwrap();
        let counts = model.parameter_counts();
        assert_eq!(counts.base(), 22_713_216);
        assert_eq!(counts.head, 0);
    }
}
