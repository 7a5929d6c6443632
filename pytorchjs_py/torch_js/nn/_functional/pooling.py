"""Pooling on the tjs_pool kernels, over up to three spatial dims (2-D runs with D = 1, 1-D also with H = 1): max
(with indices, dilation, ceil_mode), average (padding, ceil_mode, count_include_pad, divisor_override), adaptive
average and adaptive max; lp pooling over average (or max) pooling. (Fractional max pooling: fractional_pool.py.)

Primitives and derivatives: the forward pool records a node whose backward is `_pool_backward` (kernel
tjs_pool_backward); that is itself recorded, with derivative: max — a gather of the incoming gradient at the
saved indices; avg — the average pool of the incoming gradient. Both are linear, so higher orders close.
"""
from ...ops._registry import backward
from ...ops._util import GRAD_ENABLED, not_implemented_for, record
from ..._tensor import _empty
from ._common import D, Tensor, ntuple, reg

_HALF = (D.float16, D.bfloat16)
MAX, AVG = 0, 1


class _Pool:
    """One pooling configuration: mode, adaptive, geometry (KD, KH, KW, SD, SH, SW, PD, PH, PW, DD, DH, DW), avg
    options, the spatial rank nd, and the names of the autograd nodes it records (by rank, as PyTorch's)."""
    __slots__ = ("mode", "adaptive", "geom", "nd", "cip", "dov", "names")

    def __init__(self, mode, adaptive, geom, nd, cip=True, dov=0):
        self.mode, self.adaptive, self.geom, self.nd, self.cip, self.dov = mode, adaptive, geom, nd, cip, dov
        rank = "3D" if nd == 3 else "2D"
        if mode == MAX:
            fwd = f"AdaptiveMaxPool{rank}Backward0" if adaptive else f"MaxPool{rank}WithIndicesBackward0"
            self.names = (fwd, f"MaxPool{rank}WithIndicesBackwardBackward0")
        else:
            self.names = (f"{'Adaptive' if adaptive else ''}AvgPool{rank}Backward0", f"AvgPool{rank}BackwardBackward0")

    def kernel_shape(self, shape):
        """A (*lead, *spatial) shape as the kernels' (planes, D, H, W)."""
        planes = 1
        for v in shape[:-self.nd]:
            planes *= v
        return (planes,) + (1,) * (3 - self.nd) + tuple(shape[-self.nd:])


def _lift_geom(k, s, p, d):
    """Per-dim kernel, stride, padding, dilation of an nd-dim pool -> the kernels' 12-int 3-D geometry."""
    pad = 3 - len(k)
    return ((1,) * pad + tuple(k) + (1,) * pad + tuple(s) + (0,) * pad + tuple(p) + (1,) * pad + tuple(d))


_ADAPTIVE_GEOM = (1,) * 12


# The pool ops take and give (*lead, *spatial) tensors (the nodes they record have the user's shapes); the kernels
# see them as (planes, D, H, W) views.

def _pool_backward_back(ctx, gg):
    cfg, in_shape, out_shape = ctx.attrs
    if cfg.mode == MAX:
        (idx,) = ctx.saved_tensors
        planes = cfg.kernel_shape(out_shape)[0]
        return gg.reshape(planes, -1).gather(1, idx.reshape(planes, -1)).reshape(out_shape)
    return _pool_forward(gg, cfg, out_shape[-cfg.nd:])[0]


def _pool_backward(g, idx, cfg, in_shape):
    """grad_input (in_shape) of the pool whose output gradient is g."""
    g = g.contiguous()
    gi = _empty(tuple(in_shape), g._dtype, g._storage.device)
    gi._storage.backend.pool_backward(gi.view(cfg.kernel_shape(in_shape)), g.detach().view(cfg.kernel_shape(g._shape)),
                                      idx.view(cfg.kernel_shape(idx._shape)) if idx is not None else None, cfg.mode,
                                      cfg.adaptive, cfg.geom, cfg.cip, cfg.dov)
    if GRAD_ENABLED[0] and g._requires_grad:
        node = record(cfg.names[1], _pool_backward_back, (g,), (gi,), attrs=(cfg, tuple(in_shape), g._shape))
        if cfg.mode == MAX:
            node.save((idx,))
    return gi


def _pool_forward_back(ctx, g, gidx=None):
    cfg, in_shape = ctx.attrs
    idx = ctx.saved_tensors[0] if cfg.mode == MAX else None
    if g is None:
        return None
    return _pool_backward(g, idx, cfg, in_shape)


def _pool_forward(x, cfg, osz):
    """x (*lead, *spatial) float32/float64/int64 -> (out (*lead, *osz), int64 indices or None)."""
    xc = x.contiguous()
    shape = xc._shape[:-cfg.nd] + tuple(osz)
    out = _empty(shape, xc._dtype, xc._storage.device)
    idx = _empty(shape, D.int64, xc._storage.device) if cfg.mode == MAX else None
    if out.numel():
        ks = cfg.kernel_shape(shape)
        out._storage.backend.pool(out.view(ks), xc.detach().view(cfg.kernel_shape(xc._shape)),
                                  idx.view(ks) if idx is not None else None, cfg.mode, cfg.adaptive, cfg.geom,
                                  cfg.cip, cfg.dov)
    if GRAD_ENABLED[0] and x._requires_grad:
        node = record(cfg.names[0], _pool_forward_back, (xc,), (out, idx) if idx is not None else (out,),
                      attrs=(cfg, xc._shape))
        if idx is not None:
            node.save((idx,))
    return out, idx


def _run(input, cfg, osz):
    """Batched or unbatched (*lead, *spatial) input -> pooled output (and indices); osz: the output's spatial
    sizes."""
    x = input
    cast = x._dtype in _HALF
    if cast:
        x = x.to(D.float32)
    elif not x._dtype.is_floating_point and x._dtype is not D.int64:
        x = x.to(D.int64)           # the kernel's integer path is int64; max/avg of smaller ints fit
        cast = True
    out, idx = _pool_forward(x, cfg, osz)
    if cast:
        out = out.to(input._dtype)
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
    if not input._dtype.is_floating_point and not (ints and input._dtype is not D.bool_):
        raise not_implemented_for(name, input._dtype)


def _check_tensor(input, name):
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")


def _check_dim_range(input, lo, hi, name):
    """at::checkDimRange(name, self, lo, hi) (hi exclusive)."""
    if not lo <= input.dim() < hi:
        raise RuntimeError(f"Expected {lo} to {hi - 1} dimensions, but got {input.dim()}-dimensional tensor for "
                           f"argument #1 'self' (while checking arguments for {name})")


def _check1d(v, arg, name):
    """at::native check1d: an int, or a sequence of exactly one int."""
    if isinstance(v, (list, tuple)):
        if len(v) != 1:
            raise RuntimeError(f"{name}() argument '{arg}' should contain one int (got {len(v)})")
        return int(v[0])
    return int(v)


def _pair_arg(v, name, arg, allow_empty=False):
    """max_pool2d/avg_pool2d's int-or-pair arguments ((kH, kW) order)."""
    if isinstance(v, (list, tuple)):
        if allow_empty and len(v) == 0:
            return None
        if len(v) not in (1, 2):
            raise RuntimeError(f"{name}: {arg} must either be a single int, or a tuple of two ints")
        return (int(v[0]), int(v[-1]))
    if v is None:
        return None
    return (int(v), int(v))


def _triple_arg(v, message, default=None):
    """max_pool3d/avg_pool3d's arguments: the binding's IntArrayRef[3] (an int thrice, a sequence as given; None
    the empty list), then ATen's 1-or-3 rule (an empty stride takes `default`, the kernel size)."""
    if v is None:
        v = []
    vals = [int(x) for x in v] if isinstance(v, (list, tuple)) else [int(v)] * 3
    if not vals and default is not None:
        return default
    if len(vals) not in (1, 3):
        raise RuntimeError(message)
    return tuple(vals) * 3 if len(vals) == 1 else tuple(vals)


def _pool_out_checked(i, k, p, s, d, ceil_mode):
    """ATen's pooling_output_shape, with its checks."""
    if s == 0:
        raise RuntimeError("stride should not be zero")
    if p < 0:
        raise RuntimeError(f"pad must be non-negative, but got pad: {p}")
    if p > ((k - 1) * d + 1) // 2:
        raise RuntimeError(f"pad should be at most half of effective kernel size, but got pad={p}, kernel_size={k} "
                           f"and dilation={d}")
    return _pool_out(i, k, s, p, d, ceil_mode)


def _pool2d_geometry(input, k, s, p, d, ceil_mode, name):
    """max_pool2d_with_indices / avg_pool2d meta checks on a 3-D or 4-D input -> (geom, (OH, OW))."""
    if input.dim() not in (3, 4):
        if name.startswith("avg"):
            input.size(-3)  # PyTorch reads size(-3) first: IndexError on 1-D/2-D input
        raise RuntimeError("non-empty 3D or 4D (batch mode) tensor expected for input")
    planes, h, w = input._shape[-3:]
    oh = _pool_out_checked(h, k[0], p[0], s[0], d[0], ceil_mode)
    ow = _pool_out_checked(w, k[1], p[1], s[1], d[1], ceil_mode)
    # pool2d_shape_check
    if k[0] <= 0 or k[1] <= 0:
        raise RuntimeError(f"kernel size should be greater than zero, but got kH: {k[0]} kW: {k[1]}")
    if s[0] <= 0 or s[1] <= 0:
        raise RuntimeError(f"stride should be greater than zero, but got dH: {s[0]} dW: {s[1]}")
    if d[0] <= 0 or d[1] <= 0:
        raise RuntimeError(f"dilation should be greater than zero, but got dilationH: {d[0]} dilationW: {d[1]}")
    sh = input._shape
    valid = sh[1] != 0 and sh[2] != 0
    if not ((input.dim() == 3 and sh[0] != 0 and valid) or (input.dim() == 4 and valid and sh[3] != 0)):
        raise RuntimeError(f"Expected 3D or 4D (batch mode) tensor with optional 0 dim batch size for input, but "
                           f"got:{list(sh)}")
    if k[1] // 2 < p[1] or k[0] // 2 < p[0]:
        raise RuntimeError(f"pad should be smaller than or equal to half of kernel size, but got padW = {p[1]}, "
                           f"padH = {p[0]}, kW = {k[1]}, kH = {k[0]}")
    if oh < 1 or ow < 1:
        raise RuntimeError(f"Given input size: ({planes}x{h}x{w}). Calculated output size: ({planes}x{oh}x{ow}). "
                           f"Output size is too small")
    return _lift_geom(k, s, p, d), (oh, ow)


def _pool3d_geometry(input, k, s, p, d, ceil_mode, fn_name, avg=False):
    """max_pool3d_with_indices / avg_pool3d checks (pooling_output_shape, pool3d_shape_check) on a 4-D or 5-D
    input -> (geom, (OT, OH, OW))."""
    if input.dim() not in (4, 5):
        raise RuntimeError("non-empty 4D or 5D (batch mode) tensor expected for input")
    sizes = input._shape[-3:]
    osz = tuple(_pool_out_checked(i, kk, pp, ss, dd, ceil_mode) for i, kk, pp, ss, dd in zip(sizes, k, p, s, d))
    if any(v <= 0 for v in k):
        raise RuntimeError(f"kernel size should be greater than zero, but got kT: {k[0]} kH: {k[1]} kW: {k[2]}")
    if any(v <= 0 for v in s):
        raise RuntimeError(f"stride should be greater than zero, but got dT: {s[0]} dH: {s[1]} dW: {s[2]}")
    if any(v <= 0 for v in d):
        raise RuntimeError(f"dilation should be greater than zero, but got dilationT: {d[0]} dilationH: {d[1]} "
                           f"dilationW: {d[2]}")
    for i, n in enumerate(input._shape):
        if n == 0 and not (input.dim() == 5 and i == 0):
            raise RuntimeError(f"{fn_name}: Expected input's non-batch dimensions to have positive length, but input "
                               f"has a shape of {list(input._shape)} and non-batch dimension 0 has length zero!")
    if avg and any(i < kk for i, kk in zip(sizes, k)):
        raise RuntimeError(f"input image (T: {sizes[0]} H: {sizes[1]} W: {sizes[2]}) smaller than kernel size "
                           f"(kT: {k[0]} kH: {k[1]} kW: {k[2]})")
    if any(kk // 2 < pp for kk, pp in zip(k, p)):
        raise RuntimeError(f"pad should be smaller than or equal to half of kernel size, but got kT: {k[0]} kW: {k[2]} "
                           f"kH: {k[1]} padT: {p[0]} padW: {p[2]} padH: {p[1]}")
    if any(v < 1 for v in osz):
        planes = input._shape[-4]
        raise RuntimeError(f"Given input size: ({planes}x{'x'.join(map(str, sizes))}). Calculated output size: "
                           f"({planes}x{'x'.join(map(str, osz))}). Output size is too small")
    return _lift_geom(k, s, p, d), osz


def _window1d(input, kernel_size, stride, padding, dilation, ceil_mode, name):
    """1-D pooling args (at::max_pool1d_with_indices / avg_pool1d) -> 2-D geometry on input.unsqueeze(-2)."""
    _check_dim_range(input, 2, 4, name)
    k = _check1d(kernel_size, "kernel_size", name)
    st = () if stride is None or (isinstance(stride, (list, tuple)) and len(stride) == 0) else stride
    s = k if st == () else _check1d(st, "stride", name)
    p = _check1d(padding, "padding", name)
    d = _check1d(dilation, "dilation", name)
    return (1, k), (1, s), (0, p), (1, d)


def _max_pool1d_checks(input, kernel_size, stride, padding, dilation, ceil_mode):
    """at::max_pool1d's own checks (the path without indices and without autograd)."""
    sh = list(input._shape)
    if not ((input.dim() == 2 and sh[0] != 0 and sh[1] != 0) or (input.dim() == 3 and sh[1] != 0 and sh[2] != 0)):
        raise RuntimeError(f"max_pool1d: Expected 2D or 3D (batch mode) tensor with optional 0 dim batch size for "
                           f"input, but got:{sh}")
    if isinstance(kernel_size, (list, tuple)) and len(kernel_size) != 1:
        raise RuntimeError(f"max_pool1d() kernel_size must be an int, list of ints or tuple of ints of size 1 but "
                           f"got size {len(kernel_size)}")
    if isinstance(stride, (list, tuple)) and len(stride) not in (0, 1):
        raise RuntimeError(f"max_pool1d() stride must be None, an int, list of ints, or tuple of ints of size 1 but "
                           f"got size {len(stride)}")
    if isinstance(padding, (list, tuple)) and len(padding) != 1:
        raise RuntimeError(f"max_pool1d() padding must be an int, list of ints, or tuple of ints of size 1 but got "
                           f"size {len(padding)}")
    if isinstance(dilation, (list, tuple)) and len(dilation) != 1:
        raise RuntimeError(f"max_pool1d() dilation must be an int, list of ints or tuple of ints of size 1 but got "
                           f"size {len(dilation)}")
    one = lambda v: int(v[0]) if isinstance(v, (list, tuple)) else int(v)  # noqa: E731
    k = one(kernel_size)
    s = k if stride is None or (isinstance(stride, (list, tuple)) and len(stride) == 0) else one(stride)
    p, d = one(padding), one(dilation)
    if k <= 0:
        raise RuntimeError(f"max_pool1d() kernel_size must be greater than zero, but got {k}")
    if s <= 0:
        raise RuntimeError(f"max_pool1d() stride must be greater than zero, but got {s}")
    if p < 0:
        raise RuntimeError(f"max_pool1d() padding must be non-negative, but got {p}")
    if p > k // 2:
        raise RuntimeError(f"max_pool1d() padding should be at most half of kernel size, but got padding={p} and "
                           f"kernel_size={k}")
    if d <= 0:
        raise RuntimeError(f"max_pool1d() dilation must be greater than zero, but got {d}")
    ow = _pool_out(sh[-1], k, s, p, d, ceil_mode)
    if ow <= 0:
        raise RuntimeError(f"max_pool1d() Invalid computed output size: {ow}")
    return _lift_geom((k,), (s,), (p,), (d,)), (ow,)


# ---- max pooling ---------------------------------------------------------------------------------------------

def _max_pool(input, nd, kernel_size, stride, padding, dilation, ceil_mode, return_indices, name):
    if nd == 3:
        _check_tensor(input, name)
        k = _triple_arg(kernel_size, "max_pool3d: kernel_size must either be a single int, or a tuple of three ints")
        s = _triple_arg(stride, "max_pool3d: stride must either be omitted, a single int, or a tuple of three ints",
                        default=k)
        p = _triple_arg(padding, "max_pool3d: padding must either be a single int, or a tuple of three ints")
        d = _triple_arg(dilation, "max_pool3d: dilation must be either a single int, or a tuple of three ints")
        geom, osz = _pool3d_geometry(input, k, s, p, d, ceil_mode, "max_pool3d_with_indices_out_cpu_template()")
        _check_input(input, nd, name, ints=True)
    else:
        _check_input(input, nd, name, ints=True)
    if nd == 1:
        if not return_indices:  # at::max_pool1d checks first, whether or not it then needs indices for autograd
            geom, osz = _max_pool1d_checks(input, kernel_size, stride, padding, dilation, ceil_mode)
        else:  # at::max_pool1d_with_indices: max_pool2d_with_indices on input.unsqueeze(-2)
            k, s, p, d = _window1d(input, kernel_size, stride, padding, dilation, ceil_mode, "max_pool1d")
            geom, (_, ow) = _pool2d_geometry(input.unsqueeze(-2), k, s, p, d, ceil_mode, name)
            geom, osz = _lift_geom(k[1:], s[1:], p[1:], d[1:]), (ow,)
    elif nd == 2:
        k = _pair_arg(kernel_size, "max_pool2d", "kernel_size")
        s = _pair_arg(stride, "max_pool2d", "stride", allow_empty=True) or k
        p = _pair_arg(padding, "max_pool2d", "padding")
        d = _pair_arg(dilation, "max_pool2d", "dilation")
        geom, osz = _pool2d_geometry(input, k, s, p, d, ceil_mode, name)
    out, idx = _run(input, _Pool(MAX, False, geom, nd), osz)
    return (out, idx) if return_indices else out


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    return _max_pool(input, 1, kernel_size, stride, padding, dilation, ceil_mode, return_indices, "max_pool1d")


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    return _max_pool(input, 2, kernel_size, stride, padding, dilation, ceil_mode, return_indices, "max_pool2d")


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    return _max_pool(input, 3, kernel_size, stride, padding, dilation, ceil_mode, return_indices, "max_pool3d")


def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=False):
    return max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=False):
    return max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool3d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=False):
    return max_pool3d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


# ---- average pooling -----------------------------------------------------------------------------------------

def _avg_pool(input, nd, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override, name):
    if nd == 3:
        _check_tensor(input, name)
        k = _triple_arg(kernel_size, "avg_pool3d: kernel_size must be a single int, or a tuple of three ints")
        s = _triple_arg(stride, "avg_pool3d: stride must be omitted, a single int, or a tuple of three ints",
                        default=k)
        p = _triple_arg(padding, "avg_pool3d: padding must be a single int, or a tuple of three ints")
        if input.dim() not in (4, 5):
            raise RuntimeError("non-empty 4D or 5D (batch mode) tensor expected for input")
        if divisor_override is not None and divisor_override == 0:
            raise RuntimeError("divisor must be not zero")
        geom, osz = _pool3d_geometry(input, k, s, p, (1, 1, 1), ceil_mode, "avg_pool3d()", avg=True)
        if input._dtype not in (D.float32, D.float64, D.int64):   # avg_pool3d_out_frame's dispatch
            raise not_implemented_for("avg_pool3d_out_frame", input._dtype)
    else:
        _check_input(input, nd, name, ints=True)
        if nd == 1:
            k, s, p, _ = _window1d(input, kernel_size, stride, padding, 1, ceil_mode, "avg_pool1d")
            x = input.unsqueeze(-2)
        else:
            k = _pair_arg(kernel_size, "avg_pool2d", "kernel_size")
            s = _pair_arg(stride, "avg_pool2d", "stride", allow_empty=True) or k
            p = _pair_arg(padding, "avg_pool2d", "padding")
            x = input
        if divisor_override is not None and divisor_override == 0:
            raise RuntimeError("divisor must be not zero")
        geom, osz = _pool2d_geometry(x, k, s, p, (1, 1), ceil_mode, name)
        if nd == 1:
            geom, osz = _lift_geom(k[1:], s[1:], p[1:], (1,)), osz[1:]
    cfg = _Pool(AVG, False, geom, nd, bool(count_include_pad), int(divisor_override or 0))
    return _run(input, cfg, osz)[0]


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    return _avg_pool(input, 1, kernel_size, stride, padding, ceil_mode, count_include_pad, None, "avg_pool1d")


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    return _avg_pool(input, 2, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override,
                     "avg_pool2d")


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    return _avg_pool(input, 3, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override,
                     "avg_pool3d")


# ---- adaptive pooling ----------------------------------------------------------------------------------------

def _adaptive_sizes(input, output_size, nd, mode, name):
    """PyTorch's checks for adaptive pooling, in its order -> the output's spatial sizes."""
    if nd == 1:
        _check_dim_range(input, 2, 4, name)
        o = _check1d(output_size, "output_size", name)
        if mode == MAX:
            _check_nonempty(input, range(1, input.dim()), name)
        outs = (1, o)          # PyTorch runs it as the 2-D op with H = 1
        x_shape = input._shape[:-1] + (1, input._shape[-1])
        kd = 2
    else:
        if isinstance(output_size, (list, tuple)):  # F.adaptive_*_pool{2,3}d's _list_with_default
            if input.dim() <= len(output_size):
                raise ValueError(f"Input dimension should be at least {len(output_size) + 1}")
            tail = input._shape[-len(output_size):] if output_size else ()
            outs = tuple(int(d) if o is None else int(o) for o, d in zip(output_size, tail))
        else:
            outs = (int(output_size),) * nd
        x_shape = input._shape
        kd = nd
    kname = f"adaptive_{'avg' if mode == AVG else 'max'}_pool{kd}d"
    dims = (3, 4) if kd == 2 else (4, 5)
    if mode == AVG:
        if len(outs) != kd:
            raise RuntimeError(f"{kname}: output_size must be {kd}")
        if any(o < 0 for o in outs):
            got = f"{outs[0]}, {outs[1]}" if kd == 2 else f"{outs[0]}, {outs[1]},{outs[2]}"
            raise RuntimeError(f"{kname}: elements of output_size must be greater than or equal to 0 but received "
                               f"{{{got}}}")
        if len(x_shape) not in dims:
            raise RuntimeError(f"{kname}(): Expected {dims[0]}D or {dims[1]}D tensor, but got {list(x_shape)}")
        _check_nonempty_shape(x_shape, range(len(x_shape) - kd, len(x_shape)) if kd == 2 else
                              range(1, len(x_shape)), kname)
    else:
        if len(x_shape) not in dims:
            raise RuntimeError(f"{kname}(): Expected {dims[0]}D or {dims[1]}D tensor, but got: {list(x_shape)}")
        _check_nonempty_shape(x_shape, range(1, len(x_shape)), kname)
        if len(outs) != kd:
            raise RuntimeError(f"{kname}(): internal error: output_size.size() must be {kd}")
        if any(o < 0 for o in outs):
            shape = list(x_shape[:-kd]) + list(outs)
            neg = next(o for o in outs if o < 0)
            raise RuntimeError(f"Trying to create tensor with negative dimension {neg}: {shape}")
    return outs[-nd:]


def _check_nonempty(input, dims, name):
    _check_nonempty_shape(input._shape, dims, name)


def _check_nonempty_shape(shape, dims, name):
    for i in dims:
        if shape[i] == 0:
            raise RuntimeError(f"{name}(): Expected input to have non-zero size for non-batch dimensions, but input "
                               f"has sizes {list(shape)} with dimension {i} being empty")


def _adaptive(input, output_size, nd, mode, return_indices, name):
    if nd == 3:   # the 3-D kernels check the dtype after the shapes
        _check_tensor(input, name)
        osz = _adaptive_sizes(input, output_size, nd, mode, name)
        _check_input(input, nd, f"{name}_cpu")
    else:
        _check_input(input, nd, name)
        osz = _adaptive_sizes(input, output_size, nd, mode, name)
    if 0 in osz:
        shape = input._shape[:-nd] + tuple(osz)
        out = _empty(shape, input._dtype, input._storage.device)
        return (out, _empty(shape, D.int64, input._storage.device)) if mode == MAX and return_indices else out
    out, idx = _run(input, _Pool(mode, True, _ADAPTIVE_GEOM, nd), osz)
    return (out, idx) if mode == MAX and return_indices else out


def adaptive_avg_pool1d(input, output_size):
    return _adaptive(input, output_size, 1, AVG, False, "adaptive_avg_pool1d")


def adaptive_avg_pool2d(input, output_size):
    return _adaptive(input, output_size, 2, AVG, False, "adaptive_avg_pool2d")


def adaptive_avg_pool3d(input, output_size):
    return _adaptive(input, output_size, 3, AVG, False, "adaptive_avg_pool3d")


def adaptive_max_pool1d(input, output_size, return_indices=False):
    return _adaptive(input, output_size, 1, MAX, return_indices, "adaptive_max_pool1d")


def adaptive_max_pool2d(input, output_size, return_indices=False):
    return _adaptive(input, output_size, 2, MAX, return_indices, "adaptive_max_pool2d")


def adaptive_max_pool3d(input, output_size, return_indices=False):
    return _adaptive(input, output_size, 3, MAX, return_indices, "adaptive_max_pool3d")


def adaptive_max_pool1d_with_indices(input, output_size, return_indices=False):
    return adaptive_max_pool1d(input, output_size, True)


def adaptive_max_pool2d_with_indices(input, output_size, return_indices=False):
    return adaptive_max_pool2d(input, output_size, True)


def adaptive_max_pool3d_with_indices(input, output_size, return_indices=False):
    return adaptive_max_pool3d(input, output_size, True)


# ---- power-average pooling -----------------------------------------------------------------------------------

def _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, nd):
    """F.lp_pool{1,2,3}d: (sum over the window of x**p) ** (1/p) as avg_pool · window size; p = ±inf is max
    pooling of |x| (negated for −inf)."""
    max_pool, avg_pool = ((max_pool1d, avg_pool1d), (max_pool2d, avg_pool2d), (max_pool3d, avg_pool3d))[nd - 1]
    if isinstance(norm_type, (int, float)):
        if norm_type == float("inf"):
            return max_pool(input.abs(), kernel_size, stride, 0, 1, ceil_mode)
        if norm_type == -float("inf"):
            return -max_pool(-input.abs(), kernel_size, stride, 0, 1, ceil_mode)
    if stride is not None:
        out = avg_pool(input.pow(norm_type), kernel_size, stride, 0, ceil_mode)
    else:
        out = avg_pool(input.pow(norm_type), kernel_size, padding=0, ceil_mode=ceil_mode)
    window = kernel_size
    if nd > 1:
        window = 1
        for v in ntuple(kernel_size, nd):
            window *= v
    return (out.sign() * out.abs().relu()).mul(window).pow(1.0 / norm_type)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    return _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, 1)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    return _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, 2)


def lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    return _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, 3)


# The kernel pools call pool forward and pool_backward in the backward they record (_pool_forward_back); the
# output keeps the input's dtype (max and avg pooling also take integers, adaptive pooling floats only)
for _n, _f in [("max_pool1d", max_pool1d), ("max_pool2d", max_pool2d), ("max_pool3d", max_pool3d),
               ("avg_pool1d", avg_pool1d), ("avg_pool2d", avg_pool2d), ("avg_pool3d", avg_pool3d),
               ("adaptive_avg_pool1d", adaptive_avg_pool1d), ("adaptive_avg_pool2d", adaptive_avg_pool2d),
               ("adaptive_avg_pool3d", adaptive_avg_pool3d), ("adaptive_max_pool1d", adaptive_max_pool1d),
               ("adaptive_max_pool2d", adaptive_max_pool2d), ("adaptive_max_pool3d", adaptive_max_pool3d)]:
    reg(_n, _f, "pooling", primitive="pool/pool_backward", dtype="same", derivative=backward(_pool_forward_back))
# composites: the *_with_indices forms call the pools above; lp pooling is avg_pool of a power (integers -> float)
for _n, _f, _dtype in [("max_pool1d_with_indices", max_pool1d_with_indices, "same"),
                       ("max_pool2d_with_indices", max_pool2d_with_indices, "same"),
                       ("max_pool3d_with_indices", max_pool3d_with_indices, "same"),
                       ("adaptive_max_pool1d_with_indices", adaptive_max_pool1d_with_indices, "same"),
                       ("adaptive_max_pool2d_with_indices", adaptive_max_pool2d_with_indices, "same"),
                       ("adaptive_max_pool3d_with_indices", adaptive_max_pool3d_with_indices, "same"),
                       ("lp_pool1d", lp_pool1d, "float"), ("lp_pool2d", lp_pool2d, "float"),
                       ("lp_pool3d", lp_pool3d, "float")]:
    reg(_n, _f, "pooling", dtype=_dtype, opinfo=())


# ---- max unpooling: the inverse of max pooling with indices ---------------------------------------------------

def _unpool_output_size(input, kernel_size, stride, padding, output_size):
    """The spatial output size: (in − 1)·stride + kernel − 2·padding, or output_size (optionally with its batch and
    channel dims) if it lies within one stride of that."""
    nd = len(kernel_size)
    default = [(input._shape[input.dim() - nd + d] - 1) * stride[d] + kernel_size[d] - 2 * padding[d]
               for d in range(nd)]
    if output_size is None:
        size = default
    else:
        if len(output_size) == nd + 2:
            output_size = output_size[2:]
        if len(output_size) != nd:
            raise ValueError(f"output_size should be a sequence containing {nd} or {nd + 2} elements, but it has a "
                             f"length of '{len(output_size)}'")
        for d in range(nd):
            lo, hi = default[d] - stride[d], default[d] + stride[d]
            if not lo < output_size[d] < hi:
                raise ValueError(f'invalid output_size "{output_size}" (dim {d} must be between {lo} and {hi})')
        size = [int(s) for s in output_size]
    for d in range(nd):
        if size[d] < 0:
            raise ValueError(f"max_unpooling: output_size must contain non-negative spatial dimensions, but got "
                             f"output_size[{d}]={size[d]}")
    return size


def _max_unpool(input, indices, size, name):
    """Scatter each input value to its flat index within its (N, C) plane of the zero output of spatial `size`;
    the gradient is the gather at the same indices (scatter's derivative)."""
    nsp = len(size)
    if input.dim() not in (nsp + 1, nsp + 2):
        raise RuntimeError(f"Input to max_unpooling{nsp}d should be a {nsp + 1}d or {nsp + 2}d Tensor, but got a "
                           f"tensor with {input.dim()} dimensions.")
    if indices._dtype is not D.int64:
        raise RuntimeError("elements in indices should be type int64" +
                           (f" but got: {D.scalar_type_name(indices._dtype)}" if nsp == 2 else ""))
    if indices._shape != input._shape:
        raise RuntimeError(f"Expected shape of indices to be same as that of the input tensor ({list(input._shape)}) "
                           f"but got indices tensor with shape: {list(indices._shape)}")
    batched = input.dim() == nsp + 2
    for d in range(1 if batched else 0, input.dim()):
        if input._shape[d] == 0:
            raise RuntimeError(f"max_unpooling{nsp}d_forward_out_cpu(): Expected input to have non-zero size for "
                               f"non-batch dimensions, but got {list(input._shape)} with dimension {d} being empty.")
    if not input._dtype.is_floating_point:
        raise NotImplementedError(f"\"{name}\" not implemented for '{D.scalar_type_name(input._dtype)}'")
    x = input if batched else input.unsqueeze(0)
    idx = indices if batched else indices.unsqueeze(0)
    n, c = x._shape[0], x._shape[1]
    plane = 1
    for s in size:
        plane *= s
    flat_idx = idx.reshape(n, c, -1)
    invalid = flat_idx[(flat_idx < 0) | (flat_idx >= plane)]
    if invalid.numel():
        raise RuntimeError(f"Found an invalid max index: {int(invalid[0].item())} (output volumes are of size "
                           f"{'x'.join(str(s) for s in size)})")
    out = x.new_zeros((n, c, plane)).scatter(2, flat_idx, x.reshape(n, c, -1)).reshape((n, c) + tuple(size))
    return out if batched else out.squeeze(0)


def _unpool_args(kernel_size, stride, padding, nd):
    k = ntuple(kernel_size, nd)
    return k, (ntuple(stride, nd) if stride is not None else k), ntuple(padding, nd)


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    k, s, p = _unpool_args(kernel_size, stride, padding, 1)
    size = _unpool_output_size(input, k, s, p, output_size)
    # PyTorch runs it as the 2-D op with W = 1 (its errors name max_unpool2d)
    return _max_unpool(input.unsqueeze(-1), indices.unsqueeze(-1), size + [1], "max_unpool2d").squeeze(-1)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    k, s, p = _unpool_args(kernel_size, stride, padding, 2)
    return _max_unpool(input, indices, _unpool_output_size(input, k, s, p, output_size), "max_unpool2d")


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    k, s, p = _unpool_args(kernel_size, stride, padding, 3)
    if input.dim() not in (4, 5):
        raise RuntimeError(f"Input to max_unpooling3d should be a 4d or 5d Tensor, but got a tensor with "
                           f"{input.dim()} dimensions.")
    if any(v <= 0 for v in s):
        raise RuntimeError(f"strides should be greater than zero, but got stride: {list(s)}")
    return _max_unpool(input, indices, _unpool_output_size(input, k, s, p, output_size), "max_unpool3d")


# composites of scatter (and its gather derivative); floating inputs only, the input's dtype out
for _n, _f in [("max_unpool1d", max_unpool1d), ("max_unpool2d", max_unpool2d), ("max_unpool3d", max_unpool3d)]:
    reg(_n, _f, "pooling", dtype="same")
