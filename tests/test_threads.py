"""torch.set_num_threads and the threaded CPU kernels: PyTorch's semantics and errors for the thread counts, and
results bit-identical for every thread count (tjs_gemm's tiles: matmul, bmm, broadcast, strided and transposed
operands, odd sizes, float32/float64/int64, convolution through im2col)."""
import os
import subprocess
import sys

import pytest

import torch_js
from optional_torch import HAVE_TORCH, needs_torch, torch
from torch_js.backends.cpu import library, reduction

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
THREAD_COUNTS = (1, 2, 3, 5)
needs_processes = pytest.mark.skipif(sys.platform == "emscripten", reason="starts processes (CPython)")


@pytest.fixture
def restore_threads():
    prior = torch_js.get_num_threads()
    yield
    torch_js.set_num_threads(prior)


def _error(fn):
    try:
        fn()
    except Exception as e:   # the type and message are what is compared
        return type(e).__name__, str(e)
    return None


@needs_torch
@pytest.mark.parametrize("name", ["set_num_threads", "set_num_interop_threads"])
@pytest.mark.parametrize("bad", [0, -3, 1.5, 2.0, True, "2", None])
def test_bad_counts_raise_as_torch(name, bad):
    assert _error(lambda: getattr(torch_js, name)(bad)) == _error(lambda: getattr(torch, name)(bad))


@needs_processes
def test_default_is_the_machines_cores_capped(restore_threads):
    from torch_js.backends.cpu import threads
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert threads.machine_cores() == cores
    # the default is fixed at import: read it in a fresh process
    code = "import torch_js; print(torch_js.get_num_threads(), torch_js.get_num_interop_threads())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env=dict(os.environ, PYTHONPATH=os.path.join(ROOT, "pytorchjs_py"))).stdout.split()
    assert out == [str(min(cores, threads.DEFAULT_CAP))] * 2


def test_set_get_round_trip(restore_threads):
    for n in (1, 3, 100):
        torch_js.set_num_threads(n)
        assert torch_js.get_num_threads() == n
        assert (torch_js.ones(70, 70) @ torch_js.ones(70, 70)).eq(70).all()


_INTEROP_SCRIPT = """
import sys
import {mod} as m
first = m.get_num_interop_threads()
m.set_num_interop_threads(3)
got = m.get_num_interop_threads()
try:
    m.set_num_interop_threads(2)
    second = None
except RuntimeError as e:
    second = str(e)
print(repr((first >= 1, got, second, m.get_num_interop_threads())))
"""


def _interop(mod):
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "pytorchjs_py"))
    r = subprocess.run([sys.executable, "-c", _INTEROP_SCRIPT.format(mod=mod)], capture_output=True, text=True,
                       env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip().splitlines()[-1]


@needs_torch
@needs_processes
def test_interop_threads_set_once_as_torch():
    """set_num_interop_threads works once per process; a second call raises PyTorch's RuntimeError."""
    assert _interop("torch_js") == _interop("torch")


def _matmul_cases(m):
    """(name, thunk) pairs computing products with torch module m (torch_js or torch), seeded per case."""
    def randn(*shape, dtype):
        return m.randn(*shape, dtype=dtype)

    cases = []
    for dtype in (m.float32, m.float64):
        d = str(dtype).split(".")[-1]
        for (M, N, K) in [(64, 64, 64), (257, 129, 513), (1024, 96, 384), (33, 1000, 17), (300, 300, 1),
                          (3000, 1, 500), (1, 700, 900)]:
            cases.append((f"{d}-{M}x{N}x{K}", lambda M=M, N=N, K=K, dtype=dtype:
                          randn(M, K, dtype=dtype) @ randn(K, N, dtype=dtype)))
            cases.append((f"{d}-T-{M}x{N}x{K}", lambda M=M, N=N, K=K, dtype=dtype:
                          randn(K, M, dtype=dtype).t() @ randn(N, K, dtype=dtype).t()))
            cases.append((f"{d}-strided-{M}x{N}x{K}", lambda M=M, N=N, K=K, dtype=dtype:
                          randn(M, 2 * K, dtype=dtype)[:, ::2] @ randn(K, N + 3, dtype=dtype)[:, 1:N + 1]))
        cases.append((f"{d}-bmm", lambda dtype=dtype: m.bmm(randn(12, 77, 64, dtype=dtype),
                                                            randn(12, 64, 77, dtype=dtype))))
        cases.append((f"{d}-broadcast", lambda dtype=dtype: randn(8, 32, 384, dtype=dtype)
                      @ randn(384, 1536, dtype=dtype)))
        cases.append((f"{d}-batch-strided", lambda dtype=dtype: randn(6, 130, 70, dtype=dtype).transpose(1, 2)
                      @ randn(6, 130, 90, dtype=dtype)))
        cases.append((f"{d}-linear", lambda dtype=dtype: m.nn.functional.linear(
            randn(256, 384, dtype=dtype), randn(1536, 384, dtype=dtype), randn(1536, dtype=dtype))))
    cases.append(("int64", lambda: m.randint(-100, 100, (300, 200)) @ m.randint(-100, 100, (200, 150))))
    return cases


_CASE_NAMES = [name for name, _ in _matmul_cases(torch_js)]


def _run_case(m, name, threads):
    m.set_num_threads(threads)
    m.manual_seed(sum(map(ord, name)))
    return dict(_matmul_cases(m))[name]()


@pytest.mark.parametrize("name", _CASE_NAMES)
def test_matmul_bit_identical_across_thread_counts(name, restore_threads):
    results = [_run_case(torch_js, name, n) for n in THREAD_COUNTS]
    for r in results[1:]:
        assert torch_js.equal(r, results[0]), name
    if HAVE_TORCH and results[0].is_floating_point():
        want = _run_case(torch, name, 1)
        a = torch.tensor(results[0].tolist(), dtype=want.dtype)
        tol = 1e-3 if want.dtype == torch.float32 else 1e-10
        assert torch.allclose(a, want, rtol=tol, atol=tol), name


@pytest.mark.parametrize("groups,stride,dtype", [(1, 1, "float32"), (4, 2, "float32"), (1, 1, "float64")])
def test_conv2d_bit_identical_across_thread_counts(groups, stride, dtype, restore_threads):
    F, dt = torch_js.nn.functional, getattr(torch_js, dtype)
    torch_js.manual_seed(0)
    x = torch_js.randn(3, 16, 37, 41, dtype=dt, requires_grad=True)
    w = torch_js.randn(32, 16 // groups, 3, 5, dtype=dt, requires_grad=True)
    outs = []
    for n in THREAD_COUNTS:
        torch_js.set_num_threads(n)
        y = F.conv2d(x, w, padding=1, stride=stride, groups=groups)
        gx, gw = torch_js.autograd.grad(y.square().sum(), (x, w))   # the backward's gemms as well
        outs.append((y, gx, gw))
    for o in outs[1:]:
        assert all(torch_js.equal(p, q) for p, q in zip(o, outs[0]))


@pytest.mark.parametrize("shape", [(2, 600, 512, 700), (1, 2000, 3, 2000), (6, 128, 128, 256)])
def test_parts_at_changing_thread_counts(shape, restore_threads, monkeypatch):
    """A long product runs in parts with signal checks between them, where another Python thread may change the
    count: the parts follow the shape alone (each cut into tiles for its count), so a product whose parts ran at
    4, 2, 3, 1, ... threads has the one-thread bits."""
    batch, m, n, k = shape
    torch_js.manual_seed(1)
    a, b = torch_js.randn(batch, m, k), torch_js.randn(batch, k, n)
    torch_js.set_num_threads(1)
    want = a @ b
    counts = iter([4, 2, 3, 1] * 10000)
    calls = []

    def switch():
        calls.append(1)
        torch_js.set_num_threads(next(counts))
        return 0

    def small_parts(self, out, a_, b_, batch_, m_, n_, k_, a_strides, b_strides):
        library.check(reduction.gemm_parts(out, a_, b_, batch_, m_, n_, k_, a_strides, b_strides, 0, 1 << 22),
                      "matmul")

    monkeypatch.setattr(reduction.CPUGemm, "gemm", small_parts)
    monkeypatch.setattr(library, "check_signals", switch)
    torch_js.set_num_threads(3)
    got = a @ b
    assert len(calls) >= 2
    assert torch_js.equal(got, want)


@needs_processes
@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_threads_after_fork(restore_threads):
    """A child forked after the pool started has none of its workers: its own start on the next product."""
    torch_js.set_num_threads(3)
    a = torch_js.randn(300, 300)
    want = a @ a
    pid = os.fork()
    if pid == 0:
        ok = torch_js.equal(a @ a, want)
        os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
