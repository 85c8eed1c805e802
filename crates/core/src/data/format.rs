//! Which file format a dataset is in: from the file name's extension, else from its content.

use serde::{Deserialize, Serialize};

/// A supported dataset file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// Comma-separated values with a header line (RFC 4180 quoting).
    Csv,
    /// Tab-separated values with a header line (same quoting as CSV).
    Tsv,
    /// One JSON array of objects.
    Json,
    /// One JSON object per line (JSON Lines).
    Jsonl,
}

impl Format {
    /// The format named by the extension of `file_name` (case-insensitive): `.csv`, `.tsv`/`.tab`,
    /// `.json`, `.jsonl`/`.ndjson`. `None` for other or no extensions.
    pub fn from_name(file_name: &str) -> Option<Format> {
        let ext = file_name.rsplit_once('.')?.1.to_ascii_lowercase();
        match ext.as_str() {
            "csv" => Some(Format::Csv),
            "tsv" | "tab" => Some(Format::Tsv),
            "json" => Some(Format::Json),
            "jsonl" | "ndjson" => Some(Format::Jsonl),
            _ => None,
        }
    }

    /// Guesses the format from the text itself: `[` first means JSON, `{` first means JSON Lines;
    /// otherwise the first line decides between TSV (has tabs, at least as many as commas) and CSV
    /// (has commas). `None` when the first line has neither.
    pub fn sniff(text: &str) -> Option<Format> {
        let trimmed = text.trim_start();
        match trimmed.chars().next()? {
            '[' => return Some(Format::Json),
            '{' => return Some(Format::Jsonl),
            _ => {}
        }
        let first_line = trimmed.lines().next().unwrap_or("");
        let tabs = first_line.matches('\t').count();
        let commas = first_line.matches(',').count();
        if tabs > 0 && tabs >= commas {
            Some(Format::Tsv)
        } else if commas > 0 {
            Some(Format::Csv)
        } else {
            None
        }
    }

    /// The format to read `text` with: the extension's, except that a `.json` file whose content
    /// starts with `{` is read as JSON Lines (a common mislabelling); content sniffing when the
    /// extension is unknown.
    pub fn detect(file_name: &str, text: &str) -> Option<Format> {
        match Format::from_name(file_name) {
            Some(Format::Json) if text.trim_start().starts_with('{') => Some(Format::Jsonl),
            Some(format) => Some(format),
            None => Format::sniff(text),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extension_wins_and_sniffing_is_the_fallback() {
        assert_eq!(Format::from_name("a/B.CSV"), Some(Format::Csv));
        assert_eq!(Format::from_name("x.tsv"), Some(Format::Tsv));
        assert_eq!(Format::from_name("x.ndjson"), Some(Format::Jsonl));
        assert_eq!(Format::from_name("noext"), None);
        assert_eq!(Format::detect("x.csv", "a\tb\n"), Some(Format::Csv));
        assert_eq!(
            Format::detect("x.json", " {\"a\":1}\n"),
            Some(Format::Jsonl)
        );
        assert_eq!(Format::detect("x.json", "[{\"a\":1}]"), Some(Format::Json));
        assert_eq!(
            Format::detect("x.txt", "text\tlabel\nhi\t1"),
            Some(Format::Tsv)
        );
        assert_eq!(Format::detect("x.txt", "text,label\n"), Some(Format::Csv));
        assert_eq!(Format::detect("x.txt", "\n [1]"), Some(Format::Json));
        assert_eq!(Format::detect("x.txt", "hello world"), None);
        assert_eq!(Format::detect("x", ""), None);
    }
}
