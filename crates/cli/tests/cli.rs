//! Runs the built `ntk-lens` binary as a user would.

use std::process::Command;

fn ntk_lens(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_ntk-lens"))
        .args(args)
        .output()
        .expect("the ntk-lens binary runs")
}

#[test]
fn help_and_version_exit_zero() {
    let help = ntk_lens(&["--help"]);
    assert!(help.status.success());
    let text = String::from_utf8_lossy(&help.stdout);
    for sub in ["self-check", "info", "logits", "ntk", "sweep", "select"] {
        assert!(text.contains(sub), "--help lists {sub}: {text}");
    }
    let version = ntk_lens(&["--version"]);
    assert!(version.status.success());
    assert_eq!(
        String::from_utf8_lossy(&version.stdout).trim(),
        format!("ntk-lens {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn bad_arguments_exit_two_with_one_line() {
    for args in [
        &["--frobnicate"][..],
        &["self-check", "--steps", "many"][..],
        &["nonsense"][..],
    ] {
        let out = ntk_lens(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            err.trim_end().lines().count(),
            1,
            "one line for {args:?}: {err:?}"
        );
        assert!(err.starts_with("error:"), "{err}");
    }
}

#[test]
fn self_check_writes_json_that_matches_the_closed_form() {
    let dir = std::env::temp_dir().join(format!("ntk-lens-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out_path = dir.join("check.json");
    let out = ntk_lens(&[
        "self-check",
        "--steps",
        "50",
        "--out",
        out_path.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out_path).unwrap()).unwrap();
    let report = &json["report"];
    assert_eq!(report["steps_done"], 50);
    let loss = report["loss"].as_f64().unwrap();
    let predicted = report["predicted_loss"].as_f64().unwrap();
    assert!((loss - predicted).abs() / predicted < 1e-3, "{json}");
    assert!(
        report["grad_max_abs_error"].as_f64().unwrap() < 1e-5,
        "{json}"
    );
    assert_eq!(json["backend"]["kind"], "cpu");
}

#[test]
fn invalid_sizes_fail_with_the_field_name() {
    let out = ntk_lens(&["self-check", "--samples", "0"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("`samples`"), "{err}");
}
