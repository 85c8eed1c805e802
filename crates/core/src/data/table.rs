//! The format-independent result of reading a file: named columns and rows of cells, each row with
//! the line it starts on. The user picks the text and label columns from a [`Table`].

use super::format::Format;

/// One value of a row.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// The row has no such field (a JSON object without that key).
    Missing,
    /// JSON `null`.
    Null,
    /// JSON `true` / `false`.
    Bool(bool),
    /// A JSON integer.
    Int(i64),
    /// A JSON number that is not an `i64`.
    Float(f64),
    /// A string: every CSV/TSV field, or a JSON string.
    Text(String),
    /// A JSON object or array; holds its kind (`an object`, `an array`).
    Nested(&'static str),
}

impl Cell {
    /// A short description for error messages, e.g. ``the number 0.5`` or ``an object``.
    pub fn describe(&self) -> String {
        match self {
            Cell::Missing => "no such field".to_string(),
            Cell::Null => "null".to_string(),
            Cell::Bool(b) => format!("the boolean {b}"),
            Cell::Int(i) => format!("the integer {i}"),
            Cell::Float(x) => format!("the number {x}"),
            Cell::Text(s) => format!("the text `{}`", preview(s, 40)),
            Cell::Nested(kind) => (*kind).to_string(),
        }
    }

    /// The cell as display text (empty for missing and null values).
    pub fn display(&self) -> String {
        match self {
            Cell::Missing | Cell::Null => String::new(),
            Cell::Bool(b) => b.to_string(),
            Cell::Int(i) => i.to_string(),
            Cell::Float(x) => x.to_string(),
            Cell::Text(s) => s.clone(),
            Cell::Nested(kind) => format!("<{kind}>"),
        }
    }
}

/// At most `max` characters of `s`, with `…` when cut.
pub fn preview(s: &str, max: usize) -> String {
    let mut out: String = s.chars().take(max).collect();
    if s.chars().nth(max).is_some() {
        out.push('…');
    }
    out
}

/// One data row.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The 1-based line of the file where the row starts.
    pub line: usize,
    /// One cell per column of the table, in column order.
    pub cells: Vec<Cell>,
}

/// A parsed file before the columns are chosen.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// The file name, used in every error message.
    pub file: String,
    /// The format it was read as.
    pub format: Format,
    /// The column names: the header fields of a CSV/TSV; for JSON, the keys in order of first
    /// appearance.
    pub columns: Vec<String>,
    /// The data rows (the header is not a row).
    pub rows: Vec<Row>,
}

impl Table {
    /// A JSON table of one column named `column`, one row per cell from line 2 on (for tests).
    #[cfg(test)]
    pub(crate) fn one_column(column: &str, cells: Vec<Cell>) -> Table {
        Table {
            file: "f".into(),
            format: super::format::Format::Json,
            columns: vec![column.into()],
            rows: cells
                .into_iter()
                .enumerate()
                .map(|(i, c)| Row {
                    line: i + 2,
                    cells: vec![c],
                })
                .collect(),
        }
    }

    /// The number of data rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether there are no data rows (never true for a table returned by the readers).
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The index of the column called `name` (exact match first, then case-insensitive).
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == name).or_else(|| {
            self.columns
                .iter()
                .position(|c| c.eq_ignore_ascii_case(name))
        })
    }

    /// The first `n` rows as display text, each cell cut to `max_chars` characters (for a preview
    /// table in which the user picks columns).
    pub fn preview(&self, n: usize, max_chars: usize) -> Vec<Vec<String>> {
        self.rows
            .iter()
            .take(n)
            .map(|row| {
                row.cells
                    .iter()
                    .map(|c| preview(&c.display(), max_chars))
                    .collect()
            })
            .collect()
    }
}
