//! The labelled dataset the rest of the tool works on, and how it is built from a [`Table`].

use serde::{Deserialize, Serialize};

use super::columns::ColumnChoice;
use super::error::{ColumnRole, DataError};
use super::format::Format;
use super::labels::encode_labels;
use super::limits::MAX_TEXT_CHARS;
use super::table::{Cell, Table};
use super::task::{score_values, Task};

/// Where a dataset was read from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatasetSource {
    /// The file name.
    pub file: String,
    /// The format it was read as.
    pub format: Format,
    /// The columns used.
    pub columns: ColumnChoice,
}

/// A labelled text dataset: texts (or text pairs) with class indices, or with real scores for
/// regression.
///
/// A regression dataset has one output: one pseudo-class named after the score column, every
/// label 0, and the scores in [`scores`](Dataset::scores).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dataset {
    /// A short name (the file name without its extension, or a bundled dataset's id).
    pub name: String,
    /// The (first) text of every example.
    pub texts: Vec<String>,
    /// The second text of every example, for sentence-pair tasks.
    pub text_pairs: Option<Vec<String>>,
    /// The class index of every example, `< label_names.len()`.
    pub labels: Vec<usize>,
    /// The class names, by index (sorted: see [`labels`](super::labels)).
    pub label_names: Vec<String>,
    /// The score of every example, for a regression task (`None` for classification).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scores: Option<Vec<f64>>,
    /// Where the data came from.
    pub source: Option<DatasetSource>,
}

impl Dataset {
    /// The number of examples.
    pub fn len(&self) -> usize {
        self.texts.len()
    }

    /// Whether there are no examples.
    pub fn is_empty(&self) -> bool {
        self.texts.is_empty()
    }

    /// The task: regression when the dataset has scores.
    pub fn task(&self) -> Task {
        if self.scores.is_some() {
            Task::Regression
        } else {
            Task::Classification
        }
    }

    /// The number of classes (the model's outputs: 1 for regression).
    pub fn num_classes(&self) -> usize {
        self.label_names.len()
    }

    /// The number of examples of each class, by class index.
    pub fn label_counts(&self) -> Vec<usize> {
        let mut counts = vec![0; self.label_names.len()];
        for &label in &self.labels {
            if let Some(count) = counts.get_mut(label) {
                *count += 1;
            }
        }
        counts
    }

    /// The examples at `indices` (in that order), with the same classes and source.
    /// Indices out of range (of the texts, the labels or the text pairs) are skipped.
    pub fn subset(&self, indices: &[usize]) -> Dataset {
        let in_range = |i: usize| {
            i < self.texts.len()
                && i < self.labels.len()
                && self.text_pairs.as_ref().is_none_or(|p| i < p.len())
                && self.scores.as_ref().is_none_or(|s| i < s.len())
        };
        let indices: Vec<usize> = indices.iter().copied().filter(|&i| in_range(i)).collect();
        Dataset {
            name: self.name.clone(),
            texts: indices.iter().map(|&i| self.texts[i].clone()).collect(),
            text_pairs: self
                .text_pairs
                .as_ref()
                .map(|pairs| indices.iter().map(|&i| pairs[i].clone()).collect()),
            labels: indices.iter().map(|&i| self.labels[i]).collect(),
            label_names: self.label_names.clone(),
            scores: self
                .scores
                .as_ref()
                .map(|scores| indices.iter().map(|&i| scores[i]).collect()),
            source: self.source.clone(),
        }
    }

    /// Builds a dataset named `name` from the chosen columns of `table`.
    ///
    /// Texts are kept verbatim; a text that is missing, null or blank is an error
    /// ([`DataError::MissingValue`]), as is one longer than [`MAX_TEXT_CHARS`]
    /// ([`DataError::TextTooLong`]); JSON numbers and booleans in a text column are taken as their
    /// text. No row is ever skipped silently. See [`encode_labels`] for the label rules and
    /// [`score_values`] for the scores of a regression task (the choice's task, or the one the
    /// label column suggests).
    pub fn from_table(
        name: &str,
        table: &Table,
        choice: &ColumnChoice,
    ) -> Result<Dataset, DataError> {
        let column = |wanted: &str, role: ColumnRole| {
            table
                .column_index(wanted)
                .ok_or_else(|| DataError::MissingColumn {
                    file: table.file.clone(),
                    column: wanted.to_string(),
                    role,
                    available: table.columns.clone(),
                })
        };
        let text_column = column(&choice.text, ColumnRole::Text)?;
        let pair_column = match &choice.text_pair {
            Some(pair) => Some(column(pair, ColumnRole::TextPair)?),
            None => None,
        };
        let label_column = column(&choice.label, ColumnRole::Label)?;

        let texts = text_values(table, text_column, ColumnRole::Text)?;
        let text_pairs = match pair_column {
            Some(c) => Some(text_values(table, c, ColumnRole::TextPair)?),
            None => None,
        };
        let task = choice
            .task
            .unwrap_or_else(|| Task::suggest(table, label_column));
        let label_name = table.columns[label_column].clone();
        let (labels, label_names, scores) = match task {
            Task::Classification => {
                let labels = encode_labels(table, label_column)?;
                (labels.indices, labels.names, None)
            }
            Task::Regression => {
                let scores = score_values(table, label_column)?;
                (
                    vec![0; scores.len()],
                    vec![label_name.clone()],
                    Some(scores),
                )
            }
        };
        let columns = ColumnChoice {
            text: table.columns[text_column].clone(),
            text_pair: pair_column.map(|c| table.columns[c].clone()),
            label: label_name,
            task: choice.task,
        };
        Ok(Dataset {
            name: name.to_string(),
            texts,
            text_pairs,
            labels,
            label_names,
            scores,
            source: Some(DatasetSource {
                file: table.file.clone(),
                format: table.format,
                columns,
            }),
        })
    }
}

/// The texts of one column (see [`Dataset::from_table`] for the rules).
pub(crate) fn text_values(
    table: &Table,
    column: usize,
    role: ColumnRole,
) -> Result<Vec<String>, DataError> {
    let name = &table.columns[column];
    table
        .rows
        .iter()
        .map(|row| {
            let cell = row.cells.get(column).unwrap_or(&Cell::Missing);
            let text = match cell {
                Cell::Nested(_) => {
                    return Err(DataError::WrongType {
                        file: table.file.clone(),
                        line: row.line,
                        column: name.clone(),
                        expected: format!("a {role} string"),
                        found: cell.describe(),
                    })
                }
                Cell::Text(s) => s.clone(),
                other => other.display(),
            };
            if text.trim().is_empty() {
                return Err(DataError::MissingValue {
                    file: table.file.clone(),
                    line: row.line,
                    column: name.clone(),
                    role,
                });
            }
            let chars = text.chars().count();
            if chars > MAX_TEXT_CHARS {
                return Err(DataError::TextTooLong {
                    file: table.file.clone(),
                    line: row.line,
                    column: name.clone(),
                    chars,
                    limit: MAX_TEXT_CHARS,
                });
            }
            Ok(text)
        })
        .collect()
}
