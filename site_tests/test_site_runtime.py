"""The site's runtime without setup cells, in headless Chromium: `import torch` in a reader's own notebook, the
webgpu device loading its JS bridge by itself on first use, torch.accelerator's choice and its one-line reason
(Chromium here has only SwiftShader, a software adapter: the choice must be the CPU), the `tqdm` shim drawing one
HTML bar updated in place, tensor plots as inline SVG, and no JavaScript proxy (`jsnull`, JsProxy) in any output.
The blog embed and the REPL get `import torch` and the webgpu device the same way; the Interrupt button stops a
loop that shows a progress bar; a browser without WebGPU gets a one-line error that says what to do."""
import json
import re
import time
from urllib.parse import quote

import pytest

from conftest import CHROMIUM, CHROMIUM_ARGS, REPO
from test_site import open_notebook, reader_notebook, record_timing, run_all_cells, save_notebook

# Every output of every code cell as JSON text (stream text, rich data), from the notebook's model.
OUTPUTS_JS = """() => {
  const model = window.jupyterapp.shell.currentWidget.content.model;
  const cells = [];
  for (let i = 0; i < model.cells.length; i++) {
    const c = model.cells.get(i);
    if (c.type !== 'code') continue;
    const outs = [];
    for (let j = 0; j < c.outputs.length; j++) outs.push(c.outputs.get(j).toJSON());
    cells.push(outs);
  }
  return cells;
}"""

JS_PROXY = re.compile(r"jsnull|JsProxy|JsNull|\[object [A-Z]\w*\]|<pyodide\.ffi")

RUNTIME_CELLS = [
    # 0: no setup cell: torch is torch_js, tqdm is torch_js's bar
    ("import sys, torch, tqdm\n"
     "from tqdm.auto import tqdm as auto_tqdm\n"
     "print('torch is torch_js:', torch is sys.modules['torch_js'], '| tqdm:', auto_tqdm.__module__)"),
    # 1: first use of device "webgpu", no loader cell and no init(): the bridge loads itself
    ("x = torch.arange(4.0, device='webgpu')\n"
     "print('webgpu sum:', (x * 2).sum().item(), x.device)"),
    # 2: the accelerator's choice, and why, in one line
    ("acc = torch.accelerator.current_accelerator(check_available=True)\n"
     "print('accelerator:', acc, '| available:', torch.accelerator.is_available())\n"
     "print('reason:', torch.accelerator.reason())\n"
     "print('adapter:', torch.webgpu.adapter_name(), '| software:', torch.webgpu.is_software_adapter())"),
    # 3: a tqdm loop: one HTML output, re-drawn in place
    ("total = 0\n"
     "for i in (bar := auto_tqdm(range(30), desc='steps')):\n"
     "    total += (torch.ones(64, 64) @ torch.ones(64, 64)).sum().item()\n"
     "    bar.set_postfix(loss=1.0 / (i + 1))\n"
     "print('loop done', total)"),
    # 4: plots of tensors (two displayed, the last one the cell's value)
    ("from torch_js.utils.plot import hist, imshow, plot\n"
     "display(plot(torch.arange(10.0) ** 2, label='x**2'))\n"
     "display(imshow(torch.rand(3, 8, 8)))\n"
     "hist(torch.randn(500), bins=20)"),
    # 5: awaiting the device (a JS promise inside) shows no JS value
    "await torch.webgpu.init()\nawait torch.webgpu.synchronize_async()",
]


def _reader_notebook(page, site_url, name, sources):
    """Save a new notebook with these code cells in the browser's storage (as a reader would make one)."""
    save_notebook(page, site_url, name, reader_notebook(sources))


def _text(outputs):
    return "".join(json.dumps(o) for o in outputs)


def test_runtime_without_setup_cells(context, site_url, artifacts):
    page = context.new_page()
    name = "runtime.ipynb"
    _reader_notebook(page, site_url, name, RUNTIME_CELLS)
    open_notebook(page, site_url, name, len(RUNTIME_CELLS))
    state, _, t_all = run_all_cells(page, artifacts, name, len(RUNTIME_CELLS))
    page.screenshot(path=str(artifacts / "runtime.png"), full_page=True)
    outputs = page.evaluate(OUTPUTS_JS)
    stdout = [c["stdout"] for c in state["cells"]]

    assert "torch is torch_js: True | tqdm: torch_js.utils.progress" in stdout[0], stdout[0]
    assert "webgpu sum: 12.0 webgpu" in stdout[1], stdout[1]

    # Chromium's only adapter here is SwiftShader: webgpu works when named, but is no accelerator
    assert "adapter: google swiftshader" in stdout[2].lower() and "software: True" in stdout[2], stdout[2]
    assert "accelerator: None | available: False" in stdout[2], stdout[2]
    reason = re.search(r"^reason: (.*)$", stdout[2], re.M).group(1)
    assert reason.startswith("cpu: the WebGPU adapter is a software one ("), reason

    # one display, updated in place (an update replaces the output: still one), at 100% with the postfix
    bars = [o for o in outputs[3] if o["output_type"] == "display_data"]
    assert len(bars) == 1, outputs[3]
    html = "".join(bars[0]["data"]["text/html"])
    assert "<progress" in html and "100%" in html and "30/30" in html and "loss=0.0333" in html, html
    assert "loop done 7864320.0" in stdout[3]

    assert state["cells"][4]["svgs"] == 3, outputs[4]
    assert "data:image/png;base64," in _text(outputs[4])   # imshow's pixels

    assert outputs[5] == [], outputs[5]
    for i, outs in enumerate(outputs):
        assert not JS_PROXY.search(_text(outs)), f"cell {i} shows a JS value: {_text(outs)[:2000]}"
    record_timing(artifacts, "runtime.ipynb", {"all_cells_s": round(t_all, 2)})


EXPECT = {   # (test_site.py checks more of their printed text)
    "digits_mlp.ipynb": ["device: cpu", "why: cpu: the WebGPU adapter is a software one ("],
    "webgpu.ipynb": ["using device: webgpu", "torch.accelerator: cpu: the WebGPU adapter is a software one ("],
}


@pytest.mark.parametrize("name", sorted(EXPECT))
def test_gpu_notebooks_need_no_loader_and_show_no_js_values(context, site_url, artifacts, name):
    """digits_mlp printed `jsnull` (the value of its run_js loader cell): no notebook has a loader cell any more,
    none shows a JS value, and their plots are drawn (digits: 2 line charts, 1 image, 1 histogram)."""
    page = context.new_page()
    nb = json.loads((REPO / "content" / name).read_text())
    sources = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
    assert not any("run_js" in s or "installWebGPU" in s for s in sources), name
    open_notebook(page, site_url, name, len(sources))
    state, _, _ = run_all_cells(page, artifacts, name, len(sources))
    outputs = page.evaluate(OUTPUTS_JS)
    for i, outs in enumerate(outputs):
        assert not JS_PROXY.search(_text(outs)), f"{name} cell {i} shows a JS value: {_text(outs)[:2000]}"
    stdout = "".join(c["stdout"] for c in state["cells"])
    for text in EXPECT[name]:
        assert text in stdout, f"{text!r} not printed; stdout:\n{stdout[-3000:]}"
    html = [_text(outs) for outs in outputs]
    if name == "webgpu.ipynb":
        assert state["cells"][-1]["svgs"] == 1   # both devices' loss curves in one plot
    else:
        bar = next(h for h in html if "torch-js-progress" in h)
        assert "20/20" in bar and "test_acc=" in bar, bar
        assert sum(c["svgs"] for c in state["cells"]) >= 5   # digits, 2 curves, a unit, a histogram (+ mistakes)
    page.close()


def test_embed_import_torch_and_webgpu_on_first_use(context, site_url, artifacts):
    page = context.new_page()
    page.goto(f"{site_url}/embed/demo.html")
    cell = page.locator(".tjs-cell").nth(0)
    cell.locator("textarea").fill(
        "import torch\n"
        "x = torch.ones(3, device='webgpu')\n"
        "print((x + 1).cpu(), torch.accelerator.reason().split(':')[0])\n"
        "from tqdm import tqdm\n"
        "for i in tqdm(range(50), desc='embed', mininterval=0):\n"
        "    torch.ones(8).sum()\n"
        "torch.webgpu.is_available()")
    t0 = time.monotonic()
    cell.locator("button.tjs-run").click()
    page.wait_for_function("() => document.querySelectorAll('.tjs-cell')[0].dataset.state !== 'running'",
                           timeout=180_000)
    out = cell.locator(".tjs-out").inner_text()
    assert cell.get_attribute("data-state") == "done", out
    assert out.startswith("tensor([2., 2., 2.]) cpu\n"), out
    bars = [line for line in out.splitlines() if line.startswith("embed:")]   # drawn in place: one line
    assert len(bars) == 1 and "100%" in bars[0] and "50/50" in bars[0], out
    assert out.rstrip().endswith("True"), out
    record_timing(artifacts, "embed_webgpu", {"first_run_s": round(time.monotonic() - t0, 2)})



INTERRUPT_CELLS = [
    ("import time, torch\n"
     "from tqdm.auto import tqdm\n"
     "try:\n"
     "    for i in tqdm(range(10 ** 7), desc='long loop'):\n"
     "        torch.ones(16).sum()\n"
     "except KeyboardInterrupt:\n"
     "    print(f'interrupted at {i} at {time.time():.3f}')"),
    "print('the kernel runs on:', torch.ones(2).sum().item())",
]


def test_interrupt_button_stops_a_loop_with_a_progress_bar(context, site_url, artifacts):
    """JupyterLite's kernel cannot interrupt running Python; a loop showing a torch_js/tqdm bar stops within a
    second of the toolbar's Interrupt button (KeyboardInterrupt, as in Jupyter) and the kernel goes on."""
    page = context.new_page()
    name = "interrupt.ipynb"
    _reader_notebook(page, site_url, name, INTERRUPT_CELLS)
    open_notebook(page, site_url, name, len(INTERRUPT_CELLS))
    page.locator(".jp-Notebook .jp-CodeCell").first.click()
    page.keyboard.press("Control+Enter")
    page.wait_for_selector(".torch-js-progress", timeout=60_000)
    time.sleep(2.0)   # well into the loop
    clicked = page.evaluate("() => Date.now() / 1000")
    page.locator(".jp-Toolbar [data-jp-item-name='interrupt'] button, "
                 ".jp-Toolbar button[data-command='notebook:interrupt-kernel']").first.click()
    page.wait_for_function("""() => {
      const c = window.jupyterapp.shell.currentWidget.content.model.cells.get(0);
      for (let j = 0; j < c.outputs.length; j++) {
        const o = c.outputs.get(j).toJSON();
        if (o.output_type === 'stream' && [].concat(o.text).join('').includes('interrupted at')) return true;
      }
      return false;
    }""", timeout=30_000, polling=50)
    outputs = page.evaluate(OUTPUTS_JS)
    text = "".join("".join(o.get("text", "")) for o in outputs[0] if o["output_type"] == "stream")
    at, when = re.search(r"interrupted at (\d+) at ([\d.]+)", text).groups()
    latency = float(when) - clicked
    page.screenshot(path=str(artifacts / "interrupt.png"))
    assert 0 < int(at) < 10 ** 7 - 1 and latency < 1.0, (text, latency)
    record_timing(artifacts, "interrupt", {"latency_s": round(latency, 3)})
    # the kernel is still there and runs the next cell
    page.locator(".jp-Notebook .jp-CodeCell").nth(1).click()
    page.keyboard.press("Control+Enter")
    page.wait_for_function("""() => {
      const c = window.jupyterapp.shell.currentWidget.content.model.cells.get(1);
      return c.outputs.length > 0 && JSON.stringify(c.outputs.get(0).toJSON()).includes('runs on: 2.0');
    }""", timeout=30_000)


NO_WEBGPU_CELL = (
    "import torch\n"
    "try:\n"
    "    torch.ones(2, device='webgpu') + 1\n"
    "except RuntimeError as e:\n"
    "    print('error:', e)\n"
    "print('reason:', torch.accelerator.reason())\n"
    "print('device:', torch.accelerator.current_accelerator(check_available=True) or torch.device('cpu'))")


def test_without_webgpu_the_error_says_what_to_do(browser, site_url, artifacts):
    """In a browser without WebGPU (Chromium without --enable-unsafe-webgpu), device "webgpu" fails with one line
    that says why and what to use instead, and torch.accelerator picks the CPU saying why."""
    plain = browser.browser_type.launch(executable_path=CHROMIUM,
                                        args=[a for a in CHROMIUM_ARGS if a != "--enable-unsafe-webgpu"])
    try:
        page = plain.new_context(viewport={"width": 1280, "height": 900}).new_page()
        name = "no_webgpu.ipynb"
        _reader_notebook(page, site_url, name, [NO_WEBGPU_CELL])
        open_notebook(page, site_url, name, 1)
        state, _, _ = run_all_cells(page, artifacts, name, 1)
        page.screenshot(path=str(artifacts / "no_webgpu.png"))
    finally:
        plain.close()
    stdout = state["cells"][0]["stdout"]
    error = re.search(r"^error: (.*)$", stdout, re.M).group(1)
    assert error.startswith("torch_js: could not create the webgpu device: ") and error.endswith("use device 'cpu'")
    assert "this browser has no WebGPU" in error or "WebGPU found no adapter" in error, error
    reason = re.search(r"^reason: (.*)$", stdout, re.M).group(1)
    assert reason.startswith("cpu: webgpu is not available (") and "use device 'cpu'" in reason, reason
    assert "device: cpu" in stdout


def test_repl_import_torch(context, site_url, artifacts):
    """The REPL app (one kernel, code from the URL) has `import torch` and the tqdm shim with no setup either."""
    page = context.new_page()
    code = "import torch, tqdm; print(torch.ones(2) * 3, tqdm.tqdm.__module__)"
    page.goto(f"{site_url}/repl/index.html?kernel=python&toolbar=1&code={quote(code)}")
    page.wait_for_function("""() => [...document.querySelectorAll('.jp-CodeConsole .jp-OutputArea-output')]
      .some((e) => e.innerText.includes('tensor(['))""", timeout=180_000, polling=200)
    text = "\n".join(page.locator(".jp-CodeConsole .jp-OutputArea-output").all_inner_texts())
    page.screenshot(path=str(artifacts / "repl.png"))
    assert "tensor([3., 3.]) torch_js.utils.progress" in text, text
    assert not JS_PROXY.search(text) and "Error" not in text, text
