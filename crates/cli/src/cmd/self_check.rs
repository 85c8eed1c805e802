//! `ntk-lens self-check`: least squares by autodiff gradient descent vs its closed form.

use std::path::PathBuf;

use clap::Args;
use ntk_lens_core::device::{cpu_device, BackendInfo};
use ntk_lens_core::selfcheck::{SelfCheck, SelfCheckConfig};

use crate::error::Failure;
use crate::output::write_json;

/// Flags of `self-check`.
#[derive(Debug, Args)]
pub struct SelfCheckArgs {
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
}

/// Runs the check on the CPU backend and writes `{"backend": …, "report": …}`.
pub fn run(args: SelfCheckArgs) -> Result<(), Failure> {
    let cfg = SelfCheckConfig {
        samples: args.samples,
        features: args.features,
        steps: args.steps,
    };
    let device = cpu_device();
    let report = crate::drive::drive(SelfCheck::new(cfg, &device)?, |_| {})?;
    let backend = BackendInfo::Cpu { reason: None };
    let value = serde_json::json!({ "backend": backend, "report": report });
    write_json(&value, args.out.as_deref())
}
