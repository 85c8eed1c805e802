//! Pearson and Spearman correlation, with the sample size they rest on.

use serde::{Deserialize, Serialize};

/// A correlation between two measured quantities (serde result).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Correlation {
    /// Number of (x, y) pairs used (pairs with a missing or non-finite value are dropped).
    pub n: usize,
    /// Pearson's r; `None` with fewer than 3 pairs or a constant variable.
    pub pearson: Option<f64>,
    /// Spearman's ρ (Pearson on average ranks); `None` likewise.
    pub spearman: Option<f64>,
}

/// Pearson's r of `x` and `y` (equal lengths); `None` if `n < 3` or either is constant.
pub fn pearson(x: &[f64], y: &[f64]) -> Option<f64> {
    let n = x.len();
    if n < 3 || y.len() != n {
        return None;
    }
    let mx = x.iter().sum::<f64>() / n as f64;
    let my = y.iter().sum::<f64>() / n as f64;
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx).powi(2);
        syy += (b - my).powi(2);
    }
    if sxx <= 0.0 || syy <= 0.0 {
        return None;
    }
    Some((sxy / (sxx * syy).sqrt()).clamp(-1.0, 1.0))
}

/// Average ranks (1-based; ties share the mean of their ranks).
pub fn ranks(x: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..x.len()).collect();
    idx.sort_by(|&a, &b| x[a].total_cmp(&x[b]));
    let mut out = vec![0.0; x.len()];
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && x[idx[j + 1]] == x[idx[i]] {
            j += 1;
        }
        let rank = (i + j) as f64 / 2.0 + 1.0;
        for &k in &idx[i..=j] {
            out[k] = rank;
        }
        i = j + 1;
    }
    out
}

/// Pearson and Spearman of the pairs whose values are both present and finite.
pub fn correlate(x: &[Option<f64>], y: &[Option<f64>]) -> Correlation {
    let (a, b): (Vec<f64>, Vec<f64>) = x
        .iter()
        .zip(y)
        .filter_map(|(a, b)| match (a, b) {
            (Some(a), Some(b)) if a.is_finite() && b.is_finite() => Some((*a, *b)),
            _ => None,
        })
        .unzip();
    Correlation {
        n: a.len(),
        pearson: pearson(&a, &b),
        spearman: pearson(&ranks(&a), &ranks(&b)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        let x = [1.0, 2.0, 3.0, 4.0];
        assert!((pearson(&x, &[2.0, 4.0, 6.0, 8.0]).unwrap() - 1.0).abs() < 1e-12);
        assert!((pearson(&x, &[8.0, 6.0, 4.0, 2.0]).unwrap() + 1.0).abs() < 1e-12);
        // y = x³ is monotone: Spearman 1, Pearson below 1.
        let c = correlate(
            &x.map(Some),
            &[Some(1.0), Some(8.0), Some(27.0), Some(64.0)],
        );
        assert_eq!(c.n, 4);
        assert!((c.spearman.unwrap() - 1.0).abs() < 1e-12);
        assert!(c.pearson.unwrap() < 0.99);
        // Hand-computed: x = 1..5, y = (2, 1, 4, 3, 5): Σdxdy = 8, Σdx² = Σdy² = 10 → r = 0.8.
        let r = pearson(&[1.0, 2.0, 3.0, 4.0, 5.0], &[2.0, 1.0, 4.0, 3.0, 5.0]).unwrap();
        assert!((r - 0.8).abs() < 1e-12);
        assert_eq!(ranks(&[3.0, 1.0, 3.0]), vec![2.5, 1.0, 2.5]);
        assert_eq!(pearson(&x, &[1.0; 4]), None);
        let c = correlate(&[Some(1.0), None, Some(2.0)], &[Some(1.0), Some(2.0), None]);
        assert_eq!((c.n, c.pearson), (1, None));
    }
}
