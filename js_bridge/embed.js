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
// tracebacks) appears below it. The first Run loads Pyodide and torch_js from the same site as embed.js (the
// site's static/pyodide/, whose pyodide-lock.json lists torch_js), so nothing comes from a CDN. All cells on a
// page share one interpreter and its globals, like notebook cells. Shift+Enter (or Ctrl/Cmd+Enter) runs a cell.
//
// Options, as attributes of the <script> tag or of a <pre>:
//   data-pyodide-url  where pyodide.mjs lives (default: ../static/pyodide/pyodide.mjs relative to embed.js)
//   data-autorun      on a <pre>: run it once the page loads (boots Pyodide right away)
//   data-webgpu       on the <script>: load js_bridge/webgpu at boot (without it, device="webgpu" loads it on
//                     first use, from the same site)
//
// JS API (window.torchJsEmbed): ready() -> Promise<pyodide>; run(code) -> Promise<{stdout, stderr, result, error}>;
// cells: the Cell objects, in page order.

const here = new URL(import.meta.url);
const scriptTag = document.querySelector('script[src*="embed.js"]');
const cfg = (name, fallback) => scriptTag?.getAttribute(name) ?? fallback;
const PYODIDE_URL = new URL(cfg("data-pyodide-url", "../static/pyodide/pyodide.mjs"), here).href;
const WEBGPU_URL = new URL("../js_bridge/webgpu/index.mjs", here).href;

const CSS = `
.tjs-cell{border:1px solid #d0d7de;border-radius:6px;margin:1em 0;background:#f6f8fa;font-size:14px}
.tjs-cell textarea{display:block;box-sizing:border-box;width:100%;min-height:3em;border:0;border-bottom:1px solid #d0d7de;
  padding:10px 12px;margin:0;background:#fff;font:13px/1.45 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;
  resize:vertical;border-radius:6px 6px 0 0;tab-size:4;white-space:pre;overflow:auto}
.tjs-bar{display:flex;align-items:center;gap:10px;padding:6px 10px}
.tjs-bar button{font:inherit;font-size:13px;padding:3px 14px;border:1px solid #1f6feb;border-radius:5px;background:#1f6feb;
  color:#fff;cursor:pointer}
.tjs-bar button:disabled{opacity:.6;cursor:progress}
.tjs-status{color:#57606a;font-size:12px;font-family:sans-serif}
.tjs-out{margin:0;padding:8px 12px;border-top:1px solid #d0d7de;background:#fff;white-space:pre-wrap;
  font:13px/1.45 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;border-radius:0 0 6px 6px;max-height:30em;overflow:auto}
.tjs-out:empty{display:none}
.tjs-out .tjs-err{color:#cf222e}
`;

let pyodidePromise = null;
let queue = Promise.resolve(); // cells run one at a time, in click order
let sink = null; // the current cell's output collector

function status(text) {
  for (const c of cells) if (c.busy) c.setStatus(text);
}

/** Boot Pyodide + torch_js once (from the same site), and return the pyodide object. */
export function ready() {
  if (!pyodidePromise) {
    pyodidePromise = (async () => {
      const t0 = performance.now();
      if (cfg("data-webgpu", null) !== null) {
        try {
          const { installWebGPU } = await import(WEBGPU_URL);
          await installWebGPU();
        } catch (e) {
          console.warn("torch_js embed: WebGPU bridge not loaded:", e);
        }
      }
      status("loading Python…");
      const { loadPyodide } = await import(PYODIDE_URL);
      const indexURL = PYODIDE_URL.replace(/[^/]*$/, "");
      // torch: the site's shim (`import torch` gives torch_js), tqdm: torch_js's progress bar under tqdm's names;
      // TORCH_JS_WEBGPU_BRIDGE: where device "webgpu" loads its bridge from on first use
      const pyodide = await loadPyodide({
        indexURL,
        packages: ["torch-js", "torch", "tqdm"],
        env: { TORCH_JS_WEBGPU_BRIDGE: WEBGPU_URL },
        stdout: (s) => sink?.("out", s + "\n"),
        stderr: (s) => sink?.("err", s + "\n"),
      });
      status("importing torch…");
      await pyodide.runPythonAsync("import torch");
      window.torchJsEmbed.bootMs = performance.now() - t0;
      return pyodide;
    })();
  }
  return pyodidePromise;
}

const RUNNER = `
async def _tjs_embed_run(code, ns):
    import sys, traceback
    from pyodide.code import eval_code_async
    try:
        result = await eval_code_async(code, ns, filename="<cell>")
        return (None if result is None else repr(result)), False
    except BaseException as e:
        tb = e.__traceback__
        while tb is not None and tb.tb_frame.f_code.co_filename != "<cell>":
            tb = tb.tb_next  # hide Pyodide's own frames above the cell
        traceback.print_exception(type(e), e, tb)
        return None, True
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
`;

let runnerReady = null;

/** Run Python source in the shared namespace; resolves to {stdout, stderr, result, error}. */
export function run(code, onChunk) {
  const job = queue.then(async () => {
    const pyodide = await ready();
    if (!runnerReady) {
      pyodide.runPython(RUNNER);
      runnerReady = pyodide.runPython("__import__('builtins').dict(__name__='__main__')");
    }
    const res = { stdout: "", stderr: "", result: null, error: false };
    sink = (kind, text) => {
      if (kind === "out") res.stdout += text;
      else res.stderr += text;
      onChunk?.(kind, text);
    };
    try {
      // eval_code_async: the last expression's value is the result, and top-level await works.
      const fn = pyodide.globals.get("_tjs_embed_run");
      const out = await fn(code, runnerReady);
      const [result, error] = out.toJs();
      out.destroy();
      fn.destroy();
      res.result = result ?? null;
      res.error = Boolean(error);
    } finally {
      sink = null;
    }
    return res;
  });
  queue = job.catch(() => {});
  return job;
}

class Cell {
  constructor(pre) {
    this.pre = pre;
    this.busy = false;
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
    this.button = document.createElement("button");
    this.button.type = "button";
    this.button.textContent = "Run";
    this.button.className = "tjs-run";
    this.button.addEventListener("click", () => this.run());
    this.statusEl = document.createElement("span");
    this.statusEl.className = "tjs-status";
    this.statusEl.textContent = "torch_js · Python in your browser";
    bar.append(this.button, this.statusEl);
    this.output = document.createElement("pre");
    this.output.className = "tjs-out";
    this.output.setAttribute("aria-live", "polite");
    box.append(this.editor, bar, this.output);
    pre.replaceWith(box);
    this.box = box;
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

  async run() {
    if (this.busy) return;
    this.busy = true;
    this.button.disabled = true;
    this.output.textContent = "";
    this.box.dataset.state = "running";
    this.setStatus(pyodidePromise ? "running…" : "loading Python and torch_js (first run only)…");
    const t0 = performance.now();
    try {
      const res = await run(this.editor.value, (kind, text) => this.append(kind, text));
      if (res.result !== null) this.append("out", res.result + "\n");
      this.box.dataset.state = res.error ? "error" : "done";
      this.setStatus(`${res.error ? "error" : "done"} in ${((performance.now() - t0) / 1000).toFixed(2)} s`);
    } catch (e) {
      this.append("err", String(e?.message ?? e) + "\n");
      this.box.dataset.state = "error";
      this.setStatus("failed");
    } finally {
      this.busy = false;
      this.button.disabled = false;
    }
  }
}

const cells = [];

function init() {
  if (!document.getElementById("tjs-embed-css")) {
    const style = document.createElement("style");
    style.id = "tjs-embed-css";
    style.textContent = CSS;
    document.head.append(style);
  }
  for (const pre of document.querySelectorAll("pre.torch-js")) cells.push(new Cell(pre));
  for (const c of cells) if (c.pre.hasAttribute("data-autorun")) c.run();
}

window.torchJsEmbed = { ready, run, cells, bootMs: null };
if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
else init();
