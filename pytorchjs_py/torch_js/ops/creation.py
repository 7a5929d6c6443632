"""Tensor creation: from Python data (and numpy), constant fills, the *_like and new_* forms, ranges, eye.
(Random draws are in random.py.)"""
import math
import struct

from .. import _dtype as D
from .._storage import CPU, DEFAULT_DEVICE, INT64_MAX, check_alloc, device as _device
from .._memory_format import preserve_format
from .._tensor import Tensor, _contig, _empty, _empty_strided, _make, _shape_problem, checked_numel, int_tuple, numel_of
from ._registry import NOT_DIFFERENTIABLE, register
from ._util import (GRAD_ENABLED, INT64_MIN, INT_LIMITS, PACKAGE_DIRS, check, checked_scalar, dense_strides,
                    int_overflows, scalar_int, scalar_tensor as _scalar_operand, warn_at_caller)
from .inplace import resize_, write_out
from ._numpy_interop import dtype_from_numpy, from_numpy, from_numpy_value, is_numpy_value, numpy_if_loaded


def device_arg(device):
    """A `device=` argument (None, a string or a device) as a device; None is the default device (the CPU unless
    torch.set_default_device or a `with torch.device(...)` block says otherwise)."""
    if device is None:
        return DEFAULT_DEVICE[0]
    return _device(device) if not isinstance(device, _device) else device


def size_arg(size, name="empty", size_kw=None):
    """A factory's `*size` (ints, one tuple/list, or 0-d tensors; or `size=` given as a keyword) as a tuple, with
    PyTorch's errors."""
    if size_kw is not None:
        if size:
            raise TypeError(f"{name}() got multiple values for argument 'size'")
        size = (size_kw,)
    if not size:
        raise TypeError(f'{name}() missing 1 required positional arguments: "size"')
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
            if name == "zeros":   # (zeros alone words it so in PyTorch)
                raise RuntimeError(f"{name}: Dimension size must be non-negative.")
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: {list(size)}")
        out.append(s)
    return tuple(out)


def _check_new_size(shape, dtype):
    """The errors _empty gives for a new tensor of this shape (negative or overflowing sizes, more bytes than the
    runtime has), raised before a factory builds Python values for it. dtype None: the smallest, one byte."""
    problem = _shape_problem(shape)
    if problem is not None:
        raise RuntimeError(problem)
    nbytes = numel_of(shape) * (dtype.itemsize if dtype is not None else 1)
    if nbytes > INT64_MAX:
        raise RuntimeError(f"Storage size calculation overflowed with sizes={list(shape)}")
    check_alloc(nbytes)


# ---- from Python data ----------------------------------------------------------------------------------------

def _seq_len(seq):
    """len(seq), also for a range longer than sys.maxsize (wasm32's ssize_t), where len() raises OverflowError."""
    if isinstance(seq, range):
        return max(0, (seq.stop - seq.start + seq.step - (1 if seq.step > 0 else -1)) // seq.step)
    return len(seq)


def _flatten(data, dtype=None):
    """Shape, flat list and the inferred dtype of nested sequences of numbers (iterative, no recursion limit)."""
    if isinstance(data, Tensor):
        return data._shape, data.reshape(-1).tolist(), data._dtype
    shape = []
    probe = data
    while isinstance(probe, (list, tuple, range)) or _is_array_like(probe):
        n = _seq_len(probe)
        shape.append(n)
        if n == 0:
            break
        probe = probe[0]
    # before building the flat list (a range can be huge), at the itemsize the values will have
    _check_new_size(tuple(shape), dtype or (D.scalar_dtype(probe) if isinstance(probe, (bool, int, float)) else None))
    flat = [data]
    for depth, n in enumerate(shape):
        nxt = []
        for item in flat:
            if isinstance(item, Tensor):
                item = item.tolist()
            if not (isinstance(item, (list, tuple, range)) or _is_array_like(item)) or len(item) != n:
                raise ValueError(f"expected sequence of length {n} at dim {depth} (got "
                                 f"{len(item) if hasattr(item, '__len__') else type(item).__name__})")
            nxt.extend(item)
        flat = nxt
    kind = -1  # of the Python numbers: -1 none, 0 bool, 1 int, 2 float, 3 complex
    typed = None  # the promoted dtype of the elements that carry one (tensors, numpy values), as PyTorch infers it
    np = numpy_if_loaded()
    np_types = (np.ndarray, np.generic) if np is not None else ()
    for i, v in enumerate(flat):
        t = type(v)  # exact types first: the common case, and np.float64 subclasses float but carries a dtype
        if t is float:
            kind = 2
        elif t is int:
            kind = kind if kind > 1 else 1
        elif t is bool:
            kind = kind if kind > 0 else 0
        elif t is complex:
            kind = 3
        elif isinstance(v, Tensor) or isinstance(v, np_types):  # a 0-d tensor, a numpy scalar or 0-d array
            d = v._dtype if isinstance(v, Tensor) else dtype_from_numpy(v.dtype)
            typed = d if typed is None else D.promote_types(typed, d)
            flat[i] = v.item()
        elif isinstance(v, (bool, int, float)):  # subclasses (IntEnum ...)
            kind = max(kind, 0 if isinstance(v, bool) else 1 if isinstance(v, int) else 2)
        elif hasattr(v, "item") and hasattr(v, "dtype"):  # another library's scalar: by its Python value
            flat[i] = v = v.item()
            kind = max(kind, 2 if isinstance(v, float) else (1 if not isinstance(v, bool) else 0))
        elif isinstance(v, complex):
            kind = 3
        else:
            raise TypeError(f"new(): invalid data type '{type(v).__name__}'")
    inferred = (D.bool_, D.int64, D.get_default_dtype(), D.default_complex_dtype())[kind] if kind >= 0 else \
        typed or D.get_default_dtype()
    if kind >= 0 and typed is not None:
        inferred = D.promote_types(inferred, typed)
    return tuple(shape), flat, inferred


def _is_array_like(x):
    return hasattr(x, "__len__") and hasattr(x, "__getitem__") and not isinstance(x, (str, bytes, dict)) and \
        not isinstance(x, Tensor) and hasattr(x, "shape")


def _pack_values(flat, d):
    """The bytes of Python numbers as dtype d (float16/bfloat16 come here as float32), raising where PyTorch's
    tensor() does: an int past int64 ("Overflow when unpacking long long"), a value an integral dtype cannot
    hold, NaN or inf into an integral dtype; floats beyond float32's range become inf, as there."""
    n = len(flat)
    if d is D.bool_:
        return bytes(1 if v else 0 for v in flat)
    if d.is_complex:   # (real, imaginary) pairs
        parts = []
        for v in flat:
            v = complex(v)
            parts.append(v.real)
            parts.append(v.imag)
        try:
            return struct.pack(f"<{2 * n}{d.to_real().fmt}", *parts)
        except OverflowError:  # beyond complex64's range: the caller casts from complex128 (inf)
            return None
    if d.is_floating_point:
        try:
            vals = [float(v) for v in flat]  # Python's OverflowError for an int past float64, as in PyTorch
        except TypeError:
            if any(isinstance(v, complex) for v in flat):
                raise TypeError("must be real number, not complex") from None
            raise
        try:
            return struct.pack(f"<{n}{d.fmt}", *vals)
        except OverflowError:  # beyond float32's range: the caller casts from float64 (inf, as PyTorch gives)
            return None
    try:
        return struct.pack(f"<{n}{d.fmt}", *flat)  # ints (and bools) within range: no per-value work
    except struct.error:
        pass
    lo, hi = INT_LIMITS[d.name]
    vals = []
    for v in flat:
        if isinstance(v, complex):
            raise TypeError("'complex' object cannot be interpreted as an integer")
        if isinstance(v, float):
            if not lo <= v <= hi:  # NaN fails both comparisons
                raise RuntimeError(f"value cannot be converted to type {d.name} without overflow")
            v = int(v)
        else:
            v = int(v)
            if v > INT64_MAX or v < INT64_MIN:
                raise ValueError("Overflow when unpacking long long")
            if int_overflows(v, lo, hi):
                raise RuntimeError(f"value cannot be converted to type {d.name} without overflow")
            if v < 0 and lo == 0:
                v += hi + 1  # -1 -> 255 in uint8, as PyTorch wraps it
        vals.append(v)
    return struct.pack(f"<{n}{d.fmt}", *vals)


def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False):
    dev = device_arg(device)
    if is_numpy_value(data):
        t = from_numpy_value(data, dtype, dev, copy=True)
    elif isinstance(data, Tensor):
        t = data.detach().clone()
        if dtype is not None:
            t = t.to(dtype)
        if dev is not t._storage.device:
            t = t.to(dev)
    else:
        if isinstance(data, (bool, int, float, complex)):
            shape, flat, inferred = (), [data], D.scalar_dtype(data)
        else:
            shape, flat, inferred = _flatten(data, dtype)
        d = dtype or inferred
        _check_new_size(shape, d)
        packed_as = D.float32 if d is D.bfloat16 or d is D.float16 else d
        data = _pack_values(flat, packed_as)
        if data is None:  # floats past float32's range: from float64, cast by the kernels (inf)
            packed_as = D.complex128 if d.is_complex else D.float64
            data = _pack_values(flat, packed_as)
        t = _make(CPU.backend.from_bytes(data), shape, _contig(shape), 0, packed_as)
        if packed_as is not d:
            t = t.to(d)
        if dev is not CPU:
            t = t.to(dev)
    return with_requires_grad(t, requires_grad)


_COPY_CONSTRUCT = ("To copy construct from a tensor, it is recommended to use sourceTensor.detach().clone() or "
                   "sourceTensor.detach().clone().requires_grad_(True), rather than {}.")


def public_tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """torch.tensor as the user calls it: tensor(), with PyTorch's warning when it copies a tensor (torch_js's own
    code calls tensor() for that, quietly)."""
    if isinstance(data, Tensor):
        warn_at_caller(_COPY_CONSTRUCT.format("torch.tensor(sourceTensor)"))
    return tensor(data, dtype=dtype, device=device, requires_grad=requires_grad, pin_memory=pin_memory)


def as_tensor(data, dtype=None, device=None):
    if isinstance(data, Tensor):
        r = data
        if dtype is not None and dtype is not r._dtype:
            r = r.to(dtype)
        if device is not None or DEFAULT_DEVICE[0] is not CPU:   # a default device set moves it, as in PyTorch
            dev = device_arg(device)
            if dev != r._storage.device:
                r = r.to(dev)
        return r
    if is_numpy_value(data):  # shares the array's memory where dtype and device match, as PyTorch's does
        return from_numpy_value(data, dtype, device_arg(device), copy=False)
    return tensor(data, dtype=dtype, device=device)


def asarray(obj, *, dtype=None, device=None, copy=None, requires_grad=False):
    t = as_tensor(obj, dtype=dtype, device=device) if not copy else tensor(obj, dtype=dtype, device=device)
    if requires_grad:
        t.requires_grad_(True)
    return t


# ---- fills ---------------------------------------------------------------------------------------------------

def with_requires_grad(t, requires_grad):
    """A new tensor with the factory's requires_grad= applied (in the factories' words, not requires_grad_'s)."""
    if requires_grad:
        if not (t._dtype.is_floating_point or t._dtype.is_complex):
            raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
        t.requires_grad_(True)
    return t


def empty(*sizes, size=None, dtype=None, device=None, requires_grad=False, out=None, layout=None, pin_memory=False,
          memory_format=None):
    shape = size_arg(sizes, "empty", size)
    if out is not None:
        return resize_(out, shape)
    return with_requires_grad(_empty(shape, dtype or D.get_default_dtype(), device_arg(device)), requires_grad)


def full(size, fill_value, *, dtype=None, device=None, requires_grad=False, out=None, layout=None):
    if not isinstance(fill_value, (bool, int, float, complex, Tensor)):
        raise TypeError(f"full(): argument 'fill_value' (position 2) must be Number, not {type(fill_value).__name__}")
    shape = size_arg((size if isinstance(size, int) else tuple(size),))
    if dtype is None:
        dtype = D.scalar_dtype(fill_value) if not isinstance(fill_value, Tensor) else fill_value._dtype
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    fill_value = checked_scalar(fill_value, dtype)
    if out is not None:
        return _fill_out(out, shape, fill_value)
    t = _empty(shape, dtype, device_arg(device))
    t._storage.backend.fill(t, fill_value)
    return with_requires_grad(t, requires_grad)


def _fill_out(out, shape, value):
    """zeros/ones/full with out=: resize out, then fill it (PyTorch's fill_, which allows an expanded out)."""
    if not isinstance(out, Tensor):
        raise TypeError(f"argument 'out' must be Tensor, not {type(out).__name__}")
    if out._requires_grad and GRAD_ENABLED[0]:
        return write_out(out, full(shape, value, dtype=out._dtype, device=out._storage.device))
    if out._shape != shape:
        resize_(out, shape)
    out._storage.backend.fill(out, checked_scalar(value, out._dtype))
    out._storage.version += 1
    return out


def zeros(*sizes, size=None, dtype=None, device=None, requires_grad=False, out=None, layout=None):
    shape = size_arg(sizes, "zeros", size)
    if out is not None:
        return _fill_out(out, shape, 0)
    t = _empty(shape, dtype or D.get_default_dtype(), device_arg(device))
    t._storage.backend.fill(t, 0)
    return with_requires_grad(t, requires_grad)


def ones(*sizes, size=None, dtype=None, device=None, requires_grad=False, out=None, layout=None):
    shape = size_arg(sizes, "ones", size)
    if out is not None:
        return _fill_out(out, shape, 1)
    t = _empty(shape, dtype or D.get_default_dtype(), device_arg(device))
    t._storage.backend.fill(t, 1)
    return with_requires_grad(t, requires_grad)


def _like_tensor(input, dtype, device, memory_format):
    dev = device_arg(device) if device is not None else input._storage.device
    strides = dense_strides(input) if memory_format is None or memory_format is preserve_format else None
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
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    elif not isinstance(fill_value, (int, float, complex)):
        raise TypeError(f"full_like(): argument 'fill_value' (position 2) must be Number, not "
                        f"{type(fill_value).__name__}")
    t = _like_tensor(input, dtype, device, memory_format)
    t._storage.backend.fill(t, checked_scalar(fill_value, t._dtype))
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


def _range_scalar(v, name):
    """A range endpoint or step: a Python number (0-d tensors give their value), ints within uint64's range."""
    v = _num(v)
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        if hasattr(v, "__index__"):
            return v.__index__()
        if hasattr(v, "__float__"):
            return float(v)
        raise TypeError(f"{name}(): argument must be a number, not {type(v).__name__}")
    return scalar_int(v) if isinstance(v, int) else v


def _steps_arg(steps, name):
    if steps.__class__ is not int:
        if isinstance(steps, (bool, float)) or not hasattr(steps, "__index__"):
            raise TypeError(f"{name}(): argument 'steps' (position 3) must be int, not {type(steps).__name__}")
        steps = steps.__index__()
    if not INT64_MIN <= steps <= INT64_MAX:
        raise ValueError("Overflow when unpacking long long")
    check(steps >= 0, "number of steps must be non-negative")
    return steps


def _iota(n, d, dev=CPU):
    """0, 1, ..., n-1 as a new tensor of dtype d (int64 or float64) on dev (the CPU unless the values are exact
    there too): one kernel where the backend has one (webgpu's iota), else each kernel call doubles the filled
    prefix, so n values cost log2(n) calls and no Python list."""
    t = _empty((n,), d, dev)
    iota = getattr(t._storage.backend, "iota", None)
    if n and iota is not None:
        iota(t)
    elif n:
        st, be = t._storage, t._storage.backend
        be.fill(_make(st, (1,), (1,), 0, d), 0)
        k = 1
        while k < n:
            m = min(k, n - k)
            be.binary("add", _make(st, (m,), (1,), k, d), _make(st, (m,), (1,), 0, d), (1,),
                      _scalar_operand(k, d, dev), (0,))
            k += m
    return t


def _scalar_op(op, t, value, scalar_first=False):
    """t = t <op> value (or value <op> t), in place, on a 1-d contiguous tensor."""
    s = _scalar_operand(value, t._dtype, t._storage.device)
    if scalar_first:
        t._storage.backend.binary(op, t, s, (0,), t, (1,))
    else:
        t._storage.backend.binary(op, t, t, (1,), s, (0,))


def _cast_to(t, dtype, device, out=None, requires_grad=False):
    """A range computed in float64/int64 on the CPU, cast as PyTorch casts its accumulator (float64 -> float32
    rounds to nearest, float64 -> an integral dtype truncates through int64, int64 -> a narrower int wraps)."""
    chain = {D.float16: (D.float32,), D.bfloat16: (D.float32,)}.get(dtype, ())
    if t._dtype is D.float64 and not dtype.is_floating_point and dtype is not D.bool_:
        chain = (D.int64,)
    for d in chain + (dtype,):
        if t._dtype is not d:
            r = _empty(t._shape, d, t._storage.device)
            r._storage.backend.copy(r, t, t._stride)
            t = r
    dev = device_arg(device)
    if dev is not CPU:
        t = t.to(dev)
    if out is not None:
        return write_out(out, t)
    return with_requires_grad(t, requires_grad)


def _trunc_div(a, b):
    q = abs(a) // abs(b)
    return q if (a < 0) == (b < 0) else -q


def _fmt(v):
    return str(v) if isinstance(v, int) else f"{v:g}"


def arange(start, end=None, step=1, *, dtype=None, device=None, requires_grad=False, out=None, layout=None):
    if end is None:
        start, end = 0, start
    start, end, step = (_range_scalar(v, "arange") for v in (start, end, step))
    if dtype is None:
        dtype = D.get_default_dtype() if any(isinstance(v, float) for v in (start, end, step)) else D.int64
    check(step != 0, "step must be nonzero")
    check(math.isfinite(start) and math.isfinite(end), lambda: f"unsupported range: {_fmt(start)} -> {_fmt(end)}")
    check((step > 0 and end >= start) or (step < 0 and end <= start),
          "upper bound and lower bound inconsistent with step sign")
    if dtype is not D.int64:  # the size from the given values, in double
        size = (float(end) - float(start)) / float(step)
        check(size == size and size <= INT64_MAX, "invalid size, possible overflow?")
        n = math.ceil(size)
    integral = not dtype.is_floating_point and dtype is not D.bool_
    if integral:  # PyTorch's accumulator is int64: the endpoints and step convert to it (truncating)
        start, end, step = (int(checked_scalar(v, D.int64)) for v in (start, end, step))
    if dtype is D.int64:  # int64 sizes in exact integer arithmetic
        check(step != 0, "step must be nonzero", ValueError)
        sgn = 1 if step > 0 else -1
        n = _trunc_div(end - start + step - sgn, step)
    check(0 <= n <= INT64_MAX, "invalid size, possible overflow?")
    _check_new_size((n,), dtype)  # before computing anything: arange(2**40) raises at once
    check(dtype is not D.bool_ and not dtype.is_complex,
          lambda: f'"arange_cpu" not implemented for \'{D.scalar_type_name(dtype)}\'', NotImplementedError)
    if not integral:
        return _cast_to(_arange_values(float(start), float(step), n, dtype), dtype, device, out, requires_grad)
    # start + i*step stays within [start, end]: no int64 overflow. On webgpu a few exact int64 kernels (which a graph
    # capture can replay) instead of an upload
    dev = device_arg(device) if out is None else out.device
    t = _iota(n, D.int64, dev if dev.type == "webgpu" else CPU)
    if n and step != 1:
        _scalar_op("mul", t, step)
    if n and start != 0:
        _scalar_op("add", t, start)
    return _cast_to(t, dtype, device, out, requires_grad)


# PyTorch's CPU arange kernel (its AVX2 build) fills SIMD vectors of these many values, two vectors at a time
_ARANGE_VECTOR = {D.float64: 4, D.float32: 8, D.float16: 16, D.bfloat16: 16}


def _arange_values(start, step, n, dtype):
    """A floating arange's values as PyTorch's CPU kernel computes them, in float64: each vector's first value
    start + step*j and the vector's others first + k*step, each one fused multiply-add in the accumulate type
    (double; float for the half types) rounded to the dtype; the values after the last pair of whole vectors
    start + step*i. (Not one start + step*i throughout: arange(-8, 8, 0.1)[80] is 4.4e-16, not 0.)"""
    width = _ARANGE_VECTOR[dtype]
    acc = D.float32 if dtype in (D.float16, D.bfloat16) else D.float64
    if acc is D.float32:
        start, step = _in_dtype(start, acc), _in_dtype(step, acc)
    i = _iota(n, D.float64)
    paired = n // (2 * width) * 2 * width
    first = i.clone()   # the index of the value's vector's first value
    if paired:
        first[:paired] = (i[:paired] / width).floor() * width
    k = i - first
    first = _rounded(_fused_multiply_add(full((n,), start, dtype=D.float64, device=CPU), first, step), acc, dtype)
    return _rounded(_fused_multiply_add(first, k, step), acc, dtype)


def _rounded(t, *dtypes):
    """float64 t rounded to each dtype in turn, as float64."""
    for d in dtypes:
        if d is not D.float64:
            t = t.to(d).to(D.float64)
    return t


def _fused_multiply_add(base, k, step):
    """base + k*step for float64 tensors base and k (k integral) and a float step, rounded once as a fused
    multiply-add rounds it: an exact two-part product and a compensated sum."""
    split = step * 134217729.0    # Veltkamp: step = hi + lo, halves whose products with k are exact
    hi = split - (split - step)
    p_hi, p_lo = k * hi, k * (step - hi)
    s = base + p_hi
    back = s - base
    return s + (((base - (s - back)) + (p_hi - back)) + p_lo)


def linspace(start, end, steps, *, dtype=None, device=None, requires_grad=False, out=None, layout=None):
    start, end = _range_scalar(start, "linspace"), _range_scalar(end, "linspace")
    steps = _steps_arg(steps, "linspace")
    dtype = dtype or D.get_default_dtype()
    checked_scalar(start, dtype)
    checked_scalar(end, dtype)
    _check_new_size((steps,), dtype)  # before computing anything
    t = _empty((steps,), D.float64, CPU)
    if steps == 1:
        t._storage.backend.fill(t, float(start))
    elif steps > 1:
        t = _linspace_values(start, end, steps, dtype)
    return _cast_to(t, dtype, device, out, requires_grad)


def _linspace_values(start, end, steps, dtype):
    """PyTorch's linspace values, in float64: the step (end - start) / (steps - 1) computed in the result's dtype,
    then start + step*i for the first half and end - step*(steps-1-i) for the rest, each rounded once (its kernel's
    fused multiply-add)."""
    if dtype.is_floating_point:
        start, end = _in_dtype(start, dtype), _in_dtype(end, dtype)
        step = _in_dtype(_in_dtype(end - start, dtype) / (steps - 1), dtype)
    else:   # the ends truncated to integers first, the step a double
        start, end = int(start), int(end)
        step = (end - start) / (steps - 1)
    half = steps // 2
    k = _iota(steps, D.float64)   # i, then -(steps - 1 - i) from the half on
    _scalar_op("sub", _make(k._storage, (steps - half,), (1,), half, D.float64), steps - 1)
    base = full((steps,), float(start), dtype=D.float64, device=CPU)
    base[half:] = float(end)
    return _fused_multiply_add(base, k, step)


def _in_dtype(value, dtype):
    """A Python number rounded to a floating dtype, as a Python float."""
    return float(value) if dtype is D.float64 else tensor(float(value), dtype=dtype, device=CPU).item()


def logspace(start, end, steps, base=10.0, *, dtype=None, device=None, requires_grad=False, out=None,
             layout=None):
    steps = _steps_arg(steps, "logspace")
    dtype = dtype or D.get_default_dtype()
    _check_new_size((steps,), dtype)  # PyTorch's allocator error counts the result's bytes
    lin = linspace(start, end, steps, dtype=D.float64)
    t = (base ** lin).to(dtype).to(device_arg(device))
    if out is not None:
        return write_out(out, t)
    return with_requires_grad(t, requires_grad)


def eye(n, m=None, *, dtype=None, device=None, requires_grad=False, out=None, layout=None):
    m = n if m is None else m
    check(n >= 0, f"n must be greater or equal to 0, got {n}")
    check(m >= 0, f"m must be greater or equal to 0, got {m}")
    checked_numel((n, m))
    t = zeros(n, m, dtype=dtype, device=device)
    k = min(n, m)
    if k:
        diag = _make(t._storage, (k,), (m + 1,), 0, t._dtype)
        t._storage.backend.fill(diag, 1)
    return with_requires_grad(t, requires_grad)


def empty_permuted(size, physical_layout, *, dtype=None, layout=None, device=None, requires_grad=False,
                   pin_memory=False):
    """An uninitialised tensor of `size` whose dims lie in memory in the order physical_layout gives (outermost
    first): empty(size permuted) permuted back."""
    size = int_tuple(size, "empty_permuted", "size", 1)
    order = int_tuple(physical_layout, "empty_permuted", "physical_layout", 2)
    if len(size) != len(order):
        raise RuntimeError(f"Number of dimensions in size does not match the length of the physical_layout; i.e. "
                           f"len(size) = {len(size)} is not equal to len(physical_layout) = {len(order)}")
    seen = set()
    for d in order:
        check(0 <= d < len(size), lambda: f"Dimension out of range (expected to be in range of [0, {len(size) - 1}],"
              f" but got {d})", IndexError)
        check(d not in seen, "Duplicate dim not allowed")
        seen.add(d)
    physical = _contig(tuple(size[d] for d in order))
    stride = [0] * len(size)
    for i, d in enumerate(order):
        stride[d] = physical[i]
    return empty_strided(size, stride, dtype=dtype, device=device, requires_grad=requires_grad)


def range_(start, end, step=1, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """torch.range (deprecated): start, start + step, ... up to end inclusive, in the default float dtype unless
    dtype is given; values computed in double (int64 for integral dtypes) as ATen's kernel does."""
    warn_at_caller("torch.range is deprecated and will be removed in a future release because its behavior is "
                   "inconsistent with Python's range builtin. Instead, use torch.arange, which produces values in "
                   "[start, end).")
    vals = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    start, end, step = vals
    dtype = dtype or D.get_default_dtype()
    check(step != 0, "step must be nonzero")
    check(math.isfinite(start) and math.isfinite(end), lambda: f"unsupported range: {start} -> {end}")
    check((step > 0 and end >= start) or (step < 0 and end <= start),
          "upper bound and lower bound inconsistent with step sign")
    n = int(math.floor((end - start) / step)) + 1
    work = D.int64 if not (dtype.is_floating_point or dtype.is_complex) else D.float64
    r = (arange(n, dtype=work, device=device) * step + start).to(dtype)
    if out is not None:
        return write_out(out, r)
    return with_requires_grad(r, requires_grad)


def _register_all():
    C = "creation"
    for name, fn, primitive, dtype in [
            ("tensor", public_tensor, "from_bytes", "factory"), ("as_tensor", as_tensor, None, "factory"),
            ("asarray", asarray, None, "factory"), ("from_numpy", from_numpy, None, "factory"),
            ("empty", empty, "alloc", "factory"), ("full", full, "fill", "factory"),
            ("zeros", zeros, "fill", "factory"), ("ones", ones, "fill", "factory"), ("zeros_like", zeros_like, "fill", "same"),
            ("ones_like", ones_like, "fill", "same"), ("empty_like", empty_like, "alloc", "same"),
            ("full_like", full_like, "fill", "same"), ("empty_strided", empty_strided, "alloc", "factory"),
            ("scalar_tensor", scalar_tensor, None, "factory"), ("arange", arange, None, "factory"),
            ("linspace", linspace, None, "factory"), ("logspace", logspace, None, "factory"),
            ("eye", eye, "fill", "factory"), ("empty_permuted", empty_permuted, "alloc", "factory")]:
        register(name, fn, C, primitive=primitive, dtype=dtype, derivative=NOT_DIFFERENTIABLE, method=False, opinfo=())

    def new_tensor(self, data, *, dtype=None, device=None, requires_grad=False):
        if isinstance(data, Tensor):
            warn_at_caller(_COPY_CONSTRUCT.format("tensor.new_tensor(sourceTensor)"), inside=PACKAGE_DIRS)
        return tensor(data, dtype=dtype or self._dtype, device=device or self._storage.device,
                      requires_grad=requires_grad)

    def _new(name, fn):
        def method(self, *sizes, size=None, dtype=None, device=None, requires_grad=False, **kw):
            size_arg(sizes, name, size)   # PyTorch's errors under the method's own name
            return fn(*sizes, size=size, dtype=dtype or self._dtype, device=device or self._storage.device,
                      requires_grad=requires_grad)
        method.__name__ = method.__qualname__ = name
        return method

    def new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False):
        return full(size, fill_value, dtype=dtype or self._dtype, device=device or self._storage.device,
                    requires_grad=requires_grad)

    def new_empty_strided(self, size, stride, *, dtype=None, device=None, requires_grad=False, layout=None,
                          pin_memory=False):
        return empty_strided(size, stride, dtype=dtype or self._dtype, device=device or self._storage.device,
                             requires_grad=requires_grad)

    # Tensor.new_*: the factories with the tensor's dtype and device as defaults
    for name, fn, primitive in [("new_tensor", new_tensor, "from_bytes"), ("new_full", new_full, "fill"),
                                ("new_empty_strided", new_empty_strided, "alloc"),
                                ("new_zeros", _new("new_zeros", zeros), "fill"),
                                ("new_ones", _new("new_ones", ones), "fill"),
                                ("new_empty", _new("new_empty", empty), "alloc")]:
        register(name, fn, C, primitive=primitive, dtype="factory", derivative=NOT_DIFFERENTIABLE, function=False,
                 opinfo=())


_register_all()
