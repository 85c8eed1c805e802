//! `ntk-lens select`: layer selection from the NTK at initialisation, and (with --train)
//! whether κ at initialisation predicts the outcome of fine-tuning.

use clap::Args;
use ntk_lens_core::block_on;
use ntk_lens_core::experiment::{Study, StudyConfig};
use ntk_lens_core::ntk::{NtkBuilder, NtkOptions};
use ntk_lens_core::options::Strategy;
use ntk_lens_core::steps::Stepwise;
use ntk_lens_core::train::TrainConfig;

use crate::analysis::{AnalysisArgs, EvalOutputArgs};
use crate::cmd::sweep::TrainArgs;
use crate::error::Failure;
use crate::output::write_json;

/// Flags of `select`.
#[derive(Debug, Args)]
pub struct SelectArgs {
    #[command(flatten)]
    pub analysis: AnalysisArgs,
    /// Number of (layer, module) blocks to select.
    #[arg(long, value_name = "K", default_value_t = 2)]
    pub budget: usize,
    /// How to select.
    #[arg(long, value_enum, default_value_t = Strategy::GreedyKappa)]
    pub strategy: Strategy,
    /// Shift λ of κ(K_S + λI) used for scoring.
    #[arg(long, value_name = "LAMBDA", default_value_t = 0.0)]
    pub kappa_lambda: f64,
    /// Fine-tune every candidate and correlate κ with the outcome.
    #[arg(long)]
    pub train: bool,
    /// Proximal λ of the fine-tuning runs.
    #[arg(long, value_name = "LAMBDA", default_value_t = 1e-3)]
    pub lambda: f64,
    #[command(flatten)]
    pub training: TrainArgs,
    #[command(flatten)]
    pub io: EvalOutputArgs,
}

/// Runs the study and writes the report.
pub fn run(args: SelectArgs) -> Result<(), Failure> {
    let prepared = args
        .analysis
        .prepare(args.io.eval.as_ref(), args.io.eval_n)?;
    let ntk = block_on(
        NtkBuilder::new(
            &prepared.model,
            &prepared.train.encoded,
            &[],
            NtkOptions::default(),
        )
        .map_err(|e| Failure::input("ntk", e))?
        .run(),
    )?;
    let t = &args.training;
    let training = TrainConfig {
        lambda: args.lambda,
        lr: t.lr.unwrap_or(match t.optimizer {
            ntk_lens_core::train::OptimizerKind::Gd => {
                let mu = ntk
                    .total()?
                    .spectrum(&Default::default())
                    .map(|s| s.max)
                    .unwrap_or(1.0);
                ntk_lens_core::train::default_gd_lr(mu, args.lambda)
            }
            ntk_lens_core::train::OptimizerKind::Adam => 1e-3,
        }),
        steps: t.steps,
        optimizer: t.optimizer,
        loss: t.loss,
        selective: t.selective,
        train_head: false,
        chunk_size: t.chunk,
    };
    let config = StudyConfig {
        budget: args.budget,
        strategy: args.strategy,
        kappa_lambda: args.kappa_lambda,
        train: args.train,
        training,
    };
    let study = Study::new(
        &prepared.model,
        prepared.train,
        prepared.eval,
        &ntk,
        config,
        &[],
    )
    .map_err(|e| Failure::input("select flags", e))?;
    let label = |s: &Study| s.current().map(|c| c.blocks.join("+"));
    let mut current = label(&study);
    let report = crate::drive::drive(study, |s| {
        let now = label(s);
        if now != current {
            if let Some(done) = &current {
                eprintln!("trained {done}");
            }
            current = now;
        }
    })?;
    if let Some(dir) = &args.io.plots {
        crate::plots::select(&report, dir)?;
    }
    write_json(&report, args.io.out.as_deref())?;
    crate::analysis::print_notes(&report.notes);
    Ok(())
}
