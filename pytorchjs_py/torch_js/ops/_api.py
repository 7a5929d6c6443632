"""The public face of a declared op: PyTorch's argument errors on every call through torch_js.<op>, Tensor.<op>,
torch_js.linalg.<op> or nn.functional.<op>.

PyTorch checks each argument against the op's schema before any kernel runs; torch_js ops are Python functions that
read what they are given, so a non-tensor where a tensor belongs ends in an AttributeError deep inside. `guard` wraps
each declared op once, at declaration (ops/_registry.py), and reads the op's own signature:
- before the call, for an op given more than its leading arguments: a bool flag (keepdim, upper, ...) given an int,
  float or str, an int argument (dim, offset, k, groups, ...) given a float, bool or str, a str option (UPLO,
  approximate, ...) given anything else, a dtype given a str or a number, raise PyTorch's TypeError — its schemas
  take exactly those types; a Python type given as a dtype (dtype=float) becomes the torch dtype PyTorch reads;
- after a Python-internal exception: the argument to blame is the first one in a Tensor parameter (by the names
  PyTorch's schemas give them, TENSOR_PARAMS) that holds no Tensor, and PyTorch's TypeError names it; with none to
  blame, a RuntimeError naming the op, chained to the original.
Internal code calls the undecorated functions (`torch_ops.<name>`, the modules' own names); the happy path of a public
call pays one Python call.
"""
import functools
import inspect
import re
import struct
import types

from .. import _dtype as D
from .._storage import INT64_MAX
from .._tensor import NotStridedError, Tensor
from . import _autocast

# Names PyTorch's schemas give Tensor arguments; a parameter so named, with no default or a None default, takes a Tensor
TENSOR_PARAMS = frozenset((
    "input", "self", "other", "A", "B", "LU", "LU_data", "LU_pivots", "pivots", "a", "b", "anchor", "positive",
    "negative", "input1", "input2", "batch1", "batch2", "mat", "mat1", "mat2", "vec", "vec1", "vec2", "tensor1",
    "tensor2", "tensor", "weight", "bias", "target", "index", "indices", "mask", "source", "src", "tau", "condition",
    "boundaries", "sorted_sequence", "running_mean", "running_var", "query", "key", "attn_mask", "pos_weight", "x1",
    "x2", "real", "imag", "abs", "angle"))
# ... and these a sequence of Tensors (a list/tuple argument, or the op's *varargs)
TENSOR_LIST_PARAMS = frozenset(("tensors", "matrices"))

# Names PyTorch's schemas give int (or int-list) arguments: a parameter so named whose default is not a float
INT_PARAMS = frozenset(("dim", "dim0", "dim1", "dim2", "start_dim", "end_dim", "diagonal", "offset", "n", "k",
                        "groups", "ind", "num_classes", "minlength", "chunks", "num_samples", "r", "bins",
                        "kernel_size", "stride", "dilation", "output_padding"))
# ... and str options
STR_PARAMS = frozenset(("approximate", "indexing", "UPLO", "rounding_mode", "side", "driver"))
# ops whose out= is a tuple of Tensors (one Tensor there is PyTorch's TypeError)
TUPLE_OUT = frozenset(("sort", "topk", "kthvalue", "mode", "cummax", "cummin", "aminmax", "svd", "qr", "geqrf", "lu",
                       "lu_unpack", "triangular_solve", "eigh", "slogdet", "lu_factor", "lu_factor_ex", "cholesky_ex",
                       "inv_ex", "solve_ex", "frexp", "lstsq", "std_mean", "var_mean", "eig"))
# nn.functional arguments PyTorch's Python code reads itself (`if flag:`, `mode == "..."`), so any value goes there;
# its other arguments reach a C++ schema, which takes only its types
LENIENT_NN = frozenset(("inplace", "return_indices", "full", "antialias", "need_weights", "average_attn_weights",
                        "add_zero_attn", "mode"))

# PyTorch's argument parser also takes NumPy's names for four parameters (x.sum(axis=1, keepdims=True), torch.add(x1=a,
# x2=b)), in the ops whose arguments it parses: not nn.functional's, nor those PyTorch writes in Python (below)
NUMPY_NAMES = {"axis": "dim", "keepdims": "keepdim", "x": "input", "a": "input", "x1": "input", "x2": "other"}
PYTHON_WRITTEN_METHODS = frozenset(("norm", "split", "unique", "unique_consecutive", "unflatten", "stft", "istft",
                                    "lu"))
PYTHON_WRITTEN_FUNCTIONS = PYTHON_WRITTEN_METHODS - {"unflatten"} | {
    "tensordot", "einsum", "meshgrid", "cdist", "block_diag", "broadcast_tensors", "cartesian_prod", "chain_matmul",
    "atleast_1d", "atleast_2d", "atleast_3d", "unravel_index"}

# what escapes a Python function that read an argument it should not have been given
INTERNAL_ERRORS = (AttributeError, KeyError, OverflowError, ZeroDivisionError, RecursionError, NameError,
                   AssertionError, struct.error, UnicodeError, StopIteration, FloatingPointError,
                   BufferError, ReferenceError)
# the argument types each kind refuses
_REFUSED = {"bool": (int, float, str), "int": (float, bool, str), "str": (int, float, bool, list, tuple),
            "torch.dtype": (str, int, float, bool, list, tuple)}   # (a Python type, dtype=float, is a dtype)


class _Param:
    __slots__ = ("name", "index", "tensor", "tensor_list", "varargs", "required")

    def __init__(self, p, index):
        self.name = p.name
        self.index = index                    # position among the positional parameters, None if keyword-only
        self.varargs = p.kind is p.VAR_POSITIONAL
        self.required = p.default is p.empty and not self.varargs
        takes_tensor = p.default is p.empty or p.default is None
        self.tensor = takes_tensor and p.name in TENSOR_PARAMS and not self.varargs
        self.tensor_list = p.name in TENSOR_LIST_PARAMS and (takes_tensor or self.varargs)


_P = inspect.Parameter


class _CodeParam:
    """A parameter of a plain function read off its code object: the name, kind and default inspect.Parameter has,
    without inspect.signature's checks (those were about a fifth of `import torch_js`: every op's wrapper reads one)."""
    __slots__ = ("name", "kind", "default")
    empty = _P.empty
    POSITIONAL_ONLY, POSITIONAL_OR_KEYWORD = _P.POSITIONAL_ONLY, _P.POSITIONAL_OR_KEYWORD
    VAR_POSITIONAL, KEYWORD_ONLY, VAR_KEYWORD = _P.VAR_POSITIONAL, _P.KEYWORD_ONLY, _P.VAR_KEYWORD

    def __init__(self, name, kind, default=_P.empty):
        self.name, self.kind, self.default = name, kind, default


def _code_signature(fn):
    """inspect.signature(fn)'s parameters, in its order: positional ones, *args, keyword-only ones, **kwargs."""
    code = fn.__code__
    names, n_pos, n_kw = code.co_varnames, code.co_argcount, code.co_kwonlyargcount
    defaults, kw_defaults = fn.__defaults__ or (), fn.__kwdefaults__ or {}
    first_default = n_pos - len(defaults)
    out = [_CodeParam(names[i], _P.POSITIONAL_ONLY if i < code.co_posonlyargcount else _P.POSITIONAL_OR_KEYWORD,
                      defaults[i - first_default] if i >= first_default else _P.empty) for i in range(n_pos)]
    extra = n_pos + n_kw   # co_varnames: positional, keyword-only, then the names of *args and **kwargs
    if code.co_flags & inspect.CO_VARARGS:
        out.append(_CodeParam(names[extra], _P.VAR_POSITIONAL))
        extra += 1
    out += [_CodeParam(name, _P.KEYWORD_ONLY, kw_defaults.get(name, _P.empty)) for name in names[n_pos:n_pos + n_kw]]
    if code.co_flags & inspect.CO_VARKEYWORDS:
        out.append(_CodeParam(names[extra], _P.VAR_KEYWORD))
    return tuple(out)


def _signature(fn):
    # a plain function that does not stand for another (functools.wraps' __wrapped__, an explicit __signature__)
    if type(fn) is types.FunctionType and "__wrapped__" not in fn.__dict__ and "__signature__" not in fn.__dict__:
        return _code_signature(fn)
    try:
        return tuple(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return ()


def _params(sig):
    out = []
    for i, p in enumerate(sig):
        if p.kind is p.VAR_KEYWORD:
            continue
        positional = p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL)
        out.append(_Param(p, i if positional else None))
    return tuple(out)


def _kind(p):
    if type(p.default) is bool:
        return "bool"
    if p.name in INT_PARAMS and not isinstance(p.default, float):
        return "int"
    if p.name in STR_PARAMS:
        return "str"
    if p.name == "dtype" and p.default is None:
        return "torch.dtype"
    return None


def _typed(sig, lenient):
    """(position or None, name, kind) of each parameter whose type PyTorch's schema fixes (see _kind)."""
    typed = []
    for i, p in enumerate(sig):
        kind = _kind(p)
        if kind is not None and p.name not in lenient and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY):
            typed.append((i if p.kind is p.POSITIONAL_OR_KEYWORD else None, p.name, kind))
    return tuple(typed)


def _type_name(v):
    return type(v).__name__


def _given(args, kwargs, index, name):
    """(given, value, positional) of the parameter at `index` (None: keyword-only) named `name` in a call."""
    if index is not None and index < len(args):
        return True, args[index], True
    if name in kwargs:
        return True, kwargs[name], False
    return False, None, False


def _where(op, param, shown):
    name = "input" if param.name == "self" else param.name   # the function form's name for a method's self
    return f"{op}(): argument '{name}'" + (f" (position {shown})" if shown is not None else "")


def blame(op, params, args, kwargs, shift):
    """PyTorch's TypeError for the first Tensor parameter given something else, or None."""
    for p in params:
        if p.varargs:
            values = args[p.index:] if p.index is not None else ()
            if p.tensor_list:
                for j, v in enumerate(values):
                    if not isinstance(v, Tensor):
                        return TypeError(f"{op}(): expected Tensor as element {j} in argument {p.index}, but "
                                         f"got {_type_name(v)}")
            continue
        given, v, positional = _given(args, kwargs, p.index, p.name)
        if not given:
            continue
        shown = p.index + shift if positional else None
        if p.tensor and (v is not None or p.required) and not isinstance(v, Tensor):
            if isinstance(v, (list, tuple)) and v and all(isinstance(t, Tensor) for t in v):
                continue   # a tuple of index tensors (index_put's indices)
            return TypeError(f"{_where(op, p, shown)} must be Tensor, not {_type_name(v)}")
        if p.tensor_list:
            if not isinstance(v, (list, tuple)):
                return TypeError(f"{_where(op, p, shown)} must be tuple of Tensors, not {_type_name(v)}")
            for j, t in enumerate(v):
                if not isinstance(t, Tensor):
                    return TypeError(f"{op}(): expected Tensor as element {j} in argument "
                                     f"{p.index if p.index is not None else 0}, but got {_type_name(t)}")
    return None


def _check_types(op, typed, args, kwargs, shift):
    """PyTorch's TypeError for an argument of a refused type; else (args, kwargs), with a Python type given as a
    dtype (dtype=float) replaced by the torch dtype PyTorch reads it as."""
    for index, name, kind in typed:
        given, v, positional = _given(args, kwargs, index, name)
        if not given:
            continue
        if type(v) in _REFUSED[kind]:
            shown = f" (position {index + shift})" if positional else ""
            raise TypeError(f"{op}(): argument '{name}'{shown} must be {kind}, not {_type_name(v)}")
        if kind == "torch.dtype" and type(v) is type and v in D.PYTHON_TYPE_DTYPES:
            if positional:
                args = args[:index] + (D.PYTHON_TYPE_DTYPES[v],) + args[index + 1:]
            else:
                kwargs = {**kwargs, name: D.PYTHON_TYPE_DTYPES[v]}
    return args, kwargs


# ---- ops on tensors of other layouts (sparse) ----------------------------------------------------------------------
# An op's code is written for strided tensors; given a sparse one it fails with NotStridedError as soon as it reaches
# the tensor's memory or strides. The wrappers catch that and run the op's kernel for the layout, declared here by
# the package that defines the layout (torch_js/sparse) under the op's public name ("add", "add_", "mm", ...).
# The kernel takes the op's own arguments and handles every mix of layouts the op accepts.
LAYOUT_KERNELS = {}
_DISPATCH_KEYS = {"sparse_coo": "SparseCPU", "sparse_csr": "SparseCsrCPU", "sparse_csc": "SparseCsrCPU",
                  "sparse_bsr": "SparseCsrCPU", "sparse_bsc": "SparseCsrCPU"}


class MissingLayoutKernel(NotStridedError):
    """PyTorch's NotImplementedError for an op with no kernel for a layout, shown under that name (the user sees
    `NotImplementedError: Could not run 'aten::view' ...`); still a NotStridedError, so the wrapper of an op that
    called this one renames it after the op the user called."""


MissingLayoutKernel.__name__ = MissingLayoutKernel.__qualname__ = "NotImplementedError"
MissingLayoutKernel.__module__ = "builtins"


def layout_kernel(op, error, args, kwargs, namespace="torch"):
    """Run op's kernel for the layout that `error` (a NotStridedError) met, or raise PyTorch's error for an op with
    no kernel for that layout."""
    kernel = LAYOUT_KERNELS.get((namespace, op))
    if kernel is not None:
        return kernel(*args, **kwargs)
    # (an op that met the layout inside another op's code is named by the outermost op, as PyTorch names the op called)
    key = _DISPATCH_KEYS.get(error.layout.name, error.layout.name)
    e = MissingLayoutKernel(error.layout)
    e.args = (f"Could not run 'aten::{op}' with arguments from the '{key}' backend. This could be because the operator "
              f"doesn't exist for this backend (torch_js has no {error.layout!r} kernel for {op}).",)
    raise e from None


# The recording profiler (autograd/profiler.py's Recording) while one is on, else None: each op call reads it once
PROFILER = None
# torch_js.fx's recorder, set once a Proxy exists: a call given a Proxy becomes a graph node instead of running
# (it returns NotImplemented for a call without one)
FX_INTERCEPT = None
# PyTorch's event names: aten::<op>, aten::linalg_<op>, ...
_EVENT_PREFIX = {"linalg": "linalg_", "special": "special_", "fft": "fft_"}


_MISSING = re.compile(r"(\w+)\(\) missing (\d+) required (?:positional|keyword-only) arguments?: (.+)")


def _missing_arguments(e, fn, op):
    """Python's TypeError `e` for arguments a call of fn left out, in PyTorch's parser's words (it says
    "arguments" for one), or None for any other TypeError."""
    m = _MISSING.fullmatch(str(e))
    if m is None or m.group(1) != fn.__name__:
        return None
    n, names = int(m.group(2)), re.findall(r"'(\w+)'", m.group(3))
    if not names:
        return None   # already PyTorch's words (require_args)
    names = ", ".join(f'"{name}"' for name in names)
    return TypeError(f"{op}() missing {n} required positional argument{'s' if n == 1 else ''}: {names}")


def _numpy_names(op, sig, method, namespace):
    """{NumPy's name: the op's parameter} for the parameters of op that PyTorch's parser also takes by NumPy's name."""
    if namespace == "nn.functional" or op in (PYTHON_WRITTEN_METHODS if method else PYTHON_WRITTEN_FUNCTIONS) or \
            any(p.kind is p.VAR_KEYWORD for p in sig):
        return None
    names = {p.name for p in sig}
    return {alias: name for alias, name in NUMPY_NAMES.items() if name in names and alias not in names} or None


def autocasting(fn, op, rule):
    """fn, or where autocast has a cast `rule` for op (ops/_autocast.py policy): fn casting its tensors first while
    autocast is on, and running with autocast off (PyTorch's autocast kernel redispatches below autocast)."""
    if rule is None:
        return fn

    @functools.wraps(fn)
    def cast_then(*args, **kwargs):
        if not _autocast.ON:
            return fn(*args, **kwargs)
        args, kwargs = _autocast.cast(rule, op, args, kwargs)
        return _autocast.off(fn, *args, **kwargs)
    return cast_then


def guard(op, fn, *, method=False, namespace="torch"):
    """fn as the public API calls it (see the module docstring). `method`: positions count from the first argument
    after self, as PyTorch's messages for Tensor methods do."""
    sig = _signature(fn)
    params = _params(sig)
    shift = 0 if method else 1
    typed = _typed(sig, LENIENT_NN if namespace == "nn.functional" else ())
    leading = min((i for i, _, _ in typed if i is not None), default=len(sig))
    # PyTorch's Tensor methods take no out= (x.add(y, out=z) is a TypeError), though the function they share does
    refuse_out = method and any(p.name == "out" for p in params)
    tuple_out = not method and op in TUPLE_OUT and any(p.name == "out" for p in params)
    # float parameters (eps, delta, ...): PyTorch's schema converts any Python int to a double
    floats = tuple((i if p.kind is p.POSITIONAL_OR_KEYWORD else None, p.name) for i, p in enumerate(sig)
                   if type(p.default) is float)
    event = f"aten::{_EVENT_PREFIX.get(namespace, '')}{op}"
    numpy_names = _numpy_names(op, sig, method, namespace)
    # (fn itself unless autocast is on: the same frames under a warning's stacklevel)
    cast = autocasting(fn, op, _autocast.policy(namespace, op))

    def _as_doubles(args, kwargs):
        """args/kwargs with float parameters given an int past int64 converted, or None if there is none."""
        args, kwargs, changed = list(args), dict(kwargs), False
        for index, name in floats:
            given, v, positional = _given(args, kwargs, index, name)
            if given and type(v) is int and not -INT64_MAX - 1 <= v <= INT64_MAX:
                if positional:
                    args[index] = float(v)
                else:
                    kwargs[name] = float(v)
                changed = True
        return (args, kwargs) if changed else None

    def _renamed_or_raise(e, args, kwargs):
        """The call again with NumPy's parameter names given as PyTorch's (Python refused them: TypeError `e`)."""
        renamed = {numpy_names.get(k, k): v for k, v in kwargs.items()} if numpy_names else kwargs
        if len(renamed) < len(kwargs) or renamed.keys() == kwargs.keys() or any(
                p.index is not None and p.index < len(args) and p.name in renamed for p in params):
            # nothing to rename, or a parameter given twice: Python's error stands, a missing argument worded as
            # PyTorch's parser words it (one error, not chained to Python's)
            missing = _missing_arguments(e, fn, op)
            if missing is not None:
                raise missing from None
            raise e
        return api(*args, **renamed)

    def _raise_for(e, args, kwargs):
        if type(e) is OverflowError and str(e).startswith("int too "):
            converted = _as_doubles(args, kwargs)
            if converted is not None:
                return fn(*converted[0], **converted[1])
            raise e   # PyTorch lets Python's error for an int past the dtype out too (torch.full((2,), 2**70))
        if getattr(e, "torch_js_public", False):
            raise e   # PyTorch's own error (the AssertionError of a cuda device), not a slip of the Python code
        err = blame(op, params, args, kwargs, shift)
        if err is not None:
            raise err from None
        raise RuntimeError(f"{op}: {type(e).__name__}: {e}") from e

    if typed or refuse_out or tuple_out:
        @functools.wraps(fn)
        def api(*args, **kwargs):
            if FX_INTERCEPT is not None:
                traced = FX_INTERCEPT(api, args, kwargs)
                if traced is not NotImplemented:
                    return traced
            if kwargs or len(args) > leading:
                if refuse_out and "out" in kwargs:
                    raise TypeError(f"{op}() got an unexpected keyword argument 'out'")
                if tuple_out and isinstance(kwargs.get("out"), Tensor):
                    raise TypeError(f"{op}(): argument 'out' must be tuple of Tensors, not Tensor")
                args, kwargs = _check_types(op, typed, args, kwargs, shift)
            rec = PROFILER
            raw = rec.begin(event, args, kwargs) if rec is not None else None
            try:
                return (cast if _autocast.ON else fn)(*args, **kwargs)
            except INTERNAL_ERRORS as e:
                return _raise_for(e, args, kwargs)
            except TypeError as e:
                return _renamed_or_raise(e, args, kwargs)
            except NotStridedError as e:
                return layout_kernel(op, e, args, kwargs, namespace)
            finally:
                if raw is not None:
                    rec.end(raw)
    else:
        @functools.wraps(fn)
        def api(*args, **kwargs):
            if FX_INTERCEPT is not None:
                traced = FX_INTERCEPT(api, args, kwargs)
                if traced is not NotImplemented:
                    return traced
            rec = PROFILER
            raw = rec.begin(event, args, kwargs) if rec is not None else None
            try:
                return (cast if _autocast.ON else fn)(*args, **kwargs)
            except INTERNAL_ERRORS as e:
                return _raise_for(e, args, kwargs)
            except TypeError as e:
                return _renamed_or_raise(e, args, kwargs)
            except NotStridedError as e:
                return layout_kernel(op, e, args, kwargs, namespace)
            finally:
                if raw is not None:
                    rec.end(raw)
    return api
