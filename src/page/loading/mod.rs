//! The jobs that load what the analyses run on: the backend, the model (from the page, the hub
//! or dropped files), a hub repository's description, a PEFT adapter and the dataset. One
//! module per job: its spec, its handle (slot and what it keeps for a worker restart), how it
//! starts and what its result changes.

crate::page::registry::register_jobs!(Loading {
    backend => BackendSwitch,
    model => ModelLoad,
    probe => HubProbeJob,
    adapter => AdapterLoad,
    data => DataLoad,
});

/// Dropped files: their names and bytes (kept for a worker restart).
#[cfg(target_arch = "wasm32")]
pub type DroppedFiles = (Vec<String>, Vec<js_sys::Uint8Array>);
