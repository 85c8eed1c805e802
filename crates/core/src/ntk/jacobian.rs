//! The fast path: every block's per-sample gradients from one forward pass and one backward
//! pass carrying every class at once ([`super::backward`]).
//!
//! For sample `i` and class `a`, the backward pass gives `g_t = ∂f_a(x_i)/∂y_t` at the output
//! of every adapted layer `y = x W₀ᵀ + s (x Aᵀ) Bᵀ`, token by token; with its input `x_t`:
//!
//! * `∂f/∂B = s Σ_t g_tᵀ (x_t Aᵀ)`  (`[out, r]`)
//! * `∂f/∂A = s Σ_t (g_t B)ᵀ x_t`   (`[r, in]`)
//!
//! so one pass gives all `m·C` per-sample Jacobians of every block, instead of `m·C` passes.
//! Samples do not interact (the attention mask removes padding), so a chunk's samples share the
//! pass.

use burn::prelude::*;

use super::backward::class_gradients;
use super::factor::BlockFactor;
use super::options::{NtkOptions, ParamSet};
use crate::lora::LoraSite;
use crate::model::layers::linear_rows;
use crate::model::LoraWeights;
use crate::model::{Model, TokenBatch};
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
    if samples.len() >= 2 && crate::parallel::passes_side_by_side(&model.device()) {
        return halves_side_by_side(model, samples, options, zero_b);
    }
    one_pass(model, samples, options, zero_b).await
}

/// On the CPU with a pool of threads: the two halves of the chunk side by side
/// ([`crate::parallel`]), their rows then joined. The rows are sample-major, so the joined
/// factors are the whole chunk's. Each half pads to its own longest sequence, which changes
/// nothing beyond f32 round-off (padding is masked). The halves are cut where their padded token
/// counts balance ([`balanced_split`]).
fn halves_side_by_side(
    model: &Model,
    samples: &[Encoded],
    options: &NtkOptions,
    zero_b: &[bool],
) -> Result<ChunkJacobian, CoreError> {
    let (left, right) = samples.split_at(balanced_split(samples));
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

/// Where to cut `samples` (at least two) into two non-empty runs whose padded sizes (samples
/// times the longest) are the most even: the work of a pass grows with them. A chunk sorted by
/// length cut in the middle gave the longer half up to 1.5x the other's work, and one thread
/// waited.
fn balanced_split(samples: &[Encoded]) -> usize {
    let m = samples.len();
    let lens: Vec<usize> = samples.iter().map(|s| s.ids.len()).collect();
    let mut suffix_max = vec![0; m + 1];
    for i in (0..m).rev() {
        suffix_max[i] = suffix_max[i + 1].max(lens[i]);
    }
    let (mut best, mut best_cost, mut prefix_max) = (m / 2, usize::MAX, 0);
    for cut in 1..m {
        prefix_max = prefix_max.max(lens[cut - 1]);
        let cost = (cut * prefix_max).max((m - cut) * suffix_max[cut]);
        // Ties go to the cut nearest the middle.
        if cost < best_cost || (cost == best_cost && cut.abs_diff(m / 2) < best.abs_diff(m / 2)) {
            (best, best_cost) = (cut, cost);
        }
    }
    best
}

/// One forward and one backward pass over the whole chunk (see the module docs).
async fn one_pass(
    model: &Model,
    samples: &[Encoded],
    options: &NtkOptions,
    zero_b: &[bool],
) -> Result<ChunkJacobian, CoreError> {
    if samples.is_empty() {
        return Err(CoreError::invalid(
            "samples",
            "a chunk needs at least one sample",
        ));
    }
    let head = model.head.as_ref().ok_or_else(|| {
        CoreError::invalid(
            "model",
            "the NTK of class logits needs a classification head",
        )
    })?;
    let sites = jacobian_sites(model, options)?;
    let ids: Vec<Vec<u32>> = samples.iter().map(|s| s.ids.clone()).collect();
    let types: Vec<Vec<u32>> = samples.iter().map(|s| s.type_ids.clone()).collect();
    let batch = TokenBatch::from_sequences(&ids, Some(&types), model.config.pad_token_id)?;
    let grads = class_gradients(model, &batch, &sites)?;

    let mut blocks = Vec::with_capacity(sites.len() + 1);
    for (k, (&site, (x, g))) in sites.iter().zip(grads.sites).enumerate() {
        let lora = model.lora(site).ok_or_else(|| missing("an adapter"))?;
        let zero_b = zero_b.get(k).copied().unwrap_or(false);
        blocks.push(site_block(lora, x, g, zero_b));
    }
    if options.params == ParamSet::LoraAndHead {
        let classes = head.num_classes();
        let m = samples.len();
        let mut parts = Vec::new();
        for (name, z, g) in grads.head {
            let bias = head
                .named_tensors()
                .iter()
                .find(|(n, _, _)| *n == name)
                .is_some_and(|(_, _, b)| b.is_some());
            let out = g.dims()[2];
            parts.push(BlockFactor::Outer {
                g: sample_major(g.reshape([classes * m, out]), classes, m),
                z: sample_major(Tensor::cat(vec![z; classes], 0), classes, m),
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
        logits: read_f32(grads.logits).await?,
    })
}

/// The per-sample Jacobian block of one adapted site from its input `x` `[m, T, in]` and the
/// output gradients `g` `[C, m, T, out]` of every class (see the module docs); rows
/// sample-major. With `zero_b` (`B = 0`) only the `B` columns are formed.
fn site_block(lora: &LoraWeights, x: Tensor<3>, g: Tensor<4>, zero_b: bool) -> BlockFactor {
    let [classes, m, _, out] = g.dims();
    let inp = x.dims()[2];
    let (r, rows) = (lora.rank(), classes * m);
    let x = x.unsqueeze_dim::<4>(0); // broadcast over classes
    let u = lora.a_part(x.clone()); // [1, m, T, r]
    let jb = g
        .clone()
        .swap_dims(2, 3)
        .matmul(u)
        .mul_scalar(lora.scale)
        .reshape([rows, out * r]);
    if zero_b {
        return BlockFactor::ZeroLead {
            zeros: r * inp,
            tail: sample_major(jb, classes, m),
        };
    }
    let v = linear_rows(g, lora.b.clone(), None); // g B: [C, m, T, r]
    let ja = v
        .swap_dims(2, 3)
        .matmul(x)
        .mul_scalar(lora.scale)
        .reshape([rows, r * inp]);
    BlockFactor::Dense(sample_major(Tensor::cat(vec![ja, jb], 1), classes, m))
}

#[cfg(all(test, not(target_family = "wasm")))]
mod tests {
    use super::*;
    use crate::block_on;
    use crate::device::cpu_device;
    use crate::lora::{LoraConfig, LoraModule};
    use crate::model::layers::Dense;
    use crate::model::seeded::seeded_model;
    use crate::model::weights::tensor_from_vec;
    use crate::model::{Family, HeadKind};
    use crate::ntk::reference::sample_jacobian;
    use crate::rng::SplitMix64;
    use crate::test_model::{draw_lora_b, samples_of_lengths, tiny_lora_model};

    /// A seeded model with `classes` classes, LoRA r = 2 on all six modules of every layer and
    /// every `B` drawn (so that every path of the backward pass carries a gradient).
    /// The BERT head gets a seeded pooler.
    fn fully_adapted(family: Family, head: HeadKind, classes: usize) -> Model {
        let device = cpu_device();
        let mut model = seeded_model(family, classes, 21, &device).unwrap();
        let mut rng = SplitMix64::new(13);
        if head == HeadKind::Bert {
            let h = model.config.hidden_size;
            model.encoder.pooler = Some(Dense {
                weight: tensor_from_vec(rng.normal(h * h, 0.3), [h, h], &device),
                bias: Some(tensor_from_vec(rng.normal(h, 0.1), [h], &device)),
            });
        }
        model.set_new_head(head, classes, 5).unwrap();
        model
            .apply_lora(&LoraConfig::new(2, 4.0, &LoraModule::ALL), 3)
            .unwrap();
        draw_lora_b(&mut model, 8);
        model
    }

    /// The hand-written backward pass of every class at once gives each sample's Jacobian as
    /// autodiff does one sample and one class at a time ([`super::super::reference`]), for the
    /// three heads, three classes, all six modules adapted, the head included, and samples
    /// padded to the longest (3 to 9 tokens). Tolerance 1e-4 of the largest entry: f32
    /// round-off through two layers summed in a different order.
    #[test]
    fn one_backward_for_every_class_matches_autodiff_per_sample_and_class() {
        let samples = samples_of_lengths(&[5, 9, 3]);
        let options = NtkOptions {
            params: ParamSet::LoraAndHead,
            ..NtkOptions::default()
        };
        for (family, head) in [
            (Family::Bert, HeadKind::Bert),
            (Family::Roberta, HeadKind::Roberta),
            (Family::Bert, HeadKind::MeanPoolLinear),
        ] {
            let model = fully_adapted(family, head, 3);
            let fast = block_on(one_pass(&model, &samples, &options, &[])).unwrap();
            assert_eq!(fast.blocks.len(), 2 * 6 + 1, "12 LoRA blocks and the head");
            let fast: Vec<Vec<f32>> = fast
                .blocks
                .iter()
                .map(|b| block_on(read_f32(b.materialise())).unwrap())
                .collect();
            let (mut worst, mut scale) = (0f32, 0f32);
            for (i, sample) in samples.iter().enumerate() {
                let want = block_on(sample_jacobian(&model, sample, options.params)).unwrap();
                for (block, (got, want)) in fast.iter().zip(&want).enumerate() {
                    // Rows i·C .. (i+1)·C of the fast block are this sample's [C, P].
                    let p = want.len() / 3;
                    let got = &got[i * 3 * p..(i + 1) * 3 * p];
                    for (x, y) in got.iter().zip(want) {
                        worst = worst.max((x - y).abs());
                        scale = scale.max(y.abs());
                    }
                    assert_eq!(got.len(), want.len(), "{family:?} {head:?} block {block}");
                }
            }
            assert!(scale > 1e-2, "{family:?} {head:?}: not all zero ({scale})");
            assert!(
                worst <= 1e-4 * scale,
                "{family:?} {head:?}: {worst} of {scale}"
            );
        }
    }

    /// Differentiating only the top layer's value stops the backward pass there and gives that
    /// block's columns of the full Jacobian.
    #[test]
    fn a_block_subset_gives_its_columns_of_the_whole() {
        let model = fully_adapted(Family::Roberta, HeadKind::Roberta, 2);
        let samples = samples_of_lengths(&[4, 7]);
        let all = NtkOptions::default();
        let top = NtkOptions {
            blocks: Some(vec!["block.1.value".into()]),
            ..NtkOptions::default()
        };
        let whole = block_on(one_pass(&model, &samples, &all, &[])).unwrap();
        let names = block_names(&model, &all).unwrap();
        let k = names.iter().position(|n| n == "block.1.value").unwrap();
        let part = block_on(one_pass(&model, &samples, &top, &[])).unwrap();
        assert_eq!(part.blocks.len(), 1);
        let a = block_on(read_f32(whole.blocks[k].materialise())).unwrap();
        let b = block_on(read_f32(part.blocks[0].materialise())).unwrap();
        assert_eq!(a, b);
        assert!(a.iter().any(|v| v.abs() > 1e-3));
    }

    /// A model carrying a trainer's stacked adapters is refused, not given a wrong kernel.
    #[test]
    fn stacked_adapters_are_an_error() {
        let mut model = tiny_lora_model(Family::Bert, 9, None);
        for site in model.lora_sites() {
            let l = model.lora_mut(site).unwrap();
            *l = l.stacked(2);
        }
        let samples = samples_of_lengths(&[3, 4]);
        let err = block_on(one_pass(&model, &samples, &NtkOptions::default(), &[])).unwrap_err();
        assert!(err.to_string().contains("stacked adapters"), "{err}");
    }

    /// A chunk sorted by length is cut where the padded sizes balance: more short samples on
    /// the left than long ones on the right; equal lengths are cut in the middle.
    #[test]
    fn halves_are_cut_where_their_padded_sizes_balance() {
        let cut = |lens: &[usize]| balanced_split(&samples_of_lengths(lens));
        // 16 sorted lengths: cut 8 gives 8·12 = 96 against 8·30 = 240, cut 11 gives 11·18 = 198
        // against 5·30 = 150, cut 10 gives 10·16 = 160 against 6·30 = 180 (the least of the
        // larger sides).
        let lens = [5, 6, 7, 8, 9, 10, 11, 12, 14, 16, 18, 20, 22, 24, 26, 30];
        assert_eq!(cut(&lens), 10);
        assert_eq!(cut(&[7; 6]), 3);
        assert_eq!(cut(&[3, 40]), 1);
        assert_eq!(cut(&[40, 3, 3, 3]), 1, "unsorted: the long one alone");
    }

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
