//! `ntk-lens ntk`: the empirical NTK of the LoRA model over samples, its spectrum and blocks.

use std::path::PathBuf;

use clap::Args;
use ntk_lens_core::block_on;
use ntk_lens_core::experiment::NtkReport;
use ntk_lens_core::ntk::{NtkBuilder, NtkOptions};
use ntk_lens_core::options::{KernelKind, Layout, ParamSet};
use ntk_lens_core::steps::Stepwise;

use crate::analysis::AnalysisArgs;
use crate::error::Failure;
use crate::output::write_json;

/// Flags of `ntk`.
#[derive(Debug, Args)]
pub struct NtkArgs {
    #[command(flatten)]
    pub analysis: AnalysisArgs,
    /// Plain NTK or the sign kernel.
    #[arg(long, value_enum, default_value_t = KernelKind::Plain)]
    pub kernel: KernelKind,
    /// Layout of the kernel and blocks in the output.
    #[arg(long, value_enum, default_value_t = Layout::Full)]
    pub layout: Layout,
    /// The parameters of the Jacobian.
    #[arg(long, value_enum, default_value_t = ParamSet::Lora)]
    pub params: ParamSet,
    /// Shift λ of the reported condition number κ(K + λI).
    #[arg(long, value_name = "LAMBDA", default_value_t = 0.0)]
    pub lambda: f64,
    /// Samples per forward/backward pass.
    #[arg(long, value_name = "N", default_value_t = 8)]
    pub chunk: usize,
    /// Write the JSON result here instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// Computes the NTK and writes the report.
pub fn run(args: NtkArgs) -> Result<(), Failure> {
    let prepared = args.analysis.prepare(None, 0)?;
    let options = NtkOptions {
        params: args.params,
        kernel: args.kernel,
        chunk_size: args.chunk,
        blocks: None,
    };
    crate::analysis::check_ntk_memory(&prepared.model, &prepared.train.encoded, &[], &options)?;
    let builder = NtkBuilder::new(&prepared.model, &prepared.train.encoded, &[], options)
        .map_err(|e| Failure::input("ntk", e))?;
    let blocks = block_on(builder.run())?;
    let report = NtkReport::new(
        &blocks,
        args.layout,
        &prepared.train.targets(prepared.classes),
        args.lambda,
        prepared.notes.clone(),
    )
    .map_err(|e| Failure::input("--lambda", e))?;
    write_json(&report, args.out.as_deref())?;
    crate::analysis::print_notes(&report.notes);
    Ok(())
}
