//! The bad-input corpus of `tests/bad-inputs/` (one README line per file) through the CLI.
//!
//! Every file there is handed to the command that reads it: a data file to `ntk`, a broken
//! `config.json`, `model.safetensors` or `tokenizer.json` to `logits` in a copy of a valid model
//! folder with that one file replaced, a broken adapter file to `logits --adapter` in a copy of a
//! valid adapter. Each must be refused with exit code 2 and exactly one stderr line that names the
//! path read and what is wrong in it (field, line, column or tensor), or, for the few inputs that
//! are not wrong (a BOM, mixed line endings, a NUL, a text of exactly the length limit), accepted
//! with the result of its clean equivalent. Analysis arguments that cannot work (no file needed)
//! are refused the same way.

use std::path::{Path, PathBuf};

use crate::common::{fixtures, ntk_lens, scratch};

/// `tests/bad-inputs` of the repository.
fn corpus() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/bad-inputs")
}

/// Which file of which setup a case's file is, and so which command reads it.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    /// A labelled data file: `ntk --model bert_cls --data FILE --n 3 --rank 1` (the case's
    /// flags added; its `--n` replaces 3).
    Data,
    /// `config.json` of a copy of bert_cls: `logits --model DIR --data good.jsonl`.
    Config,
    /// `model.safetensors` of a copy of `mini-model/` (+ bert_cls's tokenizer): `logits`.
    Weights,
    /// `tokenizer.json` of a copy of bert_cls: `logits`.
    Tokenizer,
    /// `adapter_config.json` of a copy of adapters/bert_cls_qv: `logits --model bert_cls
    /// --adapter DIR --data good.jsonl`.
    AdapterConfig,
    /// `adapter_model.safetensors` of a copy of adapters/bert_cls_qv, as `AdapterConfig`.
    AdapterWeights,
}

/// What the CLI must do with a case.
#[derive(Debug, Clone, Copy)]
enum Expect {
    /// Exit 2, nothing on stdout, one stderr line `error: …` naming the path read and containing
    /// every needle.
    Refused(&'static [&'static str]),
    /// Exit 0 with `n` samples labelled `labels` and the same logits as the file's clean
    /// equivalent (`clean` applied to its text).
    Accepted {
        n: usize,
        labels: &'static [u64],
        clean: fn(&str) -> String,
    },
}

/// One corpus file and what must happen to it.
struct Case {
    file: &'static str,
    kind: Kind,
    /// Extra flags (data cases).
    flags: &'static [&'static str],
    expect: Expect,
}

const fn refused(file: &'static str, kind: Kind, needles: &'static [&'static str]) -> Case {
    Case {
        file,
        kind,
        flags: &[],
        expect: Expect::Refused(needles),
    }
}

/// The corpus. Needles are what the one line must say besides the path.
const CASES: &[Case] = &[
    // Datasets.
    refused("data-empty.csv", Kind::Data, &["the file is empty"]),
    refused(
        "data-whitespace-only.jsonl",
        Kind::Data,
        &["the file is empty"],
    ),
    refused("data-header-only.csv", Kind::Data, &["no data rows"]),
    refused(
        "data-one-class.csv",
        Kind::Data,
        &["column `label`", "`positive`", "at least two classes"],
    ),
    refused(
        "data-mixed-label-types.jsonl",
        Kind::Data,
        &["line 3", "column `label`", "`neutral` is text", "one kind of label"],
    ),
    Case {
        file: "data-text-10000-chars.jsonl",
        kind: Kind::Data,
        flags: &[],
        // The long text is truncated to the model's 64 positions: the same as a 1000-char cut.
        expect: Expect::Accepted {
            n: 3,
            labels: &[1, 0, 2],
            clean: |s| {
                s.lines()
                    .map(|l| {
                        let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
                        let t: String = v["text"].as_str().unwrap().chars().take(1000).collect();
                        v["text"] = t.into();
                        v.to_string() + "\n"
                    })
                    .collect()
            },
        },
    },
    refused(
        "data-text-10001-chars.jsonl",
        Kind::Data,
        &["line 2", "column `text`", "10001 characters", "limit of 10000"],
    ),
    Case {
        file: "data-embedded-nul.csv",
        kind: Kind::Data,
        flags: &[],
        // The tokenizer's clean-up drops the NUL, as Hugging Face's BertNormalizer does.
        expect: Expect::Accepted {
            n: 3,
            labels: &[0, 1, 2],
            clean: |s| s.replace('\0', ""),
        },
    },
    Case {
        file: "data-mixed-line-endings.csv",
        kind: Kind::Data,
        flags: &["--n", "4"],
        // CRLF, LF and a lone CR each end a row: four rows.
        expect: Expect::Accepted {
            n: 4,
            labels: &[0, 1, 2, 1],
            clean: |s| s.replace("\r\n", "\n").replace('\r', "\n"),
        },
    },
    Case {
        file: "data-bom.csv",
        kind: Kind::Data,
        flags: &[],
        expect: Expect::Accepted {
            n: 3,
            labels: &[0, 1, 2],
            clean: |s| s.trim_start_matches('\u{feff}').to_string(),
        },
    },
    refused(
        "data-utf16.csv",
        Kind::Data,
        &["line 1", "not valid UTF-8", "UTF-16 byte-order mark"],
    ),
    refused(
        "data-duplicate-header.csv",
        Kind::Data,
        &["line 1", "`text` appears twice", "fields 1 and 3"],
    ),
    refused(
        "data-field-count.csv",
        Kind::Data,
        &["line 3", "expected 2 fields", "found 3"],
    ),
    refused(
        "data-no-text-column.csv",
        Kind::Data,
        &[
            "found no text column",
            "`sentence`",
            "the columns are: id, value",
            "--text-col NAME --label-col NAME",
        ],
    ),
    refused(
        "data-numeric-text-column.csv",
        Kind::Data,
        &[
            "column `id`",
            "guessed as the text column",
            "all 6 of its values are numbers",
            "--text-col NAME --label-col NAME",
        ],
    ),
    refused(
        "data-no-header.csv",
        Kind::Data,
        &["line 1", "field 2", "header"],
    ),
    refused(
        "data-non-utf8.csv",
        Kind::Data,
        &["line 3", "offset 26", "not valid UTF-8"],
    ),
    refused(
        "data-unclosed-quote.csv",
        Kind::Data,
        &["line 3", "field 1", "never closes"],
    ),
    refused(
        "data-bad-json.json",
        Kind::Data,
        &["line 3", "column 18", "JSON syntax error"],
    ),
    refused(
        "data-array-of-non-objects.json",
        Kind::Data,
        &["line 2", "expected an object", "found a string"],
    ),
    refused(
        "data-json-wrapped-rows.json",
        Kind::Data,
        &["found no text column", "the columns are: rows"],
    ),
    refused(
        "data-jsonl-line-not-object.jsonl",
        Kind::Data,
        &["line 2", "expected an object", "found an array"],
    ),
    refused(
        "data-jsonl-missing-label.jsonl",
        Kind::Data,
        &["line 2", "column `label`", "no value"],
    ),
    refused(
        "data-jsonl-text-not-string.jsonl",
        Kind::Data,
        &["line 2", "column `text`", "found an array"],
    ),
    refused(
        "data-regression-nan.jsonl",
        Kind::Data,
        &["line 2", "column 31", "JSON syntax error"],
    ),
    Case {
        file: "data-regression-nan.csv",
        kind: Kind::Data,
        flags: &["--task", "regression"],
        expect: Expect::Refused(&["line 3", "column `score`", "finite number", "`nan`"]),
    },
    refused(
        "data-really-zip.csv",
        Kind::Data,
        &["line 1", "offset 16", "not valid UTF-8"],
    ),
    refused(
        "data-really-png.jsonl",
        Kind::Data,
        &["line 1", "offset 0", "not valid UTF-8"],
    ),
    // Weights (mini-model/ with this file as model.safetensors).
    refused(
        "weights-empty.safetensors",
        Kind::Weights,
        &["the file ended inside its header"],
    ),
    refused(
        "weights-truncated.safetensors",
        Kind::Weights,
        &["the file ended inside tensor `bert.encoder.layer.0.output.LayerNorm.bias` (4 of 32 bytes)"],
    ),
    refused(
        "weights-trailing-bytes.safetensors",
        Kind::Weights,
        &["16 bytes past the end of the last tensor"],
    ),
    refused(
        "weights-header-past-end.safetensors",
        Kind::Weights,
        &["the file ended inside its header"],
    ),
    refused(
        "weights-header-absurd-length.safetensors",
        Kind::Weights,
        &["header length 4611686018427387904", "limit of 100000000 bytes"],
    ),
    refused(
        "weights-header-not-json.safetensors",
        Kind::Weights,
        &["header is not valid JSON", "line 1 column 1"],
    ),
    refused(
        "weights-overlapping-offsets.safetensors",
        Kind::Weights,
        &[
            "tensor `bert.encoder.layer.0.attention.self.query.bias`",
            "offsets 5728..5792 do not follow",
        ],
    ),
    refused(
        "weights-offsets-out-of-range.safetensors",
        Kind::Weights,
        &["tensor `classifier.weight`", "offsets 1007820..1007916"],
    ),
    refused(
        "weights-shape-offsets-disagree.safetensors",
        Kind::Weights,
        &["tensor `bert.embeddings.LayerNorm.bias`", "shape [16]"],
    ),
    refused(
        "weights-dtype-i32.safetensors",
        Kind::Weights,
        &[
            "tensor `bert.encoder.layer.0.attention.self.key.weight`",
            "dtype I32",
        ],
    ),
    refused(
        "weights-dtype-unknown.safetensors",
        Kind::Weights,
        &["tensor `classifier.weight`", "unknown variant `Q4_K`"],
    ),
    refused(
        "weights-nan.safetensors",
        Kind::Weights,
        &["bert.encoder.layer.0.attention.self.query.weight", "NaN"],
    ),
    refused(
        "weights-inf.safetensors",
        Kind::Weights,
        &["classifier.weight", "infinite"],
    ),
    refused(
        "weights-wrong-shape.safetensors",
        Kind::Weights,
        &[
            "tensor `bert.encoder.layer.0.output.dense.weight`",
            "shape [16, 8], expected [8, 16]",
        ],
    ),
    refused(
        "weights-missing-tensor.safetensors",
        Kind::Weights,
        &[
            "tensor `bert.encoder.layer.0.attention.self.key.bias`",
            "is missing",
        ],
    ),
    // config.json (bert_cls with this file as config.json).
    refused(
        "config-not-json.json",
        Kind::Config,
        &["not valid JSON", "line 4"],
    ),
    refused(
        "config-not-an-object.json",
        Kind::Config,
        &["not valid JSON", "line 1 column 3"],
    ),
    refused(
        "config-missing-hidden-size.json",
        Kind::Config,
        &["field `hidden_size`: missing"],
    ),
    refused(
        "config-wrong-type-hidden-size.json",
        Kind::Config,
        &["string \"32\", expected i64", "line 10"],
    ),
    refused(
        "config-heads-not-divisor.json",
        Kind::Config,
        &["field `hidden_size`", "not divisible by num_attention_heads = 5"],
    ),
    refused(
        "config-zero-layers.json",
        Kind::Config,
        &["field `num_hidden_layers`", "got 0"],
    ),
    refused(
        "config-negative-intermediate.json",
        Kind::Config,
        &["field `intermediate_size`", "got -64"],
    ),
    // Refused before anything of that size is allocated: the weights do not have the shapes it
    // implies (the message names model.safetensors, where the mismatch is found).
    refused(
        "config-absurd-vocab.json",
        Kind::Config,
        &["`hidden_size`", "1000000 is past the largest this tool accepts"],
    ),
    refused(
        "config-absurd-layers.json",
        Kind::Config,
        &["num_hidden_layers", "past the largest this tool accepts"],
    ),
    refused(
        "config-unsupported-model-type.json",
        Kind::Config,
        &["field `model_type`", "`gpt2` is not supported"],
    ),
    refused(
        "config-pad-outside-vocab.json",
        Kind::Config,
        &["field `pad_token_id`", "140 is outside the vocabulary"],
    ),
    refused(
        "config-labels-disagree.json",
        Kind::Config,
        &["field `num_labels`", "3 entries of id2label"],
    ),
    // tokenizer.json (bert_cls with this file as tokenizer.json).
    refused(
        "tokenizer-not-json.json",
        Kind::Tokenizer,
        &["not a valid tokenizer.json", "line 1 column 2"],
    ),
    refused(
        "tokenizer-unknown-model.json",
        Kind::Tokenizer,
        &["not a valid tokenizer.json", "ModelUntagged", "line 290"],
    ),
    refused(
        "tokenizer-no-special-tokens.json",
        Kind::Tokenizer,
        &["special token `[", "has no such token"],
    ),
    refused(
        "tokenizer-of-another-model.json",
        Kind::Tokenizer,
        &["361 tokens", "embeddings for 140", "vocab_size"],
    ),
    // Adapters (adapters/bert_cls_qv with this file in place of its namesake; the message names
    // the adapter directory).
    refused(
        "adapter-config-not-json.json",
        Kind::AdapterConfig,
        &["`adapter_config.json`", "not valid JSON", "line 2"],
    ),
    refused(
        "adapter-target-modules-absent.json",
        Kind::AdapterConfig,
        &["`target_modules`", "qkv_proj", "match no linear layer"],
    ),
    refused(
        "adapter-rank-mismatch.json",
        Kind::AdapterConfig,
        &[
            "`base_model.model.bert.encoder.layer.0.attention.self.query.lora_A.weight`",
            "`adapter_model.safetensors`",
            "shape [4, 32], expected [8, 32]",
        ],
    ),
    refused(
        "adapter-alpha-zero.json",
        Kind::AdapterConfig,
        &["`lora_alpha`"],
    ),
    refused(
        "adapter-alpha-negative.json",
        Kind::AdapterConfig,
        &["`lora_alpha`", "-16"],
    ),
    refused(
        "adapter-alpha-not-a-number.json",
        Kind::AdapterConfig,
        &["`lora_alpha`", "expected a number", "sixteen"],
    ),
    refused(
        "adapter-layers-absent.json",
        Kind::AdapterConfig,
        &["`layers_to_transform`", "layer 7 does not exist"],
    ),
    refused(
        "adapter-head-wrong-classes.safetensors",
        Kind::AdapterWeights,
        &[
            "`base_model.model.classifier.weight`",
            "shape [2, 32], expected [3, 32]",
        ],
    ),
    refused(
        "adapter-keys-for-absent-layer.safetensors",
        Kind::AdapterWeights,
        // Either of the two (the core lists the file's names in hash order).
        &["`base_model.model.bert.encoder.layer.5.attention.self.query.lora_"],
    ),
    refused(
        "adapter-nan.safetensors",
        Kind::AdapterWeights,
        &["lora_B", "NaN"],
    ),
    refused(
        "adapter-truncated.safetensors",
        Kind::AdapterWeights,
        &["`adapter_model.safetensors`", "incomplete"],
    ),
];

/// Corpus files that are not cases: the generator, the README, the valid mini model the
/// weights cases break, and the five-row data file of the argument cases.
const SUPPORT: &[&str] = &["README.md", "make.py", "mini-model", "data-five-rows.jsonl"];

/// Copies the files `names` of `from` into `to`.
fn copy_files(from: &Path, names: &[&str], to: &Path) {
    for name in names {
        std::fs::copy(from.join(name), to.join(name)).unwrap();
    }
}

/// A fresh valid setup for `kind` in the directory `dir` (created): the directory the CLI is
/// given (model or adapter) and the file in it that a case replaces. Data cases have none.
fn setup(kind: Kind, dir: PathBuf) -> Option<(PathBuf, &'static str)> {
    let bert = fixtures().join("models/bert_cls");
    let model_files = ["config.json", "model.safetensors", "tokenizer.json"];
    if kind == Kind::Data {
        return None;
    }
    std::fs::create_dir_all(&dir).unwrap();
    let target = match kind {
        Kind::Data => unreachable!(),
        Kind::Config | Kind::Tokenizer => {
            copy_files(&bert, &model_files, &dir);
            if kind == Kind::Config {
                "config.json"
            } else {
                "tokenizer.json"
            }
        }
        Kind::Weights => {
            copy_files(&bert, &["tokenizer.json"], &dir);
            copy_files(
                &corpus().join("mini-model"),
                &["config.json", "model.safetensors"],
                &dir,
            );
            "model.safetensors"
        }
        Kind::AdapterConfig | Kind::AdapterWeights => {
            copy_files(
                &fixtures().join("adapters/bert_cls_qv"),
                &["adapter_config.json", "adapter_model.safetensors"],
                &dir,
            );
            if kind == Kind::AdapterConfig {
                "adapter_config.json"
            } else {
                "adapter_model.safetensors"
            }
        }
    };
    Some((dir, target))
}

/// The command line that reads `data` (data cases) or the setup `dir`.
fn command(kind: Kind, data: &Path, dir: Option<&Path>, flags: &[&str]) -> Vec<String> {
    let bert = fixtures().join("models/bert_cls");
    let s = |p: &Path| p.display().to_string();
    let mut args: Vec<String> = match kind {
        Kind::Data => vec!["ntk".into(), "--model".into(), s(&bert)],
        Kind::Config | Kind::Weights | Kind::Tokenizer => {
            vec!["logits".into(), "--model".into(), s(dir.unwrap())]
        }
        Kind::AdapterConfig | Kind::AdapterWeights => vec![
            "logits".into(),
            "--model".into(),
            s(&bert),
            "--adapter".into(),
            s(dir.unwrap()),
        ],
    };
    args.extend(["--data".into(), s(data)]);
    if kind == Kind::Data {
        if !flags.contains(&"--n") {
            args.extend(["--n", "3"].map(String::from));
        }
        args.extend(["--rank", "1"].map(String::from));
    }
    args.extend(flags.iter().map(|f| f.to_string()));
    args
}

/// Runs `args`; `(exit code, stdout, stderr)`.
fn run(args: &[String]) -> (Option<i32>, Vec<u8>, String) {
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = ntk_lens(&refs);
    (
        out.status.code(),
        out.stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Checks a refusal: exit 2, nothing on stdout, one line `error: …` with `named` and every
/// needle. Returns the line.
fn check_refused(
    what: &str,
    (code, stdout, err): &(Option<i32>, Vec<u8>, String),
    named: &str,
    needles: &[&str],
) -> String {
    assert_eq!(*code, Some(2), "{what}: exit code {code:?}, stderr {err:?}");
    assert!(stdout.is_empty(), "{what}: stdout not empty");
    assert_eq!(err.trim_end().lines().count(), 1, "{what}: {err:?}");
    assert!(err.starts_with("error: "), "{what}: {err:?}");
    assert!(!err.contains("panicked"), "{what}: {err:?}");
    for n in std::iter::once(&named).chain(needles) {
        assert!(err.contains(n), "{what}: `{n}` not in {err:?}");
    }
    err.trim_end().to_string()
}

/// Runs `args` expecting success; its JSON.
fn run_ok(what: &str, args: &[String]) -> serde_json::Value {
    let (code, stdout, err) = run(args);
    assert_eq!(code, Some(0), "{what}: {err}");
    serde_json::from_slice(&stdout).unwrap()
}

fn as_f64s(v: &serde_json::Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .flat_map(|row| row.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()))
        .collect()
}

#[test]
fn bad_input_corpus_exits_two_with_one_line_naming_the_file() {
    let dir = corpus();
    let work = scratch("corpus");
    let good = work.join("good.jsonl");
    std::fs::write(&good, "{\"text\": \"The cat sat on the mat.\"}\n").unwrap();

    // Every corpus file is a case or a support file, and has its README line.
    let readme = std::fs::read_to_string(dir.join("README.md")).unwrap();
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    for f in &files {
        assert!(
            CASES.iter().any(|c| c.file == f) || SUPPORT.contains(&f.as_str()),
            "{f} is in tests/bad-inputs but not a case"
        );
    }
    for c in CASES {
        assert!(files.contains(&c.file.to_string()), "{} is missing", c.file);
        assert!(
            readme.contains(&format!("| `{}` |", c.file)),
            "{} has no README line",
            c.file
        );
    }
    assert!(CASES.len() >= 40, "{} cases", CASES.len());

    // The valid setups the cases break work as they are.
    for kind in [
        Kind::Config,
        Kind::Weights,
        Kind::Tokenizer,
        Kind::AdapterConfig,
    ] {
        let (setup_dir, _) = setup(kind, work.join(format!("valid-{kind:?}"))).unwrap();
        let json = run_ok(
            &format!("valid {kind:?}"),
            &command(kind, &good, Some(&setup_dir), &[]),
        );
        let logits = as_f64s(&json["logits"]);
        assert_eq!(logits.len(), 3, "{kind:?}");
        assert!(logits.iter().all(|x| x.is_finite()), "{kind:?}: {logits:?}");
    }

    let (mut refusals, mut accepted) = (Vec::new(), Vec::new());
    for (i, case) in CASES.iter().enumerate() {
        let source = dir.join(case.file);
        let (args, named) = match setup(case.kind, work.join(format!("case{i}"))) {
            None => (
                command(case.kind, &source, None, case.flags),
                source.display().to_string(),
            ),
            Some((setup_dir, target)) => {
                std::fs::copy(&source, setup_dir.join(target)).unwrap();
                let named = match case.kind {
                    Kind::AdapterConfig | Kind::AdapterWeights => setup_dir.clone(),
                    _ => setup_dir.join(target),
                };
                (
                    command(case.kind, &good, Some(&setup_dir), case.flags),
                    named.display().to_string(),
                )
            }
        };
        let what = format!("{} ({:?})", case.file, case.kind);
        match case.expect {
            Expect::Refused(needles) => {
                let line = check_refused(&what, &run(&args), &named, needles);
                refusals.push(format!("{}: {line}", case.file));
            }
            Expect::Accepted { n, labels, clean } => {
                let json = run_ok(&what, &args);
                assert_eq!(json["n"], n, "{what}");
                assert_eq!(json["labels"], serde_json::json!(labels), "{what}: labels");
                let text = String::from_utf8(std::fs::read(&source).unwrap()).unwrap();
                let control = work.join(format!("clean-{}", case.file));
                std::fs::write(&control, clean(&text)).unwrap();
                assert_ne!(clean(&text), text, "{what}: the clean file differs");
                let expected = run_ok(
                    &format!("{what}, clean"),
                    &command(case.kind, &control, None, case.flags),
                );
                let (got, want) = (as_f64s(&json["logits"]), as_f64s(&expected["logits"]));
                assert_eq!(got.len(), want.len(), "{what}");
                for (a, b) in got.iter().zip(&want) {
                    assert!((a - b).abs() <= 1e-5, "{what}: logits {got:?} vs {want:?}");
                }
                accepted.push(case.file);
            }
        }
    }
    for r in &refusals {
        eprintln!("refused   {r}");
    }
    for a in &accepted {
        eprintln!("accepted  {a}");
    }
    std::fs::remove_dir_all(&work).unwrap();
}

/// Issue 30: the ids of `id,score` guessed as the texts are refused by `logits` too (which reads
/// the same guess), and read as texts when the user names the column.
#[test]
fn numeric_text_column_is_refused_by_logits_and_read_when_chosen() {
    let model = |name: &str| fixtures().join("models").join(name).display().to_string();
    let data = corpus().join("data-numeric-text-column.csv");
    let data = data.display().to_string();
    let args = |model: String, extra: &[&str]| -> Vec<String> {
        let mut args: Vec<String> = extra.iter().map(|a| a.to_string()).collect();
        args.extend(["--model".into(), model, "--data".into(), data.clone()]);
        args
    };
    check_refused(
        "logits",
        &run(&args(model("bert_cls"), &["logits"])),
        &data,
        &[
            "column `id`",
            "all 6 of its values are numbers",
            "--text-col",
        ],
    );
    // Chosen explicitly (the flags the message names), `logits` reads the ids as texts.
    let json = run_ok(
        "logits --text-col id",
        &args(
            model("bert_cls"),
            &["logits", "--text-col", "id", "--label-col", "score"],
        ),
    );
    let rows = json["logits"].as_array().expect("logits rows");
    assert_eq!(rows.len(), 6, "{json}");
    // bert_cls has three labels.
    assert!(
        rows.iter()
            .all(|r| r.as_array().is_some_and(|l| l.len() == 3)),
        "{json}"
    );
    // A chosen column the file lacks is named.
    check_refused(
        "logits",
        &run(&args(
            model("bert_cls"),
            &["logits", "--text-col", "review"],
        )),
        &data,
        &[
            "no column `review` for the text",
            "the columns are: id, score",
        ],
    );
    // Chosen explicitly, the ids are the texts; `score` is a regression target, which the
    // regression fixture reads.
    let flags = [
        "ntk",
        "--n",
        "3",
        "--rank",
        "1",
        "--text-col",
        "id",
        "--label-col",
        "score",
    ];
    let json = run_ok("ntk --text-col id", &args(model("bert_reg"), &flags));
    assert_eq!(json["n"], 3, "{json}");
}

/// Analysis arguments that cannot work: refused with exit 2 and one line naming the flag (or the
/// data file whose size they exceed). `D` is tests/bad-inputs/data-five-rows.jsonl (5 rows, 3
/// classes), `M` tests/fixtures/models/bert_cls.
const ARGUMENT_CASES: &[(&[&str], &[&str])] = &[
    // n larger than the dataset; n = 0.
    (
        &["ntk", "--model", "M", "--data", "D", "--n", "9"],
        &["D", "cannot take 9 rows", "1..=5"],
    ),
    (
        &["ntk", "--model", "M", "--data", "D", "--n", "0"],
        &["'--n <N>'", "0 is not in 1..="],
    ),
    // λ of κ(K + λI) < 0, NaN or infinite.
    (
        &[
            "ntk",
            "--model",
            "M",
            "--data",
            "D",
            "--n",
            "3",
            "--lambda=-1",
        ],
        &["--lambda", "expected λ ≥ 0, got -1"],
    ),
    (
        &[
            "ntk", "--model", "M", "--data", "D", "--n", "3", "--lambda", "NaN",
        ],
        &["--lambda", "NaN or infinite"],
    ),
    (
        &[
            "ntk", "--model", "M", "--data", "D", "--n", "3", "--lambda", "inf",
        ],
        &["--lambda", "NaN or infinite"],
    ),
    // The sweep's λ grid: 0, negative, NaN, empty, an empty entry.
    (
        &[
            "sweep",
            "--model",
            "M",
            "--data",
            "D",
            "--n",
            "3",
            "--lambdas",
            "0",
        ],
        &["`lambdas`", "finite number > 0, got 0"],
    ),
    (
        &[
            "sweep",
            "--model",
            "M",
            "--data",
            "D",
            "--n",
            "3",
            "--lambdas=-1",
        ],
        &["`lambdas`", "got -1"],
    ),
    (
        &[
            "sweep",
            "--model",
            "M",
            "--data",
            "D",
            "--n",
            "3",
            "--lambdas",
            "NaN",
        ],
        &["`lambdas`", "got NaN"],
    ),
    (
        &[
            "sweep",
            "--model",
            "M",
            "--data",
            "D",
            "--n",
            "3",
            "--lambdas=",
        ],
        &["'--lambdas <LIST>'", "empty string"],
    ),
    (
        &[
            "sweep",
            "--model",
            "M",
            "--data",
            "D",
            "--n",
            "3",
            "--lambdas",
            "1e-3,,1",
        ],
        &["'--lambdas <LIST>'", "empty string"],
    ),
    (
        &[
            "sweep",
            "--model",
            "M",
            "--data",
            "D",
            "--n",
            "3",
            "--lambdas",
            "1",
            "--steps",
            "0",
        ],
        &["`steps`", "got 0"],
    ),
    // A layer budget larger than the blocks (2 layers × query, value), or zero.
    (
        &[
            "select", "--model", "M", "--data", "D", "--n", "3", "--budget", "9",
        ],
        &["`budget`", "expected 1..=4 blocks, got 9"],
    ),
    (
        &[
            "select", "--model", "M", "--data", "D", "--n", "3", "--budget", "0",
        ],
        &["`budget`", "got 0"],
    ),
    (
        &[
            "select",
            "--model",
            "M",
            "--data",
            "D",
            "--n",
            "3",
            "--kappa-lambda=-1",
        ],
        &["`lambda`", "got -1"],
    ),
    (
        &[
            "select",
            "--model",
            "M",
            "--data",
            "D",
            "--n",
            "3",
            "--kappa-lambda",
            "NaN",
        ],
        &["lambda", "NaN or infinite"],
    ),
    // A picked row past the end; chunk 0; a max length below the special tokens.
    (
        &[
            "ntk", "--model", "M", "--data", "D", "--n", "3", "--sample", "picked", "--rows",
            "0,1,9",
        ],
        &["D", "row 9 is picked", "has 5 rows"],
    ),
    (
        &[
            "ntk", "--model", "M", "--data", "D", "--n", "3", "--chunk", "0",
        ],
        &["`chunk_size`", "got 0"],
    ),
    (
        &[
            "ntk",
            "--model",
            "M",
            "--data",
            "D",
            "--n",
            "3",
            "--max-len",
            "2",
        ],
        &["'--max-len <N>'", "2 is not in 3..=512"],
    ),
];

#[test]
fn bad_input_corpus_analysis_arguments_exit_two() {
    let model = fixtures().join("models/bert_cls").display().to_string();
    let data = corpus().join("data-five-rows.jsonl").display().to_string();
    let readme = std::fs::read_to_string(corpus().join("README.md")).unwrap();
    let subst = |s: &str| match s {
        "M" => model.clone(),
        "D" => data.clone(),
        other => other.to_string(),
    };
    for (args, needles) in ARGUMENT_CASES {
        let line = args.join(" ");
        assert!(
            readme.contains(&format!("`ntk-lens {line}`")),
            "no README line for `ntk-lens {line}`"
        );
        let args: Vec<String> = args.iter().map(|a| subst(a)).collect();
        let needles: Vec<String> = needles.iter().map(|n| subst(n)).collect();
        let needles: Vec<&str> = needles.iter().map(String::as_str).collect();
        let err = check_refused(&line, &run(&args), "", &needles);
        eprintln!("refused   {line}: {err}");
    }
    // Without --n, a file with fewer rows than the default 32 is analysed whole, with a note.
    let (code, stdout, err) = run(&[
        "ntk".into(),
        "--model".into(),
        model.clone(),
        "--data".into(),
        data.clone(),
        "--rank".into(),
        "1".into(),
    ]);
    assert_eq!(code, Some(0), "{err}");
    let json: serde_json::Value = serde_json::from_slice(&stdout).unwrap();
    assert_eq!(json["n"], 5, "{json}");
    assert!(
        err.contains("note: --n not given: analysing all 5 rows of") && err.contains(&data),
        "{err}"
    );
}
