//! The model's backward pass written out by hand, for every class at once.
//!
//! burn's autodiff consumes its graph in the backward pass (there is no `retain_graph`), so
//! per-class gradients through autodiff need the chunk replicated once per class: the forward
//! work of `C` passes for `C` backward passes. torch.func runs one forward pass and `C`
//! vector-Jacobian products; so does this module. The forward pass runs once, without autodiff,
//! and records every linear site's input and output ([`Tape`]). The backward pass then carries
//! one cotangent per class, shaped `[C, m, T, ·]` (class-major), through the head and down the
//! layers (LayerNorm, residuals, the GELU, attention, the linear layers and their adapters),
//! against the recorded values broadcast over the classes. LayerNorm statistics and attention
//! probabilities are recomputed from the recorded values by the forward pass's own operations;
//! the GELU's slopes are recorded in the forward pass, computed with its values.
//!
//! What it yields is `∂f_a(x_i)/∂y` at the output `y` of every differentiated site and of the
//! head's dense layers; [`super::jacobian`] turns those into per-sample Jacobians. It is checked
//! against autodiff one sample and class at a time ([`super::reference`]) and against
//! torch.func's fixtures.

use std::collections::BTreeMap;

use burn::prelude::*;
use burn::tensor::activation::softmax;
use burn::tensor::TensorData;

use crate::lora::{LoraModule, LoraSite};
use crate::model::encoder::EncoderLayer;
use crate::model::gelu::{gelu_exact, gelu_with_slope};
use crate::model::layers::{linear_rows, Dense, LayerNorm};
use crate::model::AdaptedLinear;
use crate::model::{ClassifierHead, EncoderOutput, ForwardHooks, Model, TokenBatch};
use crate::CoreError;

/// The gradients of every class's logit for one batch.
pub struct ClassGradients {
    /// Per differentiated site (in the order asked for): its input `[m, T, in]` and the
    /// gradient of each class's logit with respect to its output, `[C, m, T, out]`.
    pub sites: Vec<(Tensor<3>, Tensor<4>)>,
    /// Per dense layer of the head, in forward order: its name (as in
    /// [`ClassifierHead::named_tensors`]), its input `[m, in]` and the gradient of each class's
    /// logit with respect to its output, `[C, m, out]`.
    pub head: Vec<(String, Tensor<2>, Tensor<3>)>,
    /// The logits, `[m, C]`.
    pub logits: Tensor<2>,
}

/// What the forward pass records from layer `from_layer` up: each linear site's input and
/// output (but the intermediate's, whose output only the GELU's slopes need) and each GELU's
/// slopes; and each dense layer of the head's input.
struct Tape {
    from_layer: usize,
    sites: BTreeMap<LoraSite, (Tensor<3>, Tensor<3>)>,
    gelu_slopes: BTreeMap<usize, Tensor<3>>,
    head: Vec<(String, Tensor<2>)>,
}

impl ForwardHooks for Tape {
    fn site_input(&mut self, site: LoraSite, x: &Tensor<3>) {
        if site.layer >= self.from_layer {
            let empty = || (x.clone(), x.clone());
            self.sites.entry(site).or_insert_with(empty).0 = x.clone();
        }
    }

    fn site_output(&mut self, site: LoraSite, y: Tensor<3>) -> Tensor<3> {
        // The intermediate output is needed only for the GELU's slopes, recorded instead.
        if site.module == LoraModule::Intermediate {
            return y;
        }
        if let Some(entry) = self.sites.get_mut(&site) {
            entry.1 = y.clone();
        }
        y
    }

    fn gelu(&mut self, layer: usize, x: Tensor<3>) -> Tensor<3> {
        if layer < self.from_layer {
            return gelu_exact(x);
        }
        let (values, slopes) = gelu_with_slope(x);
        self.gelu_slopes.insert(layer, slopes);
        values
    }

    fn head_dense(&mut self, name: &str, x: &Tensor<2>, y: Tensor<2>) -> Tensor<2> {
        self.head.push((name.to_string(), x.clone()));
        y
    }
}

impl Tape {
    /// The recorded input and output of `site`.
    fn site(&self, layer: usize, module: LoraModule) -> Result<&(Tensor<3>, Tensor<3>), CoreError> {
        self.sites
            .get(&LoraSite { layer, module })
            .ok_or_else(|| unrecorded(&format!("layer {layer}'s {}", module.short_name())))
    }

    /// The recorded slopes of layer `layer`'s GELU.
    fn gelu_slope(&self, layer: usize) -> Result<Tensor<3>, CoreError> {
        self.gelu_slopes
            .get(&layer)
            .cloned()
            .ok_or_else(|| unrecorded(&format!("layer {layer}'s GELU")))
    }

    /// The recorded input of the head's dense layer `name`.
    fn head_input(&self, name: &str) -> Result<Tensor<2>, CoreError> {
        self.head
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, x)| x.clone())
            .ok_or_else(|| unrecorded(name))
    }
}

fn unrecorded(what: &str) -> CoreError {
    CoreError::Numerical(format!("the forward pass recorded nothing for {what}"))
}

/// The gradients of every class's logit, `f_a(x_i)` for each sample `i` of `batch` and class
/// `a`, with respect to the outputs of `sites` (adapted or not) and of the head's dense layers:
/// one forward pass and the backward pass of this module.
///
/// Errors: a model without a head or with stacked adapters, a batch the model cannot take.
pub fn class_gradients(
    model: &Model,
    batch: &TokenBatch,
    sites: &[LoraSite],
) -> Result<ClassGradients, CoreError> {
    let head = model.head.as_ref().ok_or_else(|| {
        CoreError::invalid(
            "model",
            "the NTK of class logits needs a classification head",
        )
    })?;
    // The backward pass of an adapter is that of one plain adapter (a trainer's stacked copies
    // are never differentiated here).
    if let Some(site) = model
        .lora_sites()
        .into_iter()
        .find(|&s| model.lora(s).is_some_and(|l| l.replicas > 1))
    {
        return Err(CoreError::invalid(
            "model",
            format!(
                "{} holds stacked adapters; the NTK takes a model with one adapter per layer",
                site.block_name()
            ),
        ));
    }
    let lowest = sites.iter().map(|s| s.layer).min();
    let mut tape = Tape {
        from_layer: lowest.unwrap_or(usize::MAX),
        sites: BTreeMap::new(),
        gelu_slopes: BTreeMap::new(),
        head: Vec::new(),
    };
    let out = model.forward_with_hooks(batch, &mut tape)?;
    let logits = out
        .logits
        .ok_or_else(|| CoreError::invalid("model", "the model has no head"))?;
    let (mut cotangent, head_grads) =
        head_backward(head, model.encoder.pooler.as_ref(), &out.encoder, &tape)?;

    let mut grads: BTreeMap<LoraSite, Tensor<4>> = BTreeMap::new();
    if let Some(lowest) = lowest {
        let (m, t) = (batch.batch, batch.seq_len);
        let mask = Tensor::<2>::from_data(
            TensorData::new(batch.additive_mask(), [m, t]),
            &model.device(),
        )
        .reshape([1, m, 1, 1, t]);
        let heads = model.config.num_attention_heads;
        for layer in (lowest..model.encoder.layers.len()).rev() {
            let pass = LayerPass {
                layer,
                weights: &model.encoder.layers[layer],
                tape: &tape,
                mask: &mask,
                heads,
            };
            let mut keep = |module, g: &Tensor<4>| {
                let site = LoraSite { layer, module };
                if sites.contains(&site) {
                    grads.insert(site, g.clone());
                }
            };
            match pass.backward(cotangent, layer > lowest, &mut keep)? {
                Some(below) => cotangent = below,
                None => break,
            }
        }
    }
    let sites = sites
        .iter()
        .map(|s| {
            let input = tape.site(s.layer, s.module)?.0.clone();
            let grad = grads.remove(s).ok_or_else(|| unrecorded(&s.block_name()))?;
            Ok((input, grad))
        })
        .collect::<Result<_, CoreError>>()?;
    Ok(ClassGradients {
        sites,
        head: head_grads,
        logits,
    })
}

/// `g W` for a dense layer `y = x Wᵀ + b`: the gradient with respect to its input.
fn dense_input_grad<const D: usize>(layer: &Dense, g: Tensor<D>) -> Tensor<D> {
    linear_rows(g, layer.weight.clone(), None)
}

/// `g W₀ + s (g B) A` for an adapted layer `y = x W₀ᵀ + b + s (x Aᵀ) Bᵀ`.
fn adapted_input_grad(layer: &AdaptedLinear, g: Tensor<4>) -> Tensor<4> {
    let base = dense_input_grad(&layer.base, g.clone());
    match &layer.lora {
        None => base,
        Some(l) => {
            let gb = linear_rows(g, l.b.clone(), None);
            base + linear_rows(gb, l.a.clone(), None).mul_scalar(l.scale)
        }
    }
}

/// The one-hot seeds `∂f_a/∂f_b = [a = b]`, `[C, m, C]`.
fn one_hot_seeds(classes: usize, m: usize, device: &Device) -> Tensor<3> {
    let mut seeds = vec![0f32; classes * m * classes];
    for a in 0..classes {
        for i in 0..m {
            seeds[(a * m + i) * classes + a] = 1.0;
        }
    }
    Tensor::from_data(TensorData::new(seeds, [classes, m, classes]), device)
}

/// `g` for the first token and zero for the others: `[C, m, H]` → `[C, m, T, H]`.
fn at_first_token(g: Tensor<3>, tokens: usize) -> Tensor<4> {
    let [c, m, h] = g.dims();
    let first = g.reshape([c, m, 1, h]);
    if tokens == 1 {
        return first;
    }
    let rest = Tensor::<4>::zeros([c, m, tokens - 1, h], &first.device());
    Tensor::cat(vec![first, rest], 2)
}

/// `1 − tanh²` from the values of `tanh`, broadcast over classes: `[m, H]` → `[1, m, H]`.
fn tanh_slope(values: Tensor<2>) -> Tensor<3> {
    values.powi_scalar(2).neg().add_scalar(1.0).unsqueeze_dim(0)
}

/// The head's backward pass: the cotangent of the last hidden states, `[C, m, T, H]`, and the
/// output gradients of the head's dense layers.
#[allow(clippy::type_complexity)]
fn head_backward(
    head: &ClassifierHead,
    pooler: Option<&Dense>,
    encoder: &EncoderOutput,
    tape: &Tape,
) -> Result<(Tensor<4>, Vec<(String, Tensor<2>, Tensor<3>)>), CoreError> {
    let [m, t, h] = encoder.last_hidden_state.dims();
    let classes = head.num_classes();
    let seeds = one_hot_seeds(classes, m, &encoder.last_hidden_state.device());
    match head {
        ClassifierHead::MeanPoolLinear { classifier } => {
            let z = tape.head_input("classifier")?;
            let pooled = dense_input_grad(classifier, seeds.clone());
            // The mean's weight on token t: m_t / Σ m (clamped as in the forward pass).
            let mask = encoder.mask.clone();
            let count = mask.clone().sum_dim(1).clamp_min(1e-9);
            let weights = (mask / count).reshape([1, m, t, 1]);
            let hidden = pooled.reshape([classes, m, 1, h]) * weights;
            Ok((hidden, vec![("classifier".into(), z, seeds)]))
        }
        ClassifierHead::Bert { classifier } => {
            let z = tape.head_input("classifier")?;
            let pooler = pooler.ok_or_else(|| {
                CoreError::model_config(
                    "architectures",
                    "a BERT classification head needs the pooler (pooler.dense), which this \
                     checkpoint does not have",
                )
            })?;
            // z is the pooler's output, tanh(h₀ Wₚᵀ + bₚ).
            let pre = dense_input_grad(classifier, seeds.clone()) * tanh_slope(z.clone());
            let first = dense_input_grad(pooler, pre);
            Ok((
                at_first_token(first, t),
                vec![("classifier".into(), z, seeds)],
            ))
        }
        ClassifierHead::Roberta { dense, out_proj } => {
            let first_token = tape.head_input("classifier.dense")?;
            let hidden = tape.head_input("classifier.out_proj")?;
            // hidden = tanh(dense(first token)).
            let g_dense = dense_input_grad(out_proj, seeds.clone()) * tanh_slope(hidden.clone());
            let first = dense_input_grad(dense, g_dense.clone());
            Ok((
                at_first_token(first, t),
                vec![
                    ("classifier.dense".into(), first_token, g_dense),
                    ("classifier.out_proj".into(), hidden, seeds),
                ],
            ))
        }
    }
}

/// The backward pass of LayerNorm `y = γ·(z − μ)/σ + β` at input `z` `[m, T, H]` for output
/// cotangents `dy` `[C, m, T, H]`: `(n̂ − mean(n̂) − ẑ·mean(n̂·ẑ))/σ` with `n̂ = γ·dy` and `ẑ` the
/// normalised input.
fn layer_norm_backward(norm: &LayerNorm, z: Tensor<3>, dy: Tensor<4>) -> Tensor<4> {
    let mean = z.clone().mean_dim(2);
    let centred = z - mean;
    let var = centred.clone().powi_scalar(2).mean_dim(2);
    let inv_std = var.add_scalar(norm.eps).sqrt().recip();
    let normed = (centred * inv_std.clone()).unsqueeze_dim::<4>(0);
    let n = dy * norm.weight.clone().unsqueeze::<4>();
    let along = (n.clone() * normed.clone()).mean_dim(3);
    (n.clone() - n.mean_dim(3) - normed * along) * inv_std.unsqueeze_dim::<4>(0)
}

/// The backward pass through one transformer layer.
struct LayerPass<'a> {
    layer: usize,
    weights: &'a EncoderLayer,
    tape: &'a Tape,
    /// The additive key mask, `[1, m, 1, 1, T]`.
    mask: &'a Tensor<5>,
    heads: usize,
}

impl LayerPass<'_> {
    /// Carries the cotangent `dy` `[C, m, T, H]` of the layer's output down to its input,
    /// calling `keep(module, g)` with the cotangent `g` of each linear site's output. Returns the
    /// input's cotangent when `to_input`, else `None` (the pass stops where nothing below needs
    /// it).
    fn backward(
        &self,
        dy: Tensor<4>,
        to_input: bool,
        keep: &mut dyn FnMut(LoraModule, &Tensor<4>),
    ) -> Result<Option<Tensor<4>>, CoreError> {
        use LoraModule::*;
        let site = |module| self.tape.site(self.layer, module);
        let w = self.weights;
        let (x, q) = site(Query)?;
        let (_, k) = site(Key)?;
        let (_, v) = site(Value)?;
        let (_, attn_out) = site(AttnOut)?;
        let (attn, _) = site(Intermediate)?;
        let (_, out) = site(Output)?;

        // out_norm(out + attn), with the residual to attn.
        let d_out = layer_norm_backward(&w.out_norm, out.clone() + attn.clone(), dy);
        keep(Output, &d_out);
        let slope = self.tape.gelu_slope(self.layer)?.unsqueeze_dim::<4>(0);
        let d_inter = adapted_input_grad(&w.output, d_out.clone()) * slope;
        keep(Intermediate, &d_inter);
        let d_attn = d_out + adapted_input_grad(&w.intermediate, d_inter);

        // attn_norm(attn_out + x), with the residual to x.
        let d_sum = layer_norm_backward(&w.attn_norm, attn_out.clone() + x.clone(), d_attn);
        keep(AttnOut, &d_sum);
        let d_ctx = adapted_input_grad(&w.attn_out, d_sum.clone());

        // Attention: probs = softmax(q kᵀ/√d + mask), ctx = probs v, per head.
        let [c, m, t, h] = d_ctx.dims();
        let hd = h / self.heads;
        let scale = 1.0 / (hd as f64).sqrt();
        let split = |y: &Tensor<3>| {
            y.clone()
                .reshape([m, t, self.heads, hd])
                .swap_dims(1, 2)
                .unsqueeze_dim::<5>(0)
        };
        let (q, k, v) = (split(q), split(k), split(v));
        let scores = q
            .clone()
            .matmul(k.clone().swap_dims(3, 4))
            .mul_scalar(scale);
        let probs = softmax(scores + self.mask.clone(), 4);
        let d_ctx = d_ctx.reshape([c, m, t, self.heads, hd]).swap_dims(2, 3);
        let d_probs = d_ctx.clone().matmul(v.swap_dims(3, 4));
        let d_v = probs.clone().swap_dims(3, 4).matmul(d_ctx);
        let along = (d_probs.clone() * probs.clone()).sum_dim(4);
        let d_scores = ((d_probs - along) * probs).mul_scalar(scale);
        let d_q = d_scores.clone().matmul(k);
        let d_k = d_scores.swap_dims(3, 4).matmul(q);
        let merge = |g: Tensor<5>| g.swap_dims(2, 3).reshape([c, m, t, h]);
        let (d_q, d_k, d_v) = (merge(d_q), merge(d_k), merge(d_v));
        keep(Query, &d_q);
        keep(Key, &d_k);
        keep(Value, &d_v);
        if !to_input {
            return Ok(None);
        }
        Ok(Some(
            d_sum
                + adapted_input_grad(&w.query, d_q)
                + adapted_input_grad(&w.key, d_k)
                + adapted_input_grad(&w.value, d_v),
        ))
    }
}
