//! From bytes to text: the size limit, UTF-8 validation (with the offset and line of the first bad
//! byte), the byte-order mark, and the per-line length limit.

use super::error::DataError;
use super::limits::{MAX_INPUT_BYTES, MAX_LINE_BYTES};

/// Checks the size and the encoding of `bytes` and returns the text without a UTF-8 byte-order mark.
///
/// Errors: [`DataError::TooLarge`], [`DataError::NotUtf8`], [`DataError::Empty`] (no bytes, or only
/// whitespace).
pub fn decode<'a>(file: &str, bytes: &'a [u8]) -> Result<&'a str, DataError> {
    if bytes.len() > MAX_INPUT_BYTES {
        return Err(DataError::TooLarge {
            file: file.to_string(),
            bytes: bytes.len(),
            limit: MAX_INPUT_BYTES,
        });
    }
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(DataError::NotUtf8 {
            file: file.to_string(),
            line: 1,
            offset: 0,
            hint: "; the file starts with a UTF-16 byte-order mark: save it as UTF-8".to_string(),
        });
    }
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let offset = e.valid_up_to();
        DataError::NotUtf8 {
            file: file.to_string(),
            line: line_of_offset(bytes, offset),
            offset,
            hint: String::new(),
        }
    })?;
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    if text.trim().is_empty() {
        return Err(DataError::Empty {
            file: file.to_string(),
        });
    }
    Ok(text)
}

/// The 1-based line that holds the byte at `offset`.
pub fn line_of_offset(bytes: &[u8], offset: usize) -> usize {
    let end = offset.min(bytes.len());
    1 + bytes[..end].iter().filter(|&&b| b == b'\n').count()
}

/// Fails with [`DataError::LineTooLong`] on the first physical line (without its line break) longer
/// than [`MAX_LINE_BYTES`].
pub fn check_line_lengths(file: &str, text: &str) -> Result<(), DataError> {
    for (index, line) in text.split('\n').enumerate() {
        let bytes = line.strip_suffix('\r').unwrap_or(line).len();
        if bytes > MAX_LINE_BYTES {
            return Err(DataError::LineTooLong {
                file: file.to_string(),
                line: index + 1,
                bytes,
                limit: MAX_LINE_BYTES,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_the_first_invalid_byte_with_its_line() {
        let bytes = b"text,label\nok,1\ncaf\xe9,0\n";
        match decode("f.csv", bytes) {
            Err(DataError::NotUtf8 { line, offset, .. }) => {
                assert_eq!((line, offset), (3, 19));
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn strips_the_bom_and_rejects_blank_files() {
        assert_eq!(decode("f", b"\xEF\xBB\xBFa,b").unwrap(), "a,b");
        assert!(matches!(
            decode("f", b" \n\t"),
            Err(DataError::Empty { .. })
        ));
        assert!(matches!(decode("f", b""), Err(DataError::Empty { .. })));
        assert!(matches!(
            decode("f", b"\xFF\xFEa\0"),
            Err(DataError::NotUtf8 {
                offset: 0,
                line: 1,
                ..
            })
        ));
    }

    #[test]
    fn line_limit_counts_bytes_without_the_line_break() {
        let ok = format!("a\n{}\r\nb", "x".repeat(MAX_LINE_BYTES));
        assert!(check_line_lengths("f", &ok).is_ok());
        let long = format!("a\nb\n{}", "x".repeat(MAX_LINE_BYTES + 1));
        assert_eq!(
            check_line_lengths("f", &long),
            Err(DataError::LineTooLong {
                file: "f".into(),
                line: 3,
                bytes: MAX_LINE_BYTES + 1,
                limit: MAX_LINE_BYTES
            })
        );
    }
}
