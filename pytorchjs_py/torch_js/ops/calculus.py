"""Finite differences, cross products and integration along a dim: diff, gradient, cross / linalg.cross,
trapezoid / trapz / cumulative_trapezoid. Written in other ops, so every device and autograd get them for free."""

from .. import _dtype as D
from .._tensor import Tensor, wrap_dim
from ._registry import register
from ._util import broadcast_shapes, check, warn_at_caller
from . import inplace as _ip
from .creation import full, zeros
from .shape import cat, stack


def diff(input, n=1, dim=-1, prepend=None, append=None, *, out=None):
    check(input.dim() >= 1, "diff expects input to be at least one-dimensional")
    check(n >= 0, lambda: f"order must be non-negative but got {n}")
    d = wrap_dim(dim, input.dim())
    parts = []
    for extra, name in ((prepend, "prepend"), (append, "append")):
        if extra is not None and not isinstance(extra, Tensor):
            shp = list(input._shape)
            shp[d] = 1
            extra = full(tuple(shp), extra, dtype=input._dtype, device=input._storage.device)
        if extra is not None:
            check(extra.dim() == input.dim(), "diff expects prepend or append to be the same dimension as input")
        parts.append(extra)
    x = input
    if parts[0] is not None or parts[1] is not None:
        x = cat([t for t in (parts[0], input, parts[1]) if t is not None], d)
    for _ in range(n):
        L = x._shape[d]
        if L == 0:
            break
        a, b = x.narrow(d, 1, L - 1), x.narrow(d, 0, L - 1)
        x = a.logical_xor(b) if x._dtype is D.bool_ else a - b
    if n == 0:
        x = x.clone() if x is input else x
    return _ip.maybe_write_out(out, x)


def _cross(a, b, d):
    a0, a1, a2 = a.select(d, 0), a.select(d, 1), a.select(d, 2)
    b0, b1, b2 = b.select(d, 0), b.select(d, 1), b.select(d, 2)
    return stack([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], d)


def linalg_cross(input, other, *, dim=-1, out=None):
    check(input.dim() == other.dim(), "linalg.cross: inputs must have the same number of dimensions.")
    check(input._dtype is other._dtype, lambda: f"expected scalar type {D.scalar_type_name(input._dtype)} but found "
          f"{D.scalar_type_name(other._dtype)}")
    shape = broadcast_shapes(input._shape, other._shape)
    d = wrap_dim(dim, len(shape))
    check(input._shape[d] == 3 and other._shape[d] == 3, lambda: f"linalg.cross: inputs dimension {dim} must have "
          f"length 3. Got {input._shape[d]} and {other._shape[d]}")
    a = input.expand(shape) if input._shape != shape else input
    b = other.expand(shape) if other._shape != shape else other
    return _ip.maybe_write_out(out, _cross(a, b, d))


def cross(input, other, dim=None, *, out=None):
    if dim is None:
        warn_at_caller("Using torch.cross without specifying the dim arg is deprecated.\nPlease either pass the dim "
                       "explicitly or simply use torch.linalg.cross.\nThe default value of dim will change to agree "
                       "with that of linalg.cross in a future release.")
        shape = broadcast_shapes(input._shape, other._shape)
        dims = [i for i, s in enumerate(shape) if s == 3]
        check(bool(dims), "no dimension of size 3 in input")
        dim = dims[0]
    check(input.dim() == other.dim(), "linalg.cross: inputs must have the same number of dimensions.")
    return linalg_cross(input, other, dim=dim, out=out)


def _x_diffs(y, x, d):
    """dx along d, shaped to broadcast against y (ATen's x_viewed slicing)."""
    if x.dim() == 1:
        check(x._shape[0] == y._shape[d], "trapezoid: There must be one `x` value for each sample point")
        shp = [1] * y.dim()
        shp[d] = x._shape[0]
        xv = x.reshape(tuple(shp))
    elif x.dim() < y.dim():
        xv = x.reshape((1,) * (y.dim() - x.dim()) + x._shape)
    else:
        xv = x
    m = xv._shape[d]
    return xv.narrow(d, 1, max(m - 1, 0)) - xv.narrow(d, 0, max(m - 1, 0))


def _pair_sum(y, d):
    n = y._shape[d]
    return y.narrow(d, 1, n - 1) + y.narrow(d, 0, n - 1)


def trapezoid(y, x=None, *, dx=None, dim=-1):
    if isinstance(x, (int, float)) and dx is None:
        x, dx = None, x
    d = wrap_dim(dim, y.dim())
    if y._shape[d] == 0:
        return zeros(y._shape[:d] + y._shape[d + 1:], dtype=y._dtype, device=y._storage.device)
    if x is not None:
        return ((_x_diffs(y, x, d) * _pair_sum(y, d)) / 2.0).sum(d)
    dx = 1.0 if dx is None else dx
    return (y.sum(d) - (y.select(d, 0) + y.select(d, -1)) * 0.5) * dx


def trapz(y, x=None, *, dx=None, dim=-1):
    return trapezoid(y, x, dx=dx, dim=dim)


def cumulative_trapezoid(y, x=None, *, dx=None, dim=-1):
    if isinstance(x, (int, float)) and dx is None:
        x, dx = None, x
    d = wrap_dim(dim, y.dim())
    if y._shape[d] == 0:
        return zeros(y._shape, dtype=y._dtype, device=y._storage.device)
    if x is not None:
        return ((_x_diffs(y, x, d) * _pair_sum(y, d)) / 2.0).cumsum(d)
    dx = 1.0 if dx is None else dx
    return (dx / 2.0 * _pair_sum(y, d)).cumsum(d)


def _gradient_dims(input, spacing, dim):
    """The dims torch.gradient differentiates along and each one's spacing (a number or a coordinates tensor)."""
    nd = input.dim()
    dims = list(range(nd)) if dim is None else [wrap_dim(d, nd) for d in
                                                 (dim if isinstance(dim, (list, tuple)) else [dim])]
    for i, d in enumerate(dims):
        check(d not in dims[:i], lambda: f"dim {d} appears multiple times in the list of dims")
    if spacing is None or not isinstance(spacing, (list, tuple)):
        return dims, [1.0 if spacing is None else spacing] * len(dims)
    if dim is None:
        check(len(spacing) == nd, lambda: "torch.gradient expected spacing to be unspecified, a scalar, or a list of "
              f"length equal to 'self.dim() = {nd}', since dim argument was not given, but got a list of length "
              f"{len(spacing)}")
    else:
        check(len(spacing) == len(dims), lambda: "torch.gradient expected spacing to be unspecified, a scalar or "
              "it's spacing and dim arguments to have the same length, but got a spacing argument of length "
              f"{len(spacing)} and a dim argument of length {len(dims)}.")
    if any(isinstance(h, Tensor) for h in spacing):
        for i, h in enumerate(spacing):
            if not isinstance(h, Tensor):
                raise TypeError(f"expected Tensor as element {i} in argument 1, but got {type(h).__name__}")
    return dims, list(spacing)


def gradient(input, *, spacing=1, dim=None, edge_order=1):
    """numpy.gradient: central differences inside, one-sided ones (first or second order) at the two ends; a
    dim's spacing is a number or the coordinates of its samples (then the non-uniform second-order formulas)."""
    check(edge_order in (1, 2), "torch.gradient only supports edge_order=1 and edge_order=2.")
    dims, steps = _gradient_dims(input, spacing, dim)
    for d in dims:
        check(input._shape[d] >= edge_order + 1,
              "torch.gradient expected each dimension size to be at least edge_order+1")
    f = input if input._dtype.is_floating_point or input._dtype.is_complex else input.to(D.get_default_dtype())
    out = []
    for d, h in zip(dims, steps):
        n = f._shape[d]
        at = lambda i, k=1: f.narrow(d, i % n, k)   # noqa: E731
        if not isinstance(h, Tensor):
            inner = (f.narrow(d, 2, n - 2) - f.narrow(d, 0, n - 2)) / (2.0 * h)
            if edge_order == 1:
                first, last = (at(1) - at(0)) / h, (at(-1) - at(-2)) / h
            else:
                first = (-1.5 * at(0) + 2.0 * at(1) - 0.5 * at(2)) / h
                last = (0.5 * at(-3) - 2.0 * at(-2) + 1.5 * at(-1)) / h
        else:
            shp = [1] * f.dim()
            shp[d] = n
            dx = h.diff().reshape(tuple(shp[:d] + [n - 1] + shp[d + 1:]))
            if not dx._dtype.is_floating_point:
                dx = dx.to(D.get_default_dtype())
            a, b = dx.narrow(d, 0, n - 2), dx.narrow(d, 1, n - 2)   # the steps before and after each inner point
            inner = (-b / (a * (a + b))) * f.narrow(d, 0, n - 2) + ((b - a) / (a * b)) * f.narrow(d, 1, n - 2) \
                + (a / (b * (a + b))) * f.narrow(d, 2, n - 2)
            h0, h1, hl, hm = (dx.narrow(d, i % (n - 1), 1) for i in (0, 1, -1, -2))
            if edge_order == 1:
                first, last = (at(1) - at(0)) / h0, (at(-1) - at(-2)) / hl
            else:
                first = (-(2 * h0 + h1) / (h0 * (h0 + h1))) * at(0) + ((h0 + h1) / (h0 * h1)) * at(1) \
                    - (h0 / (h1 * (h0 + h1))) * at(2)
                last = (hl / (hm * (hm + hl))) * at(-3) - ((hl + hm) / (hm * hl)) * at(-2) \
                    + ((2 * hl + hm) / (hl * (hm + hl))) * at(-1)
        out.append(cat([first, inner, last], d))
    return tuple(out)


def _register_all():
    register("diff", diff, "shape", dtype="same")
    register("cross", cross, "linalg", dtype="promote")
    register("cross", linalg_cross, "linalg", dtype="promote", namespace="linalg", method=False,
             opinfo=("linalg.cross",))
    register("gradient", gradient, "shape", dtype="float", method=False)
    register("trapezoid", trapezoid, "reduction", dtype="promote", method=False)
    register("trapz", trapz, "reduction", dtype="promote", method=False)
    register("cumulative_trapezoid", cumulative_trapezoid, "reduction", dtype="promote", method=False)


_register_all()
