"""torch_js.special: PyTorch's torch.special namespace.

The functions torch_js declares as ops (erf, erfc, expm1, exp2, log1p, sinc, round, xlogy, logsumexp, softmax,
log_softmax, sigmoid as expit; lgamma as gammaln, digamma as psi too, polygamma, mvlgamma as multigammaln, erfinv,
i0, i1, logit, igamma/igammac as gammainc/gammaincc: ops/special_functions.py) are those ops under their special
names. The others are composites of torch_js ops: their values come from float64 computations (ops/special_math/)
rounded to the result dtype, their gradients from PyTorch's derivative formulas (differentiable themselves, so
higher derivatives work).
"""
import math

from .. import _dtype as D
from .._grad_mode import no_grad
from .._tensor import Tensor
from ..ops.special_math import bessel as _bessel, erf as _erf, gamma as _gamma
from ._common import (T, OpsApi, Spec, apply, broadcast, finish, float64_value, not_implemented_grad, result_dtype,
                      tensor_arg, where)

__all__ = ["digamma", "entr", "erf", "erfc", "erfcx", "erfinv", "exp2", "expit", "expm1", "gammainc", "gammaincc",
           "gammaln", "i0", "i0e", "i1", "i1e", "log1p", "log_ndtr", "log_softmax", "logit", "logsumexp",
           "modified_bessel_i0", "modified_bessel_i1", "multigammaln", "ndtr", "ndtri", "polygamma", "psi", "round",
           "sinc", "softmax", "spherical_bessel_j0", "xlog1py", "xlogy", "zeta"]

_SQRT_2PI = math.sqrt(2 * math.pi)


def _unary(name, compute, grad):
    """A public unary function special_<name>(input, *, out=None) computing `compute` in float64."""
    spec = Spec(float64_value(compute), lambda ctx, g, x: (grad(g, x),))

    def fn(input, *, out=None):
        tensor_arg(f"special_{name}", input)
        return finish(apply(spec, input), out)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"torch.special.{name}"
    return fn


def _sgn(x):
    return x.sign()


def _same_as_op(name, op_name=None, namespace=T):
    """special.<name>: the op of that name, under PyTorch's special_<name> argument errors."""
    def fn(input, *args, **kwargs):
        tensor_arg(f"special_{name}", input)
        return getattr(namespace, op_name or name)(input, *args, **kwargs)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"torch.special.{name}: torch.{op_name or name}."
    return fn


gammaln = _same_as_op("gammaln", "lgamma")
digamma = _same_as_op("digamma")
psi = _same_as_op("psi", "digamma")
erfinv = _same_as_op("erfinv")
i0 = _same_as_op("i0")
i1 = _same_as_op("i1", namespace=OpsApi("special"))
logit = _same_as_op("logit")
multigammaln = _same_as_op("multigammaln", "mvlgamma")


def polygamma(n, input, *, out=None):
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"special_polygamma(): argument 'n' (position 1) must be int, not {type(n).__name__}")
    tensor_arg("special_polygamma", input, 2)
    return T.polygamma(n, input, out=out)


def _incomplete(name, op_name):
    def fn(input, other, *, out=None):
        tensor_arg(f"special_{name}", input)
        tensor_arg(f"special_{name}", other, 2, "other")
        return getattr(T, op_name)(input, other, out=out)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"torch.special.{name}: torch.{op_name}."
    return fn


gammainc = _incomplete("gammainc", "igamma")
gammaincc = _incomplete("gammaincc", "igammac")
erfcx = _unary("erfcx", _erf.erfcx, lambda g, x: g * (2.0 * x * erfcx(x) - 2.0 / math.sqrt(math.pi)))
ndtri = _unary("ndtri", _erf.ndtri, lambda g, x: g * _SQRT_2PI * (ndtri(x).pow(2) * 0.5).exp())
log_ndtr = _unary("log_ndtr", _erf.log_ndtr,
                  lambda g, x: g / _SQRT_2PI * (-(log_ndtr(x) + x.pow(2) / 2)).exp())
i0e = _unary("i0e", _bessel.i0e, lambda g, x: g * (i1e(x) - _sgn(x) * i0e(x)))


def _nonzero(x):
    # the divisor where x is 0 (that branch is not selected): keeps nan out of the next derivative
    return where(x == 0, 1.0, x)


i1e = _unary("i1e", _bessel.i1e,
             lambda g, x: where(x == 0, 0.5 * g, g * (i0e(x) - i1e(x) * (_sgn(x) + 1.0 / _nonzero(x)))))


def _no_autograd(name, compute):
    """A unary special_<name> whose result PyTorch does not differentiate (it has no grad_fn)."""
    value = float64_value(compute)

    def fn(input, *, out=None):
        tensor_arg(f"special_{name}", input)
        with no_grad():
            return finish(value(input), out)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"torch.special.{name} (not differentiable, as in PyTorch)"
    return fn


modified_bessel_i0 = _no_autograd("modified_bessel_i0", _bessel.i0)
modified_bessel_i1 = _no_autograd("modified_bessel_i1", _bessel.i1)


def ndtr(input, *, out=None):
    """(1 + erf(x / sqrt 2)) / 2, as PyTorch computes it (so it underflows to 0 below about -38)."""
    tensor_arg("special_ndtr", input)
    x = input if input.is_floating_point() else input.to(D.get_default_dtype())
    return finish(_erf.ndtr(x), out)


def _binary_args(name, input, other):
    """PyTorch's (Tensor, Tensor), (Number, Tensor) and (Tensor, Number) overloads."""
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        raise TypeError(
            f"{name}() received an invalid combination of arguments - got ({type(input).__name__}, "
            f"{type(other).__name__}), but expected one of:\n * (Tensor input, Tensor other, *, Tensor out = None)\n"
            f" * (Number self, Tensor other, *, Tensor out = None)\n"
            f" * (Tensor input, Number other, *, Tensor out = None)\n")
    return input, other


def _scalar_as_tensor(v, like):
    # a Python number meets the tensor as PyTorch's wrapped number would: it does not decide the dtype within its kind
    dtype = like.dtype if (like.is_floating_point() or not isinstance(v, float)) else D.get_default_dtype()
    return T.tensor(v, dtype=dtype, device=like.device)


def _zeta_value(x, q):
    return _gamma.zeta(*broadcast(x, q))


def _zeta_grads(ctx, g, x, q):
    if ctx.needs_input_grad[1]:
        not_implemented_grad("zeta")
    return None, g * -x * zeta(x + 1.0, q)


def zeta(input, other, *, out=None):
    """Hurwitz zeta: sum_k (k + other)^-input."""
    _binary_args("special_zeta", input, other)
    dtype = result_dtype(input, other)
    x = input.to(dtype) if isinstance(input, Tensor) else _scalar_as_tensor(input, other).to(dtype)
    q = other.to(dtype) if isinstance(other, Tensor) else _scalar_as_tensor(other, input).to(dtype)
    return finish(apply(Spec(float64_value(_zeta_value), _zeta_grads), x, q), out)


# ---- elementary functions, computed in the result dtype as PyTorch's kernels do ---------------------------------

def _in_float(input):
    """input in the dtype its result has (float16/bfloat16 work in float32, as PyTorch's kernels do)."""
    dtype = input.dtype if input.is_floating_point() else D.get_default_dtype()
    work = D.float32 if dtype in (D.float16, D.bfloat16) else dtype
    return input.detach().to(work), dtype


def _entr_value(x):
    w, dtype = _in_float(x)
    r = where(w > 0, -w * w.log(), where(w == 0, 0.0, float("-inf")))
    return where(w.isnan(), w, r).to(dtype)


_ENTR = Spec(_entr_value, lambda ctx, g, x: (g * -(1.0 + x.log()),))


def entr(input, *, out=None):
    """-x log x for x > 0, 0 at 0, -inf below."""
    tensor_arg("special_entr", input)
    return finish(apply(_ENTR, input), out)


def _xlog1py_value(x, y):
    dtype = result_dtype(x, y)
    work = D.float32 if dtype in (D.float16, D.bfloat16) else dtype
    xw, yw = x.detach().to(work), y.detach().to(work)
    r = where(xw == 0, 0.0, xw * yw.log1p())
    return where(yw.isnan(), float("nan"), r).to(dtype)


def _xlog1py_grads(ctx, g, x, y):
    gx = where((x == 0) & (y <= -1), 0.0, xlog1py(g, y)) if ctx.needs_input_grad[1] else None
    gy = g * x / (y + 1.0) if ctx.needs_input_grad[2] else None
    return gx, gy


_XLOG1PY = Spec(_xlog1py_value, _xlog1py_grads)


def xlog1py(input, other, *, out=None):
    """input * log1p(other), 0 where input is 0 (unless other is nan)."""
    _binary_args("special_xlog1py", input, other)
    x = input if isinstance(input, Tensor) else _scalar_as_tensor(input, other)
    y = other if isinstance(other, Tensor) else _scalar_as_tensor(other, input)
    return finish(apply(_XLOG1PY, x, y), out)


def xlogy(input, other, *, out=None):
    _binary_args("special_xlogy", input, other)
    x = input if isinstance(input, Tensor) else _scalar_as_tensor(input, other)
    return T.xlogy(x, other, out=out) if out is not None else T.xlogy(x, other)


def expit(input, *, out=None):
    tensor_arg("special_expit", input)
    return finish(T.sigmoid(input), out)


def _spherical_j0_value(x):
    w, dtype = _in_float(x)
    x2 = w * w
    # sin(x)/x loses nothing but near 0, where its Maclaurin series takes over
    series = 1.0 - x2 / 6.0 * (1.0 - x2 / 20.0 * (1.0 - x2 / 42.0 * (1.0 - x2 / 72.0 * (1.0 - x2 / 110.0))))
    r = where(w.abs() < 0.5, series, w.sin() / w)
    return where(w.isinf(), 0.0, r).to(dtype)


def spherical_bessel_j0(input, *, out=None):
    """sin(x) / x, 1 at 0 (not differentiable, as in PyTorch)."""
    tensor_arg("special_spherical_bessel_j0", input)
    with no_grad():
        return finish(_spherical_j0_value(input), out)


erf = _same_as_op("erf")
erfc = _same_as_op("erfc")
expm1 = _same_as_op("expm1")
exp2 = _same_as_op("exp2")
log1p = _same_as_op("log1p")
sinc = _same_as_op("sinc")
round = _same_as_op("round")   # noqa: A001  (torch.special.round)


def logsumexp(input, dim, keepdim=False, *, out=None):
    tensor_arg("special_logsumexp", input)
    return T.logsumexp(input, dim, keepdim, out=out) if out is not None else T.logsumexp(input, dim, keepdim)


def softmax(input, dim, *, dtype=None):
    tensor_arg("special_softmax", input)
    return T.softmax(input, dim, dtype=dtype)


def log_softmax(input, dim, *, dtype=None):
    tensor_arg("special_log_softmax", input)
    return T.log_softmax(input, dim, dtype=dtype)

