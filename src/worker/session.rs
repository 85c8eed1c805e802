//! The compute worker's session: the loaded model and tokenizer, the last table read and the
//! active dataset, and the last NTK, kept across jobs. A failed load leaves what was there
//! before.

use std::cell::RefCell;

use ntk_lens_core::burn::prelude::Device;
use ntk_lens_core::data::{dataset_name, guess_table, read_table, Dataset, Table};
use ntk_lens_core::experiment::Prepared;
use ntk_lens_core::model::{HeadKind, Model};
use ntk_lens_core::ntk::{NtkBlocks, NtkBuilder};
use ntk_lens_core::tokenize::TextTokenizer;

use super::error::WorkerError;
use super::fetch::{fetch_bytes, fetch_chunks, fetch_size, is_cached, FetchError, FetchOptions};
use super::reporter::{now_ms, post, Reporter};
use crate::protocol::hub::{
    missing_weights_message, model_type_of, HubModel, HubProbe, ProbeJob, HUB_WEIGHTS,
};
use crate::protocol::loading::{
    AdapterJob, AdapterSummary, DataJob, DataReport, DataSource, DatasetSummary, ModelJob,
    ModelSource, ModelSummary, TableSummary, MINILM_BASE, WEIGHT_FILES,
};
use crate::protocol::{JobResult, Response};
use ntk_lens_core::model::peft::load_adapter;
use ntk_lens_core::model::weight_stream::WeightStream;
use ntk_lens_core::model::weights::WeightFile;
use ntk_lens_core::model::ModelConfig;

/// A model ready for analyses.
pub struct LoadedModel {
    /// The encoder (no head unless the checkpoint had one; analyses add
    /// [`HeadKind::default_for`] with the dataset's classes).
    pub model: Model,
    /// Its tokenizer, truncating to the setup's max length.
    pub tokenizer: TextTokenizer,
    /// What the page was told about it.
    pub summary: ModelSummary,
    /// The adapter attached to `model`, with the model as it was before (to take it off).
    pub adapter: Option<(AdapterSummary, Model)>,
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
    // A guessed column is checked against the values (a "text" column of numbers is refused);
    // a column the person chose is taken as it is.
    let choice = match job.columns.clone() {
        Some(choice) => Ok(Some(choice)),
        None => guess_table(&table).map(|g| g.choice().map(|c| c.with_task(job.task))),
    };
    let dataset = match choice {
        Err(e) => Err(e.to_string()),
        Ok(Some(choice)) => Dataset::from_table(&name, &table, &choice).map_err(|e| e.to_string()),
        Ok(None) => Err(format!(
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

/// A model's weights: a whole file (dropped files), or decoded as they downloaded.
enum Weights {
    Bytes(Vec<u8>),
    Decoded(WeightFile<'static>),
}

/// The files of a model.
struct ModelFiles {
    name: String,
    origin: String,
    config: Vec<u8>,
    weights: Weights,
    weights_file: String,
    weights_bytes: usize,
    tokenizer: Vec<u8>,
}

/// Streams `base` + `file` into a [`WeightStream`] (each tensor upcast as it completes, its
/// bytes dropped), reporting `done` + its bytes so far; adds its size to `done`. `Ok(None)`
/// for a 404.
async fn fetch_weights(
    base: &str,
    file: &str,
    options: FetchOptions<'_>,
    done: &mut usize,
    expected_total: usize,
    progress: &mut dyn FnMut(usize, usize, &str) -> bool,
) -> Result<Option<(WeightFile<'static>, usize)>, FetchError> {
    let before = *done;
    let mut stream = WeightStream::new(file);
    let mut n = 0usize;
    let got = fetch_chunks(&format!("{base}{file}"), options, &mut |chunk, _| {
        stream.push(chunk).map_err(|e| e.to_string())?;
        n += chunk.len();
        Ok(progress(before + n, expected_total.max(before + n), file))
    })
    .await?;
    let Some(size) = got else { return Ok(None) };
    *done += size;
    let decoded = stream.finish().map_err(|e| FetchError::Invalid {
        url: format!("{base}{file}"),
        message: e.to_string(),
    })?;
    Ok(Some((decoded, size)))
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
        if let Some((w, size)) =
            fetch_weights(base, file, options, &mut done, expected_total, progress).await?
        {
            weights = Some((w, size, file.to_string()));
            break;
        }
    }
    let (weights, weights_bytes, weights_file) =
        weights.ok_or_else(|| not_found(weight_files[0]))?;
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
        origin: base.into(),
        config,
        weights: Weights::Decoded(weights),
        weights_file,
        weights_bytes,
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
        ModelSource::Hub { endpoint, model } => {
            let fetched = fetch_model(
                model.short_name(),
                &model.url(endpoint, ""),
                &[HUB_WEIGHTS],
                FetchOptions {
                    no_referrer: true,
                    cache: Some(HUB_CACHE),
                },
                job.expected_bytes.unwrap_or(0),
                progress,
            )
            .await;
            match fetched {
                Err(FetchError::Status { status: 404, url }) => {
                    return Err(WorkerError::File(
                        missing_file_message(endpoint, model, &url).await,
                    ))
                }
                // An empty url marks a message that is complete as it is.
                Err(FetchError::Network { url, message }) => Err(FetchError::Network {
                    message: format!(
                        "Could not download {} from {endpoint} ({message}; {url}). This computer \
                         is probably offline, or {endpoint} is blocked; the model loaded before \
                         stays in use",
                        model.short_name()
                    ),
                    url: String::new(),
                }),
                other => other,
            }
        }
        ModelSource::Dropped { names } => {
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
    // Errors name the file they are about: config.json, or the weights.
    let config = ModelConfig::from_bytes(&files.config)
        .map_err(|e| WorkerError::File(format!("config.json: {e}")))?;
    let named =
        |e: ntk_lens_core::CoreError| WorkerError::File(format!("{}: {e}", files.weights_file));
    let model = match &files.weights {
        Weights::Bytes(bytes) => WeightFile::parse(&files.weights_file, bytes)
            .and_then(|file| Model::from_weights(config, &file, device)),
        Weights::Decoded(file) => Model::from_weights(config, file, device),
    }
    .map_err(named)?;
    let tokenizer = TextTokenizer::from_bytes(
        &files.tokenizer,
        "tokenizer.json",
        model.config.pad_token_id,
        // A small model's position table may hold fewer tokens than the setup asks for.
        job.max_len.min(model.config.max_sequence_length()),
    )?;
    tokenizer
        .check_fits(model.config.vocab_size)
        .map_err(|e| WorkerError::File(e.to_string()))?;
    let own_head = model.head.is_some();
    let summary = ModelSummary {
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
        own_head,
        tokenizer_vocab: tokenizer.vocab_size(),
        origin: files.origin,
    };
    SESSION.with(|s| {
        s.borrow_mut().model = Some(LoadedModel {
            model,
            tokenizer,
            summary: summary.clone(),
            adapter: None,
        })
    });
    Ok(Some(summary))
}

/// Why a hub download found no file at `url`: the weights (sharded, or PyTorch only), the
/// tokenizer, or the repository or revision itself.
async fn missing_file_message(endpoint: &str, model: &HubModel, url: &str) -> String {
    let exists = |file: &'static str| {
        let url = model.url(endpoint, file);
        async move { matches!(fetch_size(&url, true).await, Ok(Some(_))) }
    };
    if url.ends_with(HUB_WEIGHTS) {
        let sharded = exists("model.safetensors.index.json").await;
        let pytorch = exists("pytorch_model.bin").await;
        missing_weights_message(model, sharded, pytorch)
    } else if url.ends_with("tokenizer.json") {
        format!(
            "{} at {}: it has no tokenizer.json (the fast tokenizer file this tool reads); \
             save one with transformers' AutoTokenizer and drop the files",
            model.repo, model.revision
        )
    } else {
        format!(
            "{url}: not found; check the repository id and the revision (a private or gated \
             repository cannot be read without a token)"
        )
    }
}

/// Reads a hub repository's `config.json` (through the cache) and the sizes of its weights and
/// tokenizer, without downloading them.
pub async fn probe_hub(job: ProbeJob) -> Result<HubProbe, WorkerError> {
    let options = FetchOptions {
        no_referrer: true,
        cache: Some(HUB_CACHE),
    };
    let config_url = job.model.url(&job.endpoint, "config.json");
    let config = match fetch_bytes(&config_url, options, &mut |_, _| true).await {
        Ok(Some(bytes)) => bytes,
        Ok(None) => {
            return Ok(HubProbe {
                model_type: None,
                config: Err(format!(
                    "{config_url}: not found; check the repository id and the revision"
                )),
                download_bytes: None,
                cached: false,
                job,
            })
        }
        Err(FetchError::Network { message, .. }) => {
            return Err(WorkerError::File(format!(
                "Could not reach {} ({message}); this computer is probably offline, or the hub \
                 is blocked",
                job.endpoint
            )))
        }
        Err(e) => return Err(e.into()),
    };
    let model_type = model_type_of(&config);
    let parsed = ModelConfig::from_bytes(&config).map_err(|e| match &model_type {
        Some(t) if t != "bert" && t != "roberta" => format!(
            "{}: model_type `{t}` is not supported; this tool runs BERT- and RoBERTa-family \
             encoders (model_type bert or roberta, e.g. MiniLM, distilroberta)",
            job.model.repo
        ),
        _ => format!("{}: config.json: {e}", job.model.repo),
    });
    let weights_url = job.model.url(&job.endpoint, HUB_WEIGHTS);
    let cached = is_cached(HUB_CACHE, &weights_url).await;
    let mut download_bytes = None;
    if parsed.is_ok() && !cached {
        let tokenizer_url = job.model.url(&job.endpoint, "tokenizer.json");
        let tokenizer = fetch_size(&tokenizer_url, true).await;
        let weights = fetch_size(&weights_url, true).await;
        let missing = match (&weights, &tokenizer) {
            (Ok(None), _) => Some(&weights_url),
            (_, Ok(None)) => Some(&tokenizer_url),
            _ => None,
        };
        if let Some(url) = missing {
            let message = missing_file_message(&job.endpoint, &job.model, url).await;
            return Ok(HubProbe {
                model_type,
                config: Err(message),
                download_bytes: None,
                cached,
                job,
            });
        }
        if let (Ok(Some(Some(w))), Ok(Some(Some(t)))) = (weights, tokenizer) {
            download_bytes = Some(w + t + config.len() as u64);
        }
    }
    Ok(HubProbe {
        model_type,
        config: parsed,
        download_bytes,
        cached,
        job,
    })
}

/// Attaches the adapter of `job` (its two attachments) to the loaded model, replacing one
/// attached before, or takes the attached one off. A failure leaves the model as it was. Either
/// way the last NTK and sweep are dropped: they were of another model.
pub fn load_adapter_job(
    job: AdapterJob,
    attachments: Vec<Vec<u8>>,
) -> Result<Option<AdapterSummary>, WorkerError> {
    SESSION.with(|s| {
        let mut s = s.borrow_mut();
        let loaded = s.model.as_mut().ok_or_else(|| {
            WorkerError::NotYet("no model is loaded yet; wait for it in the Model tab".into())
        })?;
        let base = match &loaded.adapter {
            Some((_, base)) => base.clone(),
            None => loaded.model.clone(),
        };
        let summary = if job.names.is_empty() {
            loaded.model = base;
            loaded.adapter = None;
            None
        } else {
            let mut files = attachments.into_iter();
            let (Some(config), Some(weights)) = (files.next(), files.next()) else {
                return Err(WorkerError::File(
                    "expected two files: adapter_config.json and adapter_model.safetensors".into(),
                ));
            };
            let named = |e: &dyn std::fmt::Display| {
                WorkerError::File(format!("{}: {e}", job.names.join(", ")))
            };
            let head = WeightFile::parse("adapter_model.safetensors", &weights)
                .map_err(|e| named(&e))?
                .names()
                .iter()
                .any(|n| n.starts_with("base_model.model.classifier."));
            let mut adapted = base.clone();
            load_adapter(&mut adapted, &config, &weights).map_err(|e| named(&e))?;
            let sites = adapted.lora_sites();
            let mut modules: Vec<String> = Vec::new();
            let mut layers: Vec<usize> = sites.iter().map(|s| s.layer).collect();
            for s in &sites {
                let name = s.module.short_name().to_string();
                if !modules.contains(&name) {
                    modules.push(name);
                }
            }
            layers.dedup();
            let summary = AdapterSummary {
                name: job.names.first().cloned().unwrap_or_default(),
                modules,
                layers,
                lora: adapted
                    .lora_config
                    .clone()
                    .ok_or_else(|| named(&"no LoRA adapters"))?,
                parameters: adapted.parameter_counts().lora,
                head,
            };
            loaded.model = adapted;
            loaded.adapter = Some((summary.clone(), base));
            Some(summary)
        };
        s.analysis = None;
        s.trained.clear();
        Ok(summary)
    })
}
