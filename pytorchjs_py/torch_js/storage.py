"""torch_js.storage (torch.storage): UntypedStorage, TypedStorage and the legacy torch.FloatStorage & co.

A tensor's memory is an internal Storage (_storage.py: a device buffer and its version counter). The classes here
are PyTorch's views of it: Tensor.untyped_storage() is an UntypedStorage over the tensor's buffer (bytes),
Tensor.storage() a TypedStorage over the same buffer read as the tensor's dtype (with PyTorch's deprecation
warning), and both read and write that very memory, so a write through the storage shows in every tensor viewing
it. Reads and writes go through tensor views over the buffer, so they work on every device (the meta device has no
values, as in PyTorch).
"""
import warnings
import weakref

from . import _dtype as D
from ._storage import META, Storage, device as _device
from ._tensor import Tensor, _make
from .ops._registry import torch_ops

__all__ = ["TypedStorage", "UntypedStorage"]

_typed_storage_warned = [False]


def _warn_typed_storage_removal(stacklevel=3):
    if not _typed_storage_warned[0]:
        _typed_storage_warned[0] = True
        warnings.warn("TypedStorage is deprecated. It will be removed in the future and UntypedStorage will be the "
                      "only storage class. This should only matter to you if you are using storages directly.  To "
                      "access UntypedStorage directly, use tensor.untyped_storage() instead of tensor.storage()",
                      UserWarning, stacklevel=stacklevel)


def _new_storage(nbytes, dev, data=None):
    """A fresh internal Storage of nbytes on dev (zero-filled), or holding `data` (bytes)."""
    dev = _device("cpu") if dev is None else _device(dev)
    if nbytes < 0:
        raise RuntimeError(f"alloc_cpu() seems to have been called with negative number: {nbytes}")
    if data is not None:
        return dev.backend.from_bytes(bytes(data))
    return torch_ops.zeros(nbytes, dtype=D.uint8, device=dev)._storage


def _elements(storage, dtype):
    """A 1-D tensor of `dtype` over all of `storage`'s bytes (whole elements)."""
    return _make(storage, (storage.nbytes // dtype.itemsize,), (1,), 0, dtype)


class _StorageBase:
    """torch.types.Storage: what the storage classes share."""
    is_sparse = False
    is_sparse_csr = False

    @property
    def device(self):
        return self._storage.device

    @property
    def is_cuda(self):
        return self._storage.device.type == "cuda"

    @property
    def is_meta(self):
        return self._storage.device is META

    def data_ptr(self):
        return 0 if self._storage.device is META else (self._storage.ptr or 0)

    def nbytes(self):
        return self._storage.nbytes

    def is_shared(self):
        return False

    def is_pinned(self, device="cuda"):
        return False

    def share_memory_(self):
        return self

    def _check_index(self, idx, n):
        if not isinstance(idx, int) or isinstance(idx, bool):
            raise RuntimeError(f"can't index a {type(self).__name__} with {type(idx).__name__}")
        if not -n <= idx < n:
            raise IndexError(f"index {idx} out of range for storage of size {n}")
        return idx % n if n else idx

    def _check_values(self):
        if self._storage.device is META:
            raise NotImplementedError("Not available for 'meta' device type")

    def __eq__(self, other):
        return isinstance(other, _StorageBase) and type(other) is type(self) and other._storage is self._storage \
            and getattr(other, "dtype", None) == getattr(self, "dtype", None)

    def __hash__(self):
        return hash(id(self._storage))

    def __iter__(self):
        return iter(self.tolist())

    def __str__(self):
        info = f"[{self._type_name()}({self._info()}) of size {len(self)}]"
        if self._storage.device is META:
            return "...\n" + info
        return " " + "\n ".join(str(v) for v in self.tolist()) + "\n" + info

    __repr__ = __str__


class UntypedStorage(_StorageBase):
    """torch.UntypedStorage: a tensor's memory as bytes."""

    def __init__(self, *args, device=None):
        if len(args) == 1 and isinstance(args[0], Storage):
            self._storage = args[0]     # the internal storage of a tensor (Tensor.untyped_storage())
        elif not args:
            self._storage = _new_storage(0, device)
        elif len(args) == 1 and isinstance(args[0], int) and not isinstance(args[0], bool):
            self._storage = _new_storage(args[0], device)
        elif len(args) == 1 and isinstance(args[0], (list, tuple, bytes, bytearray)):
            self._storage = _new_storage(len(args[0]), device, bytes(int(v) & 0xFF for v in args[0]))
        else:
            raise TypeError(f"UntypedStorage(): invalid arguments {tuple(type(a).__name__ for a in args)}: expected "
                            "(), (int size) or (Sequence data)")

    @classmethod
    def _wrap(cls, storage):
        """The UntypedStorage of an internal Storage: one object while it is in use, so `is` holds between the
        storages of two views of one buffer, as the tests of shared memory expect."""
        found = _WRAPPERS.get(id(storage))
        if found is not None and found._storage is storage:
            return found
        made = cls(storage)
        _WRAPPERS[id(storage)] = made
        return made

    def _type_name(self):
        return "torch.storage.UntypedStorage"

    def _info(self):
        return f"device={self.device}"

    def size(self):
        return self._storage.nbytes

    def __len__(self):
        return self._storage.nbytes

    def element_size(self):
        return 1

    def type(self, dtype=None, non_blocking=False):
        return "torch.storage.UntypedStorage" if dtype is None else TypedStorage(
            wrap_storage=self, dtype=dtype).type(dtype)

    def untyped(self):
        return self

    def _bytes(self):
        return _elements(self._storage, D.uint8)

    def tolist(self):
        self._check_values()
        return self._bytes().tolist()

    def __getitem__(self, idx):
        self._check_values()
        if isinstance(idx, slice):
            start, stop, step = idx.indices(len(self))
            if step != 1:
                raise RuntimeError(f"Trying to slice with a step of {step}, but only a step of 1 is supported")
            return UntypedStorage(bytes(self.tolist()[start:stop]), device=self.device)
        return int(self._bytes()[self._check_index(idx, len(self))].item())

    def __setitem__(self, idx, value):
        self._check_values()
        self._bytes()[self._check_index(idx, len(self))] = int(value) & 0xFF

    def fill_(self, value):
        self._check_values()
        self._bytes().fill_(int(value) & 0xFF)
        return self

    def copy_(self, source, non_blocking=None):
        if source.nbytes() != self.nbytes():
            raise RuntimeError(f"size does not match, self was {self.nbytes()} bytes but src was {source.nbytes()} "
                               "bytes")
        self._bytes().copy_(_elements(source._storage, D.uint8))
        return self

    def clone(self):
        return UntypedStorage(self.tolist(), device=self.device) if self.device is not META else UntypedStorage(
            len(self), device=META)

    def cpu(self):
        if self.device.type == "cpu":
            return self
        return UntypedStorage(self.tolist())

    def resize_(self, size):
        """Resize in place (the data kept up to the new size): every tensor over this storage sees the new memory,
        as in PyTorch."""
        old = self._storage
        new = _new_storage(size, old.device)
        keep = min(size, old.nbytes)
        if keep and old.device is not META:
            _make(new, (keep,), (1,), 0, D.uint8).copy_(_make(old, (keep,), (1,), 0, D.uint8))
        old.nbytes, old.buf, old.ptr, old.owner = new.nbytes, new.buf, new.ptr, new
        return self

    @classmethod
    def from_buffer(cls, buffer, byte_order="native", count=-1, offset=0, dtype=None):
        data = bytes(memoryview(buffer))[offset:]
        if count >= 0:
            data = data[:count * (dtype.itemsize if dtype is not None else 1)]
        return cls(list(data))

    def __reduce__(self):
        return (UntypedStorage, (self.cpu().tolist(),))


_WRAPPERS = weakref.WeakValueDictionary()   # id(internal Storage) -> its UntypedStorage


class TypedStorage(_StorageBase):
    """torch.TypedStorage: a tensor's memory read as elements of one dtype (deprecated in PyTorch, still used by
    old code: tensor.storage(), torch.FloatStorage(...))."""
    is_sparse = False

    def __init__(self, *args, device=None, dtype=None, wrap_storage=None, _internal=False):
        if not _internal:
            _warn_typed_storage_removal()
        cls_dtype = getattr(type(self), "_legacy_dtype", None)
        if wrap_storage is not None:
            if args:
                raise RuntimeError("TypedStorage(): No positional arguments should be given when using "
                                   "'wrap_storage'")
            if not isinstance(wrap_storage, UntypedStorage):
                raise TypeError(f"TypedStorage(): Argument 'wrap_storage' must be UntypedStorage, but got "
                                f"{type(wrap_storage)}")
            self.dtype = dtype or cls_dtype or D.get_default_dtype()
            self._untyped_storage = wrap_storage
            return
        self.dtype = cls_dtype or dtype or D.get_default_dtype()
        if not args:
            self._untyped_storage = UntypedStorage(device=device)
        elif len(args) == 1 and isinstance(args[0], int) and not isinstance(args[0], bool):
            self._untyped_storage = UntypedStorage(args[0] * self.dtype.itemsize, device=device)
        elif len(args) == 1 and isinstance(args[0], (list, tuple)):
            values = torch_ops.tensor(list(args[0]), dtype=self.dtype, device=device)
            self._untyped_storage = UntypedStorage._wrap(values._storage)
        else:
            name = type(self).__name__
            raise TypeError(f"{name}(): received an invalid combination of arguments. Expected one of:\n"
                            " * no arguments\n * (int size)\n * (Sequence data)\n * (*, UntypedStorage wrap_storage)")

    @property
    def _storage(self):
        return self._untyped_storage._storage

    def _type_name(self):
        return f"torch.{type(self).__name__}" if type(self) is not TypedStorage else "torch.storage.TypedStorage"

    def _info(self):
        return f"dtype={self.dtype}, device={self.device}"

    def size(self):
        return self._storage.nbytes // self.dtype.itemsize

    def __len__(self):
        return self.size()

    def element_size(self):
        return self.dtype.itemsize

    def untyped(self):
        return self._untyped_storage

    def pickle_storage_type(self):
        return _LEGACY_NAMES[self.dtype]

    def type(self, dtype=None, non_blocking=False):
        if dtype is None:
            return f"torch.{_LEGACY_NAMES[self.dtype]}"
        return self._to(dtype if isinstance(dtype, D.dtype) else _LEGACY_DTYPES[str(dtype).rpartition(".")[2]])

    def _values(self):
        return _elements(self._storage, self.dtype)

    def tolist(self):
        self._check_values()
        return self._values().tolist()

    def __getitem__(self, idx):
        self._check_values()
        if isinstance(idx, slice):
            raise RuntimeError("slices are only supported in UntypedStorage.__getitem__")
        return self._values()[self._check_index(idx, self.size())].item()

    def __setitem__(self, idx, value):
        self._check_values()
        self._values()[self._check_index(idx, self.size())] = value

    def fill_(self, value):
        self._check_values()
        self._values().fill_(value)
        return self

    def copy_(self, source, non_blocking=None):
        self._untyped_storage.copy_(source.untyped() if isinstance(source, TypedStorage) else source)
        return self

    def clone(self):
        return TypedStorage(wrap_storage=self._untyped_storage.clone(), dtype=self.dtype, _internal=True)

    def cpu(self):
        if self.device.type == "cpu":
            return self
        return TypedStorage(wrap_storage=self._untyped_storage.cpu(), dtype=self.dtype, _internal=True)

    def resize_(self, size):
        self._untyped_storage.resize_(size * self.dtype.itemsize)
        return self

    def _to(self, dtype):
        if dtype == self.dtype:
            return self
        values = self._values().to(dtype)
        return TypedStorage(wrap_storage=UntypedStorage._wrap(values._storage), dtype=dtype, _internal=True)

    def double(self):
        return self._to(D.float64)

    def float(self):
        return self._to(D.float32)

    def half(self):
        return self._to(D.float16)

    def bfloat16(self):
        return self._to(D.bfloat16)

    def long(self):
        return self._to(D.int64)

    def int(self):
        return self._to(D.int32)

    def short(self):
        return self._to(D.int16)

    def char(self):
        return self._to(D.int8)

    def byte(self):
        return self._to(D.uint8)

    def bool(self):
        return self._to(D.bool_)

    def cfloat(self):
        return self._to(D.complex64)

    def cdouble(self):
        return self._to(D.complex128)

    @classmethod
    def from_buffer(cls, buffer, byte_order="native", count=-1, offset=0, dtype=None):
        dtype = getattr(cls, "_legacy_dtype", None) or dtype or D.get_default_dtype()
        data = bytes(memoryview(buffer))[offset:]
        if count >= 0:
            data = data[:count * dtype.itemsize]
        if byte_order == "big":
            n = dtype.itemsize
            data = b"".join(data[i:i + n][::-1] for i in range(0, len(data) - n + 1, n))
        untyped = UntypedStorage(list(data))
        return TypedStorage(wrap_storage=untyped, dtype=dtype, _internal=True)

    def __reduce__(self):
        return (_rebuild_typed, (self.cpu().tolist(), str(self.dtype).rpartition(".")[2]))


def _rebuild_typed(values, dtype_name):
    return TypedStorage(values, dtype=getattr(D, dtype_name), _internal=True)


# torch.FloatStorage & co.: TypedStorage with a fixed dtype; isinstance(t.storage(), torch.FloatStorage) holds for a
# float32 tensor's storage, as in PyTorch
_LEGACY_DTYPES = {"DoubleStorage": D.float64, "FloatStorage": D.float32, "HalfStorage": D.float16,
                  "BFloat16Storage": D.bfloat16, "LongStorage": D.int64, "IntStorage": D.int32,
                  "ShortStorage": D.int16, "CharStorage": D.int8, "ByteStorage": D.uint8, "BoolStorage": D.bool_,
                  "ComplexFloatStorage": D.complex64, "ComplexDoubleStorage": D.complex128}
_LEGACY_NAMES = {dt: name for name, dt in _LEGACY_DTYPES.items()}


class _LegacyStorageMeta(type):
    def __instancecheck__(cls, instance):
        if type(instance) is TypedStorage:
            return instance.dtype == cls._legacy_dtype
        return type.__instancecheck__(cls, instance)


class _LegacyStorage(TypedStorage, metaclass=_LegacyStorageMeta):
    """torch.FloatStorage(...) & co. make a TypedStorage of their dtype (the class is only its dtype's name)."""
    _legacy_dtype = None

    def __new__(cls, *args, device=None, wrap_storage=None):
        _warn_typed_storage_removal()
        if wrap_storage is not None:
            return TypedStorage(wrap_storage=wrap_storage, dtype=cls._legacy_dtype, _internal=True)
        try:
            return TypedStorage(*args, dtype=cls._legacy_dtype, device=device, _internal=True)
        except TypeError:
            raise TypeError(f"{cls!r}.__new__ received an invalid combination of arguments. Expected one of:\n"
                            " * no arguments\n * (int size)\n * (Sequence data)\n * (*, UntypedStorage "
                            "wrap_storage)") from None


def _legacy_class(name, dtype):
    # the class's dtype is the storage dtype (torch.FloatStorage.dtype is torch.float32), as each instance's is
    return _LegacyStorageMeta(name, (_LegacyStorage,), {"_legacy_dtype": dtype, "dtype": dtype,
                                                        "__module__": "torch_js"})


LEGACY_STORAGE_CLASSES = {name: _legacy_class(name, dtype) for name, dtype in _LEGACY_DTYPES.items()}


# ---- Tensor.untyped_storage() / Tensor.storage() -------------------------------------------------------------------
_tensor_memory = Tensor.untyped_storage   # the internal Storage (after the tensor's own layout checks)


def _untyped_storage(self):
    return UntypedStorage._wrap(_tensor_memory(self))


def _typed_storage(self):
    _warn_typed_storage_removal(stacklevel=2)
    return TypedStorage(wrap_storage=_untyped_storage(self), dtype=self._dtype, _internal=True)


_untyped_storage.__name__ = "untyped_storage"
_typed_storage.__name__ = "storage"
Tensor.untyped_storage = _untyped_storage
Tensor.storage = _typed_storage
