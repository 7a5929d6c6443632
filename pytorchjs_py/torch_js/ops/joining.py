"""Joining and splitting composites over cat and tensor_split: hstack/vstack/dstack, column_stack/row_stack,
atleast_1d/2d/3d, hsplit/vsplit/dsplit."""
from .._tensor import Tensor
from ._registry import register
from ._util import check
from . import inplace as _ip
from .shape import cat


def _nonempty(tensors, name):
    tensors = list(tensors)
    check(len(tensors) > 0, f"{name} expects a non-empty TensorList")
    return tensors


def hstack(tensors, *, out=None):
    tensors = [atleast_1d(t) for t in _nonempty(tensors, "hstack")]
    return cat(tensors, 0 if tensors[0].dim() == 1 else 1, out=out)


def vstack(tensors, *, out=None):
    return cat([atleast_2d(t) for t in _nonempty(tensors, "vstack")], 0, out=out)


def dstack(tensors, *, out=None):
    return cat([atleast_3d(t) for t in _nonempty(tensors, "dstack")], 2, out=out)


def _each(fn):
    def wrapper(*tensors):
        if len(tensors) == 1 and not isinstance(tensors[0], (list, tuple)):
            return fn(tensors[0])
        seq = tensors[0] if len(tensors) == 1 else tensors
        return tuple(fn(t) for t in seq)
    wrapper.__name__ = fn.__name__
    return wrapper


@_each
def atleast_1d(t):
    return t.reshape((1,)) if t.dim() == 0 else t


@_each
def atleast_2d(t):
    return t.reshape((1,) * (2 - t.dim()) + t._shape) if t.dim() < 2 else t


@_each
def atleast_3d(t):
    if t.dim() == 0:
        return t.reshape((1, 1, 1))
    if t.dim() == 1:
        return t.reshape((1, t._shape[0], 1))
    if t.dim() == 2:
        return t.unsqueeze(-1)
    return t


def column_stack(tensors, *, out=None):
    check(len(tensors) > 0, "column_stack expects a non-empty TensorList")
    ts = [t.reshape(t.numel(), 1) if t.dim() <= 1 else t for t in tensors]
    return _ip.maybe_write_out(out, hstack(ts))


def row_stack(tensors, *, out=None):
    return vstack(tensors, out=out)


def _split_dim(input, indices_or_sections, dim, name, need):
    if not isinstance(indices_or_sections, (int, list, tuple, Tensor)) or isinstance(indices_or_sections, bool):
        raise TypeError(f"{name}() received an invalid combination of arguments - got (Tensor, "
                        f"{type(indices_or_sections).__name__}), but expected one of: (Tensor input, int sections) "
                        "(Tensor input, tuple of ints indices)")
    check(input.dim() >= need, lambda: f"torch.{name} requires a tensor with at least {need} dimension, but got a "
          f"tensor with {input.dim()} dimensions!")
    if isinstance(indices_or_sections, int):
        n = input._shape[dim]
        check(indices_or_sections != 0 and n % indices_or_sections == 0,
              lambda: f"torch.{name} attempted to split along dimension {dim}, but the size of the dimension {n} "
              f"is not divisible by the split_size {indices_or_sections}!")
    return input.tensor_split(indices_or_sections, dim)


def hsplit(input, indices_or_sections):
    return _split_dim(input, indices_or_sections, 1 if input.dim() > 1 else 0, "hsplit", 1)


def vsplit(input, indices_or_sections):
    return _split_dim(input, indices_or_sections, 0, "vsplit", 2)


def dsplit(input, indices_or_sections):
    return _split_dim(input, indices_or_sections, 2, "dsplit", 3)


def _register_all():
    for name, fn in [("hstack", hstack), ("vstack", vstack), ("dstack", dstack)]:
        register(name, fn, "join", dtype="promote", method=False)
    register("column_stack", column_stack, "shape", dtype="promote", method=False)
    register("row_stack", row_stack, "shape", dtype="promote", method=False, opinfo=())
    for name, fn in [("atleast_1d", atleast_1d), ("atleast_2d", atleast_2d), ("atleast_3d", atleast_3d)]:
        register(name, fn, "view", dtype="any", method=False)
    register("hsplit", hsplit, "shape", dtype="any")
    register("vsplit", vsplit, "shape", dtype="any")
    register("dsplit", dsplit, "shape", dtype="any")


_register_all()
