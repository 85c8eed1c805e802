//! The kernel section: plain or sign kernel (`kernel`), full or class-trace layout (`layout`)
//! and the parameters differentiated (`params`). [`KernelSection::options`] is the core's
//! [`NtkOptions`] (the layout is the report's, not the builder's).

use ntk_lens_core::ntk::NtkOptions;
use ntk_lens_core::options::{KernelKind, Layout, ParamSet};
use serde::{Deserialize, Serialize};

use super::query::option;
use super::Section;

/// Which kernel the NTK computes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct KernelSection {
    /// Plain or sign kernel.
    pub kind: KernelKind,
    /// Full or class-trace layout.
    pub layout: Layout,
    /// LoRA only, or LoRA and head.
    pub params: ParamSet,
}

impl Default for KernelSection {
    fn default() -> Self {
        KernelSection {
            kind: KernelKind::Plain,
            layout: Layout::Full,
            params: ParamSet::Lora,
        }
    }
}

impl KernelSection {
    /// The builder's options, with `chunk_size` samples per pass.
    pub fn options(&self, chunk_size: usize) -> NtkOptions {
        NtkOptions {
            params: self.params,
            kernel: self.kind,
            chunk_size,
            blocks: None,
        }
    }
}

impl Section for KernelSection {
    const KEYS: &'static [&'static str] = &["kernel", "layout", "params"];

    fn set(&mut self, key: &str, v: &str) -> Result<(), String> {
        match key {
            "kernel" => self.kind = option(v)?,
            "layout" => self.layout = option(v)?,
            _ => self.params = option(v)?,
        }
        Ok(())
    }

    fn pairs(&self) -> Vec<(&'static str, String)> {
        vec![
            ("kernel", self.kind.to_string()),
            ("layout", self.layout.to_string()),
            ("params", self.params.to_string()),
        ]
    }
}
