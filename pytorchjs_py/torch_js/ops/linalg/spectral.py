"""SVD and symmetric eigendecomposition (Jacobi kernels in wasm_ext/linalg.c) and what is built on them: svd,
svdvals, eigh, eigvalsh, pinv, matrix_rank, cond.

Singular values and eigenvalues are unique, so they match LAPACK's to rounding. Singular vectors and eigenvectors
are unique only up to sign: LAPACK's signs come out of its reduction algorithms, ours are normalised so each
vector's largest-magnitude component is positive. Anything gauge-invariant (reconstructions, projectors, pinv,
norms, their gradients) matches PyTorch.
"""
from ... import _dtype as D
from ..._grad_mode import no_grad
from ..._tensor import _empty, numel_of
from .._registry import NOT_DIFFERENTIABLE, backward, register
from .._util import GRAD_ENABLED, check, record
from .. import inplace as _ip
from ..creation import ones_like, tensor, zeros, zeros_like
from ..elementwise import maximum, where
from ..shape import cat
from ._common import _check_matrix, _diag_embed, _mT, _result_type, _tril, _triu, _work_copy
from .lu import inv_ex
from .norms import matrix_norm
from .qr import qr

SvdResult = _result_type("linalg_svd", ("U", "S", "Vh"))
TorchSvdResult = _result_type("svd", ("U", "S", "V"))
EighResult = _result_type("linalg_eigh", ("eigenvalues", "eigenvectors"))


def _sort_columns(vals, vecs, descending):
    """Sort eigen/singular values along the last dim and the columns of vecs (…, r, n) with them."""
    n = vals._shape[-1]
    nb = numel_of(vals._shape[:-1])
    if not (n and nb):
        return vals, vecs
    rows = vals.reshape(nb, n).tolist()
    order = [sorted(range(n), key=(lambda i, r=r: -r[i]) if descending else (lambda i, r=r: r[i])) for r in rows]
    idx = tensor(order, dtype=D.int64, device=vals._storage.device).reshape(vals._shape)
    return vals.gather(-1, idx), vecs.gather(-1, idx.unsqueeze(-2).expand(vecs._shape))


def _fix_signs(vecs, *others):
    """Flip each column so its largest-magnitude entry is positive (and the paired columns of `others`)."""
    if vecs.numel() == 0:
        return (vecs,) + others
    a = vecs.abs()
    idx = a.argmax(-2, keepdim=True)
    sgn = vecs.gather(-2, idx).sign()
    sgn = sgn.masked_fill(sgn == 0, 1)
    return (vecs * sgn,) + tuple(o * sgn for o in others)


# ---- SVD -------------------------------------------------------------------------------------------------------


def _svd_parts(A):
    """(U, S, V) of A (no autograd): S descending; columns of U and V paired, signs normalised on V."""
    m, n = A._shape[-2], A._shape[-1]
    if m < n:
        V, S, U = _svd_parts(_mT(A))
        return U, S, V
    batch = A._shape[:-2]
    nb = numel_of(batch)
    W = _work_copy(A)
    V = _empty(batch + (n, n), A._dtype, A._storage.device)
    S = _empty(batch + (n,), A._dtype, A._storage.device)
    if nb and n:
        A._storage.backend.svd_jacobi(W, V, S, nb, m, n)
        svals = S.reshape(nb, n).tolist()
        order = [sorted(range(n), key=lambda i, r=r: -r[i]) for r in svals]
        idx = tensor(order, dtype=D.int64, device=A._storage.device).reshape(batch + (n,))
        S = S.gather(-1, idx)
        W = W.gather(-1, idx.unsqueeze(-2).expand(W._shape))
        V = V.gather(-1, idx.unsqueeze(-2).expand(V._shape))
    V, W = _fix_signs(V, W)
    U = W / S.masked_fill(S == 0, 1).unsqueeze(-2)
    return _complete_null_columns(U, S), S, V


def _complete_null_columns(U, S):
    """U's columns for singular values at rounding level (rank-deficient A: W's column there is noise over a
    negligible norm, not a unit vector orthogonal to the others) replaced by an orthonormal complement of the rest,
    as LAPACK's U has: det(U), U S V^T and the SVD's gradients need an orthogonal U."""
    n = S._shape[-1]
    if not n or not S.numel():
        return U
    eps = 2.220446049250313e-16 if S._dtype is D.float64 else 1.1920928955078125e-07
    tol = S.amax(-1, keepdim=True) * (eps * max(U._shape[-2], n))
    null = (S <= tol).reshape(-1, n).tolist()
    if not any(any(row) for row in null):
        return U
    m = U._shape[-2]
    flat = U.reshape(-1, m, n).clone()
    for b, row in enumerate(null):
        keep = [j for j in range(n) if not row[j]]
        if len(keep) == n:
            continue
        good = flat[b][:, keep] if keep else flat[b][:, :0]
        Q, _ = qr(good, mode="complete")
        for k, j in enumerate(j for j in range(n) if row[j]):
            flat[b][:, j] = Q[:, len(keep) + k]
    return flat.reshape(U._shape)


def _svd_backward(ctx, gU, gS, gVh):
    U, S, Vh = ctx.saved_tensors
    (full,) = ctx.attrs
    if gU is None and gS is None and gVh is None:
        return (None,)
    k = S._shape[-1]
    if full:
        U, Vh = U.narrow(-1, 0, k), Vh.narrow(-2, 0, k)
        gU = gU.narrow(-1, 0, k) if gU is not None else None
        gVh = gVh.narrow(-2, 0, k) if gVh is not None else None
    return (svd_backward(gU, gS, gVh, U, S, Vh),)


def svd_backward(gU, gS, gVh, U, S, Vh):
    """PyTorch's svd_backward (FunctionsManual.cpp), real case."""
    m, n = U._shape[-2], Vh._shape[-1]
    if gU is None and gVh is None:
        return U.matmul(gS.unsqueeze(-1) * Vh) if m >= n else (U * gS.unsqueeze(-2)).matmul(Vh)
    UhgU = None if gU is None else _skew(_mT(U).matmul(gU))
    VhgV = None if gVh is None else _skew(Vh.matmul(_mT(gVh)))
    S2 = S * S
    E = S2.unsqueeze(-2) - S2.unsqueeze(-1) + _diag_embed(ones_like(S))
    if gU is not None and gVh is not None:
        gA = (UhgU * S.unsqueeze(-2) + S.unsqueeze(-1) * VhgV) / E
    elif gU is not None:
        gA = (UhgU / E) * S.unsqueeze(-2)
    else:
        gA = S.unsqueeze(-1) * (VhgV / E)
    if gS is not None:
        gA = gA + _diag_embed(gS)
    if m > n and gU is not None:
        gA = U.matmul(gA)
        gUSinv = gU / S.unsqueeze(-2)
        gA = gA + gUSinv - U.matmul(_mT(U).matmul(gUSinv))
        return gA.matmul(Vh)
    if m < n and gVh is not None:
        gA = gA.matmul(Vh)
        SinvgVh = gVh / S.unsqueeze(-1)
        gA = gA + SinvgVh - SinvgVh.matmul(_mT(Vh)).matmul(Vh)
        return U.matmul(gA)
    return U.matmul(gA.matmul(Vh)) if m >= n else U.matmul(gA).matmul(Vh)


def _skew(X):
    return X - _mT(X)


def _complete_basis(U):
    """(…, m, k) orthonormal columns -> (…, m, m): the same k columns followed by an orthonormal complement."""
    m, k = U._shape[-2], U._shape[-1]
    if k == m:
        return U
    Q, _ = qr(U.detach(), mode="complete")
    return cat([U, Q.narrow(-1, k, m - k)], -1)


def _svd_impl(A, full_matrices, fname):
    _check_matrix(A, fname, square=False)
    U, S, V = _svd_parts(A)
    Vh = _mT(V)
    if full_matrices:
        U = _complete_basis(U)
        Vh = _mT(_complete_basis(V))
    U, S, Vh = U.contiguous(), S.contiguous(), Vh.contiguous()
    if GRAD_ENABLED[0] and A._requires_grad:
        record("LinalgSvdBackward0", _svd_backward, (A,), (U, S, Vh), attrs=(full_matrices,),
               save_outputs=(U, S, Vh))
    return U, S, Vh


def svd(A, full_matrices=True, *, driver=None, out=None):
    return _ip.write_outs(out, SvdResult(_svd_impl(A, full_matrices, "linalg.svd")))


# singular vectors / eigenvectors: signs differ from LAPACK's, so only the value-unique ops name OpInfos
register("svd", svd, "linalg", namespace="linalg", method=False, primitive="svd_jacobi", dtype="linalg",
         derivative=backward(_svd_backward), opinfo=())


def torch_svd(input, some=True, compute_uv=True, *, out=None):
    U, S, Vh = _svd_impl(input, not some, "svd")
    if not compute_uv:
        U, Vh = zeros_like(U), zeros_like(Vh)
    return _ip.write_outs(out, TorchSvdResult((U, S, _mT(Vh))))


register("svd", torch_svd, "linalg", primitive="svd_jacobi", dtype="linalg", derivative=backward(_svd_backward),
         opinfo=())


def svdvals(A, *, driver=None, out=None):
    _check_matrix(A, "linalg.svdvals", square=False)
    S = _svd_impl(A, False, "linalg.svdvals")[1]
    return _ip.write_out(out, S) if out is not None else S


register("svdvals", svdvals, "linalg", namespace="linalg", method=False, primitive="svd_jacobi", dtype="linalg",
         derivative=backward(_svd_backward), opinfo=("linalg.svdvals",))


# ---- symmetric eigendecomposition ------------------------------------------------------------------------------


def _eigh_backward(ctx, gL, gV):
    L, V = ctx.saved_tensors
    if gL is None and gV is None:
        return (None,)
    if gV is None:
        return ((V * gL.unsqueeze(-2)).matmul(_mT(V)),)
    VhgV = _mT(V).matmul(gV)
    VhgV = 0.5 * (VhgV - _mT(VhgV))
    E = L.unsqueeze(-2) - L.unsqueeze(-1) + _diag_embed(ones_like(L))
    gA = VhgV / E
    if gL is not None:
        gA = gA - _diag_embed(gA.diagonal(0, -2, -1)) + _diag_embed(gL)
    return (V.matmul(gA).matmul(_mT(V)),)


def _eigh_impl(A, UPLO, fname):
    _check_matrix(A, fname)
    if UPLO not in ("L", "U", "l", "u"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    n = A._shape[-1]
    Ad = A.detach()
    # LAPACK reads one triangle: mirror it
    sym = (_tril(Ad) + _mT(_tril(Ad, -1))) if UPLO in ("L", "l") else (_triu(Ad) + _mT(_triu(Ad, 1)))
    V = _work_copy(sym)
    batch = A._shape[:-2]
    nb = numel_of(batch)
    L = _empty(batch + (n,), A._dtype, A._storage.device)
    if nb and n:
        A._storage.backend.eigh_jacobi(V, L, nb, n)
    L, V = _sort_columns(L, V, False)
    (V,) = _fix_signs(V)
    L, V = L.contiguous(), V.contiguous()
    if GRAD_ENABLED[0] and A._requires_grad:
        record("LinalgEighBackward0", _eigh_backward, (A,), (L, V), save_outputs=(L, V))
    return L, V


def eigh(A, UPLO="L", *, out=None):
    return _ip.write_outs(out, EighResult(_eigh_impl(A, UPLO, "linalg.eigh")))


register("eigh", eigh, "linalg", namespace="linalg", method=False, primitive="eigh_jacobi", dtype="linalg",
         derivative=backward(_eigh_backward), opinfo=())


def eigvalsh(A, UPLO="L", *, out=None):
    L = _eigh_impl(A, UPLO, "linalg.eigvalsh")[0]
    return _ip.write_out(out, L) if out is not None else L


register("eigvalsh", eigvalsh, "linalg", namespace="linalg", method=False, primitive="eigh_jacobi",
         dtype="linalg", derivative=backward(_eigh_backward), opinfo=("linalg.eigvalsh",))


# ---- built on the SVD ------------------------------------------------------------------------------------------


def _tol(S_max, atol, rtol, m, n, dtype):
    """max(atol, rtol * S_max) with PyTorch's defaults (rtol = eps * max(m, n) when neither is given)."""
    atol_given = atol is not None and (hasattr(atol, "_shape") or atol > 0)
    if rtol is None:
        rtol = 0.0 if atol_given else D.finfo(dtype).eps * max(m, n)
    atol = 0.0 if atol is None else atol
    if hasattr(rtol, "_shape"):
        rtol = rtol.unsqueeze(-1)
    if hasattr(atol, "_shape"):
        atol = atol.unsqueeze(-1)
    r = S_max * rtol
    if hasattr(atol, "_shape"):
        return maximum(r, atol)
    return r.clamp_min(atol) if atol else r


def pinv(A, *, atol=None, rtol=None, hermitian=False, out=None):
    _check_matrix(A, "linalg.pinv", square=False)
    m, n = A._shape[-2], A._shape[-1]
    if A.numel() == 0:
        r = zeros(A._shape[:-2] + (n, m), dtype=A._dtype, device=A._storage.device)
        if GRAD_ENABLED[0] and A._requires_grad:
            r = r + _mT(A).sum() * 0
        return r
    if hermitian:
        L, V = _eigh_impl(A, "L", "linalg.pinv")
        S_max = L.abs().amax(-1, keepdim=True)
        tol = _tol(S_max, atol, rtol, m, n, A._dtype)
        Linv = where(L.abs() > tol, L.reciprocal(), 0.0)
        r = (V * Linv.unsqueeze(-2)).matmul(_mT(V))
    else:
        U, S, Vh = _svd_impl(A, False, "linalg.pinv")
        S_max = S.narrow(-1, 0, 1)
        tol = _tol(S_max, atol, rtol, m, n, A._dtype)
        Sinv = where(S > tol, S.reciprocal(), 0.0)
        r = (_mT(Vh) * Sinv.unsqueeze(-2)).matmul(_mT(U))
    return _ip.write_out(out, r) if out is not None else r


# through the SVD, or eigh when hermitian: the decomposition's node, then differentiable ops
register("pinv", pinv, "linalg", namespace="linalg", method=False, primitive="svd_jacobi/eigh_jacobi", dtype="linalg",
         derivative=backward(_svd_backward, _eigh_backward), opinfo=("linalg.pinv",))


def pinverse(input, rcond=1e-15):
    return pinv(input, rtol=rcond)


register("pinverse", pinverse, "linalg", dtype="linalg")


def matrix_rank(A, *, atol=None, rtol=None, hermitian=False, tol=None, out=None):
    _check_matrix(A, "linalg.matrix_rank", square=False)
    m, n = A._shape[-2], A._shape[-1]
    if tol is not None:
        atol, rtol = tol, 0.0
    with no_grad():
        S = eigvalsh(A).abs() if hermitian else svdvals(A)
        if S._shape[-1] == 0:
            r = zeros(A._shape[:-2], dtype=D.int64, device=A._storage.device)
        else:
            S_max = S.amax(-1, keepdim=True)
            t = _tol(S_max, atol, rtol, m, n, A._dtype)
            r = (S > t).sum(-1)
    return _ip.write_out(out, r) if out is not None else r


register("matrix_rank", matrix_rank, "linalg", namespace="linalg", method=False, dtype="index",
         derivative=NOT_DIFFERENTIABLE,
         opinfo=("linalg.matrix_rank",))


def cond(A, p=None, *, out=None):
    check(A.dim() >= 2, "linalg.cond: The input tensor A must have at least 2 dimensions.")
    if p is None or p == 2 or p == -2:
        S = svdvals(A)
        r = S[..., 0] / S[..., -1] if p != -2 else S[..., -1] / S[..., 0]
    else:
        _check_matrix(A, "linalg.cond")
        r = matrix_norm(A, p) * matrix_norm(inv_ex(A)[0], p)
    return _ip.write_out(out, r) if out is not None else r


register("cond", cond, "linalg", namespace="linalg", method=False, dtype="linalg", opinfo=("linalg.cond",))
