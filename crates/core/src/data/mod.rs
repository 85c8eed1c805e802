//! Labelled text datasets: parsing CSV, TSV, JSON and JSON Lines from bytes (the browser has no
//! file system), choosing columns, encoding labels, and seeded sampling and splits.
//!
//! The usual path is [`read_table`] (show the columns, let the user choose, or
//! [`guess_columns`]) then [`Dataset::from_table`]; [`parse_dataset`] does both at once. Every
//! failure is a [`DataError`] naming the file, the line and the column; no input makes these
//! functions panic. Inputs are bounded by the constants in [`limits`].

pub mod bundled;
pub mod columns;
pub mod dataset;
pub mod decode;
pub mod delimited;
pub mod error;
pub mod format;
pub mod histogram;
pub mod json;
pub mod labels;
pub mod limits;
pub mod sample;
pub mod table;
pub mod task;
pub mod texts;

pub use crate::rng::SplitMix64;
pub use bundled::{BundledDataset, BundledIndex};
pub use columns::{guess_columns, guess_table, ColumnChoice, ColumnGuess};
pub use dataset::{Dataset, DatasetSource};
pub use error::{ColumnRole, DataError};
pub use format::Format;
pub use histogram::{LengthHistogram, LengthUnit};
pub use sample::SplitIndices;
pub use table::{Cell, Row, Table};
pub use task::Task;
pub use texts::{texts_from_chosen, texts_from_table, TextColumns, Texts};

/// Reads `bytes` as a table, the format taken from `file_name` (see [`Format::detect`]).
///
/// Errors: any [`DataError`] of reading (size, encoding, format, syntax, header, limits).
pub fn read_table(file_name: &str, bytes: &[u8]) -> Result<Table, DataError> {
    let text = decode::decode(file_name, bytes)?;
    match Format::detect(file_name, text) {
        Some(format @ (Format::Csv | Format::Tsv)) => {
            delimited::read_delimited(file_name, text, format)
        }
        Some(Format::Json) => json::read_json(file_name, text),
        Some(Format::Jsonl) => json::read_jsonl(file_name, text),
        None => Err(DataError::UnknownFormat {
            file: file_name.to_string(),
        }),
    }
}

/// Reads the texts of `bytes` (no label column needed; see [`texts_from_table`]), the format
/// taken from `file_name`.
pub fn read_texts(file_name: &str, bytes: &[u8]) -> Result<Texts, DataError> {
    texts_from_table(&read_table(file_name, bytes)?)
}

/// Reads `bytes` and builds a dataset from `columns`, or from the guessed columns when `None`
/// (then a column that cannot be guessed is a [`DataError::NoColumnGuessed`], and a guessed
/// text column whose values are all numbers a [`DataError::NumericTextColumn`]).
/// The dataset is named after the file, without directories and extension.
pub fn parse_dataset(
    file_name: &str,
    bytes: &[u8],
    columns: Option<&ColumnChoice>,
) -> Result<Dataset, DataError> {
    parse_dataset_as(file_name, bytes, columns, None)
}

/// [`parse_dataset`] with the task fixed: `task`, else the choice's, else the one the label
/// column suggests ([`Task::suggest`]).
pub fn parse_dataset_as(
    file_name: &str,
    bytes: &[u8],
    columns: Option<&ColumnChoice>,
    task: Option<Task>,
) -> Result<Dataset, DataError> {
    let table = read_table(file_name, bytes)?;
    let choice = match columns {
        Some(choice) => choice.clone(),
        None => {
            let guess = guess_columns(&table.columns);
            let unknown = |role| columns::not_guessed(&table.file, role, &table.columns);
            let choice = ColumnChoice {
                text: guess
                    .text
                    .clone()
                    .ok_or_else(|| unknown(ColumnRole::Text))?,
                text_pair: guess.text_pair.clone(),
                label: guess
                    .label
                    .clone()
                    .ok_or_else(|| unknown(ColumnRole::Label))?,
                task: None,
            };
            columns::check_guess(&table, &guess)?;
            choice
        }
    };
    let task = task.or(choice.task);
    Dataset::from_table(&dataset_name(file_name), &table, &choice.with_task(task))
}

/// The file name without directories and without its last extension.
pub fn dataset_name(file_name: &str) -> String {
    let base = file_name.rsplit(['/', '\\']).next().unwrap_or(file_name);
    match base.rsplit_once('.') {
        Some((stem, _)) if !stem.is_empty() => stem.to_string(),
        _ => base.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_format_to_the_same_dataset() {
        let csv = "text,label\n\"Great, really\",pos\nAwful,neg\n";
        let tsv = "text\tlabel\nGreat, really\tpos\nAwful\tneg\n";
        let json =
            r#"[{"text": "Great, really", "label": "pos"}, {"text": "Awful", "label": "neg"}]"#;
        let jsonl = "{\"text\": \"Great, really\", \"label\": \"pos\"}\n{\"label\": \"neg\", \"text\": \"Awful\"}\n";
        for (name, bytes) in [
            ("dir/r.csv", csv),
            ("r.tsv", tsv),
            ("r.json", json),
            ("r.jsonl", jsonl),
            ("r", jsonl),
        ] {
            let d = parse_dataset(name, bytes.as_bytes(), None).unwrap();
            assert_eq!(d.name, "r");
            assert_eq!(d.texts, ["Great, really", "Awful"]);
            assert_eq!(d.labels, [1, 0]);
            assert_eq!(d.label_names, ["neg", "pos"]);
            assert_eq!(d.label_counts(), [1, 1]);
        }
    }

    #[test]
    fn sentence_pairs_and_explicit_columns() {
        let csv =
            "premise,hypothesis,gold,other\nA man sleeps,He is awake,0,x\nA cat,An animal,1,y\n";
        let d = parse_dataset("nli.csv", csv.as_bytes(), None);
        assert_eq!(
            d,
            Err(DataError::NoColumnGuessed {
                file: "nli.csv".into(),
                role: ColumnRole::Label,
                looked_for: columns::looked_for(ColumnRole::Label),
                available: vec![
                    "premise".into(),
                    "hypothesis".into(),
                    "gold".into(),
                    "other".into()
                ]
            })
        );
        let choice = ColumnChoice::pair("premise", "hypothesis", "gold");
        let d = parse_dataset("nli.csv", csv.as_bytes(), Some(&choice)).unwrap();
        assert_eq!(
            d.text_pairs,
            Some(vec!["He is awake".into(), "An animal".into()])
        );
        assert_eq!(d.labels, [0, 1]);
        assert_eq!(d.source.unwrap().columns, choice);
        let wrong = ColumnChoice::single("premise", "nope");
        assert!(matches!(
            parse_dataset("nli.csv", csv.as_bytes(), Some(&wrong)),
            Err(DataError::MissingColumn {
                role: ColumnRole::Label,
                ..
            })
        ));
    }

    #[test]
    fn error_messages_read_well() {
        let e = parse_dataset("a.csv", b"text,label\nhi,1\nho,1\n", None).unwrap_err();
        assert_eq!(
            e.to_string(),
            "a.csv, column `label`: all 2 rows have the label `1`; expected at least two classes"
        );
        let e = parse_dataset("a.csv", b"text,label\n,1\nho,0\n", None).unwrap_err();
        assert_eq!(
            e.to_string(),
            "a.csv, line 2, column `text`: no value; expected a text in every row"
        );
        let e = parse_dataset("a.txt", b"just words", None).unwrap_err();
        assert_eq!(
            e,
            DataError::UnknownFormat {
                file: "a.txt".into()
            }
        );
    }

    #[test]
    fn numeric_scores_are_a_regression_task_unless_told_otherwise() {
        let csv =
            "sentence1,sentence2,score\nA man plays,A man is playing,4.6\nA cat,A dog,0.4\nA,B,2\n";
        let d = parse_dataset("sts.csv", csv.as_bytes(), None).unwrap();
        assert_eq!(d.task(), Task::Regression);
        assert_eq!(d.scores, Some(vec![4.6, 0.4, 2.0]));
        assert_eq!((d.num_classes(), d.labels.clone()), (1, vec![0, 0, 0]));
        assert_eq!(d.label_names, ["score"]);
        assert_eq!(d.text_pairs.as_ref().map(Vec::len), Some(3));
        assert_eq!(d.subset(&[2, 0]).scores, Some(vec![2.0, 4.6]));
        // Told it is classification, the texts "4.6" and "0.4" are words and "2" an integer.
        let e = parse_dataset_as("sts.csv", csv.as_bytes(), None, Some(Task::Classification));
        assert!(
            matches!(e, Err(DataError::MixedLabels { line: 4, .. })),
            "{e:?}"
        );
        // Few integers stay classes unless regression is asked for.
        let stars = "text,label\na,1\nb,5\nc,3\n";
        let d = parse_dataset("s.csv", stars.as_bytes(), None).unwrap();
        assert_eq!((d.task(), d.num_classes()), (Task::Classification, 3));
        let d = parse_dataset_as("s.csv", stars.as_bytes(), None, Some(Task::Regression)).unwrap();
        assert_eq!(d.scores, Some(vec![1.0, 5.0, 3.0]));
        let words = "text,label\na,pos\nb,neg\n";
        let e = parse_dataset_as("w.csv", words.as_bytes(), None, Some(Task::Regression));
        assert!(
            matches!(e, Err(DataError::WrongType { line: 2, .. })),
            "{e:?}"
        );
    }

    #[test]
    fn dataset_names() {
        assert_eq!(dataset_name("C:\\x\\yelp.v2.jsonl"), "yelp.v2");
        assert_eq!(dataset_name(".hidden"), ".hidden");
        assert_eq!(dataset_name("plain"), "plain");
    }
}
