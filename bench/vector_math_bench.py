"""Transcendental float32 unary ops on a 256x1536 tensor: torch_js against PyTorch in the same process.

    PYTHONPATH=pytorchjs_py .venv/bin/python bench/vector_math_bench.py [--reps N]   # native kernels + PyTorch
    TORCH_JS_INSTALL=source node js_bridge/pyrun.mjs bench/vector_math_bench.py     # wasm kernels (no PyTorch)

TORCH_JS_NATIVE_LIB=path (a .so, or in Pyodide an absolute path to a .wasm inside the checkout) times another build of
the kernels, e.g. an older one for a before/after (in Pyodide the worker pool is then off: its module sits beside
the side module). Both libraries run on --threads threads (default 1; torch_js's default in Pyodide is the machine's
cores, whose pooled maps copy their operand in and out).

Prints one JSON object: {"target": ..., "shape": [...], "ms": {op: {"torch_js": ms, "torch": ms|null}}}, each
figure the best of --reps repetitions of --inner back-to-back calls (the least disturbed by other processes).
"""
import argparse
import json
import sys
import time

import torch_js

try:   # real PyTorch when installed (CPython dev venv); in Pyodide `import torch` gives torch_js itself
    import torch as _torch
    torch = None if _torch is torch_js or not hasattr(_torch, "__version__") or "torch_js" in repr(_torch) else _torch
except ImportError:
    torch = None

SHAPE = (256, 1536)


def ops(lib):
    F = lib.nn.functional
    return {
        "gelu": F.gelu,
        "gelu_tanh": lambda x: F.gelu(x, approximate="tanh"),
        "erf": lib.erf,
        "tanh": lib.tanh,
        "exp": lib.exp,
        "log": lambda x: lib.log(x),
        "sigmoid": lib.sigmoid,
        "silu": F.silu,
        "expm1": lib.expm1,
        "log1p": lib.log1p,
        "sin": lib.sin,
        "cos": lib.cos,
        "exp2": lib.exp2,
        "log2": lib.log2,
        "softplus": F.softplus,
        "mish": F.mish,
        "elu": F.elu,
    }


def best_ms(fn, x, reps, inner):
    fn(x)
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        for _ in range(inner):
            fn(x)
        best = min(best, (time.perf_counter() - t0) / inner)
    return best * 1e3


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--inner", type=int, default=5)
    ap.add_argument("--ops", default="")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch_js.set_num_threads(args.threads)
    torch_js.manual_seed(0)
    x_js = torch_js.randn(*SHAPE) * 3
    x_log = x_js.abs() + 1e-3
    x_pt = torch.tensor(x_js.tolist()) if torch is not None else None
    x_pt_log = x_pt.abs() + 1e-3 if torch is not None else None
    if torch is not None:
        torch.set_num_threads(args.threads)
    wanted = [o for o in args.ops.split(",") if o]
    js_ops, pt_ops = ops(torch_js), ops(torch) if torch is not None else {}
    result = {}
    for name, fn in js_ops.items():
        if wanted and name not in wanted:
            continue
        log_like = name in ("log", "log1p", "log2")
        row = {"torch_js": round(best_ms(fn, x_log if log_like else x_js, args.reps, args.inner), 4), "torch": None}
        if torch is not None:
            row["torch"] = round(best_ms(pt_ops[name], x_pt_log if log_like else x_pt, args.reps, args.inner), 4)
        result[name] = row
    target = "pyodide-wasm" if sys.platform == "emscripten" else "cpython-native"
    print(json.dumps({"target": target, "shape": list(SHAPE), "threads": torch_js.get_num_threads(),
                      "ms": result}, indent=1))


if __name__ == "__main__":
    main()
