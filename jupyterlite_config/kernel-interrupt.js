// The Pyodide kernel on a cross-origin isolated page, and JupyterLite's Interrupt (the ■ button, Kernel → Interrupt):
// tools/build_site.py adds this script to the lab, notebooks and repl pages, before JupyterLite's own.
//
// Which kernel worker. On an isolated page JupyterLite 0.8's kernel switches from its comlink worker (files of the
// kernel's /drive through JupyterLite's service worker) to its coincident one (the same through synchronous calls
// to the page over SharedArrayBuffer). Measured here, that path hangs the kernel now and then: a cell reading a
// file from /drive (a 175 KB .pt) never finished in about 1 run in 3, with JupyterLite's worker unchanged (and
// coincident can decode a reply the page is still writing: "Bad control character in string literal", a Pyodide
// fatal error). So this page keeps JupyterLite on its comlink path: window.crossOriginIsolated reads false for the
// page's scripts. The kernel's worker is isolated all the same (its own crossOriginIsolated is true), which is
// what torch_js's threads and the interrupt buffer need; window.torchJsIsolation.isolated keeps the page's truth.
//
// Interrupt. JupyterLite's own only drops the cells queued behind the running one; the running cell goes on, since
// Python in the kernel's worker never returns to the event loop to read a message. Pyodide can stop it through an
// interrupt buffer (pyodide.setInterruptBuffer: a SharedArrayBuffer the interpreter reads between bytecodes, where 2
// raises KeyboardInterrupt); JupyterLite's kernel sets none, so on an isolated page this script
//   1. starts each kernel's worker through torch-js-interrupt.<worker>.js (kernel-interrupt-worker.js), posting it
//      an Int32Array over a new SharedArrayBuffer first;
//   2. once the kernel is idle, runs a silent request in it that hands that buffer to pyodide.setInterruptBuffer and
//      answers with a token, which ties the kernel's id to that buffer (again after each restart);
//   3. wraps the kernel connection's interrupt(): while the kernel is busy it writes 2 into the buffer, then does
//      what JupyterLite does (drop the queued cells). The buffer is cleared whenever the kernel is idle again, so an
//      interrupt that came too late never hits the next cell.
// A cell waiting on JavaScript (an await) sees the interrupt when it next runs Python. Not isolated: nothing here
// runs, and Interrupt stays as JupyterLite has it. window.torchJsInterrupt: {ready: kernel ids with a buffer}.
(function () {
  "use strict";
  if (!window.crossOriginIsolated || typeof SharedArrayBuffer === "undefined") return;
  Object.defineProperty(window, "crossOriginIsolated", { get: () => false, configurable: true, enumerable: true });
  const KERNEL_WORKER = /^(.*\/pyodide-kernel-extension\/static\/)(comlink\.worker\.[^/]*\.js)$/;
  const BUSY_SIGNAL = 2;   // SIGINT: Pyodide raises KeyboardInterrupt
  const tokens = new Map();       // token -> the connection that asked
  const bufferOf = new Map();     // kernel id -> its Int32Array
  const greeted = new WeakSet();  // connections whose kernel has its buffer (dropped on a restart)
  const watched = new WeakSet();
  window.torchJsInterrupt = { ready: bufferOf };

  const NativeWorker = window.Worker;
  window.Worker = class extends NativeWorker {
    constructor(url, options) {
      const href = new URL(url, window.location.href).href;
      const kernel = KERNEL_WORKER.exec(href.split(/[?#]/)[0]);
      super(kernel ? `${kernel[1]}torch-js-interrupt.${kernel[2]}` : url, options);
      if (!kernel) return;
      const buffer = new Int32Array(new SharedArrayBuffer(4));
      this.postMessage({ torchJsInterruptBuffer: buffer });
      this.addEventListener("message", (event) => {
        const token = event.data && typeof event.data === "object" && event.data.torchJsInterruptHello;
        const connection = token && tokens.get(token);
        if (connection) {
          tokens.delete(token);
          bufferOf.set(connection.id, buffer);
        }
      });
    }
  };

  // Python run silently in the kernel: give Pyodide the buffer the worker got, answer with the token.
  const greeting = (token) => [
    "def _torch_js_interrupt_buffer(token):",
    "    import js, json, pyodide_js",
    "    buffer = getattr(js, 'torchJsInterruptBuffer', None)",
    "    if buffer is not None:",
    "        pyodide_js.setInterruptBuffer(buffer)",
    "        js.postMessage(js.JSON.parse(json.dumps({'torchJsInterruptHello': token})))",
    `_torch_js_interrupt_buffer(${JSON.stringify(token)})`,
    "del _torch_js_interrupt_buffer",
  ].join("\n");

  function wrapInterrupt(connection) {
    const proto = Object.getPrototypeOf(connection);
    if (proto.torchJsInterruptWrapped || typeof proto.interrupt !== "function") return;
    const interrupt = proto.interrupt;
    proto.interrupt = function (...args) {
      const buffer = bufferOf.get(this.id);
      if (buffer && this.status === "busy") Atomics.store(buffer, 0, BUSY_SIGNAL);
      return interrupt.apply(this, args);
    };
    proto.torchJsInterruptWrapped = true;
  }

  function watch(connection) {
    if (watched.has(connection)) return;
    watched.add(connection);
    wrapInterrupt(connection);
    connection.statusChanged.connect((_, status) => {
      const buffer = bufferOf.get(connection.id);
      if (status === "idle" && buffer) Atomics.store(buffer, 0, 0);
      if (["starting", "restarting", "autorestarting", "dead"].includes(status)) greeted.delete(connection);
    });
  }

  function greet(connection) {
    if (greeted.has(connection) || connection.status !== "idle" || connection.connectionStatus !== "connected") return;
    greeted.add(connection);
    const token = `${connection.id}:${Math.random().toString(36).slice(2)}`;
    tokens.set(token, connection);
    connection.requestExecute({ code: greeting(token), silent: true, store_history: false, allow_stdin: false });
  }

  function connections(app) {
    const found = new Set();
    const add = (widget) => {
      const kernel = widget && widget.sessionContext && widget.sessionContext.session &&
        widget.sessionContext.session.kernel;
      if (kernel) found.add(kernel);
    };
    add(app.shell.currentWidget);
    try {
      for (const widget of app.shell.widgets("main")) add(widget);
    } catch (e) { /* a shell without areas: the current widget is enough */ }
    return found;
  }

  setInterval(() => {
    const app = window.jupyterapp;
    if (!app || !app.shell) return;
    for (const connection of connections(app)) {
      watch(connection);
      greet(connection);
    }
  }, 300);
})();
