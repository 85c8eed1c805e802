//! Numbers as the page shows them.

/// Formats a count with thousands separators: `22,713,216`.
pub fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Formats a count in millions with one decimal: `22.7M`; smaller counts as they are.
pub fn millions(n: usize) -> String {
    if n >= 1_000_000 {
        format!("{:.1}M", n as f64 / 1e6)
    } else {
        thousands(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_format() {
        assert_eq!(thousands(22_713_216), "22,713,216");
        assert_eq!(thousands(999), "999");
        assert_eq!(millions(22_713_216), "22.7M");
        assert_eq!(millions(73_728), "73,728");
    }
}
