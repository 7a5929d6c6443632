"""OpInfo conformance: every registered op against PyTorch's own sample inputs (op_db), per dtype and sample.

Cases come from real torch when it is importable (CPython dev loop) and otherwise from
tests/fixtures/opinfo_cases.json.gz (Pyodide); ids are the same either way:
    <op>-<dtype>-<sample index in op_db's sample_inputs>-<input shapes and args>
Set TORCHJS_OPINFO_SOURCE=fixture to run from the fixture under CPython too.
Regenerate the fixture with `.venv/bin/python tools/gen_fixtures.py` after adding ops.
"""
import os

import pytest

import oracle

_SOURCE = os.environ.get("TORCHJS_OPINFO_SOURCE", "")
if _SOURCE != "fixture":
    try:
        import torch  # noqa: F401
        _SOURCE = "live"
    except ImportError:
        _SOURCE = "fixture"

if _SOURCE == "live":
    CASES = oracle.build_cases()
else:
    CASES = oracle.load_fixture()

# Known gaps, as data: (op label, dtype or None for all dtypes[, sample index]) -> reason.
# Each entry marks the matching cases xfail(strict=False); fix the gap, then delete the entry.
XFAIL = {
    ("scatter", "float64", 5): "scatter(reduce='multiply') (deprecated reduce= argument) not implemented",
    ("scatter", "float64", 26): "scatter(reduce='multiply') (deprecated reduce= argument) not implemented",
    # PyTorch's CPU uint8 bilinear/bicubic is a fixed-point, Pillow-style separable kernel (AVX2 path, weights in
    # int16 with rounding between the passes); torch_js evaluates in float32 and rounds once: same dtype and shape,
    # values within a few units
    ("nn.functional.interpolate.bilinear", "uint8"): "uint8 bilinear uses PyTorch's fixed-point kernel (not ported)",
    ("nn.functional.interpolate.bicubic", "uint8"): "uint8 bicubic uses PyTorch's fixed-point kernel (not ported)",
    ("nn.functional.upsample_bilinear", "uint8"): "uint8 bilinear uses PyTorch's fixed-point kernel (not ported)",
}
# Known gaps by keyword argument: (dtype label, kwarg name) -> reason ("error" = OpInfo error_inputs cases).
XFAIL_KWARG = {
}


def _xfail_reason(case):
    for key in ((case["op"], case["dtype"], case["idx"]), (case["op"], case["dtype"]), (case["op"], None)):
        if key in XFAIL:
            return XFAIL[key]
    for (dtype, kwarg), reason in XFAIL_KWARG.items():
        if case["dtype"] == dtype and kwarg in case["kwargs"]:
            return reason
    return None


def _params():
    out = []
    for case in CASES:
        reason = _xfail_reason(case)
        marks = [pytest.mark.xfail(reason=reason, strict=False)] if reason else []
        out.append(pytest.param(case, id=case["id"], marks=marks))
    return out


@pytest.mark.parametrize("case", _params())
def test_opinfo(case):
    oracle.run_case(case)


def test_cases_cover_registry():
    """Every registered op that names an OpInfo has at least one case (a typo'd opinfo name would hide an op)."""
    import torch_js
    covered = {(c["ns"], c["name"]) for c in CASES}
    named = {key for key, op in torch_js.REGISTRY.items() if op.opinfo}
    missing = sorted(".".join(k) for k in named - covered)
    if _SOURCE == "fixture":
        pytest.skip("fixture may predate newly registered ops") if missing else None
    assert not missing, f"registered ops with opinfo names but no cases: {missing}"
