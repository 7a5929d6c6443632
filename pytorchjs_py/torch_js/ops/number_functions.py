"""Functions of the number formats: gcd/lcm of integers; ldexp, frexp and nextafter on the floating-point format
(exact, through the bits: a float viewed as the integer of its width); isreal."""
import math

from .. import _dtype as D
from .._grad_mode import no_grad
from .._tensor import Tensor
from ._registry import NOT_DIFFERENTIABLE, backward, register
from ._util import (GRAD_ENABLED, broadcast_shapes, check, c_type_name, float64_home, not_implemented_for, record,
                    rename_grad_fn, result_type)
from . import inplace as _ip
from .creation import full
from .elementwise import FMOD, _binary_dtype, binary, where


def _tensors(name, input, other):
    for pos, (arg, v) in enumerate((("input", input), ("other", other)), 1):
        if not isinstance(v, Tensor):
            raise TypeError(f"{name}(): argument '{arg}' (position {pos}) must be Tensor, not {type(v).__name__}")


# ---- gcd, lcm -----------------------------------------------------------------------------------------------------

def _integral(name, input, other):
    _tensors(name, input, other)
    d = _binary_dtype(input, other)
    if d.is_floating_point or d.is_complex or d is D.bool_:
        raise not_implemented_for(f"{name}_cpu", d)
    return d


def _gcd(a, b):
    """Euclid's algorithm on |a|, |b|, all elements at once (C's `%`; |INT_MIN| stays INT_MIN, as in PyTorch)."""
    a, b = a.abs(), b.abs()
    while True:
        live = a != 0
        if not bool(live.any()):
            return b
        a, b = where(live, binary(FMOD, b, where(live, a, 1)), a), where(live, a, b)


def gcd(input, other, *, out=None):
    d = _integral("gcd", input, other)
    return _ip.maybe_write_out(out, _gcd(input.to(d), other.to(d)))


def lcm(input, other, *, out=None):
    """|a / gcd(a, b) * b|, 0 where the gcd is 0; C computes the small types in int (wrapping once, at the end)."""
    d = _integral("lcm", input, other)
    work = d if d in (D.int32, D.int64) else D.int64
    a, b = input.to(work), other.to(work)
    g = _gcd(a, b)
    r = where(g == 0, 0, (a.div(where(g == 0, 1, g), rounding_mode="trunc") * b).abs())
    return _ip.maybe_write_out(out, r.to(d))


# ---- the floating-point format -----------------------------------------------------------------------------------

_BITS = {D.float64: D.int64, D.float32: D.int32, D.float16: D.int16, D.bfloat16: D.int16}
_MANTISSA_BITS = 52
_EXP_MASK = 0x7ff
_NORMALIZE = 54          # 2**54 lifts any float64 subnormal into the normal range


def _power_of_two(e):
    """2**e as float64 for int64 e in [-1074, 1023], from its bits (exact, subnormals too)."""
    normal = ((e.clamp(-1022, 1023) + 1023) << _MANTISSA_BITS)
    subnormal = (e.clamp(-1074, -1023) + 1074).clamp(0, 62)
    bits = where(e >= -1022, normal, full(e._shape, 1, dtype=D.int64, device=e.device) << subnormal)
    return bits.view(D.float64)


def _frexp64(x):
    """(mantissa, exponent) of float64 x: x = mantissa * 2**exponent, 0.5 <= |mantissa| < 1; 0, inf and nan are their
    own mantissa with exponent 0 (C's frexp)."""
    finite = x.isfinite() & (x != 0)
    sub = finite & (x.abs() < 2.2250738585072014e-308)
    xs = where(sub, x * float(2 ** _NORMALIZE), x)
    bits = xs.view(D.int64)
    field = (bits >> _MANTISSA_BITS) & _EXP_MASK
    exponent = where(finite, field - 1022 - where(sub, _NORMALIZE, 0), 0)
    mantissa_bits = (bits & ~(_EXP_MASK << _MANTISSA_BITS)) | (1022 << _MANTISSA_BITS)
    mantissa = where(finite, mantissa_bits.view(D.float64), x)
    return mantissa, exponent


FrexpResult = result_type("frexp", ("mantissa", "exponent"))
FrexpOutResult = result_type("frexp_out", ("mantissa", "exponent"))


def _frexp_backward(ctx, g_mantissa, g_exponent):
    (exponent,) = ctx.saved_tensors
    return g_mantissa / exponent.to(g_mantissa.dtype).exp2()


def frexp(input, *, out=None):
    check(isinstance(input, Tensor) and input._dtype.is_floating_point,
          "torch.frexp() only supports floating-point dtypes")
    with no_grad():
        m64, e64 = _frexp64(input.detach().to(float64_home(input), D.float64))
        dev = input._storage.device
        mantissa, exponent = m64.to(dev, input._dtype), e64.to(dev, D.int32)
    if GRAD_ENABLED[0] and input._requires_grad:
        record("FrexpBackward0", _frexp_backward, (input,), (mantissa, None), save_inputs=(exponent,))
    if out is None:
        return FrexpResult((mantissa, exponent))
    out_m, out_e = out
    check(out_m._dtype is input._dtype, lambda: f"torch.frexp() expects mantissa to have dtype "
          f"{c_type_name(input._dtype)} but got {c_type_name(out_m._dtype)}")
    check(out_e._dtype is D.int32, lambda: f"torch.frexp() expects exponent to have int dtype but got "
          f"{c_type_name(out_e._dtype)}")
    return FrexpOutResult((_ip.write_out(out_m, mantissa), _ip.write_out(out_e, exponent)))


def _ldexp_int(x, e):
    """C's ldexp(x, (int)e) in float64, correctly rounded: x's exponent plus e, the mantissa scaled by one exact
    power of two (so the one rounding is that of the result)."""
    e = e.to(D.int32).to(D.int64)              # C's (int) conversion: int64 exponents wrap
    m, ex = _frexp64(x)
    total = (ex + e).clamp(-1100, 1100)
    scaled = (m * 2.0) * _power_of_two((total - 1).clamp(-1074, 1023))
    scaled = where(total > 1024, m * math.inf, where(total < -1074, m * 0.0, scaled))
    return where(x.isfinite() & (x != 0), scaled, x)


def _ldexp_backward(ctx, g):
    x, e = ctx.saved_tensors
    return g * (2.0 ** e.to(g.dtype)), None


def _integral_exponent(t):
    return not (t._dtype.is_floating_point or t._dtype.is_complex)


def ldexp(input, other, *, out=None):
    """input * 2**other. An integer `other` with a float input: C's ldexp, exact, in the input's dtype; otherwise the
    product with a power of two computed as PyTorch's _pow2 does (2.0 ** other for integer and float32 inputs, in
    the input's dtype for the others)."""
    _tensors("ldexp", input, other)
    if out is not None and _integral_exponent(out):
        raise RuntimeError(f"ldexp can't be cast to the desired output type {D.scalar_type_name(out._dtype)}")
    d = input._dtype
    if _integral_exponent(other) and d.is_floating_point and (out is None or out._dtype is d):
        shape = broadcast_shapes(input._shape, other._shape)
        with no_grad():
            home = float64_home(input)
            x = input.detach().to(home, D.float64).expand(shape)
            r = _ldexp_int(x, other.detach().to(home).expand(shape)).to(input._storage.device, d)
        if GRAD_ENABLED[0] and input._requires_grad:
            record("LdexpBackward0", _ldexp_backward, (input, other), (r,), save_inputs=(input, other))
        return _ip.maybe_write_out(out, r)
    if _integral_exponent(input) or d is D.float32:
        power = 2.0 ** other
    else:
        power = full((), 2.0, dtype=d, device=input.device) ** other
    return _ip.maybe_write_out(out, rename_grad_fn(input * power, "LdexpBackward0"))


def ldexp_(self, other):
    if _integral_exponent(self):
        raise RuntimeError(f"ldexp can't be cast to the desired output type {D.scalar_type_name(self._dtype)}")
    return _ip.inplace_from(self, ldexp(self, other))


_SMALLEST_SUBNORMAL = {D.float64: 5e-324, D.float32: 1.401298464324817e-45, D.float16: 5.960464477539063e-08,
                       D.bfloat16: 9.183549615799121e-41}


def _nextafter_backward(ctx, g):
    return g, g * 0


def nextafter(input, other, *, out=None):
    """The next float after input toward other (C's nextafter): one step of the float's integer bits; other itself
    where they are equal, nan where either is."""
    _tensors("nextafter", input, other)
    d = _binary_dtype(input, other)
    if not d.is_floating_point:
        raise not_implemented_for("nextafter_cpu", d)
    shape = broadcast_shapes(input._shape, other._shape)
    with no_grad():
        x = input.detach().to(d).expand(shape).contiguous()
        y = other.detach().to(d).expand(shape)
        bits = x.view(_BITS[d])
        step = where((x < y) == (x > 0), bits + 1, bits - 1).view(d)
        tiny = full(shape, _SMALLEST_SUBNORMAL[d], dtype=d, device=x.device).copysign(y)
        r = where(x == y, y, where(x == 0, tiny, step))
        r = where(x.isnan() | y.isnan(), math.nan, r)
    if GRAD_ENABLED[0] and (input._requires_grad or other._requires_grad):
        record("NextafterBackward0", _nextafter_backward, (input, other), (r,))
    return _ip.maybe_write_out(out, r)


# ---- isreal -------------------------------------------------------------------------

def isreal(input):
    """True where the element has no imaginary part (everywhere, for a real dtype)."""
    if input._dtype.is_complex:
        return input.imag == 0
    return full(input._shape, True, dtype=D.bool_, device=input.device)


def _inplace(fn):
    def fn_(self, other):
        return _ip.inplace_from(self, fn(self, other))
    fn_.__name__ = fn.__name__ + "_"
    return fn_


def _register_all():
    for fn in (gcd, lcm):
        register(fn.__name__, fn, "binary", dtype="integral", derivative=NOT_DIFFERENTIABLE, inplace=_inplace(fn))
    register("ldexp", ldexp, "binary", dtype="float", derivative=backward(_ldexp_backward), inplace=ldexp_)
    register("frexp", frexp, "multi_output", dtype="same", derivative=backward(_frexp_backward))
    register("nextafter", nextafter, "binary", dtype="promote", derivative=backward(_nextafter_backward),
             inplace=_inplace(nextafter))
    register("isreal", isreal, "unary", dtype="bool", derivative=NOT_DIFFERENTIABLE)


_register_all()
