"""Matrix functions: linalg.matrix_exp (torch.matrix_exp, Tensor.matrix_exp).

exp(A) by scaling and squaring a truncated Taylor series, as PyTorch: the degree (1, 2, 4, 8, 12 or 18) is the
smallest whose bound on the 1-norm (Bader, Blanes & Casas, 2019) keeps the truncation below the dtype's rounding;
past the degree-18 bound A is scaled by 2^-s and the result squared s times. The derivative is PyTorch's: the
upper-right block of exp([[A^H, G], [0, A^H]]), itself a matrix_exp, so it differentiates again."""
import math

from ... import _dtype as D
from ..._grad_mode import no_grad
from .._registry import backward, register
from .._util import GRAD_ENABLED, check, record
from ..shape import cat
from ._common import _eye_like

_DEGREES = (1, 2, 4, 8, 12, 18)
# the 1-norm up to which the Taylor polynomial of each degree is exact to the dtype's rounding (PyTorch's table)
_THETAS = {
    D.float32: (1.192092800768788e-07, 5.978858893805233e-04, 5.116619363445086e-02, 5.800524627688768e-01,
                1.461661507209034e+00, 3.010066362817634e+00),
    D.float64: (2.220446049250313e-16, 2.580956802971767e-08, 3.397168839976962e-04, 4.991228871115323e-02,
                2.996158913811580e-01, 1.090863719290036e+00),
}


def _taylor(X, degree):
    """I + X + X^2/2! + ... + X^degree/degree!, by Horner's rule (degree matrix products)."""
    eye = _eye_like(X._shape[-1], X)
    P = eye
    for k in range(degree, 0, -1):
        P = eye + (X @ P) / k
    return P


def _exp(A):
    """exp of a float32/float64/complex batch (no autograd): one degree and scaling for the whole batch, chosen
    by its largest 1-norm."""
    if A._shape[-1] == 1:
        return A.exp()
    part = A._dtype.to_real() if A._dtype.is_complex else A._dtype
    thetas = _THETAS[part]
    norm = float(A.abs().sum(-2).amax()) if A.numel() else 0.0
    for degree, theta in zip(_DEGREES, thetas):
        if norm <= theta:
            return _taylor(A, degree)
    s = max(0, math.ceil(math.log2(norm / thetas[-1])))
    R = _taylor(A / (2.0 ** s), 18)
    for _ in range(s):
        R = R @ R
    return R


def _matrix_exp_backward(ctx, g):
    (A,) = ctx.saved_tensors
    n = A._shape[-1]
    Ah = A.mH
    top = cat([Ah, g], -1)
    bottom = cat([g.new_zeros(g._shape), Ah], -1)
    return matrix_exp(cat([top, bottom], -2)).narrow(-2, 0, n).narrow(-1, n, n)


def matrix_exp(A):
    if A.dim() < 2:
        raise RuntimeError("linalg.matrix_exp: The input tensor A must have at least 2 dimensions.")
    check(A._shape[-1] == A._shape[-2], lambda: "linalg.matrix_exp: A must be batches of square matrices, but they "
          f"are {A._shape[-2]} by {A._shape[-1]} matrices")
    d = A._dtype
    check(d.is_floating_point or d.is_complex, lambda: "linalg.matrix_exp: Expected a floating point or complex "
          f"tensor as input. Got {D.scalar_type_name(d)}")
    with no_grad():
        x = A.detach()
        if d in (D.float16, D.bfloat16):
            r = _exp(x.to(D.float32)).to(d) if A.numel() else x.clone()
        else:
            r = _exp(x) if A.numel() else x.clone()
    if GRAD_ENABLED[0] and A._requires_grad:
        record("LinalgMatrixExpBackward0", _matrix_exp_backward, (A,), (r,), save_inputs=(A,))
    return r


register("matrix_exp", matrix_exp, "linalg", namespace="linalg", method=False, dtype="linalg",
         derivative=backward(_matrix_exp_backward), opinfo=())   # op_db tests it as torch.matrix_exp
# torch.matrix_exp and Tensor.matrix_exp: the same op under the torch namespace
register("matrix_exp", matrix_exp, "linalg", dtype="linalg", derivative=backward(_matrix_exp_backward))
