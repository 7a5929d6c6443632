"""Oracle for the OpInfo conformance suite (tests/test_opinfo.py).

A *case* is one (op, dtype, sample) triple in a torch-free, JSON-able form: the sample's inputs (tensors as raw
little-endian bytes in base64 plus dtype/shape/strides), and what PyTorch did with them (outputs, or the exception
type it raised; for float32 samples with requires_grad, a seeded upstream gradient and the input gradients).

Two sources produce the same cases (same ids, same comparisons):
  * live: `build_cases()` runs PyTorch's op_db sample inputs through torch (needs torch; CPython only);
  * fixture: `load_fixture()` reads tests/fixtures/opinfo_cases.json.gz written by tools/gen_fixtures.py
    (Pyodide has no torch): a deterministic subset of the live cases (`fixture_subset`), same ids.
Random ops (dropout, rrelu, ...) carry the CPU generator state torch started from (`rng`); run_case gives it to
torch_js.set_rng_state first, so their outputs compare bit for bit. Upstream gradients are stored as a seed.
`run_case(case)` converts a case's inputs to torch_js, runs the op and compares. It needs only torch_js and the
standard library (no numpy), so it runs in Pyodide.
"""
import array
import base64
import gzip
import json
import math
import os
import re
import sys
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PKG = os.path.join(ROOT, "pytorchjs_py")
if os.path.isdir(PKG) and PKG not in sys.path:
    sys.path.insert(0, PKG)

FIXTURE = os.path.join(HERE, "fixtures", "opinfo_cases.json.gz")
FORMAT_VERSION = 2

# dtypes the suite runs (float64 is forward-only and on fewer samples)
INT_DTYPES = ("int64", "int32", "int16", "int8", "uint8", "bool")
FLOAT_DTYPES = ("float32", "float64")
MAX_SAMPLES = {"float32": 12, "float64": 6}
MAX_SAMPLES_INT = 8
MAX_SAMPLES_VARIANT = 6   # in-place variants
MAX_NUMEL = 6000          # skip samples whose inputs hold more elements than this (pure-Python conversion)
# The fixture (Pyodide) holds a deterministic subset of the live cases, to stay under ~5 MB: per (op, dtype,
# variant) at most this many samples, spread as _pick spreads them, and only samples with at most FIXTURE_MAX_NUMEL
# input elements; error-input cases are all kept.
FIXTURE_MAX_SAMPLES = {"float32": 8, "float64": 2, "int16": 4, "int8": 4}
FIXTURE_MAX_NUMEL = 1500

# array module typecodes per dtype (little-endian raw bytes)
_ARRAY_CODE = {"float32": "f", "float64": "d", "int64": "q", "int32": "i", "int16": "h", "int8": "b",
               "uint8": "B", "bool": "B", "float16": "H", "bfloat16": "H"}

# Some OpInfo entries call the op with a different argument order than sample.input-first.
# name -> function(fn, input, args, kwargs) -> result
CALL_ADAPTERS = {
    # op_db calls einsum as op(operands, equation)
    "einsum": lambda fn, inp, args, kw: fn(args[0], inp, **kw),
    "where": lambda fn, inp, args, kw: fn(args[0], inp, *args[1:], **kw),
    # op=lambda weight, idx, **kwargs: F.embedding(idx, weight, **kwargs)
    "nn.functional.embedding": lambda fn, inp, args, kw: fn(args[0], inp, *args[1:], **kw),
}


class Unconvertible(Exception):
    """A sample whose inputs have no torch_js counterpart (complex numbers, sparse, generators, ...)."""


# ---------------------------------------------------------------------------------------------------------------
# tolerances


def tolerance(kind, dtype, grad=False):
    """(rtol, atol) for comparing float results. dtype is the *result* dtype name."""
    if dtype == "float64":
        return (1e-7, 1e-7) if not grad else (1e-6, 1e-7)
    if dtype in ("float16", "bfloat16"):
        return (1e-2, 1e-2)
    # float32
    if grad or kind in ("reduction", "linalg"):
        return (3e-4, 3e-5)
    return (1e-4, 1e-5)


# ---------------------------------------------------------------------------------------------------------------
# torch-free decoding / comparison


def _b64_to_list(dtype, data):
    raw = base64.b64decode(data)
    arr = array.array(_ARRAY_CODE[dtype])
    arr.frombytes(raw)
    if sys.byteorder != "little":
        arr.byteswap()
    vals = arr.tolist()
    if dtype == "bool":
        vals = [bool(v) for v in vals]
    return vals


def expected_values(rec):
    return _b64_to_list(rec["dtype"], rec["data"])


def _numel(shape):
    n = 1
    for s in shape:
        n *= s
    return n


def make_tensor(tj, rec):
    """A torch_js tensor from a tensor record (a leaf; strides reproduced when the record has them)."""
    d = getattr(tj, rec["dtype"])
    shape = tuple(rec["shape"])
    vals = expected_values(rec)
    if not shape:
        t = tj.tensor(vals[0], dtype=d)
    elif _numel(shape) == 0:
        t = tj.empty(shape, dtype=d)
    else:
        t = tj.tensor(vals, dtype=d).reshape(shape)
    strides = rec.get("strides")
    if strides is not None:
        base = tj.empty_strided(shape, tuple(strides), dtype=d)
        base.copy_(t)
        t = base
    if rec.get("rg"):
        t.requires_grad_(True)
    if "expand" in rec:
        t = t.expand(tuple(rec["expand"]))
    return t


def decode(tj, obj, tensors):
    """Encoded sample value -> torch_js value. `tensors` is the list of already-made input tensors."""
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, list):
        return [decode(tj, v, tensors) for v in obj]
    if isinstance(obj, dict):
        if "T" in obj:
            return tensors[obj["T"]]
        if "tuple" in obj:
            return tuple(decode(tj, v, tensors) for v in obj["tuple"])
        if "f" in obj:
            return float(obj["f"])
        if "dtype" in obj:
            return getattr(tj, obj["dtype"])
        if "slice" in obj:
            return slice(*obj["slice"])
        if "ellipsis" in obj:
            return Ellipsis
        if "memfmt" in obj:
            return getattr(tj, obj["memfmt"])
        if "device" in obj:
            return tj.device(obj["device"])
    raise ValueError(f"cannot decode {obj!r}")


def _flatten_list(x):
    if isinstance(x, list):
        out = []
        for v in x:
            out.extend(_flatten_list(v))
        return out
    return [x]


def _values_of(t):
    if t.numel() == 0:  # (tolist() of empty tensors is tested in test_tensor_core)
        return []
    return _flatten_list(t.detach().tolist())


def _fmt_shape(shape):
    return "(" + ",".join(str(s) for s in shape) + ")"


def compare_tensor(got, rec, rtol, atol, what):
    """Raise AssertionError naming `what` if torch_js tensor `got` differs from the record."""
    import torch_js as tj
    if not isinstance(got, tj.Tensor):
        raise AssertionError(f"{what}: expected a Tensor, got {type(got).__name__}: {got!r}"[:500])
    gd = got.dtype.name if hasattr(got.dtype, "name") else str(got.dtype).replace("torch.", "")
    if gd != rec["dtype"]:
        raise AssertionError(f"{what}: dtype torch_js={gd} torch={rec['dtype']}")
    if tuple(got.shape) != tuple(rec["shape"]):
        raise AssertionError(f"{what}: shape torch_js={_fmt_shape(tuple(got.shape))} "
                             f"torch={_fmt_shape(rec['shape'])}")
    exp = expected_values(rec)
    act = _values_of(got)
    if len(exp) != len(act):
        raise AssertionError(f"{what}: {len(act)} values from tolist(), expected {len(exp)}")
    floating = rec["dtype"] in ("float32", "float64", "float16", "bfloat16")
    if rec["dtype"] in ("float16", "bfloat16"):
        exp = _half_bits_to_float(rec["dtype"], exp)
    bad = []
    for i, (a, e) in enumerate(zip(act, exp)):
        if floating:
            a = float(a)
            if e != e:
                ok = a != a
            elif a != a:
                ok = False
            elif math.isinf(e) or math.isinf(a):
                ok = a == e
            else:
                ok = abs(a - e) <= atol + rtol * abs(e)
        else:
            ok = a == e and type(a) is type(e)
        if not ok:
            bad.append(i)
    if bad:
        worst = ""
        if floating:
            diffs = [abs(float(act[i]) - exp[i]) for i in bad
                     if exp[i] == exp[i] and act[i] == act[i] and not math.isinf(exp[i]) and not math.isinf(act[i])]
            if diffs:
                worst = f", max abs diff {max(diffs):.3g}"
        shown = ", ".join(f"[{i}] {act[i]!r} vs {exp[i]!r}" for i in bad[:4])
        raise AssertionError(f"{what}: {len(bad)}/{len(exp)} values differ (torch_js vs torch; rtol={rtol}, "
                             f"atol={atol}{worst}): {shown}")


def _half_bits_to_float(dtype, bits):
    import struct
    if dtype == "float16":
        return [struct.unpack("<e", struct.pack("<H", b))[0] for b in bits]
    return [struct.unpack("<f", struct.pack("<I", b << 16))[0] for b in bits]


def _flatten_out(x, path="out"):
    """Flatten an op result into [(path, leaf)], keeping the structure's paths for messages."""
    import torch_js as tj
    if isinstance(x, tj.Tensor):
        return [(path, x)]
    if isinstance(x, (tuple, list)):
        out = []
        for i, v in enumerate(x):
            out.extend(_flatten_out(v, f"{path}[{i}]"))
        return out
    return [(path, x)]


def _flatten_expected(obj, path="out"):
    if isinstance(obj, dict) and "t" in obj:
        return [(path, obj)]
    if isinstance(obj, dict) and "tuple" in obj:
        obj = obj["tuple"]
    if isinstance(obj, list):
        out = []
        for i, v in enumerate(obj):
            out.extend(_flatten_expected(v, f"{path}[{i}]"))
        return out
    return [(path, obj)]


def resolve_fn(tj, case):
    """The torch_js callable for the case's op: torch_js.<name> / torch_js.<ns>.<name>, or the Tensor method."""
    ns, name = case["ns"], case["name"]
    if case.get("variant") == "inplace":
        return getattr(tj.Tensor, name + "_")
    if not case.get("function", True):
        return getattr(tj.Tensor, name)
    mod = tj
    if ns != "torch":
        for part in ns.split("."):
            mod = getattr(mod, part, None)
            if mod is None:
                break
    fn = getattr(mod, name, None) if mod is not None else None
    if fn is None:
        # namespace not exposed yet: fall back to the registered implementation
        fn = tj.REGISTRY[(ns, name)].fn
    return fn


def call_op(tj, case, inp, args, kwargs):
    fn = resolve_fn(tj, case)
    adapter = CALL_ADAPTERS.get(case["opinfo"])
    if adapter is not None:
        return adapter(fn, inp, args, kwargs)
    return fn(inp, *args, **kwargs)


def _exc_matches(exc, expected_name):
    for klass in type(exc).__mro__:
        if klass.__name__ == expected_name:
            return True
    return False


def run_case(case):
    """Run one conformance case against torch_js; raise AssertionError describing any difference."""
    import torch_js as tj
    where = f"{case['id']}\n  sample: {case.get('summary', '')}"
    tensors = [make_tensor(tj, rec) for rec in case["tensors"]]
    inp = decode(tj, case["input"], tensors)
    args = decode(tj, case["args"], tensors)
    kwargs = {k: decode(tj, v, tensors) for k, v in case["kwargs"].items()}
    exp = case["expect"]
    if "rng" in case:
        # a random op (dropout, rrelu, ...): start from the generator state torch had, so streams match bit for bit
        tj.set_rng_state(base64.b64decode(case["rng"]))
    if "error" in exp:
        try:
            res = call_op(tj, case, inp, args, kwargs)
        except Exception as e:  # noqa: BLE001
            if not _exc_matches(e, exp["error"]):
                raise AssertionError(f"{where}\n  torch raised {exp['error']}: {exp['msg']}\n  torch_js raised "
                                     f"{type(e).__name__}: {e}") from e
            if exp.get("regex") and not re.search(exp["regex"], str(e)):
                raise AssertionError(f"{where}\n  torch_js raised {type(e).__name__} with message {str(e)!r}, "
                                     f"which does not match PyTorch's /{exp['regex']}/ (torch: {exp['msg']!r})")
            return
        raise AssertionError(f"{where}\n  torch raised {exp['error']}: {exp['msg']}\n  torch_js returned "
                             f"{type(res).__name__} instead")
    try:
        res = call_op(tj, case, inp, args, kwargs)
    except Exception as e:
        raise AssertionError(f"{where}\n  torch_js raised {type(e).__name__}: {e}") from e
    if case.get("variant") == "inplace" and res is not inp:
        raise AssertionError(f"{where}\n  in-place variant returned a new object, not its input tensor")
    got = _flatten_out(res)
    want = _flatten_expected(exp["out"])
    if len(got) != len(want):
        raise AssertionError(f"{where}\n  torch_js returned {len(got)} outputs, torch {len(want)}")
    for (path, g), (_, w) in zip(got, want):
        if isinstance(w, dict) and "t" in w:
            rec = w["t"]
            rtol, atol = tolerance(case["kind"], rec["dtype"])
            rtol, atol = case.get("rtol", rtol), case.get("atol", atol)
            try:
                compare_tensor(g, rec, rtol, atol, path)
            except AssertionError as e:
                raise AssertionError(f"{where}\n  forward {e}") from None
        else:
            w = decode(tj, w, [])
            if isinstance(g, tj.Tensor) or g != w and not (isinstance(w, float) and w != w and g != g):
                raise AssertionError(f"{where}\n  forward {path}: torch_js {g!r} vs torch {w!r}")
    gr = case.get("grad")
    if not gr:
        return
    outs = [got[i][1] for i in gr["outputs"]]
    for i, o in zip(gr["outputs"], outs):
        if not (isinstance(o, tj.Tensor) and o.requires_grad):
            raise AssertionError(f"{where}\n  backward: output {got[i][0]} does not require grad in torch_js")
    ins = [tensors[i] for i in gr["inputs"]]
    if "upstream_seed" in gr:
        # torch drew the upstream gradients with torch.randn from a seeded Generator; torch_js's streams are
        # PyTorch's, so they are regenerated rather than stored
        gen = tj.Generator().manual_seed(gr["upstream_seed"])
        ups = [tj.randn(tuple(rec["shape"]), generator=gen, dtype=getattr(tj, rec["dtype"])) for rec in gr["upstream"]]
    else:
        ups = [make_tensor(tj, rec) for rec in gr["upstream"]]
    if "error" in gr:
        try:
            tj.autograd.grad(outs, ins, grad_outputs=ups, allow_unused=True)
        except Exception as e:  # noqa: BLE001
            if not _exc_matches(e, gr["error"]):
                raise AssertionError(f"{where}\n  backward: torch raised {gr['error']}: {gr['msg']}\n  torch_js "
                                     f"raised {type(e).__name__}: {e}") from e
            return
        raise AssertionError(f"{where}\n  backward: torch raised {gr['error']}: {gr['msg']}; torch_js did not")
    try:
        grads = tj.autograd.grad(outs, ins, grad_outputs=ups, allow_unused=True)
    except Exception as e:
        raise AssertionError(f"{where}\n  backward: torch_js raised {type(e).__name__}: {e}") from e
    for k, (g, rec) in enumerate(zip(grads, gr["grads"])):
        what = f"grad of input tensor #{gr['inputs'][k]}"
        if rec is None:
            if g is not None and any(v != 0 for v in _values_of(g)):
                raise AssertionError(f"{where}\n  backward {what}: torch says unused (None), torch_js gave nonzero")
            continue
        if g is None:
            raise AssertionError(f"{where}\n  backward {what}: torch_js returned None")
        rtol, atol = tolerance(case["kind"], rec["dtype"], grad=True)
        rtol, atol = case.get("grad_rtol", rtol), case.get("grad_atol", atol)
        try:
            compare_tensor(g, rec, rtol, atol, what)
        except AssertionError as e:
            raise AssertionError(f"{where}\n  backward {e}") from None


def load_fixture(path=FIXTURE):
    with gzip.open(path, "rt", encoding="utf-8") as f:
        data = json.load(f)
    if data.get("version") != FORMAT_VERSION:
        raise RuntimeError(f"{path}: fixture format {data.get('version')} != {FORMAT_VERSION}; regenerate it "
                           f"with tools/gen_fixtures.py")
    return data["cases"]


# ---------------------------------------------------------------------------------------------------------------
# live generation from PyTorch's op_db (needs torch)


def _seed_for(*parts):
    return zlib.crc32(":".join(str(p) for p in parts).encode()) & 0x7FFFFFFF


def select_opinfos():
    """[(registry key, OpDef, OpInfo)] for every registered op whose opinfo names entries of op_db."""
    import torch_js as tj
    import torch_js.nn  # noqa: F401  (imported lazily by torch_js; registers the nn.functional ops)
    from torch.testing._internal.common_methods_invocations import op_db
    by_name = {}
    for o in op_db:
        by_name.setdefault(o.name, []).append(o)
    out = []
    for key, opdef in tj.REGISTRY.items():
        for oname in opdef.opinfo:
            entries = by_name.get(oname, [])
            plain = [o for o in entries if o.variant_test_name == ""]
            # names without a plain entry (div, max, min) are tested through all their variants
            for o in (plain or entries):
                out.append((key, opdef, o))
    return out


def _opinfo_label(opdef, o, inplace=False):
    label = opdef.name if o.name.split(".")[-1] == opdef.name else f"{opdef.name}[{o.name}]"
    if inplace:
        label = opdef.name + "_" + label[len(opdef.name):]
    if opdef.namespace != "torch":
        label = f"{opdef.namespace}.{label}"
    if o.variant_test_name:
        label += "." + o.variant_test_name
    return label


def _dtypes_for(o):
    import torch
    sup = {str(d).replace("torch.", "") for d in o.supported_dtypes("cpu")}
    ds = [d for d in FLOAT_DTYPES if d in sup]
    ds += [d for d in INT_DTYPES if d in sup]
    return ds, torch


def _pick(n, k):
    """k indices spread evenly over range(n) (all of them when n <= k)."""
    if n <= k:
        return list(range(n))
    return sorted({round(i * (n - 1) / (k - 1)) for i in range(k)})


class _Enc:
    """Encodes one sample's inputs into the case format, collecting its tensors into a table."""

    def __init__(self):
        self.tensors = []
        self.ids = {}
        self.torch_tensors = []
        self.storages = set()

    def tensor(self, t):
        key = id(t)
        if key in self.ids:
            return {"T": self.ids[key]}
        if t.numel():
            ptr = t.untyped_storage().data_ptr()
            if ptr in self.storages:
                # distinct tensors over one memory (e.g. out= a view of the input): the case format can't express it
                raise Unconvertible("sample tensors share memory")
            self.storages.add(ptr)
        rec = tensor_record(t, keep_strides=True)
        rec["rg"] = bool(t.requires_grad)
        self.ids[key] = len(self.tensors)
        self.tensors.append(rec)
        self.torch_tensors.append(t)
        return {"T": self.ids[key]}

    def value(self, v):
        return encode_value(v, self.tensor)


def tensor_record(t, keep_strides=False):
    import torch
    if t.dim() > 16:
        raise Unconvertible(f"{t.dim()}-d tensor")
    if t.is_complex() or t.layout != torch.strided or t.is_quantized:
        raise Unconvertible(f"tensor of {t.dtype}/{t.layout}")
    dname = str(t.dtype).replace("torch.", "")
    if dname not in _ARRAY_CODE:
        raise Unconvertible(f"dtype {t.dtype}")
    t = t.detach()
    if keep_strides and t.numel() > 1 and any(st == 0 and n > 1 for st, n in zip(t.stride(), t.shape)):
        # a broadcast (stride-0) view, e.g. an expanded sample or an overlapping out= tensor: record the
        # un-expanded data and rebuild it with .expand(), so torch_js sees the same memory overlap
        base = t
        for d, (st, n) in enumerate(zip(t.stride(), t.shape)):
            if st == 0 and n > 1:
                base = base.narrow(d, 0, 1)
        rec = tensor_record(base, keep_strides=True)
        rec["expand"] = list(t.shape)
        return rec
    c = t.contiguous().clone()  # a copy: .numpy() on the sample itself would pin its storage (not resizable)
    if dname in ("float16", "bfloat16"):
        raw = c.view(torch.int16).numpy(force=True).tobytes()
    elif dname == "bool":
        raw = c.to(torch.uint8).numpy(force=True).tobytes()
    else:
        raw = c.numpy(force=True).tobytes()
    rec = {"dtype": dname, "shape": list(t.shape), "data": base64.b64encode(raw).decode("ascii")}
    if keep_strides and not t.is_contiguous() and t.numel() > 1 and 0 not in t.stride() and all(
            s > 0 for s in t.stride()):
        rec["strides"] = list(t.stride())
    return rec


def encode_value(v, on_tensor):
    import torch
    if isinstance(v, torch.Tensor):
        return on_tensor(v)
    if v is None or isinstance(v, (bool, str)):
        return v
    if isinstance(v, int):
        return int(v)
    if isinstance(v, float):
        return v if math.isfinite(v) else {"f": repr(v)}
    if isinstance(v, complex):
        raise Unconvertible("complex scalar")
    if isinstance(v, torch.dtype):
        name = str(v).replace("torch.", "")
        if name not in _ARRAY_CODE:
            raise Unconvertible(f"dtype {v}")
        return {"dtype": name}
    if isinstance(v, torch.Size):
        return {"tuple": [int(s) for s in v]}
    if isinstance(v, tuple):
        return {"tuple": [encode_value(x, on_tensor) for x in v]}
    if isinstance(v, list):
        return [encode_value(x, on_tensor) for x in v]
    if isinstance(v, slice):
        return {"slice": [encode_value(v.start, on_tensor), encode_value(v.stop, on_tensor),
                          encode_value(v.step, on_tensor)]}
    if v is Ellipsis:
        return {"ellipsis": 1}
    if isinstance(v, torch.memory_format):
        return {"memfmt": str(v).replace("torch.", "")}
    if isinstance(v, torch.device):
        return {"device": str(v)}
    try:
        import numpy as np
        if isinstance(v, np.generic):
            return encode_value(v.item(), on_tensor)
    except ImportError:
        pass
    raise Unconvertible(f"argument of type {type(v).__name__}")


def _encode_output(x):
    import torch
    if isinstance(x, torch.Tensor):
        return {"t": tensor_record(x)}
    if isinstance(x, (tuple, list)):  # includes torch.return_types
        return {"tuple": [_encode_output(v) for v in x]}
    return encode_value(x, lambda t: {"t": tensor_record(t)})


def _flat_torch_out(x):
    import torch
    if isinstance(x, torch.Tensor):
        return [x]
    if isinstance(x, (tuple, list)):
        out = []
        for v in x:
            out.extend(_flat_torch_out(v))
        return out
    return [x]


def _short(v, depth=0):
    import torch
    if isinstance(v, torch.Tensor):
        s = "x".join(str(d) for d in v.shape) if v.dim() else "()"
        if v.dim() and not v.is_contiguous():
            s += "nc"
        return s
    if isinstance(v, (list, tuple)):
        inner = ",".join(_short(x, depth + 1) for x in v)
        return f"[{inner}]" if isinstance(v, list) else f"({inner})"
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, torch.dtype):
        return str(v).replace("torch.", "")
    return repr(v)


def sample_label(s):
    parts = [_short(s.input)] + [_short(a) for a in s.args] + [f"{k}={_short(v)}" for k, v in s.kwargs.items()]
    lab = ",".join(parts)
    lab = lab.replace(" ", "")
    return lab if len(lab) <= 70 else lab[:67] + "..."


def _numel_of_sample(s):
    import torch
    n = 0
    for v in [s.input, *s.args, *s.kwargs.values()]:
        for t in (v if isinstance(v, (list, tuple)) else [v]):
            if isinstance(t, torch.Tensor):
                n += t.numel()
    return n


def _sample_summary(s):
    try:
        return s.summary()
    except Exception:  # noqa: BLE001
        return repr(s)[:300]


def _call_torch(o, s, variant=""):
    if variant == "inplace":
        return o.inplace_variant(s.input, *s.args, **s.kwargs)
    return o(s.input, *s.args, **s.kwargs)


def _seed_all(seed):
    import random
    import torch
    torch.manual_seed(seed)
    random.seed(seed)
    try:
        import numpy as np
        np.random.seed(seed)
    except ImportError:  # pragma: no cover
        pass


class _unseeded_random_ops:
    """op_db wraps random ops in wrapper_set_seed (manual_seed(42) inside freeze_rng_state), which hides their use
    of the generator. Within this context they run on the current global state instead, so _make_case can see
    that the state moved (the op is random) and record the state it started from."""

    def __enter__(self):
        import torch.testing._internal.common_methods_invocations as cmi
        self.cmi = cmi
        self.saved = cmi.__dict__.get("wrapper_set_seed")
        cmi.wrapper_set_seed = lambda op, *args, **kwargs: op(*args, **kwargs)
        return self

    def __exit__(self, *a):
        self.cmi.wrapper_set_seed = self.saved
        return False


class _filled_empty:
    """torch.empty (and resizes) fill new memory (NaN / the dtype's max), so out= tensors that a sample leaves
    uninitialized (error inputs do) record the same bytes on every run: a deterministic fixture. (Deterministic
    mode only changes CUDA kernels; warn_only keeps it from raising.)"""

    def __enter__(self):
        import torch
        import torch.utils.deterministic as det
        self.saved = (torch.are_deterministic_algorithms_enabled(),
                      torch.is_deterministic_algorithms_warn_only_enabled(), det.fill_uninitialized_memory)
        torch.use_deterministic_algorithms(True, warn_only=True)
        det.fill_uninitialized_memory = True
        return self

    def __exit__(self, *a):
        import torch
        import torch.utils.deterministic as det
        torch.use_deterministic_algorithms(self.saved[0], warn_only=self.saved[1])
        det.fill_uninitialized_memory = self.saved[2]
        return False


def build_cases(stats=None):
    with _unseeded_random_ops():
        return _build_cases(stats)


def _build_cases(stats=None):
    """Every (op, dtype, sample) case from torch's op_db, with torch's results. Deterministic (seeded).

    Per OpInfo: the functional form for float32 (+gradients), float64 and the integer/bool dtypes it supports;
    the in-place variant (`Tensor.<name>_`, label `<name>_`) on fewer samples; and its error_inputs (dtype
    label `error`: torch_js must raise the same exception type with a message matching PyTorch's regex).
    """
    import warnings
    import torch
    stats = stats if stats is not None else {}
    cases = []
    warnings.filterwarnings("ignore")
    for key, opdef, o in select_opinfos():
        label = _opinfo_label(opdef, o)
        dtypes, _ = _dtypes_for(o)
        inplace = opdef.inplace is not None and o.inplace_variant is not None
        ilabel = _opinfo_label(opdef, o, inplace=True)
        for dname in dtypes:
            tdtype = getattr(torch, dname)
            variants = [("", label, dname == "float32" and o.supports_autograd)]
            if inplace and dname != "float64":
                variants.append(("inplace", ilabel, False))
            for variant, lab, rg in variants:
                _seed_all(_seed_for(lab, dname))
                try:
                    # sample_inputs_func directly: OpInfo.sample_inputs wraps it in a tracker that walks the
                    # Python stack on every call (seconds per op); we seed ourselves instead.
                    with _filled_empty():
                        samples = list(o.sample_inputs_func(o, "cpu", tdtype, rg))
                except Exception as e:  # noqa: BLE001
                    stats.setdefault("sample_errors", []).append(f"{lab}/{dname}: {type(e).__name__}: {e}")
                    continue
                limit = MAX_SAMPLES.get(dname, MAX_SAMPLES_INT)
                if variant:
                    limit = MAX_SAMPLES_VARIANT
                usable = [(i, s) for i, s in enumerate(samples) if _numel_of_sample(s) <= MAX_NUMEL]
                stats["too_large"] = stats.get("too_large", 0) + len(samples) - len(usable)
                for j in _pick(len(usable), limit):
                    idx, s = usable[j]
                    case = _make_case(key, opdef, o, lab, dname, idx, s, stats, variant=variant)
                    if case is not None:
                        cases.append(case)
        if o.error_inputs_func is not None:
            _seed_all(_seed_for(label, "error"))
            try:
                with _filled_empty():
                    errs = list(o.error_inputs_func(o, "cpu"))
            except Exception as e:  # noqa: BLE001
                stats.setdefault("sample_errors", []).append(f"{label}/error: {type(e).__name__}: {e}")
                errs = []
            for idx, ei in enumerate(errs):
                case = _make_case(key, opdef, o, label, "error", idx, ei.sample_input, stats)
                if case is None:
                    continue
                if "error" not in case["expect"]:
                    stats.setdefault("error_inputs_not_raising", []).append(case["id"])
                    continue
                case["expect"]["regex"] = ei.error_regex or ""
                cases.append(case)
    return cases


def _make_case(key, opdef, o, label, dname, idx, s, stats, variant=""):
    import torch
    enc = _Enc()
    try:
        inp = enc.value(s.input)
        args = [enc.value(a) for a in s.args]
        kwargs = {k: enc.value(v) for k, v in s.kwargs.items()}
    except Unconvertible as e:
        stats.setdefault("unconvertible", {}).setdefault(label, []).append(str(e))
        return None
    case = {"id": f"{label}-{dname}-{idx}-{sample_label(s)}", "op": label, "ns": key[0], "name": key[1],
            "function": bool(opdef.function), "opinfo": o.name + ("." + o.variant_test_name if o.variant_test_name
                                                                   else ""),
            "kind": opdef.kind, "dtype": dname, "idx": idx, "summary": _sample_summary(s)[:400],
            "tensors": enc.tensors, "input": inp, "args": args, "kwargs": kwargs}
    if variant:
        case["variant"] = variant
    rng = torch.get_rng_state()
    try:
        try:
            # (_filled_empty: an op that resizes an out= tensor and then raises leaves defined bytes behind,
            # which a later error input sharing that tensor records)
            with torch.no_grad() if not any(t.requires_grad for t in enc.torch_tensors) else _nullctx(), \
                    _filled_empty():
                res = _call_torch(o, s, variant)
        finally:
            if not torch.equal(rng, torch.get_rng_state()):
                # the op drew random numbers: record the state it started from (only then, to keep fixtures small)
                case["rng"] = base64.b64encode(rng.numpy().tobytes()).decode("ascii")
    except Exception as e:  # noqa: BLE001
        case["expect"] = {"error": _builtin_exc_name(e), "msg": str(e)[:300]}
        return case
    try:
        case["expect"] = {"out": _encode_output(res)}
    except Unconvertible as e:
        stats.setdefault("unconvertible_out", {}).setdefault(label, []).append(str(e))
        return None
    # gradients: every float output that requires grad, w.r.t. every input tensor that requires grad
    flat = _flat_torch_out(res)
    out_idx = [i for i, t in enumerate(flat) if isinstance(t, torch.Tensor) and t.requires_grad]
    in_idx = [i for i, t in enumerate(enc.torch_tensors) if t.requires_grad]
    if out_idx and in_idx:
        seed = _seed_for(case["id"])
        gen = torch.Generator().manual_seed(seed)
        ups = [torch.randn(flat[i].shape, generator=gen, dtype=flat[i].dtype) for i in out_idx]
        if all(u.dtype in (torch.float32, torch.float64) for u in ups):
            # torch_js regenerates these bit for bit from the seed (run_case); half-precision randn differs
            grad = {"outputs": out_idx, "inputs": in_idx, "upstream_seed": seed,
                    "upstream": [{"dtype": str(u.dtype).replace("torch.", ""), "shape": list(u.shape)} for u in ups]}
        else:
            grad = {"outputs": out_idx, "inputs": in_idx, "upstream": [tensor_record(u) for u in ups]}
        try:
            grads = torch.autograd.grad([flat[i] for i in out_idx], [enc.torch_tensors[i] for i in in_idx],
                                        grad_outputs=ups, allow_unused=True)
        except Exception as e:  # noqa: BLE001
            grad["error"] = _builtin_exc_name(e)
            grad["msg"] = str(e)[:300]
        else:
            grad["grads"] = [None if g is None else tensor_record(g) for g in grads]
        case["grad"] = grad
    return case


class _nullctx:
    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False


def _builtin_exc_name(e):
    import builtins
    for klass in type(e).__mro__:
        if getattr(builtins, klass.__name__, None) is klass:
            return klass.__name__
    return "Exception"


def fixture_subset(cases):
    """The deterministic subset of build_cases() that the fixture records (see FIXTURE_MAX_SAMPLES)."""
    groups = {}
    for c in cases:
        if c["dtype"] == "error":
            groups.setdefault(("error", c["op"]), []).append(c)
            continue
        if sum(_numel(t["shape"]) for t in c["tensors"]) > FIXTURE_MAX_NUMEL:
            continue
        groups.setdefault((c["op"], c["dtype"], c.get("variant", "")), []).append(c)
    keep = set()
    for key, cs in groups.items():
        limit = len(cs) if key[0] == "error" else FIXTURE_MAX_SAMPLES.get(key[1], len(cs))
        keep.update(id(cs[j]) for j in _pick(len(cs), limit))
    return [c for c in cases if id(c) in keep]


def write_fixture(cases, path=FIXTURE):
    payload = {"version": FORMAT_VERSION, "cases": cases}
    text = json.dumps(payload, separators=(",", ":"), sort_keys=True, allow_nan=False)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    # mtime=0 keeps the gzip bytes deterministic
    with open(path, "wb") as raw:
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as f:
            f.write(text.encode("utf-8"))
    return len(text)


# ---------------------------------------------------------------------------------------------------------------
# helpers for the hand-written tests (test_tensor_core.py, test_autograd.py)


def values(x):
    """Flat Python values of a torch or torch_js tensor (or a scalar), for comparisons without numpy."""
    if hasattr(x, "tolist"):
        v = x.detach().tolist() if hasattr(x, "detach") else x.tolist()
        return _flatten_list(v) if isinstance(v, list) else [v]
    return [x]


def dtype_name(d):
    return str(d).replace("torch.", "")


def assert_same(js, pt, rtol=0.0, atol=0.0, what="result", check_stride=False):
    """torch_js result `js` equals torch result `pt`: structure, dtype, shape, values (NaN == NaN)."""
    if type(pt).__name__ == "dtype" or type(js).__name__ == "dtype":
        assert dtype_name(js) == dtype_name(pt), f"{what}: dtype {js} vs torch {pt}"
        return
    if isinstance(pt, (tuple, list)):
        assert isinstance(js, (tuple, list)), f"{what}: torch gave a sequence, torch_js {type(js).__name__}"
        assert len(js) == len(pt), f"{what}: {len(js)} items vs torch's {len(pt)}"
        for i, (a, b) in enumerate(zip(js, pt)):
            assert_same(a, b, rtol, atol, f"{what}[{i}]", check_stride)
        return
    if hasattr(pt, "dtype") and hasattr(pt, "shape") and hasattr(pt, "tolist"):
        assert hasattr(js, "dtype") and hasattr(js, "shape"), f"{what}: torch_js gave {type(js).__name__}"
        assert dtype_name(js.dtype) == dtype_name(pt.dtype), f"{what}: dtype {js.dtype} vs torch {pt.dtype}"
        assert tuple(js.shape) == tuple(pt.shape), f"{what}: shape {tuple(js.shape)} vs torch {tuple(pt.shape)}"
        if check_stride:
            assert tuple(js.stride()) == tuple(pt.stride()), f"{what}: stride {js.stride()} vs {pt.stride()}"
        a, b = values(js), values(pt)
    else:
        a, b = [js], [pt]
    for i, (x, y) in enumerate(zip(a, b)):
        if isinstance(y, float) and y != y:
            assert isinstance(x, float) and x != x, f"{what}[{i}]: {x!r} vs torch nan"
        elif isinstance(y, float) and (rtol or atol) and not math.isinf(y):
            assert abs(x - y) <= atol + rtol * abs(y), f"{what}[{i}]: {x!r} vs torch {y!r}"
        else:
            assert x == y and type(x) is type(y), f"{what}[{i}]: {x!r} ({type(x).__name__}) vs torch {y!r} " \
                                                  f"({type(y).__name__})"
