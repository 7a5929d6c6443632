"""Shared helpers for nn.functional: argument normalisation, reductions, registration."""

from ... import _dtype as D
from ..._tensor import Tensor
from ...ops._registry import register
from ...ops._util import GRAD_ENABLED, as_op_result, check, record, warn_at_caller
from ...ops import creation as _C
from ..._grad_mode import no_grad

__all__ = ["D", "Tensor", "GRAD_ENABLED", "check", "record", "no_grad", "ntuple", "reduction_enum", "apply_reduction",
           "legacy_reduction", "reg", "zeros", "ones", "full", "arange", "empty", "empty_like",
           "is_tensor_like", "as_op_result"]

zeros, ones, full, arange, empty, empty_like = _C.zeros, _C.ones, _C.full, _C.arange, _C.empty, _C.empty_like


def ntuple(x, n, name="argument"):
    """PyTorch's _pair/_single/_triple: an int repeated n times, or a sequence of length n."""
    if isinstance(x, (list, tuple)):
        if len(x) == 1 and n > 1:
            return tuple(int(x[0]) for _ in range(n))
        return tuple(int(v) for v in x)
    return (int(x),) * n


def is_tensor_like(x):
    return isinstance(x, Tensor)


def legacy_reduction(size_average, reduce, emit_warning=True):
    """torch.nn._reduction.legacy_get_string."""
    warning = "size_average and reduce args will be deprecated, please use reduction='{}' instead."
    if size_average is None:
        size_average = True
    if reduce is None:
        reduce = True
    if size_average and reduce:
        ret = "mean"
    elif reduce:
        ret = "sum"
    else:
        ret = "none"
    if emit_warning:
        warn_at_caller(warning.format(ret))
    return ret


def reduction_enum(reduction):
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction


def apply_reduction(loss, reduction):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"{reduction} is not a valid value for reduction")


def reg(name, fn, kind="nn", opinfo=None, **kw):
    """Register fn as torch_js.nn.functional.<name>, tested by op_db's nn.functional.<name> entries."""
    if opinfo is None:
        opinfo = ("nn.functional." + name,)
    register(name, fn, kind, namespace="nn.functional", method=False, opinfo=opinfo, **kw)
    return fn
