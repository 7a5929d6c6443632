"""torch_js.save / torch_js.load in PyTorch's zip checkpoint format.

save(obj, f) writes what `torch.save` writes (protocol-2 pickle `archive/data.pkl` whose tensors are
`torch._utils._rebuild_tensor_v2(('storage', torch.<T>Storage, key, 'cpu', numel), offset, size, stride,
requires_grad, OrderedDict())`, one raw little-endian `archive/data/<key>` per storage, 64-byte aligned), so real
`torch.load(f, weights_only=True)` reads it. Two views of one storage are saved once and stay shared. With
`_use_new_zipfile_serialization=False` it writes torch's legacy format instead (_write_legacy), and `pickle_protocol`
sets the pickles' protocol, as torch.save's. Sparse tensors pickle as torch's `_rebuild_sparse_tensor(layout,
parts)`.

load(f) reads files written by real `torch.save`: the archive through `_zip.Archive` (declared sizes checked before
anything is inflated), data.pkl through `_unpickler.RestrictedUnpickler` (nothing in the file runs; tensors only
from validated views of storage records whose size must match what the pickle declares); legacy (pre-1.6, non-zip)
files through `_legacy`, under the same rules.

Meta tensors (no data) are saved as torch saves them: `torch._utils._rebuild_meta_tensor_no_storage(dtype, size,
stride, requires_grad)`, no storage record.
"""
import io
import operator
import os
import pickle
import struct
import zipfile
from collections import OrderedDict
from types import FunctionType

from .. import _dtype as D
from .._storage import CPU, META, device as _device
from .._tensor import Size, Tensor, _CPU_BACKEND, layout, sparse_coo, sparse_csr
from ..nn.modules.module import Module
from ..nn.parameter import Parameter, is_lazy
from ._safe_globals import is_torch_js, public_name, torch_name
from ._legacy import MAGIC_NUMBER as LEGACY_MAGIC_NUMBER, PROTOCOL_VERSION as LEGACY_PROTOCOL_VERSION
from ._legacy import is_legacy, load_legacy
from ._trusted import load_trusted
from ._unpickler import (STORAGE_NAMES, LoadedStorage, RestrictedUnpickler, StorageType, _short, _what,
                         rebuild_from_bytes, rebuild_meta, validate_loaded_sparse)
from ._unpickler import _PENDING_SPARSE as pending_sparse
from ._zip import Archive

_STORAGE_OF = {d: n for n, d in STORAGE_NAMES.items()}


def _storage_bytes(storage):
    return storage.backend.read_bytes(storage, 0, storage.nbytes)


# ---- pickling Tensors the way torch does -------------------------------------------------------------------------

def _tensor_reduce_ex(self, proto):
    if self._storage.device is META:
        return (rebuild_meta, (self._dtype, tuple(self._shape), tuple(self._stride), self._requires_grad))
    t = self.detach().contiguous().cpu()
    return (rebuild_from_bytes, (t._raw_bytes(), tuple(self._shape), self._dtype.name, self._requires_grad))


Tensor.__reduce_ex__ = _tensor_reduce_ex  # plain `pickle` of a tensor (core's Tensor cannot import this module)


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
    def __init__(self, file, storages, protocol=2, legacy=False):
        super().__init__(file, protocol=protocol)
        self._storages = storages        # id(storage) -> (key, storage, dtype)
        self._refs = {}
        self._legacy = legacy            # the legacy format's persistent ids carry a sixth field (view metadata)

    def save(self, obj, save_persistent_id=True):
        if isinstance(obj, _Global):
            self.write(pickle.GLOBAL + f"{obj.module}\n{obj.name}\n".encode("utf-8"))
            return
        if isinstance(obj, FunctionType) and is_torch_js(obj):
            # pickle's dispatch table sends functions to the base class's save_global, past the override below
            self.save_global(obj)
            return
        super().save(obj, save_persistent_id)

    def save_global(self, obj, name=None):
        # torch_js's classes (a whole nn.Module) and functions (an activation held by a module) go under torch's
        # names, so PyTorch loads them as its own
        if is_torch_js(obj):
            module, qualname = public_name(obj, name)
            self.save(_Global(torch_name(module), qualname))
            return
        super().save_global(obj, name)

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
            pid = ("storage", _Global("torch", _STORAGE_OF[obj.dtype]), key, "cpu", st.nbytes // obj.dtype.itemsize)
            return pid + (None,) if self._legacy else pid
        return None

    def reducer_override(self, obj):
        if isinstance(obj, Tensor) and obj._sparse is not None:   # torch's: the layout and the parts
            return (_Global("torch._utils", "_rebuild_sparse_tensor"), (obj.layout, _sparse_parts(obj)))
        if isinstance(obj, layout):
            return (_Global("torch.serialization", "_get_layout"), (repr(obj),))
        if isinstance(obj, Tensor) and not is_lazy(obj):   # an uninitialized placeholder pickles as its class
            if isinstance(obj, Parameter):
                return (_Global("torch._utils", "_rebuild_parameter"),
                        (obj.detach(), obj.requires_grad, OrderedDict()))
            t = obj
            if t._storage.device is META:   # no data to write: torch's rebuild of a meta tensor from its geometry
                return (_Global("torch._utils", "_rebuild_meta_tensor_no_storage"),
                        (t._dtype, tuple(t._shape), tuple(t._stride), obj.requires_grad))
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



def _sparse_parts(t):
    if t.layout is sparse_coo:
        return (t._indices(), t._values(), Size(t._shape), t.is_coalesced())
    if t.layout is sparse_csr:
        return (t.crow_indices(), t.col_indices(), t.values(), Size(t._shape))
    raise NotImplementedError(f"torch_js.save: saving a {t.layout!r} tensor is not supported")


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
    """Save obj as `torch.save` does: PyTorch's zip checkpoint format, or with _use_new_zipfile_serialization=False
    the legacy format of torch < 1.6 (both readable by `torch.load(..., weights_only=True)`); the pickles in
    protocol `pickle_protocol`."""
    pickle_protocol = operator.index(pickle_protocol)   # pickle's checks and messages; < 0 is the highest
    if pickle_protocol < 0:
        pickle_protocol = pickle.HIGHEST_PROTOCOL
    if pickle_protocol > pickle.HIGHEST_PROTOCOL:
        raise ValueError(f"pickle protocol must be <= {pickle.HIGHEST_PROTOCOL}")
    buf = io.BytesIO()
    storages = {}
    p = _TorchPickler(buf, storages, pickle_protocol, legacy=not _use_new_zipfile_serialization)
    p.dump(obj)
    data_pkl = buf.getvalue()
    close = False
    if isinstance(f, (str, os.PathLike)):
        f = open(f, "wb")
        close = True
    try:
        if not _use_new_zipfile_serialization:
            _write_legacy(f, data_pkl, storages, pickle_protocol)
            return
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


def _write_legacy(f, data_pkl, storages, protocol):
    """The legacy format (what torch.save writes with _use_new_zipfile_serialization=False): pickles of the magic
    number, the protocol version, the system information, the object (data_pkl) and the sorted storage keys, then
    each storage in that key order as its element count (int64, little endian) and its bytes."""
    sys_info = {"protocol_version": LEGACY_PROTOCOL_VERSION, "little_endian": True,
                "type_sizes": {"short": 2, "int": 4, "long": 4}}
    for header in (LEGACY_MAGIC_NUMBER, LEGACY_PROTOCOL_VERSION, sys_info):
        f.write(pickle.dumps(header, protocol=protocol))
    f.write(data_pkl)
    by_key = {key: (st, dt) for key, st, dt in storages.values()}
    keys = sorted(by_key)
    f.write(pickle.dumps(keys, protocol=protocol))
    for key in keys:
        st, dt = by_key[key]
        f.write(struct.pack("<q", st.nbytes // dt.itemsize))
        f.write(_storage_bytes(st))


# ---- loading ---------------------------------------------------------------------------------------------------

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
    if dev.type in ("cpu", "cuda", "mps") or t._storage.device is dev:
        return t
    return t.to(dev)


def _walk(obj, fn, memo):
    """Apply fn to every tensor in a loaded container (map_location), keeping identity and sharing. The loader
    bounds the nesting depth, so the recursion is bounded too."""
    if id(obj) in memo:
        return memo[id(obj)]
    if isinstance(obj, Tensor):
        r = fn(obj)
    elif isinstance(obj, Module):
        r = obj._apply(fn)
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


def _storage_loader(archive, prefix):
    """persistent_load for data.pkl: ('storage', torch.<T>Storage, key, location, numel) -> the record, read once
    per key; its size must be exactly numel elements of the storage type's dtype (as torch's reader demands)."""
    loaded = {}
    backend = _CPU_BACKEND[0]

    def persistent_load(pid):
        if type(pid) is not tuple or len(pid) != 5 or pid[0] != "storage":
            raise pickle.UnpicklingError(f"torch_js.load: only persistent ids of storages are allowed, not "
                                         f"{_what(pid)}")
        _, stype, key, location, numel = pid
        if not isinstance(stype, StorageType):
            raise pickle.UnpicklingError(f"torch_js.load: storage record names a {_short(stype)} as its type, not "
                                         "a storage type")
        if type(key) is not str or type(location) is not str or type(numel) is not int or numel < 0:
            raise pickle.UnpicklingError("torch_js.load: malformed storage record: expected a str key, a str "
                                         "location and a non-negative int element count")
        if key in loaded:
            return loaded[key]
        dtype = stype.dtype
        rec = prefix + "data/" + key
        if rec not in archive:
            raise RuntimeError(f"torch_js.load: PytorchStreamReader failed locating file data/{_short(key)}: file "
                               "not found")
        size = archive.file_size(rec)
        if size != numel * dtype.itemsize:
            raise RuntimeError(f"torch_js.load: record size ({size} bytes) does not match expected size "
                               f"({numel * dtype.itemsize} bytes = {numel} elements * {dtype.itemsize} "
                               f"bytes/element) for dtype {dtype.name}")
        ls = LoadedStorage(backend.from_bytes(archive.read(rec)), dtype, numel)
        loaded[key] = ls
        return ls

    return persistent_load


def _read_all(f):
    if isinstance(f, (str, os.PathLike)):
        with open(f, "rb") as fh:
            return fh.read()
    return f.read() if hasattr(f, "read") else bytes(f)


UNSAFE_MESSAGE = ("In PyTorch 2.6, we changed the default value of the `weights_only` argument in `torch.load` from "
                  "`False` to `True`. Re-running `torch.load` with `weights_only` set to `False` will likely succeed, "
                  "but it can result in arbitrary code execution. Do it only if you got the file from a trusted "
                  "source.")
DOCS_MESSAGE = ("\n\nCheck the documentation of torch.load to learn more about types accepted by default with "
                "weights_only https://pytorch.org/docs/stable/generated/torch.load.html.")


def weights_only_message(message):
    """PyTorch's wording around an error of the weights_only unpickler."""
    if "was not an allowed global by default." in message:
        text = ("Weights only load failed. This file can still be loaded, to do so you have two options, "
                "\033[1mdo those steps only if you trust the source of the checkpoint\033[0m. "
                f"\n\t(1) {UNSAFE_MESSAGE}\n\t(2) Alternatively, to load with `weights_only=True` please check "
                "the recommended steps in the following error message.\n\tWeightsUnpickler error: " + message)
    else:
        text = f"Weights only load failed. {UNSAFE_MESSAGE}\n"
        if "is blocked." not in message:
            text += ("Please file an issue with the following so that we can make `weights_only=True` compatible "
                     "with your use case: WeightsUnpickler error: ")
        text += "\n\n" + message
    return text + DOCS_MESSAGE


def _open_archive(data):
    """(archive, prefix of its records) of a zip checkpoint."""
    archive = Archive(data)
    names = archive.names
    pkl_names = [n for n in names if n.endswith("/data.pkl") and n.count("/") == 1] or \
        [n for n in names if n == "data.pkl"]
    if not pkl_names:
        raise RuntimeError("torch_js.load: archive has no data.pkl")
    prefix = pkl_names[0][: -len("data.pkl")]
    if prefix + "byteorder" in archive:
        order = archive.read(prefix + "byteorder").decode("utf-8", "replace").strip()
        if order != "little":
            raise RuntimeError(f"torch_js.load: byteorder '{_short(order)}' is not supported")
    return archive, prefix


def load(f, map_location=None, pickle_module=None, *, weights_only=None, mmap=None, **pickle_load_args):
    """Load a checkpoint written by torch.save (zip format, or the legacy format of torch < 1.6 and
    `_use_new_zipfile_serialization=False`) or torch_js.save.

    weights_only=True (the default, as in PyTorch 2.6+): the restricted unpickler (nothing in the file runs;
    tensors only from validated views of storage records; other globals only when marked safe with
    torch.serialization.add_safe_globals). weights_only=False: Python's unpickler for a trusted file (a whole
    pickled nn.Module; torch.* classes resolve to torch_js's). map_location: None/'cpu' keep tensors on the CPU;
    'webgpu' or 'meta' (or a torch_js.device) moves them there. A damaged or hostile file raises (RuntimeError for the
    archive, pickle.UnpicklingError for its pickle), never crashes or allocates without bound."""
    if weights_only is None:
        weights_only = pickle_module is None     # PyTorch's default: weights only unless a pickle module is given
    elif weights_only and pickle_module is not None:
        raise RuntimeError("Can not safely load weights when explicit pickle_module is specified")
    encoding = pickle_load_args.get("encoding", "utf-8")
    data = _read_all(f)
    pending_sparse.clear()
    try:
        obj = _load(data, weights_only, encoding)
        validate_loaded_sparse()
    finally:
        pending_sparse.clear()
    if map_location is not None:
        obj = _walk(obj, lambda t: _map_location(t, map_location), {})
    return obj


def _load(data, weights_only, encoding):
    """The object a checkpoint's bytes hold (zip or legacy format)."""
    if not zipfile.is_zipfile(io.BytesIO(data)):
        if data[:4] == b"PK\x03\x04":
            raise RuntimeError("torch_js.load: PytorchStreamReader failed reading zip archive: failed finding "
                               "central directory. The checkpoint file is damaged, truncated or not a checkpoint")
        if is_legacy(data):
            return load_legacy(data, weights_only, encoding,
                               lambda e: pickle.UnpicklingError(weights_only_message(str(e))))
        if len(data) > 262 and data[257:262] == b"ustar":
            raise RuntimeError("torch_js.load: this is a tar-format torch checkpoint (torch < 0.1.10), which "
                               "torch_js does not read; re-save it with a current torch.save")
        raise RuntimeError("torch_js.load: not a PyTorch zip checkpoint")
    archive, prefix = _open_archive(data)
    pkl = archive.read(prefix + "data.pkl")
    storages = _storage_loader(archive, prefix)
    if weights_only:
        try:
            obj = RestrictedUnpickler(io.BytesIO(pkl), len(pkl), storages).load()
        except pickle.UnpicklingError as e:
            raise pickle.UnpicklingError(weights_only_message(str(e))) from None
    else:
        obj = load_trusted(io.BytesIO(pkl), storages, encoding)
    return obj
