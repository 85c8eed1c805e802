//! Reading and writing query values: percent-encoding, comma lists, and the parsers every
//! section uses for its values (each error says what was expected).

use ntk_lens_core::lora::LoraModule;
use ntk_lens_core::options::UnknownValue;

/// Percent-encodes a query value (unreserved characters and `,` `:` `/` `@`, which a query may
/// hold as they are, stay readable).
pub fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z'
            | b'a'..=b'z'
            | b'0'..=b'9'
            | b'-'
            | b'_'
            | b'.'
            | b'~'
            | b','
            | b':'
            | b'/'
            | b'@' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Decodes a query component (`+` is a space, `%XX` a byte); `None` when the result is not
/// UTF-8 or an escape is malformed.
pub fn decode_component(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = s.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// The comma-separated items of `v` (blanks skipped), each parsed; `None` if one does not parse.
pub(super) fn list<T>(v: &str, parse: impl Fn(&str) -> Option<T>) -> Option<Vec<T>> {
    v.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(parse)
        .collect()
}

/// The items joined with commas.
pub(super) fn join<T: ToString>(items: &[T]) -> String {
    items.iter().map(T::to_string).collect::<Vec<_>>().join(",")
}

/// One of an option's names (the core's [`std::str::FromStr`]); the error lists them.
pub(super) fn option<T: std::str::FromStr<Err = UnknownValue>>(v: &str) -> Result<T, String> {
    v.parse::<T>()
        .map_err(|e| format!("expected {}", e.expected.join(" or ")))
}

/// A whole number (a seed).
pub(super) fn whole(v: &str) -> Result<u64, String> {
    v.parse::<u64>()
        .map_err(|_| "expected a whole number".to_string())
}

/// A finite number > 0.
pub(super) fn positive_f64(v: &str) -> Option<f64> {
    v.parse::<f64>().ok().filter(|x| x.is_finite() && *x > 0.0)
}

/// A whole number in `lo..=hi`; the error says the range.
pub(super) fn in_range(v: &str, lo: usize, hi: usize) -> Result<usize, String> {
    v.parse::<usize>()
        .ok()
        .filter(|x| (lo..=hi).contains(x))
        .ok_or(format!("expected {lo}..={hi}"))
}

/// A trimmed text; empty is `None`.
pub(super) fn non_empty(v: &str) -> Option<String> {
    let v = v.trim();
    (!v.is_empty()).then(|| v.to_string())
}

/// Whether `name` is a kernel block name `block.<layer>.<module>`.
pub fn is_block_name(name: &str) -> bool {
    let mut parts = name.splitn(3, '.');
    parts.next() == Some("block")
        && parts.next().is_some_and(|l| l.parse::<usize>().is_ok())
        && parts
            .next()
            .is_some_and(|m| LoraModule::ALL.iter().any(|x| x.short_name() == m))
}
