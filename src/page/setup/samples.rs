//! The samples section: which train samples (`sample`, `n`, `sample_seed`, `rows`) and how many
//! tokens of each (`max_len`). It keeps rows and a seed chosen for another method, so that
//! switching methods loses nothing; [`SampleSection::choice`] is the core's [`SampleChoice`].

use ntk_lens_core::experiment::SampleChoice;
use ntk_lens_core::options::{SampleMethod, MAX_SAMPLES};
use ntk_lens_core::tokenize::{DEFAULT_MAX_LEN, MAX_LEN_LIMIT};
use serde::{Deserialize, Serialize};

use super::query::{in_range, join, list, option, whole};
use super::Section;

/// How the train samples are chosen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SampleSection {
    /// How samples are chosen.
    pub method: SampleMethod,
    /// Seed of the stratified sample.
    pub seed: u64,
    /// Rows picked by hand (dataset row indices), for [`SampleMethod::Picked`].
    pub rows: Vec<usize>,
    /// Number of samples (for first-N and stratified).
    pub n: usize,
    /// Maximum sequence length in tokens.
    pub max_len: usize,
}

impl Default for SampleSection {
    fn default() -> Self {
        SampleSection {
            method: SampleMethod::Stratified,
            seed: 0,
            rows: Vec::new(),
            n: 32,
            max_len: DEFAULT_MAX_LEN,
        }
    }
}

impl SampleSection {
    /// The train samples this section chooses.
    pub fn choice(&self) -> SampleChoice {
        SampleChoice::new(self.method, self.n, self.seed, &self.rows)
    }
}

impl Section for SampleSection {
    // Rows first: `rows=` alone means "picked" (short links), and a `sample=` after them keeps
    // the method when rows were picked for later.
    const KEYS: &'static [&'static str] = &["rows", "sample_seed", "sample", "n", "max_len"];
    const OMIT_EMPTY: &'static [&'static str] = &["rows"];

    fn set(&mut self, key: &str, v: &str) -> Result<(), String> {
        match key {
            "rows" => match list(v, |s| s.parse::<usize>().ok()) {
                Some(rows) if !rows.is_empty() && rows.len() <= MAX_SAMPLES => {
                    self.method = SampleMethod::Picked;
                    self.rows = rows;
                }
                _ => {
                    return Err(format!(
                        "expected 1 to {MAX_SAMPLES} row numbers, comma-separated"
                    ))
                }
            },
            "sample_seed" => self.seed = whole(v)?,
            "sample" => self.method = option(v)?,
            "n" => self.n = in_range(v, 1, MAX_SAMPLES)?,
            _ => self.max_len = in_range(v, 3, MAX_LEN_LIMIT)?,
        }
        Ok(())
    }

    fn pairs(&self) -> Vec<(&'static str, String)> {
        vec![
            ("rows", join(&self.rows)),
            ("sample_seed", self.seed.to_string()),
            ("sample", self.method.to_string()),
            ("n", self.n.to_string()),
            ("max_len", self.max_len.to_string()),
        ]
    }
}
