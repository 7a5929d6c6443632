"""What a sparse tensor is made of: a Tensor (same class as a strided one) whose `_sparse` holds its parts and whose
storage has no memory a strided kernel could reach.

COO (torch.sparse_coo): `indices`, int64 of shape (sparse_dim, nnz); `values`, of shape (nnz, *dense sizes); the
`coalesced` flag (indices sorted and unique). CSR (torch.sparse_csr): `crow_indices` (rows + 1,), `col_indices`
(nnz,), `values` (nnz,). The parts never carry autograd history: a sparse tensor records its own node like any
tensor, and `values()`/`to_dense()` & co. record theirs.
"""
from .._tensor import NotStridedError, make_non_strided, sparse_coo, sparse_csr


class NonStridedStorage:
    """A sparse tensor's storage: its device and version counter. A strided kernel asking for its memory (backend,
    ptr, buf, nbytes) meets NotStridedError, which the op wrappers turn into the op's sparse kernel or PyTorch's
    error (ops/_api.py)."""
    __slots__ = ("device", "version", "layout", "owner", "__weakref__")

    def __init__(self, device, layout, owner=None):
        self.device = device
        self.layout = layout
        self.version = 0
        self.owner = owner

    def _no_memory(self):
        raise NotStridedError(self.layout)

    backend = ptr = buf = nbytes = property(_no_memory)

    def alias(self):
        return NonStridedStorage(self.device, self.layout, self.owner or self)


class CooParts:
    __slots__ = ("indices", "values", "coalesced")
    layout = sparse_coo
    impl_name = "SparseTensorImpl"

    def __init__(self, indices, values, coalesced):
        self.indices = indices
        self.values = values
        self.coalesced = coalesced

    def detached(self):
        return self   # the parts carry no history

    def stride(self, t, dim):
        zeros = (0,) * len(t._shape)
        return zeros if dim is None else zeros[t._wrap_dim(dim)]

    def is_contiguous(self):
        return False

    @property
    def nnz(self):
        return self.indices._shape[1]


def _csr_error(message):
    """PyTorch's RuntimeError, as a NotStridedError (a RuntimeError too) so that a strided op's code that asks for it
    runs the op's CSR kernel instead (ops/_api.py)."""
    e = NotStridedError(sparse_csr)
    e.args = (message,)
    return e


class CsrParts:
    __slots__ = ("crow_indices", "col_indices", "values")
    layout = sparse_csr
    impl_name = "SparseCsrTensorImpl"

    def __init__(self, crow_indices, col_indices, values):
        self.crow_indices = crow_indices
        self.col_indices = col_indices
        self.values = values

    def detached(self):
        return self

    def stride(self, t, dim):
        raise _csr_error("Sparse CSR tensors do not have strides")

    def is_contiguous(self):
        raise _csr_error("Sparse CSR tensors do not have is_contiguous")

    @property
    def nnz(self):
        return self.col_indices._shape[0]


def make_coo(indices, values, shape, coalesced):
    """A COO tensor of `shape` from its (history-free) parts."""
    nnz = indices._shape[1]
    return make_non_strided(CooParts(indices, values, coalesced or nnz < 2), tuple(shape), values._dtype,
                            NonStridedStorage(values._storage.device, sparse_coo))


def make_csr(crow_indices, col_indices, values, shape):
    return make_non_strided(CsrParts(crow_indices, col_indices, values), tuple(shape), values._dtype,
                            NonStridedStorage(values._storage.device, sparse_csr))


def coo_parts(t):
    """t's COO parts, or None when t is not a COO tensor."""
    p = t._sparse
    return p if p is not None and p.layout is sparse_coo else None


def is_coo(t):
    return t.__class__ is not None and getattr(t, "_sparse", None) is not None and t._sparse.layout is sparse_coo


def replace_parts(t, parts):
    """An in-place op on a sparse tensor: t takes new parts (and a new version, so saved copies of it see the change)."""
    t._sparse = parts
    t._dtype = parts.values._dtype
    t._storage.version += 1
    return t
