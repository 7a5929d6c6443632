"""OpInfo conformance: every registered op against PyTorch's own sample inputs (op_db), per dtype and sample.

Cases come from real torch when it is importable (CPython dev loop) and otherwise from the fixture
build/fixtures/opinfo_cases.json.gz (Pyodide); ids are the same either way:
    <op>-<dtype>-<sample index in op_db's sample_inputs>-<input shapes and args>
Set TORCHJS_OPINFO_SOURCE=fixture to run from the fixture under CPython too.
`make fixtures` (every test target runs it) remakes the fixture when ops are registered or torch changes.
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


@pytest.mark.parametrize("case", oracle.pytest_params(CASES))
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
