"""The restricted unpickler that reads a checkpoint's data.pkl (torch_js.load), and the rebuild functions it calls.

Nothing in the file runs. Only an allow-list of pickle opcodes is read (the data opcodes of protocols 2 to 4, as
PyTorch's weights_only unpickler; INST, OBJ, NEWOBJ_EX, EXT*, PERSID, the text opcodes and the buffer opcodes are
refused); GLOBAL resolves only the rebuild functions, storage types, dtypes and plain containers a checkpoint needs;
REDUCE and NEWOBJ call only those; BUILD only adds public attributes to a tensor or `_metadata` to an OrderedDict.

Tensors are built only by the rebuild functions here, from a storage record and a view (offset, size, stride) that
is checked against the storage's byte length, within int64, before the tensor exists; the dtype comes from the
storage type's allow-list. A file never sets a tensor's internals (`_storage`, `_offset`, `_shape`, `_stride`,
`_dtype`, the autograd fields): a restored attribute must be a name the class does not define, and it goes into
the instance dict, never through setattr.

Resources are bounded. Containers nest at most MAX_NESTING deep: every container's height is known when it is made
and a container may not change once it sits inside another (so no self-referencing structure can be built either);
a deeper one, like a deeper MARK stack, raises before anything recursive (hashing a key, repr, map_location's
walk) could exhaust the stack. The containers built are charged against a budget proportional to the pickle's
length (BUDGET_FACTOR bytes per byte plus BUDGET_SLACK), so a small pickle cannot allocate gigabytes.
"""
import pickle
import sys
from collections import OrderedDict

from .. import _dtype as D
from .._storage import META, device as _device
from .._tensor import (Size, Tensor, _CPU_BACKEND, _empty_strided, _make, check_view, checked_numel,
                       contiguous_strides, int_tuple, sparse_coo, sparse_csr, strided)
from ..nn.parameter import Parameter, _rebuild_parameter as _js_rebuild_parameter
from ..sparse._coo import linear_index, sparse_coo_tensor
from ..sparse._csr import sparse_csr_tensor
from ._safe_globals import user_allowed_globals

MAX_NESTING = 256
BUDGET_FACTOR = 64               # bytes of Python objects per byte of pickle (legit checkpoints use about 15-40) ...
BUDGET_SLACK = 64 << 20          # ... plus this

UnpicklingError = pickle.UnpicklingError

STORAGE_NAMES = {
    "FloatStorage": D.float32, "DoubleStorage": D.float64, "HalfStorage": D.float16, "BFloat16Storage": D.bfloat16,
    "LongStorage": D.int64, "IntStorage": D.int32, "ShortStorage": D.int16, "CharStorage": D.int8,
    "ByteStorage": D.uint8, "BoolStorage": D.bool_, "ComplexFloatStorage": D.complex64,
    "ComplexDoubleStorage": D.complex128,
}
DTYPE_NAMES = {d.name: d for d in D.ALL_DTYPES}
_DTYPE_ALIASES = {"float": D.float32, "double": D.float64, "half": D.float16, "long": D.int64, "int": D.int32,
                  "short": D.int16, "cfloat": D.complex64, "cdouble": D.complex128}
# torch dtypes (and their storages) that torch_js has no kernels for: refused with a message saying so
_TORCH_ONLY_DTYPES = ("complex32", "chalf", "complexhalf", "uint16", "uint32", "uint64", "float8", "qint",
                      "quint", "bits", "int1", "int2", "int3", "int4", "int5", "int6", "int7", "uint1", "uint2",
                      "uint3", "uint4", "uint5", "uint6", "uint7", "float4")


def _short(obj, n=100):
    """A name from the file (str), shortened; any other object by its type."""
    text = obj if isinstance(obj, str) else type(obj).__name__
    return text if len(text) <= n else text[:n] + "..."


def _what(obj):
    """A value from the file described for a message: a short repr of a scalar, else its type."""
    if isinstance(obj, (str, bytes, int, float, complex)) or obj is None:
        text = repr(obj)
        return f"{type(obj).__name__} {text if len(text) <= 60 else text[:60] + '...'}"
    return type(obj).__name__


# ---- validated tensor constructors -------------------------------------------------------------------------------

def _brief(obj, n=80):
    text = repr(obj) if isinstance(obj, (int, tuple, list)) else type(obj).__name__
    return text if len(text) <= n else text[:n] + "..."


def checked_view(storage, dtype, offset, size, stride, op):
    """Core's check_view (the one check of a view made from untrusted geometry: int64 ints, non-negative strides
    and offset, furthest element inside the storage's bytes, numel within int64), its PyTorch-worded error turned
    into an UnpicklingError that names the view. Returns (offset, size, stride) as tuples of Python ints."""
    try:
        size, stride, offset = check_view(storage, size, stride, offset, dtype, op)
    except (RuntimeError, TypeError, ValueError) as e:
        problem = "reaches past its storage" if "out of bounds" in str(e) else "is invalid"
        raise UnpicklingError(f"torch_js.load: {op}: tensor view (storage offset {_brief(offset)}, size "
                              f"{_brief(size)}, stride {_brief(stride)}) {problem}: {e}") from None
    return offset, size, stride


class StorageType:
    """What GLOBAL torch.<T>Storage resolves to: the dtype of the records it names."""
    __slots__ = ("dtype",)

    def __init__(self, dtype):
        self.dtype = dtype


class LoadedStorage:
    """A storage record read from the archive (what a persistent id resolves to)."""
    __slots__ = ("storage", "dtype", "numel")

    def __init__(self, storage, dtype, numel):
        self.storage = storage
        self.dtype = dtype
        self.numel = numel


def _flag(value, what, op):
    if type(value) is not bool:
        raise UnpicklingError(f"{op}: {what} must be a bool, not {_what(value)}")
    return value


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad=False, backward_hooks=None,
                       metadata=None):
    op = "torch_js.load: _rebuild_tensor_v2"
    if not isinstance(storage, LoadedStorage):
        raise UnpicklingError(f"{op} expects a storage record, not {_what(storage)}")
    requires_grad = _flag(requires_grad, "requires_grad", op)
    offset, size, stride = checked_view(storage.storage, storage.dtype, storage_offset, size, stride,
                                        "_rebuild_tensor_v2")
    t = _make(storage.storage, size, stride, offset, storage.dtype)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _rebuild_tensor(storage, storage_offset, size, stride):
    return _rebuild_tensor_v2(storage, storage_offset, size, stride)


def rebuild_from_bytes(raw, shape, dtype_name, requires_grad):
    """Target of Tensor.__reduce_ex__ (a plain pickle of a tensor): its bytes, shape, dtype name and flag."""
    op = "torch_js: rebuilding a pickled tensor"
    if type(raw) not in (bytes, bytearray):
        raise UnpicklingError(f"{op}: the data must be bytes, not {_what(raw)}")
    d = DTYPE_NAMES.get(dtype_name) if type(dtype_name) is str else None
    if d is None:
        raise UnpicklingError(f"{op}: unknown dtype {_short(dtype_name)!r}")
    requires_grad = _flag(requires_grad, "requires_grad", op)
    if type(shape) not in (tuple, list, Size) or any(type(v) is not int for v in shape):
        raise UnpicklingError(f"{op}: the size must be a tuple of ints, not {_brief(shape)}")
    st = _CPU_BACKEND[0].from_bytes(bytes(raw))
    _, shape, _ = checked_view(st, d, 0, shape, contiguous_strides(shape), "_rebuild_from_bytes")
    n = checked_numel(shape)
    if len(raw) != n * d.itemsize:
        raise UnpicklingError(f"{op}: {len(raw)} bytes do not hold a {d.name} tensor of size {shape} "
                              f"({n * d.itemsize} bytes)")
    t = _make(st, shape, contiguous_strides(shape), 0, d)
    if requires_grad:
        t.requires_grad_(True)
    return t


rebuild_from_bytes.__module__ = "torch_js.serialization"   # the name plain pickles have always recorded
rebuild_from_bytes.__name__ = rebuild_from_bytes.__qualname__ = "_rebuild_from_bytes"


def rebuild_meta(dtype, size, stride, requires_grad=False):
    """torch._utils._rebuild_meta_tensor_no_storage: a meta tensor (no data) of this dtype and geometry, which is
    checked as empty_strided checks it (ints in int64's range, no negative size or stride, a byte size within
    int64); nothing is allocated."""
    op = "torch_js.load: _rebuild_meta_tensor_no_storage"
    if not isinstance(dtype, D.dtype):
        raise UnpicklingError(f"{op} expects a dtype, not {_what(dtype)}")
    requires_grad = _flag(requires_grad, "requires_grad", op)
    try:
        size = int_tuple(size, "_rebuild_meta_tensor_no_storage", "size", 2)
        stride = int_tuple(stride, "_rebuild_meta_tensor_no_storage", "stride", 3)
        for s in stride:
            if s < 0:
                raise RuntimeError(f"negative stride {s}")
        t = _empty_strided(size, stride, dtype, META)
    except (RuntimeError, TypeError, ValueError) as e:
        raise UnpicklingError(f"{op}: meta tensor (size {_brief(size)}, stride {_brief(stride)}) is invalid: "
                              f"{e}") from None
    if requires_grad:
        t.requires_grad_(True)
    return t


rebuild_meta.__module__ = "torch_js.serialization"   # where a plain pickle of a meta tensor finds it
rebuild_meta.__name__ = rebuild_meta.__qualname__ = "_rebuild_meta_tensor_no_storage"


def _restore_attributes(obj, state, op):
    """Python attributes saved with a tensor (torch's _set_obj_state): a dict, or a (dict, slots) pair without
    slots. Each name must be one the class does not define (no internals, properties or methods) and no dunder;
    the value goes into the instance dict."""
    slots = None
    if type(state) is tuple and len(state) == 2:
        state, slots = state
    if slots:
        raise UnpicklingError(f"{op}: refusing slot state on a {type(obj).__name__}")
    if state is None:
        return obj
    if type(state) is not dict:
        raise UnpicklingError(f"{op}: the attribute state must be a dict, not {_what(state)}")
    for k, v in state.items():
        if type(k) is not str or not k.isidentifier() or k.startswith("__") or hasattr(type(obj), k) or \
                hasattr(Tensor, k):
            raise UnpicklingError(f"{op}: refusing to set attribute {_short(k)!r} on a {type(obj).__name__}: only "
                                  "new public attributes can be restored (a tensor's storage, view, dtype and "
                                  "autograd fields come from its validated rebuild)")
        obj.__dict__[k] = v
    return obj


def _rebuild_parameter(data, requires_grad, backward_hooks=None):
    op = "torch_js.load: _rebuild_parameter"
    if not isinstance(data, Tensor):
        raise UnpicklingError(f"{op} expects a tensor, not {_what(data)}")
    return Parameter(data, _flag(requires_grad, "requires_grad", op))


def _rebuild_parameter_with_state(data, requires_grad, backward_hooks, state):
    p = _rebuild_parameter(data, requires_grad)
    return _restore_attributes(p, state, "torch_js.load: _rebuild_parameter_with_state")


_LAYOUTS = {f"torch.{l.name}": l for l in (strided, sparse_coo, sparse_csr)}


def _get_layout(name):
    """torch.serialization._get_layout: the layout a checkpoint names ('torch.sparse_coo')."""
    layout = _LAYOUTS.get(name) if type(name) is str else None
    if layout is None:
        raise UnpicklingError(f"torch_js.load: unknown or unsupported layout {_what(name)}")
    return layout


# Sparse tensors a load made, validated once the load has filled every storage (a legacy file's bytes come after
# its pickle): (tensor, its index tensors, size)
_PENDING_SPARSE = []


def _rebuild_sparse_tensor(layout, data):
    """torch._utils._rebuild_sparse_tensor: a COO tensor from (indices, values, size[, is_coalesced]) or a CSR one
    from (crow_indices, col_indices, values, size). Its indices are checked against the size when the load ends
    (validate_loaded_sparse), as torch.load validates the sparse tensors it loads."""
    op = "torch_js.load: _rebuild_sparse_tensor"
    if type(data) is not tuple or not 3 <= len(data) <= 4:
        raise UnpicklingError(f"{op} expects a tuple of 3 or 4 parts, not {_what(data)}")
    if layout is sparse_coo:
        indices, values, size = data[:3]
        coalesced = data[3] if len(data) == 4 else None
        index_parts = (indices,)
    elif layout is sparse_csr and len(data) == 4:
        crow, col, values, size = data
        index_parts, coalesced = (crow, col), None
    else:
        raise UnpicklingError(f"{op}: layout {_what(layout)} with {len(data)} parts is not supported")
    if not all(isinstance(t, Tensor) and t._sparse is None and t._storage.device is not META
               for t in index_parts + (values,)):
        raise UnpicklingError(f"{op} expects strided tensors as the index and value parts")
    if coalesced is not None and type(coalesced) is not bool:
        raise UnpicklingError(f"{op}: is_coalesced must be a bool or None, not {_what(coalesced)}")
    if any(t._dtype is not D.int64 for t in index_parts) or len(data) == 4 and layout is sparse_coo and \
            indices.dim() != 2:
        raise UnpicklingError(f"{op}: the indices must be int64 (COO: of shape (sparse_dim, nnz))")
    try:
        size = int_tuple(size, "_rebuild_sparse_tensor", "size", 3)
        if layout is sparse_coo:
            t = sparse_coo_tensor(indices, values, size, check_invariants=False, is_coalesced=coalesced)
        else:
            t = sparse_csr_tensor(crow, col, values, size)
    except (RuntimeError, ValueError, TypeError, IndexError) as e:
        raise UnpicklingError(f"{op}: invalid sparse tensor: {e}") from None
    _PENDING_SPARSE.append((t, index_parts, size))
    return t


def validate_loaded_sparse():
    """Check the indices of the sparse tensors the load made against their sizes (they are in range, a CSR row
    pointer runs from 0 to nnz without decreasing), then forget them."""
    pending = list(_PENDING_SPARSE)
    _PENDING_SPARSE.clear()
    for t, parts, size in pending:
        if len(parts) == 1:
            idx = parts[0]
            bad = idx._shape[1] and any(lo < 0 or hi >= n for lo, hi, n in
                                        zip(idx.amin(1).tolist(), idx.amax(1).tolist(), size))
            if not bad and t.is_coalesced() and idx._shape[1] > 1:   # the claim: sorted, no duplicates
                lin = linear_index(idx, size[:idx._shape[0]])
                bad = bool((lin[1:] <= lin[:-1]).any())
        else:
            crow, col = parts
            bad = bool(crow[0].item() != 0 or crow[-1].item() != col._shape[0] or (crow[1:] < crow[:-1]).any() or
                       (col._shape[0] and (col.min().item() < 0 or col.max().item() >= size[-1])))
        if bad:
            raise RuntimeError(f"torch_js.load: a loaded {t.layout!r} tensor has indices outside its size "
                               f"{list(size)}, or is flagged coalesced with unsorted or repeated indices")


class _TensorType:
    """What GLOBAL torch.Tensor resolves to (only as _rebuild_from_type_v2's target type)."""
    __slots__ = ()


_TENSOR_TYPE = _TensorType()


def _rebuild_from_type_v2(func, new_type, args, state):
    op = "torch_js.load: _rebuild_from_type_v2"
    if not any(func is f for f in _TENSOR_REBUILDS) or new_type is not _TENSOR_TYPE or type(args) is not tuple:
        raise UnpicklingError(f"{op} rebuilds only plain tensors through the tensor rebuild functions")
    return _restore_attributes(func(*args), state, op)


def _codecs_encode(obj, encoding="utf-8"):
    # protocol 2 pickles bytes as _codecs.encode(str, 'latin1')
    if type(obj) is not str or encoding not in ("latin1", "latin-1", "utf-8", "utf8"):
        raise UnpicklingError("torch_js.load: unsupported _codecs.encode call")
    return obj.encode(encoding)


def _device_ctor(type_or_device, index=None):
    if type(type_or_device) is not str or len(type_or_device) > 32 or \
            not (index is None or (type(index) is int and 0 <= index <= 127)):   # c10's DeviceIndex is an int8
        raise UnpicklingError("torch_js.load: torch.device expects a device string and an optional index in "
                              "[0, 127]")
    return _device(type_or_device, index)


def _torch_version(text):
    if type(text) is not str:
        raise UnpicklingError("torch_js.load: TorchVersion expects a str")
    return text


def _dtype_by_name(name):
    d = DTYPE_NAMES.get(name) if type(name) is str else None
    if d is None:
        raise UnpicklingError(f"torch_js.load: unknown dtype {_short(name)!r}")
    return d


_TENSOR_REBUILDS = (_rebuild_tensor_v2, _rebuild_tensor, rebuild_from_bytes)   # what _rebuild_from_type_v2 calls


def allowed_globals():
    allowed = {
        ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
        ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
        ("torch._utils", "_rebuild_meta_tensor_no_storage"): rebuild_meta,
        ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
        ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter_with_state,
        ("torch._utils", "_rebuild_sparse_tensor"): _rebuild_sparse_tensor,
        ("torch.serialization", "_get_layout"): _get_layout,
        ("torch._tensor", "_rebuild_from_type_v2"): _rebuild_from_type_v2,
        ("torch", "Tensor"): _TENSOR_TYPE,
        ("collections", "OrderedDict"): OrderedDict,
        ("torch.torch_version", "TorchVersion"): _torch_version,  # torch.__version__ in a checkpoint: its text
        ("torch", "device"): _device_ctor,
        ("torch", "Size"): Size,
        ("torch._tensor", "Size"): Size,
        ("_codecs", "encode"): _codecs_encode,
        ("builtins", "set"): set,
        ("builtins", "frozenset"): frozenset,
        ("builtins", "complex"): complex,
        ("builtins", "slice"): slice,
        ("torch_js.serialization", "_rebuild_from_bytes"): rebuild_from_bytes,
        ("torch_js.serialization", "_rebuild_meta_tensor_no_storage"): rebuild_meta,
        ("torch_js.nn.parameter", "_rebuild_parameter"): _js_rebuild_parameter,
        ("torch_js._dtype", "_dtype_by_name"): _dtype_by_name,
        ("torch_js._tensor", "Size"): Size,
        ("torch_js._storage", "device"): _device_ctor,
    }
    for n, d in STORAGE_NAMES.items():
        allowed[("torch", n)] = StorageType(d)
    allowed[("torch", "UntypedStorage")] = StorageType(D.uint8)
    for n, d in list(DTYPE_NAMES.items()) + list(_DTYPE_ALIASES.items()):
        allowed[("torch", n)] = d
    return allowed


_NEWOBJ_TYPES = (OrderedDict, set, frozenset, Size)     # the classes NEWOBJ may instantiate (cls.__new__ only)

# ---- the unpickler -------------------------------------------------------------------------------------------

_OPCODE_NAMES = {v[0]: k for k, v in vars(pickle).items()        # (pickletools may be absent in Pyodide)
                 if k.isupper() and isinstance(v, bytes) and len(v) == 1}
_P = pickle._Unpickler.dispatch
_PLAIN = ("PROTO", "STOP", "FRAME", "POP", "POP_MARK", "DUP", "NONE", "NEWTRUE", "NEWFALSE", "BININT", "BININT1",
          "BININT2", "LONG1", "LONG4", "BINFLOAT", "BINSTRING", "SHORT_BINSTRING", "BINUNICODE", "SHORT_BINUNICODE",
          "BINUNICODE8", "BINBYTES", "SHORT_BINBYTES", "BINBYTES8", "EMPTY_TUPLE", "BINGET", "LONG_BINGET",
          "GLOBAL", "STACK_GLOBAL", "BINPERSID")
_CONTAINERS = (tuple, list, dict, set, frozenset, slice, Tensor)
_EMPTY_COST = {list: sys.getsizeof([]), dict: sys.getsizeof({}), set: sys.getsizeof(set())}
_ITEM_COST = 64                  # a list slot, a dict or set entry, a memo entry, with their growth
_TRACK_COST = 128                # the unpickler's own record of a container (height, keep-alive reference)


class _Dispatch(dict):
    def __missing__(self, code):
        name = _OPCODE_NAMES.get(code)
        what = f"pickle opcode {name} ({bytes([code])!r})" if name else f"byte {bytes([code])!r} (not an opcode)"
        raise UnpicklingError(f"torch_js.load: unsupported operand: {what} is not allowed in a checkpoint (only "
                              "the data opcodes of protocols 2-4 are read; nothing that creates arbitrary objects)")


class RestrictedUnpickler(pickle._Unpickler):
    """See the module docstring. `persistent_load(pid)` resolves storage records; `length` is the pickle's byte
    length (it sets the allocation budget)."""

    def __init__(self, file, length, persistent_load=None, encoding="utf-8"):
        super().__init__(file, encoding=encoding)
        self._allowed = allowed_globals()
        self._user = user_allowed_globals()          # torch.serialization.add_safe_globals: the user's trust
        self._user_classes = tuple(v for v in self._user.values() if isinstance(v, type))
        self._callables = {id(v) for v in list(self._allowed.values()) + list(self._user.values()) if callable(v)}
        self._pload = persistent_load
        self._height = {}          # id -> height, for every container built here (kept alive by _keep)
        self._nested = set()       # ids of containers already placed inside another container
        self._keep = []
        self._budget = BUDGET_FACTOR * length + BUDGET_SLACK

    # ---- bookkeeping -----------------------------------------------------------------------------------------
    def _charge(self, cost):
        self._budget -= cost
        if self._budget < 0:
            raise UnpicklingError("torch_js.load: the pickle builds more Python objects than its size allows (a "
                                  "memory bomb?)")

    def _h(self, obj):
        return self._height.get(id(obj), 0)

    def _made(self, obj, height, cost):
        """Register a container built here: its height (1 + its deepest child) and its cost."""
        if height > MAX_NESTING:
            raise UnpicklingError(f"torch_js.load: the pickle nests containers more than {MAX_NESTING} deep")
        key = id(obj)
        if key not in self._height:
            self._keep.append(obj)
            cost += _TRACK_COST
        self._height[key] = max(height, self._height.get(key, 0))
        self._charge(cost)

    def _children(self, items):
        """Height of a container of `items` (which become nested)."""
        h = 0
        for it in items:
            key = id(it)
            if key in self._height:
                self._nested.add(key)
                h = max(h, self._height[key])
        return h + 1

    def _modify(self, container, items, allowed_types, opname):
        if type(container) not in allowed_types:
            raise UnpicklingError(f"torch_js.load: {opname} on a {type(container).__name__} is not allowed")
        key = id(container)
        if key in self._nested or any(it is container for it in items):
            raise UnpicklingError(f"torch_js.load: {opname} changes a container after it was placed inside "
                                  "another (or into itself), which a checkpoint never needs: it would build "
                                  "self-referencing or unboundedly deep structures")
        self._made(container, self._children(items), _ITEM_COST * len(items))

    # ---- opcodes ---------------------------------------------------------------------------------------------
    def load_mark(self):
        if len(self.metastack) >= MAX_NESTING:
            raise UnpicklingError(f"torch_js.load: the pickle nests MARKs more than {MAX_NESTING} deep")
        self._charge(_EMPTY_COST[list])
        pickle._Unpickler.load_mark(self)

    def load_put(self, index):
        if index < 0:
            raise UnpicklingError("torch_js.load: negative memo index")
        self._charge(_ITEM_COST)
        self.memo[index] = self.stack[-1]

    def load_binput(self):
        self.load_put(self.read(1)[0])

    def load_long_binput(self):
        self.load_put(int.from_bytes(self.read(4), "little"))

    def load_memoize(self):
        self.load_put(len(self.memo))

    def _push_new(self, obj):
        self._made(obj, 1, _EMPTY_COST[type(obj)])
        self.append(obj)

    def load_empty_list(self):
        self._push_new([])

    def load_empty_dict(self):
        self._push_new({})

    def load_empty_set(self):
        self._push_new(set())

    def _tuple(self, items):
        t = tuple(items)
        if t:
            self._made(t, self._children(t), sys.getsizeof(t))
        return t

    def load_tuple(self):
        items = self.pop_mark()           # (before self.append is looked up: pop_mark rebinds it)
        self.append(self._tuple(items))

    def _tuple_n(self, n):
        if len(self.stack) < n:
            raise UnpicklingError(f"torch_js.load: malformed pickle (TUPLE{n} on a stack of {len(self.stack)})")
        self.stack[-n:] = [self._tuple(self.stack[-n:])]

    def load_tuple1(self):
        self._tuple_n(1)

    def load_tuple2(self):
        self._tuple_n(2)

    def load_tuple3(self):
        self._tuple_n(3)

    def load_append(self):
        item = self.stack.pop()
        self._modify(self.stack[-1], (item,), (list,), "APPEND")
        self.stack[-1].append(item)

    def load_appends(self):
        items = self.pop_mark()
        self._modify(self.stack[-1], items, (list,), "APPENDS")
        self.stack[-1].extend(items)

    def load_setitem(self):
        value = self.stack.pop()
        key = self.stack.pop()
        self._modify(self.stack[-1], (key, value), (dict, OrderedDict), "SETITEM")
        self.stack[-1][key] = value

    def load_setitems(self):
        items = self.pop_mark()
        if len(items) % 2:
            raise UnpicklingError("torch_js.load: SETITEMS needs key/value pairs")
        self._modify(self.stack[-1], items, (dict, OrderedDict), "SETITEMS")
        d = self.stack[-1]
        for i in range(0, len(items), 2):
            d[items[i]] = items[i + 1]

    def load_additems(self):
        items = self.pop_mark()
        self._modify(self.stack[-1], items, (set,), "ADDITEMS")
        self.stack[-1].update(items)

    def load_frozenset(self):
        items = self.pop_mark()
        fs = frozenset(items)
        self._made(fs, self._children(items), sys.getsizeof(fs))
        self.append(fs)

    def _result(self, obj, height):
        if isinstance(obj, _CONTAINERS):
            self._made(obj, max(height, 1), sys.getsizeof(obj))
        return obj

    def load_reduce(self):
        args = self.stack.pop()
        func = self.stack[-1]
        if id(func) not in self._callables:
            raise UnpicklingError(f"torch_js.load: REDUCE calls a {_short(func)} object, which is not one of the "
                                  "allowed rebuild functions")
        if type(args) is not tuple:
            raise UnpicklingError("torch_js.load: REDUCE arguments must be a tuple")
        self.stack[-1] = self._result(func(*args), self._h(args))

    def load_newobj(self):
        args = self.stack.pop()
        cls = self.stack[-1]
        if type(args) is not tuple:
            raise UnpicklingError("torch_js.load: NEWOBJ arguments must be a tuple")
        if cls is _torch_version:                 # torch.__version__ (a str subclass) pickles as NEWOBJ
            self.stack[-1] = _torch_version(*args)
            return
        if any(cls is c for c in self._user_classes):
            self.stack[-1] = cls.__new__(cls, *args)
            return
        if not any(cls is c for c in _NEWOBJ_TYPES):
            raise UnpicklingError(f"torch_js.load: NEWOBJ may create only OrderedDict, set, frozenset, torch.Size "
                                  f"or TorchVersion, not a {_short(cls)}")
        self.stack[-1] = self._result(cls.__new__(cls, *args), self._h(args))

    def load_build(self):
        state = self.stack.pop()
        inst = self.stack[-1]
        if type(inst) is OrderedDict:
            # a state_dict's per-module versions, nothing else
            if type(state) is not dict or set(state) - {"_metadata"} or \
                    not isinstance(state.get("_metadata", {}), dict):
                raise UnpicklingError("torch_js.load: refusing BUILD on an OrderedDict with other state than its "
                                      "_metadata dict")
            self._modify(inst, (state,), (OrderedDict,), "BUILD")
            if "_metadata" in state:
                inst._metadata = state["_metadata"]
            return
        if any(type(inst) is c for c in self._user_classes):
            self._build_allowed(inst, state)
            return
        if not isinstance(inst, Tensor):
            raise UnpicklingError(f"torch_js.load: refusing BUILD on {type(inst).__name__}: only a tensor or an "
                                  "OrderedDict can be built")
        self._modify(inst, (state,), (type(inst),), "BUILD")
        _restore_attributes(inst, state, "torch_js.load: BUILD")

    def find_class(self, module, name):
        if module == "__builtin__":               # protocol 2 names Python 3's builtins as Python 2's
            module = "builtins"
        fn = self._allowed.get((module, name))
        if fn is not None:
            return fn
        fn = self._user.get(f"{module}.{name}")
        if fn is not None:
            return fn
        if module == "torch" and type(name) is str:
            base = name[:-len("Storage")] if name.endswith("Storage") else name
            if base.lower().startswith(_TORCH_ONLY_DTYPES):
                what = "storage type" if name.endswith("Storage") else "dtype"
                raise UnpicklingError(f"torch_js.load: refusing to load global 'torch.{_short(name)}': the {what} "
                                      f"torch.{_short(name)} is not supported by torch_js (its dtypes: "
                                      f"{', '.join(DTYPE_NAMES)})")
        raise UnpicklingError(_unsupported_global(_short(module), _short(name)))

    def _build_allowed(self, inst, state):
        """BUILD on an instance of a class the user marked safe: its __setstate__, else pickle's dict update."""
        self._charge(_ITEM_COST)
        if hasattr(inst, "__setstate__"):
            inst.__setstate__(state)
            return
        slotstate = None
        if isinstance(state, tuple) and len(state) == 2:
            state, slotstate = state
        if state:
            inst.__dict__.update(state)
        if slotstate:
            for k, v in slotstate.items():
                setattr(inst, k, v)

    def persistent_load(self, pid):
        if self._pload is None:
            raise UnpicklingError("torch_js.load: unexpected persistent id")
        return self._pload(pid)

    def load(self):
        try:
            return pickle._Unpickler.load(self)
        except (UnpicklingError, RuntimeError, MemoryError):
            raise
        except EOFError:
            raise UnpicklingError("torch_js.load: the pickle ends before its STOP opcode (truncated)") from None
        except Exception as e:  # malformed input: stack underflow, bad arguments to an allowed function, ...
            raise UnpicklingError(f"torch_js.load: malformed pickle ({type(e).__name__}: {_short(str(e), 200)})") \
                from None


_BLOCKED_MODULES = ("sys", "os", "posix", "nt")


def _unsupported_global(module, name):
    """PyTorch's weights_only message for a global outside the allow-lists, then torch_js's own line."""
    full = f"{module}.{name}"
    if module in _BLOCKED_MODULES:
        msg = f"Trying to load unsupported GLOBAL {full} whose module {module} is blocked."
    else:
        shown = name if module == "builtins" else full
        msg = (f"Unsupported global: GLOBAL {shown} was not an allowed global by default. Please use "
               f"`torch.serialization.add_safe_globals([{shown}])` or the `torch.serialization.safe_globals("
               f"[{shown}])` context manager to allowlist this global if you trust this class/function.")
    return (f"{msg}\n(torch_js.load: refusing to load global '{full}': only tensors, parameters, storages, dtypes, "
            "plain containers and the globals marked safe can be loaded with weights_only=True)")


def _dispatch():
    table = _Dispatch()
    by_name = {n: c for c, n in _OPCODE_NAMES.items()}
    for name in _PLAIN:
        table[by_name[name]] = _P[by_name[name]]
    own = {"MARK": "load_mark", "BINPUT": "load_binput", "LONG_BINPUT": "load_long_binput",
           "MEMOIZE": "load_memoize", "EMPTY_LIST": "load_empty_list", "EMPTY_DICT": "load_empty_dict",
           "EMPTY_SET": "load_empty_set", "TUPLE": "load_tuple", "TUPLE1": "load_tuple1", "TUPLE2": "load_tuple2",
           "TUPLE3": "load_tuple3", "APPEND": "load_append", "APPENDS": "load_appends", "SETITEM": "load_setitem",
           "SETITEMS": "load_setitems", "ADDITEMS": "load_additems", "FROZENSET": "load_frozenset",
           "REDUCE": "load_reduce", "NEWOBJ": "load_newobj", "BUILD": "load_build"}
    for name, meth in own.items():
        table[by_name[name]] = getattr(RestrictedUnpickler, meth)
    return table


RestrictedUnpickler.dispatch = _dispatch()
