//! The jobs that read and download: a dataset, a model (served, from a hub, or dropped), a
//! hub probe, a PEFT adapter. Each puts what it built into the [`super::session`] only once all
//! of it worked; [`super::fetch`] is their HTTP layer.
//!
//! * [`data`]: the dataset job;
//! * [`model`]: the model job (files → model and tokenizer → session);
//! * [`download`]: a model's files with byte progress, the weights decoded as they arrive;
//! * [`hub`]: the hub probe, hub downloads through the cache, and what a repository lacks;
//! * [`adapter`]: attaching or taking off a PEFT adapter.

pub mod adapter;
pub mod data;
pub mod download;
pub mod hub;
pub mod model;

pub use adapter::load_adapter_job;
pub use data::load_dataset;
pub use hub::probe_hub;
pub use model::load_model_job;
