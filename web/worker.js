// The compute worker: runs the same wasm module as the page and hands over to Rust
// (ntk_lens_web::worker::worker_main), which answers the page's typed messages.
//
// The page's first message is its compiled WebAssembly.Module (src/bridge.rs): instantiating it
// costs neither a second download nor a second compile. Anything else falls back to fetching the
// wasm. The page sends nothing more before the worker says it is ready.
import init, { worker_main } from './ntk-lens-web.js';

self.addEventListener('message', (event) => {
  const module_or_path = event.data instanceof WebAssembly.Module
    ? event.data
    : new URL('./ntk-lens-web_bg.wasm', import.meta.url);
  init({ module_or_path })
    .then((wasm) => {
      // The size of the worker's wasm memory (it only grows: its peak), for measurements.
      self.ntkLensMemoryBytes = () => wasm.memory.buffer.byteLength;
      worker_main();
    })
    .catch((e) => {
      self.postMessage(JSON.stringify({ type: 'error', id: null, message: `the compute worker could not load: ${e}` }));
    });
}, { once: true });
