"""content/benchmark.ipynb (the site's benchmark page) runs in the built site, offline, and reports its figures: a
number for every workload on wasm, and webgpu either measured or reported as skipped, in the printed table, the
HTML table and the JSON a visitor copies.

The notebook runs here as a visitor's copy (saved in the browser's storage, as test_site.py's reader notebook) with
its first cell's `QUICK = False` set to True: small sizes and short time budgets, so the run takes seconds. The
tests' Chromium has a software WebGPU adapter (SwiftShader), where the notebook skips webgpu by default; the
"software" case sets RUN_ON_SOFTWARE_ADAPTER = True as well, so the webgpu measurements run too."""
import json
import time

import pytest

from conftest import REPO, SITE
from test_site import open_notebook, record_timing, run_all_cells, save_notebook

NAME = "benchmark.ipynb"
SETTINGS = {"skip": {"QUICK": True}, "software": {"QUICK": True, "RUN_ON_SOFTWARE_ADAPTER": True}}

# every output of every code cell, from the notebook's model (as test_site.STATE_JS reads it)
OUTPUTS_JS = """() => {
  const model = window.jupyterapp.shell.currentWidget.content.model;
  const outputs = [];
  for (let i = 0; i < model.cells.length; i++) {
    const c = model.cells.get(i);
    if (c.type !== 'code') continue;
    for (let j = 0; j < c.outputs.length; j++) outputs.push(c.outputs.get(j).toJSON());
  }
  return outputs;
}"""


def visitor_copy(settings):
    """content/benchmark.ipynb with its first code cell's settings changed (each `NAME = False` line must exist)."""
    nb = json.loads((REPO / "content" / NAME).read_text())
    first = next(c for c in nb["cells"] if c["cell_type"] == "code")
    src = "".join(first["source"])
    for name, value in settings.items():
        line = f"{name} = False"
        assert line in src, f"the benchmark's first cell has no `{line}` line"
        src = src.replace(line, f"{name} = {value}", 1)
    first["source"] = src
    return nb


def test_benchmark_notebook_in_site():
    """The built site serves the notebook as it is in content/ (run `make site` after changing it)."""
    built = SITE / "files" / NAME
    assert built.is_file(), f"{built} missing: run `make site`"
    assert json.loads(built.read_text())["cells"] == json.loads((REPO / "content" / NAME).read_text())["cells"]


@pytest.mark.parametrize("case", list(SETTINGS))
def test_benchmark_notebook_runs(context, site_url, artifacts, case):
    nb = visitor_copy(SETTINGS[case])
    n_code = sum(c["cell_type"] == "code" for c in nb["cells"])
    name = f"benchmark_{case}.ipynb"
    page = context.new_page()
    page_errors = []
    page.on("pageerror", lambda e: page_errors.append(str(e)))
    t0 = time.monotonic()
    save_notebook(page, site_url, name, nb)
    t_ready = open_notebook(page, site_url, name, n_code)
    state, _, t_all = run_all_cells(page, artifacts, name, n_code)
    page.locator(".jp-Notebook .jp-Cell").last.scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / f"benchmark_{case}.png"))
    assert not page_errors, f"uncaught page errors: {page_errors}"

    # the JSON to copy: the last cell's whole output
    report = json.loads(state["cells"][-1]["stdout"])
    assert report["quick"] is True
    machine = report["machine"]
    assert machine["torch_js"].startswith("2.") and machine["cpu_threads"] >= 1
    assert "Chrome/" in machine["user_agent"]
    assert machine["webgpu_adapter"].endswith("(software)"), machine   # SwiftShader in these tests
    rows = report["results"]
    assert [r["unit"] for r in rows] == ["GFLOP/s", "GFLOP/s", "ms/step", "tokens/s"], rows
    for row in rows:
        assert isinstance(row["cpu"], float) and row["cpu"] > 0, row
    if case == "skip":
        assert all(r["webgpu"] is None for r in rows), rows
        assert report["skipped"]["webgpu"].startswith("skipped: the adapter is a software one ("), report["skipped"]
    else:
        assert not report["skipped"], report["skipped"]
        for row in rows:
            assert isinstance(row["webgpu"], float) and row["webgpu"] > 0, row

    # the printed table and the HTML one show the same figures
    table = state["cells"][-2]["stdout"].splitlines()
    assert table[0].split() == ["workload", "unit", "wasm", "(cpu)", "webgpu"], table
    html = "".join("".join(o["data"]["text/html"]) for o in page.evaluate(OUTPUTS_JS)
                   if "text/html" in o.get("data", {}))
    assert html.count("<table>") == 1, html
    for row in rows:
        for device in ("cpu", "webgpu"):
            shown = "—" if row[device] is None else f"{row[device]:,.2f}"
            assert f"<td>{shown}</td>" in html, (row, device, html)
        line = next((ln for ln in table if ln.startswith(row["workload"] + "  ")), "")
        assert line.split()[-2:] == [f"{row[d]:,.2f}" if row[d] is not None else "—" for d in ("cpu", "webgpu")], \
            (row, table)
    record_timing(artifacts, name, {"kernel_ready_s": round(t_ready, 2), "all_cells_s": round(t_all, 2),
                                    "test_s": round(time.monotonic() - t0, 2)})
