"""clamp / clamp_min / clamp_max: scalar bounds run the unary kernel with the bounds as parameters; tensor bounds
are maximum/minimum with PyTorch's own gradient rule for ties and crossed bounds."""
from .. import _dtype as D
from .._grad_mode import no_grad
from .._tensor import Tensor
from ._registry import backward, register
from ._util import GRAD_ENABLED, record, rename_grad_fn, require_tensor
from . import inplace as _ip
from .creation import full
from .elementwise import SAME, UnaryOp, maximum, minimum, unary, where


def _clamp_grad(g, x, y, lo, hi):
    mask = None
    if lo is not None:
        mask = x >= lo
    if hi is not None:
        m2 = x <= hi
        mask = m2 if mask is None else mask.logical_and(m2)
    return g * mask


CLAMP = UnaryOp("clamp", SAME, _clamp_grad, "x", False, node="ClampBackward1")


def clamp(input, min=None, max=None, *, out=None):
    require_tensor("clamp", input, min, max)
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    if (min is not None and max is not None) and isinstance(min, Tensor) != isinstance(max, Tensor):
        raise TypeError(f"clamp() received an invalid combination of arguments - got (Tensor, "
                        f"{type(min).__name__}, {type(max).__name__}), but expected one of: (Tensor input, Tensor "
                        "min, Tensor max) or (Tensor input, Number min, Number max)")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        r = _clamp_tensor(input, min if min is None or isinstance(min, Tensor) else scalar_like(min, input),
                          max if max is None or isinstance(max, Tensor) else scalar_like(max, input))
        return _ip.write_out(out, r) if out is not None else r
    if not input._dtype.is_floating_point and (isinstance(min, float) or isinstance(max, float)):
        input = input._to_dtype(D.get_default_dtype())
    lo = float("-inf") if min is None else float(min)
    hi = float("inf") if max is None else float(max)
    r = unary(CLAMP, input, lo, hi, params=(min, max))
    return _ip.write_out(out, r) if out is not None else r


def _clamp_tensor(x, lo, hi):
    with no_grad():
        r = x
        if lo is not None:
            r = maximum(r, lo)
        if hi is not None:
            r = minimum(r, hi)
        if r is x:
            r = x.clone()
    ins = (x, lo, hi)
    if GRAD_ENABLED[0] and any(t is not None and t._requires_grad for t in ins) and r._dtype.is_floating_point:
        node = record("ClampBackward0", _clamp_tensor_backward, ins, (r,), attrs=(lo is not None, hi is not None))
        node.save([t for t in ins if t is not None])
    return r


def _clamp_tensor_backward(ctx, g):
    # PyTorch's clamp_backward / clamp_backward_min_max: ties go to the input, and min > max sends the
    # gradient to max
    has_lo, has_hi = ctx.attrs
    saved = list(ctx.saved_tensors)
    x = saved.pop(0)
    lo = saved.pop(0) if has_lo else None
    hi = saved.pop(0) if has_hi else None
    ex, elo, ehi = ctx.edges
    zero = g * 0
    gx = glo = ghi = None
    if ex is not None:
        keep = None
        if lo is not None:
            keep = x >= lo
        if hi is not None:
            keep = (x <= hi) if keep is None else keep & (x <= hi)
        gx = where(keep, g, zero)
    if elo is not None:
        pred = x < lo
        if hi is not None:
            pred = pred & (lo < hi)
        glo = where(pred, g, zero)
    if ehi is not None:
        pred = x > hi
        if lo is not None:
            pred = pred | (hi < lo)
        ghi = where(pred, g, zero)
    return gx, glo, ghi


def scalar_like(v, t):
    return full((), v, dtype=t._dtype, device=t._storage.device)


def clamp_min(input, min, *, out=None):
    require_tensor("clamp_min", input, min)
    return rename_grad_fn(clamp(input, min=min, out=out), "ClampMinBackward0")


def clamp_max(input, max, *, out=None):
    require_tensor("clamp_max", input, max)
    return rename_grad_fn(clamp(input, max=max, out=out), "ClampMaxBackward0")


def _register_all():
    # scalar bounds: the unary kernel (derivative _clamp_grad); tensor bounds: the maximum/minimum ops and the
    # recorded _clamp_tensor_backward
    deriv = backward(_clamp_grad, _clamp_tensor_backward)
    register("clamp", clamp, "unary", primitive="unary", dtype="promote", derivative=deriv, aliases=("clip",),
             inplace=lambda self, min=None, max=None: _ip.inplace_from(self, clamp(self, min, max)))
    register("clamp_min", clamp_min, "unary", primitive="unary", dtype="promote", derivative=deriv,
             inplace=lambda self, min: _ip.inplace_from(self, clamp(self, min=min)))
    register("clamp_max", clamp_max, "unary", primitive="unary", dtype="promote", derivative=deriv,
             inplace=lambda self, max: _ip.inplace_from(self, clamp(self, max=max)))


_register_all()
