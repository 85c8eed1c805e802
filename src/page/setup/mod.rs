//! The whole user setup as typed sections, and its readable query-string form for the page's
//! address and local storage. Each section owns its address keys, defaults, limits and
//! validation ([`Section`]); the setup only dispatches keys to sections and keeps their order.
//!
//! | section | keys | what it makes for the worker |
//! |---|---|---|
//! | [`ModelSection`] | model, hub | the model job's source |
//! | [`DataSection`] | data, text, pair, label, task, eval, split_seed | the dataset job |
//! | [`SampleSection`] | rows, sample_seed, sample, n, max_len | the core's `SampleChoice` |
//! | [`LoraSection`] | r, alpha, targets, layers, lora_seed | the core's `LoraSetup` |
//! | [`KernelSection`] | kernel, layout, params | the core's `NtkOptions` |
//! | [`TrainingSection`] | lambdas, lambda, steps, opt, loss, selective, lr, step_rule, recipe | the core's `SweepConfig` |
//! | [`WorkspaceSection`] | blocks, backend, pin | (the page's own) |
//!
//! The sections are the page's own types rather than the protocol's payloads because the
//! address keeps what a payload cannot: rows picked for later while another sample method is
//! chosen, and settings of analyses other than the one started.
//!
//! [`Setup::apply_query`] never fails: an unknown key or a malformed value leaves that field as
//! it was (the default, for [`Setup::from_query`]) and adds a warning for the person who opened
//! the link. Pure Rust (no web-sys), unit-tested natively.

mod data;
mod kernel;
mod lora;
mod model;
mod query;
mod samples;
mod training;
mod workspace;

use serde::{Deserialize, Serialize};

pub use data::{DataChoice, DataSection, DEFAULT_DATASET};
pub use kernel::KernelSection;
pub use lora::{LoraSection, MAX_RANK};
pub use model::{ModelChoice, ModelSection};
pub use query::{decode_component, encode_component, is_block_name};
pub use samples::SampleSection;
pub use training::{parse_lambdas, TrainingSection, DEFAULT_STEPS, MAX_LAMBDAS, MAX_STEPS};
pub use workspace::WorkspaceSection;

/// One part of the setup: its address keys, defaults ([`Default`]) and validation, written
/// once.
pub trait Section {
    /// Its keys, in the order the address writes them.
    const KEYS: &'static [&'static str];
    /// Its keys left out of the address when their value is empty.
    const OMIT_EMPTY: &'static [&'static str] = &[];
    /// Sets one of its [`Self::KEYS`] from its (decoded, trimmed) value; `Err` says what was
    /// expected, and nothing changes.
    fn set(&mut self, key: &str, value: &str) -> Result<(), String>;
    /// Every key with its value, in [`Self::KEYS`] order (so that a setup survives its own
    /// address: the setup_url fuzzer's round-trip property).
    fn pairs(&self) -> Vec<(&'static str, String)>;
}

/// The whole setup of the explorer.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Setup {
    /// The encoder.
    pub model: ModelSection,
    /// The dataset, its columns and split.
    pub data: DataSection,
    /// The train samples.
    pub samples: SampleSection,
    /// The fresh LoRA adapters.
    pub lora: LoraSection,
    /// The kernel.
    pub kernel: KernelSection,
    /// Fine-tuning.
    pub training: TrainingSection,
    /// Chosen blocks, backend, pin.
    pub workspace: WorkspaceSection,
}

/// Calls `$f!(field, Type)` for every section, in address order.
macro_rules! for_each_section {
    ($f:ident) => {
        $f!(model, ModelSection);
        $f!(data, DataSection);
        $f!(samples, SampleSection);
        $f!(lora, LoraSection);
        $f!(kernel, KernelSection);
        $f!(training, TrainingSection);
        $f!(workspace, WorkspaceSection);
    };
}

/// The keys of the settings an NTK depends on (model, data, samples, LoRA, kernel): what
/// [`Setup::ntk_query`] keeps.
fn is_ntk_key(key: &str) -> bool {
    [
        ModelSection::KEYS,
        DataSection::KEYS,
        SampleSection::KEYS,
        LoraSection::KEYS,
        KernelSection::KEYS,
    ]
    .iter()
    .any(|keys| keys.contains(&key))
}

/// The keys of the model and the dataset: they are loaded in their own tabs, so the pinned
/// settings handed back to the current setup leave them out.
fn is_model_or_data_key(key: &str) -> bool {
    ModelSection::KEYS.contains(&key) || DataSection::KEYS.contains(&key)
}

/// The pairs of `query` whose key `keep` accepts, as a query string.
fn query_keeping(query: &str, keep: impl Fn(&str) -> bool) -> String {
    query
        .split('&')
        .filter(|pair| keep(pair.split_once('=').map_or(*pair, |(k, _)| k)))
        .collect::<Vec<_>>()
        .join("&")
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
                Err(None) => {
                    warnings.push(format!("`{key:.40}={value:.80}`: unknown setting; ignored"))
                }
                Err(Some(expected)) => warnings.push(format!(
                    "`{key}={value:.80}`: {expected}; kept {}",
                    self.describe(&key).unwrap_or_default()
                )),
            }
        }
        warnings
    }

    /// Sets one key in the section that owns it; `Err(None)`: no section does, `Err(Some)`:
    /// what was expected.
    fn set(&mut self, key: &str, v: &str) -> Result<(), Option<String>> {
        macro_rules! try_section {
            ($field:ident, $ty:ty) => {
                if <$ty>::KEYS.contains(&key) {
                    return self.$field.set(key, v).map_err(Some);
                }
            };
        }
        for_each_section!(try_section);
        Err(None)
    }

    /// The value of one key as written in the query (unencoded), or `None` for an unknown key.
    fn describe(&self, key: &str) -> Option<String> {
        self.pairs()
            .into_iter()
            .find(|(k, _, _)| *k == key)
            .map(|(_, v, _)| if v.is_empty() { "(none)".into() } else { v })
    }

    /// Every setting as (key, value, left out when empty), in a fixed order.
    fn pairs(&self) -> Vec<(&'static str, String, bool)> {
        let mut out = Vec::new();
        macro_rules! add_section {
            ($field:ident, $ty:ty) => {
                out.extend(
                    self.$field
                        .pairs()
                        .into_iter()
                        .map(|(k, v)| (k, v, <$ty>::OMIT_EMPTY.contains(&k))),
                );
            };
        }
        for_each_section!(add_section);
        out
    }

    /// The settings an NTK depends on, as a query string: what is pinned for a comparison.
    pub fn ntk_query(&self) -> String {
        let mut only = self.clone();
        only.workspace.pin = None;
        query_keeping(&only.to_query(), is_ntk_key)
    }

    /// Takes the pinned NTK's samples, LoRA and kernel settings (not its model and dataset,
    /// which are loaded in their own tabs); nothing when nothing is pinned.
    pub fn take_pinned_settings(&mut self) {
        if let Some(pinned) = self.workspace.pin.clone() {
            // The pin was checked when it was set: it reads back without a warning.
            let _ = self.apply_query(&query_keeping(&pinned, |k| !is_model_or_data_key(k)));
        }
    }

    /// The query string (without `?`): every setting, percent-encoded where needed; the
    /// optional ones (columns, hub, rows, blocks, pin) are left out when empty.
    pub fn to_query(&self) -> String {
        self.pairs()
            .into_iter()
            .filter(|(_, v, omit_empty)| !(v.is_empty() && *omit_empty))
            .map(|(k, v, _)| format!("{k}={}", encode_component(&v)))
            .collect::<Vec<_>>()
            .join("&")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::hub::HubModel;
    use ntk_lens_core::data::Task;
    use ntk_lens_core::lora::LoraModule;
    use ntk_lens_core::options::{
        BackendChoice, KernelKind, Layout, LossKind, OptimizerKind, ParamSet, Recipe, SampleMethod,
        SweepStepRule,
    };

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
        let mut pinned = Setup::default();
        pinned.model.choice = ModelChoice::Hub(HubModel::distilroberta());
        pinned.samples.n = 8;
        pinned.lora.targets = vec![LoraModule::Query, LoraModule::Key, LoraModule::Value];
        pinned.lora.layers = Some(vec![0, 1, 2]);
        pinned.training.steps = 50;
        pinned.workspace.backend = BackendChoice::Cpu;
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
        assert_eq!(s.workspace.pin.as_deref(), Some(q.as_str()));
        // What an NTK does not depend on is not pinned: the current setup's steps are its own.
        assert_eq!(s.training.steps, DEFAULT_STEPS);
        // A pin that is not a setup changes nothing and says what was expected.
        let warnings = s.apply_query("pin=n%3Dmany");
        assert_eq!(s.workspace.pin.as_deref(), Some(q.as_str()));
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(
            warnings[0].contains("the pinned NTK's settings"),
            "{warnings:?}"
        );
        // Taking the pinned settings takes its samples and LoRA, not its model (loaded in the
        // Model tab), nor what an NTK does not depend on.
        s.training.steps = 3;
        s.take_pinned_settings();
        assert_eq!(
            (s.samples.n, s.lora.layers.clone()),
            (8, Some(vec![0, 1, 2]))
        );
        assert_eq!(
            s.lora.targets,
            [LoraModule::Query, LoraModule::Key, LoraModule::Value]
        );
        assert_eq!(
            (s.model.choice.clone(), s.training.steps),
            (ModelChoice::Minilm, 3)
        );
        assert!(s.apply_query("pin=").is_empty());
        assert_eq!(s.workspace.pin, None);
        s.take_pinned_settings();
        assert_eq!(s.samples.n, 8);
    }

    #[test]
    fn every_field_round_trips() {
        let mut pin = Setup::default();
        pin.data.choice = DataChoice::Upload("a&b.csv".into());
        pin.lora.layers = Some(vec![3, 4, 5]);
        let s = Setup {
            model: ModelSection {
                choice: ModelChoice::Hub(HubModel::parse("org/tiny-roberta@refs/pr/2").unwrap()),
                hub: Some("http://127.0.0.1:8123".into()),
            },
            data: DataSection {
                choice: DataChoice::Upload("my reviews (v2)&co.csv".into()),
                text_column: Some("review text".into()),
                pair_column: Some("hypothesis".into()),
                label_column: Some("Sentiment".into()),
                task: Some(Task::Regression),
                eval_fraction: 0.35,
                split_seed: 17,
            },
            samples: SampleSection {
                method: SampleMethod::Picked,
                seed: 0,
                rows: vec![3, 1, 40],
                n: 12,
                max_len: 64,
            },
            lora: LoraSection {
                r: 4,
                alpha: 0.5,
                targets: vec![LoraModule::Key, LoraModule::Output],
                layers: Some(vec![0, 5]),
                seed: 99,
            },
            kernel: KernelSection {
                kind: KernelKind::Sign,
                layout: Layout::Trace,
                params: ParamSet::LoraAndHead,
            },
            training: TrainingSection {
                lambdas: vec![0.5, 2.0],
                lambda: 3.25,
                steps: 7,
                optimizer: OptimizerKind::Adam,
                loss: LossKind::Ce,
                selective: true,
                learning_rate: 2.5e-4,
                step_rule: SweepStepRule::PerLambda,
                recipe: Recipe::Paper,
            },
            workspace: WorkspaceSection {
                blocks: vec!["block.1.value".into(), "block.0.query".into()],
                backend: BackendChoice::Cpu,
                pin: Some(pin.ntk_query()),
            },
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
        let mut stratified = s;
        stratified.samples = SampleSection {
            method: SampleMethod::Stratified,
            seed: 5,
            rows: vec![],
            ..stratified.samples
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
        assert_eq!(
            Setup::from_query("rows=0,1").0.samples.method,
            SampleMethod::Picked
        );
        let (first, w) = Setup::from_query("sample=first&n=8&params=lora+head");
        assert_eq!(first.samples.method, SampleMethod::First);
        assert_eq!(first.kernel.params, ParamSet::LoraAndHead);
        assert!(w.is_empty(), "{w:?}");
    }

    #[test]
    fn malformed_values_fall_back_with_warnings() {
        let q = "model=gpt9&n=0&r=abc&alpha=-1&eval=1.5&targets=query,bogus&lambdas=1,,x\
                 &layers=one&kernel=&blocks=block.x.value&wat=1&max_len=100000&backend=cpu\
                 &data=../etc&lr=NaN&steps=-3&%ZZ=1&sample=random&rows=";
        let (s, w) = Setup::from_query(q);
        // `backend=cpu` is a valid setting; everything else falls back.
        let mut expected = Setup::default();
        expected.workspace.backend = BackendChoice::Cpu;
        assert_eq!(s, expected);
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
        assert_eq!((s.lora.r, s.samples.n), (4, 10));
        assert_eq!(w.len(), 1);
        assert!(w[0].contains("kept 4"), "{w:?}");
    }

    #[test]
    fn the_address_and_the_text_boxes_share_one_limit_per_setting() {
        let twenty = vec!["0.5"; MAX_LAMBDAS].join(",");
        let many = vec!["0.5"; MAX_LAMBDAS + 1].join(",");
        assert_eq!(parse_lambdas(&twenty).map(|l| l.len()), Ok(MAX_LAMBDAS));
        assert_eq!(
            parse_lambdas(&many),
            Err(format!("at most {MAX_LAMBDAS} values"))
        );
        assert_eq!(parse_lambdas(" , "), Err("give at least one λ".to_string()));
        assert_eq!(
            parse_lambdas("1,-2"),
            Err("`-2` is not a number > 0".to_string())
        );
        let (s, w) = Setup::from_query(&format!("lambdas={twenty}&steps={MAX_STEPS}"));
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(
            (s.training.lambdas.len(), s.training.steps),
            (MAX_LAMBDAS, MAX_STEPS)
        );
        let (s, w) = Setup::from_query(&format!("lambdas={many}&steps={}", MAX_STEPS + 1));
        assert_eq!(s.training, TrainingSection::default());
        assert_eq!(w.len(), 2, "{w:?}");
        assert!(w[0].contains("expected 1 to 20 positive numbers"), "{w:?}");
        assert!(w[1].contains("expected 1..=2000"), "{w:?}");
    }

    #[test]
    fn hub_models_and_endpoints_in_the_address() {
        let (s, w) = Setup::from_query(
            "model=hub:sentence-transformers/all-MiniLM-L12-v2&hub=https://hf-mirror.com/",
        );
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(
            s.model.choice,
            ModelChoice::Hub(HubModel {
                repo: "sentence-transformers/all-MiniLM-L12-v2".into(),
                revision: "main".into()
            })
        );
        assert_eq!(s.model.hub_endpoint(), "https://hf-mirror.com");
        assert_eq!(
            Setup::default().model.hub_endpoint(),
            "https://huggingface.co"
        );
        let (s, w) = Setup::from_query("model=hub:../x@main&hub=javascript:alert(1)");
        assert_eq!((s.model.choice, s.model.hub), (ModelChoice::Minilm, None));
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
            (s.lora.r, s.samples.n, &s.model.choice),
            (4, 20, &ModelChoice::Hub(HubModel::distilroberta()))
        );
        assert_eq!(s.data.choice, DataChoice::Bundled("uci-imdb".into()));
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
        let c = Setup::default().lora.config();
        assert_eq!(c.r, 8);
        assert_eq!(
            c.scale(),
            1.0,
            "alpha = r = 8: the official code's scale, and the CLI's default"
        );
    }
}
