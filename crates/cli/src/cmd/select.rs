//! `ntk-lens select`: layer selection from the NTK at initialisation, and (with --train)
//! whether κ at initialisation predicts the outcome of fine-tuning.

use clap::Args;
use ntk_lens_core::block_on;
use ntk_lens_core::data::dataset_name;
use ntk_lens_core::experiment::{
    needs, pool, NtkUse, PooledStudy, Study, StudyConfig, StudyReport,
};
use ntk_lens_core::ntk::{NtkBlocks, NtkBuilder, ParamSet};
use ntk_lens_core::options::{Recipe, StepRule, Strategy};
use ntk_lens_core::spectrum::{weyl, SpectrumOptions};
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
    /// Gradient steps of the candidates: per-subset (η_S = 0.05/(μ_max(K_S) + λ), the
    /// default) or shared (one step; the default when --lr is given).
    #[arg(long, value_enum, value_name = "RULE")]
    pub step_rule: Option<StepRule>,
    /// How each candidate is trained: `theory` (full-batch steps on LoRA alone, as the other
    /// flags say) or `paper` (the paper's code's recipe scaled to N samples: minibatch Adam at
    /// 4e-3 or --lr, 10 epochs, 6 % warm-up with linear decay, cross-entropy, head trained, the
    /// epoch with the lowest eval loss; it replaces --optimizer, --loss, --steps and
    /// --step-rule).
    #[arg(long, value_enum, default_value_t = Recipe::Theory)]
    pub recipe: Recipe,
    #[command(flatten)]
    pub training: TrainArgs,
    #[command(flatten)]
    pub io: EvalOutputArgs,
}

/// Runs the study on each `--data` file and writes the report: the study itself for one file,
/// the studies and their correlations pooled within studies ([`PooledReport`], its `method`,
/// `per_study` and bootstrap intervals at the top level of the JSON) for several.
pub fn run(args: SelectArgs) -> Result<(), Failure> {
    if let [data] = args.analysis.data.as_slice() {
        let report = study_on(&args, data, args.io.eval_for(0, 1)?)?;
        if let Some(dir) = &args.io.plots {
            crate::plots::select(&report, dir)?;
        }
        write_json(&report, args.io.out.as_deref())?;
        crate::analysis::print_notes(&report.notes);
        return Ok(());
    }
    let mut studies = Vec::new();
    let files = args.analysis.data.len();
    args.io.eval_for(0, files)?;
    for (k, data) in args.analysis.data.iter().enumerate() {
        eprintln!("study on {}", data.display());
        let report = study_on(&args, data, args.io.eval_for(k, files)?)?;
        studies.push(PooledStudy {
            dataset: dataset_name(&data.display().to_string()),
            report,
        });
    }
    let pooled = pool(studies).map_err(|e| Failure::input("--data", e))?;
    if let Some(dir) = &args.io.plots {
        crate::plots::pooled(&pooled, dir)?;
    }
    write_json(&pooled, args.io.out.as_deref())?;
    crate::analysis::print_notes(&pooled.notes);
    Ok(())
}

/// The study on one data file (the Weyl bounds of its greedy steps on stderr).
fn study_on(
    args: &SelectArgs,
    data: &std::path::Path,
    eval: Option<&std::path::PathBuf>,
) -> Result<StudyReport, Failure> {
    let prepared = args.analysis.prepare_data(data, eval, args.io.eval_n)?;
    // The NTK the study needs: the plain kernel of the LoRA blocks.
    let options = needs(NtkUse::Study, ParamSet::Lora).options();
    crate::analysis::check_ntk_memory(&prepared.model, &prepared.train.encoded, &[], &options)?;
    let ntk = block_on(
        NtkBuilder::new(&prepared.model, &prepared.train.encoded, &[], options)
            .map_err(|e| Failure::input("ntk", e))?
            .run(),
    )?;
    let t = &args.training;
    let step_rule = args.step_rule.unwrap_or(if t.lr.is_some() {
        StepRule::Shared
    } else {
        StepRule::PerSubset
    });
    let training = TrainConfig {
        lambda: args.lambda,
        // Replaced per candidate by the study (step_rule, lr).
        lr: t.lr.unwrap_or(1e-3),
        steps: t.steps,
        optimizer: t.optimizer,
        loss: t.loss,
        selective: t.selective,
        train_head: false,
        chunk_size: t.chunk,
        ..TrainConfig::default()
    };
    let config = StudyConfig {
        budget: args.budget,
        strategy: args.strategy,
        kappa_lambda: args.kappa_lambda,
        train: args.train,
        training,
        step_rule,
        lr: t.lr,
        recipe: args.recipe,
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
    let mut report = crate::drive::drive(study, |s| {
        let now = label(s);
        if now != current {
            if let Some(done) = &current {
                eprintln!("trained {done}");
            }
            current = now;
        }
    })?;
    // The model directory's name (pooling refuses studies of different models).
    let dir = &args.analysis.model.model;
    report.model = dir.file_name().map_or_else(
        || dir.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    print_weyl_steps(&report, &ntk)?;
    Ok(report)
}

/// For each greedy step after the first, the Weyl bounds of adding its block to the blocks
/// chosen before (as the page's Layer selection tab shows them), on stderr.
fn print_weyl_steps(report: &StudyReport, ntk: &NtkBlocks) -> Result<(), Failure> {
    let Some(greedy) = &report.greedy else {
        return Ok(());
    };
    let chosen = greedy.chosen();
    let opts = SpectrumOptions::for_f32(ntk.n * ntk.classes);
    let kappa = |k: Option<f64>| k.map_or_else(|| "singular".to_string(), |k| format!("{k:.4e}"));
    for k in 1..chosen.len() {
        let base = ntk.subset(&chosen[..k])?;
        let Some(added) = ntk.train.get(chosen[k]) else {
            continue;
        };
        let w = weyl(&base, added, greedy.lambda, &opts)?;
        eprintln!(
            "greedy step {}: + {}: κ {} → {} (Weyl bound {}), eigenvalues within their Weyl \
             bounds: {}",
            k + 1,
            chosen[k],
            kappa(w.kappa_base),
            kappa(w.kappa_sum),
            kappa(w.kappa_bound),
            if w.check().relative_violation <= 1e-6 {
                "yes"
            } else {
                "no"
            }
        );
    }
    Ok(())
}
