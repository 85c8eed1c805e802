//! Sequence-classification heads.

use burn::prelude::*;
use serde::{Deserialize, Serialize};

use super::encoder::{mean_pool, EncoderOutput};
use super::layers::Dense;
use super::weights::tensor_from_vec;
use crate::rng::SplitMix64;
use crate::CoreError;

/// The kind of a classification head.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HeadKind {
    /// `BertForSequenceClassification`: `classifier(pooler_output)`. Needs the pooler.
    Bert,
    /// `RobertaForSequenceClassification`: `out_proj(tanh(dense(h[:, 0])))`.
    Roberta,
    /// A linear layer on the attention-masked mean of the last hidden states (for
    /// sentence-transformers encoders such as all-MiniLM-L6-v2, which have no trained pooler).
    MeanPoolLinear,
}

/// A classification head producing `C` logits.
// burn tensors are ~200-byte handles; one head per model, so variant size does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum ClassifierHead {
    /// `classifier` `[C, H]` on the pooler output.
    Bert {
        /// `classifier` (`[C, H]`).
        classifier: Dense,
    },
    /// `classifier.dense` `[H, H]` → tanh → `classifier.out_proj` `[C, H]` on the first token.
    Roberta {
        /// `classifier.dense`.
        dense: Dense,
        /// `classifier.out_proj`.
        out_proj: Dense,
    },
    /// `classifier` `[C, H]` on the masked mean of the last hidden states.
    MeanPoolLinear {
        /// `classifier` (`[C, H]`).
        classifier: Dense,
    },
}

impl ClassifierHead {
    /// A new head for `num_classes` classes, initialised from `seed` as Hugging Face
    /// initialises linear layers: weights `N(0, 0.02²)` (`initializer_range`), biases 0.
    pub fn new_seeded(
        kind: HeadKind,
        hidden: usize,
        num_classes: usize,
        seed: u64,
        device: &Device,
    ) -> Result<Self, CoreError> {
        if num_classes == 0 {
            return Err(CoreError::invalid(
                "num_classes",
                "a head needs at least one class",
            ));
        }
        let mut rng = SplitMix64::new(seed);
        let mut dense = |out: usize, inp: usize| Dense {
            weight: tensor_from_vec(rng.normal(out * inp, 0.02), [out, inp], device),
            bias: Some(Tensor::<1>::zeros([out], device)),
        };
        Ok(match kind {
            HeadKind::Bert => ClassifierHead::Bert {
                classifier: dense(num_classes, hidden),
            },
            HeadKind::Roberta => {
                let d = dense(hidden, hidden);
                ClassifierHead::Roberta {
                    dense: d,
                    out_proj: dense(num_classes, hidden),
                }
            }
            HeadKind::MeanPoolLinear => ClassifierHead::MeanPoolLinear {
                classifier: dense(num_classes, hidden),
            },
        })
    }

    /// The head's kind.
    pub fn kind(&self) -> HeadKind {
        match self {
            ClassifierHead::Bert { .. } => HeadKind::Bert,
            ClassifierHead::Roberta { .. } => HeadKind::Roberta,
            ClassifierHead::MeanPoolLinear { .. } => HeadKind::MeanPoolLinear,
        }
    }

    /// Number of classes `C`.
    pub fn num_classes(&self) -> usize {
        match self {
            ClassifierHead::Bert { classifier } | ClassifierHead::MeanPoolLinear { classifier } => {
                classifier.out_features()
            }
            ClassifierHead::Roberta { out_proj, .. } => out_proj.out_features(),
        }
    }

    /// The head's dense layers in forward order.
    pub fn dense_layers(&self) -> Vec<&Dense> {
        match self {
            ClassifierHead::Bert { classifier } | ClassifierHead::MeanPoolLinear { classifier } => {
                vec![classifier]
            }
            ClassifierHead::Roberta { dense, out_proj } => vec![dense, out_proj],
        }
    }

    /// The head's dense layers in forward order, mutably (e.g. to train them).
    pub fn dense_layers_mut(&mut self) -> Vec<&mut Dense> {
        match self {
            ClassifierHead::Bert { classifier } | ClassifierHead::MeanPoolLinear { classifier } => {
                vec![classifier]
            }
            ClassifierHead::Roberta { dense, out_proj } => vec![dense, out_proj],
        }
    }

    /// The head's tensors under their Hugging Face names (`classifier.weight`, …), in the
    /// `[out, in]` layout.
    pub fn named_tensors(&self) -> Vec<(String, Tensor<2>, Option<Tensor<1>>)> {
        match self {
            ClassifierHead::Bert { classifier } | ClassifierHead::MeanPoolLinear { classifier } => {
                vec![(
                    "classifier".into(),
                    classifier.weight.clone(),
                    classifier.bias.clone(),
                )]
            }
            ClassifierHead::Roberta { dense, out_proj } => vec![
                (
                    "classifier.dense".into(),
                    dense.weight.clone(),
                    dense.bias.clone(),
                ),
                (
                    "classifier.out_proj".into(),
                    out_proj.weight.clone(),
                    out_proj.bias.clone(),
                ),
            ],
        }
    }

    /// Logits `[B, C]` from the encoder's output.
    pub fn forward(&self, out: &EncoderOutput) -> Result<Tensor<2>, CoreError> {
        self.forward_probed(out, &mut |_, _, y| y)
    }

    /// Logits `[B, C]`, calling `probe(name, input, output)` at each dense layer of the head
    /// (names as in [`ClassifierHead::named_tensors`]); the returned tensor replaces the
    /// layer's output. The NTK code uses it to form per-sample Jacobians of the head.
    pub fn forward_probed(
        &self,
        out: &EncoderOutput,
        probe: &mut dyn FnMut(&str, &Tensor<2>, Tensor<2>) -> Tensor<2>,
    ) -> Result<Tensor<2>, CoreError> {
        let mut dense = |name: &str, layer: &Dense, x: Tensor<2>| {
            let y = layer.forward(x.clone());
            probe(name, &x, y)
        };
        match self {
            ClassifierHead::Bert { classifier } => {
                let pooled = out.pooler_output.clone().ok_or_else(|| {
                    CoreError::model_config(
                        "architectures",
                        "a BERT classification head needs the pooler (pooler.dense), which \
                         this checkpoint does not have",
                    )
                })?;
                Ok(dense("classifier", classifier, pooled))
            }
            ClassifierHead::Roberta { dense: d, out_proj } => {
                let [b, _, h] = out.last_hidden_state.dims();
                let first = out
                    .last_hidden_state
                    .clone()
                    .narrow(1, 0, 1)
                    .reshape([b, h]);
                let hidden = dense("classifier.dense", d, first).tanh();
                Ok(dense("classifier.out_proj", out_proj, hidden))
            }
            ClassifierHead::MeanPoolLinear { classifier } => {
                let pooled = mean_pool(out.last_hidden_state.clone(), out.mask.clone());
                Ok(dense("classifier", classifier, pooled))
            }
        }
    }
}
