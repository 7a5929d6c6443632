"""The elementwise machinery and the ops computed by the backend's unary/binary/where primitives.

UnaryOp/BinaryOp carry an op's kernel name, dtype rule and derivative formulas (written with tensor ops, so they
differentiate again); unary() and binary() promote, broadcast, call the kernel and record autograd;
inplace_unary/inplace_binary write into a tensor with one kernel call when nothing needs a copy. Declared here:
the unary and binary ops, pow, where and masked_fill. Composites of these live in clamp.py and
pointwise_composites.py; the Python operators in operators.py.
"""
import math

from .. import _dtype as D
from .._tensor import Tensor, _empty
from ._registry import NOT_DIFFERENTIABLE, backward, formula, register
from ._util import (GRAD_ENABLED, broadcast_pair, derivative_not_implemented, expand_strides, invalid_combination,
                    not_implemented_for, record, rename_grad_fn, same_device, scalar_tensor)
from . import inplace as _ip
from .deprecated_overloads import number_first

_int_types = (int, bool)
_num_types = (int, float, bool)
# ops/complex.py (declared above this module) fills this with the complex branches of unary/binary/pow: complex
# operands leave the real paths at one dtype check
COMPLEX = [None]

# dtype rules
SAME = "same"          # result dtype = input dtype (ints allowed)
FLOAT = "float"        # integer/bool inputs promote to the default float dtype
BOOL = "bool"          # predicate: bool output
COMPARE = "compare"    # binary: compute in the promoted dtype, bool output
LOGICAL = "logical"    # binary: bool output, inputs any dtype
INTEGRAL = "integral"  # binary: bitwise, integer/bool only


def node_name(op_name):
    """PyTorch's grad_fn name for an op: log_softmax -> LogSoftmaxBackward0; each part title-cased as its
    codegen does (log1p -> Log1PBackward0, special_i0e -> SpecialI0EBackward0)."""
    return "".join(p.title() for p in op_name.split("_")) + "Backward0"


class UnaryOp:
    __slots__ = ("name", "rule", "grad", "saves", "float_only", "node")

    def __init__(self, name, rule, grad, saves, float_only, node=None):
        self.name, self.rule, self.grad, self.saves, self.float_only = name, rule, grad, saves, float_only
        self.node = node or node_name(name)


class BinaryOp:
    __slots__ = ("name", "rule", "grad_a", "grad_b", "saves", "node")

    def __init__(self, name, rule, grad_a, grad_b, saves, node=None):
        self.name, self.rule, self.grad_a, self.grad_b, self.saves = name, rule, grad_a, grad_b, saves
        self.node = node or node_name(name)


# ---------------------------------------------------------------------------------------------------------------
# unary


def _unary_out_dtype(op, d):
    if d is D.bool_ and op.name in ("square", "pow_scalar"):
        return D.int64
    if op.rule is FLOAT:
        return d if d.is_floating_point else D.get_default_dtype()
    if op.rule is BOOL:
        return D.bool_
    return d


def _unary_backward(ctx, g):
    op, params = ctx.attrs
    saved = ctx.saved_tensors
    x = saved[0] if "x" in op.saves else None
    y = saved[-1] if "y" in op.saves else None
    return op.grad(g, x, y, *params)


# unary ops PyTorch has no bool kernel for, and its error for each
_BOOL_REFUSED = {
    "neg": lambda: RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. If you are trying to "
                                "invert a mask, use the `~` or `logical_not()` operator instead."),
    "relu": lambda: RuntimeError("Boolean inputs not supported for relu"),
    "abs": lambda: not_implemented_for("abs_cpu", D.bool_),
    "floor": lambda: not_implemented_for("floor_vml_cpu", D.bool_),
    "ceil": lambda: not_implemented_for("ceil_vml_cpu", D.bool_),
    "trunc": lambda: not_implemented_for("trunc_vml_cpu", D.bool_),
}
# bool-valued ops whose out= must be bool (PyTorch's isnan/isinf/isfinite take no out= at all)
_BOOL_OUT_ONLY = ("isposinf", "isneginf", "signbit")
_NO_OUT = ("isnan", "isinf", "isfinite", "relu")


def unary(op, x, p0=0.0, p1=0.0, p2=0.0, params=()):
    if x.__class__ is not Tensor and not isinstance(x, Tensor):
        raise TypeError(f"{op.name}(): argument 'input' (position 1) must be Tensor, not {type(x).__name__}")
    d = x._dtype
    if d.is_complex:
        return COMPLEX[0].unary(op, x, p0, p1, p2, params)
    if d is D.bool_ and op.name in ("square", "pow_scalar"):
        x = x._to_dtype(D.int64)  # PyTorch computes bool ** 2 as pow(bool, 2) -> int64
        d = D.int64
    od = _unary_out_dtype(op, d)
    if op.float_only and not d.is_floating_point and op.rule is not FLOAT:
        raise not_implemented_for(f"{op.name}_cpu", d)
    if d is D.bool_ and op.name in _BOOL_REFUSED:
        raise _BOOL_REFUSED[op.name]()
    src = x
    if od is not d and op.rule is FLOAT:
        src = x._to_dtype(od)
    out = _empty(x._shape, od, x._storage.device)
    out._storage.backend.unary(op.name, out, src, p0, p1, p2)
    if GRAD_ENABLED[0] and x._requires_grad and op.grad is not None and od.is_floating_point:
        node = record(op.node, _unary_backward, (x,), (out,), attrs=(op, params))
        if op.saves:
            node.save(inputs=(x,) if "x" in op.saves else (), outputs=(out,) if "y" in op.saves else ())
    return out


def _declare_unary(name, rule, grad=None, saves="", float_only=False, method=True, function=True,
                   opinfo=None, namespace="torch", aliases=(), dtype=None, node=None):
    op = UnaryOp(name, rule, grad, saves, float_only, node)

    if name in _NO_OUT:
        def fn(input):   # as PyTorch declares it: no out=
            return unary(op, input)
    else:
        def fn(input, *, out=None):
            r = unary(op, input)
            if out is None:
                return r
            if isinstance(out, Tensor) and out._dtype is not r._dtype:
                if rule is SAME and name != "square":   # PyTorch's same-dtype unary kernels write only their dtype
                    raise RuntimeError(f"Found dtype {D.scalar_type_name(out._dtype)} but expected "
                                       f"{D.scalar_type_name(r._dtype)}")
                if name in _BOOL_OUT_ONLY:
                    raise RuntimeError(f"{name} does not support non-boolean outputs.")
            return _ip.write_out(out, r)

    def fn_(self):
        if rule is BOOL:   # logical_not_: the bool result written back in self's dtype
            return _ip.inplace_from(self, fn(self))
        return inplace_unary(self, op, lambda src: unary(op, src))

    fn.__name__ = name
    fn.__qualname__ = name
    register(name, fn, "unary", primitive="unary", dtype=dtype or rule,
             derivative=formula(grad) if grad else NOT_DIFFERENTIABLE, opinfo=opinfo, method=method,
             function=function, inplace=fn_ if rule is not BOOL or name == "logical_not" else None,
             namespace=namespace, aliases=aliases)
    return op


_LN2 = math.log(2.0)
_LN10 = math.log(10.0)
_TWO_OVER_SQRTPI = 2.0 / math.sqrt(math.pi)


def _zeros_grad(g, x, y):
    return g * 0


NEG = _declare_unary("neg", SAME, lambda g, x, y: -g, aliases=("negative",))
ABS = _declare_unary("abs", SAME, lambda g, x, y: g * x.sign(), "x", aliases=("absolute",))
_declare_unary("exp", FLOAT, lambda g, x, y: g * y, "y")
_declare_unary("log", FLOAT, lambda g, x, y: g / x, "x")
_declare_unary("sqrt", FLOAT, lambda g, x, y: g / (2 * y), "y")
_declare_unary("rsqrt", FLOAT, lambda g, x, y: -0.5 * g * y.pow(3), "y")
_declare_unary("sin", FLOAT, lambda g, x, y: g * x.cos(), "x")
_declare_unary("cos", FLOAT, lambda g, x, y: -(g * x.sin()), "x")
_declare_unary("tan", FLOAT, lambda g, x, y: g * (1 + y * y), "y")
_declare_unary("tanh", FLOAT, lambda g, x, y: g * (1 - y * y), "y")
_declare_unary("sigmoid", FLOAT, lambda g, x, y: g * (y * (1 - y)), "y")
_declare_unary("log1p", FLOAT, lambda g, x, y: g / (x + 1), "x")
_declare_unary("expm1", FLOAT, lambda g, x, y: g * (y + 1), "y")
_declare_unary("asin", FLOAT, lambda g, x, y: g * (1 - x * x).rsqrt(), "x", aliases=("arcsin",))
_declare_unary("acos", FLOAT, lambda g, x, y: -(g * (1 - x * x).rsqrt()), "x", aliases=("arccos",))
_declare_unary("atan", FLOAT, lambda g, x, y: g / (1 + x * x), "x", aliases=("arctan",))
_declare_unary("sinh", FLOAT, lambda g, x, y: g * x.cosh(), "x")
_declare_unary("cosh", FLOAT, lambda g, x, y: g * x.sinh(), "x")
_declare_unary("asinh", FLOAT, lambda g, x, y: g * (x * x + 1).rsqrt(), "x", aliases=("arcsinh",))
_declare_unary("acosh", FLOAT, lambda g, x, y: g * (x * x - 1).rsqrt(), "x", aliases=("arccosh",))
_declare_unary("atanh", FLOAT, lambda g, x, y: g / (1 - x * x), "x", aliases=("arctanh",))
_declare_unary("log2", FLOAT, lambda g, x, y: g / (x * _LN2), "x")
_declare_unary("log10", FLOAT, lambda g, x, y: g / (x * _LN10), "x")
_declare_unary("exp2", FLOAT, lambda g, x, y: g * y * _LN2, "y")
_declare_unary("erf", FLOAT, lambda g, x, y: g * _TWO_OVER_SQRTPI * (-(x * x)).exp(), "x")
_declare_unary("erfc", FLOAT, lambda g, x, y: -(g * _TWO_OVER_SQRTPI * (-(x * x)).exp()), "x")
_declare_unary("reciprocal", FLOAT, lambda g, x, y: -(g * y * y), "y")
_declare_unary("sign", SAME, _zeros_grad, opinfo=("sign", "sgn"), aliases=("sgn",))
_declare_unary("floor", SAME, _zeros_grad)
_declare_unary("ceil", SAME, _zeros_grad)
_declare_unary("trunc", SAME, _zeros_grad, aliases=("fix",))
_declare_unary("frac", SAME, lambda g, x, y: g, float_only=True)
# square is pow(x, 2): the scalar 2 promotes bool to int64
_declare_unary("square", SAME, lambda g, x, y: g * 2 * x, "x", dtype="promote", node="PowBackward0")
RELU = _declare_unary("relu", SAME, lambda g, x, y: g * (y > 0), "y", opinfo=("nn.functional.relu",))
_declare_unary("isnan", BOOL)
_declare_unary("isinf", BOOL)
_declare_unary("isfinite", BOOL)
_declare_unary("isposinf", BOOL)
_declare_unary("isneginf", BOOL)
_declare_unary("signbit", BOOL)
_declare_unary("logical_not", BOOL)
_BITWISE_NOT = UnaryOp("bitwise_not", SAME, None, "", False)


def bitwise_not(input, *, out=None):
    if input._dtype.is_floating_point:
        raise not_implemented_for("bitwise_not_cpu", input._dtype)
    r = unary(_BITWISE_NOT, input)
    return _ip.write_out(out, r) if out is not None else r


register("bitwise_not", bitwise_not, "unary", primitive="unary", dtype="integral", derivative=NOT_DIFFERENTIABLE,
         inplace=lambda self: inplace_unary(self, _BITWISE_NOT, lambda s: bitwise_not(s)))


def _round_grad(g, x, y, *p):
    return g * 0


_ROUND = UnaryOp("round", SAME, _round_grad, "", False)


def round(input, *, decimals=0, out=None):
    if decimals == 0:
        r = unary(_ROUND, input)
    else:
        scale = 10.0 ** decimals
        r = rename_grad_fn(unary(_ROUND, input * scale) / scale, "RoundBackward1")   # round.decimals's node
    return _ip.write_out(out, r) if out is not None else r


register("round", round, "unary", primitive="unary", dtype="same", derivative=formula(_round_grad),
         inplace=lambda self, decimals=0: inplace_unary(self, _ROUND, lambda s: round(s, decimals=decimals)))


# Parametrised unary ops: the kernel takes the parameters as p0..p2, the derivative gets them as `params`.
POW_SCALAR = UnaryOp("pow_scalar", SAME, lambda g, x, y, p: (g * 0) if p == 0 else g * (p * x.pow(p - 1)), "x", False,
                     node="PowBackward0")
RPOW_SCALAR = UnaryOp("rpow_scalar", FLOAT, lambda g, x, y, p: g * y * math.log(p) if p != 0 else
                      g * y * float("-inf"), "y", False, node="PowBackward2")


# ---------------------------------------------------------------------------------------------------------------
# binary


def _binary_backward(ctx, g):
    op, sa, sb, alpha = ctx.attrs
    saved = ctx.saved_tensors
    i = 0
    a, b, y = sa, sb, None
    for ch in op.saves:
        if ch == "a" and sa is None:
            a = saved[i]
            i += 1
        elif ch == "b" and sb is None:
            b = saved[i]
            i += 1
        elif ch == "y":
            y = saved[i]
            i += 1
    ea, eb = ctx.edges
    ga = op.grad_a(g, a, b, y, alpha) if ea is not None else None
    gb = op.grad_b(g, a, b, y, alpha) if eb is not None else None
    return ga, gb


def _binary_dtype(a, b):
    """Promoted dtype of a binary op (PyTorch's result_type), a and/or b tensors."""
    if b.__class__ in _num_types:
        d = a._dtype
        if b.__class__ is float:
            return d if d.is_floating_point or d.is_complex else D.get_default_dtype()
        if b.__class__ is int:
            return D.int64 if d is D.bool_ else d
        return d
    if a.__class__ in _num_types:
        return _binary_dtype(b, a)
    if a.__class__ is complex or b.__class__ is complex:
        t, s = (a, b) if b.__class__ is complex else (b, a)
        return D.result_type_of([t._dtype] if t._shape else [], [] if t._shape else [t._dtype], (s,))
    da, db = a._dtype, b._dtype
    if da is db:
        return da
    return D.result_type_of([t._dtype for t in (a, b) if t._shape], [t._dtype for t in (a, b) if not t._shape], ())


def _record_binary(op, a, b, sa, sb, alpha, out):
    node = record(op.node, _binary_backward, (a, b), (out,), attrs=(op, sa, sb, alpha))
    if op.saves:
        ins = []
        outs = ()
        for ch in op.saves:
            if ch == "a" and a is not None:
                ins.append(a)
            elif ch == "b" and b is not None:
                ins.append(b)
            elif ch == "y":
                outs = (out,)
        node.save(ins, outs)


def binary(op, a, b, alpha=1, out_dtype=None):
    """a op b with broadcasting and type promotion; a or b may be a Python number (not both)."""
    # Fast path: two tensors of one dtype, shape and device (the common case in eager code).
    if a.__class__ is Tensor and b.__class__ is Tensor and out_dtype is None:
        d = a._dtype
        if d is b._dtype and a._shape == b._shape and a._storage.device is b._storage.device and (
                (op.rule is SAME and not d.is_complex) or (op.rule is FLOAT and d.is_floating_point)):
            out = _empty(a._shape, d, a._storage.device)
            out._storage.backend.binary(op.name, out, a, a._stride, b, b._stride, alpha)
            if GRAD_ENABLED[0] and (a._requires_grad or b._requires_grad) and op.grad_a is not None and \
                    d.is_floating_point:
                _record_binary(op, a, b, None, None, alpha, out)
            return out
    elif a.__class__ is Tensor and (b.__class__ is float or b.__class__ is int) and out_dtype is None:
        d = a._dtype
        if d.is_floating_point and (op.rule is SAME or op.rule is FLOAT):
            dev = a._storage.device
            out = _empty(a._shape, d, dev)
            # half dtypes compute in float32 with the scalar unrounded, like PyTorch's opmath
            sd = D.float32 if d is D.float16 or d is D.bfloat16 else d
            out._storage.backend.binary(op.name, out, a, a._stride, scalar_tensor(b, sd, dev), (0,) * len(a._shape),
                                        alpha)
            if GRAD_ENABLED[0] and a._requires_grad and op.grad_a is not None:
                _record_binary(op, a, None, None, b, alpha, out)
            return out
    a_is_t = isinstance(a, Tensor)
    b_is_t = isinstance(b, Tensor)
    if not a_is_t and not b_is_t:
        raise TypeError(f"{op.name}(): expected at least one Tensor argument")
    if (a_is_t or a.__class__ in _num_types) is False or (b_is_t or b.__class__ in _num_types) is False:
        if a.__class__ is complex or b.__class__ is complex:
            return COMPLEX[0].binary(op, a, b, alpha, out_dtype)
        bad = a if not (a_is_t or a.__class__ in _num_types) else b
        raise TypeError(f"{op.name}(): argument 'other' must be Tensor or Number, not {type(bad).__name__}")
    cd = _binary_dtype(a, b)
    if cd.is_complex:
        return COMPLEX[0].binary(op, a, b, alpha, out_dtype)
    rule = op.rule
    if rule is FLOAT and not cd.is_floating_point:
        cd = D.get_default_dtype()
    elif rule is INTEGRAL and cd.is_floating_point:
        raise not_implemented_for(f"{op.name}_cpu", cd)
    od = out_dtype or (D.bool_ if rule is COMPARE or rule is LOGICAL else cd)
    if a_is_t and b_is_t:
        dev = same_device(a, b)
        ta = a if a._dtype is cd else a._to_dtype(cd)
        tb = b if b._dtype is cd else b._to_dtype(cd)
        sa, sb = ta._shape, tb._shape
        if sa == sb:
            shape = sa
            ast, bst = ta._stride, tb._stride
        else:
            shape = broadcast_pair(sa, sb)
            ast = expand_strides(sa, ta._stride, shape)
            bst = expand_strides(sb, tb._stride, shape)
    elif a_is_t:
        dev = a._storage.device
        ta = a if a._dtype is cd else a._to_dtype(cd)
        tb = scalar_tensor(b, D.float32 if cd is D.float16 or cd is D.bfloat16 else cd, dev)
        shape = ta._shape
        ast, bst = ta._stride, (0,) * len(shape)
    else:
        dev = b._storage.device
        tb = b if b._dtype is cd else b._to_dtype(cd)
        ta = scalar_tensor(a, D.float32 if cd is D.float16 or cd is D.bfloat16 else cd, dev)
        shape = tb._shape
        ast, bst = (0,) * len(shape), tb._stride
    out = _empty(shape, od, dev)
    out._storage.backend.binary(op.name, out, ta, ast, tb, bst, alpha)
    if GRAD_ENABLED[0] and od.is_floating_point and op.grad_a is not None and (
            (a_is_t and ta._requires_grad) or (b_is_t and tb._requires_grad)):
        _record_binary(op, ta if a_is_t else None, tb if b_is_t else None, None if a_is_t else a,
                       None if b_is_t else b, alpha, out)
    return out


def _maximum_grad(g, a, b, y, alpha, *, first=True):
    tie = (a == b)
    half = g.where(tie.logical_not(), g / 2)
    return half.masked_fill(a < b if first else a > b, 0)


def _pow_grad_a(g, a, b, y, alpha):
    if not isinstance(b, Tensor):
        return (g * 0) if b == 0 else g * (b * a.pow(b - 1))
    return (g * (b * a.pow(b - 1))).masked_fill(b == 0, 0)


def _pow_grad_b(g, a, b, y, alpha):
    if not isinstance(a, Tensor):
        if a == 0:
            return (g * 0).masked_fill(b < 0, float("nan"))
        return g * y * math.log(a)
    gb = g * y * a.log()
    return gb.masked_fill((a == 0) & (b >= 0), 0)


def _scaled(g, alpha):
    return g if alpha == 1 else g * alpha


def _declare_binary(name, rule, grad_a=None, grad_b=None, saves=""):
    return BinaryOp(name, rule, grad_a, grad_b, saves)


ADD = _declare_binary("add", SAME, lambda g, a, b, y, al: g, lambda g, a, b, y, al: _scaled(g, al))
SUB = _declare_binary("sub", SAME, lambda g, a, b, y, al: g, lambda g, a, b, y, al: -_scaled(g, al))
MUL = _declare_binary("mul", SAME, lambda g, a, b, y, al: g * b, lambda g, a, b, y, al: g * a, "ab")
DIV = _declare_binary("div", FLOAT, lambda g, a, b, y, al: g / b, lambda g, a, b, y, al: -(g * a) / (b * b), "ab")
# div(rounding_mode="floor" / "trunc"): zero gradients (PyTorch's DivBackward2); floor_divide itself has none
FLOOR_DIVIDE = BinaryOp("floor_divide", SAME, lambda g, a, b, y, al: g * 0, lambda g, a, b, y, al: g * 0, "",
                        node="DivBackward2")
TRUNC_DIVIDE = BinaryOp("trunc_divide", SAME, lambda g, a, b, y, al: g * 0, lambda g, a, b, y, al: g * 0, "",
                        node="DivBackward2")
_FLOOR_DIVIDE_FN = BinaryOp("floor_divide", SAME, lambda *_: derivative_not_implemented("aten::floor_divide"),
                            lambda *_: derivative_not_implemented("aten::floor_divide"), "", node="NotImplemented")
REMAINDER = _declare_binary("remainder", SAME, lambda g, a, b, y, al: g,
                            lambda g, a, b, y, al: -(g * (a / b).floor()), "ab")
FMOD = _declare_binary("fmod", SAME, lambda g, a, b, y, al: g, lambda g, a, b, y, al: -(g * (a / b).trunc()), "ab")
POW = BinaryOp("pow", SAME, _pow_grad_a, _pow_grad_b, "aby", node="PowBackward1")
MAXIMUM = _declare_binary("maximum", SAME, lambda g, a, b, y, al: _maximum_grad(g, a, b, y, al),
                          lambda g, a, b, y, al: _maximum_grad(g, a, b, y, al, first=False), "ab")
MINIMUM = _declare_binary("minimum", SAME, lambda g, a, b, y, al: _maximum_grad(g, a, b, y, al, first=False),
                          lambda g, a, b, y, al: _maximum_grad(g, a, b, y, al), "ab")
FMAX = _declare_binary("fmax", SAME, lambda g, a, b, y, al: g.masked_fill(((a >= b) | b.isnan()).logical_not(), 0),
                       lambda g, a, b, y, al: g.masked_fill(((a >= b) | b.isnan()), 0), "ab")
FMIN = _declare_binary("fmin", SAME, lambda g, a, b, y, al: g.masked_fill(((a <= b) | b.isnan()).logical_not(), 0),
                       lambda g, a, b, y, al: g.masked_fill(((a <= b) | b.isnan()), 0), "ab")
ATAN2 = _declare_binary("atan2", FLOAT, lambda g, a, b, y, al: g * b / (a * a + b * b),
                        lambda g, a, b, y, al: -(g * a) / (a * a + b * b), "ab")
HYPOT = _declare_binary("hypot", FLOAT, lambda g, a, b, y, al: g * a / y, lambda g, a, b, y, al: g * b / y, "aby")
XLOGY = _declare_binary("xlogy", FLOAT,
                        lambda g, a, b, y, al: (g * b.log() if isinstance(b, Tensor) else g * math.log(b))
                        .masked_fill((a == 0) & (b <= 0), 0),
                        lambda g, a, b, y, al: g * a / b, "ab")
COPYSIGN = _declare_binary("copysign", FLOAT, lambda g, a, b, y, al: g * (a.sign() * y.sign()).masked_fill(a == 0, 0),
                           lambda g, a, b, y, al: g * 0, "ay")
_COMPARE = {n: _declare_binary(n, COMPARE) for n in ("eq", "ne", "lt", "le", "gt", "ge")}
_LOGICAL = {n: _declare_binary(n, LOGICAL) for n in ("logical_and", "logical_or", "logical_xor")}
_BITWISE = {n: _declare_binary(n, INTEGRAL) for n in ("bitwise_and", "bitwise_or", "bitwise_xor")}
_SHIFT = {"bitwise_left_shift": _declare_binary("lshift", INTEGRAL),
          "bitwise_right_shift": _declare_binary("rshift", INTEGRAL)}


def _alpha_check(alpha, a, b=None):
    """ATen's alpha_check on the result dtype (a's own for an in-place op, b None): a bool alpha needs a bool result,
    a float one a floating or complex result, a complex one a complex result."""
    if alpha.__class__ is int and alpha == 1:
        return
    if b is None:
        d = a._dtype
    else:
        d = _binary_dtype(a, b) if isinstance(a, Tensor) or isinstance(b, Tensor) else D.float32
    if isinstance(alpha, bool) and d is not D.bool_:
        raise RuntimeError("Boolean alpha only supported for Boolean results.")
    if isinstance(alpha, float) and not (d.is_floating_point or d.is_complex):
        raise RuntimeError("For integral input tensors, argument alpha must not be a floating point number.")
    if isinstance(alpha, complex) and not d.is_complex:
        raise RuntimeError("For non-complex input tensors, argument alpha must not be a complex number.")


def add(input, other, *deprecated, alpha=1, out=None):
    if deprecated:   # add(input, Number alpha, Tensor other)
        alpha, (other,) = number_first("add", other, deprecated, alpha)
    _alpha_check(alpha, input, other)
    r = binary(ADD, input, other, alpha)
    return _ip.write_out(out, r) if out is not None else r


def _no_bool_subtraction(a, b):
    bools = [(isinstance(x, Tensor) and x._dtype is D.bool_) or x.__class__ is bool for x in (a, b)]
    if all(bools):
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not supported. Use the `^` or "
                           "`logical_xor()` operator instead.")
    if any(bools):
        raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not supported. If you are trying to "
                           "invert a mask, use the `~` or `logical_not()` operator instead.")


def _add_(self, other, *deprecated, alpha=1):
    if deprecated:
        alpha, (other,) = number_first("add_", other, deprecated, alpha)
    _alpha_check(alpha, self)
    return inplace_binary(self, ADD, other, alpha)


def _sub_(self, other, *deprecated, alpha=1):
    if deprecated:
        alpha, (other,) = number_first("sub_", other, deprecated, alpha)
    _no_bool_subtraction(self, other)
    _alpha_check(alpha, self)
    return inplace_binary(self, SUB, other, alpha)


def sub(input, other, *deprecated, alpha=1, out=None):
    if deprecated:   # sub(input, Number alpha, Tensor other)
        alpha, (other,) = number_first("sub", other, deprecated, alpha)
    _no_bool_subtraction(input, other)
    _alpha_check(alpha, input, other)
    r = binary(SUB, input, other, alpha)
    return _ip.write_out(out, r) if out is not None else r


def _rsub_backward(ctx, g):
    alpha = ctx.attrs.conjugate() if ctx.attrs.__class__ is complex else ctx.attrs
    g_input = -_scaled(g, alpha) if ctx.edges[0] is not None else None
    return (g_input, g) if len(ctx.edges) == 2 else (g_input,)


def rsub(input, other, *, alpha=1):
    """other - alpha * input in sub's one kernel, as ATen; its own node as PyTorch's (`1 - x` reads
    grad_fn=<RsubBackward1>): RsubBackward1 over input for a number `other`, RsubBackward0 over (input, other)."""
    check_binary_args("rsub", input, other)
    prev = GRAD_ENABLED[0]
    GRAD_ENABLED[0] = False
    try:
        r = sub(other, input, alpha=alpha)
    finally:
        GRAD_ENABLED[0] = prev
    other_t = other if isinstance(other, Tensor) else None
    if prev and (r._dtype.is_floating_point or r._dtype.is_complex) and (
            input._requires_grad or (other_t is not None and other_t._requires_grad)):
        if other_t is None:
            record("RsubBackward1", _rsub_backward, (input,), (r,), attrs=alpha)
        else:
            record("RsubBackward0", _rsub_backward, (input, other_t), (r,), attrs=alpha)
    return r


def mul(input, other, *, out=None):
    r = binary(MUL, input, other)
    return _ip.write_out(out, r) if out is not None else r


def div(input, other, *, rounding_mode=None, out=None):
    if rounding_mode is None:
        r = binary(DIV, input, other)
    elif rounding_mode == "trunc":
        r = binary(TRUNC_DIVIDE, input, other)
    elif rounding_mode == "floor":
        r = binary(FLOOR_DIVIDE, input, other)
    else:
        raise RuntimeError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
                           f"'{rounding_mode}'")
    return _ip.write_out(out, r) if out is not None else r


def true_divide(input, other, *, out=None):
    return div(input, other, out=out)


def floor_divide(input, other, *, out=None):
    r = binary(_FLOOR_DIVIDE_FN, input, other)
    if r._grad_fn is not None and not isinstance(other, Tensor):
        r._grad_fn.edges = r._grad_fn.edges[:1]   # floor_divide.Scalar's node has the tensor's edge only
        r._grad_fn.input_meta = r._grad_fn.input_meta[:1]
    return _ip.write_out(out, r) if out is not None else r


# PyTorch's argument rules for the function forms: some take two tensors only, the rest a Tensor first.
_TENSOR_PAIR_ONLY = {"maximum", "minimum", "fmax", "fmin", "atan2", "hypot", "logical_and", "logical_or",
                     "logical_xor"}


# ... and those that also take a Number first (xlogy(2, t))
_NUMBER_FIRST = {"xlogy"}
# float kernels PyTorch has no integer variant of (hypot of two ints raises; an int meeting a float promotes)
_FLOAT_KERNEL_ONLY = {"hypot"}


def check_binary_args(name, input, other):
    if name in _NUMBER_FIRST and isinstance(other, Tensor) and input.__class__ in _num_types:
        return
    if name in _TENSOR_PAIR_ONLY:
        for pos, (arg, v) in enumerate((("input", input), ("other", other)), 1):
            if not isinstance(v, Tensor):
                raise TypeError(f"{name}(): argument '{arg}' (position {pos}) must be Tensor, not {type(v).__name__}")
    elif not isinstance(input, Tensor):
        raise TypeError(f"{name}() received an invalid combination of arguments - got ({type(input).__name__}, "
                        f"{type(other).__name__}), but expected one of: (Tensor input, Tensor other) or "
                        "(Tensor input, Number other)")


def _simple_binary(op, name):
    def fn(input, other, *, out=None):
        check_binary_args(name, input, other)
        if name in _FLOAT_KERNEL_ONLY:
            d = _binary_dtype(input, other)
            if not (d.is_floating_point or d.is_complex):
                raise not_implemented_for(f"{name}_cpu", d)
        r = binary(op, input, other)
        return _ip.write_out(out, r) if out is not None else r
    fn.__name__ = fn.__qualname__ = name
    return fn


def pow(input, exponent, *, out=None):
    if isinstance(input, Tensor) and exponent.__class__ in _num_types and not input._dtype.is_complex:
        d = input._dtype
        if not d.is_floating_point and isinstance(exponent, int) and exponent < 0:
            raise RuntimeError("Integers to negative integer powers are not allowed.")
        if exponent.__class__ is float and not d.is_floating_point:
            input = input._to_dtype(D.get_default_dtype())
        if exponent == 2 and input._dtype.is_floating_point:
            r = unary(_SQUARE_FOR_POW, input, params=(2,))
        else:
            r = unary(POW_SCALAR, input, float(exponent), params=(exponent,))
    elif (isinstance(input, Tensor) and input._dtype.is_complex) or exponent.__class__ is complex or (
            isinstance(exponent, Tensor) and exponent._dtype.is_complex) or input.__class__ is complex:
        r = COMPLEX[0].pow(input, exponent)
    elif not isinstance(input, Tensor) and isinstance(exponent, Tensor):
        d = _binary_dtype(exponent, input)
        e = exponent if exponent._dtype is d else exponent._to_dtype(d)
        if d.is_floating_point:
            r = unary(RPOW_SCALAR, e, float(input), params=(input,))
        else:
            r = binary(POW, input, exponent)
    else:
        if isinstance(input, Tensor) and isinstance(exponent, Tensor) and not exponent._dtype.is_floating_point \
                and not input._dtype.is_floating_point:
            if bool((exponent < 0).any()):
                raise RuntimeError("Integers to negative integer powers are not allowed.")
        r = binary(POW, input, exponent)
    return _ip.write_out(out, r) if out is not None else r


_SQUARE_FOR_POW = UnaryOp("square", SAME, lambda g, x, y, p: g * 2 * x, "x", False, node="PowBackward0")


def where(condition, input=None, other=None, *, out=None):
    if input is None and other is None:
        return condition.nonzero(as_tuple=True)  # nonzero is declared in indexing.py, above this module
    if not isinstance(condition, Tensor):
        raise TypeError("where(): argument 'condition' must be Tensor")
    if not all(isinstance(a, (bool, int, float, complex, Tensor)) for a in (input, other)):   # (None included)
        raise invalid_combination("where", [a for a in (condition, input, other) if a is not None],
                                  " (Tensor condition, Tensor input, Tensor other, ...)")
    if condition._dtype is not D.bool_:
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor with dtype "
                           f"{D.scalar_type_name(condition._dtype)}")
    like = next((a for a in (input, other) if isinstance(a, Tensor)), condition)
    cd = _binary_dtype(input, other) if (isinstance(input, Tensor) or isinstance(other, Tensor)) else \
        D.result_type_of([], [], [input, other])
    dev = like._storage.device
    ta = input._to_dtype(cd) if isinstance(input, Tensor) else scalar_tensor(input, cd, dev)
    tb = other._to_dtype(cd) if isinstance(other, Tensor) else scalar_tensor(other, cd, dev)
    if condition._storage.device != dev and condition._shape:
        same_device(condition, like)
    shape = broadcast_pair(broadcast_pair(condition._shape, ta._shape), tb._shape)
    r = _empty(shape, cd, dev)
    r._storage.backend.where(r, condition, expand_strides(condition._shape, condition._stride, shape),
                             ta, expand_strides(ta._shape, ta._stride, shape),
                             tb, expand_strides(tb._shape, tb._stride, shape))
    if GRAD_ENABLED[0] and (cd.is_floating_point or cd.is_complex) and (ta._requires_grad or tb._requires_grad):
        node = record("WhereBackward0", _where_backward, (ta, tb), (r,))
        node.save((condition,))
    return _ip.write_out(out, r) if out is not None else r


def _where_backward(ctx, g):
    (cond,) = ctx.saved_tensors
    ea, eb = ctx.edges
    zero = g * 0
    return (where(cond, g, zero) if ea is not None else None, where(cond, zero, g) if eb is not None else None)


maximum = _simple_binary(MAXIMUM, "maximum")
minimum = _simple_binary(MINIMUM, "minimum")


def masked_fill(input, mask, value):
    if not isinstance(mask, Tensor) or mask._dtype is not D.bool_:
        raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with dtype "
                           f"{D.c_type_name(mask._dtype) if isinstance(mask, Tensor) else type(mask).__name__}")
    if isinstance(value, Tensor):
        if value.dim() != 0:
            raise RuntimeError(f"masked_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                               f"{value.dim()} dimension(s).")
        v = value._to_dtype(input._dtype)
        return rename_grad_fn(where(mask, v, input), "MaskedFillBackward0")
    return rename_grad_fn(where(mask, _cast_scalar(value, input._dtype), input), "MaskedFillBackward0")


def _cast_scalar(value, d):
    """A Python number as the Python type of dtype d's values."""
    kind = complex if d.is_complex else float if d.is_floating_point else bool if d is D.bool_ else int
    return kind(value)


# ---------------------------------------------------------------------------------------------------------------
# in place: one kernel call writing into self when no autograd is involved and the dtype allows it


def inplace_unary(self, op, compute):
    if self._dtype.is_complex:   # computed out of place on the float views (ops/complex.py), then written in
        if op.name == "abs":
            raise RuntimeError("In-place abs is not supported for complex tensors.")
        return _ip.inplace_from(self, compute(self.clone() if GRAD_ENABLED[0] and self._requires_grad else self))
    if self._dtype is D.bool_ and op.name in _BOOL_REFUSED:
        raise _BOOL_REFUSED[op.name]()
    _ip.check_writable(self)
    od = _unary_out_dtype(op, self._dtype)
    _ip.check_cast(od, self)
    if GRAD_ENABLED[0] and self._requires_grad:
        _ip.check_leaf(self)
        return _ip.commit(self, compute(self.clone()))
    if od is self._dtype:
        self._storage.backend.unary(op.name, self, self)
        self._storage.version += 1
        return self
    return _ip.commit(self, compute(self))


def inplace_binary(self, op, other, alpha=1):
    _ip.check_writable(self, other)
    if GRAD_ENABLED[0] and (self._requires_grad or (isinstance(other, Tensor) and other._requires_grad)):
        _ip.check_leaf(self)
        r = binary(op, self.clone() if self._requires_grad else self, other, alpha)
        _ip.check_cast(r._dtype, self)
        return _ip.commit(self, r)
    cd = _binary_dtype(self, other)
    if cd.is_complex:   # computed out of place on the float views (ops/complex.py), then written in
        return _ip.inplace_from(self, binary(op, self, other, alpha))
    if op.rule is FLOAT and not cd.is_floating_point:
        cd = D.get_default_dtype()
    od = D.bool_ if op.rule is COMPARE or op.rule is LOGICAL else cd
    _ip.check_cast(od, self)
    if isinstance(other, Tensor):
        shape = broadcast_pair(self._shape, other._shape)
        _ip.check_shape(self, shape)
        if cd is self._dtype and other._dtype is cd and od is cd and not _ip.overlaps(self, other):
            self._storage.backend.binary(op.name, self, self, self._stride, other,
                                         expand_strides(other._shape, other._stride, shape), alpha)
            self._storage.version += 1
            return self
    elif cd is self._dtype and od is cd:
        s = scalar_tensor(other, cd, self._storage.device)
        self._storage.backend.binary(op.name, self, self, self._stride, s, (0,) * len(self._shape), alpha)
        self._storage.version += 1
        return self
    return _ip.commit(self, binary(op, self, other, alpha))


# ---------------------------------------------------------------------------------------------------------------
# declarations

# a BinaryOp's rule as a registry dtype rule (SAME promotes the two operands)
_BINARY_DTYPE = {SAME: "promote", FLOAT: "float", COMPARE: "compare", LOGICAL: "logical", INTEGRAL: "integral"}


def _declare_binary_op(name, fn, op, inplace_op=None, **kw):
    """Register a function form backed by one BinaryOp: its grads are the derivative formula."""
    inplace_op = inplace_op or op
    inplace = kw.pop("inplace", None)   # False: PyTorch has no Tensor.<name>_
    if inplace is None:
        inplace = lambda self, other: inplace_binary(self, inplace_op, other)   # noqa: E731
    register(name, fn, "binary", primitive="binary", dtype=_BINARY_DTYPE[op.rule],
             derivative=formula(op.grad_a, op.grad_b) if op.grad_a is not None else NOT_DIFFERENTIABLE,
             inplace=inplace or None, **kw)


def _register_all():
    _declare_binary_op("add", add, ADD, inplace=_add_)
    _declare_binary_op("sub", sub, SUB, aliases=("subtract",), inplace=_sub_)
    register("rsub", rsub, "binary", dtype="promote", method=False)
    _declare_binary_op("mul", mul, MUL, aliases=("multiply",))
    _declare_binary_op("div", div, DIV, aliases=("divide",),
                       inplace=lambda self, other, *, rounding_mode=None: inplace_binary(
                           self, {None: DIV, "trunc": TRUNC_DIVIDE, "floor": FLOOR_DIVIDE}[rounding_mode], other))
    register("true_divide", true_divide, "binary", dtype="float", opinfo=(),
             inplace=lambda self, other: inplace_binary(self, DIV, other))
    # PyTorch defines no derivative for floor_divide: a NotImplemented node raises at backward
    register("floor_divide", floor_divide, "binary", primitive="binary", dtype="promote", derivative=NOT_DIFFERENTIABLE,
             inplace=lambda self, other: inplace_binary(self, _FLOOR_DIVIDE_FN, other))
    # a scalar exponent or base runs the unary kernel (pow_scalar / rpow_scalar / square), tensors the binary one
    register("pow", pow, "binary", primitive="unary/binary", dtype="promote",
             derivative=formula(_pow_grad_a, _pow_grad_b), inplace=lambda self, e: _ip.inplace_from(self, pow(self, e)))
    for op in (REMAINDER, FMOD, MAXIMUM, MINIMUM, FMAX, FMIN, ATAN2, HYPOT, XLOGY, COPYSIGN):
        fn = maximum if op is MAXIMUM else minimum if op is MINIMUM else _simple_binary(op, op.name)
        _declare_binary_op(op.name, fn, op, aliases=("arctan2",) if op is ATAN2 else (),
                           inplace=False if op in (MAXIMUM, MINIMUM, FMAX, FMIN) else None)
    aliases = {"ne": ("not_equal",), "lt": ("less",), "le": ("less_equal",), "gt": ("greater",),
               "ge": ("greater_equal",)}
    for table in (_COMPARE, _LOGICAL, _BITWISE, _SHIFT):
        for name, op in table.items():
            _declare_binary_op(name, _simple_binary(op, name), op, aliases=aliases.get(name, ()))
    register("where", where, "ternary", primitive="where", dtype="promote", derivative=backward(_where_backward),
             method=False)
    Tensor.where = lambda self, condition, other: where(condition, self, other)
    register("masked_fill", masked_fill, "ternary", dtype="same",
             inplace=lambda self, mask, value: _ip.inplace_from(self, masked_fill(self, mask, value)))


_register_all()
