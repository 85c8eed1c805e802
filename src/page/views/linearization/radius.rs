//! The radius probe (the paper's Algorithm 1, reconstructed): how much the kernel changes when
//! the parameters move a random distance r from θ₀.

use leptos::prelude::*;
use ntk_lens_plots::reports::radius_chart;

use super::super::common::{num, ChartCanvas, JobProgress};
use crate::page::analyses::radius::Radius;
use crate::page::compute::Compute;
use crate::page::setup::parse_lambdas;

/// The probe's radii, Probe button, progress, table and chart. `start` probes the radii
/// (errors: why it cannot start).
#[component]
pub fn RadiusPanel(
    compute: Compute,
    radius: Radius,
    start: Callback<Vec<f64>, Result<(), &'static str>>,
) -> impl IntoView {
    let radii_text = RwSignal::new("0.01,0.1,1".to_string());
    let radius_error = RwSignal::new(None::<String>);
    let run_radius = move |_| match parse_lambdas(&radii_text.get_untracked()) {
        Ok(radii) => {
            let started = start.run(radii);
            radius_error.set(started.err().map(String::from));
        }
        Err(e) => radius_error.set(Some(format!("radii: {e}"))),
    };
    let cancel_radius = Callback::new(move |_| compute.cancel(radius.slot));
    let radius_plot = Signal::derive(move || {
        radius
            .slot
            .last
            .with(|r| r.as_ref().map(|p| radius_chart(p)))
    });
    view! {
        <section class="panel" data-testid="radius">
            <h3>"How far does the linear picture hold? (the paper's Algorithm 1, reconstructed)"</h3>
            <p class="explain">"The parameters are moved from θ₀ by a random direction of length r, and the kernel is recomputed. The linearized model assumes the kernel stays as it is at θ₀: if it barely changes over the distances that fine-tuning travels (compare ‖θ − θ₀‖ above), that assumption holds along random directions. Training moves along particular directions, so the sweep's gap is the direct test. Two random directions per radius."</p>
            <div class="controls">
                <label>"radii " <input type="text" size="20" data-testid="radius-radii" prop:value=move || radii_text.get() on:change=move |ev| radii_text.set(event_target_value(&ev)) /></label>
                <button class="primary" data-testid="radius-run" on:click=run_radius disabled=move || compute.device_busy_tracked()>"Probe"</button>
            </div>
            {move || radius_error.get().map(|e| view! { <p class="error" data-testid="radius-error">{e}</p> })}
            <JobProgress state=radius.slot.state on_cancel=cancel_radius testid="radius" />
            {move || radius.slot.last.get().map(|points| view! {
                <table class="results wide" data-testid="radius-table">
                    <tr><th>"r"</th><th>"L_avg"</th><th>"L_upper"</th><th>"‖ΔK‖/‖K‖"</th></tr>
                    {points.iter().enumerate().map(|(i, p)| view! {
                        <tr data-testid=format!("radius-row-{i}")><td>{num(p.radius, 3)}</td><td>{num(p.l_avg, 4)}</td><td>{num(p.l_upper, 4)}</td><td data-testid=format!("radius-change-{i}")>{num(p.relative_change, 4)}</td></tr>
                    }).collect_view()}
                </table>
            })}
            <ChartCanvas id="radius-chart" chart=radius_plot height=360 />
        </section>
    }
}
