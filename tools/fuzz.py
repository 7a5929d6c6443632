"""Seeded differential fuzzer: the same call on torch_js and on torch (the oracle), compared.

    python tools/fuzz.py --seed S --calls N [--ops add,as_strided,...] [--out build/fuzz/report.json]
    python tools/fuzz.py --seed S --calls N --save-calls build/fuzz/calls.json   # also keep the call list
    python tools/fuzz.py --replay build/fuzz/calls.json --no-torch               # torch_js alone (sanitizers)
    python tools/fuzz.py --replay calls.json --no-torch --in-process             # no subprocesses (Pyodide)
    (`make fuzz`, `make fuzz-pyodide`, `make sanitize`, `make test-sanitize` run these; see the Makefile)

Calls are drawn over the op catalogue (torch_js.REGISTRY): PyTorch's OpInfo sample and error inputs as seeds, then
mutated (dtypes, 0-size, 0-d and high-rank shapes, non-contiguous / offset / expanded / overlapping views, in-place
and out=, hostile arguments and index values, non-tensors for tensors, the "grad" form that compares gradients), plus
raw view-makers (as_strided, empty_strided, resize_, indexing) with wild geometry. Each call runs in a worker process (a dead worker = crash, no answer within --timeout = hang). The JSON
report counts the outcome classes (tools/fuzzing/runner.py) and keeps one pasteable reproducer line per distinct
finding. The call format (tools/fuzzing/spec.py) is JSON and torch-free, so a recorded list replays anywhere.
Exit status: 0, or 1 with --fail-on CLASSES when any of those classes occurred.
"""
import argparse
import json
import os
import random
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(HERE, "fuzzing"))
sys.path.insert(0, os.path.join(ROOT, "pytorchjs_py"))

import corpus  # noqa: E402  (tools/fuzzing is put on sys.path just above; none of these imports torch)
import mutate  # noqa: E402
import runner  # noqa: E402
import spec  # noqa: E402

# Ops whose fuzzed calls raise PyTorch's exception or return a result, with no crash, hang or internal exception
# (tests/test_fuzz.py's slice and `make test-sanitize` run them; `--ops clean` names them). Grow it as ops get clean
# under `make fuzz`.
CLEAN_OPS = ("add", "mul", "sub", "div", "pow", "exp", "abs", "clamp", "sum", "mean", "amax", "cumsum", "softmax",
             "gather", "scatter_add", "index_select", "index_copy", "take", "masked_fill", "cat", "sort", "topk",
             "mm", "bmm", "nn.functional.conv1d", "nn.functional.max_pool2d", "as_strided", "__getitem__",
             "__setitem__", "view", "expand", "narrow", "select", "unfold", "empty_strided")
RAW_OPS = {"as_strided", "empty_strided", "resize_", "__getitem__", "__setitem__", "view", "new_empty", "full",
           "expand", "narrow", "unfold", "select"}


def generate(seed, n, only=None, raw_share=0.15, without=()):
    """n calls, a pure function of the arguments and the installed torch / torch_js."""
    rng = random.Random(seed)
    cp = corpus.Corpus(only)
    raw_ok = only is None or bool(only & RAW_OPS)
    calls = []
    attempts = 0
    while len(calls) < n and attempts < 20 * n + 100:
        attempts += 1
        if raw_ok and (rng.random() < raw_share or not cp.ops):
            call = corpus.raw_call(rng)
            if only and call["op"] not in only and call["op"] + "_" not in only and call["src"][4:] not in only:
                continue
        else:
            if not cp.ops:
                break
            key, opdef = rng.choice(cp.ops)
            seeds = cp.seeds(key, opdef)
            if not seeds:
                continue
            call = mutate.mutate(rng.choice(seeds), rng, opdef, without=without)
        call["id"] = len(calls)
        calls.append(call)
    return calls


def run_in_process(calls, trace=False):
    """torch_js alone, in this process (Pyodide has no subprocesses: a crash ends the run, a hang is not caught;
    trace=True names each call on stderr before it runs, so the last line names the one that took the run down)."""
    import warnings
    import torch_js
    import torch_js.nn  # noqa: F401  (registers nn.functional)
    warnings.simplefilter("ignore")
    out = []
    for call in calls:
        if trace:
            print(f"fuzz: call {call.get('id')}: {spec.repro(call)[:300]}", file=sys.stderr, flush=True)
        torch_js.manual_seed(0)
        try:
            res = spec.run_side(torch_js, call)
        except BaseException as e:  # noqa: BLE001  (a JS trap surfaces as an exception in Pyodide)
            res = {"crash": type(e).__name__, "stderr": str(e)[:500]}
        out.append((call, {"tj": res}))
    return out


def merge_into(path, report):
    """Add a torch_js-only replay's crashes and hangs (e.g. under the sanitizers) to another run's report, as its
    "sanitizer_replay" section: the differential run cannot see an out-of-bounds read that returned plausible bytes."""
    with open(path) as f:
        base = json.load(f)
    base["sanitizer_replay"] = {"native_lib": report.get("native_lib", ""), "counts": report["counts"],
                                "findings": [f for f in report["findings"] if f["class"] in ("crash", "hang")]}
    with open(path, "w") as f:
        json.dump(base, f, indent=1)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--calls", type=int, default=None, help="how many (default 300; a replay: all)")
    ap.add_argument("--ops", default="", help="comma-separated op names (registry names, ns.name, raw makers, or "
                    "'clean': CLEAN_OPS)")
    ap.add_argument("--out", default=os.path.join(ROOT, "build", "fuzz", "report.json"))
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=5.0, help="seconds per call and side")
    ap.add_argument("--mem-gib", type=float, default=4.0, help="address-space limit per worker (0: none)")
    ap.add_argument("--nice", type=int, default=10)
    ap.add_argument("--raw-share", type=float, default=0.15)
    ap.add_argument("--without", default="", help="comma-separated mutators to leave out (tools/fuzzing/mutate.py: "
                    "dtype, shape, noncontig, variant, badarg, tensor_type, intvals, floatvals)")
    ap.add_argument("--save-calls", default="")
    ap.add_argument("--generate-only", action="store_true", help="with --save-calls: write the list, run nothing")
    ap.add_argument("--replay", default="", help="a JSON call list (from --save-calls) instead of generating")
    ap.add_argument("--no-torch", action="store_true", help="run torch_js alone: crash / hang / internal only")
    ap.add_argument("--in-process", action="store_true", help="no worker processes (Pyodide)")
    ap.add_argument("--merge-into", default="", help="also add this run's crashes/hangs to that report")
    ap.add_argument("--trace", action="store_true", help="--in-process: name each call on stderr before it runs")
    ap.add_argument("--fail-on", default="", help="comma-separated classes that make the exit status 1")
    ap.add_argument("--no-minimize", action="store_true", help="keep findings' calls as drawn")
    ap.add_argument("--quiet", action="store_true")
    a = ap.parse_args(argv)
    only = {s.strip() for s in a.ops.split(",") if s.strip()} or None
    if only and "clean" in only:
        only = (only - {"clean"}) | set(CLEAN_OPS)
    t0 = time.time()
    if a.replay:
        with open(a.replay) as f:
            calls = json.load(f)["calls"]
        if only:
            calls = [c for c in calls if c["op"] in only or runner.op_label(c) in only]
        calls = calls[:a.calls] if a.calls else calls
    else:
        without = {s.strip() for s in a.without.split(",") if s.strip()}
        calls = generate(a.seed, 300 if a.calls is None else a.calls, only, a.raw_share, without)
    gen_s = time.time() - t0
    if a.save_calls:
        os.makedirs(os.path.dirname(os.path.abspath(a.save_calls)), exist_ok=True)
        with open(a.save_calls, "w") as f:
            json.dump({"seed": a.seed, "calls": calls}, f)
        if a.generate_only:
            return 0
    use_torch = not a.no_torch
    if a.in_process:
        results = run_in_process(calls, a.trace)
    else:
        def progress(done, total):
            if not a.quiet and (done % 100 == 0 or done == total):
                print(f"fuzz: {done}/{total} calls ({time.time() - t0:.0f} s)", file=sys.stderr, flush=True)
        results = runner.run_calls(calls, use_torch=use_torch, jobs=a.jobs, timeout=a.timeout,
                                   mem_gib=a.mem_gib, nice=a.nice, progress=progress)
    meta = {"seed": a.seed, "calls": len(calls), "mode": "torch_js only" if not use_torch or a.in_process
            else "differential", "ops": sorted(only) if only else "all",
            "without": a.without, "generate_s": round(gen_s, 1),
            "elapsed_s": round(time.time() - t0, 1), "native_lib": os.environ.get("TORCH_JS_NATIVE_LIB", "")}
    if use_torch and not a.in_process:
        import importlib.metadata
        meta["torch"] = importlib.metadata.version("torch")
    report = runner.build_report(results, meta)
    if not a.no_minimize and not a.in_process and report["findings"]:
        import minimize
        t1 = time.time()
        minimize.minimize(report["findings"], dict(use_torch=use_torch, jobs=a.jobs, timeout=a.timeout,
                                                   mem_gib=a.mem_gib, nice=a.nice))
        report["minimize_s"] = round(time.time() - t1, 1)
        report["elapsed_s"] = round(time.time() - t0, 1)
    if a.out:
        os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
        with open(a.out, "w") as f:
            json.dump(report, f, indent=1)
    if a.merge_into:
        merge_into(a.merge_into, report)
    if not a.quiet:
        print(runner.summary_text(report))
        if a.out:
            print(f"\nreport: {a.out}")
    fail = {s.strip() for s in a.fail_on.split(",") if s.strip()} & {c for c, n in report["counts"].items() if n}
    if fail:
        bad = dict(report, findings=[f for f in report["findings"] if f["class"] in fail])
        print(runner.summary_text(bad), file=sys.stderr)
        for f in bad["findings"][:5]:
            if f.get("stderr"):
                print(f"\n[{f['op']}] worker stderr:\n{f['stderr']}", file=sys.stderr)
        print(f"fuzz: {', '.join(sorted(fail))} found (report: {a.out})", file=sys.stderr)
    return 1 if fail else 0


if __name__ == "__main__":
    sys.exit(main())
