//! The analyses, one module each: its spec (name, result, what makes it stale), its job built
//! from the setup, what it needs before it can start, its handle (slot and what it keeps) and
//! what its result changes. Adding an analysis is one module here and one line below; the
//! registry's test fails if its spec is missing or clashes with another's.

crate::page::registry::register_jobs!(Analyses {
    selfcheck => SelfCheck,
    ntk => Ntk,
    eval_kernel => EvalKernel,
    sweep => Sweep,
    study => Study,
    radius => Radius,
    export => Export,
});

/// Maximum eval samples the page scores (from the dataset's eval split, in file order).
pub const EVAL_SAMPLES: usize = 64;

/// Samples per pass of the page's NTK and training (of each λ trained side by side). Measured in
/// one wasm thread (docs/performance.md): the default sweep took 97 s with 32, 66 s with 16,
/// 47 s with 8 and 45 s with 4; the NTK of 64 samples 9.3 s, 8.0 s, 6.5 s and 7.5 s. Small
/// passes pad less (samples are sorted by length) and stay in cache.
pub const CHUNK: usize = 8;

/// A handle whose only state is its slot: the [`crate::page::compute::Registered`] pieces it
/// needs are the same for all (take its result, clear it). `boxed`: the result comes boxed.
#[cfg(target_arch = "wasm32")]
macro_rules! slot_only_registered {
    ($handle:ident, $variant:ident) => {
        $crate::page::analyses::slot_only_registered!($handle, $variant, |out| out.clone());
    };
    ($handle:ident, $variant:ident, boxed) => {
        $crate::page::analyses::slot_only_registered!($handle, $variant, |out| (**out).clone());
    };
    ($handle:ident, $variant:ident, |$out:ident| $take:expr) => {
        impl $crate::page::compute::Registered for $handle {
            fn spec(&self) -> &'static $crate::page::registry::Spec {
                &super::SPEC
            }
            fn state(&self) -> leptos::prelude::RwSignal<$crate::page::job_state::JobState> {
                self.slot.state
            }
            fn receive(&self, _page: $crate::page::Page, result: &$crate::protocol::JobResult) {
                use leptos::prelude::Set;
                if let $crate::protocol::JobResult::$variant($out) = result {
                    self.slot.last.set(Some($take));
                }
            }
            fn clear(&self) {
                use leptos::prelude::Set;
                self.slot.last.set(None);
            }
        }
    };
}
#[cfg(target_arch = "wasm32")]
pub(crate) use slot_only_registered;
