//! The catalogue of datasets shipped with the app (`web/datasets/index.json`).

use serde::{Deserialize, Serialize};

/// One bundled dataset, as listed in `web/datasets/index.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundledDataset {
    /// A stable identifier (also the dataset name), e.g. `uci-yelp`.
    pub id: String,
    /// The file name inside `web/datasets/`, e.g. `uci-yelp.jsonl`.
    pub file: String,
    /// A human-readable title.
    pub title: String,
    /// The number of rows.
    pub rows: usize,
    /// The class names, sorted as the `data` module numbers them.
    pub classes: Vec<String>,
    /// The number of rows of each class, in the order of `classes`.
    pub class_counts: Vec<usize>,
    /// The licence of the data.
    pub licence: String,
    /// The citation to show with the data.
    pub citation: String,
    /// Where the file was extracted from (package, version, path inside it).
    pub source: String,
}

/// The whole catalogue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundledIndex {
    /// The datasets, in the order the app offers them.
    pub datasets: Vec<BundledDataset>,
}

impl BundledIndex {
    /// Parses the catalogue JSON.
    pub fn from_json(text: &str) -> Result<BundledIndex, serde_json::Error> {
        serde_json::from_str(text)
    }
}
