"""Tensor: a strided view over a Storage, plus its autograd fields.

Operations live in ops/ and are attached to Tensor as methods by the op registry; this file holds the view
model, the autograd-facing attributes and the Python protocol methods. It is core: it imports only _dtype,
_storage and _grad_mode, and what it needs from the layers above is late-bound (see "late-bound hooks" below).
"""
import copy
import sys
import weakref

from . import _dtype as D
from ._grad_mode import GRAD_ENABLED, INFERENCE_MODE, no_grad
from ._storage import (CPU, INT64_MAX, MAX_ALLOC_BYTES, META, META_NO_DATA, alloc_error, check_alloc,
                       device as _device)

_new = object.__new__
_I64_MIN = -INT64_MAX - 1


def contiguous_strides(shape):
    strides = []
    acc = 1
    for s in reversed(shape):
        strides.append(acc)
        acc *= s if s > 1 else 1
    return tuple(reversed(strides))


# shape -> contiguous strides. Holds only shapes that a tensor of any dtype may have (_cacheable), so that _empty
# validates a shape once and its hot path (a cached shape) checks nothing.
_STRIDES_CACHE = {}


def _shape_problem(shape):
    """Why a new contiguous tensor cannot have this shape (PyTorch's message), or None."""
    for s in shape:
        if s < 0:
            return f"Trying to create tensor with negative dimension {s}: {list(shape)}"
    n = 1
    for s in shape:
        n *= s
        if n > INT64_MAX:
            return f"Storage size calculation overflowed with sizes={list(shape)}"
    acc = 1
    for s in reversed(shape[1:]):
        acc *= s if s > 1 else 1
        if acc > INT64_MAX:
            return "Stride calculation overflowed"
    return None


def _cacheable(shape):
    """Valid sizes whose elements fit the allocation limit at the widest itemsize (8)."""
    return _shape_problem(shape) is None and numel_of(shape) * 8 <= MAX_ALLOC_BYTES[0]


def _contig(shape):
    st = _STRIDES_CACHE.get(shape)
    if st is None:
        st = contiguous_strides(shape)
        if len(_STRIDES_CACHE) < 4096 and _cacheable(shape):
            _STRIDES_CACHE[shape] = st
    return st


def set_alloc_limit(nbytes):
    """Set the most bytes one allocation may ask for (default: the machine's memory, 4 GiB in wasm32)."""
    MAX_ALLOC_BYTES[0] = nbytes
    _STRIDES_CACHE.clear()  # its shapes were admitted under the old limit


def numel_of(shape):
    n = 1
    for s in shape:
        n *= s
    return n


# ---- validating geometry: what every tensor and view made from user-given sizes goes through ------------------
# Kernels trust a tensor's (shape, stride, offset) to stay inside its storage; these checks keep that true.
# Python ints do not overflow, so each bound is compared with int64's range (PyTorch's limits) explicitly.

def checked_numel(shape):
    """The number of elements, with PyTorch's error when a size is negative or the product leaves int64."""
    n = 1
    for s in shape:
        n *= s
        if s < 0 or n > INT64_MAX:
            raise RuntimeError("numel: integer multiplication overflow")
    return n


def storage_nbytes(shape, stride, itemsize, offset=0):
    """PyTorch's computeStorageNbytes: the bytes a view reaches from the storage's start (0 with no elements);
    a negative size or stride, or a result past int64, raises PyTorch's overflow error."""
    bad = False
    for n in shape:
        if n < 0:
            bad = True
    if not bad and 0 in shape:
        return 0
    size = offset + 1
    for n, st in zip(shape, stride):
        if st < 0 and n > 1:   # PyTorch multiplies in uint64: a negative stride overflows unless the size is 1
            bad = True
        size += (n - 1) * st
    size *= itemsize
    if bad or size > INT64_MAX:
        raise RuntimeError(f"Storage size calculation overflowed with sizes={list(shape)} and strides={list(stride)}")
    return size


def int_tuple(values, op_name, arg, pos):
    """A size/stride argument as a tuple of Python ints in int64's range, with PyTorch's argument errors."""
    if not isinstance(values, (tuple, list)):
        raise TypeError(f"{op_name}(): argument '{arg}' (position {pos}) must be tuple of ints, not "
                        f"{type(values).__name__}")
    if values.__class__ is tuple and all(v.__class__ is int and _I64_MIN <= v <= INT64_MAX for v in values):
        return values  # the common case: already a tuple of int64-range ints
    out = []
    for i, v in enumerate(values):
        if v.__class__ is not int:
            try:
                if isinstance(v, (bool, float)):
                    raise TypeError
                v = v.__index__()
            except (TypeError, AttributeError, ValueError, RuntimeError):
                raise TypeError(f"{op_name}(): argument '{arg}' (position {pos}) must be tuple of ints, but found "
                                f"element of type {type(v).__name__} at pos {i}") from None
        if not _I64_MIN <= v <= INT64_MAX:
            raise TypeError(f"{op_name}(): argument '{arg}' failed to unpack the object at pos {i + 1} with error "
                            "\"Overflow when unpacking long long\"")
        out.append(v)
    return tuple(out)


def check_view(storage, shape, stride, offset, dtype, op_name):
    """The one check of a view made from user-given geometry (as_strided, resize_, empty_strided, the loaders):
    sizes, strides and offset are ints in int64's range, strides and offset are non-negative, and the furthest
    element the view reaches lies inside `storage`'s bytes (PyTorch's setStorage checks and messages).
    Returns (shape, stride, offset) as Python ints; only then may the view be made and reach a kernel."""
    shape = int_tuple(shape, op_name, "size", 1)
    stride = int_tuple(stride, op_name, "stride", 2)
    if offset.__class__ is not int:
        if isinstance(offset, (bool, float)) or not hasattr(offset, "__index__"):
            raise TypeError(f"{op_name}(): argument 'storage_offset' (position 3) must be int, not "
                            f"{type(offset).__name__}")
        offset = offset.__index__()
    if not _I64_MIN <= offset <= INT64_MAX:
        raise ValueError("Overflow when unpacking long long")
    if len(shape) != len(stride):
        raise RuntimeError("mismatch in length of strides and shape")
    for st in stride:
        if st < 0:
            raise RuntimeError(f"{op_name}: Negative strides are not supported at the moment, got strides: "
                               f"{list(stride)}")
    if offset < 0:
        raise RuntimeError(f"Tensor: invalid storage offset {offset}")
    need = storage_nbytes(shape, stride, dtype.itemsize, offset)
    if need > storage.nbytes:
        raise RuntimeError(f"setStorage: sizes {list(shape)}, strides {list(stride)}, storage offset {offset}, and "
                           f"itemsize {dtype.itemsize} requiring a storage size of {need} are out of bounds for "
                           f"storage of size {storage.nbytes}")
    checked_numel(shape)
    return shape, stride, offset


def _size_error(shape, nbytes):
    """The error for a contiguous allocation past the runtime's limit: overflow past int64, else out of memory."""
    problem = _shape_problem(shape)
    if problem is None and nbytes > INT64_MAX:
        problem = f"Storage size calculation overflowed with sizes={list(shape)}"
    return RuntimeError(problem) if problem is not None else alloc_error(nbytes)


def _make(storage, shape, stride, offset, dtype):
    # Only the view fields are per-instance slots; the autograd fields default to Tensor's class attributes
    # and land in the instance __dict__ once set, so creating a tensor costs five stores.
    t = _new(Tensor)
    t._storage = storage
    t._shape = shape
    t._stride = stride
    t._offset = offset
    t._dtype = dtype
    return t


def _empty(shape, dtype, dev=CPU):
    """A new contiguous tensor (uninitialised). Every allocation funnels through here or _empty_strided: a
    negative size, an int64 overflow or a request past the runtime's memory raises PyTorch's error first (the
    meta device allocates nothing: only int64's bound applies there)."""
    st = _STRIDES_CACHE.get(shape)
    if st is None:  # not a cached shape (those any dtype may allocate): validate it
        problem = _shape_problem(shape)
        if problem is not None:
            raise RuntimeError(problem)
        nbytes = numel_of(shape) * dtype.itemsize
        if nbytes > MAX_ALLOC_BYTES[0] and (dev is not META or nbytes > INT64_MAX):
            raise _size_error(shape, nbytes)
        st = _contig(shape)
    n = 1
    for s in shape:
        n *= s
    if dev is CPU:
        backend = _CPU_BACKEND[0]
    else:
        backend = dev.backend
        check_dtype = getattr(backend, "check_dtype", None)
        if check_dtype is not None:
            check_dtype(dtype)
    t = _new(Tensor)
    t._storage = backend.alloc(n * dtype.itemsize)
    t._shape = shape
    t._stride = st
    t._offset = 0
    t._dtype = dtype
    return t


def _empty_strided(shape, stride, dtype, dev=CPU, like=None):
    """A new tensor; with `stride`, laid out with those strides (checked as PyTorch's empty_strided checks)."""
    if stride is None or not shape:
        return _empty(shape, dtype, dev)
    if len(shape) != len(stride):
        raise RuntimeError(f"dimensionality of sizes ({len(shape)}) must match dimensionality of strides "
                           f"({len(stride)})")
    for s in shape:
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: {list(shape)}")
    nbytes = storage_nbytes(shape, stride, dtype.itemsize)
    checked_numel(shape)
    if dev is not META:
        check_alloc(nbytes)
    return _make(dev.backend.alloc(nbytes), shape, stride, 0, dtype)


# ---- late-bound hooks: what core calls but a layer above it defines -------------------------------------------
# The defining layer fills each slot when it is imported; torch_js/__init__ imports every layer before user code.
_CPU_BACKEND = [None]         # the CPU backend object (backends.cpu), set by torch_js/__init__ via set_cpu_backend
_LEGACY_CONSTRUCTOR = [None]  # torch.Tensor(*args), the legacy float32 constructor: ops/creation sets it


def set_cpu_backend(backend):
    _CPU_BACKEND[0] = backend


def set_legacy_constructor(fn):
    _LEGACY_CONSTRUCTOR[0] = fn


# ---- layouts: strided tensors are views over a Storage; the sparse layouts hold index and value tensors -------------
class layout:
    """torch.layout: how a tensor holds its elements (torch.strided, torch.sparse_coo, torch.sparse_csr, ...)."""
    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return "torch." + self.name

    def __reduce__(self):
        return self.name   # pickled as the module global of that name, as torch pickles torch.sparse_coo


strided = layout("strided")
sparse_coo = layout("sparse_coo")
sparse_csr = layout("sparse_csr")
sparse_csc = layout("sparse_csc")
sparse_bsr = layout("sparse_bsr")
sparse_bsc = layout("sparse_bsc")
_mkldnn = layout("_mkldnn")
jagged = layout("jagged")


class NotStridedError(NotImplementedError):
    """A strided (dense) kernel reached a tensor of another layout. Its storage raises this when a kernel asks for its
    memory, and its strides when a view is computed; the op wrappers (ops/_api.py) catch it and run the op's kernel
    for that layout, or raise PyTorch's error naming the op and the layout's backend."""

    def __init__(self, layout_):
        NotImplementedError.__init__(self, f"torch_js: this operation has no kernel for {layout_!r} tensors")
        self.layout = layout_


class _NoStrides:
    """The strides of a tensor that has none (a sparse tensor): any use by a strided view or kernel raises."""
    __slots__ = ("layout",)

    def __init__(self, layout_):
        self.layout = layout_

    def _refuse(self, *args):
        raise NotStridedError(self.layout)

    __getitem__ = __iter__ = __len__ = __reversed__ = __contains__ = __add__ = __radd__ = _refuse


def make_non_strided(parts, shape, dtype, storage):
    """A tensor of a sparse layout: `parts` holds its index and value tensors and its layout (sparse/), `storage` is
    a storage whose memory no strided kernel may reach (its version counter is the tensor's)."""
    t = _make(storage, shape, _NoStrides(parts.layout), 0, dtype)
    t._sparse = parts
    return t


class _RemovableHandle:
    """Handle returned by a tensor's or a graph node's hook registration; remove() takes the hook off its list.
    (In core because Tensor.register_hook returns one; _graph's nodes use it too.)"""
    __slots__ = ("_list", "_fn")

    def __init__(self, lst, fn):
        self._list, self._fn = lst, fn

    def remove(self):
        if self._fn in self._list:
            self._list.remove(self._fn)


class _TensorMeta(type):
    """Tensor's metaclass (PyTorch's Tensor has one too): where `import torch` is torch_js (python -m torch_js),
    print(type(t)) reads <class 'torch.Tensor'> as PyTorch's does, not the module torch_js keeps it in."""

    def __repr__(cls):
        if sys.modules.get("torch") is None or sys.modules.get("torch") is not sys.modules.get("torch_js"):
            return type.__repr__(cls)
        module = cls.__module__
        if cls.__qualname__ == "Tensor" and module == __name__:
            module = "torch"
        elif module == "torch_js" or module.startswith("torch_js."):
            module = "torch" + module[len("torch_js"):]
        return f"<class '{module}.{cls.__qualname__}'>"


class Tensor(metaclass=_TensorMeta):
    """The op methods are attached by the op registry (ops/_registry.register); the upper layers attach the rest
    of the protocol at their import: __repr__ (_printing), backward (autograd.engine), __reduce_ex__
    (serialization)."""
    __slots__ = ("_storage", "_shape", "_stride", "_offset", "_dtype", "__weakref__", "__dict__")
    _requires_grad = False
    _grad = None
    _grad_fn = None
    _output_nr = 0
    _base = None
    _grad_acc = None
    _hooks = None
    _post_acc_hooks = None
    _retains_grad = False
    _sparse = None   # a sparse tensor's parts (indices, values, ...: see make_non_strided); None when strided

    # torch.Tensor(...) is the legacy float32 constructor
    def __new__(cls, *args, **kwargs):
        t = _LEGACY_CONSTRUCTOR[0](*args, **kwargs)
        if cls is not Tensor:
            t = t._as_subclass(cls)
        return t

    def __init__(self, *args, **kwargs):
        pass

    def _as_subclass(self, cls):
        t = _new(cls)
        for name in Tensor.__slots__[:-2]:
            setattr(t, name, getattr(self, name))
        t.__dict__.update(self.__dict__)
        return t

    # ---- metadata ------------------------------------------------------------------------------------------
    @property
    def shape(self):
        return Size(self._shape)

    def size(self, dim=None):
        if dim is None:
            return Size(self._shape)
        return self._shape[self._wrap_dim(dim)]

    def stride(self, dim=None):
        if self._sparse is not None:
            return self._sparse.stride(self, dim)
        if dim is None:
            return self._stride
        return self._stride[self._wrap_dim(dim)]

    def storage_offset(self):
        return self._offset

    @property
    def dtype(self):
        return self._dtype

    @property
    def device(self):
        return self._storage.device

    @property
    def is_cpu(self):
        return self._storage.device.type == "cpu"

    @property
    def is_webgpu(self):
        return self._storage.device.type == "webgpu"

    @property
    def is_meta(self):
        return self._storage.device is META

    is_cuda = False
    is_mps = False
    is_xpu = False
    is_quantized = False
    is_nested = False

    @property
    def layout(self):
        return strided if self._sparse is None else self._sparse.layout

    @property
    def is_sparse(self):
        return self._sparse is not None and self._sparse.layout is sparse_coo

    @property
    def is_sparse_csr(self):
        return self._sparse is not None and self._sparse.layout is sparse_csr

    def cuda(self, device=None, non_blocking=False, memory_format=None):
        """torch_js has no CUDA: PyTorch's CPU builds' AssertionError (after their check of the device argument)."""
        if device is not None and not isinstance(device, (int, str, _device)):
            raise TypeError(f"cuda(): argument 'device' (position 1) must be torch.device, not {type(device).__name__}")
        if isinstance(device, (str, _device)) and _device(device).type != "cuda":
            raise RuntimeError("Invalid device, must be cuda device")
        if isinstance(device, int):   # a bare index names a device of the accelerator, and there is none
            raise RuntimeError("Cannot access accelerator device when none is available.")
        raise AssertionError("Torch not compiled with CUDA enabled")

    @property
    def ndim(self):
        return len(self._shape)

    def dim(self):
        return len(self._shape)

    ndimension = dim

    def numel(self):
        n = 1
        for s in self._shape:
            n *= s
        return n

    nelement = numel

    def element_size(self):
        return self._dtype.itemsize

    @property
    def itemsize(self):
        return self._dtype.itemsize

    @property
    def nbytes(self):
        return self.numel() * self._dtype.itemsize

    def is_floating_point(self):
        return self._dtype.is_floating_point

    def is_complex(self):
        return self._dtype.is_complex

    def is_signed(self):
        return self._dtype.is_signed

    def data_ptr(self):
        if self._sparse is not None:
            raise RuntimeError("Cannot access data pointer of Tensor that doesn't have storage")
        if self._storage.device is META or not self._storage.ptr or self.numel() == 0:
            return 0  # PyTorch reports 0 for tensors with no elements, and for meta tensors (no memory)
        return self._storage.ptr + self._offset * self._dtype.itemsize

    def untyped_storage(self):
        if self._sparse is not None:
            raise NotImplementedError(f"Cannot access storage of {self._sparse.impl_name}")
        return self._storage

    def _wrap_dim(self, dim):
        n = len(self._shape)
        return wrap_dim(dim, n)

    def is_contiguous(self, memory_format=None):
        if self._sparse is not None:
            return self._sparse.is_contiguous()
        expected = 1
        for s, st in zip(reversed(self._shape), reversed(self._stride)):
            if s == 1:
                continue
            if s == 0:
                return True
            if st != expected:
                return False
            expected *= s
        return True

    def is_pinned(self):
        return False

    @property
    def _version(self):
        return self._storage.version

    def _bump_version(self):
        self._storage.version += 1

    # ---- autograd attributes -------------------------------------------------------------------------------
    @property
    def requires_grad(self):
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value):
        if not isinstance(value, bool):
            value = bool(value)
        if self._grad_fn is not None and not value:
            raise RuntimeError("you can only change requires_grad flags of leaf variables. If you want to use a "
                               "computed variable in a subgraph that doesn't require differentiation use "
                               "var_no_grad = var.detach().")
        if value and not (self._dtype.is_floating_point or self._dtype.is_complex):
            raise RuntimeError("only Tensors of floating point dtype can require gradients")
        if value and getattr(self._storage, "inference", False) and not INFERENCE_MODE[0]:
            raise RuntimeError("Setting requires_grad=True on inference tensor outside InferenceMode is not allowed.")
        self._requires_grad = value

    def requires_grad_(self, requires_grad=True):
        self.requires_grad = requires_grad
        return self

    # Tensor.grad: _tensor_methods installs it (its assignment checks do not fit here)

    @property
    def grad_fn(self):
        return self._grad_fn

    @property
    def is_leaf(self):
        return self._grad_fn is None

    @property
    def retains_grad(self):
        return self._retains_grad

    @property
    def output_nr(self):
        return self._output_nr

    @property
    def _base_tensor(self):
        return self._base

    def _is_view(self):
        return self._base is not None

    def retain_grad(self):
        if not self._requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self._grad_fn is None or self._retains_grad:
            return
        ref = weakref.ref(self)

        def _retain(g):
            t = ref()
            if t is not None:
                if t._grad is None:
                    t._grad = g.detach().clone()
                else:
                    t._grad = t._grad + g.detach()
            return None
        self._grad_fn._add_pre_hook(self._output_nr, _retain)
        self._retains_grad = True

    def register_hook(self, hook):
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self._grad_fn is not None:
            return self._grad_fn._add_pre_hook(self._output_nr, hook)
        if self._hooks is None:
            self._hooks = []
        self._hooks.append(hook)
        return _RemovableHandle(self._hooks, hook)

    def register_post_accumulate_grad_hook(self, hook):
        if self._grad_fn is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
        if self._post_acc_hooks is None:
            self._post_acc_hooks = []
        self._post_acc_hooks.append(hook)
        return _RemovableHandle(self._post_acc_hooks, hook)

    def detach(self):
        if self._sparse is not None:
            return make_non_strided(self._sparse.detached(), self._shape, self._dtype, self._storage)
        t = _make(self._storage, self._shape, self._stride, self._offset, self._dtype)
        t._base = self._base if self._base is not None else None
        return t

    def detach_(self):
        if self._base is not None and self._base._requires_grad and GRAD_ENABLED[0]:
            raise RuntimeError("Can't detach views in-place. Use detach() instead.")
        self._grad_fn = None
        self._requires_grad = False
        self._output_nr = 0
        return self

    def _alias_without_history(self):
        if self._sparse is not None:
            return make_non_strided(self._sparse, self._shape, self._dtype, self._storage)
        return _make(self._storage, self._shape, self._stride, self._offset, self._dtype)

    @property
    def data(self):
        # shares memory but not the version counter: writes through .data stay invisible to autograd's checks
        if self._sparse is not None:
            return make_non_strided(self._sparse.detached(), self._shape, self._dtype, self._storage.alias())
        return _make(self._storage.alias(), self._shape, self._stride, self._offset, self._dtype)

    @data.setter
    def data(self, value):
        if not isinstance(value, Tensor):
            raise TypeError("data must be a Tensor")
        self._storage, self._shape, self._stride = value._storage, value._shape, value._stride
        self._offset, self._dtype = value._offset, value._dtype
        if value._sparse is not None or self._sparse is not None:
            self._sparse = value._sparse

    # ---- Python protocol -----------------------------------------------------------------------------------
    def __len__(self):
        if not self._shape:
            raise TypeError("len() of a 0-d tensor")
        return self._shape[0]

    def __iter__(self):
        if not self._shape:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    def __bool__(self):
        if self.numel() != 1:
            raise RuntimeError(f"Boolean value of Tensor with more than one value is ambiguous")
        return bool(self.item())

    def __float__(self):
        return float(self._scalar_value("float"))

    def __int__(self):
        return int(self._scalar_value("int"))

    def __index__(self):
        if self._dtype.is_floating_point or self._dtype.is_complex or self.numel() != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __complex__(self):
        return complex(self.item())

    def _scalar_value(self, kind):
        if self.numel() != 1:
            raise ValueError(f"only one element tensors can be converted to Python scalars")
        v = self.item()
        if v.__class__ is complex:   # PyTorch's checked conversion: only a complex with no imaginary part
            if v.imag != 0:
                raise RuntimeError(f"value cannot be converted to type {'double' if kind == 'float' else 'int64_t'} "
                                   "without overflow")
            v = v.real
        return v

    def __hash__(self):
        return id(self)

    def __str__(self):
        return self.__repr__()

    def __format__(self, spec):
        if self.dim() == 0 and self._storage.device.type != "meta":
            return self.item().__format__(spec)   # even for an empty spec: f"{t}" shows the Python number
        return object.__format__(self, spec) if spec else self.__repr__()

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        if self._grad_fn is not None:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) support the deepcopy "
                               "protocol at the moment.  If you were attempting to deepcopy a module, this may be "
                               "because of a torch.nn.utils.weight_norm usage, see "
                               "https://github.com/pytorch/pytorch/pull/103001")
        with no_grad():
            new = self.clone()
        if type(self) is not Tensor:
            new = new._as_subclass(type(self))
            new.__dict__.update(copy.deepcopy(self.__dict__, memo))
        new._requires_grad = self._requires_grad
        if self._grad is not None:
            new._grad = self._grad.__deepcopy__(memo)
        memo[id(self)] = new
        return new

    def _raw_bytes(self):
        """The bytes of a contiguous tensor's elements (what .cpu(), .tolist() and the savers read)."""
        if self._storage.device is META:
            raise NotImplementedError(META_NO_DATA)
        if self._sparse is not None:
            raise NotStridedError(self._sparse.layout)   # (the op reading them names itself: ops/_api.py)
        t = self if self.is_contiguous() else self.contiguous()
        return t._storage.backend.read_bytes(t._storage, t._offset * t._dtype.itemsize, t.numel() * t._dtype.itemsize)

    def _type_string(self):
        names = {"float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor",
                 "bfloat16": "BFloat16Tensor", "int64": "LongTensor", "int32": "IntTensor", "int16": "ShortTensor",
                 "int8": "CharTensor", "uint8": "ByteTensor", "bool": "BoolTensor",
                 "complex64": "ComplexFloatTensor", "complex128": "ComplexDoubleTensor"}
        return ("torch.sparse." if self.is_sparse else "torch.") + names[self._dtype.name]

    def type(self, dtype=None, non_blocking=False):
        if dtype is None:
            return self._type_string()
        if isinstance(dtype, str):
            for d in D.ALL_DTYPES:
                if Tensor._type_string(_make(None, (), (), 0, d)) == dtype:
                    dtype = d
                    break
            else:
                raise ValueError(f"invalid type: '{dtype}'")
        return self.to(dtype)

    __array_priority__ = 1000

    def __array__(self, dtype=None, copy=None):
        arr = self.numpy()
        return arr.astype(dtype) if dtype is not None else arr

    def __dlpack__(self, *args, **kwargs):
        raise RuntimeError("torch_js does not support DLPack")

    def __torch_function__(self, *args, **kwargs):
        return NotImplemented


class Size(tuple):
    """torch.Size: a tuple of ints with a PyTorch-style repr."""

    def __repr__(self):
        return f"torch.Size([{', '.join(str(s) for s in self)}])"

    def numel(self):
        return numel_of(self)

    def __getitem__(self, item):
        r = tuple.__getitem__(self, item)
        return Size(r) if isinstance(item, slice) else r

    def __add__(self, other):
        return Size(tuple.__add__(self, tuple(other)))

    def __radd__(self, other):
        return Size(tuple(other) + tuple(self))

    def __reduce__(self):
        return (Size, (tuple(self),))


def wrap_dim(dim, ndim):
    if not isinstance(dim, int):
        try:
            dim = dim.__index__()
        except AttributeError:
            raise TypeError(f"dim must be an int, got {type(dim).__name__}") from None
    n = ndim if ndim > 0 else 1
    if dim < -n or dim >= n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})")
    return dim + n if dim < 0 else dim
