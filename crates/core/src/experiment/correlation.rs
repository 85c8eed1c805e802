//! Pearson and Spearman correlation, with the sample size they rest on.

use serde::{Deserialize, Serialize};

pub use crate::stats::{pearson, ranks, spearman};

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
        spearman: spearman(&a, &b),
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
