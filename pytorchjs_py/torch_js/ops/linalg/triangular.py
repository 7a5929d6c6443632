"""Triangular solves on the trsm kernel: linalg.solve_triangular (PyTorch's backward) and torch.triangular_solve.
The Cholesky, QR and LU backwards are written in solve_triangular."""
from ... import _dtype as D
from ..._tensor import numel_of
from .._registry import backward, register
from .._util import GRAD_ENABLED, broadcast_shapes, check, record
from .. import inplace as _ip
from ._common import _check_float, _check_matrix, _mT, _result_type, _tril, _triu, _work_copy

TriangularSolveResult = _result_type("triangular_solve", ("solution", "cloned_coefficient"))


def _trsm_raw(A, B, upper, unitriangular):
    """A^{-1} B for triangular A (left); batch dims broadcast (no autograd)."""
    batch = broadcast_shapes(A._shape[:-2], B._shape[:-2])
    n, k = B._shape[-2], B._shape[-1]
    X = _work_copy(B, batch + (n, k))
    nb = numel_of(batch)
    if nb and n and k:
        Ae = A.detach().expand(batch + (n, n))
        Ae = Ae.reshape((nb, n, n))  # a view when the batch dims are uniform, a copy otherwise
        A._storage.backend.trsm(Ae, Ae._stride, X, nb, n, k, upper, unitriangular)
    return X


def _solve_triangular_backward(ctx, gX):
    A, X = ctx.saved_tensors
    upper, left, unit, a_shape, b_shape = ctx.attrs
    ea, eb = ctx.edges
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


register("solve_triangular", solve_triangular, "linalg", namespace="linalg", method=False, primitive="trsm",
         dtype="linalg", derivative=backward(_solve_triangular_backward), opinfo=("linalg.solve_triangular",))


def triangular_solve(b, A, upper=True, transpose=False, unitriangular=False, *, out=None):
    _check_float(b, "triangular_solve")
    check(b.dim() >= 2, f"torch.triangular_solve: Expected b to have at least 2 dimensions, but it has {b.dim()} "
                        f"dimensions instead")
    check(A.dim() >= 2, f"torch.triangular_solve: Expected A to have at least 2 dimensions, but it has {A.dim()} "
                        f"dimensions instead")
    Aop = _mT(A) if transpose else A
    X = solve_triangular(Aop, b, upper=upper != transpose, unitriangular=unitriangular)
    return _ip.write_outs(out, TriangularSolveResult((X, A.clone())))


register("triangular_solve", triangular_solve, "linalg", dtype="linalg")
