"""Pooling on the tjs_pool2d kernels: max (with indices, dilation, ceil_mode), average (padding, ceil_mode,
count_include_pad, divisor_override), adaptive average and adaptive max; 1-D variants run as 2-D with H = 1.

Primitives and derivatives: the forward pool records a node whose backward is `_pool_backward` (kernel
tjs_pool2d_backward); that is itself recorded, with derivative: max — a gather of the incoming gradient at the
saved indices; avg — the average pool of the incoming gradient. Both are linear, so higher orders close.
"""

from ...ops._util import GRAD_ENABLED, record
from ..._tensor import _empty
from ...backends import cpu_nn as _cpu_nn  # noqa: F401
from ._common import D, Tensor, ntuple, reg

_HALF = (D.float16, D.bfloat16)
MAX, AVG = 0, 1


class _Pool:
    """One pooling configuration: mode, adaptive, geometry (KH, KW, SH, SW, PH, PW, DH, DW), avg options."""
    __slots__ = ("mode", "adaptive", "geom", "cip", "dov")

    def __init__(self, mode, adaptive, geom, cip=True, dov=0):
        self.mode, self.adaptive, self.geom, self.cip, self.dov = mode, adaptive, geom, cip, dov


def _pool_backward_back(ctx, gg):
    cfg, in_shape, out_shape = ctx.attrs
    if cfg.mode == MAX:
        (idx,) = ctx.saved_tensors
        planes = idx._shape[0]
        return gg.reshape(planes, -1).gather(1, idx.reshape(planes, -1)).reshape(out_shape)
    return _pool_forward(gg, cfg, out_shape[1], out_shape[2])[0]


def _pool_backward(g, idx, cfg, in_shape):
    """grad_input (planes, H, W) of the pool whose output gradient is g (planes, OH, OW)."""
    g = g.contiguous()
    gi = _empty(tuple(in_shape), g._dtype, g._storage.device)
    gi._storage.backend.pool2d_backward(gi, g, idx, cfg.mode, cfg.adaptive, cfg.geom, cfg.cip, cfg.dov)
    if GRAD_ENABLED[0] and g._requires_grad:
        node = record("MaxPool2DWithIndicesBackwardBackward0" if cfg.mode == MAX else "AvgPool2DBackwardBackward0",
                      _pool_backward_back, (g,), (gi,), attrs=(cfg, tuple(in_shape), g._shape))
        if cfg.mode == MAX:
            node.save((idx,))
    return gi


def _pool_forward_back(ctx, g, gidx=None):
    cfg, in_shape = ctx.attrs
    idx = ctx.saved_tensors[0] if cfg.mode == MAX else None
    if g is None:
        return None
    return _pool_backward(g, idx, cfg, in_shape)


def _pool_forward(x, cfg, oh, ow):
    """x (planes, H, W) float32/float64 -> (out (planes, OH, OW), int64 indices or None)."""
    xc = x.contiguous()
    planes = xc._shape[0]
    out = _empty((planes, oh, ow), xc._dtype, xc._storage.device)
    idx = _empty((planes, oh, ow), D.int64, xc._storage.device) if cfg.mode == MAX else None
    if out.numel():
        out._storage.backend.pool2d(out, xc, idx, cfg.mode, cfg.adaptive, cfg.geom, cfg.cip, cfg.dov)
    if GRAD_ENABLED[0] and x._requires_grad:
        name = ("Adaptive" if cfg.adaptive else "") + ("MaxPool2DBackward0" if cfg.mode == MAX else "AvgPool2DBackward0")
        node = record(name, _pool_forward_back, (xc,), (out, idx) if idx is not None else (out,),
                      attrs=(cfg, xc._shape))
        if idx is not None:
            node.save((idx,))
    return out, idx


def _run(input, cfg, nd, oh, ow, name):
    """Batch/unbatched (N, C, *spatial) input -> pooled output (and indices) through the (planes, H, W) kernel."""
    lead = input._shape[:-nd]
    sp = input._shape[-nd:]
    h, w = (1, sp[0]) if nd == 1 else sp
    x = input.reshape(-1, h, w)
    half = x._dtype in _HALF
    if half:
        x = x.to(D.float32)
    elif not x._dtype.is_floating_point and x._dtype is not D.int64:
        x = x.to(D.int64)           # the kernel's integer path is int64; max/avg of smaller ints fit
        half = True
    out, idx = _pool_forward(x, cfg, oh, ow)
    if half:
        out = out.to(input._dtype)
    oshape = lead + ((ow,) if nd == 1 else (oh, ow))
    out = out.view(oshape)
    if idx is not None:
        idx = idx.view(oshape)
    return out, idx


def _pool_out(i, k, s, p, d, ceil_mode):
    """ATen's pooling_output_shape."""
    num = i + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)
    o = num // s + 1
    if ceil_mode and (o - 1) * s >= i + p:
        o -= 1
    return o


def _check_input(input, nd, name, ints=False):
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    if input.dim() not in (nd + 1, nd + 2):
        if nd == 2:
            raise RuntimeError(f"non-empty 3D or 4D (batch mode) tensor expected for input")
        raise RuntimeError(f"{name}: Expected 2D or 3D (batch mode) tensor with optional 0 dim batch size for input, "
                           f"but got: {list(input._shape)}")
    if not input._dtype.is_floating_point and not (ints and input._dtype is not D.bool_):
        raise NotImplementedError(f'"{name}" not implemented for \'{_cap(input._dtype)}\'')


def _cap(d):
    from ...ops.inplace import _cap as cap
    return cap(d)


def _window_args(input, nd, kernel_size, stride, padding, dilation, ceil_mode, name):
    k = ntuple(kernel_size, nd)
    s = ntuple(stride, nd) if stride is not None and stride != [] and stride != () else k
    p = ntuple(padding, nd)
    d = ntuple(dilation, nd)
    for v in k:
        if v <= 0:
            raise RuntimeError(f"{name}: kernel_size must be greater than zero, but got " + ", ".join(map(str, k)))
    for v in s:
        if v <= 0:
            raise RuntimeError(f"{name}: stride must be greater than zero, but got " + ", ".join(map(str, s)))
    for v in d:
        if v <= 0:
            raise RuntimeError(f"{name}: dilation must be greater than zero")
    for kk, pp in zip(k, p):
        if pp < 0 or pp > kk // 2:
            raise RuntimeError(f"pad should be at most half of effective kernel size, but got pad={pp}, "
                               f"kernel_size={kk} and dilation={d[0]}" if name.startswith("max") else
                               f"pad should be smaller than or equal to half of kernel size, but got "
                               f"padW = {p[-1]}, padH = {p[0]}, kW = {k[-1]}, kH = {k[0]}")
    sp = input._shape[-nd:]
    outs = tuple(_pool_out(i, kk, ss, pp, dd, ceil_mode) for i, kk, ss, pp, dd in zip(sp, k, s, p, d))
    if any(o <= 0 for o in outs):
        raise RuntimeError(f"Given input size: ({'x'.join(map(str, input._shape[-nd - 1:]))}). Calculated output "
                           f"size: ({'x'.join(map(str, (input._shape[-nd - 1],) + outs))}). Output size is too small")
    if nd == 1:
        return (1, k[0], 1, s[0], 0, p[0], 1, d[0]), 1, outs[0]
    return (k[0], k[1], s[0], s[1], p[0], p[1], d[0], d[1]), outs[0], outs[1]


# ---- max pooling ---------------------------------------------------------------------------------------------

def _max_pool(input, nd, kernel_size, stride, padding, dilation, ceil_mode, return_indices, name):
    _check_input(input, nd, name, ints=True)
    geom, oh, ow = _window_args(input, nd, kernel_size, stride, padding, dilation, ceil_mode, "max_pool" + str(nd) + "d")
    out, idx = _run(input, _Pool(MAX, False, geom), nd, oh, ow, name)
    return (out, idx) if return_indices else out


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    return _max_pool(input, 1, kernel_size, stride, padding, dilation, ceil_mode, return_indices, "max_pool1d")


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    return _max_pool(input, 2, kernel_size, stride, padding, dilation, ceil_mode, return_indices, "max_pool2d")


def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=False):
    return max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=False):
    return max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


# ---- average pooling -----------------------------------------------------------------------------------------

def _avg_pool(input, nd, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override, name):
    _check_input(input, nd, name, ints=True)
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    geom, oh, ow = _window_args(input, nd, kernel_size, stride, padding, 1, ceil_mode, "avg_pool" + str(nd) + "d")
    cfg = _Pool(AVG, False, geom, bool(count_include_pad), int(divisor_override or 0))
    return _run(input, cfg, nd, oh, ow, name)[0]


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    return _avg_pool(input, 1, kernel_size, stride, padding, ceil_mode, count_include_pad, None, "avg_pool1d")


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    return _avg_pool(input, 2, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override,
                     "avg_pool2d")


# ---- adaptive pooling ----------------------------------------------------------------------------------------

def _adaptive_sizes(input, output_size, nd, name):
    if isinstance(output_size, (list, tuple)):
        if len(output_size) != nd:
            raise RuntimeError(f"{name}: internal error: output_size.size() must be {nd}")
        outs = tuple(input._shape[-nd + i] if o is None else int(o) for i, o in enumerate(output_size))
    else:
        outs = (int(output_size),) * nd
    for i in range(1 if input.dim() == nd + 2 else 0, input.dim()):
        if input._shape[i] == 0:
            raise RuntimeError(f"{name}(): Expected input to have non-zero size for non-batch dimensions, but input "
                               f"has sizes {list(input._shape)} with dimension {i} being empty")
    if any(o < 0 for o in outs):
        raise RuntimeError(f"{name}: elements of output_size must be greater than or equal to 0 but received "
                           f"{{{', '.join(map(str, outs))}}}")
    return (1, outs[0]) if nd == 1 else outs


def _adaptive(input, output_size, nd, mode, return_indices, name):
    _check_input(input, nd, name)
    oh, ow = _adaptive_sizes(input, output_size, nd, name)
    if oh == 0 or ow == 0:
        lead = input._shape[:-nd]
        shape = lead + ((ow,) if nd == 1 else (oh, ow))
        out = _empty(shape, input._dtype, input._storage.device)
        return (out, _empty(shape, D.int64, input._storage.device)) if mode == MAX and return_indices else out
    out, idx = _run(input, _Pool(mode, True, (0,) * 8), nd, oh, ow, name)
    return (out, idx) if mode == MAX and return_indices else out


def adaptive_avg_pool1d(input, output_size):
    return _adaptive(input, output_size, 1, AVG, False, "adaptive_avg_pool1d")


def adaptive_avg_pool2d(input, output_size):
    return _adaptive(input, output_size, 2, AVG, False, "adaptive_avg_pool2d")


def adaptive_max_pool1d(input, output_size, return_indices=False):
    return _adaptive(input, output_size, 1, MAX, return_indices, "adaptive_max_pool1d")


def adaptive_max_pool2d(input, output_size, return_indices=False):
    return _adaptive(input, output_size, 2, MAX, return_indices, "adaptive_max_pool2d")


def adaptive_max_pool1d_with_indices(input, output_size, return_indices=False):
    return adaptive_max_pool1d(input, output_size, True)


def adaptive_max_pool2d_with_indices(input, output_size, return_indices=False):
    return adaptive_max_pool2d(input, output_size, True)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    kw, kh = ntuple(kernel_size, 2)
    out = avg_pool2d(input.pow(norm_type), kernel_size, stride, 0, ceil_mode)
    return (out.sign() * out.abs().relu()).mul(kw * kh).pow(1.0 / norm_type)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    out = avg_pool1d(input.pow(norm_type), kernel_size, stride, 0, ceil_mode)
    return (out.sign() * out.abs().relu()).mul(kernel_size).pow(1.0 / norm_type)


for _n, _f in [("max_pool1d", max_pool1d), ("max_pool2d", max_pool2d), ("avg_pool1d", avg_pool1d),
               ("avg_pool2d", avg_pool2d), ("adaptive_avg_pool1d", adaptive_avg_pool1d),
               ("adaptive_avg_pool2d", adaptive_avg_pool2d), ("adaptive_max_pool1d", adaptive_max_pool1d),
               ("adaptive_max_pool2d", adaptive_max_pool2d)]:
    reg(_n, _f, "pooling", primitive="pool2d")
for _n, _f in [("max_pool1d_with_indices", max_pool1d_with_indices),
               ("max_pool2d_with_indices", max_pool2d_with_indices),
               ("adaptive_max_pool1d_with_indices", adaptive_max_pool1d_with_indices),
               ("adaptive_max_pool2d_with_indices", adaptive_max_pool2d_with_indices),
               ("lp_pool1d", lp_pool1d), ("lp_pool2d", lp_pool2d)]:
    reg(_n, _f, "pooling", opinfo=())
