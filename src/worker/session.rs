//! The compute worker's session: what it keeps between jobs (the loaded model and tokenizer,
//! the last table read and the active dataset, the last NTK and the models of the last sweep),
//! behind small functions. The jobs that read and download are in `loading`; a failed
//! load leaves what was here before.

use std::cell::RefCell;

use ntk_lens_core::data::{Dataset, Table};
use ntk_lens_core::experiment::Prepared;
use ntk_lens_core::model::Model;
use ntk_lens_core::ntk::{NtkBlocks, NtkBuilder};
use ntk_lens_core::tokenize::TextTokenizer;

use crate::protocol::loading::{AdapterSummary, ModelSummary};

/// A model ready for analyses.
pub struct LoadedModel {
    /// The encoder (no head unless the checkpoint had one; analyses add
    /// [`ntk_lens_core::model::HeadKind::default_for`] with the dataset's classes).
    pub model: Model,
    /// Its tokenizer, truncating to the setup's max length.
    pub tokenizer: TextTokenizer,
    /// What the page was told about it.
    pub summary: ModelSummary,
    /// The adapter attached to `model`, with the model as it was before (to take it off).
    pub adapter: Option<(AdapterSummary, Model)>,
}

/// The last NTK computed, for the jobs that build on it (eval kernel, sweep, study, radius).
pub struct LastNtk {
    /// The model (head and LoRA attached) and the train and eval samples.
    pub prepared: Prepared,
    /// The blocks: over the train samples, with the cross kernels once the eval kernel is in.
    pub blocks: NtkBlocks,
    /// The builder, while the eval kernel is still to compute.
    pub pending: Option<NtkBuilder>,
}

/// Everything the worker keeps between jobs.
#[derive(Default)]
struct Session {
    /// The model, once one loaded.
    model: Option<LoadedModel>,
    /// The table read last (its columns may not have given a dataset yet), with the name of
    /// its source (bundled id, or file stem).
    table: Option<(Table, String)>,
    /// The active dataset.
    dataset: Option<Dataset>,
    /// The models fine-tuned by the last sweep, with their λ.
    trained: Vec<(f64, Model)>,
    /// The last NTK: its model and samples, its blocks, and the builder that still has the
    /// eval samples' kernels to compute.
    last_ntk: Option<LastNtk>,
}

thread_local! {
    /// The worker's one session.
    static SESSION: RefCell<Session> = RefCell::new(Session::default());
}

/// `f` of the loaded model; `None` when none is loaded.
pub fn with_model<R>(f: impl FnOnce(&LoadedModel) -> R) -> Option<R> {
    SESSION.with(|s| s.borrow().model.as_ref().map(f))
}

/// `f` of the loaded model, which it may change; `None` when none is loaded.
pub fn with_model_mut<R>(f: impl FnOnce(&mut LoadedModel) -> R) -> Option<R> {
    SESSION.with(|s| s.borrow_mut().model.as_mut().map(f))
}

/// Makes `loaded` the model (the last NTK and sweep stay, as before).
pub fn set_model(loaded: LoadedModel) {
    SESSION.with(|s| s.borrow_mut().model = Some(loaded));
}

/// The table read last and the name of its source.
pub fn table() -> Option<(Table, String)> {
    SESSION.with(|s| s.borrow().table.clone())
}

/// Keeps `table` (from the source `name`) as the table read last, and `dataset`, when there is
/// one, as the active dataset (else the previous one stays active).
pub fn set_table(table: Table, name: String, dataset: Option<Dataset>) {
    SESSION.with(|s| {
        let mut s = s.borrow_mut();
        s.table = Some((table, name));
        if let Some(d) = dataset {
            s.dataset = Some(d);
        }
    });
}

/// The active dataset.
pub fn dataset() -> Option<Dataset> {
    SESSION.with(|s| s.borrow().dataset.clone())
}

/// Keeps `last` as the last NTK.
pub fn set_last_ntk(last: LastNtk) {
    SESSION.with(|s| s.borrow_mut().last_ntk = Some(last));
}

/// `f` of the last NTK, which it may change; `None` when there is none.
pub fn with_last_ntk<R>(f: impl FnOnce(&mut LastNtk) -> R) -> Option<R> {
    SESSION.with(|s| s.borrow_mut().last_ntk.as_mut().map(f))
}

/// Keeps the models fine-tuned by a sweep, with their λ.
pub fn set_trained(trained: Vec<(f64, Model)>) {
    SESSION.with(|s| s.borrow_mut().trained = trained);
}

/// The model fine-tuned at the `index`th λ of the last sweep, with its λ.
pub fn trained(index: usize) -> Option<(f64, Model)> {
    SESSION.with(|s| s.borrow().trained.get(index).cloned())
}

/// Drops the last NTK and the sweep's models (they were of another model).
pub fn forget_results() {
    SESSION.with(|s| {
        let mut s = s.borrow_mut();
        s.last_ntk = None;
        s.trained.clear();
    });
}
