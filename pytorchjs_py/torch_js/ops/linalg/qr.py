"""QR by Householder reflections (the geqrf and orgqr kernels): linalg.qr, torch.qr, geqrf,
linalg.householder_product. qr's backward is PyTorch's; householder_product is differentiable through its
composite form."""
from ... import _dtype as D
from ..._tensor import _empty, numel_of
from .._registry import COMPOSITE, NOT_DIFFERENTIABLE, backward, register
from .._util import GRAD_ENABLED, check, record
from .. import inplace as _ip
from ..creation import eye, zeros
from ..shape import cat
from ._common import _check_matrix, _diag_embed, _mT, _result_type, _tril, _triu, _work_copy
from .triangular import solve_triangular

QRResult = _result_type("linalg_qr", ("Q", "R"))
TorchQRResult = _result_type("qr", ("Q", "R"))
GeqrfResult = _result_type("geqrf", ("a", "tau"))


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
        A._storage.backend.geqrf(work, tau, nb, m, n)
    R = _triu(work if mode == "complete" else work.narrow(-2, 0, k)).contiguous()
    if mode == "r":
        Q = _empty((0,), A._dtype, dev)
    else:
        nc = m if mode == "complete" else k
        Q = zeros(batch + (m, nc), dtype=A._dtype, device=dev)
        if nb and m and nc:
            if k:
                Q.narrow(-1, 0, k).copy_(work.narrow(-1, 0, k))
            A._storage.backend.orgqr(Q, tau, nb, m, nc, k)
    if GRAD_ENABLED[0] and A._requires_grad:
        record("LinalgQrBackward0", _qr_backward, (A,), (Q if mode != "r" else None, R), attrs=(mode,),
               save_outputs=(Q, R) if mode != "r" else (R,))
    return Q, R


def qr(A, mode="reduced", *, out=None):
    return _ip.write_outs(out, QRResult(_qr_impl(A, mode, "linalg.qr")))


register("qr", qr, "linalg", namespace="linalg", method=False, primitive="geqrf/orgqr", dtype="linalg",
         derivative=backward(_qr_backward), opinfo=("linalg.qr",))


def torch_qr(input, some=True, *, out=None):
    return _ip.write_outs(out, TorchQRResult(_qr_impl(input, "reduced" if some else "complete", "qr")))


register("qr", torch_qr, "linalg", primitive="geqrf/orgqr", dtype="linalg", derivative=backward(_qr_backward),
         opinfo=("qr",))


# ---- the Householder form --------------------------------------------------------------------------------------


def geqrf(input, *, out=None):
    _check_matrix(input, "geqrf", square=False)
    m, n = input._shape[-2], input._shape[-1]
    batch = input._shape[:-2]
    a = _work_copy(input)
    tau = _empty(batch + (min(m, n),), input._dtype, input._storage.device)
    nb = numel_of(batch)
    if nb and m and n:
        input._storage.backend.geqrf(a, tau, nb, m, n)
    return _ip.write_outs(out, GeqrfResult((a, tau)))


register("geqrf", geqrf, "linalg", primitive="geqrf", dtype="linalg", derivative=NOT_DIFFERENTIABLE)


def householder_product(A, tau, *, out=None):
    _check_matrix(A, "torch.linalg.householder_product", square=False)
    m, n = A._shape[-2], A._shape[-1]
    check(tau.dim() >= 1, "Dimension specified as -1 but tensor has no dimensions", IndexError)
    k = tau._shape[-1]
    check(m >= n, "torch.linalg.householder_product: input.shape[-2] must be greater than or equal to "
                  "input.shape[-1]")
    check(n >= k, "torch.linalg.householder_product: input.shape[-1] must be greater than or equal to "
                  "tau.shape[-1]")
    # the kernel reads tau as input's dtype, batch by batch: both must match before it runs
    check(tau._shape[:-1] == A._shape[:-2], lambda: "torch.linalg.householder_product: Expected batch dimensions of "
          f"tau to be equal to input.shape[:-2], but got {list(tau._shape[:-1])}")
    check(tau._dtype is A._dtype, lambda: f"torch.linalg.householder_product: tau dtype "
          f"{D.scalar_type_name(tau._dtype)} does not match input dtype {D.scalar_type_name(A._dtype)}")
    if GRAD_ENABLED[0] and (A._requires_grad or tau._requires_grad):
        # differentiable form: Q = H_0 ... H_{k-1} I[:, :n], H_i = I - tau_i v_i v_i^T, applied right to left
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
        A._storage.backend.orgqr(Q, t, nb, m, n, k)
    return _ip.write_out(out, Q) if out is not None else Q


# with grad, Q is built in differentiable ops (the reflections one by one); without, by the orgqr kernel
register("householder_product", householder_product, "linalg", namespace="linalg", method=False, primitive="orgqr",
         dtype="linalg", derivative=COMPOSITE, opinfo=("linalg.householder_product",))
