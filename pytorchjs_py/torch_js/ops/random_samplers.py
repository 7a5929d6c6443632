"""PyTorch's CPU distribution kernels, draw for draw: Tensor.cauchy_, geometric_ and log_normal_ (one transformed
double draw per element, in memory order, computed as tensor ops) and the rejection samplers torch.poisson and
torch.binomial, which take a data-dependent number of draws per element: those run element by element in Python on
the generator's stream as a random.Random (_generator.Generator.python_stream), with PyTorch's arithmetic (float32
rounding where its kernel computes in float for float32 tensors).

Caveat: poisson's acceptance test calls lgamma, here CPython's (PyTorch calls the C library's); they can differ in
the last bit, which decides a draw only when the test lands within an ulp of its bound.
"""
import math

from .. import _dtype as D
from .._grad_mode import no_grad
from .._storage import CPU, META
from .._tensor import Tensor, _empty
from ._registry import NOT_DIFFERENTIABLE, backward, register
from ._util import (GRAD_ENABLED, broadcast_shapes, c_type_name, check, dense_strides, derivative_not_implemented,
                    not_implemented_for, record)
from . import inplace as _ip
from .creation import tensor
from .random import _addr, _gen

_DOUBLE_MANTISSA = (1 << 53) - 1


def _drawn_into(t, values):
    """Write `values` (float64, CPU, one per element in memory order, as PyTorch's serial kernels fill a dense
    tensor) into t."""
    strides = dense_strides(t) if not t.is_contiguous() else None
    with no_grad():
        t.copy_(values.as_strided(t._shape, strides) if strides is not None else values.view(t._shape))
    return t


def _uniforms(n, g):
    """n doubles of at::uniform_real_distribution<double>(0, 1): one random64 each."""
    u = _empty((n,), D.float64, CPU)
    g.fill_uniform(_addr(u), n, D.float64.code, 0.0, 1.0)
    return u


def _fill(self, values_of):
    _ip.check_writable(self)
    if GRAD_ENABLED[0] and self._requires_grad:
        _ip.check_leaf(self)
    if not self.numel() or self._storage.device is META:
        return self
    return _drawn_into(self, values_of(self.numel()))


def _number(v):
    """A double as C++'s stream prints it (6 significant digits: -1, 0.5, 1e-07)."""
    return f"{float(v):g}"


_SPLIT = 134217729.0     # 2**27 + 1: Veltkamp's split of a double into halves whose products are exact


def _fma(a, b, c):
    """a * b + c for float64 tensor a and numbers b, c, rounded once (PyTorch's AVX2 build contracts the kernel's
    `median + sigma * t` into a fused multiply-add): the product split exactly into two doubles, then a compensated
    sum."""
    bh = b * _SPLIT - (b * _SPLIT - b)
    t = a * _SPLIT
    ah = t - (t - a)
    p = a * b
    p_err = ((ah * bh - p) + ah * (b - bh) + (a - ah) * bh) + (a - ah) * (b - bh)
    s = p + c
    back = s - p
    return s + (((p - (s - back)) + (c - back)) + p_err)


def cauchy_(self, median=0.0, sigma=1.0, *, generator=None):
    """median + sigma tan(pi (u - 1/2))."""
    check(self._dtype.is_floating_point, lambda: "Cauchy distribution is a continuous probability distribution. "
          f"dtype must be a floating point but you specified {c_type_name(self._dtype)}")
    check(sigma > 0.0, lambda: f"cauchy_ expects sigma > 0.0, but found sigma={_number(sigma)}")
    g = _gen(generator)
    return _fill(self, lambda n: _fma(((_uniforms(n, g) - 0.5) * math.pi).tan(), float(sigma), float(median)))


def geometric_(self, p, *, generator=None):
    """ceil(log(u) / log1p(-p)): the number of Bernoulli(p) trials to the first success."""
    if self._dtype is D.bool_ or self._dtype.is_complex:
        raise not_implemented_for("geometric_cpu", self._dtype)
    check(0 < p < 1, lambda: f"geometric_ expects p to be in (0, 1), but got p={_number(p)}")
    g = _gen(generator)
    return _fill(self, lambda n: (_uniforms(n, g).log() / math.log1p(-p)).ceil())


def log_normal_(self, mean=1.0, std=2.0, *, generator=None):
    """exp of a normal(mean, std) draw (the double Box-Muller with the generator's cached second value)."""
    if not self._dtype.is_floating_point:
        raise not_implemented_for("log_normal_cpu", self._dtype)
    check(std > 0.0, lambda: f"log_normal_ expects std > 0.0, but found std={_number(std)}")
    g = _gen(generator)

    def values(n):
        z = _empty((n,), D.float64, CPU)
        g.fill_normal(_addr(z), n, D.float64.code, float(mean), float(std), False)
        return z.exp()
    return _fill(self, values)


# ---- rejection samplers, element by element -------------------------------------------------------------------

def _uniform(stream):
    """One double of at::uniform_real_distribution<double>(0, 1): random64 (its first draw the high word)."""
    hi = stream.getrandbits(32)
    return (((hi << 32) | stream.getrandbits(32)) & _DOUBLE_MANTISSA) * 1.1102230246251565e-16


def _same(x):
    return x


def _to_int64(x):
    """(int64_t)std::floor(x) on x86: nan, infinities and values out of range give INT64_MIN."""
    x = math.floor(x) if math.isfinite(x) else x
    return int(x) if -9.223372036854776e18 <= x < 9.223372036854776e18 else -(1 << 63)


def _poisson_one(lam, stream):
    """ATen's sample_poisson: Hormann's transformed rejection from rate 10, products of uniforms below."""
    check(lam >= 0, "invalid Poisson rate, expected rate to be non-negative")
    if lam >= 10:
        slam, loglam = math.sqrt(lam), math.log(lam)
        b = 0.931 + 2.53 * slam
        a = -0.059 + 0.02483 * b
        log_invalpha = math.log(1.1239 + 1.1328 / (b - 3.4))
        vr = 0.9277 - 3.6224 / (b - 2)
        while True:
            u = _uniform(stream) - 0.5
            v = _uniform(stream)
            us = 0.5 - abs(u)
            k = _to_int64((2 * a / us + b) * u + lam + 0.43)
            if us >= 0.07 and v <= vr:
                return k
            if k < 0 or (us < 0.013 and v > us):
                continue
            if math.log(v) + log_invalpha - math.log(a / (us * us) + b) <= -lam + k * loglam - math.lgamma(k + 1.0):
                return k
    if lam == 0:
        return 0
    enlam, count, prod = math.exp(-lam), 0, 1.0
    while True:
        prod *= _uniform(stream)
        if prod <= enlam:
            return count
        count += 1


def _poisson_backward(ctx, g):
    return g * 0


def poisson(input, generator=None):
    """Poisson(input) draws of input's shape and dtype (PyTorch's rates are read as doubles)."""
    if not input._dtype.is_floating_point:
        raise not_implemented_for("poisson_cpu", input._dtype)
    rates = input.detach().contiguous().to(D.float64).cpu().reshape(-1).tolist()
    g = _gen(generator)
    stream = g.python_stream()
    try:
        drawn = [float(_poisson_one(lam, stream)) for lam in rates]
    finally:   # a negative rate raises after the elements before it drew (PyTorch's serial kernel does too)
        g.resume(stream)
    with no_grad():
        r = tensor(drawn, dtype=D.float64, device=input.device).reshape(input._shape).to(input._dtype)
    if GRAD_ENABLED[0] and input._requires_grad:
        record("PoissonBackward0", _poisson_backward, (input,), (r,))
    return r


_STIRLING_TAIL = (0.0810614667953272, 0.0413406959554092, 0.0276779256849983, 0.02079067210376509,
                  0.0166446911898211, 0.0138761288230707, 0.0118967099458917, 0.0104112652619720,
                  0.00925546218271273, 0.00833056343336287)


def _stirling_tail(k):
    """log(k!) minus its Stirling approximation."""
    if k <= 9:
        return _STIRLING_TAIL[int(k)]
    kp1sq = (k + 1) * (k + 1)
    return (1.0 / 12 - (1.0 / 360 - 1.0 / 1260 / kp1sq) / kp1sq) / (k + 1)


def _binomial_inversion(count, prob, stream, s):
    """Successes counted by geometric gaps (the mean is below 10). `s` rounds to the tensor's dtype where
    PyTorch's kernel computes in it."""
    geom_sum, successes = 0.0, 0.0
    logprob = s(math.log1p(-prob))
    while True:
        geom_sum += math.ceil(math.log(_uniform(stream)) / logprob)
        if geom_sum > count:
            return successes
        successes = s(successes + 1)


def _btrs(count, prob, stream, s):
    """Hormann's BTRS (transformed rejection with squeeze), as ATen (after TensorFlow) writes it."""
    stddev = s(math.sqrt(s(s(count * prob) * s(1 - prob))))
    b = 1.15 + 2.53 * stddev
    a = -0.0873 + 0.0248 * b + 0.01 * prob
    c = s(count * prob) + 0.5
    v_r = 0.92 - 4.2 / b
    r = s(prob / s(1 - prob))
    alpha = (2.83 + 5.1 / b) * stddev
    m = math.floor(s(s(count + 1) * prob))
    while True:
        u = _uniform(stream) - 0.5
        v = _uniform(stream)
        us = 0.5 - abs(u)
        k = s(math.floor((2 * a / us + b) * u + c))
        if k < 0 or k > count:
            continue
        if us >= 0.07 and v <= v_r:
            return k
        v = math.log(v * alpha / (a / (us * us) + b))
        rest = s(s(count - k) + 1)
        bound = ((m + 0.5) * math.log((m + 1) / (r * (count - m + 1))) + s(count + 1) * math.log((count - m + 1) / rest)
                 + (k + 0.5) * math.log(r * rest / s(k + 1)) + _stirling_tail(m) + _stirling_tail(count - m)
                 - _stirling_tail(k) - _stirling_tail(s(count - k)))
        if v <= bound:
            return k


def _binomial_one(count, prob, stream, s):
    if count <= 0.0 or prob <= 0.0:
        return 0.0
    if prob >= 1.0:
        return count
    if not math.isfinite(count):
        return math.nan     # PyTorch's kernel never returns here (its loop cannot reach an infinite count)
    if prob <= 0.5:
        if s(count * prob) >= 10.0:
            return _btrs(count, prob, stream, s)
        return _binomial_inversion(count, prob, stream, s)
    if prob > 0.5:
        q = s(1.0 - prob)
        drawn = _btrs(count, q, stream, s) if s(count * q) >= 10.0 else _binomial_inversion(count, q, stream, s)
        return s(count - drawn)
    return math.nan   # prob is nan


def _binomial_backward(ctx, g):
    derivative_not_implemented("aten::binomial")


def binomial(count, prob, generator=None):
    """Binomial(count, prob) draws of the broadcast shape, in count's dtype (float32 or float64)."""
    for pos, (name, t) in enumerate((("count", count), ("prob", prob)), 1):
        if not isinstance(t, Tensor):
            raise TypeError(f"binomial(): argument '{name}' (position {pos}) must be Tensor, not {type(t).__name__}")
    for name, t in (("count", count), ("prob", prob)):
        if not (t._dtype.is_floating_point or t._dtype.is_complex):
            raise ValueError(f"binomial only supports floating-point dtypes for {name}, got: "
                             f"{D.scalar_type_name(t._dtype)}")
    check(prob._dtype is count._dtype, lambda: f"Found dtype {D.scalar_type_name(prob._dtype)} but expected "
          f"{D.scalar_type_name(count._dtype)}")
    if count._dtype not in (D.float32, D.float64):
        raise not_implemented_for("binomial_cpu", count._dtype)
    shape = broadcast_shapes(count._shape, prob._shape)
    counts = count.detach().expand(shape).contiguous().to(D.float64).cpu().reshape(-1).tolist()
    probs = prob.detach().expand(shape).contiguous().to(D.float64).cpu().reshape(-1).tolist()
    s = D.round_float32 if count._dtype is D.float32 else _same
    g = _gen(generator)
    stream = g.python_stream()
    try:
        drawn = [_binomial_one(n, p, stream, s) for n, p in zip(counts, probs)]
    finally:
        g.resume(stream)
    with no_grad():
        r = tensor(drawn, dtype=D.float64, device=count.device).reshape(shape).to(count._dtype)
    if GRAD_ENABLED[0] and (count._requires_grad or prob._requires_grad):
        record("NotImplemented", _binomial_backward, (count, prob), (r,))
    return r


def _register_all():
    register("poisson", poisson, "random", dtype="same", derivative=backward(_poisson_backward), method=False,
             opinfo=())
    register("binomial", binomial, "random", dtype="same", derivative=NOT_DIFFERENTIABLE, method=False, opinfo=())
    for name, fn in (("cauchy_", cauchy_), ("geometric_", geometric_), ("log_normal_", log_normal_)):
        register(name, fn, "random", dtype="same", derivative=NOT_DIFFERENTIABLE, function=False, opinfo=())


_register_all()
