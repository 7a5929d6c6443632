"""linear/bilinear, embedding/one_hot, dropout (PyTorch's exact random stream), pad, interpolate, pixel
shuffle, distances and normalize: decompositions over gemm, index_select, cat and elementwise ops."""
import math

from ..._tensor import _empty
from ...ops._registry import NOT_DIFFERENTIABLE, backward, torch_ops
from ...ops._util import (GRAD_ENABLED, assertion_error, broadcast_shapes, check, record, rename_grad_fn,
                          warn_at_caller)
from ...ops import shape as _S
from ...ops.elementwise import where as _where
from ...ops.inplace import write_out
from ...ops.linalg.products import check_addmm_dtypes, mm_mat1_backward, mm_mat2_backward
from ._common import D, Tensor, as_op_result, no_grad, ntuple, reg, zeros, full, arange, empty, empty_like
from .pooling import adaptive_avg_pool1d, adaptive_avg_pool2d
from . import resample_aa as _resample_aa


# ---- linear --------------------------------------------------------------------------------------------------

def linear(input, weight, bias=None):
    if bias is not None and weight.dim() == 2 and (input.dim() == 2 or input.dim() > 2 and input.is_contiguous()):
        check_addmm_dtypes(bias, input, weight)   # PyTorch's addmm: a float64 batch into a float32 layer
    if weight.dim() == 2 and input.dim() >= 1 and input._shape[-1] != weight._shape[1]:
        lead = input._shape[:-1]
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({int(math.prod(lead)) if lead else 1}x"
                           f"{input._shape[-1]} and {weight._shape[1]}x{weight._shape[0]})")
    if (bias is not None and weight.dim() == 2 and bias.dim() == 1 and 1 <= input.dim()
            and input._dtype is weight._dtype is bias._dtype):
        # PyTorch's fused path: one addmm over the flattened leading dims (AddmmBackward0, under a view when the
        # input is not 2-D)
        if input.dim() == 2:
            return _addmm(bias, input, weight.t())
        out_shape = input._shape[:-1] + (weight._shape[0],)
        if input.is_contiguous():
            return _addmm(bias, input.view(-1, input._shape[-1]), weight.t()).view(out_shape)
        if not (GRAD_ENABLED[0] and (input._requires_grad or weight._requires_grad or bias._requires_grad)):
            # PyTorch: matmul (its copy of the input, flattened) then add_: the same values, and no node to name
            return _addmm(bias, input.reshape(-1, input._shape[-1]), weight.t()).view(out_shape)
    y = input.matmul(weight.t() if weight.dim() == 2 else weight)
    if bias is not None:
        y = y.add_(bias)   # in place, as ATen: the output keeps the product's dtype
    return y


def _addmm(bias, mat1, mat2):
    """bias + mat1 @ mat2 as one autograd node, as linear's addmm in PyTorch; one kernel call where the device has
    one that takes it (its `addmm`: the CPU worker pool's in Pyodide, with mm then add_'s bits)."""
    with no_grad():
        fused = getattr(mat1._storage.backend, "addmm", None)
        out = None
        if fused is not None and bias.dim() == 1:
            out = _empty((mat1._shape[0], mat2._shape[1]), mat1._dtype, mat1._storage.device)
            if fused(out, bias, mat1, mat2) is False:
                out = None
        if out is None:
            out = mat1.mm(mat2)
            out.add_(bias)
    if GRAD_ENABLED[0] and (bias._requires_grad or mat1._requires_grad or mat2._requires_grad):
        node = record("AddmmBackward0", _addmm_backward, (bias, mat1, mat2), (out,))
        node.save((mat1, mat2))
    return out


def _addmm_backward(ctx, g):
    mat1, mat2 = ctx.saved_tensors
    needs = [edge is not None for edge in ctx.edges]
    g_bias = g.sum(0) if needs[0] else None
    g_mat1 = mm_mat1_backward(g, mat1, mat2) if needs[1] else None
    g_mat2 = mm_mat2_backward(g, mat1, mat2) if needs[2] else None   # weight.t()'s: the weight's layout
    return g_bias, g_mat1, g_mat2


def bilinear(input1, input2, weight, bias=None):
    check(input1.dim() == input2.dim(), lambda: f"bilinear(): input dimensions do not match: got {input1.dim()} and "
          f"{input2.dim()}")
    for k, (a, b) in enumerate(zip(input1._shape[:-1], input2._shape[:-1])):
        check(a == b, lambda: f"bilinear(): input batch dimensions do not match at dim {k}: got {a} and {b}")
    o, i, j = weight._shape
    lead = input1._shape[:-1]
    x1 = input1.reshape(-1, i)
    x2 = input2.reshape(-1, j)
    t = x1.matmul(weight.permute(1, 0, 2).reshape(i, o * j)).view(-1, o, j)   # (B, O, J)
    y = (t * x2.unsqueeze(1)).sum(2)
    if y._dtype is not t._dtype:
        y = y.to(t._dtype)       # core: sum(dtype=int32) still returns int64
    if bias is not None:
        y = y + bias
    return y.reshape(lead + (o,))


# ---- embedding -----------------------------------------------------------------------------------------------

def _embedding_back(ctx, g):
    (idx,) = ctx.saved_tensors
    num, padding_idx, scale, sparse = ctx.attrs
    dev = g._storage.device
    gd = g.reshape(-1, g._shape[-1])
    if sparse:   # a COO gradient: one entry per lookup (uncoalesced), none for padding_idx
        if scale:
            raise RuntimeError("embedding_backward: scale_grad_by_freq not supported with sparse gradients")
        if padding_idx is not None:
            keep = idx != padding_idx
            idx, gd = idx[keep], gd[keep]
        return torch_ops.sparse_coo_tensor(idx.unsqueeze(0), gd, (num, g._shape[-1]))
    if padding_idx is not None:
        gd = gd.masked_fill((idx == padding_idx).unsqueeze(1), 0)
    if scale:
        counts = zeros(num, dtype=g._dtype, device=dev).index_add(0, idx, full(idx._shape, 1.0, dtype=g._dtype,
                                                                                 device=dev))
        gd = gd / counts.index_select(0, idx).unsqueeze(1)
    return zeros((num, g._shape[-1]), dtype=g._dtype, device=dev).index_add(0, idx, gd)


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
              sparse=False):
    if not isinstance(weight, Tensor) or weight.dim() != 2:
        num = weight._shape[0] if isinstance(weight, Tensor) and weight.dim() and padding_idx is not None else None
        if num is not None and not -num <= padding_idx < num:
            raise assertion_error("Padding_idx must be within num_embeddings")
        raise RuntimeError("'weight' must be 2-D")
    if input._dtype not in (D.int64, D.int32):
        raise RuntimeError(f"Expected tensor for argument #1 'indices' to have one of the following scalar types: "
                           f"Long, Int; but got torch.{_legacy_type(input._dtype)} instead (while checking arguments "
                           f"for embedding)")
    num = weight._shape[0]
    if padding_idx is not None:
        if not -num <= padding_idx < num:
            raise assertion_error("Padding_idx must be within num_embeddings")
        if padding_idx < 0:
            padding_idx = num + padding_idx
    idx = input.reshape(-1).to(D.int64)
    if max_norm is not None:
        embedding_renorm_(weight, idx, max_norm, norm_type)
    out = weight.detach().index_select(0, idx).view(input._shape + (weight._shape[1],))
    out._base = None   # a view of the fresh gather only: the result is a tensor of its own, as ATen's
    if GRAD_ENABLED[0] and weight._requires_grad:
        node = record("EmbeddingBackward0", _embedding_back, (weight,), (out,),
                      attrs=(num, padding_idx, scale_grad_by_freq, bool(sparse)))
        node.save((idx,))
    return out


def _legacy_type(d):
    return D.scalar_type_name(d) + "Tensor"


def embedding_renorm_(weight, idx, max_norm, norm_type):
    """Rows of weight used by idx whose norm exceeds max_norm are rescaled in place (no autograd), as ATen."""
    with no_grad():
        rows = weight.index_select(0, idx)
        norms = rows.norm(norm_type, 1, keepdim=True)
        scale = _where(norms > max_norm, max_norm / (norms + 1e-7), 1.0)
        weight.index_put_((idx,), rows * scale)
    return weight


def one_hot(tensor, num_classes=-1):
    if tensor._dtype is not D.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    if num_classes == -1:
        if tensor.numel() == 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        num_classes = int(tensor.max().item()) + 1
    if tensor.numel():
        if int(tensor.min().item()) < 0:
            raise RuntimeError("Class values must be non-negative.")
        if int(tensor.max().item()) >= num_classes:
            raise RuntimeError("Class values must be smaller than num_classes.")
    out = zeros(tensor._shape + (num_classes,), dtype=D.int64, device=tensor._storage.device)
    return out.scatter_(-1, tensor.unsqueeze(-1), 1)


# ---- dropout: ATen's _dropout_impl, so the random stream matches PyTorch's -----------------------------------

_ALPHA = 1.7580993408473766


def _dropout_impl(input, p, training, inplace, feature, alpha):
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if p == 0 or not training or input.numel() == 0:
        return input
    if p == 1:
        r = input * zeros((), dtype=input._dtype, device=input._storage.device)
        return input.copy_(r) if inplace else r
    if feature:
        noise = empty(input._shape[:2] + (1,) * (input.dim() - 2), dtype=input._dtype, device=input.device)
    else:
        # laid out like the input (PyTorch's empty_like): the draws fill memory order, so a transposed input (an
        # attention output) gets PyTorch's mask
        noise = empty_like(input)
    noise.bernoulli_(1 - p)
    b = None
    if alpha:
        a = 1.0 / math.sqrt((_ALPHA * _ALPHA * p + 1) * (1 - p))
        b = noise.add(-1).mul_(_ALPHA * a).add_(_ALPHA * a * p)
        noise.mul_(a)
    else:
        noise.div_(1 - p)
    if inplace:
        input.mul_(noise)
        return input.add_(b) if b is not None else input
    r = input * noise
    return r + b if b is not None else r


def dropout(input, p=0.5, training=True, inplace=False):
    return _dropout_impl(input, p, training, inplace, False, False)


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    return _dropout_impl(input, p, training, inplace, False, True)


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    return _dropout_impl(input, p, training, inplace, True, True)


def _feature_dropout(input, p, training, inplace, name, dims):
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    nd = input.dim()
    batched = nd == dims[1]
    x = input if batched or nd != dims[0] else input.unsqueeze(0)
    r = _dropout_impl(x, p, training, inplace, True, False)
    if not batched and nd == dims[0] and r is not input:
        r = r.squeeze(0)
    return input if (inplace and r is not input) else r


def dropout1d(input, p=0.5, training=True, inplace=False):
    if input.dim() not in (2, 3):
        raise RuntimeError(f"dropout1d: Expected 2D or 3D input, but received a {input.dim()}D input. Note that "
                           "dropout1d exists to provide channel-wise dropout on inputs with 1 spatial dimension, a "
                           "channel dimension, and an optional batch dimension (i.e. 2D or 3D inputs).")
    return _feature_dropout(input, p, training, inplace, "dropout1d", (2, 3))


def dropout2d(input, p=0.5, training=True, inplace=False):
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if input.dim() not in (3, 4):
        warn_at_caller(f"dropout2d: Received a {input.dim()}-D input to dropout2d, which is deprecated and will "
                       "result in an error in a future release. To retain the behavior and silence this warning, "
                       "please use dropout instead. Note that dropout2d exists to provide channel-wise dropout on "
                       "inputs with 2 spatial dimensions, a channel dimension, and an optional batch dimension (i.e. "
                       "3D or 4D inputs).")
    if input.dim() == 3:
        warn_at_caller("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout "
                       "behavior is desired - input is interpreted as shape (N, C, L), where C is the channel dim. "
                       "This behavior will change in a future release to interpret the input as one without a batch "
                       "dimension, i.e. shape (C, H, W). To maintain the 1D channel-wise dropout behavior, please "
                       "switch to using dropout1d instead.")
    return _dropout_impl(input, p, training, inplace, True, False)


def dropout3d(input, p=0.5, training=True, inplace=False):
    if input.dim() not in (4, 5):
        warn_at_caller(f"dropout3d: Received a {input.dim()}-D input to dropout3d, which is deprecated and will "
                       "result in an error in a future release. To retain the behavior and silence this warning, "
                       "please use dropout instead. Note that dropout3d exists to provide channel-wise dropout on "
                       "inputs with 3 spatial dimensions, a channel dimension, and an optional batch dimension (i.e. "
                       "4D or 5D inputs).")
    return _feature_dropout(input, p, training, inplace, "dropout3d", (4, 5))


# ---- pad -----------------------------------------------------------------------------------------------------

def _pad_index(n, lo, hi, mode, dev):
    """Source positions along a dim of size n for output positions −lo … n+hi−1, as an int64 tensor on dev."""
    i = arange(-lo, n + hi, dtype=D.int64, device=dev)
    if mode == "reflect":
        j = (n - 1) - ((n - 1) - i.abs()).abs()
        return j
    if mode == "replicate":
        return i.clamp(0, n - 1)
    # circular: negative pads first crop, then the cropped tensor wraps (ATen's _pad_circular)
    s = max(-lo, 0)
    m = n - s - max(-hi, 0)
    return arange(-max(lo, 0), m + max(hi, 0), dtype=D.int64, device=dev).remainder(m) + s


def pad(input, pad, mode="constant", value=None):
    pad = [int(v) for v in pad]
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    npd = len(pad) // 2
    if npd > input.dim():
        raise RuntimeError("Padding length should be less than or equal to two times the input dimension but got "
                           f"padding length {len(pad)} and input of dimension {input.dim()}")
    x = input
    if mode == "constant":
        v = 0 if value is None else value
        dev = input._storage.device
        for k in range(npd):
            d = input.dim() - 1 - k
            lo, hi = pad[2 * k], pad[2 * k + 1]
            if lo < 0 or hi < 0:
                n = x._shape[d]
                s, e = max(-lo, 0), n - max(-hi, 0)
                if e - s < 0:
                    raise RuntimeError(f"The input size {n}, plus negative padding {lo} and {hi} resulted in a "
                                       f"negative output size, which is invalid. Check dimension {d} of your input.")
                x = x.narrow(d, s, e - s)
            parts = []
            if lo > 0:
                parts.append(full(x._shape[:d] + (lo,) + x._shape[d + 1:], v, dtype=x._dtype, device=dev))
            parts.append(x)
            if hi > 0:
                parts.append(full(x._shape[:d] + (hi,) + x._shape[d + 1:], v, dtype=x._dtype, device=dev))
            if len(parts) > 1:
                x = _S.cat(parts, d)
        if x._storage is input._storage:   # nothing padded (or cropping only): still a new tensor, as ATen's clone
            x = x.clone()
        return rename_grad_fn(x, "ConstantPadNdBackward0")
    if mode not in ("reflect", "replicate", "circular"):
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if value is not None and value != 0:
        raise ValueError(f'Padding mode "{mode}" doesn\'t take in value argument.')
    if npd > 3 or input.dim() not in (npd + 1, npd + 2):
        raise NotImplementedError(f"Padding size {2 * npd} is not supported for {input.dim()}D input tensor.\n"
                                  "Supported combinations for non-constant padding:\n"
                                  "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
                                  "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
                                  "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)")
    for k in range(npd):
        d = input.dim() - 1 - k
        lo, hi = pad[2 * k], pad[2 * k + 1]
        n = x._shape[d]
        if mode == "reflect" and (lo >= n or hi >= n):
            raise RuntimeError(f"Argument #4: Padding size should be less than the corresponding input dimension, "
                               f"but got: padding ({lo}, {hi}) at dimension {d} of input {list(input._shape)}")
        if mode == "circular" and (lo > n or hi > n):
            raise RuntimeError("Padding value causes wrapping around more than once.")
        if lo == 0 and hi == 0:
            continue
        x = x.index_select(d, _pad_index(n, lo, hi, mode, input._storage.device))
    return x if x is not input else input.clone()


# ---- interpolate ---------------------------------------------------------------------------------------------

def _nearest_index(n_in, n_out, scale, exact, dev):
    if not exact and n_out == n_in:
        return arange(n_out, dtype=D.int64, device=dev)
    if not exact and n_out == 2 * n_in:
        return arange(n_out, dtype=D.int64, device=dev).div(2, rounding_mode="floor")
    if scale is not None and scale > 0:
        s = D.round_float32(1.0 / scale)
    else:
        s = D.round_float32(D.round_float32(n_in) / n_out)
    pos = arange(n_out, dtype=D.float32, device=dev)
    if exact:
        pos = pos + 0.5
    return (pos * s).floor().to(D.int64).clamp_max(n_in - 1)


def _source_scale(n_in, n_out, scale, align_corners, dtype):
    """Output-to-source coordinate scale of ATen's linear/cubic upsampling (rounded to float32 for float32)."""
    if align_corners:
        s = (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
    else:
        s = 1.0 / scale if scale is not None and scale > 0 else n_in / n_out
    if dtype is D.float32:
        s = D.round_float32(s)
    return s


def _linear_weights(n_in, n_out, scale, align_corners, dtype, dev):
    s = _source_scale(n_in, n_out, scale, align_corners, dtype)
    i = arange(n_out, dtype=dtype, device=dev)
    src = i * s if align_corners else ((i + 0.5) * s - 0.5).clamp_min(0)
    i0 = src.to(D.int64).clamp_max(n_in - 1)
    l1 = (src - i0.to(dtype)).clamp(0, 1)
    i1 = i0 + (i0 < n_in - 1).to(D.int64)
    return i0, i1, 1 - l1, l1


_CUBIC_A = -0.75


def _cubic_weights(n_in, n_out, scale, align_corners, dtype, dev):
    """ATen's bicubic taps: 4 clamped source indices and cubic-convolution weights (A = −0.75) per output."""
    s = _source_scale(n_in, n_out, scale, align_corners, dtype)
    i = arange(n_out, dtype=dtype, device=dev)
    src = i * s if align_corners else (i + 0.5) * s - 0.5
    fl = src.floor()
    t = src - fl
    base = fl.to(D.int64)
    a = _CUBIC_A

    def c1(x):
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def c2(x):
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    ws = (c2(t + 1), c1(t), c1(1 - t), c2(2 - t))
    idx = tuple((base + (k - 1)).clamp(0, n_in - 1) for k in range(4))
    return idx, ws


def _upsample_node(y, mode, nsp):
    """ATen's upsample op's node name on the separable result (UpsampleNearest2DBackward0, ...)."""
    kind = "".join(part.capitalize() for part in mode.split("-"))
    return rename_grad_fn(y, f"Upsample{kind}{nsp}DBackward0")


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    if mode in ("nearest", "area", "nearest-exact") and align_corners is not None:
        raise ValueError("align_corners option can only be set with the interpolating modes: linear | bilinear | "
                         "bicubic | trilinear")
    if align_corners is None:
        align_corners = False
    nsp = input.dim() - 2
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    sp_in = input._shape[2:]
    if size is not None:
        if isinstance(size, (list, tuple)) and len(size) != nsp:   # (the size as given: a list, tuple or Size)
            raise ValueError(f"Input and output must have the same number of spatial dimensions, but got input with "
                             f"spatial dimensions of {list(sp_in)} and output size of {size}. Please provide input "
                             "tensor in (N, C, d1, d2, ...,dK) format and output size in (o1, o2, ...,oK) format.")
        out_size = ntuple(size, max(nsp, 0))
        scales = (None,) * nsp
    elif scale_factor is not None:
        if isinstance(scale_factor, (list, tuple)) and len(scale_factor) != nsp:
            raise ValueError(f"Input and scale_factor must have the same number of spatial dimensions, but got input "
                             f"with spatial dimensions of {list(sp_in)} and scale_factor of shape {scale_factor}. "
                             "Please provide input tensor in (N, C, d1, d2, ...,dK) format and scale_factor in (s1, "
                             "s2, ...,sK) format.")
        sf = tuple(float(v) for v in scale_factor) if isinstance(scale_factor, (list, tuple)) else \
            (float(scale_factor),) * nsp
        out_size = tuple(int(math.floor(float(n) * f)) for n, f in zip(sp_in, sf))
        scales = (None,) * nsp if recompute_scale_factor else sf
    else:
        raise ValueError("either size or scale_factor should be defined")
    if nsp < 1:   # checked after the sizes, as PyTorch does
        raise _unsupported_input(input, mode)
    if antialias and not (mode in _resample_aa.FILTERS and input.dim() == 4):
        raise ValueError("Anti-alias option is restricted to bilinear, bicubic, and lanczos modes and requires a 4-D "
                         "tensor as input")
    if mode == "lanczos" and input.dim() == 4:
        if align_corners:
            raise ValueError("Lanczos mode does not support align_corners=True")
        if not antialias:
            raise ValueError("Lanczos mode requires antialias=True")
    if antialias:
        if input._dtype not in (D.float32, D.float64, D.uint8):
            raise NotImplementedError(f"\"compute_index_ranges_weights\" not implemented for "
                                      f"'{D.scalar_type_name(input._dtype)}'")
        _resample_aa.check_sizes(sp_in, out_size)
        # ATen's uint8 path takes the scale in double
        s = [_source_scale(n, o, sc, align_corners, D.float64 if input._dtype is D.uint8 else input._dtype)
             for n, o, sc in zip(sp_in, out_size, scales)]
        y = _resample_aa.resample(input, out_size, s, mode)
        return rename_grad_fn(y, f"Upsample{mode.capitalize()}2DAaBackward0")
    expected = {"linear": 1, "bilinear": 2, "trilinear": 3, "bicubic": 2}
    if mode in expected and expected[mode] != nsp:
        raise NotImplementedError(f"Got {input.dim()}D input, but {mode} mode needs {expected[mode] + 2}D input")
    if mode == "area":
        if nsp == 1:
            return adaptive_avg_pool1d(input, out_size)
        if nsp == 2:
            return adaptive_avg_pool2d(input, out_size)
        # adaptive average pooling over a box is separable: pool (H, W) per depth slice, then D
        n, c, dd, hh, ww = input._shape
        od, oh, ow = out_size
        y = adaptive_avg_pool2d(input.reshape(n, c * dd, hh, ww), (oh, ow)).reshape(n, c, dd, oh, ow)
        y = adaptive_avg_pool1d(y.permute(0, 1, 3, 4, 2).reshape(n, c * oh * ow, dd), od)
        return y.reshape(n, c, oh, ow, od).permute(0, 1, 4, 2, 3).contiguous()
    x = input
    dev = input._storage.device
    if input._dtype is D.uint8 and mode in ("bilinear", "bicubic"):
        # PyTorch's uint8 path is fixed-point (Pillow-style, separable, rounding between passes); this float
        # evaluation rounded once can differ from it by a few units
        y = interpolate(input.to(D.float32), size, scale_factor, mode, align_corners, recompute_scale_factor)
        return y.round().clamp(0, 255).to(D.uint8)
    if mode in ("nearest", "nearest-exact"):
        for k in range(nsp):
            d = 2 + k
            x = x.index_select(d, _nearest_index(sp_in[k], out_size[k], scales[k], mode == "nearest-exact", dev))
        return _upsample_node(x, mode, nsp)
    if mode in ("linear", "bilinear", "trilinear"):
        # separable, innermost dim first: matches ATen's h0l·(w0l·x00 + w1l·x01) + h1l·(...) evaluation order
        for k in reversed(range(nsp)):
            d = 2 + k
            i0, i1, l0, l1 = _linear_weights(sp_in[k], out_size[k], scales[k], align_corners, x._dtype, dev)
            shp = (-1,) + (1,) * (nsp - 1 - k)
            x = x.index_select(d, i0) * l0.view(shp) + x.index_select(d, i1) * l1.view(shp)
        return _upsample_node(x, mode, nsp)
    if mode == "bicubic":
        for k in reversed(range(nsp)):
            d = 2 + k
            idx, ws = _cubic_weights(sp_in[k], out_size[k], scales[k], align_corners, x._dtype, dev)
            shp = (-1,) + (1,) * (nsp - 1 - k)
            acc = None
            for ik, wk in zip(idx, ws):
                term = x.index_select(d, ik) * wk.view(shp)
                acc = term if acc is None else acc + term
            x = acc
        return _upsample_node(x, mode, nsp)
    raise _unsupported_input(input, mode)


def _unsupported_input(input, mode):
    """interpolate's error for a mode it does not know, or one that does not take this rank."""
    return NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {input.dim()}D) for "
                               "the modes: nearest | linear | bilinear | bicubic | trilinear | lanczos | area | "
                               f"nearest-exact (got {mode})")


def _upsample_deprecated(name):
    warn_at_caller(f"`nn.functional.{name}` is deprecated. Use `nn.functional.interpolate` instead.")


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    _upsample_deprecated("upsample")
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    _upsample_deprecated("upsample_nearest")
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    _upsample_deprecated("upsample_bilinear")
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


# ---- pixel shuffle -------------------------------------------------------------------------------------------

def pixel_shuffle(input, upscale_factor):
    r = int(upscale_factor)
    if input.dim() < 3:
        raise RuntimeError(f"pixel_shuffle expects input to have at least 3 dimensions, but got input with "
                           f"{input.dim()} dimension(s)")
    *lead, c, h, w = input._shape
    if c % (r * r):
        raise RuntimeError(f"pixel_shuffle expects its input's 'channel' dimension to be divisible by the square of "
                           f"upscale_factor, but input.size(-3)={c} is not divisible by {r * r}")
    lead = tuple(lead)
    nl = len(lead)
    oc = c // (r * r)
    x = input.reshape(lead + (oc, r, r, h, w))
    perm = tuple(range(nl)) + (nl, nl + 3, nl + 1, nl + 4, nl + 2)
    return _fresh_result(x.permute(perm).reshape(lead + (oc, h * r, w * r)), input, "PixelShuffleBackward0")


def pixel_unshuffle(input, downscale_factor):
    r = int(downscale_factor)
    if input.dim() < 3:
        raise RuntimeError(f"pixel_unshuffle expects input to have at least 3 dimensions, but got input with "
                           f"{input.dim()} dimension(s)")
    *lead, c, h, w = input._shape
    if h % r or w % r:
        raise RuntimeError(f"pixel_unshuffle expects height and width to be divisible by downscale_factor, but got "
                           f"height={h}, width={w}, downscale_factor={r}")
    lead = tuple(lead)
    nl = len(lead)
    x = input.reshape(lead + (c, h // r, r, w // r, r))
    perm = tuple(range(nl)) + (nl, nl + 2, nl + 4, nl + 1, nl + 3)
    return _fresh_result(x.permute(perm).reshape(lead + (c * r * r, h // r, w // r)), input, "PixelUnshuffleBackward0")


def channel_shuffle(input, groups):
    if input.dim() <= 2:
        raise RuntimeError(f"channel_shuffle expects input with > 2 dims, but got input with sizes "
                           f"{list(input._shape)}")
    if groups <= 0:
        raise RuntimeError(f"Number of groups to divide channels in must be positive. Value of groups:{groups}")
    if input._shape[1] % groups:
        raise RuntimeError(f"Number of channels must be divisible by groups. Got {input._shape[1]} channels and "
                           f"{groups} groups.")
    n, c = input._shape[0], input._shape[1]
    rest = input._shape[2:]
    return _fresh_result(input.reshape((n, groups, c // groups) + rest).transpose(1, 2).reshape(input._shape), input,
                         "ChannelShuffleBackward0")


def _fresh_result(r, input, node):
    """A shuffle's result as ATen's: a new tensor even when the reshapes were views of the input (factor 1)."""
    return as_op_result(r.clone() if r._storage is input._storage else r, node, (input,))


# ---- distances -----------------------------------------------------------------------------------------------

def _clamp_invisible(t, eps):
    """t.clamp_min(eps) whose gradient is t's: ATen clamps the norm in place under no_grad."""
    return t + (t.clamp_min(eps) - t).detach()


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    shape = broadcast_shapes(x1._shape, x2._shape)
    a, b = x1.expand(shape), x2.expand(shape)
    if not a._dtype.is_floating_point:
        a, b = a.to(D.get_default_dtype()), b.to(D.get_default_dtype())
    na = _clamp_invisible(a.norm(2, dim, keepdim=True), eps)
    nb = _clamp_invisible(b.norm(2, dim, keepdim=True), eps)
    return ((a / na) * (b / nb)).sum(dim)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    eps = float(eps)   # a double in PyTorch's schema (an int past int64 converts, as there)
    out_dim = max(x1.dim(), x2.dim())
    inner = out_dim - 1
    if out_dim == 0:
        return (x1 - x2 + eps).abs()
    return rename_grad_fn((x1 - x2 + eps).norm(p, inner, keepdim=keepdim), "NormBackward1")   # at::norm's node


def pdist(input, p=2):
    if input.dim() != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input.dim()}D")
    n = input._shape[0]
    pos = arange(n, device=input._storage.device)
    upper = (pos.unsqueeze(1) < pos.unsqueeze(0)).nonzero()     # row-major pairs i < j
    i, j = upper.select(1, 0), upper.select(1, 1)
    return (input.index_select(0, i) - input.index_select(0, j)).norm(p, 1)


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    denom = input.norm(p, dim, keepdim=True).clamp_min(eps).expand_as(input)
    r = input / denom
    if out is not None:
        return write_out(out, r)
    return r


# All composites (gradients from the ops they are written in) except: embedding records its own backward (a
# gather of weight rows, whose gradient is an index_add); one_hot (int64) and embedding_renorm_ (in place, under
# no_grad) are not differentiable. Dtype: the products keep their inputs' dtype as matmul does; embedding, the
# shuffles and pad move data of any dtype (embedding: weight's); dropout and interpolation keep the input's dtype
# (dropout and linear interpolation need floating inputs, interpolation's uint8 path excepted); the distances
# turn integers into the default float; normalize and pdist take floating inputs.
for _n, _f, _dtype, _deriv in [
        ("linear", linear, "same", True), ("bilinear", bilinear, "same", True),
        ("embedding", embedding, "any", backward(_embedding_back)),
        ("one_hot", one_hot, "index", NOT_DIFFERENTIABLE),
        ("dropout", dropout, "same", True), ("alpha_dropout", alpha_dropout, "same", True),
        ("dropout2d", dropout2d, "same", True), ("pixel_shuffle", pixel_shuffle, "any", True),
        ("pixel_unshuffle", pixel_unshuffle, "any", True), ("channel_shuffle", channel_shuffle, "any", True),
        ("cosine_similarity", cosine_similarity, "float", True),
        ("pairwise_distance", pairwise_distance, "float", True), ("pdist", pdist, "same", True),
        ("normalize", normalize, "same", True), ("upsample_nearest", upsample_nearest, "same", True),
        ("upsample_bilinear", upsample_bilinear, "same", True)]:
    reg(_n, _f, "nn", dtype=_dtype, derivative=_deriv)
reg("dropout1d", dropout1d, "nn", dtype="same", opinfo=())
reg("dropout3d", dropout3d, "nn", dtype="same")
reg("feature_alpha_dropout", feature_alpha_dropout, "nn", dtype="same")
reg("pad", pad, "nn", dtype="any")      # op_db has only variants (pad.constant, ...): the oracle tests them all
reg("interpolate", interpolate, "nn", dtype="same")
reg("upsample", upsample, "nn", dtype="same", opinfo=())
reg("embedding_renorm_", embedding_renorm_, "nn", dtype="same", derivative=NOT_DIFFERENTIABLE, opinfo=())
