//! Which columns hold the text(s) and the label: the user's choice, and a guess from the names.

use serde::{Deserialize, Serialize};

use super::error::ColumnRole;
use super::task::Task;

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
}
