"""torch's special functions: lgamma (the C library's, one kernel), digamma, polygamma, mvlgamma, erfinv, i0, logit,
igamma/igammac, and torch.special's i1 (i0's derivative). torch_js.special's gammaln, digamma/psi, polygamma,
multigammaln, erfinv, i0, i1, logit, gammainc/gammaincc are these ops under their special names.

Apart from lgamma and logit, values come from float64 composites (ops/special_math/) rounded to the result dtype;
derivatives are PyTorch's formulas written in ops, so they differentiate again.
"""
import math

from .. import _dtype as D
from .._grad_mode import no_grad
from .._tensor import Tensor
from ._api import guard
from ._registry import backward, formula, register
from ._util import GRAD_ENABLED, check, float64_home, not_implemented_for, record, rename_grad_fn
from . import inplace as _ip
from .creation import tensor
from .elementwise import FLOAT, UnaryOp, _binary_dtype, inplace_unary, unary, where
from .special_math import bessel, erf, gamma

F64 = D.float64


def _tensor(name, x, pos=1, arg="input"):
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}(): argument '{arg}' (position {pos}) must be Tensor, not {type(x).__name__}")
    return x


def _float_result(kernel, dtype, ints=True):
    """The dtype of a float function's result: a float input's own; integers and bools give the default float dtype
    (`ints`) or raise as PyTorch's kernel does; complex raises."""
    if dtype.is_floating_point:
        return dtype
    if dtype.is_complex or not ints:
        raise not_implemented_for(kernel, dtype)
    return D.get_default_dtype()


def _float64_backward(ctx, g):
    grads, params = ctx.attrs
    return grads(ctx, g, *ctx.saved_tensors, *params)


def _evaluate(node, value, grads, dtype, tensors, params=()):
    """value(*float64 copies of tensors, *params) rounded to dtype; a `node` whose backward is
    grads(ctx, g, *tensors, *params) when a tensor requires grad."""
    device = tensors[0]._storage.device
    with no_grad():
        r = value(*[t.detach().to(float64_home(t), F64) for t in tensors], *params).to(device, dtype)
    if GRAD_ENABLED[0] and any(t._requires_grad for t in tensors):
        record(node, _float64_backward, tensors, (r,), attrs=(grads, params), save_inputs=tensors)
    return r


def _unary_float64(name, kernel, node, value, grads, x, params=()):
    _tensor(name, x)
    return _evaluate(node, value, grads, _float_result(kernel, x._dtype), (x,), params)


# ---- the gamma family --------------------------------------------------------------------------------------------

_LGAMMA = UnaryOp("lgamma", FLOAT, lambda g, x, y: g * digamma(x), "x", False)


def lgamma(input, *, out=None):
    """log |Gamma(x)| by the C library's lgamma (PyTorch's CPU kernel calls it too)."""
    if isinstance(input, Tensor) and input._dtype.is_complex:
        raise not_implemented_for("lgamma_vml_cpu", input._dtype)
    return _ip.maybe_write_out(out, unary(_LGAMMA, input))


def digamma(input, *, out=None):
    r = _unary_float64("digamma", "digamma", "DigammaBackward0", gamma.digamma,
                       lambda ctx, g, x: g * polygamma(1, x), input)
    return _ip.maybe_write_out(out, r)


def _polygamma_value(x, n):
    return gamma.polygamma(n, x)


def _polygamma_grads(ctx, g, x, n):
    return g * polygamma(n + 1, x)


def polygamma(n, input, *, out=None):
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"polygamma(): argument 'n' (position 1) must be int, not {type(n).__name__}")
    _tensor("polygamma", input, 2)
    check(n >= 0, "polygamma(n, x) does not support negative n.")
    kernel = {0: "digamma", 1: "trigamma"}.get(n, "polygamma")
    r = _evaluate("PolygammaBackward0", _polygamma_value, _polygamma_grads, _float_result(kernel, input._dtype),
                  (input,), (n,))
    return _ip.maybe_write_out(out, r)


def mvlgamma(input, p, *, out=None):
    """log of the multivariate gamma function: sum_i lgamma(x - i/2), i < p, plus p(p - 1)/4 log(pi) (PyTorch's
    composite, so its gradient is the sum of digammas)."""
    _tensor("mvlgamma", input)
    check(input._dtype is not D.bool_, "The input tensor may not be a boolean tensor.")
    check(p >= 1, "p has to be greater than or equal to 1")
    dtype = _float_result("arange_cpu", input._dtype)
    x = input if input._dtype is dtype else input.to(dtype)
    shifts = tensor([0.5 * (i - p + 1) for i in range(p)], dtype=dtype, device=x.device)   # arange(-p/2 + 1/2, 1/2, 1/2)
    r = lgamma(x.unsqueeze(-1) + shifts).sum(-1) + p * (p - 1) * math.log(math.pi) * 0.25
    return _ip.maybe_write_out(out, rename_grad_fn(r, "MvlgammaBackward0"))


def _incomplete_grads(what, sign):
    def grads(ctx, g, a, x):
        if ctx.edges[0] is not None:
            raise NotImplementedError(f"the derivative for '{what}: input' is not implemented.")
        return None, sign * g * ((a - 1.0) * x.log() - x - lgamma(a)).exp()
    return grads


def _incomplete(name, index, sign):
    grads = _incomplete_grads(name, sign)
    node = name.capitalize() + "Backward0"

    def value(a, x):
        return gamma.incomplete_gamma(a, x)[index]

    def fn(input, other, *, out=None):
        _tensor(name, input)
        _tensor(name, other, 2, "other")
        dtype = _float_result(f"{name}_cpu", _binary_dtype(input, other), ints=False)
        return _ip.maybe_write_out(out, _evaluate(node, value, grads, dtype, (input, other)))
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (f"torch.{name}: the regularized {'lower' if index == 0 else 'upper'} incomplete gamma function of "
                  "(a = input, x = other).")
    return fn


igamma = _incomplete("igamma", 0, 1.0)
igammac = _incomplete("igammac", 1, -1.0)


# ---- erfinv, Bessel, logit ---------------------------------------------------------------------------------------

_SQRT_PI_2 = 0.5 * math.sqrt(math.pi)


def erfinv(input, *, out=None):
    r = _unary_float64("erfinv", "erfinv_vml_cpu", "ErfinvBackward0", erf.erfinv,
                       lambda ctx, g, x: g * _SQRT_PI_2 * erfinv(x).pow(2).exp(), input)
    return _ip.maybe_write_out(out, r)


def i0(input, *, out=None):
    r = _unary_float64("i0", "i0_vml_cpu", "I0Backward0", bessel.i0, lambda ctx, g, x: g * i1(x), input)
    return _ip.maybe_write_out(out, r)


def _i1_grads(ctx, g, x):
    # at 0 the derivative is 1/2; the divisor there is a stand-in, which keeps nan out of the next derivative
    safe = where(x == 0, 1.0, x)
    return where(x == 0, 0.5 * g, g * (i0(x) - i1(x) / safe))


def i1(input, *, out=None):
    """torch.special.i1: the modified Bessel function of the first kind of order 1."""
    r = _unary_float64("special_i1", "i1_cpu", "SpecialI1Backward0", bessel.i1, _i1_grads, input)
    return _ip.maybe_write_out(out, r)


def _logit_value(x, eps):
    """log(x / (1 - x)) in the result dtype (float16/bfloat16 in float32), as PyTorch's kernel computes it."""
    if eps is not None:
        x = x.clamp(eps, 1.0 - eps)
    return (x / (1.0 - x)).log()


def _logit_grads(ctx, g, x, eps):
    if eps is None:
        return where((x < 0) | (x > 1), float("nan"), g / (x * (1.0 - x)))
    return where((x < eps) | (x > 1.0 - eps), 0.0, g / (x * (1.0 - x)))


def logit(input, eps=None, *, out=None):
    """log(p / (1 - p)), with p clamped to [eps, 1 - eps] when eps is given (a negative eps clamps nothing)."""
    _tensor("logit", input)
    dtype = _float_result("logit_cpu", input._dtype)
    eps = None if eps is None or eps < 0 else float(eps)
    work = D.float32 if dtype in (D.float16, D.bfloat16) else dtype
    with no_grad():
        r = _logit_value(input.detach().to(work), eps).to(dtype)
    if GRAD_ENABLED[0] and input._requires_grad:
        record("LogitBackward0", _float64_backward, (input,), (r,), attrs=(_logit_grads, (eps,)),
               save_inputs=(input,))
    return _ip.maybe_write_out(out, r)


# ---- declarations ------------------------------------------------------------------------------------------------

def _inplace(fn):
    """fn's in-place variant (Tensor.<name>_): computed out of place, written back (integers refuse the float)."""
    def fn_(self, *args, **kwargs):
        return _ip.inplace_from(self, fn(self, *args, **kwargs))
    fn_.__name__ = fn.__name__ + "_"
    return fn_


def _register_all():
    register("lgamma", lgamma, "unary", primitive="unary", dtype="float", derivative=formula(_LGAMMA.grad),
             inplace=lambda self: inplace_unary(self, _LGAMMA, lgamma))
    register("digamma", digamma, "unary", dtype="float", derivative=backward(_float64_backward),
             inplace=_inplace(digamma))
    register("polygamma", polygamma, "unary", dtype="float", derivative=backward(_float64_backward),
             inplace=lambda self, n: _ip.inplace_from(self, polygamma(n, self)))
    Tensor.polygamma = guard("polygamma", lambda self, n: polygamma(n, self), method=True)
    register("mvlgamma", mvlgamma, "unary", dtype="float", inplace=_inplace(mvlgamma))
    for name, fn in (("erfinv", erfinv), ("i0", i0), ("logit", logit)):
        register(name, fn, "unary", dtype="float", derivative=backward(_float64_backward), inplace=_inplace(fn))
    for fn in (igamma, igammac):
        register(fn.__name__, fn, "binary", dtype="promote", derivative=backward(_float64_backward),
                 inplace=_inplace(fn))
    register("i1", i1, "unary", dtype="float", derivative=backward(_float64_backward), namespace="special",
             method=False, opinfo=("special.i1",))


_register_all()
