//! How a running job talks back: progress to the page, turns of the event loop, and whether the
//! page asked it to stop. [`drive`] runs any [`Stepwise`] computation of the core with it.

use std::cell::Cell;

use ntk_lens_core::steps::Stepwise;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::DedicatedWorkerGlobalScope;

use super::error::WorkerError;
use crate::protocol::{encode, JobId, Response};

/// How long a job may compute before it yields to the event loop (ms): long enough to waste
/// little time, short enough that progress moves and a cancel message is seen at once.
pub const YIELD_EVERY_MS: f64 = 40.0;

thread_local! {
    static CANCELLED: Cell<Option<JobId>> = const { Cell::new(None) };
}

fn scope() -> DedicatedWorkerGlobalScope {
    js_sys::global().unchecked_into()
}

/// Posts a message to the page.
pub fn post(response: &Response) {
    let _ = scope().post_message(&JsValue::from_str(&encode(response)));
}

/// Milliseconds since the worker started (`performance.now()`).
pub fn now_ms() -> f64 {
    scope().performance().map(|p| p.now()).unwrap_or(0.0)
}

/// Records that the page asked job `id` to stop.
pub fn request_cancel(id: JobId) {
    CANCELLED.with(|c| c.set(Some(id)));
}

/// Lets the worker's event loop run (delivering queued messages, e.g. a cancel), then resumes.
pub async fn yield_now() {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let _ = scope().set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 0);
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

/// The running job's line back to the page.
#[derive(Debug, Clone, Copy)]
pub struct Reporter {
    id: JobId,
}

impl Reporter {
    /// The reporter of job `id`.
    pub fn new(id: JobId) -> Self {
        Reporter { id }
    }

    /// The job.
    pub fn id(self) -> JobId {
        self.id
    }

    /// Whether the page asked this job to stop.
    pub fn cancelled(self) -> bool {
        CANCELLED.with(|c| c.get()) == Some(self.id)
    }

    /// Posts progress and yields to the event loop; `true` when the job was cancelled meanwhile
    /// (and the page was told so).
    pub async fn checkpoint(
        self,
        done: usize,
        total: usize,
        message: String,
        loss: Option<f64>,
    ) -> bool {
        post(&Response::Progress {
            id: self.id,
            done,
            total,
            message,
            loss,
        });
        yield_now().await;
        if self.cancelled() {
            post(&Response::Cancelled { id: self.id, done });
            return true;
        }
        false
    }
}

/// Runs `work` to its end: a step at a time, posting progress and yielding every
/// [`YIELD_EVERY_MS`]; `Ok(None)` when the page cancelled it.
pub async fn drive<S: Stepwise>(
    mut work: S,
    reporter: Reporter,
) -> Result<Option<S::Output>, WorkerError> {
    // Say what runs before the first step, which can take seconds (an eval chunk in one wasm
    // thread), so that the page never shows a bare "starting".
    if !work.is_done()
        && reporter
            .checkpoint(work.steps_done(), work.total_steps(), work.describe(), None)
            .await
    {
        return Ok(None);
    }
    let mut last = now_ms();
    while !work.is_done() {
        let message = work.describe();
        work.advance().await?;
        if now_ms() - last > YIELD_EVERY_MS || work.is_done() {
            let (done, total) = (work.steps_done(), work.total_steps());
            let loss = work.loss().await;
            if reporter.checkpoint(done, total, message, loss).await {
                return Ok(None);
            }
            last = now_ms();
        }
    }
    Ok(Some(work.finish().await?))
}
