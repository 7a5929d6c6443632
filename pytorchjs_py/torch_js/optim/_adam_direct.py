"""Adam's non-capturable update of one webgpu parameter as the very kernel calls its op-by-op form makes (adam.py:
lerp_, mul_, the products of _addcmul_, sqrt, the divisions and adds of _addcdiv_), made on the backend directly.

Each of those ops, taken through the public API, pays the op wrapper, dtype promotion, broadcasting and in-place
checks that cannot fail here (four contiguous float32 tensors of one shape on distinct storages, autograd off):
on webgpu that host work is most of an eager optimizer step, and the kernels themselves only record. The values
are bit-for-bit those of the op-by-op form (the same kernels, operands in the same order, the scalars rounded to
float32 as binary() rounds them), one copy fewer (lerp_'s result is added into exp_avg in place instead of
written out and copied in), and each state tensor's version goes up as often as the op-by-op form bumps it.
adam.py takes it only where eligible() says so: never under an FX trace, the profiler or a graph capture, where
each op must be seen.
"""
from .. import _dtype as D
from .._tensor import Tensor, _contig, _empty
from ..backends.webgpu import runtime as _webgpu_rt
from ..ops import _api
from ..ops._util import scalar_tensor


def eligible(p, grad, exp_avg, exp_avg_sq):
    """Whether update() computes what adam.py's op-by-op form does for these tensors."""
    if _api.FX_INTERCEPT is not None or _api.PROFILER is not None or _webgpu_rt.capturing is not None:
        return False
    dev = p._storage.device
    if dev.type != "webgpu" or p._dtype is not D.float32:
        return False
    shape = p._shape
    st = _contig(shape)
    seen = []
    for t in (p, grad, exp_avg, exp_avg_sq):
        s = t._storage
        if t._dtype is not D.float32 or t._shape != shape or t._stride != st or s.device is not dev or s in seen:
            return False
        if t is not p and t.__class__ is not Tensor:
            return False
        seen.append(s)
    return 0 not in shape


def update(p, grad, exp_avg, exp_avg_sq, beta1, beta2, eps, bias_correction2_sqrt, step_size_neg):
    """exp_avg.lerp_(grad, 1 - beta1); exp_avg_sq.mul_(beta2) += (grad * (1 - beta2)) * grad;
    p += (exp_avg * step_size_neg) / ((exp_avg_sq.sqrt() / bias_correction2_sqrt) + eps)."""
    dev = p._storage.device
    be = p._storage.backend
    shape, st = p._shape, p._stride
    zero = (0,) * len(shape)

    def new():
        return _empty(shape, D.float32, dev)

    def scalar(v):
        return scalar_tensor(v, D.float32, dev)

    # lerp (pointwise_composites.lerp): diff = end - input, then input + w * diff (or end - diff * (1 - w))
    w = 1 - beta1
    diff = new()
    be.binary("sub", diff, grad, st, exp_avg, st, 1)
    t = new()
    if abs(w) < 0.5:
        be.binary("mul", t, diff, st, scalar(w), zero, 1)
        be.binary("add", exp_avg, exp_avg, st, t, st, 1)
    else:
        be.binary("mul", t, diff, st, scalar(1 - w), zero, 1)
        be.binary("sub", exp_avg, grad, st, t, st, 1)
    exp_avg._storage.version += 1
    # _addcmul_(exp_avg_sq.mul_(beta2), grad, grad, 1 - beta2)
    be.binary("mul", exp_avg_sq, exp_avg_sq, st, scalar(beta2), zero, 1)
    t1 = new()
    be.binary("mul", t1, grad, st, scalar(1 - beta2), zero, 1)
    t2 = new()
    be.binary("mul", t2, t1, st, grad, st, 1)
    be.binary("add", exp_avg_sq, exp_avg_sq, st, t2, st, 1)
    exp_avg_sq._storage.version += 2
    # denom = (exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(eps)
    root = new()
    be.unary("sqrt", root, exp_avg_sq, 0.0, 0.0, 0.0)
    denom = new()
    be.binary("div", denom, root, st, scalar(bias_correction2_sqrt), zero, 1)
    be.binary("add", denom, denom, st, scalar(eps), zero, 1)
    # _addcdiv_(p, exp_avg, denom, step_size_neg)
    t3 = new()
    be.binary("mul", t3, exp_avg, st, scalar(step_size_neg), zero, 1)
    t4 = new()
    be.binary("div", t4, t3, st, denom, st, 1)
    be.binary("add", p, p, st, t4, st, 1)
    p._storage.version += 1
