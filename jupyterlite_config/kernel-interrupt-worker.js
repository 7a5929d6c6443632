// The first module of the Pyodide kernel's worker (kernel-interrupt.js and kernel-prestart.js start the kernel's
// worker from torch-js-interrupt.<the kernel's worker file>, which tools/build_site.py writes beside it: this module,
// copied as torch-js-interrupt-buffer.js, imported first, then Pyodide's early boot (kernel-start.mjs) and the
// kernel's own module; same folder, so the worker's location, against which the kernel resolves relative URLs, is
// unchanged; static imports, so all are evaluated, their message handlers in place, before the first message
// arrives, as when the kernel's module runs alone).
// The page posts { torchJsInterruptBuffer: an Int32Array over a SharedArrayBuffer } first (kernel-interrupt.js, on
// isolated pages); it is kept as self.torchJsInterruptBuffer, where the kernel's Python hands it to
// pyodide.setInterruptBuffer (kernel-interrupt.js sends that code), and not passed on to the kernel's own handler
// (comlink's, which answers every message).
self.addEventListener("message", (event) => {
  const data = event.data;
  if (data && typeof data === "object" && data.torchJsInterruptBuffer instanceof Int32Array) {
    self.torchJsInterruptBuffer = data.torchJsInterruptBuffer;
    event.stopImmediatePropagation();
  }
});
