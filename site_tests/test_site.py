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

# the real-model notebooks (weights from tools/site_models.py) run in test_site_models.py, against CPython's outputs
MODEL_NOTEBOOKS = ("semantic_search.ipynb", "text_generation.ipynb")
# run with the page that loads what it saves, in test_torch_mjs_site.py
PAGE_NOTEBOOKS = ("torch_mjs_export.ipynb", "benchmark.ipynb")  # benchmark: quick, in test_site_benchmark.py
NOTEBOOKS = sorted(p.name for p in (REPO / "content").glob("*.ipynb") if p.name not in MODEL_NOTEBOOKS + PAGE_NOTEBOOKS)
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
    let svgs = 0;
    for (let j = 0; j < c.outputs.length; j++) {
      const o = c.outputs.get(j).toJSON();
      if (o.output_type === 'stream' && o.name === 'stdout') stdout += Array.isArray(o.text) ? o.text.join('') : o.text;
      if (o.output_type === 'error') errors.push(o.ename + ': ' + o.evalue + '\\n' + (o.traceback || []).join('\\n'));
      else if (o.output_type === 'stream' && o.name === 'stderr') errors.push('stderr: ' + o.text);
      const rich = o.data && (o.data['text/html'] || o.data['image/svg+xml']);
      if (rich) svgs += ([].concat(rich).join('').match(/<svg/g) || []).length;
    }
    cells.push({count: c.executionCount, state: c.executionState, errors, stdout, svgs});
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


# Chromium runs with --enable-unsafe-webgpu (a SwiftShader adapter here): the webgpu notebook must really use it;
# digits_mlp lets torch.accelerator choose, which picks the CPU on a software adapter and says why.
EXPECT_STDOUT = {
    "digits_mlp.ipynb": ["device: cpu", "why: cpu: the WebGPU adapter is a software one (", "epochs on cpu in"],
    "webgpu.ipynb": ["using device: webgpu", "webgpu:"],
}


def open_notebook(page, site_url, name, n_code):
    """Open content `name` in the Notebook app and wait for its kernel; returns the seconds that took."""
    t0 = time.monotonic()
    page.goto(f"{site_url}/notebooks/index.html?path={name}")
    page.wait_for_selector(".jp-Notebook .jp-CodeCell", timeout=120_000)
    wait_kernel_idle(page)
    state = page.evaluate(STATE_JS)
    assert state and len(state["cells"]) == n_code, state
    return time.monotonic() - t0


def run_all_cells(page, artifacts, name, n_code):
    """Run → Run All Cells, until every cell ran once, in order, with no error output (else a screenshot and a
    failure). Returns (final state, seconds to the first cell's end, seconds to the last's)."""
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
    counts = [c["count"] for c in state["cells"]]
    assert counts == list(range(1, n_code + 1)), f"cells did not run once each, in order: {counts}"
    return state, t_first, time.monotonic() - t_run


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs_offline(context, site_url, artifacts, name):
    page = context.new_page()
    page_errors = []
    page.on("pageerror", lambda e: page_errors.append(str(e)))
    nb = json.loads((REPO / "content" / name).read_text())
    n_code = sum(c["cell_type"] == "code" for c in nb["cells"])
    t_ready = open_notebook(page, site_url, name, n_code)
    state, t_first, t_all = run_all_cells(page, artifacts, name, n_code)

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


# A reader's own notebook, made in the browser (not one of content/): PyTorch code with `import torch`, no setup cell.
IMPORT_TORCH_CELLS = [
    ('import torch; print(torch.tensor([1., 2.]) * 2, torch.nn.functional is __import__("torch_js").nn.functional)',
     "tensor([2., 4.]) True"),
    ("import torch.nn.functional as F\nfrom torch.utils.data import DataLoader, TensorDataset\n"
     "loader = DataLoader(TensorDataset(torch.arange(4.)), batch_size=2)\n"
     "print('relu', F.relu(torch.tensor([-1.0, 2.0])).tolist(), 'batches', len(loader))",
     "relu [0.0, 2.0] batches 2"),
    ("try:\n    torch.ones(2).numpy()\nexcept RuntimeError as e:\n    print('numpy:', e)",
     "numpy: Numpy is not available: Tensor.numpy() needs numpy"),
    ("from torch.utils.tensorboard import SummaryWriter\n"
     "with SummaryWriter() as writer:\n"
     "    for step in range(30):\n"
     "        writer.add_scalar('Loss/train', 1.0 / (step + 1), step)\n"
     "        writer.add_scalars('acc', {'train': step / 30, 'val': step / 40}, step)\n"
     "print('drawn inline:', writer.inline)",
     "drawn inline: True"),
]


def reader_notebook(sources):
    """A new notebook (its JSON) with these code cells, as a reader would make one."""
    return {"nbformat": 4, "nbformat_minor": 5, "metadata": {"kernelspec": {"name": "python", "display_name":
            "Python (Pyodide)", "language": "python"}},
            "cells": [{"cell_type": "code", "id": f"c{i}", "metadata": {}, "execution_count": None, "outputs": [],
                       "source": code} for i, code in enumerate(sources)]}


def save_notebook(page, site_url, name, nb):
    """Save notebook `nb` in the browser context's storage, where the Notebook app opens it from."""
    page.goto(f"{site_url}/tree/index.html")
    page.wait_for_function("() => window.jupyterapp && window.jupyterapp.serviceManager", timeout=120_000)
    page.evaluate("""async ([path, content]) => {
      const sm = window.jupyterapp.serviceManager;
      await sm.ready;
      await sm.contents.save(path, {type: 'notebook', format: 'json', content});
    }""", [name, nb])


def test_reader_notebook_import_torch(context, site_url, artifacts):
    """A new notebook whose first cell is `import torch` runs PyTorch code on torch_js: torch.nn.functional is
    torch_js's own module, .numpy() says why there is no numpy, SummaryWriter draws its charts inline."""
    name = "import_torch.ipynb"
    page = context.new_page()
    save_notebook(page, site_url, name, reader_notebook([code for code, _ in IMPORT_TORCH_CELLS]))
    open_notebook(page, site_url, name, len(IMPORT_TORCH_CELLS))
    state, _, t_all = run_all_cells(page, artifacts, name, len(IMPORT_TORCH_CELLS))
    page.screenshot(path=str(artifacts / "import_torch.png"), full_page=True)
    for cell, (code, expected) in zip(state["cells"], IMPORT_TORCH_CELLS):
        assert expected in cell["stdout"], f"{code!r}: {expected!r} not printed; stdout: {cell['stdout']!r}"
    assert state["cells"][-1]["svgs"] == 2, "SummaryWriter's output: one chart per tag (Loss/train, acc)"
    record_timing(artifacts, name, {"all_cells_s": round(t_all, 2)})


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
