//! Texts without labels: the text column (and the second text of a pair, when the file has a
//! known pair of columns) of a file, for inference (`ntk-lens logits`).

use serde::{Deserialize, Serialize};

use super::columns::{check_guess, guess_columns, not_guessed};
use super::dataset::text_values;
use super::error::{ColumnRole, DataError};
use super::table::Table;

/// The texts of a file, in file order; no label column is needed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Texts {
    /// The (first) text of every row.
    pub texts: Vec<String>,
    /// The second text of every row, when the file has a pair of text columns.
    pub text_pairs: Option<Vec<String>>,
    /// The column the texts came from.
    pub column: String,
    /// The column of the second texts, if any.
    pub pair_column: Option<String>,
}

impl Texts {
    /// The number of rows.
    pub fn len(&self) -> usize {
        self.texts.len()
    }

    /// Whether there are no rows (never true for texts returned by [`texts_from_table`]).
    pub fn is_empty(&self) -> bool {
        self.texts.is_empty()
    }
}

/// The texts of `table`: the column [`guess_columns`] picks as the text (`text`, `sentence`,
/// `review`, `content`, or the first of a known pair such as `text`/`text_pair` or
/// `sentence1`/`sentence2`, matched case-insensitively; or, in a file with a label column and
/// exactly one other column, that column), and the pair's second column. Labels are ignored.
///
/// Errors: no text column ([`DataError::NoColumnGuessed`], naming what was looked for); a
/// text column whose values are all numbers ([`DataError::NumericTextColumn`]: `id` in a file
/// `id,score`); a missing, blank, nested or over-long text in any row (as for
/// [`Dataset::from_table`](super::Dataset::from_table)).
pub fn texts_from_table(table: &Table) -> Result<Texts, DataError> {
    texts_from_chosen(table, None)
}

/// The columns of the texts a person chose (`--text-col`, `--pair-col`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextColumns {
    /// The text column.
    pub text: String,
    /// The second text column of sentence pairs.
    pub pair: Option<String>,
}

/// [`texts_from_table`] with the columns `chosen` (`None`: guessed). A chosen column is read as
/// it is, numbers included; one the file lacks is a [`DataError::MissingColumn`].
pub fn texts_from_chosen(table: &Table, chosen: Option<&TextColumns>) -> Result<Texts, DataError> {
    let (text_column, pair_column) = match chosen {
        Some(c) => {
            let index = |name: &str, role| {
                table
                    .column_index(name)
                    .ok_or_else(|| DataError::MissingColumn {
                        file: table.file.clone(),
                        column: name.to_string(),
                        role,
                        available: table.columns.clone(),
                    })
            };
            let pair = match &c.pair {
                Some(p) => Some(index(p, ColumnRole::TextPair)?),
                None => None,
            };
            (index(&c.text, ColumnRole::Text)?, pair)
        }
        None => {
            let guess = guess_columns(&table.columns);
            let index = |name: &Option<String>| name.as_deref().and_then(|n| table.column_index(n));
            let Some(text_column) = index(&guess.text) else {
                return Err(not_guessed(&table.file, ColumnRole::Text, &table.columns));
            };
            check_guess(table, &guess)?;
            (text_column, index(&guess.text_pair))
        }
    };
    Ok(Texts {
        texts: text_values(table, text_column, ColumnRole::Text)?,
        text_pairs: match pair_column {
            Some(c) => Some(text_values(table, c, ColumnRole::TextPair)?),
            None => None,
        },
        column: table.columns[text_column].clone(),
        pair_column: pair_column.map(|c| table.columns[c].clone()),
    })
}

#[cfg(test)]
mod tests {
    use crate::data::{read_texts, DataError};

    #[test]
    fn chosen_text_columns_are_read_as_they_are() {
        use crate::data::{read_table, texts_from_chosen, TextColumns};
        let table = read_table("n.csv", b"id,score\n1,0.5\n2,0.7\n").unwrap();
        let id = TextColumns {
            text: "id".into(),
            pair: None,
        };
        let t = texts_from_chosen(&table, Some(&id)).unwrap();
        assert_eq!(
            (t.texts, t.column.as_str()),
            (vec!["1".to_string(), "2".into()], "id")
        );
        let pair = TextColumns {
            text: "ID".into(),
            pair: Some("score".into()),
        };
        let t = texts_from_chosen(&table, Some(&pair)).unwrap();
        assert_eq!(t.text_pairs, Some(vec!["0.5".to_string(), "0.7".into()]));
        let missing = TextColumns {
            text: "review".into(),
            pair: None,
        };
        let e = texts_from_chosen(&table, Some(&missing)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "n.csv: no column `review` for the text; the columns are: id, score"
        );
        assert!(matches!(
            texts_from_chosen(&table, None),
            Err(DataError::NumericTextColumn { .. })
        ));
    }

    #[test]
    fn texts_need_no_label_and_keep_file_order() {
        let jsonl = "{\"text\": \"b first\"}\n{\"text\": \"a second\", \"id\": 7}\n";
        let t = read_texts("in.jsonl", jsonl.as_bytes()).unwrap();
        assert_eq!(t.texts, ["b first", "a second"]);
        assert_eq!((t.column.as_str(), t.text_pairs), ("text", None));
        let csv = "id,Sentence\n1,\"x, y\"\n2,z\n";
        let t = read_texts("in.csv", csv.as_bytes()).unwrap();
        assert_eq!(t.texts, ["x, y", "z"]);
        assert_eq!(t.column, "Sentence");
        let tsv = "sentence1\tsentence2\tlabel\nA\tB\t0\n";
        let t = read_texts("p.tsv", tsv.as_bytes()).unwrap();
        assert_eq!(
            (t.texts, t.text_pairs),
            (vec!["A".into()], Some(vec!["B".into()]))
        );
    }

    #[test]
    fn no_text_column_and_blank_texts_are_errors() {
        let e = read_texts("d.csv", b"id,score,label\n1,0.5,pos\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "d.csv: found no text column; looked for a column named `text`, `sentence`, \
             `review`, `content`, a pair `text`+`text_pair`, `sentence1`+`sentence2`, \
             `text_a`+`text_b`, `premise`+`hypothesis`, `question`+`sentence`, or the only column \
             besides the label (names match in any case); the columns are: id, score, label; name \
             the text column to use"
        );
        // As for labelled datasets, the only column besides the label is taken as the text.
        let t = read_texts("d.csv", b"body,label\nhi,pos\n").unwrap();
        assert_eq!(t.texts, ["hi"]);
        let e = read_texts("d.jsonl", b"{\"text\": \"ok\"}\n{\"text\": \" \"}\n").unwrap_err();
        assert!(matches!(e, DataError::MissingValue { line: 2, .. }), "{e}");
    }
}
