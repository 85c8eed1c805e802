// The CPU compute worker: the same Rust worker (ntk_lens_web::worker::worker_main) in the CPU
// worker's own wasm module (cpu/, built with atomics by scripts/build-cpu-worker.sh), which runs
// its CPU work on a pool of threads: Web Workers sharing this worker's wasm memory
// (wasm-bindgen-rayon). The page starts it whenever the CPU computes on a cross-origin isolated
// page (src/page/bridge.rs); the page's own module has WebGPU and one thread.
import init, { worker_main } from './cpu/ntk-lens-cpu.js';

init({ module_or_path: new URL('./cpu/ntk-lens-cpu_bg.wasm', import.meta.url) })
  .then(() => worker_main())
  .catch((e) => {
    self.postMessage(JSON.stringify({ type: 'error', id: null, message: `the CPU compute worker could not load: ${e}` }));
  });
