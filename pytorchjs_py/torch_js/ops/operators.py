"""Python operators on Tensor, mapped onto the registered ops."""
from .. import _dtype as D
from .._tensor import NotStridedError, Tensor
from . import elementwise as E
from . import inplace as _ip
from ._api import layout_kernel

_num = (int, float, bool, complex)


def _ok(other):
    return isinstance(other, Tensor) or other.__class__ in _num or isinstance(other, _num)


# An operand of a sparse layout meets NotStridedError in the strided code; the op's layout kernel (ops/_api.py) runs.

def _binop(op, name):
    def f(self, other):
        if not _ok(other):
            return NotImplemented
        try:
            return E.binary(op, self, other)
        except NotStridedError as e:
            return layout_kernel(name, e, (self, other), {})
    return f


def _rbinop(op, name):
    def f(self, other):
        if not _ok(other):
            return NotImplemented
        try:
            return E.binary(op, other, self)
        except NotStridedError as e:
            return layout_kernel(name, e, (other, self), {})
    return f


def _ibinop(op, name):
    def f(self, other):
        if not _ok(other):
            return NotImplemented
        try:
            return E.inplace_binary(self, op, other)
        except NotStridedError as e:
            return layout_kernel(name + "_", e, (self, other), {})
    return f


def _sub(self, other):
    if not _ok(other):
        return NotImplemented
    try:
        return E.sub(self, other)
    except NotStridedError as e:
        return layout_kernel("sub", e, (self, other), {})


def _rsub(self, other):
    if not _ok(other):
        return NotImplemented
    try:
        return E.rsub(self, other)
    except NotStridedError as e:
        return layout_kernel("sub", e, (other, self), {})


def _rtruediv(self, other):
    """PyTorch's __rdiv__: self.reciprocal() * other (its values and its MulBackward0 over ReciprocalBackward0)."""
    if not _ok(other):
        return NotImplemented
    try:
        return E.binary(E.MUL, self.reciprocal(), other)
    except NotStridedError as e:
        return layout_kernel("div", e, (other, self), {})


def _floordiv(self, other):
    return E.floor_divide(self, other) if _ok(other) else NotImplemented


def _rfloordiv(self, other):
    return E.floor_divide(other, self) if _ok(other) else NotImplemented


def _neg(self):
    try:
        return E.unary(E.NEG, self)
    except NotStridedError as e:
        return layout_kernel("neg", e, (self,), {})


def _pow(self, other):
    if not _ok(other):
        return NotImplemented
    return E.pow(self, other)


def _rpow(self, other):
    if not _ok(other):
        return NotImplemented
    return E.pow(other, self)


def _ipow(self, other):
    return _ip.inplace_from(self, E.pow(self, other))


def _eq(self, other):
    if not _ok(other):
        return False
    return E.binary(E._COMPARE["eq"], self, other)


def _ne(self, other):
    if not _ok(other):
        return True
    return E.binary(E._COMPARE["ne"], self, other)


def _logic(name, bitwise):
    logical = E._LOGICAL["logical_" + name]

    def f(self, other):
        if not _ok(other):
            return NotImplemented
        a_bool = self._dtype is D.bool_
        b_bool = other._dtype is D.bool_ if isinstance(other, Tensor) else isinstance(other, bool)
        return E.binary(logical if a_bool and b_bool else bitwise, self, other)

    def r(self, other):
        return f(self, other)

    def i(self, other):
        res = f(self, other)
        return _ip.inplace_from(self, res)
    return f, r, i


def _invert(self):
    if self._dtype is D.bool_:
        return self.logical_not()
    if self._dtype.is_floating_point or self._dtype.is_complex:
        raise TypeError("~ (operator.invert) is only implemented on integer and Boolean-type tensors")
    return self.bitwise_not()


def _register_all():
    T = Tensor
    # __radd__/__rmul__ are add/mul(self, other) in PyTorch: self is the node's first input
    T.__add__ = T.__radd__ = _binop(E.ADD, "add")
    T.__iadd__ = _ibinop(E.ADD, "add")
    T.__sub__ = _sub
    T.__rsub__ = _rsub
    T.__isub__ = _ibinop(E.SUB, "sub")
    T.__mul__ = T.__rmul__ = _binop(E.MUL, "mul")
    T.__imul__ = _ibinop(E.MUL, "mul")
    T.__truediv__ = _binop(E.DIV, "div")
    T.__rtruediv__ = _rtruediv
    T.__itruediv__ = _ibinop(E.DIV, "div")
    T.__floordiv__ = _floordiv     # torch.floor_divide: its NotImplemented node
    T.__rfloordiv__ = _rfloordiv
    T.__ifloordiv__ = _ibinop(E.FLOOR_DIVIDE, "floor_divide")
    T.__mod__ = _binop(E.REMAINDER, "remainder")
    T.__rmod__ = _rbinop(E.REMAINDER, "remainder")
    T.__imod__ = _ibinop(E.REMAINDER, "remainder")
    T.__pow__ = _pow
    T.__rpow__ = _rpow
    T.__ipow__ = _ipow
    T.__neg__ = _neg
    T.__pos__ = lambda self: self
    T.__abs__ = lambda self: E.unary(E.ABS, self)
    T.__invert__ = _invert
    T.__eq__ = _eq
    T.__ne__ = _ne
    T.__lt__ = _binop(E._COMPARE["lt"], "lt")
    T.__le__ = _binop(E._COMPARE["le"], "le")
    T.__gt__ = _binop(E._COMPARE["gt"], "gt")
    T.__ge__ = _binop(E._COMPARE["ge"], "ge")
    for name in ("and", "or", "xor"):
        f, r, i = _logic(name, E._BITWISE["bitwise_" + name])
        setattr(T, f"__{name}__", f)
        setattr(T, f"__r{name}__", r)
        setattr(T, f"__i{name}__", i)
    T.__lshift__ = _binop(E._SHIFT["bitwise_left_shift"], "bitwise_left_shift")
    T.__rshift__ = _binop(E._SHIFT["bitwise_right_shift"], "bitwise_right_shift")
    T.__hash__ = lambda self: id(self)


_register_all()
