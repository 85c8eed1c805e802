//! `ntk-lens sweep`: the linearized model against actual proximal fine-tuning over a λ grid.

use clap::Args;
use ntk_lens_core::block_on;
use ntk_lens_core::experiment::{needs, NtkUse, RadiusConfig, RadiusProbe, Sweep, SweepConfig};
use ntk_lens_core::ntk::{NtkBuilder, ParamSet};
use ntk_lens_core::options::{LossKind, OptimizerKind, SweepStepRule};
use ntk_lens_core::steps::Stepwise;

use crate::analysis::{AnalysisArgs, EvalOutputArgs};
use crate::error::Failure;
use crate::output::write_json;

/// How each fine-tuning run goes (shared by `sweep` and `select`).
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Steps per run.
    #[arg(long, value_name = "T", default_value_t = 100)]
    pub steps: usize,
    /// Optimizer.
    #[arg(long, value_enum, default_value_t = OptimizerKind::Gd)]
    pub optimizer: OptimizerKind,
    /// Loss of the actual model.
    #[arg(long, value_enum, default_value_t = LossKind::Mse)]
    pub loss: LossKind,
    /// Apply the proximal term only when ⟨∇L, θ − θ0⟩ ≥ 0 (the paper's Eq. 8).
    #[arg(long)]
    pub selective: bool,
    /// Step size [default: GD from the NTK at θ0 as --step-rule says, Adam 1e-3].
    #[arg(long, value_name = "LR")]
    pub lr: Option<f64>,
    /// Samples per forward/backward pass (gradients are summed: still full-batch).
    #[arg(long, value_name = "N", default_value_t = ntk_lens_core::train::TRAIN_CHUNK)]
    pub chunk: usize,
}

/// Flags of `sweep`.
#[derive(Debug, Args)]
pub struct SweepArgs {
    #[command(flatten)]
    pub analysis: AnalysisArgs,
    /// The λ grid, comma-separated, run in this order.
    #[arg(
        long,
        value_name = "LIST",
        value_delimiter = ',',
        default_value = "1e-4,1e-3,1e-2,1e-1,1,10,100"
    )]
    pub lambdas: Vec<f64>,
    #[command(flatten)]
    pub train: TrainArgs,
    /// GD's step when --lr is not given: `shared`, one step for every λ,
    /// min(0.05/(μ_max + λ_min), 1/(μ_max + λ_max)), so that the runs differ only in their
    /// penalty; or `per-lambda`, 0.05/(μ_max + λ) for each λ.
    #[arg(long, value_enum, value_name = "RULE", default_value_t = SweepStepRule::Shared)]
    pub step_rule: SweepStepRule,
    /// Train the classification head too (its parameters join the NTK).
    #[arg(long)]
    pub train_head: bool,
    #[command(flatten)]
    pub io: EvalOutputArgs,
    /// Also run the radius probe (the paper's Algorithm 1) at these radii, comma-separated.
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub radii: Vec<f64>,
    /// Random directions per radius for --radii.
    #[arg(long, value_name = "K", default_value_t = 3)]
    pub draws: usize,
    /// How many λ train side by side in one batch (each with its own LoRA copy, sharing every
    /// pass over the frozen weights) [default: all].
    #[arg(long, value_name = "K", value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    pub lambda_batch: Option<usize>,
}

/// Runs the sweep and writes the report.
pub fn run(args: SweepArgs) -> Result<(), Failure> {
    let prepared = args
        .analysis
        .prepare(args.io.eval_for(0, 1)?, args.io.eval_n)?;
    let notes = prepared.notes.clone();
    // The NTK the sweep needs (the plain kernel, over LoRA and the head with --train-head).
    let params = if args.train_head {
        ParamSet::LoraAndHead
    } else {
        ParamSet::Lora
    };
    let options = needs(NtkUse::Sweep, params).options();
    crate::analysis::check_ntk_memory(
        &prepared.model,
        &prepared.train.encoded,
        &prepared.eval.encoded,
        &options,
    )?;
    let ntk = block_on(
        NtkBuilder::new(
            &prepared.model,
            &prepared.train.encoded,
            &prepared.eval.encoded,
            options,
        )
        .map_err(|e| Failure::input("ntk", e))?
        .run(),
    )?;
    let radius = if args.radii.is_empty() {
        None
    } else {
        let probe = RadiusProbe::new(
            &prepared.model,
            &prepared.train.encoded,
            &ntk,
            needs(NtkUse::Radius, params).options(),
            RadiusConfig {
                radii: args.radii.clone(),
                draws: args.draws,
                seed: args.analysis.seed,
            },
        )
        .map_err(|e| Failure::input("--radii/--draws", e))?;
        Some(block_on(probe.run())?)
    };
    let config = SweepConfig {
        lambdas: args.lambdas.clone(),
        steps: args.train.steps,
        optimizer: args.train.optimizer,
        loss: args.train.loss,
        selective: args.train.selective,
        lr: args.train.lr,
        step_rule: args.step_rule,
        chunk_size: args.train.chunk,
        lambda_batch: args.lambda_batch,
    };
    let sweep = Sweep::new(&prepared.model, prepared.train, prepared.eval, ntk, config)
        .map_err(|e| Failure::input("sweep flags", e))?;
    let mut reported = 0;
    // With --loss ce the actual run's loss is a cross-entropy; the linear side's is always the
    // squared loss: name each.
    let actual_loss = match args.train.loss {
        LossKind::Mse => "MSE",
        LossKind::Ce => "CE",
    };
    let mut report = crate::drive::drive(sweep, |sweep| {
        for p in &sweep.results()[reported..] {
            eprintln!(
                "λ = {:e}: gap_train {:.3e}, train loss actual ({actual_loss}) {:.4} / linear \
                 (MSE) {:.4}, ‖θ−θ0‖ {:.3e}",
                p.lambda,
                p.gap_train,
                p.train_loss_actual,
                p.train_loss_linear,
                p.param_distance_actual
            );
        }
        reported = sweep.results().len();
    })?
    .report;
    report.radius = radius;
    if let Some(dir) = &args.io.plots {
        crate::plots::sweep(&report, dir)?;
    }
    write_json(&report, args.io.out.as_deref())?;
    crate::analysis::print_notes(&notes);
    crate::analysis::print_notes(&report.notes);
    Ok(())
}
