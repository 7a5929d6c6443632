"""torch_js.load of legacy checkpoints (the pre-1.6 non-zip format, still written by
`torch.save(obj, f, _use_new_zipfile_serialization=False)`).

tests/fixtures/torch_saved_legacy.pt was written by real torch (tools/gen_legacy_checkpoint_fixtures.py): reading
it needs no torch. Against live torch: files torch writes now (several objects, pickle protocols, a whole pickled
module) load as torch.load loads them, and the refusals agree. Hand-assembled files (tests/hostile_checkpoints.py's
legacy()) check the layout torch-free; the damaged and hostile ones are in the hostile corpus."""
import io
import os
import pickle
import struct
from collections import OrderedDict

import pytest

import torch_js
import torch_js.nn as nn
import hostile_checkpoints as H
from optional_torch import needs_torch, torch
from oracle import assert_same

HERE = os.path.dirname(os.path.abspath(__file__))
DTYPES = ["float32", "float64", "float16", "bfloat16", "int64", "int32", "int16", "int8", "uint8", "bool"]


def _load(data, **kw):
    return torch_js.load(io.BytesIO(data), **kw)


# ---- torch-free --------------------------------------------------------------------------------------------

def test_fixture_written_by_torch():
    o = torch_js.load(os.path.join(HERE, "fixtures", "torch_saved_legacy.pt"))
    assert type(o) is OrderedDict
    base = o["base"]
    assert base.shape == (4, 6) and base.dtype is torch_js.float32
    assert base.tolist() == torch_js.arange(24.0).reshape(4, 6).tolist()
    v = o["view"]
    assert v.storage_offset() == 8 and v.stride() == (6, 1) and v.tolist()[0] == [8.0, 9.0, 10.0]
    assert v.untyped_storage() is base.untyped_storage() and o["t"].untyped_storage() is base.untyped_storage()
    assert o["t"].stride() == (1, 6)
    assert isinstance(o["param"], nn.Parameter) and o["param"].requires_grad and o["param"].tolist() == [1.5, -2.0]
    assert isinstance(o["frozen"], nn.Parameter) and not o["frozen"].requires_grad
    for d in DTYPES:
        t = o["d_" + d]
        assert t.dtype is getattr(torch_js, d)
        assert t.tolist() == (torch_js.arange(-3, 4) * 1.25).to(getattr(torch_js, d)).tolist(), d
    assert o["scalar"].dim() == 0 and o["scalar"].item() == 7
    assert o["empty"].shape == (0, 3)
    n = o["nested"]
    assert n["list"][0].tolist() == [1, 2] and n["list"][1][0].dtype is torch_js.float16
    assert n["list"][1][1:] == (3.5, "s") and n["none"] is None and n["flag"] is True
    m = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    m.load_state_dict(o["model"])
    torch_js.manual_seed(0)
    ref = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    assert m[0].weight.tolist() == ref[0].weight.tolist()
    meta = o["meta"]
    assert meta.is_meta and meta.shape == (2, 3) and meta.dtype is torch_js.float64


def test_hand_assembled_file():
    """The layout read from first principles: two storages (float32 and int16), views, shared data, the records in
    the key list's order (not the object's)."""
    obj = {"a": H.legacy_tensor(size=(2, 2), stride=(2, 1), key="k1"),
           "b": H.legacy_tensor(offset=1, size=(3,), stride=(1,), key="k1"),
           "c": H.legacy_tensor(size=(3,), stride=(1,), stype="ShortStorage", key="k0", numel=3)}
    f32 = struct.pack("<4f", 1.5, -2.0, 3.25, 4.0)
    i16 = struct.pack("<3h", 7, -8, 9)
    data = H.legacy(obj, keys=["k0", "k1"], records=H.record(3, i16) + H.record(4, f32))
    o = _load(data)
    assert o["a"].tolist() == [[1.5, -2.0], [3.25, 4.0]] and o["b"].tolist() == [-2.0, 3.25, 4.0]
    assert o["b"].untyped_storage() is o["a"].untyped_storage()
    assert o["c"].dtype is torch_js.int16 and o["c"].tolist() == [7, -8, 9]


def test_storage_without_elements_and_trailing_bytes():
    obj = {"e": H.legacy_tensor(size=(0,), numel=0), "w": H.legacy_tensor(key="1")}
    data = H.legacy(obj, keys=["0", "1"], records=H.record(0, b"") + H.record(4, bytes(16))) + b"trailing"
    o = _load(data)
    assert o["e"].shape == (0,) and o["w"].tolist() == [0.0] * 4


def test_map_location_and_weights_only_false():
    data = H.legacy({"w": H.legacy_tensor()})
    assert _load(data, map_location="meta")["w"].is_meta
    assert _load(data, map_location="cpu")["w"].tolist() == [0.0] * 4
    assert _load(data, weights_only=False)["w"].tolist() == [0.0] * 4


def test_not_a_legacy_checkpoint():
    with pytest.raises(RuntimeError, match=r"Invalid magic number; corrupt file\?"):
        _load(pickle.dumps({"a": 1}, protocol=2))


# ---- against torch -----------------------------------------------------------------------------------------

def _objects(m):
    m.manual_seed(0)
    base = m.arange(24.0).reshape(4, 6)
    return {
        "tensors": {"base": base, "view": base[1:, 2:5], "t": base.t(), "neg": -base[::2],
                    "half": m.randn(5).half(), "bf16": m.randn(3).bfloat16(), "long": m.arange(-4, 4),
                    "bool": m.tensor([True, False, True]), "u8": m.tensor([0, 255], dtype=m.uint8),
                    "scalar": m.tensor(2.5, dtype=m.float64), "empty": m.zeros(0, 2)},
        "state_dict": m.nn.Sequential(m.nn.Conv2d(2, 3, 3), m.nn.BatchNorm2d(3), m.nn.Linear(4, 2)).state_dict(),
        "params": [m.nn.Parameter(m.ones(2)), m.nn.Parameter(m.zeros(3), requires_grad=False)],
        "mixed": OrderedDict(a=(1, 2.5, "x", None), b=[m.tensor([1, 2], dtype=m.int32)], d=m.float16),
        "meta": {"m": m.empty(3, 4, device="meta"), "p": m.nn.Parameter(m.empty(2, device="meta"))},
    }


def _same_structure(js, pt, what):
    if isinstance(pt, torch.Tensor):
        assert isinstance(js, torch_js.Tensor), what
        assert isinstance(js, nn.Parameter) == isinstance(pt, torch.nn.Parameter), what
        assert js.requires_grad == pt.requires_grad and js.is_meta == pt.is_meta, what
        assert js.stride() == pt.stride() and js.storage_offset() == pt.storage_offset(), what
        if pt.is_meta:
            assert js.shape == pt.shape and str(js.dtype) == str(pt.dtype), what
        else:
            assert_same(js, pt, what=what)
    elif isinstance(pt, dict):
        assert type(js).__name__ == type(pt).__name__ and list(js) == list(pt), what
        for k in pt:
            _same_structure(js[k], pt[k], f"{what}[{k!r}]")
    elif isinstance(pt, (list, tuple)):
        assert type(js) is type(pt) and len(js) == len(pt), what
        for i, (a, b) in enumerate(zip(js, pt)):
            _same_structure(a, b, f"{what}[{i}]")
    elif isinstance(pt, torch.dtype):
        assert str(js) == str(pt), what
    else:
        assert js == pt and type(js) is type(pt), what


@needs_torch
@pytest.mark.parametrize("protocol", [2, 4])
@pytest.mark.parametrize("name", ["tensors", "state_dict", "params", "mixed", "meta"])
def test_loads_what_torch_loads(name, protocol):
    buf = io.BytesIO()
    torch.save(_objects(torch)[name], buf, _use_new_zipfile_serialization=False, pickle_protocol=protocol)
    data = buf.getvalue()
    # (torch's weights_only unpickler lacks protocol 4's FRAME: the reference is its full unpickler there)
    want = torch.load(io.BytesIO(data), weights_only=protocol == 2)
    got = _load(data)
    _same_structure(got, want, name)
    if name == "tensors":     # views of one storage stay views of one storage
        assert got["view"].untyped_storage() is got["base"].untyped_storage()
        assert got["t"].untyped_storage() is got["base"].untyped_storage()


@needs_torch
def test_state_dict_metadata_and_module_weights():
    torch.manual_seed(0)
    ref = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    buf = io.BytesIO()
    torch.save(ref.state_dict(), buf, _use_new_zipfile_serialization=False)
    sd = _load(buf.getvalue())
    assert sd._metadata == torch.load(io.BytesIO(buf.getvalue()))._metadata
    m = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    m.load_state_dict(sd)
    x = [[0.5, -1.0, 2.0], [1.0, 0.0, -0.25]]
    assert_same(m(torch_js.tensor(x)), ref(torch.tensor(x)).detach(), rtol=1e-6, atol=1e-6)


@needs_torch
def test_whole_module_needs_weights_only_false_as_in_torch():
    torch.manual_seed(0)
    ref = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Tanh())
    buf = io.BytesIO()
    torch.save(ref, buf, _use_new_zipfile_serialization=False)
    data = buf.getvalue()
    with pytest.raises(pickle.UnpicklingError, match="Weights only load failed"):
        torch.load(io.BytesIO(data))
    with pytest.raises(pickle.UnpicklingError, match="Weights only load failed"):
        _load(data)
    m = _load(data, weights_only=False)
    assert isinstance(m, nn.Sequential) and isinstance(m[0], nn.Linear) and isinstance(m[1], nn.Tanh)
    x = [[0.5, -1.0], [2.0, 0.25]]
    assert_same(m(torch_js.tensor(x)), ref(torch.tensor(x)).detach(), rtol=1e-6, atol=1e-6)


@needs_torch
@pytest.mark.parametrize("cut", ["record", "keys", "object"])
def test_truncated_file_refused_like_torch(cut):
    buf = io.BytesIO()
    torch.save({"w": torch.arange(8.0)}, buf, _use_new_zipfile_serialization=False)
    data = buf.getvalue()
    end = {"record": len(data) - 3, "keys": len(data) - 8 * 4 - 8 - 5, "object": 150}[cut]
    with pytest.raises(Exception) as pt:
        torch.load(io.BytesIO(data[:end]))
    with pytest.raises((RuntimeError, pickle.UnpicklingError)) as js:
        _load(data[:end])
    if cut == "record":        # both name the missing bytes
        assert type(js.value) is type(pt.value) is RuntimeError
        assert "unexpected EOF, expected 3 more bytes. The file might be corrupted." in str(js.value)
