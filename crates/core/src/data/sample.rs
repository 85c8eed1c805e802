//! Seeded, reproducible subsets of a [`Dataset`]: stratified train/eval splits, the first `n` rows,
//! and stratified samples of `n` rows. The same seed gives the same rows on every platform
//! ([`SplitMix64`]).

use serde::{Deserialize, Serialize};

use super::dataset::Dataset;
use super::error::DataError;
use crate::rng::SplitMix64;

/// The row indices of a train/eval split, each list ascending (file order).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SplitIndices {
    /// Rows to train on.
    pub train: Vec<usize>,
    /// Rows to evaluate on.
    pub eval: Vec<usize>,
}

impl Dataset {
    /// The row indices of each class, by class index.
    fn rows_by_class(&self) -> Vec<Vec<usize>> {
        let mut by_class = vec![Vec::new(); self.num_classes()];
        for (row, &label) in self.labels.iter().enumerate() {
            if let Some(rows) = by_class.get_mut(label) {
                rows.push(row);
            }
        }
        by_class
    }

    /// A stratified split: within every class, `round(eval_fraction × count)` rows (at least one,
    /// and at least one left for training, when the class has two or more) go to evaluation, drawn
    /// at random with `seed`; a class with a single row goes to training.
    ///
    /// Errors ([`DataError::BadSplit`]): `eval_fraction` not strictly between 0 and 1, or a dataset
    /// in which no class has two rows (one side would be empty).
    pub fn split_indices(&self, eval_fraction: f64, seed: u64) -> Result<SplitIndices, DataError> {
        if !(eval_fraction > 0.0 && eval_fraction < 1.0) {
            return Err(DataError::BadSplit {
                dataset: self.name.clone(),
                reason: format!(
                    "the evaluation fraction is {eval_fraction}; expected a number strictly between 0 and 1"
                ),
            });
        }
        let mut rng = SplitMix64::new(seed);
        let (mut train, mut eval) = (Vec::new(), Vec::new());
        for mut rows in self.rows_by_class() {
            rng.shuffle(&mut rows);
            let count = rows.len();
            let take = if count < 2 {
                0
            } else {
                ((eval_fraction * count as f64).round() as usize).clamp(1, count - 1)
            };
            eval.extend_from_slice(&rows[..take]);
            train.extend_from_slice(&rows[take..]);
        }
        if train.is_empty() || eval.is_empty() {
            return Err(DataError::BadSplit {
                dataset: self.name.clone(),
                reason: format!(
                    "{} rows, no class with two or more; expected some class to have at least two rows",
                    self.len()
                ),
            });
        }
        train.sort_unstable();
        eval.sort_unstable();
        Ok(SplitIndices { train, eval })
    }

    /// [`split_indices`](Self::split_indices) as two datasets, (train, eval).
    pub fn split(&self, eval_fraction: f64, seed: u64) -> Result<(Dataset, Dataset), DataError> {
        let split = self.split_indices(eval_fraction, seed)?;
        Ok((self.subset(&split.train), self.subset(&split.eval)))
    }

    /// Checks `1 <= n <= len`.
    fn check_sample_size(&self, n: usize) -> Result<(), DataError> {
        if n == 0 || n > self.len() {
            return Err(DataError::SampleSize {
                dataset: self.name.clone(),
                requested: n,
                available: self.len(),
            });
        }
        Ok(())
    }

    /// The first `n` rows, in file order. The class list is kept, so a class may end up with no
    /// rows. Errors: [`DataError::SampleSize`] when `n` is 0 or more than [`len`](Self::len).
    pub fn first_n(&self, n: usize) -> Result<Dataset, DataError> {
        self.check_sample_size(n)?;
        Ok(self.subset(&(0..n).collect::<Vec<_>>()))
    }

    /// The row indices (ascending) of a stratified random sample of `n` rows: every class gets its
    /// share of `n` in proportion to its count (largest remainders round up, ties to the lower class
    /// index), drawn at random with `seed`.
    ///
    /// Errors: [`DataError::SampleSize`] when `n` is 0 or more than [`len`](Self::len);
    /// [`DataError::EmptyClass`] when a class has no rows, or its share of `n` rounds to zero.
    pub fn sample_stratified_indices(&self, n: usize, seed: u64) -> Result<Vec<usize>, DataError> {
        self.check_sample_size(n)?;
        let by_class = self.rows_by_class();
        let total = self.len();
        if let Some(empty) = by_class.iter().position(Vec::is_empty) {
            return Err(DataError::EmptyClass {
                dataset: self.name.clone(),
                label: self.label_names[empty].clone(),
                reason:
                    "the dataset has no rows of this class; a stratified sample needs every class"
                        .to_string(),
            });
        }
        // Largest-remainder apportionment of n over the class counts (exact integer arithmetic).
        let mut shares: Vec<usize> = by_class.iter().map(|r| n * r.len() / total).collect();
        let mut remainders: Vec<(usize, usize)> = by_class
            .iter()
            .enumerate()
            .map(|(c, r)| (n * r.len() % total, c))
            .collect();
        remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        let missing = n - shares.iter().sum::<usize>();
        for &(_, c) in remainders.iter().take(missing) {
            shares[c] += 1;
        }
        if let Some(c) = shares.iter().position(|&s| s == 0) {
            let count = by_class[c].len();
            return Err(DataError::EmptyClass {
                dataset: self.name.clone(),
                label: self.label_names[c].clone(),
                reason: format!(
                    "its share of {n} rows rounds to zero ({count} of {total} rows); \
                     expected at least {} rows",
                    total.div_ceil(count)
                ),
            });
        }
        let mut rng = SplitMix64::new(seed);
        let mut picked = Vec::with_capacity(n);
        for (mut rows, share) in by_class.into_iter().zip(shares) {
            rng.shuffle(&mut rows);
            picked.extend_from_slice(&rows[..share]);
        }
        picked.sort_unstable();
        Ok(picked)
    }

    /// [`sample_stratified_indices`](Self::sample_stratified_indices) as a dataset.
    pub fn sample_stratified(&self, n: usize, seed: u64) -> Result<Dataset, DataError> {
        Ok(self.subset(&self.sample_stratified_indices(n, seed)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 10 rows: classes a (6), b (3), c (1).
    fn toy() -> Dataset {
        let labels = vec![0, 1, 0, 0, 2, 1, 0, 0, 1, 0];
        Dataset {
            name: "toy".into(),
            texts: (0..10).map(|i| format!("t{i}")).collect(),
            text_pairs: None,
            labels,
            label_names: vec!["a".into(), "b".into(), "c".into()],
            scores: None,
            source: None,
        }
    }

    #[test]
    fn split_is_stratified_seeded_and_disjoint() {
        let d = toy();
        let s = d.split_indices(0.3, 42).unwrap();
        // a: round(1.8) = 2, b: round(0.9) = 1, c: single row -> train.
        assert_eq!(s.eval.len(), 3);
        assert_eq!(s.train.len(), 7);
        let eval_labels: Vec<usize> = s.eval.iter().map(|&i| d.labels[i]).collect();
        assert_eq!(eval_labels.iter().filter(|&&l| l == 0).count(), 2);
        assert_eq!(eval_labels.iter().filter(|&&l| l == 1).count(), 1);
        assert!(s.train.contains(&4));
        let mut all: Vec<usize> = s.train.iter().chain(&s.eval).copied().collect();
        all.sort_unstable();
        assert_eq!(all, (0..10).collect::<Vec<_>>());
        assert_eq!(d.split_indices(0.3, 42).unwrap(), s);
        assert!((0..20).any(|seed| d.split_indices(0.3, seed).unwrap().eval != s.eval));
        let (train, eval) = d.split(0.3, 42).unwrap();
        assert_eq!((train.len(), eval.len()), (7, 3));
        assert_eq!(eval.label_counts(), [2, 1, 0]);
    }

    #[test]
    fn split_errors() {
        let d = toy();
        for f in [0.0, 1.0, -0.5, f64::NAN] {
            assert!(matches!(
                d.split_indices(f, 1),
                Err(DataError::BadSplit { .. })
            ));
        }
        assert_eq!(d.subset(&[9, 10, 4, 99]).texts, ["t9", "t4"]);
        let tiny = d.subset(&[0, 1]);
        assert!(matches!(
            tiny.split_indices(0.5, 1),
            Err(DataError::BadSplit { .. })
        ));
    }

    #[test]
    fn first_n_and_stratified_sampling() {
        let d = toy();
        assert_eq!(d.first_n(3).unwrap().labels, [0, 1, 0]);
        assert_eq!(
            d.first_n(0),
            Err(DataError::SampleSize {
                dataset: "toy".into(),
                requested: 0,
                available: 10
            })
        );
        assert!(matches!(d.first_n(11), Err(DataError::SampleSize { .. })));
        // n = 7: exact shares 4.2, 2.1, 0.7 -> 4, 2, 0 and the one left goes to c (largest remainder).
        let s = d.sample_stratified(7, 9).unwrap();
        assert_eq!(s.label_counts(), [4, 2, 1]);
        assert_eq!(d.sample_stratified(7, 9).unwrap(), s);
        // n = 4: shares 2.4, 1.2, 0.4 -> 2, 1, 0 + one remainder to a (0.4 ties c; lower index).
        match d.sample_stratified(4, 9) {
            Err(DataError::EmptyClass { label, reason, .. }) => {
                assert_eq!(label, "c");
                assert!(reason.contains("at least 10 rows"), "{reason}");
            }
            other => panic!("unexpected {other:?}"),
        }
        let no_c = d.first_n(4).unwrap();
        assert!(matches!(
            no_c.sample_stratified(2, 1),
            Err(DataError::EmptyClass { ref label, .. }) if label == "c"
        ));
        assert_eq!(d.sample_stratified(10, 3).unwrap().len(), 10);
    }
}
