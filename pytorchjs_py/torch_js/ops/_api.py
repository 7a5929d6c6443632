"""The public face of a declared op: PyTorch's argument errors on every call through torch_js.<op>, Tensor.<op>,
torch_js.linalg.<op> or nn.functional.<op>.

PyTorch checks each argument against the op's schema before any kernel runs; torch_js ops are Python functions that
read what they are given, so a non-tensor where a tensor belongs ends in an AttributeError deep inside. `guard` wraps
each declared op once, at declaration (ops/_registry.py), and reads the op's own signature:
- before the call, for an op with bool flags (keepdim, upper, stable, ...) given more than its leading arguments: a
  flag given an int, float or str raises PyTorch's TypeError (its bool arguments take only bools);
- after a Python-internal exception: the argument to blame is the first one in a Tensor parameter (by the names
  PyTorch's schemas give them, TENSOR_PARAMS) that holds no Tensor, and PyTorch's TypeError names it; with none to
  blame, a RuntimeError naming the op, chained to the original.
Internal code calls the undecorated functions (`torch_ops.<name>`, the modules' own names); the happy path of a public
call pays one Python call.
"""
import functools
import inspect
import struct

from .._tensor import Tensor

# Names PyTorch's schemas give Tensor arguments; a parameter so named, with no default or a None default, takes a Tensor
TENSOR_PARAMS = frozenset((
    "input", "self", "other", "A", "B", "LU", "LU_data", "LU_pivots", "pivots", "a", "b", "anchor", "positive",
    "negative", "input1", "input2", "batch1", "batch2", "mat", "mat1", "mat2", "vec", "vec1", "vec2", "tensor1",
    "tensor2", "tensor", "weight", "bias", "target", "index", "indices", "mask", "source", "src", "tau", "condition",
    "boundaries", "sorted_sequence", "running_mean", "running_var", "query", "key", "attn_mask", "pos_weight"))
# ... and these a sequence of Tensors (a list/tuple argument, or the op's *varargs)
TENSOR_LIST_PARAMS = frozenset(("tensors", "matrices"))

# nn.functional flags PyTorch's Python code reads with `if flag:` (any truthy value works there); its other flags
# reach a C++ schema, which takes only bools
LENIENT_FLAGS = frozenset(("inplace", "return_indices", "full", "antialias", "need_weights", "average_attn_weights",
                           "add_zero_attn"))

# what escapes a Python function that read an argument it should not have been given
INTERNAL_ERRORS = (AttributeError, KeyError, OverflowError, ZeroDivisionError, RecursionError, NameError,
                   AssertionError, struct.error, UnicodeError, StopIteration, FloatingPointError,
                   BufferError, ReferenceError)
_NOT_BOOL = (int, float, str)


class _Param:
    __slots__ = ("name", "index", "tensor", "tensor_list", "varargs")

    def __init__(self, p, index):
        self.name = p.name
        self.index = index                    # position among the positional parameters, None if keyword-only
        self.varargs = p.kind is p.VAR_POSITIONAL
        takes_tensor = p.default is p.empty or p.default is None
        self.tensor = takes_tensor and p.name in TENSOR_PARAMS and not self.varargs
        self.tensor_list = p.name in TENSOR_LIST_PARAMS and (takes_tensor or self.varargs)


def _params(fn):
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return ()
    out = []
    for i, p in enumerate(sig.parameters.values()):
        if p.kind is p.VAR_KEYWORD:
            continue
        positional = p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL)
        out.append(_Param(p, i if positional else None))
    return tuple(out)


def _flags(fn, lenient):
    """(position or None, name) of each bool-defaulted parameter."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return ()
    flags = []
    for i, p in enumerate(sig.parameters.values()):
        if type(p.default) is bool and p.name not in lenient:
            flags.append((i if p.kind is p.POSITIONAL_OR_KEYWORD else None, p.name))
    return tuple(flags)


def _type_name(v):
    return type(v).__name__


def _where(op, param, shown):
    return f"{op}(): argument '{param.name}'" + (f" (position {shown})" if shown is not None else "")


def blame(op, params, args, kwargs, shift):
    """PyTorch's TypeError for the first Tensor parameter given something else, or None."""
    for p in params:
        if p.varargs:
            values = args[p.index:] if p.index is not None else ()
            if p.tensor_list:
                for j, v in enumerate(values):
                    if not isinstance(v, Tensor):
                        return TypeError(f"{op}(): expected Tensor as element {j} in argument {p.index + shift}, but "
                                         f"got {_type_name(v)}")
            continue
        given = p.index is not None and p.index < len(args)
        if given:
            v = args[p.index]
        elif p.name in kwargs:
            v = kwargs[p.name]
        else:
            continue
        shown = p.index + shift if given else None
        if p.tensor and v is not None and not isinstance(v, Tensor):
            if isinstance(v, (list, tuple)) and v and all(isinstance(t, Tensor) for t in v):
                continue   # a tuple of index tensors (index_put's indices)
            return TypeError(f"{_where(op, p, shown)} must be Tensor, not {_type_name(v)}")
        if p.tensor_list:
            if not isinstance(v, (list, tuple)):
                return TypeError(f"{_where(op, p, shown)} must be tuple of Tensors, not {_type_name(v)}")
            for j, t in enumerate(v):
                if not isinstance(t, Tensor):
                    return TypeError(f"{op}(): expected Tensor as element {j} in argument "
                                     f"{p.index + shift if p.index is not None else 0}, but got {_type_name(t)}")
    return None


def _check_flags(op, flags, args, kwargs, shift):
    for index, name in flags:
        if index is not None and index < len(args):
            v, shown = args[index], f" (position {index + shift})"
        elif name in kwargs:
            v, shown = kwargs[name], ""
        else:
            continue
        if type(v) in _NOT_BOOL:
            raise TypeError(f"{op}(): argument '{name}'{shown} must be bool, not {_type_name(v)}")


def guard(op, fn, *, method=False, namespace="torch"):
    """fn as the public API calls it (see the module docstring). `method`: positions count from the first argument
    after self, as PyTorch's messages for Tensor methods do."""
    params = _params(fn)
    shift = 0 if method else 1
    flags = _flags(fn, LENIENT_FLAGS if namespace == "nn.functional" else ())
    leading = min((i for i, _ in flags if i is not None), default=len(params)) if flags else 0

    def _raise_for(e, args, kwargs):
        if type(e) is OverflowError and str(e).startswith("int too "):
            raise e   # PyTorch lets Python's error for an int past the dtype out too (torch.full((2,), 2**70))
        err = blame(op, params, args, kwargs, shift)
        if err is not None:
            raise err from None
        raise RuntimeError(f"{op}: {type(e).__name__}: {e}") from e

    if flags:
        @functools.wraps(fn)
        def api(*args, **kwargs):
            if kwargs or len(args) > leading:
                _check_flags(op, flags, args, kwargs, shift)
            try:
                return fn(*args, **kwargs)
            except INTERNAL_ERRORS as e:
                _raise_for(e, args, kwargs)
    else:
        @functools.wraps(fn)
        def api(*args, **kwargs):
            try:
                return fn(*args, **kwargs)
            except INTERNAL_ERRORS as e:
                _raise_for(e, args, kwargs)
    return api
