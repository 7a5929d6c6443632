// The Pyodide kernel's worker with a place for its interrupt buffer. tools/build_site.py writes this file beside the
// kernel's own coincident worker (the one JupyterLite runs on a cross-origin isolated page) as
// torch-js-interrupt.<its name>, with KERNEL_WORKER below replaced by that name; kernel-interrupt.js starts the
// kernel's worker from it. Same folder: the worker's location, against which the kernel resolves relative URLs, is
// unchanged. Static imports: the kernel's module is evaluated, its message handler in place, before the first
// message arrives, as when it runs alone; before it, kernel-worker-coincident-fix.js (a race in its page calls).
// The page posts { torchJsInterruptBuffer: an Int32Array over a SharedArrayBuffer } first; it is kept as
// self.torchJsInterruptBuffer, where the kernel's Python hands it to pyodide.setInterruptBuffer (kernel-interrupt.js
// sends that code); the kernel's own handler, registered first, ignores a message without its channel key.
import "./torch-js-coincident-fix.js";   // first: it wraps Atomics.wait before the kernel's module reads it
import "./KERNEL_WORKER";

self.addEventListener("message", (event) => {
  const data = event.data;
  if (data && typeof data === "object" && data.torchJsInterruptBuffer instanceof Int32Array) {
    self.torchJsInterruptBuffer = data.torchJsInterruptBuffer;
  }
});
