"""Complex tensors (complex64, complex128) as PyTorch has them, computed by real ops on their float views.

A complex tensor's storage holds (real, imaginary) pairs of its part dtype, so `view_as_real` is a free view with a
trailing dim of 2 (backends/complex_data.py has the geometry; the backends move complex data through it). Every
computation here is written in real ops on the parts, so:
- the kernels stay real-only and every op runs on every backend;
- autograd needs no complex calculus of its own: for a real-valued loss L, PyTorch's gradient of a complex
  tensor is dL/d(real) + i·dL/d(imag), which is exactly what the real ops' gradients give once view_as_real, real,
  imag and the pair-to-complex step pass gradients through as views do. Backwards are written out only where the
  composite's own would be wrong at points PyTorch handles: the holomorphic functions (exp, log, sqrt, sin, cos,
  sinh, cosh: their values take branches) record PyTorch's grad·conj(f'(z)), and abs, angle and sgn its formulas,
  which are finite at 0.
PyTorch's lazy conjugate bit is not kept: conj() materializes the conjugate (is_conj() is always False, and a
conj() result does not alias its input).

elementwise.unary/binary/pow route complex operands here (one dtype check, off the real fast paths), through the
COMPLEX hook slot they read (this module is declared above them).
"""
import builtins
import math

from .. import _dtype as D
from .._grad_mode import no_grad
from .._tensor import Tensor, _empty, _make
from .._memory_format import contiguous_format
from ..backends.complex_data import part as _part_view, real_view as _float_view
from . import elementwise as E
from . import inplace as _ip
from ._registry import NOT_DIFFERENTIABLE, backward, register
from ._util import (GRAD_ENABLED, broadcast_pair, check, expand_strides, not_implemented_for, record, rename_grad_fn,
                    same_device)
from .creation import full, zeros_like

_pycomplex = builtins.complex   # this module's `complex` is torch.complex
_NUMBERS = (int, float, bool, _pycomplex)


# ---- views between complex tensors and their parts ------------------------------------------------------------

def view_as_real(input):
    if not input._dtype.is_complex:
        raise RuntimeError("view_as_real is only supported for complex tensors")
    v = _float_view(input)
    v._base = input._base if input._base is not None else input
    if GRAD_ENABLED[0] and input._requires_grad:
        record("ViewAsRealBackward0", _view_as_real_back, (input,), (v,))
    return v


def _view_as_real_back(ctx, g):
    return _pairs_to_complex(g if _pairs_ok(g) else g.clone(memory_format=contiguous_format))


def _pairs_ok(r):
    """Whether float tensor r (..., 2) can be viewed as complex: the pair contiguous, every other stride and the
    offset even (size-1 dims' strides never matter)."""
    st = r._stride
    if st[-1] != 1 or r._offset % 2:
        return False
    for n, s in zip(r._shape[:-1], st[:-1]):
        if s % 2 and n != 1:
            return False
    return True


def _pairs_to_complex(r, name="ViewAsComplexBackward0"):
    """Float tensor r (..., 2), laid out as _pairs_ok says, as the complex tensor of its pairs (sharing memory;
    not marked a view: callers pass their own fresh results, or view_as_complex marks it)."""
    v = _make(r._storage, r._shape[:-1], tuple(s // 2 for s in r._stride[:-1]), r._offset // 2,
              r._dtype.to_complex())
    if GRAD_ENABLED[0] and r._requires_grad:
        record(name, _view_as_complex_back, (r,), (v,))
    return v


def _view_as_complex_back(ctx, g):
    return view_as_real(g)


def view_as_complex(input):
    d = input._dtype
    if d not in (D.float32, D.float64, D.float16):
        raise RuntimeError("view_as_complex is only supported for half, float and double tensors, but got a tensor "
                           f"of scalar type: {D.scalar_type_name(d)}")
    d.to_complex()   # float16: torch_js has no complex32
    shape, st = input._shape, input._stride
    check(len(shape) > 0, "Input tensor must have one or more dimensions")
    check(shape[-1] == 2, "Tensor must have a last dimension of size 2")
    check(st[-1] == 1, "Tensor must have a last dimension with stride 1")
    for s in st[:-1]:
        check(s % 2 == 0, "Tensor must have a stride divisible by 2 for all but last dimension")
    check(input._offset % 2 == 0, "Tensor must have a storage_offset divisible by 2")
    v = _pairs_to_complex(input)
    v._base = input._base if input._base is not None else input
    return v


def _part(z, k, name, back):
    v = _part_view(z, k)
    v._base = z._base if z._base is not None else z
    if GRAD_ENABLED[0] and z._requires_grad:
        record(name, back, (z,), (v,))
    return v


def _real_back(ctx, g):
    return from_parts(g, zeros_like(g))


def _imag_back(ctx, g):
    return from_parts(zeros_like(g), g)


def real(input):
    if not input._dtype.is_complex:
        return input
    return _part(input, 0, "RealBackward0", _real_back)


def imag(input):
    if not input._dtype.is_complex:
        raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")
    return _part(input, 1, "ImagBackward0", _imag_back)


def from_parts(re, im, name="ComplexBackward0"):
    """The new complex tensor re + i·im (re and im: one float dtype, broadcastable shapes)."""
    shape = broadcast_pair(re._shape, im._shape)
    out = _empty(shape, re._dtype.to_complex(), re._storage.device)
    be = out._storage.backend
    be.copy(_part_view(out, 0), re, expand_strides(re._shape, re._stride, shape))
    be.copy(_part_view(out, 1), im, expand_strides(im._shape, im._stride, shape))
    if GRAD_ENABLED[0] and (re._requires_grad or im._requires_grad):
        record(name, _from_parts_back, (re, im), (out,))
    return out


def _from_parts_back(ctx, g):
    er, ei = ctx.edges
    return real(g) if er is not None else None, imag(g) if ei is not None else None


_PART_DTYPES = (D.float16, D.float32, D.float64)


def _check_parts(a, b):
    da, db = a._dtype, b._dtype
    if da not in _PART_DTYPES or db not in _PART_DTYPES:
        raise RuntimeError(f"Expected both inputs to be Half, Float or Double tensors but got "
                           f"{D.scalar_type_name(da)} and {D.scalar_type_name(db)}")
    if da is not db:
        raise RuntimeError(f"Expected object of scalar type {D.scalar_type_name(da)} but got scalar type "
                           f"{D.scalar_type_name(db)} for second argument")
    da.to_complex()   # float16: torch_js has no complex32
    if a._storage.device != b._storage.device:
        raise RuntimeError("Expected all tensors to be on the same device, but found at least two devices, "
                           f"{a._storage.device} and {b._storage.device}!")


def complex(real, imag, *, out=None):
    _check_parts(real, imag)
    r = from_parts(real, imag)
    return _ip.write_out(out, r) if out is not None else r


def polar(abs, angle, *, out=None):
    _check_parts(abs, angle)
    r = rename_grad_fn(from_parts(abs * angle.cos(), abs * angle.sin()), "PolarBackward0")
    return _ip.write_out(out, r) if out is not None else r


def _parts(z):
    return real(z), imag(z)


# ---- conjugation ---------------------------------------------------------------------------------------------

def conj(input):
    """The complex conjugate, materialized (PyTorch's is a lazy view); a real tensor itself."""
    if not input._dtype.is_complex:
        return input
    re, im = _parts(input)
    return rename_grad_fn(from_parts(re, -im), "ConjBackward0")


def conj_physical(input, *, out=None):
    r = conj(input) if input._dtype.is_complex else input
    return _ip.write_out(out, r) if out is not None else r


def resolve_conj(input):
    return input


def resolve_neg(input):
    return input


def is_conj(input):
    return False


def is_neg(input):
    return False


def is_complex(input):
    return input._dtype.is_complex


# ---- abs, angle: real results with PyTorch's gradients at 0 --------------------------------------------------

def _abs(z):
    re, im = _parts(z)
    with no_grad():
        r = re.hypot(im)   # no overflow of re² + im², as std::abs
    if GRAD_ENABLED[0] and z._requires_grad:
        record("AbsBackward0", _abs_back, (z,), (r,), save_inputs=(z,), save_outputs=(r,))
    return r


def _abs_back(ctx, g):
    z, r = ctx.saved_tensors
    # g · sgn(z): z/|z|, 0 where z is 0
    scale = E.where(r == 0, 0.0, g / _safe(r))
    re, im = _parts(z)
    return from_parts(scale * re, scale * im)


def angle(input, *, out=None):
    x = input
    if x._dtype.is_complex:
        re, im = _parts(x)
        with no_grad():
            r = im.atan2(re)
        back, saved = _angle_back, (x,)
    else:
        with no_grad():
            xf = x if x._dtype.is_floating_point else x.to(D.get_default_dtype())
            r = E.where(xf < 0, full((), math.pi, dtype=xf._dtype, device=xf._storage.device), zeros_like(xf))
            r = E.where(xf.isnan(), xf, r)   # NaN stays NaN
        back, saved = _angle_real_back, ()
    if GRAD_ENABLED[0] and x._requires_grad:
        record("AngleBackward0", back, (x,), (r,), save_inputs=saved)
    return _ip.write_out(out, r) if out is not None else r


def _angle_back(ctx, g):
    (z,) = ctx.saved_tensors
    re, im = _parts(z)
    r2 = re * re + im * im
    scale = E.where(r2 == 0, 0.0, g / _safe(r2))   # d atan2(im, re): (-im, re) / |z|², 0 at z = 0 (PyTorch's)
    return from_parts(-(scale * im), scale * re)


def _angle_real_back(ctx, g):
    return g * 0


# ---- elementwise arithmetic ----------------------------------------------------------------------------------

def _neg(z):
    return _pairs_to_complex(-view_as_real(z), "NegBackward0")


def _holomorphic(name, value, derivative):
    """A holomorphic f: its value from `value(re, im)` (real ops on the parts, not recorded: their branches and
    cuts would give wrong or NaN gradients), its gradient PyTorch's grad · conj(f'(z)), with
    `derivative(z, y)` = f'(z) written in ops (so it differentiates again)."""
    def fn(z):
        re, im = _parts(z)
        with no_grad():
            y = from_parts(*value(re, im))
        if GRAD_ENABLED[0] and z._requires_grad:
            record(name, _holomorphic_back, (z,), (y,), attrs=derivative, save_inputs=(z,), save_outputs=(y,))
        return y
    return fn


def _holomorphic_back(ctx, g):
    z, y = ctx.saved_tensors
    return _mul(g, conj(ctx.attrs(z, y)))


def _exp_parts(re, im):
    m = re.exp()
    return m * im.cos(), m * im.sin()


def _sqrt_parts(re, im):
    # the principal root without cancellation: t = sqrt((|z| + |re|) / 2) is the larger part's magnitude
    t = ((re.hypot(im) + re.abs()) * 0.5).sqrt()
    half_im = E.where(t == 0, im, im / (t * 2))
    return E.where(re >= 0, t, half_im.abs()), E.where(re >= 0, half_im, t.copysign(im))


_exp = _holomorphic("ExpBackward0", _exp_parts, lambda z, y: y)
_log = _holomorphic("LogBackward0", lambda re, im: (re.hypot(im).log(), im.atan2(re)), lambda z, y: _div(1.0, z))
_sqrt = _holomorphic("SqrtBackward0", _sqrt_parts, lambda z, y: _div(0.5, y))
_sin = _holomorphic("SinBackward0", lambda re, im: (re.sin() * im.cosh(), re.cos() * im.sinh()), lambda z, y: _cos(z))
_cos = _holomorphic("CosBackward0", lambda re, im: (re.cos() * im.cosh(), -(re.sin() * im.sinh())),
                    lambda z, y: _neg(_sin(z)))
_sinh = _holomorphic("SinhBackward0", lambda re, im: (re.sinh() * im.cos(), re.cosh() * im.sin()),
                     lambda z, y: _cosh(z))
_cosh = _holomorphic("CoshBackward0", lambda re, im: (re.cosh() * im.cos(), re.sinh() * im.sin()),
                     lambda z, y: _sinh(z))


def _safe(r):
    """r with its zeros replaced by 1: a denominator whose masked-out entries stay finite (so no NaN reaches the
    gradient through the masked branch)."""
    return E.where(r == 0, 1.0, r)


def _sgn(z):
    re, im = _parts(z)
    with no_grad():
        r = re.hypot(im)
        inv = E.where(r == 0, 0.0, 1 / _safe(r))
        y = from_parts(re * inv, im * inv)
    if GRAD_ENABLED[0] and z._requires_grad:
        record("SgnBackward0", _sgn_back, (z,), (y,), save_inputs=(z,))
    return y


def _sgn_back(ctx, g):
    # d(z/|z|) on the real view: (gx·y - gy·x)/|z|³ · (y, -x), 0 at z = 0
    (z,) = ctx.saved_tensors
    x, y = _parts(z)
    gx, gy = _parts(g)
    r = x.hypot(y)
    c = E.where(r == 0, 0.0, (gx * y - gy * x) / _safe(r).pow(3))
    return from_parts(c * y, -(c * x))


def _predicate(combine, test):
    def fn(z):
        re, im = _parts(z)
        return combine(test(re), test(im))
    return fn


_UNARY = {
    "neg": _neg, "abs": _abs, "exp": _exp, "log": _log, "sqrt": _sqrt, "sin": _sin, "cos": _cos, "sinh": _sinh,
    "cosh": _cosh, "sign": _sgn, "square": lambda z: _mul(z, z), "reciprocal": lambda z: _div(1.0, z),
    "isnan": _predicate(lambda a, b: a | b, Tensor.isnan), "isinf": _predicate(lambda a, b: a | b, Tensor.isinf),
    "isfinite": _predicate(lambda a, b: a & b, Tensor.isfinite),
}


def unary(op, x, p0=0.0, p1=0.0, p2=0.0, params=()):
    """elementwise.unary's complex branch: op on complex x."""
    name = op.name
    if name == "pow_scalar":
        return pow(x, params[0])
    if name == "rpow_scalar":
        return pow(params[0], x)
    fn = _UNARY.get(name)
    if fn is None:
        raise not_implemented_for(f"{name}_cpu", x._dtype)
    return fn(x)


def _as_complex(x, cd, like):
    """An operand (tensor or Python number) as a tensor of complex dtype cd."""
    if isinstance(x, Tensor):
        return x if x._dtype is cd else x.to(cd)
    return full((), x, dtype=cd, device=like._storage.device)


def _add(a, b, alpha, sub):
    ra, rb = view_as_real(a), view_as_real(b)
    if alpha.__class__ is _pycomplex:   # a complex alpha mixes the parts: b·alpha first
        b = _mul(b, _as_complex(alpha, b._dtype, b))
        rb, alpha = view_as_real(b), 1
    r = E.sub(ra, rb, alpha=alpha) if sub else E.add(ra, rb, alpha=alpha)
    return _pairs_to_complex(r, "SubBackward0" if sub else "AddBackward0")


def _mul(a, b):
    ar, ai = _parts(a)
    br, bi = _parts(b)
    return from_parts(ar * br - ai * bi, ar * bi + ai * br, "MulBackward0")


def _div(a, b):
    """a / b by Smith's algorithm (c10::complex's division): scale by the divisor's larger part, so neither
    overflows nor loses precision as |b|² would; 0 / 0 parts give PyTorch's inf/NaN."""
    if not isinstance(a, Tensor):
        a = _as_complex(a, b._dtype, b)
    ar, ai = _parts(a)
    c, d = _parts(b)
    c_big = c.abs() >= d.abs()
    p = E.where(c_big, c, d)
    q = E.where(c_big, d, c)
    both_zero = (c == 0) & (d == 0)
    p_safe = E.where(both_zero, 1.0, p)
    rat = q / p_safe
    scl = 1 / (p_safe + q * rat)
    re = E.where(c_big, ar + ai * rat, ar * rat + ai) * scl
    im = E.where(c_big, ai - ar * rat, ai * rat - ar) * scl
    re = E.where(both_zero, ar / E.where(both_zero, c.abs(), 1.0), re)
    im = E.where(both_zero, ai / E.where(both_zero, d.abs(), 1.0), im)
    return from_parts(re, im, "DivBackward0")


def _scaled_by_reciprocal(a, s):
    """a / s for a Python number s: a · (1/s), as PyTorch divides by a scalar (by 0: the division itself)."""
    if s == 0:
        return _div(a, _as_complex(s, a._dtype, a))
    return _mul(a, _as_complex(1 / _pycomplex(s), a._dtype, a))


def _nonzero(x):
    if isinstance(x, Tensor):
        return x.bool() if x._dtype.is_complex else x
    return bool(x)


def binary(op, a, b, alpha=1, out_dtype=None):
    """elementwise.binary's complex branch: a op b where an operand is complex (a tensor or a Python complex)."""
    name, rule = op.name, op.rule
    if rule is E.LOGICAL:   # PyTorch's logical ops read complex values as nonzero or not
        return E.binary(op, _nonzero(a), _nonzero(b), alpha, out_dtype)
    like = a if isinstance(a, Tensor) else b
    for x in (a, b):
        if not isinstance(x, (Tensor,) + _NUMBERS):
            raise TypeError(f"{name}(): argument 'other' must be Tensor or Number, not {type(x).__name__}")
    cd = E._binary_dtype(a, b)
    if name == "div" and not isinstance(b, Tensor):
        r = _scaled_by_reciprocal(_as_complex(a, cd, like), b)
    elif name in ("add", "sub", "mul", "div", "eq", "ne"):
        ta, tb = _as_complex(a, cd, like), _as_complex(b, cd, like)
        if isinstance(a, Tensor) and isinstance(b, Tensor):
            same_device(a, b)
        if name in ("add", "sub"):
            r = _add(ta, tb, alpha, name == "sub")
        elif name == "mul":
            r = _mul(ta, tb)
        elif name == "div":
            r = _div(ta, tb)
        else:
            (ar, ai), (br, bi) = _parts(ta), _parts(tb)
            same = (ar == br) & (ai == bi)
            r = same if name == "eq" else same.logical_not()
    else:
        raise not_implemented_for(f"{name}_cpu", cd)
    return r.to(out_dtype) if out_dtype is not None and out_dtype is not r._dtype else r


def pow(input, exponent):
    """input ** exponent where either is complex (a tensor or a Python number): PyTorch's principal value,
    exp(exponent · log(input)), with the small integer powers computed by multiplication."""
    if isinstance(input, Tensor) and input._dtype.is_complex and exponent.__class__ in (int, float, bool):
        # PyTorch's special cases: products and roots instead of exp(p·log z) (exact where that cancels)
        if exponent == 2:
            return rename_grad_fn(_mul(input, input), "PowBackward0")
        if exponent == 3:
            return rename_grad_fn(_mul(_mul(input, input), input), "PowBackward0")
        if exponent == 1:
            return input.clone()
        if exponent == -1:
            return _div(1.0, input)
        if exponent == -2:
            return _div(1.0, _mul(input, input))
        if exponent == 0.5:
            return _sqrt(input)
        if exponent == -0.5:
            return _div(1.0, _sqrt(input))
    like = input if isinstance(input, Tensor) else exponent
    cd = E._binary_dtype(input, exponent)
    base = _as_complex(input, cd, like)
    if exponent.__class__ in _NUMBERS:
        lg = _log(base)
        prod = _pairs_to_complex(view_as_real(lg) * exponent, "MulBackward0") if exponent.__class__ is not \
            _pycomplex else _mul(lg, _as_complex(exponent, cd, like))
    else:
        prod = _mul(_as_complex(exponent, cd, like), _log(base))
    return rename_grad_fn(_exp(prod), "PowBackward0" if exponent.__class__ in _NUMBERS else "PowBackward1")


class _Hook:
    """What elementwise.COMPLEX[0] holds: the complex branches of its entry points."""
    unary = staticmethod(unary)
    binary = staticmethod(binary)
    pow = staticmethod(pow)


E.COMPLEX[0] = _Hook


# ---- declarations ----------------------------------------------------------------------------------------------

def _set_part(k):
    def setter(self, value):
        (real(self) if k == 0 else imag(self)).copy_(value)
    return setter


def _register_all():
    V = "view"
    register("view_as_real", view_as_real, V, dtype="complex_parts", derivative=backward(_view_as_real_back),
             method=False, opinfo=())
    register("view_as_complex", view_as_complex, V, dtype="complex", derivative=backward(_view_as_complex_back),
             method=False, opinfo=())
    register("real", real, V, dtype="complex_parts", derivative=backward(_real_back), method=False, opinfo=())
    register("imag", imag, V, dtype="complex_parts", derivative=backward(_imag_back), method=False, opinfo=())
    # PyTorch's .real / .imag are attributes, assignable (z.real = t writes t into the real parts)
    Tensor.real = property(real, _set_part(0))
    Tensor.imag = property(imag, _set_part(1))
    register("complex", complex, "creation", dtype="complex", method=False, opinfo=())
    register("polar", polar, "creation", dtype="complex", method=False, opinfo=())
    register("conj", conj, "unary", dtype="same", opinfo=())
    register("conj_physical", conj_physical, "unary", dtype="same", opinfo=(),
             inplace=lambda self: _ip.inplace_from(self, conj(self)))
    for name, fn in (("resolve_conj", resolve_conj), ("resolve_neg", resolve_neg)):
        register(name, fn, V, dtype="any", derivative=False, opinfo=())
    for name, fn in (("is_conj", is_conj), ("is_neg", is_neg)):
        register(name, fn, "python", dtype="python", derivative=NOT_DIFFERENTIABLE, opinfo=())
    register("is_complex", is_complex, "python", dtype="python", derivative=NOT_DIFFERENTIABLE, method=False,
             opinfo=())   # (Tensor.is_complex is core's)
    register("angle", angle, "unary", dtype="float", derivative=backward(_angle_back, _angle_real_back))


_register_all()
