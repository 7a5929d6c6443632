"""safetensors: save_safetensors(tensors, f, metadata=None) / load_safetensors(f, device="cpu").

Layout: 8-byte little-endian header length, a JSON header ({name: {dtype, shape, data_offsets}}, optional
"__metadata__" str -> str map), then the raw little-endian data; dtypes F64 F32 F16 BF16 I64 I32 I16 I8 U8 BOOL.

A file is validated as the format's own implementation (the `safetensors` Rust crate) validates it, with its error
wording, before any tensor is made: header length at most 100 MB and inside the file, UTF-8, JSON nested less than
serde_json's recursion limit (checked before parsing, so a deep header cannot exhaust the stack), a known dtype,
a shape of non-negative integers, integer data_offsets [begin, end) with end - begin == numel x itemsize (the
product checked for 64-bit overflow), the ranges sorted by offset tiling the data buffer exactly (no gap, no
overlap, no trailing bytes), `__metadata__` a str -> str map. Errors raise SafetensorError (a ValueError).
"""
import json
import os
import struct
from array import array
from itertools import accumulate

from .. import _dtype as D
from .._tensor import Tensor, _CPU_BACKEND, _make, check_view, contiguous_strides

MAX_HEADER_SIZE = 100_000_000   # the Rust crate's cap
JSON_RECURSION_LIMIT = 128      # serde_json's: a header nested this deep is refused
USIZE_MAX = (1 << 64) - 1
INT64_MAX = (1 << 63) - 1

_ST_DTYPES = {"F64": D.float64, "F32": D.float32, "F16": D.float16, "BF16": D.bfloat16, "I64": D.int64,
              "I32": D.int32, "I16": D.int16, "I8": D.int8, "U8": D.uint8, "BOOL": D.bool_}
_ST_NAMES = {d: n for n, d in _ST_DTYPES.items()}
# every dtype of the format (the crate's Dtype enum, in its order) with its size in bits
_FORMAT_BITS = {"BOOL": 8, "F4": 4, "F6_E2M3": 6, "F6_E3M2": 6, "U8": 8, "I8": 8, "F8_E5M2": 8, "F8_E4M3": 8,
                "F8_E8M0": 8, "F8_E4M3FNUZ": 8, "F8_E5M2FNUZ": 8, "I16": 16, "U16": 16, "F16": 16, "BF16": 16,
                "I32": 32, "U32": 32, "F32": 32, "C64": 64, "F64": 64, "I64": 64, "U64": 64}


class SafetensorError(ValueError):
    """An invalid safetensors file (the safetensors package raises its own SafetensorError for these)."""


def _error(message):
    return SafetensorError(f"Error while deserializing: {message}")


def _json_error(message):
    return _error(f"invalid JSON in header: {message}")


def _kind(value):
    if isinstance(value, bool):
        return f"boolean `{str(value).lower()}`"
    if isinstance(value, int):
        return f"integer `{value}`"
    if isinstance(value, float):
        return f"floating point `{value}`"
    if isinstance(value, str):
        return f"string {json.dumps(value[:60])}"
    return {list: "sequence", dict: "map", type(None): "null"}.get(type(value), type(value).__name__)


_BRACKETS = b"[]{}"
_NOT_BRACKETS = bytes(b for b in range(256) if b not in _BRACKETS)
_SIGNS = bytes.maketrans(b"[]{}", b"\x01\xff\x01\xff")


def json_depth(raw):
    """The deepest [ / { nesting of a JSON text (bytes), strings skipped, without recursion: linear C-speed
    passes. Inside the valid prefix a parser would read this is exact (backslashes occur only in strings there)."""
    s = raw.replace(b"\\\\", b"").replace(b'\\"', b"")
    outside = b"".join(s.split(b'"')[0::2])
    brackets = outside.translate(None, _NOT_BRACKETS)
    if not brackets:
        return 0
    return max(0, max(accumulate(array("b", brackets.translate(_SIGNS)))))


class _DuplicateKey(Exception):
    pass


def _unique_keys(pairs):
    d = {}
    for k, v in pairs:
        if k in d:
            raise _DuplicateKey(k)
        d[k] = v
    return d


def _no_constant(name):
    raise ValueError(f"{name} is not JSON")


def _parse_header(raw):
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise _error(f"invalid UTF-8 in header: {e}") from None
    if json_depth(raw) >= JSON_RECURSION_LIMIT:
        raise _json_error(f"recursion limit exceeded (the header nests deeper than {JSON_RECURSION_LIMIT - 1})")
    try:
        header = json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_no_constant)
    except _DuplicateKey as e:
        raise _json_error(f"duplicate field `{str(e.args[0])[:100]}`") from None
    except (ValueError, RecursionError) as e:
        raise _json_error(str(e)[:200]) from None
    if type(header) is not dict:
        raise _json_error(f"invalid type: {_kind(header)}, expected struct HashMetadata")
    return header


def _usizes(value, what, name, count=None):
    if type(value) is not list:
        raise _json_error(f"invalid type: {_kind(value)}, expected a sequence ({what} of tensor `{name}`)")
    if count is not None and len(value) != count:
        raise _json_error(f"invalid length {len(value)}, expected {count} elements in sequence ({what} of tensor "
                          f"`{name}`)")
    for v in value:
        if type(v) is not int:
            raise _json_error(f"invalid type: {_kind(v)}, expected usize ({what} of tensor `{name}`)")
        if not 0 <= v <= USIZE_MAX:
            raise _json_error(f"invalid value: integer `{v}`, expected usize ({what} of tensor `{name}`)")
    return value


def _tensor_infos(header):
    """(begin, end, name, dtype name, shape) per tensor, checked for types; metadata checked and dropped."""
    meta = header.pop("__metadata__", None)
    if meta is not None:
        if type(meta) is not dict:
            raise _json_error(f"invalid type: {_kind(meta)}, expected a map (__metadata__)")
        for k, v in meta.items():
            if type(v) is not str:
                raise _json_error(f"invalid type: {_kind(v)}, expected a string (__metadata__ entry `{k[:100]}`)")
    infos = []
    for name, info in header.items():
        shown = name[:100]
        if type(info) is not dict:
            raise _json_error(f"invalid type: {_kind(info)}, expected struct TensorInfo (tensor `{shown}`)")
        for field in ("dtype", "shape", "data_offsets"):
            if field not in info:
                raise _json_error(f"missing field `{field}` (tensor `{shown}`)")
        dtype = info["dtype"]
        if type(dtype) is not str:
            raise _json_error(f"invalid type: {_kind(dtype)}, expected a dtype string (tensor `{shown}`)")
        if dtype not in _FORMAT_BITS:
            raise _json_error(f"unknown variant `{dtype[:100]}`, expected one of "
                              f"{', '.join('`' + n + '`' for n in _FORMAT_BITS)} (tensor `{shown}`)")
        shape = _usizes(info["shape"], "shape", shown)
        begin, end = _usizes(info["data_offsets"], "data_offsets", shown, count=2)
        infos.append((begin, end, name, dtype, shape))
    return infos


def _validate(infos):
    """The crate's Metadata::validate: sorted by offsets, the ranges tile [0, end) and each holds its tensor."""
    infos.sort(key=lambda e: (e[0], e[1]))
    start = 0
    for begin, end, name, dtype, shape in infos:
        if begin != start or end < begin:
            raise _error(f"invalid offset for tensor `{name[:100]}`")
        start = end
        n = 1
        for s in shape:
            n *= s
            if n > USIZE_MAX:
                raise _error("overflow computing buffer size from shape and/or element type")
        nbits = n * _FORMAT_BITS[dtype]
        if nbits > USIZE_MAX:
            raise _error("overflow computing buffer size from shape and/or element type")
        if nbits % 8:
            raise _error("The slice is slicing for subbytes dtypes, and the slice does not end up at a byte "
                         "boundary, this is invalid.")
        if end - begin != nbits // 8:
            raise _error(f"invalid shape, data type, or offset for tensor `{name[:100]}`")
    return start


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
    """Read a safetensors file (path, binary file or bytes) into a dict name -> Tensor. An invalid file raises
    SafetensorError (a ValueError) naming the problem, before any tensor is made."""
    if isinstance(f, (bytes, bytearray, memoryview)):
        data = bytes(f)
    elif isinstance(f, (str, os.PathLike)):
        with open(f, "rb") as fh:
            data = fh.read()
    else:
        data = f.read()
    if len(data) < 8:
        raise _error("header too small")
    (n,) = struct.unpack_from("<Q", data, 0)
    if n > MAX_HEADER_SIZE:
        raise _error("header too large")
    if 8 + n > len(data):
        raise _error("invalid header length")
    infos = _tensor_infos(_parse_header(data[8:8 + n]))
    order = [info[2] for info in infos]
    if _validate(infos) + 8 + n != len(data):
        raise _error("incomplete metadata, file not fully covered")
    by_name = {info[2]: info for info in infos}
    for name in order:                            # torch_js's own limits, still before any tensor is made
        dtype_name, shape = by_name[name][3:]
        if dtype_name not in _ST_DTYPES:
            raise ValueError(f"load_safetensors: tensor `{name[:100]}` has dtype {dtype_name}, which torch_js does "
                             f"not support (it reads {', '.join(_ST_DTYPES)})")
        nonzero = 1
        for s in shape:
            nonzero *= s if s > 1 else 1
        if nonzero > INT64_MAX:
            raise ValueError(f"load_safetensors: tensor `{name[:100]}` has size {tuple(shape)}, whose element "
                             "count overflows int64")
    body = memoryview(data)[8 + n:]
    backend = _CPU_BACKEND[0]
    out = {}
    for name in order:
        begin, end, _, dtype_name, shape = by_name[name]
        d = _ST_DTYPES[dtype_name]
        st = backend.from_bytes(bytes(body[begin:end]))
        try:      # core's one check of a view (cannot fail after the checks above; the last gate before kernels)
            shape, stride, _ = check_view(st, shape, contiguous_strides(shape), 0, d, "load_safetensors")
        except (RuntimeError, TypeError) as e:
            raise ValueError(f"load_safetensors: tensor `{name[:100]}`: {e}") from None
        t = _make(st, shape, stride, 0, d)
        if str(device) != "cpu":
            t = t.to(device)
        out[name] = t
    return out
