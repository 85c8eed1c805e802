//! The payloads of the dataset and model jobs (see [`super::Job`]) and the pure
//! summaries the worker sends back. No web-sys: unit-tested natively.
//!
//! Byte payloads (an uploaded file, dropped model files) do not travel inside the JSON: the page
//! posts `[json, bytes…]` with the buffers transferred, and the job says how many to expect.

use ntk_lens_core::data::{
    ColumnChoice, Dataset, Format, LengthHistogram, LengthUnit, Table, Task,
};
use ntk_lens_core::lora::LoraConfig;
use ntk_lens_core::model::{lora_parameter_count, Family, HeadKind, ModelConfig, ParameterCounts};
use serde::{Deserialize, Serialize};

use super::hub::{HubModel, DEFAULT_HUB};

/// Rows of the raw table and of the dataset shown in the preview.
pub const PREVIEW_ROWS: usize = 200;
/// Characters of a cell shown in the preview.
pub const PREVIEW_CHARS: usize = 160;
/// Bins of the text-length histogram.
pub const HISTOGRAM_BINS: usize = 20;

/// Where a dataset comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DataSource {
    /// A bundled file, fetched by the worker from `./datasets/<file>`.
    Bundled {
        /// The catalogue id, used as the dataset name.
        id: String,
        /// The file name in `web/datasets/`.
        file: String,
    },
    /// A file the user uploaded; its bytes are the request's one attachment.
    Upload {
        /// The file name (tells the format and names errors).
        file_name: String,
    },
    /// The table read last (to choose other columns or another split).
    Current,
}

/// Read (or re-read) a dataset and build it from the chosen columns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataJob {
    /// What to read.
    pub source: DataSource,
    /// The columns; `None` = guess from the names.
    pub columns: Option<ColumnChoice>,
    /// The task when the columns are guessed (chosen columns carry their own).
    #[serde(default)]
    pub task: Option<Task>,
    /// Evaluation fraction of the split.
    pub eval_fraction: f64,
    /// Seed of the split.
    pub split_seed: u64,
}

/// What the Data tab shows of a table read from a file, before the columns are chosen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableSummary {
    /// The file name.
    pub file: String,
    /// The format it was read as.
    pub format: Format,
    /// The column names.
    pub columns: Vec<String>,
    /// The number of data rows.
    pub rows: usize,
    /// The first [`PREVIEW_ROWS`] rows, cells cut to [`PREVIEW_CHARS`].
    pub preview: Vec<Vec<String>>,
    /// The 1-based file line of each preview row.
    pub lines: Vec<usize>,
}

impl TableSummary {
    /// Summarises `table`.
    pub fn of(table: &Table) -> Self {
        TableSummary {
            file: table.file.clone(),
            format: table.format,
            columns: table.columns.clone(),
            rows: table.len(),
            preview: table.preview(PREVIEW_ROWS, PREVIEW_CHARS),
            lines: table
                .rows
                .iter()
                .take(PREVIEW_ROWS)
                .map(|r| r.line)
                .collect(),
        }
    }
}

/// The train/eval split sizes, or why the dataset cannot be split.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SplitSummary {
    /// Rows in each part, and each part's class counts.
    Sizes {
        /// Training rows.
        train: usize,
        /// Evaluation rows.
        eval: usize,
        /// Training rows per class.
        train_counts: Vec<usize>,
    },
    /// The core's reason.
    Error(String),
}

/// The range and mean of a regression dataset's scores.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ScoreSummary {
    /// The smallest score.
    pub min: f64,
    /// The largest score.
    pub max: f64,
    /// The mean score.
    pub mean: f64,
}

impl ScoreSummary {
    /// Summarises `scores` (`None` when empty).
    pub fn of(scores: &[f64]) -> Option<ScoreSummary> {
        if scores.is_empty() {
            return None;
        }
        Some(ScoreSummary {
            min: scores.iter().copied().fold(f64::INFINITY, f64::min),
            max: scores.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            mean: scores.iter().sum::<f64>() / scores.len() as f64,
        })
    }
}

/// What the Data tab shows of the active dataset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatasetSummary {
    /// The dataset name.
    pub name: String,
    /// The file it was read from.
    pub file: String,
    /// The columns used.
    pub columns: ColumnChoice,
    /// Rows.
    pub rows: usize,
    /// Class names by index (the score column's name, for regression).
    pub label_names: Vec<String>,
    /// Rows per class.
    pub label_counts: Vec<usize>,
    /// Classification, or regression on a numeric score.
    #[serde(default)]
    pub task: Task,
    /// The scores' range and mean, for regression.
    #[serde(default)]
    pub scores: Option<ScoreSummary>,
    /// Text lengths in words (text + pair).
    pub histogram: LengthHistogram,
    /// The split.
    pub split: SplitSummary,
}

impl DatasetSummary {
    /// Summarises `dataset` with the split `eval_fraction`, `seed`.
    pub fn of(dataset: &Dataset, eval_fraction: f64, seed: u64) -> Self {
        let split = match dataset.split_indices(eval_fraction, seed) {
            Ok(s) => SplitSummary::Sizes {
                train: s.train.len(),
                eval: s.eval.len(),
                train_counts: dataset.subset(&s.train).label_counts(),
            },
            Err(e) => SplitSummary::Error(e.to_string()),
        };
        let source = dataset.source.as_ref();
        DatasetSummary {
            name: dataset.name.clone(),
            file: source.map(|s| s.file.clone()).unwrap_or_default(),
            columns: source
                .map(|s| s.columns.clone())
                .unwrap_or_else(|| ColumnChoice::single("text", "label")),
            rows: dataset.len(),
            label_names: dataset.label_names.clone(),
            label_counts: dataset.label_counts(),
            task: dataset.task(),
            scores: dataset.scores.as_deref().and_then(ScoreSummary::of),
            histogram: dataset.length_histogram(LengthUnit::Words, HISTOGRAM_BINS),
            split,
        }
    }
}

/// The answer to a [`DataJob`]: the table read, and the dataset built from it or why not (the
/// worker then keeps its previous dataset).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataReport {
    /// The table.
    pub table: TableSummary,
    /// The new active dataset, or the core's message.
    pub dataset: Result<DatasetSummary, String>,
    /// Milliseconds the worker took to read the file and build the dataset.
    #[serde(default)]
    pub read_ms: f64,
}

/// Where the bundled MiniLM files are served, relative to the worker script.
pub const MINILM_BASE: &str = "./models/all-MiniLM-L6-v2/";
/// Weight files of a served model, tried in order (fp16 first, when the converter made it).
pub const WEIGHT_FILES: [&str; 2] = ["model.fp16.safetensors", "model.safetensors"];

/// Where a model comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ModelSource {
    /// all-MiniLM-L6-v2, served with the page at [`MINILM_BASE`].
    Bundled,
    /// A repository on a Hugging Face hub (or a mirror) at a revision (cached in Cache
    /// Storage).
    Hub {
        /// The hub's base URL (see [`super::hub::parse_endpoint`]).
        endpoint: String,
        /// The repository and revision.
        model: HubModel,
    },
    /// Dropped files; the request's three attachments are config.json, the safetensors file
    /// and tokenizer.json, in that order.
    Dropped {
        /// The names of the three files, for messages.
        names: Vec<String>,
    },
}

impl ModelSource {
    /// distilroberta-base at the pinned revision, from huggingface.co.
    pub fn distilroberta() -> Self {
        ModelSource::Hub {
            endpoint: DEFAULT_HUB.into(),
            model: HubModel::distilroberta(),
        }
    }
}

/// Load a model and its tokenizer into the worker's session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelJob {
    /// Where from.
    pub source: ModelSource,
    /// Maximum sequence length of the tokenizer.
    pub max_len: usize,
    /// Classes of the current dataset (for the head's count), when known.
    pub num_classes: Option<usize>,
    /// The LoRA setup (for the trainable count).
    pub lora: LoraConfig,
    /// The bytes to download, when known (for the progress bar).
    #[serde(default)]
    pub expected_bytes: Option<usize>,
}

/// Attach a PEFT adapter to the loaded model, or take it off. To attach, the request's two
/// attachments are `adapter_config.json` and `adapter_model.safetensors`, in that order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdapterJob {
    /// The two files' names (for messages); empty to remove the adapter.
    pub names: Vec<String>,
}

/// What the Model tab shows of an attached adapter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdapterSummary {
    /// The folder or file name it came from.
    pub name: String,
    /// Its LoRA configuration (rank, alpha, modules, layers).
    pub lora: LoraConfig,
    /// Its LoRA parameters.
    pub parameters: usize,
    /// The adapted modules' short names (e.g. `query`), in order.
    pub modules: Vec<String>,
    /// The adapted layers, in order.
    pub layers: Vec<usize>,
    /// Whether it brought its own classification head.
    pub head: bool,
}

/// What the Model tab shows of a loaded model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelSummary {
    /// A name for people, e.g. `all-MiniLM-L6-v2`.
    pub name: String,
    /// The weight file loaded, e.g. `model.safetensors`.
    pub weights_file: String,
    /// Bytes of all files loaded.
    pub bytes: usize,
    /// The architecture.
    pub config: ModelConfig,
    /// Parameters of the loaded tensors (head and LoRA are counted separately below).
    pub counts: ParameterCounts,
    /// The head the checkpoint has, or the one this tool adds.
    pub head_kind: HeadKind,
    /// Whether the checkpoint had its own head.
    pub own_head: bool,
    /// Vocabulary of the tokenizer (added tokens included).
    pub tokenizer_vocab: usize,
    /// Where it came from: the hub URL of its weights, the served path or "dropped files".
    #[serde(default)]
    pub origin: String,
}

impl ModelSummary {
    /// Trainable LoRA parameters for `lora` (the core's formula), or its error message.
    pub fn lora_count(&self, lora: &LoraConfig) -> Result<usize, String> {
        lora_parameter_count(&self.config, lora).map_err(|e| e.to_string())
    }

    /// Parameters of the head for `num_classes` classes (the checkpoint's own head when it has
    /// one).
    pub fn head_count(&self, num_classes: usize) -> usize {
        if self.own_head {
            self.counts.head
        } else {
            self.head_kind
                .parameter_count(self.config.hidden_size, num_classes)
        }
    }

    /// A family label, e.g. `BERT (MiniLM)`.
    pub fn family_label(&self) -> &'static str {
        match self.config.family {
            Family::Bert => "BERT family",
            Family::Roberta => "RoBERTa family",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ntk_lens_core::data::parse_dataset;

    #[test]
    fn summaries_of_a_small_file() {
        let csv = "text,label\nGreat food,pos\nAwful,neg\nFine place to eat,pos\nBad,neg\nok,pos\n";
        let table = ntk_lens_core::data::read_table("r.csv", csv.as_bytes()).unwrap();
        let t = TableSummary::of(&table);
        assert_eq!(t.columns, ["text", "label"]);
        assert_eq!(t.rows, 5);
        assert_eq!(t.preview[1], ["Awful", "neg"]);
        assert_eq!(t.lines[..2], [2, 3]);
        let d = parse_dataset("r.csv", csv.as_bytes(), None).unwrap();
        let s = DatasetSummary::of(&d, 0.2, 1);
        assert_eq!(s.label_names, ["neg", "pos"]);
        assert_eq!(s.label_counts, [2, 3]);
        assert_eq!(s.histogram.max, 4);
        // round(0.2·2) = 0 → 1 per class; round(0.2·3) = 1.
        assert_eq!(
            s.split,
            SplitSummary::Sizes {
                train: 3,
                eval: 2,
                train_counts: vec![1, 2]
            }
        );
        let bad = DatasetSummary::of(&d, 1.5, 1);
        assert!(matches!(bad.split, SplitSummary::Error(ref m) if m.contains("strictly between")));
        let json = serde_json::to_string(&DataReport {
            table: t,
            dataset: Ok(s),
            read_ms: 0.0,
        })
        .unwrap();
        assert!(json.contains(r#""dataset":{"Ok":"#), "{json:.300}");
        assert_eq!(
            (s_task(&d), ScoreSummary::of(&[])),
            (Task::Classification, None)
        );
        let sts = "text,score\na,0.5\nb,4.5\nc,1.0\n";
        let d = parse_dataset("sts.csv", sts.as_bytes(), None).unwrap();
        let s = DatasetSummary::of(&d, 0.34, 1);
        assert_eq!(s.task, Task::Regression);
        assert_eq!(
            s.scores,
            Some(ScoreSummary {
                min: 0.5,
                max: 4.5,
                mean: 2.0
            })
        );
    }

    fn s_task(d: &Dataset) -> Task {
        DatasetSummary::of(d, 0.2, 1).task
    }
}
