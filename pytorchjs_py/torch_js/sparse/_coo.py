"""COO tensors: construction (torch.sparse_coo_tensor, Tensor.to_sparse), coalesce, to_dense, the parts' accessors,
and the gathers that move a gradient between a sparse tensor and its values.

Everything is computed with strided ops on the index and value tensors: a linear index over the sparse dims (row
major, as PyTorch orders a coalesced tensor) sorts and deduplicates, index_put/index_add scatter, advanced indexing
gathers. Each op that can carry a gradient records its node with PyTorch's name and backward.
"""
from .. import _dtype as D
from .._grad_mode import GRAD_ENABLED, no_grad
from .._tensor import Tensor, sparse_coo
from ..ops._registry import NOT_DIFFERENTIABLE, backward, register, torch_ops
from ..ops._util import check, record
from ._layout import CooParts, coo_parts, make_coo, make_csr


def layout_word(t):
    """A layout as PyTorch's layout errors name it."""
    return {"strided": "Strided", "sparse_coo": "Sparse", "sparse_csr": "SparseCsr"}.get(t.layout.name, t.layout.name)


def _strided(name, t):
    """PyTorch's error for a COO-only accessor given a tensor of another layout."""
    return RuntimeError(f"{name} expected sparse coordinate tensor layout but got {layout_word(t)}")


def parts_of(t, name):
    p = coo_parts(t)
    if p is None:
        raise _strided(name, t)
    return p


def sparse_dims(t):
    return t._sparse.indices._shape[0]


def linear_index(indices, sizes):
    """Each column of `indices` (sparse_dim, nnz) as one int64 row-major offset into `sizes`."""
    n = indices._shape[0]
    if n == 0:
        return torch_ops.zeros((indices._shape[1],), dtype=D.int64, device=indices._storage.device)
    lin = indices[n - 1]
    step = 1
    for d in range(n - 2, -1, -1):
        step *= sizes[d + 1]
        lin = lin + indices[d] * step
    return lin


def unravel(lin, sizes):
    """The inverse of linear_index: (len(sizes), n) indices."""
    rows = []
    rest = lin
    for s in reversed(sizes):
        rows.append(torch_ops.remainder(rest, s) if s > 0 else rest)
        rest = torch_ops.div(rest, s, rounding_mode="floor") if s > 0 else rest
    rows.reverse()
    if not rows:
        return torch_ops.zeros((0, lin._shape[0]), dtype=D.int64, device=lin._storage.device)
    return torch_ops.stack(rows)


# sparse_coo_tensor's default for check_invariants=None (torch.sparse.check_sparse_tensor_invariants sets it)
CHECK_INVARIANTS = [False]


# ---- construction ---------------------------------------------------------------------------------------------

def _values_backward(ctx, g):
    indices, shape = ctx.attrs
    return gather_at(g, indices, shape)


def sparse_coo_tensor(indices=None, values=None, size=None, *, dtype=None, device=None, pin_memory=False,
                      requires_grad=False, check_invariants=None, is_coalesced=None):
    if values is None:   # sparse_coo_tensor(size): no entries
        size = indices if size is None else size
        check(size is not None and indices is None or values is None and not isinstance(indices, Tensor),
              "sparse_coo_tensor() takes (indices, values[, size]) or (size)")
        size = tuple(int(s) for s in size)
        indices = torch_ops.zeros((len(size), 0), dtype=D.int64, device=device)
        values = torch_ops.zeros((0,), dtype=dtype or D.get_default_dtype(), device=device)
    if not isinstance(indices, Tensor):
        indices = torch_ops.tensor(indices, device=device)
    if not isinstance(values, Tensor):
        values = torch_ops.tensor(values, dtype=dtype, device=device)
    if indices._dtype is not D.int64:
        indices = indices.to(D.int64)
    if dtype is not None and values._dtype is not dtype:
        values = values.to(dtype)
    if device is not None:
        indices, values = indices.to(device), values.to(device)
    if size is None:
        check(indices.dim() == 2, lambda: f"indices must be sparse_dim x nnz, but got: {list(indices._shape)}")
    sparse_dim = indices._shape[0] if indices.dim() else 0
    nnz = indices._shape[1] if indices.dim() > 1 else 0
    values_nnz = values._shape[0] if values.dim() else 1
    dense_shape = values._shape[1:]
    if size is not None:
        size = tuple(int(s) for s in size)
        check(len(size) == sparse_dim + len(dense_shape), lambda: "'len(size) == sparse_dim + dense_dim' is not "
              f"satisfied: len(size) = {len(size)}, sparse_dim = {sparse_dim}, dense_dim = {len(dense_shape)}")
    check(indices.dim() == 2, lambda: f"indices must be sparse_dim x nnz, but got: {list(indices._shape)}")
    check(nnz == values_nnz, lambda: f"indices and values must have same nnz, but got nnz from indices: {nnz}, nnz "
          f"from values: {values_nnz}")
    if size is None:
        sparse_size = (indices.amax(1) + 1).tolist() if nnz else [0] * sparse_dim
        size = tuple(sparse_size) + tuple(dense_shape)
    else:
        for s in size:
            check(s >= 0, "numel: integer multiplication overflow")
        check(tuple(size[sparse_dim:]) == tuple(dense_shape), lambda: f"values has incorrect size, expected "
              f"{list((nnz,) + tuple(size[sparse_dim:]))}, got {list(values._shape)}")
        if check_invariants or (check_invariants is None and CHECK_INVARIANTS[0]):
            check_indices(indices, size)
    if requires_grad:
        check(values._dtype.is_floating_point or values._dtype.is_complex,
              "Only Tensors of floating point and complex dtype can require gradients")
    out = make_coo(indices.detach(), values.detach(), size, bool(is_coalesced))
    if GRAD_ENABLED[0] and values._requires_grad:
        record("SparseCooTensorWithDimsAndTensorsBackward0", _values_backward, (values,), (out,),
               attrs=(out._sparse.indices, size))
    if requires_grad:
        out.requires_grad_()
    return out


def check_indices(indices, size):
    """check_invariants=True: every index is within its dim (PyTorch's messages)."""
    if indices._shape[1] == 0:
        return
    lo, hi = indices.amin(1).tolist(), indices.amax(1).tolist()
    for d in range(indices._shape[0]):
        check(lo[d] >= 0, lambda: f"found negative index {lo[d]} for dim {d}")
        check(hi[d] < size[d], lambda: f"size is inconsistent with indices: for dim {d}, size is {size[d]} but found "
              f"index {hi[d]}")


def _to_sparse_back(ctx, g):
    return g.to_dense() if g._sparse is not None else g


def to_sparse(self, sparse_dim=None, *, layout=None, blocksize=None, dense_dim=None):
    if layout is not None and layout is not sparse_coo:
        return torch_ops.to_sparse_csr(self) if layout.name == "sparse_csr" else _unsupported_layout(layout)
    if self._sparse is not None:
        check(sparse_dim is None or sparse_dim == self.sparse_dim(), "to_sparse: conversion from Sparse to Sparse "
              "with sparse_dim argument !=self.sparse_dim() is not supported")
        if self.layout is sparse_coo:
            return self
        check(not (GRAD_ENABLED[0] and self._requires_grad), "torch_js: to_sparse() of a CSR tensor that requires "
              "grad is not supported")
        p = csr_as_coo(self._sparse)
        return make_coo(p.indices, p.values, self._shape, True)
    nd = self.dim()
    if sparse_dim is None:
        sparse_dim = nd
    check(0 <= sparse_dim <= nd, lambda: f"dense_to_sparse: sparse_dim argument must be in [0,{nd}] range, but "
          f"{sparse_dim} is given")
    x = self.detach()
    lead = x.reshape(tuple(x._shape[:sparse_dim]) + (-1,)) if sparse_dim < nd else x.unsqueeze(-1)
    nonzero = (lead != 0).any(-1) if lead._shape[-1] else torch_ops.zeros(lead._shape[:-1], dtype=D.bool_)
    if sparse_dim == 0:
        indices = torch_ops.zeros((0, 1), dtype=D.int64, device=x._storage.device)
        values = x.unsqueeze(0)
    else:
        indices = torch_ops.nonzero(nonzero).t().contiguous()
        values = x[tuple(indices)] if indices._shape[1] else x.new_zeros((0,) + tuple(x._shape[sparse_dim:]))
    out = make_coo(indices, values.contiguous(), x._shape, True)
    if GRAD_ENABLED[0] and self._requires_grad:
        record("ToSparseBackward0", _to_sparse_back, (self,), (out,))
    return out


def _unsupported_layout(layout):
    raise RuntimeError(f"to_sparse: conversion to {layout!r} is not supported by torch_js")


# ---- coalesce -------------------------------------------------------------------------------------------------

def coalesced_parts(indices, values, size):
    """(indices, values) sorted by row-major position with duplicates summed (PyTorch's coalesce)."""
    sparse_size = size[:indices._shape[0]]
    lin = linear_index(indices, sparse_size)
    uniq, inverse = torch_ops.unique(lin, sorted=True, return_inverse=True)
    summed = torch_ops.zeros((uniq._shape[0],) + tuple(values._shape[1:]), dtype=values._dtype,
                             device=values._storage.device).index_add_(0, inverse, values)
    return unravel(uniq, sparse_size), summed


def _coalesce_back(ctx, g):
    return g


def coalesce(self):
    p = parts_of(self, "coalesce")
    if p.coalesced:
        return self
    with no_grad():
        indices, values = coalesced_parts(p.indices, p.values, self._shape)
    out = make_coo(indices, values, self._shape, True)
    if GRAD_ENABLED[0] and self._requires_grad:
        record("CoalesceBackward0", _coalesce_back, (self,), (out,))
    return out


def is_coalesced(self):
    return parts_of(self, "is_coalesced").coalesced


def _coalesced_(self, coalesced):
    parts_of(self, "_coalesced_").coalesced = bool(coalesced)
    return self


# ---- dense <-> sparse gathers ------------------------------------------------------------------------------------

def gather_at(g, indices, size):
    """The values of g (dense, or COO of shape `size`) at the positions `indices` name: (nnz, *dense sizes); zero
    where a COO g has no entry. How a gradient reaches a sparse tensor's values."""
    if g._sparse is None:
        return g[tuple(indices)] if indices._shape[0] else g.unsqueeze(0).expand((indices._shape[1],) + g._shape)
    gp = g._sparse
    if gp.indices is indices and gp.coalesced:
        return gp.values
    if not gp.coalesced:
        gi, gv = coalesced_parts(gp.indices, gp.values, size)
    else:
        gi, gv = gp.indices, gp.values
    sparse_size = size[:indices._shape[0]]
    have, want = linear_index(gi, sparse_size), linear_index(indices, sparse_size)
    n = have._shape[0]
    dense = tuple(gv._shape[1:])
    if n == 0:
        return gv.new_zeros((want._shape[0],) + dense)
    pos = torch_ops.searchsorted(have, want).clamp(max=n - 1)
    found = have[pos] == want
    picked = gv[pos]
    mask = found.reshape((-1,) + (1,) * len(dense))
    return torch_ops.where(mask, picked, picked.new_zeros(()))


def mask_like(g, like):
    """g (dense or COO) restricted to the coalesced pattern of the COO tensor `like` (PyTorch's sparse_mask: sorted
    unique entries, though not flagged coalesced)."""
    p = like._sparse
    indices = p.indices if p.coalesced else coalesced_parts(p.indices, p.values, like._shape)[0]
    return make_coo(indices, gather_at(g, indices, like._shape), like._shape, False)


def _sparse_mask_back(ctx, g):
    return mask_like(g, ctx.attrs), None


def sparse_mask(self, mask):
    check(mask._sparse is not None and mask.layout is sparse_coo, "sparse_mask expects mask to be sparse")
    check(self._shape == mask._shape, lambda: "sparse_mask(): operands have incompatible sizes; self has size "
          f"{list(self._shape)} but mask has size {list(mask._shape)}")
    with no_grad():
        out = mask_like(self, mask)
    if GRAD_ENABLED[0] and self._requires_grad:
        record("SparseMaskBackward0", _sparse_mask_back, (self, None), (out,), attrs=mask)
    return out


# ---- to_dense and the parts ----------------------------------------------------------------------------------

def dense_of(p, shape):
    """The strided tensor a COO tensor's parts stand for (duplicates summed)."""
    out = torch_ops.zeros(shape, dtype=p.values._dtype, device=p.values._storage.device)
    if p.indices._shape[1] == 0:
        return out
    if p.indices._shape[0] == 0:
        return out + p.values.sum(0)
    return out.index_put_(tuple(p.indices), p.values, accumulate=True)


def csr_as_coo(p):
    """A CSR tensor's parts as COO parts (row indices expanded from crow_indices; CSR is sorted and unique)."""
    counts = p.crow_indices[1:] - p.crow_indices[:-1]
    rows = torch_ops.repeat_interleave(torch_ops.arange(counts._shape[0], device=counts._storage.device), counts)
    return CooParts(torch_ops.stack([rows, p.col_indices.to(D.int64)]), p.values, True)


def _to_dense_back(ctx, g):
    like = ctx.attrs
    if like.layout is not sparse_coo:   # CSR: the gradient at its entries, a CSR tensor of its pattern
        p = like._sparse
        return make_csr(p.crow_indices, p.col_indices, gather_at(g, csr_as_coo(p).indices, like._shape), like._shape)
    return mask_like(g, like)


def to_dense(self, dtype=None, *, masked_grad=None):
    if self._sparse is None:
        return self if dtype is None else self.to(dtype)
    with no_grad():
        out = dense_of(self._sparse if self.layout is sparse_coo else csr_as_coo(self._sparse), self._shape)
    if GRAD_ENABLED[0] and self._requires_grad:
        record("ToDenseBackward0", _to_dense_back, (self,), (out,), attrs=self.detach())
    return out if dtype is None else out.to(dtype)


def _indices(self):
    return parts_of(self, "_indices").indices


def _values(self):
    return parts_of(self, "_values").values


def indices(self):
    p = parts_of(self, "indices")
    check(p.coalesced, "Cannot get indices on an uncoalesced tensor, please call .coalesce() first")
    return p.indices


def _values_back(ctx, g):
    indices, shape = ctx.attrs
    return make_coo(indices, g, shape, True)


def values(self):
    if self._sparse is not None and self.layout is not sparse_coo:
        return self._sparse.values
    p = parts_of(self, "values")
    check(p.coalesced, "Cannot get values on an uncoalesced tensor, please call .coalesce() first")
    v = p.values.detach()
    if GRAD_ENABLED[0] and self._requires_grad:
        v = p.values.view_as(p.values)
        record("ValuesBackward0", _values_back, (self,), (v,), attrs=(p.indices, self._shape))
    return v


def sparse_dim(self):
    if self._sparse is None:
        return 0
    return sparse_dims(self) if self.layout is sparse_coo else 2


def dense_dim(self):
    if self._sparse is None:
        return self.dim()
    return self.dim() - sparse_dim(self)


def _nnz(self):
    if self._sparse is None:
        raise NotImplementedError("Could not run 'aten::_nnz' with arguments from the 'CPU' backend. This could be "
                                  "because the operator doesn't exist for this backend")
    return self._sparse.nnz


def _register():
    register("sparse_coo_tensor", sparse_coo_tensor, "sparse", dtype="factory", method=False, opinfo=(),
             derivative=backward(_values_backward))
    register("to_sparse", to_sparse, "sparse", dtype="same", function=False, opinfo=(),
             derivative=backward(_to_sparse_back))
    register("to_sparse_coo", lambda self: to_sparse(self), "sparse", dtype="same", function=False, opinfo=(),
             derivative=backward(_to_sparse_back))
    register("to_dense", to_dense, "sparse", dtype="same", function=False, opinfo=(),
             derivative=backward(_to_dense_back))
    register("coalesce", coalesce, "sparse", dtype="same", function=False, opinfo=(),
             derivative=backward(_coalesce_back))
    register("sparse_mask", sparse_mask, "sparse", dtype="same", function=False, opinfo=(),
             derivative=backward(_sparse_mask_back))
    register("values", values, "sparse", dtype="same", function=False, opinfo=(), derivative=backward(_values_back))
    for name, fn, rule in (("is_coalesced", is_coalesced, "python"), ("_coalesced_", _coalesced_, "same"),
                           ("indices", indices, "index"), ("_indices", _indices, "index"),
                           ("_values", _values, "same"), ("sparse_dim", sparse_dim, "python"),
                           ("dense_dim", dense_dim, "python"), ("_nnz", _nnz, "python")):
        register(name, fn, "sparse", dtype=rule, function=False, opinfo=(), derivative=NOT_DIFFERENTIABLE)


_register()
