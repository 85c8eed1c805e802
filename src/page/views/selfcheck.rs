//! The backend self-check panel: runs a small autodiff computation in the worker, with progress
//! and Cancel, and compares the result with its closed form.

use leptos::prelude::*;
use ntk_lens_core::selfcheck::SelfCheckConfig;

use crate::page::analyses::selfcheck::SelfCheck;
use crate::page::compute::Compute;
use crate::page::job_state::JobState;
use crate::protocol::JobResult;

/// Formats a number for a result table.
fn fmt(v: f64) -> String {
    if v == 0.0 || (1e-3..1e4).contains(&v.abs()) {
        format!("{v:.6}")
    } else {
        format!("{v:.4e}")
    }
}

/// The self-check panel: `selfcheck` runs on the worker of `compute`.
#[component]
pub fn SelfCheckPanel(compute: Compute, selfcheck: SelfCheck) -> impl IntoView {
    // What the user typed is kept as typed; it is parsed only when Run is pressed.
    let steps_text = RwSignal::new(SelfCheckConfig::default().steps.to_string());
    let input_error = RwSignal::new(None::<String>);
    let state = selfcheck.slot.state;

    let run = move |_| {
        let text = steps_text.get_untracked();
        match text.trim().parse::<usize>() {
            Ok(steps) if (1..=SelfCheckConfig::MAX_STEPS).contains(&steps) => {
                input_error.set(None);
                selfcheck.start(
                    compute,
                    SelfCheckConfig {
                        steps,
                        ..SelfCheckConfig::default()
                    },
                );
            }
            _ => input_error.set(Some(format!(
                "Steps: expected a whole number from 1 to {}, got \"{text}\"",
                SelfCheckConfig::MAX_STEPS
            ))),
        }
    };

    let busy = move || state.with(|s| s.is_busy());
    let ready = move || compute.backend.with(|b| b.is_some());
    let percent = move || {
        state
            .with(|s| s.fraction())
            .map(|f| (f * 100.0).round() as u32)
    };

    let status_text = move || {
        state.with(|s| match s {
            JobState::Idle => "Not run yet.".to_string(),
            JobState::Running {
                done, total, loss, ..
            } => match loss {
                Some(l) => format!("Running: step {done} of {total}, loss {}", fmt(*l)),
                None => format!("Running: step {done} of {total}"),
            },
            JobState::Cancelling { done, total, .. } => {
                format!("Cancelling at step {done} of {total}…")
            }
            JobState::Done(_) => "Done.".to_string(),
            JobState::Cancelled { done, total } => {
                format!("Cancelled after {done} of {total} steps.")
            }
            JobState::Failed(e) => format!("Failed: {e}"),
        })
    };

    let result = move || {
        state.with(|s| match s {
            JobState::Done(JobResult::SelfCheck(r)) => {
                let rel = (r.loss - r.predicted_loss).abs() / r.predicted_loss.abs().max(1e-30);
                let verdict = if r.grad_max_abs_error < 1e-4 && rel < 1e-2 {
                    "The backend's results agree with the closed form."
                } else {
                    "The backend's results do NOT agree with the closed form."
                };
                Some(view! {
                    <table class="results" data-testid="selfcheck-result">
                        <tr><th>"steps"</th><td data-testid="selfcheck-steps-done">{r.steps_done}</td></tr>
                        <tr><th>"initial loss"</th><td data-testid="selfcheck-initial-loss">{fmt(r.initial_loss)}</td></tr>
                        <tr><th>"final loss (device)"</th><td data-testid="selfcheck-loss">{fmt(r.loss)}</td></tr>
                        <tr><th>"final loss (closed form)"</th><td data-testid="selfcheck-predicted">{fmt(r.predicted_loss)}</td></tr>
                        <tr><th>"max |autodiff − exact gradient|"</th><td data-testid="selfcheck-grad-error">{format!("{:.2e}", r.grad_max_abs_error)}</td></tr>
                        <tr><th>"step size 1/μ_max"</th><td>{fmt(r.learning_rate)}</td></tr>
                    </table>
                    <p data-testid="selfcheck-verdict">{verdict}</p>
                })
            }
            _ => None,
        })
    };

    view! {
        <section class="panel" data-testid="selfcheck">
            <h3>"Compute check"</h3>
            <p>
                "Least squares, fitted by gradient descent with gradients from burn's autodiff, in the compute worker. Its exact answer is known, so the table shows how far the backend is from it. A long run shows the page stays responsive and can be cancelled."
            </p>
            <div class="controls">
                <label>
                    "Steps "
                    <input
                        type="text"
                        inputmode="numeric"
                        data-testid="selfcheck-steps"
                        prop:value=move || steps_text.get()
                        on:input=move |ev| steps_text.set(event_target_value(&ev))
                    />
                </label>
                <button data-testid="selfcheck-run" on:click=run disabled=move || !ready() || compute.device_busy_tracked()>
                    "Run"
                </button>
                <button
                    data-testid="selfcheck-cancel"
                    on:click=move |_| compute.cancel(selfcheck.slot)
                    disabled=move || !busy()
                >
                    "Cancel"
                </button>
            </div>
            {move || input_error.get().map(|e| view! { <p class="error" data-testid="selfcheck-input-error">{e}</p> })}
            <progress
                data-testid="selfcheck-progress"
                max="100"
                value=move || percent().unwrap_or(0).to_string()
            ></progress>
            <p data-testid="selfcheck-status" aria-live="polite">{status_text}</p>
            {result}
        </section>
    }
}
