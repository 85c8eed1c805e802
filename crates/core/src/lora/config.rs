//! Which layers get LoRA, with which rank and scale; PEFT's target-matching rule.

use serde::{Deserialize, Serialize};

use super::{LoraModule, LoraSite};
use crate::CoreError;

/// What to adapt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LoraTargets {
    /// Exactly these modules (in every layer allowed by `layers_to_transform`).
    Modules(Vec<LoraModule>),
    /// PEFT `target_modules` strings, matched by PEFT's suffix rule (see the module docs of
    /// [`crate::lora`]).
    Peft(Vec<String>),
}

/// A LoRA configuration (PEFT `LoraConfig` subset: dropout is always 0, bias `none`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoraConfig {
    /// Rank `r ≥ 1`.
    pub r: usize,
    /// `lora_alpha`; the scale is `alpha / r` (or `alpha / √r` with `use_rslora`).
    pub alpha: f64,
    /// The adapted modules.
    pub targets: LoraTargets,
    /// Only these layer indices (PEFT `layers_to_transform`); `None` means all layers.
    pub layers_to_transform: Option<Vec<usize>>,
    /// rsLoRA scaling `alpha / √r`.
    pub use_rslora: bool,
}

/// PEFT 0.21 `check_target_module_exists` for a list of targets: `key == t` or
/// `key.ends_with("." + t)`.
pub(crate) fn peft_suffix_match(key: &str, target: &str) -> bool {
    key == target
        || (key.len() > target.len()
            && key.ends_with(target)
            && key.as_bytes()[key.len() - target.len() - 1] == b'.')
}

impl LoraConfig {
    /// Rank `r`, `alpha`, and exactly `modules` in every layer.
    pub fn new(r: usize, alpha: f64, modules: &[LoraModule]) -> Self {
        LoraConfig {
            r,
            alpha,
            targets: LoraTargets::Modules(modules.to_vec()),
            layers_to_transform: None,
            use_rslora: false,
        }
    }

    /// The LoRA scale `s`.
    pub fn scale(&self) -> f64 {
        if self.use_rslora {
            self.alpha / (self.r as f64).sqrt()
        } else {
            self.alpha / self.r as f64
        }
    }

    /// Resolves the targets to the adapted sites of an encoder with `num_layers` layers, whose
    /// module keys carry `prefix` (`bert`, `roberta` or empty). Sorted by layer, then module.
    ///
    /// Errors (all [`CoreError::Adapter`]): `r = 0`, non-finite `alpha`, a layer index out of
    /// range, a PEFT target that would adapt the pooler, or targets that match nothing.
    pub fn resolve(&self, num_layers: usize, prefix: &str) -> Result<Vec<LoraSite>, CoreError> {
        if self.r == 0 {
            return Err(CoreError::adapter("r", "the rank must be at least 1"));
        }
        if !self.alpha.is_finite() {
            return Err(CoreError::adapter(
                "lora_alpha",
                format!("expected a finite number, got {}", self.alpha),
            ));
        }
        if let Some(layers) = &self.layers_to_transform {
            if let Some(&bad) = layers.iter().find(|&&l| l >= num_layers) {
                return Err(CoreError::adapter(
                    "layers_to_transform",
                    format!("layer {bad} does not exist; the model has layers 0..{num_layers}"),
                ));
            }
        }
        let layer_ok = |l: usize| {
            self.layers_to_transform
                .as_ref()
                .is_none_or(|ls| ls.contains(&l))
        };
        let all_sites = (0..num_layers).flat_map(|layer| {
            LoraModule::ALL
                .into_iter()
                .map(move |module| LoraSite { layer, module })
        });
        let mut sites: Vec<LoraSite> = match &self.targets {
            LoraTargets::Modules(modules) => all_sites
                .filter(|s| layer_ok(s.layer) && modules.contains(&s.module))
                .collect(),
            LoraTargets::Peft(targets) => {
                if self.layers_to_transform.is_none() {
                    let pooler = if prefix.is_empty() {
                        "pooler.dense".to_string()
                    } else {
                        format!("{prefix}.pooler.dense")
                    };
                    if let Some(t) = targets.iter().find(|t| peft_suffix_match(&pooler, t)) {
                        return Err(CoreError::adapter(
                            "target_modules",
                            format!(
                                "`{t}` also matches `{pooler}`; LoRA on the pooler is not \
                                 supported (use `attention.output.dense`, `intermediate.dense` \
                                 or `output.dense`)"
                            ),
                        ));
                    }
                }
                all_sites
                    .filter(|s| {
                        let key = s.module_key(prefix);
                        layer_ok(s.layer) && targets.iter().any(|t| peft_suffix_match(&key, t))
                    })
                    .collect()
            }
        };
        sites.sort();
        sites.dedup();
        if sites.is_empty() {
            let what = match &self.targets {
                LoraTargets::Modules(m) => format!("{m:?}"),
                LoraTargets::Peft(t) => format!("{t:?}"),
            };
            return Err(CoreError::adapter(
                "target_modules",
                format!(
                    "{what} (layers {:?}) match no linear layer of the encoder; adaptable \
                     modules are query, key, value, attention.output.dense, \
                     intermediate.dense, output.dense",
                    self.layers_to_transform
                ),
            ));
        }
        Ok(sites)
    }

    /// PEFT `target_modules` strings that select exactly the sites [`LoraConfig::resolve`]
    /// gives (used when exporting an adapter). For [`LoraTargets::Modules`], `output` without
    /// `attn_out` is written as per-layer keys `encoder.layer.<i>.output.dense`, because the
    /// suffix `output.dense` would also select `attention.output.dense`.
    pub fn peft_target_modules(&self, num_layers: usize) -> Vec<String> {
        match &self.targets {
            LoraTargets::Peft(t) => t.clone(),
            LoraTargets::Modules(modules) => {
                let mut out = Vec::new();
                for &m in &LoraModule::ALL {
                    if !modules.contains(&m) {
                        continue;
                    }
                    if m == LoraModule::Output && !modules.contains(&LoraModule::AttnOut) {
                        for layer in 0..num_layers {
                            out.push(
                                LoraSite {
                                    layer,
                                    module: LoraModule::Output,
                                }
                                .encoder_key(),
                            );
                        }
                    } else {
                        out.push(m.peft_target().to_string());
                    }
                }
                out
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use LoraModule::*;

    fn peft(targets: &[&str]) -> LoraConfig {
        LoraConfig {
            r: 4,
            alpha: 8.0,
            targets: LoraTargets::Peft(targets.iter().map(|s| s.to_string()).collect()),
            layers_to_transform: None,
            use_rslora: false,
        }
    }

    fn modules(sites: &[LoraSite]) -> Vec<(usize, LoraModule)> {
        sites.iter().map(|s| (s.layer, s.module)).collect()
    }

    #[test]
    fn suffix_rule_is_peft_s() {
        assert!(peft_suffix_match(
            "bert.encoder.layer.0.attention.self.query",
            "query"
        ));
        assert!(peft_suffix_match("a.output.dense", "output.dense"));
        assert!(peft_suffix_match(
            "a.attention.output.dense",
            "output.dense"
        ));
        assert!(!peft_suffix_match("a.queryx", "query"));
        assert!(!peft_suffix_match("a.xquery", "query"));
        assert!(peft_suffix_match("query", "query"));
    }

    #[test]
    fn qv_and_layers_to_transform() {
        let mut c = peft(&["query", "value"]);
        assert_eq!(c.scale(), 2.0);
        let s = c.resolve(2, "bert").unwrap();
        assert_eq!(
            modules(&s),
            [(0, Query), (0, Value), (1, Query), (1, Value)]
        );
        c.layers_to_transform = Some(vec![1]);
        assert_eq!(
            modules(&c.resolve(2, "bert").unwrap()),
            [(1, Query), (1, Value)]
        );
        c.layers_to_transform = Some(vec![2]);
        let e = c.resolve(2, "bert").unwrap_err();
        assert!(matches!(&e, CoreError::Adapter { field, .. } if field == "layers_to_transform"));
    }

    #[test]
    fn output_dense_also_hits_attention_output_dense() {
        let s = peft(&["output.dense"]).resolve(1, "roberta").unwrap();
        assert_eq!(modules(&s), [(0, AttnOut), (0, Output)]);
        // Exact module targets do not, and export keeps them exact.
        let c = LoraConfig::new(4, 8.0, &[Output]);
        assert_eq!(
            modules(&c.resolve(2, "bert").unwrap()),
            [(0, Output), (1, Output)]
        );
        let exported = peft(&[]);
        let exported = LoraConfig {
            targets: LoraTargets::Peft(c.peft_target_modules(2)),
            ..exported
        };
        assert_eq!(
            exported.resolve(2, "bert").unwrap(),
            c.resolve(2, "bert").unwrap()
        );
    }

    #[test]
    fn bare_dense_hitting_the_pooler_and_unknown_targets_are_errors() {
        let e = peft(&["dense"]).resolve(2, "bert").unwrap_err();
        assert!(e.to_string().contains("pooler"), "{e}");
        let e = peft(&["qkv_proj"]).resolve(2, "bert").unwrap_err();
        assert!(matches!(&e, CoreError::Adapter { field, .. } if field == "target_modules"));
        // With layers_to_transform, PEFT skips keys without a layer index (the pooler).
        let mut c = peft(&["dense"]);
        c.layers_to_transform = Some(vec![0]);
        assert_eq!(
            modules(&c.resolve(2, "bert").unwrap()),
            [(0, AttnOut), (0, Intermediate), (0, Output)]
        );
        let mut zero = peft(&["query"]);
        zero.r = 0;
        assert!(zero.resolve(2, "").is_err());
    }

    #[test]
    fn export_round_trip_for_every_module_subset() {
        for mask in 1u32..64 {
            let ms: Vec<LoraModule> = LoraModule::ALL
                .into_iter()
                .enumerate()
                .filter(|(i, _)| mask & (1 << i) != 0)
                .map(|(_, m)| m)
                .collect();
            let c = LoraConfig::new(2, 4.0, &ms);
            let back = LoraConfig {
                targets: LoraTargets::Peft(c.peft_target_modules(3)),
                ..c.clone()
            };
            assert_eq!(
                back.resolve(3, "roberta").unwrap(),
                c.resolve(3, "roberta").unwrap()
            );
        }
    }
}
