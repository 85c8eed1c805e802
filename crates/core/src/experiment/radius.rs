//! The radius probe of the paper's Algorithm 1: how fast the NTK changes around `θ0`.
//!
//! For each radius `r`, `n_T` parameter vectors `θ = θ0 + r v/‖v‖` (`v ~ N(0, I)` over every
//! LoRA entry) are drawn; for each, `L(θ) = max_{(x,x')} |K_θ(x,x') − K_θ0(x,x')| / r` over the
//! kernel entries of the selected samples. `L_avg(r)` and `L_upper(r)` are the mean and the
//! maximum over the draws. The pseudocode of the paper is truncated in every source we could
//! read; this kernel-entry reading (its inputs are sample *pairs*) is our reconstruction, and
//! the relative Frobenius change of the kernel is reported alongside.

use serde::{Deserialize, Serialize};

use super::needs::{needs, NtkUse};
use crate::model::weights::tensor_from_vec;
use crate::model::Model;
use crate::ntk::{NtkBlocks, NtkBuilder, NtkOptions};
use crate::readback::read_f32;
use crate::rng::SplitMix64;
use crate::steps::Stepwise;
use crate::tokenize::Encoded;
use crate::CoreError;

/// Settings of the probe.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RadiusConfig {
    /// The radii `r > 0`.
    pub radii: Vec<f64>,
    /// Draws per radius `n_T`.
    pub draws: usize,
    /// Seed of the directions.
    pub seed: u64,
}

impl Default for RadiusConfig {
    fn default() -> Self {
        RadiusConfig {
            radii: vec![0.01, 0.03, 0.1, 0.3, 1.0],
            draws: 3,
            seed: 0,
        }
    }
}

/// The probe at one radius (serde result).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RadiusPoint {
    /// `r`.
    pub radius: f64,
    /// Mean over draws of `max |ΔK| / r`.
    pub l_avg: f64,
    /// Max over draws of `max |ΔK| / r`.
    pub l_upper: f64,
    /// Mean over draws of `‖K_θ − K_θ0‖_F / ‖K_θ0‖_F`.
    pub relative_change: f64,
}

/// The probe, one perturbed kernel per [`RadiusProbe::step`].
pub struct RadiusProbe {
    model: Model,
    samples: Vec<Encoded>,
    /// The plain kernel at `θ0`, row-major; computed by the first step when the given blocks
    /// are not what the probe needs.
    base: Option<Vec<f64>>,
    /// The computation of the plain kernel at `θ0`, when the given blocks are not it.
    needed: Option<NtkBuilder>,
    config: RadiusConfig,
    options: NtkOptions,
    rng: SplitMix64,
    /// Whether the caller's blocks were what the probe needs (else the first step computes it).
    base_given: bool,
    done: usize,
    ratios: Vec<Vec<(f64, f64)>>,
}

impl RadiusProbe {
    /// Prepares the probe around `model`'s current LoRA parameters, with `base` the NTK at `θ0`
    /// over `samples` computed with `options`. Every kernel of the probe is the plain one over
    /// `options.params` ([`needs`] with [`NtkUse::Radius`]; `options.kernel` is ignored): when
    /// `base` is not (the sign kernel), the plain kernel at `θ0` is computed first, so that like
    /// is compared with like.
    pub fn new(
        model: &Model,
        samples: &[Encoded],
        base: &NtkBlocks,
        options: NtkOptions,
        config: RadiusConfig,
    ) -> Result<RadiusProbe, CoreError> {
        if config.radii.is_empty() || config.radii.iter().any(|r| !(r.is_finite() && *r > 0.0)) {
            return Err(CoreError::invalid(
                "radii",
                "give at least one radius, each a finite number > 0",
            ));
        }
        if config.draws == 0 || config.draws > 100 {
            return Err(CoreError::invalid(
                "draws",
                format!("must be between 1 and 100, got {}", config.draws),
            ));
        }
        if model.lora_sites().is_empty() {
            return Err(CoreError::invalid(
                "lora",
                "the probe perturbs LoRA; none is attached",
            ));
        }
        let needs = needs(NtkUse::Radius, options.params);
        let options = needs.options_from(options);
        let needed = needs.builder(model, samples, &[], base, options.clone())?;
        let base = match needed {
            None => Some(base.total()?.to_row_major()),
            Some(_) => None,
        };
        Ok(RadiusProbe {
            model: model.clone(),
            samples: samples.to_vec(),
            base_given: base.is_some(),
            base,
            needed,
            rng: SplitMix64::new(config.seed),
            ratios: vec![Vec::new(); config.radii.len()],
            config,
            options,
            done: 0,
        })
    }

    /// `θ0 + r v/‖v‖` for a fresh Gaussian direction `v` over all LoRA entries.
    async fn perturbed(&mut self, r: f64) -> Result<Model, CoreError> {
        let mut m = self.model.clone();
        let sites = m.lora_sites();
        let mut dirs = Vec::new();
        let mut norm_sq = 0.0;
        for &s in &sites {
            let l = m
                .lora(s)
                .ok_or_else(|| CoreError::invalid("lora", "gone"))?;
            for t in [&l.a, &l.b] {
                let n: usize = t.dims().iter().product();
                let v = self.rng.normal(n, 1.0);
                norm_sq += v.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>();
                dirs.push(v);
            }
        }
        let scale = r / norm_sq.sqrt().max(f64::MIN_POSITIVE);
        let device = m.device();
        let mut k = 0;
        for &s in &sites {
            let l = m
                .lora_mut(s)
                .ok_or_else(|| CoreError::invalid("lora", "gone"))?;
            for t in [&mut l.a, &mut l.b] {
                let base = read_f32(t.clone()).await?;
                let vals: Vec<f32> = base
                    .iter()
                    .zip(&dirs[k])
                    .map(|(x, v)| (f64::from(*x) + scale * f64::from(*v)) as f32)
                    .collect();
                *t = tensor_from_vec(vals, t.dims(), &device);
                k += 1;
            }
        }
        Ok(m)
    }

    /// Computes the next perturbed kernel.
    async fn step(&mut self) -> Result<(), CoreError> {
        if self.is_done() {
            return Ok(());
        }
        if let Some(builder) = self.needed.take() {
            self.base = Some(builder.run().await?.total()?.to_row_major());
            return Ok(());
        }
        let ri = self.done / self.config.draws;
        let r = self.config.radii[ri];
        let m = self.perturbed(r).await?;
        let builder = NtkBuilder::new(&m, &self.samples, &[], self.options.clone())?;
        let k = builder.run().await?.total()?.to_row_major();
        let base = self
            .base
            .as_deref()
            .ok_or_else(|| CoreError::invalid("radius", "the kernel at θ0 is missing"))?;
        let max_change = k
            .iter()
            .zip(base)
            .fold(0f64, |a, (x, y)| a.max((x - y).abs()));
        let diff: f64 = k.iter().zip(base).map(|(x, y)| (x - y).powi(2)).sum();
        let norm: f64 = base.iter().map(|y| y * y).sum();
        let rel = if norm > 0.0 {
            (diff / norm).sqrt()
        } else {
            0.0
        };
        self.ratios[ri].push((max_change / r, rel));
        self.done += 1;
        Ok(())
    }

    /// The points so far (radii with at least one draw).
    pub fn points(&self) -> Vec<RadiusPoint> {
        self.config
            .radii
            .iter()
            .zip(&self.ratios)
            .filter(|(_, v)| !v.is_empty())
            .map(|(&radius, v)| RadiusPoint {
                radius,
                l_avg: v.iter().map(|p| p.0).sum::<f64>() / v.len() as f64,
                l_upper: v.iter().map(|p| p.0).fold(0.0, f64::max),
                relative_change: v.iter().map(|p| p.1).sum::<f64>() / v.len() as f64,
            })
            .collect()
    }
}

impl Stepwise for RadiusProbe {
    type Output = Vec<RadiusPoint>;

    /// Perturbed kernels in all, plus the plain kernel at `θ0` when it had to be computed.
    fn total_steps(&self) -> usize {
        self.config.radii.len() * self.config.draws + usize::from(!self.base_given)
    }

    fn steps_done(&self) -> usize {
        self.done + usize::from(!self.base_given && self.base.is_some())
    }

    fn describe(&self) -> String {
        if self.base.is_none() {
            return "the plain kernel at θ0".into();
        }
        format!(
            "perturbed kernel {} of {}",
            self.done + 1,
            self.config.radii.len() * self.config.draws
        )
    }

    async fn advance(&mut self) -> Result<(), CoreError> {
        self.step().await
    }

    async fn finish(self) -> Result<Vec<RadiusPoint>, CoreError> {
        Ok(self.points())
    }
}
