//! PEFT adapter files: `adapter_config.json` + `adapter_model.safetensors`, import and export.
//!
//! Keys in `adapter_model.safetensors` are PEFT's (0.21), e.g.
//! `base_model.model.bert.encoder.layer.0.attention.self.query.lora_A.weight` (`[r, in]`) and
//! `…lora_B.weight` (`[out, r]`); the adapter name (`default`) is not in the key. The prefix
//! after `base_model.model.` is the encoder's attribute in the HF class (`bert`, `roberta`, or
//! none for a bare `BertModel`). Sequence-classification adapters (`task_type = SEQ_CLS`) also
//! store the head (`base_model.model.classifier.*`), which **replaces** the model's head on
//! import, as PEFT does.

use std::collections::HashMap;

use safetensors::tensor::TensorView;
use safetensors::Dtype;
use serde_json::{json, Value};

use super::adapted::LoraWeights;
use super::heads::ClassifierHead;
use super::weights::{tensor_from_vec, WeightFile};
use super::{loading, Model};
use crate::lora::{LoraConfig, LoraSite, LoraTargets};
use crate::readback::read_f32;
use crate::CoreError;

/// The two files of a PEFT adapter.
#[derive(Debug, Clone, PartialEq)]
pub struct PeftAdapter {
    /// Contents of `adapter_config.json`.
    pub config_json: String,
    /// Contents of `adapter_model.safetensors`.
    pub safetensors: Vec<u8>,
}

fn bad(field: &str, msg: impl Into<String>) -> CoreError {
    CoreError::adapter(field, msg)
}

fn as_usize(field: &str, v: &Value) -> Result<usize, CoreError> {
    v.as_u64()
        .and_then(|n| usize::try_from(n).ok())
        .ok_or_else(|| bad(field, format!("expected a non-negative integer, got {v}")))
}

/// Parses a PEFT `adapter_config.json` into a [`LoraConfig`] with PEFT targets.
///
/// Rejected (typed error naming the key): `peft_type` other than `LORA`, `bias` other than
/// `none`, `use_dora`, `fan_in_fan_out`, non-empty `rank_pattern` / `alpha_pattern`,
/// `exclude_modules`, a regex string as `target_modules`, `layers_pattern` other than `layer`.
/// `target_modules = null` means PEFT's default for BERT/RoBERTa, `["query", "value"]`.
/// `lora_dropout` is ignored (ntk-lens evaluates without dropout).
pub fn parse_adapter_config(json: &str) -> Result<LoraConfig, CoreError> {
    let v: Value = serde_json::from_str(json)
        .map_err(|e| bad("adapter_config.json", format!("not valid JSON: {e}")))?;
    let obj = v
        .as_object()
        .ok_or_else(|| bad("adapter_config.json", "expected a JSON object"))?;
    let get = |k: &str| obj.get(k).filter(|x| !x.is_null());
    if let Some(t) = get("peft_type") {
        if t.as_str() != Some("LORA") {
            return Err(bad("peft_type", format!("only LORA is supported, got {t}")));
        }
    }
    let r = as_usize("r", get("r").ok_or_else(|| bad("r", "missing"))?)?;
    let alpha = match get("lora_alpha") {
        None => 8.0,
        Some(a) => a
            .as_f64()
            .ok_or_else(|| bad("lora_alpha", format!("expected a number, got {a}")))?,
    };
    if !(alpha.is_finite() && alpha > 0.0) {
        return Err(bad(
            "lora_alpha",
            format!("expected a positive number, got {alpha}"),
        ));
    }
    let targets = match get("target_modules") {
        None => vec!["query".to_string(), "value".to_string()],
        Some(Value::Array(items)) => items
            .iter()
            .map(|t| {
                t.as_str()
                    .map(String::from)
                    .ok_or_else(|| bad("target_modules", format!("expected strings, got {t}")))
            })
            .collect::<Result<_, _>>()?,
        Some(Value::String(s)) => {
            return Err(bad(
                "target_modules",
                format!("a regular expression (`{s}`) is not supported; give a list of names"),
            ))
        }
        Some(other) => {
            return Err(bad(
                "target_modules",
                format!("expected a list of strings, got {other}"),
            ))
        }
    };
    let layers_to_transform = match get("layers_to_transform") {
        None => None,
        Some(Value::Array(items)) => Some(
            items
                .iter()
                .map(|x| as_usize("layers_to_transform", x))
                .collect::<Result<Vec<_>, _>>()?,
        ),
        Some(x) => Some(vec![as_usize("layers_to_transform", x)?]),
    };
    if let Some(p) = get("layers_pattern") {
        let ok = match p {
            Value::String(s) => s == "layer",
            Value::Array(a) => a.is_empty() || (a.len() == 1 && a[0].as_str() == Some("layer")),
            _ => false,
        };
        if !ok {
            return Err(bad(
                "layers_pattern",
                format!("only `layer` is supported, got {p}"),
            ));
        }
    }
    if let Some(b) = get("bias") {
        if b.as_str() != Some("none") {
            return Err(bad("bias", format!("only `none` is supported, got {b}")));
        }
    }
    for flag in ["use_dora", "fan_in_fan_out"] {
        if get(flag).and_then(Value::as_bool) == Some(true) {
            return Err(bad(flag, "is not supported"));
        }
    }
    for pattern in ["rank_pattern", "alpha_pattern"] {
        if let Some(p) = get(pattern) {
            if p.as_object().is_none_or(|m| !m.is_empty()) {
                return Err(bad(
                    pattern,
                    format!("per-module patterns are not supported: {p}"),
                ));
            }
        }
    }
    if let Some(e) = get("exclude_modules") {
        if e.as_array().is_none_or(|a| !a.is_empty()) {
            return Err(bad("exclude_modules", format!("is not supported: {e}")));
        }
    }
    let use_rslora = get("use_rslora").and_then(Value::as_bool).unwrap_or(false);
    Ok(LoraConfig {
        r,
        alpha,
        targets: LoraTargets::Peft(targets),
        layers_to_transform,
        use_rslora,
    })
}

/// Imports a PEFT adapter into `model`: replaces all LoRA adapters with the file's, and the
/// head with the file's head when it has one. Returns the adapted sites.
///
/// Errors: a bad config (see [`parse_adapter_config`]); targets that select no encoder layer;
/// a missing or mis-shaped `lora_A`/`lora_B` tensor (named); LoRA tensors in the file for
/// modules the config does not select or ntk-lens cannot adapt (named).
pub fn load_adapter(
    model: &mut Model,
    adapter_config_json: &[u8],
    adapter_safetensors: &[u8],
) -> Result<Vec<LoraSite>, CoreError> {
    let text = std::str::from_utf8(adapter_config_json)
        .map_err(|e| bad("adapter_config.json", format!("not UTF-8: {e}")))?;
    let config = parse_adapter_config(text)?;
    let file = WeightFile::parse("adapter_model.safetensors", adapter_safetensors)?;
    // Adapter keys carry the encoder attribute of the HF class the adapter was trained on; accept
    // the model's own prefix, the family prefix, or none.
    let mut prefixes = vec![
        model.hf_prefix.clone(),
        model.config.family.prefix().to_string(),
        String::new(),
    ];
    prefixes.dedup();
    let prefix = prefixes
        .iter()
        .find(|p| {
            file.names()
                .iter()
                .any(|n| n.starts_with(&format!("base_model.model.{}encoder.", dotted(p))))
        })
        .cloned()
        .unwrap_or_else(|| model.hf_prefix.clone());
    let sites = config.resolve(model.encoder.layers.len(), &prefix)?;
    let device = model.device();
    let mut loaded = Vec::with_capacity(sites.len());
    let mut used = Vec::new();
    for &site in &sites {
        let base = &model.encoder.layers[site.layer].linear(site.module).base;
        let (inp, out) = (base.in_features(), base.out_features());
        let (ka, kb) = (site.peft_key(&prefix, false), site.peft_key(&prefix, true));
        let a = file.read_exact(&ka, &[config.r, inp])?;
        let b = file.read_exact(&kb, &[out, config.r])?;
        loaded.push((
            site,
            LoraWeights::new(
                tensor_from_vec(a, [config.r, inp], &device),
                tensor_from_vec(b, [out, config.r], &device),
                config.scale(),
            ),
        ));
        used.push(ka);
        used.push(kb);
    }
    if let Some(extra) = file
        .names()
        .into_iter()
        .find(|n| n.contains(".lora_") && !used.contains(n))
    {
        return Err(bad(
            "adapter_model.safetensors",
            format!(
                "`{extra}` belongs to a module that the config's targets do not select or that \
                 ntk-lens cannot adapt"
            ),
        ));
    }
    let head = loading::load_head(&model.config, &file, "base_model.model.", &device)?;
    model.remove_lora();
    for (site, weights) in loaded {
        model.encoder.layers[site.layer]
            .linear_mut(site.module)
            .lora = Some(weights);
    }
    if let Some(head) = head {
        model.head = Some(match (&model.head, head) {
            // A mean-pool head is stored under `classifier.*` like a BERT head: keep its kind.
            (Some(ClassifierHead::MeanPoolLinear { .. }), ClassifierHead::Bert { classifier }) => {
                ClassifierHead::MeanPoolLinear { classifier }
            }
            (_, h) => h,
        });
    }
    model.lora_config = Some(config);
    Ok(sites)
}

fn dotted(prefix: &str) -> String {
    if prefix.is_empty() {
        String::new()
    } else {
        format!("{prefix}.")
    }
}

/// Imports an adapter from a directory holding `adapter_config.json` and
/// `adapter_model.safetensors` (native only).
#[cfg(not(target_family = "wasm"))]
pub fn load_adapter_dir(
    model: &mut Model,
    dir: impl AsRef<std::path::Path>,
) -> Result<Vec<LoraSite>, CoreError> {
    let dir = dir.as_ref();
    let read = |name: &str| {
        std::fs::read(dir.join(name)).map_err(|e| bad(name, format!("cannot read: {e}")))
    };
    load_adapter(
        model,
        &read("adapter_config.json")?,
        &read("adapter_model.safetensors")?,
    )
}

/// Exports the model's LoRA adapters (and its head, as PEFT `SEQ_CLS` does) as PEFT files
/// that `PeftModel.from_pretrained` and [`load_adapter`] read. Tensors are written as f32.
pub async fn export_adapter(model: &Model) -> Result<PeftAdapter, CoreError> {
    let sites = model.lora_sites();
    let config = model
        .lora_config
        .as_ref()
        .filter(|_| !sites.is_empty())
        .ok_or_else(|| bad("target_modules", "the model has no LoRA adapter to export"))?;
    let mut tensors: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
    let mut push = |name: String, shape: Vec<usize>, values: Vec<f32>| {
        let bytes = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        tensors.push((name, shape, bytes));
    };
    for &site in &sites {
        let Some(l) = model.lora(site) else { continue };
        let a = read_f32(l.a.clone()).await?;
        let b = read_f32(l.b.clone()).await?;
        push(
            site.peft_key(&model.hf_prefix, false),
            l.a.dims().to_vec(),
            a,
        );
        push(
            site.peft_key(&model.hf_prefix, true),
            l.b.dims().to_vec(),
            b,
        );
    }
    if let Some(head) = &model.head {
        for (name, w, bias) in head.named_tensors() {
            let shape = w.dims().to_vec();
            push(
                format!("base_model.model.{name}.weight"),
                shape,
                read_f32(w).await?,
            );
            if let Some(bias) = bias {
                let shape = bias.dims().to_vec();
                push(
                    format!("base_model.model.{name}.bias"),
                    shape,
                    read_f32(bias).await?,
                );
            }
        }
    }
    let views = tensors
        .iter()
        .map(|(name, shape, bytes)| {
            TensorView::new(Dtype::F32, shape.clone(), bytes)
                .map(|v| (name.clone(), v))
                .map_err(|e| bad("adapter_model.safetensors", e.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let metadata = HashMap::from([("format".to_string(), "pt".to_string())]);
    let safetensors = safetensors::serialize(views, Some(metadata))
        .map_err(|e| bad("adapter_model.safetensors", e.to_string()))?;
    let num_layers = model.encoder.layers.len();
    let has_head = model.head.is_some();
    let config_json = json!({
        "peft_type": "LORA",
        "task_type": if has_head { Value::from("SEQ_CLS") } else { Value::Null },
        "r": config.r,
        "lora_alpha": config.alpha,
        "target_modules": config.peft_target_modules(num_layers),
        "layers_to_transform": config.layers_to_transform,
        "layers_pattern": Value::Null,
        "lora_dropout": 0.0,
        "bias": "none",
        "fan_in_fan_out": false,
        "use_rslora": config.use_rslora,
        "use_dora": false,
        "init_lora_weights": true,
        "inference_mode": true,
        "modules_to_save": if has_head { json!(["classifier", "score"]) } else { Value::Null },
        "rank_pattern": {},
        "alpha_pattern": {},
        "base_model_name_or_path": Value::Null,
        "revision": Value::Null,
    });
    let config_json = serde_json::to_string_pretty(&config_json)
        .map_err(|e| bad("adapter_config.json", e.to_string()))?;
    Ok(PeftAdapter {
        config_json,
        safetensors,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_fixture_style_config() {
        let json = r#"{"peft_type":"LORA","r":4,"lora_alpha":8,"target_modules":["value","query"],
            "layers_to_transform":[1],"layers_pattern":null,"bias":"none","use_dora":false,
            "fan_in_fan_out":false,"rank_pattern":{},"alpha_pattern":{},"lora_dropout":0.0,
            "exclude_modules":null,"use_rslora":false}"#;
        let c = parse_adapter_config(json).unwrap();
        assert_eq!(c.r, 4);
        assert_eq!(c.scale(), 2.0);
        assert_eq!(c.layers_to_transform, Some(vec![1]));
        assert_eq!(
            c.targets,
            LoraTargets::Peft(vec!["value".into(), "query".into()])
        );
    }

    #[test]
    fn unsupported_options_name_the_key() {
        let field = |json: &str| match parse_adapter_config(json) {
            Err(CoreError::Adapter { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(field(r#"{"lora_alpha":8}"#), "r");
        assert_eq!(field(r#"{"r":4,"use_dora":true}"#), "use_dora");
        assert_eq!(field(r#"{"r":4,"bias":"all"}"#), "bias");
        assert_eq!(
            field(r#"{"r":4,"target_modules":".*query"}"#),
            "target_modules"
        );
        assert_eq!(
            field(r#"{"r":4,"rank_pattern":{"query":8}}"#),
            "rank_pattern"
        );
        assert_eq!(field(r#"{"r":4,"peft_type":"IA3"}"#), "peft_type");
        assert_eq!(field("[1]"), "adapter_config.json");
        let c =
            parse_adapter_config(r#"{"r":4,"layers_to_transform":0,"use_rslora":true}"#).unwrap();
        assert_eq!(c.layers_to_transform, Some(vec![0]));
        assert_eq!(c.scale(), 4.0);
        assert_eq!(
            c.targets,
            LoraTargets::Peft(vec!["query".into(), "value".into()])
        );
    }
}
