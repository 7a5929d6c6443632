"""OpInfo conformance on the webgpu device: the fixture's cases (build/fixtures/opinfo_cases.json.gz) for every op and
every dtype the device holds, at most MAX_SAMPLES per (op, dtype), through oracle.run_case(case, device="webgpu").

Inputs are built on CPU from the case and moved with .to("webgpu"); outputs and input gradients must be on webgpu
and are read back with .cpu(), then compared against PyTorch's recorded values with float tolerances TOL_SCALE
times the CPU suite's (SwiftShader's transcendentals are ~1e-5 relative). float64 is not a webgpu dtype (the device
raises for it by design): cases with a float64 tensor anywhere are left out. Index outputs of topk/kthvalue are
checked up to ties (oracle.TIE_INDEX_OPS); the CPU suite's known gaps (oracle.known_gap) are xfails here too.

Runs in Pyodide with the WebGPU bridge loaded: in Node (`make test-webgpu`, Dawn on SwiftShader) and in headless
Chromium (`make test-site`, site_tests/test_webgpu_browser.py); skips elsewhere.
"""
import os

import pytest

import webgpu_only  # noqa: F401  (skips this file without the webgpu bridge)
import torch_js as torch
import oracle

GPU = "webgpu"
MAX_SAMPLES = 2      # per (op, dtype): the first ones by sample index (deterministic)
TOL_SCALE = 3.0      # x the CPU float tolerances
# op -> extra tolerance factor, with the reason
WEBGPU_TOL = {
    # the scan accumulates in float32 (the CPU kernel in double); the backward's difference of two exponentials
    # of scan outputs magnifies that ulp-level error to ~1e-3 absolute on [-9, 9] inputs (as on CUDA)
    "logcumsumexp": 10.0,
    # the WGSL lgamma is a float32 Lanczos sum whose terms (~17 at x = 2) cancel to ~0 near its zeros (x = 1, 2):
    # SwiftShader's ~1e-5-relative log leaves ~2e-4 absolute there, where the CPU kernel (in double) is exact
    "lgamma": 10.0,
}


def _has_float64(obj):
    if isinstance(obj, dict):
        if obj.get("dtype") == "float64":
            return True
        return any(_has_float64(v) for v in obj.values())
    if isinstance(obj, (list, tuple)):
        return any(_has_float64(v) for v in obj)
    return obj == "float64"


def _select(cases, full=True, at=0):
    """At most MAX_SAMPLES per (op, dtype), in a fixed order; not full: each op's first case plus every SLICE-th
    from the at-th."""
    by_key = {}
    for case in cases:
        if case["dtype"] == "float64" or _has_float64(case):
            continue
        by_key.setdefault((case["op"], case["dtype"]), []).append(case)
    out = []
    for key in sorted(by_key):
        out.extend(sorted(by_key[key], key=lambda c: c["idx"])[:MAX_SAMPLES])
    if full:
        return out
    ops = set()
    first = [not (c["op"] in ops or ops.add(c["op"])) for c in out]
    return [c for i, c in enumerate(out) if first[i] or i % SLICE == at % SLICE]


# TORCH_JS_CONFORMANCE=full (`make test-webgpu-full`, `make test-site-full`) runs every case above (~5,800); else a
# fixed slice of ~1,200, as SwiftShader is slow (the whole set takes ~10 min in Node on a 2-core box, twice that in
# Chromium). TORCH_JS_CONFORMANCE_AT picks which slice: Chromium runs another one than Node's, so that CI tries more.
SLICE = 8
CASES = _select(oracle.load_fixture(), full=os.environ.get("TORCH_JS_CONFORMANCE") == "full",
                at=int(os.environ.get("TORCH_JS_CONFORMANCE_AT", "0")))


@pytest.fixture(autouse=True, scope="module")
def _init():
    torch.webgpu._init_sync()
    yield


@pytest.mark.parametrize("case", oracle.pytest_params(CASES))
def test_opinfo_webgpu(case):
    oracle.run_case(case, device=GPU, tol_scale=TOL_SCALE * WEBGPU_TOL.get(case["op"], 1.0))
