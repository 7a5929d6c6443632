"""Browser tests of the built JupyterLite site (`make test-site`): Playwright driving Debian's Chromium.

Never `playwright install`: the browser is /usr/bin/chromium (TORCH_JS_CHROMIUM overrides). The site (_output/,
TORCH_JS_SITE overrides) is served on 127.0.0.1 from this process; any request to another host fails the test.
`site_url` serves it as `make serve` does, with the cross-origin isolation headers; `plain_site_url` without them,
as a host that cannot set headers (the site's service worker then isolates its pages).
Screenshots and timings go to test-artifacts/site/.
"""
import os
import shutil
import sys
import threading
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tools"))

from serve_site import make_server  # noqa: E402

SITE = Path(os.environ.get("TORCH_JS_SITE", REPO / "_output")).resolve()
ARTIFACTS = REPO / "test-artifacts" / "site"
CHROMIUM = os.environ.get("TORCH_JS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--no-first-run", "--disable-quic", "--enable-unsafe-webgpu", "--disable-dev-shm-usage",
]


def serve(directory, isolation_headers=True):
    server = make_server(directory, quiet=True, isolation_headers=isolation_headers)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def _served(isolation_headers):
    if not (SITE / "jupyter-lite.json").is_file():
        pytest.fail(f"{SITE} is not a built site: run `make site`")
    server, url = serve(SITE, isolation_headers)
    yield url
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def site_url():
    yield from _served(isolation_headers=True)


@pytest.fixture(scope="session")
def plain_site_url():
    yield from _served(isolation_headers=False)


@pytest.fixture(scope="session")
def artifacts():
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} not found: apt-get install -y chromium")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


class Offsite:
    """Records every request a browser context makes to a host other than 127.0.0.1 (workers included)."""

    def __init__(self, context):
        self.urls = []
        self.failed = []
        context.on("request", self._request)
        context.on("requestfailed", lambda r: self.failed.append(f"{r.url} ({r.failure})"))

    def _request(self, req):
        url = req.url
        if url.startswith(("data:", "blob:", "about:")):
            return
        if not url.startswith(("http://127.0.0.1:", "ws://127.0.0.1:")):
            self.urls.append(url)


@pytest.fixture
def context(browser):
    """A fresh browser context (empty cache, no service worker yet: a cold start) with off-site monitoring."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    ctx.offsite = Offsite(ctx)
    yield ctx
    ctx.close()
    assert not ctx.offsite.urls, f"requests to hosts other than 127.0.0.1: {ctx.offsite.urls}"
