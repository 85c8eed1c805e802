//! What a label column asks of the model: classes (one output per class) or a real score
//! (regression, one output), and how a score column is read.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::error::{ColumnRole, DataError};
use super::table::{Cell, Table};

/// Integer labels with at most this many distinct values are classes (e.g. 1–5 stars), not a
/// score; see [`Task::suggest`].
pub const MAX_INTEGER_CLASSES: usize = 10;

/// The learning task of a dataset.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Task {
    /// Class labels, fitted as one-hot targets over `C` outputs; scored by accuracy and MCC.
    #[default]
    Classification,
    /// A real score per example (STS-B-style similarity), fitted by one output under the
    /// squared loss; scored by Pearson and Spearman correlation.
    Regression,
}

impl Task {
    /// The task the label column `column` suggests: regression when every label is a finite
    /// number and they are not a small set of integers (more than [`MAX_INTEGER_CLASSES`]
    /// distinct values, or any fractional one); classification otherwise (words, booleans,
    /// blanks, few integers).
    pub fn suggest(table: &Table, column: usize) -> Task {
        let mut distinct: Vec<f64> = Vec::new();
        let mut fractional = false;
        for row in &table.rows {
            let Some(x) = row.cells.get(column).and_then(number_of) else {
                return Task::Classification;
            };
            fractional |= x.fract() != 0.0;
            if distinct.len() <= MAX_INTEGER_CLASSES && !distinct.contains(&x) {
                distinct.push(x);
            }
        }
        if !table.rows.is_empty() && (fractional || distinct.len() > MAX_INTEGER_CLASSES) {
            Task::Regression
        } else {
            Task::Classification
        }
    }

    /// The task's name as the CLI and the JSON write it.
    pub fn as_str(self) -> &'static str {
        match self {
            Task::Classification => "classification",
            Task::Regression => "regression",
        }
    }
}

impl fmt::Display for Task {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Task {
    type Err = String;

    fn from_str(s: &str) -> Result<Task, String> {
        match s.trim() {
            "classification" => Ok(Task::Classification),
            "regression" => Ok(Task::Regression),
            other => Err(format!(
                "unknown task `{other}`; expected `classification` or `regression`"
            )),
        }
    }
}

/// A finite number in a cell (a JSON number or a numeric string); `None` otherwise.
pub(crate) fn number_of(cell: &Cell) -> Option<f64> {
    let x = match cell {
        Cell::Int(i) => *i as f64,
        Cell::Float(x) => *x,
        Cell::Text(s) => s.trim().parse::<f64>().ok()?,
        _ => return None,
    };
    x.is_finite().then_some(x)
}

/// The scores of the label column `column` (a regression target).
///
/// Errors: [`DataError::MissingValue`] (missing, null or blank), [`DataError::WrongType`] (not a
/// finite number), [`DataError::ConstantScores`] (every row has the same score: nothing to fit).
pub fn score_values(table: &Table, column: usize) -> Result<Vec<f64>, DataError> {
    let name = table.columns.get(column).cloned().unwrap_or_default();
    let mut scores = Vec::with_capacity(table.rows.len());
    for row in &table.rows {
        let cell = row.cells.get(column).unwrap_or(&Cell::Missing);
        let blank = matches!(cell, Cell::Missing | Cell::Null)
            || matches!(cell, Cell::Text(s) if s.trim().is_empty());
        if blank {
            return Err(DataError::MissingValue {
                file: table.file.clone(),
                line: row.line,
                column: name,
                role: ColumnRole::Label,
            });
        }
        let score = number_of(cell).ok_or_else(|| DataError::WrongType {
            file: table.file.clone(),
            line: row.line,
            column: name.clone(),
            expected: "a finite number (the regression score)".to_string(),
            found: cell.describe(),
        })?;
        scores.push(score);
    }
    if let Some(&first) = scores.first() {
        if scores.iter().all(|&s| s == first) {
            return Err(DataError::ConstantScores {
                file: table.file.clone(),
                column: name,
                score: first,
                rows: scores.len(),
            });
        }
    }
    Ok(scores)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(cells: Vec<Cell>) -> Table {
        Table::one_column("score", cells)
    }

    #[test]
    fn numbers_that_are_not_few_integers_suggest_regression() {
        let floats = table(vec![
            Cell::Float(3.8),
            Cell::Text("1.25".into()),
            Cell::Int(5),
        ]);
        assert_eq!(Task::suggest(&floats, 0), Task::Regression);
        let stars = table((1..=5).map(Cell::Int).collect());
        assert_eq!(Task::suggest(&stars, 0), Task::Classification);
        let many = table((0..=MAX_INTEGER_CLASSES as i64).map(Cell::Int).collect());
        assert_eq!(Task::suggest(&many, 0), Task::Regression);
        let words = table(vec![Cell::Float(0.5), Cell::Text("pos".into())]);
        assert_eq!(Task::suggest(&words, 0), Task::Classification);
        let blank = table(vec![Cell::Float(0.5), Cell::Null]);
        assert_eq!(Task::suggest(&blank, 0), Task::Classification);
        assert_eq!("regression".parse::<Task>(), Ok(Task::Regression));
        assert!("reg".parse::<Task>().unwrap_err().contains("`regression`"));
    }

    #[test]
    fn scores_are_read_or_the_row_is_named() {
        let t = table(vec![
            Cell::Float(3.8),
            Cell::Text(" 1.5 ".into()),
            Cell::Int(5),
        ]);
        assert_eq!(score_values(&t, 0).unwrap(), [3.8, 1.5, 5.0]);
        let t = table(vec![Cell::Float(3.8), Cell::Text("high".into())]);
        let e = score_values(&t, 0).unwrap_err();
        assert_eq!(
            e.to_string(),
            "f, line 3, column `score`: expected a finite number (the regression score), found \
             the text `high`"
        );
        let t = table(vec![Cell::Float(3.8), Cell::Text("inf".into())]);
        assert!(matches!(
            score_values(&t, 0),
            Err(DataError::WrongType { line: 3, .. })
        ));
        let t = table(vec![Cell::Float(1.0), Cell::Null]);
        assert!(matches!(
            score_values(&t, 0),
            Err(DataError::MissingValue { line: 3, .. })
        ));
        let t = table(vec![Cell::Float(2.0), Cell::Int(2)]);
        assert_eq!(
            score_values(&t, 0).unwrap_err().to_string(),
            "f, column `score`: all 2 rows have the score 2; expected scores that vary"
        );
    }
}
