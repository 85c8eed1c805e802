//! Per-sample gradients of one parameter block, and Gram products between two sets of them.
//!
//! Rows are (sample, class) pairs in sample-major order; a Gram product of `a` (rows `R_a`) and
//! `b` (rows `R_b`) is the `[R_a, R_b]` block of the kernel between their rows.

use burn::prelude::*;

use super::options::{KernelKind, SIGN_EPS};

/// The per-sample gradients of one parameter block.
// burn tensors are large handles; a few factors per block, so variant size does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum BlockFactor {
    /// Materialised gradients `[rows, P]` (LoRA blocks: `P = r·(in + out)`, `A` then `B`, each
    /// flattened row-major in its PEFT shape).
    Dense(Tensor<2>),
    /// A dense layer applied once per sample (head layers): the gradient w.r.t. the weight is the
    /// outer product `g ⊗ z` of the output gradient `g` `[rows, out]` and the input `z`
    /// `[rows, in]`, and w.r.t. the bias it is `g`. Kept factored, so the plain kernel costs
    /// `(G Gᵀ) ⊙ (Z Zᵀ) + G Gᵀ` instead of `rows × out·in` memory.
    Outer {
        /// Output gradients `[rows, out]`.
        g: Tensor<2>,
        /// Inputs `[rows, in]`.
        z: Tensor<2>,
        /// Whether the layer has a bias (its gradient `g` is part of the block).
        bias: bool,
    },
    /// A block made of several parts (e.g. the two dense layers of a RoBERTa head): its
    /// gradients are the parts' side by side, so its kernel is the sum of theirs.
    Parts(Vec<BlockFactor>),
    /// Gradients whose first `zeros` columns are exactly zero, followed by `tail` `[rows, P']`
    /// (a LoRA block with `B = 0`, as at PEFT initialisation: `∂f/∂A = s Σ (g B)ᵀ x = 0`). Its
    /// kernel is the tail's, so the zero columns are never formed or multiplied.
    ZeroLead {
        /// Number of leading zero columns.
        zeros: usize,
        /// The remaining columns `[rows, P']`.
        tail: Tensor<2>,
    },
}

impl BlockFactor {
    /// Number of rows.
    pub fn rows(&self) -> usize {
        match self {
            BlockFactor::Dense(j) => j.dims()[0],
            BlockFactor::Outer { g, .. } => g.dims()[0],
            BlockFactor::Parts(parts) => parts.first().map_or(0, BlockFactor::rows),
            BlockFactor::ZeroLead { tail, .. } => tail.dims()[0],
        }
    }

    /// Number of parameters in the block.
    pub fn params(&self) -> usize {
        match self {
            BlockFactor::Dense(j) => j.dims()[1],
            BlockFactor::Outer { g, z, bias } => {
                let [_, out] = g.dims();
                out * z.dims()[1] + if *bias { out } else { 0 }
            }
            BlockFactor::Parts(parts) => parts.iter().map(BlockFactor::params).sum(),
            BlockFactor::ZeroLead { zeros, tail } => zeros + tail.dims()[1],
        }
    }

    /// The gradients as a dense `[rows, P]` matrix (weight `[out, in]` row-major, then bias).
    pub fn materialise(&self) -> Tensor<2> {
        match self {
            BlockFactor::Dense(j) => j.clone(),
            BlockFactor::Outer { g, z, bias } => {
                let [rows, out] = g.dims();
                let inp = z.dims()[1];
                let w = g
                    .clone()
                    .reshape([rows, out, 1])
                    .mul(z.clone().reshape([rows, 1, inp]))
                    .reshape([rows, out * inp]);
                if *bias {
                    Tensor::cat(vec![w, g.clone()], 1)
                } else {
                    w
                }
            }
            BlockFactor::Parts(parts) => {
                Tensor::cat(parts.iter().map(BlockFactor::materialise).collect(), 1)
            }
            BlockFactor::ZeroLead { zeros, tail } => {
                let rows = tail.dims()[0];
                let lead = Tensor::<2>::zeros([rows, *zeros], &tail.device());
                Tensor::cat(vec![lead, tail.clone()], 1)
            }
        }
    }

    /// Rows `start .. start + len`.
    pub fn narrow_rows(&self, start: usize, len: usize) -> BlockFactor {
        match self {
            BlockFactor::Dense(j) => BlockFactor::Dense(j.clone().narrow(0, start, len)),
            BlockFactor::Outer { g, z, bias } => BlockFactor::Outer {
                g: g.clone().narrow(0, start, len),
                z: z.clone().narrow(0, start, len),
                bias: *bias,
            },
            BlockFactor::Parts(p) => {
                BlockFactor::Parts(p.iter().map(|x| x.narrow_rows(start, len)).collect())
            }
            BlockFactor::ZeroLead { zeros, tail } => BlockFactor::ZeroLead {
                zeros: *zeros,
                tail: tail.clone().narrow(0, start, len),
            },
        }
    }

    /// Rows of `self` followed by rows of `other` (same block).
    pub fn append(self, other: BlockFactor) -> BlockFactor {
        match (self, other) {
            (BlockFactor::Dense(a), BlockFactor::Dense(b)) => {
                BlockFactor::Dense(Tensor::cat(vec![a, b], 0))
            }
            (BlockFactor::Outer { g, z, bias }, BlockFactor::Outer { g: g2, z: z2, .. }) => {
                BlockFactor::Outer {
                    g: Tensor::cat(vec![g, g2], 0),
                    z: Tensor::cat(vec![z, z2], 0),
                    bias,
                }
            }
            (BlockFactor::Parts(a), BlockFactor::Parts(b)) if a.len() == b.len() => {
                BlockFactor::Parts(a.into_iter().zip(b).map(|(x, y)| x.append(y)).collect())
            }
            (
                BlockFactor::ZeroLead { zeros, tail },
                BlockFactor::ZeroLead {
                    zeros: z2,
                    tail: t2,
                },
            ) if zeros == z2 => BlockFactor::ZeroLead {
                zeros,
                tail: Tensor::cat(vec![tail, t2], 0),
            },
            (a, b) => BlockFactor::Dense(Tensor::cat(vec![a.materialise(), b.materialise()], 0)),
        }
    }
}

/// The smooth sign `z / (|z| + ε)`, elementwise.
pub fn smooth_sign(j: Tensor<2>) -> Tensor<2> {
    j.clone() / j.abs().add_scalar(SIGN_EPS)
}

/// The `[R_a, R_b]` kernel block between the rows of `a` and `b`: `J_a J_bᵀ` (plain) or
/// `J_a s(J_b)ᵀ` (sign; the second argument goes through the smooth sign).
pub fn gram(a: &BlockFactor, b: &BlockFactor, kind: KernelKind) -> Tensor<2> {
    match (a, b, kind) {
        (BlockFactor::Parts(pa), BlockFactor::Parts(pb), _)
            if pa.len() == pb.len() && !pa.is_empty() =>
        {
            pa.iter()
                .zip(pb)
                .skip(1)
                .fold(gram(&pa[0], &pb[0], kind), |acc, (x, y)| {
                    acc + gram(x, y, kind)
                })
        }
        (
            BlockFactor::Outer { g: ga, z: za, bias },
            BlockFactor::Outer { g: gb, z: zb, .. },
            KernelKind::Plain,
        ) => {
            let gg = product_with_transpose(ga.clone(), gb.clone());
            let zz = product_with_transpose(za.clone(), zb.clone());
            let w = gg.clone() * zz;
            if *bias {
                w + gg
            } else {
                w
            }
        }
        // s(0) = 0, so the zero columns add nothing to either kernel.
        (
            BlockFactor::ZeroLead { zeros, tail: ta },
            BlockFactor::ZeroLead {
                zeros: zb,
                tail: tb,
            },
            kind,
        ) if zeros == zb => match kind {
            KernelKind::Plain => product_with_transpose(ta.clone(), tb.clone()),
            KernelKind::Sign => product_with_transpose(ta.clone(), smooth_sign(tb.clone())),
        },
        (_, _, KernelKind::Plain) => product_with_transpose(a.materialise(), b.materialise()),
        (_, _, KernelKind::Sign) => {
            product_with_transpose(a.materialise(), smooth_sign(b.materialise()))
        }
    }
}

/// `a bᵀ` for row-major `a` `[R_a, P]` and `b` `[R_b, P]`, computed with the taller of the two
/// on the left: the CPU backend's gemm multiplied a chunk's 32 rows by the transpose of 512 rows
/// (P = 3072) 5–8x slower than the 512 rows by the transpose of the 32 (docs/performance.md), so
/// when `b` is the taller, this forms `(b aᵀ)ᵀ`. Same values up to f32 round-off.
fn product_with_transpose(a: Tensor<2>, b: Tensor<2>) -> Tensor<2> {
    if a.dims()[0] < b.dims()[0] {
        b.matmul(a.transpose()).transpose()
    } else {
        a.matmul(b.transpose())
    }
}

#[cfg(all(test, not(target_family = "wasm")))]
mod tests {
    use super::*;
    use crate::block_on;
    use crate::device::cpu_device;
    use crate::model::weights::tensor_from_vec;
    use crate::readback::read_f32;
    use crate::rng::SplitMix64;

    /// `a bᵀ` by the definition, row-major `[R_a, R_b]`.
    fn by_definition(a: &[f32], b: &[f32], p: usize) -> Vec<f32> {
        let mut out = Vec::new();
        for ra in a.chunks(p) {
            for rb in b.chunks(p) {
                out.push(ra.iter().zip(rb).map(|(x, y)| x * y).sum());
            }
        }
        out
    }

    #[test]
    fn products_with_a_transpose_are_a_times_b_transposed_whichever_is_taller() {
        let device = cpu_device();
        let mut rng = SplitMix64::new(3);
        let p = 7;
        let (short, tall) = (rng.normal(2 * p, 1.0), rng.normal(5 * p, 1.0));
        let t = |v: &Vec<f32>| tensor_from_vec(v.clone(), [v.len() / p, p], &device);
        for (a, b) in [(&short, &tall), (&tall, &short), (&tall, &tall)] {
            let got = block_on(read_f32(product_with_transpose(t(a), t(b)))).unwrap();
            let want = by_definition(a, b, p);
            assert_eq!(got.len(), want.len());
            for (g, w) in got.iter().zip(&want) {
                assert!((g - w).abs() <= 1e-5 * (1.0 + w.abs()), "{g} vs {w}");
            }
        }
    }
}
