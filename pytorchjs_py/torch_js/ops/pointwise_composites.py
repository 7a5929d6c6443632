"""Pointwise ops written in other elementwise ops (so every device and autograd get them for free): lerp,
heaviside, logaddexp/logaddexp2, sinc, deg2rad/rad2deg, nan_to_num, float_power, addcmul/addcdiv, and the
comparisons isclose/allclose/equal."""
import math

from .. import _dtype as D
from .._tensor import Tensor
from ._registry import NOT_DIFFERENTIABLE, register
from ._util import (GRAD_ENABLED, broadcast_shapes, check, derivative_not_implemented, not_implemented_for,
                    record, rename_grad_fn)
from . import inplace as _ip
from .deprecated_overloads import number_first
from .elementwise import pow as _pow, where


def lerp(input, end, weight, *, out=None):
    # PyTorch's two-branch formula keeps lerp exact at both ends
    diff = end - input
    if isinstance(weight, Tensor):
        r = where(weight.abs() < 0.5, input + weight * diff, end - diff * (1 - weight))
    elif abs(weight) < 0.5:
        r = input + weight * diff
    else:
        r = end - diff * (1 - weight)
    r = rename_grad_fn(r, "LerpBackward1" if isinstance(weight, Tensor) else "LerpBackward0")   # ATen's nodes
    return _ip.maybe_write_out(out, r)


def _float_of(x):
    return x if x._dtype.is_floating_point else x.to(D.get_default_dtype())


def _tensor_args(name, *pairs):
    for pos, (argname, v) in enumerate(pairs, 1):
        if not isinstance(v, Tensor):
            raise TypeError(f"{name}(): argument '{argname}' (position {pos}) must be Tensor, not "
                            f"{type(v).__name__}")


def heaviside(input, values, *, out=None):
    _tensor_args("heaviside", ("input", input), ("values", values))
    check(not (input._dtype.is_complex or values._dtype.is_complex),
          "heaviside is not yet implemented for complex tensors.")
    check(input._dtype is values._dtype, "heaviside is not yet implemented for tensors with different dtypes.")
    x, v = input.detach(), values.detach()
    r = where(x == 0, v, (x > 0).to(x._dtype))
    shape = broadcast_shapes(x._shape, v._shape)
    if r._shape != shape:
        r = r.expand(shape).contiguous()
    if GRAD_ENABLED[0] and (input._requires_grad or values._requires_grad) and r._dtype.is_floating_point:
        # PyTorch gives heaviside no derivative: its NotImplemented node raises at backward
        record("NotImplemented", lambda ctx, g: derivative_not_implemented("aten::heaviside"), (input, values), (r,))
    return _ip.maybe_write_out(out, r)


def _need_float(name, *ts):
    """A float kernel: the promoted dtype of the tensors must be floating (int + float promotes to float)."""
    d = None
    for t in ts:
        if isinstance(t, Tensor):
            d = t._dtype if d is None else D.promote_types(d, t._dtype)
    if d is not None and not d.is_floating_point:
        raise not_implemented_for(f"{name}_cpu", d)


def logaddexp(input, other, *, out=None):
    _tensor_args("logaddexp", ("input", input), ("other", other))
    _need_float("logaddexp", input, other)
    m = input.maximum(other)
    r = m + (-(input - other).abs()).exp().log1p()
    r = where(input.isinf() & (input == other), input.expand(r._shape) if input._shape != r._shape else input, r)
    return _ip.maybe_write_out(out, r)


def logaddexp2(input, other, *, out=None):
    _tensor_args("logaddexp2", ("input", input), ("other", other))
    _need_float("logaddexp2", input, other)
    m = input.maximum(other)
    r = m + (-(input - other).abs()).exp2().log1p() / math.log(2.0)
    r = where(input.isinf() & (input == other), input.expand(r._shape) if input._shape != r._shape else input, r)
    return _ip.maybe_write_out(out, r)


def sinc(input, *, out=None):
    if input._dtype.is_complex:   # sin(pi z) / (pi z), 1 at 0
        zero = input == 0
        pz = where(zero, 1.0, input) * math.pi
        return _ip.maybe_write_out(out, where(zero, 1.0, pz.sin() / pz))
    x = _float_of(input)
    zero = x == 0
    safe = x.masked_fill(zero, 1.0)  # keeps the gradient at 0 finite (it is 0 there, as in PyTorch)
    px = safe * math.pi
    r = (px.sin() / px).masked_fill(zero, 1.0)
    return _ip.maybe_write_out(out, r)


def deg2rad(input, *, out=None):
    return _ip.maybe_write_out(out, _float_of(input) * (math.pi / 180.0))


def rad2deg(input, *, out=None):
    return _ip.maybe_write_out(out, _float_of(input) * (180.0 / math.pi))


_FMAX = {"float32": 3.4028234663852886e38, "float64": 1.7976931348623157e308, "float16": 65504.0,
         "bfloat16": 3.3895313892515355e38}


def nan_to_num(input, nan=0.0, posinf=None, neginf=None, *, out=None):
    if not input._dtype.is_floating_point:
        return _ip.maybe_write_out(out, input.clone())
    big = _FMAX[input._dtype.name]
    posinf = big if posinf is None else posinf
    neginf = -big if neginf is None else neginf
    r = input.masked_fill(input.isnan(), nan).masked_fill(input.isposinf(), posinf) \
        .masked_fill(input.isneginf(), neginf)
    return _ip.maybe_write_out(out, rename_grad_fn(r, "NanToNumBackward0"))


def nan_to_num_(self, nan=0.0, posinf=None, neginf=None):
    return _ip.inplace_from(self, nan_to_num(self, nan, posinf, neginf))


def _float_power_dtype(input, exponent):
    """complex128 if either operand is complex, else float64."""
    complex_ = any(v._dtype.is_complex if isinstance(v, Tensor) else isinstance(v, complex) for v in (input, exponent))
    return D.complex128 if complex_ else D.float64


def float_power(input, exponent, *, out=None):
    d = _float_power_dtype(input, exponent)
    scalar = complex if d is D.complex128 else float
    a = input.to(d) if isinstance(input, Tensor) else scalar(input)
    b = exponent.to(d) if isinstance(exponent, Tensor) else scalar(exponent)
    r = _pow(a, b)
    if out is not None:
        check(out._dtype is d, lambda: f"the output given to float_power has dtype "
              f"{D.scalar_type_name(out._dtype)} but the operation's result requires dtype {D.scalar_type_name(d)}")
    return _ip.maybe_write_out(out, r)


def float_power_(self, exponent):
    d = _float_power_dtype(self, exponent)
    check(self._dtype is d, lambda: f"the base given to float_power_ has dtype "
          f"{D.scalar_type_name(self._dtype)} but the operation's result requires dtype {D.scalar_type_name(d)}")
    return _ip.inplace_from(self, float_power(self, exponent))


def _addc_check(input, t1, t2, value, name):
    if name == "addcdiv":
        check(t1._dtype.is_floating_point or t2._dtype.is_floating_point,
              "Integer division with addcdiv is no longer supported, and in a future release addcdiv will perform "
              "a true division of tensor1 and tensor2. The historic addcdiv behavior can be implemented as "
              "(input + value * torch.trunc(tensor1 / tensor2)).to(input.dtype) for integer inputs and as "
              "(input + value * tensor1 / tensor2) for float inputs. The future addcdiv behavior is just the latter "
              "implementation: (input + value * tensor1 / tensor2), for all dtypes.")
    if isinstance(value, float) and not value.is_integer():
        dts = [t._dtype for t in (input, t1, t2)]
        check(any(d.is_floating_point for d in dts),
              "For integral input tensors, argument alpha must not be a floating point number.")


def addcmul(input, tensor1, tensor2, *deprecated, value=1, out=None):
    if deprecated:   # addcmul(input, Number value, Tensor tensor1, Tensor tensor2)
        value, (tensor1, tensor2) = number_first("addcmul", tensor1, (tensor2, *deprecated), value)
    _addc_check(input, tensor1, tensor2, value, "addcmul")
    # PyTorch's kernel evaluates self + value * t1 * t2 left to right: (value * t1) * t2
    r = input + ((tensor1 * value if value != 1 else tensor1) * tensor2)
    return _ip.maybe_write_out(out, rename_grad_fn(r, "AddcmulBackward0"))


def addcdiv(input, tensor1, tensor2, *deprecated, value=1, out=None):
    if deprecated:   # addcdiv(input, Number value, Tensor tensor1, Tensor tensor2)
        value, (tensor1, tensor2) = number_first("addcdiv", tensor1, (tensor2, *deprecated), value)
    _addc_check(input, tensor1, tensor2, value, "addcdiv")
    r = input + ((tensor1 * value if value != 1 else tensor1) / tensor2)  # (value * t1) / t2, as PyTorch
    return _ip.maybe_write_out(out, rename_grad_fn(r, "AddcdivBackward0"))


def addcmul_(self, tensor1, tensor2, *deprecated, value=1):
    if deprecated:
        value, (tensor1, tensor2) = number_first("addcmul_", tensor1, (tensor2, *deprecated), value)
    _addc_check(self, tensor1, tensor2, value, "addcmul")
    return self.add_((tensor1 * value if value != 1 else tensor1) * tensor2)


def addcdiv_(self, tensor1, tensor2, *deprecated, value=1):
    if deprecated:
        value, (tensor1, tensor2) = number_first("addcdiv_", tensor1, (tensor2, *deprecated), value)
    _addc_check(self, tensor1, tensor2, value, "addcdiv")
    return self.add_((tensor1 * value if value != 1 else tensor1) / tensor2)


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """|input - other| <= atol + rtol * |other|, with infinities equal only to themselves (PyTorch's rule)."""
    for pos, (arg, v) in enumerate((("input", input), ("other", other)), 1):
        if not isinstance(v, Tensor):
            raise TypeError(f"isclose(): argument '{arg}' (position {pos}) must be Tensor, not {type(v).__name__}")
    if input._dtype is not other._dtype:
        raise RuntimeError(f"{D.scalar_type_name(input._dtype)} did not match {D.scalar_type_name(other._dtype)}")
    if rtol < 0:
        raise RuntimeError(f"rtol must be greater than or equal to zero, but got {rtol}")
    if atol < 0:
        raise RuntimeError(f"atol must be greater than or equal to zero, but got {atol}")
    exact = input == other
    if input._dtype is D.bool_ or (rtol == 0 and atol == 0):
        return exact
    if not (input._dtype.is_floating_point or input._dtype.is_complex):
        wide = input._storage.backend.wide_float
        a, b = input.to(wide), other.to(wide)
        return exact | ((a - b).abs() <= atol + rtol * b.abs())
    close = exact | (((input - other).abs() <= atol + rtol * other.abs()) & input.isfinite() & other.isfinite())
    if equal_nan:
        close = close | (input.isnan() & other.isnan())
    return close


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    return bool(isclose(input, other, rtol, atol, equal_nan).all().item())


def equal(input, other):
    """Same size and elements (dtypes may differ, as in PyTorch)."""
    if input._shape != other._shape:
        return False
    return bool((input == other).all().item())


def positive(input):
    """input itself (unary plus), which PyTorch refuses for bool."""
    if input._dtype is D.bool_:
        raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
    return input


def _register_all():
    register("positive", positive, "unary", dtype="same")
    register("lerp", lerp, "ternary", dtype="promote",
             inplace=lambda self, end, weight: _ip.inplace_from(self, lerp(self, end, weight)))
    register("heaviside", heaviside, "binary", dtype="same", derivative=NOT_DIFFERENTIABLE,
             inplace=lambda self, values: _ip.inplace_from(self, heaviside(self, values)))
    register("logaddexp", logaddexp, "binary", dtype="promote")
    register("logaddexp2", logaddexp2, "binary", dtype="promote")
    register("sinc", sinc, "unary", dtype="float", inplace=lambda self: _ip.inplace_from(self, sinc(self)))
    register("deg2rad", deg2rad, "unary", dtype="float", inplace=lambda self: _ip.inplace_from(self, deg2rad(self)))
    register("rad2deg", rad2deg, "unary", dtype="float", inplace=lambda self: _ip.inplace_from(self, rad2deg(self)))
    register("nan_to_num", nan_to_num, "unary", dtype="same", inplace=nan_to_num_)
    register("float_power", float_power, "binary", dtype="double", inplace=float_power_)
    register("addcmul", addcmul, "ternary", dtype="promote", inplace=addcmul_)
    register("addcdiv", addcdiv, "ternary", dtype="promote", inplace=addcdiv_)
    register("isclose", isclose, "binary", dtype="bool", derivative=NOT_DIFFERENTIABLE)
    register("allclose", allclose, "binary", dtype="python", derivative=NOT_DIFFERENTIABLE)
    register("equal", equal, "binary", dtype="python", derivative=NOT_DIFFERENTIABLE)


_register_all()
