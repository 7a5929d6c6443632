"""Complex tensors through real kernels: the data-movement primitives (copy, fill, where, take, put) on complex
tensors, for every backend.

A complex tensor's storage holds interleaved (real, imaginary) pairs of its part dtype (complex64: float32 pairs),
so a complex tensor of shape S and strides T is, element for element, the float tensor of shape S + (2,) and
strides 2T + (1,) at twice the offset (`real_view`, which is also PyTorch's torch.view_as_real). No kernel takes a
complex dtype: a backend's primitive that is handed one calls the function here, which makes the same call on the
float views. Arithmetic on complex values is the ops layer's (ops/complex.py), over those views.
"""
import warnings

from .. import _dtype as D
from .._tensor import _empty, _make


def _doubled(strides):
    return tuple(2 * s for s in strides)


def real_view(t, strides=None, shape=None):
    """The float view of complex t: shape + (2,), strides doubled + (1,), offset doubled. `strides`/`shape` read
    t through other (broadcast) geometry, as a primitive's stride arguments do."""
    st = t._stride if strides is None else strides
    return _make(t._storage, (t._shape if shape is None else shape) + (2,), _doubled(st) + (1,), 2 * t._offset,
                 t._dtype.to_real())


def part(t, k, strides=None, shape=None):
    """The real (k=0) or imaginary (k=1) parts of complex t, as a float view of t's shape (or `shape`)."""
    st = t._stride if strides is None else strides
    return _make(t._storage, t._shape if shape is None else shape, _doubled(st), 2 * t._offset + k,
                 t._dtype.to_real())


_WARNED = [False]


def _warn_discard():
    # PyTorch warns once per process (TORCH_WARN_ONCE), whichever op casts
    if not _WARNED[0]:
        _WARNED[0] = True
        warnings.warn("Casting complex values to real discards the imaginary part", UserWarning, stacklevel=4)


def copy(be, out, x, x_strides=None):
    """out[...] = x where either is complex: complex <- complex part by part (casting the parts), complex <- real
    with a zero imaginary part, real <- complex from the real part (PyTorch's warning), bool <- complex true where
    either part is nonzero."""
    xs = x._stride if x_strides is None else x_strides
    if out._dtype.is_complex:
        if x._dtype.is_complex:
            be.copy(real_view(out), real_view(x, xs, out._shape))
        else:
            be.copy(part(out, 0), x, xs)
            be.fill(part(out, 1), 0)
        return
    re = part(x, 0, xs, out._shape)
    if out._dtype is D.bool_:
        nonzero_im = _empty(out._shape, D.bool_, out._storage.device)
        be.copy(out, re)
        be.copy(nonzero_im, part(x, 1, xs, out._shape))
        be.binary("logical_or", out, out, out._stride, nonzero_im, nonzero_im._stride)
        return
    _warn_discard()
    be.copy(out, re)


def fill(be, out, value):
    """Every element of complex out = value (a Python number; a real one has a zero imaginary part)."""
    v = complex(value)
    be.fill(part(out, 0), v.real)
    be.fill(part(out, 1), v.imag)


def where(be, out, cond, c_strides, a, a_strides, b, b_strides):
    """out = cond ? a : b for complex out, a and b (one dtype): on the float views, cond broadcast over the pair."""
    be.where(real_view(out), cond, tuple(c_strides) + (0,), real_view(a), _doubled(a_strides) + (1,),
             real_view(b), _doubled(b_strides) + (1,))


def _doubled_offsets(be, offs):
    """Element offsets into a complex tensor as offsets into its float view: 2 * offs, in a new int64 tensor laid
    out as offs is (so the caller's stride arguments for offs still apply)."""
    n = offs._storage.nbytes // 8
    st = be.alloc(n * 8)
    src = _make(offs._storage, (n,), (1,), 0, D.int64)
    dst = _make(st, (n,), (1,), 0, D.int64)
    if n:
        be.binary("add", dst, src, (1,), src, (1,))
    return _make(st, offs._shape, offs._stride, offs._offset, D.int64)


def take(be, out, src, offs, src_strides, offs_strides):
    """The gather out[i] = src[offs[i] + ...] for complex out and src: both parts of each element."""
    be.take(real_view(out), real_view(src), _doubled_offsets(be, offs), _doubled(src_strides) + (1,),
            tuple(offs_strides) + (0,))


def put(be, dst, val, offs, shape, val_strides, dst_strides, offs_strides, accumulate):
    """The scatter dst[offs[i] + ...] = (+=) val[i] for complex dst and val: part by part (complex addition is)."""
    be.put(real_view(dst), real_view(val), _doubled_offsets(be, offs), tuple(shape) + (2,),
           _doubled(val_strides) + (1,), _doubled(dst_strides) + (1,), tuple(offs_strides) + (0,), accumulate)
