"""Matrix-shaped ops written in other ops (every device and autograd get them for free): triangles (tril/triu
and their index lists), diagonals (diag, diag_embed, diagflat, trace, fill_diagonal_), rot90, the transposes
(Tensor.T, mT, H, mH, adjoint) and block_diag."""
from .. import _dtype as D
from .._tensor import Tensor, wrap_dim
from ._registry import NOT_DIFFERENTIABLE, register
from ._util import as_op_result, check, not_implemented_for, rename_grad_fn, warn_at_caller
from . import inplace as _ip
from .creation import arange, zeros
from .shape import cat


def _tri_keep(x, diagonal, lower):
    r, c = x._shape[-2], x._shape[-1]
    dev = x._storage.device
    rel = arange(c, device=dev).unsqueeze(0) - arange(r, device=dev).unsqueeze(1)
    return rel <= diagonal if lower else rel >= diagonal


def tril(input, diagonal=0, *, out=None):
    check(input.dim() >= 2, "tril: input tensor must have at least 2 dimensions")
    r = rename_grad_fn(input.masked_fill(_tri_keep(input, diagonal, True).logical_not(), 0), "TrilBackward0")
    return _ip.maybe_write_out(out, r)


def triu(input, diagonal=0, *, out=None):
    check(input.dim() >= 2, "triu: input tensor must have at least 2 dimensions")
    r = rename_grad_fn(input.masked_fill(_tri_keep(input, diagonal, False).logical_not(), 0), "TriuBackward0")
    return _ip.maybe_write_out(out, r)


def _embed_last(x, offset):
    """x[..., n] -> [..., N, N] (N = n + |offset|) with x on the `offset` diagonal of the last two dims."""
    n = x._shape[-1]
    big = n + abs(offset)
    batch = x._shape[:-1]
    dev = x._storage.device
    start = offset if offset >= 0 else -offset * big
    pos = arange(n, device=dev) * (big + 1) + start
    flat = zeros(batch + (big * big,), dtype=x._dtype, device=dev)
    if n:
        flat = flat.scatter(-1, pos.expand(batch + (n,)).contiguous(), x)
    return flat.reshape(batch + (big, big))


def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    nd = input.dim() + 1
    d1, d2 = wrap_dim(dim1, nd), wrap_dim(dim2, nd)
    check(d1 != d2, lambda: f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    x = input if input.dim() else input.reshape(1)
    e = _embed_last(x, offset)
    perm = [None] * nd
    perm[d1], perm[d2] = nd - 2, nd - 1
    rest = iter(range(nd - 2))
    perm = [p if p is not None else next(rest) for p in perm]
    return e if perm == list(range(nd)) else e.permute(perm)


def diag(input, diagonal=0, *, out=None):
    nd = input.dim()
    check(nd in (1, 2), lambda: f"diag(): Supports 1D or 2D tensors. Got {nd}D")
    if nd == 1:
        r = as_op_result(_embed_last(input, diagonal), "DiagEmbedBackward0", (input,))
    else:
        r = rename_grad_fn(input.diagonal(diagonal).clone(), "DiagonalBackward0_copy")
    return _ip.maybe_write_out(out, r)


def diagflat(input, offset=0):
    return _embed_last(input.reshape(-1), offset)


def trace(input):
    check(input.dim() == 2, lambda: f"trace: expected a matrix, but got tensor with dim {input.dim()}")
    return rename_grad_fn(input.diagonal().sum(), "TraceBackward0")


def tril_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    return _tri_indices(row, col, offset, True, dtype, device)


def triu_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    return _tri_indices(row, col, offset, False, dtype, device)


def _tri_indices(row, col, offset, lower, dtype, device):
    dt = dtype or D.int64
    if dt not in (D.int64, D.int32):
        raise not_implemented_for("tril_indices" if lower else "triu_indices", dt)
    m = zeros((row, col), dtype=D.bool_, device=device)
    keep = _tri_keep(m, offset, lower)
    nz = keep.nonzero()
    return nz.t().to(dt).contiguous() if nz.numel() else zeros((2, 0), dtype=dt, device=device)


def rot90(input, k=1, dims=(0, 1)):
    dims = list(dims)
    check(len(dims) == 2, lambda: f"expected total rotation dims == 2, but got dims = {len(dims)}")
    nd = input.dim()
    check(nd >= 2, lambda: f"expected total dims >= 2, but got total dims = {nd}")
    d0, d1 = wrap_dim(dims[0], nd), wrap_dim(dims[1], nd)
    check(d0 != d1, lambda: f"expected rotation dims to be different, but got dim0 = {d0} and dim1 = {d1}")
    k %= 4
    if k == 1:
        r = input.flip([d1]).transpose(d0, d1)
    elif k == 2:
        r = input.flip([d0, d1])
    elif k == 3:
        r = input.flip([d0]).transpose(d0, d1)
    else:
        r = input.clone()
    return as_op_result(r, "Rot90Backward0")


# ---- T, mT, H, mH, adjoint: H, mH and adjoint conjugate a complex tensor ----------------------------------------
# (through the ops' public forms, which run a sparse tensor's kernels: ops/_api.py)

def _reversed_dims(self):
    nd = self.dim()
    if nd == 0:
        warn_at_caller("Tensor.T is deprecated on 0-D tensors. This function is the identity in these cases.")
    elif nd != 2:
        warn_at_caller("The use of `x.T` on tensors of dimension other than 2 to reverse their shape is deprecated "
                       "and it will throw an error in a future release. Consider `x.mT` to transpose batches of "
                       "matrices or `x.permute(*torch.arange(x.ndim - 1, -1, -1))` to reverse the dimensions of a "
                       "tensor.")
    return Tensor.permute(self, tuple(reversed(range(nd))))


def _matrix_transpose(self):
    if self.dim() == 0:
        warn_at_caller("Tensor.mT is deprecated on 0-D tensors. This function is the identity in these cases.")
        return self
    check(self.dim() >= 2, lambda: f"tensor.mT is only supported on matrices or batches of matrices. Got "
          f"{self.dim()}-D tensor.")
    return Tensor.transpose(self, -2, -1)


def _conj_transpose(self):
    nd = self.dim()
    if nd == 0:
        warn_at_caller("Tensor.H is deprecated on 0-D tensors. Consider using x.conj().")
        return self.conj()
    check(nd == 2, lambda: f"tensor.H is only supported on matrices (2-D tensors). Got {nd}-D tensor."
          + (" For batches of matrices, consider using tensor.mH" if nd > 2 else ""))
    return Tensor.transpose(self, 0, 1).conj()


def _matrix_conj_transpose(self, name="tensor.mH", zero_dim_name="Tensor.mH"):
    if self.dim() == 0:
        warn_at_caller(f"{zero_dim_name} is deprecated on 0-D tensors. Consider using x.conj().")
        return self.conj()
    check(self.dim() >= 2, lambda: f"{name} is only supported on matrices or batches of matrices. Got "
          f"{self.dim()}-D tensor.")
    return Tensor.transpose(self, -2, -1).conj()


def adjoint(self):
    return _matrix_conj_transpose(self, "tensor.adjoint()", "adjoint()")


def block_diag(*tensors):
    ts = []
    for i, t in enumerate(tensors):
        check(t.dim() <= 2, lambda: f"torch.block_diag: Input tensors must have 2 or fewer dimensions. Input {i} "
              f"has {t.dim()} dimensions")
        ts.append(t.reshape(1, 1) if t.dim() == 0 else t.reshape(1, -1) if t.dim() == 1 else t)
    if not ts:
        return zeros((1, 0), dtype=D.get_default_dtype())
    dt = D.result_type_of([t._dtype for t in ts], [], ()) if len({t._dtype for t in ts}) > 1 else ts[0]._dtype
    dev = ts[0]._storage.device
    cols = sum(t._shape[1] for t in ts)
    rows, c0 = [], 0
    for t in ts:
        r, c = t._shape
        parts = []
        if c0:
            parts.append(zeros((r, c0), dtype=dt, device=dev))
        parts.append(t.to(dt))
        if cols - c0 - c:
            parts.append(zeros((r, cols - c0 - c), dtype=dt, device=dev))
        rows.append(cat(parts, 1) if len(parts) > 1 else parts[0])
        c0 += c
    return cat(rows, 0)


def fill_diagonal_(self, fill_value, wrap=False):
    """Fill the main diagonal (all indices equal) in place; with wrap, a tall matrix's diagonal restarts every
    width + 1 rows (numpy's fill_diagonal). The elements are those of PyTorch's strided views, filled through a mask."""
    nd = self.dim()
    check(nd >= 2, "dimensions must larger than 1")
    height, width = self._shape[0], self._shape[1]
    check(nd == 2 or all(s == height for s in self._shape[1:]), "all dimensions of input must be of equal length")
    step = sum(self._stride)
    size = min(height, width)
    mask = _at_offsets(self, self._offset, step, size)
    if wrap and nd == 2 and height > width + 1:
        more = (self.numel() + width) // (width + 1) - size
        mask = mask | _at_offsets(self, self._offset + self._stride[0] * (width + 1), step, more)
    return self.masked_fill_(mask, fill_value)


def _at_offsets(t, start, step, count):
    """Which elements of t lie at storage offsets start + k*step, 0 <= k < count: the elements PyTorch's
    t.as_strided((count,), (step,), start) views (a mask, so that the fill is one in-place op on t itself)."""
    dev = t._storage.device
    offsets = zeros((), dtype=D.int64, device=dev) + t._offset
    for i, (n, st) in enumerate(zip(t._shape, t._stride)):
        offsets = offsets + (arange(n, device=dev) * st).reshape((n,) + (1,) * (t.dim() - i - 1))
    rel = offsets - start
    if step == 0:
        return (rel == 0) & (count > 0)
    return (rel >= 0) & (rel % step == 0) & (rel < step * count)


def _register_all():
    S = "shape"
    register("tril", tril, S, dtype="same",
             inplace=lambda self, diagonal=0: _ip.inplace_from(self, tril(self, diagonal)))
    register("triu", triu, S, dtype="same",
             inplace=lambda self, diagonal=0: _ip.inplace_from(self, triu(self, diagonal)))
    register("diag", diag, S, dtype="same")
    register("diag_embed", diag_embed, S, dtype="same")
    register("diagflat", diagflat, S, dtype="same")
    register("trace", trace, S, dtype="reduction")
    register("tril_indices", tril_indices, S, dtype="index", derivative=NOT_DIFFERENTIABLE, method=False)
    register("triu_indices", triu_indices, S, dtype="index", derivative=NOT_DIFFERENTIABLE, method=False)
    register("rot90", rot90, S, dtype="same")
    register("adjoint", adjoint, "view", dtype="any", opinfo=())
    register("block_diag", block_diag, S, dtype="promote", method=False)
    register("fill_diagonal_", fill_diagonal_, S, dtype="same", function=False, opinfo=())
    Tensor.T = property(_reversed_dims)
    Tensor.mT = property(_matrix_transpose)
    Tensor.H = property(_conj_transpose)
    Tensor.mH = property(_matrix_conj_transpose)


_register_all()
