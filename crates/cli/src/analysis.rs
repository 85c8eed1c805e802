//! What `ntk`, `sweep` and `select` share: the flags that choose model, adapter, data, samples
//! and LoRA, and loading them into a prepared experiment.

use std::path::PathBuf;

use clap::builder::RangedU64ValueParser;
use clap::Args;
use ntk_lens_core::data::{parse_dataset_as, ColumnChoice, DataError, Dataset, Task};
use ntk_lens_core::device::BackendInfo;
use ntk_lens_core::experiment::{prepare, LoraSetup, Prepared, SampleChoice};
use ntk_lens_core::lora::{LoraConfig, LoraModule};
use ntk_lens_core::options::{BackendChoice, SampleMethod, MAX_SAMPLES};

use crate::args::{LoraArgs, ModelArgs, TokenArgs, DEFAULT_ALPHA};
use crate::error::Failure;
use crate::load;

/// Samples analysed when --n is not given (fewer when the file has fewer rows).
const DEFAULT_N: usize = 32;

/// Model, adapter, data, samples and LoRA of an analysis.
#[derive(Debug, Args)]
pub struct AnalysisArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// A PEFT adapter directory to analyse instead of fresh LoRA (its head, if any, is used).
    #[arg(long, value_name = "DIR", conflicts_with = "rank")]
    pub adapter: Option<PathBuf>,
    /// Labelled data: JSONL/JSON (fields `text`, `label`; `text_pair` for pairs) or CSV/TSV
    /// with a header (columns guessed unless --text-col/--label-col are given). `select` takes
    /// several (repeat the flag) and pools their studies.
    #[arg(long, value_name = "FILE", required = true)]
    pub data: Vec<PathBuf>,
    /// The text column (default: guessed, e.g. `text`, `sentence`).
    #[arg(long, value_name = "NAME", requires = "label_col")]
    pub text_col: Option<String>,
    /// The second text column of sentence pairs.
    #[arg(long, value_name = "NAME", requires = "text_col")]
    pub pair_col: Option<String>,
    /// The label column (default: guessed, e.g. `label`).
    #[arg(long, value_name = "NAME", requires = "text_col")]
    pub label_col: Option<String>,
    /// The task: `classification` (one output per class) or `regression` (one output fitted to
    /// a numeric score, scored by Pearson/Spearman). Default: regression when every label is a
    /// number and they are not a small set of integers (at most 10 distinct).
    #[arg(long, value_name = "TASK")]
    pub task: Option<Task>,
    /// Number of analysed samples [default: 32, or every row of a file with fewer].
    #[arg(long, value_name = "N",
          value_parser = RangedU64ValueParser::<usize>::new().range(1..=MAX_SAMPLES as u64))]
    pub n: Option<usize>,
    /// How the N samples are chosen.
    #[arg(long, value_enum, default_value_t = SampleMethod::First)]
    pub sample: SampleMethod,
    /// Seed of --sample stratified.
    #[arg(long, value_name = "S", default_value_t = 0)]
    pub sample_seed: u64,
    /// The rows (0-based, comma-separated) of --sample picked.
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub rows: Vec<usize>,
    #[command(flatten)]
    pub tokens: TokenArgs,
    #[command(flatten)]
    pub lora: LoraArgs,
    /// Seed of the LoRA A initialisation and of a new head.
    #[arg(long, value_name = "S", default_value_t = 0)]
    pub seed: u64,
    /// Where to compute: the CPU, or a GPU through wgpu (Vulkan/Metal/DX12; builds with the
    /// `wgpu` feature), checked against the CPU first; `auto` takes a GPU that passes the check.
    #[arg(long, value_enum, default_value_t = BackendChoice::Cpu)]
    pub backend: BackendChoice,
}

/// Eval data and outputs of `sweep` and `select`.
#[derive(Debug, Args)]
pub struct EvalOutputArgs {
    /// Eval data (same format and classes as --data). `select` with several --data takes one
    /// --eval per --data, in the same order.
    #[arg(long, value_name = "FILE")]
    pub eval: Vec<PathBuf>,
    /// Use the first N rows of --eval.
    #[arg(long, value_name = "N", default_value_t = 64)]
    pub eval_n: usize,
    /// Write the JSON result here instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Write SVG charts into this directory.
    #[arg(long, value_name = "DIR")]
    pub plots: Option<PathBuf>,
}

impl EvalOutputArgs {
    /// The eval file of the `k`-th of `data_files` data files: none, or one per data file.
    pub fn eval_for(&self, k: usize, data_files: usize) -> Result<Option<&PathBuf>, Failure> {
        match self.eval.len() {
            0 => Ok(None),
            n if n == data_files => Ok(self.eval.get(k)),
            n => Err(Failure::Input(format!(
                "--eval: give one eval file per --data file ({data_files}), not {n}"
            ))),
        }
    }
}

/// The default LoRA when neither --adapter nor --rank is given: r = 8, alpha = 8 (scale 1, the
/// official code's choice), query and value of every layer.
pub fn default_lora() -> LoraConfig {
    LoraConfig::new(8, DEFAULT_ALPHA, &[LoraModule::Query, LoraModule::Value])
}

/// The memory the NTK of `options` over `train` and `eval` will need, refused before anything is
/// allocated when it is more than this machine has available (Linux `MemAvailable`, or the
/// `NTK_LENS_MEMORY_MB` environment variable, which caps it).
pub fn check_ntk_memory(
    model: &ntk_lens_core::model::Model,
    train: &[ntk_lens_core::tokenize::Encoded],
    eval: &[ntk_lens_core::tokenize::Encoded],
    options: &ntk_lens_core::ntk::NtkOptions,
) -> Result<(), Failure> {
    let Some(limit) = memory_limit() else {
        return Ok(());
    };
    let estimate = ntk_lens_core::ntk::NtkMemory::estimate(model, train, eval, options)
        .map_err(|e| Failure::input("ntk", e))?;
    if estimate.total() <= limit {
        return Ok(());
    }
    Err(Failure::input(
        "--n",
        format!(
            "the NTK needs {}, more than the {:.1} GB available; choose fewer samples (--n), a \
             shorter --max-len, a smaller --chunk or fewer adapted blocks",
            estimate.describe(),
            limit as f64 / 1e9
        ),
    ))
}

/// Bytes this process may use: `NTK_LENS_MEMORY_MB` if set, else Linux's `MemAvailable`.
fn memory_limit() -> Option<u64> {
    if let Some(mb) = std::env::var("NTK_LENS_MEMORY_MB")
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
    {
        return Some(mb * 1_000_000);
    }
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Prints plain-language notes on stderr (after a command succeeded, so that a failing command
/// still prints exactly one line).
pub fn print_notes(notes: &[String]) {
    for note in notes {
        eprintln!("note: {note}");
    }
}

/// Reads a labelled data file as `task` (`None`: suggested by the label column); errors name
/// the file, line and column.
pub fn dataset(
    path: &std::path::Path,
    columns: Option<&ColumnChoice>,
    task: Option<Task>,
) -> Result<Dataset, Failure> {
    let bytes = load::read(path)?;
    parse_dataset_as(&path.display().to_string(), &bytes, columns, task).map_err(|e| {
        let hint = match e {
            DataError::NoColumnGuessed { .. } => " with --text-col NAME --label-col NAME",
            _ => "",
        };
        Failure::Input(format!("{e}{hint}"))
    })
}

impl AnalysisArgs {
    fn columns(&self) -> Option<ColumnChoice> {
        let (text, label) = (self.text_col.as_ref()?, self.label_col.as_ref()?);
        Some(match &self.pair_col {
            Some(p) => ColumnChoice::pair(text, p, label),
            None => ColumnChoice::single(text, label),
        })
    }

    /// The one data file (`--data` given once; only `select` pools several).
    pub fn single_data(&self) -> Result<&PathBuf, Failure> {
        match self.data.as_slice() {
            [one] => Ok(one),
            _ => Err(Failure::Input(
                "--data: give one file (only `select` pools several datasets)".into(),
            )),
        }
    }

    /// [`AnalysisArgs::prepare_data`] on the one `--data` file.
    pub fn prepare(&self, eval_file: Option<&PathBuf>, eval_n: usize) -> Result<Prepared, Failure> {
        self.prepare_data(self.single_data()?, eval_file, eval_n)
    }

    /// Loads everything and prepares the experiment on `data`; `eval` rows come from
    /// `eval_file` (its first `eval_n` rows) when given. Every problem with the inputs is an
    /// input failure (exit 2).
    pub fn prepare_data(
        &self,
        data_file: &std::path::Path,
        eval_file: Option<&PathBuf>,
        eval_n: usize,
    ) -> Result<Prepared, Failure> {
        let dir = &self.model.model;
        let (device, backend) = crate::backend::device(self.backend)?;
        let config = load::config(dir)?;
        let columns = self.columns();
        // The weights load beside the tokenizer and the data (a tenth of a small NTK's run each);
        // errors are reported in the order of a sequential load: model, tokenizer, data.
        let (model, text) = std::thread::scope(|scope| {
            let text = scope.spawn(|| {
                let tokenizer = load::tokenizer(dir, &config, self.tokens.max_len)?;
                let data = dataset(data_file, columns.as_ref(), self.task)?;
                Ok::<_, Failure>((tokenizer, data))
            });
            let model = load::model_with(dir, config.clone(), &device);
            let text = text.join().unwrap_or_else(|_| {
                Err(Failure::Compute(
                    "loading the tokenizer and the data panicked".into(),
                ))
            });
            (model, text)
        });
        let mut model = model?;
        let (tokenizer, data) = text?;
        let lora = match &self.adapter {
            Some(a) => {
                load::adapter(&mut model, a)?;
                None
            }
            None => Some(LoraSetup {
                config: self.lora.config().unwrap_or_else(default_lora),
                seed: self.seed,
            }),
        };
        let n = self.n.unwrap_or(DEFAULT_N.min(data.len()));
        let choice = SampleChoice::new(self.sample, n, self.sample_seed, &self.rows);
        let mut prepared = prepare(
            model,
            &tokenizer,
            &data,
            &choice,
            &[],
            lora.as_ref(),
            self.seed,
        )
        .map_err(|e| Failure::input(data_file.display(), e))?;
        if self.n.is_none() && n < DEFAULT_N && self.sample != SampleMethod::Picked {
            prepared.notes.push(format!(
                "--n not given: analysing all {n} rows of {} (the default, {DEFAULT_N}, is more \
                 than it has)",
                data_file.display()
            ));
        }
        if let Some(path) = eval_file {
            let eval = dataset(path, columns.as_ref(), Some(data.task()))?;
            if eval.label_names != data.label_names {
                return Err(Failure::file(
                    path,
                    format!(
                        "its classes {:?} differ from the training data's {:?}",
                        eval.label_names, data.label_names
                    ),
                ));
            }
            let rows: Vec<usize> = (0..eval.len().min(eval_n)).collect();
            prepared.eval = ntk_lens_core::experiment::Samples::from_rows(&eval, &rows, &tokenizer)
                .map_err(|e| Failure::file(path, e))?;
        }
        match &backend {
            BackendInfo::Cpu { reason: None } => {}
            BackendInfo::Cpu { reason: Some(r) } => {
                prepared.notes.push(format!("computed on the CPU: {r}"))
            }
            BackendInfo::Wgpu { adapter, check } => prepared.notes.push(match check {
                Some(c) => format!(
                    "computed with wgpu on {adapter} (agrees with the CPU to {:.0e})",
                    c.max_relative_difference
                ),
                None => format!("computed with wgpu on {adapter}"),
            }),
        }
        Ok(prepared)
    }
}
