"""torch_js.save / torch_js.load in PyTorch's zip format, both directions, and the restricted unpickler.

tests/fixtures/torch_saved.pt was written by real torch.save (tools/gen_serialization_fixtures.py); reading it needs
no torch. Round trips through live torch run where torch imports."""
import io
import os
import pickle
import sys
import zipfile
from collections import OrderedDict

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
import torch_js  # noqa: E402  (conftest.py puts the package on sys.path)
import torch_js.nn as nn  # noqa: E402

from optional_torch import HAVE_TORCH, needs_torch, torch  # noqa: E402,F401

DTYPES = ["float32", "float64", "float16", "bfloat16", "int64", "int32", "int16", "int8", "uint8", "bool"]
EXPECTED_VALUES = {
    "float32": [-3.75, -2.5, -1.25, 0.0, 1.25, 2.5, 3.75], "int64": [-3, -2, -1, 0, 1, 2, 3],
    "uint8": [253, 254, 255, 0, 1, 2, 3], "bool": [True, True, True, False, True, True, True]}


def test_load_file_written_by_torch():
    o = torch_js.load(os.path.join(HERE, "fixtures", "torch_saved.pt"))
    assert type(o) is OrderedDict
    base = o["base"]
    assert base.shape == (4, 6) and base.dtype is torch_js.float32 and base[3, 5].item() == 23.0
    v = o["view"]
    assert v.storage_offset() == 8 and v.stride() == (6, 1) and v.tolist()[0] == [8.0, 9.0, 10.0]
    assert v.untyped_storage() is base.untyped_storage()          # shared storage stays shared
    assert o["t"].stride() == (1, 6) and o["t"].untyped_storage() is base.untyped_storage()
    with torch_js.no_grad():
        base[1, 2] = 100.0
    assert v[0, 0].item() == 100.0
    p = o["param"]
    assert isinstance(p, nn.Parameter) and p.requires_grad and p.tolist() == [1.5, -2.0]
    assert isinstance(o["frozen"], nn.Parameter) and not o["frozen"].requires_grad
    for d in DTYPES:
        t = o["d_" + d]
        assert t.dtype is getattr(torch_js, d if d != "bool" else "bool")
        exp = EXPECTED_VALUES.get(d, [-3.75, -2.5, -1.25, 0.0, 1.25, 2.5, 3.75]
                                  if d in ("float64", "float16", "bfloat16") else [-3, -2, -1, 0, 1, 2, 3])
        assert t.tolist() == exp, d
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
    assert o["model"]["1.num_batches_tracked"].dtype is torch_js.int64


def test_round_trip_torch_js_only():
    base = torch_js.arange(12.0).reshape(3, 4)
    obj = {"a": base, "b": base[:, 1:3], "p": nn.Parameter(torch_js.ones(2)), "l": [torch_js.tensor(True)],
           "dt": torch_js.bfloat16, "dev": torch_js.device("cpu"), "size": torch_js.Size([2, 3])}
    buf = io.BytesIO()
    torch_js.save(obj, buf)
    buf.seek(0)
    o = torch_js.load(buf)
    assert o["b"].tolist() == base[:, 1:3].tolist() and o["b"].untyped_storage() is o["a"].untyped_storage()
    assert isinstance(o["p"], nn.Parameter) and o["l"][0].item() is True
    assert o["dt"] is torch_js.bfloat16 and str(o["dev"]) == "cpu" and o["size"] == (2, 3)
    names = zipfile.ZipFile(io.BytesIO(buf.getvalue())).namelist()
    assert names[:4] == ["archive/data.pkl", "archive/.format_version", "archive/.storage_alignment",
                         "archive/byteorder"]
    assert "archive/data/0" in names and "archive/data/1" in names and "archive/version" in names
    assert "archive/data/3" not in names       # a, b share one storage: 3 storages in all
    # data records are 64-byte aligned, like torch's writer
    zf = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    for info in zf.infolist():
        if info.filename.startswith("archive/data/"):
            raw = buf.getvalue()
            off = info.header_offset + 30 + len(info.filename) + int.from_bytes(raw[info.header_offset + 28:
                                                                                   info.header_offset + 30], "little")
            assert off % 64 == 0


@needs_torch
def test_torch_loads_torch_js_files_weights_only():
    base = torch_js.arange(24.0).reshape(4, 6)
    obj = OrderedDict(base=base, view=base[1:, 2:5], t=base.t(), p=nn.Parameter(torch_js.tensor([1.0, 2.0])),
                      nested={"l": [torch_js.tensor(1), (torch_js.zeros(2, dtype=torch_js.bfloat16), 3.5)]})
    for d in DTYPES:
        obj["d_" + d] = (torch_js.arange(-3, 4) * 1.25).to(getattr(torch_js, d)) if d != "uint8" else \
            torch_js.arange(7).to(torch_js.uint8)
    buf = io.BytesIO()
    torch_js.save(obj, buf)
    buf.seek(0)
    t = torch.load(buf, weights_only=True)
    assert type(t) is OrderedDict and list(t.keys()) == list(obj.keys())
    assert t["view"].storage_offset() == 8 and t["view"].stride() == (6, 1)
    assert t["view"].untyped_storage().data_ptr() == t["base"].untyped_storage().data_ptr()
    assert t["t"].stride() == (1, 6)
    assert isinstance(t["p"], torch.nn.Parameter) and t["p"].requires_grad
    for d in DTYPES:
        assert str(t["d_" + d].dtype) == "torch." + d
        assert t["d_" + d].tolist() == obj["d_" + d].tolist(), d
    assert t["nested"]["l"][1][0].dtype is torch.bfloat16 and t["nested"]["l"][1][1] == 3.5
    # a torch_js model's state_dict loads into the same torch model
    torch_js.manual_seed(0)
    m = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Flatten(), nn.Linear(8, 3))
    buf = io.BytesIO()
    torch_js.save(m.state_dict(), buf)
    buf.seek(0)
    tm = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.BatchNorm2d(2), torch.nn.Flatten(),
                             torch.nn.Linear(8, 3))
    assert repr(tm.load_state_dict(torch.load(buf, weights_only=True))) == "<All keys matched successfully>"
    assert tm[3].weight.tolist() == m[3].weight.tolist()


@needs_torch
def test_torch_js_loads_torch_files_live(tmp_path):
    base = torch.randn(5, 5)
    obj = {"w": base, "diag": base.diagonal(), "half": base.half(), "bf": base.to(torch.bfloat16)[::2]}
    path = tmp_path / "t.pt"
    torch.save(obj, path)
    o = torch_js.load(str(path))
    assert o["diag"].stride() == (6,) and o["diag"].tolist() == base.diagonal().tolist()
    assert o["half"].tolist() == base.half().tolist()
    assert o["bf"].tolist() == base.to(torch.bfloat16)[::2].tolist()


# ---- malicious files: nothing runs, UnpicklingError ------------------------------------------------------------

def _zip_with_pickle(payload):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("archive/data.pkl", payload)
        zf.writestr("archive/byteorder", "little")
        zf.writestr("archive/version", "3\n")
    buf.seek(0)
    return buf


class _Evil:
    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (os.system, (f"touch {self.path}",))


def test_reduce_to_os_system_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    payload = pickle.dumps({"w": _Evil(marker)}, protocol=2)
    with pytest.raises(pickle.UnpicklingError, match="refusing to load global"):
        torch_js.load(_zip_with_pickle(payload))
    assert not marker.exists()


@pytest.mark.parametrize("module,name", [("builtins", "eval"), ("builtins", "getattr"), ("subprocess", "Popen"),
                                         ("torch.nn.modules.linear", "Linear"), ("torch._utils", "_rebuild_qtensor"),
                                         ("posix", "system"), ("torch", "load")])
def test_global_not_on_allow_list_is_refused(module, name):
    payload = b"\x80\x02c" + f"{module}\n{name}\n".encode() + b")R."
    with pytest.raises(pickle.UnpicklingError, match=f"{module}.{name}"):
        torch_js.load(_zip_with_pickle(payload))


def test_out_of_bounds_view_is_refused():
    buf = io.BytesIO()
    torch_js.save({"w": torch_js.arange(4.0)}, buf)
    data = buf.getvalue()
    zin = zipfile.ZipFile(io.BytesIO(data))
    pkl = zin.read("archive/data.pkl")
    # size (4,) -> (400,): K\x04\x85 is BININT1 4, TUPLE1
    evil_pkl = pkl.replace(b"K\x04\x85", b"M\x90\x01\x85", 1)
    assert evil_pkl != pkl
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for n in zin.namelist():
            zf.writestr(n, evil_pkl if n.endswith("data.pkl") else zin.read(n))
    out.seek(0)
    with pytest.raises(pickle.UnpicklingError, match="reaches past its storage"):
        torch_js.load(out)


def test_not_a_checkpoint():
    with pytest.raises(RuntimeError, match="legacy"):
        torch_js.load(io.BytesIO(pickle.dumps({"a": 1}, protocol=2)))
    with pytest.raises(RuntimeError, match="not a PyTorch zip checkpoint"):
        torch_js.load(io.BytesIO(b"hello"))


# ---- safetensors -----------------------------------------------------------------------------------------------

def test_safetensors_round_trip_and_layout():
    ts = {d: (torch_js.arange(-3, 3) * 1.5).to(getattr(torch_js, d)) if d not in ("uint8", "bool") else
          torch_js.arange(6).to(getattr(torch_js, d)) for d in DTYPES}
    ts["matrix"] = torch_js.arange(6.0).reshape(2, 3).t()      # non-contiguous: written contiguous
    raw = torch_js.save_safetensors(ts, None, metadata={"format": "pt"})
    import json
    import struct
    (n,) = struct.unpack_from("<Q", raw, 0)
    assert n % 8 == 0
    header = json.loads(raw[8:8 + n])
    assert header["__metadata__"] == {"format": "pt"}
    assert header["bfloat16"]["dtype"] == "BF16" and header["bool"]["dtype"] == "BOOL"
    assert header["matrix"]["shape"] == [3, 2]
    back = torch_js.load_safetensors(raw)
    for k, v in ts.items():
        assert back[k].dtype is v.dtype and back[k].tolist() == v.tolist(), k
    with pytest.raises(ValueError):
        torch_js.load_safetensors(struct.pack("<Q", len(raw)) + raw[8:])


def test_safetensors_reads_reference_bytes():
    # a file laid out by hand per the spec: {"x": F32 [2]} + "__metadata__"
    import json
    import struct
    header = json.dumps({"x": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                         "__metadata__": {"k": "v"}}).encode()
    raw = struct.pack("<Q", len(header)) + header + struct.pack("<2f", 1.5, -2.0)
    assert torch_js.load_safetensors(raw)["x"].tolist() == [1.5, -2.0]


def test_build_on_allowed_global_is_refused():
    # OrderedDict is allowed, but a BUILD (setstate) on it is not
    payload = b"\x80\x02ccollections\nOrderedDict\n)R}X\x08\x00\x00\x00__dict__K\x01sb."
    with pytest.raises(pickle.UnpicklingError, match="refusing BUILD"):
        torch_js.load(_zip_with_pickle(payload))


def test_module_holding_a_functional_pickles_under_torch_names(tmp_path):
    """A whole module whose attribute is nn.functional.relu (TransformerEncoderLayer.activation) saves it as
    torch.nn.functional.relu: torch_js loads it back with that function marked safe, and so does PyTorch."""
    F = torch_js.nn.functional
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0)
    path = str(tmp_path / "layer.pt")
    torch_js.save(layer, path)
    with open(path, "rb") as fh, zipfile.ZipFile(fh) as z:
        pkl = z.read([n for n in z.namelist() if n.endswith("data.pkl")][0])
    assert b"torch.nn.functional\nrelu\n" in pkl
    with pytest.raises(pickle.UnpicklingError, match="refusing to load global"):
        torch_js.load(path)
    marked = [F.relu, nn.TransformerEncoderLayer, nn.MultiheadAttention, nn.Linear, nn.LayerNorm, nn.Dropout,
              nn.modules.linear.NonDynamicallyQuantizableLinear]
    with torch_js.serialization.safe_globals(marked):
        back = torch_js.load(path)
    assert back.activation is F.relu
    x = torch_js.randn(3, 8)
    assert back(x).tolist() == layer(x).tolist()
    if HAVE_TORCH:
        theirs = torch.load(path, weights_only=False)
        assert theirs.activation is torch.nn.functional.relu
        assert theirs(torch.tensor(x.tolist())).flatten().tolist() == pytest.approx(layer(x).flatten().tolist(),
                                                                             abs=1e-5)
