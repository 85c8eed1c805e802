//! The model job: gets the model's three files (served with the page, from a hub, or dropped),
//! builds the model and its tokenizer from them, checks that they fit together, and makes the
//! model the session's.

use ntk_lens_core::burn::prelude::Device;
use ntk_lens_core::model::weights::WeightFile;
use ntk_lens_core::model::{HeadKind, Model, ModelConfig};
use ntk_lens_core::tokenize::TextTokenizer;

use super::download::{fetch_model, ModelFiles, Progress, Weights};
use super::hub::fetch_from_hub;
use crate::protocol::loading::{ModelJob, ModelSource, ModelSummary, MINILM_BASE, WEIGHT_FILES};
use crate::protocol::{JobResult, Response};
use crate::worker::backend;
use crate::worker::error::WorkerError;
use crate::worker::fetch::{FetchError, FetchOptions};
use crate::worker::reporter::{now_ms, post, Reporter};
use crate::worker::session::{self, LoadedModel};

/// The model job: loads the model into the session, posting the bytes downloaded; cancellable
/// between chunks of the download.
pub async fn load_model_job(
    reporter: Reporter,
    job: ModelJob,
    attachments: Vec<Vec<u8>>,
) -> Result<Option<JobResult>, WorkerError> {
    let mut last_post = 0.0;
    let mut progress = |done: usize, total: usize, file: &str| {
        if now_ms() - last_post > 100.0 || done == total {
            last_post = now_ms();
            post(&Response::Progress {
                id: reporter.id(),
                done,
                total,
                message: format!(
                    "downloading {file}: {:.1} of {:.1} MB",
                    done as f64 / 1e6,
                    total as f64 / 1e6
                ),
                loss: None,
            });
        }
        !reporter.cancelled()
    };
    match load_model(job, attachments, &backend::device(), &mut progress).await? {
        Some(summary) => Ok(Some(JobResult::Model(Box::new(summary)))),
        None => {
            post(&Response::Cancelled {
                id: reporter.id(),
                done: 0,
            });
            Ok(None)
        }
    }
}

/// Loads the model of `job` into the session (the previous one stays on any error).
/// `progress(done, total, file)` reports bytes and returns `false` to cancel; `Ok(None)` means
/// cancelled.
pub async fn load_model(
    job: ModelJob,
    attachments: Vec<Vec<u8>>,
    device: &Device,
    progress: &mut Progress<'_>,
) -> Result<Option<ModelSummary>, WorkerError> {
    let Some(files) = model_files(&job, attachments, progress).await? else {
        return Ok(None);
    };
    let loaded = build(files, job.max_len, device)?;
    let summary = loaded.summary.clone();
    session::set_model(loaded);
    Ok(Some(summary))
}

/// The files of `job`'s model: downloaded (the bundled MiniLM, or from a hub) or the three
/// attachments. `Ok(None)` when cancelled.
async fn model_files(
    job: &ModelJob,
    attachments: Vec<Vec<u8>>,
    progress: &mut Progress<'_>,
) -> Result<Option<ModelFiles>, WorkerError> {
    match &job.source {
        ModelSource::Bundled => {
            let fetched = fetch_model(
                "all-MiniLM-L6-v2",
                MINILM_BASE,
                &WEIGHT_FILES,
                FetchOptions::default(),
                // config, fp16 weights and tokenizer, about.
                46_000_000,
                progress,
            )
            .await;
            match fetched {
                Ok(files) => Ok(Some(files)),
                Err(FetchError::Cancelled) => Ok(None),
                Err(e) => Err(e.into()),
            }
        }
        ModelSource::Hub { endpoint, model } => {
            fetch_from_hub(endpoint, model, job.expected_bytes.unwrap_or(0), progress).await
        }
        ModelSource::Dropped { names } => dropped_files(names, attachments).map(Some),
    }
}

/// The dropped files: config.json, the weights and tokenizer.json, in that order.
fn dropped_files(names: &[String], attachments: Vec<Vec<u8>>) -> Result<ModelFiles, WorkerError> {
    let mut it = attachments.into_iter();
    match (it.next(), it.next(), it.next()) {
        (Some(config), Some(weights), Some(tokenizer)) => Ok(ModelFiles {
            name: "dropped model".into(),
            origin: format!("dropped files: {}", names.join(", ")),
            config,
            weights_bytes: weights.len(),
            weights: Weights::Bytes(weights),
            weights_file: names.get(1).cloned().unwrap_or_default(),
            tokenizer,
        }),
        _ => Err(WorkerError::File(
            "expected three files: config.json, a .safetensors file, tokenizer.json".into(),
        )),
    }
}

/// The model and its tokenizer (truncating to `max_len`, or to the model's position table when
/// that is shorter) built from `files`, checked to fit together. Errors name the file they are
/// about: config.json, the weights or the tokenizer.
fn build(files: ModelFiles, max_len: usize, device: &Device) -> Result<LoadedModel, WorkerError> {
    let config = ModelConfig::from_bytes(&files.config)
        .map_err(|e| WorkerError::File(format!("config.json: {e}")))?;
    let model = build_model(config, &files.weights, &files.weights_file, device)?;
    let tokenizer = TextTokenizer::from_bytes(
        &files.tokenizer,
        "tokenizer.json",
        model.config.pad_token_id,
        // A small model's position table may hold fewer tokens than the setup asks for.
        max_len.min(model.config.max_sequence_length()),
    )?;
    tokenizer
        .check_fits(model.config.vocab_size)
        .map_err(|e| WorkerError::File(e.to_string()))?;
    let summary = summarise(files, &model, &tokenizer);
    Ok(LoadedModel {
        model,
        tokenizer,
        summary,
        adapter: None,
    })
}

/// The model of `config` with `weights` (parsed here when they are a whole file).
fn build_model(
    config: ModelConfig,
    weights: &Weights,
    weights_file: &str,
    device: &Device,
) -> Result<Model, WorkerError> {
    match weights {
        Weights::Bytes(bytes) => WeightFile::parse(weights_file, bytes)
            .and_then(|file| Model::from_weights(config, &file, device)),
        Weights::Decoded(file) => Model::from_weights(config, file, device),
    }
    .map_err(|e| WorkerError::File(format!("{weights_file}: {e}")))
}

/// What the Model tab is told of `model`, loaded from `files` with `tokenizer`.
fn summarise(files: ModelFiles, model: &Model, tokenizer: &TextTokenizer) -> ModelSummary {
    ModelSummary {
        name: files.name,
        weights_file: files.weights_file,
        bytes: files.config.len() + files.weights_bytes + files.tokenizer.len(),
        config: model.config.clone(),
        counts: model.parameter_counts(),
        head_kind: model
            .head
            .as_ref()
            .map(|h| h.kind())
            .unwrap_or_else(|| HeadKind::default_for(model.config.family)),
        own_head: model.head.is_some(),
        tokenizer_vocab: tokenizer.vocab_size(),
        origin: files.origin,
    }
}
