//! `ntk-lens logits`: the classification logits of every text of a file, each text run alone.

use std::path::PathBuf;

use clap::Args;
use ntk_lens_core::data::TextColumns;
use ntk_lens_core::device::cpu_device;
use ntk_lens_core::model::TokenBatch;
use ntk_lens_core::readback::read_f32;
use ntk_lens_core::{block_on, CoreError};
use serde::Serialize;

use crate::args::{ModelArgs, TokenArgs};
use crate::error::Failure;
use crate::load;
use crate::output::write_json;

/// Flags of `logits`.
#[derive(Debug, Args)]
pub struct LogitsArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// A PEFT LoRA adapter directory (adapter_config.json, adapter_model.safetensors) to apply;
    /// a head stored in it (task SEQ_CLS) replaces the model's.
    #[arg(long, value_name = "DIR")]
    adapter: Option<PathBuf>,
    /// The texts: JSONL (one object per line with a `text` field), JSON (an array of such
    /// objects), CSV or TSV with a `text` column (also `sentence`, `review`, `content`; a
    /// `text`/`text_pair` or `sentence1`/`sentence2` pair of columns gives sentence pairs).
    /// Other columns, labels included, are ignored.
    #[arg(long, value_name = "FILE")]
    data: PathBuf,
    /// The text column (default: guessed, as above); a chosen column is read as it is, even
    /// when its values are numbers.
    #[arg(long, value_name = "NAME")]
    text_col: Option<String>,
    /// The second text column of sentence pairs.
    #[arg(long, value_name = "NAME", requires = "text_col")]
    pair_col: Option<String>,
    /// Accepted so that the column flags of `ntk` and `sweep` work here too; `logits` reads no
    /// labels.
    #[arg(long, value_name = "NAME", requires = "text_col")]
    label_col: Option<String>,
    #[command(flatten)]
    tokens: TokenArgs,
    /// Write the JSON result here instead of stdout.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

/// What `logits` writes: one row of `C` logits per text, in file order.
#[derive(Debug, Serialize)]
pub struct LogitsReport {
    /// `[n][C]` logits.
    pub logits: Vec<Vec<f32>>,
}

/// Runs every text of the data file alone (batch of one, no padding) through the model.
///
/// A model without a classification head (a bare encoder such as all-MiniLM-L6-v2, and no
/// SEQ_CLS adapter that brings one) is an input error: there are no logits to write.
pub fn run(args: LogitsArgs) -> Result<(), Failure> {
    let dir = &args.model.model;
    let device = cpu_device();
    let mut model = load::model(dir, &device)?;
    if let Some(adapter) = &args.adapter {
        load::adapter(&mut model, adapter)?;
    }
    if model.head.is_none() {
        return Err(Failure::file(
            dir,
            "the model has no classification head (no classifier.* tensors), so it has no \
             logits; use a …ForSequenceClassification checkpoint or an adapter with a head",
        ));
    }
    let tokenizer = load::tokenizer(dir, &model.config, args.tokens.max_len)?;
    let chosen = args.text_col.as_ref().map(|text| TextColumns {
        text: text.clone(),
        pair: args.pair_col.clone(),
    });
    let texts = load::texts(&args.data, chosen.as_ref())?;
    let data = args.data.display();
    let mut logits = Vec::with_capacity(texts.len());
    for (i, text) in texts.texts.iter().enumerate() {
        let row = || format!("{data}, row {}", i + 1);
        let pair = texts.text_pairs.as_ref().map(|p| p[i].as_str());
        let batch = match pair {
            Some(p) => TokenBatch::from_texts(&tokenizer, &[text.as_str()], Some(&[p])),
            None => TokenBatch::from_texts(&tokenizer, &[text.as_str()], None),
        }
        .map_err(|e| Failure::input(row(), e))?;
        let out = model.infer(&batch).map_err(|e| match e {
            CoreError::InvalidInput { .. } => Failure::input(row(), e),
            other => Failure::Compute(format!("{}: {other}", row())),
        })?;
        let Some(l) = out.logits else {
            return Err(Failure::Compute(format!(
                "{}: the head gave no logits",
                row()
            )));
        };
        logits.push(block_on(read_f32(l))?);
    }
    write_json(&LogitsReport { logits }, args.out.as_deref())
}
