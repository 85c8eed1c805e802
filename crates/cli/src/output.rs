//! Writing a command's JSON result to `--out FILE` or stdout.

use std::io::Write;
use std::path::Path;

use serde::Serialize;

use crate::error::Failure;

/// Writes `value` as pretty JSON (one trailing newline) to `out`, or to stdout when `None`.
pub fn write_json<T: Serialize + ?Sized>(value: &T, out: Option<&Path>) -> Result<(), Failure> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| Failure::Compute(format!("cannot encode the result as JSON: {e}")))?;
    match out {
        Some(path) => std::fs::write(path, text + "\n")
            .map_err(|e| Failure::Compute(format!("cannot write {}: {e}", path.display()))),
        None => {
            let mut stdout = std::io::stdout().lock();
            writeln!(stdout, "{text}")
                .map_err(|e| Failure::Compute(format!("cannot write to stdout: {e}")))
        }
    }
}
