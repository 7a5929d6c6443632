"""torch_js micro-benchmarks: the same file runs under CPython (native kernels) and Pyodide (wasm kernels).

    python bench/torch_js_bench.py [--reps N] [--target-ms T] [--cases a,b]   # all cases, one JSON object on stdout
    python bench/torch_js_bench.py --serve                                  # line protocol for bench/run.mjs
    python bench/torch_js_bench.py --profile                                # where a tiny add's microseconds go

bench/run.mjs drives it one repetition at a time (imported as a module in Pyodide, `--serve` in CPython) so
that torch_js and its peers take turns within one run and share the machine's load alike. Each repetition
runs a case `n` times back to back, n calibrated once so a repetition takes about `target` seconds; the
figure reported is the best repetition (least disturbed by other processes), as seconds per op.

Case names and their work units are shared with bench/peers.mjs (keep them in step).
"""
import json
import os
import sys
import time

import torch_js as torch

MATMUL_SIZES = (128, 256, 512, 1024)
ADD_NUMEL = 1 << 20          # "1M" float32 elements; bytes moved = 3 arrays x 4 bytes x numel
TINY_ADD_NUMEL = 4
TINY_MM = 4
MLP = (784, 128, 10)
MLP_BATCH = 64


def case_specs():
    """name -> (kind, work per op): kind 'gflops' (work = flops), 'gbs' (bytes) or 'us' (work unused)."""
    specs = {f"matmul_{n}": ("gflops", 2.0 * n * n * n) for n in MATMUL_SIZES}
    specs["add_1m"] = ("gbs", 3.0 * 4 * ADD_NUMEL)
    for name in ("tiny_add", "tiny_add_grad", "tiny_matmul", "tiny_matmul_grad", "mlp_step"):
        specs[name] = ("us", None)
    return specs


CASES = case_specs()


# ---- case bodies: each setup returns fn(n) that runs the op n times --------------------------------------

def _matmul(size):
    def setup():
        torch.manual_seed(0)
        a = torch.randn(size, size)
        b = torch.randn(size, size)

        def fn(n):
            for _ in range(n):
                a @ b  # result freed at once, as the peers dispose() theirs before the next op
        return fn
    return setup


def _binary(shape, op, grad):
    def setup():
        torch.manual_seed(0)
        a = torch.randn(*shape, requires_grad=grad)
        b = torch.randn(*shape)

        def fn(n):
            for _ in range(n):
                op(a, b)  # result freed at once, as the peers dispose() theirs before the next op
        return fn
    return setup


def _mlp_step():
    import torch_js.nn as nn
    import torch_js.nn.functional as F
    import torch_js.optim as optim
    torch.manual_seed(0)
    d_in, d_hidden, d_out = MLP
    model = nn.Sequential(nn.Linear(d_in, d_hidden), nn.ReLU(), nn.Linear(d_hidden, d_out))
    opt = optim.SGD(model.parameters(), lr=0.01)
    x = torch.randn(MLP_BATCH, d_in)
    y = torch.randint(0, d_out, (MLP_BATCH,))

    def fn(n):
        for _ in range(n):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
        return loss
    return fn


def _add(a, b):
    return a + b


def _mm(a, b):
    return a @ b


SETUPS = {f"matmul_{n}": _matmul(n) for n in MATMUL_SIZES}
SETUPS.update({
    "add_1m": _binary((ADD_NUMEL,), _add, False),
    "tiny_add": _binary((TINY_ADD_NUMEL,), _add, False),
    "tiny_add_grad": _binary((TINY_ADD_NUMEL,), _add, True),
    "tiny_matmul": _binary((TINY_MM, TINY_MM), _mm, False),
    "tiny_matmul_grad": _binary((TINY_MM, TINY_MM), _mm, True),
    "mlp_step": _mlp_step,
})
assert set(SETUPS) == set(CASES)


# ---- timing -------------------------------------------------------------------------------------------------

_now = time.perf_counter_ns
_state = {}  # name -> (fn, n)


def _calibrate(fn, target_s):
    """Warm up, then the smallest power-of-two n whose run takes >= target_s / 4 (scaled up to ~target_s)."""
    fn(1)
    fn(1)
    n = 1
    while True:
        t0 = _now()
        fn(n)
        dt = (_now() - t0) * 1e-9
        if dt >= target_s / 4 or n >= 1 << 22:
            return max(1, int(n * target_s / max(dt, 1e-9)))
        n *= 2


def rep(name, target_s=0.1):
    """One timed repetition of case `name`: seconds per op (the first call sets up and calibrates)."""
    if name not in _state:
        fn = SETUPS[name]()
        _state[name] = (fn, _calibrate(fn, target_s))
    fn, n = _state[name]
    t0 = _now()
    fn(n)
    return (_now() - t0) * 1e-9 / n


def release(name):
    """Drop a case's tensors (the 1024 matmul holds 12 MiB) once its repetitions are done."""
    _state.pop(name, None)


def figure(name, sec_per_op):
    kind, work = CASES[name]
    if kind == "us":
        return sec_per_op * 1e6
    return work / sec_per_op / 1e9


def info():
    from torch_js.backends.cpu import library as _native
    lib = os.path.basename(_native.LIB_PATH)
    return {
        "runtime": "pyodide" if sys.platform == "emscripten" else "cpython",
        "python": sys.version.split()[0],
        "torch_js": torch.__version__,
        "kernel_lib": lib,
        "relaxed_simd": "relaxed" in lib,
        "pyodide": _pyodide_version(),
    }


def _pyodide_version():
    try:
        import pyodide  # type: ignore
        return pyodide.__version__
    except ImportError:
        return None


def run_all(cases=None, reps=5, target_s=0.1):
    out = {"info": info(), "units": {k: v[0] for k, v in CASES.items()}, "results": {}}
    for name in cases or CASES:
        best = min(rep(name, target_s) for _ in range(reps))
        release(name)
        out["results"][name] = {"sec_per_op": best, "value": figure(name, best)}
    return out


# ---- where a tiny add's time goes (for the lead: run with --profile, in Pyodide via js_bridge/pyrun.mjs) ----

def _per_op_ns(fn, n, reps=15):
    """Best of `reps` runs of fn(n), in ns per iteration (short runs, many of them: some land in a quiet spell)."""
    best = float("inf")
    for _ in range(reps):
        t0 = _now()
        fn(n)
        best = min(best, (_now() - t0) / n)
    return best


def pieces(n=4000):
    """The tiny add's fast path (ops/operators.py -> ops/elementwise.binary -> backends/cpu.binary), taken apart
    and each piece timed alone in a loop (ns per op, best of 15 runs of n). Reads torch_js internals: if they move, this
    reports the error instead of numbers."""
    import ctypes
    from torch_js import _tensor as T
    from torch_js.backends.cpu import elementwise as C
    from torch_js.ops import elementwise as E
    from torch_js.ops import operators as O
    torch.manual_seed(0)
    a = torch.randn(TINY_ADD_NUMEL)
    b = torch.randn(TINY_ADD_NUMEL)
    be = a._storage.backend
    nd = len(a._shape)
    fmt = C._BINARY_FMT[nd]
    code = C.BINARY_OPS["add"]
    out = a + b
    rows = []

    def loop(body):
        def fn(k):
            for _ in range(k):
                body()
        return fn

    def empty_loop(k):
        for _ in range(k):
            pass

    args = (code, a._dtype.code, nd, out._storage.ptr, a._storage.ptr, b._storage.ptr, *out._shape, *out._stride,
            *a._stride, *b._stride, 1)
    items = [
        ("empty Python for-loop iteration (subtracted below)", empty_loop),
        ("a + b  (whole op, result dropped)", loop(lambda: a + b)),
        ("torch.add(a, b)", loop(lambda: torch.add(a, b))),
        ("a.__add__ -> operators._ok(other) type check", loop(lambda: O._ok(b))),
        ("elementwise.binary(ADD, a, b): op layer + alloc + kernel", loop(lambda: E.binary(E.ADD, a, b))),
        ("_tensor._empty(shape, dtype, dev) (alloc + Storage + Tensor)",
         loop(lambda: T._empty(a._shape, a._dtype, a._storage.device))),
        ("  backend.alloc(16): ctypes (c_char*16)() + addressof + Storage", loop(lambda: be.alloc(16))),
        ("    (c_char*16)() alone (malloc via ctypes)", loop(lambda: (ctypes.c_char * 16)())),
        ("  Tensor object: _new(Tensor) + 5 slot stores",
         loop(lambda: T._make(a._storage, a._shape, a._stride, 0, a._dtype))),
        ("backend.binary('add', out, a, ..., b, ...) (pack + kernel call)",
         loop(lambda: be.binary("add", out, a, a._stride, b, b._stride, 1))),
        ("  struct pack_into of the argument block", loop(lambda: fmt.pack_into(C._ARGS, 0, *args))),
        ("  _k_binary(): the ctypes call into the kernel (4 elements)", loop(C._k_binary)),
    ]
    # Round robin (every piece once per round, best over rounds) so a burst of load spoils one round, not a piece.
    best = [float("inf")] * len(items)
    for _ in range(15):
        for i, (_, fn) in enumerate(items):
            best[i] = min(best[i], _per_op_ns(fn, n, reps=1))
    base = best[0]
    rows = [(items[0][0], base)] + [(label, ns - base) for (label, _), ns in zip(items[1:], best[1:])]
    return rows


def profile(n=20000):
    import cProfile
    import io
    import pstats
    torch.manual_seed(0)
    lines = []
    try:
        rows = pieces()
        lines.append(f"=== tiny add pieces ({sys.platform}), ns per op, best of 15 runs of 4000 ===")
        lines += [f"  {ns:9.0f}  {label}" for label, ns in rows]
    except Exception as e:  # internals moved
        lines.append(f"(pieces unavailable: {type(e).__name__}: {e})")
    for label, shape, op in (("tiny add", (TINY_ADD_NUMEL,), _add), ("tiny matmul", (TINY_MM, TINY_MM), _mm)):
        for grad in (False, True):
            a = torch.randn(*shape, requires_grad=grad)
            b = torch.randn(*shape)

            def run(k):
                for _ in range(k):
                    op(a, b)
            run(1000)
            per = _per_op_ns(run, 4000) / 1e3
            pr = cProfile.Profile()
            pr.enable()
            run(n)
            pr.disable()
            s = io.StringIO()
            pstats.Stats(pr, stream=s).sort_stats("tottime").print_stats(14)
            body = s.getvalue().strip().split("\n")
            body = [ln for ln in body if ln.strip() and not ln.startswith(("   Ordered", "   List reduced"))]
            lines.append(f"=== {label} {list(shape)} float32, requires_grad={grad}: {per:.2f} us/op unprofiled; "
                         f"cProfile over {n} ops (tottime = own time) ===")
            lines += body
    return "\n".join(lines)


def serve():
    """Line protocol: {"cmd": "info"|"rep"|"release", "case": ..., "target_s": ...} -> one JSON line."""
    for line in sys.stdin:
        req = json.loads(line)
        try:
            if req["cmd"] == "info":
                res = info()
            elif req["cmd"] == "rep":
                res = {"sec_per_op": rep(req["case"], req.get("target_s", 0.1))}
            elif req["cmd"] == "release":
                release(req["case"])
                res = {}
            else:
                raise ValueError(f"unknown cmd {req['cmd']}")
        except Exception as e:  # report, keep serving
            res = {"error": f"{type(e).__name__}: {e}"}
        sys.stdout.write(json.dumps(res) + "\n")
        sys.stdout.flush()


def main(argv):
    import argparse
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--serve", action="store_true")
    p.add_argument("--profile", action="store_true")
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--target-ms", type=float, default=100)
    p.add_argument("--cases", default=None, help="comma-separated subset of: " + ",".join(CASES))
    args = p.parse_args(argv)
    if args.serve:
        serve()
    elif args.profile:
        print(profile())
    else:
        cases = args.cases.split(",") if args.cases else None
        print(json.dumps(run_all(cases, args.reps, args.target_ms / 1e3), indent=1))


if __name__ == "__main__":
    main(sys.argv[1:])
