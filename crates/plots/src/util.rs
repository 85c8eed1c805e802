//! Number formatting, axis ranges and the small statistics the charts annotate.

use plotters::coord::ranged1d::Ranged;
use plotters::coord::types::RangedCoordf64;

/// Values are clamped to ±`LIMIT` before ranges are computed, so that spans never overflow.
const LIMIT: f64 = 1e300;

/// Formats `v` with `sig` significant digits: plain notation for moderate magnitudes
/// (1e-3 ≤ |v| < 1e5), scientific (`1.5e-7`) otherwise; trailing zeros trimmed.
pub fn format_sig(v: f64, sig: usize) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if v == 0.0 {
        return "0".into();
    }
    let sig = sig.clamp(1, 12);
    let exp = v.abs().log10().floor() as i32;
    if !(-3..5).contains(&exp) {
        let s = format!("{:.*e}", sig - 1, v);
        match s.split_once('e') {
            Some((m, e)) => format!("{}e{}", trim_zeros(m), e),
            None => s,
        }
    } else {
        let decimals = sig as i32 - 1 - exp;
        if decimals >= 0 {
            trim_zeros(&format!("{:.*}", decimals as usize, v)).to_string()
        } else {
            let q = 10f64.powi(-decimals);
            format!("{:.0}", (v / q).round() * q)
        }
    }
}

fn trim_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

/// Transforms a value for display on an axis: `log10(v)` on a log axis (`None` for non-positive or
/// non-finite values), `v` itself on a linear axis (`None` if not finite). Results are clamped to
/// ±1e300.
pub(crate) fn to_axis(v: f64, log: bool) -> Option<f64> {
    if !v.is_finite() {
        return None;
    }
    if log {
        if v <= 0.0 {
            return None;
        }
        Some(v.log10())
    } else {
        Some(v.clamp(-LIMIT, LIMIT))
    }
}

/// Min and max of the finite values, or `None` if there are none.
pub(crate) fn min_max(values: impl IntoIterator<Item = f64>) -> Option<(f64, f64)> {
    values
        .into_iter()
        .filter(|v| v.is_finite())
        .fold(None, |acc, v| match acc {
            None => Some((v, v)),
            Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
        })
}

/// A drawable axis range around `[lo, hi]` (axis coordinates, i.e. log10 on log axes): a degenerate
/// or tiny span is widened, otherwise `pad` (a fraction of the span) is added on each side.
pub(crate) fn padded_range(lo: f64, hi: f64, pad: f64, log: bool) -> (f64, f64) {
    if !lo.is_finite() || !hi.is_finite() {
        return (0.0, 1.0);
    }
    let (lo, hi) = (
        lo.min(hi).clamp(-LIMIT, LIMIT),
        hi.max(lo).clamp(-LIMIT, LIMIT),
    );
    let mag = lo.abs().max(hi.abs());
    let span = hi - lo;
    if span <= mag * 1e-9 || span < 1e-100 {
        let c = 0.5 * (lo + hi);
        // Half a decade on a log axis; 5% of the magnitude (or ±0.5 around 0) on a linear one.
        let h = if log {
            0.5
        } else if mag > 1e-100 {
            mag * 0.05
        } else {
            0.5
        };
        return (c - h, c + h);
    }
    (lo - span * pad, hi + span * pad)
}

/// Tick positions plotters will draw for a linear f64 range with `hint` labels.
pub(crate) fn key_points(lo: f64, hi: f64, hint: usize) -> Vec<f64> {
    RangedCoordf64::from(lo..hi).key_points(hint)
}

/// A tick label formatter for axis coordinates in `[lo, hi]` with about `hint` ticks. On a log
/// axis the coordinate is an exponent and the label shows `10^coordinate`.
pub(crate) fn tick_formatter(lo: f64, hi: f64, hint: usize, log: bool) -> impl Fn(&f64) -> String {
    let keys = key_points(lo, hi, hint);
    let step = keys
        .windows(2)
        .map(|w| (w[1] - w[0]).abs())
        .fold(f64::INFINITY, f64::min);
    let step = if step.is_finite() && step > 0.0 {
        step
    } else {
        (hi - lo).abs().max(f64::MIN_POSITIVE)
    };
    let mag = lo.abs().max(hi.abs());
    move |v: &f64| {
        let v = *v;
        if log {
            let value = 10f64.powf(v);
            if step >= 0.999 {
                // whole decades: all plain, or all as 1eK when some would need it
                if lo < -3.5 || hi > 4.5 {
                    format!("1e{}", v.round() as i64)
                } else {
                    format_sig(value, 1)
                }
            } else {
                // digits enough to tell ticks apart (relative spacing ≈ step·ln 10)
                let rel = step * std::f64::consts::LN_10;
                let sig = (1.0 - rel.log10()).ceil().clamp(2.0, 6.0) as usize;
                format_sig(value, sig)
            }
        } else {
            if v.abs() < step * 1e-6 {
                return "0".into();
            }
            if !(1e-3..1e5).contains(&mag) {
                let sig = ((v.abs() / step).log10().floor() + 1.0).clamp(1.0, 6.0) as usize;
                format_sig(v, sig.max(2))
            } else {
                let decimals = (-step.log10()).ceil().clamp(0.0, 9.0) as usize;
                format!("{:.*}", decimals, v)
            }
        }
    }
}

/// Pearson correlation of paired finite values; NaN with fewer than 2 pairs or zero variance.
pub fn pearson(x: &[f64], y: &[f64]) -> f64 {
    let pairs: Vec<(f64, f64)> = x
        .iter()
        .zip(y)
        .filter(|(a, b)| a.is_finite() && b.is_finite())
        .map(|(a, b)| (*a, *b))
        .collect();
    let n = pairs.len();
    if n < 2 {
        return f64::NAN;
    }
    let mx = pairs.iter().map(|p| p.0).sum::<f64>() / n as f64;
    let my = pairs.iter().map(|p| p.1).sum::<f64>() / n as f64;
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in &pairs {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx) * (a - mx);
        syy += (b - my) * (b - my);
    }
    let r = sxy / (sxx * syy).sqrt();
    if r.is_finite() {
        r.clamp(-1.0, 1.0)
    } else {
        f64::NAN
    }
}

/// Spearman rank correlation (average ranks for ties) of paired finite values.
pub fn spearman(x: &[f64], y: &[f64]) -> f64 {
    let (xs, ys): (Vec<f64>, Vec<f64>) = x
        .iter()
        .zip(y)
        .filter(|(a, b)| a.is_finite() && b.is_finite())
        .map(|(a, b)| (*a, *b))
        .unzip();
    pearson(&ranks(&xs), &ranks(&ys))
}

fn ranks(v: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..v.len()).collect();
    idx.sort_by(|&a, &b| v[a].total_cmp(&v[b]));
    let mut r = vec![0.0; v.len()];
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && v[idx[j + 1]] == v[idx[i]] {
            j += 1;
        }
        let avg = (i + j) as f64 / 2.0 + 1.0;
        for &k in &idx[i..=j] {
            r[k] = avg;
        }
        i = j + 1;
    }
    r
}

/// Least-squares line `y = a + b·x` through the finite pairs: `Some((a, b))`, or `None` with fewer
/// than 2 pairs or no spread in x.
pub fn least_squares(x: &[f64], y: &[f64]) -> Option<(f64, f64)> {
    let pairs: Vec<(f64, f64)> = x
        .iter()
        .zip(y)
        .filter(|(a, b)| a.is_finite() && b.is_finite())
        .map(|(a, b)| (*a, *b))
        .collect();
    let n = pairs.len();
    if n < 2 {
        return None;
    }
    let mx = pairs.iter().map(|p| p.0).sum::<f64>() / n as f64;
    let my = pairs.iter().map(|p| p.1).sum::<f64>() / n as f64;
    let sxx: f64 = pairs.iter().map(|p| (p.0 - mx) * (p.0 - mx)).sum();
    let sxy: f64 = pairs.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    if sxx.is_nan() || sxx <= 0.0 || !sxx.is_finite() {
        return None;
    }
    let b = sxy / sxx;
    let a = my - b * mx;
    (a.is_finite() && b.is_finite()).then_some((a, b))
}

/// Rough width in pixels of `text` at plotters font size `size` (no font metrics are available for
/// SVG; this is used for layout only).
pub(crate) fn text_width(text: &str, size: f64) -> i32 {
    (text.chars().count() as f64 * size * 0.5).ceil() as i32
}

/// `text` cut to at most `max_chars` characters, with an ellipsis if cut.
pub(crate) fn truncate(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_string();
    }
    if max_chars == 0 {
        return String::new();
    }
    let mut s: String = text.chars().take(max_chars.saturating_sub(1)).collect();
    s.push('…');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_numbers() {
        assert_eq!(format_sig(0.0, 3), "0");
        assert_eq!(format_sig(1234.5, 3), "1230");
        assert_eq!(format_sig(0.5, 3), "0.5");
        assert_eq!(format_sig(1.5e-7, 3), "1.5e-7");
        assert_eq!(format_sig(-2.0e9, 2), "-2e9");
        assert_eq!(format_sig(f64::NAN, 3), "NaN");
        let f = tick_formatter(0.0, 1.0, 6, false);
        assert_eq!(f(&0.2), "0.2");
        let f = tick_formatter(-3.0, 2.0, 6, true);
        assert_eq!(f(&-3.0), "0.001");
        assert_eq!(f(&2.0), "100");
        let f = tick_formatter(-9.0, -6.0, 6, true);
        assert_eq!(f(&-9.0), "1e-9");
        let f = tick_formatter(1.0, 6.0, 6, true);
        assert_eq!(f(&1.0), "1e1");
        assert_eq!(f(&6.0), "1e6");
    }

    #[test]
    fn ranges_are_never_degenerate() {
        for (lo, hi) in [
            (1.0, 1.0),
            (0.0, 0.0),
            (1e-320, 1e-320),
            (-1e308, 1e308),
            (5.0, 5.0 + 1e-14),
        ] {
            let (a, b) = padded_range(lo, hi, 0.05, false);
            assert!(
                a.is_finite() && b.is_finite() && b > a,
                "{lo} {hi} -> {a} {b}"
            );
            let keys = key_points(a, b, 6);
            assert!(!keys.is_empty() && keys.len() <= 7, "{keys:?}");
        }
        assert_eq!(padded_range(2.0, 2.0, 0.05, true), (1.5, 2.5));
        assert_eq!(padded_range(f64::NAN, 1.0, 0.05, false), (0.0, 1.0));
    }

    #[test]
    fn axis_transform_skips_bad_values() {
        assert_eq!(to_axis(100.0, true), Some(2.0));
        assert_eq!(to_axis(0.0, true), None);
        assert_eq!(to_axis(-1.0, true), None);
        assert_eq!(to_axis(f64::INFINITY, false), None);
        assert_eq!(to_axis(-3.0, false), Some(-3.0));
    }

    #[test]
    fn statistics() {
        let x = [1.0, 2.0, 3.0, 4.0];
        let y = [2.0, 4.0, 6.0, 8.0];
        assert!((pearson(&x, &y) - 1.0).abs() < 1e-12);
        assert!((spearman(&x, &[1.0, 10.0, 100.0, 1000.0]) - 1.0).abs() < 1e-12);
        assert!((spearman(&x, &[4.0, 3.0, 2.0, 1.0]) + 1.0).abs() < 1e-12);
        assert!(pearson(&[1.0], &[1.0]).is_nan());
        assert!(pearson(&[1.0, 1.0], &[1.0, 2.0]).is_nan());
        let (a, b) = least_squares(&x, &y).unwrap();
        assert!(a.abs() < 1e-12 && (b - 2.0).abs() < 1e-12);
        assert!(least_squares(&[1.0, 1.0], &[1.0, 2.0]).is_none());
        assert_eq!(ranks(&[3.0, 1.0, 3.0]), vec![2.5, 1.0, 2.5]);
    }

    #[test]
    fn truncates() {
        assert_eq!(truncate("abc", 5), "abc");
        assert_eq!(truncate("abcdef", 4), "abc…");
    }
}
