"""Every notebook in content/ runs top to bottom in the built site, offline; the blog embed demo works."""
import json
import re
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from conftest import REPO, serve

NOTEBOOKS = sorted(p.name for p in (REPO / "content").glob("*.ipynb"))
STDERR = '[data-mime-type="application/vnd.jupyter.stderr"]'

# The notebook's state from its model (window.jupyterapp, the Notebook app): the DOM alone is not enough, since
# JupyterLab attaches cells lazily ("contentVisibility" windowing) and a cell far down may not exist there yet.
STATE_JS = """() => {
  const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  const model = w && w.content && w.content.model;
  if (!model) return null;
  const cells = [];
  for (let i = 0; i < model.cells.length; i++) {
    const c = model.cells.get(i);
    if (c.type !== 'code') continue;
    const errors = [];
    let stdout = '';
    for (let j = 0; j < c.outputs.length; j++) {
      const o = c.outputs.get(j).toJSON();
      if (o.output_type === 'stream' && o.name === 'stdout') stdout += Array.isArray(o.text) ? o.text.join('') : o.text;
      if (o.output_type === 'error') errors.push(o.ename + ': ' + o.evalue + '\\n' + (o.traceback || []).join('\\n'));
      else if (o.output_type === 'stream' && o.name === 'stderr') errors.push('stderr: ' + o.text);
    }
    cells.push({count: c.executionCount, state: c.executionState, errors, stdout});
  }
  const kernel = w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;
  return {
    kernel: kernel ? kernel.status : null,
    cells,
    domErrors: [...document.querySelectorAll('.jp-Notebook .jp-OutputArea-output%s, .jp-Notebook .jp-OutputArea-output[data-mime-type="application/vnd.jupyter.error"]')]
      .map(e => e.innerText.slice(0, 2000)),
  };
}""" % STDERR


def record_timing(artifacts, key, value):
    path = artifacts / "timings.json"
    data = json.loads(path.read_text()) if path.exists() else {}
    data[key] = value
    path.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")


def wait_kernel_idle(page, timeout_s=240):
    """Until the notebook's kernel (Pyodide in a worker, torch_js preloaded) reports idle after starting."""
    page.wait_for_function("""() => {
      const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
      const k = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;
      return k && k.status === 'idle' && w.sessionContext.isReady;
    }""", timeout=timeout_s * 1000, polling=100)


# Chromium runs with --enable-unsafe-webgpu (a SwiftShader adapter here): the GPU notebooks must really use it.
EXPECT_STDOUT = {
    "digits_mlp.ipynb": ["device: webgpu", "epochs on webgpu in"],
    "webgpu.ipynb": ["using device: webgpu", "webgpu:"],
}


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs_offline(context, site_url, artifacts, name):
    page = context.new_page()
    page_errors = []
    page.on("pageerror", lambda e: page_errors.append(str(e)))
    t0 = time.monotonic()
    page.goto(f"{site_url}/notebooks/index.html?path={name}")
    page.wait_for_selector(".jp-Notebook .jp-CodeCell", timeout=120_000)
    wait_kernel_idle(page)
    t_ready = time.monotonic() - t0
    nb = json.loads((REPO / "content" / name).read_text())
    n_code = sum(c["cell_type"] == "code" for c in nb["cells"])
    state = page.evaluate(STATE_JS)
    assert state and len(state["cells"]) == n_code, state

    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
    page.locator(".lm-Menu-item:visible .lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
    t_run = time.monotonic()
    t_first = None
    deadline = t_run + 540
    while True:
        state = page.evaluate(STATE_JS)
        errors = [e for c in state["cells"] for e in c["errors"]] + state["domErrors"]
        if errors:
            page.screenshot(path=str(artifacts / f"{Path(name).stem}-error.png"))
            pytest.fail(f"{name}: error output:\n" + "\n---\n".join(errors))
        done = [c["count"] is not None and c["state"] != "running" for c in state["cells"]]
        if t_first is None and done[0]:
            t_first = time.monotonic() - t_run
        if all(done) and state["kernel"] == "idle":
            break
        if time.monotonic() > deadline:
            page.screenshot(path=str(artifacts / f"{Path(name).stem}-timeout.png"))
            pytest.fail(f"{name}: cells not finished after {deadline - t_run:.0f} s: {state['cells']}")
        time.sleep(0.25)
    t_all = time.monotonic() - t_run
    counts = [c["count"] for c in state["cells"]]
    assert counts == list(range(1, n_code + 1)), f"cells did not run once each, in order: {counts}"

    page.locator(".jp-Notebook .jp-Cell").last.scroll_into_view_if_needed()
    time.sleep(0.3)
    page.screenshot(path=str(artifacts / f"{Path(name).stem}.png"))  # the notebook's end, as a user sees it
    # ... and the whole notebook: a viewport as tall as its content.
    height = page.evaluate("() => Math.max(...[...document.querySelectorAll('*')].map(e => e.scrollHeight))")
    page.set_viewport_size({"width": 1280, "height": min(int(height) + 200, 16000)})
    time.sleep(0.5)
    page.screenshot(path=str(artifacts / f"{Path(name).stem}-full.png"))
    record_timing(artifacts, name, {"kernel_ready_s": round(t_ready, 2), "first_cell_s": round(t_first or -1, 2),
                                    "all_cells_s": round(t_all, 2), "code_cells": n_code})
    assert not page_errors, f"uncaught page errors: {page_errors}"
    stdout = "".join(c["stdout"] for c in state["cells"])
    for text in EXPECT_STDOUT.get(name, ()):
        assert text in stdout, f"{name}: {text!r} not printed; stdout:\n{stdout[-3000:]}"


def run_embed_demo(page, base):
    page.goto(f"{base}/embed/demo.html")
    cells = page.locator(".tjs-cell")
    assert cells.count() == 3

    def run(i, state):
        cell = cells.nth(i)
        cell.locator("button.tjs-run").click()
        page.wait_for_function(
            "i => document.querySelectorAll('.tjs-cell')[i].dataset.state !== 'running'", arg=i, timeout=180_000)
        out = cell.locator(".tjs-out").inner_text()
        assert cell.get_attribute("data-state") == state, f"cell {i}: expected {state}, got:\n{out}"
        return out

    t0 = time.monotonic()
    out0 = run(0, "done")
    t_first = time.monotonic() - t0
    assert "tensor([[0.4963, 0.7682, 0.0885]," in out0, out0   # torch.manual_seed(0); torch.rand(2, 3)
    assert "torch.Size([2, 3])" in out0, out0                  # the last expression's repr
    out1 = run(1, "done")
    assert "grad equals 2x: True" in out1, out1                # cells share globals (x from cell 0)
    out2 = run(2, "error")
    assert "RuntimeError" in out2 and "Traceback" in out2, out2
    # Edited code runs as edited.
    cells.nth(0).locator("textarea").fill("y = torch.arange(4) * 2\ny.tolist()")
    assert "[0, 2, 4, 6]" in run(0, "done")
    return t_first


def test_embed_demo(context, site_url, artifacts):
    page = context.new_page()
    t_first = run_embed_demo(page, site_url)
    page.screenshot(path=str(artifacts / "embed-demo.png"), full_page=True)
    record_timing(artifacts, "embed_demo", {"first_run_s": round(t_first, 2)})


def test_bundle_serves_with_http_server(context, artifacts, tmp_path):
    """The classroom zip, unpacked and served by plain `python -m http.server`, works (the embed demo boots)."""
    bundles = sorted((REPO / "dist").glob("torch_js-site-*.zip"))
    if not bundles:
        pytest.skip("no dist/torch_js-site-*.zip (run `make bundle`)")
    with zipfile.ZipFile(bundles[-1]) as z:
        z.extractall(tmp_path)
    roots = [p for p in tmp_path.iterdir() if p.is_dir()]
    assert len(roots) == 1 and (roots[0] / "index.html").exists()
    server, _ = serve(roots[0])  # just to find a free port
    port = server.server_address[1]
    server.shutdown()
    server.server_close()
    proc = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
                            cwd=roots[0], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        page = context.new_page()
        for _ in range(50):
            try:
                page.goto(f"{base}/embed/demo.html")
                break
            except Exception:
                time.sleep(0.1)
        run_embed_demo(page, base)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
