"""torch_js.load_gguf: GGUF files (llama.cpp's format) read without numpy.

Files written by the `gguf` package (llama.cpp's own Python writer/reader) check every tensor type and metadata
value type against gguf.GGUFReader and gguf.quants.dequantize (skipped where the package is absent, as in
Pyodide). Files built here with struct check block arithmetic by hand and the hostile-file refusals: truncation at
every byte, huge counts and lengths, out-of-range and overlapping extents, bad magic/version; each must raise
GGUFError quickly and without a large allocation (these run in Pyodide too)."""
import io
import math
import struct
import time

import pytest

import torch_js
from torch_js.serialization import GGUFError, GGUFQuantized

try:
    import gguf
    import numpy as np
except ImportError:
    gguf = None
needs_gguf = pytest.mark.skipif(gguf is None, reason="the gguf package (and numpy) not importable")

try:
    import tracemalloc
except ImportError:  # pragma: no cover  (no memory figures there; the refusals are still checked)
    tracemalloc = None

# ---- files written by struct: the format from its definition ---------------------------------------------------

TYPE_IDS = {"F32": 0, "F16": 1, "Q4_0": 2, "Q4_1": 3, "Q8_0": 8, "Q6_K": 14, "I8": 24, "I32": 26, "BF16": 30}


def _string(s):
    raw = s.encode() if isinstance(s, str) else s
    return struct.pack("<Q", len(raw)) + raw


def _kv(key, vtype, payload):
    return _string(key) + struct.pack("<I", vtype) + payload


def _tensor_info(name, ne, type_name, offset):
    return (_string(name) + struct.pack("<I", len(ne)) + struct.pack(f"<{len(ne)}Q", *ne)
            + struct.pack("<IQ", TYPE_IDS[type_name], offset))


def gguf_file(kvs=(), infos=(), data=b"", version=3, alignment=32, magic=b"GGUF", counts=None):
    """A GGUF file from raw parts (kvs: encoded key/values, infos: encoded tensor infos)."""
    n_tensors, n_kv = counts if counts is not None else (len(infos), len(kvs))
    head = magic + struct.pack("<IQQ", version, n_tensors, n_kv) + b"".join(kvs) + b"".join(infos)
    return head + b"\0" * (-len(head) % alignment) + data


def _f16(x):
    return struct.unpack("<e", struct.pack("<e", x))[0]


def _f32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


def _q8_0_block(d, qs):
    return struct.pack("<e32b", d, *qs)


def _q4_block(qs, d, m=None):
    packed = bytes(qs[j] | (qs[j + 16] << 4) for j in range(16))
    return struct.pack("<e", d) + (b"" if m is None else struct.pack("<e", m)) + packed


def _blocks_file():
    """Two rows of 32: one tensor per block type, values known by hand."""
    q8 = [list(range(-16, 16)), [(7 * j) % 255 - 127 for j in range(32)]]
    q4 = [[j % 16 for j in range(32)], [(5 * j + 3) % 16 for j in range(32)]]
    d8 = (0.0123, -3.5)
    d4, m4 = (0.07, 1.5), (-0.3, 2.25)
    tensors = {
        "q8": ("Q8_0", b"".join(_q8_0_block(d8[r], q8[r]) for r in range(2)),
               [[_f32(_f16(d8[r]) * q) for q in q8[r]] for r in range(2)]),
        "q4_0": ("Q4_0", b"".join(_q4_block(q4[r], d4[r]) for r in range(2)),
                 [[_f32(_f16(d4[r]) * (q - 8)) for q in q4[r]] for r in range(2)]),
        "q4_1": ("Q4_1", b"".join(_q4_block(q4[r], d4[r], m4[r]) for r in range(2)),
                 [[_f32(_f32(_f16(d4[r]) * q) + _f16(m4[r])) for q in q4[r]] for r in range(2)]),
    }
    infos, data = [], b""
    for name, (type_name, raw, _) in tensors.items():
        infos.append(_tensor_info(name, [32, 2], type_name, len(data)))
        data += raw + b"\0" * (-len(raw) % 32)
    return gguf_file(infos=infos, data=data), tensors


def test_block_arithmetic_by_hand():
    raw, expected = _blocks_file()
    tensors, meta = torch_js.load_gguf(raw)
    assert meta == {} and list(tensors) == list(expected)
    for name, (type_name, blocks, values) in expected.items():
        t = tensors[name]
        assert t.dtype == torch_js.float32 and tuple(t.shape) == (2, 32)
        assert t.tolist() == values, name                      # exact: float32 arithmetic as llama.cpp's
    quantized, _ = torch_js.load_gguf(io.BytesIO(raw), dequantize=False)
    for name, (type_name, blocks, values) in expected.items():
        q = quantized[name]
        assert isinstance(q, GGUFQuantized) and (q.type_name, q.shape) == (type_name, (2, 32))
        assert q.data.dtype == torch_js.uint8 and bytes(q.data.reshape(-1).tolist()) == blocks
        assert q.dequantize().tolist() == values


def test_plain_tensors_and_metadata_by_hand():
    values = [1.5, -2.0, 3.25, 0.0, 7.0, -0.5]
    f32 = struct.pack("<6f", *values)
    i8 = struct.pack("<4b", -128, -1, 0, 127)
    kvs = [_kv("general.architecture", 8, _string("llama")), _kv("a.u8", 0, b"\xff"), _kv("a.bool", 7, b"\x01"),
           _kv("a.f64", 12, struct.pack("<d", 0.1)), _kv("a.i64", 11, struct.pack("<q", -5)),
           _kv("a.strings", 9, struct.pack("<IQ", 8, 3) + _string("x") + _string("") + _string("é")),
           _kv("a.nested", 9, struct.pack("<IQ", 9, 2) + struct.pack("<IQ2i", 5, 2, 1, -1)
               + struct.pack("<IQ", 5, 0)),
           _kv("a.notutf8", 8, _string(b"\xff\xfe"))]
    infos = [_tensor_info("w", [3, 2], "F32", 0), _tensor_info("ids", [4], "I8", 32)]
    data = f32 + b"\0" * 8 + i8
    tensors, meta = torch_js.load_gguf(gguf_file(kvs, infos, data))
    assert tensors["w"].tolist() == [values[:3], values[3:]]           # ne = [3, 2] is the torch shape (2, 3)
    assert tensors["ids"].dtype == torch_js.int8 and tensors["ids"].tolist() == [-128, -1, 0, 127]
    assert meta == {"general.architecture": "llama", "a.u8": 255, "a.bool": True, "a.f64": 0.1, "a.i64": -5,
                    "a.strings": ["x", "", "é"], "a.nested": [[1, -1], []], "a.notutf8": b"\xff\xfe"}


def test_unsupported_block_type_names_itself():
    raw = gguf_file(infos=[_tensor_info("k", [256], "Q6_K", 0)], data=b"\0" * 224)
    with pytest.raises(NotImplementedError, match="Q6_K"):
        torch_js.load_gguf(raw)
    q = torch_js.load_gguf(raw, dequantize=False)[0]["k"]
    assert (q.type_name, q.shape, q.data.numel()) == ("Q6_K", (256,), 210)


# ---- hostile files ---------------------------------------------------------------------------------------------

def _valid_file():
    kvs = [_kv("general.alignment", 4, struct.pack("<I", 32)),
           _kv("tok", 9, struct.pack("<IQ", 8, 2) + _string("ab") + _string("c"))]
    return gguf_file(kvs, [_tensor_info("w", [32, 1], "Q8_0", 0), _tensor_info("b", [2], "F32", 64)],
                     _q8_0_block(0.5, range(32)) + b"\0" * 30 + struct.pack("<2f", 1, 2))


HUGE = (1 << 64) - 1
HOSTILE = {
    "bad magic": (gguf_file(magic=b"GGUG"), "bad magic"),
    "version 1": (gguf_file(version=1), "version 1"),
    "version 4": (gguf_file(version=4), "unsupported GGUF version 4"),
    "big-endian": (b"GGUF" + struct.pack(">IQQ", 3, 0, 0), "big-endian"),
    "huge tensor count": (gguf_file(counts=(HUGE, 0)), "tensor infos"),
    "huge kv count": (gguf_file(counts=(0, 1 << 62)), "key/value pairs"),
    "huge key length": (b"GGUF" + struct.pack("<IQQQ", 3, 0, 1, HUGE) + b"k" * 16, "key #0"),
    "huge string value": (gguf_file([_kv("k", 8, struct.pack("<Q", 1 << 40))]), "the value of key 'k'"),
    "huge array": (gguf_file([_kv("k", 9, struct.pack("<IQ", 4, 1 << 61))]), "UINT32"),
    "huge string array": (gguf_file([_kv("k", 9, struct.pack("<IQ", 8, 1 << 60))]), "STRING"),
    "deep arrays": (gguf_file([_kv("k", 9, struct.pack("<IQ", 9, 1) * 40)]), "deeper"),
    "unknown value type": (gguf_file([_kv("k", 13, b"")]), "unknown value type 13"),
    "unknown array type": (gguf_file([_kv("k", 9, struct.pack("<IQ", 99, 0))]), "unknown element type 99"),
    "duplicate key": (gguf_file([_kv("k", 0, b"\1"), _kv("k", 0, b"\2")]), "duplicate key"),
    "bad alignment": (gguf_file([_kv("general.alignment", 4, struct.pack("<I", 24))]), "power of two"),
    "zero alignment": (gguf_file([_kv("general.alignment", 4, struct.pack("<I", 0))]), "power of two"),
    "key not utf-8": (gguf_file([_kv(b"\xff", 0, b"\1")]), "not UTF-8"),
    "unknown ggml type": (gguf_file(infos=[_string("w") + struct.pack("<IQIQ", 1, 4, 99, 0)]), "ggml type 99"),
    "5 dims": (gguf_file(infos=[_string("w") + struct.pack("<I5QIQ", 5, 1, 1, 1, 1, 1, 0, 0)]), "5 dimensions"),
    "negative dim": (gguf_file(infos=[_tensor_info("w", [HUGE], "F32", 0)]), "negative dimension"),
    "overflowing dims": (gguf_file(infos=[_tensor_info("w", [1 << 40, 1 << 40], "F32", 0)]), "overflows int64"),
    "partial block": (gguf_file(infos=[_tensor_info("w", [48], "Q8_0", 0)], data=b"\0" * 64), "block size 32"),
    "misaligned offset": (gguf_file(infos=[_tensor_info("w", [1], "F32", 4)], data=b"\0" * 8), "alignment"),
    "offset past end": (gguf_file(infos=[_tensor_info("w", [1], "F32", 1 << 62)], data=b"\0" * 4), "spans"),
    "extent past end": (gguf_file(infos=[_tensor_info("w", [1 << 30], "F32", 0)], data=b"\0" * 64), "spans"),
    "data section past end": (gguf_file(infos=[_tensor_info("w", [0], "F32", 0)])[:-1], "data section"),
    # 50 names for one 4 KB region: read apart they would make 50x the file's size
    "overlapping tensors": (gguf_file(infos=[_tensor_info(f"w{i}", [1024], "F32", 0) for i in range(50)],
                                      data=b"\0" * 4096), "overlaps"),
    "duplicate tensor": (gguf_file(infos=[_tensor_info("w", [1], "F32", 0), _tensor_info("w", [1], "F32", 32)],
                                   data=b"\0" * 36), "duplicate tensor name"),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_files_are_refused(case):
    raw, message = HOSTILE[case]
    if tracemalloc is not None:
        tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(GGUFError, match=message) as info:
            torch_js.load_gguf(raw)
        peak = tracemalloc.get_traced_memory()[1] if tracemalloc is not None else 0
    finally:
        if tracemalloc is not None:
            tracemalloc.stop()
    assert isinstance(info.value, ValueError) and "invalid GGUF file" in str(info.value)
    assert time.perf_counter() - start < 5 and peak < 10_000_000, (case, peak)


def test_every_truncation_is_refused():
    raw = _valid_file()
    tensors, meta = torch_js.load_gguf(raw)                 # the whole file is valid...
    assert tensors["b"].tolist() == [1.0, 2.0] and meta["tok"] == ["ab", "c"]
    assert tensors["w"].tolist() == [[0.5 * q for q in range(32)]]
    for n in range(len(raw)):                               # ... and no prefix of it is
        with pytest.raises(GGUFError):
            torch_js.load_gguf(raw[:n])


# ---- against the gguf package ----------------------------------------------------------------------------------

WRITTEN_TYPES = ["F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "I8", "I16", "I32", "I64", "F64"]


@needs_gguf
def test_every_type_against_gguf(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "types.gguf"
    writer = gguf.GGUFWriter(str(path), "llama")
    arrays = {}
    for i, type_name in enumerate(WRITTEN_TYPES):
        qtype = gguf.GGMLQuantizationType[type_name]
        shape = (3, 64) if i % 2 else (2, 2, 96)
        if type_name.startswith("I"):
            x = rng.integers(-100, 100, size=shape).astype(f"int{type_name[1:]}")
            writer.add_tensor(type_name, x)
        elif type_name in ("F32", "F64", "F16"):
            x = rng.standard_normal(shape).astype({"F32": np.float32, "F64": np.float64, "F16": np.float16}[type_name])
            writer.add_tensor(type_name, x)
        else:
            x = rng.standard_normal(shape).astype(np.float32) * 3
            writer.add_tensor(type_name, gguf.quants.quantize(x, qtype), raw_dtype=qtype)
        arrays[type_name] = shape
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()

    reader = gguf.GGUFReader(str(path))
    tensors, _ = torch_js.load_gguf(str(path))
    raw_tensors, _ = torch_js.load_gguf(str(path), dequantize=False)
    for rt in reader.tensors:
        shape = arrays[rt.name]
        if rt.name.startswith("I") or rt.name == "F64":            # kept as they are
            expected = np.asarray(rt.data).reshape(shape)
        else:
            expected = gguf.quants.dequantize(rt.data, rt.tensor_type).reshape(shape)
        got = tensors[rt.name]
        assert tuple(got.shape) == shape, rt.name
        assert np.array_equal(np.array(got.tolist(), dtype=expected.dtype), expected), rt.name
        raw = raw_tensors[rt.name]
        if isinstance(raw, GGUFQuantized):
            assert raw.type_name == rt.name and raw.shape == shape
            assert bytes(raw.data.reshape(-1).tolist()) == np.asarray(rt.data).tobytes()
            if raw.scheme in torch_js.quant.SCHEMES:        # torch_js.quant takes the blocks as they are
                layer = torch_js.quant.BlockQuantLinear.from_blocks(raw.scheme, raw.data, *shape)
                assert torch_js.equal(layer.dequantize(), got)
        else:
            assert raw.dtype == got.dtype or rt.name in ("F16", "BF16")
            assert torch_js.equal(raw.float(), got.float())


@needs_gguf
def test_metadata_types_against_gguf(tmp_path):
    path = tmp_path / "meta.gguf"
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_uint8("t.u8", 200)
    writer.add_int8("t.i8", -100)
    writer.add_uint16("t.u16", 60000)
    writer.add_int16("t.i16", -30000)
    writer.add_uint32("t.u32", 4_000_000_000)
    writer.add_int32("t.i32", -2_000_000_000)
    writer.add_float32("t.f32", 0.1)
    writer.add_uint64("t.u64", (1 << 64) - 1)
    writer.add_int64("t.i64", -(1 << 63))
    writer.add_float64("t.f64", math.pi)
    writer.add_bool("t.bool", False)
    writer.add_string("t.str", "héllo\n<|im_start|>")
    writer.add_array("t.strings", ["a", "Ġb", "", "日本"])
    writer.add_array("t.ints", [1, -2, 3])
    writer.add_array("t.floats", [0.5, -1.25])
    writer.add_array("t.nested", [[1, 2], [3]])
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    _, meta = torch_js.load_gguf(path)
    fields = {k: v.contents() for k, v in gguf.GGUFReader(str(path)).fields.items() if not k.startswith("GGUF.")}
    assert meta.pop("t.nested") == [[1, 2], [3]]    # the reader's contents() flattens arrays of arrays: [1, 2, 3]
    assert fields.pop("t.nested") == [1, 2, 3]
    assert meta == fields and list(meta) == list(fields)
    assert meta["t.f32"] == _f32(0.1) and meta["t.strings"][3] == "日本"
