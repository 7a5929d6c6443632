"""Special functions on float64 tensors, written in tensor ops (so they run on every backend): the gamma family
(gamma.py), the error-function family (erf.py), modified Bessel functions (bessel.py). Values only: the ops that
use them (ops/special_functions.py, torch_js.special) add PyTorch's derivative formulas."""
from .._registry import torch_ops as T
from .._util import broadcast_shapes


def where(cond, a, b):
    return T.where(cond, a, b)


def broadcast(*tensors):
    """torch.broadcast_tensors: every tensor expanded to the common shape."""
    shape = broadcast_shapes(*[t.shape for t in tensors])
    return tuple(t if t.shape == shape else t.expand(shape) for t in tensors)


def polyval(coeffs, x):
    """sum(c * x**k), coefficients from the highest power down (Horner)."""
    acc = T.full_like(x, coeffs[0])
    for c in coeffs[1:]:
        acc = acc * x + c
    return acc
