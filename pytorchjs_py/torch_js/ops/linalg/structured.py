"""Structured matrices and their parts: linalg.vander and torch.vander (Vandermonde matrices, a cumulative product)
and linalg.diagonal (torch.diagonal over the last two dims). All are written in other ops."""
from ... import _dtype as D
from .._registry import register
from .._util import check
from ..creation import ones, zeros
from ..shape import cat


def _powers(x, n):
    """(..., n): x^0, x^1, ..., x^(n-1) along a new last dim (a cumulative product, so it differentiates)."""
    if n == 0:
        return zeros(x._shape + (0,), dtype=x._dtype, device=x._storage.device)
    first = ones(x._shape + (1,), dtype=x._dtype, device=x._storage.device)
    if n == 1:
        return first + x.unsqueeze(-1) * 0
    rest = x.unsqueeze(-1).expand(x._shape + (n - 1,)).cumprod(-1)
    return cat([first, rest], -1)


def vander(x, *, N=None):
    if x.dim() == 0:
        x = x.unsqueeze(0)
    n = x._shape[-1] if N is None else N
    check(n >= 0, "N must be non-negative.")
    return _powers(x if x._dtype is not D.bool_ else x.to(D.int64), n)


register("vander", vander, "linalg", namespace="linalg", method=False, dtype="same", opinfo=("linalg.vander",))


def torch_vander(x, N=None, increasing=False):
    """torch.vander: decreasing powers by default, of a 1-D x; integers widen to int64 (as its cumprod does)."""
    check(x.dim() == 1, "x must be a one-dimensional tensor.")
    n = x._shape[0] if N is None else N
    check(n >= 0, "N must be non-negative.")
    xp = x.to(D.promote_types(x._dtype, D.int64))
    if n <= 1:   # a column of ones (or none), not computed from x: no gradient, as PyTorch's
        r = (zeros if n == 0 else ones)((x._shape[0], n), dtype=xp._dtype, device=x._storage.device)
    else:
        r = _powers(xp, n)
    return r if increasing else r.flip(1)


# (op_db has an OpInfo for linalg.vander only)
register("vander", torch_vander, "linalg", method=False, dtype="promote", opinfo=())


def diagonal(A, *, offset=0, dim1=-2, dim2=-1):
    return A.diagonal(offset, dim1, dim2)


register("diagonal", diagonal, "linalg", namespace="linalg", method=False, dtype="any",
         opinfo=("linalg.diagonal",))
