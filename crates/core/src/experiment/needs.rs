//! What an analysis needs from the NTK it is given, decided in one place.
//!
//! The λ sweep, the layer study and the radius probe all work with the plain kernel `J Jᵀ` (the
//! linearized model, κ and the step sizes are defined by it; the sign kernel `J s(J)ᵀ` has no
//! linear-model meaning), over the parameters the NTK was asked for (the sweep trains the head
//! when they include it). [`NtkNeeds::check`] says whether blocks meet the needs, with one error
//! ([`CoreError::NtkNeeds`]); when they do not, the one reaction is to compute the NTK that does,
//! over the same samples at `θ0` ([`NtkNeeds::builder`]): the page's worker does so before the
//! sweep and the study, and the radius probe as its first step. The constructors that need the
//! kernel at once ([`crate::experiment::Sweep::new`], [`crate::experiment::Study::new`]) refuse
//! blocks that do not meet the needs with that error.

use crate::model::Model;
use crate::ntk::{KernelKind, NtkBlocks, NtkBuilder, NtkOptions, ParamSet};
use crate::tokenize::Encoded;
use crate::CoreError;

/// An analysis run on NTK blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NtkUse {
    /// The λ sweep: linearized model against fine-tuning ([`crate::experiment::Sweep`]).
    Sweep,
    /// The layer study: κ of block subsets, and their training ([`crate::experiment::Study`]).
    Study,
    /// The radius probe around `θ0` ([`crate::experiment::RadiusProbe`]).
    Radius,
}

impl NtkUse {
    /// The analysis as a person names it.
    pub fn name(self) -> &'static str {
        match self {
            NtkUse::Sweep => "λ sweep",
            NtkUse::Study => "layer study",
            NtkUse::Radius => "radius probe",
        }
    }
}

/// What an analysis needs from the NTK it is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NtkNeeds {
    /// The analysis.
    pub analysis: NtkUse,
    /// Whether it needs the plain kernel `J Jᵀ` (every analysis of [`NtkUse`] does).
    pub plain_kernel: bool,
    /// The parameters of the Jacobian.
    pub params: ParamSet,
}

/// What `analysis` needs from an NTK over `params`.
pub fn needs(analysis: NtkUse, params: ParamSet) -> NtkNeeds {
    NtkNeeds {
        analysis,
        plain_kernel: match analysis {
            NtkUse::Sweep | NtkUse::Study | NtkUse::Radius => true,
        },
        params,
    }
}

impl NtkNeeds {
    /// Whether the analysis trains the head (the sweep does when the NTK covers it).
    pub fn head(&self) -> bool {
        self.analysis == NtkUse::Sweep && self.params == ParamSet::LoraAndHead
    }

    /// `options` with the kernel and the parameters the analysis needs (the chunk size and the
    /// block subset stay).
    pub fn options_from(&self, options: NtkOptions) -> NtkOptions {
        NtkOptions {
            params: self.params,
            kernel: if self.plain_kernel {
                KernelKind::Plain
            } else {
                options.kernel
            },
            ..options
        }
    }

    /// The options of an NTK that meets the needs (default chunk size, every block).
    pub fn options(&self) -> NtkOptions {
        self.options_from(NtkOptions::default())
    }

    /// Whether `blocks` meet the needs.
    pub fn met_by(&self, blocks: &NtkBlocks) -> bool {
        (!self.plain_kernel || blocks.kind == KernelKind::Plain) && blocks.params == self.params
    }

    /// `Ok` when `blocks` meet the needs, else [`CoreError::NtkNeeds`].
    pub fn check(&self, blocks: &NtkBlocks) -> Result<(), CoreError> {
        if self.met_by(blocks) {
            return Ok(());
        }
        Err(CoreError::NtkNeeds {
            analysis: self.analysis.name(),
            kernel: self.options().kernel,
            params: self.params,
            given_kernel: blocks.kind,
            given_params: blocks.params,
        })
    }

    /// `None` when `blocks` meet the needs; else the computation of the NTK that does, of
    /// `model` over `train` and `eval` (the samples of `blocks`) with `options` otherwise.
    pub fn builder(
        &self,
        model: &Model,
        train: &[Encoded],
        eval: &[Encoded],
        blocks: &NtkBlocks,
        options: NtkOptions,
    ) -> Result<Option<NtkBuilder>, CoreError> {
        if self.met_by(blocks) {
            return Ok(None);
        }
        NtkBuilder::new(model, train, eval, self.options_from(options)).map(Some)
    }
}

#[cfg(all(test, not(target_family = "wasm")))]
mod tests {
    use super::*;
    use crate::block_on;
    use crate::model::Family;
    use crate::steps::Stepwise;
    use crate::test_model::{samples_of_lengths, tiny_lora_model};

    /// The blocks record their parameters (no guessing from a block named `head`); the sign
    /// kernel or other parameters fail the check with one message, and the builder computes the
    /// NTK that meets the needs.
    #[test]
    fn blocks_meet_the_needs_or_the_needed_ntk_is_computed() {
        let model = tiny_lora_model(Family::Bert, 3, Some(4));
        let samples = samples_of_lengths(&[3, 5]);
        let ntk = |kernel, params| {
            let options = NtkOptions {
                kernel,
                params,
                ..NtkOptions::default()
            };
            block_on(
                NtkBuilder::new(&model, &samples, &[], options)
                    .unwrap()
                    .run(),
            )
            .unwrap()
        };
        let plain = ntk(KernelKind::Plain, ParamSet::Lora);
        let sign = ntk(KernelKind::Sign, ParamSet::LoraAndHead);
        assert_eq!(plain.params, ParamSet::Lora);
        assert_eq!(sign.params, ParamSet::LoraAndHead);
        assert!(sign.train.names().iter().any(|n| n == "head"));
        assert!(!plain.train.names().iter().any(|n| n == "head"));

        let sweep = needs(NtkUse::Sweep, ParamSet::Lora);
        assert!(sweep.met_by(&plain) && sweep.check(&plain).is_ok());
        assert!(!sweep.head());
        assert!(needs(NtkUse::Sweep, ParamSet::LoraAndHead).head());
        assert!(!needs(NtkUse::Study, ParamSet::LoraAndHead).head());
        let e = needs(NtkUse::Study, sign.params).check(&sign).unwrap_err();
        assert_eq!(
            e.to_string(),
            "the layer study needs the NTK with kernel = plain, params = lora+head; the one given \
             has kernel = sign, params = lora+head"
        );
        let e = sweep.check(&sign).unwrap_err();
        assert!(matches!(e, CoreError::NtkNeeds { .. }), "{e:?}");

        let radius = needs(NtkUse::Radius, ParamSet::LoraAndHead);
        assert!(radius
            .builder(&model, &samples, &[], &sign, NtkOptions::default())
            .unwrap()
            .is_some_and(|b| b.total_steps() > 0));
        let needed = needs(NtkUse::Radius, ParamSet::Lora)
            .builder(&model, &samples, &[], &sign, NtkOptions::default())
            .unwrap()
            .unwrap();
        let computed = block_on(needed.run()).unwrap();
        assert_eq!(
            (computed.kind, computed.params),
            (KernelKind::Plain, ParamSet::Lora)
        );
        assert_eq!(
            computed.total().unwrap().to_row_major(),
            plain.total().unwrap().to_row_major()
        );
        assert!(sweep
            .builder(&model, &samples, &[], &plain, NtkOptions::default())
            .unwrap()
            .is_none());
    }
}
