"""Building the OpInfo conformance cases (see oracle.py for what a case is and how one is run).

  * live: `build_cases()` runs PyTorch's op_db sample inputs through torch (needs torch; CPython only), encoding
    each sample's tensors and PyTorch's results (or the exception it raised, and gradients) into the case format;
  * fixture: `fixture_subset()` picks the deterministic subset that `write_fixture()` records in FIXTURE
    (tools/gen_fixtures.py, run by `make fixtures`) and `load_fixture()` reads back (Pyodide, webgpu).
Also the settings both modules share (dtypes, sample limits, fixture path/format). Loading a fixture needs only the
standard library; everything else imports torch lazily.
"""
import base64
import gzip
import importlib.metadata
import json
import math
import os
import sys
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PKG = os.path.join(ROOT, "pytorchjs_py")
if os.path.isdir(PKG) and PKG not in sys.path:
    sys.path.insert(0, PKG)

# Made from the installed torch by `make fixtures` (a prerequisite of every test target), never committed: ~4 MB
# that changes with every op added. The Pyodide runs see it through the checkout they mount (pyodide_check.mjs)
# or the files they are sent (site_tests/test_webgpu_browser.py), at the same path relative to tests/.
FIXTURE = os.path.join(ROOT, "build", "fixtures", "opinfo_cases.json.gz")
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



class Unconvertible(Exception):
    """A sample whose inputs have no torch_js counterpart (complex numbers, sparse, generators, ...)."""


def _numel(shape):
    n = 1
    for s in shape:
        n *= s
    return n


# ---------------------------------------------------------------------------------------------------------------
# fixture file


def load_fixture(path=FIXTURE):
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path} not found: run `make fixtures` (tools/gen_fixtures.py, needs torch)")
    with gzip.open(path, "rt", encoding="utf-8") as f:
        data = json.load(f)
    if data.get("version") != FORMAT_VERSION:
        raise RuntimeError(f"{path}: fixture format {data.get('version')} != {FORMAT_VERSION}; regenerate it "
                           f"with `make fixtures`")
    return data["cases"]


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


def fixture_key():
    """What the fixture's cases depend on besides this code and tools/gen_fixtures.py: torch's version and the
    registered ops that name OpInfos, with the OpDef fields a case records. `make fixtures` remakes the fixture when
    this text changes (tools/gen_fixtures.py --key). Reads torch's version without importing torch (fast)."""
    import torch_js as tj
    import torch_js.nn  # noqa: F401  (imported lazily by torch_js; registers the nn.functional ops)
    lines = [f"torch {importlib.metadata.version('torch')}", f"format {FORMAT_VERSION}"]
    for key, opdef in tj.REGISTRY.items():
        if opdef.opinfo:
            lines.append(f"{'.'.join(key)} name={opdef.name} ns={opdef.namespace} kind={opdef.kind} "
                         f"function={bool(opdef.function)} inplace={opdef.inplace is not None} "
                         f"opinfo={','.join(opdef.opinfo)}")
    return "\n".join(lines) + "\n"


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
    if t.device.type == "meta":
        raise Unconvertible("meta tensor (no data)")
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
