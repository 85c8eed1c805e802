//! Flag groups shared by several subcommands (`#[command(flatten)]` them).

use std::path::PathBuf;

use clap::builder::RangedU64ValueParser;
use clap::Args;
use ntk_lens_core::lora::{LoraConfig, LoraModule, LoraTargets};
use ntk_lens_core::tokenize::{DEFAULT_MAX_LEN, MAX_LEN_LIMIT};

/// The model directory.
#[derive(Debug, Clone, Args)]
pub struct ModelArgs {
    /// Model directory: config.json, model.safetensors (fp32, fp16 or bf16) and, for commands
    /// that read text, tokenizer.json (Hugging Face BERT or RoBERTa family).
    #[arg(long, value_name = "DIR")]
    pub model: PathBuf,
}

/// Tokenization options.
#[derive(Debug, Clone, Args)]
pub struct TokenArgs {
    /// Truncate every text to at most N tokens, special tokens included (also capped at the
    /// model's position limit).
    #[arg(
        long,
        value_name = "N",
        default_value_t = DEFAULT_MAX_LEN,
        value_parser = RangedU64ValueParser::<usize>::new().range(3..=MAX_LEN_LIMIT as u64)
    )]
    pub max_len: usize,
}

/// One `--targets` entry: a module, or `all` six.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetArg {
    /// Every adaptable module.
    All,
    /// One module.
    Module(LoraModule),
}

fn parse_target(s: &str) -> Result<TargetArg, String> {
    let s = s.trim();
    if s.eq_ignore_ascii_case("all") {
        return Ok(TargetArg::All);
    }
    LoraModule::parse(s).map(TargetArg::Module).ok_or_else(|| {
        format!(
            "`{s}` is not a module; expected all, query, key, value, attn_out, intermediate, \
             output (or an HF path such as attention.output.dense)"
        )
    })
}

/// LoRA adapters to attach (PEFT semantics: `A` Kaiming-uniform, `B = 0`, scale alpha / r).
/// No adapters unless `--rank` is given.
#[derive(Debug, Clone, Default, Args)]
pub struct LoraArgs {
    /// LoRA rank r (≥ 1); giving it attaches adapters.
    #[arg(
        long,
        value_name = "R",
        value_parser = RangedU64ValueParser::<usize>::new().range(1..=65_536)
    )]
    pub rank: Option<usize>,
    /// lora_alpha; the scale is alpha / r [default: 8, PEFT's default].
    #[arg(long, value_name = "ALPHA", requires = "rank")]
    pub alpha: Option<f64>,
    /// Modules to adapt, comma-separated: query, key, value, attn_out, intermediate, output
    /// (or HF paths such as attention.output.dense), or all [default: query,value].
    #[arg(
        long,
        value_name = "LIST",
        value_delimiter = ',',
        requires = "rank",
        value_parser = parse_target
    )]
    pub targets: Vec<TargetArg>,
    /// Only these layers (0-based, comma-separated) [default: every layer].
    #[arg(long, value_name = "LIST", value_delimiter = ',', requires = "rank")]
    pub layers: Option<Vec<usize>>,
}

/// PEFT's default `lora_alpha`.
pub const DEFAULT_ALPHA: f64 = 8.0;

impl LoraArgs {
    /// The LoRA configuration the flags describe, or `None` without `--rank`. Range checks
    /// against the model (layers that exist) happen when it is applied.
    pub fn config(&self) -> Option<LoraConfig> {
        let r = self.rank?;
        let mut modules: Vec<LoraModule> = Vec::new();
        for t in &self.targets {
            match t {
                TargetArg::All => modules.extend(LoraModule::ALL),
                TargetArg::Module(m) => modules.push(*m),
            }
        }
        if modules.is_empty() {
            modules = vec![LoraModule::Query, LoraModule::Value];
        }
        modules.sort();
        modules.dedup();
        Some(LoraConfig {
            r,
            alpha: self.alpha.unwrap_or(DEFAULT_ALPHA),
            targets: LoraTargets::Modules(modules),
            layers_to_transform: self.layers.clone(),
            use_rslora: false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct T {
        #[command(flatten)]
        lora: LoraArgs,
    }

    fn parse(args: &[&str]) -> Result<Option<LoraConfig>, clap::Error> {
        let mut all = vec!["t"];
        all.extend_from_slice(args);
        T::try_parse_from(all).map(|t| t.lora.config())
    }

    #[test]
    fn lora_flags_build_the_config() {
        assert_eq!(parse(&[]).unwrap(), None);
        let c = parse(&["--rank", "4"]).unwrap().unwrap();
        assert_eq!(
            c,
            LoraConfig::new(4, 8.0, &[LoraModule::Query, LoraModule::Value])
        );
        let c = parse(&[
            "--rank",
            "2",
            "--alpha",
            "16",
            "--targets",
            "value,attention.output.dense,query,value",
            "--layers",
            "1,0",
        ])
        .unwrap()
        .unwrap();
        assert_eq!(c.scale(), 8.0);
        assert_eq!(
            c.targets,
            LoraTargets::Modules(vec![
                LoraModule::Query,
                LoraModule::Value,
                LoraModule::AttnOut
            ])
        );
        assert_eq!(c.layers_to_transform, Some(vec![1, 0]));
        let all = parse(&["--rank", "1", "--targets", "all"])
            .unwrap()
            .unwrap();
        assert_eq!(all.targets, LoraTargets::Modules(LoraModule::ALL.to_vec()));
    }

    #[test]
    fn bad_lora_flags_are_usage_errors() {
        for bad in [
            &["--alpha", "8"][..],
            &["--rank", "0"][..],
            &["--rank", "4", "--targets", "qkv"][..],
            &["--rank", "4", "--layers", "x"][..],
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }
}
