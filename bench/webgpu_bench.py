"""WebGPU device micro-benchmarks (run in Pyodide with the bridge loaded):

    TORCH_JS_WEBGPU=1 node js_bridge/pyrun.mjs bench/webgpu_bench.py [--matmul N ...]

Prints: Python-side cost per small eager op on webgpu (record + bridge call; the GPU runs asynchronously, so
the figure includes one synchronize per batch), per-op cost on CPU for comparison, readback latency, and
matmul GFLOP/s for square float32 sizes (checked against the CPU result).
"""
import sys
import time

import torch_js as torch

G = "webgpu"


def timeit(fn, n):
    fn()
    torch.webgpu.synchronize()
    t0 = time.perf_counter()
    for _ in range(n):
        fn()
    torch.webgpu.synchronize()
    return (time.perf_counter() - t0) / n


def record_cost(fn, batches=40, per=60):
    """Seconds per op spent recording (Python + bridge call + encoding), with no GPU work running meanwhile:
    each timed run stays under one command batch (64 dispatches) and the GPU is drained between runs."""
    total = 0.0
    for _ in range(batches):
        torch.webgpu.synchronize()
        t0 = time.perf_counter()
        for _ in range(per):
            fn()
        total += time.perf_counter() - t0
    torch.webgpu.synchronize()
    return total / (batches * per)


def main():
    torch.webgpu._init_sync()
    print("device:", torch.webgpu.device_info())
    a = torch.ones(64, device=G)
    b = torch.ones(64, device=G)
    ac, bc = a.cpu(), b.cpu()
    n = 2000
    for name, fn, fc in [("add", lambda: a + b, lambda: ac + bc), ("mul scalar", lambda: a * 2.0, lambda: ac * 2.0),
                         ("exp", lambda: a.exp(), lambda: ac.exp()), ("sum", lambda: a.sum(), lambda: ac.sum())]:
        tg = timeit(fn, n)
        t0 = time.perf_counter()
        for _ in range(n):
            fc()
        tc = (time.perf_counter() - t0) / n
        tr = record_cost(fn)
        print(f"small op {name:11s} webgpu record {tr * 1e6:6.1f} us/op, incl. SwiftShader execution "
              f"{tg * 1e6:7.1f} us/op   cpu {tc * 1e6:6.1f} us/op")
    x = torch.ones(64, device=G)
    n0 = torch.webgpu.memory_stats()["dispatches"]
    tr = record_cost(lambda: torch.relu(x @ x.unsqueeze(1).t().expand(64, 64)).sum(), batches=10, per=10)
    print(f"mixed expression: {tr * 1e6:.1f} us per expression")
    t0 = time.perf_counter()
    for _ in range(50):
        (a + 1).sum().item()
    print(f"readback (.item() after 2 ops) {(time.perf_counter() - t0) / 50 * 1e3:.2f} ms")
    sizes = [int(s) for s in sys.argv[sys.argv.index("--matmul") + 1:]] if "--matmul" in sys.argv else [128, 256, 512]
    for s in sizes:
        x = torch.randn(s, s)
        y = torch.randn(s, s)
        xg, yg = x.to(G), y.to(G)
        err = ((xg @ yg).cpu() - x @ y).abs().max().item()
        reps = max(1, int(2e8 / (2 * s ** 3)))
        t = timeit(lambda: xg @ yg, reps)
        print(f"matmul {s}x{s}x{s} f32: {2 * s ** 3 / t / 1e9:8.2f} GFLOP/s  ({t * 1e3:.2f} ms, max err {err:.2e})")
    print("stats:", torch.webgpu.memory_stats())


main()
