"""The hostile checkpoint corpus: malicious and damaged .pt and .safetensors files, built at test time (no binary
blobs in git). tests/test_hostile_checkpoints.py loads every one and expects a clear refusal.

Each case is Case(id, fmt, build, error, match): build(marker) returns the file's bytes (marker: a path that a
code-execution payload would create, so the test can check nothing ran), error the exception type expected and
match a regex its message must contain. The pickles are assembled opcode by opcode (enc() below), the zip archives
byte by byte (raw_zip()), so sizes, CRCs and offsets can lie.
"""
import json
import pickle
import struct
import zlib

# ---- pickle assembly -------------------------------------------------------------------------------------------


class Raw(bytes):
    """Pickle opcodes inserted verbatim by enc()."""


def G(module, name):
    return Raw(b"c" + f"{module}\n{name}\n".encode())


def enc(v):
    if isinstance(v, Raw):
        return bytes(v)
    if v is None:
        return b"N"
    if v is True:
        return b"\x88"
    if v is False:
        return b"\x89"
    if isinstance(v, int):
        if 0 <= v < 256:
            return b"K" + bytes([v])
        if -2 ** 31 <= v < 2 ** 31:
            return b"J" + struct.pack("<i", v)
        data = pickle.encode_long(v)
        return b"\x8a" + bytes([len(data)]) + data
    if isinstance(v, float):
        return b"G" + struct.pack(">d", v)
    if isinstance(v, str):
        raw = v.encode("utf-8")
        return b"X" + struct.pack("<I", len(raw)) + raw
    if isinstance(v, tuple):
        return b")" if not v else b"(" + b"".join(enc(x) for x in v) + b"t"
    if isinstance(v, list):
        return b"]" + (b"(" + b"".join(enc(x) for x in v) + b"e" if v else b"")
    if isinstance(v, dict):
        return b"}" + (b"(" + b"".join(enc(k) + enc(x) for k, x in v.items()) + b"u" if v else b"")
    raise TypeError(type(v))


def pkl(v, proto=2):
    return b"\x80" + bytes([proto]) + enc(v) + b"."


def call(func, *args):
    return Raw(enc(func) + enc(tuple(args)) + b"R")


OD = call(G("collections", "OrderedDict"))


def storage(stype="FloatStorage", key="0", numel=4, location="cpu"):
    return Raw(b"(" + enc("storage") + enc(G("torch", stype)) + enc(key) + enc(location) + enc(numel) + b"tQ")


def tensor(offset=0, size=(4,), stride=(1,), requires_grad=False, **st):
    return call(G("torch._utils", "_rebuild_tensor_v2"), storage(**st), offset, size, stride, requires_grad, OD)


def param_with_state(state, data=None):
    return call(G("torch._utils", "_rebuild_parameter_with_state"), data or tensor(), True, OD, state)


# ---- zip assembly ----------------------------------------------------------------------------------------------

class Member:
    """One archive member. data: its uncompressed bytes; method 0 (stored) or 8 (deflate, data compressed here)
    or any number; size / csize / crc / flags override what the headers declare; offset: point the central
    entry at an earlier member's local header instead of writing one."""

    def __init__(self, name, data=b"", method=0, size=None, csize=None, crc=None, flags=0, payload=None,
                 offset=None):
        self.name, self.data, self.method, self.flags, self.offset = name, data, method, flags, offset
        if payload is None:
            payload = deflate(data) if method == 8 else data
        self.payload = payload
        self.size = len(data) if size is None else size
        self.csize = len(payload) if csize is None else csize
        self.crc = zlib.crc32(data) if crc is None else crc


def deflate(data):
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()


def crc_zeros(n, chunk=1 << 20):
    crc = 0
    for i in range(0, n, chunk):
        crc = zlib.crc32(bytes(min(chunk, n - i)), crc)
    return crc


def deflate_zeros(n, chunk=1 << 20):
    """A raw deflate stream of n zero bytes, built without holding them."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    out = [c.compress(bytes(min(chunk, n - i))) for i in range(0, n, chunk)]
    return b"".join(out) + c.flush()


def raw_zip(members):
    out = bytearray()
    central = bytearray()
    for m in members:
        name = m.name.encode()
        if m.offset is None:
            m.offset = len(out)
            out += struct.pack("<4s5H3I2H", b"PK\x03\x04", 20, m.flags, m.method, 0, 0x21, m.crc, m.csize, m.size,
                               len(name), 0) + name + m.payload
        central += struct.pack("<4s6H3I5HII", b"PK\x01\x02", 20, 20, m.flags, m.method, 0, 0x21, m.crc, m.csize,
                               m.size, len(name), 0, 0, 0, 0, 0, m.offset) + name
    eocd = struct.pack("<4s4H2IH", b"PK\x05\x06", 0, 0, len(members), len(members), len(central), len(out), 0)
    return bytes(out + central + eocd)


def checkpoint(data_pkl, records=None, extra=()):
    """A torch-layout archive: archive/data.pkl, byteorder, version and archive/data/<key> records (stored)."""
    if records is None:
        records = {"0": bytes(16)}
    members = [Member("archive/data.pkl", data_pkl), Member("archive/byteorder", b"little"),
               Member("archive/version", b"3\n")]
    members += [Member("archive/data/" + k, v) for k, v in records.items()]
    return raw_zip(members + list(extra))


def pt(obj, records=None):
    return checkpoint(pkl(obj), records)


def legit_checkpoint():
    """A valid checkpoint written by torch_js.save (for truncation cases)."""
    import io
    import torch_js
    buf = io.BytesIO()
    torch_js.save({"w": torch_js.arange(64.0), "b": torch_js.ones(3, 3)}, buf)
    return buf.getvalue()


# ---- safetensors assembly ----------------------------------------------------------------------------------------

def st(header, body=b"", raw=None, length=None):
    hb = raw if raw is not None else json.dumps(header).encode()
    return struct.pack("<Q", len(hb) if length is None else length) + hb + body


def st1(info, body=bytes(4), **more):
    h = {"x": dict({"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, **info)}
    h.update(more)
    return st(h, body)


# ---- the corpus ------------------------------------------------------------------------------------------------

class Case:
    def __init__(self, id, fmt, build, error, match):
        self.id, self.fmt, self.build, self.error, self.match = id, fmt, build, error, match


UP = pickle.UnpicklingError
CASES = []


def case(id, fmt, error, match):
    def deco(fn):
        CASES.append(Case(id, fmt, fn, error, match))
        return fn
    return deco


def pt_case(id, obj_or_fn, error=UP, match="", records=None):
    """A checkpoint whose data.pkl is pkl(obj) (obj may take the marker path)."""
    def build(marker):
        obj = obj_or_fn(marker) if callable(obj_or_fn) else obj_or_fn
        return pt(obj, records)
    CASES.append(Case(id, "pt", build, error, match))


def raw_case(id, build_pkl, error=UP, match="", records=None):
    """A checkpoint whose data.pkl is the given opcode bytes."""
    CASES.append(Case(id, "pt", lambda marker: checkpoint(build_pkl(marker), records), error, match))


def touch(marker):
    return f"touch {marker}"


# code execution: nothing outside the allow-list resolves, no object-creating opcode runs
pt_case("reduce_os_system", lambda m: {"w": call(G("os", "system"), touch(m))},
        match=r"refusing to load global 'os\.system'")
pt_case("reduce_posix_system", lambda m: call(G("posix", "system"), touch(m)), match=r"'posix\.system'")
pt_case("global_builtins_eval", lambda m: call(G("builtins", "eval"), f"__import__('os').system('{touch(m)}')"),
        match=r"'builtins\.eval'")
pt_case("global_builtins_exec", lambda m: call(G("builtins", "exec"), f"import os; os.system('{touch(m)}')"),
        match=r"'builtins\.exec'")
pt_case("global_builtins_getattr", call(G("builtins", "getattr"), OD, "__class__"), match=r"'builtins\.getattr'")
pt_case("global_subprocess_popen", lambda m: call(G("subprocess", "Popen"), ["touch", str(m)]),
        match=r"'subprocess\.Popen'")
pt_case("global_copyreg_reconstructor", call(G("copyreg", "_reconstructor"), G("os", "system"), None, None),
        match=r"'copyreg\._reconstructor'")
pt_case("global_torch_load", call(G("torch", "load"), "x.pt"), match=r"'torch\.load'")
pt_case("global_nn_module", call(G("torch.nn.modules.linear", "Linear"), 2, 2), match=r"torch\.nn\.modules\.linear")
raw_case("stack_global_os_system", lambda m: b"\x80\x04\x8c\x02os\x8c\x06system\x93" + enc(touch(m)) + b"\x85R.",
         match=r"refusing to load global 'os\.system'")
raw_case("inst_opcode", lambda m: b"\x80\x02(" + enc(touch(m)) + b"ios\nsystem\n.", match=r"opcode INST")
raw_case("obj_opcode", lambda m: b"\x80\x02(" + enc(G("collections", "OrderedDict")) + b"o.", match=r"opcode OBJ")
raw_case("newobj_on_function", lambda m: b"\x80\x02" + enc(G("torch._utils", "_rebuild_tensor_v2")) + b")\x81.",
         match=r"NEWOBJ may create only")
raw_case("newobj_ex_opcode", lambda m: b"\x80\x04" + enc(G("collections", "OrderedDict")) + b")}\x92.",
         match=r"opcode NEWOBJ_EX")
raw_case("ext1_opcode", lambda m: b"\x80\x02\x82\x01.", match=r"opcode EXT1")
raw_case("persid_text_opcode", lambda m: b"\x80\x02Pfoo\n.", match=r"opcode PERSID")
raw_case("not_an_opcode", lambda m: b"\x80\x02\xff.", match=r"byte b.\\xff. \(not an opcode\)")
raw_case("reduce_on_dtype", lambda m: b"\x80\x02" + enc(G("torch", "float32")) + b")R.",
         match=r"not one of the allowed rebuild functions")
raw_case("build_on_dtype", lambda m: b"\x80\x02" + enc(G("torch", "float32")) + b"}b.", match=r"refusing BUILD")
raw_case("persistent_id_not_storage", lambda m: b"\x80\x02" + enc("foo") + b"Q.",
         match=r"only persistent ids of storages")

# a Parameter's (or tensor's) internals set from the file
for attr, value in [("_offset", 100), ("_shape", (1000,)), ("_stride", (0,)), ("_storage", None),
                    ("_dtype", G("torch", "float64")), ("_grad_fn", None), ("_base", None), ("_requires_grad", True),
                    ("__class__", None), ("__dict__", {}), ("data", None), ("shape", (9,)), ("requires_grad", False),
                    ("grad", None), ("tolist", None)]:
    kind = "dunder" if attr.startswith("__") else "internal" if attr.startswith("_") else "public"
    pt_case(f"param_state_{kind}_{attr.strip('_')}", param_with_state({attr: value}),
            match=rf"refusing to set attribute '{attr}' on a Parameter")
pt_case("param_state_slots", param_with_state(({}, {"_offset": 100})), match=r"refusing slot state on a Parameter")
pt_case("param_state_not_dict", param_with_state([1, 2]), match=r"attribute state must be a dict")
pt_case("from_type_v2_internals", call(G("torch._tensor", "_rebuild_from_type_v2"),
                                       G("torch._utils", "_rebuild_tensor_v2"), G("torch", "Tensor"),
                                       (storage(), 0, (4,), (1,), False, OD), {"_shape": (1000,)}),
        match=r"refusing to set attribute '_shape' on a Tensor")
pt_case("from_type_v2_other_func", call(G("torch._tensor", "_rebuild_from_type_v2"), G("collections", "OrderedDict"),
                                        G("torch", "Tensor"), (), {}), match=r"rebuilds only plain tensors")
raw_case("build_tensor_internals", lambda m: pkl(tensor())[:-1] + enc({"_offset": 100}) + b"b.",
         match=r"refusing to set attribute '_offset' on a Tensor")
pt_case("param_data_not_tensor", call(G("torch._utils", "_rebuild_parameter"), "x", True, OD),
        match=r"_rebuild_parameter expects a tensor")
pt_case("param_requires_grad_not_bool", call(G("torch._utils", "_rebuild_parameter"), tensor(), [1], OD),
        match=r"requires_grad must be a bool")
pt_case("js_param_data_not_tensor", call(G("torch_js.nn.parameter", "_rebuild_parameter"), "x", True),
        match=r"data must be a Tensor")

# storage views out of range, malformed views and storage records
pt_case("view_size_past_storage", tensor(size=(400,)), match=r"reaches past its storage")
pt_case("view_offset_past_storage", tensor(offset=9), match=r"reaches past its storage")
pt_case("view_stride_past_storage", tensor(size=(4,), stride=(2 ** 40,)), match=r"reaches past its storage")
pt_case("view_2d_past_storage", tensor(size=(2, 3), stride=(3, 1)),
        match=r"requiring a storage size of 24 are out of bounds")
pt_case("view_negative_size", tensor(size=(-1,)), match=r"is invalid: Storage size calculation overflowed with "
                                                     r"sizes=\[-1\]")
pt_case("view_negative_size_product", call(G("torch_js.serialization", "_rebuild_from_bytes"),
                                           Raw(b"C\x10" + bytes(16)), (-1, -4), "float32", False),
        match=r"Storage size calculation overflowed with sizes=\[-1, -4\]")
pt_case("view_negative_stride", tensor(stride=(-1,)), match=r"Negative strides are not supported")
pt_case("view_negative_offset", tensor(offset=-1), match=r"invalid storage offset -1")
pt_case("view_float_size", tensor(size=(4.0,)), match=r"must be tuple of ints, but found element of type float")
pt_case("view_size_not_tuple", tensor(size="abcd"), match=r"must be tuple of ints, not str")
pt_case("view_rank_mismatch", tensor(size=(2, 2), stride=(1,)), match=r"mismatch in length of strides and shape")
pt_case("view_size_over_int64", tensor(size=(2 ** 63,)), match=r"Overflow when unpacking long long")
pt_case("view_numel_overflows_int64", tensor(size=(2 ** 62, 4), stride=(0, 0)),
        match=r"numel: integer multiplication overflow")
pt_case("view_requires_grad_not_bool", tensor(requires_grad="yes"), match=r"requires_grad must be a bool")
pt_case("view_storage_not_storage", call(G("torch._utils", "_rebuild_tensor_v2"), "s", 0, (1,), (1,), False, OD),
        match=r"expects a storage record")
pt_case("record_claims_huge_numel", tensor(numel=2 ** 40), error=RuntimeError,
        match=r"record size \(16 bytes\) does not match expected size \(4398046511104 bytes")
pt_case("record_negative_numel", tensor(numel=-1), match=r"malformed storage record")
pt_case("record_missing", tensor(key="9"), error=RuntimeError, match=r"failed locating file data/9")
pt_case("record_pid_arity", Raw(b"(" + enc("storage") + enc(G("torch", "FloatStorage")) + b"tQ"),
        match=r"only persistent ids of storages")
pt_case("record_type_not_storage", Raw(b"(" + enc("storage") + enc(G("torch", "float32")) + enc("0") + enc("cpu") +
                                       enc(4) + b"tQ"), match=r"not a storage type")

# unknown dtypes
pt_case("dtype_complex_storage", tensor(stype="ComplexHalfStorage"),
        match=r"storage type torch\.ComplexHalfStorage is not supported by torch_js")
pt_case("dtype_unknown_storage", tensor(stype="FooStorage"), match=r"refusing to load global 'torch\.FooStorage'")
pt_case("dtype_complex32", {"d": G("torch", "complex32")}, match=r"dtype torch\.complex32 is not supported")
pt_case("dtype_float8", {"d": G("torch", "float8_e4m3fn")}, match=r"dtype torch\.float8_e4m3fn is not supported")
pt_case("dtype_by_name_unknown", call(G("torch_js._dtype", "_dtype_by_name"), "float128"),
        match=r"unknown dtype 'float128'")
pt_case("dtype_from_bytes_unknown", call(G("torch_js.serialization", "_rebuild_from_bytes"), Raw(b"C\x00"), (0,),
                                         "float128", False), match=r"unknown dtype 'float128'")
pt_case("from_bytes_not_bytes", call(G("torch_js.serialization", "_rebuild_from_bytes"), "abcd", (1,), "float32",
                                     False), match=r"the data must be bytes")

# nesting depth and self-reference in the pickle
DEEP = 100_000
raw_case("nest_tuple1_chain", lambda m: b"\x80\x02)" + b"\x85" * DEEP + b".", match=r"nests containers more than")
raw_case("nest_dict_chain", lambda m: b"\x80\x02" + (b"}" + enc("a")) * DEEP + b"}" + b"s" * DEEP + b".",
         match=r"nests containers more than")
raw_case("nest_list_appends", lambda m: b"\x80\x02" + b"](" * DEEP + b"]" + b"e" * DEEP + b".",
         match=r"nests MARKs more than")
raw_case("nest_marks", lambda m: b"\x80\x02" + b"(" * DEEP + b"N.", match=r"nests MARKs more than")
raw_case("nest_deep_dict_key", lambda m: b"\x80\x02}" + b")" + b"\x85" * 300 + b"Ns.", match=r"nests containers more")
raw_case("nest_list_chain_via_memo",
         lambda m: b"\x80\x02]r\x00\x00\x00\x00" + b"".join(
             b"j" + struct.pack("<I", i) + b"]r" + struct.pack("<I", i + 1) + b"a0" for i in range(DEEP)) + b".",
         match=r"changes a container after it was placed inside another")
raw_case("self_append", lambda m: b"\x80\x02]2a.", match=r"changes a container after it was placed inside another")
raw_case("self_setitem", lambda m: b"\x80\x02}q\x00" + enc("k") + b"h\x00s.", match=r"into itself")
raw_case("cycle_two_lists", lambda m: b"\x80\x02]q\x00]q\x01ah\x01h\x00a.",
         match=r"changes a container after it was placed inside another")
raw_case("stack_underflow", lambda m: b"\x80\x02a.", match=r"malformed pickle")
raw_case("tuple2_underflow", lambda m: b"\x80\x02N\x86.", match=r"TUPLE2 on a stack of 1")
raw_case("device_index_out_of_range", lambda m: pkl(call(G("torch", "device"), "cpu", 2 ** 40)),
         match=r"index in \[0, 127\]")
raw_case("truncated_pickle", lambda m: pkl({"w": tensor()})[:-1], match=r"ends before its STOP opcode \(truncated\)")
raw_case("truncated_pickle_mid_global", lambda m: pkl({"w": tensor()})[:-40],
         match=r"refusing to load global|malformed pickle|ends before its STOP")


# zip bombs and damaged archives
@case("zip_bomb_declared_huge", "pt", RuntimeError, r"compression ratio over 100:1: refusing a zip bomb")
def _(marker):
    return checkpoint(pkl({"w": tensor(numel=384 << 20, stype="FloatStorage")}), records={}, extra=[
        Member("archive/data/0", method=8, payload=deflate_zeros(1 << 20), size=(384 << 20) * 4,
               crc=0)])


@case("zip_bomb_honest_ratio", "pt", RuntimeError, r"compression ratio over 100:1")
def _(marker):
    comp = deflate_zeros(64 << 20)
    return checkpoint(pkl({"w": tensor(numel=16 << 20)}), records={}, extra=[
        Member("archive/data/0", method=8, payload=comp, size=64 << 20, crc=crc_zeros(64 << 20))])


@case("zip_bomb_many_members", "pt", RuntimeError, r"declare \d+ bytes in all, more than .* refusing a zip bomb")
def _(marker):
    comp = deflate_zeros(1 << 20)
    crc = crc_zeros(1 << 20)
    return checkpoint(pkl({"w": tensor()}), extra=[
        Member(f"archive/extra/{i}", method=8, payload=comp, size=1 << 20, crc=crc) for i in range(200)])


@case("zip_bomb_overlapping_entries", "pt", RuntimeError, r"declare \d+ bytes in all.*refusing a zip bomb")
def _(marker):
    # 298 central-directory entries alias one stored 1 MiB record: 300 MiB declared by a 1 MiB file
    big = Member("archive/data/1", bytes(1 << 20))
    members = [Member("archive/data.pkl", pkl({"w": tensor()})), Member("archive/data/0", bytes(16)), big]
    return _with_central_aliases(members, big, 298)


def _with_central_aliases(members, target, count):
    aliases = [Member(f"archive/alias/{i}", target.data, offset=target.offset) for i in range(count)]
    for a in aliases:
        a.payload = b""
    out = bytearray()
    central = bytearray()
    for m in members + aliases:
        name = m.name.encode()
        if m in members:
            m.offset = len(out)
            out += struct.pack("<4s5H3I2H", b"PK\x03\x04", 20, m.flags, m.method, 0, 0x21, m.crc, m.csize, m.size,
                               len(name), 0) + name + m.payload
        else:
            m.offset = target.offset
        central += struct.pack("<4s6H3I5HII", b"PK\x01\x02", 20, 20, m.flags, m.method, 0, 0x21, m.crc, m.csize,
                               m.size, len(name), 0, 0, 0, 0, 0, m.offset) + name
    n = len(members) + len(aliases)
    return bytes(out + central + struct.pack("<4s4H2IH", b"PK\x05\x06", 0, 0, n, n, len(central), len(out), 0))


@case("zip_member_lies_small_bad_crc", "pt", RuntimeError, r"failed reading file archive/data/0: Bad CRC-32")
def _(marker):
    comp = deflate_zeros(64 << 20)           # inflates to 64 MiB, declares the 16 bytes the tensor needs
    return checkpoint(pkl({"w": tensor()}), records={}, extra=[
        Member("archive/data/0", method=8, payload=comp, size=16, crc=crc_zeros(64 << 20))])


@case("zip_unsupported_compression", "pt", RuntimeError, r"uses compression method 12")
def _(marker):
    return checkpoint(pkl({"w": tensor()}), records={}, extra=[Member("archive/data/0", bytes(16), method=12)])


@case("zip_encrypted_member", "pt", RuntimeError, r"is encrypted")
def _(marker):
    return checkpoint(pkl({"w": tensor()}), records={}, extra=[Member("archive/data/0", bytes(16), flags=1)])


@case("zip_stored_size_lie", "pt", RuntimeError, r"declares 1073741824 bytes but stores 16")
def _(marker):
    return checkpoint(pkl({"w": tensor()}), records={}, extra=[Member("archive/data/0", bytes(16), size=1 << 30)])


@case("zip_member_past_end", "pt", RuntimeError, r"extends past the end of the")
def _(marker):
    return checkpoint(pkl({"w": tensor()}), records={}, extra=[
        Member("archive/data/0", bytes(16), size=1 << 20, csize=1 << 20)])


@case("zip_truncated_half", "pt", RuntimeError, r"failed finding central directory")
def _(marker):
    data = legit_checkpoint()
    return data[:len(data) // 2]


@case("zip_truncated_tail", "pt", RuntimeError, r"failed finding central directory")
def _(marker):
    return legit_checkpoint()[:-10]


@case("zip_bytes_cut_from_middle", "pt", RuntimeError, r"PytorchStreamReader failed reading")
def _(marker):
    data = legit_checkpoint()
    k = data.index(b"archive/data/0") + 100
    return data[:k] + data[k + 200:]


@case("zip_garbage", "pt", RuntimeError, r"not a PyTorch zip checkpoint")
def _(marker):
    return b"hello, not a checkpoint"


# safetensors: the crate's validation, its wording
def st_case(id, build, match, error=ValueError):
    CASES.append(Case(id, "safetensors", lambda marker: build(), error, match))


st_case("st_negative_shape", lambda: st1({"shape": [-1]}), r"invalid value: integer `-1`, expected usize")
st_case("st_float_offsets", lambda: st1({"data_offsets": [0.0, 4.0]}), r"invalid type: floating point `0.0`")
st_case("st_float_shape", lambda: st1({"shape": [1.0]}), r"invalid type: floating point `1.0`, expected usize")
st_case("st_bool_shape", lambda: st1({"shape": [True]}), r"invalid type: boolean `true`, expected usize")
st_case("st_str_shape", lambda: st1({"shape": ["1"]}), r'invalid type: string "1", expected usize')
st_case("st_three_offsets", lambda: st1({"data_offsets": [0, 4, 4]}), r"invalid length 3, expected 2 elements")
st_case("st_missing_field", lambda: st({"x": {"dtype": "F32", "shape": [1]}}, bytes(4)),
        r"missing field `data_offsets`")
st_case("st_overlapping", lambda: st({"x": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                                      "y": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}, bytes(8)),
        r"invalid offset for tensor `y`")
st_case("st_gap", lambda: st({"x": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
                              "y": {"dtype": "F32", "shape": [1], "data_offsets": [8, 12]}}, bytes(12)),
        r"invalid offset for tensor `y`")
st_case("st_reversed_range", lambda: st1({"shape": [0], "data_offsets": [4, 0]}), r"invalid offset for tensor `x`")
st_case("st_out_of_order_overlap", lambda: st({"b": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]},
                                               "a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}},
                                              bytes(8)), r"invalid offset for tensor `b`")
st_case("st_trailing_bytes", lambda: st1({}, body=bytes(8)), r"incomplete metadata, file not fully covered")
st_case("st_short_body", lambda: st1({"shape": [2], "data_offsets": [0, 8]}),
        r"incomplete metadata, file not fully covered")
st_case("st_size_mismatch", lambda: st1({"shape": [3], "data_offsets": [0, 8]}, body=bytes(8)),
        r"invalid shape, data type, or offset for tensor `x`")
st_case("st_numel_overflow", lambda: st1({"shape": [2 ** 32, 2 ** 32], "data_offsets": [0, 8]}, body=bytes(8)),
        r"overflow computing buffer size from shape and/or element type")
st_case("st_bytes_overflow", lambda: st1({"shape": [2 ** 62], "data_offsets": [0, 8]}, body=bytes(8)),
        r"overflow computing buffer size")
st_case("st_dim_over_u64", lambda: st1({"shape": [2 ** 64]}), r"invalid value: integer `18446744073709551616`")
st_case("st_empty_dim_over_int64", lambda: st1({"shape": [0, 2 ** 63], "data_offsets": [0, 0]}, body=b""),
        r"whose element count overflows int64")
st_case("st_huge_header_length", lambda: st(None, raw=b"{}", length=200_000_000), r"header too large")
st_case("st_header_past_end", lambda: st(None, raw=b"{}", length=100), r"invalid header length")
st_case("st_too_small", lambda: b"\x01\x00\x00", r"header too small")
st_case("st_not_json", lambda: st(None, raw=b"hello!!!"), r"invalid JSON in header")
st_case("st_not_utf8", lambda: st(None, raw=b"\xff\xfe{}"), r"invalid UTF-8 in header")
st_case("st_nan", lambda: st(None, raw=b'{"x": {"dtype": "F32", "shape": [NaN], "data_offsets": [0, 4]}}',
                             body=bytes(4)), r"invalid JSON in header: NaN is not JSON")
st_case("st_top_level_list", lambda: st(None, raw=b"[]"), r"invalid type: sequence, expected struct HashMetadata")
st_case("st_unknown_dtype", lambda: st1({"dtype": "F33"}), r"unknown variant `F33`, expected one of")
st_case("st_dtype_not_str", lambda: st1({"dtype": 5}), r"invalid type: integer `5`")
st_case("st_dtype_lowercase", lambda: st1({"dtype": "f32"}), r"unknown variant `f32`")
st_case("st_dtype_not_in_torch_js", lambda: st1({"dtype": "U16", "data_offsets": [0, 2]}, body=bytes(2)),
        r"has dtype U16, which torch_js does not support")
st_case("st_info_not_map", lambda: st({"x": [1, 2]}), r"expected struct TensorInfo")
st_case("st_metadata_not_str", lambda: st({"__metadata__": {"a": 1}}), r"invalid type: integer `1`, expected a string")
st_case("st_metadata_list", lambda: st({"__metadata__": ["a"]}), r"invalid type: sequence, expected a map")
st_case("st_duplicate_key", lambda: st(None, raw=b'{"x": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, '
                                       b'"x": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}',
                                       body=bytes(8)), r"duplicate field `x`")
st_case("st_nest_extra_field_200", lambda: st1({"z": json.loads("[" * 200 + "]" * 200)}),
        r"recursion limit exceeded")
st_case("st_nest_100k", lambda: st(None, raw=b"[" * DEEP + b"]" * DEEP), r"recursion limit exceeded")
st_case("st_nest_unclosed_100k", lambda: st(None, raw=b'{"a": ' + b"[" * DEEP), r"recursion limit exceeded")
st_case("st_nest_metadata", lambda: st(None, raw=b'{"__metadata__": {"a": ' + b"{" * 300 + b"}" * 300 + b"}}"),
        r"recursion limit exceeded")

# legacy (pre-1.6, non-zip) checkpoints: magic number, protocol version, system info, the object, the storage
# keys, then per key an int64 element count and the raw bytes (see torch_js/serialization/_legacy.py)
LEGACY_MAGIC = 0x1950a86a20f9469cfc6c
SYS_INFO = {"protocol_version": 1001, "little_endian": True, "type_sizes": {"short": 2, "int": 4, "long": 4}}


def legacy_storage(stype="FloatStorage", key="0", numel=4, location="cpu", view=None):
    return Raw(b"(" + enc("storage") + enc(G("torch", stype)) + enc(key) + enc(location) + enc(numel) + enc(view) +
               b"tQ")


def legacy_tensor(offset=0, size=(4,), stride=(1,), requires_grad=False, **st):
    return call(G("torch._utils", "_rebuild_tensor_v2"), legacy_storage(**st), offset, size, stride, requires_grad,
                OD)


def record(numel, data):
    """One storage's data in a legacy file: its element count (int64, little endian), then its bytes."""
    return struct.pack("<q", numel) + data


def legacy(obj, keys=("0",), records=None, magic=LEGACY_MAGIC, version=1001, sys_info=None, raw_obj=None,
           raw_keys=None):
    """A legacy checkpoint: pickles of magic, version, sys_info, obj (or the opcode bytes raw_obj) and the key
    list (or raw_keys), then the records (default: one float32 storage of 4 zeros)."""
    if records is None:
        records = record(4, bytes(16))
    return (pkl(magic) + pkl(version) + pkl(SYS_INFO if sys_info is None else sys_info) +
            (raw_obj if raw_obj is not None else pkl(obj)) +
            (raw_keys if raw_keys is not None else pkl(list(keys))) + records)


def legacy_case(id, build, error=UP, match=""):
    CASES.append(Case(id, "pt", build, error, match))


LT = legacy_tensor
legacy_case("legacy_bad_magic", lambda m: legacy({"w": LT()}, magic=12345), RuntimeError,
            r"Invalid magic number; corrupt file\?")
legacy_case("legacy_magic_not_int", lambda m: legacy({"w": LT()}, magic="x"), RuntimeError, r"Invalid magic number")
legacy_case("legacy_bad_protocol_version", lambda m: legacy({"w": LT()}, version=1000), RuntimeError,
            r"Invalid protocol version: int 1000")
legacy_case("legacy_magic_runs_code", lambda m: legacy({"w": LT()}, magic=call(G("os", "system"), touch(m))),
            match=r"(?s)magic number: .*refusing to load global 'os\.system'")
legacy_case("legacy_sys_info_runs_code", lambda m: legacy({"w": LT()}, sys_info=call(G("os", "system"), touch(m))),
            match=r"(?s)system information: .*refusing to load global 'os\.system'")
legacy_case("legacy_keys_run_code", lambda m: legacy({"w": LT()}, raw_keys=pkl(call(G("os", "system"), touch(m)))),
            match=r"(?s)storage keys: .*refusing to load global 'os\.system'")
legacy_case("legacy_object_runs_code", lambda m: legacy({"w": call(G("os", "system"), touch(m))}),
            match=r"(?s)Weights only load failed.*refusing to load global 'os\.system'")
legacy_case("legacy_object_inst_opcode", lambda m: legacy(None, raw_obj=b"\x80\x02(" + enc(touch(m)) +
                                                          b"ios\nsystem\n."), match=r"opcode INST")
legacy_case("legacy_sys_info_not_dict", lambda m: legacy({"w": LT()}, sys_info=[1]), RuntimeError,
            r"system information is a list, not a dict")
legacy_case("legacy_big_endian", lambda m: legacy({"w": LT()}, sys_info=dict(SYS_INFO, little_endian=False)),
            RuntimeError, r"big-endian")
legacy_case("legacy_truncated_after_magic", lambda m: pkl(LEGACY_MAGIC),
            match=r"protocol version: .*ends before its STOP opcode \(truncated\)")
legacy_case("legacy_truncated_object", lambda m: legacy({"w": LT()})[:70],
            match=r"ends before its STOP opcode|malformed pickle")
legacy_case("legacy_truncated_before_keys", lambda m: legacy({"w": LT()}, raw_keys=b"", records=b""),
            match=r"storage keys: .*ends before its STOP opcode")
legacy_case("legacy_truncated_size", lambda m: legacy({"w": LT()}, records=b"\x04\x00\x00"), RuntimeError,
            r"unexpected EOF reading the size of storage '0'")
legacy_case("legacy_truncated_data", lambda m: legacy({"w": LT()}, records=record(4, bytes(13))), RuntimeError,
            r"unexpected EOF, expected 3 more bytes")
legacy_case("legacy_record_numel_mismatch", lambda m: legacy({"w": LT()}, records=record(5, bytes(20))),
            RuntimeError, r"storage '0' has wrong byte size: expected 20 got 16")
legacy_case("legacy_record_numel_huge", lambda m: legacy({"w": LT()}, records=record(2 ** 62, bytes(16))),
            RuntimeError, r"has wrong byte size: expected 18446744073709551616 got 16")
legacy_case("legacy_record_numel_negative", lambda m: legacy({"w": LT()}, records=record(-1, bytes(16))),
            RuntimeError, r"has wrong byte size: expected -4 got 16")
legacy_case("legacy_storage_claims_huge_numel", lambda m: legacy({"w": LT(numel=2 ** 40)}), RuntimeError,
            r"storages declare 4398046511104 bytes .* more than the \d+-byte file holds")
legacy_case("legacy_storages_add_up_past_file",
            lambda m: legacy({f"w{i}": LT(key=str(i), numel=1 << 16) for i in range(64)},
                             keys=[str(i) for i in range(64)], records=b""), RuntimeError,
            r"storages declare \d+ bytes .* more than the \d+-byte file holds")
legacy_case("legacy_key_not_found", lambda m: legacy({"w": LT()}, keys=["0", "9"]), RuntimeError,
            r"storage key '9' not found")
legacy_case("legacy_key_missing", lambda m: legacy({"w": LT()}, keys=[], records=b""), RuntimeError,
            r"no data for storage '0'")
legacy_case("legacy_key_twice", lambda m: legacy({"w": LT()}, keys=["0", "0"]), RuntimeError, r"listed twice")
legacy_case("legacy_keys_not_list", lambda m: legacy({"w": LT()}, raw_keys=pkl("0")), RuntimeError,
            r"storage keys must be a list of str")
legacy_case("legacy_key_not_str", lambda m: legacy({"w": LT()}, raw_keys=pkl([0])), RuntimeError,
            r"storage keys must be a list of str")
legacy_case("legacy_view_metadata", lambda m: legacy({"w": LT(view=("1", 0, 2))}),
            match=r"storage views .* are not supported")
legacy_case("legacy_zip_style_pid", lambda m: legacy({"w": tensor()}), match=r"only persistent ids of storages")
legacy_case("legacy_module_pid_weights_only",
            lambda m: legacy(None, raw_obj=b"\x80\x02(" + enc("module") + enc(None) + enc("f.py") + enc("src") +
                             b"tQ."), match=r"only persistent ids of storages")
legacy_case("legacy_storage_type_conflict",
            lambda m: legacy({"a": LT(), "b": LT(stype="IntStorage")}), match=r"storage '0' is named as 4 float32 "
                                                                             r"elements and as 4 int32 elements")
legacy_case("legacy_storage_type_not_storage", lambda m: legacy({"w": LT(stype="float32")}),
            match=r"not a storage type")
legacy_case("legacy_negative_numel", lambda m: legacy({"w": LT(numel=-1)}), match=r"malformed storage record")
legacy_case("legacy_view_past_storage", lambda m: legacy({"w": LT(size=(5,))}), match=r"reaches past its storage")
legacy_case("legacy_nest_tuple1_chain", lambda m: legacy(None, raw_obj=b"\x80\x02)" + b"\x85" * DEEP + b"."),
            match=r"nests containers more than")


@case("legacy_tar_format", "pt", RuntimeError, r"tar-format torch checkpoint")
def _(marker):
    import io
    import tarfile
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        info = tarfile.TarInfo("pickle")
        info.size = 4
        tf.addfile(info, io.BytesIO(b"\x80\x02N."))
    return buf.getvalue()


IDS = [c.id for c in CASES]
assert len(set(IDS)) == len(IDS), "duplicate case ids"
