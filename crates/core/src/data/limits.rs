//! The size limits every dataset file must respect, so that a wrong or hostile file fails fast with a
//! clear message instead of exhausting the memory of a browser tab.

/// Largest accepted input: 50 MiB (52,428,800 bytes).
pub const MAX_INPUT_BYTES: usize = 50 * 1024 * 1024;

/// Largest accepted number of data rows (the header does not count).
pub const MAX_ROWS: usize = 100_000;

/// Longest accepted text, in Unicode scalar values (`char`s), per text field.
///
/// Texts over the limit are **rejected** with [`DataError::TextTooLong`](super::DataError), not
/// truncated: 10,000 characters are roughly 2,000 words, far beyond the 512-token window of any
/// encoder this tool runs, so a longer text almost always means a wrong column or a runaway quote.
pub const MAX_TEXT_CHARS: usize = 10_000;

/// Longest accepted physical line of a CSV, TSV or JSONL file, in bytes (1 MiB).
///
/// Not applied to a JSON array file, which is often written on a single line.
pub const MAX_LINE_BYTES: usize = 1024 * 1024;

/// Largest accepted number of distinct labels.
pub const MAX_CLASSES: usize = 1_000;

/// Largest accepted number of columns (header fields, or distinct JSON keys).
pub const MAX_COLUMNS: usize = 1_000;

/// Largest accepted number of values, rows × columns (bounds the memory of a table, whose every
/// value costs a few dozen bytes besides its text).
pub const MAX_CELLS: usize = 5_000_000;

/// Longest accepted header field, in characters; a longer one is taken as a sign that the first
/// line is data, not a header.
pub const MAX_HEADER_CHARS: usize = 64;
