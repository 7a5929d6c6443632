"""torch_js.save's other formats against real torch: the legacy (non-zip) format of
_use_new_zipfile_serialization=False and every pickle_protocol, read back by torch.load (weights_only where torch's
own files of that protocol allow it) and by torch_js.load; sparse tensors saved and loaded both ways; PyTorch's
argument errors. The torch-free part round-trips through torch_js alone (it runs in Pyodide too)."""
import io
import pickle

import pytest

import torch_js as tj
from optional_torch import needs_torch, torch


def _objects(L):
    g = L.Generator().manual_seed(0)
    w = L.randn(3, 4, generator=g)
    return {"w": w, "wt": w.t(), "row": w[1], "i": L.arange(5), "b": L.tensor([True, False]),
            "h": L.ones(2, dtype=L.float16), "bf": L.ones(2, dtype=L.bfloat16) * 3,
            "c": L.tensor([1 + 2j, -1j]), "d": L.float64, "n": [1, 2.5, "x", None, (3, 4)], "size": L.Size([2, 3]),
            "e": L.empty(0, 3), "scalar": L.tensor(7.5, dtype=L.float64)}


def _plain(x):
    """Data of either library's objects, comparable."""
    if hasattr(x, "tolist") and hasattr(x, "dtype") and hasattr(x, "layout"):
        name = str(x.layout).rpartition(".")[2]
        if name == "sparse_coo":
            return ("coo", x._indices().tolist(), x._values().tolist(), list(x.shape), x.is_coalesced())
        if name == "sparse_csr":
            return ("csr", x.crow_indices().tolist(), x.col_indices().tolist(), x.values().tolist(), list(x.shape))
        v = x.float().tolist() if str(x.dtype).endswith(("float16", "bfloat16")) else x.tolist()
        return (str(x.dtype).rpartition(".")[2], list(x.shape), list(x.stride()), v)
    if isinstance(x, dict):
        return {k: _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return type(x)(_plain(v) for v in x)
    if type(x).__name__ == "dtype":
        return ("dtype", str(x))
    return x


def _saved(L, obj, **kw):
    b = io.BytesIO()
    L.save(obj, b, **kw)
    return b.getvalue()


@needs_torch
@pytest.mark.parametrize("protocol", [2, 3, 4, 5, -1])
@pytest.mark.parametrize("legacy", [False, True])
def test_torch_reads_what_torch_js_writes(protocol, legacy):
    data = _saved(tj, _objects(tj), pickle_protocol=protocol, _use_new_zipfile_serialization=not legacy)
    # torch's weights_only unpickler reads protocols 2 and 3 only (its own files of 4 and 5 too need weights_only=False)
    got = torch.load(io.BytesIO(data), weights_only=protocol in (2, 3))
    assert _plain(got) == _plain(_objects(torch))
    assert got["wt"].untyped_storage().data_ptr() == got["w"].untyped_storage().data_ptr()   # views stay shared
    assert _plain(tj.load(io.BytesIO(data))) == _plain(_objects(tj))


@needs_torch
@pytest.mark.parametrize("protocol", [2, 3, 4, 5])
@pytest.mark.parametrize("legacy", [False, True])
def test_torch_js_reads_what_torch_writes(protocol, legacy):
    data = _saved(torch, _objects(torch), pickle_protocol=protocol, _use_new_zipfile_serialization=not legacy)
    assert _plain(tj.load(io.BytesIO(data))) == _plain(_objects(tj))


@needs_torch
@pytest.mark.parametrize("protocol", [2, 4])
def test_legacy_headers_are_torchs_bytes(protocol):
    """The three header pickles (magic number, protocol version, system information) and the storage records' layout
    are torch's: only the storage keys (torch's are addresses) differ."""
    ours = _saved(tj, tj.arange(4.), pickle_protocol=protocol, _use_new_zipfile_serialization=False)
    theirs = _saved(torch, torch.arange(4.), pickle_protocol=protocol, _use_new_zipfile_serialization=False)
    fo, ft = io.BytesIO(ours), io.BytesIO(theirs)
    for _ in range(3):
        start_o, start_t = fo.tell(), ft.tell()
        assert pickle.load(fo) == pickle.load(ft)
        assert ours[start_o:fo.tell()] == theirs[start_t:ft.tell()]
    assert ours[-(8 + 16):] == theirs[-(8 + 16):]   # the record: int64 element count, then the float32 bytes


@needs_torch
def test_state_dict_and_whole_module_in_the_legacy_format():
    tj.manual_seed(0)
    model = tj.nn.Sequential(tj.nn.Linear(3, 4), tj.nn.BatchNorm1d(4), tj.nn.ReLU())
    model(tj.randn(5, 3))   # running stats move
    sd = torch.load(io.BytesIO(_saved(tj, model.state_dict(), _use_new_zipfile_serialization=False)),
                    weights_only=True)
    assert list(sd) == list(model.state_dict()) and all(
        sd[k].tolist() == v.tolist() for k, v in model.state_dict().items())
    whole = torch.load(io.BytesIO(_saved(tj, model, _use_new_zipfile_serialization=False)), weights_only=False)
    assert isinstance(whole, torch.nn.Sequential) and whole[0].weight.tolist() == model[0].weight.tolist()


SPARSE = [lambda L: L.sparse_coo_tensor(L.tensor([[1, 0, 1], [2, 0, 2]]), L.tensor([3., 4., 5.]), (2, 3)),
          lambda L: L.sparse_coo_tensor(L.tensor([[1, 0, 1], [2, 0, 2]]), L.tensor([3., 4., 5.]), (2, 3)).coalesce(),
          lambda L: L.sparse_coo_tensor(L.tensor([[0, 1]]), L.tensor([[1., 2], [3, 4]]), (2, 2)),
          lambda L: L.tensor([[0, 1.], [2, 0]]).to_sparse_csr(),
          lambda L: L.sparse_coo_tensor(size=(2, 3), dtype=L.float64)]


@needs_torch
@pytest.mark.parametrize("case", range(len(SPARSE)))
@pytest.mark.parametrize("legacy", [False, True])
def test_sparse_tensors_both_ways(case, legacy):
    make = SPARSE[case]
    mine = _saved(tj, {"s": make(tj)}, _use_new_zipfile_serialization=not legacy)
    assert _plain(torch.load(io.BytesIO(mine), weights_only=True)) == _plain({"s": make(torch)})
    theirs = _saved(torch, {"s": make(torch)}, _use_new_zipfile_serialization=not legacy)
    assert _plain(tj.load(io.BytesIO(theirs))) == _plain({"s": make(tj)})
    assert _plain(tj.load(io.BytesIO(mine))) == _plain({"s": make(tj)})


@needs_torch
@pytest.mark.parametrize("protocol", [6, 2.0, "2"])
def test_bad_protocols_raise_as_torch(protocol):
    for legacy in (False, True):
        with pytest.raises(Exception) as want:
            torch.save(torch.ones(1), io.BytesIO(), pickle_protocol=protocol, _use_new_zipfile_serialization=not legacy)
        with pytest.raises(type(want.value), match=str(want.value)):
            tj.save(tj.ones(1), io.BytesIO(), pickle_protocol=protocol, _use_new_zipfile_serialization=not legacy)


@needs_torch
@pytest.mark.parametrize("legacy", [False, True])
def test_sparse_with_indices_outside_its_size_is_refused(legacy):
    bad = torch.sparse_coo_tensor(torch.tensor([[0, 5]]), torch.tensor([1., 2.]), (2,))
    with pytest.raises(RuntimeError, match="indices outside its size"):
        tj.load(io.BytesIO(_saved(torch, bad, _use_new_zipfile_serialization=not legacy)))
    lying = torch.sparse_coo_tensor(torch.tensor([[1, 0]]), torch.tensor([1., 2.]), (2,), is_coalesced=True)
    with pytest.raises(RuntimeError, match="flagged coalesced"):
        tj.load(io.BytesIO(_saved(torch, lying, _use_new_zipfile_serialization=not legacy)))


# ---- torch-free ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("protocol", [2, 3, 4, 5])
@pytest.mark.parametrize("legacy", [False, True])
def test_round_trip_through_torch_js(protocol, legacy):
    obj = _objects(tj)
    obj["sparse"] = [make(tj) for make in SPARSE]
    data = _saved(tj, obj, pickle_protocol=protocol, _use_new_zipfile_serialization=not legacy)
    assert data[:2] != b"PK" if legacy else data[:2] == b"PK"
    back = tj.load(io.BytesIO(data))
    assert _plain(back) == _plain(obj)
    assert back["wt"].t().tolist() == back["w"].tolist()
