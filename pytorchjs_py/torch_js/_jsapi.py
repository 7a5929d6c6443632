"""The engine side of js_bridge/torch.mjs (PyTorch's API for JavaScript): a table of handles and a dispatcher.

JavaScript never computes anything: every call it makes (`torch.randn(2, 3)`, `x.add(y)`, `nn.Conv2d(...)`,
`model(x)`, `opt.step()`) becomes a message that names a torch_js function, method or attribute; this module runs
it with torch_js and keeps the result under the id JavaScript gave it. So results, dtype rules and error messages
are the Python package's.

A batch is JSON text (one per flush of the JS queue) plus a list of binary buffers (typed arrays, checkpoints):

    {"ops": [[seq, kind, out_id, target, name, args, kwargs], ...]}

kinds: "fn" (call torch_js.<name>, dotted: "nn.functional.conv2d", "optim.Adam"), "method" (target.<name>(...)),
"call" (target(...)), "getattr", "setattr", "getitem", "typed" (a tensor from a typed array), "free" (drop ids),
"grad" (enter/leave a grad mode), "sync" (answer once all before it ran), "read" (a tensor's bytes or a value as JSON), "unpack" (a list/tuple/dict's
elements as new handles), "load" (load_state_dict from checkpoint bytes), "save" (torch.save into bytes), "loadobj"
(torch.load of bytes).
Encoded values: JSON scalars and lists, {"$h": id} a handle, {"$size": [id, dim]} a handle's size along dim,
{"$f": x} a Python float (also "nan", "inf", "-inf"), {"$i": "digits"} a big int, {"$dtype": name},
{"$buf": k} buffer k, {"$slice": [start, stop, step]}, {"$ellipsis": 1}, {"$tuple": [...]}, {"$obj": {...}} a dict.

run_batch answers {"meta": [[id, shape, dtype, device], ...] for every tensor made, "errors": [[seq, type,
message], ...], "replies": [[req, ...], ...]} and the list of result buffers. A failed op leaves its id poisoned:
a later op that uses it fails naming the op that failed first.
"""
import gc
import importlib
import io
import json
import math
import types

import torch_js as torch

_FLOATS = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}
# Typed-array dtypes JavaScript sends and receives; float16 and bfloat16 are read back as float32.
_READ_AS = {"float16": "float32", "bfloat16": "float32"}
_BOOL_BYTES = {"bool": "uint8"}


class Poisoned:
    """What an id holds after the op that was to make it failed."""

    def __init__(self, seq, op):
        self.seq, self.op = seq, op


class JSAPIError(RuntimeError):
    pass


def _resolve(name):
    """torch_js.<dotted name>; private parts are refused (the API is torch's public one)."""
    obj = torch
    for part in name.split("."):
        if not part or part.startswith("_"):
            raise AttributeError(f"torch.mjs: '{name}' is not a public torch name")
        try:
            obj = getattr(obj, part)
        except AttributeError:
            try:    # a submodule not imported yet (torch.utils.benchmark)
                obj = importlib.import_module(f"{obj.__name__}.{part}") if isinstance(obj, types.ModuleType) else None
            except ImportError:
                obj = None
            if obj is None:
                raise AttributeError(f"module 'torch' has no attribute '{name}'") from None
    return obj


def _json_value(x):
    """A Python result as JSON for JavaScript (numbers, strings, nested lists/dicts); tensors are not values."""
    if x is None or isinstance(x, (bool, str)):
        return x
    if isinstance(x, int):
        return x if abs(x) < 2 ** 53 else {"$i": str(x)}
    if isinstance(x, float):
        return x if math.isfinite(x) else {"$f": "nan" if x != x else ("inf" if x > 0 else "-inf")}
    if isinstance(x, (list, tuple, torch.Size)):
        return [_json_value(v) for v in x]
    if isinstance(x, dict):
        return {str(k): _json_value(v) for k, v in x.items()}
    if isinstance(x, (torch.dtype, torch.device)):
        return str(x).replace("torch.", "")
    raise TypeError(f"a {type(x).__name__} is not a plain value; use it as a handle")


class Session:
    def __init__(self):
        self.objects = {}
        self.next_py_id = -1        # ids this side makes (unpack); JavaScript's are positive
        self.grad_modes = []
        self._buffers = []

    # ---- decoding arguments -------------------------------------------------------------------------------------
    def get(self, hid):
        try:
            obj = self.objects[hid]
        except KeyError:
            raise JSAPIError(f"torch.mjs: handle {hid} was freed or never made") from None
        if isinstance(obj, Poisoned):
            raise JSAPIError(f"torch.mjs: an input comes from {obj.op}, which failed earlier (see that error)")
        return obj

    def decode(self, v):
        if isinstance(v, list):
            return [self.decode(x) for x in v]
        if not isinstance(v, dict):
            return v
        if "$h" in v:
            return self.get(v["$h"])
        if "$size" in v:
            hid, dim = v["$size"]
            return self.get(hid).size(dim)
        if "$f" in v:
            f = v["$f"]
            return _FLOATS[f] if isinstance(f, str) else float(f)
        if "$i" in v:
            return int(v["$i"])
        if "$dtype" in v:
            return getattr(torch, v["$dtype"])
        if "$buf" in v:
            return self._buffers[v["$buf"]]
        if "$slice" in v:
            return slice(*self.decode(v["$slice"]))
        if "$ellipsis" in v:
            return Ellipsis
        if "$tuple" in v:
            return tuple(self.decode(x) for x in v["$tuple"])
        if "$obj" in v:
            return {k: self.decode(x) for k, x in v["$obj"].items()}
        raise JSAPIError(f"torch.mjs: cannot decode argument {v!r}")

    # ---- running one op -----------------------------------------------------------------------------------------
    def _typed(self, buf, array_dtype, shape=None, **kwargs):
        """A tensor from a typed array's bytes (array_dtype: its element type), then torch.tensor's kwargs."""
        raw_dtype = getattr(torch, _BOOL_BYTES.get(array_dtype, array_dtype))
        src = torch.frombuffer(bytearray(buf), dtype=raw_dtype) if len(buf) else torch.empty(0, dtype=raw_dtype)
        if array_dtype == "bool":
            src = src.to(torch.bool)
        if shape is not None:
            src = src.reshape(shape)
        want = kwargs.pop("dtype", None)
        device = kwargs.pop("device", None)
        requires_grad = kwargs.pop("requires_grad", False)
        if kwargs:
            raise TypeError(f"tensor() got an unexpected keyword argument '{next(iter(kwargs))}'")
        out = src.to(dtype=want if want is not None else src.dtype, device=device, copy=True)
        return out.requires_grad_(requires_grad) if requires_grad else out

    def _grad_mode(self, enter, mode="no_grad"):
        if enter:
            self.grad_modes.append(torch.is_grad_enabled())
            torch.set_grad_enabled(mode == "enable_grad")
        else:
            torch.set_grad_enabled(self.grad_modes.pop())

    def _read(self, obj):
        """(reply fields, buffer or None) for a read: a tensor's bytes (C order, little-endian) or a JSON value."""
        if not isinstance(obj, torch.Tensor):
            return {"value": _json_value(obj)}, None
        t = obj.detach()
        name = t.dtype.name if hasattr(t.dtype, "name") else str(t.dtype).replace("torch.", "")
        if name in _READ_AS:
            t, name = t.to(getattr(torch, _READ_AS[name])), _READ_AS[name]
        t = t.cpu().contiguous()
        return {"dtype": name, "shape": list(t.shape)}, t._raw_bytes()

    def _unpack(self, obj):
        """Elements of a list/tuple/generator (a list) or a dict (an object) as new handles or plain values."""
        def entry(x):
            if isinstance(x, (bool, int, float, str)) or x is None:
                return _json_value(x)
            hid = self.next_py_id
            self.next_py_id -= 1
            self.objects[hid] = x
            return {"$h": hid, **self._meta_fields(x)}
        if isinstance(obj, dict):
            return {"dict": [[str(k), entry(v)] for k, v in obj.items()]}
        if isinstance(obj, torch.Tensor):
            obj = obj.unbind(0)
        return {"list": [entry(x) for x in obj]}

    @staticmethod
    def _meta_fields(x):
        if isinstance(x, torch.Tensor):
            return {"shape": list(x.shape), "dtype": str(x.dtype).replace("torch.", ""), "device": x.device.type}
        if isinstance(x, torch.nn.Module):
            return {"module": type(x).__name__}
        return {}

    def _load(self, module, buf, fmt, strict=True, key=None):
        """module.load_state_dict of a checkpoint's bytes: PyTorch's zip (torch.save, weights only) or safetensors;
        key picks an entry of a saved dict (torch.save({"model": model.state_dict(), ...}): key "model")."""
        data = bytes(buf)
        if fmt == "safetensors" or (fmt == "auto" and not data.startswith(b"PK") and data[8:9] == b"{"):
            state = torch.load_safetensors(data)
        else:
            state = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
        if key is not None:
            if not isinstance(state, dict) or key not in state:
                raise KeyError(f"load_state_dict: the checkpoint has no entry {key!r}"
                               + (f" (it has {sorted(map(str, state))})" if isinstance(state, dict) else ""))
            state = state[key]
        res = module.load_state_dict(state, strict=strict)
        return {"value": {"missing_keys": list(res.missing_keys), "unexpected_keys": list(res.unexpected_keys)}}

    @staticmethod
    def _save(obj):
        """torch.save(obj) into bytes (PyTorch's zip format), read back as a uint8 array."""
        buf = io.BytesIO()
        torch.save(obj, buf)
        data = buf.getvalue()
        return {"dtype": "uint8", "shape": [len(data)]}, data

    def run_op(self, kind, target, name, args, kwargs):
        """The result of one op (kept under its out id by the caller when it has one)."""
        args = self.decode(args) if args else []
        kwargs = {k: self.decode(v) for k, v in kwargs.items()} if kwargs else {}
        if kind == "fn":
            return _resolve(name)(*args, **kwargs)
        if kind == "method":
            obj = self.get(target)
            if name.startswith("_") and name not in ("__setitem__", "__repr__"):
                raise AttributeError(f"torch.mjs: '{name}' is not a public method")
            result = getattr(obj, name)(*args, **kwargs)
            # generators (parameters(), children(), ...) become lists, so they can be used more than once
            return list(result) if isinstance(result, types.GeneratorType) else result
        if kind == "call":
            return self.get(target)(*args, **kwargs)
        if kind == "getattr":
            if name.startswith("_"):
                raise AttributeError(f"torch.mjs: '{name}' is not a public attribute")
            return getattr(self.get(target), name)
        if kind == "setattr":
            setattr(self.get(target), name, args[0])
            return None
        if kind == "getitem":
            return self.get(target)[args[0]]
        if kind == "typed":
            return self._typed(*args, **kwargs)
        if kind == "grad":
            return self._grad_mode(*args)
        if kind == "loadobj":   # torch.load of checkpoint bytes (weights only, as torch.load's default)
            return torch.load(io.BytesIO(bytes(args[0])), **kwargs)
        raise JSAPIError(f"torch.mjs: unknown message kind {kind!r}")

    # ---- a batch ------------------------------------------------------------------------------------------------
    def run_batch(self, text, buffers=()):
        # the cyclic collector is held off for the batch (it would scan the growing table of live handles every
        # few hundred ops: a quarter of the per-op cost in Pyodide); it runs as usual between batches
        collecting = gc.isenabled()
        gc.disable()
        try:
            return self._run_batch(text, buffers)
        finally:
            if collecting:
                gc.enable()

    def _run_batch(self, text, buffers):
        batch = json.loads(text)
        # ArrayBuffers arrive as Pyodide JsProxy objects (to_bytes copies one out of the JS heap)
        self._buffers = [b.to_bytes() if hasattr(b, "to_bytes") else bytes(b) for b in buffers]
        meta, errors, replies, out_buffers = [], [], [], []
        for seq, kind, out_id, target, name, args, kwargs in batch["ops"]:
            try:
                if kind == "free":
                    for hid in args:
                        self.objects.pop(hid, None)
                    continue
                if kind == "sync":
                    replies.append([seq, {}])
                    continue
                if kind in _REPLYING:
                    obj = self.get(target)
                    if kind in ("read", "save"):
                        fields, data = self._read(obj) if kind == "read" else self._save(obj)
                        if data is not None:
                            fields["buf"] = len(out_buffers)
                            out_buffers.append(data)
                    elif kind == "unpack":
                        fields = self._unpack(obj)
                    else:
                        fields = self._load(obj, *self.decode(args), **(kwargs or {}))
                    replies.append([seq, fields])
                    continue
                result = self.run_op(kind, target, name, args, kwargs)
                if out_id is not None:
                    self.objects[out_id] = result
                    if isinstance(result, torch.Tensor):
                        meta.append([out_id, list(result._shape), _dtype_name(result.dtype), result.device.type])
            except Exception as e:  # noqa: BLE001  (every error goes back to JavaScript, naming its op)
                if out_id is not None:
                    self.objects[out_id] = Poisoned(seq, _op_label(kind, name, target, self))
                errors.append([seq, type(e).__name__, str(e)])
                if kind in _REPLYING:
                    replies.append([seq, {"error": True}])
        self._buffers = []
        reply = {"meta": meta, "errors": errors, "replies": replies}
        return json.dumps(reply, allow_nan=False), out_buffers


# kinds answered with a reply (the others only make or change handles)
_REPLYING = ("read", "unpack", "load", "save")
_DTYPE_NAMES = {}


def _dtype_name(dtype):
    name = _DTYPE_NAMES.get(dtype)
    if name is None:
        name = _DTYPE_NAMES[dtype] = str(dtype).replace("torch.", "")
    return name


def _op_label(kind, name, target, session):
    if kind == "fn":
        return f"torch.{name}"
    if kind == "method":
        obj = session.objects.get(target)
        return f"{'Tensor' if isinstance(obj, torch.Tensor) else type(obj).__name__}.{name}"
    return f"{kind} {name or ''}".strip()


SESSION = Session()


def run_batch(text, buffers=()):
    return SESSION.run_batch(text, buffers)
