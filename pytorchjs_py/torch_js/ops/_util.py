"""Shared pieces of the ops layer: broadcasting, dims, scalars, devices, memory layouts, error wording, and
recording autograd nodes. The lowest ops module: it imports only the core."""
import os
import sys
import warnings

from .. import _dtype as D
from .._dtype import c_type_name  # noqa: F401  (the ops import it from here)
from .._storage import CPU, INT64_MAX
from .._tensor import Size, Tensor, _empty, wrap_dim
from .._graph import node_class
from .._grad_mode import GRAD_ENABLED

__all__ = ["Tensor", "D", "GRAD_ENABLED", "broadcast_shapes", "expand_strides", "record", "wrap_dim", "dims_arg",
           "same_device", "scalar_tensor", "check"]

_BCAST_CACHE = {}
_PACKAGE_DIR = os.path.dirname(os.path.dirname(__file__))
OP_IMPLEMENTATION_DIRS = (os.path.join(_PACKAGE_DIR, "ops") + os.sep,
                          os.path.join(_PACKAGE_DIR, "nn", "_functional") + os.sep)
PACKAGE_DIRS = (_PACKAGE_DIR + os.sep,)


def assertion_error(message):
    """PyTorch's AssertionError (an assert of its Python code, nn.functional's), marked so the op wrappers
    (ops/_api.py) pass it on as it is rather than as a slip of torch_js's own code."""
    e = AssertionError(message)
    e.torch_js_public = True
    return e


WARN_ALWAYS = [False]   # torch.set_warn_always: the warnings PyTorch gives once per process are given every time
_WARNED_ONCE = set()


def warn_once_at_caller(message, category=UserWarning, inside=OP_IMPLEMENTATION_DIRS):
    """PyTorch's TORCH_WARN_ONCE: warn_at_caller the first time per process, or every time while WARN_ALWAYS."""
    if WARN_ALWAYS[0] or message not in _WARNED_ONCE:
        _WARNED_ONCE.add(message)
        warn_at_caller(message, category, inside)


def warn_at_caller(message, category=UserWarning, inside=OP_IMPLEMENTATION_DIRS):
    """warnings.warn attributed to the first frame outside the directories `inside`: by default the caller of the op,
    past the ops' implementations (ops/, nn/_functional/, the op registry's wrapper among them) however deep the op's
    helpers. That is the user's line where PyTorch's C++ ops and functionals point, or an nn module's
    (nn/modules/transformer.py) where PyTorch's module called the functional. PACKAGE_DIRS: the user's line."""
    frame, level = sys._getframe(1), 2
    while frame is not None and frame.f_code.co_filename.startswith(inside):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)


def _broadcast_two(a, b):
    if a == b:
        return a
    la, lb = len(a), len(b)
    n = la if la > lb else lb
    out = [1] * n
    for i in range(n - 1, -1, -1):    # from the right, as ATen's infer_size: it names the last mismatch
        da = a[i - n + la] if i - n + la >= 0 else 1
        db = b[i - n + lb] if i - n + lb >= 0 else 1
        if da == db or db == 1:
            out[i] = da
        elif da == 1:
            out[i] = db
        else:
            raise RuntimeError(f"The size of tensor a ({da}) must match the size of tensor b ({db}) at "
                               f"non-singleton dimension {i}")
    return tuple(out)


def broadcast_pair(a, b):
    key = (a, b)
    r = _BCAST_CACHE.get(key)
    if r is None:
        r = _broadcast_two(a, b)
        if len(_BCAST_CACHE) < 8192:
            _BCAST_CACHE[key] = r
    return r


def broadcast_shapes(*shapes):
    out = ()
    for s in shapes:
        if isinstance(s, int):
            s = (s,)
        out = broadcast_pair(out, tuple(s))
    return Size(out)


def expand_strides(shape, strides, out_shape):
    """Strides that view a tensor of `shape` as `out_shape` (0 on broadcast dims)."""
    if shape == out_shape:
        return strides
    pad = len(out_shape) - len(shape)
    res = [0] * pad
    for s, st, o in zip(shape, strides, out_shape[pad:]):
        res.append(st if s == o else 0)
    return tuple(res)


def dims_arg(dim, ndim):
    """Normalise a dim / tuple of dims into a sorted tuple of non-negative dims (None = all)."""
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, (list, tuple)):
        dims = tuple(wrap_dim(d, ndim) for d in dim)
        if len(set(dims)) != len(dims):
            raise RuntimeError(f"dim {dims[0]} appears multiple times in the list of dims")
        return tuple(sorted(dims))
    return (wrap_dim(dim, ndim),)


def dense_strides(t):
    """t's strides if t is non-overlapping and dense (PyTorch's preserve_format keeps them), else None."""
    shape, stride = t._shape, t._stride
    if t.is_contiguous():
        return None
    dims = sorted((i for i in range(len(shape)) if shape[i] != 1), key=lambda i: stride[i])
    expected = 1
    for i in dims:
        if stride[i] != expected:
            return None
        expected *= shape[i]
    # size-1 dims take the stride a contiguous layout in this order would give them
    return stride


def is_dense(t):
    """Whether t covers its elements without gaps or overlap (contiguous, or a permutation of contiguous)."""
    return t.is_contiguous() or dense_strides(t) is not None


def require_tensor(name, input, *others):
    """PyTorch's TypeError for a function whose first argument is not a Tensor."""
    if not isinstance(input, Tensor):
        raise invalid_combination(name, (input,) + others, " (Tensor input, ...)")


def invalid_combination(name, args, overloads):
    """PyTorch's TypeError for arguments (their types listed) that no overload of `name` takes."""
    got = ", ".join(type(a).__name__ for a in args)
    return TypeError(f"{name}() received an invalid combination of arguments - got ({got}), but expected one of:"
                     f"{overloads}")


def require_args(args, name, param):
    """PyTorch's TypeError for a method called without the sizes or dims it takes as varargs (x.expand())."""
    if not args:
        raise TypeError(f'{name}() missing 1 required positional arguments: "{param}"')


def not_implemented_for(kernel, dtype):
    """PyTorch's error for a kernel with no variant for a dtype (its dispatch macros raise NotImplementedError)."""
    return NotImplementedError(f'"{kernel}" not implemented for \'{D.scalar_type_name(dtype)}\'')


def result_type(name, fields):
    """A torch.return_types.<name> lookalike: a tuple with named fields."""
    def make_prop(i):
        return property(lambda self: self[i])
    ns = {"__slots__": (), "_fields": fields}
    for i, f in enumerate(fields):
        ns[f] = make_prop(i)
    ns["__repr__"] = lambda self: (f"torch.return_types.{name}(\n" + ",\n".join(
        f"{f}={v!r}" for f, v in zip(fields, self)) + ")")
    return type(name, (tuple,), ns)


def float64_home(t):
    """Where a float64 working copy of t is computed: t's device, or the CPU where that has no float64 (webgpu:
    WGSL has no 64-bit floats); the result goes back to t's device."""
    try:
        t._storage.backend.check_dtype(D.float64)
    except TypeError:
        return CPU
    return t._storage.device


def check(cond, msg, exc=RuntimeError):
    if not cond:
        raise exc(msg() if callable(msg) else msg)


def same_device(a, b):
    da, db = a._storage.device, b._storage.device
    if da is not db and da != db:
        raise RuntimeError(f"Expected all tensors to be on the same device, but found at least two devices, "
                           f"{da} and {db}!")
    return da


# ---- Python scalars going into a dtype ---------------------------------------------------------------------
# PyTorch holds a Python int as an int64 Scalar, or a uint64 one above int64's range; past that the conversion
# fails. Writes of a scalar into a tensor (fill_, full, ...) then check it fits the dtype (checked_convert),
# while arithmetic casts it (uint8 + 300 wraps), so each has its helper.

INT64_MIN = -(1 << 63)
_UINT64_END = 1 << 64
INT_LIMITS = {"int8": (-128, 127), "uint8": (0, 255), "int16": (-32768, 32767), "int32": (-(1 << 31), (1 << 31) - 1),
              "int64": (INT64_MIN, INT64_MAX)}
_CHECKED_NAMES = {"int8": "int8_t", "uint8": "uint8_t", "int16": "int16_t", "int32": "int", "int64": "int64_t",
                  "float32": "float", "float64": "double", "float16": "c10::Half", "bfloat16": "c10::BFloat16"}
_FLOAT32_MAX = 3.4028234663852886e38


def scalar_int(value):
    """A Python int as PyTorch's Scalar takes it: past uint64's range, PyTorch's OverflowError."""
    if value < INT64_MIN or value >= _UINT64_END:
        raise OverflowError("int too big to convert")
    return value


def int_overflows(value, lo, hi):
    """c10's overflows<int type>(int value): out of [lo, hi], except that negatives down to -max wrap into an
    unsigned dtype (uint8 accepts -255..255)."""
    return value > hi or (value < lo and (lo != 0 or -value > hi))


def checked_scalar(value, d):
    """A Python number about to be written into dtype d (fill_, full, full_like), or PyTorch's checked_convert
    error: integral dtypes take only values they can hold (NaN and inf never), float32 only finite values
    within its range (inf and NaN pass); float16/bfloat16/float64/bool take anything."""
    cls = value.__class__
    if cls is bool:
        return value
    if cls is complex and not d.is_complex:
        # into a real dtype: only a complex with no imaginary part converts (bool takes any value, as nonzero-ness)
        if d is D.bool_:
            return value != 0
        if value.imag != 0:
            raise RuntimeError(f"value cannot be converted to type {_CHECKED_NAMES[d.name]} without overflow")
        value = value.real
    if cls is int or (isinstance(value, int) and not isinstance(value, bool)):
        value = scalar_int(int(value))
        lim = INT_LIMITS.get(d.name)
        if lim is not None and int_overflows(value, *lim):
            raise RuntimeError(f"value cannot be converted to type {_CHECKED_NAMES[d.name]} without overflow")
        return value
    if isinstance(value, float):
        lim = INT_LIMITS.get(d.name)
        if lim is not None:
            if not lim[0] <= value <= lim[1]:  # NaN fails both comparisons
                raise RuntimeError(f"value cannot be converted to type {_CHECKED_NAMES[d.name]} without overflow")
        elif d.name == "float32" and _FLOAT32_MAX < abs(value) < float("inf"):
            raise RuntimeError("value cannot be converted to type float without overflow")
    return value


_SCALAR_CACHE = {}


def _cache_put(key, t):
    """Keep t in the operand cache (emptied past 4096 entries: it is a cache, not a registry)."""
    if len(_SCALAR_CACHE) > 4096:
        _SCALAR_CACHE.clear()
    _SCALAR_CACHE[key] = t


def scalar_tensor(value, dtype, dev):
    """A 0-d tensor holding a Python scalar, cached: binary ops with a scalar operand use it as a stride-0 input.
    An int in uint64's range above int64 wraps into an integral dtype, as PyTorch's arithmetic does.

    Only ever read by kernels, never handed to users (so the cache cannot be mutated).
    """
    key = (value, type(value), dtype, dev)
    t = _SCALAR_CACHE.get(key)
    if t is None:
        t = _empty((), dtype, dev)
        v = value
        if v.__class__ is int and not INT64_MIN <= v <= INT64_MAX:
            scalar_int(v)
            if not dtype.is_floating_point:
                v -= _UINT64_END
        t._storage.backend.fill(t, v)
        # -0.0 and NaN must not alias 0.0 / each other in the cache
        if not (isinstance(value, float) and (value != value or value == 0.0)):
            _cache_put(key, t)
    return t


def cached_constant(key, make):
    """A device tensor that depends on `key` alone (a causal mask, say), made once by make() and kept with the
    scalar operands above: read by kernels only, never handed to users; a graph capture drops those it made."""
    key = ("constant",) + key
    t = _SCALAR_CACHE.get(key)
    if t is None:
        t = make()
        _cache_put(key, t)
    return t


def rename_grad_fn(t, name):
    """Give a composite op's final node the name PyTorch's own node for the op has (what users see printed)."""
    fn = t._grad_fn
    if fn is not None and fn._name != name:
        fn._name = name
        fn.__class__ = node_class(name)
    return t


def as_op_result(t, name, inputs=()):
    """A composite's result as the one ATen op PyTorch runs for it gives it: its final node named as that op's
    (what a printed tensor shows as grad_fn=<...>), and not a view when the composite ended on a view of its own
    intermediates (which nothing else holds): an in-place op on it then acts on it alone, as on PyTorch's fresh
    output. A view of one of `inputs` stays a view."""
    if t._base is not None and not any(isinstance(i, Tensor) and i._storage is t._storage for i in inputs):
        t._base = None
    return rename_grad_fn(t, name)


def record(name, backward_fn, inputs, outputs, attrs=None, save_inputs=(), save_outputs=()):
    """Attach a new autograd node to `outputs` (differentiable float outputs only)."""
    node = node_class(name)(name, backward_fn, inputs, len(outputs))
    node.attrs = attrs
    for i, o in enumerate(outputs):
        if o is not None and (o._dtype.is_floating_point or o._dtype.is_complex):
            o._grad_fn = node
            o._output_nr = i
            o._requires_grad = True
    if save_inputs or save_outputs:
        node.save(save_inputs, save_outputs)  # after the outputs know their output_nr
    return node


def identity_backward(ctx, g):
    """The backward of ops whose gradient passes through unchanged (clone, a 0-d cumsum/cumprod)."""
    return g


def derivative_not_implemented(aten_name):
    """What PyTorch's NotImplemented node raises on backward, for ops it gives no derivative (floor_divide,
    scatter with reduce=...): the forward still records a node, so the error comes at backward, as there."""
    raise RuntimeError(f"derivative for {aten_name} is not implemented")


def not_implemented_backward(ctx, g):
    """The backward of a NotImplemented node recorded with the aten op's name as its attrs."""
    derivative_not_implemented(ctx.attrs)
