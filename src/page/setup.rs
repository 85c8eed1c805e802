//! The whole user setup (model, data, samples, LoRA, kernel, lambdas, training, blocks) as one
//! value, and its readable query-string form for the page's address and local storage.
//!
//! [`Setup::apply_query`] never fails: an unknown key or a malformed value leaves that field as
//! it was (the default, for [`Setup::from_query`]) and adds a warning for the person who opened
//! the link. Pure Rust (no web-sys), unit-tested natively.

use ntk_lens_core::data::Task;
use ntk_lens_core::experiment::SampleChoice;
use ntk_lens_core::lora::{LoraConfig, LoraModule};
use ntk_lens_core::options::{
    BackendChoice, KernelKind, Layout, LossKind, OptimizerKind, ParamSet, Recipe, SampleMethod,
    SweepStepRule, UnknownValue, MAX_SAMPLES,
};
use ntk_lens_core::tokenize::{DEFAULT_MAX_LEN, MAX_LEN_LIMIT};
use serde::{Deserialize, Serialize};

use crate::protocol::hub::{parse_endpoint, HubModel, DEFAULT_HUB};

/// Which encoder to use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelChoice {
    /// all-MiniLM-L6-v2, served with the page.
    Minilm,
    /// A repository of the hub at a revision (`distilroberta` in older links means
    /// distilroberta-base at the pinned revision).
    Hub(HubModel),
    /// Files the user dropped in (not restorable after a reload).
    Dropped,
}

impl ModelChoice {
    /// The query-string value: `minilm`, `dropped` or `hub:<repo>@<revision>`.
    pub fn key(&self) -> String {
        match self {
            ModelChoice::Minilm => "minilm".into(),
            ModelChoice::Hub(m) => format!("hub:{}", m.key()),
            ModelChoice::Dropped => "dropped".into(),
        }
    }
}

/// Which dataset to use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DataChoice {
    /// A bundled dataset by id (`web/datasets/index.json`), e.g. `uci-yelp`.
    Bundled(String),
    /// A file the user uploaded, by name (its bytes are not kept across reloads).
    Upload(String),
}

impl DataChoice {
    /// The query-string value: the bundled id, or `upload:<file name>`.
    pub fn key(&self) -> String {
        match self {
            DataChoice::Bundled(id) => id.clone(),
            DataChoice::Upload(name) => format!("upload:{name}"),
        }
    }
}

/// The whole setup of the explorer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Setup {
    /// The encoder.
    pub model: ModelChoice,
    /// The hub's base URL (a mirror); `None` = [`DEFAULT_HUB`].
    pub hub: Option<String>,
    /// The dataset.
    pub data: DataChoice,
    /// The text column; `None` = guess from the names.
    pub text_column: Option<String>,
    /// The second text column of sentence pairs.
    pub pair_column: Option<String>,
    /// The label column; `None` = guess from the names.
    pub label_column: Option<String>,
    /// Classification or regression; `None` = the task the label column suggests.
    pub task: Option<Task>,
    /// Fraction of every class held out for evaluation, in (0, 1).
    pub eval_fraction: f64,
    /// Seed of the train/eval split.
    pub split_seed: u64,
    /// How samples are chosen.
    pub sample: SampleMethod,
    /// Seed of the stratified sample.
    pub sample_seed: u64,
    /// Rows picked by hand (dataset row indices), for [`SampleMethod::Picked`].
    pub rows: Vec<usize>,
    /// Number of samples (for first-N and stratified).
    pub n: usize,
    /// Maximum sequence length in tokens.
    pub max_len: usize,
    /// LoRA rank.
    pub lora_r: usize,
    /// LoRA alpha (scale alpha / r).
    pub lora_alpha: f64,
    /// Adapted modules.
    pub lora_targets: Vec<LoraModule>,
    /// Adapted layers; `None` = all.
    pub lora_layers: Option<Vec<usize>>,
    /// Seed of the LoRA `A` init and the new head.
    pub lora_seed: u64,
    /// Plain or sign kernel.
    pub kernel: KernelKind,
    /// Full or class-trace layout.
    pub layout: Layout,
    /// LoRA only, or LoRA and head.
    pub params: ParamSet,
    /// The λ values of a sweep.
    pub lambdas: Vec<f64>,
    /// The λ of the slider.
    pub lambda: f64,
    /// Training steps.
    pub steps: usize,
    /// Optimizer.
    pub optimizer: OptimizerKind,
    /// Loss.
    pub loss: LossKind,
    /// The selective proximal gate of the paper's Eq. 8.
    pub selective: bool,
    /// Step size; 0 = the default (GD: as `step_rule` says, from the NTK; Adam: 1e-3).
    pub learning_rate: f64,
    /// How a sweep's GD chooses each λ's step: one shared step (the default) or one per λ.
    pub step_rule: SweepStepRule,
    /// How the layer study trains each candidate: the theory's full batch or the paper's
    /// recipe.
    pub recipe: Recipe,
    /// Chosen kernel blocks, e.g. `block.1.value`.
    pub blocks: Vec<String>,
    /// Where the worker computes: auto (a hardware GPU that agrees with the CPU), WebGPU or
    /// the CPU.
    pub backend: BackendChoice,
    /// The pinned NTK's setup, as [`Setup::ntk_query`] writes it (compared with the current
    /// NTK in the NTK tab); `None`: nothing pinned.
    pub pin: Option<String>,
}

/// The keys of the settings an NTK depends on (model, data, samples, LoRA, kernel): what
/// [`Setup::ntk_query`] keeps.
const NTK_KEYS: [&str; 22] = [
    "model",
    "hub",
    "data",
    "text",
    "pair",
    "label",
    "task",
    "eval",
    "split_seed",
    "rows",
    "sample_seed",
    "sample",
    "n",
    "max_len",
    "r",
    "alpha",
    "targets",
    "layers",
    "lora_seed",
    "kernel",
    "layout",
    "params",
];

/// The keys of the model and the dataset: they are loaded in their own tabs, so the pinned
/// settings handed back to the current setup leave them out.
const MODEL_AND_DATA_KEYS: [&str; 7] = ["model", "hub", "data", "text", "pair", "label", "task"];

/// The pairs of `query` whose key `keep` accepts, as a query string.
fn query_keeping(query: &str, keep: impl Fn(&str) -> bool) -> String {
    query
        .split('&')
        .filter(|pair| keep(pair.split_once('=').map_or(*pair, |(k, _)| k)))
        .collect::<Vec<_>>()
        .join("&")
}

/// The default bundled dataset.
pub const DEFAULT_DATASET: &str = "uci-yelp";
/// Largest LoRA rank offered.
pub const MAX_RANK: usize = 256;
/// Training steps of the page's default sweep (and of each candidate of the layer study).
pub const DEFAULT_STEPS: usize = 8;
/// Largest number of training steps.
pub const MAX_STEPS: usize = 100_000;

impl Default for Setup {
    fn default() -> Self {
        Setup {
            model: ModelChoice::Minilm,
            hub: None,
            data: DataChoice::Bundled(DEFAULT_DATASET.into()),
            text_column: None,
            pair_column: None,
            label_column: None,
            task: None,
            eval_fraction: 0.2,
            split_seed: 0,
            sample: SampleMethod::Stratified,
            sample_seed: 0,
            rows: Vec::new(),
            n: 32,
            max_len: DEFAULT_MAX_LEN,
            lora_r: 8,
            lora_alpha: 8.0,
            lora_targets: vec![LoraModule::Query, LoraModule::Value],
            lora_layers: None,
            lora_seed: 0,
            kernel: KernelKind::Plain,
            layout: Layout::Full,
            params: ParamSet::Lora,
            // Small, middle and large λ for 8 steps, all with one shared step: the page's
            // default sweep takes about half a minute in one wasm thread (docs/performance.md);
            // the CLI's default is 7 λ × 100. λ = 100 is large against μ_max (about 1.2 on the
            // default 32 Yelp sentences), so that the penalty, not the step, holds the model
            // near θ0: measured (CLI, shared η = 0.0099) gap_train 1.33 / 0.77 / 0.0095.
            lambdas: vec![1e-3, 10.0, 100.0],
            lambda: 1e-2,
            steps: DEFAULT_STEPS,
            optimizer: OptimizerKind::Gd,
            loss: LossKind::Mse,
            selective: false,
            learning_rate: 0.0,
            step_rule: SweepStepRule::Shared,
            recipe: Recipe::Theory,
            blocks: Vec::new(),
            backend: BackendChoice::Auto,
            pin: None,
        }
    }
}

/// Percent-encodes a query value (unreserved characters and `,` `:` `/` `@`, which a query may
/// hold as they are, stay readable).
pub fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z'
            | b'a'..=b'z'
            | b'0'..=b'9'
            | b'-'
            | b'_'
            | b'.'
            | b'~'
            | b','
            | b':'
            | b'/'
            | b'@' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Decodes a query component (`+` is a space, `%XX` a byte); `None` when the result is not
/// UTF-8 or an escape is malformed.
pub fn decode_component(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = s.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

fn list<T>(v: &str, parse: impl Fn(&str) -> Option<T>) -> Option<Vec<T>> {
    v.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(parse)
        .collect()
}

fn join<T: ToString>(items: &[T]) -> String {
    items.iter().map(T::to_string).collect::<Vec<_>>().join(",")
}

/// One of an option's names (the core's [`std::str::FromStr`]); the error lists them.
fn option<T: std::str::FromStr<Err = UnknownValue>>(v: &str) -> Result<T, String> {
    v.parse::<T>()
        .map_err(|e| format!("expected {}", e.expected.join(" or ")))
}

fn whole(v: &str) -> Result<u64, String> {
    v.parse::<u64>()
        .map_err(|_| "expected a whole number".to_string())
}

fn positive_f64(v: &str) -> Option<f64> {
    v.parse::<f64>().ok().filter(|x| x.is_finite() && *x > 0.0)
}

fn in_range(v: &str, lo: usize, hi: usize) -> Option<usize> {
    v.parse::<usize>().ok().filter(|x| (lo..=hi).contains(x))
}

/// Whether `name` is a kernel block name `block.<layer>.<module>`.
pub fn is_block_name(name: &str) -> bool {
    let mut parts = name.splitn(3, '.');
    parts.next() == Some("block")
        && parts.next().is_some_and(|l| l.parse::<usize>().is_ok())
        && parts
            .next()
            .is_some_and(|m| LoraModule::ALL.iter().any(|x| x.short_name() == m))
}

fn non_empty(v: &str) -> Option<Option<String>> {
    let v = v.trim();
    Some((!v.is_empty()).then(|| v.to_string()))
}

impl Setup {
    /// The setup from a query string (with or without the leading `?`), starting from the
    /// defaults; the warnings say what was ignored and why.
    pub fn from_query(query: &str) -> (Setup, Vec<String>) {
        let mut setup = Setup::default();
        let warnings = setup.apply_query(query);
        (setup, warnings)
    }

    /// Overwrites the fields named in `query`. A key that is unknown, or whose value does not
    /// parse or is out of range, changes nothing and gives a warning.
    pub fn apply_query(&mut self, query: &str) -> Vec<String> {
        let mut warnings = Vec::new();
        for pair in query.trim_start_matches('?').split('&') {
            if pair.is_empty() {
                continue;
            }
            let (raw_key, raw_value) = pair.split_once('=').unwrap_or((pair, ""));
            let (Some(key), Some(value)) = (decode_component(raw_key), decode_component(raw_value))
            else {
                warnings.push(format!(
                    "`{pair:.80}`: not a valid query parameter; ignored"
                ));
                continue;
            };
            match self.set(&key, value.trim()) {
                Ok(()) => {}
                Err(_) if self.describe(&key).is_none() => {
                    warnings.push(format!("`{key:.40}={value:.80}`: unknown setting; ignored"))
                }
                Err(expected) => warnings.push(format!(
                    "`{key}={value:.80}`: {expected}; kept {}",
                    self.describe(&key).unwrap_or_default()
                )),
            }
        }
        warnings
    }

    /// Sets one field from its query value; `Err` says what was expected.
    fn set(&mut self, key: &str, v: &str) -> Result<(), String> {
        let bad = |what: &str| Err(format!("expected {what}"));
        match key {
            "model" => match v {
                "minilm" => self.model = ModelChoice::Minilm,
                "distilroberta" => self.model = ModelChoice::Hub(HubModel::distilroberta()),
                "dropped" => self.model = ModelChoice::Dropped,
                _ => match v.strip_prefix("hub:").map(HubModel::parse) {
                    Some(Ok(m)) => self.model = ModelChoice::Hub(m),
                    Some(Err(e)) => return Err(e),
                    None => {
                        return bad("minilm, dropped, distilroberta or hub:<owner/name>@<revision>")
                    }
                },
            },
            "hub" => self.hub = Some(parse_endpoint(v)?),
            "data" => match v.strip_prefix("upload:") {
                Some(name) if !name.trim().is_empty() => {
                    self.data = DataChoice::Upload(name.trim().to_string())
                }
                None if !v.is_empty()
                    && v.bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') =>
                {
                    self.data = DataChoice::Bundled(v.to_string())
                }
                _ => return bad("a bundled dataset id (e.g. uci-yelp) or upload:<file name>"),
            },
            "text" => self.text_column = non_empty(v).unwrap_or_default(),
            "pair" => self.pair_column = non_empty(v).unwrap_or_default(),
            "label" => self.label_column = non_empty(v).unwrap_or_default(),
            "task" => match v.parse::<Task>() {
                Ok(t) => self.task = Some(t),
                Err(_) => return bad("classification or regression"),
            },
            "eval" => match v.parse::<f64>() {
                Ok(x) if x > 0.0 && x < 1.0 => self.eval_fraction = x,
                _ => return bad("a number strictly between 0 and 1"),
            },
            "split_seed" => self.split_seed = whole(v)?,
            "sample" => self.sample = option(v)?,
            "sample_seed" => self.sample_seed = whole(v)?,
            "rows" => match list(v, |s| s.parse::<usize>().ok()) {
                Some(rows) if !rows.is_empty() && rows.len() <= MAX_SAMPLES => {
                    self.sample = SampleMethod::Picked;
                    self.rows = rows;
                }
                _ => return bad(&format!("1 to {MAX_SAMPLES} row numbers, comma-separated")),
            },
            "n" => {
                self.n = in_range(v, 1, MAX_SAMPLES).ok_or(format!("expected 1..={MAX_SAMPLES}"))?
            }
            "max_len" => {
                self.max_len =
                    in_range(v, 3, MAX_LEN_LIMIT).ok_or(format!("expected 3..={MAX_LEN_LIMIT}"))?
            }
            "r" => {
                self.lora_r = in_range(v, 1, MAX_RANK).ok_or(format!("expected 1..={MAX_RANK}"))?
            }
            "alpha" => self.lora_alpha = positive_f64(v).ok_or("expected a positive number")?,
            "targets" => match list(v, LoraModule::parse) {
                Some(mut t) if !t.is_empty() => {
                    t.sort();
                    t.dedup();
                    self.lora_targets = t;
                }
                _ => return bad("module names from query,key,value,attn_out,intermediate,output"),
            },
            "layers" => match v {
                "all" => self.lora_layers = None,
                _ => match list(v, |s| s.parse::<usize>().ok()) {
                    Some(mut l) if !l.is_empty() => {
                        l.sort_unstable();
                        l.dedup();
                        self.lora_layers = Some(l);
                    }
                    _ => return bad("all, or layer numbers such as 0,1,5"),
                },
            },
            "lora_seed" => self.lora_seed = whole(v)?,
            "kernel" => self.kernel = option(v)?,
            "layout" => self.layout = option(v)?,
            "params" => self.params = option(v)?,
            "backend" => self.backend = option(v)?,
            "pin" if v.is_empty() => self.pin = None,
            "pin" => match Setup::from_query(v) {
                (pinned, warnings) if warnings.is_empty() => self.pin = Some(pinned.ntk_query()),
                _ => return bad("the pinned NTK's settings (model=…&n=…&targets=…)"),
            },
            "lambdas" => match list(v, positive_f64) {
                Some(l) if !l.is_empty() && l.len() <= 64 => self.lambdas = l,
                _ => return bad("1 to 64 positive numbers, comma-separated"),
            },
            "lambda" => self.lambda = positive_f64(v).ok_or("expected a positive number")?,
            "steps" => {
                self.steps = in_range(v, 1, MAX_STEPS).ok_or(format!("expected 1..={MAX_STEPS}"))?
            }
            "opt" => self.optimizer = option(v)?,
            "step_rule" => self.step_rule = option(v)?,
            "recipe" => self.recipe = option(v)?,
            "loss" => self.loss = option(v)?,
            "selective" => match v {
                "1" | "true" | "yes" => self.selective = true,
                "0" | "false" | "no" => self.selective = false,
                _ => return bad("1 or 0"),
            },
            "lr" => {
                self.learning_rate = v
                    .parse::<f64>()
                    .ok()
                    .filter(|x| x.is_finite() && *x >= 0.0)
                    .ok_or("expected a number ≥ 0 (0 = the default step)")?
            }
            "blocks" => match list(v, |s| is_block_name(s).then(|| s.to_string())) {
                Some(b) => self.blocks = b,
                None => return bad("block names such as block.1.value, comma-separated"),
            },
            _ => return Err("unknown setting".into()),
        }
        Ok(())
    }

    /// The value of one key as written in the query (unencoded), or `None` for an unknown key.
    fn describe(&self, key: &str) -> Option<String> {
        self.pairs()
            .into_iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| if v.is_empty() { "(none)".into() } else { v })
    }

    /// Every setting as (key, value), in a fixed order.
    fn pairs(&self) -> Vec<(&'static str, String)> {
        let opt = |o: &Option<String>| o.clone().unwrap_or_default();
        let mut out = vec![
            ("model", self.model.key()),
            ("hub", self.hub.clone().unwrap_or_default()),
            ("data", self.data.key()),
            ("text", opt(&self.text_column)),
            ("pair", opt(&self.pair_column)),
            ("label", opt(&self.label_column)),
            ("task", self.task.map(|t| t.to_string()).unwrap_or_default()),
            ("eval", self.eval_fraction.to_string()),
            ("split_seed", self.split_seed.to_string()),
        ];
        // Rows first: `rows=` alone means "picked" (short links), and a `sample=` after them
        // keeps the method when rows were picked for later. Every field is written, so that a
        // setup survives its own address (the setup_url fuzzer's round-trip property).
        out.push(("rows", join(&self.rows)));
        out.push(("sample_seed", self.sample_seed.to_string()));
        out.push(("sample", self.sample.to_string()));
        let targets: Vec<&str> = self.lora_targets.iter().map(|m| m.short_name()).collect();
        out.extend([
            ("n", self.n.to_string()),
            ("max_len", self.max_len.to_string()),
            ("r", self.lora_r.to_string()),
            ("alpha", self.lora_alpha.to_string()),
            ("targets", targets.join(",")),
            (
                "layers",
                self.lora_layers
                    .as_ref()
                    .map_or("all".to_string(), |l| join(l)),
            ),
            ("lora_seed", self.lora_seed.to_string()),
            ("kernel", self.kernel.to_string()),
            ("layout", self.layout.to_string()),
            ("params", self.params.to_string()),
            ("lambdas", join(&self.lambdas)),
            ("lambda", self.lambda.to_string()),
            ("steps", self.steps.to_string()),
            ("opt", self.optimizer.to_string()),
            ("loss", self.loss.to_string()),
            ("selective", if self.selective { "1" } else { "0" }.into()),
            ("lr", self.learning_rate.to_string()),
            ("step_rule", self.step_rule.to_string()),
            ("recipe", self.recipe.to_string()),
            ("blocks", self.blocks.join(",")),
            ("backend", self.backend.to_string()),
            ("pin", self.pin.clone().unwrap_or_default()),
        ]);
        out
    }

    /// The settings an NTK depends on, as a query string: what is pinned for a comparison.
    pub fn ntk_query(&self) -> String {
        let mut only = self.clone();
        only.pin = None;
        query_keeping(&only.to_query(), |k| NTK_KEYS.contains(&k))
    }

    /// Takes the pinned NTK's samples, LoRA and kernel settings (not its model and dataset,
    /// which are loaded in their own tabs); nothing when nothing is pinned.
    pub fn take_pinned_settings(&mut self) {
        if let Some(pinned) = self.pin.clone() {
            // The pin was checked when it was set: it reads back without a warning.
            let _ = self.apply_query(&query_keeping(&pinned, |k| {
                !MODEL_AND_DATA_KEYS.contains(&k)
            }));
        }
    }

    /// The query string (without `?`): every setting, percent-encoded where needed; empty
    /// optional columns, an empty block list and an empty row list are left out.
    pub fn to_query(&self) -> String {
        self.pairs()
            .into_iter()
            .filter(|(k, v)| {
                !(v.is_empty()
                    && matches!(
                        *k,
                        "hub" | "text" | "pair" | "label" | "task" | "blocks" | "rows" | "pin"
                    ))
            })
            .map(|(k, v)| format!("{k}={}", encode_component(&v)))
            .collect::<Vec<_>>()
            .join("&")
    }

    /// The hub to download from: `?hub=` or [`DEFAULT_HUB`].
    pub fn hub_endpoint(&self) -> &str {
        self.hub.as_deref().unwrap_or(DEFAULT_HUB)
    }

    /// The train samples this setup chooses.
    pub fn sample_choice(&self) -> SampleChoice {
        SampleChoice::new(self.sample, self.n, self.sample_seed, &self.rows)
    }

    /// The LoRA configuration of this setup.
    pub fn lora_config(&self) -> LoraConfig {
        let mut c = LoraConfig::new(self.lora_r, self.lora_alpha, &self.lora_targets);
        c.layers_to_transform = self.lora_layers.clone();
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_round_trip_and_read_well() {
        let s = Setup::default();
        let q = s.to_query();
        assert!(
            q.starts_with(
                "model=minilm&data=uci-yelp&eval=0.2&split_seed=0&sample_seed=0&sample=stratified"
            ),
            "{q}"
        );
        assert!(q.contains("&n=32&max_len=128&r=8&alpha=8&targets=query,value&layers=all"));
        assert!(q.contains("&lambdas=0.001,10,100&lambda=0.01&steps=8"));
        assert!(q.contains("&params=lora&"));
        assert_eq!(Setup::from_query(&q), (s.clone(), vec![]));
        assert_eq!(Setup::from_query(""), (s, vec![]));
    }

    #[test]
    fn pinned_setup_keeps_only_what_the_ntk_depends_on_and_is_checked() {
        let pinned = Setup {
            model: ModelChoice::Hub(HubModel::distilroberta()),
            n: 8,
            lora_targets: vec![LoraModule::Query, LoraModule::Key, LoraModule::Value],
            lora_layers: Some(vec![0, 1, 2]),
            steps: 50,
            backend: BackendChoice::Cpu,
            ..Setup::default()
        };
        let q = pinned.ntk_query();
        assert!(q.contains("&n=8&"), "{q}");
        assert!(q.contains("&targets=query,key,value&layers=0,1,2&"), "{q}");
        assert!(
            !q.contains("steps=") && !q.contains("backend=") && !q.contains("pin="),
            "{q}"
        );
        let mut s = Setup::default();
        assert!(s
            .apply_query(&format!("pin={}", encode_component(&q)))
            .is_empty());
        assert_eq!(s.pin.as_deref(), Some(q.as_str()));
        // What an NTK does not depend on is not pinned: the current setup's steps are its own.
        assert_eq!(s.steps, DEFAULT_STEPS);
        // A pin that is not a setup changes nothing and says what was expected.
        let warnings = s.apply_query("pin=n%3Dmany");
        assert_eq!(s.pin.as_deref(), Some(q.as_str()));
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(
            warnings[0].contains("the pinned NTK's settings"),
            "{warnings:?}"
        );
        // Taking the pinned settings takes its samples and LoRA, not its model (loaded in the
        // Model tab), nor what an NTK does not depend on.
        s.steps = 3;
        s.take_pinned_settings();
        assert_eq!((s.n, s.lora_layers.clone()), (8, Some(vec![0, 1, 2])));
        assert_eq!(
            s.lora_targets,
            [LoraModule::Query, LoraModule::Key, LoraModule::Value]
        );
        assert_eq!((s.model.clone(), s.steps), (ModelChoice::Minilm, 3));
        assert!(s.apply_query("pin=").is_empty());
        assert_eq!(s.pin, None);
        s.take_pinned_settings();
        assert_eq!(s.n, 8);
    }

    #[test]
    fn every_field_round_trips() {
        let s = Setup {
            model: ModelChoice::Hub(HubModel::parse("org/tiny-roberta@refs/pr/2").unwrap()),
            hub: Some("http://127.0.0.1:8123".into()),
            data: DataChoice::Upload("my reviews (v2)&co.csv".into()),
            text_column: Some("review text".into()),
            pair_column: Some("hypothesis".into()),
            label_column: Some("Sentiment".into()),
            task: Some(Task::Regression),
            eval_fraction: 0.35,
            split_seed: 17,
            sample: SampleMethod::Picked,
            sample_seed: 0,
            rows: vec![3, 1, 40],
            n: 12,
            max_len: 64,
            lora_r: 4,
            lora_alpha: 0.5,
            lora_targets: vec![LoraModule::Key, LoraModule::Output],
            lora_layers: Some(vec![0, 5]),
            lora_seed: 99,
            kernel: KernelKind::Sign,
            layout: Layout::Trace,
            params: ParamSet::LoraAndHead,
            lambdas: vec![0.5, 2.0],
            lambda: 3.25,
            steps: 7,
            optimizer: OptimizerKind::Adam,
            loss: LossKind::Ce,
            selective: true,
            learning_rate: 2.5e-4,
            step_rule: SweepStepRule::PerLambda,
            recipe: Recipe::Paper,
            blocks: vec!["block.1.value".into(), "block.0.query".into()],
            backend: BackendChoice::Cpu,
            pin: Some(
                Setup {
                    data: DataChoice::Upload("a&b.csv".into()),
                    lora_layers: Some(vec![3, 4, 5]),
                    ..Setup::default()
                }
                .ntk_query(),
            ),
        };
        let q = s.to_query();
        assert!(
            q.contains("data=upload:my%20reviews%20%28v2%29%26co.csv"),
            "{q}"
        );
        assert!(q.contains("params=lora%2Bhead"), "{q}");
        assert!(
            q.starts_with("model=hub:org/tiny-roberta@refs/pr/2&hub=http://127.0.0.1:8123&"),
            "{q}"
        );
        assert_eq!(Setup::from_query(&format!("?{q}")), (s.clone(), vec![]));
        let stratified = Setup {
            sample: SampleMethod::Stratified,
            sample_seed: 5,
            rows: vec![],
            ..s
        };
        assert_eq!(
            Setup::from_query(&stratified.to_query()),
            (stratified, vec![])
        );
        // Found by the setup_url fuzzer: picked with no rows yet (the query leaves `rows` out and
        // reads back without a warning), and a seed or rows kept for another method.
        for q in [
            "sample=picked",
            "sample=picked&rows=3,1&sample_seed=5",
            "rows=3,1,40&sample=stratified",
        ] {
            let s = Setup::from_query(q).0;
            assert_eq!(Setup::from_query(&s.to_query()), (s, vec![]), "{q}");
        }
        assert_eq!(Setup::from_query("rows=0,1").0.sample, SampleMethod::Picked);
        let (first, w) = Setup::from_query("sample=first&n=8&params=lora+head");
        assert_eq!(first.sample, SampleMethod::First);
        assert_eq!(first.params, ParamSet::LoraAndHead);
        assert!(w.is_empty(), "{w:?}");
    }

    #[test]
    fn malformed_values_fall_back_with_warnings() {
        let q = "model=gpt9&n=0&r=abc&alpha=-1&eval=1.5&targets=query,bogus&lambdas=1,,x\
                 &layers=one&kernel=&blocks=block.x.value&wat=1&max_len=100000&backend=cpu\
                 &data=../etc&lr=NaN&steps=-3&%ZZ=1&sample=random&rows=";
        let (s, w) = Setup::from_query(q);
        // `backend=cpu` is a valid setting; everything else falls back.
        assert_eq!(
            s,
            Setup {
                backend: BackendChoice::Cpu,
                ..Setup::default()
            }
        );
        let keys = [
            "model=gpt9",
            "n=0",
            "r=abc",
            "alpha=-1",
            "eval=1.5",
            "targets=",
            "lambdas=",
            "layers=one",
            "kernel=",
            "blocks=",
            "wat=1",
            "max_len=",
            "data=",
            "lr=NaN",
            "steps=-3",
            "%ZZ=1",
            "sample=random",
            "rows=",
        ];
        assert_eq!(w.len(), keys.len(), "{w:#?}");
        for k in keys {
            assert!(
                w.iter().any(|m| m.contains(k)),
                "no warning for {k}: {w:#?}"
            );
        }
        assert!(
            w[0].contains(
                "expected minilm, dropped, distilroberta or hub:<owner/name>@<revision>; kept minilm"
            ),
            "{}",
            w[0]
        );
        // A bad value keeps what was set before it.
        let (s, w) = Setup::from_query("r=4&r=0&n=10");
        assert_eq!((s.lora_r, s.n), (4, 10));
        assert_eq!(w.len(), 1);
        assert!(w[0].contains("kept 4"), "{w:?}");
    }

    #[test]
    fn hub_models_and_endpoints_in_the_address() {
        let (s, w) = Setup::from_query(
            "model=hub:sentence-transformers/all-MiniLM-L12-v2&hub=https://hf-mirror.com/",
        );
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(
            s.model,
            ModelChoice::Hub(HubModel {
                repo: "sentence-transformers/all-MiniLM-L12-v2".into(),
                revision: "main".into()
            })
        );
        assert_eq!(s.hub_endpoint(), "https://hf-mirror.com");
        assert_eq!(Setup::default().hub_endpoint(), "https://huggingface.co");
        let (s, w) = Setup::from_query("model=hub:../x@main&hub=javascript:alert(1)");
        assert_eq!((s.model, s.hub), (ModelChoice::Minilm, None));
        assert_eq!(w.len(), 2, "{w:?}");
        assert!(
            w[0].contains("repository `../x`: expected owner/name"),
            "{w:?}"
        );
        assert!(w[1].contains("expected an http(s) URL"), "{w:?}");
    }

    #[test]
    fn later_queries_override_earlier_ones() {
        // Local storage first, then the address: the address wins key by key.
        let mut s = Setup::from_query("r=4&n=10&data=uci-imdb").0;
        let w = s.apply_query("?n=20&model=distilroberta");
        assert!(w.is_empty());
        assert_eq!(
            (s.lora_r, s.n, &s.model),
            (4, 20, &ModelChoice::Hub(HubModel::distilroberta()))
        );
        assert_eq!(s.data, DataChoice::Bundled("uci-imdb".into()));
    }

    #[test]
    fn components_and_blocks() {
        assert_eq!(decode_component("a+b%2Bc%C3%A9"), Some("a b+cé".into()));
        assert_eq!(decode_component("%"), None);
        assert_eq!(decode_component("%FF"), None);
        assert_eq!(encode_component("é ,:"), "%C3%A9%20,:");
        assert!(is_block_name("block.11.attn_out"));
        assert!(!is_block_name("block.1.pooler"));
        assert!(!is_block_name("blocks.1.value"));
        let c = Setup::default().lora_config();
        assert_eq!(c.r, 8);
        assert_eq!(
            c.scale(),
            1.0,
            "alpha = r = 8: the official code's scale, and the CLI's default"
        );
    }
}
