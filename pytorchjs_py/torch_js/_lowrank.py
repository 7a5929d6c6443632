"""torch.svd_lowrank and torch.pca_lowrank: a rank-q SVD by randomized range finding (Halko, Martinsson and Tropp,
2009: a Gaussian test matrix, `niter` power iterations each re-orthonormalized by QR, then the SVD of the small
projected matrix), drawn and computed as PyTorch draws and computes it, so that under the same seed the subspace
is the same; the singular vectors' signs follow torch_js's SVD."""
from . import linalg
from ._dtype import float32
from .ops.random import randn


def _range_basis(A, q, niter, M):
    """An orthonormal (m, q) Q whose span approximates the range of A - M (M None: of A)."""
    dtype = A.dtype if A.dtype.is_floating_point or A.dtype.is_complex else float32

    def times(X):   # (A - M) X, without forming A - M
        return A @ X if M is None else A @ X - M @ X

    def adjoint_times(X):
        return A.mH @ X if M is None else A.mH @ X - M.mH @ X

    Q = linalg.qr(times(randn(A.shape[-1], q, dtype=dtype, device=A.device))).Q
    for _ in range(2 if niter is None else niter):
        Q = linalg.qr(adjoint_times(Q)).Q
        Q = linalg.qr(times(Q)).Q
    return Q


def svd_lowrank(A, q=6, niter=2, M=None):
    """(U, S, V) with A - M ~ U diag(S) V^H, U (m, q), S (q), V (n, q)."""
    q = 6 if q is None else q
    m, n = A.shape[-2:]
    if M is not None:
        M = M.broadcast_to(A.shape)
    wide = m < n
    if wide:   # work on the tall one
        A = A.mH
        M = M.mH if M is not None else None
    Q = _range_basis(A, q, niter, M)
    B = Q.mH @ A if M is None else Q.mH @ A - Q.mH @ M
    U, S, Vh = linalg.svd(B, full_matrices=False)
    U, V = Q @ U, Vh.mH
    return (V, S, U) if wide else (U, S, V)


def pca_lowrank(A, q=None, center=True, niter=2):
    """The principal directions of the rows of A: svd_lowrank of A minus its column means (center=True)."""
    m, n = A.shape[-2:]
    if q is None:
        q = min(6, m, n)
    elif not (q >= 0 and q <= min(m, n)):
        raise ValueError(f"q(={q}) must be non-negative integer and not greater than min(m, n)={min(m, n)}")
    if not niter >= 0:
        raise ValueError(f"niter(={niter}) must be non-negative integer")
    return svd_lowrank(A - A.mean(dim=(-2,), keepdim=True) if center else A, q, niter)
