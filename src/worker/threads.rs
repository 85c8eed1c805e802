//! The worker's pool of threads: rayon over Web Workers that share the wasm memory
//! (wasm-bindgen-rayon), so that burn-flex's kernels, gemm and the core's side-by-side passes
//! ([`ntk_lens_core::parallel`]) use every core.
//!
//! Only the CPU worker's module has a pool (feature `threads`, built with atomics by
//! `scripts/build-cpu-worker.sh`): wgpu's WebGPU types cannot live in a module with a shared
//! memory, so the page's own module, which the worker runs for WebGPU, computes on one thread.
//!
//! A pool needs a shared memory that can be posted to other workers, which browsers allow only
//! on a cross-origin isolated page (COOP/COEP, as `scripts/serve.sh` serves it). Without it, or
//! when the pool cannot start, rayon runs everything on the worker's own thread, and
//! [`Threads::reason`] says why. `?threads=N` in the page's address asks for `N` (1: no pool),
//! e.g. to compare one thread with the pool.

use js_sys::Reflect;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::DedicatedWorkerGlobalScope;

use super::backend::url_param;
use crate::protocol::Threads;

/// Starts the pool (once per worker, before any parallel work) and says what runs.
pub async fn start_pool() -> Threads {
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let requested = url_param("threads").and_then(|v| v.trim().parse::<usize>().ok());
    let Threads { count, reason } =
        Threads::planned(scope.navigator().hardware_concurrency() as usize, requested);
    let isolated = Reflect::get(&scope, &JsValue::from_str("crossOriginIsolated"))
        .ok()
        .and_then(|v| v.as_bool())
        .unwrap_or(false);
    if !isolated {
        return one_thread("the page is not cross-origin isolated, so threads cannot share memory");
    }
    if count < 2 {
        return Threads { count: 1, reason };
    }
    #[cfg(feature = "threads")]
    {
        match wasm_bindgen_futures::JsFuture::from(wasm_bindgen_rayon::init_thread_pool(count))
            .await
        {
            Ok(_) => Threads { count, reason },
            Err(e) => one_thread(&format!(
                "the thread pool did not start: {}",
                e.as_string().unwrap_or_else(|| format!("{e:?}"))
            )),
        }
    }
    #[cfg(not(feature = "threads"))]
    {
        one_thread("WebGPU's module has no thread pool")
    }
}

fn one_thread(reason: &str) -> Threads {
    Threads {
        count: 1,
        reason: Some(reason.to_string()),
    }
}
