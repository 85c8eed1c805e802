//! LoRA adapters with PEFT semantics: their configuration ([`LoraConfig`]), where they sit
//! ([`LoraSite`], [`LoraModule`]) and PEFT's initialisation ([`init`]). The adapted layer itself
//! is the model's ([`crate::model::AdaptedLinear`], [`crate::model::LoraWeights`]), and so are
//! PEFT's adapter files ([`crate::model::peft`]): the model is built of adapted layers, and this
//! module knows nothing of the model.
//!
//! An adapted linear layer computes `y = x W₀ᵀ + b + s · (x Aᵀ) Bᵀ` with `A: [r, in]`,
//! `B: [out, r]` and `s = alpha / r` (or `alpha / √r` with rsLoRA), exactly as PEFT's
//! `lora.Linear` with `fan_in_fan_out = False` and dropout 0. `A` and `B` are kept as separate
//! tensors ([`crate::model::LoraWeights`]) so that per-sample Jacobians can be formed from each adapted layer's
//! input `x` and output gradient `∂f/∂y` (see [`crate::model::ForwardHooks`]).
//!
//! ## Naming of the adaptable modules
//!
//! Each transformer layer `i` has six linear layers that can be adapted. They are named by
//! [`LoraModule`]; the *short name* is used in block names (`block.<i>.<short>`), the *HF path*
//! is the module path inside `encoder.layer.<i>`:
//!
//! | [`LoraModule`] | short name | HF path (`encoder.layer.<i>.` + …) |
//! |---|---|---|
//! | `Query` | `query` | `attention.self.query` |
//! | `Key` | `key` | `attention.self.key` |
//! | `Value` | `value` | `attention.self.value` |
//! | `AttnOut` | `attn_out` | `attention.output.dense` |
//! | `Intermediate` | `intermediate` | `intermediate.dense` |
//! | `Output` | `output` | `output.dense` |
//!
//! PEFT `target_modules` strings are matched as PEFT 0.21 does: a module key such as
//! `bert.encoder.layer.0.attention.output.dense` matches a target `t` iff `key == t` or it ends
//! with `"." + t`. So `"output.dense"` matches **both** `output.dense` and
//! `attention.output.dense`, and a bare `"dense"` also matches the pooler (which ntk-lens does not
//! adapt: that is an error). [`LoraTargets::Modules`] avoids these surprises by naming modules
//! exactly.

mod config;
pub mod init;

pub use config::{LoraConfig, LoraTargets};

use serde::{Deserialize, Serialize};

/// One of the six adaptable linear layers of a transformer layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LoraModule {
    /// `attention.self.query`.
    Query,
    /// `attention.self.key`.
    Key,
    /// `attention.self.value`.
    Value,
    /// `attention.output.dense` (the attention output projection).
    AttnOut,
    /// `intermediate.dense` (feed-forward up-projection).
    Intermediate,
    /// `output.dense` (feed-forward down-projection).
    Output,
}

impl LoraModule {
    /// All six, in the order they run within a layer.
    pub const ALL: [LoraModule; 6] = [
        LoraModule::Query,
        LoraModule::Key,
        LoraModule::Value,
        LoraModule::AttnOut,
        LoraModule::Intermediate,
        LoraModule::Output,
    ];

    /// The short name used in block names: `query`, `key`, `value`, `attn_out`,
    /// `intermediate`, `output`.
    pub fn short_name(self) -> &'static str {
        match self {
            LoraModule::Query => "query",
            LoraModule::Key => "key",
            LoraModule::Value => "value",
            LoraModule::AttnOut => "attn_out",
            LoraModule::Intermediate => "intermediate",
            LoraModule::Output => "output",
        }
    }

    /// The module path inside `encoder.layer.<i>` (e.g. `attention.output.dense`).
    pub fn hf_path(self) -> &'static str {
        match self {
            LoraModule::Query => "attention.self.query",
            LoraModule::Key => "attention.self.key",
            LoraModule::Value => "attention.self.value",
            LoraModule::AttnOut => "attention.output.dense",
            LoraModule::Intermediate => "intermediate.dense",
            LoraModule::Output => "output.dense",
        }
    }

    /// The conventional PEFT target string for this module (`query`, `key`, `value`,
    /// `attention.output.dense`, `intermediate.dense`, `output.dense`). Note that
    /// `output.dense` alone also matches `attention.output.dense` under PEFT's suffix rule.
    pub fn peft_target(self) -> &'static str {
        match self {
            LoraModule::Query => "query",
            LoraModule::Key => "key",
            LoraModule::Value => "value",
            other => other.hf_path(),
        }
    }

    /// Parses a short name (`attn_out`) or an HF path (`attention.output.dense`).
    pub fn parse(name: &str) -> Option<LoraModule> {
        LoraModule::ALL
            .into_iter()
            .find(|m| m.short_name() == name || m.hf_path() == name)
    }
}

/// One adaptable linear layer of the encoder: layer index and module.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct LoraSite {
    /// Transformer layer index (0-based).
    pub layer: usize,
    /// Which linear layer inside it.
    pub module: LoraModule,
}

impl LoraSite {
    /// The block name `block.<layer>.<short name>`, e.g. `block.1.value` (the naming of the
    /// NTK fixtures).
    pub fn block_name(&self) -> String {
        format!("block.{}.{}", self.layer, self.module.short_name())
    }

    /// Parses a block name `block.<layer>.<short name>` (the inverse of
    /// [`LoraSite::block_name`]).
    pub fn from_block_name(name: &str) -> Option<LoraSite> {
        let rest = name.strip_prefix("block.")?;
        let (layer, module) = rest.split_once('.')?;
        Some(LoraSite {
            layer: layer.parse().ok()?,
            module: LoraModule::parse(module)?,
        })
    }

    /// The module key relative to the encoder, `encoder.layer.<i>.<hf path>`.
    pub fn encoder_key(&self) -> String {
        format!("encoder.layer.{}.{}", self.layer, self.module.hf_path())
    }

    /// The PEFT module key, `<prefix>.encoder.layer.<i>.<hf path>` (no prefix when `prefix`
    /// is empty), as PEFT sees it relative to the wrapped HF model.
    pub fn module_key(&self, prefix: &str) -> String {
        if prefix.is_empty() {
            self.encoder_key()
        } else {
            format!("{prefix}.{}", self.encoder_key())
        }
    }

    /// The adapter-file key of this site's `lora_A` (`B` when `b` is true) weight, e.g.
    /// `base_model.model.bert.encoder.layer.0.attention.self.query.lora_A.weight`.
    pub fn peft_key(&self, prefix: &str, b: bool) -> String {
        format!(
            "base_model.model.{}.lora_{}.weight",
            self.module_key(prefix),
            if b { "B" } else { "A" }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_as_documented() {
        let s = LoraSite {
            layer: 0,
            module: LoraModule::Query,
        };
        assert_eq!(
            s.peft_key("bert", false),
            "base_model.model.bert.encoder.layer.0.attention.self.query.lora_A.weight"
        );
        let s = LoraSite {
            layer: 1,
            module: LoraModule::AttnOut,
        };
        assert_eq!(
            s.peft_key("", true),
            "base_model.model.encoder.layer.1.attention.output.dense.lora_B.weight"
        );
        assert_eq!(s.block_name(), "block.1.attn_out");
        for m in LoraModule::ALL {
            assert_eq!(LoraModule::parse(m.short_name()), Some(m));
            assert_eq!(LoraModule::parse(m.hf_path()), Some(m));
        }
        assert_eq!(LoraModule::parse("dense"), None);
    }
}
