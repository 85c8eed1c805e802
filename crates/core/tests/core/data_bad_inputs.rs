//! The corpus of bad dataset files (`tests/data/bad/`): each must fail with the exact error kind
//! and location. Files too large to commit are generated here.
#![cfg(not(target_family = "wasm"))]

use std::path::PathBuf;

use ntk_lens_core::data::limits::{MAX_LINE_BYTES, MAX_ROWS, MAX_TEXT_CHARS};
use ntk_lens_core::data::{parse_dataset, ColumnRole, DataError};

fn bad(name: &str) -> Result<ntk_lens_core::data::Dataset, DataError> {
    let path: PathBuf = [env!("CARGO_MANIFEST_DIR"), "tests", "data", "bad", name]
        .iter()
        .collect();
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    parse_dataset(name, &bytes, None)
}

#[test]
fn empty_file() {
    assert_eq!(
        bad("empty.csv"),
        Err(DataError::Empty {
            file: "empty.csv".into()
        })
    );
}

#[test]
fn missing_header() {
    assert_eq!(
        bad("no_header.csv"),
        Err(DataError::NoHeader {
            file: "no_header.csv".into(),
            line: 1,
            field: 2,
            found: "1".into()
        })
    );
}

#[test]
fn only_one_class() {
    assert_eq!(
        bad("one_class.csv"),
        Err(DataError::OneClass {
            file: "one_class.csv".into(),
            column: "label".into(),
            label: "positive".into(),
            rows: 3
        })
    );
}

#[test]
fn mixed_label_types() {
    assert_eq!(
        bad("mixed_labels.jsonl"),
        Err(DataError::MixedLabels {
            file: "mixed_labels.jsonl".into(),
            line: 3,
            column: "label".into(),
            found: "neutral".into(),
            found_kind: "text",
            expected_kind: "an integer",
            first_line: 1
        })
    );
}

#[test]
fn non_utf8_bytes() {
    assert_eq!(
        bad("non_utf8.csv"),
        Err(DataError::NotUtf8 {
            file: "non_utf8.csv".into(),
            line: 3,
            offset: 26,
            hint: String::new()
        })
    );
}

#[test]
fn quote_that_never_closes() {
    assert_eq!(
        bad("unclosed_quote.csv"),
        Err(DataError::UnclosedQuote {
            file: "unclosed_quote.csv".into(),
            line: 3,
            field: 1
        })
    );
}

#[test]
fn json_syntax_error() {
    assert_eq!(
        bad("bad_json.json"),
        Err(DataError::JsonSyntax {
            file: "bad_json.json".into(),
            line: 3,
            column: 18, // the `"` that opens `"label"`
            message: "expected `,` or `}`".into()
        })
    );
}

/// `long_line.jsonl`: one line over [`MAX_LINE_BYTES`] (generated, not committed).
#[test]
fn line_over_the_limit() {
    let long = "x".repeat(MAX_LINE_BYTES);
    let bytes =
        format!("{{\"text\": \"ok\", \"label\": 0}}\n{{\"text\": \"{long}\", \"label\": 1}}\n");
    assert_eq!(
        parse_dataset("long_line.jsonl", bytes.as_bytes(), None),
        Err(DataError::LineTooLong {
            file: "long_line.jsonl".into(),
            line: 2,
            bytes: MAX_LINE_BYTES + 24,
            limit: MAX_LINE_BYTES
        })
    );
}

/// A text over [`MAX_TEXT_CHARS`] (on a line within the line limit) is rejected, not truncated.
#[test]
fn text_over_the_limit() {
    let long = "é".repeat(MAX_TEXT_CHARS + 1);
    let bytes = format!("text\tlabel\nok\t0\nfine\t1\n{long}\t1\n");
    assert_eq!(
        parse_dataset("long_text.tsv", bytes.as_bytes(), None),
        Err(DataError::TextTooLong {
            file: "long_text.tsv".into(),
            line: 4,
            column: "text".into(),
            chars: MAX_TEXT_CHARS + 1,
            limit: MAX_TEXT_CHARS
        })
    );
    let at_limit = "é".repeat(MAX_TEXT_CHARS);
    let bytes = format!("text\tlabel\n{at_limit}\t0\nfine\t1\n");
    let d = parse_dataset("ok.tsv", bytes.as_bytes(), None).unwrap();
    assert_eq!(d.texts[0].chars().count(), MAX_TEXT_CHARS);
}

/// More rows than [`MAX_ROWS`], in every format.
#[test]
fn rows_over_the_limit() {
    let mut csv = String::from("text,label\n");
    let mut jsonl = String::new();
    let mut json = String::from("[\n");
    for i in 0..=MAX_ROWS {
        csv.push_str(&format!("t{i},{}\n", i % 2));
        jsonl.push_str(&format!("{{\"text\":\"t{i}\",\"label\":{}}}\n", i % 2));
        json.push_str(&format!("{{\"text\":\"t{i}\",\"label\":{}}},\n", i % 2));
    }
    json.push_str("{\"text\":\"last\",\"label\":0}]");
    let limit = MAX_ROWS;
    assert_eq!(
        parse_dataset("big.csv", csv.as_bytes(), None),
        Err(DataError::TooManyRows {
            file: "big.csv".into(),
            line: MAX_ROWS + 2,
            limit
        })
    );
    assert_eq!(
        parse_dataset("big.jsonl", jsonl.as_bytes(), None),
        Err(DataError::TooManyRows {
            file: "big.jsonl".into(),
            line: MAX_ROWS + 1,
            limit
        })
    );
    assert_eq!(
        parse_dataset("big.json", json.as_bytes(), None),
        Err(DataError::TooManyRows {
            file: "big.json".into(),
            line: MAX_ROWS + 2,
            limit
        })
    );
}

#[test]
fn missing_label_and_missing_column() {
    let bytes = b"{\"text\": \"a\", \"label\": \"x\"}\n{\"text\": \"b\", \"label\": null}\n";
    assert_eq!(
        parse_dataset("nulls.jsonl", bytes, None),
        Err(DataError::MissingValue {
            file: "nulls.jsonl".into(),
            line: 2,
            column: "label".into(),
            role: ColumnRole::Label
        })
    );
    let bytes = b"body,stars,extra\nok,1,x\n";
    assert_eq!(
        parse_dataset("cols.csv", bytes, None),
        Err(DataError::NoColumnGuessed {
            file: "cols.csv".into(),
            role: ColumnRole::Text,
            looked_for: ntk_lens_core::data::columns::looked_for(ColumnRole::Text),
            available: vec!["body".into(), "stars".into(), "extra".into()]
        })
    );
}

/// Issue 30: `tests/bad-inputs/data-numeric-text-column.csv` (`id,score`, numbers only): the
/// guess took `id`, the only column besides the label, as the text. Refused unless chosen.
#[test]
fn guessed_text_column_of_numbers() {
    let path: PathBuf = [
        env!("CARGO_MANIFEST_DIR"),
        "../../tests/bad-inputs/data-numeric-text-column.csv",
    ]
    .iter()
    .collect();
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let name = "data-numeric-text-column.csv";
    let refused = DataError::NumericTextColumn {
        file: name.into(),
        column: "id".into(),
        role: ColumnRole::Text,
        rows: 6,
        example: "1".into(),
    };
    assert_eq!(parse_dataset(name, &bytes, None), Err(refused.clone()));
    // `logits` reads the texts with the same guess.
    assert_eq!(ntk_lens_core::data::read_texts(name, &bytes), Err(refused));
    let chosen = ntk_lens_core::data::ColumnChoice::single("id", "score");
    let d = parse_dataset(name, &bytes, Some(&chosen)).unwrap();
    assert_eq!(d.texts, ["1", "2", "3", "4", "5", "6"]);
}
