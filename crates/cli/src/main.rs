//! `ntk-lens`: the explorer's analyses in batch, for researchers, tests and benchmarks.
//!
//! Every subcommand writes one JSON document (to `--out FILE` or stdout). Bad arguments exit with
//! code 2 and one line on stderr; failed computations exit with code 1.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use ntk_lens_core::device::{cpu_device, BackendInfo};
use ntk_lens_core::selfcheck::{SelfCheck, SelfCheckConfig};
use ntk_lens_core::{block_on, CoreError};

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
    SelfCheck {
        /// Gradient-descent steps.
        #[arg(long, default_value_t = 200)]
        steps: usize,
        /// Rows of the design matrix.
        #[arg(long, default_value_t = 64)]
        samples: usize,
        /// Columns of the design matrix.
        #[arg(long, default_value_t = 16)]
        features: usize,
        /// Write the JSON result here instead of stdout.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Architecture and parameter counts of a model (not available yet).
    Info,
    /// Logits of a model on a dataset (not available yet).
    Logits,
    /// Empirical NTK of the LoRA model over samples (not available yet).
    Ntk,
    /// Linearized vs actual proximal fine-tuning over a lambda grid (not available yet).
    Sweep,
    /// Layer selection by NTK spectra (not available yet).
    Select,
}

/// A failure after the arguments were understood.
#[derive(Debug)]
enum Failure {
    Core(CoreError),
    Io(String),
    NotYet(&'static str),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Core(e) => write!(f, "{e}"),
            Failure::Io(e) => write!(f, "{e}"),
            Failure::NotYet(what) => {
                write!(f, "`ntk-lens {what}` is not available in this version yet")
            }
        }
    }
}

impl From<CoreError> for Failure {
    fn from(e: CoreError) -> Self {
        Failure::Core(e)
    }
}

fn write_json(value: &serde_json::Value, out: Option<&PathBuf>) -> Result<(), Failure> {
    let text = serde_json::to_string_pretty(value).map_err(|e| Failure::Io(e.to_string()))?;
    match out {
        Some(path) => std::fs::write(path, text + "\n")
            .map_err(|e| Failure::Io(format!("cannot write {}: {e}", path.display()))),
        None => {
            let mut stdout = std::io::stdout().lock();
            writeln!(stdout, "{text}").map_err(|e| Failure::Io(e.to_string()))
        }
    }
}

fn self_check(cfg: SelfCheckConfig, out: Option<&PathBuf>) -> Result<(), Failure> {
    let device = cpu_device();
    let mut check = SelfCheck::new(cfg, &device)?;
    while !check.is_done() {
        block_on(check.step())?;
    }
    let report = block_on(check.report())?;
    let backend = BackendInfo::Cpu { reason: None };
    let value = serde_json::json!({ "backend": backend, "report": report });
    write_json(&value, out)
}

fn run(cli: Cli) -> Result<(), Failure> {
    match cli.command {
        Command::SelfCheck {
            steps,
            samples,
            features,
            out,
        } => self_check(
            SelfCheckConfig {
                samples,
                features,
                steps,
            },
            out.as_ref(),
        ),
        Command::Info => Err(Failure::NotYet("info")),
        Command::Logits => Err(Failure::NotYet("logits")),
        Command::Ntk => Err(Failure::NotYet("ntk")),
        Command::Sweep => Err(Failure::NotYet("sweep")),
        Command::Select => Err(Failure::NotYet("select")),
    }
}

fn main() -> ExitCode {
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
            // One line: clap's first line ("error: ..."), without the usage block.
            let rendered = e.render().to_string();
            let first = rendered.lines().next().unwrap_or("error: bad arguments");
            eprintln!("{first} (see `ntk-lens --help`)");
            return ExitCode::from(2);
        }
    };
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}
