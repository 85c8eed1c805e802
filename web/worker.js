// The compute worker: loads the same wasm module as the page and hands over to Rust
// (ntk_lens_web::worker::worker_main), which answers the page's typed messages.
import init, { worker_main } from './ntk-lens-web.js';

init({ module_or_path: new URL('./ntk-lens-web_bg.wasm', import.meta.url) })
  .then(() => worker_main())
  .catch((e) => {
    self.postMessage(JSON.stringify({ type: 'error', id: null, message: `the compute worker could not load: ${e}` }));
  });
