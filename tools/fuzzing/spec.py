"""The fuzzer's call format: JSON-able, library-free, runnable on torch or torch_js alike (and in Pyodide).

A call is a dict:
  {"id": 17, "op": "add", "ns": "torch", "form": "fn" | "method" | "inplace" | "getitem" | "setitem",
   "tensors": [<tensor spec>, ...], "args": [<value>, ...], "kwargs": {name: <value>}, "src": "<provenance>"}
A tensor spec builds one tensor, in table order:
  {"dtype": "float32", "shape": [2, 3], "vals": [flat values] | "pat": [a, m, c, d], "views": [[method, *args]],
   "rg": true}        -- a fresh base; values: the list, or the pattern ((i * a) % m - c) / d (integers: no / d)
  {"of": 0, "views": [...]}   -- a view of an earlier table entry (shared memory: out= aliasing its input, ...)
A value is JSON: int, bool, str, None, a finite float, a list, or one of {"T": i} (table tensor i),
{"f": "nan"|"inf"|"-inf"}, {"dtype": name}, {"tuple": [...]}, {"slice": [a, b, c]}, {"ellipsis": 1},
{"memfmt": name}, {"device": "cpu"}.
`run_side(lib, call)` builds and runs the call on one library and returns a JSON-able outcome; `repro(call)` writes
the one-line Python reproducer (`import torch_js as torch; ...`). Only the standard library is imported here.
"""
import math
import struct

DTYPES = ("bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32", "float64")
FLOAT_DTYPES = ("float16", "bfloat16", "float32", "float64")
INT_BITS = {"uint8": 8, "int8": 8, "int16": 16, "int32": 32, "int64": 64}
# what a kernel built with -DTJS_DEBUG (make build-debug) raises when it catches its own out-of-bounds access
KERNEL_CHECK = "kernel bounds check failed"
SUMMARY_MAX_NUMEL = 4096     # results with more elements are compared by dtype/shape only
# Python exceptions that mean a bug inside the library rather than a checked argument (unless torch raises the same)
INTERNAL = frozenset(("AttributeError", "KeyError", "error", "OverflowError", "RecursionError", "ZeroDivisionError",
                      "UnboundLocalError", "NameError", "AssertionError", "MemoryError", "SystemError",
                      "ArgumentError", "UnicodeDecodeError", "UnicodeEncodeError", "StopIteration",
                      "FloatingPointError", "BufferError", "ReferenceError", "JsException"))


def numel(shape):
    n = 1
    for s in shape:
        n *= s
    return n


def wrap_int(v, dtype):
    """v wrapped into dtype's range (two's complement), as a cast from int64 does."""
    bits = INT_BITS[dtype]
    v &= (1 << bits) - 1
    if dtype != "uint8" and v >= 1 << (bits - 1):
        v -= 1 << bits
    return v


def pattern(n, pat, is_float):
    a, m, c, d = pat
    if is_float:
        return [((i * a) % m - c) / d for i in range(n)]
    return [(i * a) % m - c for i in range(n)]


def base_dtype(dtype):
    """The dtype a spec's values are first made in (then cast with .to): exact for every value a spec holds."""
    if dtype == "bool":
        return "bool"
    return "float64" if dtype in FLOAT_DTYPES else "int64"


def spec_values(spec):
    dt = spec["dtype"]
    n = numel(spec["shape"])
    if "vals" in spec:
        vals = [_num(v) for v in spec["vals"]]
    else:
        vals = pattern(n, spec["pat"], dt in FLOAT_DTYPES)
    if dt == "bool":
        return [bool(v) for v in vals]
    if dt in FLOAT_DTYPES:
        return [float(v) for v in vals]
    return [int(v) for v in vals]


def short_float(v, dtype):
    """The shortest decimal that a float64 -> dtype cast maps back to v (v is a value of dtype)."""
    if not math.isfinite(v) or dtype not in ("float32", "float16", "bfloat16") or v == int(v) and abs(v) < 2 ** 24:
        return v
    code = "e" if dtype == "float16" else "f"
    for p in range(1, 10):
        c = float(f"{v:.{p}g}")
        try:
            if struct.unpack(code, struct.pack(code, c))[0] == v:
                return c
        except (OverflowError, struct.error):
            return v
    return v


def _num(v):
    return decode_float(v) if isinstance(v, dict) else v


def decode_float(obj):
    return float(obj["f"])


def enc_float(v):
    return v if math.isfinite(v) else {"f": repr(v)}


# ---------------------------------------------------------------------------------------------------------------
# building a call on a library


def _namespace(lib, ns):
    if ns == "torch":
        return lib
    if ns == "nn.functional":
        return lib.nn.functional
    return getattr(lib, ns)


def make_base(lib, spec):
    dt = getattr(lib, spec["dtype"])
    shape = tuple(spec["shape"])
    vals = spec_values(spec)
    if numel(shape) == 0:
        return lib.empty(shape, dtype=dt)
    t = lib.tensor(vals, dtype=getattr(lib, base_dtype(spec["dtype"])))
    if spec["dtype"] != base_dtype(spec["dtype"]):
        t = t.to(dt)
    return t.reshape(shape)


def apply_view(lib, t, view, table):
    name, args = view[0], [decode(lib, a, table) for a in view[1:]]
    if name == "__getitem__":
        return t[args[0]]
    return getattr(t, name)(*args)


def build_tensors(lib, call):
    table = []
    for spec in call["tensors"]:
        t = table[spec["of"]] if "of" in spec else make_base(lib, spec)
        for v in spec.get("views", ()):
            t = apply_view(lib, t, v, table)
        if spec.get("rg"):
            t.requires_grad_(True)
        table.append(t)
    return table


def decode(lib, obj, table):
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, list):
        return [decode(lib, v, table) for v in obj]
    if "T" in obj:
        return table[obj["T"]]
    if "f" in obj:
        return float(obj["f"])
    if "tuple" in obj:
        return tuple(decode(lib, v, table) for v in obj["tuple"])
    if "dtype" in obj:
        return getattr(lib, obj["dtype"])
    if "slice" in obj:
        return slice(*[decode(lib, v, table) for v in obj["slice"]])
    if "ellipsis" in obj:
        return Ellipsis
    if "memfmt" in obj:
        return getattr(lib, obj["memfmt"])
    if "device" in obj:
        return lib.device(obj["device"])
    raise ValueError(f"cannot decode {obj!r}")


def invoke(lib, call, table):
    args = [decode(lib, a, table) for a in call["args"]]
    kwargs = {k: decode(lib, v, table) for k, v in call["kwargs"].items()}
    form = call["form"]
    if form == "fn":
        return getattr(_namespace(lib, call["ns"]), call["op"])(*args, **kwargs)
    if form == "method":
        return getattr(args[0], call["op"])(*args[1:], **kwargs)
    if form == "inplace":
        return getattr(args[0], call["op"] + "_")(*args[1:], **kwargs)
    if form == "getitem":
        return args[0][args[1]]
    if form == "setitem":
        args[0][args[1]] = args[2]
        return args[0]
    raise ValueError(f"unknown form {form!r}")


# ---------------------------------------------------------------------------------------------------------------
# outcomes


def exc_record(e, phase):
    mro = [c.__name__ for c in type(e).__mro__]
    name = mro[0]
    if name == "_LinAlgError":
        name = "LinAlgError"
    return {"exc": name, "mro": mro, "msg": str(e)[:300], "phase": phase}


def _flat(x, out):
    if isinstance(x, list):
        for v in x:
            _flat(v, out)
    else:
        out.append(x)
    return out


def _jsonable(v):
    if isinstance(v, float) and not math.isfinite(v):
        return {"f": repr(v)}
    return v


def summarize(lib, v, depth=0):
    """A JSON-able summary of a result (tensors: dtype, shape, stride and, when small, the values)."""
    if depth > 4:
        return {"repr": type(v).__name__}
    if isinstance(v, lib.Tensor):
        shape = [int(s) for s in v.shape]
        rec = {"t": str(v.dtype).replace("torch.", ""), "shape": shape}
        try:
            rec["stride"] = [int(s) for s in v.stride()]
        except Exception:  # noqa: BLE001  (a stride the library cannot report is recorded, not fatal)
            rec["stride"] = None
        if numel(shape) <= SUMMARY_MAX_NUMEL:
            vals = _flat(v.detach().tolist(), []) if shape else [v.detach().item()]
            rec["vals"] = [_jsonable(x) for x in vals]
        return rec
    if isinstance(v, (tuple, list)):
        return {"seq": [summarize(lib, x, depth + 1) for x in v]}
    if v is None or isinstance(v, (bool, int, str)):
        return {"py": v}
    if isinstance(v, float):
        return {"py": _jsonable(v)}
    if isinstance(v, lib.dtype):
        return {"dtype": str(v).replace("torch.", "")}
    return {"repr": type(v).__name__}


def run_side(lib, call):
    """Run one call on one library: {"ok": summary, "after": [table summaries]} or an exception record."""
    try:
        table = build_tensors(lib, call)
    except Exception as e:  # noqa: BLE001  (every outcome is data here)
        return exc_record(e, "setup")
    try:
        result = invoke(lib, call, table)
    except Exception as e:  # noqa: BLE001
        return exc_record(e, "call")
    if call.get("grad"):
        try:
            result = backward(lib, result, table)
        except Exception as e:  # noqa: BLE001
            return exc_record(e, "backward")
    try:
        return {"ok": summarize(lib, result), "after": [summarize(lib, t) for t in table]}
    except Exception as e:  # noqa: BLE001
        return exc_record(e, "summary")


def grad_root(lib, result):
    """The first floating tensor among the results (what the "grad" form differentiates)."""
    for r in (result if isinstance(result, (tuple, list)) else [result]):
        if isinstance(r, lib.Tensor) and r.dtype.is_floating_point and r.requires_grad:
            return r
    raise TypeError("the result has no floating tensor that requires grad")


def backward(lib, result, table):
    """The "grad" form: result.sum().backward(); the gradients of the table tensors that require grad."""
    grad_root(lib, result).sum().backward()
    return [t.grad for t in table if t.requires_grad and t.grad_fn is None]


# ---------------------------------------------------------------------------------------------------------------
# reproducer


def _lit(v):
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, int) and not isinstance(v, bool) and abs(v) >= 2 ** 16:
        p = abs(v).bit_length() - 1
        if abs(v) == 1 << p:
            return ("-" if v < 0 else "") + f"2**{p}"
        if abs(v) == (1 << (p + 1)) - 1:
            return ("-" if v < 0 else "") + f"(2**{p + 1}-1)"
    return repr(v)


def src_value(obj, names):
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return _lit(obj)
    if isinstance(obj, list):
        return "[" + ", ".join(src_value(v, names) for v in obj) + "]"
    if "T" in obj:
        return names[obj["T"]]
    if "f" in obj:
        return _lit(float(obj["f"]))
    if "tuple" in obj:
        items = [src_value(v, names) for v in obj["tuple"]]
        return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
    if "dtype" in obj:
        return "torch." + obj["dtype"]
    if "slice" in obj:
        return "slice(" + ", ".join(src_value(v, names) for v in obj["slice"]) + ")"
    if "ellipsis" in obj:
        return "..."
    if "memfmt" in obj:
        return "torch." + obj["memfmt"]
    if "device" in obj:
        return f"torch.device({obj['device']!r})"
    return repr(obj)


def _src_index(obj, names):
    """An index as it is written inside [...]: slices as a:b:c, tuples without parentheses."""
    if isinstance(obj, dict) and "slice" in obj:
        parts = ["" if v is None else src_value(v, names) for v in obj["slice"]]
        while len(parts) > 2 and parts[-1] == "":
            parts.pop()
        return ":".join(parts) if len(parts) > 1 else parts[0] + ":"
    if isinstance(obj, dict) and "tuple" in obj:
        items = [_src_index(v, names) for v in obj["tuple"]]
        return ", ".join(items) + ("," if len(items) == 1 else "")
    return src_value(obj, names)


def _src_base(spec):
    dt, shape = spec["dtype"], spec["shape"]
    n, bd = numel(shape), base_dtype(dt)
    shape_src = "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"
    if n == 0:
        return f"torch.empty({shape_src}, dtype=torch.{dt})"
    if "vals" in spec or n <= 12:
        vals = spec_values(dict(spec, dtype=bd)) if bd != "bool" else spec_values(spec)
        src = f"torch.tensor([{', '.join(_lit(v) for v in vals)}], dtype=torch.{bd})"
    else:
        a, m, c, d = spec["pat"]
        src = f"(torch.arange({n}) * {a} % {m} - {c})"
        if bd == "float64":
            src = f"({src}.double() / {d})"
        elif bd == "bool":
            src = f"({src} != 0)"
    if dt != bd:
        src += f".to(torch.{dt})"
    return src + (f".reshape{shape_src}" if len(shape) != 1 else "") if shape else src + ".reshape(())"


def repro(call, lib_name="torch_js"):
    """One line of Python that makes the call (paste it; `import torch` instead runs it on PyTorch)."""
    names = [f"t{i}" for i in range(len(call["tensors"]))]
    lines = [f"import {lib_name} as torch" if lib_name != "torch" else "import torch"]
    body = str([call["tensors"], call["args"], call["kwargs"]])
    if "nan" in body or "inf" in body:
        lines.append("from math import nan, inf")
    for i, spec in enumerate(call["tensors"]):
        src = names[spec["of"]] if "of" in spec else _src_base(spec)
        for v in spec.get("views", ()):
            if v[0] == "__getitem__":
                src += f"[{_src_index(v[1], names)}]"
            else:
                src += f".{v[0]}(" + ", ".join(src_value(a, names) for a in v[1:]) + ")"
        if spec.get("rg"):
            src += ".requires_grad_()"
        lines.append(f"{names[i]} = {src}")
    args = [src_value(a, names) for a in call["args"]]
    kw = [f"{k}={src_value(v, names)}" for k, v in call["kwargs"].items()]
    form, op = call["form"], call["op"]
    if call.get("grad"):
        lines.append("r = " + _src_call(call, names, args, kw))
        leaves = [names[i] for i, s in enumerate(call["tensors"]) if s.get("rg") and not s.get("views")]
        lines.append("[x for x in (r if isinstance(r, (tuple, list)) else [r]) if isinstance(x, torch.Tensor) "
                     "and x.is_floating_point() and x.requires_grad][0].sum().backward()")
        lines.append("[" + ", ".join(f"{n}.grad" for n in leaves) + "]")
        return "; ".join(lines)
    lines.append(_src_call(call, names, args, kw))
    return "; ".join(lines)


def _src_call(call, names, args, kw):
    form, op = call["form"], call["op"]
    if form == "fn":
        prefix = {"torch": "torch", "nn.functional": "torch.nn.functional"}.get(call["ns"], "torch." + call["ns"])
        return f"{prefix}.{op}(" + ", ".join(args + kw) + ")"
    if form in ("method", "inplace"):
        suffix = "_" if form == "inplace" else ""
        return f"{args[0]}.{op}{suffix}(" + ", ".join(args[1:] + kw) + ")"
    if form == "getitem":
        return f"{args[0]}[{_src_index(call['args'][1], names)}]"
    return f"{args[0]}[{_src_index(call['args'][1], names)}] = {args[2]}"
