"""torch_js.sparse: PyTorch's sparse COO tensors (and minimal CSR) and the torch.sparse namespace.

A sparse tensor is a Tensor whose layout is torch.sparse_coo (or sparse_csr): it holds index and value tensors
(_layout.py) and no strided memory. Ops written for strided tensors meet NotStridedError when handed one, and run
the op's sparse kernel declared here (ops/_api.LAYOUT_KERNELS), or raise PyTorch's "Could not run 'aten::<op>' with
arguments from the 'SparseCPU' backend" NotImplementedError.
"""
from . import _coo, _ops, _matmul, _reductions, _csr  # noqa: F401  (declare the ops and the layout kernels)
from ._legacy import SPARSE_TYPES as _SPARSE_TYPES
from ._matmul import sparse_addmm as addmm, sparse_mm as mm
from ._reductions import log_softmax, softmax, sparse_sum as sum

globals().update(_SPARSE_TYPES)   # torch.sparse.FloatTensor, ...

__all__ = ["addmm", "check_sparse_tensor_invariants", "log_softmax", "mm", "softmax", "sum"]


class check_sparse_tensor_invariants:
    """torch.sparse.check_sparse_tensor_invariants: while enabled (the class's enable()/disable(), or an instance as a
    context manager or decorator), sparse_coo_tensor checks its indices against the size unless given
    check_invariants=False."""

    def __init__(self, enable=True):
        self.state = enable

    @staticmethod
    def is_enabled():
        return _coo.CHECK_INVARIANTS[0]

    @staticmethod
    def enable():
        _coo.CHECK_INVARIANTS[0] = True

    @staticmethod
    def disable():
        _coo.CHECK_INVARIANTS[0] = False

    def __enter__(self):
        self.saved = _coo.CHECK_INVARIANTS[0]
        _coo.CHECK_INVARIANTS[0] = bool(self.state)
        return self

    def __exit__(self, *exc):
        _coo.CHECK_INVARIANTS[0] = self.saved
        return False

    def __call__(self, fn):
        def wrapped(*args, **kwargs):
            with check_sparse_tensor_invariants(self.state):
                return fn(*args, **kwargs)
        return wrapped
