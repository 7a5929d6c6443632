"""torch.sym_int / sym_float / sym_max / ... and the SymInt / SymFloat / SymBool types.

PyTorch's symbolic shapes exist while torch.compile traces a program; torch_js runs eagerly and never traces, so
every size is a plain int, no SymInt is ever made, and the sym_* functions act on Python numbers as PyTorch's do
on them (isinstance(x, torch.SymInt) is simply False).
"""
import builtins
import math

__all__ = ["SymInt", "SymFloat", "SymBool", "sym_int", "sym_float", "sym_not", "sym_max", "sym_min", "sym_ite",
           "sym_sum", "sym_sqrt", "sym_fresh_size", "sym_constrain_range", "sym_constrain_range_for_size"]


class _Symbolic:
    def __init__(self, node):
        raise TypeError(f"torch_js has no symbolic shapes: {type(self).__name__} values come from torch.compile's "
                        "tracing, which torch_js does not do")


class SymInt(_Symbolic):
    """An int of a traced program's shapes (never made in torch_js)."""


class SymFloat(_Symbolic):
    """A float of a traced program (never made in torch_js)."""


class SymBool(_Symbolic):
    """A bool of a traced program (never made in torch_js)."""


def _number_types():
    return (builtins.int, builtins.float), (builtins.float,)


def sym_int(a):
    return builtins.int(a)


def sym_float(a):
    return builtins.float(a)


def sym_not(a):
    return not a


def _extreme(pick, a, b):
    numbers, floats = _number_types()
    for v in (a, b):
        if not isinstance(v, numbers):
            raise AssertionError(f"expected {numbers}, got {type(v)}")
    if isinstance(a, floats) or isinstance(b, floats):
        return builtins.float(pick(a, b))
    return pick(a, b)


def sym_max(a, b):
    """max(a, b), a float if either is a float."""
    return _extreme(builtins.max, a, b)


def sym_min(a, b):
    return _extreme(builtins.min, a, b)


def sym_ite(b, t, f):
    """t if b else f; b a bool, t and f of one type."""
    if not isinstance(b, builtins.bool):
        raise AssertionError(f"expected SymBool or bool, got {type(b)}")
    if type(t) is not type(f):
        raise AssertionError(f"type mismatch: {type(t)} vs {type(f)}")
    return t if b else f


def sym_sum(*args):
    """sum of the arguments (or of one list/tuple of them)."""
    if len(args) == 1 and isinstance(args[0], (list, tuple)):
        args = args[0]
    return builtins.sum(args)


def sym_sqrt(a):
    return math.sqrt(a)


def sym_fresh_size(expr):
    return expr


_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1


def sym_constrain_range(size, *, min=None, max=None):
    """Checks that size lies in [min, max] (an unbounded side: int64's limit)."""
    lo = _INT64_MIN if min is None else min
    hi = _INT64_MAX if max is None else max
    if not lo <= size <= hi:
        raise RuntimeError(f"Invalid value range for {size} between [{lo}, {hi}].")


def sym_constrain_range_for_size(size, *, min=None, max=None):
    """As sym_constrain_range, for a value used as a size (min at least 0; a max, if given, above 2)."""
    if max is not None and max <= 2:
        raise RuntimeError(f"Max value to constrain_range_for_size must be greater than 2. got: {max}")
    sym_constrain_range(size, min=0 if min is None else min, max=max)
