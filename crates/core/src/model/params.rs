//! Parameter counts of a [`Model`]: frozen encoder, head, and LoRA (the trainable part).

use burn::prelude::*;
use serde::{Deserialize, Serialize};

use super::layers::{Dense, LayerNorm};
use super::Model;

/// How many scalar parameters a model has, by part. Counted from the tensors the model holds
/// (not from the config), so they describe what is actually loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParameterCounts {
    /// `encoder + head + lora`. Without adapters this equals PyTorch's
    /// `sum(p.numel() for p in model.parameters())` of the Hugging Face model.
    pub total: usize,
    /// Embeddings (word, position, token type, LayerNorm), the transformer layers (six linear
    /// layers with biases and two LayerNorms each) and the pooler when present.
    pub encoder: usize,
    /// The classification head (0 without one).
    pub head: usize,
    /// The LoRA factors `A` and `B` of every adapted site (0 without adapters): the parameters
    /// LoRA fine-tuning trains, not counting the head.
    pub lora: usize,
}

fn numel<const D: usize>(t: &Tensor<D>) -> usize {
    t.dims().iter().product()
}

fn dense(d: &Dense) -> usize {
    numel(&d.weight) + d.bias.as_ref().map_or(0, numel)
}

fn norm(n: &LayerNorm) -> usize {
    numel(&n.weight) + numel(&n.bias)
}

impl Model {
    /// The parameter counts of the encoder, the head and the attached LoRA adapters.
    pub fn parameter_counts(&self) -> ParameterCounts {
        let e = &self.encoder;
        let embeddings = numel(&e.embeddings.word)
            + numel(&e.embeddings.position)
            + numel(&e.embeddings.token_type)
            + norm(&e.embeddings.layer_norm);
        let mut layers = 0;
        let mut lora = 0;
        for layer in &e.layers {
            layers += norm(&layer.attn_norm) + norm(&layer.out_norm);
            for m in crate::lora::LoraModule::ALL {
                let lin = layer.linear(m);
                layers += dense(&lin.base);
                if let Some(w) = &lin.lora {
                    lora += numel(&w.a) + numel(&w.b);
                }
            }
        }
        let encoder = embeddings + layers + e.pooler.as_ref().map_or(0, dense);
        let head = self.head.as_ref().map_or(0, |h| {
            h.named_tensors()
                .iter()
                .map(|(_, w, b)| numel(w) + b.as_ref().map_or(0, numel))
                .sum()
        });
        ParameterCounts {
            total: encoder + head + lora,
            encoder,
            head,
            lora,
        }
    }
}

#[cfg(all(test, not(target_family = "wasm")))]
mod tests {
    use super::*;
    use crate::device::cpu_device;
    use crate::lora::{LoraConfig, LoraModule};
    use crate::model::HeadKind;

    fn fixture(name: &str) -> Model {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/fixtures/models")
            .join(name);
        Model::from_dir(dir, &cpu_device()).unwrap()
    }

    /// The BERT encoder's parameter count from its config, written out by hand.
    fn encoder_formula(m: &Model) -> usize {
        let c = &m.config;
        let (v, h, i, l) = (
            c.vocab_size,
            c.hidden_size,
            c.intermediate_size,
            c.num_hidden_layers,
        );
        let embeddings = (v + c.max_position_embeddings + c.type_vocab_size) * h + 2 * h;
        // q, k, v, attention output: 4 (H² + H); FFN: H·I + I + I·H + H; two LayerNorms: 4H.
        let layer = 4 * (h * h + h) + (h * i + i) + (i * h + h) + 4 * h;
        let pooler = if m.encoder.pooler.is_some() {
            h * h + h
        } else {
            0
        };
        embeddings + l * layer + pooler
    }

    #[test]
    fn counts_match_the_formulas_and_pytorch() {
        let bert = fixture("bert_cls");
        let (h, c) = (bert.config.hidden_size, 3);
        let p = bert.parameter_counts();
        assert_eq!(p.encoder, encoder_formula(&bert));
        assert_eq!(p.head, c * h + c);
        assert_eq!((p.lora, p.total), (0, p.encoder + p.head));
        // sum(p.numel() for p in BertForSequenceClassification(...).parameters()) on the fixture.
        assert_eq!(p.total, 24_899);

        let roberta = fixture("roberta_cls");
        let p = roberta.parameter_counts();
        let h = roberta.config.hidden_size;
        assert_eq!(p.encoder, encoder_formula(&roberta));
        assert_eq!(p.head, (h * h + h) + (2 * h + 2));
        assert_eq!(p.total, 31_970);
    }

    #[test]
    fn lora_counts_follow_rank_and_sites() {
        let mut m = fixture("bert_base");
        assert_eq!(m.parameter_counts().head, 0);
        let (h, i, l) = (
            m.config.hidden_size,
            m.config.intermediate_size,
            m.config.num_hidden_layers,
        );
        let r = 4;
        m.apply_lora(&LoraConfig::new(r, 8.0, &LoraModule::ALL), 1)
            .unwrap();
        // q, k, v, attention output: r(H + H) each; intermediate r(H + I); output r(I + H).
        let per_layer = 4 * r * 2 * h + 2 * r * (h + i);
        let p = m.parameter_counts();
        assert_eq!(p.lora, l * per_layer);
        assert_eq!(p.total, p.encoder + p.lora);
        m.set_new_head(HeadKind::MeanPoolLinear, 5, 0).unwrap();
        assert_eq!(m.parameter_counts().head, 5 * h + 5);
    }
}
