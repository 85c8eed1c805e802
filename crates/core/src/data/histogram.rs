//! Text lengths of a dataset, for the data overview (and for choosing a maximum sequence length).

use serde::{Deserialize, Serialize};

use super::dataset::Dataset;

/// How a text length is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LengthUnit {
    /// Unicode scalar values.
    Chars,
    /// Runs of non-whitespace.
    Words,
}

/// A histogram of text lengths with equal-width bins starting at 0.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LengthHistogram {
    /// The unit of the lengths.
    pub unit: LengthUnit,
    /// The width of every bin; bin `i` counts lengths in `i*bin_width .. (i+1)*bin_width`.
    pub bin_width: usize,
    /// The count of each bin; the last bin holds the longest text.
    pub counts: Vec<usize>,
    /// The shortest length (0 for an empty dataset).
    pub min: usize,
    /// The longest length (0 for an empty dataset).
    pub max: usize,
    /// The mean length (0 for an empty dataset).
    pub mean: f64,
}

impl LengthHistogram {
    /// The half-open range of lengths counted in bin `index`.
    pub fn bin_range(&self, index: usize) -> std::ops::Range<usize> {
        index * self.bin_width..(index + 1) * self.bin_width
    }
}

/// The length of `text` in `unit`.
pub fn text_length(text: &str, unit: LengthUnit) -> usize {
    match unit {
        LengthUnit::Chars => text.chars().count(),
        LengthUnit::Words => text.split_whitespace().count(),
    }
}

impl Dataset {
    /// The length of every example in `unit`; for sentence pairs, text plus text pair (what the
    /// encoder reads).
    pub fn text_lengths(&self, unit: LengthUnit) -> Vec<usize> {
        self.texts
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let pair = self
                    .text_pairs
                    .as_ref()
                    .and_then(|p| p.get(i))
                    .map_or(0, |p| text_length(p, unit));
                text_length(t, unit) + pair
            })
            .collect()
    }

    /// A histogram of [`text_lengths`](Self::text_lengths) with at most `bins` equal bins (at
    /// least one; `bins = 0` is taken as 1).
    pub fn length_histogram(&self, unit: LengthUnit, bins: usize) -> LengthHistogram {
        let lengths = self.text_lengths(unit);
        let (Some(&min), Some(&max)) = (lengths.iter().min(), lengths.iter().max()) else {
            return LengthHistogram {
                unit,
                bin_width: 1,
                counts: Vec::new(),
                min: 0,
                max: 0,
                mean: 0.0,
            };
        };
        let bin_width = (max + 1).div_ceil(bins.max(1)).max(1);
        let mut counts = vec![0; max / bin_width + 1];
        for &len in &lengths {
            counts[len / bin_width] += 1;
        }
        let mean = lengths.iter().sum::<usize>() as f64 / lengths.len() as f64;
        LengthHistogram {
            unit,
            bin_width,
            counts,
            min,
            max,
            mean,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(texts: &[&str], pairs: Option<&[&str]>) -> Dataset {
        Dataset {
            name: "d".into(),
            texts: texts.iter().map(|s| s.to_string()).collect(),
            text_pairs: pairs.map(|p| p.iter().map(|s| s.to_string()).collect()),
            labels: vec![0; texts.len()],
            label_names: vec!["x".into()],
            scores: None,
            source: None,
        }
    }

    #[test]
    fn word_and_char_histograms() {
        let d = data(&["one", "two words", "a b c d e f g h i j", "  "], None);
        assert_eq!(d.text_lengths(LengthUnit::Words), [1, 2, 10, 0]);
        let h = d.length_histogram(LengthUnit::Words, 4);
        assert_eq!(h.bin_width, 3); // ceil(11 / 4)
        assert_eq!(h.counts, [3, 0, 0, 1]);
        assert_eq!(h.bin_range(3), 9..12);
        assert_eq!((h.min, h.max, h.mean), (0, 10, 3.25));
        let h = d.length_histogram(LengthUnit::Chars, 0);
        assert_eq!(h.counts, [4]);
        assert_eq!(h.max, 19);
        let p = data(&["héllo"], Some(&["wörld two"]));
        assert_eq!(p.text_lengths(LengthUnit::Chars), [14]);
        assert_eq!(p.text_lengths(LengthUnit::Words), [3]);
        assert!(data(&[], None)
            .length_histogram(LengthUnit::Chars, 5)
            .counts
            .is_empty());
    }
}
