//! What the model is fitted to: class labels (one-hot rows over `C` outputs) or real scores
//! (regression, one output), with the losses and quality measures of each.

use serde::{Deserialize, Serialize};

use super::metrics;
use crate::data::Task;
use crate::options::LossKind;
use crate::stats;
use crate::CoreError;

/// The targets of `n` samples.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Targets {
    /// A class index per sample, `< classes`; fitted as one-hot rows.
    Classes {
        /// The class of each sample.
        labels: Vec<usize>,
        /// The number of classes (outputs).
        classes: usize,
    },
    /// A real score per sample, fitted by one output.
    Scores(Vec<f64>),
}

/// How well logits match the targets (serde result): accuracy and MCC for classes, Pearson and
/// Spearman of the output against the score for regression. A measure that does not apply, or
/// has too few samples, is absent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Quality {
    /// Fraction of samples whose largest logit is the label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accuracy: Option<f64>,
    /// Matthews correlation coefficient of the predicted classes (see [`stats::mcc`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mcc: Option<f64>,
    /// Pearson's r of the output and the score (at least 3 samples).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pearson: Option<f64>,
    /// Spearman's ρ of the output and the score (at least 3 samples).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spearman: Option<f64>,
}

impl Quality {
    /// The task's headline measure: accuracy for classes, Pearson's r for scores.
    pub fn headline(&self) -> Option<f64> {
        self.accuracy.or(self.pearson)
    }
}

impl Targets {
    /// The number of samples.
    pub fn len(&self) -> usize {
        match self {
            Targets::Classes { labels, .. } => labels.len(),
            Targets::Scores(s) => s.len(),
        }
    }

    /// Whether there are no samples.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The number of model outputs `C` (1 for scores).
    pub fn outputs(&self) -> usize {
        match self {
            Targets::Classes { classes, .. } => *classes,
            Targets::Scores(_) => 1,
        }
    }

    /// The task.
    pub fn task(&self) -> Task {
        match self {
            Targets::Classes { .. } => Task::Classification,
            Targets::Scores(_) => Task::Regression,
        }
    }

    /// The class labels (`None` for scores).
    pub fn labels(&self) -> Option<&[usize]> {
        match self {
            Targets::Classes { labels, .. } => Some(labels),
            Targets::Scores(_) => None,
        }
    }

    /// The target matrix `Y`, `n × C` sample-major: one-hot rows, or the scores.
    pub fn matrix(&self) -> Vec<f64> {
        match self {
            Targets::Classes { labels, classes } => {
                let mut y = vec![0.0; labels.len() * classes];
                for (i, &l) in labels.iter().enumerate() {
                    y[i * classes + l] = 1.0;
                }
                y
            }
            Targets::Scores(s) => s.clone(),
        }
    }

    /// The targets of the samples at `order` (`order[k]` = the index of the `k`-th).
    pub fn reordered(&self, order: &[usize]) -> Targets {
        match self {
            Targets::Classes { labels, classes } => Targets::Classes {
                labels: order.iter().map(|&i| labels[i]).collect(),
                classes: *classes,
            },
            Targets::Scores(s) => Targets::Scores(order.iter().map(|&i| s[i]).collect()),
        }
    }

    /// Checks that there are `n` targets for a model with `outputs` outputs, all in range and
    /// finite, and that `loss` applies (cross-entropy needs classes).
    pub fn check(&self, n: usize, outputs: usize, loss: LossKind) -> Result<(), CoreError> {
        if self.len() != n {
            return Err(CoreError::mismatch("labels", n, self.len()));
        }
        if self.outputs() != outputs {
            return Err(CoreError::invalid(
                "head",
                format!(
                    "the model has {outputs} output(s) but the {} targets need {}",
                    self.task(),
                    self.outputs()
                ),
            ));
        }
        match self {
            Targets::Classes { labels, classes } => {
                if let Some(&bad) = labels.iter().find(|&&l| l >= *classes) {
                    return Err(CoreError::invalid(
                        "labels",
                        format!("label {bad} is out of range for {classes} classes"),
                    ));
                }
            }
            Targets::Scores(s) => {
                if s.iter().any(|v| !v.is_finite()) {
                    return Err(CoreError::NonFinite("a regression score".into()));
                }
                if loss == LossKind::Ce {
                    return Err(CoreError::invalid(
                        "loss",
                        "cross-entropy needs class labels; a regression task trains with the \
                         squared loss (`mse`)",
                    ));
                }
            }
        }
        Ok(())
    }

    /// The data loss of `logits` (`n × C`): `Σ ½‖f_i − y_i‖²`, or `Σ −log softmax(f_i)[y_i]`.
    /// Cross-entropy of scores is not defined; it is refused by [`Targets::check`] and counts
    /// as the squared loss here.
    pub fn loss(&self, loss: LossKind, logits: &[f64]) -> f64 {
        match (self, loss) {
            (Targets::Classes { labels, classes }, LossKind::Ce) => {
                metrics::ce_loss(logits, labels, *classes)
            }
            _ => {
                0.5 * logits
                    .iter()
                    .zip(self.matrix())
                    .map(|(f, y)| (f - y).powi(2))
                    .sum::<f64>()
            }
        }
    }

    /// The task's quality measures of `logits` (`n × C`).
    pub fn quality(&self, logits: &[f64]) -> Quality {
        match self {
            Targets::Classes { labels, classes } => Quality {
                accuracy: metrics::accuracy(logits, labels, *classes),
                mcc: stats::mcc(&metrics::predictions(logits, *classes), labels, *classes),
                ..Quality::default()
            },
            Targets::Scores(s) => Quality {
                pearson: stats::pearson(logits, s),
                spearman: stats::spearman(logits, s),
                ..Quality::default()
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn class_and_score_targets() {
        let c = Targets::Classes {
            labels: vec![1, 0],
            classes: 2,
        };
        assert_eq!(c.matrix(), [0.0, 1.0, 1.0, 0.0]);
        let f = [0.0, 1.0, 0.0, 1.0];
        assert_eq!(c.loss(LossKind::Mse, &f), 1.0);
        assert_eq!(c.loss(LossKind::Mse, &f), metrics::mse_loss(&f, &[1, 0], 2));
        let q = c.quality(&f);
        assert_eq!((q.accuracy, q.mcc, q.pearson), (Some(0.5), Some(0.0), None));
        let s = Targets::Scores(vec![1.0, 2.0, 4.0]);
        assert_eq!((s.outputs(), s.task()), (1, Task::Regression));
        assert_eq!(s.loss(LossKind::Mse, &[1.0, 1.0, 1.0]), 0.5 * (1.0 + 9.0));
        let q = s.quality(&[0.1, 0.2, 0.9]);
        assert_eq!((q.accuracy, q.spearman), (None, Some(1.0)));
        assert_eq!(q.headline(), q.pearson);
        assert!(s.check(3, 1, LossKind::Ce).is_err());
        assert!(s.check(3, 2, LossKind::Mse).is_err());
        assert!(s.check(3, 1, LossKind::Mse).is_ok());
        assert_eq!(s.reordered(&[2, 0]), Targets::Scores(vec![4.0, 1.0]));
    }
}
