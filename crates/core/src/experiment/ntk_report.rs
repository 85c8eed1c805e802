//! The NTK report: the JSON the CLI writes, the page shows and the user exports.

use serde::{Deserialize, Serialize};

use crate::data::Task;
use crate::ntk::{KernelKind, NtkBlocks};
use crate::spectrum::{target_alignment, Kernel, Layout, SpectrumKind, SpectrumOptions};
use crate::train::{LossKind, Targets};
use crate::CoreError;

/// One block's share of the kernel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BlockSummary {
    /// `block.<layer>.<module>` or `head`.
    pub name: String,
    /// Number of parameters.
    pub params: usize,
    /// `tr K_b` (the block's contribution to `tr K`).
    pub trace: f64,
    /// `tr K_b / tr K`.
    pub share: f64,
}

/// Spectrum and conditioning of the NTK over the selected samples (serde result).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NtkReport {
    /// Number of samples `n`.
    pub n: usize,
    /// Number of classes `C`.
    pub classes: usize,
    /// `full` (`nC × nC`, sample-major `i*C + a`) or `trace` (`n × n`).
    pub layout: Layout,
    /// `plain` (`J Jᵀ`) or `sign` (`J s(J)ᵀ`).
    pub kernel_kind: KernelKind,
    /// The kernel, rows of the chosen layout.
    pub kernel: Vec<Vec<f64>>,
    /// Eigenvalues (plain kernel) or singular values (sign kernel), descending.
    pub eigenvalues: Vec<f64>,
    /// Whether `eigenvalues` holds eigenvalues or singular values.
    pub spectrum_kind: SpectrumKind,
    /// `κ(K + λI)` at `lambda`; `None` when numerically singular.
    pub condition_number: Option<f64>,
    /// The shift of `condition_number`.
    pub lambda: f64,
    /// True when `K + λI` is singular to working precision (κ not resolvable).
    pub numerically_singular: bool,
    /// Largest and smallest value of the spectrum.
    pub lambda_max: f64,
    /// Smallest value of the spectrum.
    pub lambda_min: f64,
    /// Entropy effective rank `exp(H(p))`, `p ∝ μ`.
    pub effective_rank: f64,
    /// Kernel-target alignment with the targets (one-hot labels, or the scores).
    pub alignment: f64,
    /// The centred alignment `A(HKH, HTH)` (`H = I − 11ᵀ/d`), which discounts the large
    /// constant part every NTK and every one-hot target share; `None` when a centred matrix is
    /// zero (one class only).
    #[serde(default)]
    pub alignment_centred: Option<f64>,
    /// Each block's kernel in the chosen layout.
    pub blocks: std::collections::BTreeMap<String, Vec<Vec<f64>>>,
    /// Each block's parameter count and trace share, in model order.
    pub block_summary: Vec<BlockSummary>,
    /// Total parameter count of the Jacobian.
    pub params: usize,
    /// Label of each sample (for grouping the heatmap; 0 for regression).
    pub labels: Vec<usize>,
    /// The task: classification, or regression (one output, `scores` set).
    #[serde(default)]
    pub task: Task,
    /// The score of each sample, for regression.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scores: Option<Vec<f64>>,
    /// Initial logits `f0`, one row per sample.
    pub logits: Vec<Vec<f64>>,
    /// Plain-language notes (initialisation, near-singularity).
    pub notes: Vec<String>,
}

fn rows(k: &Kernel) -> Vec<Vec<f64>> {
    let d = k.dim();
    k.to_row_major().chunks(d).map(<[f64]>::to_vec).collect()
}

fn in_layout(k: &Kernel, layout: Layout) -> Kernel {
    match layout {
        Layout::Full => k.clone(),
        Layout::Trace => k.to_trace(),
    }
}

impl NtkReport {
    /// Summarises `ntk` in `layout` with the condition number of `K + λI`.
    pub fn new(
        ntk: &NtkBlocks,
        layout: Layout,
        targets: &Targets,
        lambda: f64,
        mut notes: Vec<String>,
    ) -> Result<NtkReport, CoreError> {
        let total = in_layout(&ntk.total()?, layout);
        let options = SpectrumOptions {
            shifts: vec![lambda],
            ..SpectrumOptions::for_f32(total.dim())
        };
        let spec = total.spectrum(&options)?;
        let cond = total.conditioning(lambda, &options)?;
        // One target per sample, one output per class, labels in range (no loss is trained).
        targets.check(ntk.n, ntk.classes, LossKind::Mse)?;
        let alignment = target_alignment(&total, &targets.matrix())?;
        let trace_total = total.trace();
        let mut blocks = std::collections::BTreeMap::new();
        let mut block_summary = Vec::new();
        for (name, params) in ntk.train.names().iter().zip(&ntk.param_counts) {
            let k = in_layout(ntk.train.get(name).unwrap_or(&total), layout);
            let trace = k.trace();
            block_summary.push(BlockSummary {
                name: name.clone(),
                params: *params,
                trace,
                share: if trace_total != 0.0 {
                    trace / trace_total
                } else {
                    0.0
                },
            });
            blocks.insert(name.clone(), rows(&k));
        }
        let zero_blocks: Vec<&str> = block_summary
            .iter()
            .filter(|b| b.trace == 0.0)
            .map(|b| b.name.as_str())
            .collect();
        if !zero_blocks.is_empty() {
            notes.push(format!(
                "{} block(s) contribute nothing (zero trace): {}.",
                zero_blocks.len(),
                zero_blocks.join(", ")
            ));
        }
        if cond.numerically_singular {
            notes.push(format!(
                "K + {lambda}·I is numerically singular (smallest {:.3e} ≤ τ·largest, τ = \
                 {:.1e}): the condition number is not resolvable; use fewer, more distinct samples \
                 (the CLI's --lambda shifts the kernel).",
                cond.smallest, spec.tolerance
            ));
        }
        if ntk.kind == KernelKind::Sign {
            notes.push("The sign kernel is asymmetric: the spectrum shows singular values.".into());
        }
        let c = ntk.classes;
        Ok(NtkReport {
            n: ntk.n,
            classes: c,
            layout,
            kernel_kind: ntk.kind,
            kernel: rows(&total),
            eigenvalues: spec.values.clone(),
            spectrum_kind: spec.kind,
            condition_number: cond.kappa,
            lambda,
            numerically_singular: cond.numerically_singular,
            lambda_max: spec.max,
            lambda_min: spec.min,
            effective_rank: spec.effective_rank_entropy,
            alignment: alignment.alignment,
            alignment_centred: alignment.centred,
            blocks,
            block_summary,
            params: ntk.params(),
            labels: targets
                .labels()
                .map_or_else(|| vec![0; ntk.n], <[usize]>::to_vec),
            task: targets.task(),
            scores: match targets {
                Targets::Scores(s) => Some(s.clone()),
                Targets::Classes { .. } => None,
            },
            logits: ntk.f0_train.chunks(c).map(<[f64]>::to_vec).collect(),
            notes,
        })
    }
}
