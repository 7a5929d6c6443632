"""torch.linalg factorizations and what is built on them: inv, det, slogdet, solve, cholesky, qr, lu_factor, lu,
lu_solve, solve_triangular, matrix_power (the SVD / eigh family is in linalg_spectral.py).

Forward passes run the wasm_ext/linalg.c kernels (LAPACK's unblocked algorithms) on a contiguous float32/float64
copy; derivatives are PyTorch's (derivatives.yaml / FunctionsManual.cpp) written with torch_js ops, so they can be
differentiated again. Failures raise torch.linalg.LinAlgError with PyTorch's messages.
"""
from .. import _dtype as D
from .._tensor import Tensor, _empty, numel_of, wrap_dim
from ._registry import register
from ._util import GRAD_ENABLED, broadcast_shapes, check, record
from .reduction import _named_result
from . import inplace as _ip


class LinAlgError(RuntimeError):
    """torch.linalg.LinAlgError: a factorization failed (singular / not positive-definite input)."""


LinAlgError.__module__ = "torch_js.linalg"


def _result_type(name, fields):
    """A torch.return_types.<name> lookalike: a tuple with named fields."""
    def make_prop(i):
        return property(lambda self: self[i])
    ns = {"__slots__": (), "_fields": fields}
    for i, f in enumerate(fields):
        ns[f] = make_prop(i)
    ns["__repr__"] = lambda self: (f"torch.return_types.{name}(\n" + ",\n".join(
        f"{f}={v!r}" for f, v in zip(fields, self)) + ")")
    return type(name, (tuple,), ns)


SlogdetResult = _result_type("linalg_slogdet", ("sign", "logabsdet"))
InvExResult = _result_type("linalg_inv_ex", ("inverse", "info"))
SolveExResult = _result_type("linalg_solve_ex", ("result", "info"))
CholeskyExResult = _result_type("linalg_cholesky_ex", ("L", "info"))
QRResult = _result_type("linalg_qr", ("Q", "R"))
TorchQRResult = _result_type("qr", ("Q", "R"))
LuFactorResult = _result_type("linalg_lu_factor", ("LU", "pivots"))
LuFactorExResult = _result_type("linalg_lu_factor_ex", ("LU", "pivots", "info"))
LuResult = _result_type("linalg_lu", ("P", "L", "U"))
TorchSlogdetResult = _result_type("slogdet", ("sign", "logabsdet"))


# ---- helpers -----------------------------------------------------------------------------------------------

def _mT(x):
    return x.transpose(-2, -1)


def _check_float(A, fname):
    if not A._dtype.is_floating_point:
        raise RuntimeError(f"{fname}: Expected a floating point or complex tensor as input. Got "
                           f"{D.scalar_type_name(A._dtype)}")
    if A._dtype in (D.float16, D.bfloat16):
        raise RuntimeError(f"{fname}: Low precision dtypes not supported. Got {D.scalar_type_name(A._dtype)}")


def _check_matrix(A, fname, square=True, arg="A"):
    check(isinstance(A, Tensor), lambda: f"{fname}(): argument '{arg}' (position 1) must be Tensor, not "
                                         f"{type(A).__name__}", TypeError)
    if A.dim() < 2:
        raise RuntimeError(f"{fname}: The input tensor {arg} must have at least 2 dimensions.")
    if square and A._shape[-1] != A._shape[-2]:
        raise RuntimeError(f"{fname}: {arg} must be batches of square matrices, but they are {A._shape[-2]} by "
                           f"{A._shape[-1]} matrices")
    _check_float(A, fname)


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


def _backend(x):
    b = x._storage.backend
    if not hasattr(b, "lu"):
        raise NotImplementedError(f"torch_js: linear algebra factorizations are not implemented on "
                                  f"{x._storage.device}; move the tensor to the CPU")
    return b


def _eye_like(n, x):
    from .creation import eye
    return eye(n, dtype=x._dtype, device=x._storage.device)


def _tri_mask(n, m, k, upper, like):
    """bool (n, m): j - i >= k (upper) or j - i <= k (lower)."""
    from .creation import arange
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


def _batch_msg(fname, info, batched):
    """(message prefix, 1-based info) for the first failing batch element, or None."""
    if info.numel() == 0:
        return None
    vals = info.reshape(-1).tolist()
    for b, v in enumerate(vals):
        if v > 0:
            return (f"{fname}: (Batch element {b}): " if batched else f"{fname}: "), v
    return None


# ---- LU ----------------------------------------------------------------------------------------------------

def _lu_raw(A):
    """Packed LU of A (no autograd): (LU (..., m, n), pivots int64 1-based (..., min(m, n)), info int64 (...))."""
    m, n = A._shape[-2], A._shape[-1]
    lu = _work_copy(A)
    batch = A._shape[:-2]
    piv = _empty(batch + (min(m, n),), D.int64, A._storage.device)
    info = _empty(batch, D.int64, A._storage.device)
    nb = numel_of(batch)
    if nb and m and n:
        _backend(A).lu(lu, piv, info, nb, m, n)
    elif nb:
        info._storage.backend.fill(info, 0)
    return lu, piv, info


def _lu_solve_raw(lu, piv, B):
    """A^{-1} B for B (..., n, k), broadcast to lu's batch shape (no autograd)."""
    n, k = B._shape[-2], B._shape[-1]
    batch = lu._shape[:-2]
    X = _work_copy(B, batch + (n, k))
    nb = numel_of(batch)
    if nb and n and k:
        _backend(B).lu_solve(lu, piv, X, nb, n, k)
    return X


def _det_from_lu(lu, piv):
    from .creation import arange
    n = lu._shape[-1]
    diag = lu.diagonal(0, -2, -1)
    swaps = (piv != arange(1, n + 1, device=piv._storage.device)).sum(-1)
    sign = 1 - 2 * (swaps % 2)
    return diag, sign.to(lu._dtype)


# ---- inv ---------------------------------------------------------------------------------------------------

def _inv_backward(ctx, g, ginfo=None):
    (Ainv,) = ctx.saved_tensors
    if g is None:
        return (None,)
    AinvT = _mT(Ainv)
    return (-(AinvT.matmul(g).matmul(AinvT)),)


def _inv_impl(A, fname, check_errors):
    _check_matrix(A, fname)
    n = A._shape[-1]
    lu, piv, info = _lu_raw(A)
    if check_errors:
        bad = _batch_msg(fname, info, A.dim() > 2)
        if bad:
            raise LinAlgError(f"{bad[0]}The diagonal element {bad[1]} is zero, the inversion could not be "
                              f"completed because the input matrix is singular.")
    eye = _eye_like(n, A).expand(A._shape)
    Ainv = _lu_solve_raw(lu, piv, eye)
    if GRAD_ENABLED[0] and A._requires_grad:
        record("LinalgInvExBackward0", _inv_backward, (A,), (Ainv,), save_outputs=(Ainv,))
    return Ainv, info.to(D.int32)


def inv(A, *, out=None):
    r = _inv_impl(A, "linalg.inv", True)[0]
    return _ip.write_out(out, r) if out is not None else r


def inv_ex(A, *, check_errors=False, out=None):
    return InvExResult(_inv_impl(A, "linalg.inv_ex", check_errors))


def inverse(input, *, out=None):
    return inv(input, out=out)


# ---- det / slogdet / logdet ---------------------------------------------------------------------------------

def _det_backward(ctx, g):
    A, det = ctx.saved_tensors
    return (_det_grad(A, det, g),)


def _det_grad(A, det, g):
    """PyTorch's linalg_det_backward: (g·det)·A^{-T} for invertible A, the SVD cofactor formula otherwise."""
    n = A._shape[-1]
    if n == 0 or A.numel() == 0:
        return g.unsqueeze(-1).unsqueeze(-1).expand(A._shape) * 0
    singular = bool((det == 0).any().item())
    if not singular:
        return (g * det).unsqueeze(-1).unsqueeze(-1) * _mT(inv(A))
    # cofactor matrix through the SVD: A = U S V^T, det A = det U det V prod S,
    # d(prod S)/dS_i = prod_{j != i} S_j.
    from .linalg_spectral import _svd_parts
    U, S, V = _svd_parts(A.detach())
    alpha = (det_raw(U) * det_raw(V)).unsqueeze(-1)
    others = _prod_others(S)
    D_ = (g.unsqueeze(-1) * alpha * others)
    return (U * D_.unsqueeze(-2)).matmul(_mT(V))


def _prod_others(S):
    """prod_{j != i} S_j along the last dim, exact when some S_j are zero."""
    n = S._shape[-1]
    from .shape import stack
    cols = []
    for i in range(n):
        idx = [j for j in range(n) if j != i]
        if idx:
            from .creation import tensor
            sel = S.index_select(-1, tensor(idx, device=S._storage.device))
            cols.append(sel.prod(-1))
        else:
            cols.append(S[..., 0] * 0 + 1)
    return stack(cols, -1)


def det_raw(A):
    """det without autograd."""
    lu, piv, _ = _lu_raw(A)
    diag, sign = _det_from_lu(lu, piv)
    return diag.prod(-1) * sign


def det(A, *, out=None):
    _check_matrix(A, "linalg.det")
    r = det_raw(A)
    if GRAD_ENABLED[0] and A._requires_grad:
        record("LinalgDetBackward0", _det_backward, (A,), (r,), save_inputs=(A,), save_outputs=(r,))
    return _ip.write_out(out, r) if out is not None else r


def _slogdet_backward(ctx, gsign, glogabsdet):
    (A,) = ctx.saved_tensors
    if glogabsdet is None:
        return (None,)
    if A.numel() == 0:
        return (glogabsdet.unsqueeze(-1).unsqueeze(-1).expand(A._shape) * 0,)
    return (glogabsdet.unsqueeze(-1).unsqueeze(-1) * _mT(inv(A)),)


def _slogdet_impl(A, fname):
    _check_matrix(A, fname)
    lu, piv, _ = _lu_raw(A)
    diag, sign = _det_from_lu(lu, piv)
    sgn = diag.sign().prod(-1) * sign
    logabs = diag.abs().log().sum(-1)
    if GRAD_ENABLED[0] and A._requires_grad:
        record("LinalgSlogdetBackward0", _slogdet_backward, (A,), (sgn, logabs), save_inputs=(A,))
    return sgn, logabs


def slogdet(A, *, out=None):
    return SlogdetResult(_slogdet_impl(A, "linalg.slogdet"))


def torch_slogdet(input):
    return TorchSlogdetResult(_slogdet_impl(input, "linalg.slogdet"))


def logdet(input):
    sgn, logabs = _slogdet_impl(input, "logdet")
    from .elementwise import where
    return where(sgn < 0, float("nan"), logabs)


# ---- solve -------------------------------------------------------------------------------------------------

def _solve_backward(ctx, gX):
    A, X = ctx.saved_tensors
    a_shape, b_shape = ctx.attrs
    ea, eb = ctx.next_functions
    gB = _solve_mat(_mT(A), gX)
    gA = -(gB.matmul(_mT(X))) if ea is not None else None
    if gA is not None and gA._shape != a_shape:
        gA = gA.sum_to_size(a_shape)
    if eb is not None and gB._shape != b_shape:
        gB = gB.sum_to_size(b_shape)
    return gA, (gB if eb is not None else None)


def _solve_mat(A, B, fname="torch.linalg.solve", check_errors=True, want_info=False):
    """X = A^{-1} B, B (..., n, k), batch dims broadcast; differentiable in A and B."""
    batch = broadcast_shapes(A._shape[:-2], B._shape[:-2])
    n, k = A._shape[-1], B._shape[-1]
    Ab = _work_copy(A, batch + (n, n))
    lu_t = _empty(batch + (n,), D.int64, A._storage.device)
    info = _empty(batch, D.int64, A._storage.device)
    info._storage.backend.fill(info, 0)
    nb = numel_of(batch)
    if nb and n:
        _backend(A).lu(Ab, lu_t, info, nb, n, n)
    if check_errors:
        bad = _batch_msg(fname, info, len(batch) > 0)
        if bad:
            raise LinAlgError(f"{bad[0]}The solver failed because the input matrix is singular.")
    X = _lu_solve_raw(Ab, lu_t, B)
    if GRAD_ENABLED[0] and (A._requires_grad or B._requires_grad):
        record("LinalgSolveExBackward0", _solve_backward, (A, B), (X,), attrs=(A._shape, B._shape),
               save_inputs=(A,), save_outputs=(X,))
    return (X, info) if want_info else X


def _solve_impl(A, B, left, fname, check_errors):
    check(isinstance(B, Tensor), lambda: f"linalg.solve(): argument 'B' must be Tensor, not {type(B).__name__}",
          TypeError)
    _check_matrix(A, "linalg.solve")
    if A._dtype is not B._dtype:
        raise RuntimeError(f"linalg.solve: Expected A and B to have the same dtype, but found A of type "
                           f"{D.scalar_type_name(A._dtype)} and B of type {D.scalar_type_name(B._dtype)} instead")
    vector = B.dim() == 1 or (B.dim() == A.dim() - 1 and B._shape == A._shape[:-1])
    if not left:
        # X A = B  <=>  A^T X^T = B^T
        Bm = B.unsqueeze(-2) if vector else _mT(B)
        A_ = _mT(A)
    else:
        Bm = B.unsqueeze(-1) if vector else B
        A_ = A
    n = A._shape[-1]
    if Bm._shape[-2] != n:
        bs = B._shape
        shown = f"{bs[-1]}x1" if vector else f"{bs[-2]}x{bs[-1]}"
        raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation "
                           f"{'AX = B' if left else 'XA = B'} ({A._shape[-2]}x{A._shape[-1]} and {shown})")
    X, info = _solve_mat(A_, Bm, fname, check_errors, want_info=True)
    if vector:
        X = X.squeeze(-1) if left else X.squeeze(-2)
    elif not left:
        X = _mT(X)
    return X, info.to(D.int32)


def solve(A, B, *, left=True, out=None):
    r = _solve_impl(A, B, left, "torch.linalg.solve", True)[0]
    return _ip.write_out(out, r) if out is not None else r


def solve_ex(A, B, *, left=True, check_errors=False, out=None):
    return SolveExResult(_solve_impl(A, B, left, "torch.linalg.solve_ex", check_errors))


# ---- triangular solve ----------------------------------------------------------------------------------------

def _trsm_raw(A, B, upper, unitriangular):
    """A^{-1} B for triangular A (left); batch dims broadcast (no autograd)."""
    batch = broadcast_shapes(A._shape[:-2], B._shape[:-2])
    n, k = B._shape[-2], B._shape[-1]
    X = _work_copy(B, batch + (n, k))
    nb = numel_of(batch)
    if nb and n and k:
        Ae = A.detach().expand(batch + (n, n))
        Ae = Ae.reshape((nb, n, n))  # a view when the batch dims are uniform, a copy otherwise
        _backend(A).trsm(Ae, Ae._stride, X, nb, n, k, upper, unitriangular)
    return X


def _solve_triangular_backward(ctx, gX):
    A, X = ctx.saved_tensors
    upper, left, unit, a_shape, b_shape = ctx.attrs
    ea, eb = ctx.next_functions
    gB = solve_triangular(_mT(A), gX, upper=not upper, left=left, unitriangular=unit)
    gA = None
    if ea is not None:
        gA = -(gB.matmul(_mT(X))) if left else -(_mT(X).matmul(gB))
        gA = _triu(gA, 1 if unit else 0) if upper else _tril(gA, -1 if unit else 0)
        if gA._shape != a_shape:
            gA = gA.sum_to_size(a_shape)
    if eb is not None and gB._shape != b_shape:
        gB = gB.sum_to_size(b_shape)
    return gA, (gB if eb is not None else None)


def solve_triangular(A, B, *, upper, left=True, unitriangular=False, out=None):
    _check_matrix(A, "linalg.solve_triangular")
    check(B.dim() >= 2, "linalg.solve_triangular: The input tensor B must have at least 2 dimensions.")
    if A._dtype is not B._dtype:
        raise RuntimeError(f"linalg.solve_triangular: Expected A and B to have the same dtype, but found A of type "
                           f"{D.scalar_type_name(A._dtype)} and B of type {D.scalar_type_name(B._dtype)} instead")
    n = A._shape[-1]
    if (B._shape[-2] if left else B._shape[-1]) != n:
        raise RuntimeError(f"linalg.solve_triangular: Incompatible shapes of A and B for the equation "
                           f"{'AX = B' if left else 'XA = B'} ({A._shape[-2]}x{A._shape[-1]} and "
                           f"{B._shape[-2]}x{B._shape[-1]})")
    if left:
        X = _trsm_raw(A, B, upper, unitriangular)
    else:
        X = _mT(_trsm_raw(_mT(A), _mT(B), not upper, unitriangular))
    if GRAD_ENABLED[0] and (A._requires_grad or B._requires_grad):
        record("LinalgSolveTriangularBackward0", _solve_triangular_backward, (A, B), (X,),
               attrs=(upper, left, unitriangular, A._shape, B._shape), save_inputs=(A,), save_outputs=(X,))
    return _ip.write_out(out, X) if out is not None else X


# ---- Cholesky ----------------------------------------------------------------------------------------------

def _cholesky_backward(ctx, gL, ginfo=None):
    (L,) = ctx.saved_tensors
    (upper,) = ctx.attrs
    if gL is None:
        return (None,)
    if upper:
        L, gL = _mT(L), _mT(gL)
    gA = _tril(_mT(L).matmul(gL))
    gA = 0.5 * (gA + _mT(_tril(gA, -1)))
    gA = solve_triangular(_mT(L), gA, upper=True, left=True)
    gA = solve_triangular(L, gA, upper=False, left=False)
    return (gA,)


def _cholesky_impl(A, upper, fname, check_errors):
    _check_matrix(A, fname)
    n = A._shape[-1]
    # LAPACK reads one triangle: the upper one for upper=True, i.e. the lower one of A^T
    L = _work_copy(_mT(A) if upper else A)
    batch = A._shape[:-2]
    info = _empty(batch, D.int64, A._storage.device)
    info._storage.backend.fill(info, 0)
    nb = numel_of(batch)
    if nb and n:
        _backend(A).cholesky(L, info, nb, n)
    if check_errors:
        bad = _batch_msg(fname, info, A.dim() > 2)
        if bad:
            raise LinAlgError(f"{bad[0]}The factorization could not be completed because the input is not "
                              f"positive-definite (the leading minor of order {bad[1]} is not positive-definite).")
    R = _mT(L).contiguous() if upper else L
    if GRAD_ENABLED[0] and A._requires_grad:
        record("LinalgCholeskyExBackward0", _cholesky_backward, (A,), (R,), attrs=(upper,), save_outputs=(R,))
    return R, info.to(D.int32)


def cholesky(A, *, upper=False, out=None):
    r = _cholesky_impl(A, upper, "linalg.cholesky", True)[0]
    return _ip.write_out(out, r) if out is not None else r


def cholesky_ex(A, *, upper=False, check_errors=False, out=None):
    return CholeskyExResult(_cholesky_impl(A, upper, "linalg.cholesky_ex", check_errors))


def torch_cholesky(input, upper=False, *, out=None):
    r = _cholesky_impl(input, upper, "linalg.cholesky", True)[0]
    return _ip.write_out(out, r) if out is not None else r


# ---- QR ----------------------------------------------------------------------------------------------------

def _qr_backward(ctx, gQ, gR):
    (mode,) = ctx.attrs
    if mode == "r":
        raise RuntimeError("The derivative of linalg.qr depends on Q, which is not computed when mode='r'. Please "
                           "use linalg.qr(A, mode='reduced') if you are going to differentiate through linalg.qr.")
    Q, R = ctx.saved_tensors
    m, n = Q._shape[-2], R._shape[-1]
    if mode == "complete" and m > n:
        raise RuntimeError("The QR decomposition is not differentiable when mode='complete' and nrows > ncols.")
    if gQ is None and gR is None:
        return (None,)
    if gQ is not None:
        gA = (gR.matmul(_mT(R)) - _mT(Q).matmul(gQ)) if gR is not None else -(_mT(Q).matmul(gQ))
    else:
        gA = gR.matmul(_mT(R))
    if m >= n:
        sym = _triu(gA)
        sym = sym + _mT(sym)
        sym = sym - _diag_embed(sym.diagonal(0, -2, -1) * 0.5)
        gA = Q.matmul(sym)
        if gQ is not None:
            gA = gA + gQ
        return (solve_triangular(_mT(R), gA, upper=False, left=False),)
    X = -gA
    skew = _tril(X - _mT(X))
    gA = Q.matmul(skew)
    gA = solve_triangular(_mT(R.narrow(-1, 0, m)), gA, upper=False, left=False)
    from .creation import zeros
    from .shape import cat
    gA = cat([gA, zeros(R._shape[:-1] + (n - m,), dtype=gA._dtype, device=gA._storage.device)], -1)
    if gR is not None:
        gA = gA + Q.matmul(gR)
    return (gA,)


def _qr_impl(A, mode, fname):
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of 'reduced' (default), 'r', "
                           f"or 'complete'")
    _check_matrix(A, fname, square=False)
    m, n = A._shape[-2], A._shape[-1]
    k = min(m, n)
    batch = A._shape[:-2]
    nb = numel_of(batch)
    dev = A._storage.device
    work = _work_copy(A)
    tau = _empty(batch + (k,), A._dtype, dev)
    if nb and m and n:
        _backend(A).geqrf(work, tau, nb, m, n)
    from .creation import zeros
    R = _triu(work if mode == "complete" else work.narrow(-2, 0, k)).contiguous()
    if mode == "r":
        Q = _empty((0,), A._dtype, dev)
    else:
        nc = m if mode == "complete" else k
        Q = zeros(batch + (m, nc), dtype=A._dtype, device=dev)
        if nb and m and nc:
            if k:
                Q.narrow(-1, 0, k).copy_(work.narrow(-1, 0, k))
            _backend(A).orgqr(Q, tau, nb, m, nc, k)
    if GRAD_ENABLED[0] and A._requires_grad:
        record("LinalgQrBackward0", _qr_backward, (A,), (Q if mode != "r" else None, R), attrs=(mode,),
               save_outputs=(Q, R) if mode != "r" else (R,))
    return Q, R


def qr(A, mode="reduced", *, out=None):
    return QRResult(_qr_impl(A, mode, "linalg.qr"))


def torch_qr(input, some=True, *, out=None):
    return TorchQRResult(_qr_impl(input, "reduced" if some else "complete", "qr"))


# ---- LU factor ------------------------------------------------------------------------------------------------

def _lu_backward(gL, gU, P, L, U):
    """PyTorch's linalg_lu_backward (A = P L U, pivoted)."""
    if gL is None and gU is None:
        return None
    m, n = L._shape[-2], U._shape[-1]
    k = min(m, n)
    from .shape import cat
    from .creation import zeros_like
    if m == n:
        gA = None
        if gL is not None:
            gA = _tril(_mT(L).matmul(gL), -1)
        if gU is not None:
            up = _triu(gU.matmul(_mT(U)))
            gA = up if gA is None else gA + up
        gA = solve_triangular(_mT(U), gA, upper=False, left=False)
        gA = solve_triangular(_mT(L), gA, upper=True, left=True, unitriangular=True)
    elif m < n:
        U1 = U.narrow(-1, 0, k)
        gA = None
        if gL is not None:
            gA = _mT(L).matmul(gL)
        if gU is not None:
            term = -(_triu(gU).matmul(_mT(U)))
            gA = term if gA is None else gA + term
        gA = solve_triangular(_mT(U1), _tril(gA, -1), upper=False, left=False)
        if gU is not None:
            gA = cat([gA + _triu(gU.narrow(-1, 0, k)), gU.narrow(-1, k, n - k)], -1)
        gA = solve_triangular(_mT(L), gA, upper=True, left=True, unitriangular=True)
        if gU is None:
            gA = cat([gA, zeros_like(U.narrow(-1, k, n - k))], -1)
    else:
        L1 = L.narrow(-2, 0, k)
        gA = None
        if gU is not None:
            gA = gU.matmul(_mT(U))
        if gL is not None:
            term = -(_mT(L).matmul(_tril(gL, -1)))
            gA = term if gA is None else gA + term
        gA = solve_triangular(_mT(L1), _triu(gA), upper=True, left=True, unitriangular=True)
        if gL is not None:
            gA = cat([gA + _tril(gL.narrow(-2, 0, k), -1), gL.narrow(-2, k, m - k)], -2)
        gA = solve_triangular(_mT(U), gA, upper=False, left=False)
        if gL is None:
            gA = cat([gA, zeros_like(L.narrow(-2, k, m - k))], -2)
    return P.matmul(gA)


def _lu_factor_backward(ctx, g, gpiv=None, ginfo=None):
    piv, LU = ctx.saved_tensors
    if g is None:
        return (None,)
    P, L, U = _lu_unpack(LU, piv)
    k = min(LU._shape[-2], LU._shape[-1])
    return (_lu_backward(g.narrow(-1, 0, k), g.narrow(-2, 0, k), P, L, U),)


def _lu_factor_impl(A, fname, check_errors):
    _check_matrix(A, fname, square=False)
    lu_, piv, info = _lu_raw(A)
    if check_errors:
        bad = _batch_msg(fname, info, A.dim() > 2)
        if bad:
            raise LinAlgError(f"{bad[0]}The factorization could not be completed because the input is singular "
                              f"(U[{bad[1]}, {bad[1]}] is zero).")
    if GRAD_ENABLED[0] and A._requires_grad:
        record("LinalgLuFactorExBackward0", _lu_factor_backward, (A,), (lu_,), save_outputs=(lu_,),
               save_inputs=(piv,))
    return lu_, piv.to(D.int32), info.to(D.int32)


def lu_factor_ex(A, *, pivot=True, check_errors=False, out=None):
    if not pivot:
        raise RuntimeError("linalg.lu_factor: LU without pivoting is not implemented on the CPU")
    return LuFactorExResult(_lu_factor_impl(A, "torch.linalg.lu_factor_ex", check_errors))


def lu_factor(A, *, pivot=True, out=None):
    if not pivot:
        raise RuntimeError("linalg.lu_factor: LU without pivoting is not implemented on the CPU")
    lu_, piv, _ = _lu_factor_impl(A, "torch.linalg.lu_factor", True)
    return LuFactorResult((lu_, piv))


def lu_solve(LU, pivots, B, *, left=True, adjoint=False, out=None):
    """linalg.lu_solve: differentiable in B (through solve with the unpacked factors) and in LU."""
    P, L, U = _lu_unpack(LU, pivots.to(D.int64))
    A = P.matmul(L).matmul(U)
    return solve(_mT(A) if adjoint else A, B, left=left)


def _lu_unpack(LU, piv):
    """(P, L, U) from a packed LU (L unit lower m×k, U upper k×n); P built from the 1-based row swaps."""
    from .creation import arange, tensor
    m, n = LU._shape[-2], LU._shape[-1]
    k = min(m, n)
    dev = LU._storage.device
    L = _tril(LU.narrow(-1, 0, k), -1) + _eye_rect(m, k, LU)
    U = _triu(LU.narrow(-2, 0, k))
    batch = LU._shape[:-2]
    nb = numel_of(batch)
    rows = piv.reshape(nb, k).tolist() if nb and k else [[] for _ in range(nb)]
    perms = []
    for row in rows:
        p = list(range(m))
        for i, s in enumerate(row):
            s -= 1
            p[i], p[s] = p[s], p[i]
        perms.append(p)
    idx = tensor(perms, dtype=D.int64, device=dev).reshape(batch + (m,))
    # (P^T A)[i] = A[p[i]]  <=>  P[p[i], i] = 1
    P = (arange(m, device=dev).unsqueeze(-1) == idx.unsqueeze(-2)).to(LU._dtype)
    return P, L, U


def _eye_rect(m, k, like):
    from .creation import eye
    return eye(m, k, dtype=like._dtype, device=like._storage.device)


def _lu_backward_node(ctx, gP, gL, gU):
    P, L, U = ctx.saved_tensors
    return (_lu_backward(gL, gU, P, L, U),)


def lu(A, *, pivot=True, out=None):
    _check_matrix(A, "linalg.lu", square=False)
    if not pivot:
        raise RuntimeError("linalg.lu: LU without pivoting is not implemented on the CPU")
    lu_, piv, _ = _lu_raw(A)
    P, L, U = _lu_unpack(lu_, piv)
    L, U = L.contiguous(), U.contiguous()
    if GRAD_ENABLED[0] and A._requires_grad:
        record("LinalgLuBackward0", _lu_backward_node, (A,), (None, L, U), save_inputs=(P,), save_outputs=(L, U))
    return LuResult((P, L, U))


# ---- matrix_power ---------------------------------------------------------------------------------------------

def matrix_power(A, n, *, out=None):
    check(isinstance(n, int), "matrix_power(): argument 'n' must be int")
    if A.dim() < 2:
        raise RuntimeError(f"linalg.matrix_power: The input tensor A must have at least 2 dimensions.")
    if A._shape[-1] != A._shape[-2]:
        raise RuntimeError(f"linalg.matrix_power: A must be batches of square matrices, but they are "
                           f"{A._shape[-2]} by {A._shape[-1]} matrices")
    if n == 0:
        r = _eye_like(A._shape[-1], A).expand(A._shape).contiguous()
        if A._requires_grad and GRAD_ENABLED[0]:
            r = r + A * 0
        return _ip.write_out(out, r) if out is not None else r
    if n < 0:
        A = inv(A)
        n = -n
    result = None
    z = A
    while True:
        if n & 1:
            result = z if result is None else result.matmul(z)
        n >>= 1
        if not n:
            break
        z = z.matmul(z)
    return _ip.write_out(out, result) if out is not None else result


def _register_all():
    L = "linalg"
    reg = lambda name, fn, opinfo=None, **kw: register(name, fn, "linalg", namespace=L, method=False,  # noqa: E731
                                                       opinfo=opinfo if opinfo is not None else (f"linalg.{name}",),
                                                       **kw)
    reg("inv", inv, primitive="lu/lu_solve")
    reg("inv_ex", inv_ex, primitive="lu/lu_solve")
    reg("det", det, primitive="lu")
    reg("slogdet", slogdet, primitive="lu")
    reg("solve", solve, primitive="lu/lu_solve")
    reg("solve_ex", solve_ex, primitive="lu/lu_solve")
    reg("solve_triangular", solve_triangular, primitive="trsm")
    reg("cholesky", cholesky, primitive="cholesky")
    reg("cholesky_ex", cholesky_ex, primitive="cholesky")
    reg("qr", qr, primitive="geqrf/orgqr")
    reg("lu_factor", lu_factor, primitive="lu")
    reg("lu_factor_ex", lu_factor_ex, primitive="lu")
    reg("lu", lu, primitive="lu")
    reg("lu_solve", lu_solve, primitive="lu/lu_solve")
    reg("matrix_power", matrix_power)
    register("det", det, "linalg", primitive="lu", opinfo=())
    register("logdet", logdet, "linalg", opinfo=("logdet",))
    register("slogdet", torch_slogdet, "linalg", primitive="lu", opinfo=())
    register("inverse", inverse, "linalg", primitive="lu/lu_solve", opinfo=())
    register("cholesky", torch_cholesky, "linalg", primitive="cholesky", opinfo=("cholesky",))
    register("qr", torch_qr, "linalg", primitive="geqrf/orgqr", opinfo=("qr",))
    register("matrix_power", matrix_power, "linalg", opinfo=())


_register_all()
