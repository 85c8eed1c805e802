//! What the page knows of each kind of job before any runs: its [`Spec`] (name, result, whether
//! it uses the device, which changes make its result stale). Every kind of job, analysis or
//! loading, is registered once (see [`register_jobs!`]); the page routes the worker's answers,
//! decides whether the device is busy and clears stale results from these specs alone. Pure
//! Rust: the registry's completeness (`crate::page::registered`) is unit-tested natively.

use crate::protocol::JobResult;

/// The kind of a worker result (one per [`JobResult`] variant).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResultKind {
    /// [`JobResult::SelfCheck`].
    SelfCheck,
    /// [`JobResult::Dataset`].
    Dataset,
    /// [`JobResult::Model`].
    Model,
    /// [`JobResult::Probe`].
    Probe,
    /// [`JobResult::AdapterLoaded`].
    AdapterLoaded,
    /// [`JobResult::Backend`].
    Backend,
    /// [`JobResult::Ntk`].
    Ntk,
    /// [`JobResult::EvalKernel`].
    EvalKernel,
    /// [`JobResult::Sweep`].
    Sweep,
    /// [`JobResult::Study`].
    Study,
    /// [`JobResult::Adapter`].
    Adapter,
    /// [`JobResult::Radius`].
    Radius,
}

impl ResultKind {
    /// Every kind.
    pub const ALL: [ResultKind; 12] = [
        ResultKind::SelfCheck,
        ResultKind::Dataset,
        ResultKind::Model,
        ResultKind::Probe,
        ResultKind::AdapterLoaded,
        ResultKind::Backend,
        ResultKind::Ntk,
        ResultKind::EvalKernel,
        ResultKind::Sweep,
        ResultKind::Study,
        ResultKind::Adapter,
        ResultKind::Radius,
    ];

    /// The kind of `result`.
    pub fn of(result: &JobResult) -> ResultKind {
        match result {
            JobResult::SelfCheck(_) => ResultKind::SelfCheck,
            JobResult::Dataset(_) => ResultKind::Dataset,
            JobResult::Model(_) => ResultKind::Model,
            JobResult::Probe(_) => ResultKind::Probe,
            JobResult::AdapterLoaded(_) => ResultKind::AdapterLoaded,
            JobResult::Backend(_) => ResultKind::Backend,
            JobResult::Ntk(_) => ResultKind::Ntk,
            JobResult::EvalKernel(_) => ResultKind::EvalKernel,
            JobResult::Sweep(_) => ResultKind::Sweep,
            JobResult::Study(_) => ResultKind::Study,
            JobResult::Adapter(_) => ResultKind::Adapter,
            JobResult::Radius(_) => ResultKind::Radius,
        }
    }
}

/// A change in the worker that makes earlier results stale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// A new NTK is in: what was computed from the previous one no longer applies.
    NewNtk,
    /// An adapter was attached or taken off: the worker dropped the analyses of the model as
    /// it was.
    AdapterChanged,
}

/// What the page knows of one kind of job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spec {
    /// Its name in messages ("the NTK was lost").
    pub name: &'static str,
    /// The result it takes.
    pub result: ResultKind,
    /// Whether it uses the device (the worker runs one such job at a time); reading a dataset
    /// and probing the hub do not.
    pub uses_device: bool,
    /// The changes after which its last result is cleared.
    pub stale_after: &'static [Change],
    /// Whether its progress reports a training loss (the live loss curve).
    pub reports_loss: bool,
}

impl Spec {
    /// A device job with no stale-making change and no loss: the fields a spec usually has.
    pub const fn device(name: &'static str, result: ResultKind) -> Spec {
        Spec {
            name,
            result,
            uses_device: true,
            stale_after: &[],
            reports_loss: false,
        }
    }
}

/// Declares a group of jobs, one module each: `register_jobs!(Group { module => Handle, … })`
/// makes the modules, `SPECS` (each module's `SPEC`, in order) and, in the browser, the `Group`
/// struct with one handle per module, its `Default` (every handle idle) and
/// `Group::registered()` (every handle as a `crate::page::compute::Registered`). Registering a
/// job is one line; a module that lacks its `SPEC`, its handle or one of the handle's pieces
/// does not compile.
macro_rules! register_jobs {
    ($group:ident { $($module:ident => $handle:ident),* $(,)? }) => {
        $(pub mod $module;)*

        /// The specs of this group's jobs, in registration order.
        pub const SPECS: &[$crate::page::registry::Spec] = &[$($module::SPEC),*];

        /// One handle per job of this group (its slot and what it keeps).
        #[cfg(target_arch = "wasm32")]
        #[derive(Clone, Copy)]
        pub struct $group {
            $(
                #[doc = concat!("The `", stringify!($module), "` job.")]
                pub $module: $module::$handle,
            )*
        }

        #[cfg(target_arch = "wasm32")]
        impl Default for $group {
            /// Every handle, idle.
            fn default() -> Self {
                $group { $($module: $module::$handle::default()),* }
            }
        }

        #[cfg(target_arch = "wasm32")]
        impl $group {
            /// Every handle, for the link's routing.
            pub fn registered(self) -> Vec<std::rc::Rc<dyn $crate::page::compute::Registered>> {
                vec![$(std::rc::Rc::new(self.$module)),*]
            }
        }
    };
}
pub(crate) use register_jobs;
