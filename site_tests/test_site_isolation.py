"""Cross-origin isolation of the site, in headless Chromium: served with COOP/COEP (`make serve`, `site_url`) the pages
and the kernel's worker are crossOriginIsolated; on a host that sends no such headers (`plain_site_url`) the site's
service worker (JupyterLite's, wrapped: jupyterlite_config/cross-origin-isolation*.js) isolates them after one
reload, JupyterLite's own worker still answering; without either (service workers blocked) torch_js says in one
line that threads are off. torch.__config__.parallel_info() reports the thread count and the isolation from inside
the kernel. JupyterLite's Interrupt stops a training loop that shows no progress bar within a second and the kernel
keeps its variables. The `context` fixture fails a test on any request to a host other than 127.0.0.1."""
import re
import time

from test_site import open_notebook, reader_notebook, record_timing, save_notebook

ISOLATION_HEADERS = ("cross-origin-opener-policy", "cross-origin-embedder-policy")

REPORT_CELLS = [
    "import torch\nprint(torch.__config__.parallel_info())",
    # the kernel's /drive (the notebook contents) through the isolated kernel's synchronous page calls
    "import os\nprint('drive:', sorted(os.listdir('data'))[:2], len(open('data/digits.pt', 'rb').read()) > 1000)",
]

OUTPUTS_TEXT_JS = """(i) => {
  const c = window.jupyterapp.shell.currentWidget.content.model.cells.get(i);
  let text = '';
  for (let j = 0; j < c.outputs.length; j++) {
    const o = c.outputs.get(j).toJSON();
    if (o.output_type === 'stream') text += [].concat(o.text).join('');
    if (o.output_type === 'error') text += o.ename + ': ' + o.evalue + '\\n';
  }
  return c.executionState === 'running' || c.executionCount === null ? null : text;
}"""


def console_errors(page):
    """The page's console errors and warnings from now on (a list that fills as they come), for failure messages."""
    errors = []
    page.on("console", lambda m: errors.append(m.text[:2000]) if m.type in ("error", "warning") else None)
    return errors


def run_cell(page, i, timeout_s=120):
    """Run code cell i (click, Ctrl+Enter) and return its text output once it finished."""
    page.locator(".jp-Notebook .jp-CodeCell").nth(i).click()
    page.keyboard.press("Control+Enter")
    try:
        page.wait_for_function(f"() => ({OUTPUTS_TEXT_JS})({i}) !== null", timeout=timeout_s * 1000, polling=100)
    except Exception:
        raise AssertionError(f"cell {i} did not finish; console:\n" + "\n".join(page.console_log)) from None
    return page.evaluate(OUTPUTS_TEXT_JS, i)


def report(page, site_url, name):
    """The report cells' outputs in a reader's notebook on that site: (parallel_info text, drive line)."""
    page.console_log = console_errors(page)
    save_notebook(page, site_url, name, reader_notebook(REPORT_CELLS))
    open_notebook(page, site_url, name, len(REPORT_CELLS))
    return run_cell(page, 0), run_cell(page, 1)


def check_report(info, drive):
    assert re.search(r"^\tat::get_num_threads\(\) : \d+$", info, re.M), info
    assert "drive: ['digits.pt', 'digits_mlp_pytorch.pt'] True" in drive, drive
    return next(line for line in info.splitlines() if line.startswith("Cross-origin isolated : "))


def test_served_site_is_isolated(context, site_url, artifacts):
    """`make serve`'s headers: the lab page and torch.mjs's page are isolated, and so is the kernel's worker."""
    page = context.new_page()
    for path in ("lab/index.html", "examples/torch_mjs/index.html", "static/pyodide/pyodide.asm.wasm"):
        response = page.request.get(f"{site_url}/{path}")
        assert response.ok and all(h in response.headers for h in ISOLATION_HEADERS), (path, response.headers)
    page.goto(f"{site_url}/examples/torch_mjs/index.html")
    assert page.evaluate("crossOriginIsolated") is True
    info, drive = report(page, site_url, "isolation_report.ipynb")
    # the notebook page itself (its scripts see crossOriginIsolated false: kernel-interrupt.js says why)
    assert page.evaluate("window.torchJsIsolation.isolated") is True
    assert check_report(info, drive) == "Cross-origin isolated : yes", info
    page.screenshot(path=str(artifacts / "isolation-headers.png"))


def test_service_worker_isolates_a_plain_host(context, plain_site_url, artifacts):
    """No headers from the host: each page registers the site's service worker (the URL JupyterLite registers, so
    one registration serves both), reloads once, and comes back isolated; JupyterLite's worker still answers."""
    page = context.new_page()
    response = page.request.get(f"{plain_site_url}/notebooks/index.html")
    assert not any(h in response.headers for h in ISOLATION_HEADERS), response.headers
    t0 = time.monotonic()
    page.goto(f"{plain_site_url}/tree/index.html")
    page.wait_for_function("() => window.crossOriginIsolated", timeout=30_000)
    isolated_after = time.monotonic() - t0
    worker = page.evaluate("navigator.serviceWorker.controller.scriptURL")
    assert worker == f"{plain_site_url}/service-worker.js?enableCache=false", worker
    # JupyterLite's own fetch handler, inside the wrapper
    assert page.evaluate("fetch('/api/service-worker-heartbeat').then(r => r.text())") == "ok"
    info, drive = report(page, plain_site_url, "isolation_report.ipynb")
    assert page.evaluate("window.torchJsIsolation.isolated") is True
    assert check_report(info, drive) == "Cross-origin isolated : yes", info
    page.goto(f"{plain_site_url}/examples/torch_mjs/index.html")
    page.wait_for_function("() => window.crossOriginIsolated", timeout=30_000)
    page.screenshot(path=str(artifacts / "isolation-service-worker.png"))
    record_timing(artifacts, "isolation_service_worker", {"isolated_after_s": round(isolated_after, 2)})


def test_not_isolated_says_so(browser, plain_site_url):
    """Service workers blocked and no headers: the page stays as it is, and parallel_info says in one line that
    there is no isolation, so the CPU kernels run on one thread, and what gives it."""
    context = browser.new_context(service_workers="block")
    offsite = []
    context.on("request", lambda r: None if r.url.startswith(("http://127.0.0.1:", "data:", "blob:"))
               else offsite.append(r.url))
    try:
        page = context.new_page()
        info, drive = report(page, plain_site_url, "isolation_report.ipynb")
        assert page.evaluate("window.torchJsIsolation.isolated") is False
        assert page.evaluate("window.torchJsIsolation.reason") == "service workers are not available here"
        line = [line for line in info.splitlines() if line.startswith("Cross-origin isolated : ")]
        assert len(line) == 1 and line[0].startswith("Cross-origin isolated : no: this page is not cross-origin "
                                                     "isolated") and "one thread" in line[0], info
    finally:
        context.close()
    assert not offsite, offsite


TRAINING_CELLS = [
    # a training loop with no progress bar (nothing in it looks for an interrupt)
    ("import time, torch\n"
     "torch.manual_seed(0)\n"
     "model = torch.nn.Sequential(torch.nn.Linear(64, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))\n"
     "opt = torch.optim.Adam(model.parameters(), lr=1e-3)\n"
     "x, y = torch.randn(64, 64), torch.randint(0, 10, (64,))\n"
     "step = 0\n"
     "try:\n"
     "    while True:\n"
     "        opt.zero_grad()\n"
     "        loss = torch.nn.functional.cross_entropy(model(x), y)\n"
     "        loss.backward()\n"
     "        opt.step()\n"
     "        step += 1\n"
     "except KeyboardInterrupt:\n"
     "    print(f'interrupted at step {step} at {time.time():.3f}')"),
    # the same, the KeyboardInterrupt not caught: the cell ends with it, as in Jupyter
    "while True:\n    step += 1",
    "print('kernel alive:', step > 0, float(loss) > 0)",
]


def press_interrupt(page):
    """Click the toolbar's Interrupt button; returns the click's time (epoch seconds, the page's clock)."""
    clicked = page.evaluate("() => Date.now() / 1000")
    page.locator(".jp-Toolbar [data-jp-item-name='interrupt'] button, "
                 ".jp-Toolbar button[data-command='notebook:interrupt-kernel']").first.click()
    return clicked


def test_interrupt_stops_a_training_loop(context, site_url, artifacts):
    page = context.new_page()
    name = "interrupt_training.ipynb"
    page.console_log = console_errors(page)
    save_notebook(page, site_url, name, reader_notebook(TRAINING_CELLS))
    open_notebook(page, site_url, name, len(TRAINING_CELLS))
    page.wait_for_function("() => window.torchJsInterrupt && window.torchJsInterrupt.ready.size === 1",
                           timeout=60_000)
    latencies = []
    for i in (0, 1):
        page.locator(".jp-Notebook .jp-CodeCell").nth(i).click()
        page.keyboard.press("Control+Enter")
        time.sleep(3.0)   # well into the loop
        assert page.evaluate(OUTPUTS_TEXT_JS, i) is None, "the loop ended by itself"
        clicked = press_interrupt(page)
        page.wait_for_function(f"() => ({OUTPUTS_TEXT_JS})({i}) !== null", timeout=30_000, polling=20)
        ended = page.evaluate("() => Date.now() / 1000")
        out = page.evaluate(OUTPUTS_TEXT_JS, i)
        if i == 0:
            step, when = re.search(r"interrupted at step (\d+) at ([\d.]+)", out).groups()
            assert int(step) > 10, out
            latencies.append(round(float(when) - clicked, 3))
        else:
            assert "KeyboardInterrupt" in out, out   # the kernel names it "<class 'KeyboardInterrupt'>"
            latencies.append(round(ended - clicked, 3))
        assert latencies[-1] < 1.0, (out, latencies)
    assert "kernel alive: True True" in run_cell(page, 2)
    # no flag file for torch_js's progress bar left behind (the kernel stopped by itself)
    assert not page.evaluate("""async () => {
      try { await window.jupyterapp.serviceManager.contents.get('.torch_js_interrupt'); return true; }
      catch (e) { return false; } }""")
    page.screenshot(path=str(artifacts / "interrupt-training.png"))
    record_timing(artifacts, "interrupt_training_loop", {"stop_s": latencies})
