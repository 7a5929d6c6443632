"""CSR tensors (torch.sparse_csr), minimal: 2-D, no dense dims. Construction (torch.sparse_csr_tensor,
Tensor.to_sparse_csr), the parts (crow_indices, col_indices, values), to_dense / to_sparse, and the ops that matter
for using one as a matrix: products (through COO parts: CSR is COO sorted by row), clone, to, scaling, sum."""
from .. import _dtype as D
from .._grad_mode import GRAD_ENABLED, no_grad
from .._tensor import Tensor, sparse_csr
from ..ops._api import LAYOUT_KERNELS
from ..ops._registry import NOT_DIFFERENTIABLE, register, torch_ops
from ..ops._util import check, identity_backward, record
from ..ops.convert import _parse_to
from ._coo import csr_as_coo, layout_word
from ._layout import make_coo, make_csr


def _csr(t, name):
    check(t._sparse is not None and t.layout is sparse_csr, lambda: f"{name} expected sparse row compressed tensor "
          f"layout but got {layout_word(t)}")
    return t._sparse


def crow_indices(self):
    return _csr(self, "crow_indices").crow_indices


def col_indices(self):
    return _csr(self, "col_indices").col_indices


def _compress(rows, nrows):
    counts = torch_ops.bincount(rows, minlength=nrows)
    return torch_ops.cat([counts.new_zeros((1,)), torch_ops.cumsum(counts, 0)])


def _to_csr_back(ctx, g):
    return g.to_dense() if g._sparse is not None else g


def to_sparse_csr(self, dense_dim=None):
    if self._sparse is not None and self.layout is sparse_csr:
        return self
    check(dense_dim is None, "torch_js: to_sparse_csr(dense_dim=) is not supported")
    check(self.dim() == 2, lambda: f"to_sparse_csr: torch_js supports 2-D tensors only, got {self.dim()}-D")
    with no_grad():
        coo = self.coalesce() if self._sparse is not None else self.to_sparse()
        p = coo._sparse
        r = make_csr(_compress(p.indices[0], self._shape[0]), p.indices[1].clone(), p.values.clone(), self._shape)
    if GRAD_ENABLED[0] and self._requires_grad:
        record("ToSparseCsrBackward0", _to_csr_back, (self,), (r,))
    return r


def sparse_csr_tensor(crow_indices, col_indices, values, size=None, *, dtype=None, device=None, pin_memory=False,
                      requires_grad=False, check_invariants=None):
    as_tensor = torch_ops.tensor
    crow = crow_indices if isinstance(crow_indices, Tensor) else as_tensor(crow_indices, dtype=D.int64)
    col = col_indices if isinstance(col_indices, Tensor) else as_tensor(col_indices, dtype=D.int64)
    vals = values if isinstance(values, Tensor) else as_tensor(values, dtype=dtype)
    if dtype is not None:
        vals = vals.to(dtype)
    if device is not None:
        crow, col, vals = crow.to(device), col.to(device), vals.to(device)
    check(crow.dim() == 1 and col.dim() == 1 and vals.dim() == 1, "torch_js: sparse_csr_tensor takes 1-D "
          "crow_indices, col_indices and values (a 2-D matrix without dense dims)")
    check(crow._dtype is col._dtype and crow._dtype in (D.int32, D.int64), "both crow_indices and col_indices should "
          "have the same type (int32 or int64)")
    check(col._shape[0] == vals._shape[0], lambda: f"col_indices and values must have the same number of elements, "
          f"but got col_indices.numel() = {col._shape[0]} and values.numel() = {vals._shape[0]}")
    if size is None:
        ncols = int(col.max()) + 1 if col._shape[0] else 0
        size = (crow._shape[0] - 1, ncols)
    size = tuple(int(s) for s in size)
    check(len(size) == 2, "torch_js: sparse_csr_tensor supports 2-D sizes only")
    check(crow._shape[0] == size[0] + 1, lambda: f"crow_indices.size(-1) must be equal to size[-2] + 1 (that is "
          f"{size[0] + 1}), but got: {crow._shape[0]}")
    r = make_csr(crow.detach(), col.detach(), vals.detach(), size)
    if requires_grad:
        r.requires_grad_()
    return r


# ---- kernels of the strided ops for a CSR operand ------------------------------------------------------------

def _as_coo(t):
    """t as a COO tensor if it is CSR (its gradient flows back unchanged)."""
    if not _is_csr(t):
        return t
    r = make_coo(*_parts(csr_as_coo(t._sparse)), t._shape, True)
    if GRAD_ENABLED[0] and t._requires_grad:
        record("ToSparseBackward0", identity_backward, (t,), (r,))
    return r


def _parts(p):
    return p.indices, p.values


def _is_csr(t):
    return isinstance(t, Tensor) and t._sparse is not None and t.layout is sparse_csr


def _values_only(self, values):
    p = self._sparse
    return make_csr(p.crow_indices, p.col_indices, values, self._shape)


def _csr_clone(self, *, memory_format=None):
    p = self._sparse
    with no_grad():
        r = make_csr(p.crow_indices.clone(), p.col_indices.clone(), p.values.clone(), self._shape)
    if GRAD_ENABLED[0] and self._requires_grad:
        record("CloneBackward0", identity_backward, (self,), (r,))
    return r


def _csr_to(self, *args, **kwargs):
    dtype, dev, copy = _parse_to(args, dict(kwargs))
    check(not (GRAD_ENABLED[0] and self._requires_grad), "torch_js: to() of a CSR tensor that requires grad is not "
          "supported")
    p = self._sparse
    if (dtype is None or dtype is self._dtype) and dev is None and not copy:
        return self
    return make_csr(p.crow_indices.to(dev or p.crow_indices.device), p.col_indices.to(dev or p.col_indices.device),
                    p.values.to(device=dev or p.values.device, dtype=dtype or self._dtype), self._shape)


def _csr_scale(self, other, *, out=None):
    if not _is_csr(self):
        self, other = other, self
    check(not isinstance(other, Tensor) or (other._sparse is None and other.dim() == 0) and not
          (GRAD_ENABLED[0] and self._requires_grad), "torch_js: a CSR tensor multiplies only by a scalar (no autograd)")
    return _values_only(self, self._sparse.values * other)


def _csr_sum(input, dim=None, keepdim=False, *, dtype=None, out=None):
    check(dim is None and not (GRAD_ENABLED[0] and input._requires_grad), "torch_js: only the full sum of a CSR "
          "tensor (no autograd) is supported")
    v = input._sparse.values
    return v.sum(dtype=dtype)


def _through_coo(coo_kernel):
    """A COO kernel that takes CSR operands as their COO form (a product's result is dense, or COO)."""
    def run(*args, **kwargs):
        return coo_kernel(*(_as_coo(a) for a in args), **kwargs)
    return run


def _by_layout(coo_kernel, csr_kernel):
    def run(*args, **kwargs):
        if any(_is_csr(a) for a in args):
            return csr_kernel(*args, **kwargs)
        return coo_kernel(*args, **kwargs)
    return run


def _register():
    for name in ("mm", "spmm", "matmul", "mv", "addmm"):
        LAYOUT_KERNELS[("torch", name)] = _by_layout(LAYOUT_KERNELS[("torch", name)],
                                                     _through_coo(LAYOUT_KERNELS[("torch", name)]))
    for name, fn in (("clone", _csr_clone), ("to", _csr_to), ("mul", _csr_scale), ("sum", _csr_sum)):
        LAYOUT_KERNELS[("torch", name)] = _by_layout(LAYOUT_KERNELS[("torch", name)], fn)
    register("to_sparse_csr", to_sparse_csr, "sparse", dtype="same", function=False, opinfo=())
    register("sparse_csr_tensor", sparse_csr_tensor, "sparse", dtype="factory", method=False, opinfo=(),
             derivative=NOT_DIFFERENTIABLE)
    for name, fn in (("crow_indices", crow_indices), ("col_indices", col_indices)):
        register(name, fn, "sparse", dtype="index", function=False, opinfo=(), derivative=NOT_DIFFERENTIABLE)


_register()
