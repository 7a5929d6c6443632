"""torch_js._jsapi, the engine side of js_bridge/torch.mjs (the JS suite is tests/torch_mjs/test_torch_mjs.mjs, `make test-js`):
batches of JSON messages run against torch_js, results kept under the ids JavaScript gave them, errors reported
per op with Python's type and message, and an id whose op failed poisoning the ops that use it. Runs in CPython and
in Pyodide (no torch needed)."""
import json
import os
import struct
import subprocess
import sys

import pytest

import torch_js as torch
from torch_js._jsapi import Session

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def batch(session, *ops, buffers=()):
    text, bufs = session.run_batch(json.dumps({"ops": [list(op) for op in ops]}), buffers)
    return json.loads(text), bufs


def test_ops_run_by_name_with_kwargs_handles_and_sizes():
    s = Session()
    reply, _ = batch(
        s,
        (1, "fn", 1, None, "tensor", [[[1.5, 2.0], [3.0, 4.0]]], None),
        (2, "method", 2, 1, "sum", None, {"dim": 1, "keepdim": True}),
        (3, "method", 3, 1, "view", [[{"$size": [1, 0]}, -1]], None),
        (4, "fn", 4, None, "nn.functional.relu", [{"$h": 1}], None),
        (5, "method", 5, 1, "add", [{"$f": 2}], None),
    )
    assert reply["errors"] == []
    assert [m[0] for m in reply["meta"]] == [1, 2, 3, 4, 5]
    assert reply["meta"][1][1:] == [[2, 1], "float32", "cpu"]
    assert reply["meta"][2][1] == [2, 2]
    assert s.objects[2].tolist() == [[3.5], [7.0]]
    assert s.objects[5].tolist() == [[3.5, 4.0], [5.0, 6.0]]


def test_typed_buffers_and_reads_are_raw_little_endian_bytes():
    s = Session()
    raw = struct.pack("<3f", 1.0, -2.0, 0.5)
    reply, bufs = batch(
        s,
        (1, "typed", 1, None, None, [{"$buf": 0}, "float32"], {"dtype": {"$dtype": "float64"}}),
        (2, "read", None, 1, None, None, None),
        (3, "method", 3, 1, "tolist", None, None),
        (4, "typed", 4, None, None, [{"$buf": 1}, "int32"], None),
        (5, "read", None, 3, None, None, None),
        buffers=[raw, b""],
    )
    assert reply["errors"] == []
    (seq, fields), (_, value) = reply["replies"]
    assert fields == {"dtype": "float64", "shape": [3], "buf": 0}
    assert struct.unpack("<3d", bufs[0]) == (1.0, -2.0, 0.5)
    assert value == {"value": [1.0, -2.0, 0.5]}
    assert s.objects[4].shape == (0,) and s.objects[4].dtype == torch.int32
    assert reply["meta"][1][1:] == [[0], "int32", "cpu"]


def test_errors_name_python_type_and_poison_dependent_ids():
    s = Session()
    reply, _ = batch(
        s,
        (1, "fn", 1, None, "randn", [2, 3], None),
        (2, "method", 2, 1, "matmul", [{"$h": 1}], None),
        (3, "method", 3, 2, "add", [1], None),
        (4, "fn", 4, None, "no_such_op", None, None),
        (5, "fn", 5, None, "_C", None, None),
        (6, "read", None, 3, None, None, None),
    )
    errs = {seq: (typ, msg) for seq, typ, msg in reply["errors"]}
    assert errs[2][0] == "RuntimeError" and "2x3 and 2x3" in errs[2][1]
    assert "Tensor.matmul, which failed earlier" in errs[3][1]
    assert errs[4] == ("AttributeError", "module 'torch' has no attribute 'no_such_op'")
    assert "not a public torch name" in errs[5][1]
    assert 6 in errs and reply["replies"] == [[6, {"error": True}]]


def test_grad_modes_free_unpack_and_load():
    s = Session()
    model = torch.nn.Linear(2, 1)
    s.objects[9] = model
    s.objects[10] = list(model.parameters())
    state = {k: v.detach() + 1 for k, v in model.state_dict().items()}
    path_bytes = _saved(state)
    reply, _ = batch(
        s,
        (1, "fn", 1, None, "ones", [2], {"requires_grad": True}),
        (2, "grad", None, None, None, [True, "no_grad"], None),
        (3, "method", 3, 1, "mul", [2], None),
        (4, "grad", None, None, None, [False], None),
        (5, "method", 5, 1, "mul", [2], None),
        (6, "unpack", None, 10, None, None, None),
        (7, "load", None, 9, None, [{"$buf": 0}, "auto"], {"strict": True}),
        (8, "free", None, None, None, [3], None),
        (9, "save", None, 9, None, None, None),
        (10, "loadobj", 11, None, None, [{"$buf": 0}], None),
        buffers=[path_bytes],
    )
    assert reply["errors"] == []
    assert 3 not in s.objects and s.objects[5].requires_grad and torch.is_grad_enabled()
    unpacked = dict(reply["replies"])[6]["list"]
    assert [(e["shape"], e["dtype"]) for e in unpacked] == [([1, 2], "float32"), ([1], "float32")]
    assert s.objects[unpacked[0]["$h"]] is model.weight and unpacked[0]["$h"] < 0
    assert dict(reply["replies"])[7] == {"value": {"missing_keys": [], "unexpected_keys": []}}
    assert torch.equal(model.weight.detach(), state["weight"])
    saved = dict(reply["replies"])[9]
    assert saved["dtype"] == "uint8" and saved["shape"][0] > 0
    assert sorted(s.objects[11]) == ["bias", "weight"] and torch.equal(s.objects[11]["bias"], state["bias"])


def _saved(state):
    import io
    buf = io.BytesIO()
    torch.save(state, buf)
    return buf.getvalue()


@pytest.mark.skipif(sys.platform == "emscripten", reason="runs the generator in a subprocess (CPython only)")
def test_torch_mjs_names_are_generated_from_torch_js():
    res = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "gen_torch_mjs.py"), "--check"],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
