//! κ at initialisation pooled across studies: several datasets (or configurations) in one
//! scatter, with one Pearson/Spearman over every trained candidate of every study.

use serde::{Deserialize, Serialize};

use super::correlation::Correlation;
use super::study::{kappa_correlations, StudyReport};
use crate::data::Task;
use crate::CoreError;

/// One study of a pool, named by its dataset (or configuration).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PooledStudy {
    /// The dataset's (or configuration's) name.
    pub dataset: String,
    /// The study.
    pub report: StudyReport,
}

/// Studies pooled into one correlation (serde result).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PooledReport {
    /// The studies, in the order given.
    pub studies: Vec<PooledStudy>,
    /// log10 κ against final train loss, over all studies' trained candidates.
    pub kappa_vs_loss: Correlation,
    /// log10 κ against eval accuracy (eval Pearson's r for regression), over all of them.
    pub kappa_vs_accuracy: Correlation,
    /// The task every study shares.
    pub task: Task,
    /// Plain-language notes.
    pub notes: Vec<String>,
}

/// Pools `studies` (at least one; all of one task, since accuracy and Pearson's r do not
/// belong on one axis).
pub fn pool(studies: Vec<PooledStudy>) -> Result<PooledReport, CoreError> {
    let task = studies
        .first()
        .map(|s| s.report.task)
        .ok_or_else(|| CoreError::invalid("studies", "pool at least one study"))?;
    if let Some(other) = studies.iter().find(|s| s.report.task != task) {
        return Err(CoreError::invalid(
            "studies",
            format!(
                "`{}` is a {} study but `{}` is a {task} study; pool studies of one task",
                other.dataset, other.report.task, studies[0].dataset
            ),
        ));
    }
    let (kappa_vs_loss, kappa_vs_accuracy) =
        kappa_correlations(studies.iter().flat_map(|s| &s.report.candidates));
    let mut notes = vec![format!(
        "{} studies pooled ({}); train losses are sums over each study's samples, so give every \
         study the same number of samples.",
        studies.len(),
        studies
            .iter()
            .map(|s| s.dataset.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    )];
    if let Some(r) = kappa_vs_loss.spearman {
        notes.push(format!(
            "Pooled log10 κ vs final train loss: Spearman {r:.2} over {} candidates.",
            kappa_vs_loss.n
        ));
    }
    Ok(PooledReport {
        studies,
        kappa_vs_loss,
        kappa_vs_accuracy,
        task,
        notes,
    })
}
