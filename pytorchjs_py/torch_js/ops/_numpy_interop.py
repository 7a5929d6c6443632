"""NumPy interop: the memory sharing behind torch.from_numpy, torch.as_tensor(ndarray) and Tensor.numpy().

numpy is optional. Where it is installed (CPython) an array and a tensor made from one another share memory, as
PyTorch's do: a write through either is seen by the other. Where it is not (Pyodide offline, the JupyterLite site:
no numpy wheel is shipped) these functions raise RuntimeError("Numpy is not available ...") saying so, and the rest
of torch_js works without it. Nothing here imports numpy until an array is given or asked for.
"""
import ctypes
import sys

from .. import _dtype as D
from .._storage import CPU, Storage
from .._tensor import _make
from ._util import warn_at_caller

NUMPY_MISSING = ("Numpy is not available: {what} needs numpy, which is not installed in this environment (torch_js "
                 "runs without it; the offline site and Pyodide ship no numpy wheel). Move data between Python and "
                 "torch_js with tensor.tolist() and torch.tensor(list) instead.")

# (kind, itemsize) of a numpy dtype -> torch_js dtype: robust to the platform's names for the same C type
_FROM_NUMPY = {("f", 8): D.float64, ("f", 4): D.float32, ("f", 2): D.float16, ("i", 8): D.int64, ("i", 4): D.int32,
               ("i", 2): D.int16, ("i", 1): D.int8, ("u", 1): D.uint8, ("b", 1): D.bool_}
_SUPPORTED = "float64, float32, float16, int64, int32, int16, int8, uint8, and bool"

_readonly_warned = [False]  # PyTorch warns once per process about non-writable arrays


def numpy_module(what):
    """The numpy module, or PyTorch's RuntimeError saying that numpy is not available and why."""
    try:
        import numpy  # optional dependency (absent in Pyodide offline): imported only when an array is asked for
    except ImportError:
        raise RuntimeError(NUMPY_MISSING.format(what=what)) from None
    return numpy


def numpy_if_loaded():
    """The numpy module when it is already imported, else None: an object can only be an ndarray if it is."""
    return sys.modules.get("numpy")


def is_numpy_value(x):
    """An ndarray or a numpy scalar (np.float32(1.5) ...)."""
    np = numpy_if_loaded()
    return np is not None and isinstance(x, (np.ndarray, np.generic))


def dtype_from_numpy(np_dtype):
    d = _FROM_NUMPY.get((np_dtype.kind, np_dtype.itemsize))
    if d is None:
        raise TypeError(f"can't convert np.ndarray of type numpy.{np_dtype.type.__name__}. The only supported types "
                        f"are: {_SUPPORTED}.")
    return d


def share_array(arr):
    """A CPU tensor over the ndarray's own memory (same shape and strides), after PyTorch's checks, in its order."""
    d = dtype_from_numpy(arr.dtype)
    isz = arr.itemsize
    if any(s % isz for s in arr.strides):
        raise ValueError("given numpy array strides not a multiple of the element byte size. Copy the numpy array to "
                         "reallocate the memory.")
    if any(s < 0 for s in arr.strides):
        raise ValueError("At least one stride in the given numpy array is negative, and tensors with negative strides "
                         "are not currently supported. (You can probably work around this by making a copy of your "
                         "array  with array.copy().) ")
    if not arr.dtype.isnative:
        raise ValueError("given numpy array has byte order different from the native byte order. Conversion between "
                         "byte orders is currently not supported.")
    if not arr.flags.writeable and not _readonly_warned[0]:
        _readonly_warned[0] = True
        warn_at_caller("The given NumPy array is not writable, and PyTorch does not support non-writable tensors. This "
                       "means writing to this tensor will result in undefined behavior. You may want to copy the array "
                       "to protect its data or make it writable before converting it to a tensor. This type of warning "
                       "will be suppressed for the rest of this program.")
    shape = tuple(arr.shape)
    strides = tuple(s // isz for s in arr.strides)
    span = (sum((n - 1) * s for n, s in zip(shape, strides)) + 1) * isz if arr.size else 0
    # the storage holds the array (its buf), so the memory lives as long as any tensor over it
    storage = Storage(span, CPU, CPU.backend, arr, arr.__array_interface__["data"][0])
    return _make(storage, shape, strides, 0, d)


def from_numpy(ndarray):
    """A tensor sharing the array's memory, as PyTorch's from_numpy does."""
    np = numpy_module("torch.from_numpy()")
    if not isinstance(ndarray, np.ndarray):
        kind = type(ndarray)
        name = kind.__name__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"
        raise TypeError(f"expected np.ndarray (got {name})")
    return share_array(ndarray)


def from_numpy_value(data, dtype, dev, copy):
    """torch.tensor (copy=True) and torch.as_tensor (copy=False) of an ndarray or numpy scalar: PyTorch's from_numpy
    checks, then a copy (strides kept) or the array's memory itself where dtype and device already match."""
    np = numpy_if_loaded()
    t = share_array(np.asarray(data))   # a numpy scalar becomes a 0-d array (its own memory)
    if dtype is not None and dtype is not t._dtype:
        t = t.to(dtype)                  # a new tensor already
    elif copy:
        t = t.clone()
    return t.to(dev) if dev is not CPU else t


def numpy_view(t, np):
    """An ndarray over a CPU tensor's memory (its shape and strides), kept alive by the array."""
    if t._dtype is D.bfloat16:
        raise TypeError("Got unsupported ScalarType BFloat16")
    npd = np.dtype(t._dtype.name if t._dtype is not D.bool_ else "bool")
    isz = t._dtype.itemsize
    storage = t._storage
    raw = (ctypes.c_char * max(storage.nbytes, 1)).from_address(storage.ptr)
    raw._torch_js_storage = storage  # the array's base chain keeps the tensor's memory alive
    mem = np.frombuffer(raw, dtype=np.uint8)
    span = (sum((n - 1) * s for n, s in zip(t._shape, t._stride)) + 1) if t.numel() else 0
    flat = mem[t._offset * isz:(t._offset + span) * isz].view(npd) if span else np.empty(0, npd)
    view = np.lib.stride_tricks.as_strided(flat, shape=t._shape, strides=tuple(s * isz for s in t._stride))
    # writes through the array bump no version: copies kept elsewhere (the CPU worker pool's shared memory,
    # backends/cpu/wasm_resident.py) may no longer trust the storage's counter
    storage.aliased = True
    if storage.owner is not None:
        storage.owner.aliased = True
    return view
