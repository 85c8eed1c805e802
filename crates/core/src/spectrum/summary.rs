//! Spectral summary of one kernel: eigenvalues (or singular values), extreme values, condition
//! numbers of `K + λI`, effective ranks.

use serde::{Deserialize, Serialize};

use super::decompose::{
    clamp_round_off, default_rel_tol, singular_values, sym_eigenvalues, ClampReport,
};
use super::kernel::{check_lambda, Kernel, Layout};
use crate::CoreError;

/// Which decomposition to summarise a kernel with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum SpectrumMethod {
    /// Eigenvalues when the kernel is symmetric within `symmetry_tol`, else singular values.
    #[default]
    Auto,
    /// Eigenvalues of the symmetric part `½(K + Kᵀ)` (the asymmetry is still reported).
    Eigen,
    /// Singular values of `K` (for the asymmetric sign kernel).
    Singular,
}

/// What was decomposed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SpectrumKind {
    /// Eigenvalues of the symmetric part of `K`.
    Eigenvalues,
    /// Singular values of `K`.
    SingularValues,
}

/// Options of [`Kernel::spectrum`] and [`Kernel::conditioning`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpectrumOptions {
    /// Eigenvalues, singular values, or chosen by symmetry.
    pub method: SpectrumMethod,
    /// Largest relative asymmetry `max|K − Kᵀ| / max|K|` still treated as symmetric by `Auto`.
    pub symmetry_tol: f64,
    /// Relative tolerance `τ` for clamping round-off negatives (`|μ| ≤ τ·μ_max`) and for calling
    /// `K + λI` numerically singular (`min ≤ τ·max`); `None` means `dim · ε_f64`.
    pub rel_tol: Option<f64>,
    /// The shifts `λ ≥ 0` at which the condition number of `K + λI` is reported.
    pub shifts: Vec<f64>,
}

impl Default for SpectrumOptions {
    fn default() -> Self {
        SpectrumOptions {
            method: SpectrumMethod::Auto,
            symmetry_tol: 1e-6,
            rel_tol: None,
            shifts: vec![0.0],
        }
    }
}

impl SpectrumOptions {
    /// Options suited to kernels assembled or stored in `f32`: round-off tolerance
    /// `dim · ε_f32` (resolved per kernel) instead of `dim · ε_f64`, shifts `[0]`.
    pub fn for_f32(dim: usize) -> Self {
        SpectrumOptions {
            rel_tol: Some(dim.max(1) as f64 * f32::EPSILON as f64),
            ..Self::default()
        }
    }

    /// Checks the options: tolerances finite and in `[0, 1)`, shifts finite and `≥ 0`.
    pub fn validate(&self) -> Result<(), CoreError> {
        if !(self.symmetry_tol.is_finite() && self.symmetry_tol >= 0.0) {
            return Err(CoreError::invalid(
                "symmetry_tol",
                format!("expected a finite value ≥ 0, got {}", self.symmetry_tol),
            ));
        }
        if let Some(t) = self.rel_tol {
            if !(t.is_finite() && (0.0..1.0).contains(&t)) {
                return Err(CoreError::invalid(
                    "rel_tol",
                    format!("expected 0 ≤ τ < 1, got {t}"),
                ));
            }
        }
        for &s in &self.shifts {
            check_lambda(s, false)?;
        }
        Ok(())
    }

    /// The tolerance used for a `dim × dim` kernel.
    pub fn resolved_tol(&self, dim: usize) -> f64 {
        self.rel_tol.unwrap_or_else(|| default_rel_tol(dim))
    }

    /// The decomposition used for `kernel` under these options.
    pub fn kind_for(&self, kernel: &Kernel) -> SpectrumKind {
        match self.method {
            SpectrumMethod::Eigen => SpectrumKind::Eigenvalues,
            SpectrumMethod::Singular => SpectrumKind::SingularValues,
            SpectrumMethod::Auto if kernel.asymmetry() <= self.symmetry_tol => {
                SpectrumKind::Eigenvalues
            }
            SpectrumMethod::Auto => SpectrumKind::SingularValues,
        }
    }
}

/// Conditioning of `K + λI` at one shift.
///
/// For eigenvalues `μ_i` of a PSD kernel, `largest = μ_max + λ`, `smallest = μ_min + λ` and
/// `κ_λ = (μ_max + λ)/(μ_min + λ)`. In general `largest = max_i |μ_i + λ|`,
/// `smallest = min_i |μ_i + λ|` (singular values of `K + λI` for the singular-value route).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Conditioning {
    /// The shift `λ`.
    pub lambda: f64,
    /// `max |μ_i + λ|` (or `σ_max(K + λI)`).
    pub largest: f64,
    /// `min |μ_i + λ|` (or `σ_min(K + λI)`).
    pub smallest: f64,
    /// `κ = largest / smallest`; `None` when `K + λI` is numerically singular.
    pub kappa: Option<f64>,
    /// True when `smallest ≤ τ · largest` (τ the relative tolerance), so κ is not resolvable.
    pub numerically_singular: bool,
    /// True when some `μ_i + λ < 0` (the shifted symmetric kernel is indefinite).
    pub indefinite: bool,
}

impl Conditioning {
    /// Conditioning from (clamped) eigenvalues `μ` of a symmetric kernel at shift `λ`.
    pub(crate) fn from_eigenvalues(values: &[f64], lambda: f64, rel_tol: f64) -> Self {
        let mut largest: f64 = 0.0;
        let mut smallest = f64::INFINITY;
        let mut indefinite = false;
        for &m in values {
            let s = m + lambda;
            indefinite |= s < 0.0;
            largest = largest.max(s.abs());
            smallest = smallest.min(s.abs());
        }
        Self::from_extremes(lambda, largest, smallest, indefinite, rel_tol)
    }

    /// Conditioning from the singular values (descending) of `K + λI`.
    pub(crate) fn from_singular_values(values: &[f64], lambda: f64, rel_tol: f64) -> Self {
        let largest = values.first().copied().unwrap_or(0.0);
        let smallest = values.last().copied().unwrap_or(0.0);
        Self::from_extremes(lambda, largest, smallest, false, rel_tol)
    }

    fn from_extremes(
        lambda: f64,
        largest: f64,
        smallest: f64,
        indefinite: bool,
        rel_tol: f64,
    ) -> Self {
        let smallest = if smallest.is_finite() { smallest } else { 0.0 };
        let numerically_singular = largest <= 0.0 || smallest <= rel_tol * largest;
        Conditioning {
            lambda,
            largest,
            smallest,
            kappa: (!numerically_singular).then(|| largest / smallest),
            numerically_singular,
            indefinite,
        }
    }
}

/// The spectral summary of one kernel (serde result).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Spectrum {
    /// Number of samples `n`.
    pub samples: usize,
    /// Number of classes `C`.
    pub classes: usize,
    /// Layout of the kernel that was decomposed.
    pub layout: Layout,
    /// Eigenvalues or singular values.
    pub kind: SpectrumKind,
    /// The values, descending; for eigenvalues after clamping round-off negatives to 0.
    pub values: Vec<f64>,
    /// Largest value `μ_max` (`values[0]`).
    pub max: f64,
    /// Smallest value `μ_min` (last of `values`).
    pub min: f64,
    /// Relative asymmetry `max|K − Kᵀ| / max|K|` of the input.
    pub asymmetry: f64,
    /// The relative tolerance `τ` used for clamping and for numerical singularity.
    pub tolerance: f64,
    /// What clamping did (all zero for singular values).
    pub clamp: ClampReport,
    /// Entropy effective rank `exp(H(p))`, `p_i = μ_i⁺ / Σ_j μ_j⁺`, `H(p) = −Σ p_i ln p_i`
    /// (`μ⁺ = max(μ, 0)`; 0 for the zero kernel).
    pub effective_rank_entropy: f64,
    /// Trace effective rank `Σ_i μ_i⁺ / μ_max` (`tr K / λ_max` for a PSD kernel; 0 if `μ_max ≤ 0`).
    pub effective_rank_trace: f64,
    /// Conditioning of `K + λI` at each requested shift.
    pub conditioning: Vec<Conditioning>,
}

impl Spectrum {
    /// Condition number data of `K + λI` from the stored eigenvalues (any `λ ≥ 0`).
    ///
    /// Errors for a singular-value spectrum (the singular values of `K + λI` do not follow from
    /// those of `K` unless `λ = 0`; use [`Kernel::conditioning`]).
    pub fn conditioning_at(&self, lambda: f64) -> Result<Conditioning, CoreError> {
        check_lambda(lambda, false)?;
        match self.kind {
            SpectrumKind::Eigenvalues => Ok(Conditioning::from_eigenvalues(
                &self.values,
                lambda,
                self.tolerance,
            )),
            SpectrumKind::SingularValues if lambda == 0.0 => Ok(
                Conditioning::from_singular_values(&self.values, 0.0, self.tolerance),
            ),
            SpectrumKind::SingularValues => Err(CoreError::invalid(
                "lambda",
                "a singular-value spectrum gives κ(K + λI) only at λ = 0; use Kernel::conditioning",
            )),
        }
    }
}

/// Entropy and trace effective ranks of nonnegative parts of `values` (descending).
fn effective_ranks(values: &[f64]) -> (f64, f64) {
    let total: f64 = values.iter().map(|v| v.max(0.0)).sum();
    let top = values.first().copied().unwrap_or(0.0);
    if total <= 0.0 || top <= 0.0 {
        return (0.0, 0.0);
    }
    let entropy: f64 = values
        .iter()
        .map(|v| v.max(0.0) / total)
        .filter(|&p| p > 0.0)
        .map(|p| -p * p.ln())
        .sum();
    (entropy.exp(), total / top)
}

impl Kernel {
    /// Spectral summary: values descending, extremes, clamping report, effective ranks and
    /// `κ(K + λI)` at `options.shifts`.
    pub fn spectrum(&self, options: &SpectrumOptions) -> Result<Spectrum, CoreError> {
        options.validate()?;
        let tol = options.resolved_tol(self.dim());
        let kind = options.kind_for(self);
        let (values, clamp, conditioning) = match kind {
            SpectrumKind::Eigenvalues => {
                let mut values = sym_eigenvalues(&self.symmetrised())?;
                let clamp = clamp_round_off(&mut values, tol);
                let cond = options
                    .shifts
                    .iter()
                    .map(|&l| Conditioning::from_eigenvalues(&values, l, tol))
                    .collect();
                (values, clamp, cond)
            }
            SpectrumKind::SingularValues => {
                let values = singular_values(self.matrix())?;
                let cond = options
                    .shifts
                    .iter()
                    .map(|&l| self.singular_conditioning(&values, l, tol))
                    .collect::<Result<Vec<_>, _>>()?;
                let clamp = ClampReport {
                    clamped: 0,
                    most_negative: None,
                    negative_beyond_tolerance: 0,
                };
                (values, clamp, cond)
            }
        };
        let (effective_rank_entropy, effective_rank_trace) = effective_ranks(&values);
        Ok(Spectrum {
            samples: self.samples(),
            classes: self.classes(),
            layout: self.layout(),
            kind,
            max: values.first().copied().unwrap_or(0.0),
            min: values.last().copied().unwrap_or(0.0),
            values,
            asymmetry: self.asymmetry(),
            tolerance: tol,
            clamp,
            effective_rank_entropy,
            effective_rank_trace,
            conditioning,
        })
    }

    /// Conditioning of `K + λI` alone (no full summary); eigenvalues or singular values as
    /// `options` choose. `options.shifts` is ignored.
    pub fn conditioning(
        &self,
        lambda: f64,
        options: &SpectrumOptions,
    ) -> Result<Conditioning, CoreError> {
        options.validate()?;
        check_lambda(lambda, false)?;
        let tol = options.resolved_tol(self.dim());
        match options.kind_for(self) {
            SpectrumKind::Eigenvalues => {
                let mut values = sym_eigenvalues(&self.symmetrised())?;
                clamp_round_off(&mut values, tol);
                Ok(Conditioning::from_eigenvalues(&values, lambda, tol))
            }
            SpectrumKind::SingularValues => {
                let values = singular_values(self.matrix())?;
                self.singular_conditioning(&values, lambda, tol)
            }
        }
    }

    /// Singular-value conditioning at `λ`, reusing `values = σ(K)` when `λ = 0`.
    fn singular_conditioning(
        &self,
        values: &[f64],
        lambda: f64,
        tol: f64,
    ) -> Result<Conditioning, CoreError> {
        if lambda == 0.0 {
            return Ok(Conditioning::from_singular_values(values, 0.0, tol));
        }
        let shifted = singular_values(&self.shifted(lambda))?;
        Ok(Conditioning::from_singular_values(&shifted, lambda, tol))
    }
}
