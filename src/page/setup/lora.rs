//! The LoRA section: rank (`r`), `alpha`, the adapted modules (`targets`) and layers
//! (`layers`), and the seed of `A`'s initialisation (`lora_seed`). [`LoraSection::setup`] is
//! the core's [`LoraSetup`] (which can also hold PEFT target strings, never in the address).

use ntk_lens_core::experiment::LoraSetup;
use ntk_lens_core::lora::{LoraConfig, LoraModule};
use serde::{Deserialize, Serialize};

use super::query::{in_range, join, list, positive_f64, whole};
use super::Section;

/// Largest LoRA rank offered.
pub const MAX_RANK: usize = 256;

/// The fresh LoRA adapters of the page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LoraSection {
    /// LoRA rank.
    pub r: usize,
    /// LoRA alpha (scale alpha / r).
    pub alpha: f64,
    /// Adapted modules.
    pub targets: Vec<LoraModule>,
    /// Adapted layers; `None` = all.
    pub layers: Option<Vec<usize>>,
    /// Seed of the LoRA `A` init and the new head.
    pub seed: u64,
}

impl Default for LoraSection {
    fn default() -> Self {
        LoraSection {
            r: 8,
            alpha: 8.0,
            targets: vec![LoraModule::Query, LoraModule::Value],
            layers: None,
            seed: 0,
        }
    }
}

impl LoraSection {
    /// The LoRA configuration of this section.
    pub fn config(&self) -> LoraConfig {
        let mut c = LoraConfig::new(self.r, self.alpha, &self.targets);
        c.layers_to_transform = self.layers.clone();
        c
    }

    /// The adapters to attach, as the protocol carries them.
    pub fn setup(&self) -> LoraSetup {
        LoraSetup {
            config: self.config(),
            seed: self.seed,
        }
    }
}

impl Section for LoraSection {
    const KEYS: &'static [&'static str] = &["r", "alpha", "targets", "layers", "lora_seed"];

    fn set(&mut self, key: &str, v: &str) -> Result<(), String> {
        match key {
            "r" => self.r = in_range(v, 1, MAX_RANK)?,
            "alpha" => self.alpha = positive_f64(v).ok_or("expected a positive number")?,
            "targets" => {
                match list(v, LoraModule::parse) {
                    Some(mut t) if !t.is_empty() => {
                        t.sort();
                        t.dedup();
                        self.targets = t;
                    }
                    _ => return Err(
                        "expected module names from query,key,value,attn_out,intermediate,output"
                            .into(),
                    ),
                }
            }
            "layers" => match v {
                "all" => self.layers = None,
                _ => match list(v, |s| s.parse::<usize>().ok()) {
                    Some(mut l) if !l.is_empty() => {
                        l.sort_unstable();
                        l.dedup();
                        self.layers = Some(l);
                    }
                    _ => return Err("expected all, or layer numbers such as 0,1,5".into()),
                },
            },
            _ => self.seed = whole(v)?,
        }
        Ok(())
    }

    fn pairs(&self) -> Vec<(&'static str, String)> {
        let targets: Vec<&str> = self.targets.iter().map(|m| m.short_name()).collect();
        vec![
            ("r", self.r.to_string()),
            ("alpha", self.alpha.to_string()),
            ("targets", targets.join(",")),
            (
                "layers",
                self.layers.as_ref().map_or("all".to_string(), |l| join(l)),
            ),
            ("lora_seed", self.seed.to_string()),
        ]
    }
}
