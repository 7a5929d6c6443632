"""torch.mjs in the built site (`make site`): the docs page examples/torch_mjs/index.html runs the proposal's Net
(net.mjs) on PyTorch's checkpoint (net.pt, written by net.py) and matches PyTorch's output computed here; the
notebook torch_mjs_export.ipynb trains and saves a model that the plain page digits.html loads from the browser's
storage and runs as PyTorch does. The engine comes from the site's own files: the context fixture fails the test
on any request to another host.
"""
import importlib.util
import io

import pytest

from conftest import REPO
from test_site import open_notebook, run_all_cells

EXAMPLES = REPO / "examples" / "torch_mjs"


def load_net_py():
    spec = importlib.util.spec_from_file_location("torch_mjs_net", EXAMPLES / "net.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_docs_page_demo_matches_pytorch(context, site_url):
    import torch   # the dev venv's real PyTorch: the oracle
    net = load_net_py()
    state = torch.load(EXAMPLES / "net.pt")
    torch.manual_seed(0)   # net.pt is what net.py writes
    fresh = net.Net().state_dict()
    assert state.keys() == fresh.keys() and all(torch.equal(state[k], fresh[k]) for k in state)
    model = net.Net()
    model.load_state_dict(state)
    model.eval()
    torch.manual_seed(0)
    with torch.no_grad():
        expected = model(torch.randn(2, 3, 32, 32))

    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{site_url}/examples/torch_mjs/index.html")
    page.wait_for_function("() => window.pageReady === true", timeout=120_000, polling=200)
    assert page.locator("#status").inner_text() == "ready"
    assert page.locator("#js-source").inner_text().strip() == (EXAMPLES / "net.mjs").read_text().strip()
    assert page.locator("#py-source").inner_text().strip() == (EXAMPLES / "net.py").read_text().strip()
    page.locator("#run").click()   # as a reader does: the output is printed as PyTorch prints it
    page.wait_for_function("() => document.getElementById('output').textContent.startsWith('tensor(')",
                           timeout=60_000)
    got = page.evaluate("() => runDemo()")
    assert got["shape"] == [2, 10]
    assert max(abs(a - b) for a, b in zip(got["values"], expected.reshape(-1).tolist())) <= 1e-5, got
    assert f"{expected[0, 0].item():.4f}" in page.locator("#output").inner_text()
    assert not errors, errors


def test_notebook_model_runs_in_digits_page(context, site_url, artifacts):
    """torch_mjs_export.ipynb trains and saves digits_mine.pt in the site; digits.html (same browser) reads it from
    JupyterLite's storage, and its scores for an image equal PyTorch's for the same file."""
    import torch
    page = context.new_page()
    name = "torch_mjs_export.ipynb"
    open_notebook(page, site_url, name, n_code=3)
    state, _, _ = run_all_cells(page, artifacts, name, 3)
    assert "test accuracy" in state["cells"][0]["stdout"], state

    link = page.locator('.jp-Notebook a[href$="/examples/torch_mjs/digits.html"]').get_attribute("href")
    assert link == f"{site_url}/examples/torch_mjs/digits.html", link   # the notebook's link to the page
    page.goto(link)
    page.wait_for_function("() => window.pageReady === true", timeout=120_000, polling=200)
    saved = page.evaluate("""async () => {
      const { readNotebookFile } = await import('./engine.mjs');
      return Array.from(await readNotebookFile('digits_mine.pt') ?? []);
    }""")
    assert saved, "digits_mine.pt not in the site's storage"
    page.evaluate("() => loadNotebookModel()")
    assert "digits_mine.pt" in page.locator("#weights").inner_text()
    pixels = (torch.rand(64, generator=torch.Generator().manual_seed(1)) * 16)
    got = page.evaluate("px => predict(px).then(r => r.logits)", pixels.tolist())

    model = torch.nn.Sequential(torch.nn.Linear(64, 64), torch.nn.ReLU(), torch.nn.Linear(64, 10))
    model.load_state_dict(torch.load(io.BytesIO(bytes(saved))))
    with torch.no_grad():
        expected = model((pixels / 16).reshape(1, 64)).reshape(-1).tolist()
    assert max(abs(a - b) for a, b in zip(got, expected)) <= 1e-5, (got, expected)
    default = torch.load(REPO / "content" / "data" / "digits_mlp_pytorch.pt")["model"]
    assert any(not torch.equal(default[k], v) for k, v in model.state_dict().items())   # not the page's default
