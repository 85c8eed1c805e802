//! The worker side of the analysis jobs: NTK, λ sweep and layer study, on the session's model
//! and dataset. Each reports progress and checks for a cancel between steps.

use ntk_lens_core::experiment::{prepare, NtkReport, SampleChoice, Study, Sweep};
use ntk_lens_core::ntk::{NtkBuilder, NtkOptions};
use ntk_lens_core::CoreError;

use crate::analysis_jobs::{
    AdapterFiles, ExportJob, NtkJob, NtkOutcome, RadiusJob, SampleJob, StudyJob, StudyOutcome,
    SweepJob, SweepOutcome,
};
use crate::protocol::{JobId, JobResult, Response};
use crate::session::SESSION;
use crate::setup;
use crate::worker::{is_cancelled, now_ms, post, yield_now, YIELD_EVERY_MS};

/// Posts progress and yields; `true` when the job was cancelled (and says so).
async fn checkpoint(
    id: JobId,
    done: usize,
    total: usize,
    message: String,
    loss: Option<f64>,
) -> bool {
    post(&Response::Progress {
        id,
        done,
        total,
        message,
        loss,
    });
    yield_now().await;
    if is_cancelled(id) {
        post(&Response::Cancelled { id, done });
        return true;
    }
    false
}

/// The train rows (dataset indices) and eval rows the sample job selects.
fn rows_of(
    data: &ntk_lens_core::data::Dataset,
    job: &SampleJob,
) -> Result<(Vec<usize>, Vec<usize>), CoreError> {
    let split = data.split_indices(job.eval_fraction, job.split_seed)?;
    let train = data.subset(&split.train);
    let picked: Vec<usize> = match &job.choice {
        setup::SampleChoice::FirstN => SampleChoice::First { n: job.n }.indices(&train)?,
        setup::SampleChoice::Stratified { seed } => SampleChoice::Stratified {
            n: job.n,
            seed: *seed,
        }
        .indices(&train)?,
        setup::SampleChoice::Picked(rows) => {
            return Ok((
                SampleChoice::Picked { rows: rows.clone() }.indices(data)?,
                split.eval.iter().copied().take(job.eval_n).collect(),
            ))
        }
    };
    Ok((
        picked.iter().map(|&i| split.train[i]).collect(),
        split.eval.iter().copied().take(job.eval_n).collect(),
    ))
}

/// Computes the NTK and keeps it in the session.
pub async fn run_ntk(
    id: JobId,
    job: NtkJob,
    backend: String,
) -> Result<Option<JobResult>, CoreError> {
    let started = now_ms();
    let (model, data) = SESSION.with(|s| {
        let s = s.borrow();
        (
            s.model
                .as_ref()
                .map(|m| (m.model.clone(), m.tokenizer.clone())),
            s.dataset.clone(),
        )
    });
    let (model, tokenizer) = model.ok_or_else(|| {
        CoreError::invalid(
            "model",
            "no model is loaded yet; wait for it in the Model tab",
        )
    })?;
    let data = data.ok_or_else(|| {
        CoreError::invalid(
            "data",
            "no dataset is loaded yet; choose one in the Data tab",
        )
    })?;
    let (rows, eval_rows) = rows_of(&data, &job.samples)?;
    let prepared = prepare(
        model,
        &tokenizer,
        &data,
        &SampleChoice::Picked { rows: rows.clone() },
        &eval_rows,
        Some(&job.lora),
        job.lora.seed,
    )?;
    let options = NtkOptions {
        params: job.params,
        kernel: job.kernel,
        chunk_size: job.chunk_size,
        blocks: None,
    };
    let mut builder = NtkBuilder::new(
        &prepared.model,
        &prepared.train.encoded,
        &prepared.eval.encoded,
        options,
    )?;
    let mut last = now_ms();
    while !builder.is_done() {
        builder.step().await?;
        if now_ms() - last > YIELD_EVERY_MS || builder.is_done() {
            let (done, total) = (builder.done_chunks(), builder.total_chunks());
            let msg = format!("Jacobians and kernel blocks: chunk {done} of {total}");
            if checkpoint(id, done, total, msg, None).await {
                return Ok(None);
            }
            last = now_ms();
        }
    }
    let blocks = builder.finish()?;
    let mut report = NtkReport::new(
        &blocks,
        job.layout,
        &prepared.train.labels,
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
        class_names: data.label_names.clone(),
        texts: rows.iter().map(|&r| data.texts[r].clone()).collect(),
        elapsed_ms: now_ms() - started,
        backend,
    };
    SESSION.with(|s| s.borrow_mut().analysis = Some((prepared, blocks)));
    Ok(Some(JobResult::Ntk(Box::new(outcome))))
}

fn analysis() -> Result<
    (
        ntk_lens_core::experiment::Prepared,
        ntk_lens_core::ntk::NtkBlocks,
    ),
    CoreError,
> {
    SESSION
        .with(|s| s.borrow().analysis.clone())
        .ok_or_else(|| CoreError::invalid("ntk", "compute the NTK first (NTK tab)"))
}

/// Runs the λ sweep on the NTK computed last.
pub async fn run_sweep(id: JobId, job: SweepJob) -> Result<Option<JobResult>, CoreError> {
    let started = now_ms();
    let (prepared, blocks) = analysis()?;
    if blocks.kind != ntk_lens_core::ntk::KernelKind::Plain {
        return Err(CoreError::invalid(
            "kernel",
            "the linearized model needs the plain NTK; recompute it with kernel = plain",
        ));
    }
    let mut sweep = Sweep::new(
        &prepared.model,
        prepared.train.clone(),
        prepared.eval.clone(),
        blocks,
        job.config,
    )?;
    let mut last = now_ms();
    while !sweep.is_done() {
        let lambdas = sweep.current_lambdas();
        let records = sweep.step().await?;
        if now_ms() - last > YIELD_EVERY_MS || sweep.is_done() {
            let list: Vec<String> = lambdas.iter().map(|l| format!("{l:e}")).collect();
            let msg = format!("training at λ = {}", list.join(", "));
            let loss = records.first().map(|r| r.loss);
            if checkpoint(id, sweep.done_steps(), sweep.total_steps(), msg, loss).await {
                return Ok(None);
            }
            last = now_ms();
        }
    }
    let trained = sweep.trained_models().to_vec();
    SESSION.with(|s| s.borrow_mut().trained = trained);
    Ok(Some(JobResult::Sweep(Box::new(SweepOutcome {
        report: sweep.finish()?,
        elapsed_ms: now_ms() - started,
    }))))
}

/// Runs the layer study on the NTK computed last.
pub async fn run_study(id: JobId, job: StudyJob) -> Result<Option<JobResult>, CoreError> {
    let started = now_ms();
    let (prepared, blocks) = analysis()?;
    let mut study = Study::new(
        &prepared.model,
        prepared.train.clone(),
        prepared.eval.clone(),
        &blocks,
        job.config,
        &job.user,
    )?;
    let mut last = now_ms();
    while !study.is_done() {
        let what = study
            .current()
            .map(|c| c.blocks.join(" + "))
            .unwrap_or_default();
        let record = study.step().await?;
        if now_ms() - last > YIELD_EVERY_MS || study.is_done() {
            let msg = format!("fine-tuning {what}");
            let loss = record.map(|r| r.loss);
            if checkpoint(id, study.done_steps(), study.total_steps(), msg, loss).await {
                return Ok(None);
            }
            last = now_ms();
        }
    }
    Ok(Some(JobResult::Study(Box::new(StudyOutcome {
        report: study.finish(),
        elapsed_ms: now_ms() - started,
    }))))
}

/// Exports the model fine-tuned at one λ of the last sweep as PEFT adapter files.
pub async fn run_export(job: ExportJob) -> Result<Option<JobResult>, CoreError> {
    let (lambda, model) = SESSION
        .with(|s| s.borrow().trained.get(job.index).cloned())
        .ok_or_else(|| CoreError::invalid("adapter", "run the λ sweep first"))?;
    let adapter = ntk_lens_core::lora::peft::export_adapter(&model).await?;
    Ok(Some(JobResult::Adapter(Box::new(AdapterFiles {
        lambda,
        config_json: adapter.config_json,
        safetensors: adapter.safetensors,
    }))))
}

/// Runs the radius probe around θ0 of the last NTK (one perturbed kernel per step).
pub async fn run_radius(id: JobId, job: RadiusJob) -> Result<Option<JobResult>, CoreError> {
    let (prepared, blocks) = analysis()?;
    let options = NtkOptions {
        params: if blocks.train.names().iter().any(|n| n == "head") {
            ntk_lens_core::ntk::ParamSet::LoraAndHead
        } else {
            ntk_lens_core::ntk::ParamSet::Lora
        },
        ..NtkOptions::default()
    };
    let mut probe = ntk_lens_core::experiment::RadiusProbe::new(
        &prepared.model,
        &prepared.train.encoded,
        &blocks,
        options,
        job.config,
    )?;
    while !probe.is_done() {
        probe.step().await?;
        let (done, total) = (probe.done_steps(), probe.total_steps());
        let msg = format!("perturbed kernel {done} of {total}");
        if checkpoint(id, done, total, msg, None).await {
            return Ok(None);
        }
    }
    Ok(Some(JobResult::Radius(probe.points())))
}
