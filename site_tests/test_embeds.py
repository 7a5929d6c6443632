"""Blog embeds from Quarto and MyST/Jupyter Book pages (docs/embeds/*.html, shipped as the site's embed/), in headless
Chromium: nothing is downloaded before a reader clicks Run, the cells run and share one interpreter, and a running
cell's Stop button ends it within a second. On a plain server (no COOP/COEP headers, as on most blog hosts) Stop
restarts Python and says so; on a cross-origin isolated page (`site_url`: served with COOP/COEP, as `make serve`
does) it raises KeyboardInterrupt and the variables stay. The embed pages carry no isolation service worker: they
stand for a blog on another host. The `context` fixture fails the test on any request to a host other than
127.0.0.1."""
import pytest

from test_site import record_timing

# What the first Run loads (Pyodide's core and wheels, the webgpu bridge): none of it before a click.
BOOT_PATHS = ("/static/pyodide/", "/js_bridge/")

# page -> (number of torch-js cells, the selector of its ordinary code block, which embed.js leaves alone)
PAGES = {"quarto_post.html": (2, "div.sourceCode pre.sourceCode"), "myst_page.html": (3, "div.highlight pre")}

FIT_OUTPUT = "loss 0.0113, w 3.03, b 0.50"   # the Quarto page's first cell, as CPython's torch prints it
GRAD_OUTPUT = "tensor([2., 4., 6.])"


def open_page(context, url, name):
    """The page, with its cells drawn and nothing of the interpreter downloaded; returns (page, requested urls)."""
    requested = []
    context.on("request", lambda r: requested.append(r.url))
    page = context.new_page()
    page.goto(f"{url}/embed/{name}")
    n_cells, plain_code = PAGES[name]
    page.wait_for_function("n => document.querySelectorAll('.tjs-cell').length === n", arg=n_cells)
    page.wait_for_load_state("networkidle")
    booted = [u for u in requested if any(p in u for p in BOOT_PATHS)]
    assert not booted, f"downloaded before any click: {booted}"
    assert page.locator("pre.torch-js").count() == 0
    assert page.locator(plain_code).count() == 1, "the ordinary code block was touched"
    return page, requested


def run_cell(page, i, state="done", timeout_ms=240_000):
    cell = page.locator(".tjs-cell").nth(i)
    cell.locator("button.tjs-run").click()
    page.wait_for_function("i => document.querySelectorAll('.tjs-cell')[i].dataset.state !== 'running'", arg=i,
                           timeout=timeout_ms)
    out = cell.locator(".tjs-out").inner_text()
    assert cell.get_attribute("data-state") == state, f"cell {i}: expected {state}, got:\n{out}"
    return out


def run_then_stop(page, i, running_text):
    """Run cell i, wait until its output shows running_text (or for a second when None), press its Stop button;
    returns (seconds from the click until the cell stopped, its output)."""
    cell = page.locator(".tjs-cell").nth(i)
    cell.locator("button.tjs-run").click()
    assert cell.locator("button.tjs-stop").is_visible()
    if running_text:
        page.wait_for_function("([i, text]) => document.querySelectorAll('.tjs-cell')[i].innerText.includes(text)",
                               arg=[i, running_text], timeout=240_000, polling=50)
    else:
        page.wait_for_function("() => window.torchJsEmbed.bootMs !== null", timeout=240_000)
        page.wait_for_timeout(1000)
    return press_stop(page, i)


def press_stop(page, i):
    """Press cell i's Stop button; returns (seconds from the click until the cell stopped, its output)."""
    cell = page.locator(".tjs-cell").nth(i)
    assert cell.get_attribute("data-state") == "running"
    seconds = page.evaluate("""async (i) => {
      const cell = document.querySelectorAll('.tjs-cell')[i];
      const t0 = performance.now();
      cell.querySelector('button.tjs-stop').click();
      while (cell.dataset.state === 'running') await new Promise((r) => setTimeout(r, 10));
      return (performance.now() - t0) / 1000;
    }""", i)
    assert cell.get_attribute("data-state") == "stopped"
    assert not cell.locator("button.tjs-stop").is_visible()
    return seconds, cell.locator(".tjs-out").inner_text()


@pytest.mark.parametrize("name", sorted(PAGES))
def test_embed_page_loads_on_click_and_stop_restarts(context, plain_site_url, artifacts, name):
    """A plain server (no COOP/COEP): Stop ends the worker within a second, the cell says that Python restarted,
    and the page's cells run again on the fresh interpreter."""
    page, requested = open_page(context, plain_site_url, name)
    assert page.evaluate("window.torchJsEmbed.isolated") is False
    if name == "quarto_post.html":
        assert FIT_OUTPUT in run_cell(page, 0)
        seconds, out = run_then_stop(page, 1, "step 100: loss")
    else:
        assert GRAD_OUTPUT in run_cell(page, 0)
        seconds, out = run_then_stop(page, 1, None)
    assert any("pyodide.asm.wasm" in u for u in requested) and any("torch_js-" in u for u in requested)
    assert "Stopped: Python was restarted" in out, out
    assert seconds < 1.0, seconds
    page.screenshot(path=str(artifacts / f"embed-{name[:-5]}.png"), full_page=True)
    record_timing(artifacts, f"embed_stop_restart_{name[:-5]}", {"stop_s": round(seconds, 3)})
    # the fresh interpreter: the variables are gone (as the cell said), and the cells run again
    if name == "quarto_post.html":
        assert FIT_OUTPUT in run_cell(page, 0)
    else:
        assert "NameError: name 'x' is not defined" in run_cell(page, 2, "error")
        assert GRAD_OUTPUT in run_cell(page, 0)
        assert f"x.grad is still {GRAD_OUTPUT}" in run_cell(page, 2)


def test_stop_while_loading_and_while_waiting(context, plain_site_url):
    """Stop during the first load ends it (nothing was lost: no restart message) and the next Run loads again; Stop on
    a cell waiting behind a running one takes it off the queue at once."""
    page, requested = open_page(context, plain_site_url, "quarto_post.html")
    page.locator(".tjs-cell").nth(0).locator("button.tjs-run").click()
    page.wait_for_timeout(300)
    assert page.evaluate("window.torchJsEmbed.bootMs") is None, "booted already: nothing left to stop"
    seconds, out = press_stop(page, 0)
    assert seconds < 1.0 and out == "", (seconds, out)
    assert FIT_OUTPUT in run_cell(page, 0)
    page.locator(".tjs-cell").nth(1).locator("button.tjs-run").click()
    page.wait_for_function("() => document.querySelectorAll('.tjs-cell')[1].innerText.includes('step 100: loss')",
                           timeout=60_000, polling=50)
    page.locator(".tjs-cell").nth(0).locator("button.tjs-run").click()   # waits behind the loop
    seconds, out = press_stop(page, 0)
    assert seconds < 1.0 and out == "", (seconds, out)
    assert page.locator(".tjs-cell").nth(1).get_attribute("data-state") == "running"
    _, out = press_stop(page, 1)
    assert "Stopped: Python was restarted" in out, out


def test_stop_interrupts_and_keeps_variables_when_isolated(context, site_url, artifacts):
    """A cross-origin isolated page: Stop raises KeyboardInterrupt in a `while True` loop and in a loop of torch
    kernels within a second, and the interpreter keeps the earlier cells' variables."""
    page, _ = open_page(context, site_url, "myst_page.html")
    assert page.evaluate("window.torchJsEmbed.isolated") is True
    assert GRAD_OUTPUT in run_cell(page, 0)
    latencies = []
    for code in (None, "a = torch.ones(64, 64)\nwhile True:\n    a = (a @ a).clamp(max=1.0)"):
        if code:
            page.locator(".tjs-cell").nth(1).locator("textarea").fill(code)
        seconds, out = run_then_stop(page, 1, None)
        assert "KeyboardInterrupt" in out and "restarted" not in out, out
        assert seconds < 1.0, seconds
        latencies.append(round(seconds, 3))
        assert f"x.grad is still {GRAD_OUTPUT}" in run_cell(page, 2)
    page.screenshot(path=str(artifacts / "embed-isolated-stop.png"), full_page=True)
    record_timing(artifacts, "embed_stop_interrupt", {"stop_s": latencies})
