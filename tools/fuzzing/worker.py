"""One fuzz worker process: reads calls (JSON lines) on stdin, runs each on torch (when asked) then on torch_js, and
writes one JSON line per side to its protocol pipe before starting the next side. The parent (runner.py) owns the
clock: a side that never answers is a hang, a worker that dies is a crash of the side it had not answered yet.

    python tools/fuzzing/worker.py [--torch] [--mem-gib N]

The protocol goes to the original stdout; fd 1 is pointed at stderr first, so stray prints (from C or Python)
cannot corrupt it.
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "pytorchjs_py"))

import spec  # noqa: E402  (tools/fuzzing is put on sys.path just above)


def _segfault():
    import ctypes
    ctypes.string_at(0)


def _sleep():
    import time
    time.sleep(3600)


SELFTEST = {"__selftest_crash__": _segfault, "__selftest_hang__": _sleep}


def _limit_memory(gib):
    try:
        import resource  # not in Pyodide / Windows
    except ImportError:
        return
    limit = int(gib * (1 << 30))
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _dump(side, out):
    try:
        return json.dumps({"side": side, "out": out}, allow_nan=False) + "\n"
    except (TypeError, ValueError) as e:  # a result the summary could not make JSON: recorded, not fatal
        return json.dumps({"side": side, "out": spec.exc_record(e, "summary")}) + "\n"


def main(argv):
    use_torch = "--torch" in argv
    mem = float(argv[argv.index("--mem-gib") + 1]) if "--mem-gib" in argv else 0
    proto = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    import warnings
    warnings.simplefilter("ignore")
    torch = None
    if use_torch:
        import torch
        torch.set_num_threads(1)
    import torch_js
    import torch_js.nn  # noqa: F401  (registers nn.functional)
    if mem:
        _limit_memory(mem)
    sys.setrecursionlimit(3000)
    proto.write('{"ready": 1}\n')
    for line in sys.stdin:
        call = json.loads(line)
        if call["op"] in SELFTEST:   # the pool's own test (tests/test_fuzz.py): a crash and a hang on demand
            SELFTEST[call["op"]]()
        if torch is not None:
            torch.manual_seed(0)
            proto.write(_dump("torch", spec.run_side(torch, call)))
        torch_js.manual_seed(0)
        proto.write(_dump("tj", spec.run_side(torch_js, call)))


if __name__ == "__main__":
    main(sys.argv[1:])
