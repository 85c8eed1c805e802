//! `ntk-lens ntk`: the empirical NTK of the LoRA model over samples, its spectrum and blocks.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use ntk_lens_core::block_on;
use ntk_lens_core::experiment::NtkReport;
use ntk_lens_core::ntk::{KernelKind, NtkBuilder, NtkOptions, ParamSet};
use ntk_lens_core::spectrum::Layout;

use crate::analysis::AnalysisArgs;
use crate::error::Failure;
use crate::output::write_json;

/// `plain` or `sign`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KernelArg {
    /// The NTK J Jᵀ.
    Plain,
    /// The official code's asymmetric smooth-sign kernel J s(J)ᵀ.
    Sign,
}

/// `full` or `trace`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LayoutArg {
    /// nC × nC, sample-major (row i*C + a).
    Full,
    /// n × n, summed over classes.
    Trace,
}

/// `lora` or `lora+head`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ParamsArg {
    /// Every LoRA A and B.
    Lora,
    /// LoRA plus the classification head.
    #[value(name = "lora+head")]
    LoraHead,
}

impl ParamsArg {
    /// The core's parameter set.
    pub fn set(self) -> ParamSet {
        match self {
            ParamsArg::Lora => ParamSet::Lora,
            ParamsArg::LoraHead => ParamSet::LoraAndHead,
        }
    }
}

/// Flags of `ntk`.
#[derive(Debug, Args)]
pub struct NtkArgs {
    #[command(flatten)]
    pub analysis: AnalysisArgs,
    /// Plain NTK or the sign kernel.
    #[arg(long, value_enum, default_value_t = KernelArg::Plain)]
    pub kernel: KernelArg,
    /// Layout of the kernel and blocks in the output.
    #[arg(long, value_enum, default_value_t = LayoutArg::Full)]
    pub layout: LayoutArg,
    /// The parameters of the Jacobian.
    #[arg(long, value_enum, default_value_t = ParamsArg::Lora)]
    pub params: ParamsArg,
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
        params: args.params.set(),
        kernel: match args.kernel {
            KernelArg::Plain => KernelKind::Plain,
            KernelArg::Sign => KernelKind::Sign,
        },
        chunk_size: args.chunk,
        blocks: None,
    };
    let builder = NtkBuilder::new(&prepared.model, &prepared.train.encoded, &[], options)
        .map_err(|e| Failure::input("ntk", e))?;
    let blocks = block_on(builder.run())?;
    let layout = match args.layout {
        LayoutArg::Full => Layout::Full,
        LayoutArg::Trace => Layout::Trace,
    };
    let report = NtkReport::new(
        &blocks,
        layout,
        &prepared.train.labels,
        args.lambda,
        prepared.notes.clone(),
    )
    .map_err(|e| Failure::input("--lambda", e))?;
    write_json(&report, args.out.as_deref())?;
    crate::analysis::print_notes(&report.notes);
    Ok(())
}
