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
                c = a @ b
            return c
        return fn
    return setup


def _binary(shape, op, grad):
    def setup():
        torch.manual_seed(0)
        a = torch.randn(*shape, requires_grad=grad)
        b = torch.randn(*shape)

        def fn(n):
            for _ in range(n):
                c = op(a, b)
            return c
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
    from torch_js.backends import _native
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

def profile(n=20000):
    import cProfile
    import io
    import pstats
    torch.manual_seed(0)
    lines = []
    for grad in (False, True):
        a = torch.randn(TINY_ADD_NUMEL, requires_grad=grad)
        b = torch.randn(TINY_ADD_NUMEL)
        for _ in range(1000):
            a + b
        t0 = _now()
        for _ in range(n):
            a + b
        per = (_now() - t0) / n / 1e3
        pr = cProfile.Profile()
        pr.enable()
        for _ in range(n):
            a + b
        pr.disable()
        s = io.StringIO()
        st = pstats.Stats(pr, stream=s)
        st.sort_stats("tottime").print_stats(18)
        lines.append(f"=== tiny add ({TINY_ADD_NUMEL} float32), requires_grad={grad}: {per:.2f} us/op "
                     f"unprofiled; cProfile over {n} ops (tottime = own time, per call) ===")
        lines.append(s.getvalue())
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
