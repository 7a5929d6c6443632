"""torch.linalg.lstsq: the least-squares solution of A X = B, with PyTorch's result fields for each driver.

"gels" assumes A has full rank and solves through QR (min ‖AX − B‖ when m ≥ n, the minimum-norm X when m < n).
"gelsy" (the default), "gelsd" and "gelss" give the minimum-norm least-squares solution of any rank, here through
the SVD: singular values at or below rcond × the largest count as zero. LAPACK's gelsy decides the rank from a
column-pivoted QR's condition estimate instead, so for a matrix whose rank is borderline at rcond the two may keep a
different number of directions; for a matrix of clear rank they agree. Which fields are filled follows PyTorch:
residuals (‖AX − B‖² per column) for gels, and for gelsd/gelss when m > n and every matrix has full rank; rank for
all but gels; singular values for gelsd/gelss; the others are empty.
"""
from ... import _dtype as D
from .._registry import backward, register
from ..._grad_mode import no_grad
from .._util import GRAD_ENABLED, broadcast_shapes, record, rename_grad_fn
from .. import inplace as _ip
from ..creation import zeros
from ._common import _check_float, _mT, _result_type
from .qr import qr
from .spectral import pinv, svdvals
from .triangular import solve_triangular

LstsqResult = _result_type("linalg_lstsq", ("solution", "residuals", "rank", "singular_values"))
DRIVERS = ("gels", "gelsy", "gelsd", "gelss")
_NAME = "torch.linalg.lstsq"


def _check(A, B, driver):
    if A.dim() < 2:
        raise RuntimeError(f"{_NAME}: input must have at least 2 dimensions.")
    if B.dim() < 1:
        raise RuntimeError(f"{_NAME}: other must have at least 1 dimension.")
    if A._dtype is not B._dtype:
        raise RuntimeError(f"{_NAME}: Expected input and other to have the same dtype, but got input's dtype "
                           f"{D.scalar_type_name(A._dtype)} and other's dtype {D.scalar_type_name(B._dtype)}")
    if not (A._dtype.is_floating_point or A._dtype.is_complex):
        raise RuntimeError("This function doesn't handle types other than float and double")
    _check_float(A, _NAME)
    vector = B.dim() == A.dim() - 1
    rows = B._shape[-1] if vector else B._shape[-2]
    if rows != A._shape[-2]:
        raise RuntimeError(f"{_NAME}: input.size(-2) should match other.size({-1 if vector else -2})")
    if driver not in DRIVERS:
        raise RuntimeError(f"{_NAME}: parameter `driver` should be one of ({', '.join(DRIVERS)})")
    return vector


def _lstsq_backward(ctx, gX):
    """X = P B with P = pinv(A): B's gradient is P^T gX; A's is that of P (for G = gX B^T, the pseudo-inverse's
    derivative: -P^T G P^T + (I - A P) G^T P P^T + P^T P G^T (I - P A)), as PyTorch differentiates it."""
    A, B = ctx.saved_tensors
    (P,) = ctx.attrs
    gA = gB = None
    if ctx.edges[1] is not None:
        gB = _mT(P) @ gX
    if ctx.edges[0] is not None:
        Pt, G = _mT(P), gX @ _mT(B)
        Gt = _mT(G)
        gA = -(Pt @ G @ Pt) + (Gt - A @ (P @ Gt)) @ (P @ Pt) + (Pt @ P) @ (Gt - (Gt @ P) @ A)
    return gA, gB


def lstsq(A, B, rcond=None, *, driver=None, out=None):
    driver = "gelsy" if driver is None else driver
    vector = _check(A, B, driver)
    if vector:
        B = B.unsqueeze(-1)
    m, n, k = A._shape[-2], A._shape[-1], B._shape[-1]
    batch = broadcast_shapes(A._shape[:-2], B._shape[:-2])
    A, B = A.expand(*batch, m, n), B.expand(*batch, m, k)
    dev, real = A._storage.device, A._dtype.to_real() if A._dtype.is_complex else A._dtype
    empty = zeros((0,), dtype=real, device=dev)
    rank = zeros((0,), dtype=D.int64, device=dev)
    if driver == "gels":
        if m >= n:
            Q, R = qr(A)
            X = solve_triangular(R, _mT(Q).conj() @ B, upper=True)
        else:   # the minimum-norm solution: A^H = QR, X = Q R^-H B
            Q, R = qr(_mT(A).conj())
            X = Q @ solve_triangular(_mT(R).conj(), B, upper=False)
        sv = empty
    else:
        eps = D.finfo(real).eps   # rcond None: eps max(m, n), PyTorch's default; negative: eps, LAPACK's
        tol = (eps * max(m, n) if rcond is None else eps if rcond < 0 else rcond) if m and n else 0.0
        with no_grad():
            P = pinv(A, rtol=tol)
            X = P @ B
        if GRAD_ENABLED[0] and (A.requires_grad or B.requires_grad):
            record("LinalgLstsqBackward0", _lstsq_backward, (A, B), (X,), attrs=(P,), save_inputs=(A, B))
        S = svdvals(A.detach())
        rank = (S > tol * S.narrow(-1, 0, 1)).sum(-1) if m and n else zeros(batch, dtype=D.int64, device=dev)
        sv = S if driver in ("gelsd", "gelss") else empty
    full = driver == "gels" or (driver != "gelsy" and bool((rank == n).all()))
    if m > n and full and A.numel():
        residuals = (A @ X - B).abs().pow(2).sum(-2)
    else:   # empty, and on the graph where the solution is (as PyTorch's: both are its node's outputs)
        residuals = X.flatten()[:0] if X.requires_grad else empty
    if vector:
        X = X.squeeze(-1)
    if GRAD_ENABLED[0] and X.requires_grad:
        X, residuals = (rename_grad_fn(t, "LinalgLstsqBackward0") for t in (X, residuals))
    return _ip.write_outs(out, LstsqResult((X, residuals, rank, sv)))


# gels: QR and triangular solves, differentiated through them; the others: the pseudo-inverse's node
register("lstsq", lstsq, "linalg", namespace="linalg", method=False, primitive="svd_jacobi/geqrf/orgqr",
         dtype="linalg", derivative=backward(_lstsq_backward), opinfo=("linalg.lstsq", "linalg.lstsq.grad_oriented"))
