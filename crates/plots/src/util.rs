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

/// Tick positions (axis coordinates) and how to label them.
pub(crate) struct Ticks {
    /// Labelled ticks with a grid line.
    pub bold: Vec<f64>,
    /// Unlabelled minor grid lines (log axes: 2…9 × 10^k).
    pub light: Vec<f64>,
    log: bool,
    /// Log axis spanning values outside [1e-3, 1e4]: decades written `1eK`.
    wide: bool,
    /// Significant digits for log labels.
    sig: usize,
    /// Linear axis: decimals (`None`: scientific with `sig` digits).
    decimals: Option<usize>,
    /// Linear axis: tick spacing.
    step: f64,
}

impl Ticks {
    /// The label of tick `v` (axis coordinate; `10^v` is shown on a log axis).
    pub fn label(&self, v: f64) -> String {
        if self.log {
            if self.wide && (v - v.round()).abs() < 1e-9 {
                return format!("1e{}", v.round() as i64);
            }
            return format_sig(10f64.powf(v), self.sig);
        }
        if v.abs() < self.step * 1e-6 {
            return "0".into();
        }
        match self.decimals {
            Some(d) => format!("{:.*}", d, v),
            None => format_sig(
                v,
                ((v.abs() / self.step).log10().floor() + 1.0).clamp(2.0, 6.0) as usize,
            ),
        }
    }
}

/// Ticks for axis coordinates `[lo, hi]` with about `hint` labels. Linear axes use plotters' key
/// points; log axes (coordinates are exponents) get whole decades, 1-2-5 steps, or, for spans of a
/// fraction of a decade, linear steps in value.
pub(crate) fn ticks(lo: f64, hi: f64, hint: usize, log: bool) -> Ticks {
    let hint = hint.max(2);
    if log {
        log_ticks(lo, hi, hint)
    } else {
        linear_ticks(lo, hi, hint)
    }
}

/// A linear axis' ticks: plotters' key points, labelled with as many decimals as their spacing
/// needs (scientific notation outside magnitudes 1e-3 … 1e5).
fn linear_ticks(lo: f64, hi: f64, hint: usize) -> Ticks {
    let bold = key_points(lo, hi, hint);
    let step = bold
        .windows(2)
        .map(|w| (w[1] - w[0]).abs())
        .fold(f64::INFINITY, f64::min);
    let step = if step.is_finite() && step > 0.0 {
        step
    } else {
        (hi - lo).abs().max(f64::MIN_POSITIVE)
    };
    let mag = lo.abs().max(hi.abs());
    let decimals = (1e-3..1e5)
        .contains(&mag)
        .then(|| (-step.log10()).ceil().clamp(0.0, 9.0) as usize);
    Ticks {
        bold,
        light: vec![],
        log: false,
        wide: false,
        sig: 3,
        decimals,
        step,
    }
}

/// A log axis' ticks ([`log_positions`]), labelled with enough significant digits to tell
/// neighbouring ticks apart; decades written `1eK` when the axis reaches beyond 1e-3 … 1e4.
fn log_ticks(lo: f64, hi: f64, hint: usize) -> Ticks {
    let (bold, light) = log_positions(lo, hi, hint);
    let values: Vec<f64> = bold.iter().map(|v| 10f64.powf(*v)).collect();
    let min_rel = values
        .windows(2)
        .map(|w| (w[1] - w[0]).abs() / w[0].abs().max(w[1].abs()))
        .fold(f64::INFINITY, f64::min);
    let sig = if min_rel.is_finite() && min_rel > 0.0 {
        ((-min_rel.log10()).ceil() + 1.0).clamp(1.0, 8.0) as usize
    } else {
        3
    };
    Ticks {
        bold,
        light,
        log: true,
        wide: lo < -3.5 || hi > 4.5,
        sig,
        decimals: None,
        step: 1.0,
    }
}

/// The exponents `k + log10(m)` within `[lo, hi]` (a little tolerance) of each multiple `m` in
/// `ms` of each decade `10^k` around it.
fn multiples(lo: f64, hi: f64, ms: &[f64]) -> Vec<f64> {
    let inside = |v: f64| v >= lo - 1e-9 && v <= hi + 1e-9;
    let (k0, k1) = (lo.floor() as i64, hi.ceil() as i64);
    (k0..=k1)
        .flat_map(|k| ms.iter().map(move |m| k as f64 + m.log10()))
        .filter(|v| inside(*v))
        .collect()
}

/// A log axis' labelled (bold) and minor (light) tick positions over exponents `[lo, hi]`: with
/// 3 or more whole decades inside, [`decade_ticks`]; else [`sub_decade_ticks`]. Minor lines at
/// 2…9 × 10^k are offered for spans of up to 12 decades.
fn log_positions(lo: f64, hi: f64, hint: usize) -> (Vec<f64>, Vec<f64>) {
    let minor: Vec<f64> = if hi - lo <= 12.0 {
        multiples(lo, hi, &[2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0])
    } else {
        vec![]
    };
    let decades = (lo.ceil() as i64, hi.floor() as i64);
    if decades.1 - decades.0 + 1 >= 3 {
        decade_ticks(decades, hint, minor)
    } else {
        sub_decade_ticks((lo, hi), decades, hint, minor)
    }
}

/// Ticks at every 1st, 2nd, 3rd, 5th, 10th, … of the whole decades `d0..=d1` (at most `hint`
/// of them); the other decades light, or, labelling every decade, the `minor` lines.
fn decade_ticks((d0, d1): (i64, i64), hint: usize, minor: Vec<f64>) -> (Vec<f64>, Vec<f64>) {
    let decades = d1 - d0 + 1;
    let step = [1i64, 2, 3, 5, 10, 20, 50, 100, 200]
        .into_iter()
        .find(|s| (decades + s - 1) / s <= hint as i64)
        .unwrap_or(500);
    let bold: Vec<f64> = (d0..=d1)
        .filter(|d| d.rem_euclid(step) == 0)
        .map(|d| d as f64)
        .collect();
    let light = if step == 1 {
        minor
    } else {
        (d0..=d1)
            .filter(|d| d.rem_euclid(step) != 0)
            .map(|d| d as f64)
            .collect()
    };
    (bold, light)
}

/// Ticks for a span of fewer than 3 whole decades (`d0..=d1`, maybe none), the first that gives
/// 2 to about `hint` labels: 1-2-5 steps (the other multiples light); whole decades when 1-2-5
/// would be too many; every multiple 1…9; else linear steps in value.
fn sub_decade_ticks(
    (lo, hi): (f64, f64),
    (d0, d1): (i64, i64),
    hint: usize,
    minor: Vec<f64>,
) -> (Vec<f64>, Vec<f64>) {
    let one_two_five = multiples(lo, hi, &[1.0, 2.0, 5.0]);
    let all = multiples(lo, hi, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]);
    if (2..=hint).contains(&one_two_five.len()) {
        let light = minor
            .into_iter()
            .filter(|v| !one_two_five.iter().any(|b| (b - v).abs() < 1e-9))
            .collect();
        (one_two_five, light)
    } else if one_two_five.len() > hint {
        ((d0..=d1).map(|d| d as f64).collect(), minor)
    } else if (2..=hint + 2).contains(&all.len()) {
        (all, vec![])
    } else {
        let (a, b) = (10f64.powf(lo), 10f64.powf(hi));
        (
            key_points(a, b, hint)
                .into_iter()
                .filter(|v| *v > 0.0)
                .map(f64::log10)
                .collect(),
            vec![],
        )
    }
}

/// A tick label formatter for axis coordinates in `[lo, hi]` with about `hint` ticks (see
/// [`ticks`]).
pub(crate) fn tick_formatter(lo: f64, hi: f64, hint: usize, log: bool) -> impl Fn(&f64) -> String {
    let t = ticks(lo, hi, hint, log);
    move |v: &f64| t.label(*v)
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
        // within a decade: 1-2-5 steps, minor lines at the other multiples
        let t = ticks(-1.05, 0.05, 6, true);
        let labels: Vec<String> = t.bold.iter().map(|v| t.label(*v)).collect();
        assert_eq!(labels, ["0.1", "0.2", "0.5", "1"]);
        // minor lines: 0.09, then 0.3, 0.4, 0.6 … 0.9
        assert_eq!(t.light.len(), 1 + 8 - 2);
        // a fraction of a decade: linear steps in value, enough digits to tell them apart
        let t = ticks(1.0f64.log10(), 1.2f64.log10(), 6, true);
        let labels: Vec<String> = t.bold.iter().map(|v| t.label(*v)).collect();
        assert!(
            labels.len() >= 3 && labels.contains(&"1.1".to_string()),
            "{labels:?}"
        );
        // many decades: every other decade labelled
        let t = ticks(-20.0, 0.0, 6, true);
        assert!(
            t.bold.len() <= 6 && t.bold.iter().all(|v| v.fract() == 0.0),
            "{:?}",
            t.bold
        );
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
        let (a, b) = least_squares(&x, &y).unwrap();
        assert!(a.abs() < 1e-12 && (b - 2.0).abs() < 1e-12);
        assert!(least_squares(&[1.0, 1.0], &[1.0, 2.0]).is_none());
    }

    #[test]
    fn truncates() {
        assert_eq!(truncate("abc", 5), "abc");
        assert_eq!(truncate("abcdef", 4), "abc…");
    }
}
