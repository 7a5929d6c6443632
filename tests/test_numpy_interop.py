"""NumPy interop: Tensor.numpy(), torch.from_numpy, torch.as_tensor/asarray/tensor of arrays.

Where numpy is installed (CPython) arrays and tensors share memory as PyTorch's do; checked on torch_js alone and,
where torch is importable, against it. Where numpy is absent (Pyodide) those tests skip, and the ones that hide
numpy (sys.modules["numpy"] = None makes `import numpy` raise ImportError) check the error that says why.
"""
import gc
import sys
import warnings

import pytest

import torch_js
from optional_torch import HAVE_TORCH, needs_torch, torch

try:
    import numpy as np
except ImportError:
    np = None

needs_numpy = pytest.mark.skipif(np is None, reason="numpy not importable")

# every torch_js dtype numpy can hold (bfloat16 has no numpy dtype)
DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]


def sample(T, name):
    """A 2x3 tensor of `name` with distinct values (where the dtype can hold them)."""
    vals = [[0, 1, 0], [1, 1, 0]] if name == "bool" else [[1, 2, 3], [4, 5, 6]]
    return T.tensor(vals, dtype=getattr(T, name))


def poke(name):
    return True if name == "bool" else 9


# ---- numpy absent ------------------------------------------------------------------------------------------------

@pytest.fixture
def no_numpy(monkeypatch):
    monkeypatch.setitem(sys.modules, "numpy", None)


def test_no_numpy_tensor_numpy_says_why(no_numpy):
    with pytest.raises(RuntimeError, match=r"^Numpy is not available") as ei:
        torch_js.ones(2).numpy()
    msg = str(ei.value)
    assert "Tensor.numpy()" in msg and "not installed in this environment" in msg and "no numpy wheel" in msg
    assert "tolist()" in msg   # and what to do instead


def test_no_numpy_from_numpy_says_why(no_numpy):
    with pytest.raises(RuntimeError, match=r"^Numpy is not available: torch.from_numpy\(\) needs numpy"):
        torch_js.from_numpy([1.0, 2.0])


def test_no_numpy_rest_still_works(no_numpy):
    t = torch_js.as_tensor([1.5, 2.5]) * 2
    assert t.tolist() == [3.0, 5.0]
    assert torch_js.tensor([[1, 2]]).dtype is torch_js.int64


# ---- Tensor.numpy() ----------------------------------------------------------------------------------------------

@needs_numpy
@pytest.mark.parametrize("name", DTYPES)
def test_numpy_shares_memory_every_dtype(name):
    t = sample(torch_js, name)
    n = t.numpy()
    assert n.shape == (2, 3) and n.tolist() == t.tolist()
    if HAVE_TORCH:
        assert n.dtype == sample(torch, name).numpy().dtype
    n[0, 0] = poke(name)                  # array -> tensor
    assert t[0, 0].item() == poke(name)
    t[1, 2] = poke(name)                  # tensor -> array
    assert n[1, 2] == poke(name)


@needs_numpy
@pytest.mark.parametrize("view", ["t", "step", "offset", "expand", "scalar", "empty"])
def test_numpy_of_views_has_their_strides(view):
    def make(T):
        base = T.arange(24, dtype=T.float32).reshape(4, 6)
        return base, {"t": lambda: base.t(), "step": lambda: base[::2, 1::3], "offset": lambda: base[1:, 2:4],
                      "expand": lambda: base[0, :3].expand(2, 3), "scalar": lambda: base[2, 3],
                      "empty": lambda: base[:, 6:]}[view]()

    base, v = make(torch_js)
    n = v.numpy()
    assert n.shape == tuple(v.shape) and n.tolist() == v.tolist()
    assert n.strides == tuple(s * 4 for s in v.stride())
    if HAVE_TORCH and view != "empty":   # (numpy reports its own strides for empty arrays)
        assert n.strides == make(torch)[1].numpy().strides
    if v.numel() and view != "expand":
        n[(0,) * n.ndim] = -1.0
        assert v[(0,) * v.dim()].item() == -1.0
        assert (base == -1.0).sum().item() == 1, "the write lands in the viewed element of the base"


@needs_numpy
def test_numpy_bfloat16_raises_as_pytorch():
    for force in (False, True):
        with pytest.raises(TypeError, match="^Got unsupported ScalarType BFloat16$"):
            torch_js.ones(2, dtype=torch_js.bfloat16).numpy(force=force)
        if HAVE_TORCH:
            with pytest.raises(TypeError, match="^Got unsupported ScalarType BFloat16$"):
                torch.ones(2, dtype=torch.bfloat16).numpy(force=force)


@needs_numpy
def test_numpy_requires_grad_and_force():
    def err(T):
        with pytest.raises(RuntimeError) as ei:
            T.ones(2, requires_grad=True).numpy()
        return str(ei.value)

    msg = err(torch_js)
    assert msg.startswith("Can't call numpy() on Tensor that requires grad")
    if HAVE_TORCH:
        assert msg == err(torch)
    w = torch_js.ones(3, requires_grad=True)
    n = w.numpy(force=True)
    n[1] = 5.0                             # force=True still shares memory (a detached view), as PyTorch's does
    assert w.detach().tolist() == [1.0, 5.0, 1.0] and w.requires_grad
    assert torch_js.ones(2).detach().numpy().tolist() == [1.0, 1.0]


@needs_numpy
def test_numpy_array_keeps_memory_alive():
    n = (torch_js.arange(1000, dtype=torch_js.float64) * 2).numpy()
    gc.collect()
    junk = [torch_js.full((1000,), 7.0, dtype=torch_js.float64) for _ in range(20)]   # reuse freed memory if any
    assert n[999] == 1998.0 and n.sum() == 999 * 1000
    del junk


@needs_numpy
def test_np_asarray_of_tensor_shares():
    t = torch_js.ones(3)
    a = np.asarray(t)
    a[0] = 4.0
    assert t.tolist() == [4.0, 1.0, 1.0]


# ---- torch.from_numpy --------------------------------------------------------------------------------------------

NP_NAMES = {"bool": "bool", "uint8": "uint8", "int8": "int8", "int16": "int16", "int32": "int32", "int64": "int64",
            "float16": "float16", "float32": "float32", "float64": "float64"}


@needs_numpy
@pytest.mark.parametrize("name", DTYPES)
def test_from_numpy_shares_memory_every_dtype(name):
    a = np.array([[0, 1, 0], [1, 1, 0]], dtype=NP_NAMES[name])
    t = torch_js.from_numpy(a)
    assert t.dtype is getattr(torch_js, name) and tuple(t.shape) == (2, 3) and t.tolist() == a.tolist()
    a[0, 0] = poke(name)
    assert t[0, 0].item() == poke(name)
    t[1, 2] = poke(name)
    assert a[1, 2] == poke(name)
    t.add_(t if name == "bool" else 1)      # in-place ops write through too
    assert a.tolist() == t.tolist()


@needs_numpy
@pytest.mark.parametrize("make", [lambda: np.arange(24.0).reshape(4, 6).T, lambda: np.arange(24.0).reshape(4, 6)[1::2, ::3],
                                  lambda: np.broadcast_to(np.arange(3.0), (2, 3)), lambda: np.array(2.5)],
                         ids=["transposed", "strided", "zero-stride", "0-d"])
def test_from_numpy_keeps_strides(make):
    a = make()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")    # broadcast_to's array is read-only
        t = torch_js.from_numpy(a)
    assert tuple(t.shape) == a.shape and t.tolist() == a.tolist()
    assert tuple(t.stride()) == tuple(s // a.itemsize for s in a.strides)
    if HAVE_TORCH:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert t.stride() == torch.from_numpy(a).stride()


@needs_numpy
def test_from_numpy_tensor_keeps_array_alive():
    t = torch_js.from_numpy(np.arange(10.0) + 1)   # the array's only reference is the tensor's
    gc.collect()
    assert t.sum().item() == 55.0


def _error(T, fn):
    with pytest.raises(Exception) as ei:
        fn(T)
    return type(ei.value), str(ei.value)


FROM_NUMPY_ERRORS = {
    "not an array": lambda T: T.from_numpy([1.0, 2.0]),
    "numpy scalar": lambda T: T.from_numpy(np.float64(1.0)),
    "negative stride": lambda T: T.from_numpy(np.arange(6.0)[::-1]),
    "misaligned stride": lambda T: T.from_numpy(np.lib.stride_tricks.as_strided(np.zeros(8), (3,), (12,))),
    "misaligned before negative": lambda T: T.from_numpy(np.lib.stride_tricks.as_strided(np.zeros(8)[4:], (2, 2),
                                                                                          (-8, 12))),
    "byte order": lambda T: T.from_numpy(np.zeros(3, dtype=">f8")),
    "byte order, negative": lambda T: T.from_numpy(np.zeros(3, dtype=">f8")[::-1]),
    "tensor(byte order)": lambda T: T.tensor(np.zeros(3, dtype=">f4")),
    "as_tensor(negative)": lambda T: T.as_tensor(np.arange(6.0)[::-1]),
    "tensor(negative)": lambda T: T.tensor(np.arange(6.0)[::-1]),
}


@needs_numpy
@needs_torch
@pytest.mark.parametrize("case", list(FROM_NUMPY_ERRORS))
def test_from_numpy_errors_match_pytorch(case):
    assert _error(torch_js, FROM_NUMPY_ERRORS[case]) == _error(torch, FROM_NUMPY_ERRORS[case])


@needs_numpy
@pytest.mark.parametrize("dtype, shown", [("U1", "str_"), ("O", "object_"), ("M8[s]", "datetime64"),
                                          ("uint16", "uint16"), ("complex64", "complex64")])
def test_from_numpy_unsupported_dtype(dtype, shown):
    a = np.zeros(2, dtype=dtype)
    with pytest.raises(TypeError, match=rf"^can't convert np.ndarray of type numpy.{shown}. The only supported types"):
        torch_js.from_numpy(a)
    with pytest.raises(TypeError, match=rf"^can't convert np.ndarray of type numpy.{shown}."):
        torch_js.tensor(a)
    if HAVE_TORCH and dtype in ("U1", "O", "M8[s]"):   # (PyTorch has uint16 and complex dtypes; torch_js has not)
        with pytest.raises(TypeError, match=rf"^can't convert np.ndarray of type numpy.{shown}."):
            torch.from_numpy(a)


@needs_numpy
def test_from_numpy_read_only_warns_once(monkeypatch):
    from torch_js.ops import _numpy_interop
    monkeypatch.setattr(_numpy_interop, "_readonly_warned", [False])
    a = np.zeros(3)
    a.flags.writeable = False
    with pytest.warns(UserWarning, match="The given NumPy array is not writable"):
        torch_js.from_numpy(a)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        torch_js.as_tensor(a)              # once per process, as PyTorch's


# ---- as_tensor / asarray / tensor of arrays ------------------------------------------------------------------------

@needs_numpy
def test_as_tensor_shares_when_dtype_and_device_match():
    a = np.arange(6.0).reshape(2, 3)
    for t in (torch_js.as_tensor(a), torch_js.as_tensor(a, dtype=torch_js.float64, device="cpu"),
              torch_js.asarray(a)):
        t[0, 0] += 10.0
    assert a[0, 0] == 30.0
    c = torch_js.as_tensor(a, dtype=torch_js.float32)   # another dtype: a converted copy
    c[0, 1] = -1.0
    assert a[0, 1] == 1.0 and c.dtype is torch_js.float32
    t = torch_js.as_tensor(a.T)
    assert tuple(t.stride()) == (1, 3)
    if HAVE_TORCH:
        ref = np.arange(6.0).reshape(2, 3)
        torch.as_tensor(ref)[0, 0] += 10.0
        torch.as_tensor(ref, dtype=torch.float32)[0, 1] = -1.0
        assert ref[0, 0] == 10.0 and ref[0, 1] == 1.0


@needs_numpy
def test_tensor_copies_and_keeps_strides():
    a = np.arange(6, dtype=np.int32).reshape(2, 3)
    for t in (torch_js.tensor(a), torch_js.asarray(a, copy=True)):
        t[0, 0] = 100
        assert a[0, 0] == 0 and t.dtype is torch_js.int32
    t = torch_js.tensor(a.T)
    assert tuple(t.stride()) == (1, 3) and t.tolist() == a.T.tolist()
    if HAVE_TORCH:
        assert t.stride() == torch.tensor(a.T).stride()
    t = torch_js.tensor(a, dtype=torch_js.float32, requires_grad=True)
    assert t.requires_grad and t.dtype is torch_js.float32


SCALAR_CASES = {
    "np.float64": lambda T: T.tensor(np.float64(1.5)),
    "np.int32": lambda T: T.as_tensor(np.int32(3)),
    "np.bool_": lambda T: T.tensor(np.bool_(True)),
    "0-d array": lambda T: T.tensor(np.array(2.5, dtype=np.float16)),
    "list of arrays": lambda T: T.tensor([np.arange(3.0), np.arange(3.0)]),
    "float16 scalar and int": lambda T: T.tensor([np.float16(1), 2]),
    "int32 scalar and int": lambda T: T.tensor([np.int32(1), 2]),
    "int32 and int16 scalars": lambda T: T.tensor([np.int32(1), np.int16(2)]),
    "float32 scalar and float": lambda T: T.tensor([np.float32(1), 2.5]),
    "uint8 and int8 scalars": lambda T: T.tensor([np.uint8(1), np.int8(2)]),
    "float64 tensor in a list": lambda T: T.tensor([T.tensor(1.0, dtype=T.float64), 2]),
    "float16 scalar and int64 tensor": lambda T: T.tensor([np.float16(1), T.tensor(1)]),
}


@needs_numpy
@pytest.mark.parametrize("case", list(SCALAR_CASES))
def test_numpy_values_dtype_inference(case):
    t = SCALAR_CASES[case](torch_js)
    if HAVE_TORCH:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")    # PyTorch: "Creating a tensor from a list of numpy.ndarrays is slow"
            ref = SCALAR_CASES[case](torch)
        assert str(t.dtype) == str(ref.dtype) and t.tolist() == ref.tolist() and tuple(t.shape) == tuple(ref.shape)
    else:
        assert t.numel() >= 1
