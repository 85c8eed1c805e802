//! `ntk`, `sweep` and `select` run as a user would, checked against the torch.func fixture and
//! for their bad inputs.

use crate::common::{expect_input_error, fixtures, labelled_jsonl, run_json, scratch};

fn as_f64s(v: &serde_json::Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .flat_map(|r| match r.as_array() {
            Some(row) => row.iter().map(|x| x.as_f64().unwrap()).collect(),
            None => vec![r.as_f64().unwrap()],
        })
        .collect()
}

fn fixture_f32(path: &std::path::Path, name: &str) -> Vec<f64> {
    let bytes = std::fs::read(path).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    st.tensor(name)
        .unwrap()
        .data()
        .chunks_exact(4)
        .map(|c| f64::from(f32::from_le_bytes([c[0], c[1], c[2], c[3]])))
        .collect()
}

/// The CLI's NTK of the `qv` adapter equals torch.func's (relative Frobenius ≤ 1e-4).
#[test]
fn ntk_matches_torch_func_through_the_cli() {
    let dir = scratch("ntk");
    let data = labelled_jsonl(&dir, &["a", "b", "c", "a", "b"]);
    let model = fixtures().join("models/bert_cls");
    let adapter = fixtures().join("adapters/bert_cls_qv");
    let json = run_json(&[
        "ntk",
        "--model",
        model.to_str().unwrap(),
        "--adapter",
        adapter.to_str().unwrap(),
        "--data",
        data.to_str().unwrap(),
        "--n",
        "5",
        "--chunk",
        "2",
    ]);
    assert_eq!(json["n"], 5);
    assert_eq!(json["classes"], 3);
    assert_eq!(json["params"], 1024);
    let got = as_f64s(&json["kernel"]);
    let fixture = fixtures().join("ntk/bert_cls_qv/ntk.safetensors");
    let want = fixture_f32(&fixture, "kernel_full");
    let num: f64 = got.iter().zip(&want).map(|(a, b)| (a - b).powi(2)).sum();
    let den: f64 = want.iter().map(|b| b * b).sum();
    assert_eq!(got.len(), 225);
    assert!((num / den).sqrt() <= 1e-4, "{}", (num / den).sqrt());
    let eig = as_f64s(&json["eigenvalues"]);
    let want_eig = fixture_f32(&fixture, "eigenvalues_full");
    assert!((eig[0] - want_eig[0]).abs() <= 1e-4 * want_eig[0]);
    assert!(eig.windows(2).all(|w| w[0] >= w[1]), "descending");
    let blocks = json["blocks"].as_object().unwrap();
    assert_eq!(blocks.len(), 4);
    let b = as_f64s(&blocks["block.1.value"]);
    let want_b = fixture_f32(&fixture, "block.1.value");
    let err = b
        .iter()
        .zip(&want_b)
        .fold(0f64, |a, (x, y)| a.max((x - y).abs()));
    assert!(err <= 1e-4 * want_b.iter().fold(0f64, |a, v| a.max(v.abs())));
    // Trace layout: n × n.
    let json = run_json(&[
        "ntk",
        "--model",
        model.to_str().unwrap(),
        "--adapter",
        adapter.to_str().unwrap(),
        "--data",
        data.to_str().unwrap(),
        "--n",
        "5",
        "--layout",
        "trace",
    ]);
    assert_eq!(as_f64s(&json["kernel"]).len(), 25);
}

#[test]
fn sweep_and_select_write_their_reports() {
    let dir = scratch("sweep");
    let data = labelled_jsonl(&dir, &["x", "y", "z", "x", "y"]);
    let model = fixtures().join("models/bert_cls");
    let m = model.to_str().unwrap();
    let d = data.to_str().unwrap();
    let plots = dir.join("plots");
    let json = run_json(&[
        "sweep",
        "--model",
        m,
        "--data",
        d,
        "--n",
        "5",
        "--rank",
        "2",
        "--lambdas",
        "0.1,10",
        "--steps",
        "3",
        "--plots",
        plots.to_str().unwrap(),
    ]);
    let results = json["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    // Training along the eigen-directions: per λ, the eigenvalues and both remaining fractions
    // (the linear one in closed form from the report's own numbers), and its chart.
    for p in results {
        let r = &p["residual_by_eigen"];
        let (lambda, lr) = (p["lambda"].as_f64().unwrap(), r["lr"].as_f64().unwrap());
        let mus = r["eigenvalues"].as_array().unwrap();
        assert_eq!(mus.len(), 15, "5 samples × 3 classes");
        for (i, mu) in mus.iter().enumerate() {
            let mu = mu.as_f64().unwrap();
            let want =
                lambda / (mu + lambda) + mu / (mu + lambda) * (1.0 - lr * (mu + lambda)).powi(3);
            let got = r["linear"][i].as_f64().unwrap();
            assert!((got - want).abs() <= 1e-12, "mode {i}: {got} vs {want}");
        }
        assert_eq!(r["actual"].as_array().unwrap().len(), 15);
    }
    let svg = std::fs::read_to_string(plots.join("residual_by_eigen.svg")).unwrap();
    assert!(
        svg.contains("Residual left along each eigen-direction"),
        "{svg:.200}"
    );
    assert_eq!(results[0]["lambda"], 0.1);
    assert!(results[0]["gap_eval"].is_null(), "no eval data");
    for key in [
        "gap_train",
        "kl_train",
        "agreement_train",
        "train_loss_actual",
        "train_loss_linear",
        "param_distance_actual",
        "param_distance_linear",
        "param_distance_bound",
    ] {
        assert!(results[1][key].as_f64().unwrap().is_finite(), "{key}");
    }
    // The default step rule: one step for every λ, within η(μ_max + λ) ≤ 1, so the bound is
    // reported for each λ, and it holds.
    assert_eq!(json["config"]["step_rule"], "shared");
    assert_eq!(results[0]["lr"], results[1]["lr"]);
    for p in results {
        assert_eq!(p["step_within_limit"], true);
        assert!(
            p["param_distance_linear"].as_f64().unwrap()
                <= p["param_distance_bound"].as_f64().unwrap()
        );
    }
    assert_eq!(results[0]["update_norms"].as_object().unwrap().len(), 4);
    let json = run_json(&[
        "select",
        "--model",
        m,
        "--data",
        d,
        "--n",
        "5",
        "--rank",
        "2",
        "--budget",
        "2",
        "--strategy",
        "greedy-kappa",
        "--kappa-lambda",
        "1e-3",
        "--train",
        "--steps",
        "2",
    ]);
    assert_eq!(json["selected"].as_array().unwrap().len(), 2);
    let cands = json["candidates"].as_array().unwrap();
    assert!(cands.len() >= 5, "4 singles, the selected pair, all");
    assert!(cands.iter().all(|c| c["train_loss"].as_f64().is_some()));
    assert_eq!(
        json["kappa_vs_loss"]["n"].as_u64().unwrap() as usize,
        cands.len()
    );
}

#[test]
fn bad_analysis_inputs_exit_two() {
    let dir = scratch("bad-analysis");
    let data = labelled_jsonl(&dir, &["a", "b", "c", "a", "b"]);
    let one = labelled_jsonl(&scratch("one-class"), &["a", "a", "a"]);
    let m = fixtures().join("models/bert_cls");
    let m = m.to_str().unwrap();
    let d = data.to_str().unwrap();
    expect_input_error(&["ntk", "--model", m, "--data", d, "--n", "9"], &["5"]);
    expect_input_error(&["ntk", "--model", m, "--data", d, "--n", "0"], &["--n"]);
    expect_input_error(
        &["ntk", "--model", m, "--data", d, "--rank", "999"],
        &["rank"],
    );
    expect_input_error(
        &[
            "ntk",
            "--model",
            m,
            "--data",
            one.to_str().unwrap(),
            "--n",
            "2",
        ],
        &["class"],
    );
    expect_input_error(
        // 3 classes cannot all be represented in a stratified sample of 2.
        &[
            "ntk",
            "--model",
            m,
            "--data",
            d,
            "--n",
            "2",
            "--sample",
            "stratified",
        ],
        &["class"],
    );
    expect_input_error(
        &[
            "sweep",
            "--model",
            m,
            "--data",
            d,
            "--n",
            "3",
            "--lambdas",
            "0",
        ],
        &["λ"],
    );
    expect_input_error(
        &[
            "select", "--model", m, "--data", d, "--n", "3", "--budget", "9",
        ],
        &["budget"],
    );
}

/// A numeric score column is a regression task: `ntk` reports one output per sample and the
/// scores; `--task` overrides the detection, and what does not fit is an input error.
/// An NTK that would need more memory than the machine has (here capped by
/// `NTK_LENS_MEMORY_MB`) is refused before it starts, with the estimate; under the cap it runs.
#[test]
fn ntk_past_the_memory_limit_is_refused_with_the_estimate() {
    let dir = scratch("memory-limit");
    let data = labelled_jsonl(&dir, &["a", "b", "c", "a", "b"]);
    let m = fixtures().join("models/bert_cls");
    let run = |limit_mb: &str, cmd: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_ntk-lens"))
            .args([
                cmd,
                "--model",
                m.to_str().unwrap(),
                "--data",
                data.to_str().unwrap(),
            ])
            .args(["--n", "5", "--rank", "4"])
            .env("NTK_LENS_MEMORY_MB", limit_mb)
            .output()
            .unwrap()
    };
    for cmd in ["ntk", "select"] {
        let out = run("0", cmd);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{cmd}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert!(
            err.contains("--n: the NTK needs about ") && err.contains("(weights 0 MB, one chunk"),
            "{err}"
        );
        assert!(err.contains("more than the 0.0 GB available"), "{err}");
    }
    assert!(run("1000", "ntk").status.success());
}

#[test]
fn regression_scores_give_one_output() {
    let dir = scratch("regression");
    let data = labelled_jsonl(&dir, &["0.5", "4.25", "2", "3.5", "1"]);
    let model = fixtures().join("models/bert_base");
    let (m, d) = (model.to_str().unwrap(), data.to_str().unwrap());
    let json = run_json(&["ntk", "--model", m, "--data", d, "--n", "5"]);
    assert_eq!(
        (json["classes"].as_u64(), json["n"].as_u64()),
        (Some(1), Some(5))
    );
    assert_eq!(json["task"], "regression");
    assert_eq!(as_f64s(&json["scores"]), [0.5, 4.25, 2.0, 3.5, 1.0]);
    assert_eq!(as_f64s(&json["kernel"]).len(), 25);
    assert!(json["alignment_centred"].as_f64().is_some());
    expect_input_error(
        &["ntk", "--model", m, "--data", d, "--task", "classification"],
        // As classes, the text "0.5" is a word and "2" an integer: mixed kinds.
        &["labelled.jsonl", "line 3", "`2`"],
    );
    expect_input_error(
        &[
            "sweep", "--model", m, "--data", d, "--n", "5", "--loss", "ce",
        ],
        &["squared loss"],
    );
    let words = labelled_jsonl(&dir, &["a", "b", "a", "b", "a"]);
    expect_input_error(
        &[
            "ntk",
            "--model",
            m,
            "--data",
            words.to_str().unwrap(),
            "--task",
            "regression",
        ],
        &["labelled.jsonl", "line 1", "finite number"],
    );
}

/// `select` with two datasets pools their studies within studies: one correlation over both
/// studies' candidates, each study standardized first (recomputed here from the candidates),
/// and one --eval per --data or none.
#[test]
fn select_pools_studies_over_several_datasets() {
    let dir = scratch("pool");
    let a = dir.join("three.jsonl");
    std::fs::rename(labelled_jsonl(&dir, &["x", "y", "z", "x", "y"]), &a).unwrap();
    let b = dir.join("two.jsonl");
    std::fs::rename(labelled_jsonl(&dir, &["p", "q", "r", "r", "q"]), &b).unwrap();
    let model = fixtures().join("models/bert_cls");
    let (m, a, b) = (
        model.to_str().unwrap(),
        a.to_str().unwrap(),
        b.to_str().unwrap(),
    );
    let args = [
        "select",
        "--model",
        m,
        "--data",
        a,
        "--data",
        b,
        "--n",
        "5",
        "--rank",
        "2",
        "--budget",
        "2",
        "--kappa-lambda",
        "1e-3",
        "--train",
        "--steps",
        "2",
    ];
    let json = run_json(&args);
    let studies = json["studies"].as_array().unwrap();
    assert_eq!(studies.len(), 2);
    assert_eq!(studies[0]["dataset"], "three");
    assert_eq!(studies[1]["dataset"], "two");
    // Pooled within studies: each study's log10 κ and loss as z-scores, then one Pearson.
    let z = |v: &[f64]| {
        let n = v.len() as f64;
        let m = v.iter().sum::<f64>() / n;
        let sd = (v.iter().map(|a| (a - m).powi(2)).sum::<f64>() / n).sqrt();
        v.iter().map(|a| (a - m) / sd).collect::<Vec<_>>()
    };
    let (mut x, mut y) = (Vec::new(), Vec::new());
    for s in studies {
        let (mut sx, mut sy) = (Vec::new(), Vec::new());
        for c in s["report"]["candidates"].as_array().unwrap() {
            sx.push(c["kappa"].as_f64().unwrap().log10());
            sy.push(c["train_loss"].as_f64().unwrap());
        }
        x.extend(z(&sx));
        y.extend(z(&sy));
    }
    assert_eq!(
        json["kappa_vs_loss"]["n"].as_u64().unwrap() as usize,
        x.len()
    );
    let sxy: f64 = x.iter().zip(&y).map(|(a, b)| a * b).sum();
    let sxx: f64 = x.iter().map(|a| a * a).sum();
    let syy: f64 = y.iter().map(|b| b * b).sum();
    let pearson = json["kappa_vs_loss"]["pearson"].as_f64().unwrap();
    assert!(
        (pearson - sxy / (sxx * syy).sqrt()).abs() < 1e-9,
        "{pearson}"
    );
    assert!(json["method"].as_str().unwrap().starts_with("within-study"));
    assert_eq!(json["per_study"].as_array().unwrap().len(), 2);
    assert!(json["kappa_vs_loss_interval"]["pearson"].is_array());
    let mut with_eval = args.to_vec();
    with_eval.extend(["--eval", a]);
    expect_input_error(&with_eval, &["--eval", "one eval file per --data"]);
    expect_input_error(
        &["ntk", "--model", m, "--data", a, "--data", b],
        &["--data", "only `select`"],
    );
}

/// `select --recipe paper` trains every candidate with the paper's recipe and reports each
/// one's best epoch.
#[test]
fn select_with_the_papers_recipe() {
    let dir = scratch("recipe");
    let data = labelled_jsonl(&dir, &["x", "y", "z", "x", "y"]);
    let model = fixtures().join("models/bert_cls");
    let json = run_json(&[
        "select",
        "--model",
        model.to_str().unwrap(),
        "--data",
        data.to_str().unwrap(),
        "--eval",
        data.to_str().unwrap(),
        "--n",
        "5",
        "--rank",
        "2",
        "--budget",
        "1",
        "--train",
        "--recipe",
        "paper",
    ]);
    assert_eq!(json["config"]["recipe"], "paper");
    assert_eq!(json["config"]["training"]["optimizer"], "adam");
    assert_eq!(json["config"]["training"]["steps"], 10);
    assert!(json["steps"].as_str().unwrap().contains("official code"));
    for c in json["candidates"].as_array().unwrap() {
        let epoch = c["best_epoch"].as_u64().unwrap();
        assert!((1..=10).contains(&epoch), "{c}");
    }
}
