// The kernel started with the page (tools/build_site.py adds this script to the lab, notebooks and repl pages, after
// kernel-interrupt.js, and fills in PRESTART below). JupyterLite starts its Pyodide kernel only once the JupyterLab
// app has loaded (about 2 s of the page's thread), and the kernel's worker then boots Pyodide and unpacks its
// packages (more seconds, on another thread). On a page that will start a kernel (the REPL; the lab or the notebook
// app opening a notebook), this script starts the kernel's worker at once and has it boot Pyodide with the options
// the kernel will pass (kernel-start.mjs's prestart); when JupyterLite then creates its kernel's worker, it gets this
// one, already booting, and the kernel's loadPyodide takes the Pyodide started there. Both run side by side.
// A page that reloads itself for cross-origin isolation first (cross-origin-isolation.js) starts nothing before the
// reload. A worker that no kernel takes is ended after a while.
(function () {
  "use strict";
  const PRESTART = null;   // build_site.py: {kernelWorker, preludeWorker, module, options}, paths from the site root
  const UNCLAIMED_MS = 120000;
  if (!PRESTART || typeof Worker === "undefined" || !document.currentScript) return;
  const isolation = window.torchJsIsolation;
  if (isolation && !isolation.isolated && !isolation.reason) return;   // a reload for isolation is on its way
  const params = new URLSearchParams(window.location.search);
  const app = window.location.pathname.split("/").slice(-2)[0];
  const opensNotebook = /\.ipynb$/i.test(params.get("path") || "");
  if (!(app === "repl" || ((app === "lab" || app === "notebooks") && opensNotebook))) return;

  const root = new URL("../../", document.currentScript.src);   // this script is <root>/static/torch_js/
  const kernelWorker = new URL(PRESTART.kernelWorker, root).href;
  const moduleUrl = new URL(PRESTART.module, root).href;
  const options = { ...PRESTART.options, indexURL: new URL(".", moduleUrl).href };
  // Isolated, kernel-interrupt.js's Worker starts the kernel's worker through the prelude (and gives it its
  // interrupt buffer); otherwise the prelude is started here, since only it takes the prestart message.
  const started = window.torchJsInterrupt ? new window.Worker(kernelWorker, { type: "module" })
    : new window.Worker(new URL(PRESTART.preludeWorker, root).href, { type: "module" });
  started.postMessage({ torchJsPrestart: { module: moduleUrl, options } });
  let waiting = started;
  const timer = setTimeout(() => { if (waiting) waiting.terminate(); waiting = null; }, UNCLAIMED_MS);

  const PageWorker = window.Worker;
  window.Worker = class extends PageWorker {
    constructor(url, workerOptions) {
      const href = new URL(url, window.location.href).href;
      if (waiting && href === kernelWorker && workerOptions && workerOptions.type === "module") {
        const worker = waiting;
        waiting = null;
        clearTimeout(timer);
        return worker;   // (a derived constructor may return another object instead of `this`)
      }
      super(url, workerOptions);
    }
  };
})();
