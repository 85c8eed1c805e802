//! The page: a Leptos (CSR) app that shows the analyses and sends jobs to the compute worker.
//!
//! * [`setup`]: everything the person chose, as one value and as the page's address;
//! * [`jobs`]: the jobs that setup describes; [`pin`]: a pinned NTK to compare with;
//!   [`job_state`]: the life of a job as the page shows it; [`format`], [`adapter_zip`]: small
//!   pure helpers;
//! * `app` (the shell: header, tabs), `compute` (the handle on the worker: one slot per job),
//!   `bridge` (spawning and talking to the worker), `persist` (address and local storage),
//!   `tab`, `views` (one module per panel): wasm only.

pub mod adapter_zip;
pub mod format;
pub mod job_state;
pub mod jobs;
pub mod pin;
pub mod setup;

#[cfg(target_arch = "wasm32")]
mod app;
#[cfg(target_arch = "wasm32")]
mod bridge;
#[cfg(target_arch = "wasm32")]
mod compute;
#[cfg(target_arch = "wasm32")]
mod persist;
#[cfg(target_arch = "wasm32")]
mod tab;
#[cfg(target_arch = "wasm32")]
mod views;

#[cfg(target_arch = "wasm32")]
pub use app::App;
