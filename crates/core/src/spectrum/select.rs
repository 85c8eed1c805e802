//! Scoring block subsets from the kernel alone, and choosing blocks: all singles, top-k by
//! trace, and greedy forward selection under a budget.

use serde::{Deserialize, Serialize};

use super::blocks::BlockSet;
use super::decompose::{clamp_round_off, sym_eigenvalues};
use super::kernel::{check_lambda, Kernel};
use super::summary::{Conditioning, SpectrumKind, SpectrumOptions};
use crate::CoreError;

/// What the greedy selection optimises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Objective {
    /// Minimise `κ(K_S + λI)` (equivalently maximise `smallest / largest`, which stays finite
    /// when `K_S` is singular).
    MinKappa,
    /// Maximise `λ_min(K_S + λI)`.
    MaxLambdaMin,
}

/// The spectral score of one subset `S` (serde result).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubsetScore {
    /// The block names in `S`, in the order they were added.
    pub blocks: Vec<String>,
    /// `tr K_S`.
    pub trace: f64,
    /// `λ_min(K_S + λI)`: smallest clamped eigenvalue plus `λ` (signed), or `σ_min(K_S + λI)`
    /// for an asymmetric kernel.
    pub lambda_min: f64,
    /// `λ_max(K_S + λI)`, or `σ_max(K_S + λI)` for an asymmetric kernel.
    pub lambda_max: f64,
    /// Conditioning of `K_S + λI`.
    pub conditioning: Conditioning,
}

impl SubsetScore {
    /// The value that `objective` maximises: `smallest / largest` (= `1/κ`, 0 when singular)
    /// or `λ_min(K_S + λI)`.
    pub fn key(&self, objective: Objective) -> f64 {
        match objective {
            Objective::MinKappa => {
                let c = &self.conditioning;
                if c.largest > 0.0 && !c.indefinite {
                    c.smallest / c.largest
                } else {
                    0.0
                }
            }
            Objective::MaxLambdaMin => self.lambda_min,
        }
    }
}

/// One step of the greedy selection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GreedyStep {
    /// The block added at this step.
    pub chosen: String,
    /// The score of the selected set after adding it.
    pub score: SubsetScore,
    /// The score of every candidate set tried at this step (current set plus one block).
    pub candidates: Vec<SubsetScore>,
}

/// The result of greedy forward selection (serde result).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Selection {
    /// The objective.
    pub objective: Objective,
    /// The shift `λ ≥ 0`.
    pub lambda: f64,
    /// The budget `k` (number of blocks chosen).
    pub budget: usize,
    /// One entry per chosen block, in order.
    pub steps: Vec<GreedyStep>,
}

impl Selection {
    /// The chosen block names in selection order.
    pub fn chosen(&self) -> Vec<&str> {
        self.steps.iter().map(|s| s.chosen.as_str()).collect()
    }
}

/// Scores an assembled kernel `K_S` at shift `λ` (names attached for the report).
fn score_kernel(
    kernel: &Kernel,
    blocks: Vec<String>,
    lambda: f64,
    options: &SpectrumOptions,
) -> Result<SubsetScore, CoreError> {
    let tol = options.resolved_tol(kernel.dim());
    let (lambda_min, lambda_max, conditioning) = match options.kind_for(kernel) {
        SpectrumKind::Eigenvalues => {
            let mut values = sym_eigenvalues(&kernel.symmetrised())?;
            clamp_round_off(&mut values, tol);
            let cond = Conditioning::from_eigenvalues(&values, lambda, tol);
            (values[values.len() - 1] + lambda, values[0] + lambda, cond)
        }
        SpectrumKind::SingularValues => {
            let cond = kernel.conditioning(lambda, options)?;
            (cond.smallest, cond.largest, cond)
        }
    };
    Ok(SubsetScore {
        blocks,
        trace: kernel.trace(),
        lambda_min,
        lambda_max,
        conditioning,
    })
}

impl BlockSet {
    /// Score of the subset `K_S = Σ_{b ∈ subset} K_b` at shift `λ ≥ 0`.
    pub fn score<S: AsRef<str>>(
        &self,
        subset: &[S],
        lambda: f64,
        options: &SpectrumOptions,
    ) -> Result<SubsetScore, CoreError> {
        options.validate()?;
        check_lambda(lambda, false)?;
        let kernel = self.sum(subset)?;
        let names = subset.iter().map(|s| s.as_ref().to_string()).collect();
        score_kernel(&kernel, names, lambda, options)
    }

    /// The score of every block alone, in insertion order.
    pub fn singles(
        &self,
        lambda: f64,
        options: &SpectrumOptions,
    ) -> Result<Vec<SubsetScore>, CoreError> {
        self.names()
            .iter()
            .map(|n| self.score(std::slice::from_ref(n), lambda, options))
            .collect()
    }

    /// The `k` blocks with the largest trace `tr K_b`, descending (ties in insertion order);
    /// errors unless `1 ≤ k ≤` number of blocks.
    pub fn top_by_trace(&self, k: usize) -> Result<Vec<(String, f64)>, CoreError> {
        self.check_budget(k)?;
        let mut all: Vec<(String, f64)> = self
            .names()
            .iter()
            .enumerate()
            .map(|(i, n)| (n.clone(), self.kernel_at(i).trace()))
            .collect();
        all.sort_by(|a, b| b.1.total_cmp(&a.1));
        all.truncate(k);
        Ok(all)
    }

    /// Greedy forward selection: start from the empty set and, `budget` times, add the block
    /// whose addition maximises [`SubsetScore::key`] (ties go to the earlier block).
    pub fn greedy(
        &self,
        budget: usize,
        objective: Objective,
        lambda: f64,
        options: &SpectrumOptions,
    ) -> Result<Selection, CoreError> {
        options.validate()?;
        check_lambda(lambda, false)?;
        self.check_budget(budget)?;
        let mut chosen: Vec<usize> = Vec::new();
        let mut current: Option<Kernel> = None;
        let mut steps = Vec::with_capacity(budget);
        for _ in 0..budget {
            let mut best: Option<(usize, Kernel, SubsetScore)> = None;
            let mut candidates = Vec::new();
            for i in (0..self.len()).filter(|i| !chosen.contains(i)) {
                let block = self.kernel_at(i);
                let kernel = match &current {
                    Some(c) => c.add(block)?,
                    None => block.clone(),
                };
                let names = chosen
                    .iter()
                    .chain(std::iter::once(&i))
                    .map(|&j| self.names()[j].clone())
                    .collect();
                let score = score_kernel(&kernel, names, lambda, options)?;
                let better = best
                    .as_ref()
                    .is_none_or(|(_, _, b)| score.key(objective) > b.key(objective));
                candidates.push(score.clone());
                if better {
                    best = Some((i, kernel, score));
                }
            }
            let (i, kernel, score) =
                best.ok_or_else(|| CoreError::Numerical("no candidate block left".to_string()))?;
            chosen.push(i);
            current = Some(kernel);
            steps.push(GreedyStep {
                chosen: self.names()[i].clone(),
                score,
                candidates,
            });
        }
        Ok(Selection {
            objective,
            lambda,
            budget,
            steps,
        })
    }

    fn check_budget(&self, k: usize) -> Result<(), CoreError> {
        if k == 0 || k > self.len() {
            return Err(CoreError::invalid(
                "budget",
                format!("expected 1..={} blocks, got {k}", self.len()),
            ));
        }
        Ok(())
    }
}
