//! The compute worker's session: the loaded model and tokenizer, the last table read and the
//! active dataset, and the last NTK, kept across jobs. A failed load leaves what was there
//! before.

use std::cell::RefCell;

use ntk_lens_core::burn::prelude::Device;
use ntk_lens_core::data::{dataset_name, guess_columns, read_table, Dataset, Table};
use ntk_lens_core::experiment::Prepared;
use ntk_lens_core::model::{HeadKind, Model};
use ntk_lens_core::ntk::{NtkBlocks, NtkBuilder};
use ntk_lens_core::tokenize::TextTokenizer;

use super::error::WorkerError;
use super::fetch::{fetch_bytes, FetchError, FetchOptions};
use super::reporter::{now_ms, post, Reporter};
use crate::protocol::loading::{
    DataJob, DataReport, DataSource, DatasetSummary, ModelJob, ModelSource, ModelSummary,
    TableSummary, MINILM_BASE, WEIGHT_FILES,
};
use crate::protocol::{JobResult, Response};

/// A model ready for analyses.
pub struct LoadedModel {
    /// The encoder (no head unless the checkpoint had one; analyses add
    /// [`HeadKind::default_for`] with the dataset's classes).
    pub model: Model,
    /// Its tokenizer, truncating to the setup's max length.
    pub tokenizer: TextTokenizer,
    /// What the page was told about it.
    pub summary: ModelSummary,
}

/// Everything the worker keeps between jobs.
#[derive(Default)]
pub struct Session {
    /// The model, once one loaded.
    pub model: Option<LoadedModel>,
    /// The table read last (its columns may not have given a dataset yet).
    pub table: Option<Table>,
    /// The active dataset.
    pub dataset: Option<Dataset>,
    /// The name of the active dataset's source (bundled id, or file stem).
    pub table_name: String,
    /// The models fine-tuned by the last sweep, with their λ.
    pub trained: Vec<(f64, Model)>,
    /// The last NTK: its model and samples, its blocks, and the builder that still has the
    /// eval samples' kernels to compute.
    pub analysis: Option<Analysis>,
}

/// The last NTK computed, for the jobs that build on it.
pub struct Analysis {
    /// The model (head and LoRA attached) and the train and eval samples.
    pub prepared: Prepared,
    /// The blocks: over the train samples, with the cross kernels once the eval kernel is in.
    pub blocks: NtkBlocks,
    /// The builder, while the eval kernel is still to compute.
    pub pending: Option<NtkBuilder>,
}

thread_local! {
    /// The worker's one session.
    pub static SESSION: RefCell<Session> = RefCell::new(Session::default());
}

/// The Cache Storage cache of hub downloads.
pub const HUB_CACHE: &str = "ntk-lens-models-v1";

/// Reads the dataset of `job` (fetching a bundled file, or from the attached bytes), builds it
/// from the chosen or guessed columns, and makes it active when that works.
pub async fn load_dataset(
    job: DataJob,
    attachment: Option<Vec<u8>>,
) -> Result<DataReport, WorkerError> {
    let (table, name) = match &job.source {
        DataSource::Bundled { id, file } => {
            let url = format!("./datasets/{file}");
            let bytes = fetch_bytes(&url, FetchOptions::default(), &mut |_, _| true)
                .await?
                .ok_or_else(|| WorkerError::File(format!("{url}: not found")))?;
            (read_table(file, &bytes)?, id.clone())
        }
        DataSource::Upload { file_name } => {
            let bytes = attachment.ok_or_else(|| {
                WorkerError::File(format!("{file_name}: the uploaded bytes did not arrive"))
            })?;
            (read_table(file_name, &bytes)?, dataset_name(file_name))
        }
        DataSource::Current => SESSION.with(|s| {
            let s = s.borrow();
            s.table
                .clone()
                .map(|t| (t, s.table_name.clone()))
                .ok_or_else(|| WorkerError::NotYet("no file has been read yet".into()))
        })?,
    };
    let choice = job.columns.clone().or_else(|| {
        guess_columns(&table.columns)
            .choice()
            .map(|c| c.with_task(job.task))
    });
    let dataset = match choice {
        Some(choice) => Dataset::from_table(&name, &table, &choice).map_err(|e| e.to_string()),
        None => Err(format!(
            "{}: choose the text and label columns (no column is named like text/sentence or \
             label/class); the columns are: {}",
            table.file,
            table.columns.join(", ")
        )),
    };
    let report = DataReport {
        read_ms: 0.0,
        table: TableSummary::of(&table),
        dataset: dataset
            .as_ref()
            .map(|d| DatasetSummary::of(d, job.eval_fraction, job.split_seed))
            .map_err(Clone::clone),
    };
    SESSION.with(|s| {
        let mut s = s.borrow_mut();
        s.table = Some(table);
        s.table_name = name;
        if let Ok(d) = dataset {
            s.dataset = Some(d);
        }
    });
    Ok(report)
}

/// The files of a model, as bytes.
struct ModelFiles {
    name: String,
    config: Vec<u8>,
    weights: Vec<u8>,
    weights_file: String,
    tokenizer: Vec<u8>,
}

/// Fetches `base` + `file`, reporting `done` + its bytes so far; adds its size to `done`.
async fn fetch_counted(
    base: &str,
    file: &str,
    options: FetchOptions<'_>,
    done: &mut usize,
    expected_total: usize,
    progress: &mut dyn FnMut(usize, usize, &str) -> bool,
) -> Result<Option<Vec<u8>>, FetchError> {
    let before = *done;
    let got = fetch_bytes(&format!("{base}{file}"), options, &mut |n, _| {
        progress(before + n, expected_total.max(before + n), file)
    })
    .await?;
    *done += got.as_ref().map_or(0, Vec::len);
    Ok(got)
}

/// Fetches the three files under `base`, the weights under the first of `weight_files` that
/// exists. `progress(done, total)` returns `false` to cancel.
async fn fetch_model(
    name: &str,
    base: &str,
    weight_files: &[&str],
    options: FetchOptions<'_>,
    expected_total: usize,
    progress: &mut dyn FnMut(usize, usize, &str) -> bool,
) -> Result<ModelFiles, FetchError> {
    let mut done = 0usize;
    let not_found = |file: &str| FetchError::Status {
        url: format!("{base}{file}"),
        status: 404,
    };
    let config = fetch_counted(
        base,
        "config.json",
        options,
        &mut done,
        expected_total,
        progress,
    )
    .await?
    .ok_or_else(|| not_found("config.json"))?;
    let mut weights = None;
    for file in weight_files {
        if let Some(b) =
            fetch_counted(base, file, options, &mut done, expected_total, progress).await?
        {
            weights = Some((b, file.to_string()));
            break;
        }
    }
    let (weights, weights_file) = weights.ok_or_else(|| not_found(weight_files[0]))?;
    let tokenizer = fetch_counted(
        base,
        "tokenizer.json",
        options,
        &mut done,
        expected_total,
        progress,
    )
    .await?
    .ok_or_else(|| not_found("tokenizer.json"))?;
    Ok(ModelFiles {
        name: name.into(),
        config,
        weights,
        weights_file,
        tokenizer,
    })
}

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
    let device = super::backend::device();
    match load_model(job, attachments, &device, &mut progress).await? {
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
    progress: &mut dyn FnMut(usize, usize, &str) -> bool,
) -> Result<Option<ModelSummary>, WorkerError> {
    let fetched = match &job.source {
        ModelSource::Bundled => {
            fetch_model(
                "all-MiniLM-L6-v2",
                MINILM_BASE,
                &WEIGHT_FILES,
                FetchOptions::default(),
                // config, fp16 weights and tokenizer, about.
                46_000_000,
                progress,
            )
            .await
        }
        ModelSource::Hub { repo, revision } => {
            let base = ModelSource::hub_url(repo, revision, "");
            let name = repo.rsplit('/').next().unwrap_or(repo).to_string();
            fetch_model(
                &name,
                &base,
                &["model.safetensors"],
                FetchOptions {
                    no_referrer: true,
                    cache: Some(HUB_CACHE),
                },
                crate::protocol::loading::DISTILROBERTA_BYTES,
                progress,
            )
            .await
            .map_err(|e| match e {
                // An empty url marks a message that is complete as it is.
                FetchError::Network { url, message } => FetchError::Network {
                    message: format!(
                        "Could not download {name} from huggingface.co ({message}; {url}). \
                             This computer is probably offline, or huggingface.co is blocked; \
                             the model loaded before stays in use"
                    ),
                    url: String::new(),
                },
                other => other,
            })
        }
        ModelSource::Dropped { names } => {
            let mut it = attachments.into_iter();
            match (it.next(), it.next(), it.next()) {
                (Some(config), Some(weights), Some(tokenizer)) => Ok(ModelFiles {
                    name: "dropped model".into(),
                    config,
                    weights,
                    weights_file: names.get(1).cloned().unwrap_or_default(),
                    tokenizer,
                }),
                _ => {
                    return Err(WorkerError::File(
                        "expected three files: config.json, a .safetensors file, \
                             tokenizer.json"
                            .into(),
                    ))
                }
            }
        }
    };
    let files = match fetched {
        Ok(f) => f,
        Err(FetchError::Cancelled) => return Ok(None),
        Err(FetchError::Network { url, message }) if url.is_empty() => {
            return Err(WorkerError::File(message))
        }
        Err(e) => return Err(e.into()),
    };
    let model = Model::from_bytes(&files.config, &files.weights, device)
        .map_err(|e| WorkerError::File(format!("{}: {e}", files.weights_file)))?;
    let tokenizer = TextTokenizer::from_bytes(
        &files.tokenizer,
        "tokenizer.json",
        model.config.pad_token_id,
        job.max_len,
    )?;
    let own_head = model.head.is_some();
    let summary = ModelSummary {
        name: files.name,
        weights_file: files.weights_file,
        bytes: files.config.len() + files.weights.len() + files.tokenizer.len(),
        config: model.config.clone(),
        counts: model.parameter_counts(),
        head_kind: model
            .head
            .as_ref()
            .map(|h| h.kind())
            .unwrap_or_else(|| HeadKind::default_for(model.config.family)),
        own_head,
        tokenizer_vocab: tokenizer.vocab_size(),
    };
    SESSION.with(|s| {
        s.borrow_mut().model = Some(LoadedModel {
            model,
            tokenizer,
            summary: summary.clone(),
        })
    });
    Ok(Some(summary))
}
