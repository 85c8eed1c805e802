//! Losses and comparisons of logits on the host (`f64`), sample-major `[n, C]` buffers.

/// `Σ_i ½‖f_i − onehot(y_i)‖²`.
pub fn mse_loss(logits: &[f64], labels: &[usize], classes: usize) -> f64 {
    logits
        .chunks(classes)
        .zip(labels)
        .map(|(f, &y)| {
            f.iter()
                .enumerate()
                .map(|(a, v)| 0.5 * (v - if a == y { 1.0 } else { 0.0 }).powi(2))
                .sum::<f64>()
        })
        .sum()
}

/// `log softmax(f)`, computed stably.
pub fn log_softmax(f: &[f64]) -> Vec<f64> {
    let m = f.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let lse = m + f.iter().map(|v| (v - m).exp()).sum::<f64>().ln();
    f.iter().map(|v| v - lse).collect()
}

/// `Σ_i −log softmax(f_i)[y_i]`.
pub fn ce_loss(logits: &[f64], labels: &[usize], classes: usize) -> f64 {
    logits
        .chunks(classes)
        .zip(labels)
        .map(|(f, &y)| -log_softmax(f)[y])
        .sum()
}

/// Index of the largest logit of each sample.
pub fn predictions(logits: &[f64], classes: usize) -> Vec<usize> {
    logits
        .chunks(classes)
        .map(|f| {
            f.iter()
                .enumerate()
                .fold((0, f64::NEG_INFINITY), |best, (a, &v)| {
                    if v > best.1 {
                        (a, v)
                    } else {
                        best
                    }
                })
                .0
        })
        .collect()
}

/// Fraction of samples whose largest logit is the label; `None` without samples.
pub fn accuracy(logits: &[f64], labels: &[usize], classes: usize) -> Option<f64> {
    if labels.is_empty() {
        return None;
    }
    let hits = predictions(logits, classes)
        .iter()
        .zip(labels)
        .filter(|(p, y)| p == y)
        .count();
    Some(hits as f64 / labels.len() as f64)
}

/// `‖a − b‖ / ‖b‖` (0 when both are zero).
pub fn relative_l2(a: &[f64], b: &[f64]) -> f64 {
    let num: f64 = a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum();
    let den: f64 = b.iter().map(|y| y * y).sum();
    if den == 0.0 {
        if num == 0.0 {
            0.0
        } else {
            f64::INFINITY
        }
    } else {
        (num / den).sqrt()
    }
}

/// Mean over samples of `KL(softmax(p_i) ‖ softmax(q_i))`.
pub fn mean_kl(p: &[f64], q: &[f64], classes: usize) -> f64 {
    let n = p.len() / classes.max(1);
    if n == 0 {
        return 0.0;
    }
    p.chunks(classes)
        .zip(q.chunks(classes))
        .map(|(a, b)| {
            let (la, lb) = (log_softmax(a), log_softmax(b));
            la.iter()
                .zip(&lb)
                .map(|(x, y)| x.exp() * (x - y))
                .sum::<f64>()
        })
        .sum::<f64>()
        / n as f64
}

/// Fraction of samples on which both logit sets predict the same class.
pub fn agreement(p: &[f64], q: &[f64], classes: usize) -> Option<f64> {
    let (a, b) = (predictions(p, classes), predictions(q, classes));
    if a.is_empty() {
        return None;
    }
    Some(a.iter().zip(&b).filter(|(x, y)| x == y).count() as f64 / a.len() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn losses_and_comparisons_on_known_values() {
        let f = [2.0, 0.0, 0.0, 1.0];
        let y = [0, 0];
        // ½(1² + 0²) + ½(0² + 1²)... second sample: f = (0, 1), y = 0 → ½(1 + 1) = 1.
        assert!((mse_loss(&f, &y, 2) - (0.5 + 1.0)).abs() < 1e-12);
        let ce = ce_loss(&f, &y, 2);
        let want = (1.0 + (-2.0f64).exp()).ln() + (1.0 + 1.0f64.exp()).ln();
        assert!((ce - want).abs() < 1e-12);
        assert_eq!(predictions(&f, 2), vec![0, 1]);
        assert_eq!(accuracy(&f, &y, 2), Some(0.5));
        assert_eq!(accuracy(&[], &[], 2), None);
        assert!((relative_l2(&[3.0, 4.0], &[0.0, 4.0]) - 0.75).abs() < 1e-12);
        assert_eq!(mean_kl(&f, &f, 2), 0.0);
        assert!(mean_kl(&f, &[0.0, 0.0, 0.0, 0.0], 2) > 0.0);
        assert_eq!(agreement(&f, &[1.0, 0.0, 0.0, 1.0], 2), Some(1.0));
        assert_eq!(agreement(&f, &[0.0, 1.0, 0.0, 1.0], 2), Some(0.5));
    }
}
