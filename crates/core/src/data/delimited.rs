//! CSV and TSV: a header line, then one record per row, RFC 4180 quoting (`"…"`, `""` inside).
//!
//! Records are read with the `csv` crate. Two checks run first, on the raw text: the line-length
//! limit, and a quote scan, because the `csv` crate silently accepts a quoted field that never closes
//! (it swallows the rest of the file).

use super::decode::check_line_lengths;
use super::error::DataError;
use super::format::Format;
use super::limits::{MAX_CELLS, MAX_COLUMNS, MAX_HEADER_CHARS, MAX_ROWS};
use super::table::{Cell, Row, Table};

/// Reads a CSV (`delimiter` `,`) or TSV (`\t`) text into a [`Table`].
///
/// Header rules: names are trimmed; an empty name becomes `column<N>` (N the 1-based field
/// position; pandas writes an unnamed index column this way); a name that is a number, or longer than
/// [`MAX_HEADER_CHARS`], is taken as data ([`DataError::NoHeader`]); names must be unique.
pub fn read_delimited(file: &str, text: &str, format: Format) -> Result<Table, DataError> {
    let delimiter = if format == Format::Tsv { b'\t' } else { b',' };
    check_line_lengths(file, text)?;
    check_quotes(file, text, delimiter)?;

    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .delimiter(delimiter)
        .flexible(false)
        .from_reader(text.as_bytes());
    let mut records = reader.records();

    let header = match records.next() {
        None => {
            return Err(DataError::Empty {
                file: file.to_string(),
            })
        }
        Some(record) => record.map_err(|e| csv_error(file, text, &e))?,
    };
    let header_line = start_line(text, header.position());
    if header.len() > MAX_COLUMNS {
        return Err(DataError::TooManyColumns {
            file: file.to_string(),
            line: header_line,
            found: header.len(),
            limit: MAX_COLUMNS,
        });
    }
    let columns = header_names(file, header_line, header.iter())?;
    let max_rows = MAX_ROWS.min(MAX_CELLS / columns.len().max(1));

    let mut rows = Vec::new();
    for record in records {
        let record = record.map_err(|e| csv_error(file, text, &e))?;
        let line = start_line(text, record.position());
        if rows.len() == max_rows {
            return Err(if max_rows == MAX_ROWS {
                DataError::TooManyRows {
                    file: file.to_string(),
                    line,
                    limit: MAX_ROWS,
                }
            } else {
                DataError::TooManyCells {
                    file: file.to_string(),
                    line,
                    limit: MAX_CELLS,
                }
            });
        }
        let cells = record.iter().map(|f| Cell::Text(f.to_string())).collect();
        rows.push(Row { line, cells });
    }
    if rows.is_empty() {
        return Err(DataError::NoRows {
            file: file.to_string(),
        });
    }
    Ok(Table {
        file: file.to_string(),
        format,
        columns,
        rows,
    })
}

/// Validates and normalises the header fields (see [`read_delimited`]).
fn header_names<'a>(
    file: &str,
    line: usize,
    fields: impl Iterator<Item = &'a str>,
) -> Result<Vec<String>, DataError> {
    let mut names: Vec<String> = Vec::new();
    for (index, raw) in fields.enumerate() {
        let name = raw.trim();
        let field = index + 1;
        if name.parse::<f64>().is_ok() || name.chars().count() > MAX_HEADER_CHARS {
            return Err(DataError::NoHeader {
                file: file.to_string(),
                line,
                field,
                found: super::table::preview(name, 80),
            });
        }
        let name = if name.is_empty() {
            format!("column{field}")
        } else {
            name.to_string()
        };
        if let Some(first) = names.iter().position(|n| *n == name) {
            return Err(DataError::DuplicateColumn {
                file: file.to_string(),
                line,
                name,
                first: first + 1,
                second: field,
            });
        }
        names.push(name);
    }
    Ok(names)
}

/// Maps an error of the `csv` crate to a [`DataError`].
fn csv_error(file: &str, text: &str, error: &csv::Error) -> DataError {
    match error.kind() {
        csv::ErrorKind::UnequalLengths {
            pos,
            expected_len,
            len,
        } => DataError::FieldCount {
            file: file.to_string(),
            line: start_line(text, pos.as_ref()),
            expected: *expected_len as usize,
            found: *len as usize,
        },
        _ => DataError::Malformed {
            file: file.to_string(),
            line: start_line(text, error.position()),
            message: error.to_string(),
        },
    }
}

/// The 1-based line where the record at `position` starts.
///
/// The `csv` crate positions a record where the previous one ended, before the blank lines it
/// skips; this moves past them (blank lines are runs of `\r` and `\n`, as in `csv-core`).
fn start_line(text: &str, position: Option<&csv::Position>) -> usize {
    let Some(position) = position else { return 1 };
    let mut line = position.line() as usize;
    let start = usize::try_from(position.byte()).unwrap_or(usize::MAX);
    for &b in text.as_bytes().get(start..).unwrap_or_default() {
        match b {
            b'\n' => line += 1,
            b'\r' => {}
            _ => break,
        }
    }
    line
}

/// The states of the quote scan, mirroring `csv-core` (quoting on, `""` escapes, no comments).
#[derive(Clone, Copy, PartialEq)]
enum Scan {
    /// At the start of a field: a `"` here opens a quoted field.
    FieldStart,
    /// Inside an unquoted field: a `"` here is literal.
    Unquoted,
    /// Inside a quoted field.
    Quoted,
    /// Just after a `"` inside a quoted field: `"` again is an escaped quote, else the field closed.
    AfterQuote,
}

/// Fails with [`DataError::UnclosedQuote`] when a field opened by `"` is still open at the end.
fn check_quotes(file: &str, text: &str, delimiter: u8) -> Result<(), DataError> {
    let mut state = Scan::FieldStart;
    let (mut line, mut field) = (1usize, 1usize);
    let (mut open_line, mut open_field) = (1usize, 1usize);
    for &b in text.as_bytes() {
        state = match state {
            Scan::FieldStart | Scan::Unquoted | Scan::AfterQuote => {
                if b == b'"' && state == Scan::FieldStart {
                    open_line = line;
                    open_field = field;
                    Scan::Quoted
                } else if b == b'"' && state == Scan::AfterQuote {
                    Scan::Quoted
                } else if b == delimiter {
                    field += 1;
                    Scan::FieldStart
                } else if b == b'\n' || b == b'\r' {
                    line += usize::from(b == b'\n');
                    field = 1;
                    Scan::FieldStart
                } else {
                    Scan::Unquoted
                }
            }
            Scan::Quoted => {
                line += usize::from(b == b'\n');
                if b == b'"' {
                    Scan::AfterQuote
                } else {
                    Scan::Quoted
                }
            }
        };
    }
    if state == Scan::Quoted {
        return Err(DataError::UnclosedQuote {
            file: file.to_string(),
            line: open_line,
            field: open_field,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(table: &Table, column: usize) -> Vec<String> {
        table
            .rows
            .iter()
            .map(|r| r.cells[column].display())
            .collect()
    }

    #[test]
    fn reads_quoted_multiline_fields_with_their_start_lines() {
        let csv = "id,text,label\n1,\"a, \"\"b\"\"\nc\",pos\n\n2,plain,neg\r\n";
        let t = read_delimited("f.csv", csv, Format::Csv).unwrap();
        assert_eq!(t.columns, ["id", "text", "label"]);
        assert_eq!(texts(&t, 1), ["a, \"b\"\nc", "plain"]);
        assert_eq!(t.rows.iter().map(|r| r.line).collect::<Vec<_>>(), [2, 5]);
    }

    #[test]
    fn tsv_and_header_rules() {
        let t = read_delimited("f.tsv", " \ttext \tlabel\n0\thi, you\t1\n", Format::Tsv).unwrap();
        assert_eq!(t.columns, ["column1", "text", "label"]);
        assert_eq!(texts(&t, 1), ["hi, you"]);
        assert_eq!(
            read_delimited("f.csv", "text,text\na,b\n", Format::Csv),
            Err(DataError::DuplicateColumn {
                file: "f.csv".into(),
                line: 1,
                name: "text".into(),
                first: 1,
                second: 2
            })
        );
        assert!(matches!(
            read_delimited("f.csv", "great movie,1\nbad,0\n", Format::Csv),
            Err(DataError::NoHeader {
                line: 1,
                field: 2,
                ..
            })
        ));
        assert_eq!(
            read_delimited("f.csv", "text,label\n", Format::Csv),
            Err(DataError::NoRows {
                file: "f.csv".into()
            })
        );
    }

    #[test]
    fn field_count_and_unclosed_quote_name_the_line() {
        assert_eq!(
            read_delimited("f.csv", "text,label\na,1\nb\n", Format::Csv),
            Err(DataError::FieldCount {
                file: "f.csv".into(),
                line: 3,
                expected: 2,
                found: 1
            })
        );
        assert!(matches!(
            read_delimited("f.csv", "text,label\r\na,1\r\n\r\n\r\nb\r\n", Format::Csv),
            Err(DataError::FieldCount { line: 5, .. })
        ));
        assert_eq!(
            read_delimited("f.csv", "text,label\na,1\nb,\"1\nc,2\n", Format::Csv),
            Err(DataError::UnclosedQuote {
                file: "f.csv".into(),
                line: 3,
                field: 2
            })
        );
        // A quote inside an unquoted field is literal, and "" escapes inside quotes.
        let t = read_delimited(
            "f.csv",
            "text,label\n5\" screen,1\n\"x\"\"\",2\n",
            Format::Csv,
        )
        .unwrap();
        assert_eq!(texts(&t, 0), ["5\" screen", "x\""]);
    }
}
