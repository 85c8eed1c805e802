//! The application shell: header with the backend status line, the tab bar, and the shared
//! state (the compute worker and what it reported).

use std::rc::Rc;
use std::time::Duration;

use leptos::prelude::*;
use ntk_lens_core::device::BackendInfo;

use crate::bridge::WorkerBridge;
use crate::job_state::JobState;
use crate::protocol::{Job, Request, Response};
use crate::views::{selfcheck::SelfCheckPanel, TabIntro};

/// The tabs of the explorer, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    /// Model and backend.
    Model,
    /// Dataset choice and preview.
    Data,
    /// Empirical NTK and its spectrum.
    Ntk,
    /// Linearized vs actual fine-tuning as lambda varies.
    Linearization,
    /// Layer selection and spectral perturbation.
    LayerSelection,
    /// Plain-language explanations.
    Learn,
}

impl Tab {
    /// All tabs in display order.
    pub const ALL: [Tab; 6] = [
        Tab::Model,
        Tab::Data,
        Tab::Ntk,
        Tab::Linearization,
        Tab::LayerSelection,
        Tab::Learn,
    ];

    /// The tab's label.
    pub fn label(self) -> &'static str {
        match self {
            Tab::Model => "Model",
            Tab::Data => "Data",
            Tab::Ntk => "NTK",
            Tab::Linearization => "Linearization",
            Tab::LayerSelection => "Layer selection",
            Tab::Learn => "Learn",
        }
    }

    /// The stable id used in `data-testid` and element ids.
    pub fn slug(self) -> &'static str {
        match self {
            Tab::Model => "model",
            Tab::Data => "data",
            Tab::Ntk => "ntk",
            Tab::Linearization => "linearization",
            Tab::LayerSelection => "layers",
            Tab::Learn => "learn",
        }
    }
}

/// How long the worker gets to answer a cancel before it is stopped by force.
const CANCEL_GRACE: Duration = Duration::from_millis(3000);

/// Shared handles for the views: the worker and the job states it updates.
#[derive(Clone, Copy)]
pub struct Compute {
    /// The backend the worker chose; `None` while it starts.
    pub backend: RwSignal<Option<BackendInfo>>,
    /// The self-check job.
    pub selfcheck: RwSignal<JobState>,
    /// A message about the worker itself (crash, restart).
    pub worker_note: RwSignal<Option<String>>,
    bridge: StoredValue<Option<Rc<WorkerBridge>>, LocalStorage>,
    next_id: StoredValue<u32>,
}

impl Compute {
    fn new() -> Self {
        let compute = Compute {
            backend: RwSignal::new(None),
            selfcheck: RwSignal::new(JobState::Idle),
            worker_note: RwSignal::new(None),
            bridge: StoredValue::new_local(None),
            next_id: StoredValue::new(1),
        };
        let on_response = Rc::new(move |response: Response| compute.receive(response));
        let on_crash = Rc::new(move |message: String| compute.crashed(message));
        let bridge = WorkerBridge::spawn(on_response, on_crash);
        compute.bridge.set_value(Some(bridge));
        compute
    }

    fn receive(self, response: Response) {
        match &response {
            Response::Ready { backend } => self.backend.set(Some(backend.clone())),
            Response::Error { id: None, message } => self.worker_note.set(Some(message.clone())),
            _ => {}
        }
        self.selfcheck
            .update(|s| *s = std::mem::take(s).apply(&response));
    }

    fn crashed(self, message: String) {
        self.worker_note.set(Some(format!("{message} (restarted)")));
        self.selfcheck.update(|s| {
            if s.is_busy() {
                *s = JobState::Failed(message.clone());
            }
        });
        self.backend.set(None);
        self.with_bridge(|b| b.restart());
    }

    fn with_bridge(self, f: impl FnOnce(&WorkerBridge)) {
        self.bridge.with_value(|b| {
            if let Some(b) = b {
                f(b)
            }
        });
    }

    /// Starts the self-check with `steps` gradient steps.
    pub fn start_selfcheck(self, config: ntk_lens_core::selfcheck::SelfCheckConfig) {
        if self.selfcheck.with_untracked(|s| s.is_busy()) {
            return;
        }
        let id = self.next_id.get_value();
        self.next_id.set_value(id + 1);
        self.selfcheck.set(JobState::started(id, config.steps));
        self.with_bridge(|b| {
            b.send(&Request::Start {
                id,
                job: Job::SelfCheck(config),
            })
        });
    }

    /// Asks the running self-check to stop; stops the worker by force if it does not answer.
    pub fn cancel_selfcheck(self) {
        let Some(id) = self.selfcheck.with_untracked(|s| s.active_id()) else {
            return;
        };
        self.selfcheck
            .update(|s| *s = std::mem::take(s).cancel_requested());
        self.with_bridge(|b| b.send(&Request::Cancel { id }));
        set_timeout(
            move || {
                if self.selfcheck.with_untracked(|s| s.active_id()) == Some(id) {
                    self.selfcheck
                        .update(|s| *s = std::mem::take(s).force_cancelled());
                    self.worker_note.set(Some(
                        "the worker did not stop in time and was restarted".into(),
                    ));
                    self.backend.set(None);
                    self.with_bridge(|b| b.restart());
                }
            },
            CANCEL_GRACE,
        );
    }
}

/// The whole page.
#[component]
pub fn App() -> impl IntoView {
    let compute = Compute::new();
    provide_context(compute);
    let tab = RwSignal::new(Tab::Model);

    let status = move || match compute.backend.get() {
        Some(info) => info.label(),
        None => "starting the compute worker…".to_string(),
    };
    let status_class = move || match compute.backend.get() {
        Some(info) if info.is_gpu() => "backend gpu",
        Some(_) => "backend cpu",
        None => "backend pending",
    };

    view! {
        <header class="top">
            <div class="brand">
                <h1>"ntk-lens"</h1>
                <p class="tagline">
                    "See LoRA fine-tuning of a small transformer through its linearization: the neural tangent kernel, its spectrum, and how well a kernel model predicts real training."
                </p>
            </div>
            <div class=status_class data-testid="backend-status" title="The compute backend in use">
                {status}
            </div>
        </header>
        <nav class="tabs" role="tablist" aria-label="Views">
            {Tab::ALL
                .iter()
                .map(|&t| {
                    view! {
                        <button
                            role="tab"
                            id=format!("tab-{}", t.slug())
                            data-testid=format!("tab-{}", t.slug())
                            aria-selected=move || (tab.get() == t).to_string()
                            class:active=move || tab.get() == t
                            on:click=move |_| tab.set(t)
                        >
                            {t.label()}
                        </button>
                    }
                })
                .collect_view()}
        </nav>
        <main>
            // Every tab stays mounted (only hidden), so nothing typed or computed in one tab is
            // lost when another is opened.
            {Tab::ALL
                .iter()
                .map(|&t| {
                    view! {
                        <section
                            role="tabpanel"
                            data-testid=format!("panel-{}", t.slug())
                            aria-labelledby=format!("tab-{}", t.slug())
                            class:hidden=move || tab.get() != t
                        >
                            <TabIntro tab=t />
                            {(t == Tab::Model).then(|| view! { <SelfCheckPanel /> })}
                        </section>
                    }
                })
                .collect_view()}
        </main>
        <footer class="note" data-testid="worker-note">
            {move || compute.worker_note.get().unwrap_or_default()}
        </footer>
    }
}
