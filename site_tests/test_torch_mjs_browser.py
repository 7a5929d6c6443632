"""torch.mjs (js_bridge/torch.mjs) in headless Chromium: the engine in a module Worker, the proposal's Net with
PyTorch's weights (.pt from a URL, safetensors from a Response) matching PyTorch's output, an Adam step's loss, an
error naming the op and the page's line, and the Net on the webgpu device (navigator.gpu in the worker, SwiftShader).

The checkout is served on 127.0.0.1 (site_tests/torch_mjs_page.html, js_bridge/, node_modules/pyodide, dist/'s
wheel, build/fixtures/torch_mjs from `make test-js`'s fixture rule); any request to another host fails the test.
"""
import pytest

from conftest import REPO, serve

FIXTURE = REPO / "build" / "fixtures" / "torch_mjs" / "net.json"


def test_torch_mjs_in_chromium(context):
    wheels = sorted((REPO / "dist").glob("torch_js-*.whl"))
    assert wheels, "no torch_js wheel in dist/: run `make wheel`"
    if not FIXTURE.exists():
        pytest.fail(f"{FIXTURE} missing: run `make test-js` (its fixture rule, with PyTorch)")
    server, base = serve(REPO)
    try:
        page = context.new_page()
        logs = []
        page.on("console", lambda m: logs.append(m.text))
        page.goto(f"{base}/site_tests/torch_mjs_page.html")
        page.wait_for_function("() => window.pageReady === true", timeout=60_000)
        cfg = {"wheel": "/" + str(wheels[-1].relative_to(REPO)), "webgpu": True}
        page.evaluate("cfg => { window.result = null; runTorchMjs(cfg).then(r => { window.result = r; },"
                      " e => { window.result = {failed: String(e && e.stack || e)}; }); }", cfg)
        page.wait_for_function("() => window.result !== null", timeout=10 * 60_000, polling=500)
        r = page.evaluate("() => window.result")
        assert "failed" not in r, f"{r.get('failed')}\nconsole:\n" + "\n".join(logs[-30:])
        assert "torchjs" in r["version"]
        assert r["load"] == {"missing_keys": [], "unexpected_keys": []}
        assert r["shape"] == [4, 10]
        assert r["diffPt"] <= 1e-4 and r["diffSafetensors"] <= 1e-4, r
        assert abs(r["loss"] - r["expectedLoss"]) <= 1e-5 * abs(r["expectedLoss"]), r
        assert r["error"]["name"] == "RuntimeError", r["error"]
        assert "(in .matmul())" in r["error"]["message"] and "torch_mjs_page.html" in r["error"]["stack"], r["error"]
        assert r["webgpuDevice"] == "webgpu" and r["diffWebgpu"] <= 1e-3, r
    finally:
        server.shutdown()
        server.server_close()


def test_digits_example_page_matches_pytorch(context):
    """examples/torch_mjs/digits.html: PyTorch's digits checkpoint loaded by torch.mjs in a plain page; its logits
    for an image equal PyTorch's, and drawing on the canvas gives a guess."""
    import torch   # the dev venv's real PyTorch: the oracle (site tests run in CPython)
    ckpt = torch.load(REPO / "content" / "data" / "digits_mlp_pytorch.pt")
    model = torch.nn.Sequential(torch.nn.Linear(64, 64), torch.nn.ReLU(), torch.nn.Linear(64, 10))
    model.load_state_dict(ckpt["model"])
    pixels = torch.rand(64, generator=torch.Generator().manual_seed(0)) * 16
    with torch.no_grad():
        expected = model((pixels / 16).reshape(1, 64)).reshape(-1).tolist()
    server, base = serve(REPO)
    try:
        page = context.new_page()
        page.goto(f"{base}/examples/torch_mjs/digits.html")
        page.wait_for_function("() => window.pageReady === true", timeout=120_000, polling=500)
        got = page.evaluate("px => predict(px).then(r => r.logits)", pixels.tolist())
        assert max(abs(a - b) for a, b in zip(got, expected)) <= 1e-5, (got, expected)
        box = page.locator("#pad").bounding_box()
        page.mouse.move(box["x"] + 128, box["y"] + 40)
        page.mouse.down()
        page.mouse.move(box["x"] + 128, box["y"] + 220, steps=10)
        page.mouse.up()
        page.wait_for_function("() => window.lastGuess !== undefined", timeout=60_000)
        assert 0 <= page.evaluate("() => window.lastGuess") <= 9
        assert page.locator("#guess").inner_text().startswith("it looks like a ")
    finally:
        server.shutdown()
        server.server_close()
