// torch_js blog embeds: one tag turns <pre class="torch-js"> blocks into runnable, editable Python cells.
//
//   <script type="module" src="https://your.site/embed/embed.js"></script>
//   <pre class="torch-js">
//   import torch                              (torch_js; `import torch_js` works too)
//   x = torch.randn(3, requires_grad=True)
//   (x ** 2).sum().backward(); print(x.grad)
//   </pre>
//
// Each block becomes an editable cell with a Run button; output (stdout, stderr, the last expression's repr,
// tracebacks) appears below it. Nothing is downloaded until a reader clicks Run (a page with ten cells stays light):
// the first Run loads Pyodide and torch_js from the same site as embed.js (the site's static/pyodide/, whose
// pyodide-lock.json lists torch_js), so nothing comes from a CDN. All cells on a page share one interpreter and its
// globals, like notebook cells. Shift+Enter (or Ctrl/Cmd+Enter) runs a cell.
//
// Python runs in a Web Worker (this same file, loaded as the worker's module), so a long cell never freezes the
// page, and a running cell's Stop button can always end it:
//   - on a cross-origin isolated page (served with `Cross-Origin-Opener-Policy: same-origin` and
//     `Cross-Origin-Embedder-Policy: require-corp`, so SharedArrayBuffer exists) Stop raises KeyboardInterrupt in
//     the cell through Pyodide's interrupt buffer, and the interpreter keeps its variables;
//   - elsewhere (most blog hosts cannot set those headers), or when the cell does not stop within STOP_GRACE_MS
//     (it waits on JavaScript, where Python cannot see the interrupt), Stop ends the worker and starts a fresh
//     interpreter; the cell's output says that earlier cells' variables are gone.
// WebGPU works in a dedicated worker in Chromium, and sync readbacks (JSPI) do too.
//
// Options, as attributes of the <script> tag or of a <pre>:
//   data-pyodide-url  where pyodide.mjs lives (default: ../static/pyodide/pyodide.mjs relative to embed.js)
//   data-autorun      on a <pre>: run it once the page loads (boots Pyodide right away)
//   data-webgpu       on the <script>: load js_bridge/webgpu at boot (without it, device="webgpu" loads it on
//                     first use, from the same site)
//
// JS API (window.torchJsEmbed): ready() -> Promise (the interpreter has booted); run(code) -> Promise<{stdout,
// stderr, result, error, stopped}>; stop() stops the running code; isolated: whether Stop keeps the variables;
// cells: the Cell objects, in page order; bootMs: the last boot's duration.

const here = new URL(import.meta.url);
const IN_WORKER = typeof WorkerGlobalScope !== "undefined" && self instanceof WorkerGlobalScope;
const STOP_GRACE_MS = 1500;   // an interrupt not honoured by then (Python is awaiting JS): restart the interpreter

// ---- the worker: Pyodide and the cells' Python ---------------------------------------------------------------

const RUNNER = `
async def _tjs_embed_run(code, ns):
    import sys, traceback
    from pyodide.code import eval_code_async
    try:
        result = await eval_code_async(code, ns, filename="<cell>")
        return (None if result is None else repr(result)), False, False
    except BaseException as e:
        tb = e.__traceback__
        while tb is not None and tb.tb_frame.f_code.co_filename != "<cell>":
            tb = tb.tb_next  # hide Pyodide's own frames above the cell
        stopped = isinstance(e, KeyboardInterrupt)
        limit, frame = 0, tb
        while stopped and frame is not None and frame.tb_frame.f_code.co_filename == "<cell>":
            limit, frame = limit + 1, frame.tb_next  # a Stop shows where the cell was, not torch_js's frames
        traceback.print_exception(type(e), e, tb, limit=limit or None)
        return None, True, stopped
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
`;

function workerMain() {
  const post = (msg) => self.postMessage(msg);
  let pyodide = null;
  let runCell = null;
  let namespace = null;
  let current = null;   // the running cell's id: where stdout goes

  async function boot({ pyodideUrl, webgpuUrl, webgpuAtBoot, interruptBuffer }) {
    if (webgpuAtBoot) {
      try {
        await (await import(webgpuUrl)).installWebGPU();
      } catch (e) {
        console.warn("torch_js embed: WebGPU bridge not loaded:", e);
      }
    }
    post({ type: "status", text: "loading Python…" });
    const { loadPyodide } = await import(pyodideUrl);
    // torch: the site's shim (`import torch` gives torch_js), tqdm: torch_js's progress bar under tqdm's names;
    // TORCH_JS_WEBGPU_BRIDGE: where device "webgpu" loads its bridge from on first use
    pyodide = await loadPyodide({
      indexURL: pyodideUrl.replace(/[^/]*$/, ""),
      packages: ["torch-js", "torch", "tqdm"],
      env: { TORCH_JS_WEBGPU_BRIDGE: webgpuUrl },
      stdout: (s) => post({ type: "out", id: current, kind: "out", text: s + "\n" }),
      stderr: (s) => post({ type: "out", id: current, kind: "err", text: s + "\n" }),
    });
    if (interruptBuffer) pyodide.setInterruptBuffer(interruptBuffer);
    post({ type: "status", text: "importing torch…" });
    await pyodide.runPythonAsync("import torch");
    pyodide.runPython(RUNNER);
    runCell = pyodide.globals.get("_tjs_embed_run");
    namespace = pyodide.runPython("__import__('builtins').dict(__name__='__main__')");
  }

  async function run({ id, code }) {
    current = id;
    try {
      // eval_code_async: the last expression's value is the result, and top-level await works.
      const out = await runCell(code, namespace);
      const [result, error, interrupted] = out.toJs();
      out.destroy();
      post({ type: "done", id, result: result ?? null, error: Boolean(error), stopped: Boolean(interrupted) });
    } finally {
      current = null;
    }
  }

  // Messages are handled in order: the page sends a run only after "booted", and one run at a time.
  let chain = Promise.resolve();
  self.onmessage = ({ data }) => {
    chain = chain.then(async () => {
      try {
        if (data.type === "boot") {
          const t0 = performance.now();
          await boot(data);
          post({ type: "booted", ms: performance.now() - t0 });
        } else if (data.type === "run") {
          await run(data);
        }
      } catch (e) {
        post({ type: "failed", id: data.id ?? null, message: String(e?.message ?? e) });
      }
    });
  };
}

// ---- the page: one interpreter (a worker) shared by the page's cells ------------------------------------------

class StoppedError extends Error {}

class Interpreter {
  constructor(scriptTag) {
    const cfg = (name, fallback) => scriptTag?.getAttribute(name) ?? fallback;
    this.pyodideUrl = new URL(cfg("data-pyodide-url", "../static/pyodide/pyodide.mjs"), here).href;
    this.webgpuUrl = new URL("../js_bridge/webgpu/index.mjs", here).href;
    this.webgpuAtBoot = cfg("data-webgpu", null) !== null;
    // Stop as KeyboardInterrupt needs memory shared with the worker: only a cross-origin isolated page has it
    this.isolated = Boolean(globalThis.crossOriginIsolated && typeof SharedArrayBuffer !== "undefined");
    this.interruptBuffer = this.isolated ? new Int32Array(new SharedArrayBuffer(4)) : null;
    this.worker = null;
    this.booting = null;   // Promise: the current worker has booted
    this.job = null;       // the running cell: {id, onChunk, resolve, res}
    this.queue = Promise.resolve();   // cells run one at a time, in click order
    this.nextId = 1;
    this.onStatus = () => {};
    this.bootMs = null;
  }

  /** Start the worker and boot Pyodide + torch_js in it (once per worker). */
  ready() {
    if (!this.booting) {
      // A worker's script must be same-origin with the page: a cross-origin embed.js is imported by a blob module
      const workerUrl = here.origin === location.origin ? here.href : URL.createObjectURL(
        new Blob([`import ${JSON.stringify(here.href)};`], { type: "text/javascript" }));
      const worker = new Worker(workerUrl, { type: "module", name: "torch_js embed" });
      this.worker = worker;
      this.booting = new Promise((resolve, reject) => {
        this.bootStopped = () => reject(new StoppedError());
        worker.onmessage = ({ data }) => this.message(data, resolve, reject);
        worker.onerror = (e) => reject(new Error(`the Python worker failed to start: ${e.message ?? e}`));
      });
      this.booting.catch(() => {});
      worker.postMessage({ type: "boot", pyodideUrl: this.pyodideUrl, webgpuUrl: this.webgpuUrl,
                           webgpuAtBoot: this.webgpuAtBoot, interruptBuffer: this.interruptBuffer });
    }
    return this.booting;
  }

  message(data, booted, bootFailed) {
    const job = this.job && data.id === this.job.id ? this.job : null;
    if (data.type === "status") this.onStatus(data.text);
    else if (data.type === "booted") {
      this.bootMs = data.ms;
      booted();
    } else if (data.type === "out" && job) {
      job.res[data.kind === "out" ? "stdout" : "stderr"] += data.text;
      job.onChunk?.(data.kind, data.text);
    } else if (data.type === "done" && job) {
      Object.assign(job.res, { result: data.result, error: data.error, stopped: data.stopped });
      job.resolve(job.res);
    } else if (data.type === "failed") {
      if (job) return job.reject(new Error(data.message));
      this.worker.terminate();   // the next Run tries a fresh worker
      this.worker = null;
      this.booting = null;
      bootFailed(new Error(data.message));
    }
  }

  /** Run Python source in the shared namespace; resolves to {stdout, stderr, result, error, stopped, restarted}.
   * ticket.cancelled (set before its turn comes) skips it; ticket.running tells whether it runs now. */
  run(code, onChunk, ticket = {}) {
    const job = this.queue.then(async () => {
      const res = { stdout: "", stderr: "", result: null, error: false, stopped: false, restarted: false };
      if (ticket.cancelled) return Object.assign(res, { stopped: true });
      ticket.running = true;
      try {
        await this.ready();
      } catch (e) {
        if (e instanceof StoppedError) return Object.assign(res, { stopped: true });
        throw e;
      }
      if (this.interruptBuffer) this.interruptBuffer[0] = 0;
      const id = this.nextId++;
      try {
        return await new Promise((resolve, reject) => {
          this.job = { id, onChunk, res, resolve, reject };
          this.worker.postMessage({ type: "run", id, code });
        });
      } finally {
        clearTimeout(this.stopTimer);
        this.job = null;
        ticket.running = false;
      }
    });
    this.queue = job.catch(() => {});
    return job;
  }

  /** Stop the running code: KeyboardInterrupt where the page is isolated, else (or if that does not stop it within
   * STOP_GRACE_MS) a fresh interpreter. Stopping the first boot leaves the next Run to boot again. */
  stop() {
    if (this.job && this.interruptBuffer) {
      this.interruptBuffer[0] = 2;   // SIGINT: Python raises KeyboardInterrupt at its next check
      const job = this.job;
      clearTimeout(this.stopTimer);
      this.stopTimer = setTimeout(() => this.job === job && this.restart(), STOP_GRACE_MS);
    } else if (this.worker) {
      this.restart();
    }
  }

  restart() {
    const job = this.job;
    const wasBooted = this.bootMs !== null;
    this.worker.terminate();
    this.worker = null;
    this.booting = null;
    this.bootMs = null;
    if (job) {
      Object.assign(job.res, { error: true, stopped: true, restarted: true });
      job.resolve(job.res);
    } else if (!wasBooted) {
      this.bootStopped();
    }
    if (wasBooted) this.ready();   // the next Run finds a fresh interpreter (from the browser's cache) ready
  }
}

const CSS = `
.tjs-cell{border:1px solid #d0d7de;border-radius:6px;margin:1em 0;background:#f6f8fa;font-size:14px}
.tjs-cell textarea{display:block;box-sizing:border-box;width:100%;min-height:3em;border:0;border-bottom:1px solid #d0d7de;
  padding:10px 12px;margin:0;background:#fff;font:13px/1.45 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;
  resize:vertical;border-radius:6px 6px 0 0;tab-size:4;white-space:pre;overflow:auto}
.tjs-bar{display:flex;align-items:center;gap:10px;padding:6px 10px}
.tjs-bar button{font:inherit;font-size:13px;padding:3px 14px;border:1px solid #1f6feb;border-radius:5px;background:#1f6feb;
  color:#fff;cursor:pointer}
.tjs-bar button.tjs-stop{border-color:#cf222e;background:#fff;color:#cf222e}
.tjs-bar button[hidden]{display:none}
.tjs-bar button:disabled{opacity:.6;cursor:progress}
.tjs-status{color:#57606a;font-size:12px;font-family:sans-serif}
.tjs-out{margin:0;padding:8px 12px;border-top:1px solid #d0d7de;background:#fff;white-space:pre-wrap;
  font:13px/1.45 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;border-radius:0 0 6px 6px;max-height:30em;overflow:auto}
.tjs-out:empty{display:none}
.tjs-out .tjs-err{color:#cf222e}
`;

class Cell {
  constructor(pre, interpreter) {
    this.pre = pre;
    this.interpreter = interpreter;
    this.busy = false;
    this.ticket = null;
    const code = pre.textContent.replace(/^\n/, "").replace(/\s+$/, "");
    const box = document.createElement("div");
    box.className = "tjs-cell";
    this.editor = document.createElement("textarea");
    this.editor.value = code;
    this.editor.spellcheck = false;
    this.editor.setAttribute("aria-label", "Python code (editable)");
    this.editor.rows = Math.min(Math.max(code.split("\n").length, 2), 30);
    this.editor.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && (e.shiftKey || e.ctrlKey || e.metaKey)) {
        e.preventDefault();
        this.run();
      } else if (e.key === "Tab" && !e.shiftKey) {
        e.preventDefault();
        const { selectionStart: s, selectionEnd: t, value } = this.editor;
        this.editor.value = value.slice(0, s) + "    " + value.slice(t);
        this.editor.selectionStart = this.editor.selectionEnd = s + 4;
      }
    });
    const bar = document.createElement("div");
    bar.className = "tjs-bar";
    this.button = this.makeButton("Run", "tjs-run", () => this.run());
    this.stopButton = this.makeButton("Stop", "tjs-stop", () => this.stop());
    this.stopButton.hidden = true;
    this.statusEl = document.createElement("span");
    this.statusEl.className = "tjs-status";
    this.statusEl.textContent = "torch_js · Python in your browser";
    bar.append(this.button, this.stopButton, this.statusEl);
    this.output = document.createElement("pre");
    this.output.className = "tjs-out";
    this.output.setAttribute("aria-live", "polite");
    box.append(this.editor, bar, this.output);
    pre.replaceWith(box);
    this.box = box;
  }

  makeButton(text, className, onClick) {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = text;
    button.className = className;
    button.addEventListener("click", onClick);
    return button;
  }

  setStatus(text) {
    this.statusEl.textContent = text;
  }

  append(kind, text) {
    // "\r" returns to the start of the line, as in a terminal: a progress bar (torch_js's tqdm) redraws its line
    // with "\r" + text, so only the last drawing of each line is kept (Pyodide hands lines over at "\n")
    const redraw = text.startsWith("\r");
    text = text.split("\n").map((line) => line.slice(line.lastIndexOf("\r") + 1)).join("\n");
    const last = this.output.lastElementChild;
    if (redraw && last?.dataset.redraw) {
      last.textContent = text;
      return;
    }
    const span = document.createElement("span");
    if (kind === "err") span.className = "tjs-err";
    if (redraw) span.dataset.redraw = "1";
    span.textContent = text;
    this.output.append(span);
  }

  /** Stop this cell: the running one through the interpreter, a queued one at once (its turn is skipped). */
  stop() {
    if (!this.ticket) return;
    this.ticket.cancelled = true;
    if (this.ticket.running) this.interpreter.stop();
    else this.ticket.dequeue();
    this.setStatus("stopping…");
  }

  async run() {
    if (this.busy) return;
    this.busy = true;
    this.button.disabled = true;
    this.stopButton.hidden = false;
    this.output.textContent = "";
    this.box.dataset.state = "running";
    this.setStatus(this.interpreter.bootMs !== null ? "running…" : "loading Python and torch_js…");
    const t0 = performance.now();
    const ticket = (this.ticket = {});
    const dequeued = new Promise((resolve) => {
      ticket.dequeue = () => resolve({ result: null, error: false, stopped: true, restarted: false });
    });
    try {
      const res = await Promise.race([
        this.interpreter.run(this.editor.value, (kind, text) => this.append(kind, text), ticket), dequeued]);
      if (res.result !== null) this.append("out", res.result + "\n");
      if (res.restarted) {
        this.append("err", "Stopped: Python was restarted, so the variables of earlier cells are gone (run them " +
          "again). " + (this.interpreter.isolated ? "The cell did not stop in time (it was waiting on JavaScript)."
            : "On a cross-origin isolated page (COOP/COEP headers) Stop keeps them.") + "\n");
      }
      const state = res.stopped ? "stopped" : res.error ? "error" : "done";
      this.box.dataset.state = state;
      this.setStatus(`${state} after ${((performance.now() - t0) / 1000).toFixed(2)} s`);
    } catch (e) {
      this.append("err", String(e?.message ?? e) + "\n");
      this.box.dataset.state = "error";
      this.setStatus("failed");
    } finally {
      this.busy = false;
      this.ticket = null;
      this.button.disabled = false;
      this.stopButton.hidden = true;
    }
  }
}

function init() {
  if (!document.getElementById("tjs-embed-css")) {
    const style = document.createElement("style");
    style.id = "tjs-embed-css";
    style.textContent = CSS;
    document.head.append(style);
  }
  for (const pre of document.querySelectorAll("pre.torch-js")) cells.push(new Cell(pre, interpreter));
  for (const c of cells) if (c.pre.hasAttribute("data-autorun")) c.run();
}

const cells = [];
let interpreter = null;

if (IN_WORKER) {
  workerMain();
} else {
  interpreter = new Interpreter(document.querySelector('script[src*="embed.js"]'));
  interpreter.onStatus = (text) => {
    for (const c of cells) if (c.ticket?.running) c.setStatus(text);
  };
  window.torchJsEmbed = {
    ready: () => interpreter.ready(),
    run: (code, onChunk) => interpreter.run(code, onChunk),
    stop: () => interpreter.stop(),
    isolated: interpreter.isolated,
    cells,
    get bootMs() {
      return interpreter.bootMs;
    },
  };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
}
