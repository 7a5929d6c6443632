"""torch_js.load of legacy checkpoints: what torch.save wrote before PyTorch 1.6 (and still writes with
`_use_new_zipfile_serialization=False`), read under the zip loader's safety rules.

The file is a sequence of pickles, then raw bytes:
  1. the magic number 0x1950a86a20f9469cfc6c, 2. the protocol version 1001, 3. a dict of system information,
  4. the object, whose storages are persistent ids ('storage', torch.<T>Storage, key, location, numel, view),
  5. the list of the storages' keys, then for each key in that order: its element count as an int64 (little
     endian) and its raw little-endian bytes.
Tensors in (4) are views of storages whose bytes come only after it, so a storage is allocated when (4) first
names it and filled from (5).

Nothing in the file runs with weights_only=True: every pickle goes through the restricted unpickler (pickles 1-3
and 5 can hold only plain data there too). Sizes are bounded before anything is allocated: the storages the object
names may not add up to more bytes than the file holds (every byte of a storage is in the file), and each record
must state exactly its storage's element count and lie inside the file. A storage named but given no record, a
record for a key the object does not name, or a key listed twice is refused. Storage views (view metadata, from
torch < 0.4) are refused: torch.save has not written them since.
"""
import io
import pickle
import struct

from .. import _dtype as D
from .._storage import check_alloc
from .._tensor import _CPU_BACKEND, _make
from ._trusted import load_trusted
from ._unpickler import LoadedStorage, RestrictedUnpickler, StorageType, _short, _what

MAGIC_NUMBER = 0x1950a86a20f9469cfc6c
PROTOCOL_VERSION = 1001
MAX_KEYS = 1 << 20              # one key per storage, as the zip loader's member cap


def is_legacy(data):
    """Whether data starts like a legacy checkpoint: a pickle (protocol 2 or more) of the magic number."""
    return data[:1] == b"\x80" and len(data) > 2 and 2 <= data[1] <= 5


def _header(f, length, what):
    """One of the plain-data pickles around the object, through the restricted unpickler."""
    try:
        return RestrictedUnpickler(f, length).load()
    except pickle.UnpicklingError as e:
        raise pickle.UnpicklingError(f"torch_js.load: legacy checkpoint: reading its {what}: {e}") from None


class _Storages:
    """The persistent_load of the object's pickle: each root storage allocated once (bounded by the file's length),
    to be filled from its record later."""

    def __init__(self, file_size, trusted):
        self.file_size = file_size
        self.trusted = trusted
        self.total = 0
        self.by_key = {}              # key -> LoadedStorage

    def persistent_load(self, pid):
        if type(pid) is not tuple or not pid:
            raise pickle.UnpicklingError(f"torch_js.load: legacy checkpoint: a persistent id must be a tuple, not "
                                         f"{_what(pid)}")
        if pid[0] == "module" and self.trusted and len(pid) == 4:
            return pid[1]             # a pickled nn.Module's class (weights_only=False), its source text ignored
        if pid[0] != "storage" or len(pid) != 6:
            raise pickle.UnpicklingError("torch_js.load: legacy checkpoint: only persistent ids of storages "
                                         "('storage', type, key, location, numel, view) are allowed, not "
                                         f"{_what(pid[0])} with {len(pid)} fields")
        _, stype, key, location, numel, view = pid
        if not isinstance(stype, StorageType):
            raise pickle.UnpicklingError(f"torch_js.load: legacy checkpoint: storage record names a "
                                         f"{_short(stype)} as its type, not a storage type")
        if type(key) is not str or type(location) is not str or type(numel) is not int or numel < 0:
            raise pickle.UnpicklingError("torch_js.load: legacy checkpoint: malformed storage record: expected a "
                                         "str key, a str location and a non-negative int element count")
        if view is not None:
            raise pickle.UnpicklingError("torch_js.load: legacy checkpoint: storage views (view metadata, written "
                                         "by torch < 0.4) are not supported")
        dtype = stype.dtype
        known = self.by_key.get(key)
        if known is not None:
            if known.dtype is not dtype or known.numel != numel:
                raise pickle.UnpicklingError(f"torch_js.load: legacy checkpoint: storage {_short(key)!r} is named "
                                             f"as {known.numel} {known.dtype.name} elements and as {numel} "
                                             f"{dtype.name} elements")
            return known
        nbytes = numel * dtype.itemsize
        self.total += nbytes
        if self.total > self.file_size:
            raise RuntimeError(f"torch_js.load: legacy checkpoint: its storages declare {self.total} bytes (storage "
                               f"{_short(key)!r}: {numel} {dtype.name} elements), more than the {self.file_size}-byte "
                               "file holds")
        check_alloc(nbytes)
        ls = LoadedStorage(_CPU_BACKEND[0].alloc(nbytes), dtype, numel)
        self.by_key[key] = ls
        return ls


def _fill(storages, keys, data, pos):
    """Copy each key's record, from data[pos:], into its storage."""
    if type(keys) is not list or len(keys) > MAX_KEYS or any(type(k) is not str for k in keys):
        raise RuntimeError("torch_js.load: legacy checkpoint: the storage keys must be a list of str")
    if len(set(keys)) != len(keys):
        raise RuntimeError("torch_js.load: legacy checkpoint: a storage key is listed twice")
    missing = set(storages.by_key) - set(keys)
    if missing:
        raise RuntimeError(f"torch_js.load: legacy checkpoint: no data for storage {_short(min(missing))!r} (its "
                           "key is not in the list of storage keys)")
    backend = _CPU_BACKEND[0]
    for key in keys:
        ls = storages.by_key.get(key)
        if ls is None:
            raise RuntimeError(f"torch_js.load: legacy checkpoint: storage key {_short(key)!r} not found in the "
                               "object's storages")
        if pos + 8 > len(data):
            raise RuntimeError(f"torch_js.load: legacy checkpoint: unexpected EOF reading the size of storage "
                               f"{_short(key)!r}. The file might be corrupted.")
        (numel,) = struct.unpack_from("<q", data, pos)
        pos += 8
        nbytes = ls.numel * ls.dtype.itemsize
        if numel != ls.numel:
            raise RuntimeError(f"torch_js.load: legacy checkpoint: storage {_short(key)!r} has wrong byte size: "
                               f"expected {numel * ls.dtype.itemsize} got {nbytes}")
        if pos + nbytes > len(data):
            raise RuntimeError(f"torch_js.load: legacy checkpoint: unexpected EOF, expected "
                               f"{pos + nbytes - len(data)} more bytes. The file might be corrupted.")
        if nbytes:
            dst = _make(ls.storage, (nbytes,), (1,), 0, D.uint8)
            src = _make(backend.from_bytes(data[pos:pos + nbytes]), (nbytes,), (1,), 0, D.uint8)
            backend.copy(dst, src)
        pos += nbytes


def load_legacy(data, weights_only, encoding, on_error):
    """The object a legacy checkpoint holds. on_error(UnpicklingError) words a weights_only refusal as the zip
    loader does."""
    f = io.BytesIO(data)
    n = len(data)
    magic = _header(f, n, "magic number")
    if type(magic) is not int or magic != MAGIC_NUMBER:
        raise RuntimeError("torch_js.load: Invalid magic number; corrupt file? (neither a zip checkpoint nor a "
                           "legacy one)")
    version = _header(f, n, "protocol version")
    if type(version) is not int or version != PROTOCOL_VERSION:
        raise RuntimeError(f"torch_js.load: legacy checkpoint: Invalid protocol version: {_what(version)}")
    sys_info = _header(f, n, "system information")
    if type(sys_info) is not dict:
        raise RuntimeError(f"torch_js.load: legacy checkpoint: the system information is a {_what(sys_info)}, not "
                           "a dict")
    if sys_info.get("little_endian", True) is not True:
        raise RuntimeError("torch_js.load: legacy checkpoint: written on a big-endian machine, which torch_js does "
                           "not read")
    storages = _Storages(n, trusted=not weights_only)
    if weights_only:
        try:
            obj = RestrictedUnpickler(f, n, storages.persistent_load, encoding).load()
        except pickle.UnpicklingError as e:
            raise on_error(e) from None
    else:
        obj = load_trusted(f, storages.persistent_load, encoding)
    keys = _header(f, n, "storage keys")
    _fill(storages, keys, data, f.tell())
    return obj
