"""Convolutions as im2col + the SIMD gemm, and unfold/fold.

Two primitives, each the other's derivative (so double backward works): `_im2col` (kernel tjs_im2col) and
`_col2im` (tjs_col2im). conv2d lays the columns out as (C·KH·KW, N, L): with groups g that buffer is a
(g, Cg·KH·KW, N·L) batch of matrices, so the whole convolution is one batched gemm (weight (g, Og, Cg·KH·KW)
as A, no per-image copy of the weight) and the weight gradient comes out of the gemm's backward already summed
over the batch. 1-D convolutions run as 2-D with H = 1.
"""
from ...ops._util import GRAD_ENABLED, not_implemented_for, record
from ...ops._registry import backward
from ...ops.linalg import gemm
from ...ops.linalg.products import gemm_backward  # the backward gemm records, named in the declarations
from ..._tensor import _empty
from ._common import D, Tensor, ntuple, reg
from .misc import pad

_HALF = (D.float16, D.bfloat16)


# ---- primitives ----------------------------------------------------------------------------------------------

def _im2col_back(ctx, g):
    geom, layout, xshape = ctx.attrs
    if layout == "rnl":
        g = g.permute(1, 0, 2)
    return _col2im(g, geom, xshape)


def _im2col(x, geom, layout="nrl"):
    """x (N, C, H, W) -> columns (N, C·KH·KW, OH·OW) ("nrl", F.unfold's layout) or (C·KH·KW, N, OH·OW) ("rnl")."""
    n, c = x._shape[0], x._shape[1]
    kh, kw, oh, ow = geom[0], geom[1], geom[8], geom[9]
    r, l = c * kh * kw, oh * ow
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
    """cols (N, C·KH·KW, L), any strides -> image (N, C, H, W): the sum of the entries that read each pixel."""
    out = _empty(tuple(xshape), cols._dtype, cols._storage.device)
    if out.numel():
        out._storage.backend.col2im(out, cols, geom)
    if GRAD_ENABLED[0] and cols._requires_grad:
        record("Col2ImBackward0", _col2im_back, (cols,), (out,), attrs=(geom,))
    return out


# ---- geometry ------------------------------------------------------------------------------------------------

def _out_size(i, k, s, p, d):
    return (i + 2 * p - d * (k - 1) - 1) // s + 1


def _geom(h, w, k, s, p, d):
    oh = _out_size(h, k[0], s[0], p[0], d[0])
    ow = _out_size(w, k[1], s[1], p[1], d[1])
    return (k[0], k[1], s[0], s[1], p[0], p[1], d[0], d[1], oh, ow)


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
    geom = _geom(x._shape[2], x._shape[3], k, s, p, d)
    if geom[8] < 1 or geom[9] < 1:
        raise RuntimeError(f"Given input with spatial size ({x._shape[2]}, {x._shape[3]}), kernel_size={k}, "
                           f"dilation={d}, padding={p}, calculated shape of the array of sliding blocks as "
                           f"({geom[8]}, {geom[9]}), but its components must be at least one.")
    r = _im2col(x, geom, "nrl")
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
    geom = _geom(o[0], o[1], k, s, p, d)
    if geom[8] * geom[9] != cols._shape[2]:
        raise RuntimeError(f"Given output_size={o}, kernel_size={k}, dilation={d}, padding={p}, stride={s}, "
                           f"expected size of input's dimension 2 to match the calculated number of sliding blocks "
                           f"{geom[8]} * {geom[9]} = {geom[8] * geom[9]}, but got input.size(2)={cols._shape[2]}.")
    r = _col2im(cols, geom, (cols._shape[0], cols._shape[1] // kk, o[0], o[1]))
    return r if batched else r.squeeze(0)


# ---- convolution ---------------------------------------------------------------------------------------------

def _check_conv(input, weight, bias, groups, nd, name, transposed=True):
    if not isinstance(input, Tensor) or not isinstance(weight, Tensor):
        raise TypeError(f"{name}(): argument 'input' and 'weight' must be Tensor")
    if input.dim() not in (nd + 1, nd + 2):
        raise RuntimeError(f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to {name}, but got input "
                           f"of size: {list(input._shape)}")
    if not transposed:
        return  # the rest follows at::_convolution's order, in _conv_nd
    if weight.dim() != nd + 2:
        raise RuntimeError(f"weight should have at least three dimensions")
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    _check_conv_dtypes(input, weight, bias)


def _check_conv_dtypes(input, weight, bias):
    if input._dtype is not weight._dtype:
        raise RuntimeError(f"Input type ({_tname(input)}) and weight type ({_tname(weight)}) should be the same")
    if bias is not None and bias._dtype is not input._dtype:
        raise RuntimeError(f"Input type ({_tname(input)}) and bias type ({_tname(bias)}) should be the same")
    if not input._dtype.is_floating_point and input._dtype is not D.int64:
        raise not_implemented_for("slow_conv2d_cpu", input._dtype)


def _tname(t):
    return {"float32": "float", "float64": "double", "float16": "c10::Half", "bfloat16": "c10::BFloat16"}.get(
        t._dtype.name, t._dtype.name)


def _same_padding(k, d):
    """'same': total padding d·(k−1) per dim; the odd extra goes on the right (PyTorch pads the input for it)."""
    sym, extra = [], []
    for kk, dd in zip(k, d):
        total = dd * (kk - 1)
        sym.append(total // 2)
        extra.append(total - 2 * (total // 2))
    return tuple(sym), tuple(extra)


def _conv2d_core(x, weight, bias, s, p, d, groups):
    """x (N, C, H, W), weight (O, C/g, KH, KW)."""
    n, c, h, w = x._shape
    o, cg, kh, kw = weight._shape
    if c != cg * groups:
        raise RuntimeError(f"Given groups={groups}, weight of size {list(weight._shape)}, expected input"
                           f"{list(x._shape)} to have {cg * groups} channels, but got {c} channels instead")
    if o % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, but "
                           f"got weight of size {list(weight._shape)} instead")
    if bias is not None and (bias.dim() != 1 or bias._shape[0] != o):
        raise RuntimeError(f"Given weight of size {list(weight._shape)}, expected bias to be 1-dimensional with {o} "
                           f"elements, but got bias of size {list(bias._shape)} instead")
    geom = _geom(h, w, (kh, kw), s, p, d)
    oh, ow = geom[8], geom[9]
    if h + 2 * p[0] < d[0] * (kh - 1) + 1 or w + 2 * p[1] < d[1] * (kw - 1) + 1:
        raise RuntimeError(f"Calculated padded input size per channel: ({h + 2 * p[0]} x {w + 2 * p[1]}). Kernel "
                           f"size: ({d[0] * (kh - 1) + 1} x {d[1] * (kw - 1) + 1}). Kernel size can't be greater "
                           f"than actual input size")
    half = x._dtype in _HALF
    if half:
        x, weight = x.to(D.float32), weight.to(D.float32)
        bias = bias.to(D.float32) if bias is not None else None
    l = oh * ow
    r = c * kh * kw
    if kh == 1 and kw == 1 and s == (1, 1) and p == (0, 0):
        cols = x.permute(1, 0, 2, 3).reshape(c, n * l)        # a view when N == 1
    else:
        cols = _im2col(x, geom, "rnl").view(r, n * l)
    og = o // groups
    a = weight.reshape(groups, og, r // groups)
    b = cols.view(groups, r // groups, n * l)
    y = gemm(a, b)                                              # (g, Og, N·L) = (O, N, L)
    y = y.view(o, n, oh, ow).permute(1, 0, 2, 3)
    if n > 1:
        y = y.contiguous()
    if bias is not None:
        y = y + bias.view(1, o, 1, 1)
    return y


def _conv_param(v, name, nd):
    """at::native expand_param_if_needed: an int, or a sequence of 1 or nd ints."""
    if isinstance(v, (list, tuple)):
        v = tuple(int(x) for x in v)
        if len(v) == 1:
            return v * nd
        if len(v) != nd:
            raise RuntimeError(f"expected {name} to be a single integer value or a list of {nd} values to match the "
                               f"convolution dimensions, but got {name}={list(v)}")
        return v
    return (int(v),) * nd


def _check_conv_shape(x, weight, bias, s, p, d, groups):
    """at::native check_shape_forward (non-transposed), in PyTorch's order."""
    if any(v < 0 for v in p):
        raise RuntimeError("negative padding is not supported")
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
    if x._shape[1] != ws[1] * groups:
        raise RuntimeError(f"Given groups={groups}, weight of size {ws}, expected input{list(x._shape)} to have "
                           f"{ws[1] * groups} channels, but got {x._shape[1]} channels instead")
    if bias is not None and (bias.dim() != 1 or bias._shape[0] != ws[0]):
        raise RuntimeError(f"Given weight of size {ws}, expected bias to be 1-dimensional with {ws[0]} elements, but "
                           f"got bias of size {list(bias._shape)} instead")
    if any(v == 0 for v in d):  # (the CPU kernel's check; 1-D convolutions run there as 2-D with H = 1)
        raise RuntimeError(f"dilation should be greater than zero, but got {([1] if len(d) == 1 else []) + list(d)}")


def _conv_nd(input, weight, bias, stride, padding, dilation, groups, nd, name):
    _check_conv(input, weight, bias, groups, nd, name, transposed=False)
    in_dtype = input._dtype
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
        if any(v != 1 for v in (stride if isinstance(stride, (list, tuple)) else (stride,))):
            raise RuntimeError("padding='same' is not supported for strided convolutions")
    # at::_convolution
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    _check_conv_dtypes(input, weight, bias)
    if weight.dim() <= 2:
        raise RuntimeError("weight should have at least three dimensions")
    s, d = _conv_param(stride, "stride", nd), _conv_param(dilation, "dilation", nd)
    k = tuple(weight._shape[2:])
    if padding == "valid":
        p = (0,) * nd
    elif padding == "same":
        p, extra = _same_padding(k, d)
        if any(extra):
            pads = []
            for e in reversed(extra):
                pads += [0, e]
            x = pad(x, pads)
    else:
        p = _conv_param(padding, "padding", nd)
    _check_conv_shape(x, weight, bias, s, p, d, groups)
    if nd == 1:
        y = _conv2d_core(x.unsqueeze(2), weight.unsqueeze(2), bias, (1,) + s, (0,) + p, (1,) + d, groups)
        y = y.squeeze(2)
    else:
        y = _conv2d_core(x, weight, bias, s, p, d, groups)
    if y._dtype is not in_dtype:
        y = y.to(in_dtype)
    return y if batched else y.squeeze(0)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return _conv_nd(input, weight, bias, stride, padding, dilation, groups, 1, "conv1d")


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return _conv_nd(input, weight, bias, stride, padding, dilation, groups, 2, "conv2d")


def _conv_transpose2d_core(x, weight, bias, s, p, op, groups, d):
    """x (N, Cin, H, W), weight (Cin, Cout/g, KH, KW): the adjoint of conv2d with the same geometry."""
    n, cin, h, w = x._shape
    cin_w, cog, kh, kw = weight._shape
    if cin != cin_w:
        raise RuntimeError(f"Given transposed=1, weight of size {list(weight._shape)}, expected input"
                           f"{list(x._shape)} to have {cin_w} channels, but got {cin} channels instead")
    if cin % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0")
    for i in range(2):
        if op[i] >= s[i] and op[i] >= d[i]:
            raise RuntimeError(f"output padding must be smaller than either stride or dilation, but got "
                               f"output_padding_height: {op[0]} output_padding_width: {op[1]} stride_height: {s[0]} "
                               f"stride_width: {s[1]} dilation_height: {d[0]} dilation_width: {d[1]}")
    cout = cog * groups
    oh = (h - 1) * s[0] - 2 * p[0] + d[0] * (kh - 1) + op[0] + 1
    ow = (w - 1) * s[1] - 2 * p[1] + d[1] * (kw - 1) + op[1] + 1
    if oh <= 0 or ow <= 0:
        raise RuntimeError(f"Given input size per channel: ({h} x {w}). Calculated output size per channel: "
                           f"({oh} x {ow}). Output size is too small")
    half = x._dtype in _HALF
    if half:
        x, weight = x.to(D.float32), weight.to(D.float32)
        bias = bias.to(D.float32) if bias is not None else None
    cing = cin // groups
    l = h * w
    xr = x.permute(1, 0, 2, 3).reshape(groups, cing, n * l)        # (g, Cin_g, N·L)
    wt = weight.reshape(groups, cing, cog * kh * kw).transpose(1, 2)  # (g, Cout_g·KK, Cin_g)
    cols = gemm(wt, xr)                                             # (g, Cout_g·KK, N·L) = (Cout·KK, N, L)
    cols = cols.view(cout * kh * kw, n, l).permute(1, 0, 2)
    geom = (kh, kw, s[0], s[1], p[0], p[1], d[0], d[1], h, w)
    y = _col2im(cols, geom, (n, cout, oh, ow))
    if bias is not None:
        y = y + bias.view(1, cout, 1, 1)
    return y


def _conv_transpose_nd(input, weight, bias, stride, padding, output_padding, groups, dilation, nd, name):
    _check_conv(input, weight, bias, groups, nd, name)
    in_dtype = input._dtype
    batched = input.dim() == nd + 2
    x = input if batched else input.unsqueeze(0)
    s, p, op, d = ntuple(stride, nd), ntuple(padding, nd), ntuple(output_padding, nd), ntuple(dilation, nd)
    _check_positive("stride", s)
    _check_positive("dilation", d)
    if isinstance(padding, str):
        raise TypeError(f"{name}(): argument 'padding' must be tuple of ints, not str")
    if nd == 1:
        y = _conv_transpose2d_core(x.unsqueeze(2), weight.unsqueeze(2), bias, (1,) + s, (0,) + p, (0,) + op, groups,
                                   (1,) + d).squeeze(2)
    else:
        y = _conv_transpose2d_core(x, weight, bias, s, p, op, groups, d)
    if y._dtype is not in_dtype:
        y = y.to(in_dtype)
    return y if batched else y.squeeze(0)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    return _conv_transpose_nd(input, weight, bias, stride, padding, output_padding, groups, dilation, 1,
                              "conv_transpose1d")


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    return _conv_transpose_nd(input, weight, bias, stride, padding, output_padding, groups, dilation, 2,
                              "conv_transpose2d")


# unfold / fold are the im2col / col2im primitives; a convolution is im2col then a batched gemm (a 1×1 stride-1
# convolution skips im2col), a transposed one gemm then col2im. Each records the backward of the primitives it
# runs. Floating inputs and int64 for the convolutions, the input's dtype out; unfold moves data of any dtype.
reg("unfold", unfold, "conv", primitive="im2col", dtype="any", derivative=backward(_im2col_back))
reg("fold", fold, "conv", primitive="col2im", dtype="same", derivative=backward(_col2im_back), opinfo=())
for _n, _f in [("conv1d", conv1d), ("conv2d", conv2d)]:
    reg(_n, _f, "conv", primitive="im2col/gemm", dtype="same", derivative=backward(_im2col_back, gemm_backward))
for _n, _f in [("conv_transpose1d", conv_transpose1d), ("conv_transpose2d", conv_transpose2d)]:
    reg(_n, _f, "conv", primitive="gemm/col2im", dtype="same", derivative=backward(gemm_backward, _col2im_back))
