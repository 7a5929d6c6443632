"""Mutations of a call (spec.py's format): dtypes, shapes (0-size, 0-d), non-contiguous / offset / expanded /
overlapping views, the in-place and out= variants (out= aliasing an input included), hostile arguments and index
values. Each mutator takes (call, rng, opdef) and returns a new call or None when it does not apply.
"""
import copy

import spec
from corpus import WILD_INTS, random_pat

SENTINEL = 77


def _fresh(call):
    """Indices of the call's table entries that are fresh bases without views (nor gradients)."""
    return [i for i, s in enumerate(call["tensors"]) if "of" not in s and not s.get("views") and not s.get("rg")]


def _logical(s):
    return spec.spec_values(s)


def _set_vals(s, vals):
    s.pop("pat", None)
    if s["dtype"] in spec.FLOAT_DTYPES:
        s["vals"] = [spec.enc_float(float(v)) for v in vals]
    else:
        s["vals"] = [int(v) for v in vals]


def _convert_vals(vals, dtype):
    out = []
    for v in vals:
        if dtype == "bool":
            out.append(int(bool(v)))
        elif dtype in spec.FLOAT_DTYPES:
            out.append(float(v))
        else:
            try:
                iv = int(v)
            except (ValueError, OverflowError):
                iv = 0
            out.append(spec.wrap_int(iv, dtype))
    return out


def mut_dtype(call, rng, opdef):
    fresh = _fresh(call)
    if not fresh:
        return None
    s = call["tensors"][rng.choice(fresh)]
    new = rng.choice(spec.DTYPES)
    if new == s["dtype"]:
        return None
    if "vals" in s:
        vals = _convert_vals(_logical(s), new)
        s["dtype"] = new
        _set_vals(s, vals)
    else:
        s["dtype"] = new
        s["pat"] = random_pat(rng, new)
    return call


def mut_shape(call, rng, opdef):
    fresh = _fresh(call)
    if not fresh:
        return None
    s = call["tensors"][rng.choice(fresh)]
    shape = list(s["shape"])
    r = rng.random()
    if r < 0.3 and shape:
        shape[rng.randrange(len(shape))] = 0
    elif r < 0.5:
        shape = []
    elif r < 0.65:
        shape.insert(rng.randint(0, len(shape)), 1)
    elif r < 0.75 and shape:
        shape.pop(rng.randrange(len(shape)))
    elif r < 0.85 and shape:
        i = rng.randrange(len(shape))
        shape[i] = rng.choice((1, 2, 3, 5, 7))
    elif r < 0.9:   # high rank: PyTorch stops at 64 dims; kernels get every non-trivial one
        rank = rng.choice((9, 17, 33, 64, 65, 100))
        shape = [1] * rank
        for i in rng.sample(range(rank), min(rank, rng.randint(1, 6))):
            shape[i] = 2
    else:
        shape = [rng.randint(0, 4) for _ in range(rng.randint(0, 4))]
    if shape == s["shape"]:
        return None
    s["shape"] = shape
    s.pop("vals", None)
    s["pat"] = random_pat(rng, s["dtype"])
    return call


def _strides(shape):
    st, acc = [], 1
    for n in reversed(shape):
        st.append(acc)
        acc *= n
    return st[::-1]


def _unravel(i, shape):
    idx = []
    for n in reversed(shape):
        idx.append(i % n)
        i //= n
    return idx[::-1]


def mut_noncontig(call, rng, opdef):
    """Same logical tensor (mostly), other memory: transposed, strided, offset, expanded or overlapping."""
    fresh = [i for i in _fresh(call) if spec.numel(call["tensors"][i]["shape"]) > 0]
    if not fresh:
        return None
    s = call["tensors"][rng.choice(fresh)]
    shape, dt = list(s["shape"]), s["dtype"]
    vals = _logical(s)
    n = len(vals)
    fill = 0 if dt == "bool" else SENTINEL
    how = rng.choice(("transpose", "step", "offset", "expand", "overlap"))
    if how == "transpose" and len(shape) >= 2:
        d0, d1 = sorted(rng.sample(range(len(shape)), 2))
        bshape = list(shape)
        bshape[d0], bshape[d1] = shape[d1], shape[d0]
        lst = _strides(shape)
        bvals = []
        for j in range(n):
            bi = _unravel(j, bshape)
            bi[d0], bi[d1] = bi[d1], bi[d0]
            bvals.append(vals[sum(a * b for a, b in zip(bi, lst))])
        s["shape"] = bshape
        _set_vals(s, bvals)
        s["views"] = [["transpose", d0, d1]]
    elif how == "step" and shape:
        d = rng.randrange(len(shape))
        bshape = list(shape)
        bshape[d] = 2 * shape[d]
        bvals = []
        lst = _strides(shape)
        for j in range(spec.numel(bshape)):
            bi = _unravel(j, bshape)
            if bi[d] % 2:
                bvals.append(fill)
            else:
                bi[d] //= 2
                bvals.append(vals[sum(a * b for a, b in zip(bi, lst))])
        s["shape"] = bshape
        _set_vals(s, bvals)
        s["views"] = [["__getitem__", {"tuple": [{"slice": [None, None, None]}] * d + [{"slice": [None, None, 2]}]}]]
    elif how == "offset":
        k = rng.choice((1, 3, 5))
        s["shape"] = [n + k]
        _set_vals(s, [fill] * k + vals)
        s["views"] = [["__getitem__", {"slice": [k, None, None]}], ["view", {"tuple": shape}]]
    elif how == "expand" and any(x > 1 for x in shape):
        bshape = [1 if (x > 1 and rng.random() < 0.6) else x for x in shape]
        if bshape == shape:
            bshape = [1 if x > 1 else x for x in shape]
        s["shape"] = bshape
        s.pop("vals", None)
        s["pat"] = random_pat(rng, dt)
        s["views"] = [["expand", {"tuple": shape}]]
    elif how == "overlap" and len(shape) >= 1:
        # as_strided over a small base: a stride-0 or overlapping geometry that PyTorch accepts (in bounds)
        stride = [rng.choice((0, 1, 1, 2)) for _ in shape]
        need = 1 + sum((x - 1) * st for x, st in zip(shape, stride))
        s["shape"] = [need]
        s.pop("vals", None)
        s["pat"] = random_pat(rng, dt)
        s["views"] = [["as_strided", {"tuple": shape}, {"tuple": stride}]]
    else:
        return None
    return call


def _tensor_args(call):
    return [a["T"] for a in call["args"] if isinstance(a, dict) and "T" in a]


def mut_variant(call, rng, opdef):
    """Another way to call it: function <-> method, the in-place method, out= (fresh, mis-shaped or aliasing)."""
    r = rng.random()
    first_is_tensor = bool(call["args"]) and isinstance(call["args"][0], dict) and "T" in call["args"][0]
    if r < 0.3 and call["form"] == "fn" and first_is_tensor and opdef is not None and opdef.method:
        call["form"] = "method"
        return call
    if r < 0.6 and first_is_tensor and opdef is not None and opdef.inplace is not None and call["form"] != "inplace":
        call["form"] = "inplace"
        return call
    if call["form"] != "fn" or "out" in call["kwargs"] or opdef is None or opdef.namespace != "torch":
        return None
    tens = _tensor_args(call)
    choice = rng.random()
    if tens and choice < 0.3:
        src = rng.choice(tens)
        out = {"of": src}
        if rng.random() < 0.5 and call["tensors"][src]["shape"]:
            out["views"] = [["__getitem__", {"slice": [None, None, 2]}]]
    else:
        like = call["tensors"][rng.choice(tens)] if tens else {"dtype": "float32", "shape": [2]}
        shape = rng.choice((list(like.get("shape", [2])), [], [0], [7], [2, 2]))
        dt = like.get("dtype", "float32") if rng.random() < 0.6 else rng.choice(spec.DTYPES)
        out = {"dtype": dt, "shape": shape, "pat": random_pat(rng, dt)}
        if rng.random() < 0.3 and len(shape) >= 1 and spec.numel(shape) > 0:
            out = dict(out, shape=[shape[0] * 2] + shape[1:],
                       views=[["__getitem__", {"slice": [None, None, 2]}]])
    call["tensors"].append(out)
    call["kwargs"]["out"] = {"T": len(call["tensors"]) - 1}
    return call


HOSTILE_INT = WILD_INTS + (1.5, None, "x", True, [0, 0], {"f": "nan"})
HOSTILE_FLOAT = ({"f": "nan"}, {"f": "inf"}, {"f": "-inf"}, 1e308, -0.0, 2 ** 70, True, -(2 ** 63), "x")


def _hostile(v, rng, call):
    if isinstance(v, bool):
        return rng.choice((2, None, "x", 1.0))
    if isinstance(v, int):
        ndim = max((len(s.get("shape", ())) for s in call["tensors"]), default=0)
        return rng.choice(HOSTILE_INT + (ndim, ndim + 1, -ndim - 1))
    if isinstance(v, float) or (isinstance(v, dict) and "f" in v):
        return rng.choice(HOSTILE_FLOAT)
    if isinstance(v, dict) and "tuple" in v or isinstance(v, list):
        items = list(v["tuple"] if isinstance(v, dict) else v)
        r = rng.random()
        if items and r < 0.5:
            i = rng.randrange(len(items))
            items[i] = _hostile(items[i], rng, call)
        elif r < 0.7:
            items = rng.choice(([], [2 ** 40], [-1, -1], [0] * 5, [1] * 9, [2 ** 31, 2 ** 31]))
        else:
            items = items + items
        return {"tuple": items} if isinstance(v, dict) else items
    if isinstance(v, dict) and "dtype" in v:
        return {"dtype": rng.choice(spec.DTYPES)}
    if isinstance(v, str):
        return rng.choice(("bogus", "", "sum", "none", "mean", 3))
    if v is None:
        return rng.choice((0, -1, 2 ** 40, {"dtype": "bool"}, "x", 1.5))
    return None


def mut_badarg(call, rng, opdef):
    """One argument made hostile (type, range, size, huge), or an argument added or dropped."""
    slots = [("a", i) for i in range(len(call["args"]))] + [("k", k) for k in call["kwargs"]
                                                            if k not in ("out", "device")]
    self_first = call["form"] != "fn"    # a method's self stays a tensor
    if self_first:
        slots = slots[1:]
    r = rng.random()
    if r < 0.08 and call["form"] in ("fn", "method", "inplace"):
        call["kwargs"]["bogus_kw"] = 1
        return call
    if r < 0.16 and len(call["args"]) > int(self_first) and call["form"] in ("fn", "method", "inplace"):
        call["args"].pop()
        return call
    if r < 0.24 and call["form"] in ("fn", "method", "inplace"):
        call["args"].append(rng.choice((0, -1, 2 ** 40, None, {"dtype": "float32"})))
        return call
    pool = [sl for sl in slots if not (isinstance(_get(call, sl), dict) and "T" in _get(call, sl))]
    if not pool:
        return None
    slot = rng.choice(pool)
    new = _hostile(_get(call, slot), rng, call)
    if new is None and _get(call, slot) is not None:
        return None
    _put(call, slot, new)
    return call


def mut_tensor_type(call, rng, opdef):
    """A tensor argument replaced by a Python scalar, a list, None or another table tensor."""
    slots = [("a", i) for i in range(int(call["form"] != "fn"), len(call["args"]))] + [
        ("k", k) for k in call["kwargs"]]
    slots = [sl for sl in slots if isinstance(_get(call, sl), dict) and "T" in _get(call, sl)]
    if not slots:
        return None
    slot = rng.choice(slots)
    _put(call, slot, rng.choice((3, 2.5, None, [1, 2], True, {"T": rng.randrange(len(call["tensors"]))})))
    return call


def _put(call, slot, value):
    if slot[0] == "a":
        call["args"][slot[1]] = value
    else:
        call["kwargs"][slot[1]] = value


def _get(call, slot):
    return call["args"][slot[1]] if slot[0] == "a" else call["kwargs"][slot[1]]


def mut_intvals(call, rng, opdef):
    """Index-like values out of range: huge, negative, at the boundary."""
    cands = [i for i in _fresh(call) if call["tensors"][i]["dtype"] in spec.INT_BITS
             and spec.numel(call["tensors"][i]["shape"]) > 0]
    if not cands:
        return None
    s = call["tensors"][rng.choice(cands)]
    vals = _logical(s)
    bound = max((max(t.get("shape") or [1]) for t in call["tensors"] if "shape" in t), default=1)
    hostile = (-1, bound, bound + 1, -bound - 1, 2 ** 31, -(2 ** 31), 2 ** 40, 2 ** 63 - 1, -(2 ** 63))
    k = max(1, len(vals) // rng.choice((1, 2, 4, 8)))
    for _ in range(k):
        vals[rng.randrange(len(vals))] = rng.choice(hostile)
    _set_vals(s, [spec.wrap_int(v, s["dtype"]) for v in vals])
    return call


def mut_floatvals(call, rng, opdef):
    cands = [i for i in _fresh(call) if call["tensors"][i]["dtype"] in spec.FLOAT_DTYPES
             and spec.numel(call["tensors"][i]["shape"]) > 0]
    if not cands:
        return None
    s = call["tensors"][rng.choice(cands)]
    vals = _logical(s)
    for _ in range(max(1, len(vals) // 3)):
        vals[rng.randrange(len(vals))] = rng.choice((float("nan"), float("inf"), float("-inf"), -0.0, 1e38, 1e-40,
                                                     -1e30, 65504.0, 3e38))
    _set_vals(s, vals)
    return call


def mut_grad(call, rng, opdef):
    """The "grad" form: floating inputs require grad, result.sum().backward(), the gradients compared."""
    if call["form"] not in ("fn", "method") or call.get("grad") or "out" in call["kwargs"]:
        return None
    if opdef is not None and not opdef.has_derivative:
        return None
    used = {a["T"] for a in call["args"] if isinstance(a, dict) and "T" in a}
    used |= {v["T"] for v in call["kwargs"].values() if isinstance(v, dict) and "T" in v}
    leaves = [i for i in _fresh(call) if i in used and call["tensors"][i]["dtype"] in ("float32", "float64")]
    if not leaves:
        return None
    for i in leaves:
        call["tensors"][i]["rg"] = True
    call["grad"] = True
    return call


MUTATORS = ((mut_dtype, 3), (mut_shape, 3), (mut_noncontig, 3), (mut_variant, 2), (mut_badarg, 3),
            (mut_tensor_type, 1), (mut_intvals, 2), (mut_floatvals, 1), (mut_grad, 2))
NAMES = tuple(m.__name__[4:] for m, _ in MUTATORS)


def mutate(call, rng, opdef, max_mutations=3, without=()):
    """call with 0-3 mutations drawn from MUTATORS (less those named in `without`)."""
    call = copy.deepcopy(call)
    k = rng.choices((0, 1, 2, 3), weights=(15, 45, 25, 15))[0]
    k = min(k, max_mutations)
    names = []
    fns, weights = zip(*[(m, w) for m, w in MUTATORS if m.__name__[4:] not in without])
    for _ in range(k):
        m = rng.choices(fns, weights=weights)[0]
        trial = m(copy.deepcopy(call), rng, opdef)
        if trial is not None:
            call = trial
            names.append(m.__name__[4:])
    if names:
        call["src"] = call.get("src", "") + " +" + "+".join(names)
    return call
