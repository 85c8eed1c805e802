//! Property tests of the dataset parsers: no input makes them panic, and what the `csv` writer or
//! serde_json writes reads back unchanged.
#![cfg(not(target_family = "wasm"))]

use ntk_lens_core::data::{parse_dataset, read_table, ColumnChoice, Dataset};
use proptest::prelude::*;

/// Pieces that make the parsers take their interesting paths when glued together at random.
const TOKENS: &[&[u8]] = &[
    b"\"",
    b",",
    b"\t",
    b"\n",
    b"\r\n",
    b"{",
    b"}",
    b"[",
    b"]",
    b":",
    b"\"text\"",
    b"\"label\"",
    b"text",
    b"label",
    b"1",
    b"-2.5",
    b"null",
    b"true",
    b" ",
    b"\\",
    b"\xe9",
    b"\xef\xbb\xbf",
    b"\xff\xfe",
    b"caf\xc3\xa9",
    b"\"\"",
];

fn token_soup() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(prop::sample::select(TOKENS), 0..60).prop_map(|t| t.concat())
}

const NAMES: &[&str] = &["f.csv", "f.tsv", "f.json", "f.jsonl", "f.txt", "f"];

/// A text with at least one non-whitespace character, drawn from printable and tricky characters.
fn text() -> impl Strategy<Value = String> {
    ("[a-zA-Zé日]", "[ -~é日\t\n\r\"',]{0,30}").prop_map(|(head, tail)| format!("{head}{tail}"))
}

/// Rows whose labels are all words or all integers, with at least two distinct labels.
fn rows() -> impl Strategy<Value = Vec<(String, String)>> {
    any::<bool>()
        .prop_flat_map(|numeric| {
            let set = if numeric {
                vec!["1", "-3", "10"]
            } else {
                vec!["neg", "pos", "neutral"]
            };
            let label = prop::sample::select(set).prop_map(str::to_string);
            prop::collection::vec((text(), label), 2..40)
        })
        .prop_filter("two classes", |rows| {
            rows.iter().any(|(_, l)| *l != rows[0].1)
        })
}

fn check_round_trip(d: &Dataset, rows: &[(String, String)]) {
    let texts: Vec<&str> = rows.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(d.texts, texts);
    let got: Vec<&str> = d
        .labels
        .iter()
        .map(|&i| d.label_names[i].as_str())
        .collect();
    let want: Vec<&str> = rows.iter().map(|(_, l)| l.as_str()).collect();
    assert_eq!(got, want);
    let mut sorted = d.label_names.clone();
    let numeric = sorted.iter().all(|l| l.parse::<i64>().is_ok());
    if numeric {
        sorted.sort_by_key(|l| l.parse::<i64>().unwrap());
    } else {
        sorted.sort();
    }
    assert_eq!(d.label_names, sorted);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        for name in NAMES {
            let _ = parse_dataset(name, &bytes, None);
        }
    }

    #[test]
    fn token_soup_never_panics(bytes in token_soup()) {
        for name in NAMES {
            let _ = read_table(name, &bytes);
            let _ = parse_dataset(name, &bytes, None);
            let _ = parse_dataset(name, &bytes, Some(&ColumnChoice::pair("text", "label", "label")));
        }
    }

    #[test]
    fn csv_and_tsv_round_trip(rows in rows(), tsv in any::<bool>()) {
        let mut writer = csv::WriterBuilder::new()
            .delimiter(if tsv { b'\t' } else { b',' })
            .from_writer(Vec::new());
        writer.write_record(["text", "label"]).unwrap();
        for (t, l) in &rows {
            writer.write_record([t, l]).unwrap();
        }
        let bytes = writer.into_inner().unwrap();
        let name = if tsv { "r.tsv" } else { "r.csv" };
        let d = parse_dataset(name, &bytes, None).unwrap();
        check_round_trip(&d, &rows);
    }

    #[test]
    fn jsonl_and_json_round_trip(rows in rows(), array in any::<bool>()) {
        let objects: Vec<serde_json::Value> = rows
            .iter()
            .map(|(t, l)| serde_json::json!({"text": t, "label": l}))
            .collect();
        let (name, bytes) = if array {
            ("r.json", serde_json::to_vec_pretty(&objects).unwrap())
        } else {
            let lines: Vec<String> = objects.iter().map(|o| o.to_string()).collect();
            ("r.jsonl", lines.join("\n").into_bytes())
        };
        let d = parse_dataset(name, &bytes, None).unwrap();
        check_round_trip(&d, &rows);
    }

    #[test]
    fn splits_partition_and_samples_have_n_rows(
        labels in prop::collection::vec(0usize..4, 2..120),
        fraction in 0.05f64..0.95,
        n in 1usize..120,
        seed in any::<u64>(),
    ) {
        let d = Dataset {
            name: "p".into(),
            texts: labels.iter().map(|l| format!("t{l}")).collect(),
            text_pairs: None,
            labels: labels.clone(),
            label_names: (0..4).map(|c| c.to_string()).collect(),
            scores: None,
            source: None,
        };
        if let Ok(split) = d.split_indices(fraction, seed) {
            let mut all: Vec<usize> = split.train.iter().chain(&split.eval).copied().collect();
            all.sort_unstable();
            prop_assert_eq!(all, (0..labels.len()).collect::<Vec<_>>());
            prop_assert!(!split.train.is_empty() && !split.eval.is_empty());
        }
        match d.sample_stratified_indices(n, seed) {
            Ok(picked) => {
                prop_assert_eq!(picked.len(), n);
                prop_assert!(picked.windows(2).all(|w| w[0] < w[1]));
                let s = d.subset(&picked);
                prop_assert!(s.label_counts().iter().all(|&c| c > 0));
            }
            // A class gets no share only when n × count < rows (or it has no rows).
            Err(_) => prop_assert!(
                n > labels.len() || d.label_counts().iter().any(|&c| n * c < labels.len())
            ),
        }
    }
}
