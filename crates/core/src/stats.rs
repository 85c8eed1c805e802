//! Small statistics on host vectors: Pearson and Spearman correlation, average ranks, and the
//! Matthews correlation coefficient of a classification.

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

/// Spearman's ρ: Pearson's r of the average ranks; `None` as for [`pearson`].
pub fn spearman(x: &[f64], y: &[f64]) -> Option<f64> {
    pearson(&ranks(x), &ranks(y))
}

/// The Matthews correlation coefficient of predicted classes against true ones, for any number of
/// classes (Gorodkin's `R_K`, which is the two-class MCC for two classes):
/// `(c·s − Σ_k p_k t_k) / √((s² − Σ p_k²)(s² − Σ t_k²))` with `c` correct predictions, `s`
/// samples, `p_k` and `t_k` the times class `k` is predicted and true. `None` without samples;
/// 0 when either side uses a single class (the convention of scikit-learn).
pub fn mcc(predicted: &[usize], truth: &[usize], classes: usize) -> Option<f64> {
    let s = predicted.len().min(truth.len());
    if s == 0 {
        return None;
    }
    let (mut p, mut t) = (vec![0f64; classes], vec![0f64; classes]);
    let mut correct = 0f64;
    for (&a, &b) in predicted.iter().zip(truth) {
        if a >= classes || b >= classes {
            return None;
        }
        p[a] += 1.0;
        t[b] += 1.0;
        correct += f64::from(u8::from(a == b));
    }
    let s = s as f64;
    let dot: f64 = p.iter().zip(&t).map(|(a, b)| a * b).sum();
    let pp: f64 = p.iter().map(|a| a * a).sum();
    let tt: f64 = t.iter().map(|a| a * a).sum();
    let den = ((s * s - pp) * (s * s - tt)).sqrt();
    if den == 0.0 {
        return Some(0.0);
    }
    Some((correct * s - dot) / den)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mcc_on_hand_computed_confusions() {
        // Two classes, TP = 2, TN = 1, FP = 1, FN = 0:
        // (TP·TN − FP·FN)/√((TP+FP)(TP+FN)(TN+FP)(TN+FN)) = 2/√(3·2·2·1) = 0.5774.
        let m = mcc(&[1, 1, 1, 0], &[1, 1, 0, 0], 2).unwrap();
        assert!((m - 2.0 / 12f64.sqrt()).abs() < 1e-12);
        assert_eq!(mcc(&[0, 1, 2], &[0, 1, 2], 3), Some(1.0));
        assert_eq!(mcc(&[0, 0, 0], &[0, 1, 1], 2), Some(0.0));
        assert_eq!(mcc(&[], &[], 2), None);
        assert_eq!(mcc(&[3], &[0], 2), None);
        // Perfectly wrong on two balanced classes: −1.
        assert_eq!(mcc(&[1, 0], &[0, 1], 2), Some(-1.0));
    }

    #[test]
    fn spearman_of_a_monotone_map_is_one() {
        let x = [0.5, 2.0, 1.0, 4.0];
        let y: Vec<f64> = x.iter().map(|v: &f64| v.powi(3)).collect();
        assert!((spearman(&x, &y).unwrap() - 1.0).abs() < 1e-12);
        assert!(pearson(&x, &y).unwrap() < 0.99);
    }
}
