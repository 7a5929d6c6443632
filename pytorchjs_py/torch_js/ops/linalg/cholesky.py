"""The Cholesky factorization (the cholesky kernel, LAPACK's potrf) and the solves through its factor:
linalg.cholesky / cholesky_ex, torch.cholesky, cholesky_solve, cholesky_inverse. Backwards are PyTorch's."""
from ... import _dtype as D
from ..._grad_mode import no_grad
from ..._tensor import _empty, numel_of
from .._registry import backward, register
from .._util import GRAD_ENABLED, check, record
from .. import inplace as _ip
from ..creation import eye
from ._common import LinAlgError, _batch_msg, _check_float, _check_matrix, _mT, _result_type, _tril, _work_copy
from .triangular import solve_triangular

CholeskyExResult = _result_type("linalg_cholesky_ex", ("L", "info"))


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
        A._storage.backend.cholesky(L, info, nb, n)
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


register("cholesky", cholesky, "linalg", namespace="linalg", method=False, primitive="cholesky", dtype="linalg",
         derivative=backward(_cholesky_backward), opinfo=("linalg.cholesky",))


def cholesky_ex(A, *, upper=False, check_errors=False, out=None):
    return _ip.write_outs(out, CholeskyExResult(_cholesky_impl(A, upper, "linalg.cholesky_ex", check_errors)))


register("cholesky_ex", cholesky_ex, "linalg", namespace="linalg", method=False, primitive="cholesky",
         dtype="linalg", derivative=backward(_cholesky_backward), opinfo=("linalg.cholesky_ex",))


def torch_cholesky(input, upper=False, *, out=None):
    _check_float(input, "cholesky")
    r = _cholesky_impl(input, upper, "linalg.cholesky", True)[0]
    return _ip.write_out(out, r) if out is not None else r


register("cholesky", torch_cholesky, "linalg", primitive="cholesky", dtype="linalg",
         derivative=backward(_cholesky_backward), opinfo=("cholesky",))


# ---- solves through the factor ---------------------------------------------------------------------------------


def _cholesky_solve_backward(ctx, gX):
    L, X = ctx.saved_tensors
    (upper,) = ctx.attrs
    eb, el = ctx.edges
    gB = cholesky_solve(gX, L, upper)
    gL = None
    if el is not None:
        common = gB.matmul(_mT(X))
        common = common + _mT(common)
        gL = -(L.matmul(common)) if upper else -(common.matmul(L))
    return gB, gL


def cholesky_solve(input, input2, upper=False, *, out=None):
    B, L = input, input2
    _check_float(B, "cholesky_solve")
    check(B.dim() >= 2, f"b should have at least 2 dimensions, but has {B.dim()} dimensions instead")
    check(L.dim() >= 2, f"u should have at least 2 dimensions, but has {L.dim()} dimensions instead")
    with no_grad():
        if upper:
            Y = solve_triangular(_mT(L), B, upper=False)
            X = solve_triangular(L, Y, upper=True)
        else:
            Y = solve_triangular(L, B, upper=False)
            X = solve_triangular(_mT(L), Y, upper=True)
    if GRAD_ENABLED[0] and (B._requires_grad or L._requires_grad):
        record("CholeskySolveBackward0", _cholesky_solve_backward, (B, L), (X,), attrs=(upper,), save_inputs=(L,),
               save_outputs=(X,))
    return _ip.write_out(out, X) if out is not None else X


# the forward is two solve_triangular calls under no_grad; the node is PyTorch's CholeskySolveBackward0
register("cholesky_solve", cholesky_solve, "linalg", dtype="linalg", derivative=backward(_cholesky_solve_backward))


def _cholesky_inverse_backward(ctx, g):
    L, Ainv = ctx.saved_tensors
    (upper,) = ctx.attrs
    common = g + _mT(g)
    common = Ainv.matmul(common).matmul(Ainv)
    return (-(L.matmul(common)) if upper else -(common.matmul(L)),)


def cholesky_inverse(input, upper=False, *, out=None):
    L = input
    _check_float(L, "cholesky_inverse")
    check(L.dim() >= 2, "cholesky_inverse: The input tensor A must have at least 2 dimensions.")
    n = L._shape[-1]
    with no_grad():
        I = eye(n, dtype=L._dtype, device=L._storage.device)
        Ld = L.detach()
        Linv = solve_triangular(Ld, I.expand(Ld._shape), upper=upper)
        r = Linv.matmul(_mT(Linv)) if upper else _mT(Linv).matmul(Linv)
    if GRAD_ENABLED[0] and L._requires_grad:
        record("CholeskyInverseBackward0", _cholesky_inverse_backward, (L,), (r,), attrs=(upper,), save_inputs=(L,),
               save_outputs=(r,))
    return _ip.write_out(out, r) if out is not None else r


register("cholesky_inverse", cholesky_inverse, "linalg", dtype="linalg",
         derivative=backward(_cholesky_inverse_backward))
