// The kernel started with the page (tools/build_site.py adds this script to the lab, notebooks and repl pages, after
// kernel-interrupt.js, and fills in PRESTART below). JupyterLite starts its Pyodide kernel only once the JupyterLab
// app has loaded (about 2 s of the page's thread), and the kernel's worker then boots Pyodide and unpacks its
// packages (more seconds, on another thread). The kernel's worker starts that boot as soon as it runs (its entry,
// written by build_site.py, calls kernel-start.mjs's prestart with the options the kernel will pass); on a page
// that will start a kernel (the REPL; the lab or the notebook app opening a notebook), this script starts that
// worker at once, and when JupyterLite then creates its kernel's worker, it gets this one, already booting: the
// kernel's loadPyodide takes the Pyodide started there. The app and the boot run side by side.
// A page that reloads itself for cross-origin isolation first (cross-origin-isolation.js) starts nothing before the
// reload. A worker that no kernel takes is ended after a while.
(function () {
  "use strict";
  const PRESTART = null;   // build_site.py: {kernelWorker, preludeWorker}, paths from the site root
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
  // Isolated, kernel-interrupt.js's Worker starts the kernel's worker from its entry with the early boot (and gives
  // it its interrupt buffer); otherwise that entry is started here.
  const started = window.torchJsInterrupt ? new window.Worker(kernelWorker, { type: "module" })
    : new window.Worker(new URL(PRESTART.preludeWorker, root).href, { type: "module" });
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
