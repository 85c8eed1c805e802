//! Class labels: from cells to a stable label → index map.
//!
//! A label is an integer, a boolean or a word. The kind is read from the value, the same way in every
//! format: `1`, `"1"` and ` 1 ` are the integer 1; `true`, `"True"` are booleans; anything else
//! non-empty is a word. All labels of a column must be of one kind. Classes are numbered in sorted
//! order: integers numerically, booleans `false` before `true`, words by their UTF-8 bytes — so the
//! same set of labels always gets the same indices, whatever the row order.

use std::collections::BTreeMap;

use super::error::{ColumnRole, DataError};
use super::limits::MAX_CLASSES;
use super::table::{Cell, Table};

/// One label value.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Label {
    /// An integer label.
    Int(i64),
    /// A boolean label.
    Bool(bool),
    /// A word label (trimmed).
    Word(String),
}

impl Label {
    /// The kind, as used in error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Label::Int(_) => "an integer",
            Label::Bool(_) => "a boolean",
            Label::Word(_) => "text",
        }
    }

    /// The label as shown to the user (the class name).
    pub fn name(&self) -> String {
        match self {
            Label::Int(i) => i.to_string(),
            Label::Bool(b) => b.to_string(),
            Label::Word(w) => w.clone(),
        }
    }

    /// Reads a label from a string (a CSV field or a JSON string); `None` when blank.
    pub fn parse(s: &str) -> Option<Label> {
        let s = s.trim();
        if s.is_empty() {
            None
        } else if let Ok(i) = s.parse::<i64>() {
            Some(Label::Int(i))
        } else if s.eq_ignore_ascii_case("true") {
            Some(Label::Bool(true))
        } else if s.eq_ignore_ascii_case("false") {
            Some(Label::Bool(false))
        } else {
            Some(Label::Word(s.to_string()))
        }
    }
}

/// The encoded labels of a column.
#[derive(Debug, Clone, PartialEq)]
pub struct EncodedLabels {
    /// The class index of every row.
    pub indices: Vec<usize>,
    /// The class names, by index.
    pub names: Vec<String>,
}

/// Encodes the label column `column` of `table`.
///
/// Errors: [`DataError::MissingValue`] (missing, null or blank label), [`DataError::WrongType`]
/// (a fractional number, a nested value), [`DataError::MixedLabels`],
/// [`DataError::TooManyClasses`], [`DataError::OneClass`].
pub fn encode_labels(table: &Table, column: usize) -> Result<EncodedLabels, DataError> {
    let name = table.columns.get(column).cloned().unwrap_or_default();
    let mut values = Vec::with_capacity(table.rows.len());
    let mut classes: BTreeMap<Label, usize> = BTreeMap::new();
    let mut first: Option<(&'static str, usize)> = None;
    for row in &table.rows {
        let cell = row.cells.get(column).unwrap_or(&Cell::Missing);
        let label = label_of(cell).map_err(|problem| match problem {
            NoLabel::Missing => DataError::MissingValue {
                file: table.file.clone(),
                line: row.line,
                column: name.clone(),
                role: ColumnRole::Label,
            },
            NoLabel::WrongType(found) => DataError::WrongType {
                file: table.file.clone(),
                line: row.line,
                column: name.clone(),
                expected: "a label: a word, an integer or true/false".to_string(),
                found,
            },
        })?;
        match first {
            None => first = Some((label.kind(), row.line)),
            Some((kind, first_line)) if kind != label.kind() => {
                return Err(DataError::MixedLabels {
                    file: table.file.clone(),
                    line: row.line,
                    column: name,
                    found: label.name(),
                    found_kind: label.kind(),
                    expected_kind: kind,
                    first_line,
                });
            }
            Some(_) => {}
        }
        if !classes.contains_key(&label) {
            if classes.len() == MAX_CLASSES {
                return Err(DataError::TooManyClasses {
                    file: table.file.clone(),
                    line: row.line,
                    column: name,
                    limit: MAX_CLASSES,
                });
            }
            classes.insert(label.clone(), 0);
        }
        values.push(label);
    }
    if classes.len() == 1 {
        let label = classes.keys().next().map(Label::name).unwrap_or_default();
        return Err(DataError::OneClass {
            file: table.file.clone(),
            column: name,
            label,
            rows: values.len(),
        });
    }
    for (index, slot) in classes.values_mut().enumerate() {
        *slot = index;
    }
    let names = classes.keys().map(Label::name).collect();
    let indices = values.iter().map(|l| classes[l]).collect();
    Ok(EncodedLabels { indices, names })
}

/// Why a cell holds no label.
#[derive(Debug, Clone, PartialEq)]
enum NoLabel {
    /// The cell is empty (or null, or blank text).
    Missing,
    /// The cell holds a value of another type, described as the error shows it.
    WrongType(String),
}

/// The label in a cell, or why there is none.
fn label_of(cell: &Cell) -> Result<Label, NoLabel> {
    match cell {
        Cell::Missing | Cell::Null => Err(NoLabel::Missing),
        Cell::Text(s) => Label::parse(s).ok_or(NoLabel::Missing),
        Cell::Int(i) => Ok(Label::Int(*i)),
        Cell::Bool(b) => Ok(Label::Bool(*b)),
        Cell::Float(x) if x.fract() == 0.0 && x.abs() < 9.0e15 => Ok(Label::Int(*x as i64)),
        Cell::Float(_) | Cell::Nested(_) => Err(NoLabel::WrongType(cell.describe())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(cells: Vec<Cell>) -> Table {
        Table::one_column("label", cells)
    }

    #[test]
    fn numbers_sort_numerically_and_words_bytewise() {
        let t = table(vec![
            Cell::Text("10".into()),
            Cell::Int(2),
            Cell::Float(-1.0),
            Cell::Text(" 2 ".into()),
        ]);
        let e = encode_labels(&t, 0).unwrap();
        assert_eq!(e.names, ["-1", "2", "10"]);
        assert_eq!(e.indices, [2, 1, 0, 1]);
        let t = table(vec![
            Cell::Text("pos".into()),
            Cell::Text("Neg".into()),
            Cell::Text("neg".into()),
        ]);
        let e = encode_labels(&t, 0).unwrap();
        assert_eq!(e.names, ["Neg", "neg", "pos"]);
        assert_eq!(e.indices, [2, 0, 1]);
        let e = encode_labels(
            &table(vec![Cell::Bool(true), Cell::Text("FALSE".into())]),
            0,
        );
        assert_eq!(e.unwrap().names, ["false", "true"]);
    }

    #[test]
    fn label_errors_name_the_row() {
        let t = table(vec![
            Cell::Int(1),
            Cell::Int(0),
            Cell::Text("positive".into()),
        ]);
        assert_eq!(
            encode_labels(&t, 0),
            Err(DataError::MixedLabels {
                file: "f".into(),
                line: 4,
                column: "label".into(),
                found: "positive".into(),
                found_kind: "text",
                expected_kind: "an integer",
                first_line: 2
            })
        );
        let t = table(vec![Cell::Int(1), Cell::Text("  ".into())]);
        assert!(matches!(
            encode_labels(&t, 0),
            Err(DataError::MissingValue { line: 3, .. })
        ));
        let t = table(vec![Cell::Int(1), Cell::Float(0.5)]);
        assert!(matches!(
            encode_labels(&t, 0),
            Err(DataError::WrongType { line: 3, ref found, .. }) if found == "the number 0.5"
        ));
        let t = table(vec![Cell::Text("a".into()), Cell::Text("a".into())]);
        assert_eq!(
            encode_labels(&t, 0),
            Err(DataError::OneClass {
                file: "f".into(),
                column: "label".into(),
                label: "a".into(),
                rows: 2
            })
        );
        let many = (0..=MAX_CLASSES as i64).map(Cell::Int).collect();
        assert!(matches!(
            encode_labels(&table(many), 0),
            Err(DataError::TooManyClasses { line, .. }) if line == MAX_CLASSES + 2
        ));
    }
}
