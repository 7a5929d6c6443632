"""Products with a COO operand: torch.mm / matmul / mv / addmm / spmm and torch.sparse.mm / addmm.

sparse @ dense scatters each entry's row of the product (values * dense[col]) into its output row with index_add;
sparse @ sparse joins entries on the inner index and coalesces. The two families differ in the gradient they give a
sparse operand, as PyTorch's do: torch.mm's is the dense grad @ mat2^T (MmBackward0), torch.sparse.mm's only its
entries of it, a coalesced sparse tensor (SparseAddmmBackward0).
"""
from .. import _dtype as D
from .._grad_mode import GRAD_ENABLED, no_grad
from .._tensor import Tensor, sparse_csr
from ..ops._registry import backward, register, torch_ops
from ..ops._util import check, record, rename_grad_fn
from ._coo import coalesced_parts, csr_as_coo, mask_like
from ._layout import make_coo
from ._ops import kernel


def _is_sparse(t):
    return isinstance(t, Tensor) and t._sparse is not None


def _check_operands(a, b, name="mm"):
    check(a.dim() == 2, lambda: f"self must be a matrix")
    check(b.dim() == 2, lambda: f"mat2 must be a matrix")
    check(a._shape[1] == b._shape[0], lambda: f"mat1 and mat2 shapes cannot be multiplied ({a._shape[0]}x"
          f"{a._shape[1]} and {b._shape[0]}x{b._shape[1]})")
    check(a._dtype is b._dtype, lambda: f"{name}: expected mat1 and mat2 to have the same dtype, but got: "
          f"{D.scalar_type_name(a._dtype)} != {D.scalar_type_name(b._dtype)}")
    for t in (a, b):
        if _is_sparse(t):
            check(t.layout.name == "sparse_coo" and t._sparse.indices._shape[0] == 2,
                  f"{name}: a sparse operand must be a 2-D COO tensor with no dense dimensions")


def sparse_times_dense(a, b):
    """a (2-D COO) @ b (strided), with no autograd."""
    p = a._sparse
    out = torch_ops.zeros((a._shape[0], b._shape[1]), dtype=b._dtype, device=b._storage.device)
    if p.nnz:
        rows, cols = p.indices[0], p.indices[1]
        out.index_add_(0, rows, p.values.unsqueeze(1) * b[cols])
    return out


def sparse_times_sparse(a, b):
    """a @ b, both 2-D COO: entries joined on the inner index, products summed per output position (coalesced)."""
    pa = a._sparse
    pb = b._sparse
    bi, bv = (pb.indices, pb.values) if pb.coalesced else coalesced_parts(pb.indices, pb.values, b._shape)
    shape = (a._shape[0], b._shape[1])
    if pa.nnz == 0 or bv._shape[0] == 0:
        return make_coo(bi.new_zeros((2, 0)), bv.new_zeros((0,)), shape, True)
    # b's entries grouped by row: row r's entries are bi[:, start[r] : start[r] + count[r]]
    count = torch_ops.bincount(bi[0], minlength=b._shape[0])
    start = torch_ops.cumsum(count, 0) - count
    a_rows, a_cols = pa.indices[0], pa.indices[1]
    per_a = count[a_cols]
    a_of = torch_ops.repeat_interleave(torch_ops.arange(pa.nnz), per_a)
    first = torch_ops.cumsum(per_a, 0) - per_a
    b_of = start[a_cols][a_of] + torch_ops.arange(a_of._shape[0]) - first[a_of]
    indices = torch_ops.stack([a_rows[a_of], bi[1][b_of]])
    values = pa.values[a_of] * bv[b_of]
    indices, values = coalesced_parts(indices, values, shape)
    return make_coo(indices, values, shape, True)


def _product(a, b):
    if _is_sparse(a):
        return sparse_times_sparse(a, b) if _is_sparse(b) else sparse_times_dense(a, b)
    return sparse_times_dense(b.t(), a.t()).t()   # dense @ sparse = (sparse^T @ dense^T)^T


def _mm_back(ctx, g):
    a, b = ctx.saved_tensors
    need_a, need_b = (e is not None for e in ctx.edges)
    return (torch_ops_mm(g, b.t()) if need_a else None, torch_ops_mm(a.t(), g) if need_b else None)


def torch_ops_mm(a, b):
    """mm of any mix of layouts (the backward's products)."""
    return Tensor.mm(a, b)


@kernel("mm", "spmm")
def mm(input, mat2, *, out=None):
    check(out is None, "torch_js: mm(..., out=) with a sparse operand is not supported")
    _check_operands(input, mat2)
    with no_grad():
        r = _product(input, mat2)
    if GRAD_ENABLED[0] and (input._requires_grad or mat2._requires_grad):
        record("MmBackward0", _mm_back, (input, mat2), (r,), save_inputs=(input.detach(), mat2.detach()))
    return r


@kernel("matmul")
def matmul(input, other, *, out=None):
    if input.dim() == 2 and other.dim() == 1:
        return mv(input, other)
    check(input.dim() == 2 and other.dim() == 2, lambda: "matmul with a sparse operand takes 2-D operands (or a 2-D "
          f"sparse matrix and a vector); got {input.dim()}-D and {other.dim()}-D")
    return mm(input, other, out=out)


@kernel("mv")
def mv(input, vec, *, out=None):
    check(vec.dim() == 1, lambda: f"vector + matrix @ vector expected, got 1, {input.dim()}, {vec.dim()}")
    return rename_grad_fn(mm(input, vec.unsqueeze(1), out=out).squeeze(1), "MvBackward0")


def _addmm_back(ctx, g):
    a, b = ctx.saved_tensors
    beta, alpha = ctx.attrs
    need_in, need_a, need_b = (e is not None for e in ctx.edges)
    ga = torch_ops_mm(g, b.t()) if need_a else None
    gb = torch_ops_mm(a.t(), g) if need_b else None
    return (g * beta if need_in else None, ga * alpha if ga is not None else None,
            gb * alpha if gb is not None else None)


@kernel("addmm")
def addmm(input, mat1, mat2, *, beta=1, alpha=1, out=None):
    check(out is None, "torch_js: addmm(..., out=) with a sparse operand is not supported")
    check(not _is_sparse(input), "addmm: a sparse input is not supported by torch_js (use torch.sparse.addmm)")
    _check_operands(mat1, mat2, "addmm")
    with no_grad():
        r = _product(mat1, mat2)
        r = (input * beta if beta != 1 else input).add(r * alpha if alpha != 1 else r)
    if GRAD_ENABLED[0] and (input._requires_grad or mat1._requires_grad or mat2._requires_grad):
        record("AddmmBackward0", _addmm_back, (input, mat1, mat2), (r,), attrs=(beta, alpha),
               save_inputs=(mat1.detach(), mat2.detach()))
    return r


# ---- torch.sparse.mm / addmm: the gradient of the sparse operand keeps its pattern -------------------------------

def _masked_product_grad(g, mat1, mat2):
    """(g @ mat2^T) at mat1's coalesced entries, without forming g @ mat2^T."""
    p = mat1._sparse
    if not p.coalesced:
        mat1 = make_coo(*coalesced_parts(p.indices, p.values, mat1._shape), mat1._shape, True)
    if _is_sparse(g) or _is_sparse(mat2):
        return mask_like(torch_ops_mm(g, mat2.t()), mat1)
    rows, cols = mat1._sparse.indices[0], mat1._sparse.indices[1]
    return make_coo(mat1._sparse.indices, (g[rows] * mat2[cols]).sum(1), mat1._shape, False)


def _sparse_addmm_back(ctx, g):
    a, b = ctx.saved_tensors
    beta, alpha = ctx.attrs
    need_in, need_a, need_b = (e is not None for e in ctx.edges)
    ga = gb = None
    if need_a:
        ga = _masked_product_grad(g, a, b) if _is_sparse(a) else torch_ops_mm(g, b.t())
    if need_b:
        gb = torch_ops_mm(a.t(), g)
        if _is_sparse(b):
            gb = mask_like(gb, b)
    return (g * beta if need_in else None, ga * alpha if ga is not None and alpha != 1 else ga,
            gb * alpha if gb is not None and alpha != 1 else gb)


def sparse_addmm(input, mat1, mat2, *, beta=1, alpha=1):
    """torch.sparse.addmm: beta * input + alpha * (mat1 @ mat2) for a sparse mat1 (the gradient mat1 gets keeps its
    pattern)."""
    _check_operands(mat1, mat2, "addmm")
    with no_grad():
        r = _product(mat1, mat2)
        if alpha != 1:
            r = r * alpha
        if input is not None:
            scaled = input * beta if beta != 1 else input
            r = r + scaled if _is_sparse(scaled) and not _is_sparse(r) else scaled + r   # (dense + sparse only)
    inputs = (input, mat1, mat2)
    if GRAD_ENABLED[0] and any(t is not None and t._requires_grad for t in inputs):
        record("SparseAddmmBackward0", _sparse_addmm_back, inputs, (r,), attrs=(beta, alpha),
               save_inputs=(mat1.detach(), mat2.detach()))
    return r


def sparse_mm(mat1, mat2, reduce=None):
    """torch.sparse.mm: mat1 @ mat2 for a sparse mat1 (COO); dense or sparse mat2."""
    check(reduce is None, "torch_js: torch.sparse.mm(..., reduce=) is not supported")
    check(_is_sparse(mat1) or _is_sparse(mat2), "sparse.mm: at least one operand must be sparse")
    if _is_sparse(mat1) and mat1.layout is sparse_csr:   # CSR is COO sorted by row
        check(not (GRAD_ENABLED[0] and mat1._requires_grad), "torch_js: sparse.mm of a CSR tensor that requires "
              "grad is not supported")
        mat1 = make_coo(*_coo_parts_of_csr(mat1), mat1._shape, True)
    return sparse_addmm(None, mat1, mat2)


def _coo_parts_of_csr(t):
    p = csr_as_coo(t._sparse)
    return p.indices, p.values


def _spmm(input, mat2):
    return Tensor.mm(input, mat2)


register("spmm", _spmm, "sparse", dtype="same", method=False, opinfo=(), derivative=backward(_mm_back))
