//! `ntk-lens info`: architecture and parameter counts of a model, optionally with LoRA.

use std::path::PathBuf;

use clap::Args;
use ntk_lens_core::device::cpu_device;
use ntk_lens_core::model::{Family, HeadKind, ParameterCounts};

/// Parameter counts as `info` writes them.
#[derive(Debug, Serialize)]
pub struct Parameters {
    /// Everything: encoder, head and LoRA.
    pub total: usize,
    /// The pretrained encoder (embeddings, layers, pooler).
    pub encoder: usize,
    /// The classification head.
    pub head: usize,
    /// The LoRA adapters (the trainable part).
    pub lora: usize,
    /// The encoder by part.
    pub by_part: ParameterCounts,
}

use serde::Serialize;

use crate::args::{LoraArgs, ModelArgs};
use crate::error::Failure;
use crate::load;
use crate::output::write_json;

/// Flags of `info`.
#[derive(Debug, Args)]
pub struct InfoArgs {
    #[command(flatten)]
    model: ModelArgs,
    #[command(flatten)]
    lora: LoraArgs,
    /// Write the JSON result here instead of stdout.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

/// The classification head of the checkpoint.
#[derive(Debug, Serialize)]
pub struct HeadInfo {
    /// `bert` (linear on the pooler), `roberta` (dense, tanh, out_proj) or `mean_pool_linear`.
    pub kind: HeadKind,
    /// Number of classes.
    pub classes: usize,
}

/// The LoRA adapters the flags attach.
#[derive(Debug, Serialize)]
pub struct LoraInfo {
    /// Rank.
    pub r: usize,
    /// lora_alpha.
    pub alpha: f64,
    /// alpha / r.
    pub scale: f64,
    /// Adapted sites, `block.<layer>.<module>`.
    pub sites: Vec<String>,
}

/// What `info` prints.
#[derive(Debug, Serialize)]
pub struct InfoReport {
    /// The model directory as given.
    pub model: String,
    /// `bert` or `roberta`.
    pub family: Family,
    /// config.json `architectures`.
    pub architectures: Vec<String>,
    /// Transformer layers.
    pub layers: usize,
    /// Hidden width.
    pub hidden: usize,
    /// Attention heads per layer.
    pub heads: usize,
    /// hidden / heads.
    pub head_dim: usize,
    /// Feed-forward width.
    pub intermediate: usize,
    /// Vocabulary size (rows of the word embedding).
    pub vocab: usize,
    /// Longest input in tokens the position table allows.
    pub max_sequence_length: usize,
    /// Whether the checkpoint has a pooler (`pooler.dense`).
    pub pooler: bool,
    /// The checkpoint's classification head, if any.
    pub head: Option<HeadInfo>,
    /// Parameter counts; `lora` is the trainable LoRA count.
    pub parameters: Parameters,
    /// The adapters counted in `parameters.lora`, when `--rank` is given.
    pub lora: Option<LoraInfo>,
}

/// Loads the model (and LoRA from the flags) and writes its [`InfoReport`].
pub fn run(args: InfoArgs) -> Result<(), Failure> {
    let dir = &args.model.model;
    let mut model = load::model(dir, &cpu_device())?;
    let sites = load::lora(&mut model, &args.lora, 0)?;
    let c = &model.config;
    let lora = match (sites, &model.lora_config) {
        (Some(sites), Some(cfg)) => Some(LoraInfo {
            r: cfg.r,
            alpha: cfg.alpha,
            scale: cfg.scale(),
            sites: sites.iter().map(|s| s.block_name()).collect(),
        }),
        _ => None,
    };
    let report = InfoReport {
        model: dir.display().to_string(),
        family: c.family,
        architectures: c.architectures.clone(),
        layers: c.num_hidden_layers,
        hidden: c.hidden_size,
        heads: c.num_attention_heads,
        head_dim: c.head_dim(),
        intermediate: c.intermediate_size,
        vocab: c.vocab_size,
        max_sequence_length: c.max_sequence_length(),
        pooler: model.encoder.pooler.is_some(),
        head: model.head.as_ref().map(|h| HeadInfo {
            kind: h.kind(),
            classes: h.num_classes(),
        }),
        parameters: {
            let p = model.parameter_counts();
            Parameters {
                total: p.total(),
                encoder: p.base(),
                head: p.head,
                lora: p.lora,
                by_part: p,
            }
        },
        lora,
    };
    write_json(&report, args.out.as_deref())
}
