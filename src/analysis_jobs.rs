//! What the analysis jobs (NTK, λ sweep, layer study) carry and return, and how the page's
//! setup becomes a job. Pure data, unit-tested natively; the worker runs them
//! ([`crate::analysis`]).

use ntk_lens_core::experiment::{LoraSetup, NtkReport, StudyConfig, StudyReport, SweepConfig};
use ntk_lens_core::ntk::{KernelKind, NtkBlocksData, ParamSet};
use ntk_lens_core::spectrum::Layout;
use ntk_lens_core::train::{LossKind, OptimizerKind, TrainConfig};
use serde::{Deserialize, Serialize};

use crate::setup::{
    KernelChoice, LayoutChoice, LossChoice, OptimizerChoice, ParamsChoice, SampleChoice, Setup,
};

/// Maximum eval samples the page scores (from the dataset's eval split, in file order).
pub const EVAL_SAMPLES: usize = 64;

/// How the analysed samples are chosen from the train split.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SampleJob {
    /// First n, stratified or picked.
    pub choice: SampleChoice,
    /// Number of samples (first n / stratified).
    pub n: usize,
    /// Fraction of the dataset held out for eval.
    pub eval_fraction: f64,
    /// Seed of the split.
    pub split_seed: u64,
    /// Eval samples to score.
    pub eval_n: usize,
}

/// Compute the NTK over the chosen samples (and keep it in the worker for the sweep and the
/// study).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NtkJob {
    /// The samples.
    pub samples: SampleJob,
    /// LoRA to attach.
    pub lora: LoraSetup,
    /// Plain or sign.
    pub kernel: KernelKind,
    /// LoRA or LoRA + head.
    pub params: ParamSet,
    /// Layout of the report.
    pub layout: Layout,
    /// Samples per pass.
    pub chunk_size: usize,
}

/// The NTK job's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NtkOutcome {
    /// The report (its `blocks` map is left empty: the blocks travel in `blocks`).
    pub report: NtkReport,
    /// The blocks (full layout) and cross kernels, for instant sums and linear fits.
    pub blocks: NtkBlocksData,
    /// The dataset rows of the train samples.
    pub rows: Vec<usize>,
    /// The dataset rows of the eval samples.
    pub eval_rows: Vec<usize>,
    /// Train labels.
    pub labels: Vec<usize>,
    /// Eval labels.
    pub eval_labels: Vec<usize>,
    /// Class names.
    pub class_names: Vec<String>,
    /// The sample texts (for the table under the heatmap).
    pub texts: Vec<String>,
    /// Wall time in the worker, ms.
    pub elapsed_ms: f64,
    /// The backend it ran on.
    pub backend: String,
}

/// A sweep over the NTK computed last.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepJob {
    /// The settings.
    pub config: SweepConfig,
}

/// A layer-selection study over the NTK computed last.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StudyJob {
    /// The settings.
    pub config: StudyConfig,
    /// User-chosen block sets to include.
    pub user: Vec<Vec<String>>,
}

/// The radius probe (the paper's Algorithm 1) around θ0 of the last NTK.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RadiusJob {
    /// Radii and draws.
    pub config: ntk_lens_core::experiment::RadiusConfig,
}

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

/// A zip archive of the adapter folder (`adapter_config.json`, `adapter_model.safetensors`,
/// stored uncompressed) that `peft.PeftModel.from_pretrained` reads once unpacked.
pub fn adapter_zip(files: &AdapterFiles) -> Result<Vec<u8>, String> {
    use std::io::Write;
    let mut out = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut out);
        let options =
            zip::write::FileOptions::default().compression_method(zip::CompressionMethod::Stored);
        for (name, bytes) in [
            ("adapter_config.json", files.config_json.as_bytes()),
            ("adapter_model.safetensors", files.safetensors.as_slice()),
        ] {
            zip.start_file(name, options).map_err(|e| e.to_string())?;
            zip.write_all(bytes).map_err(|e| e.to_string())?;
        }
        zip.finish().map_err(|e| e.to_string())?;
    }
    Ok(out.into_inner())
}

/// The sweep's result with its timing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepOutcome {
    /// The report.
    pub report: ntk_lens_core::experiment::SweepReport,
    /// Wall time, ms.
    pub elapsed_ms: f64,
}

/// The study's result with its timing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StudyOutcome {
    /// The report.
    pub report: StudyReport,
    /// Wall time, ms.
    pub elapsed_ms: f64,
}

/// The NTK job the setup describes.
pub fn ntk_job(setup: &Setup) -> NtkJob {
    NtkJob {
        samples: SampleJob {
            choice: setup.sample.clone(),
            n: setup.n,
            eval_fraction: setup.eval_fraction,
            split_seed: setup.split_seed,
            eval_n: EVAL_SAMPLES,
        },
        lora: LoraSetup {
            config: setup.lora_config(),
            seed: setup.lora_seed,
        },
        kernel: match setup.kernel {
            KernelChoice::Plain => KernelKind::Plain,
            KernelChoice::Sign => KernelKind::Sign,
        },
        params: match setup.params {
            ParamsChoice::Lora => ParamSet::Lora,
            ParamsChoice::LoraHead => ParamSet::LoraAndHead,
        },
        layout: match setup.layout {
            LayoutChoice::Full => Layout::Full,
            LayoutChoice::Trace => Layout::Trace,
        },
        chunk_size: 8,
    }
}

fn optimizer(setup: &Setup) -> OptimizerKind {
    match setup.optimizer {
        OptimizerChoice::Gd => OptimizerKind::Gd,
        OptimizerChoice::Adam => OptimizerKind::Adam,
    }
}

fn loss(setup: &Setup) -> LossKind {
    match setup.loss {
        LossChoice::Mse => LossKind::Mse,
        LossChoice::Ce => LossKind::Ce,
    }
}

/// The sweep the setup describes. A learning rate ≤ 0 means the default step.
pub fn sweep_job(setup: &Setup) -> SweepJob {
    SweepJob {
        config: SweepConfig {
            lambdas: setup.lambdas.clone(),
            steps: setup.steps,
            optimizer: optimizer(setup),
            loss: loss(setup),
            selective: setup.selective,
            lr: (setup.learning_rate > 0.0).then_some(setup.learning_rate),
            chunk_size: 16,
            lambda_batch: None,
        },
    }
}

/// The study the setup describes (budget 2, greedy κ, trained), with the user's chosen blocks.
pub fn study_job(setup: &Setup, budget: usize, mu_max: f64) -> StudyJob {
    let lr = if setup.learning_rate > 0.0 {
        setup.learning_rate
    } else {
        match optimizer(setup) {
            OptimizerKind::Gd => ntk_lens_core::train::default_gd_lr(mu_max, setup.lambda),
            OptimizerKind::Adam => 1e-3,
        }
    };
    StudyJob {
        config: StudyConfig {
            budget,
            strategy: ntk_lens_core::experiment::Strategy::GreedyKappa,
            kappa_lambda: 0.0,
            train: true,
            training: TrainConfig {
                lambda: setup.lambda,
                lr,
                steps: setup.steps,
                optimizer: optimizer(setup),
                loss: loss(setup),
                selective: setup.selective,
                train_head: false,
                chunk_size: 16,
            },
        },
        user: if setup.blocks.is_empty() {
            vec![]
        } else {
            vec![setup.blocks.clone()]
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adapter_zip_holds_both_files() {
        use std::io::Read;
        let files = AdapterFiles {
            lambda: 0.1,
            config_json: "{\"r\": 8}".into(),
            safetensors: vec![1, 2, 3, 250],
        };
        let bytes = adapter_zip(&files).unwrap();
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        assert_eq!(zip.len(), 2);
        let mut text = String::new();
        zip.by_name("adapter_config.json")
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
        assert_eq!(text, files.config_json);
        let mut raw = Vec::new();
        zip.by_name("adapter_model.safetensors")
            .unwrap()
            .read_to_end(&mut raw)
            .unwrap();
        assert_eq!(raw, files.safetensors);
    }

    #[test]
    fn jobs_follow_the_setup_and_round_trip() {
        let s = Setup {
            n: 12,
            learning_rate: 0.0,
            blocks: vec!["block.0.query".into()],
            ..Setup::default()
        };
        let j = ntk_job(&s);
        assert_eq!(j.samples.n, 12);
        assert_eq!(j.lora.config.r, s.lora_r);
        let back: NtkJob = serde_json::from_str(&serde_json::to_string(&j).unwrap()).unwrap();
        assert_eq!(back, j);
        let sw = sweep_job(&s);
        assert_eq!(sw.config.lambdas, s.lambdas);
        assert_eq!(sw.config.lr, None, "lr 0 means the default step");
        let st = study_job(&s, 2, 1.0);
        assert_eq!(st.user, vec![vec!["block.0.query".to_string()]]);
        assert!((st.config.training.lr - 0.05 / (1.0 + s.lambda)).abs() < 1e-12);
    }
}
