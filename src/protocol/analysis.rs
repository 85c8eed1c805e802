//! The analysis jobs (NTK, eval kernel, λ sweep, layer study, radius probe, adapter export):
//! what they carry and what they return. Pure data; the page builds them from its setup
//! (`page::jobs`), the worker runs them.

use ntk_lens_core::experiment::{
    LoraSetup, NtkReport, RadiusConfig, RadiusPoint, SampleChoice, StudyConfig, StudyReport,
    SweepConfig, SweepReport,
};
use ntk_lens_core::ntk::{NtkBlocksData, NtkOptions};
use ntk_lens_core::options::Layout;
use serde::{Deserialize, Serialize};

/// Which samples an analysis runs on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SampleJob {
    /// The train samples, from the dataset's train split (picked rows index the dataset).
    pub choice: SampleChoice,
    /// Fraction of the dataset held out for eval.
    pub eval_fraction: f64,
    /// Seed of the split.
    pub split_seed: u64,
    /// Eval samples to score (the first of the eval split).
    pub eval_n: usize,
}

/// Compute the NTK over the chosen train samples and keep it in the worker (for the eval
/// kernel, the sweep and the study).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NtkJob {
    /// The samples.
    pub samples: SampleJob,
    /// LoRA to attach.
    pub lora: LoraSetup,
    /// The NTK: plain or sign, LoRA or LoRA + head, samples per pass (the worker lowers them to
    /// fit the tab's memory).
    pub options: NtkOptions,
    /// Layout of the report.
    pub layout: Layout,
}

/// The NTK job's result (train samples only; the eval kernel follows as its own job).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NtkOutcome {
    /// The report (its `blocks` map is left empty: the blocks travel in `blocks`).
    pub report: NtkReport,
    /// The blocks (full layout), for instant sums and linear fits.
    pub blocks: NtkBlocksData,
    /// The dataset rows of the train samples.
    pub rows: Vec<usize>,
    /// The dataset rows of the eval samples (their kernel comes with [`EvalKernelOutcome`]).
    pub eval_rows: Vec<usize>,
    /// Train labels.
    pub labels: Vec<usize>,
    /// Eval labels.
    pub eval_labels: Vec<usize>,
    /// Train scores, for regression.
    #[serde(default)]
    pub scores: Option<Vec<f64>>,
    /// Eval scores, for regression.
    #[serde(default)]
    pub eval_scores: Option<Vec<f64>>,
    /// Class names.
    pub class_names: Vec<String>,
    /// The sample texts (for the table under the heatmap).
    pub texts: Vec<String>,
    /// Wall time in the worker, ms.
    pub elapsed_ms: f64,
    /// The backend it ran on.
    pub backend: String,
}

/// The kernels between the eval samples and the train samples of the NTK computed last
/// (for the linearized model's eval predictions).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalKernelJob {}

/// The eval kernel job's result: the NTK's blocks again, now with their cross kernels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalKernelOutcome {
    /// The blocks with cross kernels and eval logits.
    pub blocks: NtkBlocksData,
    /// Wall time in the worker, ms.
    pub elapsed_ms: f64,
}

/// A sweep over the NTK computed last.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepJob {
    /// The settings.
    pub config: SweepConfig,
}

/// The sweep's result with its timing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepOutcome {
    /// The report.
    pub report: SweepReport,
    /// Wall time, ms.
    pub elapsed_ms: f64,
}

/// A layer-selection study over the NTK computed last.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StudyJob {
    /// The settings.
    pub config: StudyConfig,
    /// User-chosen block sets to include.
    pub user: Vec<Vec<String>>,
}

/// The study's result with its timing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StudyOutcome {
    /// The report.
    pub report: StudyReport,
    /// Wall time, ms.
    pub elapsed_ms: f64,
}

/// The radius probe (the paper's Algorithm 1) around θ0 of the last NTK.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RadiusJob {
    /// Radii and draws.
    pub config: RadiusConfig,
}

/// The radius probe's result.
pub type RadiusOutcome = Vec<RadiusPoint>;

/// Export the model fine-tuned at one λ of the last sweep as a PEFT adapter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExportJob {
    /// Index of the λ in the last sweep's results.
    pub index: usize,
}

/// A PEFT adapter folder's two files.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdapterFiles {
    /// The λ it was trained with.
    pub lambda: f64,
    /// `adapter_config.json`.
    pub config_json: String,
    /// `adapter_model.safetensors`.
    pub safetensors: Vec<u8>,
}
