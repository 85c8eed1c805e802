//! The fast path: every block's per-sample gradients from one forward and one backward pass.
//!
//! A chunk of `m` samples is replicated `C` times (row `a·m + i` is sample `i` for class `a`) and
//! the backward pass starts from `Σ_{a,i} f_a(x_i)` taken on the matching replica. Since samples
//! do not interact (the attention mask removes padding), the gradient reaching replica `(a, i)`
//! is exactly `∂f_a(x_i)/∂·`. At an adapted layer `y = x W₀ᵀ + s (x Aᵀ) Bᵀ` with input `x_t` and
//! output gradient `g_t` at token `t` (from a zero probe added to the output):
//!
//! * `∂f/∂B = s Σ_t g_tᵀ (x_t Aᵀ)`  (`[out, r]`)
//! * `∂f/∂A = s Σ_t (g_t B)ᵀ x_t`   (`[r, in]`)
//!
//! so one pass gives all `m·C` per-sample Jacobians of every block, instead of `m·C` passes.

use burn::prelude::*;
use burn::tensor::TensorData;

use super::factor::BlockFactor;
use super::options::{NtkOptions, ParamSet};
use crate::lora::LoraSite;
use crate::model::layers::linear_rows;
use crate::model::{ForwardHooks, Model, TokenBatch};
use crate::readback::read_f32;
use crate::tokenize::Encoded;
use crate::CoreError;

/// The name of the head's block.
pub const HEAD_BLOCK: &str = "head";

/// The adapted sites `options` differentiates: every one, or the named blocks (each must be
/// adapted).
pub fn jacobian_sites(model: &Model, options: &NtkOptions) -> Result<Vec<LoraSite>, CoreError> {
    let all = model.lora_sites();
    let Some(names) = &options.blocks else {
        return Ok(all);
    };
    let mut out = Vec::new();
    for name in names {
        let site = LoraSite::from_block_name(name)
            .filter(|s| all.contains(s))
            .ok_or_else(|| {
                CoreError::invalid(
                    "blocks",
                    format!("`{name}` is not an adapted block of this model"),
                )
            })?;
        if !out.contains(&site) {
            out.push(site);
        }
    }
    out.sort();
    Ok(out)
}

/// The blocks of a computation, in order: every differentiated site
/// (`block.<layer>.<module>`), then `head` for [`ParamSet::LoraAndHead`]. Errors when there is
/// nothing to differentiate.
pub fn block_names(model: &Model, options: &NtkOptions) -> Result<Vec<String>, CoreError> {
    let mut names: Vec<String> = jacobian_sites(model, options)?
        .iter()
        .map(|s| s.block_name())
        .collect();
    if options.params == ParamSet::LoraAndHead {
        if model.head.is_none() {
            return Err(CoreError::invalid(
                "params",
                "lora+head needs a classification head; this model has none",
            ));
        }
        names.push(HEAD_BLOCK.into());
    }
    if names.is_empty() {
        return Err(CoreError::invalid(
            "params",
            "the model has no LoRA adapters, so the LoRA NTK has no parameters; attach LoRA \
             to at least one module",
        ));
    }
    Ok(names)
}

/// Number of parameters of each block of [`block_names`].
pub fn block_param_counts(model: &Model, options: &NtkOptions) -> Vec<usize> {
    let mut out: Vec<usize> = jacobian_sites(model, options)
        .unwrap_or_default()
        .iter()
        .filter_map(|&s| model.lora(s))
        .map(|l| {
            let [r, inp] = l.a.dims();
            r * (inp + l.b.dims()[0])
        })
        .collect();
    if options.params == ParamSet::LoraAndHead {
        if let Some(h) = &model.head {
            out.push(
                h.named_tensors()
                    .iter()
                    .map(|(_, w, b)| {
                        let [o, i] = w.dims();
                        o * i + b.as_ref().map_or(0, |_| o)
                    })
                    .sum(),
            );
        }
    }
    out
}

/// The per-sample gradients of one chunk and its logits.
#[derive(Debug, Clone)]
pub struct ChunkJacobian {
    /// One factor per block (order of [`block_names`]), rows sample-major (`i·C + a`).
    pub blocks: Vec<BlockFactor>,
    /// The logits `f(x_i)`, `[m, C]` row-major.
    pub logits: Vec<f32>,
}

/// Records adapted layers' inputs and adds zero probes (requiring grad) to their outputs, and
/// likewise for the head's dense layers when the head is included.
struct Probes {
    sites: Vec<LoraSite>,
    head: bool,
    inputs: Vec<Option<Tensor<3>>>,
    probes: Vec<Option<Tensor<3>>>,
    head_layers: Vec<(String, Tensor<2>, Tensor<2>)>,
}

fn zero_probe<const D: usize>(like: &Tensor<D>) -> Tensor<D> {
    Tensor::<D>::zeros(like.dims(), &like.device())
        .autodiff()
        .require_grad()
}

impl ForwardHooks for Probes {
    fn site_input(&mut self, site: LoraSite, x: &Tensor<3>) {
        if let Some(k) = self.sites.iter().position(|&s| s == site) {
            self.inputs[k] = Some(x.clone().inner());
        }
    }

    fn site_output(&mut self, site: LoraSite, y: Tensor<3>) -> Tensor<3> {
        match self.sites.iter().position(|&s| s == site) {
            Some(k) => {
                let p = zero_probe(&y);
                self.probes[k] = Some(p.clone());
                y + p
            }
            None => y,
        }
    }

    fn head_dense(&mut self, name: &str, x: &Tensor<2>, y: Tensor<2>) -> Tensor<2> {
        if !self.head {
            return y;
        }
        let p = zero_probe(&y);
        self.head_layers
            .push((name.to_string(), x.clone().inner(), p.clone()));
        y + p
    }
}

/// Reorders rows from class-major (`a·m + i`) to sample-major (`i·C + a`).
fn sample_major(t: Tensor<2>, classes: usize, m: usize) -> Tensor<2> {
    let [_, p] = t.dims();
    t.reshape([classes, m, p])
        .swap_dims(0, 1)
        .reshape([m * classes, p])
}

fn missing(what: &str) -> CoreError {
    CoreError::Numerical(format!("the backward pass produced no gradient for {what}"))
}

/// For each site [`jacobian_sites`] differentiates, whether its `B` is exactly zero (PEFT
/// initialisation), in which case `∂f/∂A = s Σ_t (g_t B)ᵀ x_t` is exactly zero too. One read-back.
pub async fn zero_b_sites(model: &Model, options: &NtkOptions) -> Result<Vec<bool>, CoreError> {
    let sites = jacobian_sites(model, options)?;
    let maxima: Vec<Tensor<1>> = sites
        .iter()
        .filter_map(|&s| model.lora(s))
        .map(|l| l.b.clone().abs().max().reshape([1]))
        .collect();
    if maxima.len() != sites.len() {
        return Err(missing("an adapter"));
    }
    if maxima.is_empty() {
        return Ok(Vec::new());
    }
    Ok(read_f32(Tensor::cat(maxima, 0))
        .await?
        .into_iter()
        .map(|m| m == 0.0)
        .collect())
}

/// Computes the per-sample Jacobians of every block for the samples of one chunk.
pub async fn chunk_jacobian(
    model: &Model,
    samples: &[Encoded],
    options: &NtkOptions,
) -> Result<ChunkJacobian, CoreError> {
    chunk_jacobian_with(model, samples, options, &[]).await
}

/// [`chunk_jacobian`], told which sites have `B = 0` (see [`zero_b_sites`]; missing entries
/// count as `false`): their blocks are [`BlockFactor::ZeroLead`], the zero `A` columns never
/// formed. The kernel is the same to the last bit.
pub async fn chunk_jacobian_with(
    model: &Model,
    samples: &[Encoded],
    options: &NtkOptions,
    zero_b: &[bool],
) -> Result<ChunkJacobian, CoreError> {
    #[cfg(not(target_family = "wasm"))]
    if samples.len() >= 2 && crate::parallel::passes_side_by_side(&model.device()) {
        return halves_side_by_side(model, samples, options, zero_b);
    }
    one_pass(model, samples, options, zero_b).await
}

/// Natively on the CPU: the two halves of the chunk side by side ([`crate::parallel`]), their
/// rows then joined. The rows are sample-major, so the joined factors are the whole chunk's. Each
/// half pads to its own longest sequence, which changes nothing beyond f32 round-off (padding is
/// masked).
#[cfg(not(target_family = "wasm"))]
fn halves_side_by_side(
    model: &Model,
    samples: &[Encoded],
    options: &NtkOptions,
    zero_b: &[bool],
) -> Result<ChunkJacobian, CoreError> {
    let (left, right) = samples.split_at(samples.len() / 2);
    let (left, right) = crate::parallel::pair_side_by_side(left, right, |half| {
        one_pass(model, half, options, zero_b)
    });
    let (left, right) = (left?, right?);
    Ok(ChunkJacobian {
        blocks: left
            .blocks
            .into_iter()
            .zip(right.blocks)
            .map(|(a, b)| a.append(b))
            .collect(),
        logits: [left.logits, right.logits].concat(),
    })
}

/// One forward and one backward pass over the whole chunk (see the module docs).
async fn one_pass(
    model: &Model,
    samples: &[Encoded],
    options: &NtkOptions,
    zero_b: &[bool],
) -> Result<ChunkJacobian, CoreError> {
    let params = options.params;
    let head = model.head.as_ref().ok_or_else(|| {
        CoreError::invalid(
            "model",
            "the NTK of class logits needs a classification head",
        )
    })?;
    let classes = head.num_classes();
    let m = samples.len();
    if m == 0 {
        return Err(CoreError::invalid(
            "samples",
            "a chunk needs at least one sample",
        ));
    }
    let sites = jacobian_sites(model, options)?;
    let device = model.device();

    let ids: Vec<Vec<u32>> = (0..classes)
        .flat_map(|_| samples.iter().map(|s| s.ids.clone()))
        .collect();
    let types: Vec<Vec<u32>> = (0..classes)
        .flat_map(|_| samples.iter().map(|s| s.type_ids.clone()))
        .collect();
    let batch = TokenBatch::from_sequences(&ids, Some(&types), model.config.pad_token_id)?;

    let mut probes = Probes {
        sites: sites.clone(),
        head: params == ParamSet::LoraAndHead,
        inputs: vec![None; sites.len()],
        probes: vec![None; sites.len()],
        head_layers: Vec::new(),
    };
    let logits = model
        .forward_with_hooks(&batch, &mut probes)?
        .logits
        .ok_or_else(|| CoreError::invalid("model", "the model has no head"))?;
    let rows = classes * m;
    let mut pick = vec![0f32; rows * classes];
    for a in 0..classes {
        for i in 0..m {
            pick[(a * m + i) * classes + a] = 1.0;
        }
    }
    let pick = Tensor::<2>::from_data(TensorData::new(pick, [rows, classes]), &device);
    let f0 = logits.clone().inner().narrow(0, 0, m);
    let grads = (logits * pick).sum().backward();

    let mut blocks = Vec::with_capacity(sites.len() + 1);
    for (k, &site) in sites.iter().enumerate() {
        let lora = model.lora(site).ok_or_else(|| missing("an adapter"))?;
        let x = probes.inputs[k]
            .take()
            .ok_or_else(|| missing("a layer input"))?;
        let g = probes.probes[k]
            .take()
            .and_then(|p| p.grad(&grads))
            .ok_or_else(|| missing(&site.block_name()))?;
        let [_, _, out] = g.dims();
        let inp = x.dims()[2];
        let r = lora.rank();
        let u = lora.a_part(x.clone()); // [rows, T, r]
        let jb = g
            .clone()
            .swap_dims(1, 2)
            .matmul(u)
            .mul_scalar(lora.scale)
            .reshape([rows, out * r]);
        if zero_b.get(k).copied().unwrap_or(false) {
            blocks.push(BlockFactor::ZeroLead {
                zeros: r * inp,
                tail: sample_major(jb, classes, m),
            });
            continue;
        }
        let v = linear_rows(g, lora.b.clone(), None); // g B: [rows, T, r]
        let ja = v
            .swap_dims(1, 2)
            .matmul(x)
            .mul_scalar(lora.scale)
            .reshape([rows, r * inp]);
        let j = Tensor::cat(vec![ja, jb], 1);
        blocks.push(BlockFactor::Dense(sample_major(j, classes, m)));
    }
    if params == ParamSet::LoraAndHead {
        let mut parts = Vec::new();
        for (name, z, p) in std::mem::take(&mut probes.head_layers) {
            let g = p.grad(&grads).ok_or_else(|| missing(&name))?;
            let bias = head
                .named_tensors()
                .iter()
                .find(|(n, _, _)| *n == name)
                .is_some_and(|(_, _, b)| b.is_some());
            parts.push(BlockFactor::Outer {
                g: sample_major(g, classes, m),
                z: sample_major(z, classes, m),
                bias,
            });
        }
        let head_block = match parts.len() {
            1 => parts.pop().ok_or_else(|| missing("the head"))?,
            _ => BlockFactor::Parts(parts),
        };
        blocks.push(head_block);
    }
    Ok(ChunkJacobian {
        blocks,
        logits: read_f32(f0).await?,
    })
}

#[cfg(all(test, not(target_family = "wasm")))]
mod tests {
    use super::*;
    use crate::block_on;
    use crate::model::Family;
    use crate::test_model::{samples_of_lengths, tiny_lora_model};

    /// The two halves of a chunk side by side give the whole chunk's Jacobians (LoRA blocks
    /// with non-zero `B`, and the head's factored block) and logits, to f32 round-off: the
    /// halves pad to their own lengths (3 to 11 tokens here).
    #[test]
    fn halves_side_by_side_give_the_whole_chunks_jacobians() {
        let model = tiny_lora_model(Family::Roberta, 9, Some(4));
        let samples = samples_of_lengths(&[7, 3, 11, 5, 9]);
        let options = NtkOptions {
            params: ParamSet::LoraAndHead,
            ..NtkOptions::default()
        };
        let whole = block_on(one_pass(&model, &samples, &options, &[])).unwrap();
        let halves = halves_side_by_side(&model, &samples, &options, &[]).unwrap();
        assert_eq!(whole.blocks.len(), 5, "4 LoRA blocks and the head");
        assert_eq!(halves.blocks.len(), whole.blocks.len());
        let (mut worst, mut scale) = (0f32, 0f32);
        for (a, b) in whole.blocks.iter().zip(&halves.blocks) {
            let a = block_on(read_f32(a.materialise())).unwrap();
            let b = block_on(read_f32(b.materialise())).unwrap();
            assert_eq!(a.len(), b.len());
            for (x, y) in a.iter().zip(&b) {
                worst = worst.max((x - y).abs());
                scale = scale.max(x.abs());
            }
        }
        assert!(scale > 1e-2, "the Jacobians are not all zero: {scale}");
        assert!(worst <= 1e-5 * scale, "{worst} of {scale}");
        assert_eq!(whole.logits.len(), 5 * 2);
        for (x, y) in whole.logits.iter().zip(&halves.logits) {
            assert!((x - y).abs() <= 1e-5, "{x} vs {y}");
        }
    }
}
