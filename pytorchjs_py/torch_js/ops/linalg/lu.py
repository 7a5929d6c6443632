"""The LU factorization (the lu and lu_solve kernels, LAPACK's getrf/getrs) and what is computed through it: inv,
det, slogdet, logdet, solve, linalg.lu_factor / lu / lu_solve, torch.lu / lu_solve / lu_unpack, matrix_power,
tensorinv, tensorsolve.

Forward passes run the wasm_ext/linalg.c kernels (LAPACK's unblocked algorithms) on a contiguous float32/float64
copy; derivatives are PyTorch's (derivatives.yaml / FunctionsManual.cpp) written with torch_js ops, so they can be
differentiated again. Failures raise torch.linalg.LinAlgError with PyTorch's messages.
"""
from ... import _dtype as D
from ..._tensor import Tensor, _empty, numel_of, wrap_dim
from .._registry import backward, linalg_ops, register
from .._util import GRAD_ENABLED, broadcast_shapes, check, record, warn_once_at_caller
from .. import inplace as _ip
from ..creation import arange, tensor, zeros_like
from ..elementwise import where
from ..shape import cat, stack
from ._common import (LinAlgError, _batch_msg, _check_matrix, _eye_like, _eye_rect, _mT, _result_type,
                      _tril, _triu, _work_copy)
from .triangular import solve_triangular

SlogdetResult = _result_type("linalg_slogdet", ("sign", "logabsdet"))
TorchSlogdetResult = _result_type("slogdet", ("sign", "logabsdet"))
InvExResult = _result_type("linalg_inv_ex", ("inverse", "info"))
SolveExResult = _result_type("linalg_solve_ex", ("result", "info"))
LuFactorResult = _result_type("linalg_lu_factor", ("LU", "pivots"))
LuFactorExResult = _result_type("linalg_lu_factor_ex", ("LU", "pivots", "info"))
LuResult = _result_type("linalg_lu", ("P", "L", "U"))
LuUnpackResult = _result_type("lu_unpack", ("P", "L", "U"))


def _lu_raw(A):
    """Packed LU of A (no autograd): (LU (..., m, n), pivots int64 1-based (..., min(m, n)), info int64 (...))."""
    m, n = A._shape[-2], A._shape[-1]
    lu = _work_copy(A)
    batch = A._shape[:-2]
    piv = _empty(batch + (min(m, n),), D.int64, A._storage.device)
    info = _empty(batch, D.int64, A._storage.device)
    nb = numel_of(batch)
    if nb and m and n:
        A._storage.backend.lu(lu, piv, info, nb, m, n)
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
        B._storage.backend.lu_solve(lu, piv, X, nb, n, k)
    return X


def _det_from_lu(lu, piv):
    n = lu._shape[-1]
    diag = lu.diagonal(0, -2, -1)
    swaps = (piv != arange(1, n + 1, device=piv._storage.device)).sum(-1)
    sign = 1 - 2 * (swaps % 2)
    return diag, sign.to(lu._dtype)


# ---- inv -------------------------------------------------------------------------------------------------------


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


register("inv", inv, "linalg", namespace="linalg", method=False, primitive="lu/lu_solve", dtype="linalg",
         derivative=backward(_inv_backward), opinfo=("linalg.inv",))


def inv_ex(A, *, check_errors=False, out=None):
    return _ip.write_outs(out, InvExResult(_inv_impl(A, "linalg.inv_ex", check_errors)))


register("inv_ex", inv_ex, "linalg", namespace="linalg", method=False, primitive="lu/lu_solve", dtype="linalg",
         derivative=backward(_inv_backward), opinfo=("linalg.inv_ex",))


def inverse(input, *, out=None):
    return inv(input, out=out)


register("inverse", inverse, "linalg", dtype="linalg", opinfo=())


# ---- det / slogdet / logdet ------------------------------------------------------------------------------------


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
    # spectral.py sits above this module: its SVD is reached through the registry
    U, S, Vh = linalg_ops.svd(A.detach(), full_matrices=False)
    V = _mT(Vh)
    alpha = (det_raw(U) * det_raw(V)).unsqueeze(-1)
    others = _prod_others(S)
    D_ = (g.unsqueeze(-1) * alpha * others)
    return (U * D_.unsqueeze(-2)).matmul(_mT(V))


def _prod_others(S):
    """prod_{j != i} S_j along the last dim, exact when some S_j are zero."""
    n = S._shape[-1]
    cols = []
    for i in range(n):
        idx = [j for j in range(n) if j != i]
        if idx:
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


register("det", det, "linalg", namespace="linalg", method=False, primitive="lu", dtype="linalg",
         derivative=backward(_det_backward), opinfo=("linalg.det",))
def torch_det(input):
    """torch.det / Tensor.det: linalg.det without out= (PyTorch's torch.det takes none)."""
    return det(input)


register("det", torch_det, "linalg", primitive="lu", dtype="linalg", derivative=backward(_det_backward), opinfo=())


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
    return _ip.write_outs(out, SlogdetResult(_slogdet_impl(A, "linalg.slogdet")))


register("slogdet", slogdet, "linalg", namespace="linalg", method=False, primitive="lu", dtype="linalg",
         derivative=backward(_slogdet_backward), opinfo=("linalg.slogdet",))


def torch_slogdet(input, *, out=None):
    return _ip.write_outs(out, TorchSlogdetResult(_slogdet_impl(input, "linalg.slogdet")))


register("slogdet", torch_slogdet, "linalg", primitive="lu", dtype="linalg", derivative=backward(_slogdet_backward),
         opinfo=())


def logdet(input):
    sgn, logabs = _slogdet_impl(input, "logdet")
    return where(sgn < 0, float("nan"), logabs)


register("logdet", logdet, "linalg", primitive="lu", dtype="linalg", derivative=backward(_slogdet_backward),
         opinfo=("logdet",))


# ---- solve -----------------------------------------------------------------------------------------------------


def _solve_backward(ctx, gX):
    A, X = ctx.saved_tensors
    a_shape, b_shape = ctx.attrs
    ea, eb = ctx.edges
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
    n = A._shape[-1]
    Ab = _work_copy(A, batch + (n, n))
    lu_t = _empty(batch + (n,), D.int64, A._storage.device)
    info = _empty(batch, D.int64, A._storage.device)
    info._storage.backend.fill(info, 0)
    nb = numel_of(batch)
    if nb and n:
        A._storage.backend.lu(Ab, lu_t, info, nb, n, n)
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


register("solve", solve, "linalg", namespace="linalg", method=False, primitive="lu/lu_solve", dtype="linalg",
         derivative=backward(_solve_backward), opinfo=("linalg.solve",))


def solve_ex(A, B, *, left=True, check_errors=False, out=None):
    return _ip.write_outs(out, SolveExResult(_solve_impl(A, B, left, "torch.linalg.solve_ex", check_errors)))


register("solve_ex", solve_ex, "linalg", namespace="linalg", method=False, primitive="lu/lu_solve",
         dtype="linalg", derivative=backward(_solve_backward), opinfo=("linalg.solve_ex",))


# ---- LU factor -------------------------------------------------------------------------------------------------


def _lu_backward(gL, gU, P, L, U):
    """PyTorch's linalg_lu_backward (A = P L U, pivoted)."""
    if gL is None and gU is None:
        return None
    m, n = L._shape[-2], U._shape[-1]
    k = min(m, n)
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
    return _ip.write_outs(out, LuFactorExResult(_lu_factor_impl(A, "torch.linalg.lu_factor_ex", check_errors)))


register("lu_factor_ex", lu_factor_ex, "linalg", namespace="linalg", method=False, primitive="lu",
         dtype="linalg", derivative=backward(_lu_factor_backward), opinfo=("linalg.lu_factor_ex",))


def lu_factor(A, *, pivot=True, out=None):
    if not pivot:
        raise RuntimeError("linalg.lu_factor: LU without pivoting is not implemented on the CPU")
    lu_, piv, _ = _lu_factor_impl(A, "torch.linalg.lu_factor", True)
    return _ip.write_outs(out, LuFactorResult((lu_, piv)))


register("lu_factor", lu_factor, "linalg", namespace="linalg", method=False, primitive="lu", dtype="linalg",
         derivative=backward(_lu_factor_backward), opinfo=("linalg.lu_factor",))


def _lu_unpack(LU, piv):
    """(P, L, U) from a packed LU (L unit lower m×k, U upper k×n); P built from the 1-based row swaps."""
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


def lu_solve(LU, pivots, B, *, left=True, adjoint=False, out=None):
    """linalg.lu_solve: differentiable in B (through solve with the unpacked factors) and in LU."""
    check(pivots._dtype is D.int32, "linalg.lu_solve: pivots should be a Tensor of scalar type torch.int32")
    check(numel_of(pivots._shape) == 0 or bool((pivots >= 1).all()), "Pivots given to lu_solve must all be greater "
          "or equal to 1. Did you properly pass the result of lu_factor?")
    P, L, U = _lu_unpack(LU, pivots.to(D.int64))
    A = P.matmul(L).matmul(U)
    return solve(_mT(A) if adjoint else A, B, left=left)


# the factors are unpacked and solved through with differentiable ops
register("lu_solve", lu_solve, "linalg", namespace="linalg", method=False, dtype="linalg", opinfo=("linalg.lu_solve",))


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
    return _ip.write_outs(out, LuResult((P, L, U)))


register("lu", lu, "linalg", namespace="linalg", method=False, primitive="lu", dtype="linalg",
         derivative=backward(_lu_backward_node), opinfo=("linalg.lu",))


# ---- the torch.lu family (packed factors) ----------------------------------------------------------------------


def lu_unpack(LU_data, LU_pivots, unpack_data=True, unpack_pivots=True, *, out=None):
    check(LU_pivots._dtype is D.int32, "torch.lu_unpack: LU_pivots is expected to be a contiguous tensor of "
          "torch.int32 dtype.\nNote: this function is intended to be used with the output produced by "
          "torch.linalg.lu_factor")
    m = LU_data._shape[-2] if LU_data.dim() >= 2 else 0
    check(numel_of(LU_pivots._shape) == 0 or numel_of(LU_data._shape) == 0 or
          bool(((LU_pivots >= 1) & (LU_pivots <= m)).all()),
          "pivots passed to lu_unpack must be between 1 and LU.size(-2) inclusive.Did you properly pass the result "
          "of lu_factor?")
    P, L, U = _lu_unpack(LU_data, LU_pivots.to(D.int64))
    # L and U through tril/triu of LU_data: differentiable as PyTorch's lu_unpack_backward
    return _ip.write_outs(out, LuUnpackResult((P, L, U)))


register("lu_unpack", lu_unpack, "linalg", method=False, dtype="linalg")


def torch_lu(A, pivot=True, get_infos=False, out=None):
    warn_once_at_caller("torch.lu is deprecated in favor of torch.linalg.lu_factor / torch.linalg.lu_factor_ex and "
                        "will be removed in a future PyTorch release.\nLU, pivots = torch.lu(A, compute_pivots)\n"
                        "should be replaced with\nLU, pivots = torch.linalg.lu_factor(A, compute_pivots)\nand\n"
                        "LU, pivots, info = torch.lu(A, compute_pivots, get_infos=True)\nshould be replaced with\n"
                        "LU, pivots, info = torch.linalg.lu_factor_ex(A, compute_pivots)")
    LU, piv, info = lu_factor_ex(A, pivot=pivot)
    return (LU, piv, info) if get_infos else (LU, piv)


register("lu", torch_lu, "linalg", dtype="linalg", opinfo=("lu",))


def torch_lu_solve(b, LU_data, LU_pivots, *, out=None):
    r = lu_solve(LU_data, LU_pivots, b)
    return _ip.write_out(out, r) if out is not None else r


register("lu_solve", torch_lu_solve, "linalg", dtype="linalg", opinfo=("lu_solve",))


# ---- matrix_power, tensorinv, tensorsolve ----------------------------------------------------------------------


def matrix_power(A, n, *, out=None):
    check(isinstance(n, int), "matrix_power(): argument 'n' must be int")
    if A.dim() < 2:
        raise RuntimeError("linalg.matrix_power: The input tensor A must have at least 2 dimensions.")
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


register("matrix_power", matrix_power, "linalg", namespace="linalg", method=False, dtype="same",
         opinfo=("linalg.matrix_power",))
register("matrix_power", matrix_power, "linalg", dtype="same", opinfo=())


def tensorinv(A, ind=2, *, out=None):
    check(ind > 0, f"Expected a strictly positive integer for 'ind', but got {ind}")
    out_shape = A._shape[ind:] + A._shape[:ind]
    rows = numel_of(A._shape[:ind])
    cols = numel_of(A._shape[ind:])
    check(rows == cols, f"Expected self to satisfy the requirement prod(self.shape[ind:]) == "
                        f"prod(self.shape[:ind]), but got {cols} != {rows}")
    r = inv(A.reshape(rows, cols)).reshape(out_shape)
    return _ip.write_out(out, r) if out is not None else r


register("tensorinv", tensorinv, "linalg", namespace="linalg", method=False, dtype="linalg",
         opinfo=("linalg.tensorinv",))


def tensorsolve(A, B, dims=None, *, out=None):
    if dims is not None:
        nd = A.dim()
        dd = [wrap_dim(d, nd) for d in dims]
        rest = [d for d in range(nd) if d not in dd]
        A = A.permute(rest + dd)
    res_shape = A._shape[B.dim():]
    n = numel_of(res_shape)
    r = solve(A.reshape(numel_of(B._shape), n), B.reshape(-1)).reshape(res_shape)
    return _ip.write_out(out, r) if out is not None else r


register("tensorsolve", tensorsolve, "linalg", namespace="linalg", method=False, dtype="linalg",
         opinfo=("linalg.tensorsolve",))
