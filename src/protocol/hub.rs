//! Hugging Face hub checkpoints: the endpoint (`?hub=`), a repository at a revision
//! (`?model=hub:<repo>@<revision>`), their URLs, the suggestions the Model tab offers, and the
//! probe that reads `config.json` before any weight is downloaded. Pure Rust, unit-tested
//! natively. It imports no other protocol module (`loading` imports it).

use ntk_lens_core::lora::LoraConfig;
use ntk_lens_core::model::{lora_parameter_count, ModelConfig, ParameterCounts};
use serde::{Deserialize, Serialize};

/// The hub the page downloads from unless `?hub=` names another (a mirror).
pub const DEFAULT_HUB: &str = "https://huggingface.co";
/// The pinned Hugging Face revision of distilroberta-base.
pub const DISTILROBERTA_REVISION: &str = "fb53ab8802853c8e4fbdbcd0529f21fc6f459b2b";
/// The Hugging Face repository of distilroberta-base.
pub const DISTILROBERTA_REPO: &str = "distilbert/distilroberta-base";
/// The weights file this tool reads from a hub repository.
pub const HUB_WEIGHTS: &str = "model.safetensors";
/// Longest repository id and revision accepted.
const MAX_ID: usize = 96;

/// A repository at a revision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HubModel {
    /// `owner/name` (or a legacy single name such as `bert-base-uncased`).
    pub repo: String,
    /// A commit, branch or tag.
    pub revision: String,
}

/// A checkpoint the Model tab suggests: a supported family and small enough for a tab.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Suggestion {
    /// The repository.
    pub repo: &'static str,
    /// The revision (pinned where this project has checked the files).
    pub revision: &'static str,
    /// What it is, in a few words.
    pub about: &'static str,
}

/// The suggestions: the design's distilled RoBERTa first, then BERT-family encoders that have
/// `model.safetensors` and `tokenizer.json`.
pub const SUGGESTIONS: [Suggestion; 6] = [
    Suggestion {
        repo: DISTILROBERTA_REPO,
        revision: DISTILROBERTA_REVISION,
        about: "distilled RoBERTa, 6 layers, 82M (331 MB)",
    },
    Suggestion {
        repo: "sentence-transformers/all-MiniLM-L6-v2",
        revision: "1110a243fdf4706b3f48f1d95db1a4f5529b4d41",
        about: "the bundled MiniLM, from the hub, 22.7M (91 MB)",
    },
    Suggestion {
        repo: "sentence-transformers/paraphrase-MiniLM-L3-v2",
        revision: "main",
        about: "MiniLM, 3 layers, 17M (70 MB)",
    },
    Suggestion {
        repo: "sentence-transformers/all-MiniLM-L12-v2",
        revision: "main",
        about: "MiniLM, 12 layers, 33M (134 MB)",
    },
    Suggestion {
        repo: "FacebookAI/roberta-base",
        revision: "main",
        about: "RoBERTa base, 12 layers, 125M (499 MB)",
    },
    Suggestion {
        repo: "google-bert/bert-base-uncased",
        revision: "main",
        about: "BERT base, 12 layers, 110M (440 MB)",
    },
];

fn is_name(part: &str) -> bool {
    !part.is_empty()
        && !part.starts_with(['.', '-'])
        && !part.contains("..")
        && part
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

impl HubModel {
    /// Checks a repository id and revision; the error says what was expected.
    pub fn new(repo: &str, revision: &str) -> Result<HubModel, String> {
        let repo = repo.trim();
        let revision = match revision.trim() {
            "" => "main",
            r => r,
        };
        let parts: Vec<&str> = repo.split('/').collect();
        if repo.len() > MAX_ID || parts.len() > 2 || !parts.iter().all(|p| is_name(p)) {
            return Err(format!(
                "repository `{repo:.100}`: expected owner/name (letters, digits, . _ -), e.g. \
                 {DISTILROBERTA_REPO}"
            ));
        }
        if revision.len() > MAX_ID || !revision.split('/').all(is_name) {
            return Err(format!(
                "revision `{revision:.100}`: expected a commit, branch or tag (letters, digits, \
                 . _ - /), e.g. main"
            ));
        }
        Ok(HubModel {
            repo: repo.to_string(),
            revision: revision.to_string(),
        })
    }

    /// Parses `<repo>@<revision>` (the revision defaults to `main`).
    pub fn parse(text: &str) -> Result<HubModel, String> {
        let (repo, revision) = text.split_once('@').unwrap_or((text, ""));
        HubModel::new(repo, revision)
    }

    /// distilroberta-base at the pinned revision.
    pub fn distilroberta() -> HubModel {
        HubModel {
            repo: DISTILROBERTA_REPO.into(),
            revision: DISTILROBERTA_REVISION.into(),
        }
    }

    /// `<repo>@<revision>`, as the address writes it after `hub:`.
    pub fn key(&self) -> String {
        format!("{}@{}", self.repo, self.revision)
    }

    /// The repository's last name, e.g. `distilroberta-base`.
    pub fn short_name(&self) -> &str {
        self.repo.rsplit('/').next().unwrap_or(&self.repo)
    }

    /// The URL of `file` at this revision on `endpoint`:
    /// `<endpoint>/<repo>/resolve/<revision>/<file>` (a `/` in the revision is escaped, as the
    /// hub expects for branches such as `refs/pr/1`).
    pub fn url(&self, endpoint: &str, file: &str) -> String {
        format!(
            "{}/{}/resolve/{}/{file}",
            endpoint.trim_end_matches('/'),
            self.repo,
            self.revision.replace('/', "%2F")
        )
    }
}

/// Checks a hub endpoint: an `http://` or `https://` URL with a host and no query or
/// fragment. Returns it without a trailing `/`.
pub fn parse_endpoint(text: &str) -> Result<String, String> {
    let text = text.trim();
    let expected = || {
        format!("hub `{text:.100}`: expected an http(s) URL such as {DEFAULT_HUB} or http://127.0.0.1:8080")
    };
    let rest = text
        .strip_prefix("https://")
        .or_else(|| text.strip_prefix("http://"))
        .ok_or_else(expected)?;
    let host = rest.split('/').next().unwrap_or_default();
    let host_ok = !host.is_empty()
        && !host.contains('@')
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'));
    let odd = |c: char| c.is_whitespace() || c.is_control();
    if !host_ok
        || text.len() > 200
        || text.contains(['?', '#', '\\', '"', '<', '>'])
        || text.chars().any(odd)
    {
        return Err(expected());
    }
    Ok(text.trim_end_matches('/').to_string())
}

/// Read a hub repository's `config.json` and the sizes of its files, before downloading
/// weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProbeJob {
    /// The endpoint, checked by [`parse_endpoint`].
    pub endpoint: String,
    /// The repository and revision.
    pub model: HubModel,
}

/// What a probe found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HubProbe {
    /// The job it answers.
    pub job: ProbeJob,
    /// `model_type` as the file says it (also when it is not supported).
    pub model_type: Option<String>,
    /// The architecture, or why this tool cannot run it (unsupported family, a field missing,
    /// a file missing).
    pub config: Result<ModelConfig, String>,
    /// Bytes of `model.safetensors` and `tokenizer.json` as the server states them (`None` when
    /// it does not say).
    pub download_bytes: Option<u64>,
    /// Whether the weights are already in this browser's cache (no download).
    pub cached: bool,
}

impl HubProbe {
    /// The parameter counts `config.json` implies (see [`ParameterCounts::from_config`]).
    pub fn counts(&self) -> Option<ParameterCounts> {
        self.config.as_ref().ok().map(ParameterCounts::from_config)
    }

    /// The download to announce: what the server stated, else 4 bytes (fp32) per parameter.
    pub fn announced_bytes(&self) -> Option<u64> {
        self.download_bytes
            .or_else(|| self.counts().map(|c| 4 * c.total() as u64))
    }

    /// The LoRA parameters `lora` would add, or why not.
    pub fn lora_count(&self, lora: &LoraConfig) -> Result<usize, String> {
        let config = self.config.as_ref().map_err(Clone::clone)?;
        lora_parameter_count(config, lora).map_err(|e| e.to_string())
    }
}

/// Reads `model_type` from a `config.json` whose other fields may be unusable.
pub fn model_type_of(config_json: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(config_json).ok()?;
    value.get("model_type")?.as_str().map(str::to_string)
}

/// The message for a repository whose `model.safetensors` is missing, from which other weight
/// files it has.
pub fn missing_weights_message(model: &HubModel, sharded: bool, pytorch_bin: bool) -> String {
    let what = if sharded {
        "its weights are sharded (model.safetensors.index.json); this tool reads one \
         model.safetensors, which every BERT/RoBERTa-family model that fits in a browser tab has"
    } else if pytorch_bin {
        "it has only PyTorch weights (pytorch_model.bin), which a browser cannot read safely; \
         try the revision of the hub's safetensors conversion (refs/pr/<n>), or convert it and \
         drop the files"
    } else {
        "it has no model.safetensors"
    };
    format!("{} at {}: {what}", model.repo, model.revision)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repositories_and_revisions_are_checked() {
        let m = HubModel::parse("distilbert/distilroberta-base@abc123").unwrap();
        assert_eq!(
            (m.repo.as_str(), m.revision.as_str()),
            ("distilbert/distilroberta-base", "abc123")
        );
        assert_eq!(
            HubModel::parse("bert-base-uncased").unwrap().revision,
            "main"
        );
        assert_eq!(
            HubModel::parse("a/b@refs/pr/1")
                .unwrap()
                .url("http://127.0.0.1:9/", "config.json"),
            "http://127.0.0.1:9/a/b/resolve/refs%2Fpr%2F1/config.json"
        );
        for bad in [
            "",
            "a/b/c",
            "../etc@main",
            "a/..b",
            "a b/c",
            "a/b@..",
            "a/b@x y",
            "/b",
            "a/",
            "a/b@-x",
        ] {
            assert!(HubModel::parse(bad).is_err(), "{bad}");
        }
        assert!(HubModel::parse("a/b@x y")
            .unwrap_err()
            .contains("revision `x y`"));
        assert_eq!(HubModel::distilroberta().short_name(), "distilroberta-base");
        assert_eq!(
            HubModel::distilroberta().url(DEFAULT_HUB, "config.json"),
            "https://huggingface.co/distilbert/distilroberta-base/resolve/fb53ab8802853c8e4fbdbcd0529f21fc6f459b2b/config.json"
        );
        for s in SUGGESTIONS {
            assert_eq!(HubModel::new(s.repo, s.revision).unwrap().repo, s.repo);
        }
    }

    #[test]
    fn endpoints_must_be_http_urls() {
        assert_eq!(
            parse_endpoint("http://127.0.0.1:8123/").unwrap(),
            "http://127.0.0.1:8123"
        );
        assert_eq!(
            parse_endpoint(" https://hf-mirror.com/base ").unwrap(),
            "https://hf-mirror.com/base"
        );
        for bad in [
            "",
            "huggingface.co",
            "ftp://x",
            "javascript:alert(1)",
            "file:///etc",
            "https://",
            "https://user@host",
            "https://x/?q=1",
            "https://x/#f",
            "https://a b",
            // Found by the setup_url fuzzer: control characters inside survived one read and
            // not the next.
            "http://x/a\r\r/",
            "http://x/\u{0}",
        ] {
            let e = parse_endpoint(bad).unwrap_err();
            assert!(e.contains("expected an http(s) URL"), "{bad}: {e}");
        }
    }

    #[test]
    fn probes_count_and_name_what_is_missing() {
        let config = ModelConfig::from_json(
            r#"{"model_type":"roberta","vocab_size":100,"hidden_size":8,"num_hidden_layers":2,
                "num_attention_heads":2,"intermediate_size":16,"max_position_embeddings":20}"#,
        )
        .unwrap();
        let probe = HubProbe {
            job: ProbeJob {
                endpoint: DEFAULT_HUB.into(),
                model: HubModel::distilroberta(),
            },
            model_type: Some("roberta".into()),
            config: Ok(config),
            download_bytes: None,
            cached: false,
        };
        let total = probe.counts().unwrap().total();
        assert_eq!(probe.announced_bytes(), Some(4 * total as u64));
        let qv = LoraConfig::new(2, 4.0, &[ntk_lens_core::lora::LoraModule::Query]);
        assert_eq!(probe.lora_count(&qv), Ok(2 * 2 * (8 + 8)));
        assert_eq!(
            model_type_of(br#"{"model_type":"gpt2","n_layer":1}"#).as_deref(),
            Some("gpt2")
        );
        assert_eq!(model_type_of(b"not json"), None);
        let m = HubModel::parse("x/y@main").unwrap();
        assert!(missing_weights_message(&m, true, true).contains("sharded"));
        assert!(missing_weights_message(&m, false, true).contains("pytorch_model.bin"));
    }
}
