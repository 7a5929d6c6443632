"""The differential fuzzer (tools/fuzz.py): its worker pool isolates crashes and hangs, its calls are JSON and its
reproducer lines do what the call does, and a short fixed-seed slice over ops that are clean today finds no crash,
hang or internal exception. `make fuzz` runs the long, non-asserting run (value and exception-type differences
included) and writes build/fuzz/report.json.
"""
import json
import os
import subprocess
import sys

import pytest

from optional_torch import needs_torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FUZZ = os.path.join(ROOT, "tools", "fuzz.py")
sys.path.insert(0, os.path.join(ROOT, "tools", "fuzzing"))
sys.path.insert(0, os.path.join(ROOT, "tools"))

import fuzz  # noqa: E402  (tools/ and tools/fuzzing are put on sys.path just above)
import runner  # noqa: E402
import spec  # noqa: E402

SEED = 14
CALLS = 300


def _call(op, form="fn", tensors=(), args=(), kwargs=None):
    return {"op": op, "ns": "torch", "form": form, "tensors": list(tensors), "args": list(args),
            "kwargs": kwargs or {}}


@pytest.mark.skipif(sys.platform == "emscripten", reason="the worker pool runs child processes; Pyodide has none")
def test_pool_isolates_crash_and_hang():
    """A worker that dies is a crash of that call, one that does not answer is a hang; the pool goes on."""
    t = {"dtype": "float32", "shape": [2, 3], "pat": [7, 5, 2, 2]}
    ok = _call("sum", tensors=[t], args=[{"T": 0}])
    calls = [_call("__selftest_crash__"), ok, _call("__selftest_hang__"), ok]
    results = runner.run_calls(calls, use_torch=False, jobs=1, timeout=5.0, nice=0)
    assert [runner.classify(c, got)[0] for c, got in results] == ["crash", "ok", "hang", "ok"]
    assert results[1][1]["tj"]["ok"]["vals"] == [sum(spec.pattern(6, [7, 5, 2, 2], True))]


def test_outcomes_classify_like_pytorch():
    raised = {"exc": "IndexError", "mro": ["IndexError", "LookupError", "Exception"], "msg": "", "phase": "call"}
    internal = {"exc": "AttributeError", "mro": ["AttributeError", "Exception"], "msg": "x", "phase": "call"}
    res = {"ok": {"t": "float32", "shape": [1], "stride": [1], "vals": [1.0]}, "after": []}
    off = {"ok": {"t": "float32", "shape": [1], "stride": [1], "vals": [1.5]}, "after": []}
    call = _call("add")
    assert runner.classify(call, {"torch": raised, "tj": raised})[0] == "match"
    assert runner.classify(call, {"torch": raised, "tj": internal})[0] == "internal"
    assert runner.classify(call, {"torch": res, "tj": raised})[0] == "tj_raises"
    assert runner.classify(call, {"torch": raised, "tj": res})[0] == "tj_succeeds"
    assert runner.classify(call, {"torch": res, "tj": off})[0] == "value_mismatch"
    assert runner.classify(call, {"torch": res, "tj": res})[0] == "match"
    assert runner.classify(call, {"torch": res, "tj": {"crash": 11}})[0] == "crash"


@needs_torch
def test_calls_are_json_and_reproducers_replay():
    """A generated call survives JSON, and its reproducer line run on torch does what the call does on torch."""
    import torch
    calls = json.loads(json.dumps(fuzz.generate(5, 40, set(fuzz.CLEAN_OPS))))
    assert len(calls) == 40
    for c in calls:
        if c["op"] in runner.UNINIT_OPS:
            continue
        *setup, last = spec.repro(c, "torch").split("; ")
        ns = {}
        try:
            exec("\n".join(setup), ns)
            if c["form"] == "setitem":
                exec(last, ns)
                got = {"ok": spec.summarize(torch, ns[last.split("[")[0]])}
            else:
                got = {"ok": spec.summarize(torch, eval(last, ns))}
        except Exception as e:  # noqa: BLE001
            got = spec.exc_record(e, "call")
        ref = spec.run_side(torch, c)
        assert got.get("exc") == ref.get("exc"), spec.repro(c)
        if "ok" in ref:
            assert runner.diff(got["ok"], ref["ok"]) is None, spec.repro(c)


@needs_torch
def test_fuzz_slice_has_no_crash_hang_or_internal(tmp_path):
    out = tmp_path / "report.json"
    proc = subprocess.run([sys.executable, FUZZ, "--seed", str(SEED), "--calls", str(CALLS), "--ops", "clean",
                           "--out", str(out), "--no-minimize", "--quiet", "--without", "tensor_type",
                           "--timeout", "30"],   # a loaded CI machine is slow, not hung
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(out.read_text())
    assert report["calls"] == CALLS
    bad = [f for f in report["findings"] if f["class"] in ("crash", "hang", "internal")]
    assert not bad, "\n".join(f"{f['class']} [{f['op']}] {f['detail']}\n    {f['repro']}" for f in bad)


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
