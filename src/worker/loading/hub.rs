//! The Hugging Face hub from the worker: the probe of a repository before its weights are
//! downloaded, the download of a checkpoint through the browser's cache, and the messages that
//! say what a repository lacks or that the hub cannot be reached.

use ntk_lens_core::model::ModelConfig;

use super::download::{fetch_model, ModelFiles, Progress};
use crate::protocol::hub::{
    missing_weights_message, model_type_of, HubModel, HubProbe, ProbeJob, HUB_WEIGHTS,
};
use crate::worker::error::WorkerError;
use crate::worker::fetch::{fetch_bytes, fetch_size, is_cached, FetchError, FetchOptions};

/// The Cache Storage cache of hub downloads.
pub const HUB_CACHE: &str = "ntk-lens-models-v1";

/// How hub files are fetched: through [`HUB_CACHE`], with no referrer.
const HUB_FETCH: FetchOptions<'static> = FetchOptions {
    no_referrer: true,
    cache: Some(HUB_CACHE),
};

/// Downloads the files of `model` from `endpoint` (through the cache), expecting about
/// `expected_total` bytes. `Ok(None)` when cancelled; a missing file or an unreachable hub is
/// a [`WorkerError::File`] that says which and what to do.
pub async fn fetch_from_hub(
    endpoint: &str,
    model: &HubModel,
    expected_total: usize,
    progress: &mut Progress<'_>,
) -> Result<Option<ModelFiles>, WorkerError> {
    let fetched = fetch_model(
        model.short_name(),
        &model.url(endpoint, ""),
        &[HUB_WEIGHTS],
        HUB_FETCH,
        expected_total,
        progress,
    )
    .await;
    match fetched {
        Ok(files) => Ok(Some(files)),
        Err(FetchError::Cancelled) => Ok(None),
        Err(FetchError::Status { status: 404, url }) => Err(WorkerError::File(
            missing_file_message(endpoint, model, &url).await,
        )),
        Err(FetchError::Network { url, message }) => Err(WorkerError::File(format!(
            "Could not download {} from {endpoint} ({message}; {url}). This computer is \
             probably offline, or {endpoint} is blocked; the model loaded before stays in use",
            model.short_name()
        ))),
        Err(e) => Err(e.into()),
    }
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
    let config_url = job.model.url(&job.endpoint, "config.json");
    let config = match fetch_bytes(&config_url, HUB_FETCH, &mut |_, _| true).await {
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
