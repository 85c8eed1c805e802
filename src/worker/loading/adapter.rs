//! The adapter job: attaches a PEFT adapter (two dropped files) to the loaded model, or takes
//! it off.

use ntk_lens_core::model::peft::load_adapter;
use ntk_lens_core::model::weights::WeightFile;
use ntk_lens_core::model::Model;

use crate::protocol::loading::{AdapterJob, AdapterSummary};
use crate::worker::error::WorkerError;
use crate::worker::session::{self, LoadedModel};

/// Attaches the adapter of `job` (its two attachments) to the loaded model, replacing one
/// attached before, or takes the attached one off. A failure leaves the model as it was. Either
/// way the last NTK and sweep are dropped: they were of another model.
pub fn load_adapter_job(
    job: AdapterJob,
    attachments: Vec<Vec<u8>>,
) -> Result<Option<AdapterSummary>, WorkerError> {
    let summary = session::with_model_mut(|loaded| swap_adapter(loaded, &job, attachments))
        .ok_or_else(|| {
            WorkerError::NotYet("no model is loaded yet; wait for it in the Model tab".into())
        })??;
    session::forget_results();
    Ok(summary)
}

/// Puts the adapter of `job` on `loaded` in place of the one it has, or none when `job` names
/// no files; `loaded` is unchanged on an error.
fn swap_adapter(
    loaded: &mut LoadedModel,
    job: &AdapterJob,
    attachments: Vec<Vec<u8>>,
) -> Result<Option<AdapterSummary>, WorkerError> {
    let base = match &loaded.adapter {
        Some((_, base)) => base.clone(),
        None => loaded.model.clone(),
    };
    if job.names.is_empty() {
        loaded.model = base;
        loaded.adapter = None;
        return Ok(None);
    }
    let mut files = attachments.into_iter();
    let (Some(config), Some(weights)) = (files.next(), files.next()) else {
        return Err(WorkerError::File(
            "expected two files: adapter_config.json and adapter_model.safetensors".into(),
        ));
    };
    let (adapted, summary) = adapt(&base, job, &config, &weights)?;
    loaded.model = adapted;
    loaded.adapter = Some((summary.clone(), base));
    Ok(Some(summary))
}

/// `base` with the adapter of `config` and `weights`, and what the Model tab is told of it.
/// Errors name the files.
fn adapt(
    base: &Model,
    job: &AdapterJob,
    config: &[u8],
    weights: &[u8],
) -> Result<(Model, AdapterSummary), WorkerError> {
    let named =
        |e: &dyn std::fmt::Display| WorkerError::File(format!("{}: {e}", job.names.join(", ")));
    let head = WeightFile::parse("adapter_model.safetensors", weights)
        .map_err(|e| named(&e))?
        .names()
        .iter()
        .any(|n| n.starts_with("base_model.model.classifier."));
    let mut adapted = base.clone();
    load_adapter(&mut adapted, config, weights).map_err(|e| named(&e))?;
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
    Ok((adapted, summary))
}
