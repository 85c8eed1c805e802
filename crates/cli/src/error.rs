//! How a command fails: the message (one line on stderr) and the exit code.

use std::fmt;
use std::path::Path;

use ntk_lens_core::CoreError;

/// A failure after the arguments were parsed.
#[derive(Debug)]
pub enum Failure {
    /// The user's input (a model, adapter or data file, a flag value) is unusable: exit code 2.
    Input(String),
    /// A computation or an output write failed after the inputs were accepted: exit code 1.
    Compute(String),
}

impl Failure {
    /// An input failure about `what` (usually a file path): `"<what>: <error>"`.
    pub fn input(what: impl fmt::Display, error: impl fmt::Display) -> Self {
        Failure::Input(format!("{what}: {error}"))
    }

    /// An input failure about the file at `path`.
    pub fn file(path: &Path, error: impl fmt::Display) -> Self {
        Failure::input(path.display(), error)
    }

    /// The process exit code for this failure.
    pub fn exit_code(&self) -> u8 {
        match self {
            Failure::Input(_) => 2,
            Failure::Compute(_) => 1,
        }
    }
}

impl fmt::Display for Failure {
    /// One line: line breaks inside wrapped messages become spaces.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            Failure::Input(m) | Failure::Compute(m) => m.clone(),
        };
        let one_line: Vec<&str> = text
            .split(['\n', '\r'])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        f.write_str(one_line.join(" ").trim())
    }
}

impl From<CoreError> for Failure {
    fn from(e: CoreError) -> Self {
        Failure::Compute(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_one_line_and_codes_follow_the_kind() {
        let f = Failure::input("a.json", "first\nsecond\r\nthird");
        assert_eq!(f.to_string(), "a.json: first second third");
        assert_eq!(f.exit_code(), 2);
        assert_eq!(Failure::Compute("x".into()).exit_code(), 1);
    }
}
