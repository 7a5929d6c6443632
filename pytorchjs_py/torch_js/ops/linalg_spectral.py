"""SVD and symmetric eigendecomposition (Jacobi kernels in wasm_ext/linalg.c) and what is built on them: svd, svdvals,
eigh, eigvalsh, pinv, matrix_rank, cond; plus the smaller torch.linalg / torch helpers over the factorizations:
householder_product, geqrf, cholesky_solve, cholesky_inverse, lu_unpack, triangular_solve, tensorinv, tensorsolve,
vander, linalg.diagonal.

Singular values and eigenvalues are unique, so they match LAPACK's to rounding. Singular vectors and eigenvectors
are unique only up to sign: LAPACK's signs come out of its reduction algorithms, ours are normalised so each
vector's largest-magnitude component is positive. Anything gauge-invariant (reconstructions, projectors, pinv,
norms, their gradients) matches PyTorch.
"""
from .. import _dtype as D
from .._tensor import _empty, numel_of, wrap_dim
from ._registry import register
from ._util import GRAD_ENABLED, check, record
from . import inplace as _ip
from . import linalg_factor as _lf
from .linalg_factor import _check_matrix, _diag_embed, _mT, _result_type, _tril, _triu, _work_copy

SvdResult = _result_type("linalg_svd", ("U", "S", "Vh"))
TorchSvdResult = _result_type("svd", ("U", "S", "V"))
EighResult = _result_type("linalg_eigh", ("eigenvalues", "eigenvectors"))
GeqrfResult = _result_type("geqrf", ("a", "tau"))
LuUnpackResult = _result_type("lu_unpack", ("P", "L", "U"))
TriangularSolveResult = _result_type("triangular_solve", ("solution", "cloned_coefficient"))


def _sort_columns(vals, vecs, descending):
    """Sort eigen/singular values along the last dim and the columns of vecs (…, r, n) with them."""
    n = vals._shape[-1]
    nb = numel_of(vals._shape[:-1])
    if not (n and nb):
        return vals, vecs
    rows = vals.reshape(nb, n).tolist()
    order = [sorted(range(n), key=(lambda i, r=r: -r[i]) if descending else (lambda i, r=r: r[i])) for r in rows]
    from .creation import tensor
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


# ---- SVD ----------------------------------------------------------------------------------------------------

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
        _lf._backend(A).svd_jacobi(W, V, S, nb, m, n)
        svals = S.reshape(nb, n).tolist()
        from .creation import tensor
        order = [sorted(range(n), key=lambda i, r=r: -r[i]) for r in svals]
        idx = tensor(order, dtype=D.int64, device=A._storage.device).reshape(batch + (n,))
        S = S.gather(-1, idx)
        W = W.gather(-1, idx.unsqueeze(-2).expand(W._shape))
        V = V.gather(-1, idx.unsqueeze(-2).expand(V._shape))
    V, W = _fix_signs(V, W)
    U = W / S.masked_fill(S == 0, 1).unsqueeze(-2)
    return U, S, V


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
    from .creation import ones_like
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
    Q, _ = _lf.qr(U.detach(), mode="complete")
    from .shape import cat
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
    return SvdResult(_svd_impl(A, full_matrices, "linalg.svd"))


def torch_svd(input, some=True, compute_uv=True, *, out=None):
    U, S, Vh = _svd_impl(input, not some, "svd")
    if not compute_uv:
        from .creation import zeros_like
        U, Vh = zeros_like(U), zeros_like(Vh)
    return TorchSvdResult((U, S, _mT(Vh)))


def svdvals(A, *, driver=None, out=None):
    _check_matrix(A, "linalg.svdvals", square=False)
    S = _svd_impl(A, False, "linalg.svdvals")[1]
    return _ip.write_out(out, S) if out is not None else S


# ---- symmetric eigendecomposition ------------------------------------------------------------------------------

def _eigh_backward(ctx, gL, gV):
    L, V = ctx.saved_tensors
    if gL is None and gV is None:
        return (None,)
    if gV is None:
        return ((V * gL.unsqueeze(-2)).matmul(_mT(V)),)
    from .creation import ones_like
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
        _lf._backend(A).eigh_jacobi(V, L, nb, n)
    L, V = _sort_columns(L, V, False)
    (V,) = _fix_signs(V)
    L, V = L.contiguous(), V.contiguous()
    if GRAD_ENABLED[0] and A._requires_grad:
        record("LinalgEighBackward0", _eigh_backward, (A,), (L, V), save_outputs=(L, V))
    return L, V


def eigh(A, UPLO="L", *, out=None):
    return EighResult(_eigh_impl(A, UPLO, "linalg.eigh"))


def eigvalsh(A, UPLO="L", *, out=None):
    L = _eigh_impl(A, UPLO, "linalg.eigvalsh")[0]
    return _ip.write_out(out, L) if out is not None else L


# ---- built on the SVD ---------------------------------------------------------------------------------------

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
        from .elementwise import maximum
        return maximum(r, atol)
    return r.clamp_min(atol) if atol else r


def pinv(A, *, atol=None, rtol=None, hermitian=False, out=None):
    _check_matrix(A, "linalg.pinv", square=False)
    m, n = A._shape[-2], A._shape[-1]
    from .elementwise import where
    if A.numel() == 0:
        from .creation import zeros
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


def pinverse(input, rcond=1e-15):
    return pinv(input, rtol=rcond)


def matrix_rank(A, *, atol=None, rtol=None, hermitian=False, tol=None, out=None):
    _check_matrix(A, "linalg.matrix_rank", square=False)
    m, n = A._shape[-2], A._shape[-1]
    if tol is not None:
        atol, rtol = tol, 0.0
    from ..autograd.grad_mode import no_grad
    with no_grad():
        S = eigvalsh(A).abs() if hermitian else svdvals(A)
        if S._shape[-1] == 0:
            from .creation import zeros
            r = zeros(A._shape[:-2], dtype=D.int64, device=A._storage.device)
        else:
            S_max = S.amax(-1, keepdim=True)
            t = _tol(S_max, atol, rtol, m, n, A._dtype)
            r = (S > t).sum(-1)
    return _ip.write_out(out, r) if out is not None else r


def cond(A, p=None, *, out=None):
    check(A.dim() >= 2, "linalg.cond: The input tensor A must have at least 2 dimensions.")
    if p is None or p == 2 or p == -2:
        S = svdvals(A)
        r = S[..., 0] / S[..., -1] if p != -2 else S[..., -1] / S[..., 0]
    else:
        from .linalg_extra import matrix_norm
        _check_matrix(A, "linalg.cond")
        r = matrix_norm(A, p) * matrix_norm(_lf.inv_ex(A)[0], p)
    return _ip.write_out(out, r) if out is not None else r


# ---- Householder / Cholesky / LU helpers --------------------------------------------------------------------

def geqrf(input, *, out=None):
    _check_matrix(input, "geqrf", square=False)
    m, n = input._shape[-2], input._shape[-1]
    batch = input._shape[:-2]
    a = _work_copy(input)
    tau = _empty(batch + (min(m, n),), input._dtype, input._storage.device)
    nb = numel_of(batch)
    if nb and m and n:
        _lf._backend(input).geqrf(a, tau, nb, m, n)
    return GeqrfResult((a, tau))


def householder_product(A, tau, *, out=None):
    _check_matrix(A, "torch.linalg.householder_product", square=False)
    m, n = A._shape[-2], A._shape[-1]
    k = tau._shape[-1]
    check(m >= n, "torch.linalg.householder_product: input.shape[-2] must be greater than or equal to "
                  "input.shape[-1]")
    check(n >= k, "torch.linalg.householder_product: input.shape[-1] must be greater than or equal to "
                  "tau.shape[-1]")
    if GRAD_ENABLED[0] and (A._requires_grad or tau._requires_grad):
        # differentiable form: Q = H_0 ... H_{k-1} I[:, :n], H_i = I - tau_i v_i v_i^T, applied right to left
        from .creation import eye
        Vs = _tril(A, -1) + eye(m, n, dtype=A._dtype, device=A._storage.device)
        Q = eye(m, n, dtype=A._dtype, device=A._storage.device).expand(A._shape)
        for i in range(k - 1, -1, -1):
            v = Vs.narrow(-1, i, 1)
            Q = Q - (tau.narrow(-1, i, 1).unsqueeze(-1) * v).matmul(_mT(v).matmul(Q))
        if k == 0:  # still a function of A and tau (zero gradients), as in PyTorch
            Q = Q + A * 0 + tau.sum(-1).unsqueeze(-1).unsqueeze(-1) * 0
        return _ip.write_out(out, Q) if out is not None else Q
    Q = _work_copy(A)
    t = _work_copy(tau)
    nb = numel_of(A._shape[:-2])
    if nb and m and n:
        _lf._backend(A).orgqr(Q, t, nb, m, n, k)
    return _ip.write_out(out, Q) if out is not None else Q


def _cholesky_solve_backward(ctx, gX):
    L, X = ctx.saved_tensors
    (upper,) = ctx.attrs
    eb, el = ctx.next_functions
    gB = cholesky_solve(gX, L, upper)
    gL = None
    if el is not None:
        common = gB.matmul(_mT(X))
        common = common + _mT(common)
        gL = -(L.matmul(common)) if upper else -(common.matmul(L))
    return gB, gL


def cholesky_solve(input, input2, upper=False, *, out=None):
    B, L = input, input2
    check(B.dim() >= 2, f"b should have at least 2 dimensions, but has {B.dim()} dimensions instead")
    check(L.dim() >= 2, f"u should have at least 2 dimensions, but has {L.dim()} dimensions instead")
    from ..autograd.grad_mode import no_grad
    with no_grad():
        if upper:
            Y = _lf.solve_triangular(_mT(L), B, upper=False)
            X = _lf.solve_triangular(L, Y, upper=True)
        else:
            Y = _lf.solve_triangular(L, B, upper=False)
            X = _lf.solve_triangular(_mT(L), Y, upper=True)
    if GRAD_ENABLED[0] and (B._requires_grad or L._requires_grad):
        record("CholeskySolveBackward0", _cholesky_solve_backward, (B, L), (X,), attrs=(upper,), save_inputs=(L,),
               save_outputs=(X,))
    return _ip.write_out(out, X) if out is not None else X


def _cholesky_inverse_backward(ctx, g):
    L, Ainv = ctx.saved_tensors
    (upper,) = ctx.attrs
    common = g + _mT(g)
    common = Ainv.matmul(common).matmul(Ainv)
    return (-(L.matmul(common)) if upper else -(common.matmul(L)),)


def cholesky_inverse(input, upper=False, *, out=None):
    L = input
    check(L.dim() >= 2, f"cholesky_inverse: The input tensor A must have at least 2 dimensions.")
    from ..autograd.grad_mode import no_grad
    from .creation import eye
    n = L._shape[-1]
    with no_grad():
        I = eye(n, dtype=L._dtype, device=L._storage.device)
        Ld = L.detach()
        Linv = _lf.solve_triangular(Ld, I.expand(Ld._shape), upper=upper)
        r = Linv.matmul(_mT(Linv)) if upper else _mT(Linv).matmul(Linv)
    if GRAD_ENABLED[0] and L._requires_grad:
        record("CholeskyInverseBackward0", _cholesky_inverse_backward, (L,), (r,), attrs=(upper,), save_inputs=(L,),
               save_outputs=(r,))
    return _ip.write_out(out, r) if out is not None else r


def lu_unpack(LU_data, LU_pivots, unpack_data=True, unpack_pivots=True, *, out=None):
    P, L, U = _lf._lu_unpack(LU_data, LU_pivots.to(D.int64))
    # L and U through tril/triu of LU_data: differentiable as PyTorch's lu_unpack_backward
    return LuUnpackResult((P, L, U))


def torch_lu(A, pivot=True, get_infos=False, out=None):
    LU, piv, info = _lf.lu_factor_ex(A, pivot=pivot)
    return (LU, piv, info) if get_infos else (LU, piv)


def torch_lu_solve(b, LU_data, LU_pivots, *, out=None):
    r = _lf.lu_solve(LU_data, LU_pivots, b)
    return _ip.write_out(out, r) if out is not None else r


def triangular_solve(b, A, upper=True, transpose=False, unitriangular=False, *, out=None):
    check(b.dim() >= 2, f"torch.triangular_solve: Expected b to have at least 2 dimensions, but it has {b.dim()} "
                        f"dimensions instead")
    check(A.dim() >= 2, f"torch.triangular_solve: Expected A to have at least 2 dimensions, but it has {A.dim()} "
                        f"dimensions instead")
    Aop = _mT(A) if transpose else A
    X = _lf.solve_triangular(Aop, b, upper=upper != transpose, unitriangular=unitriangular)
    return TriangularSolveResult((X, A.clone()))


# ---- tensor-shaped and small helpers ---------------------------------------------------------------------------

def tensorinv(A, ind=2, *, out=None):
    check(ind > 0, f"Expected a strictly positive integer for 'ind', but got {ind}")
    out_shape = A._shape[ind:] + A._shape[:ind]
    rows = numel_of(A._shape[:ind])
    cols = numel_of(A._shape[ind:])
    check(rows == cols, f"Expected self to satisfy the requirement prod(self.shape[ind:]) == "
                        f"prod(self.shape[:ind]), but got {cols} != {rows}")
    r = _lf.inv(A.reshape(rows, cols)).reshape(out_shape)
    return _ip.write_out(out, r) if out is not None else r


def tensorsolve(A, B, dims=None, *, out=None):
    if dims is not None:
        nd = A.dim()
        dd = [wrap_dim(d, nd) for d in dims]
        rest = [d for d in range(nd) if d not in dd]
        A = A.permute(rest + dd)
    res_shape = A._shape[B.dim():]
    n = numel_of(res_shape)
    r = _lf.solve(A.reshape(numel_of(B._shape), n), B.reshape(-1)).reshape(res_shape)
    return _ip.write_out(out, r) if out is not None else r


def vander(x, *, N=None):
    if x.dim() == 0:
        x = x.unsqueeze(0)
    n = x._shape[-1] if N is None else N
    check(n >= 0, "N must be non-negative.")
    from .creation import ones, zeros
    from .shape import cat
    xp = x if x._dtype is not D.bool_ else x.to(D.int64)
    if n == 0:
        return zeros(x._shape + (0,), dtype=xp._dtype, device=x._storage.device)
    first = ones(x._shape + (1,), dtype=xp._dtype, device=x._storage.device)
    if n == 1:
        return first + xp.unsqueeze(-1) * 0
    rest = xp.unsqueeze(-1).expand(x._shape + (n - 1,)).cumprod(-1)
    return cat([first, rest], -1)


def diagonal(A, *, offset=0, dim1=-2, dim2=-1):
    return A.diagonal(offset, dim1, dim2)


def _register_all():
    L = "linalg"

    def reg(name, fn, opinfo=None, **kw):
        register(name, fn, "linalg", namespace=L, method=False,
                 opinfo=opinfo if opinfo is not None else (f"linalg.{name}",), **kw)
    # singular vectors / eigenvectors: signs differ from LAPACK's, so only the value-unique ops name OpInfos
    reg("svd", svd, primitive="svd_jacobi", opinfo=())
    reg("svdvals", svdvals, primitive="svd_jacobi")
    reg("eigh", eigh, primitive="eigh_jacobi", opinfo=())
    reg("eigvalsh", eigvalsh, primitive="eigh_jacobi")
    reg("pinv", pinv, primitive="svd_jacobi")
    reg("matrix_rank", matrix_rank, primitive="svd_jacobi", derivative=False)
    reg("cond", cond, primitive="svd_jacobi")
    reg("householder_product", householder_product, primitive="orgqr")
    reg("tensorinv", tensorinv)
    reg("tensorsolve", tensorsolve)
    reg("vander", vander)
    reg("diagonal", diagonal)
    register("svd", torch_svd, "linalg", primitive="svd_jacobi", opinfo=())
    register("pinverse", pinverse, "linalg", primitive="svd_jacobi")
    register("geqrf", geqrf, "linalg", primitive="geqrf", derivative=False)
    register("cholesky_solve", cholesky_solve, "linalg", primitive="trsm")
    register("cholesky_inverse", cholesky_inverse, "linalg", primitive="trsm")
    register("lu_unpack", lu_unpack, "linalg", method=False)
    register("lu", torch_lu, "linalg", primitive="lu", opinfo=("lu",))
    register("lu_solve", torch_lu_solve, "linalg", primitive="lu/lu_solve", opinfo=("lu_solve",))
    register("triangular_solve", triangular_solve, "linalg", primitive="trsm")


_register_all()
