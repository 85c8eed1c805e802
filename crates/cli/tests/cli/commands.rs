//! Runs the built `ntk-lens` binary as a user would.

use crate::common::{fixtures, ntk_lens, scratch};

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

// ---------------------------------------------------------------------------------------------
// info and logits on the transformers/peft fixtures (tests/fixtures, made by tests/reference).
// ---------------------------------------------------------------------------------------------

use std::path::{Path, PathBuf};

/// Copies the files of fixture directory `from` into a new scratch directory.
fn copy_dir(from: &Path, name: &str) -> PathBuf {
    let to = scratch(name);
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, to.join(path.file_name().unwrap())).unwrap();
    }
    to
}

/// The fixture texts (`texts.json`): `(text, text_pair)`.
fn fixture_texts() -> Vec<(String, Option<String>)> {
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(fixtures().join("models/texts.json")).unwrap())
            .unwrap();
    v["texts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["text"].as_str().unwrap().to_string(),
                t["text_pair"].as_str().map(String::from),
            )
        })
        .collect()
}

/// The `single.<i>.logits` rows of an `expected.safetensors` (HF transformers / peft).
fn expected_logits(path: &Path, n: usize) -> Vec<Vec<f32>> {
    let bytes = std::fs::read(path).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    (0..n)
        .map(|i| {
            let t = st.tensor(&format!("single.{i}.logits")).unwrap();
            t.data()
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect()
        })
        .collect()
}

fn run_ok(args: &[&str]) -> serde_json::Value {
    let out = ntk_lens(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn logits_of(json: &serde_json::Value) -> Vec<Vec<f32>> {
    json["logits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            row.as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap() as f32)
                .collect()
        })
        .collect()
}

fn assert_logits_close(what: &str, got: &[Vec<f32>], want: &[Vec<f32>]) {
    assert_eq!(got.len(), want.len(), "{what}: rows");
    let mut worst = 0.0f32;
    for (g, w) in got.iter().zip(want) {
        assert_eq!(g.len(), w.len(), "{what}: classes");
        for (a, b) in g.iter().zip(w) {
            worst = worst.max((a - b).abs());
        }
    }
    eprintln!("{what}: max |logit - HF| = {worst:.2e}");
    assert!(worst <= 1e-4, "{what}: {worst}");
}

#[test]
fn logits_match_transformers_and_peft_with_and_without_adapters() {
    let texts = fixture_texts();
    let dir = scratch("logits");
    // Texts 0–4 as JSONL (no label field); text 5, a pair, as a CSV with text/text_pair columns.
    let jsonl: String = texts[..5]
        .iter()
        .map(|(t, _)| serde_json::json!({ "text": t, "id": 1 }).to_string() + "\n")
        .collect();
    let singles = dir.join("texts.jsonl");
    std::fs::write(&singles, jsonl).unwrap();
    let (a, b) = &texts[5];
    let quote = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    let pair = dir.join("pair.csv");
    let csv = format!(
        "text,text_pair\n{},{}\n",
        quote(a),
        quote(b.as_ref().unwrap())
    );
    std::fs::write(&pair, csv).unwrap();

    let cases = [
        ("bert_cls", None),
        ("roberta_cls", None),
        ("bert_cls", Some("bert_cls_qv")),
        ("bert_cls", Some("bert_cls_all")),
        ("roberta_cls", Some("roberta_cls_all")),
        ("roberta_cls", Some("roberta_cls_qv_layer1")),
    ];
    for (model, adapter) in cases {
        let model_dir = fixtures().join("models").join(model);
        let expected = match adapter {
            None => model_dir.join("expected.safetensors"),
            Some(a) => fixtures()
                .join("adapters")
                .join(a)
                .join("expected.safetensors"),
        };
        let want = expected_logits(&expected, 6);
        let adapter_dir = adapter.map(|a| fixtures().join("adapters").join(a));
        let mut args = vec![
            "logits".to_string(),
            "--model".into(),
            model_dir.display().to_string(),
        ];
        if let Some(a) = &adapter_dir {
            args.extend(["--adapter".into(), a.display().to_string()]);
        }
        let with = |data: &Path| {
            let mut a = args.clone();
            a.extend(["--data".into(), data.display().to_string()]);
            a
        };
        let what = format!("{model} + {adapter:?}");
        let a = with(&singles);
        let got = logits_of(&run_ok(&a.iter().map(String::as_str).collect::<Vec<_>>()));
        assert_logits_close(&what, &got, &want[..5]);
        // The pair, written with --out.
        let out_file = dir.join("out.json");
        let mut a = with(&pair);
        a.extend(["--out".into(), out_file.display().to_string()]);
        let out = ntk_lens(&a.iter().map(String::as_str).collect::<Vec<_>>());
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.stdout.is_empty());
        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&out_file).unwrap()).unwrap();
        assert_logits_close(&format!("{what} pair"), &logits_of(&json), &want[5..]);
    }
}

#[test]
fn info_counts_follow_the_formulas() {
    for (model, classes) in [("bert_cls", 3usize), ("roberta_cls", 2), ("bert_base", 0)] {
        let dir = fixtures().join("models").join(model);
        let json = run_ok(&["info", "--model", dir.to_str().unwrap()]);
        let n = |k: &str| json[k].as_u64().unwrap() as usize;
        let (v, h, i, l) = (n("vocab"), n("hidden"), n("intermediate"), n("layers"));
        let config: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join("config.json")).unwrap()).unwrap();
        let c = |k: &str| config[k].as_u64().unwrap() as usize;
        assert_eq!(
            (v, h, i, l, n("heads")),
            (
                c("vocab_size"),
                c("hidden_size"),
                c("intermediate_size"),
                c("num_hidden_layers"),
                c("num_attention_heads")
            )
        );
        assert_eq!(n("head_dim") * n("heads"), h);
        let p = &json["parameters"];
        let q = |k: &str| p[k].as_u64().unwrap() as usize;
        let embeddings = (v + c("max_position_embeddings") + c("type_vocab_size")) * h + 2 * h;
        let layer = 4 * (h * h + h) + (h * i + i) + (i * h + h) + 4 * h;
        let pooler = if json["pooler"].as_bool().unwrap() {
            h * h + h
        } else {
            0
        };
        assert_eq!(q("encoder"), embeddings + l * layer + pooler, "{model}");
        let head = match model {
            "bert_cls" => classes * h + classes,
            "roberta_cls" => (h * h + h) + (classes * h + classes),
            _ => 0,
        };
        assert_eq!(q("head"), head, "{model}");
        assert_eq!(
            json["head"]["classes"].as_u64().map(|x| x as usize),
            (classes > 0).then_some(classes)
        );
        assert_eq!((q("lora"), q("total")), (0, q("encoder") + q("head")));
        assert!(json["lora"].is_null());

        // LoRA on query and intermediate of layer 1, rank 3: r(H + H) + r(H + I).
        let json = run_ok(&[
            "info",
            "--model",
            dir.to_str().unwrap(),
            "--rank",
            "3",
            "--alpha",
            "6",
            "--targets",
            "query,intermediate",
            "--layers",
            "1",
        ]);
        let p = &json["parameters"];
        let lora = p["lora"].as_u64().unwrap() as usize;
        assert_eq!(lora, 3 * (2 * h) + 3 * (h + i), "{model}");
        assert_eq!(
            p["total"].as_u64().unwrap() as usize,
            q("encoder") + head + lora
        );
        assert_eq!(json["lora"]["scale"], 2.0);
        assert_eq!(
            json["lora"]["sites"],
            serde_json::json!(["block.1.query", "block.1.intermediate"])
        );
    }
}

/// Runs `args`, expects exit code 2 and exactly one stderr line containing every `needle`.
fn assert_input_error(args: &[&str], needles: &[&str]) {
    let out = ntk_lens(args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err:?}");
    assert!(err.starts_with("error: "), "{err}");
    for n in needles {
        assert!(err.contains(n), "{args:?}: `{n}` not in {err:?}");
    }
    assert!(out.stdout.is_empty(), "{args:?}");
}

#[test]
fn bad_inputs_exit_two_with_one_line_naming_the_file() {
    let bert = fixtures().join("models/bert_cls");
    let data = scratch("bad-data");
    let good = data.join("good.jsonl");
    std::fs::write(&good, "{\"text\": \"The cat sat on the mat.\"}\n").unwrap();
    let logits = |model: &Path, extra: &[&str]| {
        let mut a = vec![
            "logits".to_string(),
            "--model".into(),
            model.display().to_string(),
            "--data".into(),
            good.display().to_string(),
        ];
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };
    let check = |args: Vec<String>, needles: &[&str]| {
        assert_input_error(
            &args.iter().map(String::as_str).collect::<Vec<_>>(),
            needles,
        )
    };

    // Truncated and corrupt weights.
    let weights = std::fs::read(bert.join("model.safetensors")).unwrap();
    let truncated = copy_dir(&bert, "truncated");
    std::fs::write(
        truncated.join("model.safetensors"),
        &weights[..weights.len() / 2],
    )
    .unwrap();
    let path = truncated.join("model.safetensors");
    check(logits(&truncated, &[]), &[path.to_str().unwrap()]);
    let corrupt = copy_dir(&bert, "corrupt");
    let mut garbage = weights.clone();
    garbage[8..40].fill(b'#');
    std::fs::write(corrupt.join("model.safetensors"), garbage).unwrap();
    check(
        vec![
            "info".into(),
            "--model".into(),
            corrupt.display().to_string(),
        ],
        &["model.safetensors", "safetensors"],
    );

    // hidden_size not divisible by the number of heads.
    let heads = copy_dir(&bert, "heads");
    let config = std::fs::read_to_string(bert.join("config.json")).unwrap();
    let bad = config.replace("\"num_attention_heads\": 4", "\"num_attention_heads\": 5");
    assert_ne!(bad, config);
    std::fs::write(heads.join("config.json"), bad).unwrap();
    let path = heads.join("config.json");
    check(
        logits(&heads, &[]),
        &[path.to_str().unwrap(), "hidden_size", "not divisible"],
    );

    // A tokenizer.json that is not JSON.
    let tok = copy_dir(&bert, "tokenizer");
    std::fs::write(tok.join("tokenizer.json"), "this is not json {").unwrap();
    let path = tok.join("tokenizer.json");
    check(
        logits(&tok, &[]),
        &[path.to_str().unwrap(), "tokenizer.json"],
    );

    // An adapter whose target modules do not exist in the model.
    let adapter = copy_dir(&fixtures().join("adapters/bert_cls_qv"), "adapter");
    let mut cfg: serde_json::Value =
        serde_json::from_slice(&std::fs::read(adapter.join("adapter_config.json")).unwrap())
            .unwrap();
    cfg["target_modules"] = serde_json::json!(["qkv_proj"]);
    std::fs::write(adapter.join("adapter_config.json"), cfg.to_string()).unwrap();
    check(
        logits(&bert, &["--adapter", adapter.to_str().unwrap()]),
        &[adapter.to_str().unwrap(), "target_modules", "qkv_proj"],
    );

    // A missing data file; a data file without a text column.
    let missing = data.join("nope.jsonl");
    let mut a = logits(&bert, &[]);
    a[4] = missing.display().to_string();
    check(a, &[missing.to_str().unwrap(), "cannot read"]);
    let no_text = data.join("numbers.csv");
    std::fs::write(&no_text, "id,value\n1,0.5\n2,0.7\n").unwrap();
    let mut a = logits(&bert, &[]);
    a[4] = no_text.display().to_string();
    check(a, &[no_text.to_str().unwrap(), "text", "id, value"]);

    // A model without a head has no logits; LoRA flags that select no layer.
    let base = fixtures().join("models/bert_base");
    check(logits(&base, &[]), &["bert_base", "no classification head"]);
    check(
        vec![
            "info".into(),
            "--model".into(),
            bert.display().to_string(),
            "--rank".into(),
            "2".into(),
            "--layers".into(),
            "7".into(),
        ],
        &["--layers", "layer 7 does not exist"],
    );
    check(
        vec![
            "info".into(),
            "--model".into(),
            bert.display().to_string(),
            "--alpha".into(),
            "2".into(),
        ],
        &["--rank"],
    );
    check(
        vec!["info".into(), "--model".into(), good.display().to_string()],
        &["good.jsonl", "not a directory"],
    );
    check(
        vec!["info".into(), "--model".into(), data.display().to_string()],
        &["config.json", "cannot read"],
    );
}
