"""Hostile checkpoints: every file of the corpus (tests/hostile_checkpoints.py, built at test time) is refused with
a clear exception naming the problem, nothing in it runs, and no load allocates without bound or recurses deeply.
Legit files keep loading (tests/test_serialization.py, and the boundary cases here)."""
import io
import os
import pickle
import subprocess
import sys
import textwrap
import time
import zipfile
from collections import OrderedDict

import pytest

import torch_js
import torch_js.nn as nn
from torch_js.serialization import SafetensorError, _safetensors, _unpickler

import hostile_checkpoints as H
from optional_torch import needs_torch, torch

HERE = os.path.dirname(os.path.abspath(__file__))
IN_PYODIDE = sys.platform == "emscripten"      # there the in-process cases are the small-stack test

try:
    import tracemalloc
except ImportError:  # pragma: no cover  (a runtime without it: no memory figures, the refusals still checked)
    tracemalloc = None


class _Peak:
    """The peak traced allocation inside the block (0 where tracemalloc is missing)."""

    def __enter__(self):
        self.peak = 0
        if tracemalloc is not None:
            tracemalloc.start()
        return self

    def __exit__(self, *exc):
        if tracemalloc is not None:
            self.peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()


def _load(fmt, path):
    return torch_js.load(path) if fmt == "pt" else torch_js.load_safetensors(path)


@pytest.mark.parametrize("case", H.CASES, ids=H.IDS)
def test_hostile_file_is_refused(case, tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / f"{case.id}.{case.fmt}"
    path.write_bytes(case.build(str(marker)))
    t0 = time.perf_counter()
    with _Peak() as mem:
        with pytest.raises(case.error, match=case.match):
            _load(case.fmt, str(path))
    assert time.perf_counter() - t0 < 10, "refusing must be quick"
    assert mem.peak < 96 << 20, f"refusing allocated {mem.peak} bytes"
    assert not marker.exists(), "the payload ran"


def test_safetensors_errors_are_safetensor_errors():
    for case in H.CASES:
        if case.fmt == "safetensors" and "torch_js does not support" not in case.match and \
                "overflows int64" not in case.match:
            with pytest.raises(SafetensorError, match=r"^Error while deserializing: "):
                torch_js.load_safetensors(case.build(None))


def test_corpus_covers_the_brief():
    ids = set(H.IDS)
    for needed in ["reduce_os_system", "global_builtins_eval", "inst_opcode", "obj_opcode",
                   "param_state_internal_offset", "param_state_internal_shape", "param_state_internal_dtype",
                   "param_state_internal_storage", "view_size_past_storage",
                   "dtype_complex_storage", "zip_bomb_declared_huge", "zip_bomb_many_members",
                   "zip_member_lies_small_bad_crc", "zip_truncated_half", "nest_tuple1_chain", "st_nest_100k",
                   "st_negative_shape", "st_float_offsets", "st_overlapping", "st_reversed_range", "st_gap",
                   "st_numel_overflow", "st_huge_header_length", "st_not_json", "st_unknown_dtype",
                   "legacy_bad_magic", "legacy_object_runs_code", "legacy_magic_runs_code", "legacy_truncated_data",
                   "legacy_storage_claims_huge_numel", "legacy_key_not_found", "legacy_record_numel_mismatch"]:
        assert needed in ids, needed


# ---- what must still load ----------------------------------------------------------------------------------

def test_member_lying_small_inflates_only_what_it_declares(tmp_path):
    """A deflated record declaring 16 bytes whose stream would inflate to 64 MiB, with the CRC of its first 16
    bytes forged: the bounded reader inflates the declared 16 bytes and no more."""
    comp = H.deflate_zeros(64 << 20)
    data = H.checkpoint(H.pkl({"w": H.tensor()}), records={}, extra=[
        H.Member("archive/data/0", method=8, payload=comp, size=16, crc=H.zlib.crc32(bytes(16)))])
    with _Peak() as mem:
        o = torch_js.load(io.BytesIO(data))
    assert o["w"].tolist() == [0.0] * 4
    assert mem.peak < 8 << 20


def test_deflated_checkpoint_within_limits_loads():
    buf = io.BytesIO()
    torch_js.save({"w": torch_js.arange(1000.0)}, buf)
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for n in src.namelist():
            zf.writestr(n, src.read(n))
    out.seek(0)
    assert torch_js.load(out)["w"].tolist() == list(map(float, range(1000)))


def test_nesting_up_to_the_limit_loads_and_one_more_is_refused():
    depth = _unpickler.MAX_NESTING
    ok = H.checkpoint(b"\x80\x02)" + b"\x85" * depth + b".")     # depth tuples around an empty one
    o = torch_js.load(io.BytesIO(ok))
    n = 0
    while o:
        o, n = o[0], n + 1
    assert n == depth
    bad = H.checkpoint(b"\x80\x02)" + b"\x85" * (depth + 1) + b".")
    with pytest.raises(pickle.UnpicklingError, match=f"nests containers more than {depth} deep"):
        torch_js.load(io.BytesIO(bad))
    # what a user does with the deepest legal result: map it, print it, hash it, compare it (recursive consumers)
    o = torch_js.load(io.BytesIO(ok), map_location="cpu")
    repr(o), hash(o), o == o
    # a deep-but-legal dict tree keyed by deep tuples, with a tensor at the bottom
    legal = H.pt({"a": [{"b": (1, (2, (3, [H.tensor()])))}]})
    assert torch_js.load(io.BytesIO(legal))["a"][0]["b"][1][1][1][0].shape == (4,)


def test_empty_view_past_the_storage_end_loads_like_torch():
    # PyTorch's set_ accepts any offset for a view without elements (it reaches no byte); so does core check_view
    t = torch_js.load(io.BytesIO(H.pt({"w": H.tensor(offset=100, size=(0,))})))["w"]
    assert t.shape == (0,) and t.storage_offset() == 100 and t.tolist() == [] and (t + 1).tolist() == []


def test_memory_bomb_of_empty_containers_is_refused(monkeypatch):
    monkeypatch.setattr(_unpickler, "BUDGET_SLACK", 0)
    data = H.checkpoint(b"\x80\x02" + b"\x8f" * 200_000 + b".")
    with pytest.raises(pickle.UnpicklingError, match="builds more Python objects than its size allows"):
        torch_js.load(io.BytesIO(data))


def test_shared_containers_and_memo_still_load():
    od = OrderedDict()
    od._metadata = {"": {"version": 1}}
    base = torch_js.arange(6.0)
    shared = [base, base[2:]]
    obj = {"od": od, "a": shared, "b": shared, "s": {1, 2}, "fs": frozenset({3}), "c": 1 + 2j, "sl": slice(1, 5, 2),
           "bytes": b"\x00\xff", "size": torch_js.Size([2, 3]), "dt": torch_js.int8, "big": 2 ** 80}
    buf = io.BytesIO()
    torch_js.save(obj, buf)
    buf.seek(0)
    o = torch_js.load(buf)
    assert o["a"] is o["b"] and o["a"][1].untyped_storage() is o["a"][0].untyped_storage()
    assert o["od"]._metadata == {"": {"version": 1}} and o["s"] == {1, 2} and o["fs"] == frozenset({3})
    assert o["c"] == 1 + 2j and o["sl"] == slice(1, 5, 2) and o["bytes"] == b"\x00\xff" and o["big"] == 2 ** 80
    assert o["size"] == (2, 3) and o["dt"] is torch_js.int8


def test_public_attributes_restored_on_parameter_and_tensor():
    p = H.param_with_state({"tag": "x", "_is_hf_initialized": True})
    t = H.call(H.G("torch._tensor", "_rebuild_from_type_v2"), H.G("torch._utils", "_rebuild_tensor_v2"),
               H.G("torch", "Tensor"), (H.storage(), 0, (4,), (1,), False, H.OD), {"extra": 5})
    o = torch_js.load(io.BytesIO(H.pt({"p": p, "t": t})))
    assert isinstance(o["p"], nn.Parameter) and o["p"].tag == "x" and o["p"]._is_hf_initialized is True
    assert o["p"].shape == (4,) and o["p"].storage_offset() == 0
    assert o["t"].extra == 5 and o["t"].tolist() == [0.0] * 4


@needs_torch
def test_torch_files_with_python_attributes_load(tmp_path):
    p = torch.nn.Parameter(torch.arange(3.0))
    p.tag = "w"
    t = torch.ones(2)
    t.note = [1, 2]
    path = tmp_path / "attrs.pt"
    torch.save({"p": p, "t": t, "v": torch.__version__}, path)
    o = torch_js.load(str(path))
    assert isinstance(o["p"], nn.Parameter) and o["p"].tag == "w" and o["p"].tolist() == [0.0, 1.0, 2.0]
    assert o["t"].note == [1, 2] and o["t"].tolist() == [1.0, 1.0] and o["v"] == str(torch.__version__)


@needs_torch
def test_torch_refuses_what_torch_js_refuses_to_run(tmp_path):
    # the code-execution payloads are refused by torch's weights_only loader too (the oracle for "refuse")
    for case in H.CASES:
        if case.id in ("reduce_os_system", "global_builtins_eval", "inst_opcode", "obj_opcode"):
            marker = tmp_path / "pwned"
            with pytest.raises(pickle.UnpicklingError):
                torch.load(io.BytesIO(case.build(str(marker))), weights_only=True)
            assert not marker.exists()


# ---- the JSON depth pre-scan ---------------------------------------------------------------------------------

@pytest.mark.parametrize("text,depth", [
    ('{}', 1), ('{"a": [[1], {"b": []}]}', 4), ('{"a": "[[[[[["}', 1), ('{"a": "\\"[[[[["}', 1),
    ('{"a": "\\\\", "b": [[]]}', 3), ('{"a\\"[": [["\\\\\\"{{{"]]}', 3), ('"[[[["', 0), ('[[[', 3), ('x]]][', 0)])
def test_json_depth_prescan(text, depth):
    assert _safetensors.json_depth(text.encode()) == depth


def test_safetensors_depth_limit_matches_serde():
    limit = _safetensors.JSON_RECURSION_LIMIT
    for inner, ok in ((limit - 3, True), (limit - 2, False)):   # 2 levels around the extra field
        raw = H.st1({"z": H.json.loads("[" * inner + "]" * inner)})
        if ok:
            assert torch_js.load_safetensors(raw)["x"].tolist() == [0.0]
        else:
            with pytest.raises(SafetensorError, match="recursion limit exceeded"):
                torch_js.load_safetensors(raw)


def test_safetensors_legit_variants_load():
    # ranges listed out of order in the header but tiling the buffer, a zero-size tensor, metadata, extra fields
    raw = H.st({"b": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]},
                "e": {"dtype": "I64", "shape": [0, 5], "data_offsets": [8, 8]},
                "a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4], "extra": {"k": [1]}},
                "__metadata__": {"format": "pt"}}, H.struct.pack("<2f", 1.5, 2.5))
    o = torch_js.load_safetensors(raw)
    assert list(o) == ["b", "e", "a"] and o["a"].tolist() == [1.5] and o["b"].tolist() == [2.5]
    assert o["e"].shape == (0, 5)
    assert torch_js.load_safetensors(H.st({"__metadata__": None})) == {}


# ---- no deep recursion, even on a small stack (Pyodide's is small) ------------------------------------------

@pytest.mark.skipif(IN_PYODIDE, reason="no subprocess or threads; the in-process cases run on Pyodide's own stack")
def test_deep_inputs_refused_on_a_small_stack():
    """Every deep-nesting case, and repr/map_location of the deepest legal checkpoint, on a thread with a 512 KiB
    stack, in a subprocess (a stack overflow there would crash only the child)."""
    code = textwrap.dedent(f"""
        import io, sys, threading
        sys.path[:0] = [{HERE!r}, {os.path.join(os.path.dirname(HERE), "pytorchjs_py")!r}]
        import torch_js
        import hostile_checkpoints as H
        from torch_js.serialization import _unpickler
        out = []
        def run():
            for case in H.CASES:
                if "nest" in case.id or case.id.startswith(("self_", "cycle_")):
                    data = case.build(None)
                    try:
                        (torch_js.load if case.fmt == "pt" else torch_js.load_safetensors)(io.BytesIO(data)
                            if case.fmt == "pt" else data)
                        out.append(case.id + " LOADED")
                    except case.error as e:
                        out.append(case.id + " refused")
            d = _unpickler.MAX_NESTING
            o = torch_js.load(io.BytesIO(H.checkpoint(b"\\x80\\x02)" + b"\\x85" * d + b".")), map_location="cpu")
            repr(o); hash(o); o == o
            out.append("deepest legal ok")
        threading.stack_size(512 * 1024)
        th = threading.Thread(target=run)
        th.start(); th.join()
        print("\\n".join(out))
    """)
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    lines = res.stdout.split("\n")
    assert "deepest legal ok" in lines, res.stdout + res.stderr[-2000:]
    assert not [ln for ln in lines if "LOADED" in ln], res.stdout
    assert len([ln for ln in lines if ln.endswith("refused")]) >= 10
