//! Helpers of the CLI tests: run the built binary, fixture paths, scratch directories.
#![allow(dead_code)] // not every helper is used by every configuration of the tests

use std::path::PathBuf;
use std::process::{Command, Output};

/// Runs the built `ntk-lens` binary with `args`.
pub fn ntk_lens(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ntk-lens"))
        .args(args)
        .output()
        .expect("the ntk-lens binary runs")
}

/// `tests/fixtures` of the repository.
pub fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures")
}

/// A fresh scratch directory for one test.
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ntk-lens-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs `args`, expects success, parses stdout as JSON.
pub fn run_json(args: &[&str]) -> serde_json::Value {
    let out = ntk_lens(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Runs `args`, expects exit code 2 and one stderr line containing every `needle`.
pub fn expect_input_error(args: &[&str], needles: &[&str]) {
    let out = ntk_lens(args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err:?}");
    for n in needles {
        assert!(err.contains(n), "{args:?}: `{n}` not in {err:?}");
    }
}

/// The first `n` single-sentence fixture texts with the given labels, as a JSONL file.
pub fn labelled_jsonl(dir: &std::path::Path, labels: &[&str]) -> PathBuf {
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(fixtures().join("models/texts.json")).unwrap())
            .unwrap();
    let texts = v["texts"].as_array().unwrap();
    let mut out = String::new();
    for (t, l) in texts.iter().zip(labels) {
        assert!(
            t["text_pair"].is_null(),
            "the first texts are single sentences"
        );
        out += &serde_json::json!({"text": t["text"], "label": l}).to_string();
        out.push('\n');
    }
    let path = dir.join("labelled.jsonl");
    std::fs::write(&path, out).unwrap();
    path
}
