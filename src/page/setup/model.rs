//! The model section: which encoder (`model`) and the hub it downloads from (`hub`).

use serde::{Deserialize, Serialize};

use super::Section;
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

/// The encoder and where hub models come from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ModelSection {
    /// The encoder.
    pub choice: ModelChoice,
    /// The hub's base URL (a mirror); `None` = [`DEFAULT_HUB`].
    pub hub: Option<String>,
}

impl Default for ModelSection {
    fn default() -> Self {
        ModelSection {
            choice: ModelChoice::Minilm,
            hub: None,
        }
    }
}

impl ModelSection {
    /// The hub to download from: `?hub=` or [`DEFAULT_HUB`].
    pub fn hub_endpoint(&self) -> &str {
        self.hub.as_deref().unwrap_or(DEFAULT_HUB)
    }
}

impl Section for ModelSection {
    const KEYS: &'static [&'static str] = &["model", "hub"];
    const OMIT_EMPTY: &'static [&'static str] = &["hub"];

    fn set(&mut self, key: &str, v: &str) -> Result<(), String> {
        match key {
            "model" => match v {
                "minilm" => self.choice = ModelChoice::Minilm,
                "distilroberta" => self.choice = ModelChoice::Hub(HubModel::distilroberta()),
                "dropped" => self.choice = ModelChoice::Dropped,
                _ => match v.strip_prefix("hub:").map(HubModel::parse) {
                    Some(Ok(m)) => self.choice = ModelChoice::Hub(m),
                    Some(Err(e)) => return Err(e),
                    None => {
                        return Err("expected minilm, dropped, distilroberta or \
                                    hub:<owner/name>@<revision>"
                            .into())
                    }
                },
            },
            _ => self.hub = Some(parse_endpoint(v)?),
        }
        Ok(())
    }

    fn pairs(&self) -> Vec<(&'static str, String)> {
        vec![
            ("model", self.choice.key()),
            ("hub", self.hub.clone().unwrap_or_default()),
        ]
    }
}
