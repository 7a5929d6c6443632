"""PyTorch's legacy tensor types: torch.FloatTensor, torch.LongTensor, ... and their torch.cuda twins.

Each is a class (of the metaclass `tensortype`, as in PyTorch) that is not a Tensor subclass: calling it is the
legacy constructor (`torch.FloatTensor(2, 3)`: uninitialised sizes; `torch.FloatTensor([1, 2])`: data), and
`isinstance(t, torch.FloatTensor)` asks whether t is a float32 CPU tensor. `Tensor.type()` names them and
`Tensor.type(torch.LongTensor)` / `Tensor.type("torch.LongTensor")` converts to them.
"""
import numbers
import warnings

from . import _dtype as D
from ._storage import CPU, device as _device
from ._tensor import Size, Tensor, set_legacy_constructor, strided
from .ops.creation import empty, tensor

__all__ = ["tensortype", "CPU_TYPES", "CUDA_TYPES", "legacy_new", "tensor_type_named"]

_NAMES = (("FloatTensor", D.float32), ("DoubleTensor", D.float64), ("HalfTensor", D.float16),
          ("BFloat16Tensor", D.bfloat16), ("LongTensor", D.int64), ("IntTensor", D.int32), ("ShortTensor", D.int16),
          ("CharTensor", D.int8), ("ByteTensor", D.uint8), ("BoolTensor", D.bool_))

_CPP_DTYPE = {D.float32: "float", D.float64: "double", D.float16: "c10::Half", D.bfloat16: "c10::BFloat16",
              D.int64: "long int", D.int32: "int", D.int16: "short int", D.int8: "signed char",
              D.uint8: "unsigned char", D.bool_: "bool"}

_NO_CUDA_LIBRARY = (
    "Cannot initialize CUDA without ATen_cuda library. PyTorch splits its backend into two shared libraries: a CPU "
    "library and a CUDA library; this error has occurred because you are trying to use some CUDA functionality, but "
    "the CUDA library has not been loaded by the dynamic linker for some reason.  The CUDA library MUST be loaded, "
    "EVEN IF you don't directly use any symbols from the CUDA library! One common culprit is a lack of "
    "-Wl,--no-as-needed in your link arguments; many dynamic linkers will delete dynamic library dependencies if "
    "you don't depend on any of their symbols.  You can check if this has occurred by using ldd on your binary to "
    "see if there is a dependency on *_cuda.so library.")

_SIGNATURES = (" * (*, torch.device device = None)\n * (torch.Storage storage)\n * (Tensor other)\n"
               " * (tuple of ints size, *, torch.device device = None)\n * (object data, *, torch.device device = None)\n")


class tensortype(type):
    """The metaclass of the legacy types: isinstance() checks a tensor's dtype and device."""

    def __instancecheck__(cls, obj):
        return (isinstance(obj, Tensor) and obj.dtype is cls.dtype and obj.layout is cls.layout
                and obj.device.type == ("cuda" if cls.is_cuda else "cpu"))

    def __subclasscheck__(cls, sub):
        return type.__subclasscheck__(cls, sub)

    def __repr__(cls):
        return f"<class '{cls.__module__}.{cls.__qualname__}'>"


def _options(d):
    return (f"TensorOptions(dtype={_CPP_DTYPE[d]}, device=cpu, layout=Strided, requires_grad=false (default), "
            "pinned_memory=false (default), memory_format=(nullopt))")


def _type_name(v):
    """A value's type as PyTorch's argument errors name it (torch.dtype, torch.device, ...)."""
    t = type(v)
    return f"torch.{t.__name__}" if t.__module__.startswith("torch_js") else t.__name__


def _invalid_args(args, kwargs, bad_keywords):
    got = ", ".join([_type_name(a) for a in args] + [f"{k}={_type_name(v)}" for k, v in kwargs.items()])
    sigs = _SIGNATURES
    if bad_keywords:
        first, rest = sigs.split("\n", 1)
        sigs = (f"{first}\n      didn't match because some of the keywords were incorrect: "
                f"{', '.join(bad_keywords)}\n{rest}")
    return TypeError(f"new() received an invalid combination of arguments - got ({got}), but expected one of:\n{sigs}")


def legacy_new(dtype, args, kwargs):
    """PyTorch's legacy constructor: sizes (ints or a torch.Size; uninitialised), data (a copy), a tensor (the same
    data, shared), or nothing (an empty tensor). Always on the CPU: it does not follow the default device, and
    device= may name only the CPU. dtype None is torch.Tensor's: the default dtype, and a tensor of any dtype is
    taken as it is; a typed constructor (torch.FloatTensor) takes only tensors of its own type."""
    bad = [k for k in kwargs if k != "device"]
    if bad:
        raise _invalid_args(args, kwargs, bad)
    dev = kwargs.get("device")
    if dev is not None:
        dev = _device(dev)
        if dev.type != "cpu":
            raise RuntimeError(f"legacy constructor expects device type: cpu but device type: {dev.type} was passed")
    typed = dtype is not None
    if not typed:
        dtype = D.get_default_dtype()
    if not args:
        return empty(0, dtype=dtype, device=CPU)
    if len(args) == 1:
        (a,) = args
        if isinstance(a, Tensor):
            if typed and (a.dtype is not dtype or a.device.type != "cpu"):
                raise TypeError(f"expected {_options(dtype)} (got {_options(a.dtype)})")
            return a.detach()
        if isinstance(a, Size):
            return _sized(dtype, tuple(a))
        if isinstance(a, bool) or isinstance(a, float):
            raise TypeError(f"new(): data must be a sequence (got {type(a).__name__})")
        if isinstance(a, str):
            raise TypeError("new(): invalid data type 'str'")
        if not hasattr(a, "__index__") or hasattr(a, "__len__"):   # data; an int (or int-like) alone is a size
            return tensor(a, dtype=dtype, device=CPU)
    for i, a in enumerate(args):
        if isinstance(a, (bool, float)) or not hasattr(a, "__index__"):
            raise TypeError(f"new(): argument 'size' failed to unpack the object at pos {i + 1} with error \"type "
                            f"must be tuple of ints,but got {type(a).__name__}\"")
    return _sized(dtype, args)


def _sized(dtype, sizes):
    sizes = tuple(s.__index__() for s in sizes)
    for n in sizes:
        if n < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {n}: {list(sizes)}")
    return empty(sizes, dtype=dtype, device=CPU)


# torch.Tensor(...): core's Tensor.__new__ calls it (core cannot import this module)
set_legacy_constructor(lambda *args, **kwargs: legacy_new(None, args, kwargs))


def _make_type(name, dtype, is_cuda):
    def __new__(cls, *args, **kwargs):
        if cls.is_cuda:
            raise TypeError(f"type torch.cuda.{name} not available. Torch not compiled with CUDA enabled.")
        return legacy_new(cls.dtype, args, kwargs)

    cls = tensortype(name, (), {"__new__": __new__, "dtype": dtype, "is_cuda": is_cuda, "is_sparse": False,
                                "layout": strided, "__module__": "torch.cuda" if is_cuda else "torch",
                                "__doc__": None})
    return cls


CPU_TYPES = {name: _make_type(name, d, False) for name, d in _NAMES}
CUDA_TYPES = {name: _make_type(name, d, True) for name, d in _NAMES}
_BY_NAME = {f"torch.{n}": t for n, t in CPU_TYPES.items()}
_BY_NAME.update({f"torch.cuda.{n}": t for n, t in CUDA_TYPES.items()})


def tensor_type_named(name):
    """The legacy type a dotted name ('torch.DoubleTensor') names; PyTorch imports the name, and so fails as an
    import does for any other."""
    if name in _BY_NAME:
        return _BY_NAME[name]
    head, _, rest = name.partition(".")
    if head != "torch":
        raise ModuleNotFoundError(f"No module named '{head}'")
    raise AttributeError(f"module 'torch' has no attribute '{rest}'")


def _type(self, dtype=None, non_blocking=False, **kwargs):
    """Tensor.type: the legacy type's name, or the tensor converted to a dtype, legacy type or its name."""
    if dtype is None:
        return self._type_string()
    if isinstance(dtype, str):
        if dtype not in _BY_NAME:
            raise ValueError(f"invalid type: '{dtype}'")
        dtype = _BY_NAME[dtype]
    if isinstance(dtype, tensortype):
        if dtype.is_cuda:
            raise RuntimeError(_NO_CUDA_LIBRARY)
        dtype = dtype.dtype
    elif not isinstance(dtype, D.dtype):
        raise TypeError("dtype must be a type, str, or dtype object")
    return self if dtype is self._dtype else self.to(dtype, non_blocking=non_blocking)


Tensor.type = _type  # core's Tensor cannot import the legacy types (they construct through ops)


# ---- legacy Tensor methods --------------------------------------------------------------------------------------

def _tensor_new(self, *args, **kwargs):
    """Tensor.new: the legacy constructor with self's dtype (a tensor argument must have it), on self's device."""
    t = legacy_new(self._dtype, args, kwargs)
    return t if self.device.type == "cpu" or "device" in kwargs else t.to(self.device)


def _resize(self, *sizes):
    """Tensor.resize (deprecated): a reshape that keeps the number of elements (autograd's old Resize)."""
    warnings.warn("non-inplace resize is deprecated", stacklevel=2)
    return _resize_to(self, sizes[0] if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)) else sizes)


def _resize_as(self, tensor):
    warnings.warn("non-inplace resize_as is deprecated", stacklevel=2)
    return _resize_to(self, tensor.shape)


def _resize_to(self, sizes):
    n = 1
    for s in sizes:
        n *= s
    if n != self.numel():
        raise RuntimeError(f"requested resize to {'x'.join(map(str, sizes))} ({n} elements in total), but the given "
                           f"tensor has a size of {'x'.join(map(str, self.shape))} ({self.numel()} elements). "
                           "autograd's resize can only change the shape of a given tensor, while preserving the "
                           "number of elements. ")
    return self.contiguous().view(tuple(sizes))


def _volatile_get(self):
    warnings.warn("volatile was removed (Variable.volatile is always False)", stacklevel=2)
    return False


def _volatile_set(self, value):
    warnings.warn("volatile was removed and now has no effect. Use `with torch.no_grad():` instead.", stacklevel=2)


def _reinforce(self, reward):
    raise RuntimeError("reinforce() was removed.\nUse torch.distributions instead.\n"
                       "See https://pytorch.org/docs/main/distributions.html")


def _elementwise_python(name, self, others, fn):
    """apply_/map_/map2_: self[i] = fn(self[i], others[i]...) in Python on a CPU tensor (others broadcast to self),
    each result converted as the dtype's C++ cast converts a double (ints truncate)."""
    if self.device.type != "cpu":
        raise RuntimeError(f"{name} is only implemented on CPU tensors")
    if self.requires_grad:
        raise RuntimeError(f"Can't call {name}() on Variable that requires grad. Use var.detach().{name}() instead.")
    flat = [t.detach().expand(self.shape).reshape(-1).tolist() for t in (self,) + others]
    kind = complex if self.dtype.is_complex else float if self.dtype.is_floating_point else (
        bool if self.dtype is D.bool_ else int)
    out = []
    for values in zip(*flat):
        v = fn(*values)
        if not isinstance(v, numbers.Number):
            raise TypeError(f"must be real number, not {type(v).__name__}")
        out.append(kind(v))
    if out:
        self.copy_(tensor(out, dtype=self.dtype).reshape(self.shape))
    return self


def _apply_(self, callable):
    return _elementwise_python("apply_", self, (), callable)


def _map_(self, tensor, callable):
    return _elementwise_python("map_", self, (tensor,), callable)


def _map2_(self, x, y, callable):
    return _elementwise_python("map2_", self, (x, y), callable)


Tensor.new = _tensor_new
Tensor.resize = _resize
Tensor.resize_as = _resize_as
Tensor.volatile = property(_volatile_get, _volatile_set)
Tensor.reinforce = _reinforce
Tensor.apply_ = _apply_
Tensor.map_ = _map_
Tensor.map2_ = _map2_
