//! The typed errors of dataset parsing and sampling.
//!
//! Every parse error names the file, the 1-based line and, where one is involved, the column (by its
//! header name) or the field position, and says what was expected. The messages are meant to be
//! shown to the person who picked the file, as they are.

use std::fmt;

use thiserror::Error;

/// The role a column plays in a dataset, for error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnRole {
    /// The (first) text of each example.
    Text,
    /// The second text of a sentence pair.
    TextPair,
    /// The class label.
    Label,
}

impl fmt::Display for ColumnRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ColumnRole::Text => "text",
            ColumnRole::TextPair => "second text (text_pair)",
            ColumnRole::Label => "label",
        })
    }
}

impl ColumnRole {
    /// The CLI flags that choose the columns explicitly, this role's among them (`--text-col`
    /// needs `--label-col`; `--pair-col` needs both).
    pub fn cli_flags(self) -> &'static str {
        match self {
            ColumnRole::Text | ColumnRole::Label => "`--text-col NAME --label-col NAME`",
            ColumnRole::TextPair => "`--text-col NAME --pair-col NAME --label-col NAME`",
        }
    }
}

/// What went wrong while reading a labelled text dataset or drawing samples from it.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum DataError {
    /// The file has no bytes, or only whitespace.
    #[error("{file}: the file is empty; expected a header line and at least one row")]
    Empty {
        /// The file name.
        file: String,
    },
    /// The file is larger than [`MAX_INPUT_BYTES`](super::limits::MAX_INPUT_BYTES).
    #[error("{file}: the file has {bytes} bytes, more than the limit of {limit} bytes")]
    TooLarge {
        /// The file name.
        file: String,
        /// The size of the file.
        bytes: usize,
        /// The limit.
        limit: usize,
    },
    /// The bytes are not valid UTF-8.
    #[error(
        "{file}, line {line}: the byte at offset {offset} is not valid UTF-8; \
         expected a UTF-8 text file{hint}"
    )]
    NotUtf8 {
        /// The file name.
        file: String,
        /// The 1-based line of the first invalid byte.
        line: usize,
        /// The 0-based byte offset of the first invalid byte in the file.
        offset: usize,
        /// Extra advice (e.g. that the file looks like UTF-16), starting with "; ", or empty.
        hint: String,
    },
    /// Neither the file name nor the content tells the format.
    #[error("{file}: cannot tell the format; expected a .csv, .tsv, .json or .jsonl file")]
    UnknownFormat {
        /// The file name.
        file: String,
    },
    /// A physical line is longer than [`MAX_LINE_BYTES`](super::limits::MAX_LINE_BYTES).
    #[error(
        "{file}, line {line}: the line has {bytes} bytes, more than the limit of {limit} bytes"
    )]
    LineTooLong {
        /// The file name.
        file: String,
        /// The 1-based line.
        line: usize,
        /// The length of the line in bytes.
        bytes: usize,
        /// The limit.
        limit: usize,
    },
    /// A CSV/TSV quoted field is still open at the end of the file.
    #[error(
        "{file}, line {line}, field {field}: the quote that opens this field never closes; \
         expected a closing \" (write a quote inside a quoted field as \"\")"
    )]
    UnclosedQuote {
        /// The file name.
        file: String,
        /// The 1-based line where the quoted field starts.
        line: usize,
        /// The 1-based position of the field in its record.
        field: usize,
    },
    /// A CSV/TSV record has a different number of fields than the header.
    #[error("{file}, line {line}: expected {expected} fields (as in the header), found {found}")]
    FieldCount {
        /// The file name.
        file: String,
        /// The 1-based line where the record starts.
        line: usize,
        /// The number of header fields.
        expected: usize,
        /// The number of fields in this record.
        found: usize,
    },
    /// The first line does not look like a header (a column name is a number or a sentence).
    #[error(
        "{file}, line {line}, field {field}: expected a header line naming the columns \
         (e.g. text,label), found `{found}` — is the header missing?"
    )]
    NoHeader {
        /// The file name.
        file: String,
        /// The 1-based line of the header (always 1 unless blank lines precede it).
        line: usize,
        /// The 1-based position of the offending header field.
        field: usize,
        /// The header field that does not look like a column name.
        found: String,
    },
    /// Two header fields have the same name.
    #[error("{file}, line {line}: the column name `{name}` appears twice (fields {first} and {second}); expected unique names")]
    DuplicateColumn {
        /// The file name.
        file: String,
        /// The 1-based line of the header.
        line: usize,
        /// The repeated name.
        name: String,
        /// The 1-based position of its first occurrence.
        first: usize,
        /// The 1-based position of its second occurrence.
        second: usize,
    },
    /// The JSON (or a JSONL line) is not syntactically valid.
    #[error("{file}, line {line}, column {column}: JSON syntax error: {message}")]
    JsonSyntax {
        /// The file name.
        file: String,
        /// The 1-based line.
        line: usize,
        /// The 1-based column (byte in the line) where the parser stopped.
        column: usize,
        /// The parser's description.
        message: String,
    },
    /// A CSV/TSV record the reader could not make sense of (kept for completeness; text that is
    /// valid UTF-8 read from memory does not produce it).
    #[error("{file}, line {line}: cannot read the record: {message}")]
    Malformed {
        /// The file name.
        file: String,
        /// The 1-based line.
        line: usize,
        /// The reader's description.
        message: String,
    },
    /// Valid JSON, but not the expected shape (an array of objects, or one object per line).
    #[error("{file}, line {line}: expected {expected}, found {found}")]
    JsonShape {
        /// The file name.
        file: String,
        /// The 1-based line where the offending value starts.
        line: usize,
        /// What was expected.
        expected: String,
        /// What was found.
        found: String,
    },
    /// A header (or JSON) but no data rows.
    #[error("{file}: no data rows; expected at least one row below the header")]
    NoRows {
        /// The file name.
        file: String,
    },
    /// More rows than [`MAX_ROWS`](super::limits::MAX_ROWS).
    #[error("{file}, line {line}: more than {limit} rows; use a smaller file or a sample of it")]
    TooManyRows {
        /// The file name.
        file: String,
        /// The 1-based line of the first row over the limit.
        line: usize,
        /// The limit.
        limit: usize,
    },
    /// More columns than [`MAX_COLUMNS`](super::limits::MAX_COLUMNS).
    #[error("{file}, line {line}: {found} columns, more than the limit of {limit}")]
    TooManyColumns {
        /// The file name.
        file: String,
        /// The 1-based line of the header (CSV/TSV) or of the row that adds a column over the
        /// limit (JSON).
        line: usize,
        /// The number of columns found so far.
        found: usize,
        /// The limit.
        limit: usize,
    },
    /// More values (rows × columns) than [`MAX_CELLS`](super::limits::MAX_CELLS).
    #[error(
        "{file}, line {line}: more than {limit} values (rows × columns); use fewer columns or rows"
    )]
    TooManyCells {
        /// The file name.
        file: String,
        /// The 1-based line of the first row over the limit.
        line: usize,
        /// The limit.
        limit: usize,
    },
    /// A chosen column does not exist.
    #[error("{file}: no column `{column}` for the {role}; the columns are: {}", .available.join(", "))]
    MissingColumn {
        /// The file name.
        file: String,
        /// The column that was asked for.
        column: String,
        /// What the column was wanted for.
        role: ColumnRole,
        /// The columns the file has.
        available: Vec<String>,
    },
    /// No column was chosen for `role` and none could be guessed from the names.
    #[error(
        "{file}: found no {role} column; looked for {looked_for}; the columns are: {}; name the \
         {role} column to use",
        .available.join(", ")
    )]
    NoColumnGuessed {
        /// The file name.
        file: String,
        /// What the column was wanted for.
        role: ColumnRole,
        /// The names that were looked for, in words ([`super::columns::looked_for`]).
        looked_for: String,
        /// The columns the file has.
        available: Vec<String>,
    },
    /// A guessed text (or second text) column whose values are all numbers (an id, a score):
    /// almost surely not text. Only a guessed column is refused; one chosen explicitly is read.
    #[error(
        "{file}, column `{column}`: guessed as the {role} column, but all {rows} of its values \
         are numbers (e.g. `{example}`), which is almost surely not text; choose the {role} column \
         explicitly ({} on the command line, the column selects on the page)",
        .role.cli_flags()
    )]
    NumericTextColumn {
        /// The file name.
        file: String,
        /// The guessed column.
        column: String,
        /// What the column was guessed for ([`ColumnRole::Text`] or [`ColumnRole::TextPair`]).
        role: ColumnRole,
        /// The number of values in the column (all numbers).
        rows: usize,
        /// Its first value.
        example: String,
    },
    /// A row has no value (missing, null or empty) in a chosen column.
    #[error("{file}, line {line}, column `{column}`: no value; expected a {role} in every row")]
    MissingValue {
        /// The file name.
        file: String,
        /// The 1-based line of the row.
        line: usize,
        /// The column.
        column: String,
        /// What the column is used for.
        role: ColumnRole,
    },
    /// A value of the wrong type (a nested JSON value, a fractional label).
    #[error("{file}, line {line}, column `{column}`: expected {expected}, found {found}")]
    WrongType {
        /// The file name.
        file: String,
        /// The 1-based line of the row.
        line: usize,
        /// The column.
        column: String,
        /// What was expected.
        expected: String,
        /// What was found.
        found: String,
    },
    /// The label column mixes kinds of values (e.g. integers and words).
    #[error(
        "{file}, line {line}, column `{column}`: the label `{found}` is {found_kind}, but the \
         labels before it (from line {first_line}) are {expected_kind}; expected one kind of label"
    )]
    MixedLabels {
        /// The file name.
        file: String,
        /// The 1-based line of the first label of a different kind.
        line: usize,
        /// The label column.
        column: String,
        /// The offending label.
        found: String,
        /// Its kind (`an integer`, `text`, `a boolean`).
        found_kind: &'static str,
        /// The kind of the labels before it.
        expected_kind: &'static str,
        /// The line of the first label, which fixed the kind.
        first_line: usize,
    },
    /// Every row has the same label.
    #[error("{file}, column `{column}`: all {rows} rows have the label `{label}`; expected at least two classes")]
    OneClass {
        /// The file name.
        file: String,
        /// The label column.
        column: String,
        /// The only label.
        label: String,
        /// The number of rows.
        rows: usize,
    },
    /// Every row has the same regression score.
    #[error("{file}, column `{column}`: all {rows} rows have the score {score}; expected scores that vary")]
    ConstantScores {
        /// The file name.
        file: String,
        /// The label (score) column.
        column: String,
        /// The only score.
        score: f64,
        /// The number of rows.
        rows: usize,
    },
    /// More distinct labels than [`MAX_CLASSES`](super::limits::MAX_CLASSES).
    #[error(
        "{file}, line {line}, column `{column}`: more than {limit} distinct labels; \
         expected a column of class labels (is it a text column?)"
    )]
    TooManyClasses {
        /// The file name.
        file: String,
        /// The 1-based line where the label over the limit appears.
        line: usize,
        /// The label column.
        column: String,
        /// The limit.
        limit: usize,
    },
    /// A text longer than [`MAX_TEXT_CHARS`](super::limits::MAX_TEXT_CHARS).
    #[error(
        "{file}, line {line}, column `{column}`: the text has {chars} characters, more than the \
         limit of {limit}; expected short texts (is a quote unbalanced?)"
    )]
    TextTooLong {
        /// The file name.
        file: String,
        /// The 1-based line of the row.
        line: usize,
        /// The column.
        column: String,
        /// The length of the text in characters.
        chars: usize,
        /// The limit.
        limit: usize,
    },
    /// A sample size outside `1..=len`.
    #[error("dataset `{dataset}`: cannot take {requested} rows; expected 1..={available}")]
    SampleSize {
        /// The dataset name.
        dataset: String,
        /// The number of rows asked for.
        requested: usize,
        /// The number of rows in the dataset.
        available: usize,
    },
    /// A stratified sample or split would leave a class without rows.
    #[error("dataset `{dataset}`: class `{label}` would get no rows; {reason}")]
    EmptyClass {
        /// The dataset name.
        dataset: String,
        /// The class label.
        label: String,
        /// Why, and what would help.
        reason: String,
    },
    /// An evaluation fraction outside `(0, 1)`, or a dataset too small to split.
    #[error("dataset `{dataset}`: cannot split: {reason}")]
    BadSplit {
        /// The dataset name.
        dataset: String,
        /// Why.
        reason: String,
    },
}
