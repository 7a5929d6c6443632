"""The functional forms of views (PyTorch's functionalization ops): <view>_scatter, a copy of the input whose view
elements are replaced by src (slice/select/diagonal/as_strided_scatter), and <view>_copy, a fresh contiguous copy
of what the view op returns (t_copy, split_copy, view_copy, ...).

Every *_copy is one generic declaration over its view op (`_copy_of`): the view's result cloned, with its node named
as PyTorch names it (TBackward0_copy); the scatters write src into that view of a clone (shape.view_scatter)."""
import inspect

from .. import _dtype as D
from .._memory_format import contiguous_format
from .._tensor import _empty_strided, wrap_dim
from ._registry import backward, register
from ._util import GRAD_ENABLED, check, expand_strides, not_implemented_backward, record, rename_grad_fn
from . import inplace as _ip
from . import shape as S
from .complex import view_as_complex, view_as_real
from .creation import zeros_like


def _slice(input, dim=0, start=None, end=None, step=1):
    """input[..., start:end:step, ...] along dim: aten::slice, the view behind slice_copy and slice_scatter."""
    check(step > 0, "slice step must be positive")
    return S.slice_dim(input, wrap_dim(dim, input.dim()), start, end, step)


# ---- <view>_scatter --------------------------------------------------------------------------------------------

def _check_src(src, view):
    check(src._shape == view._shape, lambda: "expected src to have a size equal to the slice of self. src size = "
          f"{list(src._shape)}, slice size = {list(view._shape)}")


def _scatter_into(input, src, view_fn, name):
    _check_src(src, view_fn(input.detach()))   # the view op raises its own errors (dims, index range) first
    return rename_grad_fn(S.view_scatter(input, src.to(input._dtype), view_fn), name)


def slice_scatter(input, src, dim=0, start=None, end=None, step=1):
    return _scatter_into(input, src, lambda t: _slice(t, dim, start, end, step), "SliceScatterBackward0")


def select_scatter(input, src, dim, index):
    return _scatter_into(input, src, lambda t: S.select(t, dim, index), "SelectScatterBackward0")


def diagonal_scatter(input, src, offset=0, dim1=0, dim2=1):
    return _scatter_into(input, src, lambda t: S.diagonal(t, offset, dim1, dim2), "DiagonalScatterBackward0")


def as_strided_scatter(input, src, size, stride, storage_offset=None):
    """A clone of input (its layout kept) with clone.as_strided(size, stride, storage_offset) replaced by src."""
    out = input.detach().clone()
    off = out._offset if storage_offset is None else storage_offset
    region = out.as_strided(size, stride, off)
    _check_src(src, region)
    s = src.detach().to(out._dtype)
    out._storage.backend.copy(region, s, expand_strides(s._shape, s._stride, region._shape))
    if GRAD_ENABLED[0] and (input._requires_grad or src._requires_grad):
        record("AsStridedScatterBackward0", _as_strided_scatter_back, (input, src), (out,),
               attrs=(out._stride, tuple(region._shape), tuple(region._stride), off))
    return out


def _as_strided_scatter_back(ctx, g):
    layout, size, stride, off = ctx.attrs
    if g._stride != layout or g._offset != 0:   # the region's offsets are in the result's layout: g takes it
        laid = _empty_strided(g._shape, layout, g._dtype, g._storage.device)
        g = laid.copy_(g)
    ea, eb = ctx.edges
    g_src = g.as_strided(size, stride, off)
    g_in = as_strided_scatter(g, zeros_like(g_src), size, stride, off) if ea is not None else None
    return g_in, (g_src.clone() if eb is not None else None)


# ---- <view>_copy -----------------------------------------------------------------------------------------------

def _fresh(view):
    copy = view.clone(memory_format=contiguous_format)
    if view._grad_fn is not None:
        rename_grad_fn(copy, view._grad_fn._name + "_copy")
    return copy


def _copy_of(name, view_op):
    """torch.<name>_copy: view_op's result as fresh contiguous tensors (a tuple for the ops that split), with out=
    (a list of tensors for those, and then no result), and view_op's signature."""
    def view_copy(input, *args, out=None, **kwargs):
        r = view_op(input, *args, **kwargs)
        if isinstance(r, (tuple, list)):
            copies = tuple(_fresh(v) for v in r)
            if out is None:
                return copies
            for o, c in zip(out, copies):
                _ip.write_out_exact(o, c)
            return None
        return _ip.write_out_exact(out, _fresh(r))
    sig = inspect.signature(view_op)
    params = [p for p in sig.parameters.values() if p.kind is not p.VAR_KEYWORD]
    params[0] = params[0].replace(name="input")
    view_copy.__signature__ = sig.replace(parameters=params + [
        inspect.Parameter("out", inspect.Parameter.KEYWORD_ONLY, default=None)])
    view_copy.__name__ = view_copy.__qualname__ = name + "_copy"
    return view_copy


def detach_copy(input, *, out=None):
    r = input.detach().clone(memory_format=contiguous_format)
    if GRAD_ENABLED[0] and input._requires_grad:
        # PyTorch declares no derivative: its result requires grad, and backward through it raises
        record("NotImplemented", not_implemented_backward, (input,), (r,), attrs="aten::detach_copy")
    return _ip.write_out_exact(out, r)


def _view(input, size):
    """aten::view as a function: a dtype reinterprets, a size reshapes (view_copy needs no viewable strides)."""
    return input.view(size) if isinstance(size, D.dtype) else input.reshape(size)


# name -> the view op (signature as PyTorch's aten schema); whether PyTorch's op_db has an OpInfo for the copy
_VIEWS = [
    ("alias", lambda input: input[...], True),
    ("as_strided", lambda input, size, stride, storage_offset=None: S.as_strided(input, size, stride,
                                                                                 storage_offset), True),
    ("diagonal", lambda input, offset=0, dim1=0, dim2=1: S.diagonal(input, offset, dim1, dim2), True),
    ("expand", lambda input, size, *, implicit=False: S.expand(input, size), True),
    ("permute", lambda input, dims: S.permute(input, dims), True),
    ("select", lambda input, dim, index: S.select(input, dim, index), False),
    ("slice", _slice, False),
    ("split", lambda input, split_size, dim=0: S.split(input, split_size, dim), False),
    ("split_with_sizes", lambda input, split_sizes, dim=0: S.split_with_sizes(input, split_sizes, dim), True),
    ("squeeze", lambda input, dim=None: S.squeeze(input, dim), True),
    ("t", lambda input: S.t(input), True),
    ("transpose", lambda input, dim0, dim1: S.transpose(input, dim0, dim1), True),
    ("unbind", lambda input, dim=0: S.unbind(input, dim), True),
    ("unfold", lambda input, dimension, size, step: S.unfold(input, dimension, size, step), True),
    ("unsqueeze", lambda input, dim: S.unsqueeze(input, dim), True),
    ("view", _view, True),
    ("view_as_real", lambda input: view_as_real(input), False),
    ("view_as_complex", lambda input: view_as_complex(input), False),
]


def _register_all():
    V = "copy"
    for name, view_op, has_opinfo in _VIEWS:
        register(name + "_copy", _copy_of(name, view_op), V, dtype="any", method=False,
                 opinfo=None if has_opinfo else ())
    register("detach_copy", detach_copy, V, dtype="any", method=False, opinfo=(), derivative=False)
    register("slice_scatter", slice_scatter, V, dtype="any", opinfo=())   # op_db's samples: past the oracle's size
    register("select_scatter", select_scatter, V, dtype="any")
    register("diagonal_scatter", diagonal_scatter, V, dtype="any")
    register("as_strided_scatter", as_strided_scatter, V, dtype="any",
             derivative=backward(_as_strided_scatter_back))


_register_all()
