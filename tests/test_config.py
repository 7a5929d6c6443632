"""torch.__config__: parallel_info() in PyTorch's layout with torch_js's thread counts and, in a browser, whether the
page is cross-origin isolated (one line saying why threads are off when it is not); show(); the isolation check
itself against stand-ins for a browser's JavaScript global."""
import sys
import types

import pytest

import torch_js
from optional_torch import needs_torch, torch
from torch_js.backends import _isolation


@pytest.fixture
def restore_threads():
    prior = torch_js.get_num_threads()
    yield
    torch_js.set_num_threads(prior)


def test_parallel_info_reports_the_thread_counts(restore_threads):
    torch_js.set_num_threads(3)
    lines = torch_js.__config__.parallel_info().splitlines()
    assert lines[:3] == ["ATen/Parallel:", "\tat::get_num_threads() : 3",
                         f"\tat::get_num_interop_threads() : {torch_js.get_num_interop_threads()}"]
    assert f"std::thread::hardware_concurrency() : {torch_js.backends.cpu.threads.machine_cores()}" in lines
    isolation = [line for line in lines if line.startswith("Cross-origin isolated : ")]
    assert len(isolation) == 1
    if sys.platform != "emscripten":
        assert isolation[0].endswith("not a browser page (shared memory needs no isolation here)")
    assert lines[-1].startswith("ATen parallel backend: ")


@needs_torch
def test_layout_follows_pytorch():
    """The same first lines and the same kinds of line as PyTorch's (its MKL/OpenMP lines are PyTorch's own)."""
    theirs, ours = torch.__config__.parallel_info().splitlines(), torch_js.__config__.parallel_info().splitlines()
    assert [line.split(":")[0] for line in ours[:3]] == [line.split(":")[0] for line in theirs[:3]]
    for prefix in ("std::thread::hardware_concurrency() : ", "ATen parallel backend: "):
        assert any(line.startswith(prefix) for line in theirs) and any(line.startswith(prefix) for line in ours)
    assert isinstance(torch_js.__config__.show(), str) and torch_js.__config__.show().startswith("torch_js ")


@pytest.mark.parametrize("page, isolated, shared", [
    ({"crossOriginIsolated": True, "SharedArrayBuffer": object()}, True, True),   # COOP/COEP or the service worker
    ({"crossOriginIsolated": False}, False, False),                             # a plain static host
    ({"SharedArrayBuffer": object()}, None, True),                              # Node: no page, shared memory works
])
def test_isolation_as_a_browser_reports_it(monkeypatch, page, isolated, shared):
    monkeypatch.setattr(sys, "platform", "emscripten")
    monkeypatch.setitem(sys.modules, "js", types.SimpleNamespace(**page))
    assert _isolation.cross_origin_isolated() is isolated
    assert _isolation.shared_memory_available() is shared
    line = _isolation.describe()
    assert "\n" not in line
    if isolated is False:
        assert line.startswith("no: ") and "one thread" in line and "Cross-Origin-Embedder-Policy" in line
    else:
        assert line == ("yes" if isolated else "not a browser page (shared memory needs no isolation here)")
