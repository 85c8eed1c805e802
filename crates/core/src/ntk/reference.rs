//! The straightforward path: autodiff with respect to each parameter tensor, one sample and one
//! class at a time. `n·C` backward passes; kept to check the fast path ([`super::jacobian`]).

use burn::prelude::*;

use super::options::ParamSet;
use crate::model::{ClassifierHead, Model, TokenBatch};
use crate::readback::read_f32;
use crate::tokenize::Encoded;
use crate::CoreError;

fn tracked(t: &Tensor<2>) -> Tensor<2> {
    t.clone().autodiff().require_grad()
}

fn tracked1(t: &Tensor<1>) -> Tensor<1> {
    t.clone().autodiff().require_grad()
}

/// The Jacobian of one sample's logits: for each block (order of
/// [`block_names`](super::jacobian::block_names)) a row-major `[C, P]` matrix, LoRA blocks as
/// `A` then `B`, the head as each dense layer's weight then bias.
pub async fn sample_jacobian(
    model: &Model,
    sample: &Encoded,
    params: ParamSet,
) -> Result<Vec<Vec<f32>>, CoreError> {
    let classes = model
        .head
        .as_ref()
        .map(ClassifierHead::num_classes)
        .ok_or_else(|| CoreError::invalid("model", "the NTK needs a classification head"))?;
    let batch = TokenBatch::from_sequences(
        std::slice::from_ref(&sample.ids),
        Some(std::slice::from_ref(&sample.type_ids)),
        model.config.pad_token_id,
    )?;
    let sites = model.lora_sites();
    let mut per_block: Vec<Vec<f32>> = vec![Vec::new(); sites.len() + 1];
    for a in 0..classes {
        let mut m = model.clone();
        let mut leaves: Vec<(usize, Tensor<2>)> = Vec::new();
        for (k, &s) in sites.iter().enumerate() {
            let l = m
                .lora_mut(s)
                .ok_or_else(|| CoreError::invalid("lora", "site vanished"))?;
            l.a = tracked(&l.a);
            l.b = tracked(&l.b);
            leaves.push((k, l.a.clone()));
            leaves.push((k, l.b.clone()));
        }
        let mut head_leaves: Vec<Tensor<2>> = Vec::new();
        let mut head_bias: Vec<Tensor<1>> = Vec::new();
        if params == ParamSet::LoraAndHead {
            let dense = m
                .head
                .as_mut()
                .map(ClassifierHead::dense_layers_mut)
                .unwrap_or_default();
            for d in dense {
                d.weight = tracked(&d.weight);
                head_leaves.push(d.weight.clone());
                if let Some(b) = d.bias.as_mut() {
                    *b = tracked1(b);
                    head_bias.push(b.clone());
                }
            }
        }
        let logits = m
            .forward(&batch)?
            .logits
            .ok_or_else(|| CoreError::invalid("model", "no head"))?;
        let grads = logits.narrow(1, a, 1).sum().backward();
        let no_grad = || CoreError::Numerical("no gradient for a parameter".into());
        for (k, leaf) in leaves {
            let g = leaf.grad(&grads).ok_or_else(no_grad)?;
            per_block[k].extend(read_f32(g).await?);
        }
        if params == ParamSet::LoraAndHead {
            // Weight then bias, layer by layer (the fast path's order).
            let mut biases = head_bias.into_iter();
            for (w, has_bias) in head_leaves.into_iter().zip(head_bias_flags(model)) {
                let g = w.grad(&grads).ok_or_else(no_grad)?;
                per_block[sites.len()].extend(read_f32(g).await?);
                if has_bias {
                    let b = biases.next().ok_or_else(no_grad)?;
                    let g = b.grad(&grads).ok_or_else(no_grad)?;
                    per_block[sites.len()].extend(read_f32(g).await?);
                }
            }
        }
    }
    if params == ParamSet::Lora {
        per_block.pop(); // no `head` block
    }
    Ok(per_block)
}

fn head_bias_flags(model: &Model) -> Vec<bool> {
    model
        .head
        .as_ref()
        .map(|h| {
            h.named_tensors()
                .iter()
                .map(|(_, _, b)| b.is_some())
                .collect()
        })
        .unwrap_or_default()
}
