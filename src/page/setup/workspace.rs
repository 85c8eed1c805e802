//! The workspace section: the chosen kernel blocks (`blocks`), where the worker computes
//! (`backend`) and the pinned NTK's settings (`pin`).

use ntk_lens_core::options::BackendChoice;
use serde::{Deserialize, Serialize};

use super::query::{is_block_name, list, option};
use super::{Section, Setup};

/// What the person chose to look at and where it computes.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct WorkspaceSection {
    /// Chosen kernel blocks, e.g. `block.1.value`.
    pub blocks: Vec<String>,
    /// Where the worker computes: auto (a hardware GPU that agrees with the CPU), WebGPU or
    /// the CPU.
    pub backend: BackendChoice,
    /// The pinned NTK's setup, as [`Setup::ntk_query`] writes it (compared with the current
    /// NTK in the NTK tab); `None`: nothing pinned.
    pub pin: Option<String>,
}

impl Section for WorkspaceSection {
    const KEYS: &'static [&'static str] = &["blocks", "backend", "pin"];
    const OMIT_EMPTY: &'static [&'static str] = &["blocks", "pin"];

    fn set(&mut self, key: &str, v: &str) -> Result<(), String> {
        match key {
            "blocks" => match list(v, |s| is_block_name(s).then(|| s.to_string())) {
                Some(b) => self.blocks = b,
                None => {
                    return Err(
                        "expected block names such as block.1.value, comma-separated".into(),
                    )
                }
            },
            "backend" => self.backend = option(v)?,
            _ if v.is_empty() => self.pin = None,
            _ => match Setup::from_query(v) {
                (pinned, warnings) if warnings.is_empty() => self.pin = Some(pinned.ntk_query()),
                _ => {
                    return Err("expected the pinned NTK's settings (model=…&n=…&targets=…)".into())
                }
            },
        }
        Ok(())
    }

    fn pairs(&self) -> Vec<(&'static str, String)> {
        vec![
            ("blocks", self.blocks.join(",")),
            ("backend", self.backend.to_string()),
            ("pin", self.pin.clone().unwrap_or_default()),
        ]
    }
}
