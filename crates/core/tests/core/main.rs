//! The core's integration tests in one binary (one link of burn and faer instead of twelve):
//! models against transformers, LoRA against PEFT, NTKs against torch.func, training against
//! PyTorch, datasets against their bad-input corpus (`tests/data/bad`). Each module is one
//! subject; `common` reads the reference fixtures (`tests/fixtures`).
#![cfg(not(target_family = "wasm"))]

mod common;

mod bundled_datasets;
mod data_bad_inputs;
mod data_props;
mod fp16_weights;
mod lora_jacobian;
mod metrics_fixture;
mod model_fixtures;
mod ntk_fixtures;
mod select_fixture;
mod spectrum_fixtures;
mod sweep_fixture;
mod tokenize_fixtures;
mod train_fixtures;
