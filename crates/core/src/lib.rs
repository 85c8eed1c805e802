//! # ntk-lens-core
//!
//! The compute core of ntk-lens: everything that computes, nothing that shows.
//!
//! The data flow of the whole tool is *samples → model with LoRA → per-sample gradients →
//! kernel blocks → spectra → predictions*; each stage is a module of this crate ([`data`] and
//! [`tokenize`], [`model`] and [`lora`], [`ntk`], [`spectrum`], [`linear`] and [`train`]), and
//! [`experiment`] runs them as a person does. The crate knows nothing of the page or the command
//! line: it takes a burn [`Device`](burn::prelude::Device) (CPU through burn-flex, or
//! wgpu/WebGPU) and the shell's limits (e.g. the memory budget of [`ntk::NtkMemory::fit`]), and
//! returns serde-serialisable results.
//!
//! Long computations (the NTK builder, the λ sweep, the layer study, the radius probe, the
//! self-check, fine-tuning) implement one interface, [`steps::Stepwise`]: the caller drives them
//! one step at a time, so a web worker can yield to its event loop between steps (to report
//! progress and to receive a cancel message) and a CLI can simply loop.
//! Everything that reads tensors back to the host is `async`, because WebGPU in a browser can only
//! read back asynchronously; native callers block on the futures with [`block_on`].
//!
//! Runnable examples, each printing a number on a tiny seeded model ([`test_model`]) or kernel:
//! the NTK ([`ntk::NtkBuilder`]), the linearized model's optimum ([`linear::KernelRidge`]), the
//! λ sweep ([`experiment::Sweep`]) and the layer study ([`experiment::Study`]); `cargo test -p
//! ntk-lens-core --doc` runs them.

pub mod data;
pub mod device;
pub mod error;
pub mod experiment;
pub mod linear;
pub mod lora;
pub mod model;
pub mod ntk;
pub mod options;
pub mod parallel;
pub mod readback;
pub mod rng;
pub mod selfcheck;
pub mod spectrum;
pub mod stats;
pub mod steps;
pub mod test_model;
pub mod tokenize;
pub mod train;

#[cfg(test)]
pub(crate) mod test_rng;

pub use burn;
pub use error::CoreError;

/// Runs a future to completion on the current thread (native shells and tests).
///
/// On the CPU backend every read-back future of this crate is ready at once, so this never
/// parks; on native wgpu it waits for the GPU.
#[cfg(not(target_family = "wasm"))]
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    pollster::block_on(future)
}
