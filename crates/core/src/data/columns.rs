//! Which columns hold the text(s) and the label: the user's choice, and a guess from the names.

use serde::{Deserialize, Serialize};

use super::error::{ColumnRole, DataError};
use super::table::{Cell, Table};
use super::task::{number_of, Task};

/// The columns a dataset is built from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnChoice {
    /// The column of the (first) text.
    pub text: String,
    /// The column of the second text, for sentence-pair tasks.
    pub text_pair: Option<String>,
    /// The column of the class label (or of the score, for regression).
    pub label: String,
    /// The task; `None` takes the one the label column suggests ([`Task::suggest`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<Task>,
}

impl ColumnChoice {
    /// A single-text task.
    pub fn single(text: &str, label: &str) -> Self {
        ColumnChoice {
            text: text.to_string(),
            text_pair: None,
            label: label.to_string(),
            task: None,
        }
    }

    /// A sentence-pair task.
    pub fn pair(text: &str, text_pair: &str, label: &str) -> Self {
        ColumnChoice {
            text: text.to_string(),
            text_pair: Some(text_pair.to_string()),
            label: label.to_string(),
            task: None,
        }
    }

    /// The same columns with the task fixed (`None`: suggested by the label column).
    pub fn with_task(self, task: Option<Task>) -> Self {
        ColumnChoice { task, ..self }
    }
}

/// A guess of the columns from their names; any part may be unknown.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ColumnGuess {
    /// The guessed text column.
    pub text: Option<String>,
    /// The guessed second text column (only when a known pair of names is present).
    pub text_pair: Option<String>,
    /// The guessed label column.
    pub label: Option<String>,
}

impl ColumnGuess {
    /// The guess as a choice, when both a text and a label column were found.
    pub fn choice(&self) -> Option<ColumnChoice> {
        Some(ColumnChoice {
            text: self.text.clone()?,
            text_pair: self.text_pair.clone(),
            label: self.label.clone()?,
            task: None,
        })
    }
}

/// Text column names, in order of preference (matched case-insensitively).
pub const TEXT_NAMES: &[&str] = &["text", "sentence", "review", "content"];

/// Sentence-pair column names (first, second), in order of preference.
pub const PAIR_NAMES: &[(&str, &str)] = &[
    ("text", "text_pair"),
    ("sentence1", "sentence2"),
    ("text_a", "text_b"),
    ("premise", "hypothesis"),
    ("question", "sentence"),
];

/// Label column names, in order of preference.
pub const LABEL_NAMES: &[&str] = &["label", "class", "category", "sentiment", "score", "y"];

/// The column names [`guess_columns`] looks for in the `role`, in words for an error message.
pub fn looked_for(role: ColumnRole) -> String {
    let quoted = |names: &[&str]| {
        names
            .iter()
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match role {
        ColumnRole::Text | ColumnRole::TextPair => {
            let pairs: Vec<String> = PAIR_NAMES
                .iter()
                .map(|(a, b)| format!("`{a}`+`{b}`"))
                .collect();
            format!(
                "a column named {}, a pair {}, or the only column besides the label \
                 (names match in any case)",
                quoted(TEXT_NAMES),
                pairs.join(", ")
            )
        }
        ColumnRole::Label => format!("a column named {} (in any case)", quoted(LABEL_NAMES)),
    }
}

/// The error for a `role` column that could not be guessed in `file` with `columns`.
pub fn not_guessed(file: &str, role: ColumnRole, columns: &[String]) -> super::DataError {
    super::DataError::NoColumnGuessed {
        file: file.to_string(),
        role,
        looked_for: looked_for(role),
        available: columns.to_vec(),
    }
}

/// Guesses the text, text-pair and label columns from `columns`.
///
/// A known pair of names ([`PAIR_NAMES`]) gives a sentence-pair guess; otherwise the first of
/// [`TEXT_NAMES`] present is the text. The label is the first of [`LABEL_NAMES`] present. When no
/// text name matches but a label was found and exactly one other column exists, that column is
/// taken as the text.
pub fn guess_columns(columns: &[String]) -> ColumnGuess {
    let find = |name: &str| columns.iter().find(|c| c.trim().eq_ignore_ascii_case(name));
    let label = LABEL_NAMES.iter().find_map(|n| find(n)).cloned();
    if let Some((a, b)) = PAIR_NAMES
        .iter()
        .find_map(|(a, b)| Some((find(a)?, find(b)?)))
    {
        return ColumnGuess {
            text: Some(a.clone()),
            text_pair: Some(b.clone()),
            label,
        };
    }
    let mut text = TEXT_NAMES.iter().find_map(|n| find(n)).cloned();
    if text.is_none() {
        if let Some(label) = &label {
            let others: Vec<&String> = columns.iter().filter(|c| *c != label).collect();
            if let [only] = others.as_slice() {
                text = Some((*only).clone());
            }
        }
    }
    ColumnGuess {
        text,
        text_pair: None,
        label,
    }
}

/// Refuses a guessed text or second-text column of `table` whose values are all numbers
/// ([`DataError::NumericTextColumn`]): a file such as `id,score` has its `id` taken as the
/// text (the only column besides the label), and the model would read "1", "2", …. A column
/// with at least one value that is not a number passes; so do columns a user chose explicitly,
/// which never come here. Values that are missing or blank are left to the readers of the
/// texts, which name their row.
pub fn check_guess(table: &Table, guess: &ColumnGuess) -> Result<(), DataError> {
    for (name, role) in [
        (&guess.text, ColumnRole::Text),
        (&guess.text_pair, ColumnRole::TextPair),
    ] {
        let Some(column) = name.as_deref().and_then(|n| table.column_index(n)) else {
            continue;
        };
        let values: Vec<&Cell> = table
            .rows
            .iter()
            .filter_map(|row| row.cells.get(column))
            .filter(|cell| !cell.display().trim().is_empty())
            .collect();
        let Some(first) = values.first() else {
            continue;
        };
        if values.iter().all(|cell| number_of(cell).is_some()) {
            return Err(DataError::NumericTextColumn {
                file: table.file.clone(),
                column: table.columns[column].clone(),
                role,
                rows: values.len(),
                example: first.display().trim().to_string(),
            });
        }
    }
    Ok(())
}

/// [`guess_columns`] on the columns of `table`, then [`check_guess`] on its values: the guess
/// to use when the user chose no columns.
pub fn guess_table(table: &Table) -> Result<ColumnGuess, DataError> {
    let guess = guess_columns(&table.columns);
    check_guess(table, &guess)?;
    Ok(guess)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cols(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn guesses_single_pair_and_fallback() {
        let g = guess_columns(&cols(&["id", "Review", "Sentiment"]));
        assert_eq!(
            g.choice(),
            Some(ColumnChoice::single("Review", "Sentiment"))
        );
        let g = guess_columns(&cols(&["sentence1", "sentence2", "label"]));
        assert_eq!(
            g.choice(),
            Some(ColumnChoice::pair("sentence1", "sentence2", "label"))
        );
        let g = guess_columns(&cols(&["body", "y"]));
        assert_eq!(g.choice(), Some(ColumnChoice::single("body", "y")));
        let g = guess_columns(&cols(&["a", "b", "c"]));
        assert_eq!(g, ColumnGuess::default());
        assert_eq!(g.choice(), None);
        let g = guess_columns(&cols(&["text", "rating"]));
        assert_eq!(g.text.as_deref(), Some("text"));
        assert_eq!(g.choice(), None);
        // A score column (STS-B style) is a label too.
        let g = guess_columns(&cols(&["sentence1", "sentence2", "score"]));
        assert_eq!(
            g.choice(),
            Some(ColumnChoice::pair("sentence1", "sentence2", "score"))
        );
    }

    /// Issue 30: `id,score` took `id` as the text (the only column besides the label).
    #[test]
    fn a_guessed_text_column_of_numbers_is_refused_unless_chosen() {
        use crate::data::{parse_dataset, read_texts};
        let csv = b"id,score\n1,0.5\n2,0.7\n3,0.1\n";
        let e = parse_dataset("n.csv", csv, None).unwrap_err();
        assert_eq!(
            e,
            DataError::NumericTextColumn {
                file: "n.csv".into(),
                column: "id".into(),
                role: ColumnRole::Text,
                rows: 3,
                example: "1".into(),
            }
        );
        assert_eq!(
            e.to_string(),
            "n.csv, column `id`: guessed as the text column, but all 3 of its values are numbers \
             (e.g. `1`), which is almost surely not text; choose the text column explicitly \
             (`--text-col NAME --label-col NAME` on the command line, the column selects on the \
             page)"
        );
        // `logits` reads the texts with the same guess.
        assert_eq!(read_texts("n.csv", csv), Err(e));
        // Chosen explicitly, the numbers are read as texts.
        let chosen = ColumnChoice::single("id", "score");
        let d = parse_dataset("n.csv", csv, Some(&chosen)).unwrap();
        assert_eq!(d.texts, ["1", "2", "3"]);
        // JSON numbers, a named text column, a guessed pair column: refused all the same.
        let jsonl = b"{\"text\": 4, \"label\": \"a\"}\n{\"text\": 2.5, \"label\": \"b\"}\n";
        let e = parse_dataset("n.jsonl", jsonl, None).unwrap_err();
        assert!(
            matches!(&e, DataError::NumericTextColumn { column, rows: 2, .. } if column == "text"),
            "{e}"
        );
        let pairs = b"sentence1,sentence2,label\nA cat,1,a\nA dog,2,b\n";
        let e = parse_dataset("p.csv", pairs, None).unwrap_err();
        assert!(
            matches!(
                &e,
                DataError::NumericTextColumn {
                    role: ColumnRole::TextPair,
                    ..
                }
            ),
            "{e}"
        );
        assert!(e.to_string().contains("--pair-col NAME"), "{e}");
        // Some numbers and some words: text. A blank value is left to the row's own error.
        let mixed = b"id,score\n1,0.5\n2 cats,0.7\n3,0.1\n";
        let d = parse_dataset("m.csv", mixed, None).unwrap();
        assert_eq!(d.texts, ["1", "2 cats", "3"]);
        assert_eq!(read_texts("m.csv", mixed).unwrap().column, "id");
        let e = parse_dataset("b.csv", b"body,label\nhi,a\n,b\n", None).unwrap_err();
        assert!(matches!(e, DataError::MissingValue { line: 3, .. }), "{e}");
    }
}
