//! Reading a dataset in the worker (bundled, uploaded, or the table read last with other
//! columns); the dataset built from it becomes active and its columns are written to the setup.
//! Reading does not use the device: it runs beside the analyses.

use crate::page::registry::{ResultKind, Spec};

/// Reading a dataset.
pub const SPEC: Spec = Spec {
    uses_device: false,
    ..Spec::device("reading the dataset", ResultKind::Dataset)
};

#[cfg(target_arch = "wasm32")]
pub use handle::DataLoad;

#[cfg(target_arch = "wasm32")]
mod handle {
    use js_sys::Uint8Array;
    use leptos::prelude::*;
    use ntk_lens_core::data::{BundledIndex, ColumnChoice};

    use crate::page::compute::{JobSlot, Registered};
    use crate::page::job_state::JobState;
    use crate::page::registry::Spec;
    use crate::page::setup::{DataChoice, DEFAULT_DATASET};
    use crate::page::Page;
    use crate::protocol::loading::{DataJob, DataReport, DataSource, DatasetSummary, TableSummary};
    use crate::protocol::{Job, JobResult};

    /// The dataset's slot (its last result: the last table read) and the active dataset.
    #[derive(Clone, Copy)]
    pub struct DataLoad {
        /// Reading.
        pub slot: JobSlot<DataReport>,
        /// The bundled datasets (`datasets/index.json`), once fetched.
        pub index: RwSignal<Option<BundledIndex>>,
        /// The table read last.
        pub table: RwSignal<Option<TableSummary>>,
        /// The active dataset (the last that was built).
        pub dataset: RwSignal<Option<DatasetSummary>>,
        /// Why the last dataset attempt failed (the active dataset is unchanged).
        pub error: RwSignal<Option<String>>,
        /// The last upload's name and bytes (resent after a worker restart).
        upload: StoredValue<Option<(String, Uint8Array)>, LocalStorage>,
        /// The choice of the job in flight, committed to the setup when it succeeds.
        pending: StoredValue<Option<DataChoice>>,
    }

    impl Default for DataLoad {
        fn default() -> Self {
            DataLoad {
                slot: JobSlot::new(),
                index: RwSignal::new(None),
                table: RwSignal::new(None),
                dataset: RwSignal::new(None),
                error: RwSignal::new(None),
                upload: StoredValue::new_local(None),
                pending: StoredValue::new(None),
            }
        }
    }

    impl DataLoad {

        /// Reads a dataset in the worker; on success it becomes active and `choice` is written
        /// to the setup. `bytes` are an upload's.
        fn read(
            self,
            page: Page,
            choice: DataChoice,
            source: DataSource,
            columns: Option<ColumnChoice>,
            bytes: Option<Uint8Array>,
        ) {
            // Guessed columns take the setup's task (from the address); chosen ones carry
            // theirs.
            let (eval_fraction, split_seed, task) = page
                .setup
                .with_untracked(|s| (s.data.eval_fraction, s.data.split_seed, s.data.task));
            let task = task.filter(|_| columns.is_none());
            self.pending.set_value(Some(choice));
            let job = Job::LoadDataset(DataJob {
                source,
                columns,
                task,
                eval_fraction,
                split_seed,
            });
            let files: Vec<Uint8Array> = bytes.into_iter().collect();
            page.compute.start_with(self.slot, job, &files, 1);
        }

        /// Loads a bundled dataset by id (guessing columns unless `columns`).
        pub fn load_bundled(self, page: Page, id: &str, columns: Option<ColumnChoice>) {
            let file = self.index.with_untracked(|i| {
                i.as_ref()
                    .and_then(|i| i.datasets.iter().find(|d| d.id == id))
                    .map(|d| d.file.clone())
            });
            match file {
                Some(file) => self.read(
                    page,
                    DataChoice::Bundled(id.to_string()),
                    DataSource::Bundled {
                        id: id.to_string(),
                        file,
                    },
                    columns,
                    None,
                ),
                None => self.error.set(Some(format!(
                    "no bundled dataset `{id}`; choose one from the list"
                ))),
            }
        }

        /// Reads an uploaded file (its columns guessed), keeping its bytes for restarts.
        pub fn upload(self, page: Page, name: String, bytes: Uint8Array) {
            self.upload.set_value(Some((name.clone(), bytes.clone())));
            page.setup.update(|s| s.data.task = None);
            self.read(
                page,
                DataChoice::Upload(name.clone()),
                DataSource::Upload { file_name: name },
                None,
                Some(bytes),
            );
        }

        /// Rebuilds the dataset from the table read last with other columns or another split.
        pub fn rechoose(self, page: Page, columns: Option<ColumnChoice>) {
            let choice = page.setup.with_untracked(|s| s.data.choice.clone());
            self.read(page, choice, DataSource::Current, columns, None);
        }

        /// (Re)reads the setup's dataset into a fresh worker, with the setup's columns. A
        /// dataset the person chose that is still being read (the worker restarted, or the
        /// bundled index arrived, meanwhile) is read again instead, its columns guessed: it is
        /// not lost.
        pub fn reload(self, page: Page) {
            let asked = self
                .pending
                .get_value()
                .filter(|_| self.slot.state.with_untracked(|s| s.is_busy()))
                .filter(|p| page.setup.with_untracked(|s| *p != s.data.choice));
            match asked {
                Some(DataChoice::Upload(name)) => {
                    if let Some((kept, bytes)) = self.upload.get_value().filter(|(k, _)| *k == name)
                    {
                        let source = DataSource::Upload { file_name: kept };
                        let choice = DataChoice::Upload(name);
                        return self.read(page, choice, source, None, Some(bytes));
                    }
                }
                Some(DataChoice::Bundled(id)) => return self.load_bundled(page, &id, None),
                None => {}
            }
            let (data, columns) = page.setup.with_untracked(|s| {
                let columns = match (&s.data.text_column, &s.data.label_column) {
                    (Some(t), Some(l)) => Some(ColumnChoice {
                        text: t.clone(),
                        text_pair: s.data.pair_column.clone(),
                        label: l.clone(),
                        task: s.data.task,
                    }),
                    _ => None,
                };
                (s.data.choice.clone(), columns)
            });
            match data {
                DataChoice::Upload(name) => match self.upload.get_value() {
                    Some((kept, bytes)) if kept == name => self.read(
                        page,
                        DataChoice::Upload(name.clone()),
                        DataSource::Upload { file_name: name },
                        columns,
                        Some(bytes),
                    ),
                    _ => {
                        self.error.set(Some(format!(
                            "the uploaded file `{name}` is not kept across reloads; upload it \
                             again. The default dataset is shown meanwhile."
                        )));
                        self.load_bundled(page, DEFAULT_DATASET, None);
                    }
                },
                DataChoice::Bundled(id) => {
                    let known = self.index.with_untracked(|i| {
                        i.as_ref()
                            .is_some_and(|i| i.datasets.iter().any(|d| d.id == id))
                    });
                    if known {
                        self.load_bundled(page, &id, columns);
                    } else {
                        self.error.set(Some(format!(
                            "no bundled dataset `{id}`; the default is shown instead"
                        )));
                        self.load_bundled(page, DEFAULT_DATASET, None);
                    }
                }
            }
        }
    }

    impl Registered for DataLoad {
        fn spec(&self) -> &'static Spec {
            &super::SPEC
        }
        fn state(&self) -> RwSignal<JobState> {
            self.slot.state
        }
        /// A dataset report: the table read, and the dataset when its columns gave one.
        fn receive(&self, page: Page, result: &JobResult) {
            let JobResult::Dataset(report) = result else {
                return;
            };
            self.slot.last.set(Some((**report).clone()));
            self.table.set(Some(report.table.clone()));
            match &report.dataset {
                Ok(d) => {
                    self.dataset.set(Some(d.clone()));
                    self.error.set(None);
                    let choice = self.pending.get_value();
                    page.setup.update(|s| {
                        if let Some(c) = choice {
                            s.data.choice = c;
                        }
                        s.data.text_column = Some(d.columns.text.clone());
                        s.data.pair_column = d.columns.text_pair.clone();
                        s.data.label_column = Some(d.columns.label.clone());
                        s.data.task = d.columns.task;
                    });
                }
                Err(m) => self.error.set(Some(m.clone())),
            }
        }
        fn failed(&self, _page: Page, message: &str) {
            self.error.set(Some(message.to_string()));
        }
        fn clear(&self) {
            self.slot.last.set(None);
        }
    }
}
