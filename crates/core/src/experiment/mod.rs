//! The analyses as a user runs them, shared by the page's worker and the CLI: from a model, a
//! tokenizer and a dataset to the prepared model and samples ([`prepare`]), and from NTK blocks
//! to the serde report every shell shows ([`ntk_report`]).

pub mod correlation;
pub mod needs;
pub mod ntk_report;
pub mod pooled;
pub mod prepare;
pub mod radius;
pub mod study;
pub mod sweep;

pub use correlation::Correlation;
pub use needs::{needs, NtkNeeds, NtkUse};
pub use ntk_report::{BlockSummary, NtkReport};
pub use pooled::{pool, PooledReport, PooledStudy};
pub use prepare::{default_head_kind, prepare, LoraSetup, Prepared, SampleChoice, Samples};
pub use radius::{RadiusConfig, RadiusPoint, RadiusProbe};
pub use study::{
    kappa_correlations, Candidate, StepRule, Strategy, Study, StudyConfig, StudyReport,
};
pub use sweep::{
    linear_point, FinishedSweep, LinearPoint, Sweep, SweepConfig, SweepPoint, SweepReport,
};
