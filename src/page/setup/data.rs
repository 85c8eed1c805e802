//! The data section: the dataset (`data`), its columns (`text`, `pair`, `label`), the task
//! (`task`) and the train/eval split (`eval`, `split_seed`).

use ntk_lens_core::data::Task;
use serde::{Deserialize, Serialize};

use super::query::{non_empty, whole};
use super::Section;

/// The default bundled dataset.
pub const DEFAULT_DATASET: &str = "uci-yelp";

/// Which dataset to use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DataChoice {
    /// A bundled dataset by id (`web/datasets/index.json`), e.g. `uci-yelp`.
    Bundled(String),
    /// A file the user uploaded, by name (its bytes are not kept across reloads).
    Upload(String),
}

impl DataChoice {
    /// The query-string value: the bundled id, or `upload:<file name>`.
    pub fn key(&self) -> String {
        match self {
            DataChoice::Bundled(id) => id.clone(),
            DataChoice::Upload(name) => format!("upload:{name}"),
        }
    }
}

/// The dataset, its columns and its split.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DataSection {
    /// The dataset.
    pub choice: DataChoice,
    /// The text column; `None` = guess from the names.
    pub text_column: Option<String>,
    /// The second text column of sentence pairs.
    pub pair_column: Option<String>,
    /// The label column; `None` = guess from the names.
    pub label_column: Option<String>,
    /// Classification or regression; `None` = the task the label column suggests.
    pub task: Option<Task>,
    /// Fraction of every class held out for evaluation, in (0, 1).
    pub eval_fraction: f64,
    /// Seed of the train/eval split.
    pub split_seed: u64,
}

impl Default for DataSection {
    fn default() -> Self {
        DataSection {
            choice: DataChoice::Bundled(DEFAULT_DATASET.into()),
            text_column: None,
            pair_column: None,
            label_column: None,
            task: None,
            eval_fraction: 0.2,
            split_seed: 0,
        }
    }
}

impl Section for DataSection {
    const KEYS: &'static [&'static str] = &[
        "data",
        "text",
        "pair",
        "label",
        "task",
        "eval",
        "split_seed",
    ];
    const OMIT_EMPTY: &'static [&'static str] = &["text", "pair", "label", "task"];

    fn set(&mut self, key: &str, v: &str) -> Result<(), String> {
        match key {
            "data" => match v.strip_prefix("upload:") {
                Some(name) if !name.trim().is_empty() => {
                    self.choice = DataChoice::Upload(name.trim().to_string())
                }
                None if !v.is_empty()
                    && v.bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') =>
                {
                    self.choice = DataChoice::Bundled(v.to_string())
                }
                _ => {
                    return Err(
                        "expected a bundled dataset id (e.g. uci-yelp) or upload:<file name>"
                            .into(),
                    )
                }
            },
            "text" => self.text_column = non_empty(v),
            "pair" => self.pair_column = non_empty(v),
            "label" => self.label_column = non_empty(v),
            "task" => match v.parse::<Task>() {
                Ok(t) => self.task = Some(t),
                Err(_) => return Err("expected classification or regression".into()),
            },
            "eval" => match v.parse::<f64>() {
                Ok(x) if x > 0.0 && x < 1.0 => self.eval_fraction = x,
                _ => return Err("expected a number strictly between 0 and 1".into()),
            },
            _ => self.split_seed = whole(v)?,
        }
        Ok(())
    }

    fn pairs(&self) -> Vec<(&'static str, String)> {
        let opt = |o: &Option<String>| o.clone().unwrap_or_default();
        vec![
            ("data", self.choice.key()),
            ("text", opt(&self.text_column)),
            ("pair", opt(&self.pair_column)),
            ("label", opt(&self.label_column)),
            ("task", self.task.map(|t| t.to_string()).unwrap_or_default()),
            ("eval", self.eval_fraction.to_string()),
            ("split_seed", self.split_seed.to_string()),
        ]
    }
}
