//! Keeps the [`Setup`] in the page's address (`history.replaceState`) and in local storage, and
//! restores it at start: local storage first, then the address, key by key (the address wins).
//! Also keeps the pinned NTK's numbers ([`Pinned`]) in local storage.

use leptos::prelude::*;
use ntk_lens_core::data::BundledIndex;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use super::pin::{self, Pinned};
use super::setup::Setup;

/// The local-storage key of the setup's query string.
const STORAGE_KEY: &str = "ntk-lens-setup";

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

fn search() -> String {
    web_sys::window()
        .and_then(|w| w.location().search().ok())
        .unwrap_or_default()
}

/// The setup at start, and warnings about what in the address could not be used.
pub fn restore() -> (Setup, Vec<String>) {
    let mut setup = Setup::default();
    if let Some(saved) = storage().and_then(|s| s.get_item(STORAGE_KEY).ok().flatten()) {
        // What was saved was written by this page; a stale key is not the user's concern.
        let _ = setup.apply_query(&saved);
    }
    let warnings = setup.apply_query(&search());
    (setup, warnings)
}

/// Writes the setup to the address and local storage whenever it changes.
pub fn keep(setup: RwSignal<Setup>) {
    Effect::new(move |_| {
        let query = setup.with(|s| s.to_query());
        if let Some(s) = storage() {
            let _ = s.set_item(STORAGE_KEY, &query);
        }
        if let Some(history) = web_sys::window().and_then(|w| w.history().ok()) {
            let _ = history.replace_state_with_url(
                &wasm_bindgen::JsValue::NULL,
                "",
                Some(&format!("?{query}")),
            );
        }
    });
}

/// The pinned NTK kept in local storage (`None` when absent or unreadable: it was written by
/// this page, and an older format is simply not shown).
pub fn load_pinned() -> Option<Pinned> {
    let text = storage()?.get_item(pin::STORAGE_KEY).ok().flatten()?;
    serde_json::from_str(&text).ok()
}

/// Keeps `pinned` in local storage, or forgets the one kept (`None`).
pub fn save_pinned(pinned: Option<&Pinned>) {
    let Some(s) = storage() else { return };
    let _ = match pinned.and_then(|p| serde_json::to_string(p).ok()) {
        Some(text) => s.set_item(pin::STORAGE_KEY, &text),
        None => s.remove_item(pin::STORAGE_KEY),
    };
}

/// Fetches `datasets/index.json` into `index` (left `None`, with a console note, on failure).
pub fn fetch_index(index: RwSignal<Option<BundledIndex>>) {
    wasm_bindgen_futures::spawn_local(async move {
        let text = async {
            let window = web_sys::window()?;
            let response: web_sys::Response =
                JsFuture::from(window.fetch_with_str("./datasets/index.json"))
                    .await
                    .ok()?
                    .dyn_into()
                    .ok()?;
            JsFuture::from(response.text().ok()?)
                .await
                .ok()?
                .as_string()
        }
        .await;
        match text.as_deref().map(BundledIndex::from_json) {
            Some(Ok(i)) => index.set(Some(i)),
            other => web_sys::console::error_1(
                &format!("datasets/index.json could not be read: {other:?}").into(),
            ),
        }
    });
}
