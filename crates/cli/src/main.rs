//! `ntk-lens`: the explorer's analyses in batch, for researchers, tests and benchmarks.
//!
//! Every subcommand writes one JSON document (to `--out FILE` or stdout). Bad arguments and
//! unusable input files (model, adapter, tokenizer, data) exit with code 2 and one line on
//! stderr naming the file; failed computations exit with code 1.
//!
//! Layout: [`args`] holds flag groups shared by subcommands (model, tokenization, LoRA),
//! [`load`] reads models, adapters, tokenizers and data files, [`cmd`] has one module per
//! subcommand, [`error`] the failure type and its exit codes.

mod allocator;
mod analysis;
mod args;
mod backend;
mod cmd;
mod drive;
mod error;
mod load;
mod output;
mod plots;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use cmd::{
    bench::BenchArgs, info::InfoArgs, logits::LogitsArgs, ntk::NtkArgs, select::SelectArgs,
    self_check::SelfCheckArgs, sweep::SweepArgs,
};
use error::Failure;

/// Command-line interface of ntk-lens.
#[derive(Debug, Parser)]
#[command(
    name = "ntk-lens",
    version,
    about = "Linearization view of LoRA fine-tuning: empirical NTK, spectra, linearized vs actual training",
    long_about = None
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check the compute backend: least squares by autodiff gradient descent vs its closed form.
    SelfCheck(SelfCheckArgs),
    /// Architecture and parameter counts of a model (with LoRA when --rank is given), as JSON.
    Info(InfoArgs),
    /// Logits of a classifier for every text of a file, each text run alone, as JSON.
    Logits(LogitsArgs),
    /// Empirical NTK of the LoRA model over samples: kernel, spectrum, κ, blocks, as JSON.
    Ntk(Box<NtkArgs>),
    /// Linearized vs actual proximal fine-tuning over a λ grid, as JSON (and SVG charts).
    Sweep(Box<SweepArgs>),
    /// Layer selection by NTK spectra; with --train, κ at init vs the outcome of fine-tuning.
    Select(Box<SelectArgs>),
    /// Benchmark: forward throughput (sentences/s) of the encoder on the CPU backend, as JSON
    /// (see benches/forward.sh).
    BenchForward(BenchArgs),
}

fn run(cli: Cli) -> Result<(), Failure> {
    let analysis = matches!(
        cli.command,
        Command::Ntk(_) | Command::Sweep(_) | Command::Select(_)
    );
    match cli.command {
        Command::SelfCheck(args) => cmd::self_check::run(args),
        Command::Info(args) => cmd::info::run(args),
        Command::Logits(args) => cmd::logits::run(args),
        Command::Ntk(args) => cmd::ntk::run(*args),
        Command::Sweep(args) => cmd::sweep::run(*args),
        Command::Select(args) => cmd::select::run(*args),
        Command::BenchForward(args) => cmd::bench::run(args),
    }?;
    if analysis {
        if let Some(mb) = backend::peak_memory_mb() {
            eprintln!("note: peak memory {mb:.0} MB");
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    allocator::keep_freed_memory();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion)
                || e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
            {
                let _ = e.print();
                return if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                    ExitCode::from(2)
                } else {
                    ExitCode::SUCCESS
                };
            }
            // One line: clap's message ("error: ..." and any lines listing the arguments
            // concerned), without the tips and the usage block.
            let rendered = e.render().to_string();
            let message: Vec<&str> = rendered
                .lines()
                .take_while(|l| !l.trim().is_empty() && !l.starts_with("Usage:"))
                .map(str::trim)
                .collect();
            let message = match message.join(" ") {
                m if m.is_empty() => "error: bad arguments".to_string(),
                m => m,
            };
            eprintln!("{message} (see `ntk-lens --help`)");
            return ExitCode::from(2);
        }
    };
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
