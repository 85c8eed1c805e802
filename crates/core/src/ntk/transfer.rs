//! [`NtkBlocks`] as plain serde data, to send from the worker to the page (which sums blocks
//! and fits the linearized model on the main thread, instantly) and to save.

use serde::{Deserialize, Serialize};

use super::builder::NtkBlocks;
use super::options::{KernelKind, ParamSet};
use crate::spectrum::{BlockSet, Kernel, Layout};
use crate::CoreError;

/// The serde form of [`NtkBlocks`]: kernels row-major in `f32` (they are assembled in `f32`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NtkBlocksData {
    /// Train samples `n`.
    pub n: usize,
    /// Eval samples `m`.
    pub n_eval: usize,
    /// Classes `C`.
    pub classes: usize,
    /// Plain or sign.
    pub kind: KernelKind,
    /// The parameters of the Jacobian.
    #[serde(default)]
    pub params: ParamSet,
    /// Block names.
    pub names: Vec<String>,
    /// Parameters per block.
    pub param_counts: Vec<usize>,
    /// Per block, the `nC × nC` train kernel, row-major.
    pub train: Vec<Vec<f32>>,
    /// Per block, the `mC × nC` cross kernel, row-major.
    pub cross: Vec<Vec<f32>>,
    /// `f0` on train, `nC`.
    pub f0_train: Vec<f64>,
    /// `f0` on eval, `mC`.
    pub f0_eval: Vec<f64>,
}

fn to_f32(v: &[f64]) -> Vec<f32> {
    v.iter().map(|&x| x as f32).collect()
}

fn to_f64(v: &[f32]) -> Vec<f64> {
    v.iter().map(|&x| f64::from(x)).collect()
}

impl NtkBlocks {
    /// The serde form.
    pub fn to_data(&self) -> NtkBlocksData {
        NtkBlocksData {
            n: self.n,
            n_eval: self.n_eval,
            classes: self.classes,
            kind: self.kind,
            params: self.params,
            names: self.train.names().to_vec(),
            param_counts: self.param_counts.clone(),
            train: self
                .train
                .names()
                .iter()
                .filter_map(|n| self.train.get(n))
                .map(|k| to_f32(&k.to_row_major()))
                .collect(),
            cross: self.cross.iter().map(|c| to_f32(c)).collect(),
            f0_train: self.f0_train.clone(),
            f0_eval: self.f0_eval.clone(),
        }
    }

    /// Back from the serde form; checks every shape.
    pub fn from_data(data: &NtkBlocksData) -> Result<NtkBlocks, CoreError> {
        let (n, m, c) = (data.n, data.n_eval, data.classes);
        let blocks = data.names.len();
        for (what, len) in [
            ("param_counts", data.param_counts.len()),
            ("train", data.train.len()),
            ("cross", data.cross.len()),
        ] {
            if len != blocks {
                return Err(CoreError::mismatch(what, blocks, len));
            }
        }
        if data.f0_train.len() != n * c {
            return Err(CoreError::mismatch("f0_train", n * c, data.f0_train.len()));
        }
        if data.f0_eval.len() != m * c {
            return Err(CoreError::mismatch("f0_eval", m * c, data.f0_eval.len()));
        }
        let mut train = BlockSet::new();
        for (name, k) in data.names.iter().zip(&data.train) {
            train.insert(
                name.clone(),
                Kernel::from_row_major(n, c, Layout::Full, &to_f64(k))?,
            )?;
        }
        let mut cross = Vec::with_capacity(blocks);
        for k in &data.cross {
            if k.len() != m * c * n * c {
                return Err(CoreError::mismatch("cross kernel", m * c * n * c, k.len()));
            }
            cross.push(to_f64(k));
        }
        Ok(NtkBlocks {
            n,
            n_eval: m,
            classes: c,
            kind: data.kind,
            params: data.params,
            param_counts: data.param_counts.clone(),
            train,
            cross,
            f0_train: data.f0_train.clone(),
            f0_eval: data.f0_eval.clone(),
        })
    }
}
