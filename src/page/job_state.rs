//! What the page knows about one kind of job, updated from worker messages.
//!
//! Kept free of UI code so that the state machine is unit-tested natively.

use crate::protocol::{JobId, JobResult, Response};

/// The life of one job as the page shows it.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum JobState {
    /// Nothing started yet.
    #[default]
    Idle,
    /// Running: the last progress seen.
    Running {
        /// The job.
        id: JobId,
        /// Units done.
        done: usize,
        /// Units in all.
        total: usize,
        /// The last progress message.
        message: String,
        /// The current loss, if the job reports one.
        loss: Option<f64>,
    },
    /// Cancel was asked for; waiting for the worker to stop.
    Cancelling {
        /// The job.
        id: JobId,
        /// Units done when cancel was asked.
        done: usize,
        /// Units in all.
        total: usize,
    },
    /// Finished with a result.
    Done(JobResult),
    /// Stopped on the user's request.
    Cancelled {
        /// Units done before it stopped.
        done: usize,
        /// Units in all.
        total: usize,
    },
    /// Failed, with the reason.
    Failed(String),
}

impl JobState {
    /// The id of the running (or cancelling) job.
    pub fn active_id(&self) -> Option<JobId> {
        match self {
            JobState::Running { id, .. } | JobState::Cancelling { id, .. } => Some(*id),
            _ => None,
        }
    }

    /// True while a job is running or cancelling.
    pub fn is_busy(&self) -> bool {
        self.active_id().is_some()
    }

    /// Fraction done in `[0, 1]`, where known.
    pub fn fraction(&self) -> Option<f64> {
        match self {
            JobState::Running { done, total, .. } | JobState::Cancelling { done, total, .. } => {
                Some(if *total == 0 {
                    0.0
                } else {
                    *done as f64 / *total as f64
                })
            }
            JobState::Done(_) => Some(1.0),
            _ => None,
        }
    }

    /// The state after `id` was started with `total` units of work.
    pub fn started(id: JobId, total: usize) -> Self {
        JobState::Running {
            id,
            done: 0,
            total,
            message: "starting".into(),
            loss: None,
        }
    }

    /// The state after the user pressed Cancel.
    pub fn cancel_requested(self) -> Self {
        match self {
            JobState::Running {
                id, done, total, ..
            } => JobState::Cancelling { id, done, total },
            other => other,
        }
    }

    /// The state after the worker was stopped by force (it did not answer a cancel in time).
    pub fn force_cancelled(self) -> Self {
        match self {
            JobState::Running { done, total, .. } | JobState::Cancelling { done, total, .. } => {
                JobState::Cancelled { done, total }
            }
            other => other,
        }
    }

    /// The state after a worker message. Messages about other jobs are ignored.
    pub fn apply(self, response: &Response) -> Self {
        let Some(active) = self.active_id() else {
            return self;
        };
        match response {
            Response::Progress {
                id,
                done,
                total,
                message,
                loss,
            } if *id == active => match self {
                JobState::Cancelling { .. } => JobState::Cancelling {
                    id: *id,
                    done: *done,
                    total: *total,
                },
                _ => JobState::Running {
                    id: *id,
                    done: *done,
                    total: *total,
                    message: message.clone(),
                    loss: *loss,
                },
            },
            Response::Result { id, result, .. } if *id == active => JobState::Done(result.clone()),
            Response::Error {
                id: Some(id),
                message,
            } if *id == active => JobState::Failed(message.clone()),
            Response::Cancelled { id, done } if *id == active => {
                let total = match self {
                    JobState::Running { total, .. } | JobState::Cancelling { total, .. } => total,
                    _ => 0,
                };
                JobState::Cancelled { done: *done, total }
            }
            _ => self,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_runs_reports_progress_and_is_cancelled() {
        let s = JobState::started(3, 100);
        assert_eq!(s.active_id(), Some(3));
        let s = s.apply(&Response::Progress {
            id: 3,
            done: 40,
            total: 100,
            message: "step".into(),
            loss: Some(0.25),
        });
        assert_eq!(s.fraction(), Some(0.4));
        // Progress of another job is ignored.
        let s = s.apply(&Response::Progress {
            id: 2,
            done: 99,
            total: 100,
            message: "old".into(),
            loss: None,
        });
        assert_eq!(s.fraction(), Some(0.4));
        let s = s.cancel_requested();
        assert!(matches!(s, JobState::Cancelling { done: 40, .. }));
        let s = s.apply(&Response::Cancelled { id: 3, done: 41 });
        assert_eq!(
            s,
            JobState::Cancelled {
                done: 41,
                total: 100
            }
        );
        assert!(!s.is_busy());
    }

    #[test]
    fn errors_and_forced_cancel_end_the_job() {
        let s = JobState::started(1, 10).apply(&Response::Error {
            id: Some(1),
            message: "boom".into(),
        });
        assert_eq!(s, JobState::Failed("boom".into()));
        let s = JobState::started(2, 10)
            .cancel_requested()
            .force_cancelled();
        assert_eq!(s, JobState::Cancelled { done: 0, total: 10 });
    }
}
