"""Seed calls: PyTorch's OpInfo sample inputs (and error inputs) for every registered op, converted into the call
format of spec.py; a signature-driven fallback for ops without an OpInfo; and raw view-makers (as_strided,
empty_strided, resize_, indexing, view) with wild geometry. Needs torch (the parent process only).
"""
import inspect
import random
import zlib

import spec

MAX_SEED_NUMEL = 2048        # OpInfo samples with more input elements are skipped
MAX_EXPLICIT = 256           # tensors up to this many elements keep their values; larger ones get a pattern
SAMPLES_PER_DTYPE = 6
ERRORS_PER_OP = 6
SEED_DTYPES = ("float32", "int64", "float64", "bool", "uint8", "int32", "float16", "bfloat16", "int8", "int16")
# not fuzzed: results that are not tensors/values the summary can compare, or calls needing numpy
SKIP_OPS = {("torch", "numpy"), ("torch", "from_numpy")}
# OpInfo calls some ops with another argument order than (input, *args) (as tests/oracle.py's CALL_ADAPTERS)
REORDER = {"einsum": lambda inp, args: [args[0], inp, *args[1:]],
           "where": lambda inp, args: [args[0], inp, *args[1:]],
           "embedding": lambda inp, args: [args[0], inp, *args[1:]]}


class Unconvertible(Exception):
    pass


def crc(*parts):
    return zlib.crc32(":".join(str(p) for p in parts).encode()) & 0x7FFFFFFF


def random_pat(rng, dtype):
    if dtype == "bool":
        return [rng.choice((1, 3, 5)), 2, 0, 1]
    m = rng.choice((3, 5, 7, 11, 23))
    return [rng.choice((1, 3, 7, 13, 7919)), m, m // 2, rng.choice((1, 2, 4))]


class Encoder:
    """torch values -> call values, collecting tensors into the call's table (one entry per tensor object)."""

    def __init__(self, torch):
        self.torch = torch
        self.tensors = []
        self.ids = {}

    def tensor(self, t):
        torch = self.torch
        if id(t) in self.ids:
            return {"T": self.ids[id(t)]}
        dname = str(t.dtype).replace("torch.", "")
        if dname not in spec.DTYPES or t.layout != torch.strided or t.dim() > 8:
            raise Unconvertible(f"tensor {t.dtype}/{t.layout}")
        shape = [int(s) for s in t.shape]
        rec = {"dtype": dname, "shape": shape}
        n = t.numel()
        if n <= MAX_EXPLICIT:
            vals = t.detach().reshape(-1).tolist() if n else []
            if dname == "bool":
                vals = [int(v) for v in vals]
            rec["vals"] = [spec.enc_float(spec.short_float(v, dname)) if isinstance(v, float) else v for v in vals]
        else:
            rec["pat"] = random_pat(random.Random(n), dname)
        self.ids[id(t)] = len(self.tensors)
        self.tensors.append(rec)
        return {"T": self.ids[id(t)]}

    def value(self, v):
        torch = self.torch
        if isinstance(v, torch.Tensor):
            return self.tensor(v)
        if v is None or isinstance(v, (bool, str)):
            return v
        if isinstance(v, int):
            return int(v)
        if isinstance(v, float):
            return spec.enc_float(v)
        if isinstance(v, torch.dtype):
            name = str(v).replace("torch.", "")
            if name not in spec.DTYPES:
                raise Unconvertible(f"dtype {v}")
            return {"dtype": name}
        if isinstance(v, torch.Size):
            return {"tuple": [int(s) for s in v]}
        if isinstance(v, tuple):
            return {"tuple": [self.value(x) for x in v]}
        if isinstance(v, list):
            return [self.value(x) for x in v]
        if isinstance(v, slice):
            return {"slice": [self.value(v.start), self.value(v.stop), self.value(v.step)]}
        if v is Ellipsis:
            return {"ellipsis": 1}
        if isinstance(v, torch.memory_format):
            return {"memfmt": str(v).replace("torch.", "")}
        if isinstance(v, torch.device):
            if v.type != "cpu":
                raise Unconvertible("device")
            return {"device": "cpu"}
        if type(v).__module__ == "numpy" and getattr(v, "shape", None) == ():   # a numpy scalar
            return self.value(v.item())
        raise Unconvertible(f"argument of type {type(v).__name__}")


def _numel_of(torch, *vals):
    n = 0
    for v in vals:
        for t in (v if isinstance(v, (list, tuple)) else [v]):
            if isinstance(t, torch.Tensor):
                n += t.numel()
    return n


class Corpus:
    """The fuzzable ops and their seed calls (made lazily per op, deterministically from the op's name)."""

    def __init__(self, only=None):
        import torch
        import torch_js
        import torch_js.nn  # noqa: F401  (registers the nn.functional ops)
        from torch.testing._internal.common_methods_invocations import op_db
        self.torch = torch
        self.tj = torch_js
        self.by_name = {}
        for o in op_db:
            self.by_name.setdefault(o.name, []).append(o)
        self.ops = []
        for key, opdef in torch_js.REGISTRY.items():
            if key in SKIP_OPS or not (opdef.function or opdef.method):
                continue
            if only and not ({key[1], ".".join(key)} & only):
                continue
            if opdef.function and not hasattr(self._torch_ns(key[0]), key[1]):
                continue
            self.ops.append((key, opdef))
        self._seeds = {}

    def _torch_ns(self, ns):
        torch = self.torch
        return {"torch": torch, "nn.functional": torch.nn.functional, "linalg": torch.linalg}.get(ns)

    def seeds(self, key, opdef):
        if key not in self._seeds:
            calls = self._opinfo_seeds(key, opdef)
            if not calls:
                calls = self._signature_seeds(key, opdef)
            self._seeds[key] = calls
        return self._seeds[key]

    def _call_from_sample(self, key, opdef, inp, args, kwargs, src):
        enc = Encoder(self.torch)
        name = key[1]
        values = [inp, *args]
        if name in REORDER:
            values = REORDER[name](inp, list(args))
        vals = [enc.value(v) for v in values]
        kw = {k: enc.value(v) for k, v in kwargs.items()}
        form = "fn" if opdef.function else "method"
        if form == "method" and not (vals and isinstance(vals[0], dict) and "T" in vals[0]):
            raise Unconvertible("method call on a non-tensor")
        return {"op": name, "ns": key[0], "form": form, "tensors": enc.tensors, "args": vals, "kwargs": kw,
                "src": src}

    def _opinfo_seeds(self, key, opdef):
        torch = self.torch
        calls = []
        entries = []
        for oname in opdef.opinfo:
            ents = self.by_name.get(oname, [])
            plain = [o for o in ents if o.variant_test_name == ""]
            entries += plain or ents
        for o in entries:
            sup = {str(d).replace("torch.", "") for d in o.supported_dtypes("cpu")}
            for dt in [d for d in SEED_DTYPES if d in sup][:4]:
                torch.manual_seed(crc(key, o.name, o.variant_test_name, dt))
                try:
                    samples = o.sample_inputs("cpu", getattr(torch, dt), requires_grad=False)
                    for i, s in enumerate(samples):
                        if i >= 3 * SAMPLES_PER_DTYPE or len(calls) >= 40:
                            break
                        if _numel_of(torch, s.input, *s.args, *s.kwargs.values()) > MAX_SEED_NUMEL:
                            continue
                        try:
                            calls.append(self._call_from_sample(key, opdef, s.input, s.args, s.kwargs,
                                                                f"opinfo:{o.name}.{o.variant_test_name}:{dt}#{i}"))
                        except Unconvertible:
                            pass
                except Exception:  # noqa: BLE001  (an OpInfo generator torch itself cannot run here: skip it)
                    continue
            torch.manual_seed(crc(key, o.name, "errors"))
            try:
                for i, e in enumerate(o.error_inputs("cpu")):
                    if i >= ERRORS_PER_OP:
                        break
                    s = e.sample_input
                    try:
                        calls.append(self._call_from_sample(key, opdef, s.input, s.args, s.kwargs,
                                                            f"error_input:{o.name}#{i}"))
                    except Unconvertible:
                        pass
            except Exception:  # noqa: BLE001  (error_inputs needing a device or feature we lack)
                pass
        return calls

    def _signature_seeds(self, key, opdef):
        """Calls made from the torch_js function's parameter names, for ops without an OpInfo."""
        try:
            params = list(inspect.signature(opdef.fn).parameters.values())
        except (TypeError, ValueError):
            return []
        rng = random.Random(crc(key))
        calls = []
        for dt in ("float32", "int64", "bool"):
            for shape in ([2, 3], [], [0, 3], [4]):
                tensors, args, kwargs = [], [], {}
                for p in params:
                    if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                        continue
                    if p.default is not p.empty:
                        continue
                    name = p.name
                    if name in ("input", "self", "x", "a", "b", "other", "tensor", "tensor1", "tensor2", "target",
                                "weight", "mat", "mat1", "mat2", "vec", "src", "source", "mask", "end", "A", "B"):
                        tensors.append({"dtype": "bool" if name == "mask" else dt, "shape": list(shape),
                                        "pat": random_pat(rng, dt)})
                        args.append({"T": len(tensors) - 1})
                    elif name in ("dim", "dims", "axis", "dim0", "dim1", "source_dim", "destination"):
                        args.append(0)
                    elif name in ("size", "sizes", "shape"):
                        args.append({"tuple": list(shape)})
                    elif name == "dtype":
                        args.append({"dtype": dt})
                    else:
                        args.append(1)
                form = "fn" if opdef.function else "method"
                if form == "method" and not tensors:
                    continue
                calls.append({"op": key[1], "ns": key[0], "form": form, "tensors": tensors, "args": args,
                              "kwargs": kwargs, "src": f"signature:{dt}:{shape}"})
        return calls


# ---------------------------------------------------------------------------------------------------------------
# raw view-makers and indexing, with wild geometry

WILD_SIZES = (0, 1, 2, 3, 5, 2 ** 31, 2 ** 40, -1, -2)
WILD_STRIDES = (0, 1, 2, 3, 7, -1, -3, 2 ** 31, 2 ** 40, -(2 ** 40))
WILD_OFFSETS = (0, 1, 3, 5, 23, -1, 2 ** 31, 2 ** 40, 2 ** 62)
WILD_INTS = (0, 1, -1, 2, 5, -7, 6, 24, 2 ** 31, -(2 ** 31) - 1, 2 ** 40, 2 ** 63 - 1, -(2 ** 63))


def _wild(rng, pool, tame=(0, 1, 2, 3, 4)):
    return rng.choice(pool) if rng.random() < 0.35 else rng.choice(tame)


def base_tensor(rng, dtype=None, shape=None):
    dtype = dtype or rng.choice(("float32", "float32", "int64", "float64", "bool", "uint8", "int32", "float16"))
    if shape is None:
        shape = [rng.randint(0 if rng.random() < 0.1 else 1, 5) for _ in range(rng.randint(0, 3))]
    return {"dtype": dtype, "shape": shape, "pat": random_pat(rng, dtype)}


def _wild_index(rng, tensors):
    """One index element: int, slice, None, Ellipsis, bool, index tensor, bool mask, list."""
    r = rng.random()
    if r < 0.25:
        return _wild(rng, WILD_INTS, (0, 1, -1, 2))
    if r < 0.5:
        start = _wild(rng, WILD_INTS + (None,), (None, 0, 1, -2))
        stop = _wild(rng, WILD_INTS + (None,), (None, 2, -1, 4))
        step = rng.choice((None, None, 1, 2, 3, -1, 0, 2 ** 40))
        return {"slice": [start, stop, step]}
    if r < 0.58:
        return None
    if r < 0.63:
        return {"ellipsis": 1}
    if r < 0.68:
        return rng.choice((True, False))
    if r < 0.85:
        n = rng.randint(0, 4)
        vals = [_wild(rng, WILD_INTS, (0, 1, -1, 2)) for _ in range(n)]
        dt = rng.choice(("int64", "int64", "int32", "uint8", "int8"))
        tensors.append({"dtype": dt, "shape": [n], "vals": [spec.wrap_int(v, dt) for v in vals]})
        return {"T": len(tensors) - 1}
    if r < 0.93:
        shape = [rng.randint(0, 4) for _ in range(rng.randint(1, 2))]
        tensors.append({"dtype": "bool", "shape": shape, "pat": random_pat(rng, "bool")})
        return {"T": len(tensors) - 1}
    return [_wild(rng, WILD_INTS, (0, 1, -1)) for _ in range(rng.randint(0, 3))]


def raw_call(rng):
    """A call of a raw view-maker or an indexing expression with wild geometry."""
    kind = rng.choice(("as_strided", "as_strided", "empty_strided", "resize_", "getitem", "getitem", "setitem",
                       "setitem", "view", "new_empty", "full", "expand", "narrow", "unfold", "select"))
    tensors = [base_tensor(rng)]
    t0 = {"T": 0}
    nd = len(tensors[0]["shape"])
    size = [_wild(rng, WILD_SIZES) for _ in range(rng.randint(0, 3))]
    if kind == "as_strided":
        stride = [_wild(rng, WILD_STRIDES) for _ in size]
        if rng.random() < 0.2 and stride:
            stride.pop()
        args = [t0, {"tuple": size}, {"tuple": stride}]
        if rng.random() < 0.7:
            args.append(_wild(rng, WILD_OFFSETS))
        return {"op": "as_strided", "ns": "torch", "form": rng.choice(("fn", "method")), "tensors": tensors,
                "args": args, "kwargs": {}, "src": "raw:as_strided"}
    if kind == "empty_strided":
        stride = [_wild(rng, WILD_STRIDES) for _ in size]
        return {"op": "empty_strided", "ns": "torch", "form": "fn", "tensors": [],
                "args": [{"tuple": size}, {"tuple": stride}], "kwargs": {"dtype": {"dtype": tensors[0]["dtype"]}},
                "src": "raw:empty_strided"}
    if kind == "resize_":
        return {"op": "resize", "ns": "torch", "form": "inplace", "tensors": tensors,
                "args": [t0, {"tuple": size}], "kwargs": {}, "src": "raw:resize_"}
    if kind in ("getitem", "setitem"):
        idx = [_wild_index(rng, tensors) for _ in range(rng.randint(1, 3))]
        index = idx[0] if len(idx) == 1 and rng.random() < 0.5 else {"tuple": idx}
        args = [t0, index]
        if kind == "setitem":
            r = rng.random()
            if r < 0.4:
                args.append(rng.choice((0, 1.5, -1, True, 2 ** 40, {"f": "nan"})))
            else:
                tensors.append(base_tensor(rng, shape=[rng.randint(0, 3) for _ in range(rng.randint(0, 2))]))
                args.append({"T": len(tensors) - 1})
        return {"op": "__" + kind + "__", "ns": "torch", "form": kind, "tensors": tensors, "args": args,
                "kwargs": {}, "src": f"raw:{kind}"}
    if kind == "view":
        return {"op": "view", "ns": "torch", "form": "method", "tensors": tensors, "args": [t0, *size],
                "kwargs": {}, "src": "raw:view"}
    if kind == "new_empty":
        return {"op": "new_empty", "ns": "torch", "form": "method", "tensors": tensors,
                "args": [t0, {"tuple": size}], "kwargs": {}, "src": "raw:new_empty"}
    if kind == "full":
        return {"op": "full", "ns": "torch", "form": "fn", "tensors": [],
                "args": [{"tuple": size}, rng.choice((0, 1.5, -3, 2 ** 40, True))],
                "kwargs": {"dtype": {"dtype": tensors[0]["dtype"]}}, "src": "raw:full"}
    if kind == "expand":
        return {"op": "expand", "ns": "torch", "form": "method", "tensors": tensors, "args": [t0, *size],
                "kwargs": {}, "src": "raw:expand"}
    dim = _wild(rng, WILD_INTS, tuple(range(-nd, nd)) or (0,))
    if kind == "narrow":
        args = [t0, dim, _wild(rng, WILD_INTS, (0, 1)), _wild(rng, WILD_INTS, (0, 1, 2))]
    elif kind == "unfold":
        args = [t0, dim, _wild(rng, WILD_INTS, (1, 2)), _wild(rng, WILD_INTS, (1, 2))]
    else:
        args = [t0, dim, _wild(rng, WILD_INTS, (0, 1, -1))]
    return {"op": kind, "ns": "torch", "form": "method", "tensors": tensors, "args": args, "kwargs": {},
            "src": f"raw:{kind}"}
