"""Vector and matrix norms: linalg.vector_norm (p-norms record PyTorch's norm backward, the rest are reductions),
linalg.matrix_norm (Frobenius, 1/inf over reductions; 2 and nuclear over the singular values), linalg.norm, and
the ops written in vector norms: dist (the norm of a difference) and renorm (slices scaled down to a max norm)."""
from ... import _dtype as D
from ..._grad_mode import no_grad
from ..._tensor import wrap_dim
from .._registry import backward, linalg_ops, register
from .._util import GRAD_ENABLED, check, record, rename_grad_fn
from .. import inplace as _ip
from ..elementwise import where


def vector_norm(input, ord=2, dim=None, keepdim=False, *, dtype=None, out=None):
    x = input if dtype is None else input.to(dtype)
    if x._dtype.is_complex:   # a complex vector's norms are its magnitudes' (a real result)
        x = x.abs()
    if not x._dtype.is_floating_point:
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor as input. Got "
                           f"{D.scalar_type_name(x._dtype)}")
    if x._dtype in (D.float16, D.bfloat16):   # PyTorch computes a half-precision norm in float32, rounding once
        r = vector_norm(x.float(), ord, dim, keepdim).to(x._dtype)
        return _ip.write_out(out, r) if out is not None else r
    a = x.abs()
    inf = float("inf")
    if ord == inf:
        r = a.amax(dim if dim is not None else (), keepdim)
    elif ord == -inf:
        r = a.amin(dim if dim is not None else (), keepdim)
    elif ord == 0:
        # non-differentiable count; the `x * 0` term gives PyTorch's zero gradient
        r = (a != 0).to(x._dtype).sum(dim, keepdim) + (x * 0).sum(dim, keepdim)
    elif ord == 1:
        r = a.sum(dim, keepdim)
    else:
        r = _pnorm(x, float(ord), dim, keepdim)
    return _ip.write_out(out, r) if out is not None else r


def _pnorm(x, p, dim, keepdim):
    """sum(|x|^p)^(1/p) with PyTorch's norm_backward: the gradient is 0 where the norm is 0 (no NaN)."""
    with no_grad():
        r = (x * x).sum(dim, keepdim).sqrt() if p == 2 else x.abs().pow(p).sum(dim, keepdim).pow(1.0 / p)
    if GRAD_ENABLED[0] and x._requires_grad:
        node = record("LinalgVectorNormBackward0", _pnorm_backward, (x,), (r,), attrs=(p, dim, keepdim))
        node.save((x,), (r,))
    return r


def _pnorm_backward(ctx, g):
    x, r = ctx.saved_tensors
    p, dim, keepdim = ctx.attrs
    if x.dim() == 0:
        pass
    elif not keepdim and dim is not None:
        dims = [dim] if isinstance(dim, int) else list(dim)
        dims = sorted(d % x.dim() for d in dims)
        for d in dims:
            g = g.unsqueeze(d)
            r = r.unsqueeze(d)
    elif not keepdim:
        g = g.reshape((1,) * x.dim())
        r = r.reshape((1,) * x.dim())
    if p == 2:
        scale = x / r
    else:
        scale = x * x.abs().pow(p - 2) / r.pow(p - 1)
    return (g * scale).masked_fill(r == 0, 0)


register("vector_norm", vector_norm, "linalg", namespace="linalg", method=False, dtype="linalg",
         derivative=backward(_pnorm_backward), opinfo=("linalg.vector_norm",))


# ---- matrix norms --------------------------------------------------------------------------------------------

def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None, out=None):
    check(A.dim() >= 2, "linalg.matrix_norm: The input tensor A must have at least 2 dimensions.")
    if dtype is not None:
        A = A.to(dtype)
    if not A._dtype.is_floating_point:
        raise RuntimeError(f"linalg.matrix_norm: Expected a floating point or complex tensor as input. Got "
                           f"{D.scalar_type_name(A._dtype)}")
    dim = tuple(dim)
    check(len(dim) == 2, f"linalg.matrix_norm: dim must be a 2-tuple. Got {' '.join(str(d) for d in dim)}")
    d0, d1 = wrap_dim(dim[0], A.dim()), wrap_dim(dim[1], A.dim())
    check(d0 != d1, f"linalg.matrix_norm: dims must be different. Got ({dim[0]}, {dim[1]})")
    if isinstance(ord, str):
        if ord == "fro":
            r = vector_norm(A, 2, (d0, d1), keepdim)
        elif ord == "nuc":
            r = _svd_norm(A, d0, d1, keepdim, "sum")
        else:
            raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
    else:
        inf = float("inf")
        if ord not in (1, -1, 2, -2, inf, -inf):
            raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
        if abs(ord) == 2:
            r = _svd_norm(A, d0, d1, keepdim, "amax" if ord > 0 else "amin")
        else:
            if abs(ord) == inf:
                d0, d1 = d1, d0
            if d1 > d0 and not keepdim:
                d1 -= 1
            s = vector_norm(A, 1, d0, keepdim)
            if ord > 0 and s._shape[d1] == 0:
                r = s.sum(d1, keepdim)  # max of nothing: PyTorch gives 0 for these norms
            else:
                r = s.amax(d1, keepdim) if ord > 0 else s.amin(d1, keepdim)
    return _ip.write_out(out, r) if out is not None else r



register("matrix_norm", matrix_norm, "linalg", namespace="linalg", method=False, dtype="linalg",
         opinfo=("linalg.matrix_norm",))

def _svd_norm(A, d0, d1, keepdim, how):
    x = A.movedim((d0, d1), (-2, -1))
    s = linalg_ops.svdvals(x)  # spectral.py sits above this module
    if how == "sum" or (how == "amax" and s._shape[-1] == 0):
        r = s.sum(-1)
    else:
        r = s.amax(-1) if how == "amax" else s.amin(-1)
    if keepdim:
        for d in sorted((d0, d1)):
            r = r.unsqueeze(d)
    return r


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None, out=None):
    if dim is not None:
        if isinstance(dim, int):
            dim = (dim,)
        dim = tuple(dim)
        if len(dim) == 1:
            if isinstance(ord, str):
                raise RuntimeError(f"linalg.vector_norm: Expected a number as ord but got {ord}")
            r = vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype)
        elif len(dim) == 2:
            r = matrix_norm(A, "fro" if ord is None else ord, dim, keepdim, dtype=dtype)
        else:
            raise RuntimeError(f"linalg.norm: If dim is specified, it must be of length 1 or 2. Got {list(dim)}")
    elif ord is None:
        r = vector_norm(A, 2, None, keepdim, dtype=dtype)
    else:
        if A.dim() not in (1, 2):
            raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. "
                               f"Got {A.dim()}D.")
        if A.dim() == 1:
            r = vector_norm(A, ord, None, keepdim, dtype=dtype)
        else:
            r = matrix_norm(A, ord, (-2, -1), keepdim, dtype=dtype)
    return _ip.write_out(out, r) if out is not None else r


register("norm", norm, "linalg", namespace="linalg", method=False, dtype="linalg", opinfo=("linalg.norm",))


def dist(input, other, p=2):
    x = input - other
    check(x._dtype.is_floating_point or x._dtype.is_complex, lambda: "norm(): input dtype should be either floating "
          f"point or complex. Got {D.scalar_type_name(x._dtype)} instead.")
    return rename_grad_fn(vector_norm(x, p), "DistBackward0")


register("dist", dist, "linalg", dtype="linalg")


def renorm(input, p, dim, maxnorm, *, out=None):
    """Each slice input.select(dim, i) whose p-norm exceeds maxnorm scaled to norm maxnorm (PyTorch's 1e-7 guard)."""
    check(not isinstance(p, complex), "renorm: p must be real-valued")
    check(p > 0, "renorm: non-positive-norm not supported")
    check(not isinstance(maxnorm, complex), "renorm: maxnorm must be real-valued")
    check(maxnorm >= 0, lambda: f"renorm: expected maxnorm to be >= 0 but got {float(maxnorm)}")
    check(input.dim() > 1, lambda: f"renorm: input needs at least 2 dimensions, got {input.dim()} dimensions")
    d = wrap_dim(dim, input.dim())
    norm = vector_norm(input, p, [i for i in range(input.dim()) if i != d], True)
    factor = where(norm > maxnorm, maxnorm / (norm + 1e-7), 1.0)
    r = rename_grad_fn(input * factor.to(input._dtype), "RenormBackward0")
    return _ip.write_out(out, r) if out is not None else r


register("renorm", renorm, "linalg", dtype="linalg",
         inplace=lambda self, p, dim, maxnorm: _ip.inplace_of(self, renorm, p, dim, maxnorm))
