// The first module of the Pyodide kernel's worker (kernel-interrupt.js and kernel-prestart.js start the kernel's
// worker from torch-js-interrupt.<the kernel's worker file>, which tools/build_site.py writes beside it: this module,
// copied as torch-js-interrupt-buffer.js, imported first, then the kernel's own module; same folder, so the worker's
// location, against which the kernel resolves relative URLs, is unchanged; static imports, so both are evaluated,
// their message handlers in place, before the first message arrives, as when the kernel's module runs alone).
// Two messages from the page are taken here and not passed on to the kernel's own handler (comlink's, which answers
// every message):
// - { torchJsInterruptBuffer: an Int32Array over a SharedArrayBuffer } (kernel-interrupt.js, isolated pages): kept as
//   self.torchJsInterruptBuffer, where the kernel's Python hands it to pyodide.setInterruptBuffer.
// - { torchJsPrestart: { module, options } } (kernel-prestart.js): Pyodide's boot starts now, before the kernel asks
//   (kernel-start.mjs, the module the kernel loads Pyodide from).
self.addEventListener("message", (event) => {
  const data = event.data;
  if (data && typeof data === "object" && data.torchJsInterruptBuffer instanceof Int32Array) {
    self.torchJsInterruptBuffer = data.torchJsInterruptBuffer;
    event.stopImmediatePropagation();
  } else if (data && typeof data === "object" && data.torchJsPrestart) {
    const { module, options } = data.torchJsPrestart;
    import(module).then((start) => start.prestart(options))
      .catch((error) => console.warn("torch_js: Pyodide could not be started early", error));
    event.stopImmediatePropagation();
  }
});
