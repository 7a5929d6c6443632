"""What every linalg module shares: LinAlgError, the torch.return_types lookalikes, input checks, the kernels'
working copies, and the small matrix helpers (transpose, triangles, identity, diagonal embedding)."""
from ... import _dtype as D
from ..._tensor import Tensor, _empty, numel_of
from .._util import check, not_implemented_for, result_type as _result_type  # noqa: F401  (the modules' import)
from ..creation import arange, eye


class LinAlgError(RuntimeError):
    """torch.linalg.LinAlgError: a factorization failed (singular / not positive-definite input)."""


# PyTorch's class is torch._C._LinAlgError (type(e).__name__ reads _LinAlgError); torch_js._C has it by that name
LinAlgError.__name__ = LinAlgError.__qualname__ = "_LinAlgError"
LinAlgError.__module__ = "torch_js._C"


# ---- checks ------------------------------------------------------------------------------------------------

# PyTorch's errors for a dtype a factorization has no kernel for. The ops named in _KERNEL_ONLY reach their LAPACK
# kernel directly, whose dispatch raises NotImplementedError naming it for any dtype but float32/float64; the others
# first check for a floating input (RuntimeError), then meet the kernel in _LOW_PRECISION_KERNEL with float16/bfloat16
# (or, with no kernel named, refuse low precision with a RuntimeError).
_KERNEL_ONLY = {"linalg.lu_factor": "lu_cpu", "linalg.lu_factor_ex": "lu_cpu", "linalg.lu": "lu_cpu", "lu": "lu_cpu",
                "linalg.eigh": "linalg_eigh_cpu", "linalg.eigvalsh": "linalg_eigh_cpu", "geqrf": "geqrf_cpu",
                "cholesky": "cholesky_cpu", "linalg.solve_triangular": "triangular_solve_cpu",
                "triangular_solve": "triangular_solve_cpu", "cholesky_solve": "cholesky_solve_cpu",
                "cholesky_inverse": "cholesky_inverse_out_cpu"}
_LOW_PRECISION_KERNEL = {"linalg.svd": "linalg_svd_cpu", "linalg.svdvals": "linalg_svd_cpu", "svd": "linalg_svd_cpu",
                         "linalg.cond": "linalg_svd_cpu", "linalg.cholesky": "cholesky_cpu",
                         "linalg.cholesky_ex": "cholesky_cpu", "linalg.qr": "geqrf_cpu", "qr": "geqrf_cpu",
                         "linalg.det": "lu_cpu", "linalg.solve": "lu_cpu", "linalg.solve_ex": "lu_cpu"}


def _check_float(A, fname):
    d = A._dtype
    if d is D.float32 or d is D.float64:
        return
    name = fname[6:] if fname.startswith("torch.") else fname
    # a 0×0 matrix never reaches a square factorization's kernel, so its dispatch cannot refuse it (an empty
    # batch, or geqrf's m×0, still does)
    empty = A.dim() >= 2 and A._shape[-1] == 0 and A._shape[-2] == 0
    if name in _KERNEL_ONLY:
        if empty:
            return
        raise not_implemented_for(_KERNEL_ONLY[name], d)
    if not d.is_floating_point:
        raise RuntimeError(f"{fname}: Expected a floating point or complex tensor as input. Got "
                           f"{D.scalar_type_name(d)}")
    if name in _LOW_PRECISION_KERNEL:
        if empty:
            return
        raise not_implemented_for(_LOW_PRECISION_KERNEL[name], d)
    raise RuntimeError(f"{fname}: Low precision dtypes not supported. Got {D.scalar_type_name(d)}")


def _check_matrix(A, fname, square=True, arg="A"):
    check(isinstance(A, Tensor), lambda: f"{fname}(): argument '{arg}' (position 1) must be Tensor, not "
                                         f"{type(A).__name__}", TypeError)
    if A.dim() < 2:
        raise RuntimeError(f"{fname}: The input tensor {arg} must have at least 2 dimensions.")
    if square and A._shape[-1] != A._shape[-2]:
        raise RuntimeError(f"{fname}: {arg} must be batches of square matrices, but they are {A._shape[-2]} by "
                           f"{A._shape[-1]} matrices")
    _check_float(A, fname)


def _batch_msg(fname, info, batched):
    """(message prefix, 1-based info) for the first failing batch element, or None."""
    if info.numel() == 0:
        return None
    vals = info.reshape(-1).tolist()
    for b, v in enumerate(vals):
        if v > 0:
            return (f"{fname}: (Batch element {b}): " if batched else f"{fname}: "), v
    return None


# ---- the factorization kernels' operands ---------------------------------------------------------------------

def _work_copy(x, shape=None):
    """A fresh contiguous copy of x's data (broadcast to `shape`), detached: the kernels overwrite it."""
    shape = x._shape if shape is None else tuple(shape)
    out = _empty(shape, x._dtype, x._storage.device)
    if numel_of(shape):
        src = x.detach()
        if src._shape != shape:
            src = src.expand(shape)
        out._storage.backend.copy(out, src, src._stride)
    return out


# ---- small matrix helpers (differentiable: written in ops) -------------------------------------------------

def _mT(x):
    return x.transpose(-2, -1)


def _eye_like(n, x):
    return eye(n, dtype=x._dtype, device=x._storage.device)


def _eye_rect(m, k, like):
    return eye(m, k, dtype=like._dtype, device=like._storage.device)


def _tri_mask(n, m, k, upper, like):
    """bool (n, m): j - i >= k (upper) or j - i <= k (lower)."""
    dev = like._storage.device
    i = arange(n, device=dev).unsqueeze(-1)
    j = arange(m, device=dev)
    return (j - i >= k) if upper else (j - i <= k)


def _triu(x, k=0):
    return x * _tri_mask(x._shape[-2], x._shape[-1], k, True, x).to(x._dtype)


def _tril(x, k=0):
    return x * _tri_mask(x._shape[-2], x._shape[-1], k, False, x).to(x._dtype)


def _diag_embed(d):
    """(..., n) -> (..., n, n) with d on the diagonal (differentiable: a product with the identity)."""
    n = d._shape[-1]
    return d.unsqueeze(-1) * _eye_like(n, d)
