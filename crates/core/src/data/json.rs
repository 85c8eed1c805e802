//! JSON (one array of objects) and JSON Lines (one object per line).
//!
//! Values are read straight into [`Cell`]s with small serde visitors (no intermediate
//! `serde_json::Value`), keys keep the order of the file, and a JSON array stops being read at the
//! row limit rather than after the whole file is in memory.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::decode::check_line_lengths;
use super::error::DataError;
use super::format::Format;
use super::limits::{MAX_CELLS, MAX_COLUMNS, MAX_ROWS};
use super::table::{Cell, Row, Table};

/// The message of the serde error that stops an array at the row limit.
const TOO_MANY_ROWS: &str = "ntk-lens: too many rows";

/// Reads a JSON array of objects into a [`Table`].
pub fn read_json(file: &str, text: &str) -> Result<Table, DataError> {
    let top: Top = serde_json::from_str(text).map_err(|e| {
        if e.is_data() && e.to_string().starts_with(TOO_MANY_ROWS) {
            let line = element_lines(text, MAX_ROWS + 1)
                .get(MAX_ROWS)
                .copied()
                .unwrap_or_else(|| e.line());
            DataError::TooManyRows {
                file: file.to_string(),
                line,
                limit: MAX_ROWS,
            }
        } else {
            json_syntax(file, &e, 0)
        }
    })?;
    let elements = match top {
        Top::Array(elements) => elements,
        Top::Other(kind) => {
            return Err(DataError::JsonShape {
                file: file.to_string(),
                line: first_content_line(text),
                expected: "an array of objects, like [{\"text\": \"…\", \"label\": \"…\"}, …]"
                    .to_string(),
                found: kind.to_string(),
            })
        }
    };
    let lines = element_lines(text, elements.len());
    let mut rows = Vec::with_capacity(elements.len());
    for (index, element) in elements.into_iter().enumerate() {
        let line = lines.get(index).copied().unwrap_or(1);
        rows.push((line, object(file, line, element)?));
    }
    build_table(file, Format::Json, rows)
}

/// Reads JSON Lines (one object per line; blank lines are skipped) into a [`Table`].
pub fn read_jsonl(file: &str, text: &str) -> Result<Table, DataError> {
    check_line_lengths(file, text)?;
    let mut rows = Vec::new();
    for (index, raw) in text.split('\n').enumerate() {
        let line = index + 1;
        if raw.trim().is_empty() {
            continue;
        }
        if rows.len() == MAX_ROWS {
            return Err(DataError::TooManyRows {
                file: file.to_string(),
                line,
                limit: MAX_ROWS,
            });
        }
        let element: Element =
            serde_json::from_str(raw).map_err(|e| json_syntax(file, &e, index))?;
        rows.push((line, object(file, line, element)?));
    }
    build_table(file, Format::Jsonl, rows)
}

/// Maps a serde_json error to [`DataError::JsonSyntax`], shifting its line by `line_offset`.
fn json_syntax(file: &str, e: &serde_json::Error, line_offset: usize) -> DataError {
    let message = e.to_string();
    // serde_json appends " at line L column C"; the location has its own fields.
    let message = match message.rfind(" at line ") {
        Some(at) => message[..at].to_string(),
        None => message,
    };
    DataError::JsonSyntax {
        file: file.to_string(),
        line: e.line().max(1) + line_offset,
        column: e.column(),
        message,
    }
}

/// The fields of an element that must be an object.
fn object(file: &str, line: usize, element: Element) -> Result<Vec<(String, Cell)>, DataError> {
    match element {
        Element::Object(fields) => Ok(fields),
        Element::Other(kind) => Err(DataError::JsonShape {
            file: file.to_string(),
            line,
            expected: "an object with named fields, like {\"text\": \"…\", \"label\": \"…\"}"
                .to_string(),
            found: kind.to_string(),
        }),
    }
}

/// Collects the columns (keys in order of first appearance) and aligns every row to them.
fn build_table(
    file: &str,
    format: Format,
    objects: Vec<(usize, Vec<(String, Cell)>)>,
) -> Result<Table, DataError> {
    if objects.is_empty() {
        return Err(DataError::NoRows {
            file: file.to_string(),
        });
    }
    let mut columns: Vec<String> = Vec::new();
    let mut index_of = std::collections::HashMap::<String, usize>::new();
    let mut keyed = Vec::with_capacity(objects.len());
    for (line, fields) in objects {
        let mut positions = Vec::with_capacity(fields.len());
        for (key, cell) in fields {
            let next = columns.len();
            let position = *index_of.entry(key.clone()).or_insert(next);
            if position == next {
                if next == MAX_COLUMNS {
                    return Err(DataError::TooManyColumns {
                        file: file.to_string(),
                        line,
                        found: next + 1,
                        limit: MAX_COLUMNS,
                    });
                }
                columns.push(key);
            }
            positions.push((position, cell));
        }
        keyed.push((line, positions));
    }
    let width = columns.len().max(1);
    if keyed.len() > MAX_CELLS / width {
        return Err(DataError::TooManyCells {
            file: file.to_string(),
            line: keyed[MAX_CELLS / width].0,
            limit: MAX_CELLS,
        });
    }
    let rows = keyed
        .into_iter()
        .map(|(line, positions)| {
            let mut cells = vec![Cell::Missing; columns.len()];
            for (position, cell) in positions {
                cells[position] = cell; // a repeated key: the last value wins, as in serde_json
            }
            Row { line, cells }
        })
        .collect();
    Ok(Table {
        file: file.to_string(),
        format,
        columns,
        rows,
    })
}

/// The 1-based line of the first non-whitespace character.
fn first_content_line(text: &str) -> usize {
    let start = text.len() - text.trim_start().len();
    1 + text[..start].matches('\n').count()
}

/// The 1-based start lines of the first `max` elements of the top-level array of `text` (which
/// must be syntactically valid JSON for the result to be meaningful; never panics otherwise).
pub fn element_lines(text: &str, max: usize) -> Vec<usize> {
    let mut lines = Vec::new();
    let (mut depth, mut line) = (0usize, 1usize);
    let (mut in_string, mut escaped, mut expecting) = (false, false, false);
    for &b in text.as_bytes() {
        if lines.len() >= max {
            break;
        }
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'\n' => line += 1,
            b' ' | b'\t' | b'\r' => {}
            b',' => expecting = depth == 1,
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {
                if depth == 1 && expecting {
                    lines.push(line);
                    expecting = false;
                }
                match b {
                    b'"' => in_string = true,
                    b'[' | b'{' => {
                        depth += 1;
                        expecting = depth == 1;
                    }
                    _ => {}
                }
            }
        }
    }
    lines
}

/// The top level of a JSON file.
enum Top {
    Array(Vec<Element>),
    Other(&'static str),
}

/// One element of the top-level array, or one JSON Lines line.
enum Element {
    Object(Vec<(String, Cell)>),
    Other(&'static str),
}

/// Kind names for [`Top::Other`] / [`Element::Other`].
fn kind_of_scalar(cell: &Cell) -> &'static str {
    match cell {
        Cell::Null | Cell::Missing => "null",
        Cell::Bool(_) => "a boolean",
        Cell::Int(_) | Cell::Float(_) => "a number",
        Cell::Text(_) => "a string",
        Cell::Nested(kind) => kind,
    }
}

/// A scalar as a cell (the identity), for [`scalar_visits`].
fn cell(c: Cell) -> Cell {
    c
}

/// A scalar where an object was expected.
fn not_an_object(c: Cell) -> Element {
    Element::Other(kind_of_scalar(&c))
}

/// A scalar where an array was expected.
fn not_an_array(c: Cell) -> Top {
    Top::Other(kind_of_scalar(&c))
}

/// Implements the scalar `visit_*` methods of a visitor, mapping the scalar [`Cell`] with `$wrap`.
macro_rules! scalar_visits {
    ($wrap:path) => {
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
            Ok($wrap(Cell::Bool(v)))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            Ok($wrap(Cell::Int(v)))
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            Ok($wrap(
                i64::try_from(v).map_or(Cell::Float(v as f64), Cell::Int),
            ))
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
            Ok($wrap(Cell::Float(v)))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok($wrap(Cell::Text(v.to_string())))
        }
        fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
            Ok($wrap(Cell::Text(v)))
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok($wrap(Cell::Null))
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok($wrap(Cell::Null))
        }
    };
}

impl<'de> Deserialize<'de> for Cell {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct CellVisitor;
        impl<'de> Visitor<'de> for CellVisitor {
            type Value = Cell;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON value")
            }
            scalar_visits!(cell);
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Cell, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Cell::Nested("an array"))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Cell, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Cell::Nested("an object"))
            }
        }
        deserializer.deserialize_any(CellVisitor)
    }
}

impl<'de> Deserialize<'de> for Element {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ElementVisitor;
        impl<'de> Visitor<'de> for ElementVisitor {
            type Value = Element;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }
            scalar_visits!(not_an_object);
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Element, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Element::Other("an array"))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Element, A::Error> {
                let mut fields = Vec::new();
                while let Some((key, value)) = map.next_entry::<String, Cell>()? {
                    fields.push((key, value));
                }
                Ok(Element::Object(fields))
            }
        }
        deserializer.deserialize_any(ElementVisitor)
    }
}

impl<'de> Deserialize<'de> for Top {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TopVisitor;
        impl<'de> Visitor<'de> for TopVisitor {
            type Value = Top;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON array")
            }
            scalar_visits!(not_an_array);
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Top, A::Error> {
                let mut elements = Vec::new();
                while let Some(element) = seq.next_element::<Element>()? {
                    if elements.len() == MAX_ROWS {
                        return Err(de::Error::custom(TOO_MANY_ROWS));
                    }
                    elements.push(element);
                }
                Ok(Top::Array(elements))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Top, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Top::Other("an object"))
            }
        }
        deserializer.deserialize_any(TopVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn array_rows_get_their_lines_and_keys_keep_file_order() {
        let text = "[\n {\"z\": \"a [x], {y}\", \"a\": 1},\n\n {\"a\": 2.5, \"b\": null,\n  \"z\": [1]}\n]";
        let t = read_json("f.json", text).unwrap();
        assert_eq!(t.columns, ["z", "a", "b"]);
        assert_eq!(t.rows.iter().map(|r| r.line).collect::<Vec<_>>(), [2, 4]);
        assert_eq!(
            t.rows[0].cells,
            [Cell::Text("a [x], {y}".into()), Cell::Int(1), Cell::Missing]
        );
        assert_eq!(
            t.rows[1].cells,
            [Cell::Nested("an array"), Cell::Float(2.5), Cell::Null]
        );
    }

    #[test]
    fn shape_and_syntax_errors_name_line_and_column() {
        assert_eq!(
            read_json("f.json", "\n{\"text\": 1}"),
            Err(DataError::JsonShape {
                file: "f.json".into(),
                line: 2,
                expected: "an array of objects, like [{\"text\": \"…\", \"label\": \"…\"}, …]"
                    .into(),
                found: "an object".into()
            })
        );
        assert!(matches!(
            read_json("f.json", "[{\"a\":1},\n 3]"),
            Err(DataError::JsonShape { line: 2, .. })
        ));
        match read_json("f.json", "[{\"a\":1},\n {\"a\" 2}]") {
            Err(DataError::JsonSyntax {
                line,
                column,
                message,
                ..
            }) => {
                assert_eq!((line, column), (2, 7));
                assert_eq!(message, "expected `:`");
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(matches!(
            read_jsonl("f.jsonl", "{\"a\":1}\n\n{\"a\":}\n"),
            Err(DataError::JsonSyntax {
                line: 3,
                column: 6,
                ..
            })
        ));
        assert_eq!(
            read_json("f.json", "[]"),
            Err(DataError::NoRows {
                file: "f.json".into()
            })
        );
    }

    #[test]
    fn deep_nesting_does_not_overflow_the_stack() {
        let deep = format!(
            "[{{\"a\": {}{}}}]",
            "[".repeat(100_000),
            "]".repeat(100_000)
        );
        let t = read_json("f.json", &deep).unwrap();
        assert_eq!(t.rows[0].cells, [Cell::Nested("an array")]);
        let deep = format!("{{\"a\": {}}}\n", "{\"b\": ".repeat(100_000));
        assert!(matches!(
            read_jsonl("f.jsonl", &deep),
            Err(DataError::JsonSyntax { line: 1, .. })
        ));
        assert!(matches!(
            read_json("f.json", &"[".repeat(100_000)),
            Err(DataError::JsonSyntax { line: 1, .. })
        ));
    }

    #[test]
    fn element_lines_skip_strings_and_nested_values() {
        let text = "[1,\n\"a,\\\"b\",\n[2,3], {\"k\": [4,\n5]},\n null]";
        assert_eq!(element_lines(text, 10), [1, 2, 3, 3, 5]);
        assert_eq!(element_lines(text, 2), [1, 2]);
    }
}
