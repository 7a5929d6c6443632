"""Oracle for the OpInfo conformance suite (tests/test_opinfo.py).

A *case* is one (op, dtype, sample) triple in a torch-free, JSON-able form: the sample's inputs (tensors as raw
little-endian bytes in base64 plus dtype/shape/strides), and what PyTorch did with them (outputs, or the exception
type it raised; for float32 samples with requires_grad, a seeded upstream gradient and the input gradients).

Two sources produce the same cases (same ids, same comparisons):
  * live: `build_cases()` runs PyTorch's op_db sample inputs through torch (needs torch; CPython only);
  * fixture: `load_fixture()` reads build/fixtures/opinfo_cases.json.gz (oracle_cases.FIXTURE), which `make fixtures`
    writes from the installed torch (tools/gen_fixtures.py) for the runs without it (Pyodide, webgpu): a
    deterministic subset of the live cases (`fixture_subset`), same ids.
Random ops (dropout, rrelu, ...) carry the CPU generator state torch started from (`rng`); run_case gives it to
torch_js.set_rng_state first, so their outputs compare bit for bit. Upstream gradients are stored as a seed.
`run_case(case)` converts a case's inputs to torch_js, runs the op and compares. It needs only torch_js and the
standard library (no numpy), so it runs in Pyodide. Building cases and the fixture file: tests/oracle_cases.py.
"""
import array
import base64
import math
import re
import sys

# case building, fixture I/O and the shared settings live in oracle_cases; re-exported here for callers
# (tests/test_opinfo.py, tools/gen_fixtures.py) that use them as oracle.<name>
from oracle_cases import (  # noqa: F401
    FIXTURE, FIXTURE_MAX_SAMPLES, MAX_NUMEL, _ARRAY_CODE, _numel, build_cases, fixture_key, fixture_subset,
    load_fixture, write_fixture)

# Some OpInfo entries call the op with a different argument order than sample.input-first.
# name -> function(fn, input, args, kwargs) -> result
CALL_ADAPTERS = {
    # op_db calls einsum as op(operands, equation)
    "einsum": lambda fn, inp, args, kw: fn(args[0], inp, **kw),
    "where": lambda fn, inp, args, kw: fn(args[0], inp, *args[1:], **kw),
    # op=lambda weight, idx, **kwargs: F.embedding(idx, weight, **kwargs)
    "nn.functional.embedding": lambda fn, inp, args, kw: fn(args[0], inp, *args[1:], **kw),
    # op=lambda x, n, **kwargs: torch.polygamma(n, x, **kwargs)
    **{f"polygamma.polygamma_n_{n}": lambda fn, inp, args, kw: fn(args[0], inp, **kw) for n in range(5)},
}


# ---------------------------------------------------------------------------------------------------------------
# Known gaps, as data: (op label, dtype or None for all dtypes[, sample index]) -> reason.
# Each entry marks the matching cases xfail(strict=False); fix the gap, then delete the entry.
XFAIL = {
    # PyTorch's CPU uint8 bilinear/bicubic is a fixed-point, Pillow-style separable kernel (AVX2 path, weights in
    # int16 with rounding between the passes); torch_js evaluates in float32 and rounds once: same dtype and shape,
    # values within a few units
    ("nn.functional.interpolate.bilinear", "uint8"): "uint8 bilinear uses PyTorch's fixed-point kernel (not ported)",
    ("nn.functional.interpolate.bicubic", "uint8"): "uint8 bicubic uses PyTorch's fixed-point kernel (not ported)",
    ("nn.functional.upsample_bilinear", "uint8"): "uint8 bilinear uses PyTorch's fixed-point kernel (not ported)",
    # these samples put polygamma's input on its poles (negative integers) or next to them, where PyTorch's float32
    # kernel returns its rounding noise; torch_js computes in float64 and rounds the result
    **{(f"polygamma{v}.polygamma_n_{n}", dtype, idx): "polygamma at its poles: float32 noise vs float64"
       for n in range(5) for v in ("", "_") for dtype in ("float32", "int8", "int16") for idx in (0, 5)},
    # PyTorch 2.13's as_strided_scatter_backward gives the input the gradient of the written region and zeros
    # elsewhere, the complement of its derivative; torch_js gives the derivative (tests/test_ops_more.py)
    ("as_strided_scatter", "float32"): "PyTorch's input gradient for as_strided_scatter is the complement of the "
                                       "derivative",
}
# Known gaps by keyword argument: (dtype label, kwarg name) -> reason ("error" = OpInfo error_inputs cases).
XFAIL_KWARG = {
}


def pytest_params(cases):
    """pytest.param per case, id = the case id, known gaps (known_gap) marked xfail(strict=False)."""
    import pytest
    out = []
    for case in cases:
        reason = known_gap(case)
        marks = [pytest.mark.xfail(reason=reason, strict=False)] if reason else []
        out.append(pytest.param(case, id=case["id"], marks=marks))
    return out


def known_gap(case):
    """The reason case is a known torch_js gap (any device), or None."""
    for key in ((case["op"], case["dtype"], case["idx"]), (case["op"], case["dtype"]), (case["op"], None)):
        if key in XFAIL:
            return XFAIL[key]
    for (dtype, kwarg), reason in XFAIL_KWARG.items():
        if case["dtype"] == dtype and kwarg in case["kwargs"]:
            return reason
    return None


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


def make_tensor(tj, rec, device=None):
    """A torch_js tensor from a tensor record (a leaf; strides reproduced when the record has them).

    device: None (CPU) or a device name; the tensor is built on CPU, then moved with `.to(device)` before it is
    made a leaf (a non-contiguous record becomes contiguous there; values are the same)."""
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
    if device is not None:
        t = t.to(device)
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
    t = t.detach()
    if t.device.type != "cpu":
        t = t.cpu()
    return _flatten_list(t.tolist())


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
    if adapter is not None and case.get("variant") != "inplace":   # in-place variants are Tensor methods
        return adapter(fn, inp, args, kwargs)
    return fn(inp, *args, **kwargs)


def _exc_matches(exc, expected_name):
    for klass in type(exc).__mro__:
        if klass.__name__ == expected_name:
            return True
    return False


# Ops whose index output is only defined up to ties: on CPU torch_js reproduces libstdc++'s tie order; on another
# device (as on CUDA) any index of an equal value is right, so there it is checked by gathering with it.
TIE_INDEX_OPS = {"topk", "kthvalue"}


def _check_tie_indices(tj, case, inp, args, kwargs, res, where):
    values, idx = res
    dim = args[1] if len(args) > 1 else kwargs.get("dim", -1)
    keepdim = case["op"] == "topk" or (args[2] if len(args) > 2 else kwargs.get("keepdim", False))
    if inp.dim() == 0:
        ok = idx.cpu().tolist() == 0
    else:
        sel = inp.detach().gather(dim, idx if keepdim else idx.unsqueeze(dim))
        ok = bool((sel.cpu() == (values if keepdim else values.unsqueeze(dim)).detach().cpu()).all().item())
    if not ok:
        raise AssertionError(f"{where}\n  forward out[1]: indices do not select the returned values")


def run_case(case, device=None, tol_scale=1.0):
    """Run one conformance case against torch_js; raise AssertionError describing any difference.

    device: None (CPU) or a device name (e.g. "webgpu"): input tensors and upstream gradients are made on CPU and
    moved there, tensor outputs must be on it and are read back with .cpu(). tol_scale multiplies the float
    tolerances (rtol and atol) of forward and gradient comparisons."""
    import torch_js as tj
    where = f"{case['id']}\n  sample: {case.get('summary', '')}"
    tensors = [make_tensor(tj, rec, device) for rec in case["tensors"]]
    inp = decode(tj, case["input"], tensors)
    args = decode(tj, case["args"], tensors)
    kwargs = {k: decode(tj, v, tensors) for k, v in case["kwargs"].items()}
    if device is not None and "device" in kwargs:    # a factory op: make it on the device under test
        kwargs["device"] = device
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
    tie_indices = device is not None and case["op"] in TIE_INDEX_OPS
    if tie_indices:
        _check_tie_indices(tj, case, inp, args, kwargs, res, where)
    for (path, g), (_, w) in zip(got, want):
        if tie_indices and path == "out[1]":
            continue
        if isinstance(w, dict) and "t" in w:
            rec = w["t"]
            rtol, atol = tolerance(case["kind"], rec["dtype"])
            rtol, atol = case.get("rtol", rtol), case.get("atol", atol)
            rtol, atol = rtol * tol_scale, atol * tol_scale
            if device is not None and isinstance(g, tj.Tensor) and g.device.type != tj.device(device).type:
                raise AssertionError(f"{where}\n  forward {path}: on {g.device}, expected {device}")
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
    if device is not None:
        ups = [u.to(device) for u in ups]
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
        rtol, atol = rtol * tol_scale, atol * tol_scale
        if device is not None and g.device.type != tj.device(device).type:
            raise AssertionError(f"{where}\n  backward {what}: on {g.device}, expected {device}")
        try:
            compare_tensor(g, rec, rtol, atol, what)
        except AssertionError as e:
            raise AssertionError(f"{where}\n  backward {e}") from None



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
