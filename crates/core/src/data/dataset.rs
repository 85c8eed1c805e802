//! The labelled dataset the rest of the tool works on, and how it is built from a [`Table`].

use serde::{Deserialize, Serialize};

use super::columns::ColumnChoice;
use super::error::{ColumnRole, DataError};
use super::format::Format;
use super::labels::encode_labels;
use super::limits::MAX_TEXT_CHARS;
use super::table::{Cell, Table};

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

/// A labelled text-classification dataset: texts (or text pairs) with class indices.
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

    /// The number of classes.
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
            source: self.source.clone(),
        }
    }

    /// Builds a dataset named `name` from the chosen columns of `table`.
    ///
    /// Texts are kept verbatim; a text that is missing, null or blank is an error
    /// ([`DataError::MissingValue`]), as is one longer than [`MAX_TEXT_CHARS`]
    /// ([`DataError::TextTooLong`]); JSON numbers and booleans in a text column are taken as their
    /// text. No row is ever skipped silently. See [`encode_labels`] for the label rules.
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
        let labels = encode_labels(table, label_column)?;
        let columns = ColumnChoice {
            text: table.columns[text_column].clone(),
            text_pair: pair_column.map(|c| table.columns[c].clone()),
            label: table.columns[label_column].clone(),
        };
        Ok(Dataset {
            name: name.to_string(),
            texts,
            text_pairs,
            labels: labels.indices,
            label_names: labels.names,
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
