"""Reductions of COO tensors: torch.sparse.sum (and Tensor.sum / torch.sum given one), torch.sparse.softmax and
log_softmax, which normalise over the entries present along a dim (absent ones count as -inf, as PyTorch's do).
"""
from .. import _dtype as D
from .._grad_mode import GRAD_ENABLED, no_grad
from ..ops._registry import torch_ops
from ..ops._util import check, record
from ._coo import coalesced_parts, gather_at, linear_index
from ._layout import make_coo
from ._ops import kernel, values_map


def _dims(dim, nd):
    dims = dim if isinstance(dim, (tuple, list)) else (dim,)
    out = []
    for d in dims:
        check(-nd <= d < nd if nd else d in (0, -1), lambda: f"Dimension out of range (expected to be in range of "
              f"[{-max(nd, 1)}, {max(nd, 1) - 1}], but got {d})", IndexError)
        out.append(d + nd if d < 0 else d)
    check(len(set(out)) == len(out), lambda: f"dim {out[0]} appears multiple times in the list of dims")
    return sorted(out)


def _coalesced(t):
    p = t._sparse
    return (p.indices, p.values) if p.coalesced else coalesced_parts(p.indices, p.values, t._shape)


def _full_sum_back(ctx, g):
    indices, nnz_shape, shape = ctx.attrs
    return make_coo(indices, g.expand(nnz_shape).clone(), shape, True)


def _dim_sum_back(ctx, g):
    indices, kept_sparse, kept_shape, summed_dense, values_shape, shape = ctx.attrs
    gv = gather_at(g, indices[kept_sparse], kept_shape) if kept_sparse else g.unsqueeze(0)
    for d in summed_dense:   # positions in the values (1 + dense dim)
        gv = gv.unsqueeze(d)
    return make_coo(indices, gv.expand(values_shape).clone(), shape, False)


def sparse_sum(input, dim=None, dtype=None):
    """torch.sparse.sum: over every dim (a dense 0-d result) or over `dim`: sparse while some sparse dim is kept."""
    check(input._sparse is not None and input.layout.name == "sparse_coo", lambda: "torch.sparse.sum expects a "
          f"sparse COO tensor, got layout {input.layout}")
    with no_grad():
        indices, values = _coalesced(input)
        if dtype is not None:
            values = values.to(dtype)
    sd = indices._shape[0]
    if dim is None:
        with no_grad():
            r = values.sum() if values.numel() else torch_ops.zeros((), dtype=values._dtype)
        if GRAD_ENABLED[0] and input._requires_grad:
            record("SumBackward0", _full_sum_back, (input,), (r,), attrs=(indices, values._shape, input._shape))
        return r
    dims = _dims(dim, input.dim())
    kept_sparse = [d for d in range(sd) if d not in dims]
    summed_dense = [d - sd + 1 for d in dims if d >= sd]
    kept_shape = tuple(input._shape[d] for d in range(input.dim()) if d not in dims)
    with no_grad():
        v = values.sum(summed_dense) if summed_dense else values
        if len(kept_sparse) == sd:   # only dense dims summed: the same entries
            r = make_coo(indices.clone(), v, kept_shape, True)
        elif kept_sparse:
            ri, rv = coalesced_parts(indices[kept_sparse], v, kept_shape)
            r = make_coo(ri, rv, kept_shape, True)
        else:
            r = v.sum(0) if v._shape[0] else torch_ops.zeros(v._shape[1:], dtype=v._dtype)
    if GRAD_ENABLED[0] and input._requires_grad:
        record("SparseSumBackward0", _dim_sum_back, (input,), (r,),
               attrs=(indices, kept_sparse, kept_shape, summed_dense, values._shape, input._shape))
    return r


@kernel("sum")
def sum(input, dim=None, keepdim=False, *, dtype=None, out=None):
    check(not keepdim and out is None, "torch_js: sum of a sparse tensor takes no keepdim=True or out=")
    if dim is not None and dim != () and dim != []:
        return sparse_sum(input, dim, dtype)
    with no_grad():   # Tensor.sum: the gradient is dense (torch.sparse.sum's keeps the pattern)
        v = input._sparse.values
        r = v.sum(dtype=dtype) if v.numel() else torch_ops.zeros((), dtype=dtype or v.sum()._dtype)
    if GRAD_ENABLED[0] and input._requires_grad:
        record("SumBackward0", _dense_sum_back, (input,), (r,), attrs=input._shape)
    return r


def _dense_sum_back(ctx, g):
    return g.expand(ctx.attrs)


# ---- softmax over the entries present ------------------------------------------------------------------------

def _segment_max(flat, group, n_groups):
    """The largest of `flat` within each group id (groups that have entries; others 0)."""
    by_value = torch_ops.argsort(flat, stable=True)
    order = by_value[torch_ops.argsort(group[by_value], stable=True)]
    g_sorted = group[order]
    last = torch_ops.ones_like(g_sorted, dtype=D.bool_)
    if g_sorted._shape[0] > 1:
        last[:-1] = g_sorted[1:] != g_sorted[:-1]
    out = flat.new_zeros((n_groups,))
    out[g_sorted[last]] = flat[order[last]]
    return out


def _softmax_values(v, group, n_groups, log):
    """softmax (or log_softmax) of each group's entries of v (nnz, *dense), per dense element."""
    per = 1
    for s in v._shape[1:]:
        per *= s
    flat = v.reshape(-1)
    gid = (group.unsqueeze(1) * per + torch_ops.arange(per, device=group._storage.device)).reshape(-1)
    n = n_groups * per
    shifted = flat - _segment_max(flat.detach(), gid, n)[gid]
    e = shifted.exp()
    total = e.new_zeros((n,)).index_add(0, gid, e)[gid]
    out = shifted - total.log() if log else e / total
    return out.reshape(v._shape)


def _softmax(input, dim, dtype, log):
    name = "log_softmax" if log else "softmax"
    check(input._sparse is not None and input.layout.name == "sparse_coo", lambda: f"torch.sparse.{name} expects a "
          f"sparse COO tensor")
    if dtype is not None:
        input = input.to(dtype)
    check(input._dtype.is_floating_point, lambda: f"{name}_lastdim_kernel_impl\" not implemented for "
          f"'{D.scalar_type_name(input._dtype)}'", NotImplementedError)
    d = _dims(dim, input.dim())[0]
    c = input.coalesce()
    p = c._sparse
    sd = p.indices._shape[0]
    grad_name = "SparseLogSoftmaxBackward0" if log else "SparseSoftmaxBackward0"
    if d >= sd:   # along a dense dim: each entry's values alone
        return values_map(c, lambda v: v.log_softmax(d - sd + 1) if log else v.softmax(d - sd + 1), grad_name)
    rest = [i for i in range(sd) if i != d]
    with no_grad():
        if rest:
            key = linear_index(p.indices[rest], tuple(input._shape[i] for i in rest))
            uniq, group = torch_ops.unique(key, sorted=True, return_inverse=True)
            n_groups = uniq._shape[0]
        else:
            group = torch_ops.zeros((p.nnz,), dtype=D.int64)
            n_groups = 1
    return values_map(c, lambda v: _softmax_values(v, group, n_groups, log), grad_name)


def softmax(input, dim, *, dtype=None):
    return _softmax(input, dim, dtype, False)


def log_softmax(input, dim, *, dtype=None):
    return _softmax(input, dim, dtype, True)
