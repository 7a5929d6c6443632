"""Structured matrices and their parts: linalg.vander (the Vandermonde matrix, a cumulative product) and
linalg.diagonal (torch.diagonal over the last two dims). Both are written in other ops."""
from ... import _dtype as D
from .._registry import register
from .._util import check
from ..creation import ones, zeros
from ..shape import cat


def vander(x, *, N=None):
    if x.dim() == 0:
        x = x.unsqueeze(0)
    n = x._shape[-1] if N is None else N
    check(n >= 0, "N must be non-negative.")
    xp = x if x._dtype is not D.bool_ else x.to(D.int64)
    if n == 0:
        return zeros(x._shape + (0,), dtype=xp._dtype, device=x._storage.device)
    first = ones(x._shape + (1,), dtype=xp._dtype, device=x._storage.device)
    if n == 1:
        return first + xp.unsqueeze(-1) * 0
    rest = xp.unsqueeze(-1).expand(x._shape + (n - 1,)).cumprod(-1)
    return cat([first, rest], -1)


register("vander", vander, "linalg", namespace="linalg", method=False, dtype="same", opinfo=("linalg.vander",))


def diagonal(A, *, offset=0, dim1=-2, dim2=-1):
    return A.diagonal(offset, dim1, dim2)


register("diagonal", diagonal, "linalg", namespace="linalg", method=False, dtype="any",
         opinfo=("linalg.diagonal",))
