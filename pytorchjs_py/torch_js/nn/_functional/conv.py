"""Convolutions as im2col + the SIMD gemm, and unfold/fold.

Two primitives, each the other's derivative (so double backward works): `_im2col` (kernel tjs_im2col) and
`_col2im` (tjs_col2im), both over three spatial dims: 2-D problems run with D = 1, 1-D ones also with H = 1
(`_lift` views the input and weight so). A convolution lays the columns out as (C·KD·KH·KW, N, L): with groups g
that buffer is a (g, Cg·KD·KH·KW, N·L) batch of matrices, so the whole convolution is one batched gemm (weight
(g, Og, Cg·KD·KH·KW) as A, no per-image copy of the weight) and the weight gradient comes out of the gemm's backward
already summed over the batch.
"""

from ...ops._util import GRAD_ENABLED, not_implemented_for, record, warn_at_caller
from ...ops._registry import backward
from ...ops.linalg import gemm
from ...ops.linalg.products import gemm_backward  # the backward gemm records, named in the declarations
from ..._tensor import _empty
from ._common import D, Tensor, as_op_result, ntuple, reg
from .misc import pad

_HALF = (D.float16, D.bfloat16)


# ---- primitives ----------------------------------------------------------------------------------------------

def _im2col_back(ctx, g):
    geom, layout, xshape = ctx.attrs
    if layout == "rnl":
        g = g.permute(1, 0, 2)
    return _col2im(g, geom, xshape)


def _prod(vals):
    r = 1
    for v in vals:
        r *= v
    return r


def _im2col(x, geom, layout="nrl"):
    """x (N, C, D, H, W) -> columns (N, C·KD·KH·KW, OD·OH·OW) ("nrl", F.unfold's layout) or (C·KD·KH·KW, N,
    OD·OH·OW) ("rnl")."""
    n, c = x._shape[0], x._shape[1]
    r, l = c * _prod(geom[:3]), _prod(geom[12:])
    if layout == "nrl":
        out = _empty((n, r, l), x._dtype, x._storage.device)
        view = out
    else:
        out = _empty((r, n, l), x._dtype, x._storage.device)
        view = out.detach().permute(1, 0, 2)
    if out.numel():
        out._storage.backend.im2col(view, x, geom)
    if GRAD_ENABLED[0] and x._requires_grad:
        record("Im2ColBackward0", _im2col_back, (x,), (out,), attrs=(geom, layout, x._shape))
    return out


def _col2im_back(ctx, g):
    geom, = ctx.attrs
    return _im2col(g, geom, "nrl")


def _col2im(cols, geom, xshape):
    """cols (N, C·KD·KH·KW, L), any strides -> volume (N, C, D, H, W): the sum of the entries that read each
    voxel."""
    out = _empty(tuple(xshape), cols._dtype, cols._storage.device)
    if out.numel():
        out._storage.backend.col2im(out, cols, geom)
    if GRAD_ENABLED[0] and cols._requires_grad:
        record("Col2ImBackward0", _col2im_back, (cols,), (out,), attrs=(geom,))
    return out


# ---- geometry ------------------------------------------------------------------------------------------------

def _out_size(i, k, s, p, d):
    return (i + 2 * p - d * (k - 1) - 1) // s + 1


def _geom(sizes, k, s, p, d):
    """The kernels' 15-int geometry for three spatial dims: kernel, stride, padding, dilation, output size."""
    o = tuple(_out_size(*v) for v in zip(sizes, k, s, p, d))
    return tuple(k) + tuple(s) + tuple(p) + tuple(d) + o


def _lift(t, nd):
    """A (N, C, *spatial) view with nd spatial dims as one with three (size-1 dims in front)."""
    for _ in range(3 - nd):
        t = t.unsqueeze(2)
    return t


def _lift_param(v, nd, fill):
    return (fill,) * (3 - nd) + tuple(v)


def _drop(t, nd):
    """_lift's inverse on a result."""
    for _ in range(3 - nd):
        t = t.squeeze(2)
    return t


def _check_positive(name, vals):
    for v in vals:
        if v <= 0:
            raise RuntimeError(f"non-positive {name} is not supported")


# ---- unfold / fold -------------------------------------------------------------------------------------------

def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    k, d, p, s = ntuple(kernel_size, 2), ntuple(dilation, 2), ntuple(padding, 2), ntuple(stride, 2)
    if input.dim() not in (3, 4):
        raise RuntimeError(f"Input Error: Only 3D or 4D input Tensors are supported (got {input.dim()}D)")
    batched = input.dim() == 4
    x = input if batched else input.unsqueeze(0)
    _check_positive("kernel size", k)
    _check_positive("stride", s)
    _check_positive("dilation", d)
    geom = _geom((1,) + x._shape[2:], (1,) + k, (1,) + s, (0,) + p, (1,) + d)
    if geom[13] < 1 or geom[14] < 1:
        raise RuntimeError(f"Given input with spatial size ({x._shape[2]}, {x._shape[3]}), kernel_size={k}, "
                           f"dilation={d}, padding={p}, calculated shape of the array of sliding blocks as "
                           f"({geom[13]}, {geom[14]}), but its components must be at least one.")
    r = _im2col(_lift(x, 2), geom, "nrl")
    return r if batched else r.squeeze(0)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    o, k, d = ntuple(output_size, 2), ntuple(kernel_size, 2), ntuple(dilation, 2)
    p, s = ntuple(padding, 2), ntuple(stride, 2)
    if input.dim() not in (2, 3):
        raise RuntimeError(f"Input Error: Only unbatched (2D) or batched (3D) input Tensors are supported "
                           f"(got {input.dim()}D)")
    if not input._dtype.is_floating_point:
        raise not_implemented_for("col2im_out_cpu", input._dtype)
    batched = input.dim() == 3
    cols = input if batched else input.unsqueeze(0)
    kk = k[0] * k[1]
    if cols._shape[1] % kk:
        raise RuntimeError(f"Expected size of input's dimension 1 to be divisible by the product of kernel_size, "
                           f"but got input.size(1)={cols._shape[1]} and kernel_size={k}")
    geom = _geom((1,) + o, (1,) + k, (1,) + s, (0,) + p, (1,) + d)
    oh, ow = geom[13], geom[14]
    if oh * ow != cols._shape[2]:
        raise RuntimeError(f"Given output_size={o}, kernel_size={k}, dilation={d}, padding={p}, stride={s}, "
                           f"expected size of input's dimension 2 to match the calculated number of sliding blocks "
                           f"{oh} * {ow} = {oh * ow}, but got input.size(2)={cols._shape[2]}.")
    r = as_op_result(_col2im(cols, geom, (cols._shape[0], cols._shape[1] // kk, 1, o[0], o[1])).squeeze(2),
                     "Col2ImBackward0", (input,))
    return r if batched else as_op_result(r.squeeze(0), "Col2ImBackward0", (input,))


# ---- convolution ---------------------------------------------------------------------------------------------
# One path for every convolution, in at::_convolution's order: the binding's argument checks, the parameters
# expanded to the weight's dims, check_shape_forward, then the kernel's own checks (dtypes, sizes) and the work
# on three spatial dims (`_lift`).

def _binding_list(v, nd):
    """The Python binding's IntArrayRef[nd]: an int repeated nd times, a sequence as given."""
    return [int(x) for x in v] if isinstance(v, (list, tuple)) else [int(v)] * nd


def _expand_param(v, name, dims):
    """at::native expand_param_if_needed: a list of 1 or `dims` ints -> a `dims`-tuple."""
    if len(v) == 1:
        return tuple(v) * dims
    if len(v) != dims:
        raise RuntimeError(f"expected {name} to be a single integer value or a list of {dims} values to match the "
                           f"convolution dimensions, but got {name}={list(v)}")
    return tuple(v)


def _check_shape_forward(x, weight, bias, s, p, op, d, transposed, groups):
    """at::native check_shape_forward, in PyTorch's order."""
    if any(v < 0 for v in p):
        raise RuntimeError("negative padding is not supported")
    if any(v < 0 for v in op):
        raise RuntimeError("negative output_padding is not supported")
    if any(v <= 0 for v in s):
        raise RuntimeError("non-positive stride is not supported")
    if any(v < 0 for v in d):
        raise RuntimeError("dilation should be greater than zero")
    ws = list(weight._shape)
    k = weight.dim()
    if x.dim() != k:
        raise RuntimeError(f"Expected {k}-dimensional input for {k}-dimensional weight {ws}, but got {x.dim()}-"
                           f"dimensional input of size {list(x._shape)} instead")
    if ws[0] < groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be at least {groups} at dimension 0, but got "
                           f"weight of size {ws} instead")
    if ws[0] % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, but "
                           f"got weight of size [{ws}] instead")
    if not transposed:
        if x._shape[1] != ws[1] * groups:
            raise RuntimeError(f"Given groups={groups}, weight of size {ws}, expected input{list(x._shape)} to have "
                               f"{ws[1] * groups} channels, but got {x._shape[1]} channels instead")
        if bias is not None and (bias.dim() != 1 or bias._shape[0] != ws[0]):
            raise RuntimeError(f"Given weight of size {ws}, expected bias to be 1-dimensional with {ws[0]} elements, "
                               f"but got bias of size {list(bias._shape)} instead")
        return
    if x._shape[1] != ws[0]:
        raise RuntimeError(f"Given transposed=1, weight of size {ws}, expected input{list(x._shape)} to have {ws[0]} "
                           f"channels, but got {x._shape[1]} channels instead")
    if bias is not None and (bias.dim() != 1 or bias._shape[0] != ws[1] * groups):
        raise RuntimeError(f"Given transposed=1, weight of size {ws}, expected bias to be 1-dimensional with "
                           f"{ws[1] * groups} elements, but got bias of size {list(bias._shape)} instead")


def _uses_onednn(x, weight, s, op, d, groups, transposed):
    """Whether PyTorch's CPU build runs this float convolution through oneDNN (ConvParams::use_mkldnn, with more
    than one thread): that path's checks word some errors differently."""
    if x._dtype is not D.float32 or (transposed and any(a >= b for a, b in zip(op, s))):
        return False
    ws, xs = weight._shape, x._shape
    big_kernel = len(ws) >= 4 and ws[-1] > 3 and ws[-2] > 3
    return groups > 1 or big_kernel or xs[0] > 1 or _prod(xs[:4]) > 20480


def _check_conv_dtypes(input, weight, bias, nd, transposed, onednn, needs_columns):
    """The kernels' dtype checks. Floating types everywhere; integers: int64 for the transposed kernels, every one
    but bool for the others (computed here in int64: the wrapped result is the same)."""
    bias_differs = bias is not None and bias._dtype is not input._dtype
    if bias_differs and not transposed:   # checked before the weight
        raise RuntimeError(f"Input type ({_tname(input)}) and bias type ({_tname(bias)}) should be the same")
    if weight._dtype is not input._dtype:
        if onednn:
            raise RuntimeError(f"Input type ({input.type()}) and weight type ({weight.type()}) should be the same or "
                               f"input should be a MKLDNN tensor and weight is a dense tensor")
        raise RuntimeError(f"expected scalar type {D.scalar_type_name(input._dtype)} but found "
                           f"{D.scalar_type_name(weight._dtype)}")
    if bias_differs:   # transposed: the 1-D and 2-D kernels add the bias in the input's dtype
        if onednn:
            raise RuntimeError(f"Input type ({input.type()}) and bias type ({bias.type()}) should be the same or "
                               f"input should be a MKLDNN tensor and bias is a dense tensor")
        if nd == 3:
            raise RuntimeError(f"expected scalar type {D.scalar_type_name(input._dtype)} but found "
                               f"{D.scalar_type_name(bias._dtype)}")
    dt = input._dtype
    if dt.is_floating_point or dt is D.int64 or (not transposed and dt is not D.bool_):
        return
    if transposed:
        kernel = f"slow_conv_transpose{max(nd, 2)}d_out_cpu"
    elif nd == 3:   # slow_conv3d dispatches its column copy first, when it needs one
        kernel = "compute_columns3d" if needs_columns else "slow_conv3d_cpu"
    else:
        kernel = "slow_conv2d_cpu"
    raise not_implemented_for(kernel, dt)


_CPP_TYPE_NAMES = {"float32": "float", "float64": "double", "float16": "c10::Half", "bfloat16": "c10::BFloat16",
                   "int64": "long int", "int32": "int", "int16": "short int", "int8": "signed char",
                   "uint8": "unsigned char", "bool": "bool"}


def _tname(t):
    """The C++ type name PyTorch's input/bias check prints."""
    return _CPP_TYPE_NAMES.get(t._dtype.name, t._dtype.name)


def _same_padding(k, d):
    """'same': total padding d·(k−1) per dim; the odd extra goes on the right (PyTorch pads the input for it)."""
    sym, extra = [], []
    for kk, dd in zip(k, d):
        total = dd * (kk - 1)
        sym.append(total // 2)
        extra.append(total - 2 * (total // 2))
    return tuple(sym), tuple(extra)


def _per_channel(vals):
    return " x ".join(str(v) for v in vals)


def _compute_dtype(dtype):
    """The dtype the gemm runs in: halves in float32 (as PyTorch's CPU kernels accumulate), small ints in int64."""
    return D.float32 if dtype in _HALF else D.int64 if not dtype.is_floating_point else dtype


def _conv_core(x, weight, bias, s, p, d, groups, shown):
    """x (N, C, D, H, W), weight (O, C/g, KD, KH, KW), 3-tuples s, p, d; `shown`: how many trailing spatial dims
    PyTorch's messages name."""
    n, c = x._shape[:2]
    o = weight._shape[0]
    k = weight._shape[2:]
    sizes = x._shape[2:]
    padded = tuple(i + 2 * pp for i, pp in zip(sizes, p))
    span = tuple(dd * (kk - 1) + 1 for kk, dd in zip(k, d))
    if any(a < b for a, b in zip(padded, span)):
        raise RuntimeError(f"Calculated padded input size per channel: ({_per_channel(padded[-shown:])}). Kernel "
                           f"size: ({_per_channel(span[-shown:])}). Kernel size can't be greater than actual input "
                           f"size")
    geom = _geom(sizes, k, s, p, d)
    osz = geom[12:]
    l = _prod(osz)
    r = c * _prod(k)
    if (n > 1 and groups == 1 and min(o, r, l) > 1 and o * r * l > _GEMM_DIRECT_MAX
            and x._dtype in (D.float32, D.float64) and weight._dtype is x._dtype
            and x._storage.device.type == "cpu" and weight._storage.device is x._storage.device
            and not (GRAD_ENABLED[0] and (x._requires_grad or weight._requires_grad))):
        return _conv_by_images(x, weight, bias, geom, n, o, r, l, osz)
    if all(v == 1 for v in k) and all(v == 1 for v in s) and not any(p):
        cols = x.permute(1, 0, 2, 3, 4).reshape(c, n * l)      # a view when N == 1
    else:
        cols = _im2col(x, geom, "rnl").view(r, n * l)
    og = o // groups
    a = weight.reshape(groups, og, r // groups)
    b = cols.view(groups, r // groups, n * l)
    y = gemm(a, b)                                              # (g, Og, N·L) = (O, N, L)
    y = y.view((o, n) + osz).permute(1, 0, 2, 3, 4)
    if n > 1:
        y = y.contiguous()
    if bias is not None:
        y = y + bias.view(1, o, 1, 1, 1)
    return y


# columns (elements) an im2col chunk of _conv_by_images holds: about 1 MiB of float32, so the gemm reads them from
# the cache im2col wrote them to
_CHUNK_COLUMNS = 1 << 18
# wasm_ext/gemm.c's DIRECT_MAX: an image's product above it (and with o, r, l > 1) takes tjs_gemm's blocked path, as
# the whole batch's does, so _conv_by_images gives the one-gemm path's bits
_GEMM_DIRECT_MAX = 4096


def _conv_by_images(x, weight, bias, geom, n, o, r, l, osz):
    """A convolution of several images with no autograd (CPU, groups 1, float32/float64): the columns of a few
    images at a time (F.unfold's layout), each batch of them multiplied by the weight straight into (N, O, L), where
    one (r, N·L) buffer for all images went through memory and the (O, N, L) product needed a permuted copy (ONet's
    conv2 at batch 32: 10.8 -> 7.4 ms natively). Same bits as the one-gemm path: both take tjs_gemm's blocked
    kernel (see _GEMM_DIRECT_MAX), whose k order depends on K alone."""
    y = _empty((n, o) + osz, x._dtype, x._storage.device)
    a = weight.reshape(o, r)
    a_strides = (0,) + a._stride
    gemm_kernel = y._storage.backend.gemm
    k = geom[:3]
    if all(v == 1 for v in k + geom[3:6]) and not any(geom[6:9]) and x.is_contiguous():
        # 1x1, stride 1, no padding: each image (C, L) is its own columns
        gemm_kernel(y, a, x, n, o, l, r, a_strides, (r * l, l, 1))
    else:
        per = max(1, _CHUNK_COLUMNS // (r * l))
        for n0 in range(0, n, per):
            nb = min(per, n - n0)
            cols = _im2col(x.narrow(0, n0, nb), geom, "nrl")
            gemm_kernel(y.narrow(0, n0, nb), a, cols, nb, o, l, r, a_strides, (r * l, l, 1))
    if bias is not None:
        y.add_(bias.view(1, o, 1, 1, 1))
    return y


_DIM_NAMES = ("depth", "height", "width")


def _conv_transpose_core(x, weight, bias, s, p, op, d, groups, shown):
    """x (N, Cin, D, H, W), weight (Cin, Cout/g, KD, KH, KW), 3-tuples: the adjoint of the convolution with the same
    geometry (plus output_padding at the far end); `shown` as _conv_core's."""
    n, cin = x._shape[:2]
    sizes = x._shape[2:]
    cog = weight._shape[1]
    k = weight._shape[2:]
    if any(a >= b and a >= c for a, b, c in zip(op, s, d)):
        names = _DIM_NAMES[-shown:]
        parts = [f"output_padding_{m}: {v}" for m, v in zip(names, op[-shown:])]
        parts += [f"stride_{m}: {v}" for m, v in zip(names, s[-shown:])]
        parts += [f"dilation_{m}: {v}" for m, v in zip(names, d[-shown:])]
        raise RuntimeError("output padding must be smaller than either stride or dilation, but got " + " ".join(parts))
    osz = tuple((i - 1) * ss - 2 * pp + dd * (kk - 1) + oo + 1 for i, ss, pp, dd, kk, oo in zip(sizes, s, p, d, k, op))
    if any(v <= 0 for v in osz):
        raise RuntimeError(f"Given input size per channel: ({_per_channel(sizes[-shown:])}). Calculated output size "
                           f"per channel: ({_per_channel(osz[-shown:])}). Output size is too small")
    cout = cog * groups
    cing = cin // groups
    l = _prod(sizes)
    kk = _prod(k)
    xr = x.permute(1, 0, 2, 3, 4).reshape(groups, cing, n * l)    # (g, Cin_g, N·L)
    wt = weight.reshape(groups, cing, cog * kk).transpose(1, 2)   # (g, Cout_g·KK, Cin_g)
    cols = gemm(wt, xr)                                           # (g, Cout_g·KK, N·L) = (Cout·KK, N, L)
    cols = cols.view(cout * kk, n, l).permute(1, 0, 2)
    geom = tuple(k) + tuple(s) + tuple(p) + tuple(d) + tuple(sizes)
    y = _col2im(cols, geom, (n, cout) + osz)
    if bias is not None:
        y = y + bias.view(1, cout, 1, 1, 1)
    return y


def _convolution(input, weight, bias, stride, padding, dilation, transposed, output_padding, groups, nd, name):
    if not isinstance(input, Tensor) or not isinstance(weight, Tensor):
        raise TypeError(f"{name}(): argument 'input' and 'weight' must be Tensor")
    if input.dim() not in (nd + 1, nd + 2):
        raise RuntimeError(f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to {name}, but got input "
                           f"of size: {list(input._shape)}")
    if isinstance(padding, str) and transposed:
        raise TypeError(f"{name}(): argument 'padding' must be tuple of ints, not str")
    batched = input.dim() == nd + 2
    x = input if batched else input.unsqueeze(0)
    if isinstance(padding, str) and padding not in ("valid", "same"):
        raise RuntimeError(f"Invalid padding string: '{padding}'")
    if padding == "same":  # at::_convolution_mode -> conv_padding_same
        if weight.dim() <= 2:
            raise RuntimeError("weight should have at least three dimensions")
        if groups <= 0:
            raise RuntimeError("non-positive groups is not supported")
        if x.dim() != weight.dim():
            k = weight.dim()
            raise RuntimeError(f"Expected {k}-dimensional input for {k}-dimensional weight{list(weight._shape)}, but "
                               f"got {x.dim()}-dimensional input of size {list(x._shape)} instead")
        if any(v != 1 for v in _binding_list(stride, nd)):
            raise RuntimeError("padding='same' is not supported for strided convolutions")
    # at::_convolution
    wnd = weight.dim() - 2
    if wnd <= 0:
        raise RuntimeError("weight should have at least three dimensions")
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    s = _expand_param(_binding_list(stride, nd), "stride", wnd)
    if padding == "valid":
        p = (0,) * wnd
    elif padding == "same":
        p = None   # from the kernel and dilation, below
    else:
        p = _expand_param(_binding_list(padding, nd), "padding", wnd)
    d = _expand_param(_binding_list(dilation, nd), "dilation", wnd)
    op = _expand_param(_binding_list(output_padding, nd), "output_padding", wnd) if transposed else (0,) * wnd
    if p is None:
        p, extra = _same_padding(tuple(weight._shape[2:]), d)
        if any(extra):
            warn_at_caller("Using padding='same' with even kernel lengths and odd dilation may require a zero-padded "
                           "copy of the input be created")
            pads = []
            for e in reversed(extra):
                pads += [0, e]
            x = pad(x, pads)
    _check_shape_forward(x, weight, bias, s, p, op, d, transposed, groups)
    onednn = _uses_onednn(x, weight, s, op, d, groups, transposed)
    needs_columns = any(v != 1 for v in weight._shape[2:] + s) or any(p)
    _check_conv_dtypes(input, weight, bias, nd, transposed, onednn, needs_columns)
    if any(v == 0 for v in d):
        if transposed or onednn:
            raise RuntimeError("non-positive dilation is not supported")
        # (the 2-D CPU kernel's check; 1-D convolutions run there as 2-D with H = 1)
        raise RuntimeError(f"dilation should be greater than zero, but got {([1] if nd == 1 else []) + list(d)}")
    in_dtype = input._dtype
    cdt = _compute_dtype(in_dtype)
    if cdt is not in_dtype:
        x, weight = x.to(cdt), weight.to(cdt)
    if bias is not None and bias._dtype is not cdt:
        bias = bias.to(cdt)
    xl, wl = _lift(x, nd), _lift(weight, nd)
    s3, p3, d3 = _lift_param(s, nd, 1), _lift_param(p, nd, 0), _lift_param(d, nd, 1)
    if transposed:
        # 1-D transposed convolutions run as 2-D in PyTorch: their messages name two dims
        y = _conv_transpose_core(xl, wl, bias, s3, p3, _lift_param(op, nd, 0), d3, groups, max(nd, 2))
    else:
        y = _conv_core(xl, wl, bias, s3, p3, d3, groups, nd)
    y = _drop(y, nd)
    if y._dtype is not in_dtype:
        y = y.to(in_dtype)
    y = as_op_result(y, "ConvolutionBackward0", (input, weight, bias))
    return y if batched else y.squeeze(0)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return _convolution(input, weight, bias, stride, padding, dilation, False, 0, groups, 1, "conv1d")


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return _convolution(input, weight, bias, stride, padding, dilation, False, 0, groups, 2, "conv2d")


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return _convolution(input, weight, bias, stride, padding, dilation, False, 0, groups, 3, "conv3d")


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    return _convolution(input, weight, bias, stride, padding, dilation, True, output_padding, groups, 1,
                        "conv_transpose1d")


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    return _convolution(input, weight, bias, stride, padding, dilation, True, output_padding, groups, 2,
                        "conv_transpose2d")


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    return _convolution(input, weight, bias, stride, padding, dilation, True, output_padding, groups, 3,
                        "conv_transpose3d")


# unfold / fold are the im2col / col2im primitives; a convolution is im2col then a batched gemm (a 1×1 stride-1
# convolution skips im2col), a transposed one gemm then col2im. Each records the backward of the primitives it
# runs. Floating inputs and integers (transposed: int64 only) for the convolutions, the input's dtype out; unfold
# moves data of any dtype.
reg("unfold", unfold, "conv", primitive="im2col", dtype="any", derivative=backward(_im2col_back))
reg("fold", fold, "conv", primitive="col2im", dtype="same", derivative=backward(_col2im_back), opinfo=())
for _n, _f in [("conv1d", conv1d), ("conv2d", conv2d), ("conv3d", conv3d)]:
    reg(_n, _f, "conv", primitive="im2col/gemm", dtype="same", derivative=backward(_im2col_back, gemm_backward))
for _n, _f in [("conv_transpose1d", conv_transpose1d), ("conv_transpose2d", conv_transpose2d),
               ("conv_transpose3d", conv_transpose3d)]:
    reg(_n, _f, "conv", primitive="gemm/col2im", dtype="same", derivative=backward(gemm_backward, _col2im_back))
