"""torch.set_num_threads in a browser: Pyodide in a module Web Worker (as in the site's kernel), the torch_js wheel from
dist/, the threaded gemm on nested Web Workers over a shared WebAssembly.Memory (backends/cpu/wasm_threads.py).

Cross-origin isolated (COOP/COEP headers): the workers (the default count's asked for at import) come up once Pyodide's
worker returns to its event loop, then matmul / conv2d give the same bits at 2 and 4 threads as at 1 and the workers
take part. Without the headers: get_num_threads() is 1 and torch_js says why in one RuntimeWarning. Served from this
process on 127.0.0.1 (the repo's node_modules/pyodide and dist/: `make wheel`); needs Chromium as the other site tests.
"""
import functools
import http.server
import json
import threading
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

PAGE = """<!doctype html><meta charset="utf-8"><title>threads</title><script>
const worker = new Worker("/__threads__/worker.mjs", { type: "module" });
worker.onmessage = (e) => { window.threadsResult = e.data; };
worker.onerror = (e) => { window.threadsResult = JSON.stringify({ error: String(e.message) }); };
</script>"""

WORKER = """import { loadPyodide } from "/node_modules/pyodide/pyodide.mjs";
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
try {
  const pyodide = await loadPyodide({ indexURL: "/node_modules/pyodide/" });
  const wheel = await (await fetch("/__threads__/wheel")).arrayBuffer();
  pyodide.unpackArchive(wheel, "wheel");
  pyodide.runPython(SETUP);
  // the nested workers start only while this worker's event loop turns; those of the default count were asked for
  // at import, so they come up with no product run
  for (let i = 0; i < 200 && !pyodide.runPython("default_ready()"); i++) await sleep(50);
  for (let i = 0; i < 200 && pyodide.runPython("start()") < 3; i++) await sleep(50);
  postMessage(pyodide.runPython("check()"));
} catch (e) {
  postMessage(JSON.stringify({ error: String(e && e.stack || e) }));
}
"""

SETUP = """
import json, warnings
with warnings.catch_warnings(record=True) as said:
    warnings.simplefilter("always")
    import torch_js as tj
    import torch_js.nn.functional as F
    from torch_js.backends.cpu import threads, wasm_threads

def default_ready():
    pool = wasm_threads._state["pool"]
    return not wasm_threads.available() or (pool is not None and pool.ready() >= tj.get_num_threads() - 1)

def start():
    return wasm_threads.start_workers(4) if wasm_threads.available() else 3

def bits(t):
    return t.to(tj.float64).flatten().tolist()

def check():
    out = {"default_ready": default_ready(), "available": wasm_threads.available(),
           "reason": wasm_threads.unavailable_reason(), "threads": tj.get_num_threads(),
           "cores": threads.machine_cores(), "warnings": [str(w.message) for w in said]}
    if wasm_threads.available():
        tj.manual_seed(0)
        a, b = tj.randn(300, 310), tj.randn(310, 290)
        x, w = tj.randn(2, 16, 24, 24), tj.randn(32, 16, 3, 3)
        ref = {}
        same = True
        joined = wasm_threads.joined()
        for n in (1, 2, 4, 1):
            tj.set_num_threads(n)
            got = (bits(a @ b), bits(F.conv2d(x, w, padding=1)))
            same = same and ref.setdefault("r", got) == got
        out.update(same=same, joined=wasm_threads.joined() - joined, ready=wasm_threads.start_workers(4))
    return json.dumps(out)
"""


def _server(isolated):
    wheels = sorted((REPO / "dist").glob("torch_js-*.whl"), key=lambda p: p.stat().st_mtime)
    if not wheels:
        pytest.fail("no torch_js wheel in dist/: run `make wheel`")
    files = {"/__threads__/page.html": (PAGE.encode(), "text/html"),
             "/__threads__/worker.mjs": (WORKER.replace("SETUP", json.dumps(SETUP)).encode(), "text/javascript"),
             "/__threads__/wheel": (wheels[-1].read_bytes(), "application/octet-stream")}

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def end_headers(self):
            if isolated:
                self.send_header("Cross-Origin-Opener-Policy", "same-origin")
                self.send_header("Cross-Origin-Embedder-Policy", "require-corp")
            super().end_headers()

        def do_GET(self):
            if self.path in files:
                body, kind = files[self.path]
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            elif self.path.startswith("/node_modules/pyodide/"):
                super().do_GET()
            else:
                self.send_error(404)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(REPO)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _run(browser, isolated):
    server = _server(isolated)
    try:
        page = browser.new_page()
        page.goto(f"http://127.0.0.1:{server.server_address[1]}/__threads__/page.html")
        page.wait_for_function("window.threadsResult !== undefined", timeout=120_000)
        result = json.loads(page.evaluate("window.threadsResult"))
        page.close()
    finally:
        server.shutdown()
        server.server_close()
    assert "error" not in result, result.get("error")
    return result


def test_threads_in_an_isolated_page(browser):
    r = _run(browser, isolated=True)
    assert r["available"] and r["reason"] == "" and r["warnings"] == []
    assert r["default_ready"] and r["ready"] == 3 and r["same"] and r["joined"] > 0


def test_one_thread_without_isolation(browser):
    r = _run(browser, isolated=False)
    assert not r["available"] and r["threads"] == 1
    # said once, at import, where the default would have been more than one thread
    assert len(r["warnings"]) == (r["cores"] > 1) and all("cross-origin isolated" in w for w in r["warnings"])
