"""Tensor creation: from Python data (and numpy), constant fills, the *_like and new_* forms, ranges, eye.
(Random draws are in random.py.)"""
import math
import struct

from .. import _dtype as D
from .._storage import CPU, INT64_MAX, Storage, device as _device
from .._tensor import Tensor, _contig, _empty, _empty_strided, _make, int_tuple, set_legacy_constructor
from ._registry import NOT_DIFFERENTIABLE, register
from ._util import check, dense_strides
from .inplace import resize_, write_out


def device_arg(device):
    """A `device=` argument (None, a string or a device) as a device; None is the CPU."""
    if device is None:
        return CPU
    return _device(device) if not isinstance(device, _device) else device


def size_arg(size, name="empty"):
    """A factory's `*size` (ints, one tuple/list, or 0-d tensors) as a tuple, with PyTorch's errors."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    out = []
    for s in size:
        if isinstance(s, Tensor):
            s = int(s.item())
        if not isinstance(s, int):
            try:
                s = s.__index__()
            except AttributeError:
                raise TypeError(f"{name}(): argument 'size' (position 1) must be tuple of ints, not "
                                f"{type(s).__name__}") from None
        if s > INT64_MAX or s < -INT64_MAX - 1:
            raise TypeError(f"{name}(): argument 'size' failed to unpack the object at pos {len(out) + 1} with "
                            "error \"Overflow when unpacking long long\"")
        if s < 0:
            if name != "empty":
                raise RuntimeError(f"{name}: Dimension size must be non-negative.")
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: {list(size)}")
        out.append(s)
    return tuple(out)


# ---- from Python data ----------------------------------------------------------------------------------------

def _flatten(data):
    """Shape, flat list and the inferred dtype of nested sequences of numbers (iterative, no recursion limit)."""
    if isinstance(data, Tensor):
        return data._shape, data.reshape(-1).tolist(), data._dtype
    shape = []
    probe = data
    while isinstance(probe, (list, tuple)) or _is_array_like(probe):
        n = len(probe)
        shape.append(n)
        if n == 0:
            break
        probe = probe[0]
    flat = [data]
    for depth, n in enumerate(shape):
        nxt = []
        for item in flat:
            if isinstance(item, Tensor):
                item = item.tolist()
            if not (isinstance(item, (list, tuple)) or _is_array_like(item)) or len(item) != n:
                raise ValueError(f"expected sequence of length {n} at dim {depth} (got "
                                 f"{len(item) if hasattr(item, '__len__') else type(item).__name__})")
            nxt.extend(item)
        flat = nxt
    kind = 0  # 0 bool, 1 int, 2 float
    for i, v in enumerate(flat):
        if isinstance(v, bool):
            continue
        if isinstance(v, int):
            kind = kind if kind > 1 else 1
        elif isinstance(v, float):
            kind = 2
        elif isinstance(v, Tensor):
            flat[i] = v = v.item()
            kind = max(kind, 2 if isinstance(v, float) else (1 if not isinstance(v, bool) else 0))
        elif hasattr(v, "item") and hasattr(v, "dtype"):  # numpy scalar
            flat[i] = v = v.item()
            kind = max(kind, 2 if isinstance(v, float) else (1 if not isinstance(v, bool) else 0))
        elif isinstance(v, complex):
            raise TypeError("torch_js does not support complex numbers")
        else:
            raise TypeError(f"new(): invalid data type '{type(v).__name__}'")
    inferred = (D.bool_, D.int64, D.get_default_dtype())[kind] if flat else D.get_default_dtype()
    return tuple(shape), flat, inferred


def _is_array_like(x):
    return hasattr(x, "__len__") and hasattr(x, "__getitem__") and not isinstance(x, (str, bytes, dict)) and \
        not isinstance(x, Tensor) and hasattr(x, "shape")


def _pack_values(flat, d):
    if d is D.bfloat16:
        return b"".join(D.pack_scalar(d, float(v)) for v in flat)
    if d.is_floating_point:
        return struct.pack(f"<{len(flat)}{d.fmt}", *[float(v) for v in flat])
    if d is D.bool_:
        return bytes(1 if v else 0 for v in flat)
    bits = d.itemsize * 8
    mask = (1 << bits) - 1
    vals = []
    for v in flat:
        if isinstance(v, float):
            if v != v or v in (float("inf"), float("-inf")):
                raise RuntimeError(f"value cannot be converted to type {d.name} without overflow")
            v = int(v)
        v = int(v) & mask
        if d.is_signed and v >> (bits - 1):
            v -= 1 << bits
        vals.append(v)
    return struct.pack(f"<{len(vals)}{d.fmt}", *vals)


def _from_numpy_like(data, dtype, dev):
    import numpy as np  # optional dependency, imported by the functions that take or give numpy arrays
    arr = np.array(data, copy=True, order="C")  # keeps 0-d arrays and numpy scalars 0-d
    d = _numpy_to_dtype(arr.dtype)
    t = _make(CPU.backend.from_bytes(arr.tobytes()), tuple(arr.shape), _contig(tuple(arr.shape)), 0, d)
    if dtype is not None and dtype is not d:
        t = t.to(dtype)
    return t.to(dev) if dev is not CPU else t


def _numpy_to_dtype(np_dtype):
    name = str(np_dtype)
    table = {"float32": D.float32, "float64": D.float64, "float16": D.float16, "int64": D.int64, "int32": D.int32,
             "int16": D.int16, "int8": D.int8, "uint8": D.uint8, "bool": D.bool_}
    if name not in table:
        raise TypeError(f"can't convert np.ndarray of type numpy.{name}. The only supported types are: float64, "
                        "float32, float16, int64, int32, int16, int8, uint8, and bool.")
    return table[name]


def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False):
    dev = device_arg(device)
    if type(data).__module__ == "numpy" and hasattr(data, "dtype"):
        t = _from_numpy_like(data, dtype, dev)
    elif isinstance(data, Tensor):
        t = data.detach().clone()
        if dtype is not None:
            t = t.to(dtype)
        if dev is not t._storage.device:
            t = t.to(dev)
    else:
        if isinstance(data, (bool, int, float)):
            shape, flat, inferred = (), [data], D.scalar_dtype(data)
        else:
            shape, flat, inferred = _flatten(data)
        d = dtype or inferred
        if d is D.bfloat16 or d is D.float16:
            t = _make(CPU.backend.from_bytes(_pack_values(flat, D.float32)), shape, _contig(shape), 0, D.float32)
            t = t.to(d)
        else:
            t = _make(CPU.backend.from_bytes(_pack_values(flat, d)), shape, _contig(shape), 0, d)
        if dev is not CPU:
            t = t.to(dev)
    if requires_grad:
        if not t._dtype.is_floating_point:
            raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
        t.requires_grad_(True)
    return t


def as_tensor(data, dtype=None, device=None):
    if isinstance(data, Tensor):
        r = data
        if dtype is not None and dtype is not r._dtype:
            r = r.to(dtype)
        if device is not None and device_arg(device) != r._storage.device:
            r = r.to(device_arg(device))
        return r
    return tensor(data, dtype=dtype, device=device)


def asarray(obj, *, dtype=None, device=None, copy=None, requires_grad=False):
    t = as_tensor(obj, dtype=dtype, device=device) if not copy else tensor(obj, dtype=dtype, device=device)
    if requires_grad:
        t.requires_grad_(True)
    return t


def from_numpy(ndarray):
    """A tensor sharing the array's memory, as PyTorch's from_numpy does."""
    import numpy as np  # optional dependency, imported by the functions that take or give numpy arrays
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    d = _numpy_to_dtype(ndarray.dtype)
    if ndarray.dtype.byteorder not in ("=", "|", "<"):
        raise ValueError("given numpy array has byte order different from the native byte order.")
    isz = ndarray.itemsize
    if any(s % isz or s < 0 for s in ndarray.strides):
        raise ValueError("At least one stride in the given numpy array is negative or not a multiple of the "
                         "element size; this is not supported. (You can probably work around this by making a "
                         "copy of your array with array.copy().)")
    shape = tuple(ndarray.shape)
    strides = tuple(s // isz for s in ndarray.strides)
    span = (sum((n - 1) * s for n, s in zip(shape, strides)) + 1) * isz if ndarray.size else 0
    storage = Storage(span, CPU, CPU.backend, ndarray, ndarray.__array_interface__["data"][0])
    return _make(storage, shape, strides, 0, d)


def _legacy_tensor_new(*args, dtype=None, device=None):
    if len(args) == 1 and not isinstance(args[0], int):
        return tensor(args[0], dtype=dtype or D.float32, device=device)
    return empty(*args, dtype=dtype or D.float32, device=device)


set_legacy_constructor(_legacy_tensor_new)  # Tensor.__new__ calls it (core cannot import ops)


# ---- fills ---------------------------------------------------------------------------------------------------

def with_requires_grad(t, requires_grad):
    """A new tensor with the factory's requires_grad= applied."""
    if requires_grad:
        t.requires_grad_(True)
    return t


def empty(*size, dtype=None, device=None, requires_grad=False, out=None, layout=None, pin_memory=False,
          memory_format=None):
    shape = size_arg(size)
    if out is not None:
        return resize_(out, shape)
    return with_requires_grad(_empty(shape, dtype or D.get_default_dtype(), device_arg(device)), requires_grad)


def full(size, fill_value, *, dtype=None, device=None, requires_grad=False, out=None, layout=None):
    shape = size_arg((size,) if isinstance(size, int) else tuple(size))
    if dtype is None:
        dtype = D.scalar_dtype(fill_value) if not isinstance(fill_value, Tensor) else fill_value._dtype
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    t = _empty(shape, dtype, device_arg(device))
    t._storage.backend.fill(t, fill_value)
    if out is not None:
        return write_out(out, t)
    return with_requires_grad(t, requires_grad)


def zeros(*size, dtype=None, device=None, requires_grad=False, out=None, layout=None):
    shape = size_arg(size, "zeros")
    t = _empty(shape, dtype or D.get_default_dtype(), device_arg(device))
    t._storage.backend.fill(t, 0)
    if out is not None:
        return write_out(out, t)
    return with_requires_grad(t, requires_grad)


def ones(*size, dtype=None, device=None, requires_grad=False, out=None, layout=None):
    shape = size_arg(size, "ones")
    t = _empty(shape, dtype or D.get_default_dtype(), device_arg(device))
    t._storage.backend.fill(t, 1)
    if out is not None:
        return write_out(out, t)
    return with_requires_grad(t, requires_grad)


def _like_tensor(input, dtype, device, memory_format):
    dev = device_arg(device) if device is not None else input._storage.device
    strides = dense_strides(input) if memory_format in (None, "torch.preserve_format") else None
    return _empty_strided(input._shape, strides, dtype or input._dtype, dev)


def _like(value):
    def like(input, *, dtype=None, device=None, requires_grad=False, memory_format=None, layout=None):
        t = _like_tensor(input, dtype, device, memory_format)
        if value is not None:
            t._storage.backend.fill(t, value)
        return with_requires_grad(t, requires_grad)
    return like


zeros_like = _like(0)
ones_like = _like(1)
empty_like = _like(None)


def full_like(input, fill_value, *, dtype=None, device=None, requires_grad=False, memory_format=None, layout=None):
    if dtype is None and isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    t = _like_tensor(input, dtype, device, memory_format)
    t._storage.backend.fill(t, fill_value)
    return with_requires_grad(t, requires_grad)


def empty_strided(size, stride, *, dtype=None, device=None, requires_grad=False, layout=None, pin_memory=False):
    size = int_tuple(size, "empty_strided", "size", 1)
    stride = int_tuple(stride, "empty_strided", "stride", 2)
    t = _empty_strided(size, stride, dtype or D.get_default_dtype(), device_arg(device))
    return with_requires_grad(t, requires_grad)


def scalar_tensor(s, *, dtype=None, device=None, requires_grad=False):
    return full((), s, dtype=dtype or D.get_default_dtype(), device=device, requires_grad=requires_grad)


# ---- ranges --------------------------------------------------------------------------------------------------

def _num(x):
    return x.item() if isinstance(x, Tensor) else x


def arange(start, end=None, step=1, *, dtype=None, device=None, requires_grad=False, out=None, layout=None):
    start, end, step = _num(start), _num(end), _num(step)
    if end is None:
        start, end = 0, start
    check(step != 0, "step must be nonzero")
    check((step > 0 and end >= start) or (step < 0 and end <= start),
          "upper bound and lower bound inconsistent with step sign")
    if dtype is None:
        dtype = D.get_default_dtype() if any(isinstance(v, float) for v in (start, end, step)) else D.int64
    n = int(math.ceil((end - start) / step))
    if dtype.is_floating_point:
        # PyTorch computes start + i*step in double, then casts
        vals = [start + i * step for i in range(n)]
    else:
        vals = [int(start + i * step) for i in range(n)] if not isinstance(start, float) else \
            [int(start + i * step) for i in range(n)]
    t = tensor(vals, dtype=dtype, device=device) if n else empty(0, dtype=dtype, device=device)
    if out is not None:
        return write_out(out, t)
    return with_requires_grad(t, requires_grad)


def linspace(start, end, steps, *, dtype=None, device=None, requires_grad=False, out=None, layout=None):
    start, end = _num(start), _num(end)
    check(steps >= 0, "number of steps must be non-negative")
    dtype = dtype or D.get_default_dtype()
    if steps == 1:
        vals = [start]
    else:
        step = (end - start) / (steps - 1) if steps > 1 else 0
        half = steps // 2
        # PyTorch fills the first half from start and the second half from end, for symmetry
        vals = [start + step * i if i < half else end - step * (steps - i - 1) for i in range(steps)]
    if not dtype.is_floating_point:
        vals = [int(v) for v in vals]
    t = tensor(vals, dtype=dtype, device=device) if steps else empty(0, dtype=dtype, device=device)
    return with_requires_grad(t, requires_grad)


def logspace(start, end, steps, base=10.0, *, dtype=None, device=None, requires_grad=False):
    lin = linspace(start, end, steps, dtype=D.float64)
    return with_requires_grad((base ** lin).to(dtype or D.get_default_dtype()).to(device_arg(device)), requires_grad)


def eye(n, m=None, *, dtype=None, device=None, requires_grad=False, out=None, layout=None):
    m = n if m is None else m
    check(n >= 0, f"n must be greater or equal to 0, got {n}")
    t = zeros(n, m, dtype=dtype, device=device)
    k = min(n, m)
    if k:
        diag = _make(t._storage, (k,), (m + 1,), 0, t._dtype)
        t._storage.backend.fill(diag, 1)
    return with_requires_grad(t, requires_grad)


def _register_all():
    C = "creation"
    for name, fn, primitive, dtype in [
            ("tensor", tensor, "from_bytes", "factory"), ("as_tensor", as_tensor, None, "factory"),
            ("asarray", asarray, None, "factory"), ("from_numpy", from_numpy, None, "factory"),
            ("empty", empty, "alloc", "factory"), ("full", full, "fill", "factory"),
            ("zeros", zeros, "fill", "factory"), ("ones", ones, "fill", "factory"), ("zeros_like", zeros_like, "fill", "same"),
            ("ones_like", ones_like, "fill", "same"), ("empty_like", empty_like, "alloc", "same"),
            ("full_like", full_like, "fill", "same"), ("empty_strided", empty_strided, "alloc", "factory"),
            ("scalar_tensor", scalar_tensor, None, "factory"), ("arange", arange, None, "factory"),
            ("linspace", linspace, None, "factory"), ("logspace", logspace, None, "factory"),
            ("eye", eye, "fill", "factory")]:
        register(name, fn, C, primitive=primitive, dtype=dtype, derivative=NOT_DIFFERENTIABLE, method=False, opinfo=())

    def new_tensor(self, data, *, dtype=None, device=None, requires_grad=False):
        return tensor(data, dtype=dtype or self._dtype, device=device or self._storage.device,
                      requires_grad=requires_grad)

    def _new(name, fn):
        def method(self, *size, dtype=None, device=None, requires_grad=False, **kw):
            return fn(*size, dtype=dtype or self._dtype, device=device or self._storage.device,
                      requires_grad=requires_grad)
        method.__name__ = method.__qualname__ = name
        return method

    def new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False):
        return full(size, fill_value, dtype=dtype or self._dtype, device=device or self._storage.device,
                    requires_grad=requires_grad)

    # Tensor.new_*: the factories with the tensor's dtype and device as defaults
    for name, fn, primitive in [("new_tensor", new_tensor, "from_bytes"), ("new_full", new_full, "fill"),
                                ("new_zeros", _new("new_zeros", zeros), "fill"),
                                ("new_ones", _new("new_ones", ones), "fill"),
                                ("new_empty", _new("new_empty", empty), "alloc")]:
        register(name, fn, C, primitive=primitive, dtype="factory", derivative=NOT_DIFFERENTIABLE, function=False,
                 opinfo=())


_register_all()
