"""Generate docs/ops.md: every op in torch_js's registry with its declaration and its OpInfo conformance.

    .venv/bin/python tools/gen_ops_doc.py                 # run tests/test_opinfo.py, then write docs/ops.md
    .venv/bin/python tools/gen_ops_doc.py --junit FILE    # reuse a junit xml from an earlier run
    .venv/bin/python tools/gen_ops_doc.py --no-tests      # declarations only (status columns left empty)

The table has, per registry entry, its declaration (ops/_registry.py): namespace, name, kind, Tensor method?,
in-place variant?, dtype rule, derivative (formula / named backward / composite / none), primitive (the backend
method(s) it calls) or composite; then the OpInfo names, the conformance counts and a WebGPU column.
test_opinfo.py runs forward and backward in one test per (op, dtype, sample), so a case counts as passed when both
passed; failures are split by the phase named in the failure message (forward / backward / error
inputs). WebGPU: "yes" when the webgpu backend implements every primitive the op calls, "no" when it lacks
one, "composite" for a composite (it runs wherever its constituent ops do).
"""
import argparse
import collections
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "pytorchjs_py"))

_ID = re.compile(r"^(?P<label>.*?)-(?P<dtype>float32|float64|int64|int32|int16|int8|uint8|bool|error)-\d+-")


def run_pytest(junit):
    os.makedirs(os.path.dirname(junit), exist_ok=True)
    # torch_js.nn is imported first so nn.functional is registered before test_opinfo collects its cases
    code = ("import sys; sys.path.insert(0, 'pytorchjs_py'); sys.path.insert(0, 'tests'); import torch_js.nn; "
            "import pytest; sys.exit(pytest.main(sys.argv[1:]))")
    cmd = [sys.executable, "-c", code, "-q", "-p", "no:cacheprovider", "tests/test_opinfo.py", f"--junitxml={junit}"]
    print("running tests/test_opinfo.py ...", file=sys.stderr)
    subprocess.run(cmd, cwd=ROOT, stdout=subprocess.DEVNULL)


def read_junit(path):
    """{case id: (status, phase)} with status pass/fail/xfail/skip and phase forward/backward/error/''."""
    out = {}
    for tc in ET.parse(path).getroot().iter("testcase"):
        name = tc.get("name", "")
        m = re.match(r"test_opinfo\[(.*)\]$", name)
        if not m:
            continue
        cid = m.group(1)
        status, phase = "pass", ""
        for child in tc:
            if child.tag in ("failure", "error"):
                status = "fail"
                msg = (child.get("message") or "") + (child.text or "")
                if "\n  backward" in msg or "backward:" in msg:
                    phase = "backward"
                elif cid and _ID.match(cid) and _ID.match(cid).group("dtype") == "error":
                    phase = "error"
                else:
                    phase = "forward"
            elif child.tag == "skipped":
                msg = (child.get("type") or "") + (child.get("message") or "")
                status = "xfail" if "xfail" in msg.lower() else "skip"
        out[cid] = (status, phase)
    return out


def op_labels(registry):
    """Registry key -> label prefix used in test ids (test_opinfo's `<ns>.<name>`, `torch` without prefix)."""
    return {key: (f"{key[0]}.{key[1]}" if key[0] != "torch" else key[1]) for key in registry}


def assign(cases, registry):
    """Group case ids under the registry key whose label prefix is the longest match."""
    prefixes = sorted(((p, k) for k, p in op_labels(registry).items()), key=lambda x: -len(x[0]))
    per_op = collections.defaultdict(list)
    for cid, res in cases.items():
        m = _ID.match(cid)
        label = m.group("label") if m else cid
        for p, key in prefixes:
            if label == p or (label.startswith(p) and label[len(p)] in "[._"):
                per_op[key].append((cid, res))
                break
    return per_op


def webgpu_status(op):
    from torch_js.backends.interface import Backend
    from torch_js.backends.webgpu import WebGPUBackend
    if not op.primitives:
        return "composite"
    implemented = all(getattr(WebGPUBackend, p, None) is not getattr(Backend, p, None) for p in op.primitives)
    return "yes" if implemented else "no"


def derivative_cell(op):
    d = op.derivative
    names = ", ".join(f"`{f.__name__}`" for f in d.fns if getattr(f, "__name__", "<lambda>") != "<lambda>")
    return f"{d.kind}: {names}" if names else d.kind


def declaration_cells(key, op):
    """The table's first cells, read from the op's declaration (tests/test_structure.py compares them with
    docs/ops.md, so the file cannot drift from the registry)."""
    return [key[0], f"`{key[1]}`", op.kind, "yes" if op.method else "", "yes" if op.inplace is not None else "",
            op.dtype or "", derivative_cell(op), op.primitive or "composite"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--junit", help="junit xml of a tests/test_opinfo.py run (default: run it now)")
    ap.add_argument("--no-tests", action="store_true")
    ap.add_argument("--out", default=os.path.join(ROOT, "docs", "ops.md"))
    args = ap.parse_args()
    import torch_js
    import torch_js.nn  # noqa: F401  (nn is imported lazily by torch_js; its functional ops join the registry here)
    registry = torch_js.REGISTRY
    cases = {}
    if not args.no_tests:
        junit = args.junit or os.path.join(ROOT, "build", "opinfo-junit.xml")
        if not args.junit:
            run_pytest(junit)
        cases = read_junit(junit)
    per_op = assign(cases, registry)

    rows = []
    totals = collections.Counter()
    for key in sorted(registry, key=lambda k: (k[0] != "torch", k[0], k[1])):
        op = registry[key]
        res = per_op.get(key, [])
        c = collections.Counter()
        for _, (status, phase) in res:
            c[status] += 1
            if status == "fail":
                c["fail_" + phase] += 1
        totals.update(c)
        n = sum(c[s] for s in ("pass", "fail", "xfail", "skip"))
        if not cases or not op.opinfo:
            status = ""
        elif not n:
            status = "no cases"
        else:
            status = f"{c['pass']}/{n}"
            if c["xfail"]:
                status += f" ({c['xfail']} xfail)"
        fails = ", ".join(f"{c['fail_' + ph]} {ph}" for ph in ("forward", "backward", "error") if c["fail_" + ph])
        cells = declaration_cells(key, op) + [", ".join(op.opinfo) if op.opinfo else "—", status, fails,
                                               webgpu_status(op)]
        rows.append("| " + " | ".join(cells) + " |")

    lines = [
        "# torch_js ops",
        "",
        "Generated by `tools/gen_ops_doc.py` (`make docs`); do not edit by hand.",
        "",
        f"{len(registry)} registry entries ("
        + ", ".join(f"{sum(1 for k in registry if k[0] == ns)} in `{'torch.' + ns if ns != 'torch' else ns}`"
                    for ns in sorted({k[0] for k in registry})) + ").",
        "",
    ]
    if cases:
        n = sum(totals[s] for s in ("pass", "fail", "xfail", "skip"))
        lines += [
            f"OpInfo conformance (tests/test_opinfo.py, one case per op × dtype × sample; forward and backward run in "
            f"the same case): {totals['pass']} passed, {totals['fail']} failed ({totals['fail_forward']} forward, "
            f"{totals['fail_backward']} backward, {totals['fail_error']} error-input), {totals['xfail']} xfail, "
            f"{totals['skip']} skipped, of {n} cases.",
            "",
        ]
    lines += [
        "Columns: **method** — a `Tensor.<name>` method; **in-place** — a `Tensor.<name>_` variant; **dtype** — the "
        "declared dtype rule (`DTYPE_RULES` in ops/_registry.py); **derivative** — `formula` (expressions in other "
        "ops), `backward` (the named backward function it records), `composite` (through the ops it is written in) "
        "or `none`; **primitive** — the backend primitive(s) it calls (backends/interface.py), or `composite`; "
        "**OpInfo** — the op_db entries that test it; **pass** — passed / cases; **failures** — by phase; "
        "**webgpu** — `yes` when the webgpu backend implements its primitives, `composite` when it runs wherever "
        "its constituent ops do.",
        "",
        "| namespace | name | kind | method | in-place | dtype | derivative | primitive | OpInfo | pass | failures "
        "| webgpu |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ] + rows + [""]
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        f.write("\n".join(lines))
    print(f"wrote {args.out}: {len(rows)} ops", file=sys.stderr)


if __name__ == "__main__":
    main()
