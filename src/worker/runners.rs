//! The runners of the analysis jobs (and of the self-check and the backend switch), on the
//! session's model and dataset. Each drives a step-by-step computation of the core with the
//! job's [`Reporter`].

use ntk_lens_core::data::Dataset;
use ntk_lens_core::experiment::{
    needs, prepare, NtkNeeds, NtkReport, NtkUse, Prepared, RadiusProbe, SampleChoice, Samples,
    Study, Sweep,
};
use ntk_lens_core::model::peft::export_adapter;
use ntk_lens_core::ntk::memory::{check_training, longest};
use ntk_lens_core::ntk::{EvalPart, NtkBlocks, NtkBuilder, NtkMemory, TrainPart};
use ntk_lens_core::options::{BackendChoice, Recipe, PAPER_BATCH};
use ntk_lens_core::selfcheck::{SelfCheck, SelfCheckConfig};
use ntk_lens_core::tokenize::Encoded;

use super::backend;
use super::error::WorkerError;
use super::reporter::{drive, now_ms, Reporter};
use super::session::{self, LastNtk};
use crate::protocol::analysis::{
    AdapterFiles, EvalKernelOutcome, ExportJob, NtkJob, NtkOutcome, RadiusJob, SampleJob, StudyJob,
    StudyOutcome, SweepJob, SweepOutcome,
};
use crate::protocol::JobResult;

/// The memory a browser tab's compute worker may use for one analysis: half of wasm32's
/// 4 GiB address space, leaving room for the page's copies of results and the allocator's
/// fragmentation. The core's memory estimates take it as their budget.
pub const PAGE_BUDGET: u64 = 2 << 30;

/// The train rows (dataset indices) and eval rows the sample job selects.
fn rows_of(data: &Dataset, job: &SampleJob) -> Result<(Vec<usize>, Vec<usize>), WorkerError> {
    let split = data.split_indices(job.eval_fraction, job.split_seed)?;
    let eval = split.eval.iter().copied().take(job.eval_n).collect();
    if let SampleChoice::Picked { .. } = &job.choice {
        // Picked rows index the whole dataset.
        return Ok((job.choice.indices(data)?, eval));
    }
    let train = data.subset(&split.train);
    let picked = job.choice.indices(&train)?;
    Ok((picked.iter().map(|&i| split.train[i]).collect(), eval))
}

/// The NTK over the train samples; the builder stays in the session for the eval kernel.
pub async fn ntk(reporter: Reporter, job: NtkJob) -> Result<Option<JobResult>, WorkerError> {
    let started = now_ms();
    let (model, data) = (
        session::with_model(|m| {
            (
                m.model.clone(),
                m.tokenizer.clone(),
                m.adapter.as_ref().map(|(a, _)| a.name.clone()),
            )
        }),
        session::dataset(),
    );
    let (model, tokenizer, adapter) = model.ok_or_else(|| {
        WorkerError::NotYet("no model is loaded yet; wait for it in the Model tab".into())
    })?;
    let data = data.ok_or_else(|| {
        WorkerError::NotYet("no dataset is loaded yet; choose one in the Data tab".into())
    })?;
    let (rows, eval_rows) = rows_of(&data, &job.samples)?;
    let mut prepared = prepare(
        model,
        &tokenizer,
        &data,
        &SampleChoice::Picked { rows: rows.clone() },
        &eval_rows,
        adapter.is_none().then_some(&job.lora),
        job.lora.seed,
    )?;
    if let Some(name) = adapter {
        prepared.notes.push(format!(
            "LoRA from the attached adapter {name} (the LoRA settings of the Model tab are not \
             used while it is attached)."
        ));
    }
    let mut options = job.options;
    // Before anything large is allocated: shrink the chunks to fit the tab's memory, or say
    // why it cannot fit.
    let (train, eval) = (&prepared.train.encoded, &prepared.eval.encoded);
    let (chunk, estimate) = NtkMemory::fit(&prepared.model, train, eval, &options, PAGE_BUDGET)?;
    if chunk < options.chunk_size {
        prepared.notes.push(format!(
            "Samples per pass reduced from {} to {chunk} to fit the tab's memory.",
            options.chunk_size
        ));
        options.chunk_size = chunk;
    }
    prepared.notes.push(format!(
        "Memory: {} of the {:.1} GB an analysis may use in a tab.",
        estimate.describe(),
        PAGE_BUDGET as f64 / 1e9
    ));
    let builder = NtkBuilder::new(
        &prepared.model,
        &prepared.train.encoded,
        &prepared.eval.encoded,
        options,
    )?;
    let Some(builder) = drive(TrainPart(builder), reporter).await? else {
        return Ok(None);
    };
    let blocks = builder.train_blocks()?;
    let mut report = NtkReport::new(
        &blocks,
        job.layout,
        &prepared.train.targets(prepared.classes),
        0.0,
        prepared.notes.clone(),
    )?;
    report.blocks.clear();
    let outcome = NtkOutcome {
        report,
        blocks: blocks.to_data(),
        rows: prepared.train.rows.clone(),
        eval_rows: prepared.eval.rows.clone(),
        labels: prepared.train.labels.clone(),
        eval_labels: prepared.eval.labels.clone(),
        scores: prepared.train.scores.clone(),
        eval_scores: prepared.eval.scores.clone(),
        class_names: data.label_names.clone(),
        texts: rows.iter().map(|&r| data.texts[r].clone()).collect(),
        elapsed_ms: now_ms() - started,
        backend: backend::label(),
    };
    session::set_last_ntk(LastNtk {
        prepared,
        blocks,
        pending: Some(builder),
    });
    Ok(Some(JobResult::Ntk(Box::new(outcome))))
}

/// The eval samples' kernels against the train samples of the last NTK.
pub async fn eval_kernel(reporter: Reporter) -> Result<Option<JobResult>, WorkerError> {
    let started = now_ms();
    let builder = session::with_last_ntk(|a| a.pending.take())
        .flatten()
        .ok_or_else(|| {
            WorkerError::NotYet("the eval kernel needs the NTK again (NTK tab)".into())
        })?;
    let Some(blocks) = drive(EvalPart(builder), reporter).await? else {
        return Ok(None);
    };
    let data = blocks.to_data();
    session::with_last_ntk(|a| a.blocks = blocks);
    Ok(Some(JobResult::EvalKernel(Box::new(EvalKernelOutcome {
        blocks: data,
        elapsed_ms: now_ms() - started,
    }))))
}

/// The last NTK's model, samples and blocks; the eval samples only once their kernels are in.
fn last_ntk() -> Result<(Prepared, NtkBlocks), WorkerError> {
    let (mut prepared, blocks) = session::with_last_ntk(|a| (a.prepared.clone(), a.blocks.clone()))
        .ok_or_else(|| WorkerError::NotYet("compute the NTK first (NTK tab)".into()))?;
    if blocks.n_eval != prepared.eval.len() {
        prepared.eval = Samples {
            rows: vec![],
            encoded: vec![],
            labels: vec![],
            scores: prepared.eval.scores.as_ref().map(|_| vec![]),
        };
    }
    Ok((prepared, blocks))
}

/// Refuses a training step on `rows` of the prepared samples past the tab's memory budget.
fn check_training_memory(prepared: &Prepared, rows: usize) -> Result<(), WorkerError> {
    let tokens = longest(&prepared.train.encoded).max(longest(&prepared.eval.encoded));
    let model = &prepared.model;
    check_training(
        &model.config,
        model.parameter_counts().total(),
        rows,
        tokens,
        PAGE_BUDGET,
    )?;
    Ok(())
}

/// The λ sweep on the last NTK (on the plain kernel, computed first when the NTK tab shows the
/// sign kernel); the fine-tuned models stay in the session for export.
pub async fn sweep(reporter: Reporter, job: SweepJob) -> Result<Option<JobResult>, WorkerError> {
    let started = now_ms();
    let (prepared, blocks) = last_ntk()?;
    let needs = needs(NtkUse::Sweep, blocks.params);
    let eval = &prepared.eval.encoded;
    let Some(blocks) = needed_blocks(reporter, &prepared, blocks, needs, eval).await? else {
        return Ok(None);
    };
    check_training_memory(&prepared, prepared.train.encoded.len())?;
    let sweep = Sweep::new(
        &prepared.model,
        prepared.train,
        prepared.eval,
        blocks,
        job.config,
    )?;
    let Some(finished) = drive(sweep, reporter).await? else {
        return Ok(None);
    };
    session::set_trained(finished.trained);
    Ok(Some(JobResult::Sweep(Box::new(SweepOutcome {
        report: finished.report,
        elapsed_ms: now_ms() - started,
    }))))
}

/// `blocks` when they meet what the analysis needs, else the NTK that does (the plain kernel
/// of the same train samples, and of `eval`, over the same parameters at `θ0`: the NTK tab may
/// show the sign kernel; the linear model, the study's κ and the steps need `J Jᵀ`). `None`
/// when cancelled.
async fn needed_blocks(
    reporter: Reporter,
    prepared: &Prepared,
    blocks: NtkBlocks,
    needs: NtkNeeds,
    eval: &[Encoded],
) -> Result<Option<NtkBlocks>, WorkerError> {
    if needs.met_by(&blocks) {
        return Ok(Some(blocks));
    }
    let (model, train) = (&prepared.model, &prepared.train.encoded);
    // Within the tab's memory, as the NTK job was.
    let mut options = needs.options();
    options.chunk_size = NtkMemory::fit(model, train, eval, &options, PAGE_BUDGET)?.0;
    match needs.builder(model, train, eval, &blocks, options)? {
        None => Ok(Some(blocks)),
        Some(builder) => drive(builder, reporter).await,
    }
}

/// The layer study on the last NTK (on the plain kernel, computed first when the NTK tab shows
/// the sign kernel).
pub async fn study(reporter: Reporter, job: StudyJob) -> Result<Option<JobResult>, WorkerError> {
    let started = now_ms();
    let (prepared, blocks) = last_ntk()?;
    let needs = needs(NtkUse::Study, blocks.params);
    let Some(blocks) = needed_blocks(reporter, &prepared, blocks, needs, &[]).await? else {
        return Ok(None);
    };
    let batch = match job.config.recipe {
        Recipe::Paper => PAPER_BATCH.min(prepared.train.encoded.len()),
        Recipe::Theory => prepared.train.encoded.len(),
    };
    check_training_memory(&prepared, batch)?;
    let study = Study::new(
        &prepared.model,
        prepared.train,
        prepared.eval,
        &blocks,
        job.config,
        &job.user,
    )?;
    let Some(report) = drive(study, reporter).await? else {
        return Ok(None);
    };
    Ok(Some(JobResult::Study(Box::new(StudyOutcome {
        report,
        elapsed_ms: now_ms() - started,
    }))))
}

/// The model fine-tuned at one λ of the last sweep, as PEFT adapter files.
pub async fn export(job: ExportJob) -> Result<Option<JobResult>, WorkerError> {
    let (lambda, model) = session::trained(job.index)
        .ok_or_else(|| WorkerError::NotYet("run the λ sweep first".into()))?;
    let adapter = export_adapter(&model).await?;
    Ok(Some(JobResult::Adapter(Box::new(AdapterFiles {
        lambda,
        config_json: adapter.config_json,
        safetensors: adapter.safetensors,
    }))))
}

/// The radius probe around θ0 of the last NTK (one perturbed kernel per step).
pub async fn radius(reporter: Reporter, job: RadiusJob) -> Result<Option<JobResult>, WorkerError> {
    let (prepared, blocks) = last_ntk()?;
    // The probe computes the plain kernel at θ0 first when the NTK tab shows the sign kernel.
    let options = needs(NtkUse::Radius, blocks.params).options();
    let probe = RadiusProbe::new(
        &prepared.model,
        &prepared.train.encoded,
        &blocks,
        options,
        job.config,
    )?;
    Ok(drive(probe, reporter).await?.map(JobResult::Radius))
}

/// The backend self-check.
pub async fn self_check(
    reporter: Reporter,
    config: SelfCheckConfig,
) -> Result<Option<JobResult>, WorkerError> {
    let check = SelfCheck::new(config, &backend::device())?;
    Ok(drive(check, reporter).await?.map(JobResult::SelfCheck))
}

/// Switches the backend: chooses the device for `choice` and moves the loaded model and the
/// last NTK's model onto it. The eval kernel still to compute is dropped (it would mix
/// devices); the page asks for the NTK again to get it.
pub async fn set_backend(choice: BackendChoice) -> Result<Option<JobResult>, WorkerError> {
    let (device, info) = backend::choose(choice).await;
    let (model, base, prepared) = (
        session::with_model(|m| m.model.clone()),
        session::with_model(|m| m.adapter.as_ref().map(|(_, base)| base.clone())).flatten(),
        session::with_last_ntk(|a| a.prepared.model.clone()),
    );
    let model = match model {
        Some(m) => Some(m.to_device(&device).await?),
        None => None,
    };
    let base = match base {
        Some(m) => Some(m.to_device(&device).await?),
        None => None,
    };
    let prepared = match prepared {
        Some(m) => Some(m.to_device(&device).await?),
        None => None,
    };
    if let Some(m) = model {
        session::with_model_mut(|loaded| {
            loaded.model = m;
            if let (Some((_, old)), Some(b)) = (loaded.adapter.as_mut(), base) {
                *old = b;
            }
        });
    }
    session::with_last_ntk(|a| {
        if let Some(m) = prepared {
            a.prepared.model = m;
        }
        a.pending = None;
    });
    backend::set_current(device, info.clone());
    Ok(Some(JobResult::Backend(info)))
}
