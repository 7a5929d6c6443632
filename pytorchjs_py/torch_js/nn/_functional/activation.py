"""Activations: the kernel library's parametrised unary ops (GELU, SiLU, ELU, ...) declared with their
derivatives (written in tensor ops, so they differentiate again), plus softmax-family and gated ops."""
import math

from ...ops import elementwise as _E
from ...ops import inplace as _ip
from ...ops import reduction as _R
from ...ops._util import not_implemented_for, rename_grad_fn, warn_at_caller
from ...ops.elementwise import UnaryOp, unary, SAME, where as _where
from ...ops._registry import formula
from ..._memory_format import contiguous_format
from ...ops.creation import zeros_like
from ._common import GRAD_ENABLED, D, Tensor, empty_like, ones, reg

_SQRT1_2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_GELU_BETA = math.sqrt(2.0) * (2.0 / math.sqrt(math.pi)) * 0.5
_GELU_KAPPA = 0.044715
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _op(kernel, grad, saves="x", node=None):
    return UnaryOp(kernel, SAME, grad, saves, True, node)


def _gelu_erf_grad(g, x, y):
    cdf = 0.5 * (1 + (x * _SQRT1_2).erf())
    pdf = (-0.5 * x * x).exp() * _INV_SQRT_2PI
    return g * (cdf + x * pdf)


def _gelu_tanh_grad(g, x, y):
    x_sq = x * x
    inner = _GELU_BETA * (x + _GELU_KAPPA * x_sq * x)
    t = inner.tanh()
    left = 0.5 * x
    right = 1 + t
    return g * (0.5 * right + left * (1 - t * t) * (_GELU_BETA * (1 + 3 * _GELU_KAPPA * x_sq)))


def _silu_grad(g, x, y):
    s = x.sigmoid()
    return g * (s * (1 + x * (1 - s)))


def _softplus_grad(g, x, y, beta, threshold):
    z = x * beta
    return g * z.sigmoid().masked_fill(z > threshold, 1.0)


def _leaky_grad(g, x, y, slope):
    return g * (x > 0).to(x.dtype).masked_fill(x <= 0, slope)


def _elu_grad(g, x, y, alpha, scale, input_scale):
    neg = (x * input_scale).exp() * (input_scale * alpha * scale)
    return g * _where(x <= 0, neg, float(scale))


def _hardtanh_grad(g, x, y, lo, hi):
    return g.masked_fill((x <= lo) | (x >= hi), 0)


def _relu6_grad(g, x, y):
    return _hardtanh_grad(g, x, y, 0.0, 6.0)


_ONE_SIXTH_F32 = 0.1666666716337204  # ATen's hardsigmoid_backward uses the float literal 1.0f / 6.0f, even for double


def _hardsigmoid_grad(g, x, y):
    return (g * _ONE_SIXTH_F32).masked_fill((x <= -3) | (x >= 3), 0)


def _hardswish_grad(g, x, y):
    mid = g * (x / 3 + 0.5)
    return _where(x <= 3, mid, g).masked_fill(x < -3, 0)


def _mish_grad(g, x, y):
    tsp = _softplus_op(x, 1.0, 20.0).tanh()
    s = x.sigmoid()
    return g * (tsp + x * s * (1 - tsp * tsp))


def _logsigmoid_grad(g, x, y):
    return g * (-x).sigmoid()


GELU = _op("gelu_erf", _gelu_erf_grad, node="GeluBackward0")   # one aten::gelu node for either approximation
GELU_TANH = _op("gelu_tanh", _gelu_tanh_grad, node="GeluBackward0")
SILU = _op("silu", _silu_grad)
SOFTPLUS = _op("softplus", _softplus_grad)
LEAKY_RELU = _op("leaky_relu", _leaky_grad)
ELU = _op("elu", _elu_grad)
HARDTANH = _op("hardtanh", _hardtanh_grad)
RELU6 = _op("relu6", _relu6_grad)
HARDSIGMOID = _op("hardsigmoid", _hardsigmoid_grad)
HARDSWISH = _op("hardswish", _hardswish_grad)
MISH = _op("mish", _mish_grad)
LOGSIGMOID = _op("logsigmoid", _logsigmoid_grad)
CELU = UnaryOp("elu", SAME, _elu_grad, "x", True, node="CeluBackward0")
RELU6.node = "HardtanhBackward0"  # PyTorch's relu6 is hardtanh(0, 6)

# The node names PyTorch gives the in-place forms (its `*_` overloads are separate autograd functions).
_INPLACE_NODE = {"leaky_relu": "LeakyReluBackward1", "elu": "EluBackward1", "CeluBackward0": "CeluBackward1"}


def _inplace_op(op):
    node = _INPLACE_NODE.get(op.node if op.node == "CeluBackward0" else op.name)
    return op if node is None else UnaryOp(op.name, op.rule, op.grad, op.saves, op.float_only, node=node)


_INPLACE_OPS = {id(op): _inplace_op(op) for op in (LEAKY_RELU, ELU, CELU, RELU6, HARDTANH, SILU, HARDSWISH,
                                                    HARDSIGMOID, MISH)}


def _activate(op, input, inplace, p0=0.0, p1=0.0, p2=0.0, params=()):
    """A kernel activation, out of place or written into `input`. In place, the node keeps a copy of the input as
    it was before the write (PyTorch's "original self"), so backward does not trip over the bumped version."""
    if not inplace:
        return unary(op, input, p0, p1, p2, params=params)
    r = unary(_INPLACE_OPS[id(op)], input, p0, p1, p2, params=params)
    if GRAD_ENABLED[0] and input._requires_grad and r._grad_fn is not None and input._grad_fn is not None:
        r._grad_fn.save(inputs=(input.clone(),))
    return _ip.inplace_from(input, r)


def _softplus_op(x, beta, threshold):
    return unary(SOFTPLUS, x, float(beta), float(threshold), params=(beta, threshold))


def _float_check(x, name):
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not {type(x).__name__}")
    if not x._dtype.is_floating_point:
        raise not_implemented_for(f"{name}_cpu", x._dtype)


def _maybe_inplace(input, result, inplace):
    if inplace:
        return _ip.inplace_from(input, result)
    return result


# ---- the elementwise activations ---------------------------------------------------------------------------

def relu(input, inplace=False):
    if inplace:
        return input.relu_()
    return input.relu()


def relu_(input):
    return input.relu_()


def relu6(input, inplace=False):
    if input._dtype is D.bool_:
        raise RuntimeError("Bool inputs not supported for hardtanh")   # relu6 is hardtanh(0, 6) in PyTorch
    if not input._dtype.is_floating_point:
        return hardtanh(input, 0, 6, inplace)
    return _activate(RELU6, input, inplace)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    _float_check(input, "leaky_relu")
    return _activate(LEAKY_RELU, input, inplace, float(negative_slope), params=(negative_slope,))


def leaky_relu_(input, negative_slope=0.01):
    return leaky_relu(input, negative_slope, True)


def _elu(input, alpha, scale, input_scale, inplace, op=ELU):
    return _activate(op, input, inplace, float(alpha), float(scale), float(input_scale),
                     params=(alpha, scale, input_scale))


def elu(input, alpha=1.0, inplace=False):
    _float_check(input, "elu")
    return _elu(input, alpha, 1.0, 1.0, inplace)


def elu_(input, alpha=1.0):
    return elu(input, alpha, True)


def selu(input, inplace=False):
    _float_check(input, "elu")
    return _elu(input, _SELU_ALPHA, _SELU_SCALE, 1.0, inplace)


def selu_(input):
    return selu(input, True)


def celu(input, alpha=1.0, inplace=False):
    _float_check(input, "elu")
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError")
    return _elu(input, alpha, 1.0, 1.0 / alpha, inplace, CELU)


def celu_(input, alpha=1.0):
    return celu(input, alpha, True)


def gelu(input, approximate="none"):
    _float_check(input, "GeluKernelImpl")
    if approximate == "none":
        return unary(GELU, input)
    if approximate == "tanh":
        return unary(GELU_TANH, input)
    raise RuntimeError(f"approximate argument must be either none or tanh.")


def silu(input, inplace=False):
    _float_check(input, "silu")
    return _activate(SILU, input, inplace)


def mish(input, inplace=False):
    _float_check(input, "mish")
    return _activate(MISH, input, inplace)


def softplus(input, beta=1.0, threshold=20.0):
    _float_check(input, "softplus")
    return _softplus_op(input, beta, threshold)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    if input._dtype is D.bool_:
        raise RuntimeError("Bool inputs not supported for hardtanh")
    if not input._dtype.is_floating_point:
        return _maybe_inplace(input, input.clamp(int(min_val), int(max_val)), inplace)
    return _activate(HARDTANH, input, inplace, float(min_val), float(max_val), params=(min_val, max_val))


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    return hardtanh(input, min_val, max_val, True)


def hardswish(input, inplace=False):
    _float_check(input, "hardswish")
    return _activate(HARDSWISH, input, inplace)


def hardsigmoid(input, inplace=False):
    _float_check(input, "hardsigmoid")
    return _activate(HARDSIGMOID, input, inplace)


def logsigmoid(input):
    _float_check(input, "log_sigmoid_forward")
    return unary(LOGSIGMOID, input)


def sigmoid(input):
    return input.sigmoid()


def tanh(input):
    return input.tanh()


def softsign(input):
    return input / (input.abs() + 1)


def tanhshrink(input):
    return input - input.tanh()


def softshrink(input, lambd=0.5):
    if isinstance(input, Tensor) and not 0 <= lambd <= _dtype_max(input._dtype):
        raise RuntimeError(f"lambda must be in range [0, {_dtype_max(input._dtype):g}] for input dtype "
                           f"{D.scalar_type_name(input._dtype)}, but found {float(lambd):g}")
    zero = input * 0
    return _where(input > lambd, input - lambd, _where(input < -lambd, input + lambd, zero))


def _dtype_max(d):
    return {"float16": 65504.0, "bfloat16": 3.3895313892515355e+38, "float32": 3.4028234663852886e+38}.get(
        d.name, 1.7976931348623157e+308)


def hardshrink(input, lambd=0.5):
    _float_check(input, "hardshrink")
    return input.masked_fill((input >= -lambd) & (input <= lambd), 0)


def threshold(input, threshold, value, inplace=False):
    if input._dtype is D.bool_:
        raise not_implemented_for("threshold_cpu", D.bool_)
    r = _where(input > threshold, input, _E._cast_scalar(value, input._dtype))
    return _maybe_inplace(input, r, inplace)


def threshold_(input, threshold, value):
    return globals()["threshold"](input, threshold, value, True)


def prelu(input, weight):
    if not isinstance(weight, Tensor):
        raise TypeError("prelu(): argument 'weight' (position 2) must be Tensor")
    _float_check(input, "prelu")
    if weight._dtype is not input._dtype:
        raise RuntimeError(f"prelu: Type promoting not supported. Got {D.scalar_type_name(input._dtype)} and "
                           f"{D.scalar_type_name(weight._dtype)}")
    w = weight
    if w.numel() != 1:
        if input.dim() == 0:
            raise RuntimeError("Not allow zero-dim input tensor.")
        c = input._shape[1] if input.dim() >= 2 else 1
        if w.numel() != c:
            raise RuntimeError(f"Mismatch of parameter numbers and input channel size. Found parameter numbers = "
                               f"{w.numel()} and channel size = {c}.")
    if w.dim() > 1:
        raise RuntimeError(f"prelu: Expected `weight` to be a scalar or 1D tensor, but got: ndim = {w.dim()}")
    if w.numel() != 1:
        if input.dim() >= 2:
            w = w.reshape((c,) + (1,) * (input.dim() - 2))
    else:
        w = w.reshape(())
    return rename_grad_fn(_where(input > 0, input, w * input), "PreluKernelBackward0")   # aten::_prelu_kernel's


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    return rrelu_with_noise(input, lower, upper, training, inplace)


def rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False):
    return rrelu_with_noise(input, lower, upper, training, True)


def rrelu_with_noise(input, lower, upper, training, inplace, generator=None):
    """rrelu drawing its slopes from `generator` (torch.rrelu's argument; None: the default generator)."""
    if lower > upper:
        raise RuntimeError("Lower bound should be less than or equal to the upper bound")
    if not training:
        return leaky_relu(input, (lower + upper) / 2, inplace)
    _float_check(input, "rrelu_with_noise")
    # ATen draws one uniform double in [lower, upper) per non-positive element, in element order
    neg = input.detach() <= 0
    k = int(neg.sum().item())
    noise = ones(input._shape, dtype=input._dtype, device=input._storage.device)
    if k:
        # drawn in float64 on the CPU generator (the device may have no float64), then moved
        r = ones(k, dtype=D.float64, device="cpu").uniform_(lower, upper, generator=generator)
        r = r.to(input._storage.device, input._dtype)
        noise = noise.reshape(-1).masked_scatter(neg.reshape(-1), r).reshape(input._shape)
    # in place, the product reads a copy: the write into `input` must not invalidate what Mul saved
    return _maybe_inplace(input, (input.clone() if inplace else input) * noise, inplace)


# ---- softmax family / gated ------------------------------------------------------------------------------

def _softmax_dim(name, ndim):
    warn_at_caller(f"Implicit dimension choice for {name} has been deprecated. Change the call to include dim=X "
                   "as an argument.")
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    if dim is None:
        dim = _softmax_dim("softmax", input.dim())
    return _R.softmax(input, dim, dtype)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    if dim is None:
        dim = _softmax_dim("log_softmax", input.dim())
    return _R.log_softmax(input, dim, dtype)


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    if dim is None:
        dim = _softmax_dim("softmin", input.dim())
    x = input if dtype is None else input.to(dtype)
    return _R.softmax(-x, dim)


def gumbel_softmax(logits, tau=1, hard=False, eps=1e-10, dim=-1):
    """Softmax of (logits + Gumbel noise) / tau: a differentiable sample of a categorical distribution; `hard`
    returns the one-hot argmax with the soft sample's gradient (straight through). The noise is drawn as PyTorch
    draws it (-log of exponential_ over an empty_like), so a seeded run gives PyTorch's sample."""
    if eps != 1e-10:
        warn_at_caller("`eps` parameter is deprecated and has no effect.")
    gumbels = -empty_like(logits, memory_format=contiguous_format).exponential_().log()
    y_soft = ((logits + gumbels) / tau).softmax(dim)
    if not hard:
        return y_soft
    index = y_soft.max(dim, keepdim=True)[1]
    y_hard = zeros_like(logits, memory_format=contiguous_format).scatter_(dim, index, 1.0)
    return y_hard - y_soft.detach() + y_soft


def glu(input, dim=-1):
    _float_check(input, "glu")
    if input.dim() == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    d = input._wrap_dim(dim)
    n = input._shape[d]
    if n % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {d} is size {n}")
    a = input.narrow(d, 0, n // 2)
    b = input.narrow(d, n // 2, n // 2)
    return a * b.sigmoid()


# Declarations, one row per op: (name, fn, dtype rule, the UnaryOp grads of a kernel activation or None).
# A kernel activation calls the `unary` primitive and differentiates by its UnaryOp's grad (relu6 and hardtanh
# take that path for floating inputs; integers go through clamp). The others are composites whose gradients come
# from the ops they are written in (relu: Tensor.relu; rrelu: leaky_relu, or a product with drawn noise).
# Float-checked ops keep the input's dtype ("same"); those written in division, tanh or sigmoid turn integers
# into the default float ("float"); the softmax family has its own rule.
for _name, _fn, _dtype, _grads in [
        ("relu", relu, "same", None),
        ("relu6", relu6, "same", (_relu6_grad,)),
        ("leaky_relu", leaky_relu, "same", (_leaky_grad,)),
        ("elu", elu, "same", (_elu_grad,)),
        ("selu", selu, "same", (_elu_grad,)),
        ("celu", celu, "same", (_elu_grad,)),
        ("gelu", gelu, "same", (_gelu_erf_grad, _gelu_tanh_grad)),   # one grad per `approximate` kernel
        ("silu", silu, "same", (_silu_grad,)),
        ("mish", mish, "same", (_mish_grad,)),
        ("softplus", softplus, "same", (_softplus_grad,)),
        ("hardtanh", hardtanh, "same", (_hardtanh_grad,)),
        ("hardswish", hardswish, "same", (_hardswish_grad,)),
        ("hardsigmoid", hardsigmoid, "same", (_hardsigmoid_grad,)),
        ("logsigmoid", logsigmoid, "same", (_logsigmoid_grad,)),
        ("softsign", softsign, "float", None),
        ("tanhshrink", tanhshrink, "float", None),
        ("softshrink", softshrink, "float", None),
        ("hardshrink", hardshrink, "same", None),
        ("threshold", threshold, "same", None),
        ("prelu", prelu, "same", None),
        ("rrelu", rrelu, "same", None),
        ("softmin", softmin, "softmax", None),
        ("glu", glu, "float", None)]:
    if _grads is None:
        reg(_name, _fn, "activation", dtype=_dtype)
    else:
        reg(_name, _fn, "activation", primitive="unary", dtype=_dtype, derivative=formula(*_grads))
reg("softmax", softmax, "activation", dtype="softmax", opinfo=("softmax",))
reg("gumbel_softmax", gumbel_softmax, "activation", dtype="same", opinfo=())   # random: tests/test_nn_misc_more.py
reg("log_softmax", log_softmax, "activation", dtype="softmax", opinfo=("log_softmax",))
reg("sigmoid", sigmoid, "activation", dtype="float", opinfo=("sigmoid",))
reg("tanh", tanh, "activation", dtype="float", opinfo=("tanh",))
for _name, _fn in [("relu_", relu_), ("leaky_relu_", leaky_relu_), ("elu_", elu_), ("selu_", selu_),
                   ("celu_", celu_), ("hardtanh_", hardtanh_), ("threshold_", threshold_), ("rrelu_", rrelu_)]:
    reg(_name, _fn, "activation", dtype="same", opinfo=())
Tensor.hardshrink = hardshrink
Tensor.prelu = prelu
