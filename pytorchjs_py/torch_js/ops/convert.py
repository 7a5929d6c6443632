"""dtype and device conversion, copies into existing tensors, and reading values back into Python."""
import struct

from .. import _dtype as D
from .._storage import CPU, MAX_ALLOC_BYTES, device as _device
from .._tensor import NotStridedError, Tensor, _empty, _make
from ._api import layout_kernel
from ._registry import COMPOSITE, NOT_DIFFERENTIABLE, backward, register
from ._util import GRAD_ENABLED, broadcast_pair, checked_scalar, expand_strides, record
from . import inplace as _ip
from .creation import full
from ._numpy_interop import numpy_module, numpy_view


def _to_dtype_back(ctx, g):
    if g._dtype.is_complex and not ctx.attrs.is_complex:
        g = g.real   # a real input of a complex cast gets the real part (PyTorch's, with no discard warning)
    return g.to(ctx.attrs)


def _to_dtype(self, d):
    """A copy of self cast to dtype d (differentiable between float dtypes)."""
    if self._dtype is d:
        return self
    out = _empty(self._shape, d, self._storage.device)
    out._storage.backend.copy(out, self, self._stride)
    if GRAD_ENABLED[0] and self._requires_grad and (d.is_floating_point or d.is_complex):
        record("ToCopyBackward0", _to_dtype_back, (self,), (out,), attrs=self._dtype)
    return out


def _to_device_back(ctx, g):
    return _to_device(g, ctx.attrs)


def _to_device(self, dev):
    src_dev = self._storage.device
    if src_dev is dev or src_dev == dev:
        return self
    check_dtype = getattr(dev.backend, "check_dtype", None)
    if check_dtype is not None:
        check_dtype(self._dtype)  # e.g. float64 cannot live on webgpu: fail at .to(), not at the first kernel
    c = self.contiguous().detach()
    read_into = getattr(c._storage.backend, "read_into", None)
    if read_into is not None and dev.type == "cpu" and c._sparse is None:   # into the new storage at once
        isz = c._dtype.itemsize
        storage = dev.backend.alloc(c.numel() * isz)
        read_into(c._storage, c._offset * isz, c.numel() * isz, storage.ptr)
    else:
        storage = dev.backend.from_bytes(c._raw_bytes())
    out = _make(storage, c._shape, c._stride, 0, c._dtype)
    if GRAD_ENABLED[0] and self._requires_grad:
        record("ToCopyBackward0", _to_device_back, (self,), (out,), attrs=src_dev)
    return out


def _parse_to(args, kwargs):
    dtype = kwargs.pop("dtype", None)
    dtype = D.PYTHON_TYPE_DTYPES.get(dtype, dtype) if type(dtype) is type else dtype
    dev = kwargs.pop("device", None)
    copy = kwargs.pop("copy", False)
    kwargs.pop("non_blocking", None)
    kwargs.pop("memory_format", None)
    for a in args:
        if isinstance(a, D.dtype):
            dtype = a
        elif type(a) is type and a in D.PYTHON_TYPE_DTYPES:
            dtype = D.PYTHON_TYPE_DTYPES[a]
        elif isinstance(a, (str, _device)):
            dev = a
        elif isinstance(a, Tensor):
            dtype, dev = a._dtype, a._storage.device
        elif isinstance(a, bool):
            pass
        elif a is None:
            pass
        else:
            raise TypeError(f"to() received an invalid combination of arguments - got ({type(a).__name__})")
    if kwargs:
        raise TypeError(f"to() got an unexpected keyword argument '{next(iter(kwargs))}'")
    return dtype, (_device(dev) if dev is not None else None), copy


def to(self, *args, **kwargs):
    dtype, dev, copy = _parse_to(args, dict(kwargs))
    r = self
    # cast where the tensor is when that is the CPU (every dtype exists there), else after moving: so a float64 CPU
    # tensor can go .to("webgpu", float32) and a webgpu tensor .to("cpu", float64), as in one PyTorch copy
    cast_first = dtype is not None and self._storage.device.type == "cpu"
    if cast_first:
        r = _to_dtype(r, dtype)
    if dev is not None:
        r = _to_device(r, dev)
    if dtype is not None and not cast_first:
        r = _to_dtype(r, dtype)
    if copy and r is self:
        r = self.clone()
    return r


def cpu(self, memory_format=None):
    return _to_device(self, CPU)


def _type_method(d):
    def m(self, memory_format=None):
        try:
            return _to_dtype(self, d)
        except NotStridedError as e:   # a sparse tensor: its layout's `to` (ops/_api.py)
            return layout_kernel("to", e, (self, d), {})
    return m


def type_as(self, other):
    return _to_dtype(self, other._dtype)


# ---- writing into existing tensors ---------------------------------------------------------------------------

def copy_(self, src, non_blocking=False):
    if isinstance(src, (int, float, bool)):
        return fill_(self, src)   # PyTorch's copy_ takes a number as a 0-d tensor
    if not isinstance(src, Tensor):
        raise TypeError(f"copy_(): argument 'src' must be Tensor, not {type(src).__name__}")
    _ip.check_writable(self, src)  # PyTorch's internal- and partial-overlap errors
    shape = broadcast_pair(self._shape, src._shape)
    if shape != self._shape:
        raise RuntimeError(f"output with shape {list(self._shape)} doesn't match the broadcast shape {list(shape)}")
    if src._storage.device != self._storage.device:
        src = _to_device(src, self._storage.device)
    if GRAD_ENABLED[0] and (self._requires_grad or src._requires_grad):
        _ip.check_leaf(self)
        r = src.to(self._dtype) if src._dtype is not self._dtype else src
        if r is src:
            r = src.expand(self._shape) + 0 if src._shape != self._shape else src.clone()
        return _ip.commit(self, r)
    if src._storage is self._storage and (src._offset != self._offset or src._stride != self._stride):
        src = src.clone()  # overlaps PyTorch does not detect (it calls them "too hard") still copy correctly
    self._storage.backend.copy(self, src, expand_strides(src._shape, src._stride, shape))
    self._storage.version += 1
    return self


def fill_(self, value):
    if isinstance(value, Tensor):
        if value.dim() != 0:
            raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor with {value.dim()} "
                               "dimensions.")
        if GRAD_ENABLED[0] and value._requires_grad:
            return copy_(self, value.expand(self._shape))
        # a tensor value is cast as copy_ casts it (int64 -> uint8 wraps), not checked like a Python number
        value = item(_to_dtype(value.detach(), self._dtype)) if value._dtype is not self._dtype else item(value)
    else:
        value = checked_scalar(value, self._dtype)
    if GRAD_ENABLED[0] and self._requires_grad:
        _ip.check_leaf(self)
        return _ip.commit(self, full(self._shape, value, dtype=self._dtype, device=self._storage.device))
    self._storage.backend.fill(self, value)
    self._storage.version += 1
    return self


def zero_(self):
    return fill_(self, 0)


def fill(input, value):
    """torch.fill: a copy of input (its dtype, shape and layout) holding value, differentiable in a tensor value."""
    return fill_(input.clone(), value)


# ---- reading values ------------------------------------------------------------------------------------------

def item(self):
    if self.numel() != 1:
        raise RuntimeError(f"a Tensor with {self.numel()} elements cannot be converted to Scalar")
    d = self._dtype
    raw = self._storage.backend.read_bytes(self._storage, self._offset * d.itemsize, d.itemsize)
    if d is D.bfloat16:
        return struct.unpack("<f", b"\x00\x00" + raw)[0]
    if d.is_complex:
        return complex(*struct.unpack("<2" + d.to_real().fmt, raw))
    v = struct.unpack("<" + d.fmt, raw)[0]
    return v


def tolist(self):
    d = self._dtype
    t = self if d is not D.bfloat16 else _to_dtype(self.detach(), D.float32)
    if not t._shape:
        return item(t)
    if t.numel() == 0:
        return _empty_nest(t._shape)
    raw = t._raw_bytes()
    if t._dtype is D.float16:
        flat = list(struct.unpack(f"<{len(raw) // 2}e", raw))
    elif t._dtype.is_complex:   # (real, imaginary) pairs
        parts = memoryview(raw).cast(t._dtype.to_real().fmt).tolist()
        flat = [complex(re, im) for re, im in zip(parts[0::2], parts[1::2])]
    else:
        flat = memoryview(raw).cast(t._dtype.fmt).tolist()
    for n in reversed(t._shape[1:]):
        flat = [flat[i:i + n] for i in range(0, len(flat), n)]
    return flat


def _empty_nest(shape):
    """Nested empty lists for a tensor with no elements (zeros(3, 0) -> [[], [], []]); like PyTorch, a MemoryError
    at once where the lists cannot exist (zeros(2**62, 0)), not after building them until memory runs out."""
    lists = 1
    for s in shape[:-1]:
        if s == 0:
            break
        lists *= s
        if lists * 64 > MAX_ALLOC_BYTES[0]:
            raise MemoryError()
    if not shape or shape[0] == 0:
        return []
    return [_empty_nest(shape[1:]) for _ in range(shape[0])]


def numpy(self, *, force=False):
    np = numpy_module("Tensor.numpy()")
    if self._requires_grad and not force:
        raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")
    if self._storage.device.type != "cpu":
        if not force:
            raise TypeError(f"can't convert {self._storage.device.type} device type tensor to numpy. Use Tensor.cpu() "
                            "to copy the tensor to host memory first.")
        return numpy(cpu(self), force=force)
    return numpy_view(self, np)  # shares memory with the tensor, as PyTorch's numpy() does


def _register_all():
    C = "convert"
    register("to", to, C, primitive="copy/read_bytes/from_bytes", dtype="target",
             derivative=backward(_to_dtype_back, _to_device_back), function=False, opinfo=())
    register("cpu", cpu, C, primitive="read_bytes/from_bytes", dtype="any", derivative=backward(_to_device_back),
             function=False, opinfo=())
    register("type_as", type_as, C, primitive="copy", dtype="target", derivative=backward(_to_dtype_back),
             function=False, opinfo=())
    # in place: under autograd the new value is computed with ops and committed (inplace.commit moves the history)
    for name, fn, primitive in [("copy_", copy_, "copy"), ("fill_", fill_, "fill"), ("zero_", zero_, "fill")]:
        register(name, fn, C, primitive=primitive, dtype="any", derivative=COMPOSITE, function=False, opinfo=())
    register("fill", fill, C, dtype="any", derivative=COMPOSITE, method=False, opinfo=())
    for name, fn, primitive in [("item", item, "read_bytes"), ("tolist", tolist, "read_bytes"), ("numpy", numpy, None)]:
        register(name, fn, C, primitive=primitive, dtype="python", derivative=NOT_DIFFERENTIABLE, function=False,
                 opinfo=())
    for name, d in [("float", D.float32), ("double", D.float64), ("half", D.float16), ("bfloat16", D.bfloat16),
                    ("long", D.int64), ("int", D.int32), ("short", D.int16), ("char", D.int8), ("byte", D.uint8),
                    ("bool", D.bool_), ("cfloat", D.complex64), ("cdouble", D.complex128)]:
        setattr(Tensor, name, _type_method(d))
    Tensor._to_dtype = _to_dtype
    Tensor._to_device = _to_device


_register_all()
