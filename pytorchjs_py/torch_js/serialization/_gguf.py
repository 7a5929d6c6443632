"""GGUF, llama.cpp's model file: load_gguf(f, dequantize=True) -> (tensors, metadata). torch_js's own reader
(PyTorch has none); pure Python, no numpy.

Layout (version 2 and 3, little-endian): b"GGUF", uint32 version, uint64 tensor count, uint64 key/value count; the
key/values (a string key, a uint32 value type, the value: a scalar, a string = uint64 length + UTF-8 bytes, or an
array = uint32 element type + uint64 count + elements, arrays of arrays allowed); the tensor infos (name, uint32
n_dims <= 4, uint64 ne[n_dims] fastest dimension first, uint32 ggml type, uint64 offset into the data section);
padding to `general.alignment` (default 32); the data section, each tensor at an aligned offset.

ggml's ne = [K, N] is the torch shape (N, K): dimensions are reversed. Block types pack ne[0] in blocks of 32
(or 256) weights: Q8_0 = float16 d, 32 int8 q (w = d*q); Q4_0 = float16 d, 16 bytes (w = d*(q - 8)); Q4_1 = float16
d, float16 m, 16 bytes (w = d*q + m); in the 16 bytes, byte j holds element j in its low nibble and j + 16 in its
high one. Dequantisation computes in float32 as llama.cpp's reference code (and the gguf package's) does.

A damaged or hostile file raises GGUFError (a ValueError) naming the problem before anything large is allocated:
every count, string length, array length and tensor extent is checked against the bytes left in the file before
it is used, tensors must lie inside the data section without overlapping (so the tensors made never exceed the
file's own size, x8 at most for 4-bit blocks dequantised to float32), keys and tensor names are unique, and the
alignment is a power of two. A known but unsupported block type raises NotImplementedError naming it when it
would be dequantised (dequantize=False hands its raw blocks back).
"""
import os
import struct

from .. import _dtype as D
from .._tensor import _CPU_BACKEND, _make, contiguous_strides
from ..ops.joining import cat

GGUF_MAGIC = b"GGUF"
DEFAULT_ALIGNMENT = 32
MAX_DIMS = 4                   # GGML_MAX_DIMS
MAX_ARRAY_NESTING = 16         # arrays of arrays: deeper is refused (bounds the reader's recursion)
INT64_MAX = (1 << 63) - 1

# GGUF metadata value types
_UINT8, _INT8, _UINT16, _INT16, _UINT32, _INT32, _FLOAT32, _BOOL, _STRING, _ARRAY, _UINT64, _INT64, _FLOAT64 = \
    range(13)
_SCALAR_FORMATS = {_UINT8: "B", _INT8: "b", _UINT16: "H", _INT16: "h", _UINT32: "I", _INT32: "i", _FLOAT32: "f",
                   _BOOL: "B", _UINT64: "Q", _INT64: "q", _FLOAT64: "d"}
_VALUE_TYPE_NAMES = ["UINT8", "INT8", "UINT16", "INT16", "UINT32", "INT32", "FLOAT32", "BOOL", "STRING", "ARRAY",
                     "UINT64", "INT64", "FLOAT64"]
_MIN_VALUE_BYTES = {**{t: struct.calcsize("<" + f) for t, f in _SCALAR_FORMATS.items()}, _STRING: 8, _ARRAY: 12}

# ggml tensor types: id -> (name, weights per block, bytes per block) (ggml.h / the gguf package's table)
GGML_TYPES = {0: ("F32", 1, 4), 1: ("F16", 1, 2), 2: ("Q4_0", 32, 18), 3: ("Q4_1", 32, 20), 6: ("Q5_0", 32, 22),
              7: ("Q5_1", 32, 24), 8: ("Q8_0", 32, 34), 9: ("Q8_1", 32, 40), 10: ("Q2_K", 256, 84),
              11: ("Q3_K", 256, 110), 12: ("Q4_K", 256, 144), 13: ("Q5_K", 256, 176), 14: ("Q6_K", 256, 210),
              15: ("Q8_K", 256, 292), 16: ("IQ2_XXS", 256, 66), 17: ("IQ2_XS", 256, 74), 18: ("IQ3_XXS", 256, 98),
              19: ("IQ1_S", 256, 50), 20: ("IQ4_NL", 32, 18), 21: ("IQ3_S", 256, 110), 22: ("IQ2_S", 256, 82),
              23: ("IQ4_XS", 256, 136), 24: ("I8", 1, 1), 25: ("I16", 1, 2), 26: ("I32", 1, 4), 27: ("I64", 1, 8),
              28: ("F64", 1, 8), 29: ("IQ1_M", 256, 56), 30: ("BF16", 1, 2), 34: ("TQ1_0", 256, 54),
              35: ("TQ2_0", 256, 66), 39: ("MXFP4", 32, 17)}
# types that are plain elements: their torch dtype
_PLAIN_DTYPES = {"F32": D.float32, "F16": D.float16, "BF16": D.bfloat16, "F64": D.float64, "I8": D.int8,
                 "I16": D.int16, "I32": D.int32, "I64": D.int64}


class GGUFError(ValueError):
    """An invalid GGUF file."""


def _error(message):
    return GGUFError(f"load_gguf: invalid GGUF file: {message}")


def _shown(name):
    return repr(name[:100]) if isinstance(name, str) else repr(bytes(name[:100]))


class _Reader:
    """Bounded little-endian reads from the file's bytes: every read checks the bytes left first."""

    def __init__(self, data):
        self.data = data
        self.pos = 0

    def left(self):
        return len(self.data) - self.pos

    def need(self, nbytes, what):
        if nbytes > self.left():
            raise _error(f"{what} needs {nbytes} bytes at offset {self.pos}, but the file has {self.left()} left "
                         f"(truncated or a corrupt count)")

    def unpack(self, fmt, what):
        size = struct.calcsize(fmt)
        self.need(size, what)
        values = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += size
        return values

    def u32(self, what):
        return self.unpack("<I", what)[0]

    def u64(self, what):
        return self.unpack("<Q", what)[0]

    def raw_string(self, what):
        n = self.u64(f"the length of {what}")
        self.need(n, f"{what} ({n} bytes)")
        s = bytes(self.data[self.pos:self.pos + n])
        self.pos += n
        return s

    def name(self, what):
        """A string that must be UTF-8 (a key, a tensor name)."""
        raw = self.raw_string(what)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise _error(f"{what} {_shown(raw)} is not UTF-8") from None

    def string_value(self, what):
        """A string value: str when UTF-8, else its bytes (nothing lost, nothing refused)."""
        raw = self.raw_string(what)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return raw

    def value(self, vtype, what, depth=0):
        if vtype in _SCALAR_FORMATS:
            (v,) = self.unpack("<" + _SCALAR_FORMATS[vtype], what)
            return bool(v) if vtype == _BOOL else v
        if vtype == _STRING:
            return self.string_value(what)
        if vtype == _ARRAY:
            return self.array(what, depth + 1)
        raise _error(f"{what} has unknown value type {vtype}")

    def array(self, what, depth):
        if depth > MAX_ARRAY_NESTING:
            raise _error(f"{what} nests arrays deeper than {MAX_ARRAY_NESTING}")
        etype = self.u32(f"the element type of {what}")
        count = self.u64(f"the length of {what}")
        if etype not in _MIN_VALUE_BYTES:
            raise _error(f"{what} has unknown element type {etype}")
        # a declared count is checked against the bytes left before anything is made of it
        self.need(count * _MIN_VALUE_BYTES[etype], f"{what} ({count} x {_VALUE_TYPE_NAMES[etype]})")
        if etype in _SCALAR_FORMATS:
            fmt = f"<{count}{_SCALAR_FORMATS[etype]}"
            values = list(struct.unpack_from(fmt, self.data, self.pos))
            self.pos += struct.calcsize(fmt)
            return [bool(v) for v in values] if etype == _BOOL else values
        item = f"an element of {what}"
        if etype == _STRING:
            return [self.string_value(item) for _ in range(count)]
        return [self.array(item, depth + 1) for _ in range(count)]


class GGUFQuantized:
    """A block-quantised GGUF tensor kept as its raw blocks (load_gguf(..., dequantize=False)): `type_name` (the
    ggml type, e.g. "Q4_1"), `shape` (torch order: (N, K) for ggml's ne = [K, N]) and `data`, a uint8 tensor
    (rows, bytes per row) holding the blocks as the file does. `scheme` ("q4_1") is the name torch_js.quant
    takes: BlockQuantLinear.from_blocks(q.scheme, q.data, *q.shape) for a 2-d weight."""

    def __init__(self, type_name, shape, data):
        self.type_name = type_name
        self.shape = tuple(shape)
        self.data = data

    @property
    def scheme(self):
        return self.type_name.lower()

    def dequantize(self):
        """The float32 tensor the blocks stand for (NotImplementedError for a type torch_js cannot expand)."""
        return _dequantize(self.type_name, self.data.reshape(-1), self.shape, "<tensor>")

    def __repr__(self):
        return f"GGUFQuantized(type_name={self.type_name!r}, shape={self.shape}, nbytes={self.data.numel()})"


def _cpu_tensor(raw, shape, dtype):
    """A new CPU tensor over a copy of raw's bytes (bytes-like holding exactly the elements of `shape`)."""
    shape = tuple(shape)
    return _make(_CPU_BACKEND[0].from_bytes(raw if type(raw) is bytes else bytes(raw)), shape, contiguous_strides(shape), 0, dtype)


def _halves_at(blocks, block_bytes, at):
    """float32 (n_blocks, 1): the little-endian float16 at byte `at` of every block (C-speed strided slices)."""
    n = len(blocks) // block_bytes
    halves = bytearray(2 * n)
    halves[0::2] = blocks[at::block_bytes]
    halves[1::2] = blocks[at + 1::block_bytes]
    return _cpu_tensor(halves, (n, 1), D.float16).float()


def _nibbles(block_tensor, begin):
    """uint8 (n_blocks, 32): the 16 bytes at `begin` of each block, low nibbles (elements 0..15) then high ones."""
    qs = block_tensor[:, begin:begin + 16]
    return cat([qs & 15, qs >> 4], 1)


def _dequantize(type_name, raw, shape, name):
    """float32 tensor of `shape` from the bytes of a tensor of ggml type `type_name` (raw: bytes or uint8 tensor)."""
    if not isinstance(raw, (bytes, bytearray, memoryview)):
        raw = raw._raw_bytes()
    raw = bytes(raw)
    if type_name in _PLAIN_DTYPES:
        t = _cpu_tensor(raw, shape, _PLAIN_DTYPES[type_name])
        return t.float() if type_name in ("F16", "BF16") else t
    if type_name not in ("Q8_0", "Q4_0", "Q4_1"):
        raise NotImplementedError(f"load_gguf: tensor {_shown(name)} has ggml type {type_name}, which torch_js "
                                  "cannot dequantise (it reads F32, F16, BF16, F64, I8-I64, Q8_0, Q4_0 and Q4_1); "
                                  "pass dequantize=False for its raw blocks")
    block_bytes = {"Q8_0": 34, "Q4_0": 18, "Q4_1": 20}[type_name]
    n_blocks = len(raw) // block_bytes
    blocks = _cpu_tensor(raw, (n_blocks, block_bytes), D.uint8)
    d = _halves_at(raw, block_bytes, 0)
    if type_name == "Q8_0":
        w = blocks[:, 2:].contiguous().view(D.int8).float() * d
    elif type_name == "Q4_0":
        w = (_nibbles(blocks, 2).float() - 8) * d
    else:
        w = _nibbles(blocks, 4).float() * d + _halves_at(raw, block_bytes, 2)
    return w.reshape(shape)


def _read_bytes(f):
    if isinstance(f, (bytes, bytearray, memoryview)):
        return memoryview(f).cast("B")
    if isinstance(f, (str, os.PathLike)):
        with open(f, "rb") as fh:
            return memoryview(fh.read())
    return memoryview(f.read())


def _header(r):
    """(version, tensor count, kv count) after checking the magic and version."""
    magic = bytes(r.data[:4])
    if magic != GGUF_MAGIC:
        raise _error(f"bad magic {magic!r} (a GGUF file starts with b'GGUF')")
    r.pos = 4
    version = r.u32("the version")
    if version not in (2, 3):
        swapped = struct.unpack("<I", struct.pack(">I", version))[0]
        if swapped in (2, 3):
            raise _error(f"a big-endian GGUF file (version {swapped}); torch_js reads little-endian files")
        if version == 1:
            raise _error("GGUF version 1 (32-bit counts) is not supported; torch_js reads versions 2 and 3")
        raise _error(f"unsupported GGUF version {version} (torch_js reads versions 2 and 3)")
    return version, r.u64("the tensor count"), r.u64("the key/value count")


def _metadata(r, kv_count):
    r.need(kv_count * 13, f"{kv_count} key/value pairs")      # each: an 8-byte key length, a type, a 1-byte value
    meta = {}
    for i in range(kv_count):
        key = r.name(f"key #{i}")
        vtype = r.u32(f"the value type of key {_shown(key)}")
        value = r.value(vtype, f"the value of key {_shown(key)}")
        if key in meta:
            raise _error(f"duplicate key {_shown(key)}")
        meta[key] = value
    return meta


def _alignment(meta):
    alignment = meta.get("general.alignment", DEFAULT_ALIGNMENT)
    if type(alignment) is not int or alignment <= 0 or alignment & (alignment - 1):
        raise _error(f"general.alignment must be a positive power of two, got {alignment!r}")
    return alignment


def _tensor_infos(r, tensor_count, alignment):
    """[(name, type name, ne, offset, nbytes)] with every dimension and extent checked for overflow."""
    r.need(tensor_count * 24, f"{tensor_count} tensor infos")  # each: name length, n_dims, type, offset
    infos, names = [], set()
    for i in range(tensor_count):
        name = r.name(f"the name of tensor #{i}")
        what = f"tensor {_shown(name)}"
        if name in names:
            raise _error(f"duplicate tensor name {_shown(name)}")
        names.add(name)
        n_dims = r.u32(f"the dimension count of {what}")
        if n_dims > MAX_DIMS:
            raise _error(f"{what} has {n_dims} dimensions (ggml has at most {MAX_DIMS})")
        ne = r.unpack(f"<{n_dims}Q", f"the dimensions of {what}")
        type_id = r.u32(f"the type of {what}")
        offset = r.u64(f"the data offset of {what}")
        if type_id not in GGML_TYPES:
            raise _error(f"{what} has unknown ggml type {type_id}")
        type_name, block, block_bytes = GGML_TYPES[type_id]
        numel = 1
        for n in ne:
            if n > INT64_MAX:
                raise _error(f"{what} has a negative dimension ({n - (1 << 64)})")
            numel *= n
            if numel > INT64_MAX:
                raise _error(f"{what} has dimensions {list(ne)} whose element count overflows int64")
        if (ne[0] if ne else 1) % block:
            raise _error(f"{what} of type {type_name} has a first dimension {ne[0] if ne else 1} that is not a "
                         f"multiple of its block size {block}")
        if offset % alignment:
            raise _error(f"{what} has data offset {offset}, not a multiple of the alignment {alignment}")
        infos.append((name, type_name, ne, offset, numel // block * block_bytes))
    return infos


def _check_extents(infos, data_size):
    """Every tensor inside the data section, none overlapping another (so what is made is bounded by the file)."""
    end, last = 0, None
    for name, _, _, offset, nbytes in sorted(infos, key=lambda info: (info[3], info[4])):
        if offset + nbytes > data_size:
            raise _error(f"tensor {_shown(name)} spans bytes [{offset}, {offset + nbytes}) of a data section of "
                         f"{data_size} bytes")
        if offset < end:
            raise _error(f"tensor {_shown(name)} overlaps tensor {_shown(last)} in the data section")
        end, last = offset + nbytes, name


def load_gguf(f, dequantize=True):
    """Read a GGUF file (a path, a binary file, or bytes) -> (tensors, metadata).

    tensors: dict name -> Tensor in torch order (ggml's ne = [K, N] gives shape (N, K)), in file order. With
    dequantize=True (the default) float16/bfloat16 and the block types Q8_0, Q4_0, Q4_1 come back as float32
    (other block types raise NotImplementedError); with dequantize=False, float16/bfloat16 keep their dtype and
    block types come back as GGUFQuantized records (type name, shape, raw block bytes as a uint8 tensor).
    Integer and float64 tensors keep their dtype. metadata: dict key -> value (int, float, bool, str — bytes for
    a string that is not UTF-8 — or a list of those), in file order. An invalid file raises GGUFError."""
    data = _read_bytes(f)
    if len(data) < 4:
        raise _error(f"{len(data)} bytes is too short for a GGUF header")
    r = _Reader(data)
    _, tensor_count, kv_count = _header(r)
    meta = _metadata(r, kv_count)
    alignment = _alignment(meta)
    infos = _tensor_infos(r, tensor_count, alignment)
    data_start = -(-r.pos // alignment) * alignment
    if infos and data_start > len(data):
        raise _error(f"the data section would start at {data_start}, past the end of the file ({len(data)} bytes)")
    _check_extents(infos, max(0, len(data) - data_start))
    tensors = {}
    for name, type_name, ne, offset, nbytes in infos:
        shape = tuple(reversed(ne))
        raw = data[data_start + offset:data_start + offset + nbytes]
        if type_name in _PLAIN_DTYPES and not dequantize:
            tensors[name] = _cpu_tensor(raw, shape, _PLAIN_DTYPES[type_name])
        elif dequantize:
            tensors[name] = _dequantize(type_name, raw, shape, name)
        else:
            rows = 1
            for n in shape[:-1]:
                rows *= n
            tensors[name] = GGUFQuantized(type_name, shape, _cpu_tensor(raw, (rows, nbytes // max(rows, 1)),
                                                                        D.uint8))
    return tensors, meta


__all__ = ["load_gguf", "GGUFError", "GGUFQuantized", "GGML_TYPES"]
