"""Checkpoints: torch_js.save / torch_js.load in PyTorch's zip format, and safetensors.

save(obj, f) writes what `torch.save` writes (protocol-2 pickle `archive/data.pkl` whose tensors are
`torch._utils._rebuild_tensor_v2(('storage', torch.<T>Storage, key, 'cpu', numel), offset, size, stride,
requires_grad, OrderedDict())`, one raw little-endian `archive/data/<key>` per storage, 64-byte aligned), so real
`torch.load(f, weights_only=True)` reads it. Two views of one storage are saved once and stay shared.

load(f) reads files written by real `torch.save` through a restricted unpickler: only the globals a checkpoint
needs resolve (tensor/parameter rebuild functions, storage types, dtypes, OrderedDict, torch.device/Size, a few
harmless builtins); anything else raises `pickle.UnpicklingError` before it can run. Nothing in the file is ever
executed. Tensor views are bounds-checked against their storage.

Safetensors: save_safetensors(tensors, f, metadata=None) / load_safetensors(f, device="cpu") — 8-byte little-endian
header length, JSON header ({name: {dtype, shape, data_offsets}}, "__metadata__"), raw data; dtypes F64 F32 F16
BF16 I64 I32 I16 I8 U8 BOOL.
"""
import io
import json
import os
import pickle
import struct
import zipfile
from collections import OrderedDict

from . import _dtype as D
from ._storage import CPU, device as _device
from ._tensor import Size, Tensor, _CPU_BACKEND, _make, contiguous_strides
from .nn.parameter import Parameter, _rebuild_parameter as _js_rebuild_parameter

__all__ = ["save", "load", "save_safetensors", "load_safetensors"]

_STORAGE_NAMES = {
    "FloatStorage": D.float32, "DoubleStorage": D.float64, "HalfStorage": D.float16, "BFloat16Storage": D.bfloat16,
    "LongStorage": D.int64, "IntStorage": D.int32, "ShortStorage": D.int16, "CharStorage": D.int8,
    "ByteStorage": D.uint8, "BoolStorage": D.bool_,
}
_STORAGE_OF = {d: n for n, d in _STORAGE_NAMES.items()}
_DTYPE_NAMES = {d.name: d for d in D.ALL_DTYPES}
_DTYPE_ALIASES = {"float": D.float32, "double": D.float64, "half": D.float16, "long": D.int64, "int": D.int32,
                  "short": D.int16}


def _cpu_backend():
    return _CPU_BACKEND[0]


def _storage_bytes(storage):
    return storage.backend.read_bytes(storage, 0, storage.nbytes)


# ---- pickling Tensors the way torch does -------------------------------------------------------------------------

def _tensor_reduce_ex(self, proto):
    t = self.detach().contiguous().cpu()
    return (_rebuild_from_bytes, (t._raw_bytes(), tuple(self._shape), self._dtype.name, self._requires_grad))


Tensor.__reduce_ex__ = _tensor_reduce_ex  # plain `pickle` of a tensor (core's Tensor cannot import this module)


def _rebuild_from_bytes(raw, shape, dtype_name, requires_grad):
    """Target of Tensor.__reduce_ex__."""
    d = _DTYPE_NAMES[dtype_name]
    shape = tuple(shape)
    n = 1
    for s in shape:
        n *= s
    if len(raw) != n * d.itemsize:
        raise pickle.UnpicklingError("torch_js: tensor byte count does not match its shape")
    t = _make(_cpu_backend().from_bytes(bytes(raw)), shape, contiguous_strides(shape), 0, d)
    if requires_grad:
        t.requires_grad_(True)
    return t


class _Global:
    """A GLOBAL opcode naming `module.name` (written without importing it, so torch need not be installed)."""
    __slots__ = ("module", "name")

    def __init__(self, module, name):
        self.module = module
        self.name = name

    def __call__(self, *args):  # pickle's save_reduce checks callable(func)
        raise TypeError(f"{self.module}.{self.name} is a pickle placeholder")


class _StorageRef:
    __slots__ = ("storage", "dtype")

    def __init__(self, storage, dtype):
        self.storage = storage
        self.dtype = dtype


class _TorchPickler(pickle._Pickler):
    def __init__(self, file, storages):
        super().__init__(file, protocol=2)
        self._storages = storages        # id(storage) -> (key, storage, dtype)
        self._refs = {}

    def save(self, obj, save_persistent_id=True):
        if isinstance(obj, _Global):
            self.write(pickle.GLOBAL + f"{obj.module}\n{obj.name}\n".encode("utf-8"))
            return
        super().save(obj, save_persistent_id)

    def persistent_id(self, obj):
        if isinstance(obj, _StorageRef):
            st = obj.storage
            entry = self._storages.get(id(st))
            if entry is None:
                entry = (str(len(self._storages)), st, obj.dtype)
                self._storages[id(st)] = entry
            elif entry[2] is not obj.dtype:
                raise RuntimeError("Cannot save multiple tensors or storages that view the same data as different "
                                   "types")
            key = entry[0]
            return ("storage", _Global("torch", _STORAGE_OF[obj.dtype]), key, "cpu", st.nbytes // obj.dtype.itemsize)
        return None

    def reducer_override(self, obj):
        if isinstance(obj, Tensor):
            if isinstance(obj, Parameter):
                return (_Global("torch._utils", "_rebuild_parameter"),
                        (obj.detach(), obj.requires_grad, OrderedDict()))
            t = obj
            if t._storage.device is not CPU:
                t = t.detach().cpu()
            # one _StorageRef per storage object so the pickle memo shares the persistent id like torch does
            ref = self._refs.get(id(t._storage))
            if ref is None:
                ref = _StorageRef(t._storage, t._dtype)
                self._refs[id(t._storage)] = ref
                self._keep = getattr(self, "_keep", [])
                self._keep.append(t)
            elif ref.dtype is not t._dtype:
                raise RuntimeError("Cannot save multiple tensors or storages that view the same data as different "
                                   "types")
            return (_Global("torch._utils", "_rebuild_tensor_v2"),
                    (ref, t._offset, tuple(t._shape), tuple(t._stride), obj.requires_grad, OrderedDict()))
        if isinstance(obj, _device):
            return (_Global("torch", "device"), (str(obj),))
        if isinstance(obj, Size):
            return (_Global("torch", "Size"), (tuple(obj),))
        return NotImplemented


def _pickle_dtype(pickler, obj):
    pickler.write(pickle.GLOBAL + f"torch\n{obj.name}\n".encode("utf-8"))


_TorchPickler.dispatch = dict(pickle._Pickler.dispatch)
_TorchPickler.dispatch[D.dtype] = _pickle_dtype


def _aligned_zipinfo(zf, name, data_len, align=64):
    zi = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    zi.compress_type = zipfile.ZIP_STORED
    zi.external_attr = 0o600 << 16
    offset = zf.fp.tell() if hasattr(zf.fp, "tell") else 0
    header = 30 + len(name.encode("utf-8"))
    pad = (-(offset + header + 4)) % align
    zi.extra = b"FB" + struct.pack("<H", pad) + b"Z" * pad
    return zi


def save(obj, f, pickle_module=None, pickle_protocol=2, _use_new_zipfile_serialization=True,
         _disable_byteorder_record=False):
    """Save obj in PyTorch's zip checkpoint format (readable by `torch.load(..., weights_only=True)`)."""
    buf = io.BytesIO()
    storages = {}
    p = _TorchPickler(buf, storages)
    p.dump(obj)
    data_pkl = buf.getvalue()
    close = False
    if isinstance(f, (str, os.PathLike)):
        f = open(f, "wb")
        close = True
    try:
        with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_STORED) as zf:
            def put(name, data):
                zf.writestr(_aligned_zipinfo(zf, "archive/" + name, len(data)), data)
            put("data.pkl", data_pkl)
            put(".format_version", b"1")
            put(".storage_alignment", b"64")
            put("byteorder", b"little")
            for key, st, _dt in sorted(storages.values(), key=lambda e: int(e[0])):
                put("data/" + key, _storage_bytes(st))
            put("version", b"3\n")
            put(".data/serialization_id", ("%040d" % (int.from_bytes(os.urandom(8), "little") % 10 ** 40)).encode())
    finally:
        if close:
            f.close()


# ---- loading ---------------------------------------------------------------------------------------------------

class _StorageType:
    __slots__ = ("dtype",)

    def __init__(self, dtype):
        self.dtype = dtype


class _LoadedStorage:
    __slots__ = ("storage", "dtype", "numel")

    def __init__(self, storage, dtype, numel):
        self.storage = storage
        self.dtype = dtype
        self.numel = numel


def _check_view(numel, offset, size, stride):
    if not (isinstance(offset, int) and offset >= 0):
        raise pickle.UnpicklingError("torch_js.load: invalid storage offset")
    if len(size) != len(stride) or any((not isinstance(s, int)) or s < 0 for s in size) or \
            any((not isinstance(s, int)) or s < 0 for s in stride):
        raise pickle.UnpicklingError("torch_js.load: invalid tensor size/stride")
    if any(s == 0 for s in size):
        return
    last = offset + sum((s - 1) * st for s, st in zip(size, stride))
    if last >= numel:
        raise pickle.UnpicklingError(f"torch_js.load: tensor view (offset {offset}, size {tuple(size)}, stride "
                                     f"{tuple(stride)}) reaches past its storage of {numel} elements")


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad=False, backward_hooks=None,
                       metadata=None):
    if not isinstance(storage, _LoadedStorage):
        raise pickle.UnpicklingError("torch_js.load: _rebuild_tensor_v2 expects a storage")
    size = tuple(size)
    stride = tuple(stride)
    _check_view(storage.numel, storage_offset, size, stride)
    t = _make(storage.storage, size, stride, storage_offset, storage.dtype)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _rebuild_tensor(storage, storage_offset, size, stride):
    return _rebuild_tensor_v2(storage, storage_offset, size, stride)


def _rebuild_parameter(data, requires_grad, backward_hooks=None):
    if not isinstance(data, Tensor):
        raise pickle.UnpicklingError("torch_js.load: _rebuild_parameter expects a tensor")
    return Parameter(data, requires_grad)


def _rebuild_parameter_with_state(data, requires_grad, backward_hooks, state):
    p = _rebuild_parameter(data, requires_grad)
    if isinstance(state, dict):
        for k, v in state.items():
            if isinstance(k, str) and not k.startswith("__"):
                setattr(p, k, v)
    return p


def _codecs_encode(obj, encoding="utf-8"):
    # protocol 2 pickles bytes as _codecs.encode(str, 'latin1')
    if not isinstance(obj, str) or encoding not in ("latin1", "latin-1", "utf-8", "utf8"):
        raise pickle.UnpicklingError("torch_js.load: unsupported _codecs.encode call")
    return obj.encode(encoding)


def _device_ctor(*args):
    return _device(*args)


def _make_allowed():
    allowed = {
        ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
        ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
        ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
        ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter_with_state,
        ("collections", "OrderedDict"): OrderedDict,
        ("torch.torch_version", "TorchVersion"): str,  # torch.__version__ saved in a checkpoint: loads as its text
        ("torch", "device"): _device_ctor,
        ("torch", "Size"): Size,
        ("torch._tensor", "Size"): Size,
        ("_codecs", "encode"): _codecs_encode,
        ("builtins", "set"): set,
        ("builtins", "frozenset"): frozenset,
        ("builtins", "complex"): complex,
        ("builtins", "slice"): slice,
        ("__builtin__", "set"): set,
        ("torch_js.serialization", "_rebuild_from_bytes"): _rebuild_from_bytes,
        ("torch_js.nn.parameter", "_rebuild_parameter"): _js_rebuild_parameter,
        ("torch_js._dtype", "_dtype_by_name"): lambda name: _DTYPE_NAMES[name],
        ("torch_js._tensor", "Size"): Size,
        ("torch_js._storage", "device"): _device_ctor,
    }
    for n, d in _STORAGE_NAMES.items():
        allowed[("torch", n)] = _StorageType(d)
    allowed[("torch", "UntypedStorage")] = _StorageType(D.uint8)
    for n, d in list(_DTYPE_NAMES.items()) + list(_DTYPE_ALIASES.items()):
        allowed[("torch", n)] = d
    return allowed


class _RestrictedUnpickler(pickle._Unpickler):
    """Resolves only allow-listed globals; everything else raises UnpicklingError (nothing in the file runs)."""

    def __init__(self, file, allowed, persistent_load=None, encoding="utf-8"):
        super().__init__(file, encoding=encoding)
        self._allowed = allowed
        self._pload = persistent_load

    def find_class(self, module, name):
        fn = self._allowed.get((module, name))
        if fn is None:
            raise pickle.UnpicklingError(
                f"torch_js.load: refusing to load global '{module}.{name}': only tensors, parameters, storages, "
                "dtypes and plain containers can be loaded (the file may be malicious or contain custom objects)")
        return fn

    def load_build(self):
        # BUILD only as torch writes it: plain attribute state on a tensor (never __setstate__ of other objects)
        stack = self.stack
        state = stack.pop()
        inst = stack[-1]
        if type(inst) is OrderedDict and isinstance(state, dict) and set(state) == {"_metadata"} and \
                isinstance(state["_metadata"], dict):
            inst._metadata = state["_metadata"]          # a state_dict's per-module versions
            return
        if not isinstance(inst, Tensor) or not isinstance(state, dict) or \
                any(not isinstance(k, str) or k.startswith("_") for k in state):
            raise pickle.UnpicklingError(f"torch_js.load: refusing BUILD on {type(inst).__name__}")
        inst.__dict__.update(state)

    def persistent_load(self, pid):
        if self._pload is None:
            raise pickle.UnpicklingError("torch_js.load: unexpected persistent id")
        return self._pload(pid)


_RestrictedUnpickler.dispatch = dict(pickle._Unpickler.dispatch)
_RestrictedUnpickler.dispatch[pickle.BUILD[0]] = _RestrictedUnpickler.load_build


def _map_location(t, map_location):
    if map_location is None:
        return t
    if callable(map_location) and not isinstance(map_location, (str, _device)):
        return t
    if isinstance(map_location, dict):
        target = map_location.get("cpu")
        if target is None:
            return t
        map_location = target
    dev = _device(map_location) if not isinstance(map_location, _device) else map_location
    if dev.type in ("cpu", "cuda", "mps", "meta"):
        return t
    return t.to(dev)


def _walk(obj, fn, memo):
    """Apply fn to every tensor in a loaded container (map_location), keeping identity and sharing."""
    if id(obj) in memo:
        return memo[id(obj)]
    if isinstance(obj, Tensor):
        r = fn(obj)
    elif isinstance(obj, OrderedDict):
        r = OrderedDict((k, _walk(v, fn, memo)) for k, v in obj.items())
        if hasattr(obj, "_metadata"):
            r._metadata = obj._metadata
    elif isinstance(obj, dict):
        r = {k: _walk(v, fn, memo) for k, v in obj.items()}
    elif isinstance(obj, list):
        r = [_walk(v, fn, memo) for v in obj]
    elif isinstance(obj, tuple):
        r = tuple(_walk(v, fn, memo) for v in obj)
    else:
        r = obj
    memo[id(obj)] = r
    return r


def load(f, map_location=None, pickle_module=None, *, weights_only=True, mmap=None, **pickle_load_args):
    """Load a checkpoint written by torch.save (zip format) or torch_js.save.

    The pickle is always read with the restricted unpickler (weights_only=False is accepted but gives no extra
    power: arbitrary objects cannot be rebuilt in the browser). map_location: None/'cpu' keep tensors on the
    CPU; 'webgpu' (or a torch_js.device) moves them there."""
    close = False
    if isinstance(f, (str, os.PathLike)):
        f = open(f, "rb")
        close = True
    try:
        data = f.read() if hasattr(f, "read") else bytes(f)
    finally:
        if close:
            f.close()
    if not zipfile.is_zipfile(io.BytesIO(data)):
        if data[:2] == b"\x80\x02" or data[:1] == b"\x80":
            raise RuntimeError("torch_js.load: this is a legacy (pre-1.6, non-zip) torch checkpoint, which torch_js "
                               "does not read; re-save it with a current torch.save")
        raise RuntimeError("torch_js.load: not a PyTorch zip checkpoint")
    zf = zipfile.ZipFile(io.BytesIO(data))
    names = zf.namelist()
    pkl_names = [n for n in names if n.endswith("/data.pkl") and n.count("/") == 1] or \
        [n for n in names if n == "data.pkl"]
    if not pkl_names:
        raise RuntimeError("torch_js.load: archive has no data.pkl")
    prefix = pkl_names[0][: -len("data.pkl")]
    if prefix + "byteorder" in names:
        order = zf.read(prefix + "byteorder").decode().strip()
        if order != "little":
            raise RuntimeError(f"torch_js.load: byteorder '{order}' is not supported")
    loaded = {}
    backend = _cpu_backend()

    def persistent_load(pid):
        if not isinstance(pid, tuple) or len(pid) < 5 or pid[0] != "storage":
            raise pickle.UnpicklingError(f"torch_js.load: unknown persistent id {pid!r:.80}")
        _, stype, key, _location, numel = pid[:5]
        if not isinstance(stype, _StorageType) or not isinstance(key, str) or not isinstance(numel, int):
            raise pickle.UnpicklingError("torch_js.load: malformed storage record")
        dtype = stype.dtype
        if key in loaded:
            return loaded[key]
        rec = prefix + "data/" + key
        if rec not in names:
            raise pickle.UnpicklingError(f"torch_js.load: missing storage record {key!r}")
        raw = zf.read(rec)
        if len(raw) < numel * dtype.itemsize:
            raise pickle.UnpicklingError(f"torch_js.load: storage {key!r} is shorter than its {numel} elements")
        st = backend.from_bytes(raw[: numel * dtype.itemsize])
        ls = _LoadedStorage(st, dtype, numel)
        loaded[key] = ls
        return ls

    up = _RestrictedUnpickler(io.BytesIO(zf.read(pkl_names[0])), _make_allowed(), persistent_load)
    obj = up.load()
    if map_location is not None:
        obj = _walk(obj, lambda t: _map_location(t, map_location), {})
    return obj


# ---- safetensors ---------------------------------------------------------------------------------------------------

_ST_DTYPES = {"F64": D.float64, "F32": D.float32, "F16": D.float16, "BF16": D.bfloat16, "I64": D.int64,
              "I32": D.int32, "I16": D.int16, "I8": D.int8, "U8": D.uint8, "BOOL": D.bool_}
_ST_NAMES = {d: n for n, d in _ST_DTYPES.items()}


def save_safetensors(tensors, f, metadata=None):
    """Write a dict name -> Tensor in the safetensors format (to a path, a binary file, or return bytes if f is
    None). Tensors are written contiguous; metadata is a dict of str -> str."""
    if not isinstance(tensors, dict):
        raise TypeError("save_safetensors expects a dict of name -> Tensor")
    items = []
    for name, t in tensors.items():
        if not isinstance(name, str) or not isinstance(t, Tensor):
            raise TypeError("save_safetensors expects a dict of str -> Tensor")
        items.append((name, t))
    items.sort(key=lambda kv: (-kv[1].dtype.itemsize, kv[0]))
    header = {}
    chunks = []
    offset = 0
    for name, t in items:
        raw = t.detach().cpu().contiguous()._raw_bytes()
        header[name] = {"dtype": _ST_NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [offset,
                                                                                              offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    if metadata is not None:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    hb = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hb += b" " * ((-len(hb)) % 8)
    out = struct.pack("<Q", len(hb)) + hb + b"".join(chunks)
    if f is None:
        return out
    if isinstance(f, (str, os.PathLike)):
        with open(f, "wb") as fh:
            fh.write(out)
    else:
        f.write(out)
    return None


def load_safetensors(f, device="cpu"):
    """Read a safetensors file (path, binary file or bytes) into a dict name -> Tensor."""
    if isinstance(f, (bytes, bytearray, memoryview)):
        data = bytes(f)
    elif isinstance(f, (str, os.PathLike)):
        with open(f, "rb") as fh:
            data = fh.read()
    else:
        data = f.read()
    if len(data) < 8:
        raise ValueError("safetensors: file too short")
    (n,) = struct.unpack_from("<Q", data, 0)
    if n > len(data) - 8:
        raise ValueError("safetensors: header length exceeds file size")
    header = json.loads(data[8:8 + n].decode("utf-8"))
    body = memoryview(data)[8 + n:]
    out = {}
    backend = _cpu_backend()
    for name, info in header.items():
        if name == "__metadata__":
            continue
        d = _ST_DTYPES.get(info.get("dtype"))
        if d is None:
            raise ValueError(f"safetensors: unsupported dtype {info.get('dtype')!r} for {name!r}")
        shape = tuple(int(s) for s in info["shape"])
        begin, end = (int(x) for x in info["data_offsets"])
        numel = 1
        for s in shape:
            numel *= s
        if not (0 <= begin <= end <= len(body)) or end - begin != numel * d.itemsize:
            raise ValueError(f"safetensors: bad data_offsets for {name!r}")
        st = backend.from_bytes(bytes(body[begin:end]))
        t = _make(st, shape, contiguous_strides(shape), 0, d)
        if str(device) != "cpu":
            t = t.to(device)
        out[name] = t
    return out
