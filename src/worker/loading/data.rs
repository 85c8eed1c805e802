//! The dataset job: reads a table (a bundled file, an upload, or the table read last) and
//! builds the dataset from its columns.

use ntk_lens_core::data::{dataset_name, guess_table, read_table, Dataset, Table};

use crate::protocol::loading::{DataJob, DataReport, DataSource, DatasetSummary, TableSummary};
use crate::worker::error::WorkerError;
use crate::worker::fetch::{fetch_bytes, FetchOptions};
use crate::worker::session;

/// Reads the dataset of `job` (fetching a bundled file, or from the attached bytes), builds it
/// from the chosen or guessed columns, and makes it active when that works.
pub async fn load_dataset(
    job: DataJob,
    attachment: Option<Vec<u8>>,
) -> Result<DataReport, WorkerError> {
    let (table, name) = read(&job.source, attachment).await?;
    let dataset = build(&job, &table, &name);
    let report = DataReport {
        read_ms: 0.0,
        table: TableSummary::of(&table),
        dataset: dataset
            .as_ref()
            .map(|d| DatasetSummary::of(d, job.eval_fraction, job.split_seed))
            .map_err(Clone::clone),
    };
    session::set_table(table, name, dataset.ok());
    Ok(report)
}

/// The table of `source` and the name of the dataset it gives.
async fn read(
    source: &DataSource,
    attachment: Option<Vec<u8>>,
) -> Result<(Table, String), WorkerError> {
    match source {
        DataSource::Bundled { id, file } => {
            let url = format!("./datasets/{file}");
            let bytes = fetch_bytes(&url, FetchOptions::default(), &mut |_, _| true)
                .await?
                .ok_or_else(|| WorkerError::File(format!("{url}: not found")))?;
            Ok((read_table(file, &bytes)?, id.clone()))
        }
        DataSource::Upload { file_name } => {
            let bytes = attachment.ok_or_else(|| {
                WorkerError::File(format!("{file_name}: the uploaded bytes did not arrive"))
            })?;
            Ok((read_table(file_name, &bytes)?, dataset_name(file_name)))
        }
        DataSource::Current => {
            session::table().ok_or_else(|| WorkerError::NotYet("no file has been read yet".into()))
        }
    }
}

/// The dataset `name` of `table`'s columns (chosen in `job`, else guessed), or why not, for
/// the page.
fn build(job: &DataJob, table: &Table, name: &str) -> Result<Dataset, String> {
    // A guessed column is checked against the values (a "text" column of numbers is refused);
    // a column the person chose is taken as it is.
    let choice = match job.columns.clone() {
        Some(choice) => Ok(Some(choice)),
        None => guess_table(table).map(|g| g.choice().map(|c| c.with_task(job.task))),
    };
    match choice {
        Err(e) => Err(e.to_string()),
        Ok(Some(choice)) => Dataset::from_table(name, table, &choice).map_err(|e| e.to_string()),
        Ok(None) => Err(format!(
            "{}: choose the text and label columns (no column is named like text/sentence or \
             label/class); the columns are: {}",
            table.file,
            table.columns.join(", ")
        )),
    }
}
